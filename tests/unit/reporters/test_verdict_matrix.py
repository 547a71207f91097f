"""``memleak run --all``: a crashing or unimportable scenario is reported as ERROR, the others still
run, the run ends with the scenario × variant matrix and exits 3 only at the end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from memleak_cli.errors import ScenarioError, UsageError
from memleak_cli.report.model import (
    Attribution,
    MetricTrend,
    RunReport,
    ScenarioResult,
    VariantResult,
)
from memleak_cli.reporters.terminal import TerminalReporter, lead_trend, render_matrix
from memleak_cli.scenarios.discovery import PACKAGE_ENV, builtin_scenarios, load_scenario
from tests.paths import ROOT

REPO = ROOT
PACKAGE = "memleak_test_all_scenarios"

CALM = '''
"""A scenario that allocates nothing that outlives an iteration."""
from memleak_cli.scenarios.contract import SIZES, Scenario, Variant


def steady(size):
    def run():
        return sum(range(size["n"]))
    return run


SCENARIO = Scenario(
    name="calm", description="sums a range", finding="", module=__name__,
    sizes={s: {"n": 1000} for s in SIZES},
    variants={"fixed": Variant("fixed", steady, expect="CLEAN")},
)
'''

BOOM = '''
"""A scenario whose factory raises, as a scenario whose model file is missing would."""
from memleak_cli.scenarios.contract import SIZES, Scenario, Variant


def explode(size):
    raise RuntimeError("boom: model file missing")


SCENARIO = Scenario(
    name="boom", description="factory raises", finding="", module=__name__,
    sizes={s: {} for s in SIZES},
    variants={"leaky": Variant("leaky", explode, expect="LEAK")},
)
'''

BROKEN = '''
import memleak_no_such_dependency  # noqa: F401  (the module cannot be imported)
'''


@pytest.fixture(scope="module")
def scenario_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A package of three test scenarios: ``calm`` (clean), ``boom`` (crashes), ``broken`` (does not import)."""
    root = tmp_path_factory.mktemp("scenarios")
    package = root / PACKAGE
    package.mkdir()
    (package / "__init__.py").write_text('"""Test scenarios for run --all."""\n')
    for name, text in {"calm": CALM, "boom": BOOM, "broken": BROKEN}.items():
        (package / f"{name}.py").write_text(textwrap.dedent(text))
    return root


@pytest.fixture
def test_package(scenario_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(scenario_dir))
    monkeypatch.setenv(PACKAGE_ENV, PACKAGE)
    return scenario_dir


def test_discovery_records_a_broken_module_and_finds_the_others(test_package: Path) -> None:
    broken: dict[str, str] = {}
    found = builtin_scenarios(broken)
    assert sorted(found) == ["boom", "calm"]
    assert list(broken) == [f"{PACKAGE}.broken"]
    assert "ModuleNotFoundError" in broken[f"{PACKAGE}.broken"]


def test_strict_discovery_still_raises_for_a_broken_module(test_package: Path) -> None:
    with pytest.raises(ScenarioError, match=rf"scenario module {PACKAGE}\.broken failed to import"):
        builtin_scenarios()


def test_load_scenario_is_not_stopped_by_an_unrelated_broken_module(test_package: Path) -> None:
    assert load_scenario("calm").name == "calm"
    with pytest.raises(UsageError, match=rf"unknown scenario 'nope'.*{PACKAGE}\.broken failed to import"):
        load_scenario("nope")


def test_run_all_reports_crashes_as_error_finishes_the_others_and_exits_3(scenario_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "all.json"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), str(scenario_dir)]), COLUMNS="200", **{PACKAGE_ENV: PACKAGE})
    done = subprocess.run(
        [sys.executable, "-m", "memleak_cli", "run", "--all", "--size", "small", "-n", "6", "--window", "0", "--json", str(out)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )
    assert done.returncode == 3, done.stderr
    report = json.loads(out.read_text())
    verdicts = {(s["name"], v["variant"]): v["verdict"] for s in report["scenarios"] for v in s["variants"]}
    assert verdicts == {("broken", "import"): "ERROR", ("boom", "leaky"): "ERROR", ("calm", "fixed"): "CLEAN"}
    assert "error: scenario crashed: boom/leaky: scenario raised RuntimeError: boom: model file missing" in done.stderr
    assert f"error: scenario crashed: broken/import: scenario module {PACKAGE}.broken failed to import" in done.stderr
    rows = {row.split(" | ")[0]: row for row in matrix_rows(done.stdout[done.stdout.index("All scenarios, size small"):])}
    assert "ERROR" in rows["boom"] and "RuntimeError: boom: model file missing" in rows["boom"]
    assert "ERROR" in rows["broken"] and "ModuleNotFoundError" in rows["broken"]
    assert "CLEAN" in rows["calm"] and "as expected" in rows["calm"]


def _trend(metric: str, unit: str, slope: float, leaking: bool) -> MetricTrend:
    return MetricTrend(
        metric=metric, unit=unit, slope=slope, slope_low=slope, slope_high=slope, late_slope=slope,
        positive_deltas=9 if leaking else 0, nonzero_deltas=9, deltas=9, threshold=1.0, first=0.0, last=9 * slope,
        leaking=leaking, reason="",
    )


def _report() -> RunReport:
    leaky = VariantResult(
        variant="leaky", expect="LEAK", verdict="LEAK", reason="", seconds=17.25,
        trends=[_trend("gc_objects", "objects", 0.0, False), _trend("py_blocks", "blocks", 130.0, True)],
        attribution=Attribution(window_iterations=3, frames=5, traced=True, traced_growth_bytes=0, traced_growth_per_iteration=0.0, retained_bytes=335_512),
    )
    fixed = VariantResult(
        variant="fixed", expect="CLEAN", verdict="RETAINS", reason="", seconds=2.0,
        trends=[_trend("gc_objects", "objects", 0.0, False)],
        attribution=Attribution(window_iterations=3, frames=5, traced=True, traced_growth_bytes=0, traced_growth_per_iteration=0.0, retained_bytes=80),
    )
    crashed = VariantResult(variant="leaky", expect="LEAK", verdict="ERROR", reason="scenario raised RuntimeError: boom\nsecond line", seconds=0.5)
    return RunReport(
        schema_version=1, tool_version="0", created="2026-11-29T00:00:00+00:00", command=["memleak"], host={},
        settings={"size": "small", "iterations": 12, "warmup": 2, "window": 3, "frames": 5},
        scenarios=[
            ScenarioResult(name="cache", description="d", finding="7", size="small", variants=[leaky, fixed]),
            ScenarioResult(name="boom", description="d", finding="", size="small", variants=[crashed]),
        ],
    )


def matrix_rows(text: str) -> list[str]:
    """The body rows of a rendered matrix, each with its wrapped continuation lines joined cell by cell."""
    rows: list[list[str]] = []
    for line in text.splitlines():
        if line.count("│") < 4:
            continue
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if cells[1]:  # the variant cell starts a row
            rows.append(cells)
        elif rows:
            rows[-1] = [f"{a} {b}".strip() for a, b in zip(rows[-1], cells, strict=True)]
    return [" | ".join(cells) for cells in rows]


def test_matrix_rows_show_verdict_lead_growth_retained_time_and_crash_message() -> None:
    stream = StringIO()
    render_matrix(_report(), Console(file=stream, width=120, color_system=None))
    rows = matrix_rows(stream.getvalue())
    assert len(rows) == 3
    cache_leaky, cache_fixed, boom = rows
    for cell in ("cache", "leaky", "LEAK", "+130 blocks (Python heap blocks)", "327.6 KiB", "17.2 s", "as expected"):
        assert cell in cache_leaky
    for cell in ("fixed", "RETAINS", "+0 objects (gc objects)", "80 B", "2.0 s", "expected CLEAN"):
        assert cell in cache_fixed
    for cell in ("boom", "ERROR", "n/a", "scenario raised RuntimeError: boom"):
        assert cell in boom
    assert "second line" not in stream.getvalue()


def test_lead_trend_is_the_first_leaking_metric_else_the_first() -> None:
    report = _report()
    assert lead_trend(report.scenarios[0].variants[0]).metric == "py_blocks"  # type: ignore[union-attr]
    assert lead_trend(report.scenarios[0].variants[1]).metric == "gc_objects"  # type: ignore[union-attr]
    assert lead_trend(report.scenarios[1].variants[0]) is None


def test_terminal_report_ends_with_the_matrix_only_for_several_scenarios() -> None:
    report = _report()
    many = StringIO()
    TerminalReporter(width=120, color=False).render(report, many)
    assert "All scenarios, size small" in many.getvalue()
    assert many.getvalue().rindex("All scenarios") > many.getvalue().rindex("summary")
    report.scenarios = report.scenarios[:1]
    one = StringIO()
    TerminalReporter(width=120, color=False).render(report, one)
    assert "All scenarios" not in one.getvalue()
