"""The watched target: a process attached by PID, or a command memleak starts and stops."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Sequence

import psutil

from memleak_cli.errors import UsageError


class Target:
    """The watched process: attached by PID (:meth:`attach`) or started (:meth:`launch`)."""

    def __init__(
        self,
        process: psutil.Process,
        command: list[str],
        popen: subprocess.Popen[bytes] | None = None,
    ) -> None:
        self.process = process
        self.command = command
        self.popen = popen

    @property
    def pid(self) -> int:
        """The process id."""
        return int(self.process.pid)

    @property
    def launched(self) -> bool:
        """True when memleak started the process (and so stops it when the watch ends first)."""
        return self.popen is not None

    @classmethod
    def attach(cls, pid: int) -> Target:
        """Attach to the running process *pid*.

        Raises:
            UsageError: no such process, or its memory is not ours to read.
        """
        try:
            process = psutil.Process(pid)
            process.memory_info()
            command = process.cmdline() or [process.name()]
        except psutil.ZombieProcess:
            raise UsageError(
                f"process {pid} has already exited (a zombie waiting for its parent)"
            ) from None
        except psutil.NoSuchProcess:
            raise UsageError(f"no process with PID {pid}") from None
        except psutil.AccessDenied:
            raise UsageError(
                f"cannot read the memory of PID {pid}: access denied (watch a process of your own user, or run as root)"
            ) from None
        return cls(process, command)

    @classmethod
    def launch(cls, argv: Sequence[str]) -> Target:
        """Start *argv* (stdin, stdout and stderr inherited) and watch it.

        Raises:
            UsageError: the command is empty or cannot be started.
        """
        if not argv:
            raise UsageError(
                "give a command to watch after '--', e.g. memleak watch -- python serve.py"
            )
        try:
            popen = subprocess.Popen(list(argv))
        except OSError as exc:
            raise UsageError(f"cannot start {argv[0]!r}: {exc.strerror or exc}") from None
        return cls(psutil.Process(popen.pid), list(argv), popen)

    def wait(self, timeout: float) -> bool:
        """Wait up to *timeout* seconds for the process to end; True when it has."""
        if self.popen is not None:
            try:
                self.popen.wait(timeout=max(timeout, 0.0))
                return True
            except subprocess.TimeoutExpired:
                return False
        try:
            self.process.wait(timeout=max(timeout, 0.0))
            return True
        except psutil.TimeoutExpired:
            return False
        except psutil.Error:
            return True

    def exit_code(self) -> int | None:
        """The launched command's exit status (negative: killed by that signal); ``None`` when
        attached by PID or still running."""
        return None if self.popen is None else self.popen.poll()

    def stop(self, grace: float = 3.0) -> None:
        """Stop a launched command that still runs: SIGTERM, then SIGKILL after *grace* seconds.
        A process attached by PID is never touched."""
        if self.popen is None or self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()

    def describe(self) -> dict[str, object]:
        """``pid``, ``command`` and ``launched`` for the report."""
        return {"pid": self.pid, "command": self.command, "launched": self.launched}


