"""memleak watch: parsing durations, judging series, watching real child processes, the CLI.

The verdicts on synthetic series are exact. The child-process tests rely only on growth far
above any noise: the growing child writes and keeps 2 MiB every 0.1 s (each byte touched, so it
is resident), i.e. ~1.2 GiB/min against a 1 MiB/min threshold; the flat child allocates once.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from io import StringIO
from pathlib import Path

import psutil
import pytest
from rich.console import Console
from typer.testing import CliRunner

from memleak_cli.cli.app import app
from memleak_cli.errors import ReportFileError, UsageError
from memleak_cli.report.watch_model import WatchPoint, read_watch_report, write_watch_report
from memleak_cli.reporters.watch_view import live_panel, render_summary, sparkline
from memleak_cli.units import parse_duration
from memleak_cli.watch.analysis import analyze, reduce_series
from memleak_cli.watch.sampler import watch as run_watch
from memleak_cli.watch.settings import WatchSettings
from memleak_cli.watch.target import Target
from tests.paths import ROOT

MiB = 1024 * 1024


GROW = """
import time
keep = []
for _ in range(300):
    keep.append(b"\\x01" * (2 << 20))
    time.sleep(0.1)
"""
FLAT = """
import sys, time
keep = b"\\x01" * (8 << 20)
if len(sys.argv) > 1:  # a ready file: written once the process holds all it will hold
    open(sys.argv[1], "w").close()
for _ in range(600):
    time.sleep(0.05)
"""


def _script(tmp_path: Path, name: str, code: str) -> list[str]:
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(code))
    return [sys.executable, str(path)]


def _points(values: list[float], step: float = 1.0) -> list[WatchPoint]:
    return [
        WatchPoint(seconds=i * step, rss_bytes=int(v), uss_bytes=int(v), processes=1)
        for i, v in enumerate(values)
    ]


def _empty_report():  # type: ignore[no-untyped-def]
    from memleak_cli.report.watch_model import WATCH_KIND, WATCH_SCHEMA_VERSION, WatchReport

    return WatchReport(
        kind=WATCH_KIND,
        schema_version=WATCH_SCHEMA_VERSION,
        tool_version="t",
        created="now",
        command=[],
        target={"pid": 1, "command": ["x"], "launched": False},
        settings={},
    )


# -- durations -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("500ms", 0.5),
        ("1s", 1.0),
        ("1.5s", 1.5),
        ("2m", 120.0),
        ("2min", 120.0),
        ("1h", 3600.0),
        ("3", 3.0),
        (" 250 MS ", 0.25),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "cannot read duration"),
        ("-1s", "cannot read duration"),
        ("5 days", "unknown duration unit 'days'"),
        ("1.2.3s", "cannot read"),
    ],
)
def test_parse_duration_rejects(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_duration(text)


# -- judging series ------------------------------------------------------------------------
def test_steady_growth_above_the_threshold_per_minute_is_a_leak() -> None:
    # +1 MiB per second = 60 MiB/min, one reading per second
    report = _empty_report()
    report.points = _points([100 * MiB + i * MiB for i in range(30)])
    analyze(report, WatchSettings(threshold_per_minute=59 * MiB))
    assert report.verdict == "LEAK"
    assert report.trend("rss_bytes").per_minute == pytest.approx(60 * MiB)  # type: ignore[union-attr]
    assert "RSS" in report.reason and "/min" in report.reason


def test_growth_just_under_the_threshold_is_clean() -> None:
    report = _empty_report()
    report.points = _points([100 * MiB + i * MiB for i in range(30)])
    analyze(report, WatchSettings(threshold_per_minute=61 * MiB))
    assert report.verdict == "CLEAN"
    assert "fails slope" in report.trend("rss_bytes").reason  # type: ignore[union-attr]


def test_the_threshold_is_converted_per_step_of_the_interval() -> None:
    # the same 60 MiB/min read every 0.1 s: 0.1 MiB per reading
    report = _empty_report()
    report.points = _points([100 * MiB + i * MiB / 10 for i in range(30)], step=0.1)
    analyze(report, WatchSettings(threshold_per_minute=59 * MiB))
    assert report.verdict == "LEAK"
    assert report.trend("uss_bytes").trend.threshold == pytest.approx(59 * MiB / 600, rel=1e-6)  # type: ignore[union-attr]


def test_growth_that_plateaus_is_not_sustained() -> None:
    report = _empty_report()
    report.points = _points([100 * MiB + min(i, 8) * MiB for i in range(30)])
    analyze(report, WatchSettings())
    assert report.verdict == "CLEAN"
    assert "sustained" in report.trend("rss_bytes").reason  # type: ignore[union-attr]


def test_warmup_keeps_start_up_out_of_the_trend() -> None:
    values = [i * 10 * MiB for i in range(10)] + [100 * MiB] * 20  # start-up ramp, then flat
    report = _empty_report()
    report.points = _points(values)
    analyze(report, WatchSettings(warmup=10))
    assert report.verdict == "CLEAN"
    assert report.trend("rss_bytes").points == 20  # type: ignore[union-attr]
    assert report.peak_rss_bytes == 100 * MiB


def test_too_few_readings_are_unknown() -> None:
    report = _empty_report()
    report.points = _points([MiB, 2 * MiB])
    analyze(report, WatchSettings())
    assert report.verdict == "UNKNOWN"
    assert "too few readings" in report.reason


def test_long_series_are_reduced_to_bucket_medians() -> None:
    values, step = reduce_series(
        [float(i) for i in range(1000)], [float(i) for i in range(1000)], 100
    )
    assert len(values) == 100
    assert step == pytest.approx(10.0)
    assert values[0] == pytest.approx(4.5)


def test_a_hidden_uss_leaves_only_rss_judged() -> None:
    report = _empty_report()
    report.points = [
        WatchPoint(seconds=float(i), rss_bytes=MiB, uss_bytes=None, processes=1) for i in range(10)
    ]
    analyze(report, WatchSettings())
    assert [t.metric for t in report.trends] == ["rss_bytes"]
    assert report.peak_uss_bytes is None


# -- watching real processes ---------------------------------------------------------------
def test_watch_a_growing_child_is_a_leak(tmp_path: Path) -> None:
    target = Target.launch(_script(tmp_path, "grow", GROW))
    report = run_watch(target, WatchSettings(interval=0.25, duration=2.5), command=["test"])
    assert report.verdict == "LEAK", report.reason
    assert report.ended == "duration"
    assert report.trend("rss_bytes").per_minute > 100 * MiB  # type: ignore[union-attr]  # ~1.2 GiB/min written
    assert target.popen is not None and target.popen.poll() is not None  # stopped at the end
    assert report.exit_code == -signal.SIGTERM


def _started(tmp_path: Path, code: str) -> subprocess.Popen[bytes]:
    """The script started and past its start-up (its ready file written), polled with a deadline."""
    ready = tmp_path / "ready"
    child = subprocess.Popen([*_script(tmp_path, "flat", code), str(ready)])
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert child.poll() is None and time.monotonic() < deadline, "the script never got ready"
        time.sleep(0.02)
    return child


def _stop_after(count: int) -> object:
    def stop(points: object) -> None:
        if len(points) == count:  # type: ignore[arg-type]
            raise KeyboardInterrupt

    return stop


def test_watch_a_flat_child_is_clean(tmp_path: Path) -> None:
    # attached once it holds all it will hold, and stopped after a count of readings: the
    # verdict does not depend on how many readings a busy machine fits in a second
    child = _started(tmp_path, FLAT)
    try:
        report = run_watch(
            Target.attach(child.pid), WatchSettings(interval=0.1), on_point=_stop_after(15)
        )
    finally:
        child.kill()
        child.wait()
    assert report.verdict == "CLEAN", report.reason
    assert len(report.points) == 15


def test_watch_ends_when_the_process_exits_early(tmp_path: Path) -> None:
    started = time.monotonic()
    target = Target.launch([sys.executable, "-c", "import time; time.sleep(0.3)"])
    report = run_watch(target, WatchSettings(interval=0.05, duration=30))
    assert report.ended == "exited"
    assert report.exit_code == 0
    assert time.monotonic() - started < 10
    assert report.points  # what was read before the exit is kept


def test_interrupt_stops_sampling_and_keeps_the_report(tmp_path: Path) -> None:
    target = Target.launch(_script(tmp_path, "flat", FLAT))

    def interrupt_at_third(points: object) -> None:
        if len(points) == 3:  # type: ignore[arg-type]
            raise KeyboardInterrupt

    settings = WatchSettings(interval=0.05)
    report = run_watch(target, settings, on_point=interrupt_at_third)
    assert report.ended == "interrupted"
    assert len(report.points) == 3
    # judged, not lost: the verdict the analysis gives these three readings (which depends on
    # how far the child's start-up got, so it is recomputed rather than written here)
    assert report.trends and report.verdict != "UNKNOWN"
    again = analyze(dataclasses.replace(report, trends=[], verdict="", reason=""), settings)
    assert (report.verdict, report.reason) == (again.verdict, again.reason)
    assert (
        target.popen is not None and target.popen.poll() is not None
    )  # the launched command was stopped


def test_attach_to_a_process_by_pid_and_leave_it_running(tmp_path: Path) -> None:
    child = subprocess.Popen(_script(tmp_path, "flat", FLAT))
    try:
        report = run_watch(Target.attach(child.pid), WatchSettings(interval=0.1, duration=0.5))
        assert report.target["pid"] == child.pid and report.target["launched"] is False
        assert report.ended == "duration" and report.exit_code is None
        assert child.poll() is None  # a process attached by PID is never stopped
    finally:
        child.kill()
        child.wait()


def test_a_slow_reading_skips_missed_slots_instead_of_bunching_readings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [0.0]

    class FakeTarget(Target):
        def wait(self, timeout: float) -> bool:
            now[0] += max(timeout, 0.0)
            return False

    def stall_once(points: object) -> None:
        if len(points) == 3:  # type: ignore[arg-type]
            now[0] += 1.05  # e.g. the first live trend importing scipy

    monkeypatch.setattr("memleak_cli.watch.sampler.read_tree", lambda process: (MiB, MiB, 1))
    report = run_watch(
        FakeTarget(psutil.Process(), ["fake"]),
        WatchSettings(interval=0.1, duration=2.0),
        on_point=stall_once,
        clock=lambda: now[0],
    )
    times = [p.seconds for p in report.points]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 0.1 - 1e-9, times  # never two readings in a row to catch up
    assert times[3] == pytest.approx(1.3)  # the next slot on the grid after the stall
    assert report.ended == "duration" and times[-1] <= 2.0 + 1e-9


# -- the CLI -------------------------------------------------------------------------------
def _free_pid() -> int:
    return (
        int(Path("/proc/sys/kernel/pid_max").read_text()) + 1
        if Path("/proc/sys/kernel/pid_max").exists()
        else 2**31 - 1
    )


def test_cli_bad_pid_is_one_error_line_and_exit_2(tmp_path: Path) -> None:
    pid = _free_pid()
    result = CliRunner().invoke(
        app, ["watch", "--pid", str(pid), "--json", str(tmp_path / "w.json")]
    )
    assert result.exit_code == 2
    assert result.stderr == f"error: no process with PID {pid}\n"
    assert not (tmp_path / "w.json").exists()


def test_cli_pid_not_ours_to_read_is_one_error_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def denied(self: psutil.Process) -> None:
        raise psutil.AccessDenied(self.pid)

    monkeypatch.setattr(psutil.Process, "memory_info", denied)
    result = CliRunner().invoke(
        app, ["watch", "--pid", str(os.getpid()), "--json", str(tmp_path / "w.json")]
    )
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: cannot read the memory of PID {os.getpid()}: access denied (watch a process of your own user, or run as root)\n"
    )


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            [],
            "error: give either --pid PID or a command after '--' (e.g. memleak watch -- python serve.py), not both\n",
        ),
        (
            ["--pid", "1", "--", "true"],
            "error: give either --pid PID or a command after '--' (e.g. memleak watch -- python serve.py), not both\n",
        ),
        (
            ["--interval", "5 days", "--", "true"],
            "error: --interval: unknown duration unit 'days' in '5 days': use ms, s, m (minutes) or h\n",
        ),
        (
            ["--interval", "1ms", "--", "true"],
            "error: --interval 1ms is too short: use at least 10ms\n",
        ),
        (
            ["--rate-threshold", "5 lots", "--", "true"],
            "error: --rate-threshold: unknown size unit 'lots' in '5 lots': use B, kB, MB, GB, KiB, MiB or GiB\n",
        ),
        (
            ["--", "/nonexistent/memleak-cmd"],
            "error: cannot start '/nonexistent/memleak-cmd': No such file or directory\n",
        ),
    ],
)
def test_cli_bad_usage_lines(tmp_path: Path, args: list[str], line: str) -> None:
    result = CliRunner().invoke(app, ["watch", "--json", str(tmp_path / "w.json"), *args])
    assert result.exit_code == 2
    assert result.stderr == line


def test_cli_writes_the_report_when_the_command_exits_early(tmp_path: Path) -> None:
    out = tmp_path / "reports" / "early.json"
    result = CliRunner().invoke(
        app,
        [
            "watch",
            "--interval",
            "50ms",
            "--duration",
            "30s",
            "--json",
            str(out),
            "--fail-on-leak",
            "--",
            sys.executable,
            "-c",
            "import time; time.sleep(0.3)",
        ],
    )
    assert result.exit_code == 0, result.output
    report = read_watch_report(out)
    assert report.ended == "exited" and report.exit_code == 0
    assert report.target["launched"] is True
    assert f"JSON report: {out}" in result.stdout
    assert "process exited (exit status 0)" in result.stdout


def test_console_script_exit_code_and_error_line_for_a_bad_pid() -> None:
    # the real entry point (commands.app.main), not CliRunner: typer returns exit codes there
    pid = _free_pid()
    result = subprocess.run(
        [sys.executable, "-m", "memleak_cli", "watch", "--pid", str(pid)],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr == f"error: no process with PID {pid}\n"


def test_cli_interrupt_still_writes_the_report(tmp_path: Path) -> None:
    out, ready = tmp_path / "interrupted.json", tmp_path / "ready"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "memleak_cli",
            "watch",
            "--interval",
            "50ms",
            "--json",
            str(out),
            "--",
            *_script(tmp_path, "flat", FLAT),
            str(ready),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        # the watch reads once right after launching; the script writes its ready file only
        # after its start-up: waiting on that file (with a deadline) replaces sleeping
        while not ready.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "the script never got ready"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, stderr
    assert out.exists(), stdout + stderr
    data = json.loads(out.read_text())
    assert data["kind"] == "memleak-watch" and data["ended"] == "interrupted"
    assert data["points"]
    assert "interrupted" in stdout


# -- report file and rendering -------------------------------------------------------------
def test_report_round_trip_and_bad_documents(tmp_path: Path) -> None:
    report = _empty_report()
    report.points = _points([MiB * (i + 1) for i in range(10)])
    analyze(report, WatchSettings())
    path = tmp_path / "w.json"
    write_watch_report(report, path)
    again = read_watch_report(path)
    assert again == report
    (tmp_path / "run.json").write_text(json.dumps({"schema_version": 1, "scenarios": []}))
    with pytest.raises(ReportFileError, match="not a memleak watch report"):
        read_watch_report(tmp_path / "run.json")
    (tmp_path / "v9.json").write_text(json.dumps({"kind": "memleak-watch", "schema_version": 9}))
    with pytest.raises(ReportFileError, match="schema version 9 is not supported"):
        read_watch_report(tmp_path / "v9.json")


def test_sparkline_spans_lowest_to_highest() -> None:
    assert sparkline([1, 2, 3, 4, 5, 6, 7, 8]) == "▁▂▃▄▅▆▇█"
    assert sparkline([5, 5, 5]) == "▁▁▁"
    assert sparkline(list(range(100)), width=10) == sparkline(list(range(90, 100)))


def test_live_panel_and_summary_render_the_numbers() -> None:
    points = _points([MiB * (i + 1) for i in range(10)])
    console = Console(file=StringIO(), width=100)
    console.print(live_panel(points, {"pid": 42, "command": ["python", "serve.py"]}))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "PID 42: python serve.py" in text and "10.0 MiB" in text and "+60.0 MiB/min" in text
    report = _empty_report()
    report.points = points
    analyze(report, WatchSettings())
    console = Console(file=StringIO(), width=100)
    render_summary(report, console)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "LEAK" in text and "peak RSS 10.0 MiB" in text


def test_the_watch_logic_imports_no_cli_code() -> None:
    code = "import sys, memleak_cli.watch.sampler, memleak_cli.watch.analysis; bad = [m for m in ('typer', 'rich') if m in sys.modules]; assert not bad, bad"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        check=False,
    )
    assert result.returncode == 0, result.stderr
