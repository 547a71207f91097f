"""One variant judged from what its measuring process streamed: :func:`judge_variant`.

Pure: events in, :class:`~memleak_cli.report.model.VariantResult` out, no process started, so the
verdict, the diffs and the report can be tested from a recorded events file
(``tests/data/*.jsonl``) the way CPython tests tracemalloc snapshots built from literal traces.
"""

from __future__ import annotations

import signal
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from memleak_cli.analysis.native import attribute_handles, notes
from memleak_cli.analysis.severity import severity
from memleak_cli.analysis.verdict import judge, trends
from memleak_cli.measure.protocol import (
    Event,
    Finished,
    HoldersFound,
    NativeMeasured,
    SampleTaken,
    ScenarioFailed,
    TypesCounted,
    WindowMeasured,
)
from memleak_cli.report.model import RunReport, VariantResult
from memleak_cli.settings import RunSettings
from memleak_cli.units import format_bytes


@dataclass(frozen=True)
class WorkerExit:
    """How the measuring process ended, as the parent saw it.

    Attributes:
        exit_code: its exit status (negative: killed by that signal).
        seconds: wall time of the variant.
        output_tail: the end of what it printed.
        stopped_by: ``"max-rss"``, ``"timeout"`` or a signal name when the parent ended it.
        capped_bytes: the process tree's RSS that passed ``--max-rss``.
        lingered_seconds: set when the worker sent its last event but had not exited this many
            seconds later and was stopped: its events are judged as if it had exited cleanly.
    """

    exit_code: int
    seconds: float = 0.0
    output_tail: str = ""
    stopped_by: str | None = None
    capped_bytes: int | None = None
    lingered_seconds: float | None = None


@dataclass(frozen=True)
class Declared:
    """What the scenario declares about a variant: name, expected verdict, fix source, summary."""

    name: str
    expect: str
    fix_source: str | None = None
    summary: str = ""


def exit_text(code: int) -> str:
    """``exited with status 3`` or ``killed by signal SIGKILL``."""
    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with status {code}"


def _stopped_reason(result: VariantResult, stopped_by: str, settings: RunSettings) -> tuple[str, str]:
    """Verdict and reason of a variant the parent stopped."""
    count = len(result.samples)
    if stopped_by == "max-rss":
        cap = format_bytes(settings.max_rss_bytes)
        reached = format_bytes(result.capped_bytes)
        if not any(s.phase != "baseline" for s in result.samples):
            return "ERROR", f"the process tree used {reached} before its first iteration ended, above --max-rss {cap}: raise --max-rss"
        return "LEAK", f"capped: the process tree's RSS reached {reached}, above --max-rss {cap}; stopped after {count} samples"
    if stopped_by == "timeout":
        return "ERROR", f"timeout: still running after --timeout {settings.timeout_seconds:g} s; killed with its child processes after {count} samples"
    return "ERROR", f"interrupted by {stopped_by}: stopped with its child processes after {count} samples"


def judge_variant(declared: Declared, events: Iterable[Event], settings: RunSettings, ending: WorkerExit) -> VariantResult:
    """Assemble and judge one variant from its events.

    Verdicts: the parent's stop decides first (``LEAK`` capped, ``ERROR`` timeout/interrupt);
    then a worker that finished (``done``) and exited 0 is judged by
    :func:`memleak_cli.analysis.verdict.judge` on its trends and attribution; anything else is
    ``ERROR`` with the scenario's exception or the exit status. Samples streamed before a crash
    are always kept.
    """
    result = VariantResult(
        variant=declared.name, expect=declared.expect, verdict="ERROR", reason="", fix_source=declared.fix_source,
        summary=declared.summary, seconds=ending.seconds, exit_code=ending.exit_code, output_tail=ending.output_tail,
        capped_bytes=ending.capped_bytes, stopped_by=ending.stopped_by,
    )
    done = False
    for event in events:
        if isinstance(event, SampleTaken):
            result.samples.append(event.sample)
        elif isinstance(event, TypesCounted):
            result.type_growth = list(event.growth)
        elif isinstance(event, WindowMeasured):
            result.attribution = event.attribution
        elif isinstance(event, HoldersFound):
            result.holders = list(event.paths)
            result.holder_seconds = event.seconds
        elif isinstance(event, NativeMeasured) and result.attribution is not None:
            _add_native(result, event)
        elif isinstance(event, ScenarioFailed):
            result.error = event.traceback or event.message
            result.reason = f"scenario raised {event.message}"
        elif isinstance(event, Finished):
            done = True
            result.extended_by, result.extend_why = event.extended_by, event.why
    result.requested_iterations = settings.iterations
    try:
        result.trends = trends(result.samples, settings.thresholds, requested=settings.iterations)
    except ValueError:
        result.trends = []  # too few samples before a crash: the samples are still reported
    tail = "\n" + ending.output_tail if ending.output_tail else ""
    if ending.stopped_by is not None:
        result.verdict, result.reason = _stopped_reason(result, ending.stopped_by, settings)
        if result.verdict == "ERROR":
            result.error = result.reason + tail
    elif done and (ending.exit_code == 0 or ending.lingered_seconds is not None):
        result.verdict, result.reason = judge(result.trends, result.attribution, settings.thresholds)
        result.notes = notes(result.trends, result.attribution, settings.thresholds)
        attribute_handles(result.holders, result.trends, result.attribution, settings.thresholds)
        result.severity = severity(result)
        if ending.lingered_seconds is not None:
            result.notes.append(
                f"the measuring process did not exit within {ending.lingered_seconds:g} s of its last measurement "
                "and was stopped; its measurements stand"
            )
    elif not result.reason:
        result.reason = f"the measuring process {exit_text(ending.exit_code)} after {len(result.samples)} samples"
        result.error = result.error or result.reason + tail
    return result


def _add_native(result: VariantResult, event: NativeMeasured) -> None:
    attribution = result.attribution
    assert attribution is not None
    attribution.native = True
    if event.error is not None:
        attribution.native_error = event.error
        return
    attribution.native_iterations = event.iterations
    attribution.native_seconds = event.seconds
    attribution.native_overhead_seconds = event.overhead_seconds
    attribution.native_growth_bytes = event.native_growth_bytes
    attribution.native_python_bytes = event.native_python_bytes
    attribution.native_sites = list(event.sites)


def fix_effective(variants: Sequence[VariantResult]) -> bool | None:
    """True when the leaky variant is not CLEAN and the fixed one is; None when either is missing or crashed."""
    by_name = {v.variant: v for v in variants}
    leaky, fixed = by_name.get("leaky"), by_name.get("fixed")
    if leaky is None or fixed is None or "ERROR" in (leaky.verdict, fixed.verdict):
        return None
    return leaky.verdict != "CLEAN" and fixed.verdict == "CLEAN"


def expectation_failures(report: RunReport) -> list[str]:
    """Variants expected CLEAN that are not (what ``--fail-on-leak`` fails on), as one line each."""
    return [
        f"{s.name}/{v.variant}: expected CLEAN, got {v.verdict}"
        for s in report.scenarios
        for v in s.variants
        if v.expect == "CLEAN" and v.verdict not in ("CLEAN", "ERROR")
    ]


def crashed(report: RunReport) -> list[str]:
    """Variants whose scenario crashed, as ``scenario/variant: reason``."""
    return [f"{s.name}/{v.variant}: {v.reason}" for s in report.scenarios for v in s.variants if v.verdict == "ERROR"]
