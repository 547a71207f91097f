"""Keeping what the measured program starts inside the run: the worker's side (Linux).

The parent (:mod:`memleak_cli.measure.parent`, :mod:`memleak_cli.measure.proctree`) kills the worker's process
group and every descendant it can see. Three ways out of that remain, and the worker closes them:

* **The parent is SIGKILLed** (the OOM killer, ``kill -9``, a CI runner cancelling the job): it
  cannot kill anything, and the worker, in a session of its own, gets no SIGHUP. The parent
  passes the worker the read end of a pipe whose write end only the parent holds (a *lifeline*,
  :func:`watch_lifeline`); a daemon thread blocks reading it and gets end-of-file the moment the
  parent is gone, however it died, then kills every descendant and the worker's process group.
  ``PR_SET_PDEATHSIG`` is not used: it fires when the parent *thread* that forked exits, and
  workers are started from a thread pool.
* **A scenario that double-forks with setsid** leaves a grandchild in another session whose
  parent has exited: it is no longer a descendant of the worker and is re-parented to init. The
  worker makes itself a *child subreaper* (``prctl(PR_SET_CHILD_SUBREAPER)``,
  :func:`become_subreaper`), so such orphans are re-parented to the worker instead and stay in
  its tree, where the parent's scan and :func:`kill_descendants` find them.
* **The worker ends normally** while the scenario left processes running: when a subreaper ends,
  its orphans move on to init. So the worker kills and reaps every descendant before it exits
  (:func:`kill_descendants`, called by :func:`exit_now`).

Cost: one thread blocked in ``read`` and one ``prctl`` call at start-up; at exit one
``/proc`` scan per round (~5 ms) while descendants remain.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

PR_SET_CHILD_SUBREAPER = 36
_LINUX = sys.platform.startswith("linux")


def become_subreaper() -> bool:
    """Make this process the child subreaper of its descendants (Linux ≥ 3.4); ``False`` when
    the platform does not offer it."""
    if not _LINUX:
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def kill_descendants(timeout: float = 3.0) -> int:
    """SIGKILL every descendant of this process, in rounds until a scan finds none alive (a
    process forked during a round, re-parented here, is caught by the next), and reap them.

    Returns the number of processes killed. Never raises.
    """
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil is a dependency
        return 0
    killed = 0
    deadline = time.monotonic() + timeout
    me = psutil.Process()
    while time.monotonic() < deadline:
        try:
            kids = [k for k in me.children(recursive=True) if _alive(k)]
        except psutil.Error:
            break
        if not kids:
            break
        for kid in kids:
            try:
                kid.suspend()  # stop them all first, so none forks while the others die
            except psutil.Error:
                continue
        for kid in kids:
            try:
                kid.kill()
                killed += 1
            except psutil.Error:
                continue
        psutil.wait_procs(kids, timeout=0.5)
    _reap()
    return killed


def _alive(proc: object) -> bool:
    import psutil

    try:
        return bool(proc.status() != psutil.STATUS_ZOMBIE)  # type: ignore[attr-defined]
    except psutil.Error:
        return False


def _reap() -> None:
    """Collect every ended child (orphans re-parented to this subreaper end as its zombies)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def watch_lifeline(fd: int, run_dir: str | None = None) -> threading.Thread:
    """Start a daemon thread that blocks reading *fd* (the lifeline pipe from the parent) and,
    at end-of-file (the parent has ended), kills every descendant, removes *run_dir* (the run's
    folder the parent made and can no longer remove) and ends this process group."""

    def wait() -> None:
        try:
            while os.read(fd, 64):
                pass  # the parent never writes; anything read is ignored
        except OSError:
            pass
        kill_descendants()
        if run_dir is not None:
            import shutil

            shutil.rmtree(run_dir, ignore_errors=True)
        try:
            os.killpg(os.getpgrp(), signal.SIGKILL)
        finally:
            os._exit(128 + signal.SIGKILL)

    thread = threading.Thread(target=wait, name="memleak-lifeline", daemon=True)
    thread.start()
    return thread


def exit_now(code: int) -> None:
    """End the worker at once with *code*: flush the standard streams, kill and reap every
    descendant, then ``os._exit`` — without waiting for threads the scenario left running
    (non-daemon threads would keep a normal interpreter exit waiting for ever)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001, S110 - a closed or broken stream: nothing left to save
            pass
    kill_descendants()
    os._exit(code)
