"""User scenarios: file.py::name and package.module:name specs, entry-point plugins, bad specs."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memleak_cli.cli.app import app
from memleak_cli.errors import ScenarioError, UsageError
from memleak_cli.scenarios.contract import declare
from memleak_cli.scenarios.discovery import ENTRY_POINT_GROUP, load_scenario, plugin_scenarios
from memleak_cli.scenarios.plan import choose_variants, plan
from tests.paths import TESTS

HERE = TESTS
LEAKS = HERE / "user_code" / "leaks.py"
FAST = ["-n", "6", "--warmup", "1", "--window", "1", "--frames", "1", "--size", "small"]


def invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, list(args), env=env)


# --- loading -----------------------------------------------------------------------------------
def test_plain_callable_is_one_main_variant_expected_clean():
    scenario = load_scenario(f"{LEAKS}::grows")
    assert scenario.name == "grows"
    assert list(scenario.variants) == ["main"]
    assert scenario.variant("main").expect == "CLEAN"
    assert scenario.description == "Keeps 200 small lists per call in a module-level list."
    iterate = scenario.variant("main").factory(scenario.sizes["small"])
    module = sys.modules[scenario.module]
    before = len(module.KEPT)
    iterate()
    assert len(module.KEPT) == before + 1


def test_declare_gives_leaky_and_fixed_with_fix_source():
    scenario = load_scenario(f"{LEAKS}::PAIR")
    assert scenario.name == "PAIR"
    assert {n: v.expect for n, v in scenario.variants.items()} == {"leaky": "LEAK", "fixed": "CLEAN"}
    assert "def flat()" in scenario.variant("fixed").fix_source()
    assert scenario.variant("leaky").fix_source() is None
    assert scenario.description == "keeps lists vs drops them"


def test_declare_keeps_an_explicit_name():
    assert load_scenario(f"{LEAKS}::NAMED").name == "custom-name"


def test_one_argument_callable_is_a_factory_given_the_size_profile():
    scenario = load_scenario(f"{LEAKS}::SIZED")
    module = sys.modules[scenario.module]
    before = len(module.KEPT)
    scenario.variant("leaky").factory(scenario.sizes["small"])()
    assert len(module.KEPT[-1]) == 10 and len(module.KEPT) == before + 1
    assert set(scenario.sizes) == {"small", "medium"}


def test_dict_is_passed_to_declare():
    scenario = load_scenario(f"{LEAKS}::AS_DICT")
    assert list(scenario.variants) == ["leaky", "fixed"] and scenario.name == "AS_DICT"


def test_scenario_object_is_used_as_is():
    scenario = load_scenario(f"{LEAKS}::OBJECT")
    assert scenario.name == "object" and list(scenario.variants) == ["only"]


def test_dotted_attribute_in_a_file():
    assert load_scenario(f"{LEAKS}::Holder.scenario").name == "scenario"


def test_relative_file_spec_resolves_from_the_current_folder(monkeypatch):
    monkeypatch.chdir(HERE)
    assert load_scenario("user_code/leaks.py::grows").name == "grows"


def test_module_spec_imports_from_the_current_folder(monkeypatch):
    monkeypatch.chdir(HERE)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(HERE))])
    scenario = load_scenario("user_code.leaks:PAIR")
    assert list(scenario.variants) == ["leaky", "fixed"]


def test_file_named_like_a_stdlib_module_does_not_shadow_it(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "path", list(sys.path))
    (tmp_path / "json.py").write_text("def work():\n    pass\n")
    scenario = load_scenario(f"{tmp_path / 'json.py'}::work")
    assert scenario.name == "work"
    assert sys.modules["json"].__file__ != str(tmp_path / "json.py")
    assert json.dumps([1]) == "[1]"


def test_declare_rejects_bad_input():
    with pytest.raises(TypeError, match="needs leaky=, fixed= or both"):
        declare()
    with pytest.raises(TypeError, match="sizes may only name small, medium, large, got huge"):
        declare(leaky=lambda: None, sizes={"huge": {}})
    with pytest.raises(TypeError, match="leaky_expect must be"):
        declare(leaky=lambda: None, leaky_expect="CLEAN?")


# --- bad specs: one line, exit 2 ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("{dir}/missing.py::x", "error: scenario file {dir}/missing.py does not exist"),
        ("{dir}/user_code/leaks.py::nope", "error: {dir}/user_code/leaks.py has no attribute 'nope'"),
        (
            "{dir}/user_code/leaks.py::NOT_CALLABLE",
            "error: {dir}/user_code/leaks.py::NOT_CALLABLE is a int, not a scenario: use a callable, "
            "memleak_cli.scenarios.contract.declare(...) or a Scenario",
        ),
        (
            "{dir}/user_code/broken.py::x",
            "error: importing {dir}/user_code/broken.py failed: ZeroDivisionError: division by zero in user code",
        ),
        (
            "{dir}/user_code/leaks.py::needs_two",
            "error: {dir}/user_code/leaks.py::needs_two needs 2 arguments (a, b): give a callable "
            "taking none (the iteration) or one (the size profile)",
        ),
        (
            "{dir}/user_code/leaks.py::EMPTY_DICT",
            "error: {dir}/user_code/leaks.py::EMPTY_DICT: declare() needs leaky=, fixed= or both",
        ),
        ("no_such_pkg.mod:run", "error: cannot import module 'no_such_pkg.mod': no module named 'no_such_pkg'"),
        ("json:nope", "error: module json has no attribute 'nope'"),
        ("{dir}/user_code/leaks.py::", "error: bad scenario spec '{dir}/user_code/leaks.py::': use path/to/file.py::name"),
        ("leaks.py", "error: unknown scenario 'leaks.py'. To run code from a file, name the callable: leaks.py::name. Run 'memleak list' to see them all."),
    ],
)
def test_bad_spec_is_one_error_line_and_exit_2(spec, message):
    result = invoke("run", spec.format(dir=HERE), *FAST)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [message.format(dir=HERE)]


def test_unknown_variant_of_a_user_scenario():
    with pytest.raises(UsageError, match="has no variant 'leaky': use both, all or one of main"):
        choose_variants(load_scenario(f"{LEAKS}::flat"), "leaky")


def test_default_variant_choice_runs_main_for_a_single_variant_scenario():
    assert choose_variants(load_scenario(f"{LEAKS}::flat"), "both") == ["main"]


def test_plan_rejects_a_size_the_scenario_does_not_declare():
    with pytest.raises(UsageError, match="scenario 'SIZED' has no size profile 'large': it declares small, medium"):
        plan([f"{LEAKS}::SIZED"], "both", "large")


def test_plan_rejects_two_specs_with_one_name(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "path", list(sys.path))
    (tmp_path / "other.py").write_text("def grows():\n    pass\n")
    with pytest.raises(ScenarioError, match="two scenarios are called 'grows'"):
        plan([f"{LEAKS}::grows", f"{tmp_path / 'other.py'}::grows"], "both", "small")


# --- running in child processes ---------------------------------------------------------------
def test_run_user_pair_leaky_leaks_and_fixed_is_clean(tmp_path):
    out = tmp_path / "r.json"
    result = invoke("run", f"{LEAKS}::PAIR", *FAST, "--json", str(out))
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    verdicts = {v["variant"]: v["verdict"] for v in data["scenarios"][0]["variants"]}
    assert verdicts == {"leaky": "LEAK", "fixed": "CLEAN"}
    leaky = data["scenarios"][0]["variants"][0]
    gc_trend = next(t for t in leaky["trends"] if t["metric"] == "gc_objects")
    assert 190 <= gc_trend["slope"] <= 215  # 200 lists + the outer list (+ list growth) per call


def test_run_plain_callable_fails_on_leak_with_exit_1(tmp_path):
    result = invoke("run", f"{LEAKS}::grows", *FAST, "--json", str(tmp_path / "r.json"), "--fail-on-leak")
    assert result.exit_code == 1, result.output
    assert "leak: grows/main: expected CLEAN, got LEAK" in result.stderr


# --- plugins through entry points --------------------------------------------------------------
def _fake_distribution(root: Path) -> None:
    (root / "memleak_plugin_demo.py").write_text(
        textwrap.dedent(
            '''
            """A third-party package that registers a memleak scenario."""
            from memleak_cli.scenarios.contract import declare

            def keep():
                """Keeps a list each call."""
                HELD.append([[i] for i in range(100)])

            def drop():
                [[i] for i in range(100)]

            HELD = []
            DEMO = declare(leaky=keep, fixed=drop, description="demo plugin scenario")
            '''
        )
    )
    info = root / "memleak_plugin_demo-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: memleak-plugin-demo\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\ndemo = memleak_plugin_demo:DEMO\nbroken = memleak_plugin_demo:MISSING\n")


def test_plugin_scenarios_are_found_and_listed(tmp_path, monkeypatch):
    _fake_distribution(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    scenario = load_scenario("demo")
    assert scenario.name == "demo" and scenario.description == "demo plugin scenario"
    with pytest.raises(ScenarioError, match=r"scenario plugin 'broken' \(memleak_plugin_demo:MISSING, from memleak-plugin-demo\) failed to load: AttributeError"):
        plugin_scenarios()


def test_list_shows_plugin_scenarios(tmp_path, monkeypatch):
    _fake_distribution(tmp_path)
    (tmp_path / "memleak_plugin_demo-1.0.dist-info" / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\ndemo = memleak_plugin_demo:DEMO\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    result = CliRunner().invoke(app, ["list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    line = next(line for line in result.stdout.splitlines() if " demo " in line)
    assert "plugin: memleak-plugin-demo" in line and "leaky (LEAK), fixed (CLEAN)" in line
    assert "optuna" in result.stdout


def test_run_plugin_scenario_in_child_processes(tmp_path, monkeypatch):
    _fake_distribution(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "r.json"
    env = {"PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    result = invoke("run", "demo", *FAST, "--json", str(out), env=env)
    assert result.exit_code == 0, result.output
    verdicts = {v["variant"]: v["verdict"] for v in json.loads(out.read_text())["scenarios"][0]["variants"]}
    assert verdicts == {"leaky": "LEAK", "fixed": "CLEAN"}


def test_terminal_header_of_a_user_scenario_has_no_empty_finding():
    from io import StringIO

    from memleak_cli.report.model import RunReport, ScenarioResult
    from memleak_cli.reporters.terminal import TerminalReporter

    report = RunReport(schema_version=1, tool_version="0", created="now", command=[], host={}, settings={})
    report.scenarios.append(ScenarioResult(name="grows", description="Keeps lists.", finding="", size="small"))
    out = StringIO()
    TerminalReporter(verbose=False).render(report, out)
    header = out.getvalue().splitlines()[0]
    assert "grows — Keeps lists." in header and "finding" not in header


def test_file_named_like_an_installed_package_does_not_shadow_it(tmp_path, monkeypatch):
    import importlib.util

    monkeypatch.setattr(sys, "path", list(sys.path))
    (tmp_path / "optuna.py").write_text("def work():\n    pass\n")
    scenario = load_scenario(f"{tmp_path / 'optuna.py'}::work")
    assert scenario.module.startswith("memleak_user_optuna_")
    real = sys.modules.get("optuna") or importlib.util.find_spec("optuna")
    assert str(tmp_path) not in str(getattr(real, "origin", None) or getattr(real, "__file__", ""))
