"""Leaks in production (issue #18): a WSGI service running the sentinel, scraped over loopback.

The service (``tests/user_code/leaky_service.py``) runs in its own process; the test sends it
requests and reads its ``/metrics``, and for the fleet test starts a real Prometheus server (the
Debian package ``prometheus``, installed by ``.ci/run``) with the shipped alert rules, made fast
by a test config (1 s scrapes and evaluations, ``for: 2s``). Every wait has a deadline; asserts are
on metrics, paths and alerts, never on timings.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.paths import ROOT

USER_CODE = ROOT / "tests" / "user_code"
RULES = ROOT / "contrib" / "prometheus" / "memleak-alerts.yml"
LEAK_PATH = "leaky_service.PREDICTIONS[*]"
INTERVAL = 0.25
# warm-up 2 + 3 readings for a first trend + 3 walks 2 intervals apart, and slack for a noisy
# start (the first trend may need a few more readings to pass the vote)
MAX_INTERVALS_TO_NAME = 30


def _get(url: str, timeout: float = 5.0) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return str(response.read().decode("utf-8"))


def _wait_for(what: str, check: Callable[[], Any], deadline: float, pause: float = 0.25) -> Any:
    end = time.monotonic() + deadline
    last: Any = None
    while time.monotonic() < end:
        try:
            last = check()
        except OSError as exc:  # not listening yet, a scrape in the middle of a restart
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(pause)
    raise AssertionError(f"timed out after {deadline:.0f}s waiting for {what}; last: {last!r}")


@contextmanager
def service(mode: str) -> Iterator[tuple[subprocess.Popen[str], int]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(USER_CODE)])}
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys, leaky_service; leaky_service.main(sys.argv[1:])", mode, str(INTERVAL)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"the service did not start: {proc.stderr.read() if proc.stderr else ''}")
        yield proc, int(json.loads(line)["port"])
    finally:
        if proc.stdin is not None:
            proc.stdin.close()  # the service stops when stdin closes
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def load(ports: list[int], per_second: float = 40.0) -> Iterator[None]:
    """Requests to /predict of every port, about *per_second* each, until the block ends."""
    stop = threading.Event()

    def drive() -> None:
        n = 0
        while not stop.wait(1.0 / per_second):
            n += 1
            for port in ports:
                try:
                    _get(f"http://127.0.0.1:{port}/predict?n={n}", timeout=2.0)
                except OSError:
                    continue

    thread = threading.Thread(target=drive, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def _metric(text: str, name: str) -> float | None:
    match = re.search(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.MULTILINE)
    return None if match is None else float(match.group(1))


def test_the_sentinel_names_the_growing_path_of_a_leaking_wsgi_handler() -> None:
    with service("leak") as (_, port), load([port]):
        url = f"http://127.0.0.1:{port}/metrics"

        def named() -> str | None:
            text = _get(url)
            return text if f'path="{LEAK_PATH}"' in text else None

        text = _wait_for(f"the sentinel to name {LEAK_PATH}", named, deadline=90)
    assert _metric(text, "memleak_verdict") == 2
    samples = _metric(text, "memleak_samples_total")
    assert samples is not None and samples <= MAX_INTERVALS_TO_NAME
    fingerprint = re.search(r'memleak_growing_path_info\{[^}]*fingerprint="([0-9a-f]{16})"', text)
    assert fingerprint is not None
    grows = _metric(text, "memleak_growing_path_bytes_per_hour")
    assert grows is not None and grows > 0
    assert (_metric(text, "memleak_gc_objects") or 0) > 0


def test_a_clean_wsgi_service_is_not_a_leak() -> None:
    with service("clean") as (_, port), load([port]):
        url = f"http://127.0.0.1:{port}/metrics"

        def enough() -> str | None:
            text = _get(url)
            samples = _metric(text, "memleak_samples_total") or 0
            return text if samples >= MAX_INTERVALS_TO_NAME else None

        text = _wait_for("enough readings", enough, deadline=90)
    assert _metric(text, "memleak_verdict") in (0.0, 1.0)  # clean, or a level still settling
    assert "memleak_growing_path_info" not in text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _fast_rules(tmp_path: Path) -> Path:
    """The shipped rules with every ``for:`` made 2s (the test config)."""
    fast = tmp_path / "memleak-alerts.yml"
    fast.write_text(re.sub(r"(\bfor:\s*)\S+", r"\g<1>2s", RULES.read_text()))
    return fast


PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")


@pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed (Debian package prometheus; .ci/run installs it)")
def test_the_shipped_alert_rules_are_valid() -> None:
    done = subprocess.run([str(PROMTOOL), "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.skipif(PROMETHEUS is None, reason="prometheus not installed (Debian package prometheus; .ci/run installs it)")
def test_prometheus_sees_the_growth_and_fires_the_alert_for_the_leaking_service_only(tmp_path: Path) -> None:
    with service("leak") as (_, leaky), service("clean") as (_, clean), load([leaky, clean]):
        port = _free_port()
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            f"rule_files:\n  - {_fast_rules(tmp_path)}\n"
            "scrape_configs:\n"
            f"  - job_name: leaky\n    static_configs:\n      - targets: ['127.0.0.1:{leaky}']\n"
            f"  - job_name: clean\n    static_configs:\n      - targets: ['127.0.0.1:{clean}']\n"
        )
        server = subprocess.Popen(
            [str(PROMETHEUS), f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        api = f"http://127.0.0.1:{port}/api/v1"

        def query(expr: str) -> list[dict[str, Any]]:
            body = json.loads(_get(f"{api}/query?{urllib.parse.urlencode({'query': expr})}"))
            return list(body["data"]["result"])

        def firing() -> list[dict[str, Any]]:
            alerts = json.loads(_get(f"{api}/alerts"))["data"]["alerts"]
            return [a for a in alerts if a["labels"]["alertname"] == "MemleakLeak"]

        try:
            _wait_for("prometheus to be ready", lambda: _get(f"http://127.0.0.1:{port}/-/ready"), deadline=60)
            # the growth metric rises: two readings of the leaky service's gc objects, the later higher
            first = _wait_for("a first scrape", lambda: query('memleak_gc_objects{job="leaky"}'), deadline=60)
            start_value = float(first[0]["value"][1])
            _wait_for(
                "the leaky service's gc objects to rise",
                lambda: float(query('memleak_gc_objects{job="leaky"}')[0]["value"][1]) > start_value + 100,
                deadline=60,
            )
            _wait_for(
                "a positive growth slope of the leaky service",
                lambda: query('memleak_growth_per_hour{job="leaky",metric="gc_objects"} > 0'),
                deadline=60,
            )
            alerts = _wait_for(
                "MemleakLeak to fire for the leaky service",
                lambda: [a for a in firing() if a["state"] == "firing" and a["labels"]["job"] == "leaky"],
                deadline=120,
            )
            assert alerts[0]["labels"]["path"] == LEAK_PATH
            assert not [a for a in firing() if a["labels"]["job"] == "clean"]
            verdicts = {r["metric"]["job"]: float(r["value"][1]) for r in query("memleak_verdict")}
            assert verdicts["leaky"] == 2 and verdicts["clean"] < 2
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def test_the_dashboard_and_the_rules_use_only_metrics_memleak_exports() -> None:
    from memleak_cli.export.prometheus import LEVELS

    exported = {name for name, _ in LEVELS.values()} | {
        "memleak_growth_per_hour", "memleak_verdict", "memleak_growing_path_info",
        "memleak_growing_path_bytes_per_hour", "memleak_growing_path_objects_per_hour",
        "memleak_growing_path_held_bytes", "memleak_samples_total", "memleak_heap_walks_total",
        "memleak_cpu_seconds_total", "memleak_last_walk_seconds",
    }
    dashboard = json.loads((ROOT / "contrib" / "grafana" / "memleak-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = set(re.findall(r"\bmemleak_\w+", " ".join(exprs) + RULES.read_text()))
    assert used and used <= exported, used - exported
    assert {"memleak_verdict", "memleak_growing_path_info", "memleak_tree_uss_bytes"} <= used
