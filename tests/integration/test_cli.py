"""The CLI: output, exit codes and every bad-input case, through typer's runner."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import typer.main
from typer.testing import CliRunner

from memleak_cli.cli.app import app
from tests.paths import ROOT

runner = CliRunner()
README = ROOT / "README.md"


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_list_shows_the_optuna_scenario_with_its_finding():
    result = invoke("list")
    assert result.exit_code == 0
    assert "optuna" in result.output and "OptunaOptimizer" in result.output


def test_unknown_scenario_names_close_matches_and_exits_2():
    result = invoke("run", "optuan")
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1] == (
        "error: unknown scenario 'optuan'. Did you mean optuna? Run 'memleak list' to see them all."
    )


def test_too_few_iterations_is_a_clear_error():
    result = invoke("run", "optuna", "--iterations", "4")
    assert result.exit_code == 2
    assert "error: --iterations 4 is too few for a trend: use at least 5" in result.output


def test_unwritable_report_path_fails_before_any_work(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = invoke("run", "optuna", "--json", str(blocker / "sub" / "r.json"))
    assert result.exit_code == 2
    assert result.output.startswith("error: cannot ")
    assert "Traceback" not in result.output


def test_bad_threshold_size_is_a_one_line_error():
    result = invoke("run", "optuna", "--heap-threshold", "4XB")
    assert result.exit_code == 2
    assert result.output.strip() == "error: --heap-threshold: unknown size unit 'XB' in '4XB': use B, kB, MB, GB, KiB, MiB or GiB"


def test_scenario_and_all_together_is_an_error():
    result = invoke("run", "optuna", "--all")
    assert result.exit_code == 2
    assert "error: name one scenario" in result.output


def test_a_run_prints_the_verdict_and_writes_the_json_report(tmp_path):
    out = tmp_path / "run.json"
    result = invoke("run", "tests.synthetic_scenarios:GROWING", "--iterations", "8", "--window", "2", "--json", str(out))
    assert result.exit_code == 0, result.output
    assert "LEAK" in result.output and "per iteration" in result.output
    data = json.loads(out.read_text())
    variant = data["scenarios"][0]["variants"][0]
    assert variant["verdict"] == "LEAK" and len(variant["samples"]) == 1 + 8 + 1


def test_fail_on_leak_exits_1_when_a_clean_variant_leaks(tmp_path):
    # GROWING's variant expects LEAK, so it passes; FLAT expects CLEAN and is clean
    ok = invoke("run", "tests.synthetic_scenarios:FLAT", "-n", "8", "--window", "1", "--fail-on-leak", "--json", str(tmp_path / "a.json"))
    assert ok.exit_code == 0, ok.output
    bad = invoke("run", "tests.synthetic_scenarios:LEAKS_BUT_EXPECTED_CLEAN", "-n", "8", "--window", "1", "--fail-on-leak", "--json", str(tmp_path / "b.json"))
    assert bad.exit_code == 1, bad.output
    assert "expected CLEAN, got LEAK" in bad.output


def test_crashing_scenario_exits_3_and_keeps_its_report(tmp_path):
    out = tmp_path / "crash.json"
    result = invoke("run", "tests.synthetic_scenarios:CRASHING", "-n", "8", "--json", str(out))
    assert result.exit_code == 3
    assert "boom on the third iteration" in result.output
    assert json.loads(out.read_text())["scenarios"][0]["variants"][0]["verdict"] == "ERROR"


def _every_command(group: Any, prefix: str = "memleak") -> Iterator[tuple[str, Any]]:
    """Every command at every level (``memleak baseline update`` as well as ``memleak run``)."""
    for name, command in sorted(group.commands.items()):
        yield f"{prefix} {name}", command
        if getattr(command, "commands", None):  # a group (typer vendors its own click)
            yield from _every_command(command, f"{prefix} {name}")


def test_every_command_has_help_and_is_documented():
    """Each command, sub-commands included, has help text and appears in the README or docs/;
    the top-level ones in the README itself (its command table)."""
    readme = README.read_text()
    documented = readme + "".join(p.read_text() for p in sorted((ROOT / "docs").glob("*.md")))
    commands = dict(_every_command(typer.main.get_command(app)))
    assert "memleak baseline update" in commands  # the walk goes below the top level
    for full, command in commands.items():
        assert command.help, f"{full} has no help text"
        assert re.search(rf"{full}\b", documented), f"{full} is in neither the README nor docs/"
        if full.count(" ") == 1:
            assert re.search(rf"{full}\b", readme), f"{full} is not in the README"


def test_html_and_json_on_the_same_path_is_refused_before_any_work(tmp_path):
    same = tmp_path / "same.out"
    result = invoke("run", "optuna", "--json", str(same), "--html", str(same))
    assert result.exit_code == 2
    assert result.output.strip() == f"error: --html and --json both name {same}: give each file its own name"
    assert not same.exists()


def test_report_refuses_to_overwrite_its_own_json(tmp_path):
    from memleak_cli.report.jsonio import write_report
    from tests.unit.report.test_report_documents import make_report

    path = tmp_path / "run.json"
    write_report(make_report(), path)
    before = path.read_bytes()
    result = invoke("report", str(path), "-o", str(path))
    assert result.exit_code == 2 and "is the JSON report itself" in result.output
    assert path.read_bytes() == before


def test_no_scenario_and_no_all_says_what_to_do():
    result = invoke("run")
    assert result.exit_code == 2
    assert result.output.strip() == "error: name one scenario (see 'memleak list') or pass --all"
