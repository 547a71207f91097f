"""The attribution window: where memleak pays for tracemalloc and the heap mark, and only there.

One implementation, used by the measuring worker, ``track()``, the pytest plugin and the
benchmarks. Its steps, in order::

    with AttributionWindow(frames=5, top=10) as window:   # probes imported, tracing started
        iterate()                                           # a priming run, traced
        window.mark()                                       # full collection, heap marked, first snapshot
        for _ in range(n):
            iterate()
        found = window.finish(n)                            # last snapshot, diff, retained search
        # tracemalloc is still on here: a sample taken now carries its current/peak
    # tracing stopped (when the window started it)

Why a priming run: memory the first traced iteration makes and a later one frees is then traced
too, so the diff is the window's net growth and not everything it allocated. Why mark after it:
what the priming run left (caches filled once) is old by the time the window's work starts.

Cost (measured on this project's 2-core machine, Optuna's TPE loop): tracemalloc slows the
traced iterations 4x at 1 frame and 20x+ at 10; the heap mark is one ``gc.get_objects()`` plus one
id per object in an ``array('Q')``; the retained search is one more pass and a pympler deep size
of the roots only.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from memleak_cli.report.model import AllocationSite, RetainedObject


@dataclass
class WindowFindings:
    """What one window found.

    Attributes:
        traced: tracemalloc was on (``frames > 0`` or already tracing).
        traced_growth_bytes: net traced growth between :meth:`AttributionWindow.mark` and
            :meth:`AttributionWindow.finish` over every site (bytes; ``None`` untraced).
        traced_peak_bytes: tracemalloc's peak above the level at the mark (bytes; ``None``
            untraced or when the window did not start tracing itself).
        sites: the top allocation sites that grew (``Snapshot.compare_to``), largest first.
        retained: the top retained roots with their reference chains (empty without ``retained``).
        retained_bytes: deep size of all retained roots together (``None`` without ``retained``).
        retained_roots: how many roots were found (``None`` without ``retained``).
        retained_native_bytes: C heap the retained roots that are native handles pin (bytes; see
            :meth:`AttributionWindow.finish`), ``None`` when no retained root is a handle or the
            C heap cannot be read.
        seconds: wall time from opening the window to the end of :meth:`finish`.
    """

    traced: bool
    traced_growth_bytes: int | None = None
    traced_peak_bytes: int | None = None
    sites: list[AllocationSite] = field(default_factory=list)
    retained: list[RetainedObject] = field(default_factory=list)
    retained_bytes: int | None = None
    retained_roots: int | None = None
    retained_native_bytes: int | None = None
    seconds: float = 0.0


class AttributionWindow:
    """Context manager for one attribution window (see the module docstring for the steps).

    Args:
        frames: tracemalloc traceback depth; 0 leaves tracemalloc off (unless it is already on,
            then the window reads it and leaves it on).
        top: how many allocation sites and retained roots to keep.
        sites: take the two snapshots and diff them (off: only the traced byte count).
        retained: mark the heap and search for retained roots.
    """

    def __init__(self, *, frames: int, top: int, sites: bool = True, retained: bool = True) -> None:
        self.frames = frames
        self.top = top
        self.sites = sites
        self.retained = retained
        self._owns_tracing = False
        self._started = 0.0
        self._mark: Any = None
        self._first: tracemalloc.Snapshot | None = None
        self._traced_at_mark: int | None = None
        self._heap_at_mark: int | None = None
        self._heap_in_use: Callable[[], int | None] = lambda: None
        self._tables_at_mark = 0

    @property
    def tracing(self) -> bool:
        """tracemalloc is on for this window."""
        return tracemalloc.is_tracing()

    def __enter__(self) -> AttributionWindow:
        from memleak_cli.probes.allocations import prepare

        self._started = time.perf_counter()
        prepare()
        # imported before the mark: a module imported inside the window is retained "growth"
        from memleak_cli.probes.cheap import heap_in_use

        self._heap_in_use = heap_in_use
        gc.collect()  # garbage made before the window must not be freed inside it
        if self.frames > 0 and not tracemalloc.is_tracing():
            tracemalloc.start(self.frames)
            self._owns_tracing = True
        return self

    def mark(self) -> None:
        """Start counting: full collection, heap mark, first snapshot, traced level."""
        gc.collect()
        # the first snapshot before the mark: made after it, the snapshot (held by this window, an
        # old object) would be a "retained" object of the workload's
        if self.tracing and self.sites:
            from memleak_cli.probes.allocations import take_snapshot

            self._first = take_snapshot()
        if self.retained:
            from memleak_cli.probes.retained import mark_heap

            self._mark = mark_heap(collect=False)  # collected just above
        if self.tracing and (self._first is not None or self._mark is not None):
            # the snapshot and the mark leave cycles behind: collected in the window, their traced
            # blocks and tracemalloc's entries for them (46 KiB of tables, 66 KiB of C heap
            # measured) would come off the window's growth
            gc.collect()
        if self.tracing:
            if self._owns_tracing:
                tracemalloc.reset_peak()
            self._traced_at_mark = tracemalloc.get_traced_memory()[0]
        if self.retained:
            # last: the mark's own arrays are in the C heap before this reading, not in the growth
            self._heap_at_mark = self._heap_in_use()
            self._tables_at_mark = tracemalloc.get_tracemalloc_memory()

    def finish(self, iterations: int) -> WindowFindings:
        """Stop counting after *iterations* runs of the work and return what the window found.

        Tracing stays on until the ``with`` block ends.

        The C heap a native handle pins (``retained_native_bytes``) is read without releasing
        anything: the heap mark holds every object older than the window, so a handle the window
        replaced (the latest model swapped for a new one) is not freed before the end, and the C
        heap's growth over the window, less what tracemalloc traced and its own tables, is what
        the window's new objects keep in native memory: the retained roots that hold a handle
        (:mod:`memleak_cli.probes.handles`) pin it, the one such root when there is one.
        """
        gc.collect()
        found = WindowFindings(traced=self.tracing and self._traced_at_mark is not None)
        if found.traced:
            now, peak = tracemalloc.get_traced_memory()
            assert self._traced_at_mark is not None
            found.traced_growth_bytes = now - self._traced_at_mark
            if self._owns_tracing:
                found.traced_peak_bytes = peak - self._traced_at_mark
        heap_growth = self._heap_growth()  # read before the snapshot and the search allocate
        last = None
        if found.traced and self._first is not None:
            from memleak_cli.probes.allocations import take_snapshot

            if heap_growth is not None:
                # psutil's reading left tuples in CPython's free lists, which tracemalloc still
                # counts as allocated (+280 B in the diff, measured); a full collection clears them
                gc.collect()
            last = take_snapshot()
        if self._mark is not None:
            from memleak_cli.probes.retained import find_retained

            found.retained, found.retained_bytes, found.retained_roots = find_retained(self._mark, top=self.top, collect=False)
            self._mark = None
            if heap_growth is not None:
                # Python's share of the heap growth: what tracemalloc traced or the roots' deep size
                # (all of it untraced), whichever is larger
                python = max(found.traced_growth_bytes or 0, found.retained_bytes or 0)
                found.retained_native_bytes = _pin_to_handles(found.retained, heap_growth - python)
        if last is not None and self._first is not None:
            from memleak_cli.probes.allocations import diff_sites

            growth, found.sites = diff_sites(self._first, last, self.top)
            found.traced_growth_bytes = growth
        self._first = None
        found.seconds = time.perf_counter() - self._started
        return found

    def _heap_growth(self) -> int | None:
        """The C heap's growth since the mark less tracemalloc's own tables (bytes); ``None``
        when the C heap was not read at the mark."""
        if self._heap_at_mark is None:
            return None
        now = self._heap_in_use()
        if now is None:
            return None
        tables = tracemalloc.get_tracemalloc_memory() - self._tables_at_mark
        return now - self._heap_at_mark - tables

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self._mark = None
        self._first = None
        if self._owns_tracing:
            tracemalloc.stop()
            self._owns_tracing = False


# Below this the C heap's growth over a window is allocator noise, not a model's buffers.
MIN_PINNED_BYTES = 4096


def _pin_to_handles(retained: list[RetainedObject], untraced_heap: int) -> int | None:
    """*untraced_heap* as the C heap the retained handles pin; ``None`` when no root holds a
    handle or it is below :data:`MIN_PINNED_BYTES`. With one handle root it is that root's
    ``native_bytes``; with several, the C heap cannot tell which holds how much, so no root
    gets a share (an even split blamed a handle to nothing as much as the model)."""
    handles = [r for r in retained if r.handle is not None]
    if not handles or untraced_heap < MIN_PINNED_BYTES:
        return None
    if len(handles) == 1:
        handles[0].native_bytes = untraced_heap
    return untraced_heap
