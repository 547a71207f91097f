"""In-process repetition of one callable, judged by ``memleak run``'s verdict: the pytest plugin's engine.

``memleak run`` measures a scenario in a worker process; a test cannot move to another process
(its fixtures live here), so this module does the worker's sequence in the calling process,
with the same pieces: cheap samples (:func:`memleak_cli.probes.cheap.take_sample`: gc objects,
Python heap blocks, the C heap through psutil ``heap_info``, RSS after ``malloc_trim``, USS,
descriptors, threads), the evidence's extension (:func:`memleak_cli.analysis.verdict.next_step`:
undecided growth runs more calls, doubling, up to ``max_iterations``), the verdict
(:func:`~memleak_cli.analysis.verdict.trends` + :func:`~memleak_cli.analysis.verdict.judge`),
the attribution window (:class:`~memleak_cli.measure.window.AttributionWindow`: allocation sites
and retained roots), heap walks over named reference paths (:mod:`memleak_cli.probes.growth`)
and memray's leaked native allocations (:mod:`memleak_cli.probes.native`).

Order: *warmup* calls (each sampled), a baseline sample, measured calls (each sampled) up to
*iterations*, extended while undecided; then the attribution window (one priming call, *window*
calls) with the retained-roots search. The costly parts run only where they are read: the
heap walks and a traced window only when the trend already says LEAK (or ``trace_window``),
memray only for a LEAK with ``native``. Samples are kept in preallocated arrays, not as objects,
so that keeping them adds nothing per call (:class:`~memleak_cli.analysis.verdict.SeriesStore`'s
reason); the :class:`~memleak_cli.report.model.Sample` list is rebuilt after the calls.

With ``max_growth`` set (the ``memleak`` marker), the trend calls are traced by tracemalloc too:
traced bytes are judged against ``max_growth`` per call by
:func:`~memleak_cli.analysis.trend.fit_trend`, and the C heap is then judged net of the traced
bytes (the C heap beyond Python's traced allocations), so a Python allocation is budgeted once,
by ``max_growth``, and a native one by the heap threshold.

Cost per call (measured on this project's 2-core machine, heap of ~10^5 objects): one sample
~10 ms (a full ``gc.collect()``, psutil's smaps read, ``malloc_trim``); the window's heap mark and
retained search ~2 passes over ``gc.get_objects()``; a heap walk 0.2 s (LEAK only).
"""

from __future__ import annotations

import contextlib
import gc
import math
import time
import tracemalloc
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from memleak_cli.analysis.thresholds import Thresholds
from memleak_cli.report.model import Attribution, MetricTrend, Sample, VariantResult

# Sample fields kept per call (all numbers; NaN for None)
_FIELDS = ("seconds", "rss_bytes", "uss_bytes", "tree_rss_bytes", "tree_uss_bytes", "children", "heap_bytes", "py_blocks",
           "gc_objects", "fds", "threads", "traced_bytes", "traced_peak_bytes", "rss_trimmed_bytes")
_PHASES = ("warmup", "baseline", "measure")
# Python's own memory, budgeted by the marker's max_growth on traced bytes when the calls are traced
PYTHON_METRICS = ("gc_objects", "py_blocks")


@dataclass(frozen=True)
class Plan:
    """How one callable is repeated and judged.

    Attributes:
        iterations: calls that make the trend, warm-up included (``memleak run --iterations``).
        warmup: first calls left out of the trend.
        max_iterations: most calls while the growth is undecided (``== iterations``: no extension).
        window: attribution calls after the trend (plus one priming); 0 skips it and the
            retained check.
        frames: tracemalloc depth of the allocation sites.
        top: sites, roots, holders and native stacks kept.
        max_growth: traced bytes per call at or above which steady growth fails (the marker);
            ``None``: the trend calls are not traced.
        native: memray's leaked native allocations for a LEAK.
        trace_window: trace the window even without a LEAK (the baseline compares its bytes).
        thresholds: ``memleak run``'s thresholds.
    """

    iterations: int = 12
    warmup: int = 2
    max_iterations: int = 48
    window: int = 3
    frames: int = 10
    top: int = 5
    max_growth: int | None = None
    native: bool = False
    trace_window: bool = False
    thresholds: Thresholds = field(default_factory=Thresholds)


class _Recorder:
    """Every sample's numbers in preallocated arrays; :meth:`samples` rebuilds the objects."""

    def __init__(self, capacity: int) -> None:
        self._columns = {name: array("d", bytes(8 * capacity)) for name in _FIELDS}
        self._phase = array("b", bytes(capacity))
        self._iteration = array("q", bytes(8 * capacity))
        self.count = 0

    def add(self, sample: Sample) -> None:
        for name, column in self._columns.items():
            value = getattr(sample, name)
            column[self.count] = math.nan if value is None else value
        self._phase[self.count] = _PHASES.index(sample.phase)
        self._iteration[self.count] = sample.iteration
        self.count += 1

    def samples(self) -> list[Sample]:
        found = []
        for row in range(self.count):
            values: dict[str, Any] = {}
            for name, column in self._columns.items():
                value = column[row]
                values[name] = None if math.isnan(value) else (value if name == "seconds" else int(value))
            found.append(Sample(iteration=self._iteration[row], phase=_PHASES[self._phase[row]], **values))
        return found


def _series_without_python(store: Any) -> Any:
    """*store* whose :meth:`series` leaves out :data:`PYTHON_METRICS` (traced plans extend on native growth only)."""
    plain = store.series

    def series() -> tuple[dict[str, list[float]], list[str]]:
        found, informational = plain()
        for metric in PYTHON_METRICS:
            found.pop(metric, None)
        return found, informational

    store.series = series
    return store


@dataclass
class Measured:
    """What :func:`measure` found: the result as ``memleak run`` reports a variant, plus the marker's
    traced-bytes series and trend (``None`` untraced)."""

    result: VariantResult
    traced_bytes: list[int] = field(default_factory=list)
    traced_trend: MetricTrend | None = None


def measure(call: Callable[[], object], plan: Plan, *, capture_dir: str | None = None) -> Measured:
    """Repeat *call* as *plan* says and judge it (see the module docstring). What *call* raises propagates."""
    from memleak_cli.analysis.hygiene import clear_caches
    from memleak_cli.analysis.native import attribute_handles
    from memleak_cli.analysis.trend import fit_trend
    from memleak_cli.analysis.verdict import (
        SeriesStore,
        judge,
        next_step,
        trends,
        warm_up_decisions,
    )
    from memleak_cli.measure.window import AttributionWindow
    from memleak_cli.probes.cheap import take_sample

    began = time.perf_counter()
    thresholds = plan.thresholds
    most = max(plan.max_iterations, plan.iterations)
    recorder = _Recorder(most + 1)
    traced = plan.max_growth is not None
    store = _series_without_python(SeriesStore(most + 1)) if traced else SeriesStore(most + 1)
    if most > plan.iterations:
        warm_up_decisions(thresholds, plan.iterations, most)

    def sample(index: int, phase: str, seconds: float) -> None:
        if traced:  # read right after the collection, before psutil's own allocations come and go
            gc.collect()
            python = tracemalloc.get_traced_memory()[0]
        taken = take_sample(index, phase, seconds, collect=not traced)
        if traced:
            taken.traced_bytes = python
        if traced and taken.heap_bytes is not None and taken.traced_bytes is not None:
            taken.heap_bytes -= taken.traced_bytes  # the C heap beyond Python's traced allocations
        recorder.add(taken)
        store.add(taken)

    def one(index: int, phase: str) -> None:
        started = time.perf_counter()
        call()
        seconds = time.perf_counter() - started
        if not traced:  # as `memleak run` does: the re, type and ABC caches fill, they do not leak;
            # a traced (marked) test reads tracemalloc's bytes, where refilling them would be churn
            clear_caches(call)
        sample(index, phase, seconds)

    sites: list[Any] = []
    tracing: Any = AttributionWindow(frames=plan.frames, top=plan.top, retained=False) if traced else contextlib.nullcontext()
    with _frozen_heap(), tracing as window:
        for index in range(plan.warmup):
            one(index, "warmup")
        if window is not None:
            window.mark()
        sample(plan.warmup - 1, "baseline", 0.0)
        for index in range(plan.warmup, plan.iterations):
            one(index, "measure")
        ran, why = plan.iterations, ""
        while ran < most:
            decision = next_step(store, thresholds, requested=plan.iterations, max_iterations=most)
            if decision.kind != "undecided":
                break
            why, more = why or decision.why, decision.more
            del decision
            for index in range(ran, ran + more):
                one(index, "measure")
            ran += more
        if window is not None:
            sites = window.finish(ran - plan.warmup).sites
    samples = recorder.samples()
    metric_trends = trends(samples, thresholds, requested=plan.iterations)
    if traced:  # Python memory is judged on the traced bytes against max_growth: shown, not voted
        for trend in metric_trends:
            if trend.metric in PYTHON_METRICS:
                trend.informational = True
    traced_series: list[int] = []
    traced_trend = None
    if traced:
        traced_series = [s.traced_bytes or 0 for s in samples if s.phase in ("baseline", "measure")]
        assert plan.max_growth is not None
        traced_trend = fit_trend("traced_bytes", "bytes", traced_series, float(plan.max_growth))
    leaking = any(t.leaking and not t.informational for t in metric_trends) or bool(traced_trend and traced_trend.leaking)

    attribution = None
    holders: list[Any] = []
    holder_seconds = None
    if plan.window > 0:
        import memleak_cli.probes.retained  # noqa: F401 - see below
        from memleak_cli.probes.allocations import prepare
        from memleak_cli.probes.growth import growing_paths, walk

        # what the window imports, imported before the first walk: between the two walks the
        # importers' caches (sys.path_importer_cache[*]._path_cache) would grow by one entry per
        # module and be named as a growing path, above a small leak (measured: +10 str/it)
        prepare()
        # heap walks outside tracing: traced, each of the walk's allocations would cost a traceback
        clear_caches()  # what memleak's own steps compiled (fnmatch, re) is not the test's
        first = walk() if leaking else None
        frames = plan.frames if (leaking and not traced) or plan.trace_window else 0
        with AttributionWindow(frames=frames, top=plan.top, retained=True) as window:
            call()  # the priming call: see memleak_cli.measure.window
            window.mark()
            started = time.perf_counter()
            for _ in range(plan.window):
                call()
            traced_seconds = (time.perf_counter() - started) / plan.window
            found = window.finish(plan.window)
        if first is not None:
            clear_caches()
            last = walk()
            holders = growing_paths([first, last], [plan.window + 1])[: plan.top]
            holder_seconds = first.seconds + last.seconds
            del first, last
        attribution = Attribution(
            window_iterations=plan.window, frames=frames, traced=found.traced,
            traced_growth_bytes=found.traced_growth_bytes,
            traced_growth_per_iteration=None if found.traced_growth_bytes is None else found.traced_growth_bytes / plan.window,
            sites=sites or found.sites, retained=found.retained, retained_bytes=found.retained_bytes or 0,
            retained_roots=found.retained_roots or 0, retained_native_bytes=found.retained_native_bytes,
            seconds=found.seconds, traced_seconds=traced_seconds if found.traced else None,
        )
        del found
    elif sites:
        attribution = Attribution(window_iterations=0, frames=plan.frames, traced=True, traced_growth_bytes=None,
                                  traced_growth_per_iteration=None, sites=sites)
    attribute_handles(holders, metric_trends, attribution, thresholds)
    verdict, reason = judge(metric_trends, attribution, thresholds)
    if verdict != "LEAK" and traced_trend is not None and traced_trend.leaking:
        verdict, reason = "LEAK", f"sustained growth in traced_bytes ({traced_trend.reason})"
    if verdict == "LEAK" and plan.native and attribution is not None:
        _native(call, plan, attribution, capture_dir)
    result = VariantResult(
        variant="test", expect="", verdict=verdict, reason=reason, samples=samples, trends=metric_trends,
        attribution=attribution, holders=holders, holder_seconds=holder_seconds,
        requested_iterations=plan.iterations, extended_by=ran - plan.iterations, extend_why=why,
        seconds=time.perf_counter() - began,
    )
    return Measured(result, traced_series, traced_trend)


@contextlib.contextmanager
def _frozen_heap() -> Iterator[None]:
    """The heap as it is before the first call moved out of the collector's way (``gc.freeze()``)
    for the calls that make the trend, and back (``gc.unfreeze()``) before the attribution window.

    A test runs inside the pytest process, whose heap (pytest, its plugins, every collected test
    module) is far larger than the test's: each sample's full collection walked all of it
    (59 ms per collection, 130 collections for five marked tests: 7.7 of 18 s, measured).
    Frozen objects are never examined, so a collection costs what the calls made. The counts
    stay exact for what the calls add: ``gc.get_objects()`` leaves the frozen generation out,
    so ``gc_objects`` counts from zero and its growth per call is unchanged. Garbage cycles among
    objects older than the first call are collected after the unfreeze, not during the calls.
    Left alone when the program has frozen objects itself (``gc.get_freeze_count()``).
    """
    if gc.get_freeze_count():
        yield
        return
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _native(call: Callable[[], object], plan: Plan, attribution: Attribution, capture_dir: str | None) -> None:
    """memray's allocations alive after *plan.window* more calls, grouped by stack, into *attribution*."""
    import os
    import tempfile
    from pathlib import Path

    from memleak_cli.probes.native import NativeProbeError, leaked_sites, track_window

    attribution.native = True
    folder = tempfile.mkdtemp(prefix="memleak-native-", dir=capture_dir)
    capture = Path(folder) / "capture.bin"
    try:
        per_call, setup = track_window(capture, call, max(plan.window, 1))
        began = time.perf_counter()
        native, python, sites = leaked_sites(capture, plan.top)
        attribution.native_iterations = max(plan.window, 1)
        attribution.native_seconds = per_call
        attribution.native_overhead_seconds = setup + time.perf_counter() - began
        attribution.native_growth_bytes = native
        attribution.native_python_bytes = python
        attribution.native_sites = sites
    except NativeProbeError as exc:
        attribution.native_error = str(exc)
    finally:
        with contextlib.suppress(OSError):
            capture.unlink()
        with contextlib.suppress(OSError):
            os.rmdir(folder)
