"""Deciding with evidence: unbounded growth or bounded filling, and whether to look longer.

A bounded cache and a leak look the same while the cache fills; what tells them apart is
whether the growth goes on. So instead of one per-iteration threshold high enough to sit above
every library's filling caches (which hid every bytes-only Python leak under 8 KiB), a metric is
judged on what it did over the iterations seen so far, and a variant whose growth is real but not
yet decisive runs more iterations (the worker calls :func:`decide` after the requested ones; the
parent's verdict calls the same function on the same samples — one rule, two callers).

Per metric (``vote`` metrics: bytes, blocks, objects), over the post-warm-up values:

* **growing** — Theil–Sen slope at or above the metric's *floor* (the smallest growth worth
  finding: half a Python heap block, 1 gc object, 4 KiB of C heap, 128 KiB of RSS/USS per
  iteration), its 95 % interval above zero, the second half's slope at the floor too, and the
  level really rising (the median of the last third above the first third by at least half of
  what the slope predicts; a sawtooth that prunes itself fails this).
* **slowing** — growing, but the second half's slope, or its share of iterations that grew, is
  under ``KEEP`` (75 %) of the first half's: a cache about to plateau, or one filling at random
  whose hits become more frequent as it fills.
* **decisive** — growing, not slowing, at or above the metric's *threshold* (the old fixed
  constants: 8 KiB C heap, 64 blocks, 1 object, 512 KiB RSS), the second half too, and every
  delta positive (CPython's ``-R``): a LEAK at once, even at the requested iterations.
* **confirmed** — growing, not slowing, ``CONFIRM_VOTE`` (90 %) of the deltas positive, and seen over at least
  ``CONFIRM`` (2) × the requested iterations: a LEAK. The evidence needed scales with what was
  observed: a growth of one block per iteration is a leak once it has lasted twice as long as
  asked without slowing, which a cache that fills in fewer iterations cannot do.
* otherwise a growing metric is **undecided**: the variant runs more iterations (doubling, up
  to ``max_iterations``). At the end (``max_iterations`` reached, or ``--no-extend``), an
  undecided metric is a LEAK only by the fixed-threshold rule (slope and second half at the
  threshold, interval above zero, ``vote`` positive, not slowing) — exactly the verdict without
  extension — and otherwise not a leak, with a reason that says it was still growing.

Counts (``fds``, ``threads``) grow when the count ends higher, the second half still rises and
the interval is above zero; decisive when every delta is positive, confirmed when no delta is
negative over ``CONFIRM`` × the requested iterations. Threads that come and go fail both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from statistics import median

from memleak_cli.analysis.thresholds import METRICS, Thresholds
from memleak_cli.units import format_bytes, format_count

# second-half slope under this share of the first half's: the growth is slowing down
KEEP = 0.75
# a steady (not decisive) growth is confirmed once seen over this many × the requested iterations
CONFIRM = 2
# the level must rise by at least this share of what the slope predicts between the outer thirds
LEVEL = 0.5
# share of deltas that must be positive to confirm a growth that is not decisive (-R asks all)
CONFIRM_VOTE = 0.9

LEAK, BOUNDED, UNDECIDED = "leak", "bounded", "undecided"
# short names for the "why" of an extension (the reporters have their own labels)
LABEL = {"gc_objects": "gc objects", "py_blocks": "Python heap blocks", "heap_bytes": "C heap", "uss_bytes": "USS",
         "rss_trimmed_bytes": "trimmed RSS", "rss_bytes": "RSS", "tree_uss_bytes": "process-tree USS",
         "tree_rss_bytes": "process-tree RSS", "fds": "file descriptors", "threads": "threads"}


@dataclass(frozen=True)
class Stats:
    """What the rule looks at in one series (unit per iteration)."""

    slope: float
    low: float
    early: float
    late: float
    positive: int
    negative: int
    deltas: int
    rise: float  # median of the last third - median of the first third
    span: float  # iterations between the centres of the outer thirds
    early_share: float = 1.0  # share of positive deltas in the first half
    late_share: float = 1.0  # … and in the second half


_Z = 1.959963984540054  # the standard normal's 97.5 % quantile (scipy.stats.norm.ppf(0.975))


def theil_sen(values: Sequence[float]) -> tuple[float, float, float]:
    """``(slope, low, high)``: Theil–Sen slope with its 95 % interval; zeros for < 2 or constant values.

    The same numbers as ``scipy.stats.theilslopes(values, range(n), alpha=0.95)`` (Sen 1968,
    equation 2.6, with scipy's rounding), in plain Python: the measuring process decides with it,
    and importing scipy and numpy there would change what it measures (their import allocates,
    and glibc's dynamic mmap threshold moves when a large block is freed). 80 values take ~2 ms.
    """
    import math
    from collections import Counter

    n = len(values)
    if n < 2 or len(set(values)) == 1:
        return 0.0, 0.0, 0.0
    slopes = sorted((values[j] - values[i]) / (j - i) for i in range(n) for j in range(i + 1, n))
    middle = len(slopes) // 2
    slope = slopes[middle] if len(slopes) % 2 else (slopes[middle - 1] + slopes[middle]) / 2
    ties = sum(k * (k - 1) * (2 * k + 5) for k in Counter(values).values() if k > 1)
    sigma = math.sqrt((n * (n - 1) * (2 * n + 5) - ties) / 18.0)
    upper = min(int(round((len(slopes) + _Z * sigma) / 2.0)), len(slopes) - 1)
    lower = max(int(round((len(slopes) - _Z * sigma) / 2.0)) - 1, 0)
    return float(slope), float(slopes[lower]), float(slopes[upper])


def stats(values: Sequence[float]) -> Stats:
    """The statistics of :func:`assess`. *values* needs at least 3 values."""
    v = [float(x) for x in values]
    n = len(v)
    slope, low, _ = theil_sen(v)
    half = n // 2
    early = theil_sen(v[: half + 1])[0] if n >= 6 else slope
    late = theil_sen(v[half:])[0] if n >= 6 else slope
    deltas = [b - a for a, b in zip(v, v[1:], strict=False)]
    third = max(1, n // 3)
    rise = median(v[-third:]) - median(v[:third])
    span = float(n - third)
    first, second = deltas[: len(deltas) // 2], deltas[len(deltas) // 2 :]
    early_share = sum(d > 0 for d in first) / len(first) if first else 1.0
    late_share = sum(d > 0 for d in second) / len(second) if second else 1.0
    return Stats(slope, low, early, late, sum(d > 0 for d in deltas), sum(d < 0 for d in deltas), len(deltas), rise, span, early_share, late_share)


@dataclass(frozen=True)
class MetricEvidence:
    """One metric's state: ``status`` is ``flat`` (not growing), ``stopped`` (grew, then stopped),
    ``slowing``, ``steady`` (growing, not yet decided), ``leak``; ``reason`` says why in words."""

    metric: str
    unit: str
    status: str
    leaking: bool
    slope: float
    reason: str

    @property
    def undecided(self) -> bool:
        return self.status in ("steady", "slowing")


def _fmt(value: float, unit: str) -> str:
    return format_bytes(value, signed=True) if unit == "bytes" else f"{format_count(value, signed=True)} {unit}"


def assess(
    metric: str,
    unit: str,
    values: Sequence[float],
    thresholds: Thresholds,
    *,
    kind: str = "vote",
    iterations: int,
    requested: int,
    final: bool,
) -> MetricEvidence:
    """Judge one metric's post-warm-up *values* (see the module docstring).

    Args:
        iterations: iterations run so far, warm-up included.
        requested: iterations asked for (``--iterations``), warm-up included.
        final: no more iterations will run (``max_iterations`` reached or extension off).
    """
    s = stats(values)
    confirmed = iterations >= CONFIRM * requested
    if kind == "any":
        return _assess_count(metric, unit, s, confirmed=confirmed, final=final)
    attribute = METRICS[metric][1]
    threshold = getattr(thresholds, attribute)
    floor = min(thresholds.floor(attribute), threshold)
    per = f"{_fmt(s.slope, unit)}/it"
    # a cache filling at random grows in fewer iterations as it fills: its share of growing
    # iterations falls even while each miss adds as much as before
    slowing = s.late < KEEP * s.early or s.late_share < KEEP * s.early_share
    level_ok = s.rise >= LEVEL * s.slope * s.span
    vote_ok = s.positive >= thresholds.vote * s.deltas
    halves = (f"first half {_fmt(s.early, unit)}/it ({s.early_share:.0%} growing), "
              f"second half {_fmt(s.late, unit)}/it ({s.late_share:.0%} growing)")
    if s.slope < floor or s.low <= 0:
        why = f"under the floor {_fmt(floor, unit)}/it" if s.slope < floor else "95% interval reaches zero"
        return MetricEvidence(metric, unit, "flat", False, s.slope, f"not growing: {per} ({why})")
    if s.late < floor:
        return MetricEvidence(metric, unit, "stopped", False, s.slope, f"grew, then stopped: {halves} (floor {_fmt(floor, unit)}/it)")
    if not level_ok:
        return MetricEvidence(metric, unit, "flat", False, s.slope, f"no lasting rise: {per} but the level rose only {_fmt(s.rise, unit)} (a sawtooth)")
    old_rule = s.slope >= threshold and s.late >= threshold and vote_ok and not slowing
    if old_rule and s.positive == s.deltas:
        return MetricEvidence(metric, unit, "leak", True, s.slope, f"decisive: {per} >= {_fmt(threshold, unit)}/it, every one of {s.deltas} deltas positive, {halves}")
    if not slowing and s.positive >= CONFIRM_VOTE * s.deltas and confirmed:
        return MetricEvidence(
            metric, unit, "leak", True, s.slope,
            f"steady for {iterations} iterations: {per} ({halves}), {s.positive}/{s.deltas} deltas positive",
        )
    if final and old_rule:
        return MetricEvidence(metric, unit, "leak", True, s.slope, f"{per} >= threshold {_fmt(threshold, unit)}/it, {halves}, {s.positive}/{s.deltas} deltas positive")
    status = "slowing" if slowing else "steady"
    if final:
        what = "slowing down" if slowing else f"not confirmed (needs {CONFIRM * requested} iterations)"
        return MetricEvidence(metric, unit, status, False, s.slope, f"still growing {per} after {iterations} iterations but {what}: {halves}")
    detail = halves if slowing else f"{s.positive}/{s.deltas} deltas positive"
    return MetricEvidence(metric, unit, status, False, s.slope, f"{'slowing' if slowing else 'steady'} {per} ({detail}): undecided")


def _assess_count(metric: str, unit: str, s: Stats, *, confirmed: bool, final: bool) -> MetricEvidence:
    per = f"{_fmt(s.slope, unit)}/it"
    growing = s.low > 0 and s.rise > 0 and s.late > 0
    if not growing:
        return MetricEvidence(metric, unit, "flat", False, s.slope, f"no lasting change in {unit}")
    if s.positive == s.deltas:
        return MetricEvidence(metric, unit, "leak", True, s.slope, f"decisive: {per}, every one of {s.deltas} deltas positive")
    if s.negative == 0 and confirmed:
        return MetricEvidence(metric, unit, "leak", True, s.slope, f"rose in {s.positive} of {s.deltas} iterations and never fell: {per}")
    if final:
        return MetricEvidence(metric, unit, "steady", False, s.slope, f"rose {s.positive} and fell {s.negative} times of {s.deltas}: comes and goes")
    return MetricEvidence(metric, unit, "steady", False, s.slope, f"rose {s.positive} and fell {s.negative} times of {s.deltas}: undecided")


@dataclass(frozen=True)
class Decision:
    """The variant's state: ``kind`` is ``leak``, ``bounded`` or ``undecided``; ``more`` the
    iterations to add (0 when decided or at the limit); ``why`` one phrase for the report."""

    kind: str
    more: int
    why: str
    metrics: tuple[MetricEvidence, ...] = field(default=())


def next_total(iterations: int, max_iterations: int) -> int:
    """Doubling: the total to reach next, at most *max_iterations*."""
    return min(2 * iterations, max_iterations)


def decide(
    series: Mapping[str, Sequence[float]],
    thresholds: Thresholds,
    *,
    iterations: int,
    requested: int,
    max_iterations: int,
    informational: Sequence[str] = (),
) -> Decision:
    """The variant's decision from its metrics' post-warm-up *series* (metric → values).

    Args:
        iterations: iterations run so far (warm-up included); *requested* asked for;
            *max_iterations* the most that may run (``== requested``: no extension).
        informational: metrics shown but not voted on (untrimmed RSS beside the trimmed one).
    """
    final = iterations >= max_iterations
    found = []
    for metric, values in series.items():
        unit, _, kind = METRICS[metric]
        found.append(assess(metric, unit, values, thresholds, kind=kind, iterations=iterations, requested=requested, final=final))
    voted = [e for e in found if e.metric not in informational]
    leaks = [e for e in voted if e.leaking]
    if leaks:
        return Decision(LEAK, 0, f"{leaks[0].metric} grows {_fmt(leaks[0].slope, leaks[0].unit)}/it", tuple(found))
    undecided = [e for e in voted if e.undecided]
    if undecided and not final:
        target = next_total(iterations, max_iterations)
        lead = undecided[0]
        verb = "stops" if lead.status == "slowing" else "keeps growing"
        what = LABEL.get(lead.metric, lead.metric)
        return Decision(UNDECIDED, target - iterations, f"whether {_fmt(lead.slope, lead.unit)}/it of {what} {verb}", tuple(found))
    return Decision(BOUNDED, 0, "", tuple(found))
