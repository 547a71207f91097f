"""pytest plugin: ``@pytest.mark.memleak`` runs a test body repeatedly and fails it when it leaks.

Registered through the ``pytest11`` entry point (``memleak = "memleak_cli.pytest_plugin"``), or
with ``pytest -p memleak_cli.pytest_plugin`` when memleak is importable but not installed::

    @pytest.mark.memleak(iterations=20, warmup=2, max_growth="8 KiB")
    def test_predict_does_not_leak(model):
        model.predict(batch)

The body runs in the test's own process (fixtures are set up once; only the body repeats):
``warmup`` calls, then ``iterations - warmup`` measured calls, each followed by a full
``gc.collect()`` and a reading of tracemalloc's traced memory (bytes of Python allocations,
deterministic for deterministic code). The growth per iteration is judged by the engine's
:func:`~memleak_cli.analysis.trend.fit_trend` (Theil–Sen slope, 95 % interval above zero,
sustained over the second half, consistency vote) against ``max_growth`` bytes per iteration:
a steady slope above it fails the test, with the slope and the top allocation sites of a
tracemalloc snapshot diff over the measured calls (:mod:`memleak_cli.probes.allocations`).

As pytest-memray's markers do (``src/pytest_memray/marks.py``), each marker is a function in
:data:`MARKERS` that returns ``None`` or a failure with a ``long_repr``. Works under
pytest-xdist: each worker measures its own tests. Output a test writes while captured is kept by
pytest and counts as growth, as it is memory the process holds.
"""

from __future__ import annotations

import array
import gc
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from memleak_cli.errors import UsageError
from memleak_cli.units import format_bytes, parse_size

MARKER = "memleak"
DEFAULT_ITERATIONS = 20
DEFAULT_WARMUP = 2
DEFAULT_MAX_GROWTH = 1024
DEFAULT_FRAMES = 10
DEFAULT_TOP = 5
MIN_MEASURED = 3


@dataclass(frozen=True)
class LeakOptions:
    """The marker's arguments, checked.

    Attributes:
        iterations: calls of the body in all, warm-up included.
        warmup: first calls left out of the trend.
        max_growth: bytes per iteration at or above which steady growth fails the test
            (as pytest-memray: a 2048-byte limit fails 2048 bytes).
        frames: tracemalloc traceback depth for the allocation sites.
        top: allocation sites shown in the failure.
    """

    iterations: int = DEFAULT_ITERATIONS
    warmup: int = DEFAULT_WARMUP
    max_growth: int = DEFAULT_MAX_GROWTH
    frames: int = DEFAULT_FRAMES
    top: int = DEFAULT_TOP


def _whole(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise UsageError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return value


def parse_marker(args: tuple[Any, ...], kwargs: dict[str, Any]) -> LeakOptions:
    """Check the marker's arguments (keywords only).

    Raises:
        UsageError: a positional argument, an unknown keyword or a bad value, as one line.
    """
    if args:
        raise UsageError(f"takes keyword arguments only (iterations=, warmup=, max_growth=, frames=, top=), got {args!r}")
    known = {"iterations", "warmup", "max_growth", "frames", "top"}
    unknown = sorted(set(kwargs) - known)
    if unknown:
        raise UsageError(f"unknown argument {unknown[0]!r}: use {', '.join(sorted(known))}")
    iterations = _whole("iterations", kwargs.get("iterations", DEFAULT_ITERATIONS), 1)
    warmup = _whole("warmup", kwargs.get("warmup", DEFAULT_WARMUP), 0)
    if iterations < warmup + MIN_MEASURED:
        raise UsageError(f"iterations={iterations} is too few: use at least {warmup + MIN_MEASURED} (warmup {warmup} + {MIN_MEASURED} measured)")
    raw = kwargs.get("max_growth", DEFAULT_MAX_GROWTH)
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)) or (not isinstance(raw, str) and raw < 0):
        raise UsageError(f"max_growth must be a size such as '8 KiB' or a number of bytes, got {raw!r}")
    try:
        max_growth = parse_size(str(raw))
    except UsageError as exc:
        raise UsageError(f"max_growth: {exc}") from None
    frames = _whole("frames", kwargs.get("frames", DEFAULT_FRAMES), 1)
    if frames > 100:
        raise UsageError(f"frames must be at most 100, got {frames}")
    top = _whole("top", kwargs.get("top", DEFAULT_TOP), 1)
    return LeakOptions(iterations, warmup, max_growth, frames, top)


@dataclass
class Measurement:
    """What the repeated calls measured: traced bytes after each measured call, and the sites.

    ``traced_bytes`` has the reading at the end of warm-up, then one per measured call (each
    after ``gc.collect()``), oldest first;
    ``sites`` are :class:`~memleak_cli.report.model.AllocationSite` of the growth between the
    end of warm-up and the last call; ``holders`` the reference paths whose object count grew by
    at least one per call between a heap walk before the first call and one after the last
    (:class:`~memleak_cli.report.model.GrowingPath`, :mod:`memleak_cli.probes.growth`).
    """

    traced_bytes: list[int] = field(default_factory=list)
    sites: list[Any] = field(default_factory=list)
    holders: list[Any] = field(default_factory=list)


def measure(call: Callable[[], object], options: LeakOptions) -> Measurement:
    """Call *call* ``options.iterations`` times under tracemalloc and measure traced memory.

    tracemalloc is started with ``options.frames`` frames unless it is already tracing (then
    left as it is). The readings go into a preallocated array so that keeping them allocates
    nothing per iteration. Exceptions of *call* propagate.
    """
    import tracemalloc

    from memleak_cli.measure.window import AttributionWindow
    from memleak_cli.probes.growth import growing_paths, walk

    measured = options.iterations - options.warmup
    readings = array.array("q", bytes(8 * (measured + 1)))
    # heap walks outside tracing: traced, each of the walk's allocations would cost a traceback
    first_walk = walk()
    with AttributionWindow(frames=options.frames, top=options.top, retained=False) as window:
        for _ in range(options.warmup):
            call()
        window.mark()
        for index in range(measured + 1):  # index 0 reads the state after warm-up, in the same loop
            if index:
                call()
            gc.collect()
            readings[index] = tracemalloc.get_traced_memory()[0]
        sites = window.finish(measured).sites
    holders = growing_paths([first_walk, walk()], [options.iterations])[: options.top]
    return Measurement(traced_bytes=readings.tolist(), sites=sites, holders=holders)


@dataclass(frozen=True)
class LeakFailure:
    """A marker's failure: ``long_repr`` is the text pytest shows."""

    long_repr: str


def _site_lines(sites: list[Any]) -> list[str]:
    from memleak_cli.reporters.summary import short_path

    lines = []
    for site in sites:
        own = f" (from {short_path(site.first_own_frame)})" if site.first_own_frame and site.first_own_frame != site.site else ""
        lines.append(f"    {format_bytes(site.size_diff_bytes, signed=True):>12} in {site.count_diff:+d} blocks  {short_path(site.site)}{own}")
    return lines


def memleak_marker(options: LeakOptions, measurement: Measurement) -> LeakFailure | None:
    """The ``memleak`` marker's verdict: ``None`` when the test does not leak, else the failure.

    Source: :func:`memleak_cli.analysis.trend.fit_trend` on ``measurement.traced_bytes`` with
    ``options.max_growth`` as the threshold (bytes per iteration).
    """
    from memleak_cli.analysis.trend import fit_trend

    trend = fit_trend("traced_bytes", "bytes", measurement.traced_bytes, float(options.max_growth))
    if not trend.leaking:
        return None
    total = measurement.traced_bytes[-1] - measurement.traced_bytes[0]
    lines = [
        f"memleak: LEAK — traced memory grows {format_bytes(trend.slope, signed=True)} per iteration "
        f"(max_growth {format_bytes(options.max_growth)}), {format_bytes(total, signed=True)} over "
        f"{len(measurement.traced_bytes) - 1} measured iterations after {options.warmup} warm-up",
        f"  {trend.reason}",
    ]
    for path in measurement.holders[:1]:  # the growing reference path leads the evidence
        lines.append(f"  held by {path.line()}")
        if path.leaf:
            lines.append(f"    {path.leaf}")
    if measurement.sites:
        lines.append("  top allocation sites (growth over the measured iterations, tracemalloc):")
        lines.extend(_site_lines(measurement.sites))
    return LeakFailure("\n".join(lines))


MARKERS: dict[str, Callable[[LeakOptions, Measurement], LeakFailure | None]] = {MARKER: memleak_marker}


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker so ``--strict-markers`` accepts it."""
    config.addinivalue_line(
        "markers",
        f"{MARKER}(iterations={DEFAULT_ITERATIONS}, warmup={DEFAULT_WARMUP}, max_growth='1 KiB', frames={DEFAULT_FRAMES}, "
        f"top={DEFAULT_TOP}): run the test body repeatedly in-process and fail when traced memory "
        "grows steadily by max_growth bytes per iteration or more",
    )


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Any:
    """Replace the marked test's function by one that calls it repeatedly and judges the growth."""
    marker = pyfuncitem.get_closest_marker(MARKER)
    if marker is None:
        return (yield)
    try:
        options = parse_marker(marker.args, dict(marker.kwargs))
    except UsageError as exc:
        pytest.fail(f"@pytest.mark.{MARKER}: {exc}", pytrace=False)
    original = pyfuncitem.obj
    if inspect.iscoroutinefunction(original):
        pytest.fail(f"@pytest.mark.{MARKER} does not support async tests", pytrace=False)

    def repeated(*args: Any, **kwargs: Any) -> None:
        measurement = measure(lambda: original(*args, **kwargs), options)
        failure = MARKERS[MARKER](options, measurement)
        if failure is not None:
            pytest.fail(failure.long_repr, pytrace=False)

    pyfuncitem.obj = repeated
    try:
        return (yield)
    finally:
        pyfuncitem.obj = original
