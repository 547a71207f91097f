"""Bounded retention: the latest result (or the latest few) kept. Memory is flat per iteration,
but what the last iterations made stays reachable: the truth is RETAINS, never LEAK."""

from __future__ import annotations

import collections
from collections.abc import Callable, Mapping
from typing import Any

from benchmarks.corpus._case import KiB, case
from benchmarks.corpus._payload import payload


class ResultHolder:
    """A service singleton that keeps its latest result (and a short history)."""

    def __init__(self) -> None:
        self.latest: Any = None
        self.latest_blob: bytes | None = None
        self.model: Any = None
        self.recent: collections.deque[Any] = collections.deque(maxlen=5)


service = ResultHolder()


def _latest_rows(size: Mapping[str, Any]) -> Callable[[], None]:
    service.latest = None
    rows = size["kept_bytes"] // KiB

    def iteration() -> None:
        service.latest = {"rows": [payload(KiB) for _ in range(rows)]}

    return iteration


def _latest_blob(size: Mapping[str, Any]) -> Callable[[], None]:
    service.latest_blob = None
    n = size["kept_bytes"]

    def iteration() -> None:
        service.latest_blob = payload(n)  # one bytes object: not gc-tracked

    return iteration


def _recent_five(size: Mapping[str, Any]) -> Callable[[], None]:
    service.recent.clear()
    n = size["kept_bytes"]

    def iteration() -> None:
        service.recent.append({"result": bytearray(payload(n))})

    return iteration


def _latest_model(size: Mapping[str, Any]) -> Callable[[], None]:
    import lightgbm as lgb
    import numpy as np

    service.model = None
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1000, 10))
    y = X[:, 0] * 2.0 + X[:, 1] + rng.normal(scale=0.1, size=1000)
    params = {"objective": "regression", "num_leaves": 15, "verbosity": -1, "num_threads": 1, "seed": 0}

    def iteration() -> None:
        service.model = lgb.train(params, lgb.Dataset(X, y), num_boost_round=32)

    return iteration


# leak_bytes is 0: nothing grows per iteration. kept_bytes is what one result weighs.
M = __name__
LATEST_ROWS = case("latest-rows-64k", _latest_rows, "RETAINS", leak_bytes=0, module=M, shape="latest result kept: dict of 1 KiB bytes rows", kept_bytes=64 * KiB)
LATEST_BLOB = case("latest-blob-256k", _latest_blob, "RETAINS", leak_bytes=0, module=M, shape="latest result kept as one bytes object", kept_bytes=256 * KiB)
RECENT_FIVE = case("recent-5x16k", _recent_five, "RETAINS", leak_bytes=0, module=M, shape="deque(maxlen=5) of the latest results", kept_bytes=16 * KiB)
LATEST_MODEL = case("latest-booster", _latest_model, "RETAINS", leak_bytes=0, module=M, shape="latest lightgbm Booster kept (C++ trees)", kept_bytes=72 * KiB)


def _latest_array(size: Mapping[str, Any]) -> Callable[[], None]:
    import numpy as np

    service.latest = None
    n = size["kept_bytes"] // 8

    def iteration() -> None:
        service.latest = np.arange(n, dtype=np.float64)  # the latest scores, replaced each call

    return iteration


def _latest_list(size: Mapping[str, Any]) -> Callable[[], None]:
    service.latest = None
    rows = size["kept_bytes"] // 256

    def iteration() -> None:
        service.latest = [payload(256) for _ in range(rows)]

    return iteration


LATEST_ARRAY = case("latest-array-512k", _latest_array, "RETAINS", leak_bytes=0, module=M, shape="latest numpy array of scores kept (C buffer)", kept_bytes=512 * KiB)
LATEST_LIST = case("latest-list-128k", _latest_list, "RETAINS", leak_bytes=0, module=M, shape="latest list of 256-byte rows kept", kept_bytes=128 * KiB)
