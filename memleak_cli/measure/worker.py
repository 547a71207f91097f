"""The measuring process: runs one variant of one scenario and streams what it measures.

Started by :mod:`memleak_cli.measure.parent` as ``python -m memleak_cli.measure.worker SPEC.json``, so each
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
``cleanup`` the interpreter's caches are cleared after every warm-up and measured iteration
(:mod:`memleak_cli.analysis.hygiene`). Heap walks over named reference paths
(:mod:`memleak_cli.probes.growth`) are taken at the seams: after warm-up, after the measured
iterations and after the window.

Every sample trims the C heap after reading RSS (``malloc_trim(0)``) unless the spec says
``"trim": false``; see :mod:`memleak_cli.probes.allocator`.
"""

from __future__ import annotations

import gc
import json
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import IO

from memleak_cli.measure.protocol import (
    Event,
    Finished,
    HoldersFound,
    NativeMeasured,
    SampleTaken,
    ScenarioFailed,
    TypesCounted,
    WindowMeasured,
    WorkerSpec,
    encode,
)
from memleak_cli.probes.saferepr import safe_str
from memleak_cli.report.model import Attribution, Sample

Iterate = Callable[[], object]
TakeSample = Callable[[int, str, float], object]


class EventWriter:
    """Writes one event per line (:func:`~memleak_cli.measure.protocol.encode`) and flushes it,
    so the parent sees it at once."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def emit(self, event: Event) -> None:
        """Write *event* as one line."""
        self._stream.write(encode(event))
        self._stream.flush()


def _run(spec: WorkerSpec, events: EventWriter) -> None:
    from memleak_cli.analysis.hygiene import clear_caches
    from memleak_cli.analysis.verdict import SeriesStore, next_step, warm_up_decisions
    from memleak_cli.probes.cheap import take_sample
    from memleak_cli.probes.typecounts import type_counts, type_growth
    from memleak_cli.scenarios.discovery import load_scenario

    scenario = load_scenario(spec.scenario)
    variant = scenario.variant(spec.variant)
    iterate = variant.factory(scenario.sizes[spec.settings.size])

    def one_sample(index: int, phase: str, seconds: float) -> Sample:
        taken = take_sample(index, phase, seconds, trim=spec.settings.trim)
        events.emit(SampleTaken(taken))
        return taken

    most = spec.settings.most_iterations
    # the samples so far, for deciding whether to extend, in buffers allocated once
    kept = SeriesStore(most + 1)

    def one(index: int, phase: str) -> None:
        started = time.perf_counter()
        iterate()
        seconds = time.perf_counter() - started
        if spec.settings.cleanup:
            clear_caches(iterate)
        kept.add(one_sample(index, phase, seconds))

    # objgraph's first typestats imports and allocates: done here, before the baseline, so the
    # type counts between warm-up and the measured iterations do not disturb the first samples
    type_counts()
    thresholds = spec.settings.thresholds
    if most > spec.settings.iterations:
        # the decision's code run once now (its first call allocates), not between the samples it judges
        warm_up_decisions(thresholds, spec.settings.iterations, most)
    one_sample(-1, "baseline", 0.0)
    for index in range(spec.settings.warmup):
        one(index, "warmup")
    # The heap walks and type counts sit where the trend has a seam anyway (end of warm-up, end of
    # the measured iterations): nothing is walked between two measured samples.
    holders = HolderSearch(clear=spec.settings.cleanup)
    holders.walk(0)
    types_before = type_counts()
    for index in range(spec.settings.warmup, spec.settings.iterations):
        one(index, "measure")
    # undecided growth: more iterations (doubling, up to max_iterations), the same rule as the verdict
    ran, why = spec.settings.iterations, ""
    while ran < most:
        decision = next_step(kept, thresholds, requested=spec.settings.iterations, max_iterations=most)
        if decision.kind != "undecided":
            break
        why, more = why or decision.why, decision.more
        del decision  # its evidence would stay alive through the iterations it asks for
        for index in range(ran, ran + more):
            one(index, "measure")
        ran += more
    types_after = type_counts()
    measured = ran - spec.settings.warmup
    holders.walk(measured)
    events.emit(TypesCounted(type_growth(types_before, types_after, measured, spec.settings.top)))
    del types_before, types_after
    if spec.settings.window > 0:
        _attribution_window(spec, events, iterate, one_sample, ran)
        holders.walk(spec.settings.window + 1)  # the priming iteration and the window's
        if "memray" in spec.settings.probes:
            _native_window(spec, events, iterate)
    events.emit(holders.found(spec.settings.top))
    events.emit(Finished(extended_by=ran - spec.settings.iterations, why=why))


class HolderSearch:
    """Heap walks over named reference paths (:mod:`memleak_cli.probes.growth`) at the seams of
    a run, compared at the end. Only the node tables of the walks are kept between them."""

    def __init__(self, *, clear: bool = True) -> None:
        self._clear = clear  # the interpreter's caches cleared first, as between iterations
        self._walks: list[object] = []
        self._gaps: list[int] = []
        self._seconds = 0.0

    def walk(self, iterations_since: int) -> None:
        """Walk the heap now, *iterations_since* iterations after the previous walk."""
        from memleak_cli.analysis.hygiene import clear_caches
        from memleak_cli.probes.growth import walk

        if self._clear:  # what memleak's own steps compiled (fnmatch, re) is not the workload's
            clear_caches()
        result = walk()
        self._seconds += result.seconds
        if self._walks:
            self._gaps.append(iterations_since)
        self._walks.append(result)

    def found(self, top: int) -> HoldersFound:
        """The growing paths, largest growth in bytes first, at most *top*."""
        from memleak_cli.probes.growth import growing_paths

        paths = growing_paths(self._walks, self._gaps)[:top] if len(self._walks) >= 2 else []  # type: ignore[arg-type]
        return HoldersFound(paths=paths, walks=len(self._walks), seconds=self._seconds)


def _attribution_window(spec: WorkerSpec, events: EventWriter, iterate: Iterate, one_sample: TakeSample, start: int) -> None:
    from memleak_cli.measure.window import AttributionWindow
    from memleak_cli.probes.typesizes import type_size_diff, type_summary

    if "pympler" in spec.settings.probes:
        # every module the window imports, imported before the first summary: their code objects
        # and module specs are memleak's, not growth of the workload's
        import memleak_cli.probes.allocations
        import memleak_cli.probes.refchain
        import memleak_cli.probes.retained
        import memleak_cli.probes.saferepr  # noqa: F401

        memleak_cli.probes.allocations.prepare()
    # pympler's summary walks every object twice (~3 s on a 10^5-object heap): only on request
    began = time.perf_counter()
    # the first summary waits on disk, not in the heap: held, its ~10^4 lists and ints would be the
    # largest "growth" the second summary sees
    parked = Path(spec.events).with_name("type-summary-before.json") if "pympler" in spec.settings.probes else None
    if parked is not None:
        parked.write_text(json.dumps(type_summary()), encoding="utf-8")
    summary_seconds = time.perf_counter() - began
    seconds = [0.0] * spec.settings.window
    with AttributionWindow(frames=spec.settings.frames, top=spec.settings.top) as window:
        iterate()  # the priming iteration: see memleak_cli.measure.window
        window.mark()
        # No samples inside the window: psutil and the event writer would show up in the diff.
        for index in range(spec.settings.window):
            began = time.perf_counter()
            iterate()
            seconds[index] = time.perf_counter() - began
        found = window.finish(spec.settings.window)
        # sampled before tracing stops, so the window's sample carries tracemalloc's current/peak
        one_sample(start + spec.settings.window, "window", sum(seconds) / spec.settings.window)
    attribution = Attribution(
        window_iterations=spec.settings.window,
        frames=spec.settings.frames,
        traced=found.traced,
        traced_growth_bytes=found.traced_growth_bytes,
        traced_growth_per_iteration=None if found.traced_growth_bytes is None else found.traced_growth_bytes / spec.settings.window,
        sites=found.sites,
        retained=found.retained,
        retained_bytes=found.retained_bytes or 0,
        retained_roots=found.retained_roots or 0,
        retained_native_bytes=found.retained_native_bytes,
        seconds=found.seconds,
        traced_seconds=sum(seconds) / spec.settings.window if found.traced else None,
    )
    del found
    if parked is not None:
        gc.collect()
        began = time.perf_counter()
        after = type_summary()
        attribution.type_sizes = type_size_diff(json.loads(parked.read_text(encoding="utf-8")), after, spec.settings.top)
        attribution.type_sizes_seconds = summary_seconds + time.perf_counter() - began
    events.emit(WindowMeasured(attribution))


def _native_window(spec: WorkerSpec, events: EventWriter, iterate: Iterate) -> None:
    from pathlib import Path

    from memleak_cli.probes.native import NativeProbeError, leaked_sites, track_window

    capture = Path(spec.memray_capture)
    try:
        per_iteration, setup = track_window(capture, iterate, spec.settings.window)
        began = time.perf_counter()
        native, python, sites = leaked_sites(capture, spec.settings.top)
        reading = time.perf_counter() - began
    except NativeProbeError as exc:  # no memray here, or another tracker active: the rest stands
        events.emit(NativeMeasured(error=str(exc)))
        return
    events.emit(
        NativeMeasured(
            iterations=spec.settings.window,
            seconds=per_iteration,
            overhead_seconds=setup + reading,
            native_growth_bytes=native,
            native_python_bytes=python,
            sites=sites,
            capture=str(capture),
        )
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``python -m memleak_cli.measure.worker SPEC.json``. Returns 0, or 3 when the
    scenario raised."""
    from pathlib import Path

    args = sys.argv[1:] if argv is None else argv
    spec = WorkerSpec.read(Path(args[0]))
    # nothing the scenario starts may outlive the run, nor this process its parent (containment)
    from memleak_cli.measure.containment import become_subreaper, watch_lifeline

    become_subreaper()
    if spec.lifeline is not None:
        run_dir = Path(spec.events).parent
        # the parent's own folder for this run (memleak_cli.measure.parent: prefix "memleak-")
        watch_lifeline(spec.lifeline, str(run_dir) if run_dir.name.startswith("memleak-") else None)
    with open(spec.events, "a", encoding="utf-8", errors="backslashreplace") as stream:
        events = EventWriter(stream)
        try:
            _run(spec, events)
        except BaseException as exc:  # report every failure, KeyboardInterrupt included
            events.emit(ScenarioFailed(f"{type(exc).__name__}: {safe_str(exc)}", _format_exc()))
            return 3
    return 0


def _format_exc() -> str:
    """The current traceback, or a placeholder when formatting it runs measured code that fails
    (``traceback`` calls the exception's ``__str__``)."""
    try:
        return traceback.format_exc()
    except BaseException as exc:  # noqa: BLE001 - the exception's own __str__ may raise anything
        return f"(the traceback could not be formatted: {type(exc).__name__})"


if __name__ == "__main__":
    from memleak_cli.measure.containment import exit_now

    # Events are flushed line by line; after the last one the worker ends at once, whatever the
    # scenario left running (a non-daemon thread would hold a normal exit until --timeout).
    exit_now(main())
