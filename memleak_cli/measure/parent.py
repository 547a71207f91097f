"""Running variants in their own processes and turning what they streamed into results.

Each variant runs in a fresh ``python -m memleak_cli.measure.worker`` so that leaky and fixed never share
a heap. The worker streams JSON lines to an events file; this module reads them while the child
runs (for progress) and after it ends, so nothing measured is lost when the child crashes.

The parent stays in control of code that leaks on purpose: while polling it stops a child whose
process tree passes ``--max-rss`` (a capped ``LEAK``), kills one that runs past ``--timeout``
(``ERROR``, timeout) or when the run is interrupted, always with the child's whole process group
and every descendant (the child is started in its own session), and keeps the samples so far.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from memleak_cli.analysis.judge import Declared, WorkerExit, judge_variant
from memleak_cli.measure.interrupts import StopOnSignal
from memleak_cli.measure.proctree import TreeWatcher, has_exited, kill_tree
from memleak_cli.measure.protocol import (
    Event,
    Finished,
    ProtocolError,
    SampleTaken,
    ScenarioFailed,
    WorkerSpec,
    decode,
)
from memleak_cli.report.model import Sample, VariantResult
from memleak_cli.scenarios.contract import Scenario
from memleak_cli.settings import RunSettings

Progress = Callable[[Sample], None]
_OUTPUT_TAIL = 4000
# How often the parent reads events and checks the limits. A scenario allocating fast can pass
# --max-rss by what it allocates in one poll (~50 ms) before it is stopped.
_POLL_SECONDS = 0.05
# A worker ends at once after its last event ("done" or "error"); one still running this long
# after it is stopped, and judged from its events (a process that cannot exit is not a crash).
EXIT_GRACE_SECONDS = 5.0


def read_events(path: Path, offset: int = 0) -> tuple[list[Event], int]:
    """Complete event lines written after byte *offset*; returns them and the new offset.

    A line still being written waits for the next read; a torn line of a killed worker, or one
    that is not an event of this protocol, is skipped — the rest is still good.
    """
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            data = handle.read()
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n") + 1
    events = []
    for line in data[:end].splitlines():
        try:
            events.append(decode(line))
        except ProtocolError:
            continue
    return events, offset + end


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

    Returns a :class:`VariantResult` judged by :func:`memleak_cli.analysis.judge.judge_variant`;
    a crash gives verdict ``ERROR`` with the traceback or the signal, and keeps every sample
    streamed before it. Raises nothing for a misbehaving child.
    """
    declared = scenario.variant(variant)
    with tempfile.TemporaryDirectory(prefix="memleak-") as tmp:
        events_path = Path(tmp) / "events.jsonl"
        output_path = Path(tmp) / "output.log"
        spec_path = Path(tmp) / "spec.json"
        capture = Path(tmp) / "memray-window.bin"
        # The lifeline (memleak_cli.measure.containment): the worker gets the read end and the
        # parent alone holds the write end (not inheritable, so no other worker does); when the
        # parent dies, however, the worker reads end-of-file and kills its tree.
        lifeline_read, lifeline_write = os.pipe()
        WorkerSpec(
            scenario=spec, variant=variant, settings=settings, events=str(events_path),
            memray_capture=str(capture), lifeline=lifeline_read,
        ).write(spec_path)
        started = time.perf_counter()
        deadline = None if settings.timeout_seconds is None else time.monotonic() + settings.timeout_seconds
        events: list[Event] = []
        offset = 0
        stopped_by: str | None = None
        capped_bytes: int | None = None
        # the scenario's temporary files go in the run's own directory, removed with it: a
        # TemporaryDirectory the scenario never closes is not cleaned up by a worker that ends
        # with os._exit (memleak_cli.measure.containment.exit_now)
        scratch = Path(tmp) / "tmp"
        scratch.mkdir()
        env = dict(os.environ, PYTHONHASHSEED="0", PYTHONUNBUFFERED="1", TMPDIR=str(scratch))
        final_at: float | None = None  # when the worker's last event ("done", "error") arrived
        lingered = False
        with open(output_path, "wb") as output:
            # -X faulthandler: a segfault in the scenario leaves its Python traceback in the output
            try:
                child = subprocess.Popen(
                    [sys.executable, "-X", "faulthandler", "-m", "memleak_cli.measure.worker", str(spec_path)],
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env=env,
                    start_new_session=True,  # its own process group: killed as one, and Ctrl-C does not reach it
                    pass_fds=(lifeline_read,),
                )
            except BaseException:
                os.close(lifeline_write)
                raise
            finally:
                os.close(lifeline_read)  # the worker has its own copy
            watcher = TreeWatcher(child.pid)
            try:
                while True:
                    exited = has_exited(child.pid)
                    new, offset = read_events(events_path, offset)
                    events.extend(new)
                    if progress is not None:
                        for event in new:
                            if isinstance(event, SampleTaken):
                                progress(event.sample)
                    if final_at is None and any(isinstance(e, (Finished, ScenarioFailed)) for e in new):
                        final_at = time.monotonic()
                    if exited:
                        break
                    if final_at is not None:  # measured to the end: the limits no longer apply
                        if time.monotonic() - final_at >= EXIT_GRACE_SECONDS:
                            lingered = True
                            break
                        time.sleep(_POLL_SECONDS)
                        continue
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
                os.close(lifeline_write)
        new, offset = read_events(events_path, offset)
        events.extend(new)
        output_tail = output_path.read_text(errors="replace")[-_OUTPUT_TAIL:]
        result = judge_variant(
            Declared(declared.name, declared.expect, declared.fix_source(), declared.summary),
            events,
            settings,
            WorkerExit(child.returncode, time.perf_counter() - started, output_tail, stopped_by, capped_bytes,
                       lingered_seconds=EXIT_GRACE_SECONDS if lingered else None),
        )
        if artifacts is not None and result.attribution is not None and result.attribution.native and capture.exists():
            from memleak_cli.probes.native import render_flamegraph

            out = flamegraph_path(artifacts, scenario.name, declared.name)
            failure = render_flamegraph(capture, out)
            if failure is None:
                result.attribution.flamegraph = str(out)
            else:
                result.attribution.native_error = failure
    return result
