"""``memleak watch`` seen from outside: one log line per interval, the SIGTERM stop, and the
:class:`~memleak_cli.export.status.MemoryStatus` that ``--serve`` exposes to Prometheus.

A watch reads the target from outside, so its status has the process tree's RSS/USS, its size,
the root's descriptors and threads, the growth per hour of RSS and USS over the recent readings
and the verdict of the trend test so far (``LEAK`` when it leaks: no heap walk names a path from
outside; run the sentinel inside the service for that).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType

import psutil

from memleak_cli.export.status import MemoryStatus
from memleak_cli.report.watch_model import WatchPoint
from memleak_cli.watch.analysis import fit_growth, recent_per_minute
from memleak_cli.watch.settings import MIN_TREND_POINTS, WatchSettings

RECENT = 60


class WatchExport:
    """Builds and keeps the latest status of a watch (:meth:`update` after each reading)."""

    def __init__(self, settings: WatchSettings, process: psutil.Process) -> None:
        self.settings = settings
        self.process = process
        self._status = MemoryStatus(source="watch", reason="no reading yet")
        self._cpu = 0.0

    def status(self) -> MemoryStatus:
        """The latest status (swapped in whole)."""
        return self._status

    def update(self, points: Sequence[WatchPoint]) -> None:
        """Judge *points* so far and publish the new status."""
        began = time.thread_time()
        last = points[-1]
        levels: dict[str, float] = {"tree_rss_bytes": float(last.rss_bytes), "processes": float(last.processes)}
        if last.uss_bytes is not None:
            levels["tree_uss_bytes"] = float(last.uss_bytes)
        try:
            with self.process.oneshot():
                levels["rss_bytes"] = float(self.process.memory_info().rss)
                levels["threads"] = float(self.process.num_threads())
                levels["fds"] = float(self.process.num_fds())
        except (AttributeError, psutil.Error):
            pass
        growth: dict[str, float] = {}
        for metric, key in (("rss_bytes", "tree_rss_bytes"), ("uss_bytes", "tree_uss_bytes")):
            rate = recent_per_minute(points, metric, RECENT)
            if rate is not None:
                growth[key] = rate * 60.0
        judged = [p for p in points if p.seconds >= self.settings.warmup]
        trends = [t for t in (fit_growth(m, judged, self.settings) for m in ("uss_bytes", "rss_bytes")) if t is not None]
        if not trends:
            verdict, reason = "UNKNOWN", f"{len(judged)} reading(s) after warm-up, a trend needs {MIN_TREND_POINTS}"
        else:
            leaking = [t for t in trends if t.leaking]
            verdict = "LEAK" if leaking else "CLEAN"
            reason = (leaking or trends)[0].reason
        self._cpu += time.thread_time() - began
        self._status = MemoryStatus(
            source="watch",
            verdict=verdict,
            reason=reason,
            seconds=last.seconds,
            samples=len(points),
            levels=levels,
            growth_per_hour=growth,
            cpu_seconds=self._cpu,
        )


@contextmanager
def sigterm_stops() -> Iterator[None]:
    """SIGTERM raises ``KeyboardInterrupt`` in the main thread inside the block: the watch then
    stops as on Ctrl-C (report written, launched command stopped). Later SIGTERMs are ignored
    while it stops. Outside the main thread nothing is installed."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = False

    def handle(signum: int, frame: FrameType | None) -> None:
        nonlocal received
        if not received:
            received = True
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handle)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
