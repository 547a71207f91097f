"""How far a measurement may exceed its baseline before the gate fails: ``50%``, ``16KiB`` or both."""

from __future__ import annotations

import re
from dataclasses import dataclass

from memleak_cli.errors import UsageError
from memleak_cli.units import format_bytes, parse_size

DEFAULT_TOLERANCE = "50%,16KiB"
_PERCENT = re.compile(r"^\s*(?P<num>[0-9]*\.?[0-9]+)\s*%\s*$")


@dataclass(frozen=True)
class Tolerance:
    """Allowed excess over a baseline value: the larger of ``relative × |baseline|`` and ``absolute``.

    Attributes:
        relative: a fraction (0.5 for ``50%``).
        absolute: bytes; the floor that keeps a baseline near zero from failing on noise.
    """

    relative: float = 0.0
    absolute: float = 0.0

    def limit(self, baseline: float) -> float:
        """The largest value that still passes against *baseline* (same unit, bytes)."""
        return baseline + max(self.relative * abs(baseline), self.absolute)

    def describe(self) -> str:
        """``50%, 16.0 KiB`` — as the user would write it."""
        parts = []
        if self.relative:
            parts.append(f"{self.relative * 100:g}%")
        if self.absolute or not parts:
            parts.append(format_bytes(self.absolute))
        return ", ".join(parts)


def parse_tolerance(text: str | int | float) -> Tolerance:
    """Parse ``50%``, ``16KiB``, ``4096`` or ``50%,16KiB`` (parts joined by ``,`` or ``+``).

    Raises:
        UsageError: an empty or unreadable part, or two parts of the same kind.
    """
    if isinstance(text, bool):
        raise UsageError(f"cannot read tolerance {text!r}: use e.g. 50%, 16KiB or 50%,16KiB")
    if isinstance(text, (int, float)):
        text = str(text)
    relative: float | None = None
    absolute: float | None = None
    for part in re.split(r"[,+]", text):
        match = _PERCENT.match(part)
        try:
            if match:
                if relative is not None:
                    raise UsageError("two percentages")
                relative = float(match["num"]) / 100
            else:
                if absolute is not None:
                    raise UsageError("two sizes")
                absolute = float(parse_size(part))
        except UsageError as exc:
            raise UsageError(f"cannot read tolerance {text!r} ({exc}): use e.g. 50%, 16KiB or 50%,16KiB") from None
    return Tolerance(relative or 0.0, absolute or 0.0)
