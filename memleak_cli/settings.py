"""Settings of one run, validated once, and the one place that resolves them: CLI flag, then
``[tool.memleak]`` in the nearest pyproject.toml (:mod:`memleak_cli.config`), then default."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from memleak_cli.analysis.thresholds import Thresholds
from memleak_cli.errors import UsageError
from memleak_cli.scenario import SIZES

if TYPE_CHECKING:
    from memleak_cli.config import Config
    from memleak_cli.tolerance import Tolerance

DEFAULT_ITERATIONS = 20
DEFAULT_WARMUP = 2
DEFAULT_WINDOW = 3
DEFAULT_FRAMES = 5
DEFAULT_TOP = 10
MIN_TREND_POINTS = 3
DEFAULT_BASELINE = "reports/baseline.json"
DEFAULT_TIMEOUT_SECONDS = 3600.0
MAX_RSS_SHARE = 0.5  # of the machine's physical memory
DEFAULT_MAX_FACTOR = 4  # --max-iterations defaults to this many × --iterations


def default_max_rss(jobs: int = 1) -> int:
    """The default ``--max-rss`` in bytes: half the machine's physical memory (psutil
    ``virtual_memory().total``), shared by the *jobs* variants that run at the same time."""
    import psutil

    return int(psutil.virtual_memory().total * MAX_RSS_SHARE / max(1, jobs))


PROBES = ("memray", "pympler")


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
        probes: optional probes: ``memray`` runs ``window`` more iterations under memray for
            native (C/C++) allocation stacks; ``pympler`` adds a type-size summary diff over the
            window (pympler ``summary``, about 3 s per variant on a 10^5-object heap).
        trim: trim the C heap (``malloc_trim(0)``) after reading RSS in every sample, so that
            memory the allocator keeps is told apart from memory still allocated.
        max_iterations: the most iterations (warm-up included) a variant whose growth is
            undecided may run (:mod:`memleak_cli.analysis.evidence`); ``None``: 4 × iterations.
        extend: run more iterations when the growth is undecided; ``False`` (``--no-extend``)
            runs exactly ``iterations``.
        cleanup: clear the interpreter's caches after every warm-up and measured iteration
            (:mod:`memleak_cli.analysis.hygiene`); ``False`` is ``--no-cleanup``.
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
    probes: tuple[str, ...] = ()
    trim: bool = True
    max_iterations: int | None = None
    extend: bool = True
    cleanup: bool = True

    @property
    def most_iterations(self) -> int:
        """The iterations a variant may run at most: ``iterations`` without extension, else
        ``max_iterations`` (default ``DEFAULT_MAX_FACTOR`` × ``iterations``)."""
        if not self.extend:
            return self.iterations
        return self.max_iterations if self.max_iterations is not None else DEFAULT_MAX_FACTOR * self.iterations

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
        if self.max_iterations is not None and self.max_iterations < self.iterations:
            raise UsageError(f"--max-iterations {self.max_iterations} is under --iterations {self.iterations}: use at least {self.iterations} (--no-extend runs exactly --iterations)")
        unknown = [p for p in self.probes if p not in PROBES]
        if unknown:
            raise UsageError(f"unknown probe {unknown[0]!r}: use {', '.join(PROBES)}")
        if self.probes and self.window == 0:
            raise UsageError(f"--probe {self.probes[0]} needs an attribution window: use --window 1 or more")
        if self.size not in SIZES:
            raise UsageError(f"unknown size {self.size!r}: use one of {', '.join(SIZES)}")
        if self.max_rss_bytes is not None and self.max_rss_bytes <= 0:
            raise UsageError(f"--max-rss must be more than 0 bytes, got {self.max_rss_bytes}")
        if self.timeout_seconds is not None and not (math.isfinite(self.timeout_seconds) and self.timeout_seconds > 0):
            raise UsageError(f"--timeout must be a number of seconds above 0, got {self.timeout_seconds}")
        for name, value in self.thresholds.as_dict().items():
            if not (math.isfinite(value) and value >= 0):
                raise UsageError(f"threshold {name} must be a number, 0 or more, got {value}")
        return self

    def as_dict(self) -> dict[str, Any]:
        """The settings as plain data for the report."""
        return asdict(self)


# --- resolution: CLI flag, then [tool.memleak], then default — here and nowhere else ------------
def _flag_size(text: str | None, flag: str) -> float | None:
    if text is None:
        return None
    from memleak_cli.units import parse_size

    try:
        return float(parse_size(text))
    except UsageError as exc:
        raise UsageError(f"{flag}: {exc}") from exc


def resolve_limits(max_rss: str | None, timeout: float | None, jobs: int) -> tuple[int | None, float | None]:
    """``--max-rss`` in bytes and ``--timeout`` in seconds (``None``: off), after checking ``--jobs``.

    Raises:
        UsageError: a size that does not parse, a timeout that is negative or not finite, jobs < 1.
    """
    if jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {jobs}")
    cap = default_max_rss(jobs) if max_rss is None else int(_flag_size(max_rss, "--max-rss") or 0)
    if timeout is None:
        limit: float | None = DEFAULT_TIMEOUT_SECONDS
    elif not math.isfinite(timeout) or timeout < 0:
        raise UsageError(f"--timeout must be a number of seconds, 0 or more (0: no limit), got {timeout}")
    else:
        limit = timeout or None
    return cap or None, limit


def resolve_run_settings(
    config: Config,
    *,
    iterations: int | None = None,
    warmup: int | None = None,
    window: int | None = None,
    frames: int | None = None,
    top: int | None = None,
    size: str | None = None,
    threshold: str | None = None,
    rss_threshold: str | None = None,
    objects_threshold: float | None = None,
    blocks_threshold: float | None = None,
    retain_threshold: str | None = None,
    max_iterations: int | None = None,
    extend: bool | None = None,
    cleanup: bool | None = None,
) -> RunSettings:
    """The run settings: each value from its CLI flag when given (not ``None``), else from
    ``[tool.memleak]`` of *config*, else the default.

    Flag arguments are as typed (sizes as text such as ``64KiB``).

    Raises:
        UsageError: a flag value that does not parse, or values that do not fit together (the
            message names the ones that came from the config file).
    """
    flags = {"iterations": iterations, "warmup": warmup, "window": window, "frames": frames, "top": top, "size": size,
             "max_iterations": max_iterations, "extend": extend, "cleanup": cleanup}
    base = RunSettings()
    from_config = [k for k, v in flags.items() if v is None and k in config.values]
    chosen = {k: v if v is not None else config.values.get(k, getattr(base, k)) for k, v in flags.items()}
    defaults = Thresholds()
    flag_thresholds = {
        "heap": _flag_size(threshold, "--threshold"),
        "rss": _flag_size(rss_threshold, "--rss-threshold"),
        "objects": objects_threshold,
        "blocks": blocks_threshold,
        "retain": _flag_size(retain_threshold, "--retain-threshold"),
    }
    for flag, value in (("--objects-threshold", objects_threshold), ("--blocks-threshold", blocks_threshold)):
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise UsageError(f"{flag} must be a number, 0 or more, got {value}")
    attribute = {"heap": "heap_bytes", "rss": "rss_bytes", "objects": "gc_objects", "blocks": "py_blocks", "retain": "retained_bytes"}
    picked = {
        attribute[k]: v if v is not None else config.thresholds.get(k, getattr(defaults, attribute[k]))
        for k, v in flag_thresholds.items()
    }
    settings = RunSettings(
        iterations=int(chosen["iterations"]), warmup=int(chosen["warmup"]), window=int(chosen["window"]),
        frames=int(chosen["frames"]), top=int(chosen["top"]), size=str(chosen["size"]), thresholds=Thresholds(**picked),
        max_iterations=None if chosen["max_iterations"] is None else int(chosen["max_iterations"]),
        extend=bool(chosen["extend"]), cleanup=bool(chosen["cleanup"]),
    )
    try:
        return settings.validate()
    except UsageError as exc:
        if from_config:
            raise UsageError(f"{exc} ({', '.join(from_config)} from {config.path} [tool.memleak])") from None
        raise


def resolve_tolerance(flag: str | None, config: Config) -> Tolerance:
    """``--tolerance``, else ``tolerance`` in [tool.memleak], else ``50%,16KiB``.

    Raises:
        UsageError: the flag does not parse.
    """
    from memleak_cli.tolerance import DEFAULT_TOLERANCE, parse_tolerance

    if flag is not None:
        try:
            return parse_tolerance(flag)
        except UsageError as exc:
            raise UsageError(f"--tolerance: {exc}") from None
    return parse_tolerance(config.values.get("tolerance", DEFAULT_TOLERANCE))


def resolve_scenarios(flags: Sequence[str] | None, config: Config, default: Callable[[], list[str]]) -> list[str]:
    """``--scenario`` values when any, else ``scenarios`` in [tool.memleak], else ``default()``."""
    if flags:
        return list(flags)
    if "scenarios" in config.values:
        return list(config.values["scenarios"])
    return default()


def resolve_baseline_path(flag: Path | None, config: Config) -> Path:
    """``--baseline``, else ``baseline`` in [tool.memleak] (relative to its pyproject.toml), else
    ``reports/baseline.json`` in the current folder."""
    if flag is not None:
        return Path(flag)
    return Path(config.values.get("baseline", DEFAULT_BASELINE))
