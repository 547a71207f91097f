"""Tiny scenarios with known behaviour, for integration tests of the engine.

``GROWING`` keeps one 4096-byte bytearray in a one-element list per iteration in a
module-level list: +1 gc object (the list), +4 Python heap blocks (list, its item array, the
bytearray and its buffer) and ~4.2 KiB per iteration. ``FLAT`` makes the same
garbage and keeps nothing. ``LATEST`` keeps only the latest 64 KiB payload (bounded retention).
``CRASHING`` raises on its third iteration.
"""

from __future__ import annotations

from typing import Any

from memleak_cli.scenarios.contract import Scenario, Variant

PAYLOAD_BYTES = 4096
kept: list[Any] = []


class Holder:
    latest: Any = None


holder = Holder()


def _growing(size: Any) -> Any:
    def iteration() -> None:
        kept.append([bytearray(PAYLOAD_BYTES)])

    return iteration


def _flat(size: Any) -> Any:
    def iteration() -> None:
        garbage = [{"payload": bytearray(PAYLOAD_BYTES)} for _ in range(10)]
        del garbage

    return iteration


def _latest(size: Any) -> Any:
    def iteration() -> None:
        holder.latest = {"rows": [bytearray(1024) for _ in range(64)]}

    return iteration


def _crashing(size: Any) -> Any:
    calls = {"n": 0}

    def iteration() -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("boom on the third iteration")

    return iteration


def _scenario(name: str, factory: Any, expect: str) -> Scenario:
    return Scenario(
        name=name,
        description=f"synthetic {name}",
        finding="",
        variants={"leaky": Variant("leaky", factory, expect=expect)},  # type: ignore[arg-type]
        module=__name__,
    )


GROWING = _scenario("growing", _growing, "LEAK")
FLAT = _scenario("flat", _flat, "CLEAN")
LATEST = _scenario("latest", _latest, "RETAINS")
CRASHING = _scenario("crashing", _crashing, "CLEAN")
LEAKS_BUT_EXPECTED_CLEAN = _scenario("leaks-but-expected-clean", _growing, "CLEAN")


# --- Misbehaving scenarios, for the robustness tests (tests/test_robustness.py). ---
# ``HOGGING`` keeps 20 MiB more per iteration (bytes filled with 1s, so every page is resident);
# ``HANGING`` starts a sleeping child process on its third iteration, writes the child's pid to
# the file named by $MEMLEAK_TEST_PIDFILE, then sleeps for a minute; ``SEGFAULTING`` reads
# address 0 on its second iteration; ``EXITING`` calls os._exit(7) on its second iteration;
# ``SLOW`` starts a sleeping child process on its first iteration (pid to $MEMLEAK_TEST_PIDFILE)
# and takes 0.1 s per iteration, to be interrupted; each iteration appends a line to the pid file's
# ``.iterations`` neighbour, so a test can wait for iterations instead of sleeping.

HOG_BYTES = 20 * 1024 * 1024
HANGING_ITERATION = 3
hogged: list[bytes] = []
_children: list[Any] = []


def _calls_until(n: int, action: Any) -> Any:
    calls = {"n": 0}

    def iteration() -> None:
        calls["n"] += 1
        if calls["n"] == n:
            action()

    return iteration


def _spawn_sleeper() -> None:
    import os
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    _children.append(child)
    pidfile = os.environ.get("MEMLEAK_TEST_PIDFILE")
    if pidfile:
        with open(pidfile, "w", encoding="utf-8") as handle:
            handle.write(str(child.pid))


def _hogging(size: Any) -> Any:
    def iteration() -> None:
        hogged.append(b"\x01" * HOG_BYTES)

    return iteration


def _hang() -> None:
    import time

    _spawn_sleeper()
    time.sleep(60)


def _segfault() -> None:
    import ctypes

    ctypes.string_at(0)


def _exit_7() -> None:
    import os

    os._exit(7)


def _slow(size: Any) -> Any:
    import os
    import time

    def iteration() -> None:
        if not _children:
            _spawn_sleeper()
        pidfile = os.environ.get("MEMLEAK_TEST_PIDFILE")
        if pidfile:
            with open(f"{pidfile}.iterations", "a", encoding="utf-8") as handle:
                handle.write("1\n")
        time.sleep(0.1)

    return iteration


HOGGING = _scenario("hogging", _hogging, "LEAK")
HANGING = _scenario("hanging", lambda size: _calls_until(HANGING_ITERATION, _hang), "CLEAN")
SEGFAULTING = _scenario("segfaulting", lambda size: _calls_until(2, _segfault), "CLEAN")
EXITING = _scenario("exiting", lambda size: _calls_until(2, _exit_7), "CLEAN")
SLOW = _scenario("slow", _slow, "CLEAN")


def _latest_blob(size: Any) -> Any:
    def iteration() -> None:
        holder.latest = bytes(64 * 1024)  # not gc-tracked: found one hop from its holder

    return iteration


LATEST_BLOB = _scenario("latest-blob", _latest_blob, "RETAINS")


def _libc() -> Any:
    import ctypes

    libc = ctypes.CDLL(None)  # one per process: each CDLL makes its own function-pointer class
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    return libc


class NativeModel:
    """A Python handle to memory a C library owns, like a LightGBM Booster: a ``c_void_p`` to
    *size* bytes malloc'd by libc (invisible to tracemalloc and pympler), freed when collected."""

    libc = _libc()

    def __init__(self, size: int) -> None:
        import ctypes

        self._handle = ctypes.c_void_p(self.libc.malloc(size))
        ctypes.memset(self._handle, 1, size)  # touched, as a model's trees are

    def __del__(self) -> None:
        self.libc.free(self._handle)


NATIVE_MODEL_BYTES = 256 * 1024


def _latest_native(size: Any) -> Any:
    def iteration() -> None:
        holder.latest = NativeModel(NATIVE_MODEL_BYTES)  # the previous one is freed

    return iteration


def _temporary_directories(size: Any) -> Any:
    import os
    import tempfile

    made = []

    def iteration() -> None:
        made.append(tempfile.TemporaryDirectory())  # never cleaned up by the scenario
        with open(os.environ["MEMLEAK_TEST_PIDFILE"], "a", encoding="utf-8") as out:
            out.write(made[-1].name + "\n")

    return iteration


LATEST_NATIVE = _scenario("latest-native", _latest_native, "RETAINS")
TEMPORARY_DIRECTORIES = _scenario("temporary-directories", _temporary_directories, "LEAK")
