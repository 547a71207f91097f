"""Settings resolution: CLI flag, then [tool.memleak] of the nearest pyproject.toml, then default."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memleak_cli.analysis.tolerance import Tolerance, parse_tolerance
from memleak_cli.cli.app import app
from memleak_cli.config import load_config
from memleak_cli.errors import ReportFileError, UsageError
from memleak_cli.settings import SETTINGS, RunSettings, markdown_table, resolve
from tests.paths import ROOT


def write_config(folder: Path, body: str) -> Path:
    path = folder / "pyproject.toml"
    path.write_text(f"[project]\nname = 'x'\n\n[tool.memleak]\n{body}\n")
    return path


def settings_from(folder: Path, **flags) -> RunSettings:
    return resolve(load_config(folder), flags).run


def resolve_tolerance(flag, config):
    return resolve(config, {"tolerance": flag}).tolerance


def resolve_scenarios(flags, config, default):
    return resolve(config, {"scenarios": flags}).scenarios or default()


def resolve_baseline_path(flag, config):
    return resolve(config, {"baseline": None if flag is None else str(flag)}).baseline_path


# --- every run key: config used, flag wins, bad value named -------------------------------------
RUN_KEYS = [
    # key, toml value, expected, flag value, bad toml value, error tail
    ("iterations", "30", 30, 12, "'ten'", "must be a whole number, got 'ten'"),
    ("warmup", "4", 4, 0, "-1", "must be 0 or more, got -1"),
    ("window", "0", 0, 2, "1.5", "must be a whole number, got 1.5"),
    ("frames", "1", 1, 8, "101", "must be from 0 to 100, got 101"),
    ("top", "3", 3, 5, "0", "must be from 1 to 10000, got 0"),
    ("size", '"small"', "small", "large", '"huge"', "must be one of small, medium, large, got 'huge'"),
]


@pytest.mark.parametrize(("key", "value", "expected", "flag", "bad", "error"), RUN_KEYS)
def test_run_key_from_config_then_flag_wins(tmp_path, key, value, expected, flag, bad, error):
    write_config(tmp_path, f"{key} = {value}")
    assert getattr(settings_from(tmp_path), key) == expected
    assert getattr(settings_from(tmp_path, **{key: flag}), key) == flag


@pytest.mark.parametrize(("key", "value", "expected", "flag", "bad", "error"), RUN_KEYS)
def test_run_key_bad_value_names_file_and_key(tmp_path, key, value, expected, flag, bad, error):
    path = write_config(tmp_path, f"{key} = {bad}")
    with pytest.raises(ReportFileError) as info:
        load_config(tmp_path)
    assert str(info.value) == f"{path}: [tool.memleak] {key} {error}"


THRESHOLD_KEYS = [
    # key, toml value, attribute, expected, flag name, flag value, flag expected, bad, error tail
    ("heap", '"128KiB"', "heap_bytes", 128 * 1024, "heap_threshold", "1KiB", 1024, '"12 parsecs"', "unknown size unit"),
    ("rss", "1048576", "rss_bytes", 1048576, "rss_threshold", "2MiB", 2 * 1024**2, "-5", "must be 0 or more, got -5"),
    ("objects", "2.5", "gc_objects", 2.5, "objects_threshold", 7.0, 7.0, '"many"', "must be a number, 0 or more, got 'many'"),
    ("blocks", "100", "py_blocks", 100.0, "blocks_threshold", 3.0, 3.0, "true", "must be a number, 0 or more, got True"),
    ("retain", '"1MB"', "retained_bytes", 1_000_000, "retain_threshold", "0", 0, "[1]", "must be a size such as 64KiB or a number of bytes, got [1]"),
]


@pytest.mark.parametrize(("key", "value", "attribute", "expected", "flag", "flag_value", "flag_expected", "bad", "error"), THRESHOLD_KEYS)
def test_threshold_key_from_config_then_flag_wins(tmp_path, key, value, attribute, expected, flag, flag_value, flag_expected, bad, error):
    write_config(tmp_path, f"[tool.memleak.thresholds]\n{key} = {value}")
    assert getattr(settings_from(tmp_path).thresholds, attribute) == expected
    assert getattr(settings_from(tmp_path, **{flag: flag_value}).thresholds, attribute) == flag_expected


@pytest.mark.parametrize(("key", "value", "attribute", "expected", "flag", "flag_value", "flag_expected", "bad", "error"), THRESHOLD_KEYS)
def test_threshold_key_bad_value_names_file_and_key(tmp_path, key, value, attribute, expected, flag, flag_value, flag_expected, bad, error):
    path = write_config(tmp_path, f"[tool.memleak.thresholds]\n{key} = {bad}")
    with pytest.raises(ReportFileError) as info:
        load_config(tmp_path)
    assert str(info.value).startswith(f"{path}: [tool.memleak.thresholds] {key} ")
    assert error in str(info.value)


def test_defaults_without_config(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    config = load_config(tmp_path)
    assert config.path is None
    resolved = settings_from(tmp_path)
    assert dataclasses.replace(resolved, max_rss_bytes=None, timeout_seconds=None) == RunSettings()
    assert resolved.timeout_seconds == 3600.0


def test_nearest_pyproject_is_used_and_parents_are_not_searched_past_it(tmp_path):
    write_config(tmp_path, "iterations = 40")
    inner = tmp_path / "pkg" / "sub"
    inner.mkdir(parents=True)
    assert settings_from(inner).iterations == 40  # found walking up
    (tmp_path / "pkg" / "pyproject.toml").write_text("[project]\nname = 'inner'\n")
    assert settings_from(inner).iterations == RunSettings().iterations  # nearest has no table


def test_tolerance_key(tmp_path):
    write_config(tmp_path, 'tolerance = "10%"')
    config = load_config(tmp_path)
    assert resolve_tolerance(None, config) == Tolerance(0.10, 0.0)
    assert resolve_tolerance("4KiB", config) == Tolerance(0.0, 4096.0)
    assert resolve_tolerance(None, load_config(tmp_path / "nowhere-but-here")) == Tolerance(0.10, 0.0)
    path = write_config(tmp_path, 'tolerance = "ten percent"')
    with pytest.raises(ReportFileError, match=rf"^{path}: \[tool.memleak\] tolerance cannot read tolerance 'ten percent'"):
        load_config(tmp_path)


def test_default_tolerance_without_config(tmp_path):
    assert resolve_tolerance(None, load_config(tmp_path)) == Tolerance(0.5, 16 * 1024.0)


def test_scenarios_key(tmp_path):
    write_config(tmp_path, 'scenarios = ["optuna", "tests/x.py::PAIR"]')
    config = load_config(tmp_path)
    assert resolve_scenarios(None, config, lambda: ["all"]) == ["optuna", "tests/x.py::PAIR"]
    assert resolve_scenarios(["mine"], config, lambda: ["all"]) == ["mine"]
    assert resolve_scenarios(None, load_config(tmp_path / "x"), lambda: ["all"]) == ["optuna", "tests/x.py::PAIR"]
    path = write_config(tmp_path, "scenarios = []")
    with pytest.raises(ReportFileError, match=rf"^{path}: \[tool.memleak\] scenarios must be a non-empty list"):
        load_config(tmp_path)


def test_scenarios_default_without_config(tmp_path):
    assert resolve_scenarios([], load_config(tmp_path), lambda: ["all"]) == ["all"]


def test_baseline_key_is_relative_to_the_pyproject(tmp_path, monkeypatch):
    write_config(tmp_path, 'baseline = "ci/base.json"')
    inner = tmp_path / "sub"
    inner.mkdir()
    monkeypatch.chdir(inner)
    config = load_config()
    assert resolve_baseline_path(None, config) == tmp_path.resolve() / "ci" / "base.json"
    assert resolve_baseline_path(Path("b.json"), config) == Path("b.json")
    path = write_config(tmp_path, "baseline = 3")
    with pytest.raises(ReportFileError, match=rf"^{path}: \[tool.memleak\] baseline must be a file path, got 3$"):
        load_config(tmp_path)


def test_baseline_default_without_config(tmp_path):
    assert resolve_baseline_path(None, load_config(tmp_path)) == Path("reports/baseline.json")


def test_unknown_key_is_named(tmp_path):
    path = write_config(tmp_path, "iteration = 5")
    with pytest.raises(ReportFileError) as info:
        load_config(tmp_path)
    assert str(info.value) == (
        f"{path}: unknown key 'iteration' in [tool.memleak]: use baseline, cleanup, extend, frames, iterations, jobs, max_iterations, max_rss, probes, "
        "scenarios, size, timeout, tolerance, top, trim, warmup, window"
    )


def test_unknown_threshold_key_is_named(tmp_path):
    path = write_config(tmp_path, "[tool.memleak.thresholds]\nheap_bytes = 5")
    with pytest.raises(ReportFileError) as info:
        load_config(tmp_path)
    assert str(info.value) == f"{path}: unknown key 'heap_bytes' in [tool.memleak.thresholds]: use blocks, heap, objects, retain, rss"


def test_invalid_toml_is_one_line(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text("[tool.memleak\n")
    with pytest.raises(ReportFileError, match=rf"^{path}: not valid TOML: "):
        load_config(tmp_path)


def test_values_that_do_not_fit_together_name_the_config(tmp_path):
    path = write_config(tmp_path, "iterations = 4\nwarmup = 2")
    with pytest.raises(UsageError) as info:
        settings_from(tmp_path)
    assert str(info.value) == (
        "--iterations 4 is too few for a trend: use at least 5 (warm-up 2 + 3 measured) "
        f"(iterations, warmup from {path} [tool.memleak])"
    )
    assert settings_from(tmp_path, iterations=5).iterations == 5


def test_bad_flag_size_names_the_flag(tmp_path):
    with pytest.raises(UsageError, match="^--retain-threshold: cannot read size 'lots'"):
        settings_from(tmp_path, retain_threshold="lots")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("50%", Tolerance(0.5, 0)), ("16KiB", Tolerance(0, 16384)), ("50%,16KiB", Tolerance(0.5, 16384)),
     ("4096+10%", Tolerance(0.1, 4096)), (0, Tolerance(0, 0))],
)
def test_parse_tolerance(text, expected):
    assert parse_tolerance(text) == expected


@pytest.mark.parametrize("text", ["", "50%,60%", "1KiB,2KiB", "fifty", "%"])
def test_parse_tolerance_rejects(text):
    with pytest.raises(UsageError, match="cannot read tolerance"):
        parse_tolerance(text)


def test_tolerance_limit_uses_the_larger_allowance():
    tol = Tolerance(0.5, 1000)
    assert tol.limit(10_000) == 15_000  # 50% is more than the floor
    assert tol.limit(100) == 1_100  # the floor protects a small baseline
    assert tol.limit(-400) == 600  # negative growth: the floor still applies


def test_cli_reports_a_bad_config_as_one_line_exit_2(tmp_path, monkeypatch):
    path = write_config(tmp_path, "frames = -3")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["run", "optuna"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [f"error: {path.resolve()}: [tool.memleak] frames must be from 0 to 100, got -3"]


def test_every_setting_has_a_flag_a_config_key_a_check_and_help():
    names = [s.name for s in SETTINGS]
    assert len(names) == len(set(names))
    for setting in SETTINGS:
        assert setting.flag.startswith("--") and setting.help and setting.commands


def test_every_setting_appears_in_the_readme_table():
    readme = (ROOT / "README.md").read_text()
    assert markdown_table() in readme, "README's settings table is stale: paste `python -m memleak_cli.settings`"


@pytest.mark.parametrize(("command", "flag"), [(s.commands[0], s.flag) for s in SETTINGS] + [(c, s.flag) for s in SETTINGS for c in s.commands[1:]])
def test_every_setting_is_an_option_of_its_commands(command, flag):
    args = ["baseline", "update", "--help"] if command == "baseline" else [command, "--help"]
    result = CliRunner().invoke(app, args, terminal_width=200)
    assert result.exit_code == 0
    assert flag in result.output
