"""Scenarios whose memory lives outside Python objects, for the native and multi-process probes.

``BOOSTERS`` trains a small real LightGBM booster per iteration on seeded data and keeps it in a
module-level list: the model's trees live in C++ (``LightGBM::Tree``), the Python ``Booster``
is a thin wrapper. ``CTYPES_MALLOC`` leaks 1 MiB per iteration through ``libc.malloc`` called
via ctypes and touched with ``memset`` (RSS and the C heap see it; memray's hooks do not, as
ctypes resolves ``malloc`` with ``dlsym``). ``ALLOCATOR_KEEPS`` frees everything it allocates but
its peak grows by 1 MiB per iteration and a small block allocated last pins the top of glibc's
heap, so untrimmed RSS climbs while nothing stays in use. ``FORKED_CHILD`` starts one
multiprocessing (fork) child that holds 50 MiB and lives across iterations.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from typing import Any

from memleak_cli.scenarios.contract import Scenario, Variant

MiB = 1024 * 1024
CHILD_BYTES = 50 * MiB
ROWS, FEATURES, ROUNDS, LEAVES = 500, 10, 30, 15

boosters: list[Any] = []
native_blocks: list[int] = []


class Holder:
    pin: Any = None
    child: Any = None
    pipe: Any = None


holder = Holder()


def _boosters(size: Any) -> Any:
    import lightgbm as lgb
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.normal(size=(ROWS, FEATURES))
    y = X[:, 0] * 2.0 + X[:, 1] + rng.normal(scale=0.1, size=ROWS)
    params = {"objective": "regression", "num_leaves": LEAVES, "num_threads": 1, "deterministic": True, "verbose": -1, "seed": 0}

    def iteration() -> None:
        booster = lgb.train(params, lgb.Dataset(X, y, params={"verbose": -1}), num_boost_round=ROUNDS)
        boosters.append(booster)

    return iteration


def _libc() -> Any:
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.memset.restype = ctypes.c_void_p
    libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
    return libc


def _ctypes_malloc(size: Any) -> Any:
    libc = _libc()

    def iteration() -> None:
        block = libc.malloc(MiB)
        libc.memset(block, 1, MiB)
        native_blocks.append(block)  # the address only: the block is never freed

    return iteration


def _allocator_keeps(size: Any) -> Any:
    calls = {"n": 0}
    per_mib = MiB // 600

    def iteration() -> None:
        calls["n"] += 1
        # blocks above pymalloc's 512-byte limit come from glibc's malloc
        chunks = [bytes(600) for _ in range(calls["n"] * per_mib)]
        holder.pin = bytes(600)  # allocated last, so it sits above the chunks and pins the heap top
        del chunks

    return iteration


def _hold_memory(conn: Any) -> None:
    block = bytearray(CHILD_BYTES)
    block[:: 4096] = b"\x01" * len(block[:: 4096])  # touch every page so it is resident
    conn.send("ready")
    try:
        conn.recv()  # until the parent says stop, or dies (EOF)
    except EOFError:
        pass


def _forked_child(size: Any) -> Any:
    import multiprocessing

    def iteration() -> None:
        if holder.child is None:
            ours, theirs = multiprocessing.get_context("fork").Pipe()
            holder.child = multiprocessing.get_context("fork").Process(target=_hold_memory, args=(theirs,), daemon=True)
            holder.child.start()
            holder.pipe = ours
            ours.recv()  # the child's 50 MiB is resident from here on

    return iteration


def _scenario(name: str, factory: Any, expect: str, description: str) -> Scenario:
    return Scenario(
        name=name,
        description=description,
        finding="",
        variants={"leaky": Variant("leaky", factory, expect=expect)},  # type: ignore[arg-type]
        module=__name__,
    )


BOOSTERS = _scenario("boosters", _boosters, "LEAK", "keeps every trained LightGBM booster")
CTYPES_MALLOC = _scenario("ctypes-malloc", _ctypes_malloc, "LEAK", "1 MiB libc.malloc per iteration, never freed")
ALLOCATOR_KEEPS = _scenario("allocator-keeps", _allocator_keeps, "CLEAN", "frees all it allocates; glibc keeps the pages")
FORKED_CHILD = _scenario("forked-child", _forked_child, "CLEAN", "one forked child holding 50 MiB")
