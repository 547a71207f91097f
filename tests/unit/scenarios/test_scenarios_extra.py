"""A built-in scenario without the ``scenarios`` extra stops with one line naming the extra."""

from __future__ import annotations

import importlib.util

import pytest
from typer.testing import CliRunner

from memleak_cli.cli.app import app
from memleak_cli.errors import UsageError
from memleak_cli.scenarios import discovery
from memleak_cli.scenarios.discovery import load_scenario

LINE = (
    "error: scenario 'optuna' needs the built-in scenarios' libraries "
    "(missing: optuna, lightgbm): pip install 'memleak[scenarios]'\n"
)


@pytest.fixture
def without_optuna_and_lightgbm(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        discovery.importlib.util,
        "find_spec",
        lambda name, *a: None if name in ("optuna", "lightgbm") else real(name, *a),
    )


@pytest.mark.usefixtures("without_optuna_and_lightgbm")
def test_run_optuna_without_the_extra_exits_2_with_one_line() -> None:
    result = CliRunner().invoke(app, ["run", "optuna", "--iterations", "20"])
    assert result.exit_code == 2
    assert result.output == LINE


@pytest.mark.usefixtures("without_optuna_and_lightgbm")
def test_a_user_scenario_needs_no_extra() -> None:
    scenario = load_scenario("tests.synthetic_scenarios:GROWING")
    discovery.require_extra(scenario)  # not a built-in: no check
    with pytest.raises(UsageError, match=r"pip install 'memleak\[scenarios\]'"):
        load_scenario("optuna")


def test_with_the_extra_installed_the_built_in_loads() -> None:
    assert discovery.missing_extra_modules() == []
    assert load_scenario("optuna").name == "optuna"
