"""Measure memory around operations of your own code: ``memleak_cli.track``.

The leak report's ``monitor_memory_usage(name)`` read RSS before and after an operation, after
``gc.collect()``, but was a generator with a bare ``yield`` and no ``@contextmanager``, so it
could not be used in a ``with`` block. :func:`track` is that helper done properly::

    import memleak_cli

    with memleak_cli.track("load model") as t:      # one operation: the difference
        model = load_model()
    print(t.result.summary())                        # also logged to logger "memleak.track"

    @memleak_cli.track("predict", repeat=True)       # every call: the verdict of `memleak run`
    def predict(batch): ...

    for batch in batches:
        predict(batch)
    print(predict.tracker.verdict())                 # LEAK / RETAINS / CLEAN, with the reason

Each measurement is the cheap sample of ``memleak run`` (:func:`memleak_cli.probes.cheap.take_sample`:
``gc.collect()``, then RSS/USS by psutil, ``sys.getallocatedblocks()``, ``len(gc.get_objects())``…),
taken before and after the operation; ``traced=True`` adds tracemalloc's net bytes and peak, and
``retained=True`` the objects the operation made that are still reachable after it
(:mod:`memleak_cli.probes.retained`). With ``repeat=True`` the sample after each call is kept
(after ``warmup`` calls, the last ``keep``) and judged by
:func:`memleak_cli.analysis.verdict.trends`/``judge``, as ``memleak run`` judges iterations — but
on the operation's *own* levels: the first sample plus the sum of every call's difference (after
minus before). Process-wide levels would blame an operation for what other code did between two
of its calls: two tracked handlers called alternately, one leaking, both read LEAK (issue #18).
What the process gained between calls is summed apart and named in the verdict when it is above
the threshold; growth another *thread* makes during a call still counts for the call, and the
verdict says so when other threads were running (``retained=True`` shows what the call itself
left reachable).

Cost per call: two full collections and two ``gc.get_objects()`` (milliseconds on a heap of 10^5
objects) plus reading ``/proc/PID/smaps`` for USS; ``retained=True`` adds a heap mark and a
pympler deep size (tens of milliseconds or more). Track operations, not inner loops. A tracker
is not thread-safe, and a call nested in a call of the same tracker (recursion) is not measured
on its own: only the outermost is.

``traced``/``retained`` use the same attribution window as ``memleak run``
(:class:`memleak_cli.measure.window.AttributionWindow`), one call wide.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from memleak_cli.analysis.thresholds import METRICS, Thresholds
from memleak_cli.analysis.verdict import judge, trends
from memleak_cli.errors import UsageError
from memleak_cli.probes.cheap import take_sample
from memleak_cli.report.model import Attribution, MetricTrend, RetainedObject, Sample
from memleak_cli.settings import MIN_TREND_POINTS, RunSettings
from memleak_cli.units import format_bytes, format_count

if TYPE_CHECKING:
    from memleak_cli.measure.window import AttributionWindow

LOGGER = logging.getLogger("memleak.track")
DEFAULT_KEEP = 1000

_SAMPLE_FIELDS = tuple(f.name for f in dataclasses.fields(Sample))
F = TypeVar("F", bound=Callable[..., Any])


def _signed(value: int | None, unit: str) -> str:
    if value is None:
        return "n/a"
    return format_bytes(value, signed=True) if unit == "bytes" else format_count(value, signed=True)


def _delta(after: int | None, before: int | None) -> int | None:
    return None if after is None or before is None else after - before


@dataclass
class TrackResult:
    """The memory difference over one call (after minus before, each read after ``gc.collect()``).

    Byte fields are bytes and may be negative; ``None`` where not measured (USS hidden by the OS,
    ``traced``/``retained`` off). ``traced_bytes`` is tracemalloc's net growth over the call
    (allocated in it and still alive); ``traced_peak_bytes`` the peak above the start, only when
    this tracker started tracemalloc. ``retained`` are the largest retained roots with their
    reference chains (:func:`memleak_cli.probes.retained.find_retained`) and
    ``retained_native_bytes`` the C heap pinned by those that are native handles (a LightGBM
    Booster; :mod:`memleak_cli.probes.handles`). ``before``/``after``
    are the full samples. The counts include the tracker's own record of the call (2 gc objects
    and about a dozen Python heap blocks; with ``retained=True`` also the description of the
    roots).
    """

    name: str
    call: int
    seconds: float
    rss_bytes: int
    uss_bytes: int | None
    heap_bytes: int | None
    py_blocks: int
    gc_objects: int
    before: Sample
    after: Sample
    traced_bytes: int | None = None
    traced_peak_bytes: int | None = None
    retained_bytes: int | None = None
    retained_roots: int | None = None
    retained: list[RetainedObject] = field(default_factory=list)
    retained_native_bytes: int | None = None

    def summary(self) -> str:
        """One line: ``load: 0.120s, RSS +1.2 MiB, USS +1.1 MiB, Python blocks +812, gc objects +40``…"""
        parts = [
            f"{self.name}: {self.seconds:.3f}s",
            f"RSS {_signed(self.rss_bytes, 'bytes')}",
            f"USS {_signed(self.uss_bytes, 'bytes')}",
            f"Python blocks {_signed(self.py_blocks, 'count')}",
            f"gc objects {_signed(self.gc_objects, 'count')}",
        ]
        if self.traced_bytes is not None:
            peak = (
                ""
                if self.traced_peak_bytes is None
                else f" (peak {format_bytes(self.traced_peak_bytes)})"
            )
            parts.append(f"traced {_signed(self.traced_bytes, 'bytes')}{peak}")
        if self.retained_bytes is not None:
            holder = f", held by {self.retained[0].path}" if self.retained else ""
            native = f" + {format_bytes(self.retained_native_bytes)} native" if self.retained_native_bytes else ""
            parts.append(
                f"retained {self.retained_roots} root(s) of {format_bytes(self.retained_bytes)}{native}{holder}"
            )
        return ", ".join(parts)


@dataclass
class TrackVerdict:
    """The verdict over repeated calls, as ``memleak run`` gives it for iterations.

    ``verdict`` is ``LEAK``, ``RETAINS`` or ``CLEAN`` (see :mod:`memleak_cli.analysis.verdict`);
    ``trends`` are in unit per call; ``samples`` are the baseline, warm-up and measured samples
    (phases ``baseline``, ``warmup``, ``measure``): the operation's own levels after each call,
    the baseline plus the sum of the calls' differences. ``attribution`` holds what the last
    call retained when ``retained=True``. ``ambiguous`` says what may be misattributed (growth
    between calls left out, other threads running during calls), also appended to ``reason``;
    ``between_gc_objects``/``between_py_blocks`` are the process's growth between calls.
    """

    name: str
    verdict: str
    reason: str
    calls: int
    warmup: int
    measured: int
    trends: list[MetricTrend]
    samples: list[Sample]
    attribution: Attribution | None = None
    ambiguous: str = ""
    between_gc_objects: int = 0
    between_py_blocks: int = 0

    def trend(self, metric: str) -> MetricTrend | None:
        """The trend of *metric* (``gc_objects``, ``py_blocks``, ``rss_bytes``…), or ``None``."""
        return next((t for t in self.trends if t.metric == metric), None)

    def __str__(self) -> str:
        return f"{self.name}: {self.verdict} after {self.calls} calls ({self.measured} measured): {self.reason}"


class Tracker:
    """Measures calls of one operation; a context manager and a decorator (see :func:`track`).

    Attributes:
        name: the operation's name, in logs and results.
        calls: calls measured so far.
        result: the :class:`TrackResult` of the last call, ``None`` before the first.
    """

    def __init__(
        self,
        name: str,
        *,
        repeat: bool = False,
        warmup: int = RunSettings.warmup,
        traced: bool = False,
        frames: int = 1,
        retained: bool = False,
        top: int = 5,
        thresholds: Thresholds | None = None,
        metrics: Sequence[str] | None = None,
        keep: int = DEFAULT_KEEP,
        logger: logging.Logger | None = None,
        level: int | None = logging.INFO,
    ) -> None:
        if warmup < 0 or keep < MIN_TREND_POINTS or frames < 1 or top < 1:
            raise UsageError(
                f"track {name!r}: warmup must be >= 0, keep >= {MIN_TREND_POINTS}, frames and top >= 1"
            )
        unknown = sorted(set(metrics or ()) - set(METRICS))
        if unknown:
            raise UsageError(
                f"track {name!r}: unknown metric(s) {', '.join(unknown)}: use {', '.join(METRICS)}"
            )
        self.name = name
        self.repeat = repeat
        self.warmup = warmup
        self.traced = traced
        self.frames = frames
        self.retained = retained
        self.top = top
        self.thresholds = thresholds or Thresholds()
        self.metrics = tuple(metrics) if metrics is not None else None
        self.logger = logger or LOGGER
        self.level = level
        self.calls = 0
        self.result: TrackResult | None = None
        # Samples are kept as tuples of atomic values: the collector untracks such tuples, so
        # the tracker's own bookkeeping adds no gc-tracked object per call (it adds ~7 Python
        # heap blocks per call, far below the 64 blocks/call threshold, and stops at `keep`).
        self._baseline: tuple[Any, ...] | None = None
        self._warmup_samples: list[tuple[Any, ...]] = []
        self._measured: deque[tuple[Any, ...]] = deque(maxlen=keep)
        # the operation's own levels so far, and what the process gained between calls
        self._own: tuple[Any, ...] | None = None
        self._last_after: tuple[int, int] | None = None
        self._between = [0, 0]  # gc objects, Python blocks
        self._threaded_calls = 0
        self._depth = 0
        # The call in progress, as plain attributes: the sample before it as a flat tuple of
        # atomic values (the collector untracks it at the sample after the call), so a call's
        # own difference holds nothing of the tracker's; an object per call would read as +1 gc
        # object every call (a tuple subclass, such as a NamedTuple, is never untracked).
        self._in_call = False
        self._before: tuple[Any, ...] = ()
        self._started = 0.0
        self._window: AttributionWindow | None = None
        self._threaded = False

    # -- context manager -------------------------------------------------------------------
    def __enter__(self) -> Tracker:
        self._depth += 1
        if self._depth > 1:
            return self
        self._before = _as_tuple(take_sample(self.calls, "before", 0.0))
        window = None
        if self.traced or self.retained:
            from memleak_cli.measure.window import AttributionWindow

            # one call is the window: no priming run (the call is the user's, and runs once)
            window = AttributionWindow(frames=self.frames if self.traced else 0, top=self.top, sites=False, retained=self.retained)
            window.__enter__()
            window.mark()
        self._window = window
        self._threaded = threading.active_count() > 1
        self._in_call = True
        self._started = time.perf_counter()
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> Literal[False]:
        self._depth -= 1
        if self._depth > 0 or not self._in_call:
            return False
        seconds = time.perf_counter() - self._started
        self._in_call = False
        window, self._window = self._window, None
        traced = peak = None
        found: list[RetainedObject] = []
        retained_bytes = roots = native = None
        if window is not None:
            window_found = window.finish(1)
            window.__exit__(None, None, None)
            if self.traced:
                traced, peak = window_found.traced_growth_bytes, window_found.traced_peak_bytes
            if self.retained:
                found, retained_bytes, roots = window_found.retained, window_found.retained_bytes, window_found.retained_roots
                native = window_found.retained_native_bytes
            del window, window_found  # only the findings stay, and are left out of the difference
        index = self.calls
        phase = "warmup" if index < self.warmup else "measure"
        after = take_sample(index, phase, seconds)
        if found:
            after = dataclasses.replace(after, gc_objects=after.gc_objects - _tracked_in(found))
        self.calls += 1
        before = Sample(*self._before)
        self.result = TrackResult(
            name=self.name,
            call=index,
            seconds=seconds,
            rss_bytes=after.rss_bytes - before.rss_bytes,
            uss_bytes=_delta(after.uss_bytes, before.uss_bytes),
            heap_bytes=_delta(after.heap_bytes, before.heap_bytes),
            py_blocks=after.py_blocks - before.py_blocks,
            gc_objects=after.gc_objects - before.gc_objects,
            before=before,
            after=after,
            traced_bytes=traced,
            traced_peak_bytes=peak,
            retained_bytes=retained_bytes,
            retained_roots=roots,
            retained=found,
            retained_native_bytes=native,
        )
        if self.repeat:
            self._keep(before, after, index, self._threaded)
        if self.level is not None:
            # per call at DEBUG when repeating: the verdict is what matters then
            level = min(self.level, logging.DEBUG) if self.repeat else self.level
            if self.logger.isEnabledFor(level):
                self.logger.log(level, "%s", self.result.summary())
        return False

    def _keep(self, before: Sample, after: Sample, index: int, threaded: bool) -> None:
        if self._baseline is None or self._own is None:
            self._baseline = _as_tuple(dataclasses.replace(before, iteration=-1, phase="baseline"))
            self._own = self._baseline
        elif self._last_after is not None:
            self._between[0] += before.gc_objects - self._last_after[0]
            self._between[1] += before.py_blocks - self._last_after[1]
        self._last_after = (after.gc_objects, after.py_blocks)
        self._threaded_calls += threaded
        self._own = _own_levels(self._own, before, after)
        if index < self.warmup:
            self._warmup_samples.append(self._own)
        else:
            self._measured.append(self._own)

    # -- decorator -------------------------------------------------------------------------
    def __call__(self, func: F) -> F:
        """Measure every call of *func*; the wrapper has ``.tracker`` (this object)."""

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        wrapper.tracker = self  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    # -- verdict ---------------------------------------------------------------------------
    def samples(self) -> list[Sample]:
        """The kept samples as :class:`Sample` objects: baseline, warm-up, then measured calls."""
        kept = (
            ([self._baseline] if self._baseline is not None else [])
            + self._warmup_samples
            + list(self._measured)
        )
        return [Sample(*values) for values in kept]

    def verdict(self) -> TrackVerdict:
        """Judge the calls so far as ``memleak run`` judges iterations.

        The trends (:func:`memleak_cli.analysis.verdict.trends`, in unit per call) cover the
        measured calls after ``warmup``, restricted to ``metrics`` when given. ``RETAINS`` needs
        ``retained=True`` (what the last call left reachable).

        Raises:
            UsageError: the tracker was made without ``repeat=True``, or fewer than
                ``warmup + 3`` calls were measured.
        """
        if not self.repeat:
            raise UsageError(
                f"track {self.name!r}: a verdict needs the samples of many calls: use track(..., repeat=True)"
            )
        if len(self._measured) < MIN_TREND_POINTS:
            raise UsageError(
                f"track {self.name!r}: a verdict needs at least {self.warmup + MIN_TREND_POINTS} calls "
                f"(warm-up {self.warmup} + {MIN_TREND_POINTS} measured), got {self.calls}"
            )
        samples = self.samples()
        found = trends(samples, self.thresholds)
        if self.metrics is not None:
            found = [t for t in found if t.metric in self.metrics]
        attribution = None
        if self.retained and self.result is not None and self.result.retained_bytes is not None:
            attribution = Attribution(
                window_iterations=1,
                frames=self.frames if self.traced else 0,
                traced=self.traced,
                traced_growth_bytes=self.result.traced_bytes,
                traced_growth_per_iteration=self.result.traced_bytes,
                retained=list(self.result.retained),
                retained_bytes=self.result.retained_bytes,
                retained_roots=self.result.retained_roots or 0,
                retained_native_bytes=self.result.retained_native_bytes,
            )
        verdict, reason = judge(found, attribution, self.thresholds)
        ambiguous = self._ambiguity(verdict)
        if ambiguous:
            reason = f"{reason}; {ambiguous}"
        return TrackVerdict(
            name=self.name,
            verdict=verdict,
            reason=reason,
            calls=self.calls,
            warmup=min(self.warmup, self.calls),
            measured=len(self._measured),
            trends=found,
            samples=samples,
            attribution=attribution,
            ambiguous=ambiguous,
            between_gc_objects=self._between[0],
            between_py_blocks=self._between[1],
        )

    def _ambiguity(self, verdict: str) -> str:
        """What the verdict may misattribute: growth between calls (left out) when it is above
        the per-call thresholds, and other threads running during a call found leaking."""
        notes = []
        gaps = max(self.calls - 1, 1)
        objects, blocks = self._between
        if objects >= self.thresholds.gc_objects * gaps or blocks >= self.thresholds.py_blocks * gaps:
            notes.append(
                f"the process also grew between calls ({format_count(objects, signed=True)} gc objects, "
                f"{format_count(blocks, signed=True)} Python blocks over {gaps} gaps): other code, not counted here"
            )
        if verdict != "CLEAN" and self._threaded_calls:
            notes.append(
                f"other threads ran during {self._threaded_calls} call(s): growth they made inside a call "
                "counts for it (retained=True shows what the call itself left reachable)"
            )
        return "; ".join(notes)

    def reset(self) -> None:
        """Forget every call and sample (the settings stay)."""
        self.calls = 0
        self.result = None
        self._baseline = None
        self._warmup_samples.clear()
        self._measured.clear()
        self._own = None
        self._last_after = None
        self._between = [0, 0]
        self._threaded_calls = 0


def _as_tuple(sample: Sample) -> tuple[Any, ...]:
    return tuple(getattr(sample, name) for name in _SAMPLE_FIELDS)


_OWN_METRICS = frozenset(METRICS)


def _tracked_in(found: list[RetainedObject]) -> int:
    """gc-tracked objects reachable from the retained-object descriptions (the tracker's own:
    made inside a call and still alive at the sample after it)."""
    import gc

    seen = {id(found)}
    todo: list[object] = [found]
    while todo:
        for child in gc.get_referents(todo.pop()):
            if gc.is_tracked(child) and id(child) not in seen and not isinstance(child, type):
                seen.add(id(child))
                todo.append(child)
    return len(seen)


def _own_levels(own: tuple[Any, ...], before: Sample, after: Sample) -> tuple[Any, ...]:
    """*own* moved by one call's difference (after − before) on every judged metric; the other
    fields (iteration, phase, seconds, children) are the call's. ``None`` stays ``None``."""
    values = []
    for name, previous in zip(_SAMPLE_FIELDS, own, strict=True):
        now = getattr(after, name)
        if name in _OWN_METRICS:
            then = getattr(before, name)
            now = None if previous is None or now is None or then is None else previous + now - then
        values.append(now)
    return tuple(values)


def track(name: str, **options: Any) -> Tracker:
    """A :class:`Tracker` for the operation *name*: use it as ``with track(...)`` or ``@track(...)``.

    Options (keyword only):
        repeat: keep the sample after every call so that :meth:`Tracker.verdict` can judge them
            (default ``False``: each call is measured, logged and kept as ``.result`` only).
        warmup: first calls left out of the trend (default 2, as ``memleak run``).
        traced: also measure tracemalloc's net bytes and peak over each call (starts and stops
            tracemalloc around the call unless it is already on; slows the call down).
        frames: tracemalloc traceback depth when this tracker starts it (default 1).
        retained: also find what each call left reachable, with reference chains (slow).
        top: how many retained roots to describe (default 5).
        thresholds: a :class:`~memleak_cli.analysis.thresholds.Thresholds` (default: those of
            ``memleak run``; the per-iteration thresholds apply per call).
        metrics: judge only these metrics (e.g. ``("gc_objects", "py_blocks")``); default all.
        keep: measured samples kept for the verdict, the latest (default 1000), so a tracker on
            a long-running service stays bounded.
        logger, level: where each result is logged (default logger ``memleak.track`` at INFO;
            at DEBUG when ``repeat``); ``level=None`` logs nothing.

    Raises:
        UsageError: a negative warm-up, ``keep`` < 3, ``frames`` or ``top`` < 1, or an unknown
            metric.
    """
    return Tracker(name, **options)
