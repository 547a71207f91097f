"""memleak stays in control when the code it runs misbehaves: memory caps, timeouts, crashes,
interrupts, bad files and odd input. Real child processes on tiny synthetic scenarios."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from memleak_cli.cli import run as run_command
from memleak_cli.cli.app import app
from memleak_cli.config import Config
from memleak_cli.engine import new_report
from memleak_cli.engine import run as run_engine
from memleak_cli.errors import ReportFileError, UsageError
from memleak_cli.measure.interrupts import StopOnSignal
from memleak_cli.measure.parent import run_variant
from memleak_cli.report.jsonio import (
    check_writable,
    read_report,
    report_to_dict,
    write_json_atomic,
    write_report,
)
from memleak_cli.scenarios.discovery import load_scenario
from memleak_cli.scenarios.plan import Planned as PlannedScenario
from memleak_cli.settings import RunSettings, resolve
from memleak_cli.units import parse_size
from tests.paths import ROOT
from tests.synthetic_scenarios import HANGING_ITERATION, HOG_BYTES
from tests.unit.report.test_report_documents import make_report

MiB = 1024 * 1024


def spec(name: str) -> str:
    return f"tests.synthetic_scenarios:{name}"


def run(name: str, settings: RunSettings):
    return run_variant(load_scenario(spec(name)), spec(name), "leaky", settings)


def running(pid: int) -> bool:
    """Alive and not a zombie (a killed orphan waits for init to reap it, holding no memory)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


# --- memory cap ---------------------------------------------------------------------------


def test_a_variant_that_outgrows_max_rss_is_stopped_as_a_capped_leak(tmp_path):
    # a worker starts at ~30-60 MiB; 20 MiB more per iteration passes 250 MiB within ~12 of 60
    cap = 250 * MiB
    result = run("HOGGING", RunSettings(iterations=60, warmup=2, window=0, size="small", max_rss_bytes=cap))
    assert result.verdict == "LEAK" and result.label == "LEAK (capped)", result.reason
    assert result.stopped_by == "max-rss"
    assert result.capped_bytes is not None and result.capped_bytes > cap
    assert "above --max-rss 250.0 MiB" in result.reason
    # every sample streamed before the stop is kept, in order; the run did not reach its end
    iterations = [s.iteration for s in result.samples]
    assert iterations == list(range(-1, len(iterations) - 1))
    assert 3 <= len(iterations) < 1 + 60
    # the samples grew by the scenario's 20 MiB per iteration: its bytes objects are 1 block each
    # but 20 MiB of C heap (mmap'd, seen by mallinfo2)
    first, last = result.samples[1], result.samples[-1]
    if first.heap_bytes is not None and last.heap_bytes is not None:
        grown = last.heap_bytes - first.heap_bytes
        assert grown >= (last.iteration - first.iteration) * HOG_BYTES
    # and the JSON report keeps the cap (a field with a default: older reports still read)
    report = make_report()
    report.scenarios[0].variants = [result]
    write_report(report, tmp_path / "capped.json")
    back = read_report(tmp_path / "capped.json").scenarios[0].variants[0]
    assert back.capped_bytes == result.capped_bytes and back.stopped_by == "max-rss"


def test_a_cap_below_the_interpreter_itself_is_an_error_not_a_leak():
    result = run("FLAT", RunSettings(iterations=5, warmup=0, window=0, size="small", max_rss_bytes=1 * MiB))
    assert result.verdict == "ERROR"
    assert "before its first iteration ended, above --max-rss 1.0 MiB: raise --max-rss" in result.reason


# --- time limit and crashes ---------------------------------------------------------------


def test_a_hung_scenario_is_killed_with_its_children_at_the_timeout(tmp_path, monkeypatch):
    pidfile = tmp_path / "sleeper.pid"
    monkeypatch.setenv("MEMLEAK_TEST_PIDFILE", str(pidfile))
    result = run("HANGING", RunSettings(iterations=10, warmup=2, window=0, size="small", timeout_seconds=3))
    assert result.verdict == "ERROR" and result.label == "ERROR (timeout)"
    assert result.reason.startswith("timeout: still running after --timeout 3 s")
    assert result.exit_code == -signal.SIGKILL
    # the baseline and the iterations before the hanging one are kept
    assert [s.iteration for s in result.samples] == list(range(-1, HANGING_ITERATION - 1))
    sleeper = int(pidfile.read_text())
    assert not running(sleeper), "the scenario's own child process survived the timeout"


def test_a_segfault_is_an_error_naming_the_signal_with_the_python_traceback():
    result = run("SEGFAULTING", RunSettings(iterations=10, warmup=2, window=0, size="small"))
    assert result.verdict == "ERROR"
    assert result.exit_code == -signal.SIGSEGV
    assert "killed by signal SIGSEGV after 2 samples" in result.reason
    assert "Segmentation fault" in result.error and "string_at" in result.error  # faulthandler
    assert len(result.samples) == 2


def test_os_exit_is_an_error_with_its_status():
    result = run("EXITING", RunSettings(iterations=10, warmup=2, window=0, size="small"))
    assert result.verdict == "ERROR"
    assert result.exit_code == 7
    assert result.reason == "the measuring process exited with status 7 after 2 samples"


def test_crashes_do_not_stop_the_other_scenarios():
    settings = RunSettings(iterations=6, warmup=1, window=0, size="small")
    plan = [PlannedScenario(spec(n), load_scenario(spec(n)), ("leaky",)) for n in ("SEGFAULTING", "EXITING", "CRASHING", "GROWING")]
    results = run_engine(plan, settings).scenarios
    assert [(r.name, r.variants[0].verdict) for r in results] == [
        ("segfaulting", "ERROR"), ("exiting", "ERROR"), ("crashing", "ERROR"), ("growing", "LEAK"),
    ]


# --- parallel runs ------------------------------------------------------------------------


# --- interrupts ---------------------------------------------------------------------------


def _interrupt_when(cli: subprocess.Popen[str], signum: int, ready: Callable[[], bool]) -> tuple[list[psutil.Process], str, str]:
    """Wait (with a deadline, polling an event the scenario writes) until *ready*, then send
    *signum* to the memleak command *cli*; its process tree at that moment, stdout and stderr.
    The command is killed if it is still running at the end."""
    try:
        deadline = time.monotonic() + 30
        while not ready():
            assert cli.poll() is None and time.monotonic() < deadline, "the command never reached the point to interrupt"
            time.sleep(0.05)
        tree = psutil.Process(cli.pid).children(recursive=True)
        cli.send_signal(signum)
        stdout, stderr = cli.communicate(timeout=20)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
    return tree, stdout, stderr


@pytest.mark.parametrize(("signum", "exit_code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_run_kills_its_children_and_writes_an_incomplete_report(tmp_path, signum, exit_code):
    pidfile, out = tmp_path / "sleeper.pid", tmp_path / "run.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT), MEMLEAK_TEST_PIDFILE=str(pidfile))
    cli = subprocess.Popen(
        [sys.executable, "-m", "memleak_cli", "run", spec("SLOW"), "-n", "200", "--size", "small", "--json", str(out)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    iterations = Path(f"{pidfile}.iterations")
    # iteration 3 started: the baseline and iterations 1 and 2 are sampled (an event, not a sleep)
    tree, stdout, stderr = _interrupt_when(
        cli, signum, lambda: iterations.exists() and len(iterations.read_text().splitlines()) >= 3,
    )
    assert int(pidfile.read_text()) in [p.pid for p in tree]  # worker and the scenario's child
    assert cli.returncode == exit_code, stderr
    name = signal.Signals(signum).name
    assert f"error: interrupted by {name}" in stderr and "Traceback" not in stderr
    assert "incomplete run" in stdout
    assert not [p.pid for p in tree if running(p.pid)], "a child process survived the interrupt"
    data = json.loads(out.read_text())
    assert data["complete"] is False
    variant = data["scenarios"][0]["variants"][0]
    assert variant["verdict"] == "ERROR" and variant["stopped_by"] == name
    # the baseline and the first iteration (the one that wrote the pid file) at least
    assert len(variant["samples"]) >= 2
    assert not list(tmp_path.glob(".*.tmp"))


def test_the_first_signal_asks_to_stop_and_the_second_interrupts_at_once(monkeypatch):
    import memleak_cli.measure.interrupts as interrupts

    before = signal.getsignal(signal.SIGINT)
    with StopOnSignal() as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.event.is_set() and stop.signal_name == "SIGTERM"
        os.kill(os.getpid(), signal.SIGTERM)  # the process group's echo of the same request
        assert stop.signal_name == "SIGTERM"
        monkeypatch.setattr(interrupts, "ECHO_SECONDS", 0.0)
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is before


def test_a_stop_requested_before_the_run_starts_no_variant():
    stop = StopOnSignal()
    stop.request(signal.SIGINT)
    plan = [PlannedScenario(spec("FLAT"), load_scenario(spec("FLAT")), ("leaky",))]
    assert run_engine(plan, RunSettings(iterations=5, size="small"), stop=stop).scenarios == []


# --- report files -------------------------------------------------------------------------


def test_a_failed_write_keeps_the_old_report_and_leaves_no_partial_file(tmp_path, monkeypatch):
    path = tmp_path / "run.json"
    path.write_text('{"old": true}\n')

    def disk_full(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(ReportFileError, match=r"cannot write .*run.json: No space left on device"):
        write_json_atomic(path, {"new": 1})
    assert path.read_text() == '{"old": true}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json"]


def test_the_default_report_path_is_written_whole_with_parallel_jobs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli.invoke(app, ["run", spec("GROWING"), "-n", "6", "--warmup", "1", "--window", "0", "--jobs", "2"])
    assert result.exit_code == 0, result.output
    (report,) = (tmp_path / "reports").iterdir()
    assert report.name.startswith("memleak-growing-") and report.suffix == ".json"
    assert read_report(report).scenarios[0].variants[0].verdict == "LEAK"


def test_a_run_whose_report_cannot_be_written_says_so_in_one_line(tmp_path, monkeypatch):
    out = tmp_path / "run.json"

    def disk_full(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    result = cli.invoke(app, ["run", spec("FLAT"), "-n", "5", "--window", "0", "--json", str(out)])
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1] == f"error: cannot write {out}: No space left on device"
    assert "leaky →" in result.output  # what was measured is still shown
    assert list(tmp_path.iterdir()) == []


def test_a_report_json_cannot_hold_fails_before_touching_the_file(tmp_path):
    with pytest.raises(ReportFileError, match="value JSON cannot store"):
        write_json_atomic(tmp_path / "nan.json", {"slope": float("nan")})
    assert list(tmp_path.iterdir()) == []


def _report_dict() -> dict:
    return report_to_dict(make_report())


def _edit(data: dict, path: str, value: object) -> dict:
    """Set (or delete, when *value* is ...) the item at a dotted path such as ``scenarios.0.name``."""
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is ...:
        del node[int(last) if isinstance(node, list) else last]
    else:
        node[int(last) if isinstance(node, list) else last] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("scenarios.0.variants.0.samples", "abc", "scenarios[0].variants[0].samples: expected a list, got string"),
        ("scenarios.0.variants.0.samples.0.phase", ..., "scenarios[0].variants[0].samples[0].phase: missing"),
        ("scenarios.0.variants.0.samples.0.rss_bytes", "12 MB", "samples[0].rss_bytes: expected an integer, got string"),
        ("scenarios.0.variants.0.samples.0.uss_bytes", 1.5, "samples[0].uss_bytes: expected an integer, got float"),
        ("scenarios.0.variants.0.verdict", 3, "scenarios[0].variants[0].verdict: expected a string, got int"),
        ("scenarios.0.variants", {"leaky": {}}, "scenarios[0].variants: expected a list, got object"),
        ("scenarios.0.variants.0.attribution", [], "attribution: expected an object, got list"),
        ("scenarios.0.variants.0.trends.0.leaking", "yes", "trends[0].leaking: expected a boolean, got string"),
        ("scenarios", None, "scenarios: expected a list, got null"),
        ("complete", "no", "complete: expected a boolean, got string"),
        ("host", [], "host: expected an object, got list"),
    ],
)
def test_a_hand_edited_report_names_the_bad_field(tmp_path, path, value, message):
    file = tmp_path / "edited.json"
    file.write_text(json.dumps(_edit(_report_dict(), path, value)))
    with pytest.raises(ReportFileError) as info:
        read_report(file)
    text = str(info.value)
    assert text.startswith(f"{file}: malformed report: ") and message in text and "\n" not in text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "not valid JSON (line "),  # the good report cut in half
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not a JSON report (not UTF-8 text at byte 0)"),
        ('{"schema_version": 2, "scenarios": []}', "report schema version 2 is not supported"),
        ('"just a string"', "not a memleak report (no schema_version)"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
)
def test_truncated_binary_and_foreign_files_give_one_line_errors(tmp_path, content, message):
    file = tmp_path / "bad.json"
    if content is None:
        whole = json.dumps(_report_dict(), indent=1)
        file.write_text(whole[: len(whole) // 2])
    elif isinstance(content, bytes):
        file.write_bytes(content)
    else:
        file.write_text(content)
    with pytest.raises(ReportFileError) as info:
        read_report(file)
    assert str(file) in str(info.value) and message in str(info.value) and "\n" not in str(info.value)


def test_an_older_report_without_the_new_fields_still_reads(tmp_path):
    data = _report_dict()
    for key in ("capped_bytes", "stopped_by"):
        del data["scenarios"][0]["variants"][0][key]
    file = tmp_path / "old.json"
    file.write_text(json.dumps(data))
    variant = read_report(file).scenarios[0].variants[0]
    assert variant.capped_bytes is None and variant.stopped_by is None and variant.label == "LEAK"


# --- command-line input -------------------------------------------------------------------

cli = CliRunner()
FLAT = spec("FLAT")


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--max-rss", "-3"], "error: --max-rss: cannot read size '-3': use a non-negative number with an optional unit, e.g. 4096, 4KiB, 1.5MB"),
        (["--max-rss", "4 XiB"], "error: --max-rss: unknown size unit 'XiB' in '4 XiB': use B, kB, MB, GB, KiB, MiB or GiB"),
        (["--heap-threshold", "1e400"], "error: --heap-threshold: size '1e400' is too large"),
        (["-n", "0"], "error: --iterations: must be from 1 to 1000000, got 0"),
        (["-n", "4"], "error: --iterations 4 is too few for a trend: use at least 5 (warm-up 2 + 3 measured)"),
        (["--warmup", "-1"], "error: --warmup: must be 0 or more, got -1"),
        (["--window", "-1"], "error: --window: must be from 0 to 10000, got -1"),
        (["--frames", "-2"], "error: --frames: must be from 0 to 100, got -2"),
        (["--frames", "101"], "error: --frames: must be from 0 to 100, got 101"),
        (["--top", "0"], "error: --top: must be from 1 to 10000, got 0"),
        (["--jobs", "0"], "error: --jobs: must be from 1 to 256, got 0"),
        (["--timeout", "-1"], "error: --timeout: must be a number, 0 or more, got -1.0"),
        (["--timeout", "nan"], "error: --timeout: must be a number, 0 or more, got nan"),
        (["--objects-threshold", "inf"], "error: --objects-threshold: must be a number, 0 or more, got inf"),
        (["--size", "huge"], "error: --size: must be one of small, medium, large, got 'huge'"),
        (["--variant", "slow"], "error: scenario 'flat' has no variant 'slow': use both, all or one of leaky"),
        (["--json", "."], "error: report path . is a folder: give a file name such as run.json"),
    ],
)
def test_bad_options_are_one_line_errors(tmp_path, monkeypatch, args, line):
    monkeypatch.chdir(tmp_path)
    result = cli.invoke(app, ["run", FLAT, *args])
    assert result.exit_code == 2, result.output
    assert result.output.strip() == line


def test_a_report_path_with_a_nul_byte_is_refused(tmp_path):
    result = cli.invoke(app, ["run", FLAT, "--json", "a\0b.json"])  # refused before any work
    assert result.exit_code == 2 and result.output.strip() == "error: report path 'a\\x00b.json' holds a NUL byte: give a plain file name"
    with pytest.raises(ReportFileError, match="holds a NUL byte"):
        check_writable(Path("a\0b.json"))


@pytest.mark.parametrize(
    ("name", "line"),
    [
        ("", "error: unknown scenario ''. Run 'memleak list' to see them all."),
        (":", "error: bad scenario spec ':': use package.module:name"),
        ("..up:X", "error: '..up' is not a module name: use package.module:name or path/to/file.py::name"),
        ("a:b:c", "error: 'a:b' is not a module name: use package.module:name or path/to/file.py::name"),
        ("no_such_module_x:S", "error: cannot import module 'no_such_module_x': no module named 'no_such_module_x'"),
        ("os:path", "error: os:path is a module, not a scenario: use a callable, memleak_cli.scenarios.contract.declare(...) or a Scenario"),
    ],
)
def test_bad_scenario_names_are_one_line_errors(name, line):
    result = cli.invoke(app, ["run", name])
    assert result.exit_code == 2
    assert result.output.strip() == line


def _limits(max_rss, timeout, jobs):
    run = resolve(Config(), {"max_rss": max_rss, "timeout": timeout, "jobs": jobs}).run
    return run.max_rss_bytes, run.timeout_seconds


def test_limits_resolve_to_bytes_and_seconds_with_zero_turning_them_off():
    assert _limits("1.5 MB", 2.5, 1) == (1_500_000, 2.5)
    assert _limits("0", 0, 4) == (None, None)
    cap, timeout = _limits(None, None, 1)
    assert cap == int(psutil.virtual_memory().total * 0.5) and timeout == 3600
    shared, _ = _limits(None, None, 4)  # four variants at once share the half
    assert shared == int(psutil.virtual_memory().total * 0.5 / 4)


@pytest.mark.parametrize(("max_rss", "line"), [
    ("0.4", "--max-rss 0.4 rounds to 0 B"),
    ("1000", "--max-rss 1000 B is below 1 MiB"),
])
def test_a_max_rss_too_small_to_run_anything_is_refused(max_rss, line):
    with pytest.raises(UsageError) as info:
        _limits(max_rss, None, 1)
    assert str(info.value).startswith(line)


SIZE_LIKE = st.from_regex(r"\s?-?[0-9]{0,4}\.?[0-9]{0,3}(e[+-]?[0-9]{1,4})?\s?[kKmMgGiIbB]{0,3}", fullmatch=True)


@given(st.one_of(st.text(max_size=30), SIZE_LIKE))
def test_parse_size_returns_bytes_or_a_usage_error(text):
    try:
        value = parse_size(text)
    except UsageError as exc:
        assert "\n" not in str(exc)
    else:
        assert isinstance(value, int) and value >= 0


ODD_VALUES = ["-3", "0", "-0", "1", "1e400", "1e-400", "nan", "inf", "-inf", "4KiB", "1.5 MB", "3.", ".5", "9" * 40, "0x10", "1_000", "\0", " ", "", "é", "1 2"]
VALUED_OPTIONS = [
    "-n", "--warmup", "--window", "--frames", "--top", "--jobs", "--timeout", "--objects-threshold", "--blocks-threshold",
    "--max-rss", "--heap-threshold", "--rss-threshold", "--retain-threshold", "--size", "--variant",
]
ODD_TEXT = st.one_of(st.sampled_from(ODD_VALUES), SIZE_LIKE, st.text(max_size=12))
OPTION = st.one_of(
    st.tuples(st.sampled_from(VALUED_OPTIONS), ODD_TEXT),
    st.tuples(st.just("--json"), st.text(alphabet="ab./_-\0 ", max_size=12).filter(lambda p: not p.startswith("/") and ".." not in p)),
)


def _no_traceback(result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    if result.exit_code != 0:
        assert result.output.strip().splitlines()[-1].startswith(("error: ", "Error: ", "│", "╰")), result.output


def test_every_option_with_every_odd_value_is_handled(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(run_command.engine, "run", lambda plan, settings, **kwargs: new_report(["memleak"], settings))
    for option in VALUED_OPTIONS:
        for value in ODD_VALUES:
            _no_traceback(cli.invoke(app, ["run", FLAT, option, value]))


@hypothesis_settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.one_of(st.none(), st.text(max_size=20), st.sampled_from([FLAT, FLAT, FLAT, ":", "a:b", "x.y:Z", "flat", "optuna"])), options=st.lists(OPTION, max_size=4), all_=st.booleans())
def test_odd_command_lines_never_end_in_a_traceback(tmp_path, monkeypatch, name, options, all_):
    # nothing runs: the engine is replaced, so only parsing, validation and the report write happen
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(run_command.engine, "run", lambda plan, settings, **kwargs: new_report(["memleak"], settings))
    args = ["run", *([] if name is None else [name]), *(["--all"] if all_ else []), *[x for pair in options for x in pair]]
    _no_traceback(cli.invoke(app, args))


# --- gate and baseline update: the same limits and signals as run (one orchestration entry) ------

COMMANDS = {
    "gate": lambda s, out: ["gate", "-s", s, "--json", str(out), "--baseline", str(out.with_name("b.json"))],
    "baseline": lambda s, out: ["baseline", "update", "-s", s, "--json", str(out), "--baseline", str(out.with_name("b.json"))],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize(("signum", "exit_code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_gate_and_baseline_are_stopped_by_signals_like_run(tmp_path, command, signum, exit_code):
    pidfile, out = tmp_path / "sleeper.pid", tmp_path / "run.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT), MEMLEAK_TEST_PIDFILE=str(pidfile))
    args = COMMANDS[command](spec("SLOW"), out)
    cli = subprocess.Popen(
        [sys.executable, "-m", "memleak_cli", *args, "-n", "200", "--size", "small"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    tree, stdout, stderr = _interrupt_when(cli, signum, lambda: pidfile.exists() and bool(pidfile.read_text()))
    assert cli.returncode == exit_code, stderr
    assert f"error: interrupted by {signal.Signals(signum).name}" in stderr and "Traceback" not in stderr
    assert not [p.pid for p in tree if running(p.pid)], "a child process survived the interrupt"
    assert json.loads(out.read_text())["complete"] is False
    assert not out.with_name("b.json").exists()  # a partial run records no baseline


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_gate_and_baseline_kill_a_hung_scenario_at_the_timeout(tmp_path, command, monkeypatch):
    pidfile, out = tmp_path / "sleeper.pid", tmp_path / "run.json"
    monkeypatch.setenv("MEMLEAK_TEST_PIDFILE", str(pidfile))
    result = cli.invoke(app, [*COMMANDS[command](spec("HANGING"), out), "-n", "10", "--window", "0", "--size", "small", "--timeout", "3"])
    variant = json.loads(out.read_text())["scenarios"][0]["variants"][0]
    assert variant["stopped_by"] == "timeout" and variant["verdict"] == "ERROR"
    assert not running(int(pidfile.read_text())), "the scenario's own child process survived the timeout"
    if command == "gate":
        assert result.exit_code == 3
        assert "ERROR hanging/leaky: ERROR (expected CLEAN)" in result.output


def test_gate_caps_a_variant_at_max_rss(tmp_path):
    out = tmp_path / "run.json"
    result = cli.invoke(app, [*COMMANDS["gate"](spec("HOGGING"), out), "-n", "60", "--window", "0", "--size", "small", "--max-rss", "250MiB"])
    variant = json.loads(out.read_text())["scenarios"][0]["variants"][0]
    assert variant["stopped_by"] == "max-rss" and variant["verdict"] == "LEAK"
    assert result.exit_code == 0  # HOGGING is expected to leak: a capped LEAK is what it promises
