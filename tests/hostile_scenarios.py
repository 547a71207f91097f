"""Scenarios that attack memleak itself, for tests/test_hostile.py.

Each is small and fast. ``MARKUP`` has rich markup, terminal escapes and a lone surrogate in its
name, description and summary; ``RAISING`` raises an exception whose message holds them;
``DAEMONIZING`` double-forks a sleeping grandchild into a session of its own each iteration
(pids appended to $MEMLEAK_TEST_PIDFILE); ``THREADING`` starts a non-daemon thread that never
ends each iteration (a thread leak the worker cannot exit past); ``BAD_REPRS`` keeps objects
whose ``__repr__`` hangs, raises SystemExit or returns a megabyte, under keys of the same kind;
``LINGERING`` blocks the worker's own exit after its last event.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from typing import Any

from memleak_cli.scenarios.contract import Scenario, Variant

HOSTILE_TEXT = "[/tmp/cache] [bold red]x[/] \x1b]0;pwned\x07 \x1b[2J \x01 \x9b \u202e \udcff"
kept: list[Any] = []
_stop = threading.Event()


def _markup(size: Any) -> Any:
    def iteration() -> None:
        kept.append([1])

    return iteration


def _raising(size: Any) -> Any:
    def iteration() -> None:
        raise RuntimeError(f"bad {HOSTILE_TEXT}")

    return iteration


_GRANDCHILD = """
import os, sys, time
pid = os.fork()
if pid == 0:
    with open(sys.argv[1], "a") as handle:
        handle.write(f"{os.getpid()}\\n")
    time.sleep(120)
os._exit(0)
"""


def _daemonizing(size: Any) -> Any:
    def iteration() -> None:
        pidfile = os.environ.get("MEMLEAK_TEST_PIDFILE", os.devnull)
        # the intermediate process leaves at once: its child is an orphan in a session of its own
        subprocess.run([sys.executable, "-c", _GRANDCHILD, pidfile], start_new_session=True, check=True)
        kept.append([1])

    return iteration


def _threading(size: Any) -> Any:
    def iteration() -> None:
        thread = threading.Thread(target=_stop.wait, daemon=False)
        thread.start()
        kept.append(thread)

    return iteration


class HangingRepr:
    def __repr__(self) -> str:
        time.sleep(3600)
        return "never"


class ExitingRepr:
    def __repr__(self) -> str:
        raise SystemExit("repr says exit")

    def __str__(self) -> str:
        raise SystemExit("str says exit")

    def __hash__(self) -> int:
        return id(self)


class HugeRepr:
    def __repr__(self) -> str:
        return "x" * 1_000_000


registry: dict[Any, Any] = {}


def _bad_reprs(size: Any) -> Any:
    def iteration() -> None:
        payload = [bytearray(4096), HangingRepr(), ExitingRepr(), HugeRepr()]
        kept.append(payload)
        registry[ExitingRepr()] = [bytearray(2048)]

    return iteration


def _lingering(size: Any) -> Any:
    def iteration() -> None:
        # the worker's way out, blocked from inside: after its last event it cannot exit at all
        import memleak_cli.measure.containment as containment

        containment.kill_descendants = lambda *args, **kwargs: time.sleep(3600)  # type: ignore[assignment]
        kept.append([1] * 10)

    return iteration


class ExitingError(Exception):
    def __str__(self) -> str:
        raise SystemExit("the message itself exits")


def _raising_oddly(size: Any) -> Any:
    def iteration() -> None:
        raise ExitingError()

    return iteration


def _scenario(name: str, factory: Any, expect: str, description: str = "", summary: str = "") -> Scenario:
    return Scenario(
        name=name,
        description=description or f"hostile {name}",
        finding="",
        variants={"leaky": Variant("leaky", factory, expect=expect, summary=summary)},  # type: ignore[arg-type]
        module=__name__,
    )


MARKUP = _scenario(f"markup {HOSTILE_TEXT}", _markup, "LEAK", description=f"writes to {HOSTILE_TEXT}", summary=HOSTILE_TEXT)
RAISING = _scenario("raising", _raising, "CLEAN")
RAISING_ODDLY = _scenario("raising-oddly", _raising_oddly, "CLEAN")
DAEMONIZING = _scenario("daemonizing", _daemonizing, "LEAK")
THREADING = _scenario("threading", _threading, "LEAK")
BAD_REPRS = _scenario("bad-reprs", _bad_reprs, "LEAK")
LINGERING = _scenario("lingering", _lingering, "LEAK")
