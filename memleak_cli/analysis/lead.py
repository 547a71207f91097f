"""The one rule for the metric that speaks for a variant, and what it held since the baseline or warm-up.

Every reporter (terminal matrix, HTML, summary line, gate) names the same lead metric because they
all ask this module.
"""

from __future__ import annotations

from memleak_cli.report.model import MetricTrend, VariantResult


def lead_trend(result: VariantResult) -> MetricTrend | None:
    """The metric that speaks for *result*: its first leaking, judged trend, else its first trend
    (trends come in :data:`~memleak_cli.analysis.verdict.LEAD_ORDER`: gc objects first);
    ``None`` when nothing was measured (a crash before three samples)."""
    return next((t for t in result.trends if t.leaking and not t.informational), result.trends[0] if result.trends else None)


def leaking_trend(result: VariantResult) -> MetricTrend | None:
    """The lead metric when it leaks, else ``None``."""
    trend = lead_trend(result)
    return trend if trend is not None and trend.leaking and not trend.informational else None


def held_since_baseline(result: VariantResult, metric: str) -> float | None:
    """How much *metric* rose from the baseline sample to the last measured one (its unit), or
    ``None`` when either is missing."""
    baseline = next((s for s in result.samples if s.phase == "baseline"), None)
    measured = [s for s in result.samples if s.phase == "measure"]
    if baseline is None or not measured:
        return None
    before, after = getattr(baseline, metric), getattr(measured[-1], metric)
    if before is None or after is None:
        return None
    return float(after - before)


def held_since_warmup(result: VariantResult, metric: str) -> float | None:
    """How much *metric* rose from the end of warm-up (the last warm-up sample, else the
    baseline) to the last measured sample, in its unit; ``None`` when either is missing.

    The baseline is taken right after the scenario's setup, so the change since then holds
    the first iterations' imports and caches (+15 000 gc objects and +4 MiB of C heap on both
    Optuna variants, leaky and fixed alike); the change since warm-up is what the measured
    iterations added, the span the verdict is made from."""
    start = [s for s in result.samples if s.phase == "warmup"] or [s for s in result.samples if s.phase == "baseline"]
    measured = [s for s in result.samples if s.phase == "measure"]
    if not start or not measured:
        return None
    before, after = getattr(start[-1], metric), getattr(measured[-1], metric)
    if before is None or after is None:
        return None
    return float(after - before)
