"""The in-process sentinel: a background thread that watches its own service for leaks.

Every ``interval`` it takes the cheap sample (one ``gc.collect()``, then ``len(gc.get_objects())``,
``sys.getallocatedblocks()``, the C heap in use, RSS/USS of the process tree, open descriptors,
threads) and fits the trend test of ``memleak run`` (:func:`memleak_cli.analysis.trend.fit_trend`:
Theil–Sen slope above a threshold per hour with its 95 % interval above zero, sustained over the
second half, and a 70 % vote) to the last ``window`` readings after ``warmup``. When a level grows
(``SUSPECT``), it runs the growth detector (:mod:`memleak_cli.probes.growth`): a heap walk over
named reference paths every ``walk_every`` intervals, and when ``walks`` of them agree that a path
rose at every walk, the verdict is ``LEAK`` with that path, its fingerprint and its growth per
hour (logged on ``memleak.sentinel`` and exported as metrics).

Cost and pauses, measured on this project's 2 shared cores (``python -m benchmarks.sentinel``):
one reading on a heap of 10^6 objects costs 71 ms of CPU (measured 71–116 ms; most of it the collection, ~65 ms, and
``gc.get_objects()``, ~17 ms) — 0.14 % of one core at the default 60 s interval; a heap walk of
that heap ~1.1 s. The sentinel bounds what it takes from the service:

* ``pause_budget`` (default 250 ms): the forced collection is the one step that holds the GIL
  throughout (C code). When one takes longer than the budget, the sentinel stops forcing them
  (``collect`` off: counts then include garbage not yet collected; the trend's vote absorbs it).
* ``walk_budget`` (default 2 s): a walk is Python code in the sentinel's thread, so it hands the
  GIL back every switch interval (5 ms) — the service keeps running, slower, while it lasts — but
  it pauses the collector and copies large containers in one C call. Walks happen only while a
  level grows, at most one per ``walk_every`` intervals; a walk is capped at the objects the last
  walk's pace fits in the budget (``max_objects``), a walk that hit the cap is dropped, and a walk
  over the budget, or walks that name no path (native growth), double the spacing (up to
  ``64 × walk_every``).
* Memory: the last ``window`` readings and at most ``walks`` walk tables (~15 MiB each on a
  10^6-object heap), kept only while suspicious. What the sentinel's own work changes — Python
  blocks and C heap over each check, USS over each walk — is left out of the judged levels
  (the exported levels are the process's own), so its bookkeeping never reads as a leak; growth
  the service makes *during* a check (a walk lasts ~1 s) is left out with it.

The sentinel skips memleak's own modules in its walks and never raises into the service: an
error in a reading is logged and the next interval tries again.
"""

from __future__ import annotations

import gc
import logging
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import psutil

from memleak_cli.errors import UsageError
from memleak_cli.export.status import MemoryStatus, PathGrowth
from memleak_cli.units import format_bytes, format_count, format_duration, parse_duration

if TYPE_CHECKING:
    from memleak_cli.export.prometheus import MetricsServer
    from memleak_cli.probes.growth import HeapWalk

LOGGER = logging.getLogger("memleak.sentinel")
MiB = 1024 * 1024
HOUR = 3600.0
MIN_TREND_POINTS = 3
MAX_SPACING_FACTOR = 64
# A walk's pace before one was measured: objects per second (the 10^6 heap: 2·10^6 in ~1.1 s).
PRIOR_WALK_RATE = 1.0e6


@dataclass(frozen=True)
class SentinelThresholds:
    """Growth per hour above which a level is suspicious (judged over the recent window).

    Attributes:
        bytes_per_hour: USS of the process tree and the C heap in use.
        gc_objects_per_hour: gc-tracked Python objects.
        py_blocks_per_hour: Python heap blocks.
        fds_per_hour, threads_per_hour: open descriptors and threads.
        vote: share of steps that must grow.
    """

    bytes_per_hour: float = 32 * MiB
    gc_objects_per_hour: float = 20_000
    py_blocks_per_hour: float = 50_000
    fds_per_hour: float = 60
    threads_per_hour: float = 60
    vote: float = 0.7

    def per_hour(self, metric: str) -> float:
        """The threshold of *metric* (a key of :data:`JUDGED`)."""
        return float(
            {
                "tree_uss_bytes": self.bytes_per_hour,
                "tree_rss_bytes": self.bytes_per_hour,
                "heap_bytes": self.bytes_per_hour,
                "gc_objects": self.gc_objects_per_hour,
                "py_blocks": self.py_blocks_per_hour,
                "fds": self.fds_per_hour,
                "threads": self.threads_per_hour,
            }[metric]
        )


# metric → unit; USS of the tree, or its RSS where the OS hides USS
JUDGED: dict[str, str] = {
    "gc_objects": "objects",
    "py_blocks": "blocks",
    "heap_bytes": "bytes",
    "tree_uss_bytes": "bytes",
    "fds": "descriptors",
    "threads": "threads",
}


@dataclass(frozen=True)
class SentinelSettings:
    """How the sentinel samples, judges and walks (see the module docstring). Durations in seconds."""

    interval: float = 60.0
    window: int = 30
    warmup: int = 3
    walk_every: int = 5
    walks: int = 3
    pause_budget: float = 0.25
    walk_budget: float = 2.0
    collect: bool = True
    modules: tuple[str, ...] | None = None
    thresholds: SentinelThresholds = field(default_factory=SentinelThresholds)

    def validate(self) -> SentinelSettings:
        """Return self when every value makes sense.

        Raises:
            UsageError: one line naming the bad value.
        """
        if self.interval < 0.01:
            raise UsageError(f"sentinel interval {format_duration(self.interval)} is too short: use at least 10ms")
        if self.window < MIN_TREND_POINTS or self.warmup < 0:
            raise UsageError(f"sentinel window must be at least {MIN_TREND_POINTS} readings and warmup 0 or more")
        if self.walk_every < 1 or self.walks < 2:
            raise UsageError("sentinel walk_every must be at least 1 and walks at least 2")
        if self.pause_budget <= 0 or self.walk_budget <= 0:
            raise UsageError("sentinel pause_budget and walk_budget must be more than 0")
        return self


def _seconds(value: float | str, name: str) -> float:
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except UsageError as exc:
            raise UsageError(f"sentinel {name}: {exc}") from exc
    return float(value)


def read_levels(process: psutil.Process, *, collect: bool) -> tuple[dict[str, float], float]:
    """The cheap sample of this process: ``(levels, seconds the forced collection took)``.

    Levels are keys of :data:`memleak_cli.export.prometheus.LEVELS`; one that cannot be read here
    (USS hidden, no glibc) is absent.
    """
    from memleak_cli.measure.proctree import read_tree

    spent = 0.0
    if collect:
        began = time.perf_counter()
        gc.collect()
        spent = time.perf_counter() - began
    levels: dict[str, float] = {
        "gc_objects": float(len(gc.get_objects())),
        "py_blocks": float(sys.getallocatedblocks()),
    }
    heap_info = getattr(psutil, "heap_info", None)
    if heap_info is not None:
        try:
            info = heap_info()
            levels["heap_bytes"] = float(info.heap_used + info.mmap_used)
        except (OSError, RuntimeError):
            pass
    try:
        with process.oneshot():
            levels["rss_bytes"] = float(process.memory_info().rss)
            levels["threads"] = float(process.num_threads())
            levels["fds"] = float(process.num_fds())
    except (AttributeError, psutil.Error):
        pass
    tree = read_tree(process)
    if tree is not None:
        levels["tree_rss_bytes"] = float(tree[0])
        if tree[1] is not None:
            levels["tree_uss_bytes"] = float(tree[1])
        levels["processes"] = float(tree[2])
    return levels, spent


class Sentinel:
    """Watches this process for leaks from a background thread; a context manager too.

    ::

        sentinel = memleak_cli.sentinel.start(interval="60s", serve="127.0.0.1:9464")
        ...
        sentinel.status()        # MemoryStatus: levels, growth/h, verdict, growing path
        sentinel.stop()

    Args:
        interval: time between readings (``"60s"``, ``"500ms"`` or seconds).
        serve: ``HOST:PORT`` to expose ``/metrics`` on (Prometheus), e.g. ``127.0.0.1:9464``;
            ``None`` serves nothing (mount :func:`memleak_cli.sentinel.wsgi`/``asgi`` instead).
        window: readings in the trend; warmup: first readings left out (start-up).
        walk_every: intervals between heap walks while a level grows; walks: walks compared.
        pause_budget: longest forced collection before the sentinel stops forcing them.
        walk_budget: longest heap walk before walks are spaced out (see the module docstring).
        collect: force a full collection before each reading (default True).
        thresholds: a :class:`SentinelThresholds` (growth per hour).
        modules: walk only these modules (and submodules) and the threads' frames.
        logger: where findings are logged (default ``memleak.sentinel``).
        on_status: called with every new :class:`MemoryStatus`, in the sentinel's thread.
    """

    def __init__(
        self,
        interval: float | str = 60.0,
        *,
        serve: str | None = None,
        window: int = SentinelSettings.window,
        warmup: int = SentinelSettings.warmup,
        walk_every: int = SentinelSettings.walk_every,
        walks: int = SentinelSettings.walks,
        pause_budget: float | str = SentinelSettings.pause_budget,
        walk_budget: float | str = SentinelSettings.walk_budget,
        collect: bool = True,
        thresholds: SentinelThresholds | None = None,
        modules: Iterable[str] | None = None,
        logger: logging.Logger | None = None,
        on_status: Callable[[MemoryStatus], None] | None = None,
    ) -> None:
        self.settings = SentinelSettings(
            interval=_seconds(interval, "interval"),
            window=window,
            warmup=warmup,
            walk_every=walk_every,
            walks=walks,
            pause_budget=_seconds(pause_budget, "pause_budget"),
            walk_budget=_seconds(walk_budget, "walk_budget"),
            collect=collect,
            modules=None if modules is None else tuple(modules),
            thresholds=thresholds or SentinelThresholds(),
        ).validate()
        self.serve = serve
        self.logger = logger or LOGGER
        self.on_status = on_status
        self._process = psutil.Process()
        self._collect = collect
        self._readings: deque[tuple[float, dict[str, float]]] = deque(
            maxlen=self.settings.window + self.settings.warmup
        )
        self._count = 0
        self._started_at = time.monotonic()
        self._walks: list[tuple[float, HeapWalk]] = []
        self._walk_count = 0
        self._walk_rate = PRIOR_WALK_RATE
        self._last_walk_seconds: float | None = None
        self._spacing = self.settings.walk_every
        self._since_walk = self._spacing
        self._notes: list[str] = []
        # What the sentinel itself added to the judged levels (its readings, its walk tables):
        # subtracted before the trend, else its own bookkeeping would look like a leak.
        self._own: dict[str, float] = {}
        self._cpu = 0.0
        self._status = MemoryStatus(source="sentinel", reason="no reading yet")
        self._check_lock = threading.Lock()
        self._life_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._server: MetricsServer | None = None
        self._registry: Any = None

    # -- life ------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True while the background thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Sentinel:
        """Start the background thread (and the metrics server when ``serve`` was given); a
        second call does nothing. Returns self.

        Raises:
            UsageError: the metrics address cannot be served (in use, bad address).
        """
        with self._life_lock:
            if self.running:
                return self
            if self.serve is not None and self._server is None:
                from memleak_cli.export.prometheus import MetricsServer

                self._server = MetricsServer(self.status, self.serve)
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="memleak-sentinel", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread (waits up to *timeout* seconds for a reading or walk in progress to
        end) and the metrics server. Safe to call twice, or without :meth:`start`."""
        with self._life_lock:
            self._stop.set()
            thread, self._thread = self._thread, None
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout)
            server, self._server = self._server, None
            if server is not None:
                server.close()

    def __enter__(self) -> Sentinel:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def metrics_url(self) -> str | None:
        """``http://HOST:PORT/metrics`` while serving, else ``None``."""
        return None if self._server is None else self._server.url

    @property
    def registry(self) -> Any:
        """A ``prometheus_client`` registry of this sentinel's metrics (to mount ``/metrics`` in
        an app of your own, or to add to your registry's collectors)."""
        if self._registry is None:
            from memleak_cli.export.prometheus import registry_for

            self._registry = registry_for(self.status)
        return self._registry

    def status(self) -> MemoryStatus:
        """The latest status (swapped in whole at each interval; never blocks)."""
        return self._status

    def _run(self) -> None:
        interval = self.settings.interval
        next_at = time.monotonic()
        while True:
            try:
                self.check()
            except Exception:  # noqa: BLE001 - never raise into the service
                self.logger.exception("memleak sentinel: reading failed; trying again next interval")
            next_at += interval
            now = time.monotonic()
            if now > next_at:  # a slow reading or walk: skip the missed slots
                next_at += ((now - next_at) // interval + 1) * interval
            if self._stop.wait(next_at - now):
                return

    # -- one interval ----------------------------------------------------------------------
    def check(self) -> MemoryStatus:
        """Take one reading now, judge, walk when due; returns (and publishes) the new status.

        The background thread calls it every interval; call it yourself to drive a sentinel
        that was not started (tests, a service's own scheduler).
        """
        with self._check_lock:
            cpu_began = time.thread_time()
            import scipy.stats  # noqa: F401  - before the reading: imported at the first trend, it would look like growth
            levels, collect_seconds = read_levels(self._process, collect=self._collect)
            if self._collect and collect_seconds > self.settings.pause_budget:
                self._collect = False
                self._note(
                    f"a full collection took {format_duration(collect_seconds)}, over the pause budget "
                    f"{format_duration(self.settings.pause_budget)}: no longer forcing collections"
                )
            marks = _own_marks()
            now = time.monotonic()
            judged = {k: v - self._own.get(k, 0.0) for k, v in levels.items()}
            self._readings.append((now, judged))
            self._count += 1
            growth, leaking = self._trends()
            previous = self._status
            growing: PathGrowth | None = None
            if leaking:
                self._since_walk += 1
                if self._since_walk >= self._spacing:
                    self._since_walk = 0
                    growing = self._walk()
                else:
                    growing = previous.growing
            elif self._walks or self._spacing != self.settings.walk_every:
                self._walks.clear()  # growth stopped: the walks are history
                self._spacing = self.settings.walk_every
                self._since_walk = self._spacing
            verdict, reason = self._verdict(growth, leaking, growing)
            for key, value in _own_marks().items():
                self._own[key] = self._own.get(key, 0.0) + value - marks.get(key, value)
            self._cpu += time.thread_time() - cpu_began
            status = MemoryStatus(
                source="sentinel",
                verdict=verdict,
                reason=reason,
                seconds=round(now - self._started_at, 3),
                samples=self._count,
                levels=levels,
                growth_per_hour=growth,
                growing=growing,
                walks=self._walk_count,
                walk_seconds=self._last_walk_seconds,
                cpu_seconds=self._cpu,
            )
            self._status = status
        self._log_change(previous, status)
        if self.on_status is not None:
            self.on_status(status)
        return status

    def _note(self, text: str) -> None:
        self._notes.append(text)
        del self._notes[:-3]
        self.logger.warning("memleak sentinel: %s", text)

    def _trends(self) -> tuple[dict[str, float], list[str]]:
        """Growth per hour of each judged level over the window, and those that leak."""
        from memleak_cli.analysis.trend import fit_trend

        readings = list(self._readings)
        if self._count <= self.settings.warmup:
            return {}, []
        readings = readings[-min(self.settings.window, self._count - self.settings.warmup) :]
        if len(readings) < MIN_TREND_POINTS:
            return {}, []
        step = (readings[-1][0] - readings[0][0]) / (len(readings) - 1)
        if step <= 0:
            return {}, []
        growth: dict[str, float] = {}
        leaking: list[str] = []
        for metric, unit in JUDGED.items():
            key = metric
            if metric == "tree_uss_bytes" and any(metric not in r[1] for r in readings):
                key = "tree_rss_bytes"  # the OS hides USS here
            values = [r[1].get(key) for r in readings]
            if any(v is None for v in values):
                continue
            threshold = self.settings.thresholds.per_hour(key) * step / HOUR
            trend = fit_trend(key, unit, [float(v) for v in values if v is not None], threshold, vote=self.settings.thresholds.vote)
            growth[key] = trend.slope * HOUR / step
            if trend.leaking:
                leaking.append(key)
        return growth, leaking

    def _walk(self) -> PathGrowth | None:
        """One heap walk now; the growing path once ``walks`` walks agree, else ``None``. The
        memory its tables keep counts as the sentinel's own (left out of the trend)."""
        cap = max(100_000, int(self.settings.walk_budget * self._walk_rate * 1.2))
        uss_before = _own_uss(self._process)
        try:
            return self._walk_and_compare(cap)
        finally:
            uss_after = _own_uss(self._process)
            if uss_before is not None and uss_after is not None:
                for key in ("tree_uss_bytes", "tree_rss_bytes"):
                    self._own[key] = self._own.get(key, 0.0) + uss_after - uss_before

    def _walk_and_compare(self, cap: int) -> PathGrowth | None:
        from memleak_cli.probes.growth import growing_paths, walk

        heap = walk(modules=self.settings.modules, max_objects=cap)
        self._walk_count += 1
        self._last_walk_seconds = heap.seconds
        if heap.seconds > 0:
            self._walk_rate = max(heap.visited / heap.seconds, 10_000.0)
        if heap.truncated:
            self._walks.clear()
            self._postpone(4, f"a heap walk reached its cap of {cap:,} objects (the walk budget "
                              f"{format_duration(self.settings.walk_budget)} at the last pace): dropped")
            return None
        if heap.seconds > self.settings.walk_budget:
            self._postpone(2, f"a heap walk took {format_duration(heap.seconds)}, over the walk budget "
                              f"{format_duration(self.settings.walk_budget)}")
        self._walks.append((time.monotonic(), heap))
        del self._walks[: -self.settings.walks]
        if len(self._walks) < self.settings.walks:
            return None
        walks = [w for _, w in self._walks]
        found = growing_paths(walks, [1] * (len(walks) - 1))
        if not found:
            self._spacing = min(self._spacing * 2, self.settings.walk_every * MAX_SPACING_FACTOR)
            return None
        top = found[0]
        elapsed = self._walks[-1][0] - self._walks[0][0]
        gaps = len(walks) - 1
        per_hour = gaps * HOUR / elapsed if elapsed > 0 else 0.0
        return PathGrowth(
            path=top.path,
            fingerprint=top.fingerprint,
            leaf=top.leaf,
            objects_per_hour=top.objects_per_iteration * per_hour,
            bytes_per_hour=top.bytes_per_iteration * per_hour,
            held=top.held,
            held_bytes=top.held_bytes,
        )

    def _postpone(self, factor: int, why: str) -> None:
        self._spacing = min(self._spacing * factor, self.settings.walk_every * MAX_SPACING_FACTOR)
        self._note(f"{why}; next walk in {self._spacing} intervals")

    def _verdict(self, growth: dict[str, float], leaking: list[str], growing: PathGrowth | None) -> tuple[str, str]:
        notes = "".join(f"; {n}" for n in self._notes)
        if not growth:
            needed = self.settings.warmup + MIN_TREND_POINTS
            return "UNKNOWN", f"{self._count} reading(s), a trend needs {needed} (warm-up {self.settings.warmup}){notes}"
        rates = ", ".join(f"{m} {_rate(m, growth[m])}" for m in leaking or growth)
        if not leaking:
            return "CLEAN", f"no sustained growth ({rates}){notes}"
        if growing is not None:
            return "LEAK", f"{growing.line()}; growing: {rates}{notes}"
        pending = (
            f"heap walks: {len(self._walks)}/{self.settings.walks}, next in "
            f"{max(self._spacing - self._since_walk, 0)} interval(s)"
        )
        return "SUSPECT", f"sustained growth of {rates}; no reference path grows yet ({pending}){notes}"

    def _log_change(self, previous: MemoryStatus, status: MemoryStatus) -> None:
        changed = previous.verdict != status.verdict or (
            status.growing is not None
            and (previous.growing is None or previous.growing.fingerprint != status.growing.fingerprint)
        )
        if not changed:
            return
        level = logging.WARNING if status.verdict == "LEAK" else logging.INFO
        self.logger.log(level, "memleak sentinel: %s: %s", status.verdict, status.reason)

    def as_dict(self) -> dict[str, Any]:
        """The settings as plain data."""
        data = asdict(self.settings)
        data["serve"] = self.serve
        return data


def _own_marks() -> dict[str, float]:
    """Python blocks and C heap now: their change over a check is the sentinel's own work."""
    marks = {"py_blocks": float(sys.getallocatedblocks())}
    heap_info = getattr(psutil, "heap_info", None)
    if heap_info is not None:
        try:
            info = heap_info()
            marks["heap_bytes"] = float(info.heap_used + info.mmap_used)
        except (OSError, RuntimeError):
            pass
    return marks


def _own_uss(process: psutil.Process) -> float | None:
    try:
        return float(process.memory_full_info().uss)
    except (AttributeError, psutil.Error):
        return None


def _rate(metric: str, per_hour: float) -> str:
    unit = JUDGED.get(metric, "bytes" if metric.endswith("_bytes") else "")
    if unit == "bytes" or metric.endswith("_bytes"):
        return f"{format_bytes(per_hour, signed=True)}/h"
    return f"{format_count(round(per_hour), signed=True)} {unit}/h"
