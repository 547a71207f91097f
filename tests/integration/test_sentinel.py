"""The sentinel in-process (issue #18): driven reading by reading through ``check()`` so the
verdicts are deterministic; the thread, the budgets, the metrics and the ASGI wrapper."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest

import memleak_cli.sentinel
from memleak_cli.errors import UsageError
from memleak_cli.export.prometheus import exposition, parse_address
from memleak_cli.sentinel import Sentinel

HISTORY: list[dict[str, Any]] = []
READINGS = 25  # warm-up 1 + a trend + 3 walks one interval apart, with room for a noisy start


@pytest.fixture(autouse=True)
def _no_history() -> None:
    HISTORY.clear()


def _request(leak: bool) -> None:
    record = {"features": bytearray(512), "ids": [1, 2, 3]}
    if leak:
        HISTORY.append(record)


def _drive(sentinel: Sentinel, leak: bool, readings: int = READINGS) -> list[str]:
    verdicts = []
    for _ in range(readings):
        for _ in range(50):
            _request(leak)
        verdicts.append(sentinel.check().verdict)
        if verdicts[-1] == "LEAK":
            break
    return verdicts


def test_a_growing_module_global_is_named_with_its_growth_per_hour(caplog: pytest.LogCaptureFixture) -> None:
    sentinel = Sentinel(0.01, warmup=1, window=10, walk_every=1, walks=3, modules=[__name__])
    with caplog.at_level(logging.WARNING, logger="memleak.sentinel"):
        verdicts = _drive(sentinel, leak=True)
    assert verdicts[-1] == "LEAK", sentinel.status().reason
    growing = sentinel.status().growing
    assert growing is not None and growing.path == f"{__name__}.HISTORY[*]"
    assert growing.objects_per_hour > 0 and growing.bytes_per_hour > 0
    assert len(growing.fingerprint) == 16
    assert "SUSPECT" in verdicts  # a level grew first; the walks named the path after
    assert sentinel.status().walks >= 3
    assert any(f"LEAK: {__name__}.HISTORY[*]" in r.getMessage() for r in caplog.records)


def test_the_fingerprint_is_the_same_in_a_second_sentinel() -> None:
    first = Sentinel(0.01, warmup=1, window=10, walk_every=1, walks=3, modules=[__name__])
    _drive(first, leak=True)
    second = Sentinel(0.01, warmup=1, window=10, walk_every=1, walks=3, modules=[__name__])
    _drive(second, leak=True)
    assert first.status().growing is not None and second.status().growing is not None
    assert first.status().growing.fingerprint == second.status().growing.fingerprint


def test_clean_requests_are_never_a_leak() -> None:
    sentinel = Sentinel(0.01, warmup=1, window=10, walk_every=1, walks=3, modules=[__name__])
    verdicts = _drive(sentinel, leak=False)
    assert "LEAK" not in verdicts
    assert sentinel.status().growing is None
    assert verdicts[0] == "UNKNOWN"


def test_a_collection_over_the_pause_budget_stops_forced_collections() -> None:
    sentinel = Sentinel(0.01, pause_budget=1e-9)
    status = sentinel.check()
    assert "no longer forcing collections" in status.reason
    assert sentinel._collect is False  # noqa: SLF001 - the state the note describes


def test_a_walk_over_the_walk_budget_spaces_the_next_walks() -> None:
    sentinel = Sentinel(0.01, warmup=1, window=10, walk_every=1, walks=3, walk_budget=1e-9, modules=[__name__])
    _drive(sentinel, leak=True, readings=12)
    status = sentinel.status()
    assert "over the walk budget" in status.reason
    # without the budget a walk per reading once suspicious; with it, each walk doubles the spacing
    assert 1 <= status.walks <= 4


def test_the_thread_reads_every_interval_and_stops_cleanly() -> None:
    sentinel = memleak_cli.sentinel.start(0.02)
    try:
        end = time.monotonic() + 30
        while sentinel.status().samples < 3 and time.monotonic() < end:
            time.sleep(0.02)
        assert sentinel.status().samples >= 3
        assert sentinel.running
    finally:
        sentinel.stop()
    assert not sentinel.running
    samples = sentinel.status().samples
    sentinel.stop()  # twice is fine
    assert sentinel.status().samples == samples  # nothing reads after stop


def test_the_context_manager_serves_metrics_on_loopback_and_closes_them() -> None:
    import urllib.request

    with Sentinel(0.05, serve="127.0.0.1:0") as sentinel:
        url = sentinel.metrics_url
        assert url is not None and url.startswith("http://127.0.0.1:")
        end = time.monotonic() + 30
        while sentinel.status().samples < 1 and time.monotonic() < end:
            time.sleep(0.02)
        with urllib.request.urlopen(url, timeout=5) as response:
            text = response.read().decode()
    assert 'memleak_gc_objects{source="sentinel"}' in text
    assert 'memleak_verdict{source="sentinel"} -1.0' in text  # too few readings yet: unknown
    with pytest.raises(OSError):
        urllib.request.urlopen(url, timeout=2)


def test_metrics_name_every_level_and_the_growing_path() -> None:
    sentinel = Sentinel(0.01, warmup=1, window=10, walk_every=1, walks=3, modules=[__name__])
    _drive(sentinel, leak=True)
    text = exposition(sentinel.status)
    for name in ("memleak_tree_rss_bytes", "memleak_tree_uss_bytes", "memleak_c_heap_bytes", "memleak_gc_objects",
                 "memleak_python_blocks", "memleak_open_fds", "memleak_threads", "memleak_processes",
                 "memleak_cpu_seconds_total", "memleak_heap_walks_total", "memleak_last_walk_seconds"):
        assert f"\n{name}{{" in text, name
    assert 'memleak_verdict{source="sentinel"} 2.0' in text
    assert f'path="{__name__}.HISTORY[*]"' in text
    assert 'memleak_growth_per_hour{metric="gc_objects",source="sentinel"}' in text


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"interval": "1ms"}, "too short"),
        ({"interval": "soon"}, "sentinel interval: cannot read duration 'soon'"),
        ({"window": 2}, "window must be at least 3"),
        ({"walks": 1}, "walks at least 2"),
        ({"pause_budget": 0}, "must be more than 0"),
    ],
)
def test_bad_options_are_usage_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        Sentinel(**options)


def test_bad_metrics_addresses_are_usage_errors() -> None:
    assert parse_address("127.0.0.1:9464") == ("127.0.0.1", 9464)
    assert parse_address(":9464") == ("127.0.0.1", 9464)
    for bad in ("9464", "host:", "127.0.0.1:99999"):
        with pytest.raises(UsageError, match="use HOST:PORT"):
            parse_address(bad)


def test_asgi_wrapper_starts_with_the_lifespan_serves_metrics_and_stops() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"app"})

    wrapped = memleak_cli.sentinel.asgi(app, interval=0.05)

    async def run() -> tuple[list[Any], bool, bool]:
        events = asyncio.Queue()  # type: ignore[var-annotated]
        await events.put({"type": "lifespan.startup"})
        sent: list[Any] = []

        async def receive() -> Any:
            return await events.get()

        async def send(message: Any) -> None:
            sent.append(message)

        life = asyncio.create_task(wrapped({"type": "lifespan"}, receive, send))
        while not sent:
            await asyncio.sleep(0.01)
        started = wrapped.sentinel.running
        body: list[Any] = []

        async def http_receive() -> Any:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def http_send(message: Any) -> None:
            body.append(message)

        scope = {"type": "http", "path": "/metrics", "method": "GET", "query_string": b"", "headers": []}
        await wrapped(scope, http_receive, http_send)
        await events.put({"type": "lifespan.shutdown"})
        await life
        return body, started, wrapped.sentinel.running

    body, started, running_after = asyncio.run(run())
    assert started and not running_after
    text = b"".join(m.get("body", b"") for m in body).decode()
    assert "memleak_verdict" in text
