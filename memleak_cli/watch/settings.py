"""What ``memleak watch`` is asked to do: interval, duration, thresholds (checked once)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from memleak_cli.errors import UsageError
from memleak_cli.units import format_duration

MiB = 1024 * 1024
MIN_INTERVAL = 0.01
MIN_TREND_POINTS = 3



@dataclass(frozen=True)
class WatchSettings:
    """How to watch and judge.

    Attributes:
        interval: seconds between readings.
        duration: seconds to watch; ``None`` until the target exits (or Ctrl-C).
        threshold_per_minute: growth of RSS/USS in bytes per minute above which it is a leak.
        warmup: first seconds left out of the trend (start-up, imports, caches).
        max_points: the series is reduced to at most this many bucket medians before the fit.
        vote: share of steps that must grow (as ``memleak run``'s consistency vote).
    """

    interval: float = 1.0
    duration: float | None = None
    threshold_per_minute: float = 1 * MiB
    warmup: float = 0.0
    max_points: int = 120
    vote: float = 0.7

    def validate(self) -> WatchSettings:
        """Return self when every value makes sense.

        Raises:
            UsageError: one line naming the bad value.
        """
        if self.interval < MIN_INTERVAL:
            raise UsageError(
                f"--interval {format_duration(self.interval)} is too short: use at least 10ms"
            )
        if self.duration is not None and self.duration <= 0:
            raise UsageError("--duration must be more than 0")
        if self.warmup < 0 or self.threshold_per_minute < 0:
            raise UsageError("--warmup-time and --rate-threshold must be 0 or more")
        if self.max_points < MIN_TREND_POINTS:
            raise UsageError(f"max_points must be at least {MIN_TREND_POINTS}")
        return self

    def as_dict(self) -> dict[str, object]:
        """The settings as plain data for the report."""
        return asdict(self)


