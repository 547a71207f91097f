"""CI's independent verdict table (.ci/expected-verdicts.json) and its check of the gate report."""

from __future__ import annotations

import copy
import importlib.util
import json
from types import ModuleType

from memleak_cli.scenarios.discovery import builtin_scenarios
from tests.paths import ROOT

EXPECTED = json.loads((ROOT / ".ci" / "expected-verdicts.json").read_text())
REPORT = json.loads((ROOT / "tests" / "data" / "optuna-small-20-all.json").read_text())
OPTUNA_ONLY = {"optuna": EXPECTED["optuna"]}


def _check() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_verdicts", ROOT / ".ci" / "check_verdicts.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_table_names_every_built_in_scenario_and_variant_the_gate_runs() -> None:
    table = {(n, v) for n, vs in EXPECTED.items() if not n.startswith("_") for v in vs}
    declared = {(n, v) for n, s in builtin_scenarios().items() for v in s.variants}
    assert table == declared


def test_a_recorded_gate_report_with_the_expected_verdicts_passes() -> None:
    assert _check().differences(REPORT, OPTUNA_ONLY) == []


def test_a_changed_verdict_fails_even_when_the_report_expected_it() -> None:
    report = copy.deepcopy(REPORT)
    variant = next(v for v in report["scenarios"][0]["variants"] if v["variant"] == "fixed")
    variant["verdict"] = variant["expect"] = "RETAINS"  # as if someone edited expect= to match
    assert _check().differences(report, OPTUNA_ONLY) == ["optuna fixed: expected CLEAN, got RETAINS"]


def test_a_missing_or_unlisted_variant_fails() -> None:
    report = copy.deepcopy(REPORT)
    report["scenarios"][0]["variants"] = [
        v for v in report["scenarios"][0]["variants"] if v["variant"] != "leaky"
    ]
    assert _check().differences(report, OPTUNA_ONLY) == ["optuna leaky: expected RETAINS, got nothing (not run)"]
    assert _check().differences(REPORT, {"optuna": {"leaky": "RETAINS"}}) == [
        "optuna fixed: got CLEAN, but .ci/expected-verdicts.json does not list it",
        "optuna trials-clear-only: got RETAINS, but .ci/expected-verdicts.json does not list it",
    ]


HOLDERS = json.loads((ROOT / ".ci" / "expected-holders.json").read_text())
HISTORY = {"path": "svc.history[*]", "per_iteration": 1.0, "handle": None}


def test_the_holder_table_names_every_built_in_scenario_and_variant_the_gate_runs() -> None:
    table = {(n, v) for n, vs in HOLDERS.items() if not n.startswith("_") for v in vs}
    declared = {(n, v) for n, s in builtin_scenarios().items() for v in s.variants}
    assert table == declared


def test_the_first_holder_line_is_checked_path_count_and_handle() -> None:
    report = copy.deepcopy(REPORT)
    leaky = next(v for v in report["scenarios"][0]["variants"] if v["variant"] == "leaky")
    expected = {"optuna": {"leaky": HISTORY, "fixed": None, "trials-clear-only": None}}
    assert _check().holder_differences(report, expected) == [f"optuna leaky: expected holder {HISTORY}, got None"]
    leaky["holders"] = [{"path": "svc.history[*]", "objects_per_iteration": 1, "handle": None, "fingerprint": "0" * 16}]
    assert _check().holder_differences(report, expected) == []
    leaky["holders"][0]["objects_per_iteration"] = 1.04  # one object skipped in 25 iterations: still 1/it
    assert _check().holder_differences(report, expected) == []
    leaky["holders"][0]["objects_per_iteration"] = 2.0
    assert _check().holder_differences(report, expected) == [
        f"optuna leaky: expected holder {HISTORY}, got {dict(HISTORY, per_iteration=2.0)}"
    ]
    del expected["optuna"]["fixed"]
    assert "optuna fixed: .ci/expected-holders.json does not list it" in _check().holder_differences(report, expected)
