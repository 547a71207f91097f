"""Look-alikes: memory that moves like a leak for a while but does not grow without bound.

The truth of every case here is CLEAN: nothing grows per iteration once the workload is warm,
and what the last iterations made is not kept (or weighs far less than the 16 KiB retention
floor). A bounded cache is indistinguishable from a leak until it is full: that is the point of
running each case at 10, 20 and 40 iterations.
"""

from __future__ import annotations

import codecs
import functools
import random
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from benchmarks.corpus._case import KiB, MiB, case
from benchmarks.corpus._payload import payload


# --- bounded caches that fill, then plateau ----------------------------------------------------
@functools.cache
def customer_features(customer: int) -> bytes:
    """Features of one of a fixed set of customers: the key space is bounded, so is the cache."""
    return payload(4 * KiB)


def _bounded_lru(size: Mapping[str, Any]) -> Callable[[], None]:
    customer_features.cache_clear()
    customers = size["distinct_keys"]
    counter = iter(range(10**9))

    def iteration() -> None:
        customer_features(next(counter) % customers)  # 24 customers, cycled: hits after the first round

    return iteration


class FifoCache:
    """A dict cache that evicts its oldest entry past ``capacity`` entries."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.entries: OrderedDict[int, bytes] = OrderedDict()

    def put(self, key: int, value: bytes) -> None:
        self.entries[key] = value
        while len(self.entries) > self.capacity:
            self.entries.popitem(last=False)


fifo = FifoCache(8)


def _bounded_fifo(size: Mapping[str, Any]) -> Callable[[], None]:
    fifo.entries.clear()
    fifo.capacity = size["capacity"]
    counter = iter(range(10**9))

    def iteration() -> None:
        fifo.put(next(counter), payload(KiB))

    return iteration


# --- lazy imports and JIT-like warm-up ---------------------------------------------------------
_ENCODINGS = ("cp1252", "cp437", "mac_roman", "koi8_r", "iso8859_15", "cp850")
compiled: dict[str, Callable[[bytes], str]] = {}


def _warm_up(size: Mapping[str, Any]) -> Callable[[], None]:
    compiled.clear()
    counter = iter(range(10**9))
    data = payload(4 * KiB)

    def iteration() -> None:
        # request i brings a new input encoding until all six have been seen: the codec module is
        # imported on first use (encodings.<name>) and a specialised decoder is compiled and cached
        name = _ENCODINGS[min(next(counter), len(_ENCODINGS) - 1)]
        if name not in compiled:
            codecs.lookup(name)
            source = f"def decode(data):\n    return data.decode({name!r}, errors='replace')\n"
            namespace: dict[str, Any] = {}
            exec(compile(source, f"<decoder {name}>", "exec"), namespace)
            compiled[name] = namespace["decode"]
        compiled[name](data)

    return iteration


# --- a memory pool that grows once -------------------------------------------------------------
class BufferPool:
    """Hands out one reusable buffer; grows (once) when a request needs more than it has."""

    def __init__(self) -> None:
        self.buffer = bytearray(256 * KiB)

    def get(self, n: int) -> memoryview:
        if n > len(self.buffer):
            self.buffer = bytearray(max(n, 2 * len(self.buffer)))
        return memoryview(self.buffer)[:n]


pool = BufferPool()


def _pool_grows_once(size: Mapping[str, Any]) -> Callable[[], None]:
    pool.buffer = bytearray(256 * KiB)
    counter = iter(range(10**9))

    def iteration() -> None:
        n = 4 * MiB if next(counter) >= 5 else 200 * KiB  # large requests start at the 6th call
        view = pool.get(n)
        view[:] = payload(n)
        view.release()

    return iteration


# --- periodic spikes, freed --------------------------------------------------------------------
def _periodic_spikes(size: Mapping[str, Any]) -> Callable[[], None]:
    counter = iter(range(10**9))

    def iteration() -> None:
        batch = 20_000 if next(counter) % 4 == 3 else 500  # a nightly-style batch every 4th call
        rows = [{"id": i, "name": f"row-{i}", "values": [i, i + 1, i + 2]} for i in range(batch)]
        del rows

    return iteration


# --- reference cycles, freed by the cyclic collector -------------------------------------------
class Node:
    """A graph node that points to its parent and its children: every tree is a cycle."""

    def __init__(self, parent: Node | None, data: bytes) -> None:
        self.parent = parent
        self.children: list[Node] = []
        self.data = data
        if parent is not None:
            parent.children.append(self)


def _cycles(size: Mapping[str, Any]) -> Callable[[], None]:
    def iteration() -> None:
        root = Node(None, b"")
        for i in range(1000):  # about 1 MiB of nodes, dropped at the end of every call
            Node(root if i % 10 == 0 else root.children[-1], payload(KiB))
        del root

    return iteration


# --- allocator fragmentation -------------------------------------------------------------------
survivors: list[Any] = []


def _fragmentation(size: Mapping[str, Any]) -> Callable[[], None]:
    survivors.clear()
    rng = random.Random(0)
    sizes = [rng.randint(16, 2048) for _ in range(50_000)]
    base = payload(2048)

    def iteration() -> None:
        # 50 000 strings of mixed sizes (pymalloc and malloc), one in 10 000 kept until the
        # next call: the survivors pin partly used pools and chunks, the rest is freed
        made = [base[:n].hex() for n in sizes]
        survivors[:] = made[::10_000]
        del made

    return iteration


# --- a real library warming up: LightGBM trained and discarded ---------------------------------
def _train_and_discard(size: Mapping[str, Any]) -> Callable[[], None]:
    X_y: dict[str, Any] = {}

    def iteration() -> None:
        import lightgbm as lgb  # imported lazily on the first call, like a service would
        import numpy as np

        if not X_y:
            rng = np.random.default_rng(0)
            X_y["X"] = rng.normal(size=(1000, 10))
            X_y["y"] = X_y["X"][:, 0] * 2.0 + rng.normal(scale=0.1, size=1000)
        params = {"objective": "regression", "num_leaves": 15, "verbosity": -1, "num_threads": 1, "seed": 0}
        booster = lgb.train(params, lgb.Dataset(X_y["X"], X_y["y"]), num_boost_round=32)
        booster.predict(X_y["X"][:10])
        del booster

    return iteration


M = __name__
BOUNDED_LRU = case("bounded-lru-24x4k", _bounded_lru, "CLEAN", leak_bytes=0, module=M, shape="lru_cache over 24 distinct keys cycled, 4 KiB each: fills in 24 calls", distinct_keys=24)
BOUNDED_FIFO = case("bounded-fifo-8x1k", _bounded_fifo, "CLEAN", leak_bytes=0, module=M, shape="FIFO dict cache of 8 entries, 1 KiB each: fills in 8 calls", capacity=8)
WARM_UP = case("lazy-import-warmup", _warm_up, "CLEAN", leak_bytes=0, module=M, shape="codec modules imported and decoders compiled on first use, 6 calls")
POOL_ONCE = case("pool-grows-once", _pool_grows_once, "CLEAN", leak_bytes=0, module=M, shape="buffer pool grows 256 KiB → 4 MiB at the 6th call, then reused")
SPIKES = case("periodic-spikes", _periodic_spikes, "CLEAN", leak_bytes=0, module=M, shape="every 4th call builds 20 000 row dicts and drops them")
CYCLES = case("cycles-1m", _cycles, "CLEAN", leak_bytes=0, module=M, shape="1000-node parent/child graph (~1 MiB) dropped, freed by the cyclic gc")
FRAGMENTATION = case("fragmentation", _fragmentation, "CLEAN", leak_bytes=0, module=M, shape="50 000 mixed-size strings per call, 5 kept until the next call")
TRAIN_DISCARD = case("lgbm-train-discard", _train_and_discard, "CLEAN", leak_bytes=0, module=M, shape="lightgbm imported on first call, a Booster trained and dropped per call")


# --- a warm-up staircase: a step per call for the first 8 calls, then nothing -------------------
staircase: dict[int, Any] = {}


def _staircase(size: Mapping[str, Any]) -> Callable[[], None]:
    staircase.clear()
    counter = iter(range(10**9))

    def iteration() -> None:
        step = next(counter)
        if step < 8:  # per-shard state built lazily on the first eight requests
            staircase[step] = {"shard": step, "table": [payload(KiB) for _ in range(4)]}

    return iteration


# --- a cache that prunes itself: sawtooth --------------------------------------------------------
pruned: OrderedDict[int, bytes] = OrderedDict()


def _sawtooth(size: Mapping[str, Any]) -> Callable[[], None]:
    pruned.clear()
    counter = iter(range(10**9))

    def iteration() -> None:
        pruned[next(counter)] = payload(4 * KiB)
        if len(pruned) > 16:  # past 16 entries it drops the older half
            for _ in range(8):
                pruned.popitem(last=False)

    return iteration


batch: list[Any] = []


def _flushed_batch(size: Mapping[str, Any]) -> Callable[[], None]:
    batch.clear()

    def iteration() -> None:
        batch.append({"row": payload(2 * KiB)})
        if len(batch) >= 10:  # written out every 10 requests
            batch.clear()

    return iteration


# --- the allocator keeps a large temporary's memory ---------------------------------------------
def _large_temporary(size: Mapping[str, Any]) -> Callable[[], None]:
    counter = iter(range(10**9))

    def iteration() -> None:
        if next(counter) == 4:  # one big report: 200 000 small objects, then dropped
            rows = [(i, str(i)) for i in range(200_000)]
            del rows

    return iteration


# --- worker threads that come and go -------------------------------------------------------------
def _threads_come_and_go(size: Mapping[str, Any]) -> Callable[[], None]:
    import threading
    import time

    rng = random.Random(7)

    def iteration() -> None:
        for _ in range(2):  # fire-and-forget helpers that end a few ms later, not joined
            threading.Thread(target=time.sleep, args=(rng.uniform(0.0, 0.02),), daemon=True).start()

    return iteration


# --- a per-call process pool whose workers exit --------------------------------------------------
def _square(x: int) -> int:
    return x * x


def _per_call_pool(size: Mapping[str, Any]) -> Callable[[], None]:
    import multiprocessing

    context = multiprocessing.get_context("fork")

    def iteration() -> None:
        pool = context.Pool(2)
        pool.map(_square, range(8))
        pool.close()  # workers exit on their own; not joined here
        del pool

    return iteration


# --- a bounded cache that takes ~150 calls to fill -----------------------------------------------
slow_cache: dict[int, bytes] = {}


def _slow_fill(size: Mapping[str, Any]) -> Callable[[], None]:
    slow_cache.clear()
    rng = random.Random(3)
    users = size["distinct_keys"]

    def iteration() -> None:
        user = rng.randrange(users)  # traffic from 48 active users at random: ~95 % cached after ~150 calls
        if user not in slow_cache:
            slow_cache[user] = payload(8 * KiB)

    return iteration


# --- a connection pool that opens descriptors lazily, up to 4 ------------------------------------
import os as _os  # noqa: E402

fd_pool: list[int] = []


def _fd_pool(size: Mapping[str, Any]) -> Callable[[], None]:
    for fd in fd_pool:
        _os.close(fd)
    fd_pool.clear()
    counter = iter(range(10**9))

    def iteration() -> None:
        if len(fd_pool) < 4 and next(counter) % 2 == 0:
            fd_pool.append(_os.open(_os.devnull, _os.O_RDONLY))

    return iteration


# --- asyncio tasks that finish -------------------------------------------------------------------
def _asyncio_done(size: Mapping[str, Any]) -> Callable[[], None]:
    import asyncio

    async def handle(i: int) -> int:
        await asyncio.sleep(0)
        return len(payload(KiB)) + i

    async def burst() -> None:
        await asyncio.gather(*(handle(i) for i in range(20)))

    def iteration() -> None:
        asyncio.run(burst())  # a loop per call, every task awaited

    return iteration


# --- regular expressions compiled per request (re's own cache fills up to 512) -------------------
def _regex_patterns(size: Mapping[str, Any]) -> Callable[[], None]:
    import re

    counter = iter(range(10**9))

    def iteration() -> None:
        route = next(counter)
        re.match(rf"/api/v1/tenant-{route}/items/(\d+)", f"/api/v1/tenant-{route}/items/42")  # a new pattern each time

    return iteration


STAIRCASE = case("warmup-staircase-8", _staircase, "CLEAN", leak_bytes=0, module=M, shape="per-shard state built on the first 8 calls (4 KiB each), then nothing")
SAWTOOTH = case("sawtooth-prune-16", _sawtooth, "CLEAN", leak_bytes=0, module=M, shape="cache of 4 KiB entries that drops its older half past 16")
FLUSHED = case("batch-flushed-10", _flushed_batch, "CLEAN", leak_bytes=0, module=M, shape="rows batched and flushed every 10 calls (sawtooth)")
LARGE_TEMP = case("large-temporary", _large_temporary, "CLEAN", leak_bytes=0, module=M, shape="one call builds 200 000 tuples and drops them: the allocator keeps some")
THREADS_COME_GO = case("threads-come-and-go", _threads_come_and_go, "CLEAN", leak_bytes=0, module=M, shape="two short helper threads per call, not joined")
PER_CALL_POOL = case("per-call-pool", _per_call_pool, "CLEAN", leak_bytes=0, module=M, shape="multiprocessing Pool(2) per call, closed, workers exit on their own")
SLOW_FILL = case("slow-fill-cache-48", _slow_fill, "CLEAN", leak_bytes=0, module=M, shape="8 KiB per user for 48 users arriving at random: fills over ~150 calls", distinct_keys=48)
FD_POOL = case("fd-pool-4", _fd_pool, "CLEAN", leak_bytes=0, module=M, shape="descriptors opened lazily up to 4, then reused")
ASYNCIO_DONE = case("asyncio-tasks-done", _asyncio_done, "CLEAN", leak_bytes=0, module=M, shape="asyncio.run per call: 20 tasks, all awaited")
REGEX = case("regex-per-request", _regex_patterns, "CLEAN", leak_bytes=0, module=M, shape="a new regular expression per call: re's own cache fills (cleared between iterations)")
