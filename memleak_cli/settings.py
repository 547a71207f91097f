"""Settings of one run, validated once."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from memleak_cli.analysis.thresholds import Thresholds
from memleak_cli.errors import UsageError
from memleak_cli.scenario import SIZES

DEFAULT_ITERATIONS = 20
DEFAULT_WARMUP = 2
DEFAULT_WINDOW = 3
DEFAULT_FRAMES = 5
DEFAULT_TOP = 10
MIN_TREND_POINTS = 3
DEFAULT_TIMEOUT_SECONDS = 3600.0
MAX_RSS_SHARE = 0.5  # of the machine's physical memory


def default_max_rss(jobs: int = 1) -> int:
    """The default ``--max-rss`` in bytes: half the machine's physical memory (psutil
    ``virtual_memory().total``), shared by the *jobs* variants that run at the same time."""
    import psutil

    return int(psutil.virtual_memory().total * MAX_RSS_SHARE / max(1, jobs))


@dataclass(frozen=True)
class RunSettings:
    """How to run and judge a scenario.

    Attributes:
        iterations: iterations that make the trend, warm-up included.
        warmup: first iterations left out of the trend (imports, caches, JIT).
        window: extra iterations after the trend, for attribution (tracemalloc, retained objects).
        frames: tracemalloc traceback depth in the window; 0 turns tracemalloc off.
        top: how many allocation sites, types and retained objects to keep.
        size: size profile of the workload (``small``, ``medium``, ``large``).
        thresholds: see :class:`~memleak_cli.analysis.thresholds.Thresholds`.
        max_rss_bytes: a variant whose process tree's RSS passes this many bytes is stopped
            (``LEAK``, capped); ``None`` sets no cap.
        timeout_seconds: a variant still running after this many seconds is killed with its
            children (``ERROR``, timeout); ``None`` sets no limit.
    """

    iterations: int = DEFAULT_ITERATIONS
    warmup: int = DEFAULT_WARMUP
    window: int = DEFAULT_WINDOW
    frames: int = DEFAULT_FRAMES
    top: int = DEFAULT_TOP
    size: str = "medium"
    thresholds: Thresholds = field(default_factory=Thresholds)
    max_rss_bytes: int | None = None
    timeout_seconds: float | None = None

    def validate(self) -> RunSettings:
        """Return self when every value makes sense.

        Raises:
            UsageError: one line naming the bad value and what to use instead.
        """
        for name in ("warmup", "window", "frames", "top"):
            if getattr(self, name) < 0:
                raise UsageError(f"--{name} must be 0 or more, got {getattr(self, name)}")
        if self.top < 1:
            raise UsageError("--top must be at least 1")
        if self.frames > 100:
            raise UsageError(f"--frames {self.frames} is too deep: use at most 100 (tracemalloc slows down with every frame)")
        needed = self.warmup + MIN_TREND_POINTS
        if self.iterations < needed:
            raise UsageError(
                f"--iterations {self.iterations} is too few for a trend: use at least {needed} "
                f"(warm-up {self.warmup} + {MIN_TREND_POINTS} measured)"
            )
        if self.size not in SIZES:
            raise UsageError(f"unknown size {self.size!r}: use one of {', '.join(SIZES)}")
        if self.max_rss_bytes is not None and self.max_rss_bytes <= 0:
            raise UsageError(f"--max-rss must be more than 0 bytes, got {self.max_rss_bytes}")
        if self.timeout_seconds is not None and not (math.isfinite(self.timeout_seconds) and self.timeout_seconds > 0):
            raise UsageError(f"--timeout must be a number of seconds above 0, got {self.timeout_seconds}")
        return self

    def as_dict(self) -> dict[str, Any]:
        """The settings as plain data for the report."""
        return asdict(self)
