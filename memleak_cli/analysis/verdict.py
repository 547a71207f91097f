"""The verdict of one variant: LEAK, RETAINS or CLEAN, from its trends and what it retained.

* **LEAK** — at least one metric grows without bound on the evidence
  (:mod:`memleak_cli.analysis.evidence`: decisive, or steady over twice the requested
  iterations; the trend statistics are :mod:`memleak_cli.analysis.trend`'s).
* **RETAINS** — nothing grows, but what the attribution window made is still reachable after it
  ended and weighs at least ``Thresholds.retained_bytes`` with the C heap its native handles pin
  (bounded retention, such as the latest study or LightGBM booster kept in a singleton).
* **CLEAN** — neither.
"""

from __future__ import annotations

from collections.abc import Sequence

from memleak_cli.analysis.evidence import Decision, decide
from memleak_cli.analysis.thresholds import METRICS, Thresholds
from memleak_cli.analysis.trend import fit_trend
from memleak_cli.report.model import Attribution, MetricTrend, Sample
from memleak_cli.units import format_bytes

# Metrics named first in a reason: the deterministic ones, then the native and OS views.
LEAD_ORDER = ("gc_objects", "py_blocks", "heap_bytes", "uss_bytes", "rss_trimmed_bytes", "rss_bytes", "tree_uss_bytes", "tree_rss_bytes", "fds", "threads")


def measured(samples: Sequence[Sample]) -> list[Sample]:
    """The samples that make the trend: phase ``measure`` (after warm-up, before the window)."""
    return [s for s in samples if s.phase == "measure"]


def series(samples: Sequence[Sample]) -> tuple[dict[str, list[float]], list[str]]:
    """The judged metrics' post-warm-up values (metric → values, in :data:`LEAD_ORDER`) and the
    informational ones (untrimmed RSS when every sample has a trimmed RSS).

    Process-tree metrics are kept only when the process had children at some point; a metric
    missing from any sample is left out.
    """
    measured_ = measured(samples)
    had_children = any(s.children for s in samples)
    trimmed = bool(measured_) and all(s.rss_trimmed_bytes is not None for s in measured_)
    found: dict[str, list[float]] = {}
    for metric in LEAD_ORDER:
        if metric.startswith("tree_") and not had_children:
            continue
        values = [getattr(s, metric) for s in measured_]
        if any(v is None for v in values):
            continue
        found[metric] = [float(v) for v in values]
    return found, (["rss_bytes"] if trimmed else [])


def iterations_run(samples: Sequence[Sample]) -> int:
    """Iterations run before the attribution window: warm-up and measured."""
    return sum(1 for s in samples if s.phase in ("warmup", "measure"))


class SeriesStore:
    """The judged metrics of the samples so far, kept in preallocated ``array('d')`` buffers.

    The worker decides whether to extend from what it measured, in the measured process: keeping
    the :class:`Sample` objects (or a list of numbers) would itself add a gc object and heap
    blocks per iteration — a leak of its own making. Adding a sample writes doubles into
    buffers allocated once for *capacity* iterations; NaN marks a value that was not measured.
    """

    def __init__(self, capacity: int) -> None:
        from array import array

        self._values = {m: array("d", bytes(8 * capacity)) for m in LEAD_ORDER}
        self._trimmed = array("d", bytes(8 * capacity))
        self._children = False
        self.warmup = 0
        self.count = 0

    def add(self, sample: Sample) -> None:
        """Keep one warm-up or measured sample (others are ignored)."""
        if sample.phase == "warmup":
            self.warmup += 1
            self._children = self._children or bool(sample.children)
            return
        if sample.phase != "measure":
            return
        self._children = self._children or bool(sample.children)
        for metric, buffer in self._values.items():
            value = getattr(sample, metric)
            buffer[self.count] = float("nan") if value is None else value
        self._trimmed[self.count] = 0.0 if sample.rss_trimmed_bytes is None else 1.0
        self.count += 1

    def series(self) -> tuple[dict[str, list[float]], list[str]]:
        """As :func:`series` on the same samples."""
        import math

        found: dict[str, list[float]] = {}
        for metric, buffer in self._values.items():
            if metric.startswith("tree_") and not self._children:
                continue
            values = list(buffer[: self.count])
            if any(math.isnan(v) for v in values):
                continue
            found[metric] = values
        trimmed = self.count > 0 and all(self._trimmed[: self.count])
        return found, (["rss_bytes"] if trimmed else [])


def warm_up_decisions(thresholds: Thresholds, requested: int, max_iterations: int) -> None:
    """Run :func:`~memleak_cli.analysis.evidence.decide` once on synthetic series of every
    shape, so that what its first call allocates and caches (interned names, the formatting
    code's state) is allocated before the first sample, not in the middle of the series it judges."""
    n = max(requested, 6)
    shapes = ([0.0] * n, [float(i) for i in range(n)], [float(min(i, n // 3)) for i in range(n)], [float(i * 9999) for i in range(n)])
    for shape in shapes:
        for final in (False, True):
            decide({m: shape for m in LEAD_ORDER}, thresholds, iterations=n, requested=n if final else requested,
                   max_iterations=n if final else max_iterations)


def next_step(store: SeriesStore, thresholds: Thresholds, *, requested: int, max_iterations: int) -> Decision:
    """Whether the worker should run more iterations: :func:`~memleak_cli.analysis.evidence.decide`
    on the samples so far (its ``more`` is how many; ``bounded`` or ``leak`` when decided)."""
    if store.count < 3:
        return Decision("bounded", 0, "")
    values, informational = store.series()
    ran = store.warmup + store.count
    return decide(values, thresholds, iterations=ran, requested=requested, max_iterations=max_iterations, informational=informational)


def trends(samples: Sequence[Sample], thresholds: Thresholds, *, requested: int | None = None, max_iterations: int | None = None) -> list[MetricTrend]:
    """One :class:`MetricTrend` per metric measured in every post-warm-up sample.

    Process-tree metrics are judged only when the process had children at some point. When
    every sample has an RSS read after ``malloc_trim`` (``rss_trimmed_bytes``), the untrimmed
    RSS trend is kept but marked ``informational``: its growth can be freed memory the allocator
    keeps, and the trimmed RSS (plus USS, also read after the trim) judges the OS view instead.

    Each trend's ``leaking``, ``status`` and ``reason`` are the evidence's call
    (:func:`memleak_cli.analysis.evidence.decide`) for a run of *requested* iterations that may
    have been extended up to *max_iterations* (both default to the iterations run: no extension,
    which judges like the fixed-threshold rule plus the evidence's decisive and slowing checks).
    The parent judges as final: the worker ran what it ran.

    Raises:
        ValueError: fewer than 3 post-warm-up samples.
    """
    values, informational = series(samples)
    count = len(measured(samples))
    if count < 3:
        raise ValueError(f"a trend needs at least 3 post-warm-up iterations, got {count}")
    ran = iterations_run(samples)
    requested = ran if requested is None else min(requested, ran)
    decision = decide(values, thresholds, iterations=ran, requested=requested, max_iterations=ran, informational=informational)
    evidence = {e.metric: e for e in decision.metrics}
    result = []
    for metric, metric_values in values.items():
        unit, attribute, kind = METRICS[metric]
        threshold = getattr(thresholds, attribute) if attribute else 0.0
        trend = fit_trend(metric, unit, metric_values, threshold, kind=kind, vote=thresholds.vote)
        trend.leaking, trend.status, trend.reason = evidence[metric].leaking, evidence[metric].status, evidence[metric].reason
        if not trend.leaking and not trend.reason.startswith("not"):
            trend.reason = "not leaking: " + trend.reason
        if metric in informational:
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
    if attribution is not None and attribution.retained_total_bytes() >= thresholds.retained_bytes:
        native = attribution.retained_native_bytes or 0
        holder = f", held by {attribution.retained[0].path}" if attribution.retained else ""
        handles = [r.handle for r in attribution.retained if r.handle is not None]
        behind = f"its {handles[0]} handle" if len(handles) == 1 else f"{len(handles)} native handles"
        pinned = f" and {format_bytes(native)} of C heap behind {behind}" if native else ""
        return (
            "RETAINS",
            f"no growth, but keeps {attribution.retained_roots} new object(s) of "
            f"{format_bytes(attribution.retained_bytes)}{pinned} after the work ended{holder}",
        )
    kept = "" if attribution is None else f"; keeps {format_bytes(attribution.retained_bytes)} after the work ended"
    # growth the table shows (interval above zero) is named, never called flat
    shown = [t for t in metric_trends if not t.informational and (t.status in ("steady", "slowing", "stopped") or (t.slope > 0 and t.slope_low > 0 and t.unit != "descriptors"))]
    if shown:
        why = "; ".join(f"{t.metric} {t.reason.removeprefix('not leaking: ')}" for t in shown[:3])
        return "CLEAN", f"no sustained growth ({why}){kept}"
    return "CLEAN", f"no metric grows{kept}"
