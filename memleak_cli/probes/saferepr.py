"""Calling the measured program's own code from a probe: ``__repr__``, ``__str__``,
``__getattr__``, bounded in time and in what it may raise.

A probe that describes a retained object (its repr, the dict key that leads to it) runs code the
measured program wrote. That code may hang (a repr that locks, waits on a socket, loops), raise
anything (``SystemExit``, ``KeyboardInterrupt``, a ``BaseException`` subclass) or return a
megabyte. None of it may turn the run into a timeout or lose what was measured, so:

* :func:`bounded` runs a call with a ``SIGALRM`` interval timer (:data:`CALL_SECONDS`, repeating,
  so a repr that swallows the first alarm gets another) when called in the main thread, and
  catches every ``BaseException``; it returns ``None`` on failure;
* after :data:`BUDGET_SECONDS` spent in measured code in total, no more of it is called: the
  descriptions fall back to the type name;
* texts are cut to :data:`REPR_CHARS` characters, at a word boundary when one is near.

Cost: two ``setitimer`` calls per bounded call (~2 µs); nested calls share the outer timer.
"""

from __future__ import annotations

import reprlib
import signal
import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

CALL_SECONDS = 0.5
BUDGET_SECONDS = 10.0
REPR_CHARS = 120

_repr = reprlib.Repr()
# reprlib would cut long reprs in the middle (``age i...0 rows``); :func:`clip` cuts at a word
# boundary instead, so reprlib only bounds the number of items shown
_repr.maxstring = 10 * REPR_CHARS
_repr.maxother = 10 * REPR_CHARS
_active = False
_armed = False  # the alarm raises only while a call runs: a late one is a no-op
_spent = 0.0


class _Timeout(BaseException):
    """Raised by the alarm inside a call that ran too long (never escapes :func:`bounded`)."""


def _on_alarm(signum: int, frame: object) -> None:
    if _armed:
        raise _Timeout


def budget_left() -> bool:
    """True while the total time spent in measured code stays under :data:`BUDGET_SECONDS`."""
    return _spent < BUDGET_SECONDS


def bounded(call: Callable[[], T], seconds: float = CALL_SECONDS, *, budgeted: bool = True) -> T | None:
    """``call()``, or ``None`` when it raised anything (``BaseException`` included), ran longer
    than *seconds* (main thread only: elsewhere no timer can interrupt it), or — when
    *budgeted* (a call that is mostly measured code, such as a repr) — the budget of
    measured-code time is spent; its time then counts against the budget."""
    global _active, _armed, _spent
    if budgeted and not budget_left():
        return None
    if _active or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        try:  # nested in an outer bounded call (its timer covers this one), or no timer possible
            return call()
        except BaseException:  # noqa: BLE001 - measured code may raise anything
            return None
    started = time.monotonic()
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    earlier = signal.setitimer(signal.ITIMER_REAL, seconds, seconds)
    _active = True
    result: T | None = None
    try:
        _armed = True
        try:
            result = call()
        except BaseException:  # noqa: BLE001 - the alarm, or whatever the measured code raised
            result = None
        finally:
            _armed = False
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _Timeout:  # the alarm fired between the call's return and the disarm
        result = None
    finally:
        _active = _armed = False
        signal.signal(signal.SIGALRM, previous)
        if earlier[0] > 0:  # the scenario's own timer, restarted with what was left of it
            signal.setitimer(signal.ITIMER_REAL, *earlier)
        if budgeted:
            _spent += time.monotonic() - started
    return result


def clip(text: str, limit: int = REPR_CHARS) -> str:
    """*text* cut to at most *limit* characters, at a space in its last fifth when there is one,
    with ``…`` marking the cut."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    space = head.rfind(" ")
    if space >= limit * 4 // 5:
        head = head[:space]
    return head + "…"


def type_label(obj: object) -> str:
    """``module.QualName`` of *obj*'s type, read without running measured code where possible."""
    cls = type(obj)
    try:
        name = type.__dict__["__qualname__"].__get__(cls)
        module = type.__dict__["__module__"].__get__(cls)
    except BaseException:  # noqa: BLE001 - a metaclass that overrides them
        return f"<type at {id(cls):#x}>"
    if not isinstance(name, str):
        name = "?"
    return name if module == "builtins" or not isinstance(module, str) else f"{module}.{name}"


def safe_repr(obj: object, limit: int = REPR_CHARS) -> str:
    """A short repr of *obj* (reprlib), bounded by :func:`bounded`; when it fails, hangs or the
    budget is spent, ``<Type object at 0x…>`` (no measured code runs for that)."""
    text = bounded(lambda: _repr.repr(obj))
    if not isinstance(text, str):
        return f"<{type_label(obj)} object at {id(obj):#x}>"
    return clip(text, limit)


def safe_str(obj: object, limit: int | None = None) -> str:
    """``str(obj)`` bounded by :func:`bounded` (an exception's message), cut to *limit* when
    given; ``<Type: str() failed>`` when it fails."""
    text = bounded(lambda: str(obj))
    if not isinstance(text, str):
        return f"<{type_label(obj)}: str() failed>"
    return text if limit is None else clip(text, limit)
