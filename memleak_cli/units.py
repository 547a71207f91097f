"""Parsing and printing of byte sizes (``4KiB``, ``1.5 MB``) and durations."""

from __future__ import annotations

import math
import re

from memleak_cli.errors import UsageError

_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "m": 1000**2,
    "mb": 1000**2,
    "g": 1000**3,
    "gb": 1000**3,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
}
_SIZE_RE = re.compile(r"^\s*(?P<num>[0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*(?P<unit>[a-z]*)\s*$", re.I)


def parse_size(text: str) -> int:
    """Parse a size such as ``4096``, ``4KiB``, ``1.5 MB`` or ``2 GiB`` into bytes.

    Decimal units (kB, MB, GB) are powers of 1000 and binary ones (KiB, MiB, GiB) powers of
    1024; a bare number is bytes. Returns an ``int`` (rounded to the nearest byte).

    Raises:
        UsageError: the text is empty, negative, not finite or has an unknown unit.
    """
    match = _SIZE_RE.match(str(text))
    if not match:
        raise UsageError(
            f"cannot read size {text!r}: use a non-negative number with an optional unit, "
            "e.g. 4096, 4KiB, 1.5MB"
        )
    unit = match["unit"].lower()
    if unit not in _UNITS:
        raise UsageError(f"unknown size unit {match['unit']!r} in {text!r}: use B, kB, MB, GB, KiB, MiB or GiB")
    value = float(match["num"]) * _UNITS[unit]
    if not math.isfinite(value):
        raise UsageError(f"size {text!r} is too large")
    return round(value)


def format_bytes(value: float | None, *, signed: bool = False) -> str:
    """Format a byte count with binary units: ``212.0 KiB``; ``+1.5 MiB`` when *signed*."""
    if value is None:
        return "n/a"
    sign = "+" if signed and value > 0 else ("-" if value < 0 else "")
    magnitude = abs(float(value))
    for unit in ("B", "KiB", "MiB", "GiB"):
        if magnitude < 1024 or unit == "GiB":
            text = f"{magnitude:.0f} {unit}" if unit == "B" else f"{magnitude:.1f} {unit}"
            return sign + text
        magnitude /= 1024
    raise AssertionError("unreachable")


def format_count(value: float | None, *, signed: bool = False) -> str:
    """Format a count (objects, blocks) with at most one decimal: ``+12.5``."""
    if value is None:
        return "n/a"
    text = f"{value:+.1f}" if signed else f"{value:.1f}"
    return text.replace(".0", "") if text.endswith(".0") else text


_DURATION_UNITS = {
    "": 1.0,
    "s": 1.0,
    "sec": 1.0,
    "ms": 0.001,
    "m": 60.0,
    "min": 60.0,
    "h": 3600.0,
}
_DURATION_RE = re.compile(r"^\s*(?P<num>[0-9]*\.?[0-9]+)\s*(?P<unit>[a-z]*)\s*$", re.I)


def parse_duration(text: str) -> float:
    """Parse a duration such as ``500ms``, ``1s``, ``1.5s``, ``2m``, ``2min`` or ``1h`` into seconds.

    ``m`` is minutes (milliseconds are ``ms``); a bare number is seconds. Returns a ``float``.

    Raises:
        UsageError: the text is empty, negative or has an unknown unit.
    """
    match = _DURATION_RE.match(str(text))
    if not match:
        raise UsageError(
            f"cannot read duration {text!r}: use a non-negative number with an optional unit, "
            "e.g. 500ms, 1s, 2m, 1h"
        )
    unit = match["unit"].lower()
    if unit not in _DURATION_UNITS:
        raise UsageError(f"unknown duration unit {match['unit']!r} in {text!r}: use ms, s, m (minutes) or h")
    return float(match["num"]) * _DURATION_UNITS[unit]


def format_duration(seconds: float) -> str:
    """Format seconds for people: ``250ms``, ``12.0s``, ``3m05s``, ``1h02m``."""
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m{rest:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
