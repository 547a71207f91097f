"""memleak against hostile input (issue #13): text from the measured program, output paths,
processes that escape or will not exit, numbers in the files memleak reads, and reprs.

Every test asserts what the README promises: no Python traceback from memleak, the exit status
of its table, a valid report whenever something was measured, no descendant process left
alive, and no file that is not a regular file replaced. Scenarios are tiny (tests/hostile_scenarios.py).
The number of hostile inputs tried is counted in :data:`TRIED` and printed at the end of the
session (tests/conftest.py).
"""

from __future__ import annotations

import copy
import dataclasses
import io
import json
import math
import os
import signal
import stat
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import psutil
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rich.console import Console
from typer.testing import CliRunner

from memleak_cli import engine
from memleak_cli.analysis.gate import evaluate
from memleak_cli.analysis.judge import Declared, WorkerExit, judge_variant
from memleak_cli.analysis.tolerance import parse_tolerance
from memleak_cli.cli.app import app
from memleak_cli.config import load_config
from memleak_cli.errors import ReportFileError
from memleak_cli.measure.parent import run_variant
from memleak_cli.measure.protocol import Finished, SampleTaken
from memleak_cli.probes.saferepr import clip, safe_repr, safe_str
from memleak_cli.report.baseline import baseline_from_report, baseline_to_dict, read_baseline
from memleak_cli.report.documents import MAX_DEPTH, read_document_text
from memleak_cli.report.jsonio import read_report, report_to_dict, write_atomic, write_report
from memleak_cli.report.model import RunReport, Sample
from memleak_cli.report.watch_model import (
    WATCH_KIND,
    WATCH_SCHEMA_VERSION,
    WatchReport,
    read_watch_report,
)
from memleak_cli.reporters.gate import summary_lines, write_junit
from memleak_cli.reporters.html import HtmlReporter, write_html
from memleak_cli.reporters.terminal import TerminalReporter
from memleak_cli.reporters.text import (
    for_markup,
    for_terminal,
    for_terminal_block,
    for_xml,
    surrogate_safe,
)
from memleak_cli.reporters.watch_view import render_summary
from memleak_cli.scenarios.discovery import load_scenario
from memleak_cli.settings import RunSettings
from tests.hostile_scenarios import HOSTILE_TEXT
from tests.paths import ROOT

REAL_REPORT = ROOT / "tests" / "data" / "optuna-small-20-all.json"
LINUX = sys.platform.startswith("linux")
TRIED: Counter[str] = Counter()  # hostile inputs tried, by kind (printed by tests/conftest.py)
cli = CliRunner()
FAST = ["-n", "5", "--warmup", "1", "--window", "0", "--size", "small"]
SGR = __import__("re").compile(r"\x1b\[[0-9;]*m")  # the only escape rich itself writes


def spec(name: str) -> str:
    return f"tests.hostile_scenarios:{name}"


def tried(kind: str, count: int = 1) -> None:
    TRIED[kind] += count


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def assert_clean_terminal(text: str) -> None:
    """Nothing the measured program wrote reaches the terminal as a control sequence."""
    bare = SGR.sub("", text)
    controls = [c for c in bare if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F or 0xD800 <= ord(c) <= 0xDFFF or c == "\u202e"]
    assert not controls, controls[:5]
    text.encode("utf-8")


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    environment = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "memleak_cli", *args], cwd=cwd, env=environment, capture_output=True,
        text=True, errors="surrogateescape", timeout=timeout,
    )


# --- 1. measured text is data -----------------------------------------------------------------

NASTY = [
    HOSTILE_TEXT, "[/tmp/cache]", "[bold]", "[/]", "\x1b]0;pwned\x07", "\x1b[2J\x1b[H", "\r overwritten", "\x00nul",
    "\udcff\udc80", "\ud800", "\x85\x9b31m", "\u202eevil", "\ufffe\uffff", "<script>alert(1)</script>", "]]>", "&amp;",
    "line\nbreak\ttab", "\\x1b", "🙂", "",
]


@pytest.mark.parametrize("text", NASTY)
def test_every_cleaner_returns_text_that_encodes_and_shows_no_control_character(text: str) -> None:
    tried("text", 1)
    for clean in (for_terminal, for_terminal_block, for_markup, surrogate_safe, for_xml):
        out = clean(text)
        out.encode("utf-8")  # no lone surrogate left
    assert_clean_terminal(for_terminal(text))
    assert "\n" not in for_terminal(text)
    assert for_terminal_block("a\nb\tc") == "a\nb\tc"
    ET.fromstring(f"<a b={json.dumps(for_xml(text).replace('&', '&amp;').replace('<', '&lt;'))}/>")  # well-formed
    printable = "".join(c for c in text if c.isprintable() and not 0xD800 <= ord(c) <= 0xDFFF and c not in "\u202e\ufffe\uffff")
    assert all(c in for_terminal(text) for c in printable)  # nothing readable is lost


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=40))
def test_cleaned_text_never_breaks_the_terminal_xml_or_rich_markup(text: str) -> None:
    tried("text")
    assert_clean_terminal(for_terminal(text))
    ET.fromstring(f"<a>{for_xml(text).replace('&', '&amp;').replace('<', '&lt;')}</a>")
    out = io.StringIO()
    Console(file=out, width=200, markup=True).print(for_markup(text))  # never a MarkupError


def _poisoned(obj: Any, tag: str = "") -> Any:
    """A copy of a report model object with NASTY text appended to every string field and item."""
    counter = iter(range(10**9))

    def poison(value: Any, name: str = "") -> Any:
        if isinstance(value, str) and name not in ("phase", "unit", "metric"):
            return value + NASTY[next(counter) % len(NASTY)] + tag
        if isinstance(value, list):
            return [poison(v, name) for v in value]
        if isinstance(value, dict) and name == "host":
            return {k: poison(v) for k, v in value.items()} | {HOSTILE_TEXT: HOSTILE_TEXT}
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return dataclasses.replace(value, **{f.name: poison(getattr(value, f.name), f.name) for f in dataclasses.fields(value) if f.init})
        return value

    return poison(copy.deepcopy(obj))


@pytest.fixture(scope="module")
def poisoned_report() -> RunReport:
    report = _poisoned(read_report(REAL_REPORT))
    report.complete = False
    return report


def test_a_report_full_of_hostile_text_renders_everywhere_without_escapes(poisoned_report: RunReport, tmp_path: Path) -> None:
    tried("report-render", 4)
    for color in (True, False):  # with colour, rich writes its own SGR codes and nothing else
        out = io.StringIO()
        TerminalReporter(width=120, color=color).render(poisoned_report, out)
        assert_clean_terminal(out.getvalue())
        assert "[/tmp/cache]" in out.getvalue() and "\\x1b]0;pwned\\x07" in out.getvalue()
    # HTML: written (surrogates escaped), the embedded JSON parses, hostile markup escaped
    page_path = tmp_path / "page.html"
    write_html(poisoned_report, page_path)
    page = page_path.read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in page and "\x1b" not in page
    data = page[page.index('type="application/json"') :]
    json.loads(data[data.index(">") + 1 : data.index("</script>")])
    # JSON report round trip keeps the text (surrogates as JSON escapes)
    write_report(poisoned_report, tmp_path / "run.json")
    assert read_report(tmp_path / "run.json") == poisoned_report
    # the gate: summary lines and a well-formed JUnit file
    result = evaluate(poisoned_report, None, parse_tolerance("50%"), Path("b.json"))
    for line in summary_lines(result):
        assert_clean_terminal(for_terminal(line))
    write_junit(result, tmp_path / "junit.xml")
    root = ET.parse(tmp_path / "junit.xml").getroot()
    assert root.find("testsuite").get("tests") == str(len(result.checks))


def test_a_watch_report_with_hostile_text_renders_cleanly() -> None:
    tried("watch-render")
    report = WatchReport(
        kind=WATCH_KIND, schema_version=WATCH_SCHEMA_VERSION, tool_version="t", created="now", command=[HOSTILE_TEXT],
        target={"pid": 1, "command": ["python", HOSTILE_TEXT], "launched": True}, settings={}, ended=HOSTILE_TEXT,
        reason=HOSTILE_TEXT, exit_code=-9,
    )
    out = io.StringIO()
    render_summary(report, Console(file=out, width=120, force_terminal=True))
    assert_clean_terminal(out.getvalue())
    assert "[/tmp/cache]" in out.getvalue()


@pytest.mark.parametrize(("scenario", "code"), [("MARKUP", 0), ("RAISING", 3), ("RAISING_ODDLY", 3)])
def test_hostile_names_messages_and_descriptions_end_in_a_report_not_a_traceback(tmp_path: Path, scenario: str, code: int) -> None:
    tried("scenario")
    out = tmp_path / "run.json"
    done = run_cli("run", spec(scenario), *FAST, "--json", str(out), "--html", str(tmp_path / "run.html"))
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr
    assert_clean_terminal(done.stdout)
    assert_clean_terminal(done.stderr)
    report = read_report(out)  # a valid report of what was measured
    variant = report.scenarios[0].variants[0]
    assert len(variant.samples) >= 1
    if scenario == "RAISING":
        assert "\\x1b]0;pwned\\x07" in done.stderr and "\udcff" in variant.reason
        assert done.stderr.strip().splitlines()[-1].startswith("error: scenario crashed: raising/leaky: scenario raised RuntimeError: bad [/tmp/cache]")
    if scenario == "RAISING_ODDLY":  # its __str__ raises SystemExit: the crash is still reported
        assert "str() failed" in variant.reason
    assert (tmp_path / "run.html").stat().st_size > 0


def test_a_view_that_fails_keeps_the_json_report_and_says_so_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tried("render-failure")
    monkeypatch.chdir(tmp_path)

    def broken(self: Any, report: Any, file: Any) -> None:
        raise RuntimeError("the view broke")

    monkeypatch.setattr(TerminalReporter, "render", broken)
    result = cli.invoke(app, ["run", spec("MARKUP"), *FAST, "--json", "run.json"])
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines()[-1] == "error: cannot show the terminal report: RuntimeError: the view broke; the JSON report is written: run.json"
    assert read_report(tmp_path / "run.json").scenarios[0].variants[0].verdict == "LEAK"


# --- 3. output paths --------------------------------------------------------------------------


def _special_targets(tmp_path: Path) -> dict[str, Path]:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    targets = {"fifo": fifo, "link-to-fifo": tmp_path / "to-fifo.json", "link-to-dev-null": tmp_path / "to-null.json"}
    targets["link-to-fifo"].symlink_to(fifo)
    targets["link-to-dev-null"].symlink_to(os.devnull)
    try:
        os.mknod(tmp_path / "null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
        targets["device"] = tmp_path / "null"
    except (PermissionError, OSError):
        pass  # no CAP_MKNOD: the link to /dev/null stands for a device
    source = tmp_path / "basic.py"
    source.write_text("print('keep me')\n")
    targets["python-source"] = source
    return targets


def _unchanged(path: Path, before: os.stat_result) -> bool:
    after = os.stat(path)
    return stat.S_IFMT(after.st_mode) == stat.S_IFMT(before.st_mode) and after.st_ino == before.st_ino and after.st_size == before.st_size


@pytest.mark.skipif(not LINUX, reason="FIFOs, device nodes and symbolic links as on Linux")
@pytest.mark.parametrize(
    "command",
    [
        ["run", "--json"], ["run", "--html"], ["gate", "--junit"], ["gate", "--json"], ["baseline", "update", "--baseline"],
        ["watch", "--json"], ["report", "-o"],
    ],
)
def test_a_device_fifo_link_or_source_file_is_never_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(engine, "run", lambda plan, settings, **kwargs: engine.new_report(["memleak"], settings))
    write_report(read_report(REAL_REPORT), tmp_path / "good.json")
    for name, target in _special_targets(tmp_path).items():
        tried("output-path")
        before = os.stat(target)
        scenario = ["-s", spec("MARKUP")] if command[0] in ("gate", "baseline") else []
        args = {
            "run": ["run", spec("MARKUP"), *FAST, command[1], str(target)],
            "gate": ["gate", *scenario, *FAST, command[1], str(target)],
            "baseline": ["baseline", "update", *scenario, *FAST, "--baseline", str(target)],
            "watch": ["watch", "--json", str(target), "--duration", "1s", "--", sys.executable, "-c", "pass"],
            "report": ["report", str(tmp_path / "good.json"), "-o", str(target)],
        }[command[0]]
        result = cli.invoke(app, args)
        assert result.exit_code == 2, (name, result.output)
        assert "Traceback" not in result.output and result.output.strip().splitlines()[-1].startswith("error: "), result.output
        assert _unchanged(target, before), f"{name} was replaced"
        assert os.path.exists(os.devnull) and stat.S_ISCHR(os.stat(os.devnull).st_mode)
        if name == "python-source":
            assert target.read_text() == "print('keep me')\n"
            for old in tmp_path.iterdir():
                if old.is_file() and old.suffix == ".json" and old.name != "good.json":
                    old.unlink()  # what the line before wrote at the default place


@pytest.mark.skipif(not LINUX, reason="FIFOs as on Linux")
def test_write_atomic_checks_the_target_again_just_before_replacing_it(tmp_path: Path) -> None:
    tried("output-path")
    fifo = tmp_path / "late-fifo"
    os.mkfifo(fifo)  # appeared after the early check
    with pytest.raises(ReportFileError, match="is a FIFO"):
        write_atomic(fifo, b"{}")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["late-fifo"]  # no temporary file left


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", spec("MARKUP"), *FAST, "--json", "new/"], "new/memleak-markup_*.json"),
        (["run", spec("MARKUP"), *FAST, "--json", "a/b/", "--html", "pages/"], "pages/memleak-markup_*.html"),
        (["gate", "-s", spec("MARKUP"), *FAST, "--json", "out/", "--junit", "ci/"], "ci/junit.xml"),
    ],
)
def test_a_trailing_slash_names_a_folder_for_the_default_file_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], expected: str) -> None:
    tried("output-path")
    monkeypatch.chdir(tmp_path)
    result = cli.invoke(app, args)
    assert result.exit_code in (0, 1), result.output
    (made,) = tmp_path.glob(expected)
    assert made.is_file() and made.stat().st_size > 0
    if made.suffix == ".json":
        assert read_report(made).scenarios


# --- 4. process containment -------------------------------------------------------------------


@pytest.mark.skipif(not LINUX, reason="PR_SET_CHILD_SUBREAPER is Linux only")
def test_grandchildren_that_double_fork_into_their_own_session_are_killed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tried("process")
    pidfile = tmp_path / "pids"
    monkeypatch.setenv("MEMLEAK_TEST_PIDFILE", str(pidfile))
    result = run_variant(load_scenario(spec("DAEMONIZING")), spec("DAEMONIZING"), "leaky", RunSettings(iterations=5, warmup=1, window=0, size="small"))
    assert result.verdict != "ERROR", result.reason
    pids = [int(line) for line in pidfile.read_text().split()]
    assert len(pids) == 5
    deadline = time.monotonic() + 10
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    survivors = [p for p in pids if alive(p)]
    for pid in survivors:  # never leave them to the next test
        psutil.Process(pid).kill()
    assert not survivors, "a setsid grandchild outlived the run"


@pytest.mark.skipif(not LINUX, reason="the lifeline pipe and subreaper are Linux only")
def test_workers_and_their_children_die_when_memleak_is_sigkilled(tmp_path: Path) -> None:
    tried("process")
    pidfile = tmp_path / "sleeper.pid"
    runs = tmp_path / "runs"  # where memleak makes its run's folder (TMPDIR)
    runs.mkdir()
    env = dict(os.environ, PYTHONPATH=str(ROOT), MEMLEAK_TEST_PIDFILE=str(pidfile), TMPDIR=str(runs))
    parent = subprocess.Popen(
        [sys.executable, "-m", "memleak_cli", "run", "tests.synthetic_scenarios:SLOW", "-n", "400", "--size", "small", "--json", str(tmp_path / "r.json")],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    tree: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # wait for the worker and the scenario's own child
            assert parent.poll() is None, "memleak ended before its worker started"
            tree = psutil.Process(parent.pid).children(recursive=True)
            if pidfile.exists() and pidfile.read_text() and len(tree) >= 2:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the worker never started its scenario")
        assert int(pidfile.read_text()) in [p.pid for p in tree]
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 15
        while any(alive(p.pid) for p in tree) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [p.pid for p in tree if alive(p.pid)], "a worker or its child outlived a SIGKILLed memleak"
        # the run's folder, which the killed parent could not remove, went with its worker
        assert [p.name for p in runs.iterdir()] == []
    finally:
        for proc in tree:
            try:
                proc.kill()
            except psutil.Error:
                pass
        if parent.poll() is None:
            parent.kill()
            parent.wait()


# --- 5. a worker that cannot exit ---------------------------------------------------------------


def test_non_daemon_threads_do_not_hold_the_worker_and_the_verdict_stands() -> None:
    tried("process")
    started = time.monotonic()
    result = run_variant(load_scenario(spec("THREADING")), spec("THREADING"), "leaky", RunSettings(iterations=6, warmup=1, window=0, size="small", timeout_seconds=60))
    assert time.monotonic() - started < 30  # not the --timeout
    assert result.verdict == "LEAK", result.reason
    assert result.trend("threads") is not None and result.trend("threads").leaking
    assert result.exit_code == 0 and result.stopped_by is None


def test_a_worker_that_hangs_after_its_last_event_is_judged_from_its_events(monkeypatch: pytest.MonkeyPatch) -> None:
    tried("process")
    import memleak_cli.measure.parent as runner

    monkeypatch.setattr(runner, "EXIT_GRACE_SECONDS", 1.0)
    result = run_variant(load_scenario(spec("LINGERING")), spec("LINGERING"), "leaky", RunSettings(iterations=6, warmup=1, window=0, size="small", timeout_seconds=60))
    assert result.verdict == "LEAK", result.reason
    assert result.exit_code == -signal.SIGKILL
    assert any("did not exit within 1 s of its last measurement" in note for note in result.notes)


def test_events_ending_in_done_are_judged_even_when_the_process_was_killed() -> None:
    sample = {"iteration": 0, "phase": "measure", "seconds": 0.1, "rss_bytes": 1, "uss_bytes": 1, "tree_rss_bytes": 1, "tree_uss_bytes": 1,
              "children": 0, "heap_bytes": 1, "py_blocks": 1, "gc_objects": 1, "fds": 1, "threads": 1}
    events = [SampleTaken(Sample(**{**sample, "iteration": i, "gc_objects": 100 * i})) for i in range(6)] + [Finished()]
    settings = RunSettings(iterations=6, warmup=0, window=0)
    result = judge_variant(Declared("leaky", "LEAK"), events, settings, WorkerExit(-9, 1.0, lingered_seconds=5.0))
    assert result.verdict == "LEAK"
    crashed = judge_variant(Declared("leaky", "LEAK"), events, settings, WorkerExit(-9, 1.0))
    assert crashed.verdict == "ERROR"


# --- 7. numbers and shapes in the files memleak reads -----------------------------------------

GOOD = report_to_dict(read_report(REAL_REPORT))


def _set(data: dict[str, Any], path: tuple[Any, ...], raw: str) -> str:
    """The JSON text of *data* with the value at *path* replaced by the raw JSON text *raw*."""
    marker = "\u2603MARK\u2603"
    node = data = copy.deepcopy(data)
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = marker
    return json.dumps(data).replace(json.dumps(marker), raw)


SAMPLE = ("scenarios", 0, "variants", 0, "samples", 1)
HOSTILE_NUMBERS = {
    "huge integer": ("10" + "0" * 400, "too large"),
    "integer past 4300 digits": ("9" * 5000, "a number too long to read"),
    "Infinity": ("Infinity", "Infinity is not a number memleak writes"),
    "-Infinity": ("-Infinity", "-Infinity is not a number"),
    "NaN": ("NaN", "NaN is not a number memleak writes"),
    "float overflow": ("1e400", "not finite"),
    "deep list": ("[" * 900 + "]" * 900, f"nested deeper than {MAX_DEPTH} levels"),
    "very deep list": ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
}


@pytest.mark.parametrize("name", list(HOSTILE_NUMBERS))
@pytest.mark.parametrize("field", ["seconds", "rss_bytes", "uss_bytes"])
def test_hostile_numbers_in_a_report_are_one_line_errors(tmp_path: Path, name: str, field: str) -> None:
    tried("document")
    raw, message = HOSTILE_NUMBERS[name]
    path = tmp_path / "run.json"
    path.write_text(_set(GOOD, (*SAMPLE, field), raw))
    with pytest.raises(ReportFileError) as info:
        read_report(path)
    assert message in str(info.value) and "\n" not in str(info.value) and str(path) in str(info.value)
    result = cli.invoke(app, ["report", str(path), "-o", str(tmp_path / "page.html")])  # the HTML page is never drawn from it
    assert result.exit_code == 2 and result.output.startswith(f"error: {path}") and not (tmp_path / "page.html").exists()


@pytest.mark.parametrize("name", list(HOSTILE_NUMBERS))
def test_hostile_numbers_in_a_baseline_never_pass_the_gate(tmp_path: Path, name: str) -> None:
    tried("document")
    raw, message = HOSTILE_NUMBERS[name]
    report = read_report(REAL_REPORT)
    good = baseline_to_dict(baseline_from_report(report))
    scenario = next(iter(good["entries"]))
    variant = next(iter(good["entries"][scenario]))
    path = tmp_path / "baseline.json"
    path.write_text(_set(good, ("entries", scenario, variant, "growth_per_iteration"), raw))
    with pytest.raises(ReportFileError) as info:
        read_baseline(path)
    assert message in str(info.value) and "\n" not in str(info.value)
    result = cli.invoke(app, ["gate", "-s", spec("MARKUP"), *FAST, "--baseline", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output


BAD_FILES = {
    "not UTF-8": (b"{\"format\": \"\xff\xfe\"}", "not UTF-8 text at byte"),
    "UTF-16": ('{"a": 1}'.encode("utf-16"), "not UTF-8 text at byte 0"),
    "NUL bytes": (b"\0" * 64, "not valid JSON"),
    "empty": (b"", "not valid JSON"),
    "lone surrogate escape": (b'{"format": "\\udcff"}', "not a memleak"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
@pytest.mark.parametrize("reader", ["report", "baseline", "watch"])
def test_bad_bytes_in_any_document_are_one_line_errors(tmp_path: Path, name: str, reader: str) -> None:
    tried("document")
    content, message = BAD_FILES[name]
    path = tmp_path / "doc.json"
    path.write_bytes(content)
    read = {"report": read_report, "baseline": read_baseline, "watch": read_watch_report}[reader]
    with pytest.raises(ReportFileError) as info:
        read(path)
    assert "\n" not in str(info.value)
    if reader != "baseline" or "not a memleak" not in message:
        assert message.split(" ")[0] in str(info.value)


@pytest.mark.skipif(not LINUX, reason="FIFOs and /dev/zero as on Linux")
@pytest.mark.parametrize("reader", ["report", "baseline", "watch", "config"])
def test_a_fifo_a_device_or_a_folder_is_refused_before_it_is_opened(tmp_path: Path, reader: str) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # nothing writes to it: opening it for reading would wait for ever
    folder = tmp_path / "folder"
    folder.mkdir()
    for target in (fifo, Path("/dev/zero"), folder):
        tried("document")
        started = time.monotonic()
        if reader == "config":  # find_pyproject takes regular files only; the reader checks again
            link = tmp_path / "pyproject.toml"
            link.unlink(missing_ok=True)
            link.symlink_to(target)
            assert load_config(tmp_path).path is None or load_config(tmp_path).path != link
            with pytest.raises(ReportFileError, match="not a regular file"):
                read_document_text(link, "config")
        else:
            read = {"report": read_report, "baseline": read_baseline, "watch": read_watch_report}[reader]
            with pytest.raises(ReportFileError, match="not a regular file"):
                read(target)
        assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"[tool.memleak]\niterations = 5\n# \xff\n", "not UTF-8 text at byte"),
        (b"[tool.memleak.thresholds]\nobjects = nan\n", "must be a number, 0 or more, got nan"),
        (b"[tool.memleak.thresholds]\nheap = inf\n", "must be a finite size"),
        (b"[tool.memleak]\niterations = " + b"9" * 5000 + b"\n", "not valid TOML"),
        (b"[tool.memleak]\nscenarios = " + b"[" * 5000 + b"]" * 5000 + b"\n", "pyproject.toml"),
    ],
)
def test_a_hostile_config_is_a_one_line_error(tmp_path: Path, content: bytes, message: str) -> None:
    tried("document")
    (tmp_path / "pyproject.toml").write_bytes(content)
    with pytest.raises(ReportFileError) as info:
        load_config(tmp_path)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_a_report_of_24_000_samples_round_trips(tmp_path: Path) -> None:
    # no timed assert (a slow reader was 79 s for 240,000 samples): this checks it reads back whole
    tried("document")
    report = read_report(REAL_REPORT)
    variant = report.scenarios[0].variants[0]
    template = dataclasses.asdict(variant.samples[1])
    template.pop("child_processes", None)
    variant.samples = [Sample(**{**template, "iteration": i}) for i in range(24_000)]
    path = tmp_path / "big.json"
    write_report(report, path)
    back = read_report(path)
    assert [s.iteration for s in back.scenarios[0].variants[0].samples] == list(range(24_000))


# --- hypothesis: mutated documents and command lines ------------------------------------------

JSON_LEAF = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.sampled_from(NASTY),
)
JSON_VALUE = st.recursive(JSON_LEAF, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)), max_leaves=8)
RAW_TOKENS = st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "1" + "0" * 30, "[" * 70 + "]" * 70, '"\\udcff"', '"\\u0000"', "{}", "[]", "null", "true", '"x"', "-0", "0.5"])


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data[:2]):
            found += _paths(value, (*prefix, index))
    return found


SMALL_GOOD = copy.deepcopy(GOOD)
for _scenario in SMALL_GOOD["scenarios"]:
    for _variant in _scenario["variants"]:
        _variant["samples"] = _variant["samples"][:3]
REPORT_PATHS = _paths(SMALL_GOOD)


def _mutations(good: dict[str, Any], paths: list[tuple[Any, ...]]) -> st.SearchStrategy[bytes]:
    structural = st.tuples(st.sampled_from(paths), st.one_of(JSON_VALUE.map(lambda v: ("value", v)), RAW_TOKENS.map(lambda r: ("raw", r)), st.just(("delete", None))))

    def apply(change: tuple[tuple[Any, ...], tuple[str, Any]]) -> bytes:
        path, (how, what) = change
        if how == "raw":
            return _set(good, path, what).encode("utf-8", "surrogatepass")
        data = copy.deepcopy(good)
        node = data
        for key in path[:-1]:
            node = node[key]
        if how == "delete":
            del node[path[-1]]
        else:
            node[path[-1]] = what
        return json.dumps(data).encode("utf-8", "surrogatepass")

    text = json.dumps(good).encode()
    byte_level = st.tuples(st.integers(0, len(text)), st.integers(0, 16), st.binary(max_size=8)).map(lambda c: text[: c[0]] + c[2] + text[c[0] + c[1] :])
    return st.one_of(structural.map(apply), byte_level)


def _one_line_or_valid(read: Any, path: Path) -> Any:
    try:
        return read(path)
    except ReportFileError as exc:
        assert "\n" not in str(exc) and str(exc)
        return None


@hypothesis_settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(content=_mutations(SMALL_GOOD, REPORT_PATHS))
def test_a_mutated_report_reads_or_is_one_line_and_what_reads_renders(tmp_path: Path, content: bytes) -> None:
    tried("document-mutation")
    path = tmp_path / "mutated.json"
    path.write_bytes(content)
    report = _one_line_or_valid(read_report, path)
    if report is not None:  # whatever reads must render: terminal, HTML, JSON again
        TerminalReporter(width=100, color=False).render(report, io.StringIO())
        HtmlReporter().render_to_string(report).encode("utf-8", "backslashreplace")
        write_report(report, tmp_path / "again.json")


GOOD_BASELINE = baseline_to_dict(baseline_from_report(read_report(REAL_REPORT)))


@hypothesis_settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(content=_mutations(GOOD_BASELINE, _paths(GOOD_BASELINE)))
def test_a_mutated_baseline_reads_or_is_one_line_and_never_holds_a_non_finite_number(tmp_path: Path, content: bytes) -> None:
    tried("document-mutation")
    path = tmp_path / "baseline.json"
    path.write_bytes(content)
    baseline = _one_line_or_valid(read_baseline, path)
    if baseline is not None:
        for variants in baseline.entries.values():
            for measures in variants.values():
                for value in (measures.growth_per_iteration, measures.retained_bytes):
                    assert value is None or math.isfinite(value)


PATH_TEXT = st.one_of(
    st.sampled_from(["new/", "a/b/", "x.py", "fifo", "to-fifo.json", "basic.py", "ok.json", ".", "./", "//", "\x1b]0;t\x07.json", "[x].json", "é.json", "a\udcffb.json"]),
    st.text(alphabet="ab./_-\x1b[] ", max_size=10).filter(lambda p: ".." not in p and not p.startswith("/")),
)
CLI_OPTION = st.one_of(
    st.tuples(st.sampled_from(["--json", "--html"]), PATH_TEXT),
    st.tuples(st.sampled_from(["-n", "--warmup", "--window", "--top", "--timeout", "--max-rss", "--size"]), st.sampled_from(["5", "0", "-1", "nan", "1e400", "9" * 30, "\x1b[2J", "[b]", "small"])),
)


@pytest.mark.skipif(not LINUX, reason="FIFOs as on Linux")
@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(options=st.lists(CLI_OPTION, max_size=4), command=st.sampled_from(["run", "gate"]))
def test_hostile_option_strings_give_a_documented_exit_status_and_no_traceback(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, options: list[tuple[str, str]], command: str) -> None:
    tried("command-line")
    folder = tmp_path_factory.mktemp("cli")
    os.mkfifo(folder / "fifo")
    (folder / "to-fifo.json").symlink_to(folder / "fifo")
    (folder / "basic.py").write_text("keep\n")
    monkeypatch.chdir(folder)
    monkeypatch.setattr(engine, "run", lambda plan, settings, **kwargs: engine.new_report(["memleak"], settings))
    flat = [x for pair in options for x in pair]
    if command == "gate":
        flat = [x if x != "--html" else "--junit" for x in flat]
    args = [command, *(["-s"] if command == "gate" else []), spec("MARKUP"), *flat]
    result = cli.invoke(app, args)
    assert result.exit_code in (0, 1, 2, 3), (args, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, repr(result.exception))
    assert "Traceback" not in result.output
    assert stat.S_ISFIFO(os.stat(folder / "fifo").st_mode) and (folder / "basic.py").read_text() == "keep\n"
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


# --- 9. the measured program's reprs ----------------------------------------------------------


def test_reprs_that_hang_raise_system_exit_or_run_long_keep_the_attribution(tmp_path: Path) -> None:
    tried("repr")
    started = time.monotonic()
    result = run_variant(load_scenario(spec("BAD_REPRS")), spec("BAD_REPRS"), "leaky", RunSettings(iterations=5, warmup=1, window=1, size="small", timeout_seconds=90))
    assert time.monotonic() - started < 60
    assert result.verdict == "LEAK", result.reason
    attribution = result.attribution
    assert attribution is not None and attribution.retained, "the attribution was lost"
    for obj in attribution.retained:
        assert len(obj.repr) <= 121 and len(obj.path) < 400
    assert any("ExitingRepr object at 0x" in obj.repr or "ExitingRepr object at 0x" in obj.path for obj in attribution.retained)


def test_safe_repr_and_safe_str_bound_time_exceptions_and_length() -> None:
    from tests.hostile_scenarios import ExitingRepr, HangingRepr, HugeRepr

    tried("repr", 4)
    started = time.monotonic()
    assert safe_repr(HangingRepr()).startswith("<tests.hostile_scenarios.HangingRepr object at 0x")
    assert time.monotonic() - started < 3
    assert safe_repr(ExitingRepr()).startswith("<tests.hostile_scenarios.ExitingRepr object at 0x")
    assert safe_str(ExitingRepr()) == "<tests.hostile_scenarios.ExitingRepr: str() failed>"
    assert len(safe_repr(HugeRepr())) <= 121
    assert clip("word " * 40, 50).endswith("…") and len(clip("word " * 40, 50)) <= 50
