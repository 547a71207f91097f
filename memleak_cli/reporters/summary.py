"""Words and numbers every reporter shares: metric labels, amounts, short paths, the summary line."""

from __future__ import annotations

from memleak_cli.analysis.lead import leaking_trend
from memleak_cli.analysis.severity import comparison
from memleak_cli.report.model import MetricTrend, ScenarioResult, VariantResult
from memleak_cli.units import format_bytes, format_count

METRIC_LABEL = {
    "gc_objects": "gc objects",
    "py_blocks": "Python heap blocks",
    "heap_bytes": "C heap in use",
    "uss_bytes": "USS",
    "rss_trimmed_bytes": "RSS after malloc_trim",
    "rss_bytes": "RSS",
    "tree_uss_bytes": "USS, process tree",
    "tree_rss_bytes": "RSS, process tree",
    "fds": "open file descriptors",
    "threads": "threads",
}


def amount(value: float, unit: str, *, signed: bool = True) -> str:
    """*value* in *unit*: binary byte units for ``bytes`` (``+1.5 MiB``), else a count (``+12.5``)."""
    return format_bytes(value, signed=signed) if unit == "bytes" else format_count(value, signed=signed)


def judgement(trend: MetricTrend) -> str:
    """Why a growth number is not a leak, in a few words for its cell: ``flat``, ``below
    floor, not judged``, ``slowing: bounded``…; ``""`` for a leaking trend and an exact zero
    (``+0/it [+0, +0]`` reads as nothing growing without a word).

    A slope printed bare beside a CLEAN verdict (``+21/it`` for the fixed variant, larger than
    the leaky one's ``+15/it``) reads as a leak; the cell says what was decided about it. Uses
    the evidence's ``status`` (:mod:`memleak_cli.analysis.evidence`), and for older reports
    without it the threshold."""
    if trend.informational:
        return "untrimmed, not judged"
    if trend.leaking:
        return ""
    reason = trend.reason
    if trend.status == "flat":
        if "under the floor" in reason:
            return "below floor, not judged"
        if "sawtooth" in reason:
            return "sawtooth: not a leak"
        return "" if trend.slope == 0 and trend.slope_high == 0 else "flat"
    if trend.status == "stopped":
        return "stopped: bounded"
    if trend.status == "slowing":
        return "slowing: bounded"
    if trend.status == "steady":
        return "unconfirmed, not judged"
    if trend.slope == 0 and trend.slope_low == 0 and trend.slope_high == 0:
        return ""
    if trend.slope <= 0 or trend.slope_low <= 0 <= trend.slope_high:
        return "flat"
    if trend.slope < trend.threshold:
        return "below threshold, not judged"
    return "not judged a leak"


def not_growing_evidence(result: VariantResult, limit: int = 2) -> str:
    """Why a variant that is not a LEAK is not one, in one phrase: the metrics that did rise,
    each with its :func:`judgement` (``Python heap blocks +23.4/it slowing: bounded``),
    or ``no metric grows after warm-up``."""
    rose = [t for t in result.trends if not t.informational and not t.leaking and t.slope > 0 and t.slope_low > 0]
    if not rose:
        return "no metric grows after warm-up"
    parts = [f"{METRIC_LABEL.get(t.metric, t.metric)} {amount(t.slope, t.unit)}/it {judgement(t)}" for t in rose[:limit]]
    return "; ".join(parts)


def short_path(location: str) -> str:
    """A ``file:line`` made short: site-packages (any, also another machine's) and the standard library prefix dropped,
    paths under the current folder made relative."""
    import os
    import sysconfig

    for prefix in (sysconfig.get_paths()["purelib"], sysconfig.get_paths()["stdlib"], os.getcwd()):
        if prefix and location.startswith(prefix + os.sep):
            return location[len(prefix) + 1 :]
    # a report read on another machine (or from another venv): its site-packages prefix too
    marker = f"{os.sep}site-packages{os.sep}"
    if marker in location:
        return location.rsplit(marker, 1)[1]
    return location


def summary_line(scenario: ScenarioResult) -> str:
    """One sentence a reader understands in five seconds."""
    parts = []
    for result in scenario.variants:
        lead = leaking_trend(result)
        if result.verdict == "LEAK" and result.capped_bytes is not None:
            parts.append(f"{result.variant} was stopped when its process tree reached {format_bytes(result.capped_bytes)} (--max-rss)")
        elif result.verdict == "LEAK" and lead is not None:
            text = f"{result.variant} grows {amount(lead.slope, lead.unit)} {'' if lead.unit == 'bytes' else lead.unit + ' '}per iteration ({METRIC_LABEL.get(lead.metric, lead.metric)})"
            # a count says that it leaks; bytes say how much: add the first leaking memory metric
            in_bytes = next((t for t in result.trends if t.leaking and not t.informational and t.unit == "bytes"), None)
            if lead.unit != "bytes" and in_bytes is not None:
                text += f" and {amount(in_bytes.slope, 'bytes')} per iteration ({METRIC_LABEL.get(in_bytes.metric, in_bytes.metric)})"
            if result.holders:
                text += f", held by {result.holders[0].path}"
            parts.append(text)
        elif result.verdict == "RETAINS" and result.attribution:
            holder = f", held by {result.attribution.retained[0].path}" if result.attribution.retained else ""
            parts.append(f"{result.variant} retains {result.attribution.retained_text()}{holder}")
        elif result.verdict == "CLEAN" and result.reason.startswith("no sustained growth"):
            # never "flat" beside a table whose interval is above zero: name what grew and how it ended
            grew = next((t for t in result.trends if not t.informational and t.status in ("slowing", "steady", "stopped")), None)
            if grew is not None:
                how = {"slowing": "but slowing down (bounded filling)", "steady": "not confirmed as unbounded", "stopped": "then stopped"}[grew.status]
                parts.append(f"{result.variant} grew {amount(grew.slope, grew.unit)} {'' if grew.unit == 'bytes' else grew.unit + ' '}per iteration ({METRIC_LABEL.get(grew.metric, grew.metric)}) {how}")
            else:
                parts.append(f"{result.variant} shows no sustained growth")
        elif result.verdict == "CLEAN":
            parts.append(f"{result.variant} is flat")
        elif result.stopped_by == "timeout":
            parts.append(f"{result.variant} timed out")
        elif result.stopped_by:
            parts.append(f"{result.variant} was interrupted")
        else:
            parts.append(f"{result.variant} crashed")
    leaky, fixed = scenario.variant("leaky"), scenario.variant("fixed")
    if leaky is not None and fixed is not None and leaky.verdict == "LEAK":
        compared = comparison(leaky, fixed)
        if compared:
            parts.append(compared)
    if len(scenario.variants) > 1 and scenario.fix_effective is not None:
        parts.append("the fix works" if scenario.fix_effective else "the fix does not work")
    return "; ".join(parts) + "."
