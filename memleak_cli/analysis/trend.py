"""Growth per iteration of one metric: a robust slope backed by a consistency vote.

The slope is Theil–Sen (``scipy.stats.theilslopes``): the median of all pairwise slopes, which
one garbage-collector hiccup or allocator spike cannot drag. A metric leaks when

* the slope is at or above its threshold and the lower end of its 95 % confidence interval is above
  zero (the growth is real, not noise),
* the slope over the second half alone reaches the threshold too (growth is sustained; a
  cache that fills and then plateaus slows down and fails this), and
* at least ``vote`` of the consecutive deltas are positive (CPython's ``-R`` leak hunter asks
  that every delta be positive; a share tolerates a collector cycle landing in between).

Descriptors and threads leak on any non-zero delta that leaves the count higher at the end, as
CPython's ``-R`` judges file descriptors.
"""

from __future__ import annotations

from collections.abc import Sequence

from memleak_cli.report.model import MetricTrend
from memleak_cli.units import format_bytes, format_count


def _theil_sen(values: Sequence[float]) -> tuple[float, float, float]:
    from scipy.stats import theilslopes

    if len(values) < 2:
        return 0.0, 0.0, 0.0
    if len(set(values)) == 1:
        return 0.0, 0.0, 0.0
    result = theilslopes(values, list(range(len(values))), alpha=0.95)
    return float(result.slope), float(result.low_slope), float(result.high_slope)


def theil_sen_intercept(values: Sequence[float], slope: float) -> float:
    """The intercept of the Theil–Sen line through *values* at x = 0, 1, 2…: ``median(y) - slope * median(x)``.

    The convention of ``scipy.stats.theilslopes`` (its ``intercept``), so a line drawn from a
    stored slope and this intercept is the fitted one. In the unit of *values*.

    Raises:
        ValueError: *values* is empty.
    """
    from statistics import median

    if not values:
        raise ValueError("an intercept needs at least one value")
    return float(median(values)) - slope * float(median(range(len(values))))


def _fmt(value: float, unit: str) -> str:
    return format_bytes(value, signed=True) if unit == "bytes" else f"{format_count(value, signed=True)} {unit}"


def fit_trend(metric: str, unit: str, values: Sequence[float], threshold: float, *, kind: str = "vote", vote: float = 0.7) -> MetricTrend:
    """Judge the post-warm-up series *values* of one metric (one value per iteration).

    Args:
        metric: the metric's name (``py_blocks``…).
        unit: ``bytes`` or a count noun; *threshold* is in the same unit per iteration.
        values: at least 3 values, one per iteration, oldest first.
        kind: ``vote`` (slope + vote rule) or ``any`` (any non-zero delta that stays).
        vote: share of deltas that must be positive for ``vote`` metrics.

    Returns:
        A :class:`MetricTrend`; ``slope``/``late_slope`` are in *unit* per iteration.

    Raises:
        ValueError: fewer than 3 values.
    """
    if len(values) < 3:
        raise ValueError(f"{metric}: a trend needs at least 3 values, got {len(values)}")
    values = [float(v) for v in values]
    slope, low, high = _theil_sen(values)
    late = values[len(values) // 2 :] if len(values) >= 6 else values
    late_slope = _theil_sen(late)[0]
    deltas = [b - a for a, b in zip(values, values[1:], strict=False)]
    positive = sum(d > 0 for d in deltas)
    nonzero = sum(d != 0 for d in deltas)
    if kind == "any":
        net = values[-1] - values[0]
        leaking = nonzero > 0 and net > 0
        reason = (
            f"count changed in {nonzero} of {len(deltas)} iterations and ended {format_count(net, signed=True)} {unit}"
            if leaking
            else f"no lasting change in {unit}"
        )
    else:
        checks = {
            f"slope {_fmt(slope, unit)}/iteration >= threshold {_fmt(threshold, unit)}": slope >= threshold,
            "95% interval above zero": low > 0,
            f"sustained (second half {_fmt(late_slope, unit)}/iteration)": late_slope >= threshold,
            f"{positive}/{len(deltas)} deltas positive (vote needs {vote:.0%})": positive >= vote * len(deltas),
        }
        leaking = all(checks.values())
        failed = [name for name, ok in checks.items() if not ok]
        reason = "; ".join(checks) if leaking else "not leaking: fails " + "; ".join(failed)
    return MetricTrend(
        metric=metric,
        unit=unit,
        slope=slope,
        slope_low=low,
        slope_high=high,
        late_slope=late_slope,
        positive_deltas=positive,
        nonzero_deltas=nonzero,
        deltas=len(deltas),
        threshold=float(threshold),
        first=values[0],
        last=values[-1],
        leaking=leaking,
        reason=reason,
        intercept=theil_sen_intercept(values, slope),
    )
