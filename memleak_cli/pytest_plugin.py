"""pytest plugin: judge tests for leaks with ``memleak run``'s verdict, per marker or over the whole suite.

Registered through the ``pytest11`` entry point (``memleak = "memleak_cli.pytest_plugin"``), or
with ``pytest -p memleak_cli.pytest_plugin`` when memleak is importable but not installed.

* ``@pytest.mark.memleak(iterations=20, warmup=2, max_growth="8 KiB", …)`` judges one test:
  its body runs ``iterations`` times (fixtures are set up once; only the body repeats), traced
  by tracemalloc, and fails on steady traced growth of ``max_growth`` per call or more, or on
  the verdict of ``memleak run`` (gc objects, Python heap blocks, the C heap beyond the traced
  bytes, RSS after ``malloc_trim``…). ``enabled=False`` opts a test out of the whole-suite mode.
* ``pytest --memleak[=W:N]`` judges every selected test that is not marked: W warm-up and N
  measured calls (default 2:10), untraced, with the same thresholds and the same extension of
  undecided growth (doubling up to 4 × the calls) as ``memleak run``; a LEAK fails the test.
* ``--memleak-native`` adds memray's leaked native allocations, grouped by stack, for a LEAK.
* ``--memleak-baseline FILE`` records each judged test's growth when FILE does not exist, and
  otherwise fails a test whose growth exceeds its baseline by ``--memleak-tolerance`` (the gate's
  rules: :func:`memleak_cli.analysis.gate.evaluate`); ``--memleak-update-baseline`` rewrites it.
* ``--memleak-json PATH`` writes the session as ``memleak run``'s JSON report (one scenario per
  test), which ``memleak report`` draws as HTML; a summary table ends the session.

The measurement is :func:`memleak_cli.measure.repeat.measure`. As pytest-memray's markers do
(``src/pytest_memray/marks.py``), each marker is a function in :data:`MARKERS` that returns
``None`` or a failure with a ``long_repr``. Under pytest-xdist each worker measures its own
tests and sends each result in the report's ``user_properties``; the controller gathers them
for the summary, the JSON report and the baseline. Without ``--memleak`` and without a marker
the plugin costs one marker lookup per test.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from memleak_cli.errors import UsageError
from memleak_cli.units import format_bytes, format_count, parse_size

MARKER = "memleak"
DEFAULT_ITERATIONS = 20
DEFAULT_WARMUP = 2
DEFAULT_MAX_GROWTH = 1024
DEFAULT_FRAMES = 10
DEFAULT_TOP = 5
DEFAULT_WINDOW = 3
MIN_MEASURED = 3
DEFAULT_SUITE = "2:10"  # --memleak without a value: warm-up calls : measured calls
EXTEND_FACTOR = 4  # as memleak run: undecided growth runs up to this many × the calls
PROPERTY = "memleak"  # the user_properties key that carries a test's result
KNOWN = ("enabled", "frames", "iterations", "max_growth", "top", "warmup", "window")


@dataclass(frozen=True)
class LeakOptions:
    """The marker's arguments, checked.

    Attributes:
        iterations: calls of the body that make the trend, warm-up included.
        warmup: first calls left out of the trend.
        max_growth: traced bytes per iteration at or above which steady growth fails the test
            (as pytest-memray: a 2048-byte limit fails 2048 bytes).
        frames: tracemalloc traceback depth for the allocation sites.
        top: allocation sites, holders and native stacks shown in the failure.
        window: attribution calls after the trend (plus one priming call).
        enabled: ``False`` leaves the test out of ``--memleak``.
    """

    iterations: int = DEFAULT_ITERATIONS
    warmup: int = DEFAULT_WARMUP
    max_growth: int = DEFAULT_MAX_GROWTH
    frames: int = DEFAULT_FRAMES
    top: int = DEFAULT_TOP
    window: int = DEFAULT_WINDOW
    enabled: bool = True


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
        raise UsageError(f"takes keyword arguments only ({', '.join(k + '=' for k in KNOWN)}), got {args!r}")
    unknown = sorted(set(kwargs) - set(KNOWN))
    if unknown:
        raise UsageError(f"unknown argument {unknown[0]!r}: use {', '.join(KNOWN)}")
    enabled = kwargs.get("enabled", True)
    if not isinstance(enabled, bool):
        raise UsageError(f"enabled must be True or False, got {enabled!r}")
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
    window = _whole("window", kwargs.get("window", DEFAULT_WINDOW), 0)
    return LeakOptions(iterations, warmup, max_growth, frames, top, window, enabled)


def parse_suite(text: str) -> tuple[int, int]:
    """``--memleak-calls W:N`` → ``(warm-up calls, measured calls)``.

    Raises:
        UsageError: not two whole numbers, or fewer than 3 measured calls.
    """
    parts = str(text).split(":")
    try:
        warmup, measured = (int(p) for p in parts) if len(parts) == 2 else (None, None)
    except ValueError:
        warmup = measured = None
    if warmup is None or measured is None or warmup < 0:
        raise UsageError(f"--memleak takes W:N (warm-up calls : measured calls), e.g. {DEFAULT_SUITE}; got {text!r}")
    if measured < MIN_MEASURED:
        raise UsageError(f"--memleak-calls {text}: use at least {MIN_MEASURED} measured calls")
    return warmup, measured


@dataclass
class Measurement:
    """What the repeated calls measured, as the marker functions read it.

    ``traced_bytes`` has the traced bytes at the end of warm-up, then one reading per measured
    call (each after ``gc.collect()``); ``sites`` are the allocation sites
    (:class:`~memleak_cli.report.model.AllocationSite`); ``holders`` the growing reference paths
    (:class:`~memleak_cli.report.model.GrowingPath`); ``result`` the verdict of ``memleak run``
    over the cheap samples (:class:`~memleak_cli.report.model.VariantResult`, ``None`` when only
    the traced bytes were measured).
    """

    traced_bytes: list[int] = field(default_factory=list)
    sites: list[Any] = field(default_factory=list)
    holders: list[Any] = field(default_factory=list)
    result: Any = None
    traced_trend: Any = None


def plan_of(options: LeakOptions, *, traced: bool, native: bool, trace_window: bool) -> Any:
    """The :class:`~memleak_cli.measure.repeat.Plan` for *options*."""
    from memleak_cli.measure.repeat import Plan

    return Plan(
        iterations=options.iterations, warmup=options.warmup, max_iterations=EXTEND_FACTOR * options.iterations,
        window=options.window, frames=options.frames, top=options.top,
        max_growth=options.max_growth if traced else None, native=native, trace_window=trace_window,
    )


def measure(call: Callable[[], object], options: LeakOptions, *, traced: bool = True, native: bool = False, trace_window: bool = False) -> Measurement:
    """Repeat *call* as *options* say (:func:`memleak_cli.measure.repeat.measure`). Exceptions of *call* propagate."""
    from memleak_cli.measure.repeat import measure as repeat

    found = repeat(call, plan_of(options, traced=traced, native=native, trace_window=trace_window))
    result = found.result
    sites = result.attribution.sites if result.attribution is not None else []
    return Measurement(found.traced_bytes, sites, result.holders, result, found.traced_trend)


@dataclass(frozen=True)
class LeakFailure:
    """A marker's failure: ``long_repr`` is the text pytest shows."""

    long_repr: str


def _clean(text: object) -> str:
    from memleak_cli.reporters.text import for_terminal

    return for_terminal(text)


def _site_lines(sites: list[Any]) -> list[str]:
    from memleak_cli.reporters.summary import short_path

    lines = []
    for site in sites:
        own = f" (from {short_path(site.first_own_frame)})" if site.first_own_frame and site.first_own_frame != site.site else ""
        lines.append(_clean(f"    {format_bytes(site.size_diff_bytes, signed=True):>12} in {site.count_diff:+d} blocks  {short_path(site.site)}{own}"))
    return lines


_LABELS = {"gc_objects": "gc objects", "py_blocks": "Python heap blocks", "heap_bytes": "C heap", "rss_trimmed_bytes": "RSS after trim",
           "uss_bytes": "USS", "rss_bytes": "RSS", "fds": "descriptors", "threads": "threads"}


def _per_iteration(trend: Any) -> str:
    value = format_bytes(trend.slope, signed=True) if trend.unit == "bytes" else f"{format_count(trend.slope, signed=True)} {trend.unit}"
    return f"{_LABELS.get(trend.metric, trend.metric)} {value}"


def growth_line(result: Any) -> str:
    """``growth per iteration: C heap +256.0 KiB, RSS after trim +260.0 KiB, gc objects +0 …``."""
    shown = [t for t in result.trends if t.metric in ("gc_objects", "py_blocks", "heap_bytes", "rss_trimmed_bytes") or t.leaking]
    return "growth per iteration: " + ", ".join(_per_iteration(t) + (" (LEAK)" if t.leaking and not t.informational else "") for t in shown)


def evidence_lines(result: Any, top: int) -> list[str]:
    """The holder (growing reference path, else the retained root's chain), then memray's stacks."""
    lines = []
    for path in result.holders[:1]:
        lines.append(_clean(f"  held by {path.line()}"))
        if path.leaf:
            lines.append(_clean(f"    {path.leaf}"))
    attribution = result.attribution
    if not result.holders and attribution is not None and attribution.retained:
        root = attribution.retained[0]
        lines.append(_clean(f"  retained: {root.type_name} {format_bytes(root.size_bytes)} held by {root.path}"))
        lines.extend(_clean(f"    {step}") for step in root.chain[:6])
    if attribution is not None and attribution.native:
        if attribution.native_error:
            lines.append(_clean(f"  native (memray): {attribution.native_error}"))
        elif attribution.native_sites:
            lines.append(f"  native allocations alive after {attribution.native_iterations} calls (memray), "
                         f"{format_bytes(attribution.native_growth_bytes or 0)} in all, top stacks:")
            for site in attribution.native_sites[:top]:
                where = site.native_frame or site.allocator_frame or "?"
                lines.append(_clean(f"    {format_bytes(site.size_bytes):>12} in {site.count} blocks  {site.allocator} in {where}"))
                lines.extend(_clean(f"        {frame}") for frame in site.stack[:4])
        else:
            lines.append("  native (memray): no native allocation alive after the calls (ctypes' dlsym'd malloc is invisible to memray)")
    return lines


def memleak_marker(options: LeakOptions, measurement: Measurement) -> LeakFailure | None:
    """The ``memleak`` marker's verdict: ``None`` when the test does not leak, else the failure.

    Fails on steady traced growth of ``options.max_growth`` bytes per iteration or more
    (:func:`memleak_cli.analysis.trend.fit_trend`), or when ``memleak run``'s verdict on the cheap
    samples is LEAK. The text leads with the verdict and the growth per iteration, then the
    holder, then the allocation sites.
    """
    from memleak_cli.analysis.trend import fit_trend

    trend = measurement.traced_trend
    if trend is None and measurement.traced_bytes:
        trend = fit_trend("traced_bytes", "bytes", measurement.traced_bytes, float(options.max_growth))
    result = measurement.result
    lines: list[str] = []
    if trend is not None and trend.leaking:
        total = measurement.traced_bytes[-1] - measurement.traced_bytes[0]
        lines += [
            f"memleak: LEAK — traced memory grows {format_bytes(trend.slope, signed=True)} per iteration "
            f"(max_growth {format_bytes(options.max_growth)}), {format_bytes(total, signed=True)} over "
            f"{len(measurement.traced_bytes) - 1} measured iterations after {options.warmup} warm-up",
            f"  {trend.reason}",
        ]
    elif result is not None and result.verdict == "LEAK":
        lines.append(_clean(f"memleak: LEAK — {result.reason}"))
    else:
        return None
    if result is not None:
        lines.append("  " + growth_line(result))
        lines += evidence_lines(result, options.top)
    else:
        for path in measurement.holders[:1]:
            lines.append(_clean(f"  held by {path.line()}"))
    if measurement.sites:
        lines.append("  top allocation sites (growth over the measured iterations, tracemalloc):")
        lines.extend(_site_lines(measurement.sites))
    return LeakFailure("\n".join(lines))


MARKERS: dict[str, Callable[[LeakOptions, Measurement], LeakFailure | None]] = {MARKER: memleak_marker}


# --- session state and hooks ------------------------------------------------------------------
@dataclass
class Session:
    """The plugin's state for one pytest session (``config.stash``)."""

    suite: LeakOptions | None = None
    native: bool = False
    baseline_path: Path | None = None
    baseline: Any = None
    tolerance: Any = None
    update_baseline: bool = False
    json_path: Path | None = None
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    not_judged: dict[str, str] = field(default_factory=dict)


SESSION = pytest.StashKey[Session]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("memleak", "memory-leak checks (memleak)")
    # a flag, not nargs="?": `pytest --memleak tests/` must not read tests/ as W:N
    group.addoption("--memleak", action="store_const", const=DEFAULT_SUITE, default=None,
                    help=f"judge every selected test with memleak's verdict ({DEFAULT_SUITE} calls: see --memleak-calls)")
    group.addoption("--memleak-calls", default=None, metavar="W:N", help="warm-up and measured calls per test; implies --memleak")
    group.addoption("--memleak-native", action="store_true", default=None,
                    help="for a leaking test, show memray's leaked native allocations grouped by stack (needs memray)")
    group.addoption("--memleak-baseline", default=None, metavar="FILE",
                    help="record each judged test's growth in FILE when it does not exist; else fail tests whose growth exceeds it")
    group.addoption("--memleak-tolerance", default=None, metavar="TOL",
                    help="how far growth may exceed the baseline: 50%%, 16KiB or both [50%%,16KiB]")
    group.addoption("--memleak-update-baseline", action="store_true", default=None, help="rewrite --memleak-baseline with this session's growth")
    group.addoption("--memleak-json", default=None, metavar="PATH",
                    help="write the session as memleak's JSON report (memleak report draws it as HTML)")


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker so ``--strict-markers`` accepts it, and read the options."""
    config.addinivalue_line(
        "markers",
        f"{MARKER}(iterations={DEFAULT_ITERATIONS}, warmup={DEFAULT_WARMUP}, max_growth='1 KiB', frames={DEFAULT_FRAMES}, "
        f"top={DEFAULT_TOP}, window={DEFAULT_WINDOW}, enabled=True): run the test body repeatedly in-process and fail when "
        "traced memory grows steadily by max_growth bytes per iteration or more, or memleak's verdict is LEAK",
    )
    state = Session()
    try:
        suite = config.getoption("memleak_calls", None) or config.getoption("memleak", None)
        if suite is not None:
            warmup, measured = parse_suite(suite)
            state.suite = LeakOptions(iterations=warmup + measured, warmup=warmup)
        state.native = bool(config.getoption("memleak_native", None))
        state.update_baseline = bool(config.getoption("memleak_update_baseline", None))
        baseline = config.getoption("memleak_baseline", None)
        if baseline is not None:
            from memleak_cli.analysis.tolerance import DEFAULT_TOLERANCE, parse_tolerance
            from memleak_cli.report.baseline import read_baseline

            state.baseline_path = Path(baseline)
            state.tolerance = parse_tolerance(config.getoption("memleak_tolerance", None) or DEFAULT_TOLERANCE)
            state.baseline = None if state.update_baseline else read_baseline(state.baseline_path)
        json_path = config.getoption("memleak_json", None)
        state.json_path = Path(json_path) if json_path else None
    except UsageError as exc:
        raise pytest.UsageError(f"memleak: {exc}") from None
    except Exception as exc:  # an unreadable baseline (ReportFileError…)
        if type(exc).__module__.startswith("memleak_cli"):
            raise pytest.UsageError(f"memleak: {exc}") from None
        raise
    config.stash[SESSION] = state
    config.pluginmanager.register(_Gatherer(state), "memleak-gatherer")


def _options_for(item: pytest.Function, state: Session) -> tuple[LeakOptions | None, bool]:
    """``(options, marked)``: the test's settings, ``None`` when it is not judged."""
    marker = item.get_closest_marker(MARKER)
    if marker is None:
        return state.suite, False
    try:
        options = parse_marker(marker.args, dict(marker.kwargs))
    except UsageError as exc:
        pytest.fail(f"@pytest.mark.{MARKER}: {exc}", pytrace=False)
    return (options if options.enabled else None), True


def _regression(nodeid: str, result: Any, state: Session) -> list[str]:
    """The gate's failures of *result* against the baseline (empty: none, or no baseline)."""
    if state.baseline is None or state.baseline_path is None:
        return []
    from memleak_cli.analysis.gate import evaluate

    gate = evaluate(_report([(nodeid, result)], {}), state.baseline, state.tolerance, state.baseline_path)
    return [failure for check in gate.checks for failure in check.failures]


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Any:
    """Replace a judged test's function by one that calls it repeatedly and judges the growth."""
    state = pyfuncitem.config.stash.get(SESSION, None)
    if state is None or (state.suite is None and pyfuncitem.get_closest_marker(MARKER) is None):
        return (yield)
    options, marked = _options_for(pyfuncitem, state)
    if options is None:
        return (yield)
    original = pyfuncitem.obj
    if inspect.iscoroutinefunction(original) or inspect.isasyncgenfunction(original):
        if marked:
            pytest.fail(f"@pytest.mark.{MARKER} does not support async tests: the event-loop plugin runs the body once", pytrace=False)
        pyfuncitem.user_properties.append((PROPERTY, {"not_judged": "async test: the event-loop plugin runs the body once"}))
        return (yield)

    def repeated(*args: Any, **kwargs: Any) -> None:
        measurement = measure(lambda: original(*args, **kwargs), options, traced=marked, native=state.native,
                              trace_window=state.baseline_path is not None)
        failure = MARKERS[MARKER](options, measurement)
        regressions = _regression(pyfuncitem.nodeid, measurement.result, state)
        payload = {"result": dataclasses.asdict(measurement.result), "failed": failure is not None, "regressions": regressions,
                   "lead": lead_text(measurement)}
        pyfuncitem.user_properties.append((PROPERTY, payload))
        text = [failure.long_repr] if failure is not None else []
        if regressions:
            text.append("memleak: REGRESSION against the baseline " + _clean(str(state.baseline_path)) + ":")
            text.extend(_clean(f"  {line}") for line in regressions)
            if failure is None:
                text.append("  " + growth_line(measurement.result))
        if text:
            pytest.fail("\n".join(text), pytrace=False)

    pyfuncitem.obj = repeated
    try:
        return (yield)
    finally:
        pyfuncitem.obj = original


class _Gatherer:
    """Gathers each judged test's result from the reports (this process's or an xdist worker's)."""

    def __init__(self, state: Session) -> None:
        self.state = state

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call" or not report.user_properties:
            return
        for name, value in report.user_properties:
            if name != PROPERTY or not isinstance(value, dict):
                continue
            if "not_judged" in value:
                self.state.not_judged[report.nodeid] = value["not_judged"]
            else:
                self.state.results[report.nodeid] = value


def _decoded(nodeid: str, payload: dict[str, Any]) -> Any:
    from memleak_cli.report.jsonio import decode
    from memleak_cli.report.model import VariantResult

    return decode(VariantResult, payload["result"], nodeid)


def _report(results: list[tuple[str, Any]], settings: dict[str, Any]) -> Any:
    """A :class:`~memleak_cli.report.model.RunReport` with one scenario per test."""
    import datetime as dt
    import sys

    from memleak_cli import __version__
    from memleak_cli.report.model import SCHEMA_VERSION, RunReport, ScenarioResult

    return RunReport(
        schema_version=SCHEMA_VERSION, tool_version=__version__,
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), command=["pytest", *sys.argv[1:]],
        host={"python": sys.version.split()[0]}, settings=settings,
        scenarios=[ScenarioResult(name=nodeid, description="pytest test", finding="", size="pytest", variants=[result]) for nodeid, result in results],
    )


def lead_text(measurement: Measurement) -> tuple[float, str]:
    """``(size for sorting, text)`` of a measurement's worst growth: the leaking metric, else what it retains."""
    result = measurement.result
    trend = measurement.traced_trend
    if trend is not None and trend.leaking:
        return float(trend.slope), f"traced {format_bytes(trend.slope, signed=True)}/it"
    leaking = [t for t in result.trends if t.leaking and not t.informational]
    if leaking:
        return abs(leaking[0].slope), _per_iteration(leaking[0]) + "/it"
    if result.verdict == "RETAINS" and result.attribution is not None:
        return float(result.attribution.retained_total_bytes()), f"keeps {result.attribution.retained_text()}"
    return 0.0, ""


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """The summary table: tests judged, LEAK / RETAINS / CLEAN, regressions, the worst offenders."""
    state = config.stash.get(SESSION, None)
    if state is None or not (state.results or state.not_judged):
        return
    results = {nodeid: _decoded(nodeid, payload) for nodeid, payload in state.results.items()}
    counts = {verdict: sum(r.verdict == verdict for r in results.values()) for verdict in ("LEAK", "RETAINS", "CLEAN")}
    regressed = [nodeid for nodeid, payload in state.results.items() if payload.get("regressions")]
    seconds = sum(r.seconds for r in results.values())
    terminalreporter.write_sep("=", "memleak")
    line = f"{len(results)} tests judged: {counts['LEAK']} LEAK, {counts['RETAINS']} RETAINS, {counts['CLEAN']} CLEAN"
    if state.baseline_path is not None:
        line += f"; {len(regressed)} over the baseline"
    if state.not_judged:
        line += f"; {len(state.not_judged)} not judged"
    terminalreporter.write_line(f"{line} ({seconds:.1f} s measuring)")
    rank = {"LEAK": 0, "RETAINS": 1}
    worst = sorted(((rank.get(r.verdict, 2), -state.results[nodeid]["lead"][0], state.results[nodeid]["lead"][1], nodeid, r)
                    for nodeid, r in results.items() if r.verdict != "CLEAN"), key=lambda row: row[:2])
    for _, _, lead, nodeid, result in worst[:10]:
        terminalreporter.write_line(_clean(f"  {result.verdict:8} {lead:<34} {nodeid}"))
    for nodeid in regressed:
        terminalreporter.write_line(_clean(f"  {'OVER':8} {'growth over the baseline':<34} {nodeid}"))
    for nodeid, why in list(state.not_judged.items())[:5]:
        terminalreporter.write_line(_clean(f"  {'SKIPPED':8} {why:<34} {nodeid}"))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The controller writes the JSON report and records the baseline (never an xdist worker)."""
    config = session.config
    state = config.stash.get(SESSION, None)
    if state is None or hasattr(config, "workerinput") or not state.results:
        return
    results = [(nodeid, _decoded(nodeid, payload)) for nodeid, payload in state.results.items()]
    suite = state.suite
    settings = {"mode": "pytest", "warmup": suite.warmup if suite else None, "iterations": suite.iterations if suite else None,
                "window": DEFAULT_WINDOW, "native": state.native}
    if state.json_path is not None:
        from memleak_cli.report.jsonio import write_report

        write_report(_report(results, settings), state.json_path)
    if state.baseline_path is not None and (state.update_baseline or not state.baseline_path.exists()):
        from memleak_cli.report.baseline import baseline_from_report, read_baseline, write_baseline

        previous = read_baseline(state.baseline_path) if state.baseline_path.exists() else None
        write_baseline(baseline_from_report(_report(results, settings), previous), state.baseline_path)
