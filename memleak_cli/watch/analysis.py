"""Judging a watched series: bucket medians, then the trend test of ``memleak run`` per minute."""

from __future__ import annotations

from collections.abc import Sequence

from memleak_cli.analysis.trend import fit_trend
from memleak_cli.report.watch_model import (
    WatchPoint,
    WatchReport,
    WatchTrend,
)
from memleak_cli.units import format_bytes, format_duration
from memleak_cli.watch.settings import MIN_TREND_POINTS, WatchSettings

METRIC_LABEL = {"rss_bytes": "RSS", "uss_bytes": "USS"}


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
