"""Native leaks: memory outside the Python heap that tracemalloc and gc never see.

``malloc-*``: a C buffer from ``libc.malloc`` (via ctypes), filled with ``memset`` so its pages
are really used, and never freed; only the address (a Python int) is kept. ``booster-kept``: a
real ``lightgbm.train`` on seeded numpy data per iteration, the Booster appended to a list —
its trees live in LightGBM's C++ heap (about 72 KiB per booster at this size, measured with
``psutil.heap_info()`` on this project's machine).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from benchmarks.corpus._case import KiB, MiB, case

addresses: list[int] = []
boosters: list[Any] = []


def _libc() -> Any:
    import ctypes
    import ctypes.util

    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.memset.restype = ctypes.c_void_p
    libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
    return libc


def _malloc_leak(size: Mapping[str, Any]) -> Callable[[], None]:
    addresses.clear()  # earlier buffers stay allocated: there is no way back to them by design
    libc = _libc()
    n = size["leak_bytes"]

    def iteration() -> None:
        address = libc.malloc(n)
        if not address:
            raise MemoryError(f"malloc({n}) failed")
        libc.memset(address, 0xAB, n)
        addresses.append(address)

    return iteration


BOOSTER = {"rows": 1000, "features": 10, "rounds": 32, "leaves": 15}


def _booster_leak(size: Mapping[str, Any]) -> Callable[[], None]:
    import lightgbm as lgb
    import numpy as np

    boosters.clear()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(BOOSTER["rows"], BOOSTER["features"]))
    y = X[:, 0] * 2.0 + X[:, 1] + rng.normal(scale=0.1, size=BOOSTER["rows"])
    params = {"objective": "regression", "num_leaves": BOOSTER["leaves"], "verbosity": -1, "num_threads": 1, "seed": 0}

    def iteration() -> None:
        boosters.append(lgb.train(params, lgb.Dataset(X, y), num_boost_round=BOOSTER["rounds"]))

    return iteration


M = __name__
MALLOC_1K = case("malloc-1k", _malloc_leak, "LEAK", leak_bytes=1 * KiB, module=M, shape="libc.malloc + memset via ctypes, never freed")
MALLOC_4K = case("malloc-4k", _malloc_leak, "LEAK", leak_bytes=4 * KiB, module=M, shape="libc.malloc + memset via ctypes, never freed")
MALLOC_64K = case("malloc-64k", _malloc_leak, "LEAK", leak_bytes=64 * KiB, module=M, shape="libc.malloc + memset via ctypes, never freed")
MALLOC_1M = case("malloc-1m", _malloc_leak, "LEAK", leak_bytes=1 * MiB, module=M, shape="libc.malloc + memset via ctypes, never freed")
BOOSTER_KEPT = case("booster-kept", _booster_leak, "LEAK", leak_bytes=72 * KiB, module=M, shape="lightgbm.train Booster appended to a list (C++ trees)")


arrays: list[Any] = []


def _numpy_leak(size: Mapping[str, Any]) -> Callable[[], None]:
    import numpy as np

    arrays.clear()
    n = size["leak_bytes"] // 8

    def iteration() -> None:
        arrays.append(np.arange(n, dtype=np.float64))  # the data buffer is numpy's C allocation

    return iteration


MALLOC_16K = case("malloc-16k", _malloc_leak, "LEAK", leak_bytes=16 * KiB, module=M, shape="libc.malloc + memset via ctypes, never freed")
NUMPY_4K = case("numpy-kept-4k", _numpy_leak, "LEAK", leak_bytes=4 * KiB, module=M, shape="numpy arrays (C data buffers) appended to a list")
NUMPY_64K = case("numpy-kept-64k", _numpy_leak, "LEAK", leak_bytes=64 * KiB, module=M, shape="numpy arrays (C data buffers) appended to a list")
