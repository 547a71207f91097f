"""The verdict of one variant: LEAK, RETAINS or CLEAN, from its trends and what it retained.

* **LEAK** — at least one metric grows steadily (see :mod:`memleak_cli.analysis.trend`).
* **RETAINS** — nothing grows, but what the attribution window made is still reachable after it
  ended and weighs at least ``Thresholds.retained_bytes`` (bounded retention, such as the latest
  study kept in a singleton).
* **CLEAN** — neither.
"""

from __future__ import annotations

from collections.abc import Sequence

from memleak_cli.analysis.thresholds import METRICS, Thresholds
from memleak_cli.analysis.trend import fit_trend
from memleak_cli.report.model import Attribution, MetricTrend, Sample
from memleak_cli.units import format_bytes

# Metrics named first in a reason: the deterministic ones, then the native and OS views.
LEAD_ORDER = ("gc_objects", "py_blocks", "heap_bytes", "uss_bytes", "rss_trimmed_bytes", "rss_bytes", "tree_uss_bytes", "tree_rss_bytes", "fds", "threads")


def measured(samples: Sequence[Sample]) -> list[Sample]:
    """The samples that make the trend: phase ``measure`` (after warm-up, before the window)."""
    return [s for s in samples if s.phase == "measure"]


def trends(samples: Sequence[Sample], thresholds: Thresholds) -> list[MetricTrend]:
    """One :class:`MetricTrend` per metric measured in every post-warm-up sample.

    Process-tree metrics are judged only when the process had children at some point. When
    every sample has an RSS read after ``malloc_trim`` (``rss_trimmed_bytes``), the untrimmed
    RSS trend is kept but marked ``informational``: its growth can be freed memory the allocator
    keeps, and the trimmed RSS (plus USS, also read after the trim) judges the OS view instead.

    Raises:
        ValueError: fewer than 3 post-warm-up samples.
    """
    series = measured(samples)
    if len(series) < 3:
        raise ValueError(f"a trend needs at least 3 post-warm-up iterations, got {len(series)}")
    had_children = any(s.children for s in samples)
    trimmed = all(s.rss_trimmed_bytes is not None for s in series)
    result = []
    for metric in LEAD_ORDER:
        unit, attribute, kind = METRICS[metric]
        if metric.startswith("tree_") and not had_children:
            continue
        values = [getattr(s, metric) for s in series]
        if any(v is None for v in values):
            continue
        threshold = getattr(thresholds, attribute) if attribute else 0.0
        trend = fit_trend(metric, unit, values, threshold, kind=kind, vote=thresholds.vote)
        if metric == "rss_bytes" and trimmed:
            trend.informational = True
        result.append(trend)
    return result


def judge(metric_trends: Sequence[MetricTrend], attribution: Attribution | None, thresholds: Thresholds) -> tuple[str, str]:
    """``(verdict, one-line reason)`` from the trends and the attribution window's retained objects."""
    leaking = [t for t in metric_trends if t.leaking and not t.informational]
    if leaking:
        names = ", ".join(t.metric for t in leaking)
        lead = leaking[0]
        return "LEAK", f"sustained growth in {names} ({lead.metric}: {lead.reason})"
    if attribution is not None and attribution.retained_bytes >= thresholds.retained_bytes:
        holder = f", held by {attribution.retained[0].path}" if attribution.retained else ""
        return (
            "RETAINS",
            f"no growth, but keeps {attribution.retained_roots} new object(s) of "
            f"{format_bytes(attribution.retained_bytes)} after the work ended{holder}",
        )
    kept = "" if attribution is None else f"; keeps {format_bytes(attribution.retained_bytes)} after the work ended"
    # growth above a threshold that did not hold up is worth naming: the table shows its slope
    passing = [t for t in metric_trends if not t.informational and t.unit != "descriptors" and t.threshold > 0 and t.slope >= t.threshold]
    if passing:
        why = "; ".join(f"{t.metric} {t.reason.removeprefix('not leaking: ')}" for t in passing)
        return "CLEAN", f"no sustained growth ({why}){kept}"
    return "CLEAN", f"no metric grows{kept}"
