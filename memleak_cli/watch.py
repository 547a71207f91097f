"""Watching a running process tree's memory over a long run (``memleak watch``); no CLI code.

A :class:`Target` is a process attached by PID or a command memleak starts. :func:`watch` reads
the RSS and USS of the target and all its children (psutil, ``children(recursive=True)``) every
``interval`` seconds until ``duration`` has passed, the target exits, or Ctrl-C; then
:func:`analyze` judges the series with the trend test of ``memleak run``
(:func:`memleak_cli.analysis.trend.fit_trend`: Theil–Sen slope above the threshold with its 95 %
interval above zero, sustained over the second half, and a consistency vote).

Long series are reduced to at most ``max_points`` bucket medians before the fit, so that (a) a
step is long enough for real growth to show in the vote instead of page-sized jitter between
1-second readings, and (b) Theil–Sen's all-pairs slopes stay cheap on a day of readings. The
threshold, given per minute, is converted to bytes per reduced step.
"""

from __future__ import annotations

import datetime as dt
import math
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import psutil

from memleak_cli import __version__
from memleak_cli.analysis.trend import fit_trend
from memleak_cli.errors import UsageError
from memleak_cli.report.watch_model import (
    WATCH_KIND,
    WATCH_SCHEMA_VERSION,
    WatchPoint,
    WatchReport,
    WatchTrend,
)
from memleak_cli.units import format_bytes, format_duration

MiB = 1024 * 1024
MIN_INTERVAL = 0.01
MIN_TREND_POINTS = 3
METRIC_LABEL = {"rss_bytes": "RSS", "uss_bytes": "USS"}

PointTaken = Callable[[Sequence[WatchPoint]], None]


@dataclass(frozen=True)
class WatchSettings:
    """How to watch and judge.

    Attributes:
        interval: seconds between readings.
        duration: seconds to watch; ``None`` until the target exits (or Ctrl-C).
        threshold_per_minute: growth of RSS/USS in bytes per minute above which it is a leak.
        warmup: first seconds left out of the trend (start-up, imports, caches).
        max_points: the series is reduced to at most this many bucket medians before the fit.
        vote: share of steps that must grow (as ``memleak run``'s consistency vote).
    """

    interval: float = 1.0
    duration: float | None = None
    threshold_per_minute: float = 1 * MiB
    warmup: float = 0.0
    max_points: int = 120
    vote: float = 0.7

    def validate(self) -> WatchSettings:
        """Return self when every value makes sense.

        Raises:
            UsageError: one line naming the bad value.
        """
        if self.interval < MIN_INTERVAL:
            raise UsageError(
                f"--interval {format_duration(self.interval)} is too short: use at least 10ms"
            )
        if self.duration is not None and self.duration <= 0:
            raise UsageError("--duration must be more than 0")
        if self.warmup < 0 or self.threshold_per_minute < 0:
            raise UsageError("--warmup and --threshold must be 0 or more")
        if self.max_points < MIN_TREND_POINTS:
            raise UsageError(f"max_points must be at least {MIN_TREND_POINTS}")
        return self

    def as_dict(self) -> dict[str, object]:
        """The settings as plain data for the report."""
        return asdict(self)


class Target:
    """The watched process: attached by PID (:meth:`attach`) or started (:meth:`launch`)."""

    def __init__(
        self,
        process: psutil.Process,
        command: list[str],
        popen: subprocess.Popen[bytes] | None = None,
    ) -> None:
        self.process = process
        self.command = command
        self.popen = popen

    @property
    def pid(self) -> int:
        """The process id."""
        return int(self.process.pid)

    @property
    def launched(self) -> bool:
        """True when memleak started the process (and so stops it when the watch ends first)."""
        return self.popen is not None

    @classmethod
    def attach(cls, pid: int) -> Target:
        """Attach to the running process *pid*.

        Raises:
            UsageError: no such process, or its memory is not ours to read.
        """
        try:
            process = psutil.Process(pid)
            process.memory_info()
            command = process.cmdline() or [process.name()]
        except psutil.ZombieProcess:
            raise UsageError(
                f"process {pid} has already exited (a zombie waiting for its parent)"
            ) from None
        except psutil.NoSuchProcess:
            raise UsageError(f"no process with PID {pid}") from None
        except psutil.AccessDenied:
            raise UsageError(
                f"cannot read the memory of PID {pid}: access denied (watch a process of your own user, or run as root)"
            ) from None
        return cls(process, command)

    @classmethod
    def launch(cls, argv: Sequence[str]) -> Target:
        """Start *argv* (stdin, stdout and stderr inherited) and watch it.

        Raises:
            UsageError: the command is empty or cannot be started.
        """
        if not argv:
            raise UsageError(
                "give a command to watch after '--', e.g. memleak watch -- python serve.py"
            )
        try:
            popen = subprocess.Popen(list(argv))
        except OSError as exc:
            raise UsageError(f"cannot start {argv[0]!r}: {exc.strerror or exc}") from None
        return cls(psutil.Process(popen.pid), list(argv), popen)

    def wait(self, timeout: float) -> bool:
        """Wait up to *timeout* seconds for the process to end; True when it has."""
        if self.popen is not None:
            try:
                self.popen.wait(timeout=max(timeout, 0.0))
                return True
            except subprocess.TimeoutExpired:
                return False
        try:
            self.process.wait(timeout=max(timeout, 0.0))
            return True
        except psutil.TimeoutExpired:
            return False
        except psutil.Error:
            return True

    def exit_code(self) -> int | None:
        """The launched command's exit status (negative: killed by that signal); ``None`` when
        attached by PID or still running."""
        return None if self.popen is None else self.popen.poll()

    def stop(self, grace: float = 3.0) -> None:
        """Stop a launched command that still runs: SIGTERM, then SIGKILL after *grace* seconds.
        A process attached by PID is never touched."""
        if self.popen is None or self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()

    def describe(self) -> dict[str, object]:
        """``pid``, ``command`` and ``launched`` for the report."""
        return {"pid": self.pid, "command": self.command, "launched": self.launched}


def _uss(process: psutil.Process) -> int | None:
    try:
        return int(process.memory_full_info().uss)
    except (psutil.AccessDenied, AttributeError):
        return None


def read_tree(process: psutil.Process) -> tuple[int, int | None, int] | None:
    """``(RSS, USS, processes)`` of *process* and its children, in bytes; ``None`` when it has
    exited (or is a zombie). USS is ``None`` when the OS hides the root's; a child whose USS is
    hidden, or that ends while being read, is left out of the sum."""
    try:
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
        rss = int(process.memory_info().rss)
        uss = _uss(process)
        kids = process.children(recursive=True)
    except psutil.Error:
        return None
    processes = 1
    for child in kids:
        try:
            rss += int(child.memory_info().rss)
            child_uss = _uss(child)
        except psutil.Error:
            continue
        processes += 1
        if uss is not None and child_uss is not None:
            uss += child_uss
    return rss, uss, processes


def prepare() -> None:
    """Import the trend code (scipy) now: importing it at the first live trend would stall
    sampling for a second. Call before starting the target; :func:`watch` calls it too."""
    import scipy.stats  # noqa: F401


def watch(
    target: Target,
    settings: WatchSettings,
    *,
    command: Sequence[str] = (),
    on_point: PointTaken | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> WatchReport:
    """Read the target's tree every ``settings.interval`` seconds and judge the series.

    Stops when ``settings.duration`` has passed, the target exits, or on Ctrl-C
    (``KeyboardInterrupt`` is caught here: sampling ends and the report is still complete).
    A launched command still running at the end is stopped (:meth:`Target.stop`).
    *on_point* is called with all points so far after each reading (the live view).

    Returns:
        A judged :class:`WatchReport` (see :func:`analyze`).
    """
    report = WatchReport(
        kind=WATCH_KIND,
        schema_version=WATCH_SCHEMA_VERSION,
        tool_version=__version__,
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        command=list(command),
        target=target.describe(),
        settings=settings.as_dict(),
    )
    prepare()
    start = clock()
    try:
        next_at = start
        while True:
            reading = read_tree(target.process)
            if reading is None:
                report.ended = "exited"
                break
            report.points.append(
                WatchPoint(
                    seconds=round(clock() - start, 4),
                    rss_bytes=reading[0],
                    uss_bytes=reading[1],
                    processes=reading[2],
                )
            )
            if on_point is not None:
                on_point(report.points)
            next_at += settings.interval
            behind = clock() - next_at
            if behind > 0:  # a slow reading or view: skip the missed slots, never bunch readings
                next_at += math.ceil(behind / settings.interval) * settings.interval
            if settings.duration is not None and next_at - start > settings.duration + 1e-9:
                report.ended = "duration"
                break
            if target.wait(next_at - clock()):
                report.ended = "exited"
                break
    except KeyboardInterrupt:
        report.ended = "interrupted"
    finally:
        report.seconds = round(clock() - start, 3)
        target.stop()
    report.exit_code = target.exit_code()
    return analyze(report, settings)


def reduce_series(
    times: Sequence[float], values: Sequence[float], limit: int
) -> tuple[list[float], float]:
    """At most *limit* values (medians of consecutive equal buckets) and the seconds per step.

    Returns ``(values, step_seconds)``; the step is the mean gap between the buckets' mean times.
    """
    import numpy as np

    if len(values) <= limit:
        reduced_times, reduced = list(times), [float(v) for v in values]
    else:
        reduced_times = [
            float(np.mean(c)) for c in np.array_split(np.asarray(times, dtype=float), limit)
        ]
        reduced = [
            float(np.median(c)) for c in np.array_split(np.asarray(values, dtype=float), limit)
        ]
    step = (
        (reduced_times[-1] - reduced_times[0]) / (len(reduced_times) - 1)
        if len(reduced_times) > 1
        else 0.0
    )
    return reduced, step


def _per_minute(value: float, step: float) -> float:
    return value * 60.0 / step if step > 0 else 0.0


def fit_growth(
    metric: str, points: Sequence[WatchPoint], settings: WatchSettings
) -> WatchTrend | None:
    """The trend of *metric* over *points* (already past warm-up); ``None`` when fewer than 3
    points or the metric was not read at every point."""
    values = [getattr(p, metric) for p in points]
    if len(values) < MIN_TREND_POINTS or any(v is None for v in values):
        return None
    reduced, step = reduce_series([p.seconds for p in points], values, settings.max_points)
    per_step = settings.threshold_per_minute * step / 60.0
    trend = fit_trend(metric, "bytes", reduced, per_step, vote=settings.vote)
    watch_trend = WatchTrend(
        metric=metric,
        per_minute=_per_minute(trend.slope, step),
        low_per_minute=_per_minute(trend.slope_low, step),
        high_per_minute=_per_minute(trend.slope_high, step),
        late_per_minute=_per_minute(trend.late_slope, step),
        threshold_per_minute=settings.threshold_per_minute,
        step_seconds=step,
        points=len(reduced),
        leaking=trend.leaking,
        reason="",
        trend=trend,
    )
    watch_trend.reason = _reason(watch_trend, settings.vote)
    return watch_trend


def _rate(value: float) -> str:
    return f"{format_bytes(value, signed=True)}/min"


def _reason(t: WatchTrend, vote: float) -> str:
    m = t.trend
    checks = {
        f"slope {_rate(t.per_minute)} > threshold {_rate(t.threshold_per_minute)}": m.slope
        > m.threshold,
        f"95% interval [{_rate(t.low_per_minute)}, {_rate(t.high_per_minute)}] above zero": m.slope_low
        > 0,
        f"sustained (second half {_rate(t.late_per_minute)})": m.late_slope > m.threshold,
        f"{m.positive_deltas}/{m.deltas} steps of {format_duration(t.step_seconds)} grew (vote needs {vote:.0%})": m.positive_deltas
        >= vote * m.deltas,
    }
    if t.leaking:
        return "; ".join(checks)
    return "not leaking: fails " + "; ".join(name for name, ok in checks.items() if not ok)


def analyze(report: WatchReport, settings: WatchSettings) -> WatchReport:
    """Fill in peaks, trends (RSS and USS of the tree, after ``settings.warmup`` seconds) and
    the verdict: ``LEAK`` when either grows, ``CLEAN`` when neither, ``UNKNOWN`` when fewer than
    3 points remain after warm-up. Returns *report*."""
    points = report.points
    report.peak_rss_bytes = max((p.rss_bytes for p in points), default=None)
    report.peak_uss_bytes = max(
        (p.uss_bytes for p in points if p.uss_bytes is not None), default=None
    )
    judged = [p for p in points if p.seconds >= settings.warmup]
    report.trends = [
        t
        for t in (fit_growth(m, judged, settings) for m in ("uss_bytes", "rss_bytes"))
        if t is not None
    ]
    if not report.trends:
        report.verdict = "UNKNOWN"
        report.reason = (
            f"too few readings for a trend: {len(judged)} after a warm-up of {format_duration(settings.warmup)} "
            f"(need {MIN_TREND_POINTS}); watch longer or read more often (--interval)"
        )
        return report
    leaking = [t for t in report.trends if t.leaking]
    if leaking:
        lead = leaking[0]
        names = " and ".join(METRIC_LABEL[t.metric] for t in leaking)
        report.verdict = "LEAK"
        report.reason = f"sustained growth of {names} of the process tree ({METRIC_LABEL[lead.metric]}: {lead.reason})"
    else:
        report.verdict = "CLEAN"
        rates = ", ".join(f"{METRIC_LABEL[t.metric]} {_rate(t.per_minute)}" for t in report.trends)
        report.reason = (
            f"no sustained growth ({rates}; threshold {_rate(settings.threshold_per_minute)})"
        )
    return report


def recent_per_minute(points: Sequence[WatchPoint], metric: str, last: int = 60) -> float | None:
    """Theil–Sen slope of *metric* over the last *last* points, in bytes per minute (the live
    view's trend); ``None`` with fewer than 3 points or a missing value."""
    tail = points[-last:]
    values = [getattr(p, metric) for p in tail]
    if (
        len(tail) < MIN_TREND_POINTS
        or any(v is None for v in values)
        or tail[-1].seconds <= tail[0].seconds
    ):
        return None
    from scipy.stats import theilslopes

    return float(theilslopes(values, [p.seconds for p in tail]).slope) * 60.0
