"""How big a leak is, how many iterations it took to decide, and what a fix removed.

* :func:`growth_per_iteration` — bytes per iteration of a variant, one measure for every
  variant so two can be compared: the first leaking byte metric (C heap, USS, trimmed RSS, the
  process tree's), else what tracemalloc traced over the attribution window, else the C heap's
  slope (which may be below zero).
* :func:`severity` — a LEAK's size per iteration, per 1 000 iterations and per hour at the
  measured iteration rate (mean seconds of the measured iterations).
* :func:`iterations_text` — ``20 + 20 more to decide whether +2.0 KiB/it of C heap keeps growing``.
* :func:`comparison` — leaky against fixed: ``growth −99.99 %: 19.2 MiB → 490 B per iteration``,
  and a fixed variant that still leaks named a *residual* leak.
"""

from __future__ import annotations

from collections.abc import Callable

from memleak_cli.report.model import VariantResult
from memleak_cli.units import format_bytes, format_count

_BYTE_ORDER = ("heap_bytes", "uss_bytes", "rss_trimmed_bytes", "tree_uss_bytes", "tree_rss_bytes", "rss_bytes")


def growth_per_iteration(result: VariantResult) -> tuple[float, str] | None:
    """``(bytes per iteration, what measured it)`` or ``None`` when nothing measured bytes."""
    by_metric = {t.metric: t for t in result.trends if not t.informational}
    for metric in _BYTE_ORDER:
        trend = by_metric.get(metric)
        if trend is not None and trend.leaking:
            return trend.slope, metric
    attribution = result.attribution
    if attribution is not None and attribution.traced_growth_per_iteration is not None:
        return attribution.traced_growth_per_iteration, "traced"
    heap = by_metric.get("heap_bytes")
    return (heap.slope, "heap_bytes") if heap is not None else None


def _seconds_per_iteration(result: VariantResult) -> float | None:
    times = [s.seconds for s in result.samples if s.phase == "measure"]
    mean = sum(times) / len(times) if times else 0.0
    return mean if mean > 0 else None


def severity(result: VariantResult) -> str:
    """A LEAK's size: ``+2.0 KiB/iteration, +2.0 MiB per 1 000 iterations, +7.0 GiB/hour at
    3 600 iterations/hour``; a count when only counts leak; ``""`` for any other verdict."""
    if result.verdict != "LEAK":
        return ""
    leaking = [t for t in result.trends if t.leaking and not t.informational]
    growth = growth_per_iteration(result)
    text: Callable[..., str]
    if growth is not None and growth[0] > 0:
        per, text = growth[0], format_bytes
        what = "" if growth[1] != "traced" else " (traced)"
    elif leaking:
        per, text, what = leaking[0].slope, format_count, f" {leaking[0].unit}"
    else:
        return ""
    if what.startswith(" ("):
        parts = [f"{text(per, signed=True)}/iteration{what}", f"{text(per * 1000, signed=True)} per 1 000 iterations"]
    else:
        parts = [f"{text(per, signed=True)}{what}/iteration", f"{text(per * 1000, signed=True)}{what} per 1 000 iterations"]
    seconds = _seconds_per_iteration(result)
    if seconds is not None:
        rate = 3600.0 / seconds
        parts.append(f"{text(per * rate, signed=True)}/hour at {rate:,.0f} iterations/hour")
    return ", ".join(parts)


def iterations_text(result: VariantResult) -> str:
    """How many iterations ran and why: ``20`` or ``20 + 20 more to decide whether …``."""
    requested = result.requested_iterations
    if requested is None:
        return ""
    if not result.extended_by:
        return str(requested)
    return f"{requested} + {result.extended_by} more to decide {result.extend_why}".rstrip()


def comparison(leaky: VariantResult, fixed: VariantResult) -> str | None:
    """What the fix removed, in the same measure for both: ``growth −99.99 %: 19.2 MiB → 490 B
    per iteration``, with ``; fixed still leaks (residual)`` when the fixed variant is a LEAK.
    ``None`` when either has no byte measure or the leaky one does not grow."""
    before, after = growth_per_iteration(leaky), growth_per_iteration(fixed)
    if before is None or after is None or before[0] <= 0:
        return None
    if before[1] != after[1]:  # the same measure on both sides: tracemalloc's when both have it
        if leaky.attribution and fixed.attribution and leaky.attribution.traced_growth_per_iteration is not None and fixed.attribution.traced_growth_per_iteration is not None:
            before = (leaky.attribution.traced_growth_per_iteration, "traced")
            after = (fixed.attribution.traced_growth_per_iteration, "traced")
    change = (after[0] - before[0]) / before[0] * 100
    text = f"growth {change:+.2f} %: {format_bytes(before[0])} → {format_bytes(max(after[0], 0.0))} per iteration".replace("-", "−", 1)
    if fixed.verdict == "LEAK":
        text += f"; {fixed.variant} still grows {format_bytes(max(after[0], 0.0))} per iteration: a residual leak"
    return text
