"""Notes that tell the views apart: what RSS and the C heap saw that tracemalloc could not.

* Growth of the C heap (``psutil.heap_info()``) well above what tracemalloc traced over the
  window is made by C or C++ code (a LightGBM booster, a numpy buffer): *native growth not
  visible to tracemalloc*. When the memray probe ran and accounts for it, the note names its
  native frame; when memray saw no allocation for it either (``malloc`` resolved through
  ctypes or ``dlsym``, a custom allocator), the note says *native growth, no stack* rather
  than invent one.
* Untrimmed RSS that grows while RSS after ``malloc_trim(0)`` does not is memory freed but
  kept by the allocator, not a leak.
* A growing reference path whose elements hold a native handle (a list of LightGBM boosters) is
  given the C heap growth it explains: :func:`attribute_handles`.
"""

from __future__ import annotations

from collections.abc import Sequence

from memleak_cli.analysis.thresholds import Thresholds
from memleak_cli.report.model import Attribution, GrowingPath, MetricTrend
from memleak_cli.units import format_bytes

# What --probe memray can and cannot attribute, said instead of a bare "run with --probe memray":
# memray hooks the allocator through the symbol tables of the libraries loaded when it starts, so a
# malloc that ctypes (or any dlsym caller) resolved itself, and a custom allocator's own pool, are
# invisible to it (a ctypes malloc leak of 1 MiB/it: memray found 0 B).
MEMRAY_REACH = (
    "; --probe memray names native stacks for what compiled libraries allocate (C/C++ extensions), "
    "but cannot see malloc called through ctypes or resolved with dlsym, nor a custom allocator's pool"
)
# A native explanation must cover at least this share of the growth it explains.
EXPLAINED_SHARE = 0.5


def _trend(trends: Sequence[MetricTrend], metric: str) -> MetricTrend | None:
    return next((t for t in trends if t.metric == metric), None)


def _per_it(value: float) -> str:
    return f"{format_bytes(value)}/iteration"


def allocator_note(trends: Sequence[MetricTrend]) -> str | None:
    """A note when untrimmed RSS grows like a leak but RSS after ``malloc_trim`` does not."""
    rss, trimmed = _trend(trends, "rss_bytes"), _trend(trends, "rss_trimmed_bytes")
    if rss is None or trimmed is None or not rss.leaking or trimmed.leaking:
        return None
    return (
        f"RSS grows {_per_it(rss.slope)} but only {_per_it(max(trimmed.slope, 0.0))} after malloc_trim(0): "
        "memory freed but kept by the C allocator, not a leak (MALLOC_ARENA_MAX / malloc_trim give it back)"
    )


def _memray_part(attribution: Attribution, invisible: float, what: str) -> str | None:
    """The memray half of a note, or ``None`` when memray found too little (no stack)."""
    native = (attribution.native_growth_bytes or 0) / max(attribution.native_iterations, 1)
    if native < EXPLAINED_SHARE * invisible:
        return None
    top = attribution.native_sites[0] if attribution.native_sites else None
    where = ""
    if top is not None:
        where = f", most under {top.native_frame or top.allocator_frame or 'an unnamed frame'}"
        where += f" called from {top.python_frame}" if top.python_frame else ""
    return f"memray attributes {_per_it(native)} to native stacks{where}"


def native_note(trends: Sequence[MetricTrend], attribution: Attribution | None, thresholds: Thresholds) -> str | None:
    """A note when native memory grows by more per iteration than tracemalloc traced over the
    window, saying whether memray found native stacks for it.

    The C heap in use (``heap_bytes``) is the measure when it is available; when it is flat but
    trimmed RSS or USS grows, the growth is outside malloc's heap (``mmap``, thread stacks, a
    library's own allocator) or, untrimmed, memory the allocator keeps. ``None`` when nothing
    native grows, or tracemalloc accounts for at least half of it.
    """
    if attribution is None:
        return None
    heap = _trend(trends, "heap_bytes")
    os_view = next((t for t in (_trend(trends, m) for m in ("rss_trimmed_bytes", "uss_bytes")) if t and t.leaking), None)
    if heap is not None and heap.leaking:
        growth, threshold, what = heap, thresholds.heap_bytes, "C heap"
    elif os_view is not None:
        growth, threshold, what = os_view, thresholds.rss_bytes, os_view.metric
    else:
        return None
    traced = attribution.traced_growth_per_iteration if attribution.traced else None
    if traced is None and not attribution.native:
        return None
    invisible = growth.slope - max(traced or 0.0, 0.0)
    if invisible < threshold or invisible < EXPLAINED_SHARE * growth.slope:
        return None
    if traced is None:
        note = f"native growth {_per_it(invisible)} ({what}; tracemalloc was off)"
    else:
        note = f"native growth {_per_it(invisible)} not visible to tracemalloc (C/C++ allocations; {what} grows {_per_it(growth.slope)})"
    if growth is os_view and heap is not None:
        untrimmed = growth.metric == "uss_bytes" and _trend(trends, "rss_trimmed_bytes") is None
        note += (
            ", while the C heap in use is flat: pages mapped outside malloc (mmap, thread stacks, a library's own allocator)"
            + (" or freed memory the allocator keeps (trimming was off)" if untrimmed else "")
        )
    if not attribution.native:
        return note + MEMRAY_REACH
    if attribution.native_growth_bytes is None:
        return note + f"; memray failed: {attribution.native_error or 'no result'}"
    explained = _memray_part(attribution, invisible, what)
    if explained is not None:
        return f"{note}; {explained}"
    native = (attribution.native_growth_bytes or 0) / max(attribution.native_iterations, 1)
    return (
        f"native growth, no stack: {_per_it(invisible - native)} of {what} growth that neither tracemalloc "
        f"nor memray saw allocated (memray found {_per_it(native)}); memory from a malloc resolved "
        "at run time (ctypes, dlsym) or a custom allocator"
    )


def attribute_handles(holders: Sequence[GrowingPath], trends: Sequence[MetricTrend], attribution: Attribution | None, thresholds: Thresholds) -> None:
    """Set ``native_bytes_each`` on the first growing path whose elements hold a native handle:
    the C heap's growth per iteration (``heap_bytes`` slope) less the Python heap's (tracemalloc's
    traced growth per iteration over the window, else the path's own bytes per iteration),
    divided by the elements the path gains per iteration. Left ``None`` when the C heap is not
    read, or its untraced growth is below the C heap floor (``Thresholds.heap_bytes``)."""
    heap = _trend(trends, "heap_bytes")
    holder = next((h for h in holders if h.handle is not None and h.objects_per_iteration > 0), None)
    if heap is None or holder is None:
        return
    traced = attribution.traced_growth_per_iteration if attribution is not None and attribution.traced else None
    python = traced if traced is not None else holder.bytes_per_iteration
    native = heap.slope - max(python, 0.0)
    if native >= thresholds.heap_bytes:
        holder.native_bytes_each = native / holder.objects_per_iteration


def notes(trends: Sequence[MetricTrend], attribution: Attribution | None, thresholds: Thresholds) -> list[str]:
    """Every note that applies, one sentence each (see the module docstring)."""
    found = [native_note(trends, attribution, thresholds), allocator_note(trends)]
    return [n for n in found if n]
