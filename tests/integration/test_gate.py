"""The regression gate and its baseline: expectations, tolerance edges, JUnit XML, bad files."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memleak_cli.analysis.gate import (
    check_baseline_size,
    evaluate,
)
from memleak_cli.analysis.tolerance import Tolerance
from memleak_cli.cli.app import app
from memleak_cli.errors import ReportFileError, ScenarioError, UsageError
from memleak_cli.report.baseline import (
    Baseline,
    Measures,
    baseline_from_report,
    baseline_to_dict,
    read_baseline,
    write_baseline,
)
from memleak_cli.report.jsonio import write_report
from memleak_cli.report.model import Attribution, RunReport, ScenarioResult, VariantResult
from memleak_cli.reporters.gate import junit_tree, summary_lines, write_junit
from tests.paths import TESTS

LEAKS = TESTS / "user_code" / "leaks.py"
FAST = ["--size", "small", "-n", "6", "--warmup", "1", "--window", "2", "--frames", "1"]
TOL = Tolerance(0.5, 1000.0)


def variant(name="main", verdict="CLEAN", expect="CLEAN", growth=100.0, retained=200, reason="why", traced=True):
    attribution = Attribution(
        window_iterations=2, frames=1, traced=traced, traced_growth_bytes=None if growth is None else growth * 2,
        traced_growth_per_iteration=growth if traced else None, retained_bytes=retained,
    )
    return VariantResult(variant=name, expect=expect, verdict=verdict, reason=reason, attribution=attribution, seconds=1.5)


def report_of(*scenarios: tuple[str, list[VariantResult]], size="small") -> RunReport:
    report = RunReport(schema_version=1, tool_version="0", created="now", command=["memleak"], host={}, settings={"size": size})
    for name, variants in scenarios:
        report.scenarios.append(ScenarioResult(name=name, description="", finding="", size=size, variants=variants))
    return report


def baseline_of(entries: dict[str, dict[str, Measures]], size="small") -> Baseline:
    return Baseline(size=size, created="then", tool_version="0", settings={}, entries=entries)


def measures(growth=100.0, retained=200.0, source="tracemalloc", verdict="CLEAN", expect="CLEAN") -> Measures:
    return Measures(verdict, expect, growth, source, retained)


# --- evaluate -----------------------------------------------------------------------------------
def test_clean_as_expected_passes_without_baseline_and_says_so():
    result = evaluate(report_of(("s", [variant()])), None, TOL, Path("reports/baseline.json"))
    assert result.passed
    assert result.notes == [
        "no baseline at reports/baseline.json: checked expectations only; run 'memleak baseline update' to record one"
    ]


def test_expected_clean_but_leaks_fails():
    result = evaluate(report_of(("s", [variant(verdict="LEAK", reason="grows")])), None, TOL, Path("b.json"))
    assert [c.failures for c in result.checks] == [["expected CLEAN, got LEAK: grows"]]


def test_expected_leak_that_leaks_passes():
    result = evaluate(report_of(("s", [variant("leaky", verdict="LEAK", expect="LEAK")])), None, TOL, Path("b.json"))
    assert result.passed


def test_crash_fails_as_an_error():
    result = evaluate(report_of(("s", [variant(verdict="ERROR", reason="scenario raised ValueError: x")])), None, TOL, Path("b"))
    assert result.checks[0].crashed and result.checks[0].failures == ["crashed: scenario raised ValueError: x"]


@pytest.mark.parametrize(
    ("growth", "passes"),
    [(15_000.0, True), (15_001.0, False)],  # baseline 10 000 B/it, 50% → limit 15 000 B/it
)
def test_growth_threshold_edge_relative(growth, passes):
    base = baseline_of({"s": {"main": measures(growth=10_000.0)}})
    result = evaluate(report_of(("s", [variant(growth=growth)])), base, TOL, Path("b"))
    assert result.passed is passes
    if not passes:
        assert result.checks[0].failures == [
            "growth per iteration +14.6 KiB exceeds the baseline +9.8 KiB by more than 50%, 1000 B (limit +14.6 KiB)"
        ]


@pytest.mark.parametrize(("retained", "passes"), [(1_200, True), (1_201, False)])
def test_retained_threshold_edge_absolute_floor(retained, passes):
    base = baseline_of({"s": {"main": measures(retained=200.0)}})  # 50% of 200 < floor 1000 → limit 1200
    result = evaluate(report_of(("s", [variant(retained=retained)])), base, TOL, Path("b"))
    assert result.passed is passes
    if not passes:
        assert result.checks[0].failures == ["retained size 1.2 KiB exceeds the baseline 200 B by more than 50%, 1000 B (limit 1.2 KiB)"]


def test_lower_than_baseline_passes():
    base = baseline_of({"s": {"main": measures(growth=50_000.0, retained=90_000.0)}})
    assert evaluate(report_of(("s", [variant(growth=-10.0, retained=0)])), base, TOL, Path("b")).passed


def test_variant_missing_from_baseline_is_a_note():
    base = baseline_of({"other": {"main": measures()}})
    result = evaluate(report_of(("s", [variant(growth=1e9)])), base, TOL, Path("b"))
    assert result.passed and result.checks[0].notes == ["not in the baseline: checked the expectation only"]


def test_growth_measured_differently_is_not_compared():
    base = baseline_of({"s": {"main": measures(growth=0.0, source="heap_bytes")}})
    result = evaluate(report_of(("s", [variant(growth=1e9)])), base, TOL, Path("b"))
    assert result.passed
    assert result.checks[0].notes == ["growth measured by tracemalloc, baseline by heap_bytes: growth not compared"]


def test_baseline_of_another_size_is_refused():
    with pytest.raises(UsageError) as info:
        check_baseline_size(baseline_of({}, size="medium"), "small", Path("reports/baseline.json"))
    assert str(info.value) == (
        "baseline reports/baseline.json was recorded at size 'medium', the gate runs at 'small': "
        "use --size medium or run 'memleak baseline update --size small'"
    )


# --- output -------------------------------------------------------------------------------------
def _mixed_result():
    base = baseline_of({"s": {"fixed": measures(growth=0.0, retained=0.0)}})
    report = report_of(("s", [
        variant("leaky", verdict="LEAK", expect="LEAK", growth=4096.0, retained=8192),
        variant("fixed", verdict="LEAK", expect="CLEAN", growth=2048.0, reason="grows <fast> & \"hard\""),
    ]), ("t", [variant(verdict="ERROR", reason="the measuring process killed by signal SIGKILL after 3 samples")]))
    return evaluate(report, base, TOL, Path("reports/baseline.json"))


def test_summary_lines():
    assert summary_lines(_mixed_result()) == [
        "memleak gate: FAIL — 1 of 3 checks passed (size small, baseline reports/baseline.json, tolerance 50%, 1000 B)",
        "PASS  s/leaky: LEAK (expected LEAK), growth +4.0 KiB/it, retained 8.0 KiB",
        "      note: not in the baseline: checked the expectation only",
        "FAIL  s/fixed: LEAK (expected CLEAN), growth +2.0 KiB/it, retained 200 B (baseline 0 B/it, 0 B)",
        "      - expected CLEAN, got LEAK: grows <fast> & \"hard\"",
        "      - growth per iteration +2.0 KiB exceeds the baseline 0 B by more than 50%, 1000 B (limit +1000 B)",
        "ERROR t/main: ERROR (expected CLEAN), growth +100 B/it, retained 200 B",
        "      - crashed: the measuring process killed by signal SIGKILL after 3 samples",
    ]


def test_junit_has_one_testcase_per_variant_with_failures_and_errors(tmp_path):
    path = tmp_path / "out" / "junit.xml"
    write_junit(_mixed_result(), path)
    root = ET.parse(path).getroot()
    suite = root.find("testsuite")
    assert suite.get("tests") == "3" and suite.get("failures") == "1" and suite.get("errors") == "1"
    cases = {(c.get("classname"), c.get("name")): c for c in suite.iter("testcase")}
    assert list(cases) == [("memleak.s", "leaky"), ("memleak.s", "fixed"), ("memleak.t", "main")]
    assert cases["memleak.s", "leaky"].find("failure") is None
    failure = cases["memleak.s", "fixed"].find("failure")
    assert failure.get("message") == "expected CLEAN, got LEAK: grows <fast> & \"hard\""  # escaped and read back
    assert "growth per iteration +2.0 KiB exceeds" in failure.text
    assert cases["memleak.t", "main"].find("error").get("message").startswith("crashed: the measuring process killed")
    assert "verdict LEAK (expected CLEAN)" in cases["memleak.s", "fixed"].find("system-out").text


def test_junit_write_to_unwritable_place_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ReportFileError, match=f"^cannot write {blocker}/j.xml: "):
        write_junit(_mixed_result(), blocker / "j.xml")


def test_junit_tree_is_valid_for_an_empty_run():
    tree = junit_tree(evaluate(report_of(), None, TOL, Path("b")))
    assert tree.getroot().find("testsuite").get("tests") == "0"


# --- baseline file ------------------------------------------------------------------------------
def test_baseline_round_trip_and_missing_file(tmp_path):
    path = tmp_path / "reports" / "baseline.json"
    assert read_baseline(path) is None
    base = baseline_from_report(report_of(("s", [variant(growth=12.5, retained=300)])))
    write_baseline(base, path)
    back = read_baseline(path)
    assert back == base
    assert back.get("s", "main") == Measures("CLEAN", "CLEAN", 12.5, "tracemalloc", 300.0)
    assert [p.name for p in path.parent.iterdir()] == ["baseline.json"]  # no temporary left


def test_baseline_uses_the_heap_slope_when_tracemalloc_was_off():
    from memleak_cli.report.model import MetricTrend

    result = variant(traced=False)
    result.trends = [MetricTrend("heap_bytes", "bytes", 777.0, 0, 0, 0, 0, 0, 0, 0, 0, 0, False, "")]
    base = baseline_from_report(report_of(("s", [result])))
    assert base.get("s", "main").growth_per_iteration == 777.0 and base.get("s", "main").growth_source == "heap_bytes"


def test_baseline_update_merges_same_size_and_replaces_another_size():
    old = baseline_from_report(report_of(("a", [variant()]), ("b", [variant(growth=1.0)])))
    new = baseline_from_report(report_of(("b", [variant(growth=2.0)])), previous=old)
    assert set(new.entries) == {"a", "b"} and new.get("b", "main").growth_per_iteration == 2.0
    other = baseline_from_report(report_of(("b", [variant()]), size="medium"), previous=old)
    assert set(other.entries) == {"b"}


def test_baseline_refuses_a_crashed_variant():
    with pytest.raises(ScenarioError, match=r"^not recording a baseline: s/main crashed"):
        baseline_from_report(report_of(("s", [variant(verdict="ERROR")])))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"format": "memleak-baseline", "version": 1, "size": "sm', "baseline is not valid JSON (line 1: Unterminated string"),
        ('{"schema_version": 1}', 'not a memleak baseline (no "format": "memleak-baseline")'),
        ('{"format": "memleak-baseline", "version": 9}', "baseline version 9 is not supported"),
        ('{"format": "memleak-baseline", "version": 1, "size": "small"}', "malformed baseline: KeyError: 'entries'"),
        (
            json.dumps({**baseline_to_dict(baseline_of({})), "entries": {"s": {"main": {**measures().__dict__, "retained_bytes": "big"}}}}),
            "malformed baseline: ValueError: retained_bytes must be a number or null, got 'big'",
        ),
    ],
)
def test_corrupt_baseline_is_one_line(tmp_path, content, message):
    path = tmp_path / "baseline.json"
    path.write_text(content)
    with pytest.raises(ReportFileError) as info:
        read_baseline(path)
    assert str(info.value).startswith(f"{path}: {message}")
    assert "\n" not in str(info.value)


# --- the commands -------------------------------------------------------------------------------
def invoke(*args):
    return CliRunner().invoke(app, list(args))


def test_gate_with_corrupt_baseline_exits_2_before_running(tmp_path):
    path = tmp_path / "baseline.json"
    path.write_text("{")
    result = invoke("gate", "-s", f"{LEAKS}::flat", "--baseline", str(path), *FAST)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {path}: baseline is not valid JSON (line 1: Expecting property name enclosed in double quotes); "
        "is it truncated? Record it again with 'memleak baseline update'"
    ]


def test_gate_with_baseline_of_another_size_exits_2(tmp_path):
    path = tmp_path / "baseline.json"
    write_baseline(baseline_of({}, size="large"), path)
    result = invoke("gate", "-s", f"{LEAKS}::flat", "--baseline", str(path), *FAST)
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: baseline {path} was recorded at size 'large', the gate runs at 'small': "
        "use --size large or run 'memleak baseline update --size small'"
    )


def test_gate_bad_tolerance_exits_2():
    result = invoke("gate", "--tolerance", "lots", *FAST)
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("error: --tolerance: cannot read tolerance 'lots'")


def test_baseline_from_report_with_a_crash_exits_2(tmp_path):
    report = tmp_path / "r.json"
    write_report(report_of(("s", [variant(verdict="ERROR")])), report)
    result = invoke("baseline", "update", "--from-report", str(report), "--baseline", str(tmp_path / "b.json"))
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: not recording a baseline: s/main crashed; fix it or leave it out with --scenario"
    assert not (tmp_path / "b.json").exists()


def test_baseline_from_report_writes_the_baseline(tmp_path):
    report = tmp_path / "r.json"
    write_report(report_of(("s", [variant(growth=5.0)])), report)
    result = invoke("baseline", "update", "--from-report", str(report), "--baseline", str(tmp_path / "b.json"))
    assert result.exit_code == 0, result.output
    assert read_baseline(tmp_path / "b.json").get("s", "main").growth_per_iteration == 5.0


def test_gate_fails_on_an_unexpected_leak_and_writes_junit(tmp_path):
    junit = tmp_path / "junit.xml"
    result = invoke("gate", "-s", f"{LEAKS}::grows", "--baseline", str(tmp_path / "none.json"), "--junit", str(junit),
                    "--json", str(tmp_path / "r.json"), *FAST)
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("memleak gate: FAIL — 0 of 1 checks passed (size small, no baseline")
    assert lines[1].startswith("FAIL  grows/main: LEAK (expected CLEAN)")
    assert lines[2].startswith("      - expected CLEAN, got LEAK: sustained growth in gc_objects")
    assert f"note: no baseline at {tmp_path / 'none.json'}: checked expectations only" in result.stdout
    assert "╭" not in result.stdout and "┃" not in result.stdout  # plain text when stdout is not a terminal
    failure = ET.parse(junit).getroot().find("testsuite/testcase/failure")
    assert failure.get("message").startswith("expected CLEAN, got LEAK")


def test_baseline_update_then_gate_passes_then_a_regression_fails(tmp_path):
    base = tmp_path / "baseline.json"
    spec = f"{LEAKS}::LEAKY_ONLY"
    result = invoke("baseline", "update", "-s", spec, "--baseline", str(base), "--json", str(tmp_path / "b.json"), *FAST)
    assert result.exit_code == 0, result.output
    recorded = read_baseline(base).get("LEAKY_ONLY", "leaky")
    # 200 one-element lists (56 B + 8 B item + int) and a list of 200 pointers per iteration
    assert recorded.verdict == "LEAK" and 13_000 < recorded.growth_per_iteration < 22_000

    result = invoke("gate", "-s", spec, "--baseline", str(base), "--json", str(tmp_path / "g1.json"), *FAST)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("memleak gate: PASS — 1 of 1 checks passed")

    data = json.loads(base.read_text())
    data["entries"]["LEAKY_ONLY"]["leaky"]["growth_per_iteration"] = 1000.0  # as if it used to leak less
    base.write_text(json.dumps(data))
    result = invoke("gate", "-s", spec, "--baseline", str(base), "--tolerance", "10%,1KiB", "--json", str(tmp_path / "g2.json"), *FAST)
    assert result.exit_code == 1, result.output
    assert "      - growth per iteration +" in result.stdout
    assert "exceeds the baseline +1000 B by more than 10%, 1.0 KiB (limit +2.0 KiB)" in result.stdout


# --- the console script: exit codes reach the shell ---------------------------------------------
def _console(*args: str, cwd: Path | None = None):
    import os
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "memleak_cli", *args], capture_output=True, text=True, cwd=cwd,
                          env=dict(os.environ), timeout=120)


def test_console_script_error_line_and_exit_2():
    done = _console("gate", "--tolerance", "lots")
    assert done.returncode == 2
    assert done.stderr.strip().startswith("error: --tolerance: cannot read tolerance 'lots'")
    assert "Traceback" not in done.stderr


def test_console_script_unknown_option_is_a_usage_error_not_a_traceback():
    done = _console("gate", "--no-such-option")
    assert done.returncode == 2 and "No such option: --no-such-option" in done.stderr and "Traceback" not in done.stderr


def test_console_script_gate_failure_exits_1(tmp_path):
    done = _console("gate", "-s", f"{LEAKS}::grows", "--baseline", str(tmp_path / "none.json"), "--json", str(tmp_path / "r.json"), *FAST)
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("memleak gate: FAIL — 0 of 1 checks passed")


@pytest.mark.parametrize("command", [["gate"], ["baseline"], ["baseline", "update"], ["run"], ["list"]])
def test_every_command_has_help(command):
    result = invoke(*command, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.stdout and len(result.stdout.splitlines()) > 5
