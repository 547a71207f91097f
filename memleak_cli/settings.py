"""Settings of one run, validated once."""

from __future__ import annotations

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
PROBES = ("memray",)


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
        probes: optional probes: ``memray`` runs ``window`` more iterations under memray for
            native (C/C++) allocation stacks.
        trim: trim the C heap (``malloc_trim(0)``) after reading RSS in every sample, so that
            memory the allocator keeps is told apart from memory still allocated.
    """

    iterations: int = DEFAULT_ITERATIONS
    warmup: int = DEFAULT_WARMUP
    window: int = DEFAULT_WINDOW
    frames: int = DEFAULT_FRAMES
    top: int = DEFAULT_TOP
    size: str = "medium"
    thresholds: Thresholds = field(default_factory=Thresholds)
    probes: tuple[str, ...] = ()
    trim: bool = True

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
        unknown = [p for p in self.probes if p not in PROBES]
        if unknown:
            raise UsageError(f"unknown probe {unknown[0]!r}: use {', '.join(PROBES)}")
        if self.probes and self.window == 0:
            raise UsageError(f"--probe {self.probes[0]} needs an attribution window: use --window 1 or more")
        if self.size not in SIZES:
            raise UsageError(f"unknown size {self.size!r}: use one of {', '.join(SIZES)}")
        return self

    def as_dict(self) -> dict[str, Any]:
        """The settings as plain data for the report."""
        return asdict(self)
