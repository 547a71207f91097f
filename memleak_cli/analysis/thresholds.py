"""Thresholds that decide when growth is a leak and when kept memory is retention."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

KiB = 1024
MiB = 1024 * KiB


@dataclass(frozen=True)
class Thresholds:
    """Growth per iteration above which a metric counts as leaking, and the retention floor.

    Attributes:
        heap_bytes: C heap in use (psutil.heap_info), bytes per iteration. ``--heap-threshold``.
            The fixed ML scenarios' libraries (LightGBM, pandas, tsfresh) grow the C heap by
            1–3 KiB per iteration for dozens of iterations (measured): 8 KiB keeps them clear.
        rss_bytes: RSS (untrimmed and after ``malloc_trim``) and USS of the process and of its
            tree, bytes per iteration; higher because the allocator and page cache make RSS
            noisy. ``--rss-threshold``.
        gc_objects: gc-tracked Python objects per iteration. ``--objects-threshold``.
        py_blocks: Python heap blocks (``sys.getallocatedblocks()``) per iteration; bounded
            caches in numpy/ctypes/optuna fill by tens of blocks per iteration for dozens of
            iterations, hence the margin. ``--blocks-threshold``.
        retained_bytes: deep size (pympler) of what one window keeps after the work ended
            above which a variant that does not grow RETAINS. ``--retain-threshold``.
        vote: share of post-warm-up deltas that must be positive (consistency vote).
        floor_heap_bytes, floor_rss_bytes, floor_gc_objects, floor_py_blocks: the smallest
            growth per iteration that counts at all (:mod:`memleak_cli.analysis.evidence`):
            growth between a floor and its threshold is a leak only once it has lasted
            ``CONFIRM`` × the requested iterations without slowing. 4 KiB of C heap is the
            native goal; a Python leak of 256 B keeps one Python heap block per iteration, and
            the floor is half a block because other blocks come and go by a few now and then
            (measured: +4, +4, −2 beside a one-block leak), which drags a slope of exactly one
            block under 1; RSS pages are noisier. A threshold under its
            floor lowers the floor with it.
    """

    heap_bytes: float = 8 * KiB
    rss_bytes: float = 512 * KiB
    gc_objects: float = 1.0
    py_blocks: float = 64.0
    retained_bytes: float = 16 * KiB
    vote: float = 0.7
    floor_heap_bytes: float = 4 * KiB
    floor_rss_bytes: float = 128 * KiB
    floor_gc_objects: float = 1.0
    floor_py_blocks: float = 0.5

    def floor(self, attribute: str) -> float:
        """The floor that goes with threshold *attribute* (``heap_bytes``…)."""
        return float(getattr(self, f"floor_{attribute}"))

    def as_dict(self) -> dict[str, Any]:
        """The thresholds as plain data for the report."""
        return asdict(self)


# metric → (unit, threshold attribute, kind); "vote" metrics use the slope + vote rule and
# "any" metrics (descriptors, threads) leak on any change that does not come back.
METRICS: dict[str, tuple[str, str, str]] = {
    "gc_objects": ("objects", "gc_objects", "vote"),
    "py_blocks": ("blocks", "py_blocks", "vote"),
    "heap_bytes": ("bytes", "heap_bytes", "vote"),
    "rss_bytes": ("bytes", "rss_bytes", "vote"),
    # RSS right after malloc_trim(0): memory still allocated, without what glibc keeps
    "rss_trimmed_bytes": ("bytes", "rss_bytes", "vote"),
    "uss_bytes": ("bytes", "rss_bytes", "vote"),
    "tree_rss_bytes": ("bytes", "rss_bytes", "vote"),
    "tree_uss_bytes": ("bytes", "rss_bytes", "vote"),
    "fds": ("descriptors", "", "any"),
    "threads": ("threads", "", "any"),
}
