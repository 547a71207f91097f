"""Python-heap leaks: every iteration adds ``leak_bytes`` of payload that stays reachable forever.

Seven shapes, each the way such leaks look in services: a module-level list, a dict keyed by
request, closures kept by a callback registry, a logging handler added per call, an unbounded
``functools.lru_cache`` on a method, kept exceptions (their tracebacks hold the frames and
locals), and a mutable class attribute shared by every instance. Every factory starts from
empty state, so the cases can run in one process (the tests do).
"""

from __future__ import annotations

import collections
import functools
import io
import logging
from collections.abc import Callable, Mapping
from typing import Any

from benchmarks.corpus._case import KiB, MiB, case
from benchmarks.corpus._payload import payload

# --- a list ------------------------------------------------------------------------------------
kept_results: list[bytes] = []


def _list_leak(size: Mapping[str, Any]) -> Callable[[], None]:
    kept_results.clear()
    n = size["leak_bytes"]

    def iteration() -> None:
        kept_results.append(payload(n))

    return iteration


# --- a dict of small strings, keyed by request -------------------------------------------------
sessions: dict[int, dict[str, Any]] = {}
_CHUNK = 64


def _dict_leak(size: Mapping[str, Any]) -> Callable[[], None]:
    sessions.clear()
    n = size["leak_bytes"]
    text = payload(n).hex()[:n]  # n ASCII characters: n bytes of text

    def iteration() -> None:
        request_id = len(sessions)
        # the text held as many 64-character str objects (the shape of parsed headers or rows)
        sessions[request_id] = {"id": request_id, "parts": [text[i : i + _CHUNK] for i in range(0, n, _CHUNK)]}

    return iteration


# --- closures kept by a callback registry ------------------------------------------------------
class EventBus:
    """A publish/subscribe registry that never unsubscribes."""

    def __init__(self) -> None:
        self.callbacks: list[Callable[[str], int]] = []

    def subscribe(self, callback: Callable[[str], int]) -> None:
        self.callbacks.append(callback)


bus = EventBus()


def _closure_leak(size: Mapping[str, Any]) -> Callable[[], None]:
    bus.callbacks.clear()
    n = size["leak_bytes"]

    def iteration() -> None:
        buffer = bytearray(payload(n))  # the request's buffer, captured by the callback below

        def on_event(event: str) -> int:
            return len(buffer) + len(event)

        bus.subscribe(on_event)

    return iteration


# --- a logging handler added per call ----------------------------------------------------------
request_logger = logging.getLogger("benchmarks.corpus.requests")


def _handler_leak(size: Mapping[str, Any]) -> Callable[[], None]:
    for handler in list(request_logger.handlers):
        request_logger.removeHandler(handler)
    request_logger.setLevel(logging.INFO)
    request_logger.propagate = False
    text = payload(size["leak_bytes"]).hex()[: size["leak_bytes"]]

    counter = iter(range(10**9))

    def iteration() -> None:
        # capture this request's log in its own buffer, pre-filled with the request text;
        # the handler is never removed, so logger → handler → stream → buffer stays
        stream = io.StringIO()
        stream.write(f"{next(counter):08d}{text[8:]}")  # a new string of the request's size
        request_logger.addHandler(logging.StreamHandler(stream))
        request_logger.debug("request handled")  # below INFO: no handler is called

    return iteration


# --- functools.lru_cache on a method, no maxsize -----------------------------------------------
class FeatureStore:
    """Caches features per key with an unbounded ``lru_cache`` on a method (keeps ``self`` too)."""

    def __init__(self, n: int) -> None:
        self.n = n

    @functools.cache  # noqa: B019 - the leak under test
    def features(self, key: int) -> bytes:
        return payload(self.n)


store_holder: dict[str, FeatureStore] = {}


def _lru_leak(size: Mapping[str, Any]) -> Callable[[], None]:
    FeatureStore.features.cache_clear()
    store = store_holder["store"] = FeatureStore(size["leak_bytes"])
    counter = iter(range(10**9))

    def iteration() -> None:
        store.features(next(counter))  # a new key per request: every result is cached forever

    return iteration


# --- an exception's traceback kept -------------------------------------------------------------
failures: list[BaseException] = []


def _parse(buffer: bytearray) -> None:
    raise ValueError(f"cannot parse a request of {len(buffer)} bytes")


def _exception_leak(size: Mapping[str, Any]) -> Callable[[], None]:
    failures.clear()
    n = size["leak_bytes"]

    def iteration() -> None:
        buffer = bytearray(payload(n))
        try:
            _parse(buffer)
        except ValueError as exc:
            failures.append(exc)  # __traceback__ → frames → the local ``buffer``

    return iteration


# --- a growing class attribute -----------------------------------------------------------------
class Session:
    """``history`` is a class attribute: one list shared by every instance, never emptied."""

    history: list[bytes] = []

    def record(self, data: bytes) -> None:
        self.history.append(data)


def _class_attribute_leak(size: Mapping[str, Any]) -> Callable[[], None]:
    Session.history.clear()
    n = size["leak_bytes"]

    def iteration() -> None:
        Session().record(payload(n))

    return iteration


M = __name__
LIST_256B = case("list-256b", _list_leak, "LEAK", leak_bytes=256, module=M, shape="bytes appended to a module-level list")
LIST_1K = case("list-1k", _list_leak, "LEAK", leak_bytes=1 * KiB, module=M, shape="bytes appended to a module-level list")
LIST_4K = case("list-4k", _list_leak, "LEAK", leak_bytes=4 * KiB, module=M, shape="bytes appended to a module-level list")
LIST_64K = case("list-64k", _list_leak, "LEAK", leak_bytes=64 * KiB, module=M, shape="bytes appended to a module-level list")
LIST_1M = case("list-1m", _list_leak, "LEAK", leak_bytes=1 * MiB, module=M, shape="bytes appended to a module-level list")
DICT_256B = case("dict-256b", _dict_leak, "LEAK", leak_bytes=256, module=M, shape="dict per request of 64-char str parts, keyed by request id")
DICT_1K = case("dict-1k", _dict_leak, "LEAK", leak_bytes=1 * KiB, module=M, shape="dict per request of 64-char str parts, keyed by request id")
DICT_4K = case("dict-4k", _dict_leak, "LEAK", leak_bytes=4 * KiB, module=M, shape="dict per request of 64-char str parts, keyed by request id")
DICT_64K = case("dict-64k", _dict_leak, "LEAK", leak_bytes=64 * KiB, module=M, shape="dict per request of 64-char str parts, keyed by request id")
DICT_1M = case("dict-1m", _dict_leak, "LEAK", leak_bytes=1 * MiB, module=M, shape="dict per request of 64-char str parts, keyed by request id")
CLOSURE_1K = case("closure-1k", _closure_leak, "LEAK", leak_bytes=1 * KiB, module=M, shape="closure over a bytearray kept by a callback registry")
CLOSURE_64K = case("closure-64k", _closure_leak, "LEAK", leak_bytes=64 * KiB, module=M, shape="closure over a bytearray kept by a callback registry")
HANDLER_1K = case("handler-1k", _handler_leak, "LEAK", leak_bytes=1 * KiB, module=M, shape="logging.StreamHandler over a StringIO added per call")
HANDLER_64K = case("handler-64k", _handler_leak, "LEAK", leak_bytes=64 * KiB, module=M, shape="logging.StreamHandler over a StringIO added per call")
LRU_4K = case("lru-method-4k", _lru_leak, "LEAK", leak_bytes=4 * KiB, module=M, shape="functools.lru_cache(maxsize=None) on a method, new key per call")
LRU_1M = case("lru-method-1m", _lru_leak, "LEAK", leak_bytes=1 * MiB, module=M, shape="functools.lru_cache(maxsize=None) on a method, new key per call")
EXCEPTION_1K = case("exception-1k", _exception_leak, "LEAK", leak_bytes=1 * KiB, module=M, shape="exceptions kept in a list; tracebacks hold a bytearray local")
EXCEPTION_64K = case("exception-64k", _exception_leak, "LEAK", leak_bytes=64 * KiB, module=M, shape="exceptions kept in a list; tracebacks hold a bytearray local")
CLASS_ATTR_256B = case("class-attr-256b", _class_attribute_leak, "LEAK", leak_bytes=256, module=M, shape="bytes appended to a mutable class attribute")
CLASS_ATTR_4K = case("class-attr-4k", _class_attribute_leak, "LEAK", leak_bytes=4 * KiB, module=M, shape="bytes appended to a mutable class attribute")


# --- the new user's model server: predictions kept per request ---------------------------------
predictions_log: list[bytes] = []


def _predictions_leak(size: Mapping[str, Any]) -> Callable[[], None]:
    predictions_log.clear()
    n = size["leak_bytes"]

    def iteration() -> None:
        predictions_log.append(payload(n))  # 2 KiB of serialised predictions per request, kept for "debugging"

    return iteration


# --- an unbounded deque of request bodies ------------------------------------------------------
recent_bodies: collections.deque[bytes] = collections.deque()


def _deque_leak(size: Mapping[str, Any]) -> Callable[[], None]:
    recent_bodies.clear()
    n = size["leak_bytes"]

    def iteration() -> None:
        recent_bodies.append(payload(n))  # deque() without maxlen: "recent" means all

    return iteration


# --- asyncio tasks kept, never finished --------------------------------------------------------
pending_tasks: set[Any] = set()
_loop_holder: dict[str, Any] = {}


def _asyncio_leak(size: Mapping[str, Any]) -> Callable[[], None]:
    import asyncio

    pending_tasks.clear()
    loop = _loop_holder.get("loop") or asyncio.new_event_loop()
    _loop_holder["loop"] = loop
    n = size["leak_bytes"]

    async def wait_for_reply(body: bytearray) -> int:
        await asyncio.Event().wait()  # a reply that never comes: the task and its frame stay
        return len(body)

    def iteration() -> None:
        async def handle() -> None:
            pending_tasks.add(asyncio.ensure_future(wait_for_reply(bytearray(payload(n)))))
            await asyncio.sleep(0)

        loop.run_until_complete(handle())

    return iteration


LIST_512B = case("list-512b", _list_leak, "LEAK", leak_bytes=512, module=M, shape="bytes appended to a module-level list")
PREDICTIONS_2K = case("predictions-2k", _predictions_leak, "LEAK", leak_bytes=2 * KiB, module=M, shape="a model server keeps 2 KiB of predictions per request in a module-level list")
CLASS_ATTR_1K = case("class-attr-1k", _class_attribute_leak, "LEAK", leak_bytes=1 * KiB, module=M, shape="bytes appended to a mutable class attribute")
DEQUE_1K = case("deque-1k", _deque_leak, "LEAK", leak_bytes=1 * KiB, module=M, shape="deque() without maxlen of request bodies")
DEQUE_256B = case("deque-256b", _deque_leak, "LEAK", leak_bytes=256, module=M, shape="deque() without maxlen of request bodies")
ASYNCIO_1K = case("asyncio-tasks-1k", _asyncio_leak, "LEAK", leak_bytes=1 * KiB, module=M, shape="asyncio tasks awaiting a reply that never comes, kept in a set; each holds a 1 KiB bytearray")
