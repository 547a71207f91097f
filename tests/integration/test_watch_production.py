"""``memleak watch`` in production (issue #18): log lines without a terminal, SIGTERM handled
like Ctrl-C, and ``--serve`` exposing the readings to Prometheus on loopback."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

from tests.paths import ROOT

SLEEPER = "import time\nfor _ in range(600):\n    time.sleep(0.1)\n"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _watch(tmp_path: Path, *extra: str) -> subprocess.Popen[str]:
    script = tmp_path / "sleeper.py"
    script.write_text(SLEEPER)
    return subprocess.Popen(
        [sys.executable, "-m", "memleak_cli", "watch", "--interval", "100ms",
         "--json", str(tmp_path / "watch.json"), *extra, "--", sys.executable, str(script)],
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )


def _log_lines(proc: subprocess.Popen[str], count: int, deadline: float = 30.0) -> list[str]:
    """The first *count* reading lines on stderr (stderr is a pipe: no terminal)."""
    assert proc.stderr is not None
    lines: list[str] = []
    end = time.monotonic() + deadline
    while len(lines) < count and time.monotonic() < end:
        line = proc.stderr.readline()
        if not line:
            break
        if line.startswith("memleak watch PID"):
            lines.append(line.strip())
    return lines


def _finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    try:
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode, stdout, stderr


def test_without_a_terminal_each_reading_is_a_log_line_and_sigterm_stops_like_ctrl_c(tmp_path: Path) -> None:
    proc = _watch(tmp_path, "--log-every", "2")
    lines = _log_lines(proc, 3)
    assert len(lines) == 3, lines
    child = int(re.match(r"memleak watch PID (\d+) ", lines[0]).group(1))  # type: ignore[union-attr]
    assert re.search(r": RSS [\d.]+ \w+, (USS [\d.]+ \w+, )?1 process\(es\), (USS|RSS) trend ", lines[-1])
    proc.send_signal(signal.SIGTERM)  # memleak alone, not its process group
    code, stdout, stderr = _finish(proc)
    assert code == 0, stderr
    report = json.loads((tmp_path / "watch.json").read_text())
    assert report["ended"] == "interrupted"
    # --log-every 2: a line every second reading
    assert len(report["points"]) >= 2 * len(lines)
    assert "JSON report:" in stdout
    # the launched command was stopped
    assert not psutil.pid_exists(child) or psutil.Process(child).status() == psutil.STATUS_ZOMBIE


def test_serve_exposes_the_watch_at_metrics_on_loopback(tmp_path: Path) -> None:
    port = _free_port()
    proc = _watch(tmp_path, "--serve", f"127.0.0.1:{port}")
    try:
        assert len(_log_lines(proc, 4)) == 4
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
    finally:
        proc.send_signal(signal.SIGTERM)
        code, _, stderr = _finish(proc)
    assert code == 0, stderr
    assert re.search(r'^memleak_tree_rss_bytes\{source="watch"\} [1-9]', text, re.MULTILINE)
    assert re.search(r'^memleak_processes\{source="watch"\} 1\.0$', text, re.MULTILINE)
    samples = re.search(r'^memleak_samples_total\{source="watch"\} (\S+)$', text, re.MULTILINE)
    assert samples is not None and float(samples.group(1)) >= 3
    assert re.search(r'^memleak_verdict\{source="watch"\} (0\.0|2\.0)$', text, re.MULTILINE)
    assert 'memleak_growth_per_hour{metric="tree_rss_bytes",source="watch"}' in text


def test_serve_on_an_address_in_use_is_one_error_line_and_exit_2(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = _watch(tmp_path, "--serve", f"127.0.0.1:{port}")
        code, _, stderr = _finish(proc)
    assert code == 2
    assert f"error: cannot serve metrics on 127.0.0.1:{port}: Address already in use" in stderr
