"""The measuring process: runs one variant of one scenario and streams what it measures.

Started by :mod:`memleak_cli.runner` as ``python -m memleak_cli.worker SPEC.json``, so each
variant has a fresh interpreter and its own heap. Every measurement is written at once as one
JSON line to the events file named in the spec, so a crash, a kill or an interrupt loses nothing
that was already measured.

Order of work: a baseline sample; warm-up iterations; measured iterations (cheap samples only;
objgraph type counts at both ends); then the attribution window: one priming iteration and
``window`` more, traced by tracemalloc with ``frames`` frames (when > 0), with the heap marked
after the priming one to find what the window retained. The window takes one sample, at its
end (its ``seconds`` is the mean iteration time in the window). A pympler type summary is taken
before the priming iteration and after the window (untraced; each is emitted at once so that
the first does not weigh on the second). With the memray probe, ``window`` more iterations
run under ``memray.Tracker`` after the tracemalloc window (never both at once).

Measured iterations whose growth is undecided (:mod:`memleak_cli.analysis.evidence`) are
extended, doubling, up to ``max_iterations``; ``done`` says by how many and why. With
``"cleanup": true`` the interpreter's caches are cleared after every warm-up and measured
iteration (:mod:`memleak_cli.analysis.hygiene`).

Every sample trims the C heap after reading RSS (``malloc_trim(0)``) unless the spec says
``"trim": false``; see :mod:`memleak_cli.probes.allocator`.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
import traceback
from typing import IO, Any


class EventWriter:
    """Writes one JSON object per line and flushes it, so the parent sees it at once."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def emit(self, event: str, **data: Any) -> None:
        """Write ``{"event": event, **data}`` as one line."""
        self._stream.write(json.dumps({"event": event, **data}, default=str) + "\n")
        self._stream.flush()


def _run(spec: dict[str, Any], events: EventWriter) -> None:
    from memleak_cli.analysis.hygiene import clear_caches
    from memleak_cli.analysis.thresholds import Thresholds
    from memleak_cli.analysis.verdict import SeriesStore, next_step, warm_up_decisions
    from memleak_cli.discovery import load_scenario
    from memleak_cli.probes.cheap import take_sample
    from memleak_cli.probes.typecounts import type_counts

    scenario = load_scenario(spec["scenario"])
    variant = scenario.variant(spec["variant"])
    iterate = variant.factory(scenario.sizes[spec["size"]])
    warmup, iterations, window = spec["warmup"], spec["iterations"], spec["window"]

    trim = spec.get("trim", True)

    def one_sample(index: int, phase: str, seconds: float) -> Any:
        taken = take_sample(index, phase, seconds, trim=trim)
        sample = dataclasses.asdict(taken)
        if sample["child_processes"] is None:
            del sample["child_processes"]  # only a process with children says so
        events.emit("sample", sample=sample)
        return taken

    cleanup = spec.get("cleanup", False)
    # the samples so far, for deciding whether to extend, in buffers allocated once
    kept = SeriesStore(spec.get("max_iterations", iterations) + 1)

    def one(index: int, phase: str) -> None:
        started = time.perf_counter()
        iterate()
        seconds = time.perf_counter() - started
        if cleanup:
            clear_caches(iterate)
        kept.add(one_sample(index, phase, seconds))

    # objgraph's first typestats imports and allocates: done here, before the baseline, so the
    # type counts between warm-up and the measured iterations do not disturb the first samples
    type_counts()
    thresholds = Thresholds(**spec.get("thresholds", {}))
    if spec.get("max_iterations", iterations) > iterations:
        # the decision's code run once now (its first call allocates), not between the samples it judges
        warm_up_decisions(thresholds, iterations, spec["max_iterations"])
    one_sample(-1, "baseline", 0.0)
    for index in range(warmup):
        one(index, "warmup")
    types_before = type_counts()
    for index in range(warmup, iterations):
        one(index, "measure")
    # undecided growth: more iterations (doubling, up to max_iterations), the same rule as the verdict
    ran, why = iterations, ""
    while ran < spec.get("max_iterations", iterations):
        decision = next_step(kept, thresholds, requested=iterations, max_iterations=spec["max_iterations"])
        if decision.kind != "undecided":
            break
        why, more = why or decision.why, decision.more
        del decision  # its evidence would stay alive through the iterations it asks for
        for index in range(ran, ran + more):
            one(index, "measure")
        ran += more
    types_after = type_counts()
    events.emit("types", before=types_before, after=types_after)
    del types_before, types_after
    if window > 0:
        _attribution_window(spec, events, iterate, one_sample, ran)
        if "memray" in spec.get("probes", ()):
            _native_window(spec, events, iterate)
    events.emit("done", extended_by=ran - iterations, why=why)


def _attribution_window(spec: dict[str, Any], events: EventWriter, iterate: Any, one_sample: Any, start: int) -> None:
    import gc
    import tracemalloc

    from memleak_cli.probes.allocations import diff_sites, prepare, take_snapshot
    from memleak_cli.probes.retained import find_retained, mark_heap
    from memleak_cli.probes.typesizes import type_summary

    window, frames, top = spec["window"], spec["frames"], spec["top"]
    # pympler's summary walks every object twice (~3 s on a 10^5-object heap): only on request
    type_sizes = "pympler" in spec.get("probes", ())
    started = time.perf_counter()
    prepare()
    began = time.perf_counter()
    if type_sizes:
        events.emit("type_summary", when="before", types=type_summary())
    summary_seconds = time.perf_counter() - began
    gc.collect()
    if frames > 0:
        tracemalloc.start(frames)
    # One priming iteration under tracing, so that memory it makes and the window frees is
    # traced too and the diff shows net growth, not just everything allocated in the window.
    iterate()
    gc.collect()
    mark = mark_heap()
    first = take_snapshot() if frames > 0 else None
    # No samples inside the window: psutil and the event writer would show up in the diff.
    seconds = [0.0] * window
    for index in range(window):
        began = time.perf_counter()
        iterate()
        seconds[index] = time.perf_counter() - began
        gc.collect()
    last = take_snapshot() if frames > 0 else None
    retained, retained_bytes, roots = find_retained(mark, top=top)
    del mark
    # sampled before tracing stops, so the window's sample carries tracemalloc's current/peak
    one_sample(start + window, "window", sum(seconds) / max(window, 1))
    tracemalloc.stop()
    growth, sites = diff_sites(first, last, top) if first is not None and last is not None else (None, [])
    del first, last
    events.emit(
        "attribution",
        attribution={
            "window_iterations": window,
            "frames": frames,
            "traced": frames > 0,
            "traced_growth_bytes": growth,
            "traced_growth_per_iteration": None if growth is None else growth / window,
            "sites": [dataclasses.asdict(s) for s in sites],
            "retained": [dataclasses.asdict(r) for r in retained],
            "retained_bytes": retained_bytes,
            "retained_roots": roots,
            "seconds": time.perf_counter() - started,
            "traced_seconds": sum(seconds) / max(window, 1) if frames > 0 else None,
        },
    )
    del retained, sites
    if type_sizes:
        gc.collect()
        began = time.perf_counter()
        events.emit("type_summary", when="after", types=type_summary(), seconds=summary_seconds + time.perf_counter() - began)


def _native_window(spec: dict[str, Any], events: EventWriter, iterate: Any) -> None:
    from pathlib import Path

    from memleak_cli.probes.native import NativeProbeError, leaked_sites, track_window

    capture = Path(spec["memray_capture"])
    try:
        per_iteration, setup = track_window(capture, iterate, spec["window"])
        began = time.perf_counter()
        native, python, sites = leaked_sites(capture, spec["top"])
        reading = time.perf_counter() - began
    except NativeProbeError as exc:  # no memray here, or another tracker active: the rest stands
        events.emit("native", error=str(exc))
        return
    events.emit(
        "native",
        iterations=spec["window"],
        seconds=per_iteration,
        overhead_seconds=setup + reading,
        native_growth_bytes=native,
        native_python_bytes=python,
        sites=[dataclasses.asdict(s) for s in sites],
        capture=str(capture),
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``python -m memleak_cli.worker SPEC.json``. Returns 0, or 3 when the scenario raised."""
    args = sys.argv[1:] if argv is None else argv
    with open(args[0], encoding="utf-8") as handle:
        spec = json.load(handle)
    with open(spec["events"], "a", encoding="utf-8") as stream:
        events = EventWriter(stream)
        try:
            _run(spec, events)
        except BaseException as exc:  # report every failure, KeyboardInterrupt included
            events.emit("error", message=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())
            return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
