"""Leaks of resources and of memory outside the measured process: file descriptors, threads,
and memory that grows only in a worker process (the parent's own heap is flat).

``leak_bytes`` is the memory each iteration leaves behind (for descriptors and threads, the
small Python object that holds them; the verdict rests on the count).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from typing import Any

from benchmarks.corpus._case import KiB, MiB, case

open_files: list[int] = []
parked: list[threading.Thread] = []
_stop = threading.Event()


def _fd_leak(size: Mapping[str, Any]) -> Callable[[], None]:
    open_files.clear()

    def iteration() -> None:
        open_files.append(os.open(os.devnull, os.O_RDONLY))  # opened per request, never closed

    return iteration


def _thread_leak(size: Mapping[str, Any]) -> Callable[[], None]:
    parked.clear()

    def iteration() -> None:
        worker = threading.Thread(target=_stop.wait, daemon=True)  # waits for a stop that never comes
        worker.start()
        parked.append(worker)

    return iteration


def _serve(conn: Any, n: int) -> None:
    kept = []
    while conn.recv():
        kept.append(bytearray(b"\xab" * n))  # the worker's own cache, never trimmed
        conn.send(len(kept))


_workers: dict[str, Any] = {}


def _worker_process_leak(size: Mapping[str, Any]) -> Callable[[], None]:
    import multiprocessing

    context = multiprocessing.get_context("fork")
    parent, child = context.Pipe()
    process = context.Process(target=_serve, args=(child, size["leak_bytes"]), daemon=True)
    process.start()
    _workers["process"] = (process, parent)

    def iteration() -> None:
        parent.send(True)  # one task to the long-lived worker, which keeps what it made
        parent.recv()

    return iteration


M = __name__
FD_LEAK = case("fd-leak", _fd_leak, "LEAK", leak_bytes=32, module=M, shape="os.open of /dev/null per call, never closed")
THREAD_LEAK = case("thread-leak", _thread_leak, "LEAK", leak_bytes=512, module=M, shape="a thread per call parked on an Event never set")
WORKER_1M = case("worker-process-1m", _worker_process_leak, "LEAK", leak_bytes=1 * MiB, module=M, shape="a long-lived worker process keeps 1 MiB per task; the parent is flat")
WORKER_256K = case("worker-process-256k", _worker_process_leak, "LEAK", leak_bytes=256 * KiB, module=M, shape="a long-lived worker process keeps 256 KiB per task; the parent is flat")
