"""The measuring process and its descendants, seen from the parent: their memory, and killing them all.

A worker is started in its own session (``start_new_session=True``), so its process group id is
its pid and every process it forks stays in that group unless it makes its own session.
:func:`kill_tree` freezes the group and every descendant psutil can still see, then kills them,
which also catches a grandchild that escaped into a session of its own (the worker is a child
subreaper, so such a grandchild stays its descendant: :mod:`memleak_cli.measure.containment`).
"""

from __future__ import annotations

import os
import signal
import time

import psutil

# Listing descendants scans all of /proc (psutil's ppid map): ~5 ms on this project's machine, so
# the list is refreshed at most this often; reading the known processes' RSS is ~10 µs each.
_RESCAN_SECONDS = 0.25


class TreeWatcher:
    """Reads the resident set size of a process and its descendants (psutil), cheaply and often.

    The root's RSS is read at every call; the list of descendants is refreshed every
    ``_RESCAN_SECONDS`` and their RSS read at every call.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        try:
            self._root: psutil.Process | None = psutil.Process(pid)
        except psutil.Error:
            self._root = None  # ended before we looked
        self._kids: list[psutil.Process] = []
        self._scanned = 0.0

    def descendants(self) -> list[psutil.Process]:
        """The descendants seen at the last scan (``children(recursive=True)``)."""
        return list(self._kids)

    def rss(self) -> int | None:
        """RSS of the whole tree in bytes, or ``None`` when the root has ended."""
        if self._root is None:
            return None
        now = time.monotonic()
        try:
            if now - self._scanned >= _RESCAN_SECONDS:
                self._kids = self._root.children(recursive=True)
                self._scanned = now
            total = int(self._root.memory_info().rss)
        except psutil.Error:
            return None
        for kid in self._kids:
            try:
                total += int(kid.memory_info().rss)
            except psutil.Error:
                continue  # ended between the scan and now
        return total


def has_exited(pid: int) -> bool:
    """True when child *pid* has ended, without reaping it (``waitid`` with ``WNOWAIT``)."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True  # already reaped


def descendants(pid: int) -> list[psutil.Process]:
    """Every live descendant of *pid* (empty when *pid* has ended)."""
    try:
        return list(psutil.Process(pid).children(recursive=True))
    except psutil.Error:
        return []


def kill_tree(pid: int, known: list[psutil.Process] | None = None, *, wait: float = 5.0) -> None:
    """SIGKILL the process group *pid* (a worker started with ``start_new_session=True``), then
    every live descendant of *pid* and every process in *known*.

    *known* are descendants seen earlier (a grandchild whose parent already died is no longer a
    descendant of *pid*). Call it before reaping the worker (``Popen.wait``), so that its pid
    cannot have been reused; psutil checks each known process's start time before killing it. Waits up to *wait* seconds for them to end (a zombie counts as
    ended); never raises for processes that are already gone.
    """
    # Freeze first, kill second: a stopped process cannot fork while the tree is read. The worker
    # stays alive (stopped) meanwhile, so as a child subreaper (memleak_cli.measure.containment) it keeps
    # every orphan of the tree among its descendants until the second scan has seen them.
    try:
        os.killpg(pid, signal.SIGSTOP)
    except (ProcessLookupError, PermissionError):
        pass
    targets = {p.pid: p for p in [*(known or []), *descendants(pid)]}
    for proc in list(targets.values()):
        try:
            proc.suspend()  # those that left the group (setsid)
        except psutil.Error:
            continue
    targets.update((p.pid, p) for p in descendants(pid))  # forked before the freeze reached them
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    alive = []
    for proc in targets.values():
        try:
            proc.kill()  # psutil checks the pid was not reused by another process
            alive.append(proc)
        except psutil.Error:
            continue
    deadline = time.monotonic() + wait
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if _running(p)]
        if alive:
            time.sleep(0.02)


def _running(proc: psutil.Process) -> bool:
    """Alive and not a zombie (a killed orphan waits for init to reap it, and holds no memory)."""
    try:
        return bool(proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def _uss(process: psutil.Process) -> int | None:
    try:
        return int(process.memory_full_info().uss)
    except (psutil.AccessDenied, AttributeError):
        return None


def read_tree(process: psutil.Process) -> tuple[int, int | None, int] | None:
    """``(RSS, USS, processes)`` of *process* and its children, in bytes; ``None`` when it has
    exited (or is a zombie). USS is ``None`` when the OS hides the root's; a child whose USS is
    hidden, or that ends while being read, is left out of the sum."""
    try:
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
        rss = int(process.memory_info().rss)
        uss = _uss(process)
        kids = process.children(recursive=True)
    except psutil.Error:
        return None
    processes = 1
    for child in kids:
        try:
            rss += int(child.memory_info().rss)
            child_uss = _uss(child)
        except psutil.Error:
            continue
        processes += 1
        if uss is not None and child_uss is not None:
            uss += child_uss
    return rss, uss, processes
