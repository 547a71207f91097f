"""Ctrl-C and SIGTERM during a run: stop the measuring processes and keep what was measured.

While a run is going, :class:`StopOnSignal` turns the first SIGINT or SIGTERM into a request
(:attr:`StopOnSignal.event` is set) instead of an exception in the middle of some call: the
runner sees it within one poll, kills the measuring process tree and returns what it streamed,
and the command writes the report marked incomplete. A second signal raises
``KeyboardInterrupt`` at once (the runner's ``finally`` still kills its children) — unless it
comes within :data:`ECHO_SECONDS` of the first: ``timeout`` and terminals signal the whole
process group, so one request often arrives twice, and that echo must not lose the report.
"""

from __future__ import annotations

import signal
import threading
import time
from types import FrameType, TracebackType
from typing import Any

HANDLED = (signal.SIGINT, signal.SIGTERM)
ECHO_SECONDS = 1.0


class StopOnSignal:
    """Context manager: SIGINT/SIGTERM set :attr:`event` and record :attr:`signum`.

    Handlers can only be installed from the main thread; elsewhere (a library caller in a
    thread) the manager installs nothing and :attr:`event` is only set by :meth:`request`.
    Previous handlers are restored on exit.
    """

    def __init__(self) -> None:
        self.event = threading.Event()
        self.signum: int | None = None
        self._first_at: float | None = None
        self._previous: dict[int, Any] = {}

    @property
    def signal_name(self) -> str:
        """``SIGINT``, ``SIGTERM``, or ``""`` when no stop was requested."""
        return signal.Signals(self.signum).name if self.signum else ""

    def request(self, signum: int) -> None:
        """Ask the run to stop as if *signum* had been received."""
        self.signum = signum
        self.event.set()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        now = time.monotonic()
        if self.event.is_set():
            if self._first_at is not None and now - self._first_at < ECHO_SECONDS:
                return  # the same request delivered again through the process group
            raise KeyboardInterrupt  # asked twice: stop waiting for a clean stop
        self._first_at = now
        self.request(signum)

    def __enter__(self) -> StopOnSignal:
        if threading.current_thread() is threading.main_thread():
            for signum in HANDLED:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()
