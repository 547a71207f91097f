"""Running variants in their own processes and turning what they streamed into results.

Each variant runs in a fresh ``python -m memleak_cli.worker`` so that leaky and fixed never share
a heap. The worker streams JSON lines to an events file; this module reads them while the child
runs (for progress) and after it ends, so nothing measured is lost when the child crashes.

The parent stays in control of code that leaks on purpose: while polling it stops a child whose
process tree passes ``--max-rss`` (a capped ``LEAK``), kills one that runs past ``--timeout``
(``ERROR``, timeout) or when the run is interrupted, always with the child's whole process group
and every descendant (the child is started in its own session), and keeps the samples so far.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from memleak_cli.analysis.native import notes
from memleak_cli.analysis.severity import severity
from memleak_cli.analysis.verdict import judge, trends
from memleak_cli.interrupts import StopOnSignal
from memleak_cli.probes.typecounts import type_growth
from memleak_cli.probes.typesizes import type_size_diff
from memleak_cli.proctree import TreeWatcher, has_exited, kill_tree
from memleak_cli.report.jsonio import attribution_from_dict, build_dataclass, sample_from_dict
from memleak_cli.report.model import NativeSite, Sample, VariantResult
from memleak_cli.scenario import Scenario
from memleak_cli.settings import RunSettings
from memleak_cli.units import format_bytes

Progress = Callable[[Sample], None]
_OUTPUT_TAIL = 4000
# How often the parent reads events and checks the limits. A scenario allocating fast can pass
# --max-rss by what it allocates in one poll (~50 ms) before it is stopped.
_POLL_SECONDS = 0.05


def _read_events(path: Path, offset: int) -> tuple[list[dict[str, Any]], int]:
    """Complete JSON lines written after byte *offset*; returns them and the new offset."""
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            data = handle.read()
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n") + 1  # a line still being written waits for the next read
    events = []
    for line in data[:end].splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a torn line from a killed child: the rest is still good
    return events, offset + end


def _exit_text(code: int) -> str:
    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with status {code}"


def flamegraph_path(artifacts: Path, scenario: str, variant: str) -> Path:
    """Where the memray leak flame graph of one variant goes: ``<artifacts>-<scenario>-<variant>-leaks.html``
    (*artifacts* is the JSON report's path without its suffix)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{scenario}-{variant}")
    return artifacts.with_name(f"{artifacts.name}-{safe}-leaks.html")


def run_variant(
    scenario: Scenario,
    spec: str,
    variant: str,
    settings: RunSettings,
    progress: Progress | None = None,
    *,
    stop: StopOnSignal | None = None,
    artifacts: Path | None = None,
) -> VariantResult:
    """Run one variant of *scenario* (loaded in the child from *spec*) and judge it.

    The child runs in its own session; while it runs the parent reads its events every
    ``_POLL_SECONDS`` and watches it: its process tree's RSS against ``settings.max_rss_bytes``
    (→ ``LEAK``, capped), its age against ``settings.timeout_seconds`` (→ ``ERROR``, timeout)
    and *stop* (→ ``ERROR``, interrupted). A stopped child is killed with its whole process
    group and every descendant; so is anything a finished child left running. With the memray
    probe and *artifacts* (the JSON report's path without suffix), memray's leak flame graph is
    written beside the report (:func:`flamegraph_path`).

    Returns a :class:`VariantResult`; a crash gives verdict ``ERROR`` with the traceback or the
    signal, and keeps every sample streamed before it. Raises nothing for a misbehaving child.
    """
    declared = scenario.variant(variant)
    with tempfile.TemporaryDirectory(prefix="memleak-") as tmp:
        events_path = Path(tmp) / "events.jsonl"
        output_path = Path(tmp) / "output.log"
        spec_path = Path(tmp) / "spec.json"
        spec_path.write_text(
            json.dumps(
                {
                    "scenario": spec,
                    "variant": variant,
                    "size": settings.size,
                    "iterations": settings.iterations,
                    "warmup": settings.warmup,
                    "window": settings.window,
                    "frames": settings.frames,
                    "top": settings.top,
                    "probes": list(settings.probes),
                    "trim": settings.trim,
                    "max_iterations": settings.most_iterations,
                    "cleanup": settings.cleanup,
                    "thresholds": settings.thresholds.as_dict(),
                    "memray_capture": str(Path(tmp) / "memray-window.bin"),
                    "events": str(events_path),
                }
            )
        )
        started = time.perf_counter()
        deadline = None if settings.timeout_seconds is None else time.monotonic() + settings.timeout_seconds
        events: list[dict[str, Any]] = []
        offset = 0
        stopped_by: str | None = None
        capped_bytes: int | None = None
        env = dict(os.environ, PYTHONHASHSEED="0", PYTHONUNBUFFERED="1")
        with open(output_path, "wb") as output:
            # -X faulthandler: a segfault in the scenario leaves its Python traceback in the output
            child = subprocess.Popen(
                [sys.executable, "-X", "faulthandler", "-m", "memleak_cli.worker", str(spec_path)],
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,  # its own process group: killed as one, and Ctrl-C does not reach it
            )
            watcher = TreeWatcher(child.pid)
            try:
                while True:
                    exited = has_exited(child.pid)
                    new, offset = _read_events(events_path, offset)
                    events.extend(new)
                    if progress is not None:
                        for event in new:
                            if event.get("event") == "sample":
                                progress(sample_from_dict(event["sample"]))
                    if exited:
                        break
                    rss = watcher.rss()
                    if settings.max_rss_bytes is not None and rss is not None and rss > settings.max_rss_bytes:
                        stopped_by, capped_bytes = "max-rss", rss
                        break
                    if deadline is not None and time.monotonic() >= deadline:
                        stopped_by = "timeout"
                        break
                    if stop is not None and stop.event.is_set():
                        stopped_by = stop.signal_name or "interrupt"
                        break
                    if stop is not None:
                        stop.event.wait(_POLL_SECONDS)
                    else:
                        time.sleep(_POLL_SECONDS)
            finally:
                # before reaping the child, so its pid (= its process group id) is still ours
                kill_tree(child.pid, watcher.descendants())
                child.wait()
        new, offset = _read_events(events_path, offset)
        events.extend(new)
        output_tail = output_path.read_text(errors="replace")[-_OUTPUT_TAIL:]
        result = build_result(
            declared.name, declared.expect, declared.fix_source(), declared.summary, events, child.returncode,
            time.perf_counter() - started, output_tail, settings, stopped_by=stopped_by, capped_bytes=capped_bytes,
        )
        capture = Path(tmp) / "memray-window.bin"
        if artifacts is not None and result.attribution is not None and result.attribution.native and capture.exists():
            from memleak_cli.probes.native import render_flamegraph

            out = flamegraph_path(artifacts, scenario.name, declared.name)
            failure = render_flamegraph(capture, out)
            if failure is None:
                result.attribution.flamegraph = str(out)
            else:
                result.attribution.native_error = failure
    return result


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


def build_result(
    variant: str, expect: str, fix_source: str | None, summary: str, events: list[dict[str, Any]], exit_code: int,
    seconds: float, output_tail: str, settings: RunSettings, *, stopped_by: str | None = None, capped_bytes: int | None = None,
) -> VariantResult:
    """Assemble and judge a :class:`VariantResult` from a worker's events.

    *stopped_by* (``"max-rss"``, ``"timeout"``, a signal name) says the parent ended the worker;
    *capped_bytes* is the process tree's RSS that passed ``--max-rss``.
    """
    result = VariantResult(
        variant=variant, expect=expect, verdict="ERROR", reason="", fix_source=fix_source, summary=summary,
        seconds=seconds, exit_code=exit_code, output_tail=output_tail, capped_bytes=capped_bytes, stopped_by=stopped_by,
    )
    done = False
    summaries: dict[str, Any] = {}
    for event in events:
        kind = event.get("event")
        if kind == "sample":
            result.samples.append(sample_from_dict(event["sample"]))
        elif kind == "types":
            measured_count = sum(1 for s in result.samples if s.phase == "measure")
            result.type_growth = type_growth(event["before"], event["after"], measured_count, settings.top)
        elif kind == "attribution":
            result.attribution = attribution_from_dict(event["attribution"])
        elif kind == "type_summary":
            summaries[event["when"]] = event
        elif kind == "native" and result.attribution is not None:
            _add_native(result, event)
        elif kind == "error":
            result.error = event.get("traceback") or event.get("message")
            result.reason = f"scenario raised {event.get('message', 'an exception')}"
        elif kind == "done":
            done = True
            result.extended_by, result.extend_why = int(event.get("extended_by", 0)), event.get("why", "")
    if result.attribution is not None and "before" in summaries and "after" in summaries:
        result.attribution.type_sizes = type_size_diff(summaries["before"]["types"], summaries["after"]["types"], settings.top)
        result.attribution.type_sizes_seconds = summaries["after"].get("seconds")
    result.requested_iterations = settings.iterations
    try:
        result.trends = trends(result.samples, settings.thresholds, requested=settings.iterations)
    except ValueError:
        result.trends = []  # too few samples before a crash: the samples are still reported
    if stopped_by is not None:
        result.verdict, result.reason = _stopped_reason(result, stopped_by, settings)
        if result.verdict == "ERROR":
            result.error = result.reason + ("\n" + output_tail if output_tail else "")
    elif done and exit_code == 0:
        result.verdict, result.reason = judge(result.trends, result.attribution, settings.thresholds)
        result.notes = notes(result.trends, result.attribution, settings.thresholds)
        result.severity = severity(result)
    elif not result.reason:
        result.reason = f"the measuring process {_exit_text(exit_code)} after {len(result.samples)} samples"
        result.error = result.error or result.reason + ("\n" + output_tail if output_tail else "")
    return result


def _add_native(result: VariantResult, event: dict[str, Any]) -> None:
    attribution = result.attribution
    assert attribution is not None
    attribution.native = True
    if "error" in event:
        attribution.native_error = event["error"]
        return
    attribution.native_iterations = event["iterations"]
    attribution.native_seconds = event["seconds"]
    attribution.native_overhead_seconds = event.get("overhead_seconds")
    attribution.native_growth_bytes = event["native_growth_bytes"]
    attribution.native_python_bytes = event["native_python_bytes"]
    attribution.native_sites = [build_dataclass(NativeSite, s) for s in event["sites"]]
