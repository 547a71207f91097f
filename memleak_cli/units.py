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
