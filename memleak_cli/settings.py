"""Every setting of memleak in ONE table, and the one place that resolves them.

:data:`SETTINGS` names each setting once — its name (the :class:`RunSettings` field and the
``[tool.memleak]`` key), its flag, how a flag's text and a config value are checked, its default
and its help. From that table come the typer options of ``run``, ``gate`` and ``baseline update``
(:mod:`memleak_cli.cli.options`), the ``[tool.memleak]`` key checks (:mod:`memleak_cli.config`),
the README's settings table (:func:`markdown_table`) and :func:`resolve`, which takes each value
from its flag when given, else from ``[tool.memleak]`` of the nearest pyproject.toml, else the
default — and validates the whole once. Adding a setting is one row here and the code that uses it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from memleak_cli.analysis.thresholds import Thresholds
from memleak_cli.errors import UsageError
from memleak_cli.scenarios.contract import SIZES

if TYPE_CHECKING:
    from memleak_cli.analysis.tolerance import Tolerance
    from memleak_cli.config import Config

MIN_TREND_POINTS = 3
MAX_RSS_SHARE = 0.5  # of the machine's physical memory
PROBES = ("memray", "pympler")
# Bounds on what sizes memleak's own memory (arrays of samples, threads): beyond them a run
# would exhaust memleak before it measured anything.
MAX_ITERATIONS = 1_000_000
MAX_JOBS = 256
DEFAULT_MAX_FACTOR = 4  # --max-iterations defaults to this many × --iterations

RUN, GATE, BASELINE = "run", "gate", "baseline"
ALL_RUNS = (RUN, GATE, BASELINE)


def default_max_rss(jobs: int = 1) -> int:
    """The default ``--max-rss`` in bytes: half the machine's physical memory (psutil
    ``virtual_memory().total``), shared by the *jobs* variants that run at the same time."""
    import psutil

    return int(psutil.virtual_memory().total * MAX_RSS_SHARE / max(1, jobs))


AUTO = "auto"


def usable_cores() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    import os

    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:
        return os.cpu_count() or 1


def effective_jobs(jobs: int | str, variants: int) -> int:
    """How many variants run at once: *jobs*, or for ``auto`` min(usable cores, *variants*)."""
    if jobs == AUTO:
        return max(1, min(usable_cores(), variants))
    return max(1, int(jobs))


# --- checks: each takes a flag's text or a config value and returns the checked value ---------
def whole(minimum: int, maximum: int | None = None) -> Callable[[Any], int]:
    """A whole number from *minimum* (to *maximum*)."""

    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise UsageError(f"must be a whole number, got {value!r}")
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"from {minimum} to {maximum}" if maximum is not None else f"{minimum} or more"
            raise UsageError(f"must be {bound}, got {value}")
        return value

    return check


def job_count(value: Any) -> int | str:
    """``auto``, or a whole number of variants at once from 1 to :data:`MAX_JOBS` (a flag's text
    is a digit string)."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text == AUTO:
            return AUTO
        if not text.isdigit():
            raise UsageError(f"must be auto or a whole number, got {value!r}")
        value = int(text)
    return whole(1, MAX_JOBS)(value)


def size_profile(value: Any) -> str:
    """One of :data:`~memleak_cli.scenarios.contract.SIZES`."""
    if value not in SIZES:
        raise UsageError(f"must be one of {', '.join(SIZES)}, got {value!r}")
    return str(value)


def byte_size(value: Any) -> float:
    """A size: ``64KiB``, ``1.5 MB`` or a number of bytes, 0 or more; returns bytes."""
    from memleak_cli.units import parse_size

    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise UsageError(f"must be a size such as 64KiB or a number of bytes, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise UsageError(f"must be a finite size, got {value!r}")
    if isinstance(value, (int, float)) and value < 0:
        raise UsageError(f"must be 0 or more, got {value}")
    return float(parse_size(str(value)))


def count(value: Any) -> float:
    """A finite number, 0 or more."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (math.isfinite(value) and value >= 0):
        raise UsageError(f"must be a number, 0 or more, got {value!r:.60}")
    return float(value)


def seconds(value: Any) -> float:
    """A finite number of seconds, 0 or more."""
    return count(value)


def tolerance_text(value: Any) -> str:
    """A gate tolerance (``50%``, ``16KiB``, ``50%,16KiB``), checked now and kept as text."""
    from memleak_cli.analysis.tolerance import parse_tolerance

    parse_tolerance(value)
    return str(value)


def spec_list(value: Any) -> list[str]:
    """A non-empty list of scenario specs."""
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise UsageError(f"must be a non-empty list of scenario names or specs, got {value!r}")
    return list(value)


def file_path(value: Any) -> str:
    """A non-empty path."""
    if not isinstance(value, str) or not value:
        raise UsageError(f"must be a file path, got {value!r}")
    return value


def probe_list(value: Any) -> tuple[str, ...]:
    """Probe names from :data:`PROBES`, duplicates dropped."""
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        raise UsageError(f"must be a list of probe names, got {value!r}")
    unknown = [n for n in names if n not in PROBES]
    if unknown:
        raise UsageError(f"unknown probe {unknown[0]!r}: use {', '.join(PROBES)}")
    return tuple(dict.fromkeys(names))


def boolean(value: Any) -> bool:
    """``true`` or ``false``."""
    if not isinstance(value, bool):
        raise UsageError(f"must be true or false, got {value!r}")
    return value


@dataclass(frozen=True)
class Setting:
    """One row of :data:`SETTINGS`.

    Attributes:
        name: the :class:`RunSettings` field (or the gate's value) and the ``[tool.memleak]``
            key; a threshold is ``thresholds.<key>`` and sets a :class:`Thresholds` field.
        flag: the command-line flag (``--iterations``); ``short`` an optional short form.
        check: checks a value (a config value, or a flag's value after ``flag_type``) and
            returns it in the unit the code uses (bytes, seconds).
        default: the value when neither flag nor config gives one (``None``: computed, see help).
        help: the flag's help text; the default is appended.
        flag_type: the type typer parses the flag text into (``str`` for sizes).
        commands: the commands that take the flag.
        target: the :class:`Thresholds` field a threshold sets.
        many: the flag may repeat (a list).
        switch: a boolean ``--name/--no-name`` flag.
    """

    name: str
    flag: str
    check: Callable[[Any], Any]
    default: Any
    help: str
    flag_type: type = int
    commands: tuple[str, ...] = ALL_RUNS
    short: str | None = None
    target: str | None = None
    many: bool = False
    switch: bool = False

    @property
    def param(self) -> str:
        """The Python parameter name of the flag (``thresholds.heap`` → ``heap_threshold``)."""
        if self.name.startswith("thresholds."):
            return self.name.split(".", 1)[1] + "_threshold"
        return self.name

    @property
    def default_text(self) -> str:
        """The default as the help shows it (``8 KiB``, ``20``, ``--trim``; empty when computed)."""
        if self.default is None or self.default == ():
            return ""
        if self.switch:
            return self.flag if self.default else "--no-" + self.flag[2:]
        if self.check is byte_size:
            from memleak_cli.units import format_bytes

            return format_bytes(self.default)
        if isinstance(self.default, float):
            return f"{self.default:g}"
        return str(self.default)


_T = Thresholds()
SETTINGS: tuple[Setting, ...] = (
    Setting("iterations", "--iterations", whole(1, MAX_ITERATIONS), 20, "Iterations that make the trend, warm-up included.", short="-n"),
    Setting("warmup", "--warmup", whole(0), 2, "First iterations kept out of the trend."),
    Setting("max_iterations", "--max-iterations", whole(1, MAX_ITERATIONS), None, "Most iterations of a variant whose growth is undecided (more run, doubling, until it stops or keeps growing). [default: 4 × --iterations]"),
    Setting("extend", "--extend", boolean, True, "Run more iterations when growth is undecided; --no-extend runs exactly --iterations.", flag_type=bool, switch=True),
    Setting("cleanup", "--cleanup", boolean, True, "Clear the interpreter's caches (re, type, ABC, linecache, typing…) after every iteration, as CPython's -R does.", flag_type=bool, switch=True),
    Setting("window", "--window", whole(0, 10_000), 3, "Attribution iterations after the trend (plus one priming); 0 skips attribution and the retained-size check."),
    Setting("frames", "--frames", whole(0, 100), 5, "tracemalloc traceback depth in the attribution window; 0 turns tracemalloc off."),
    Setting("top", "--top", whole(1, 10_000), 10, "Allocation sites, types and retained objects to keep.", commands=(RUN,)),
    Setting("size", "--size", size_profile, "medium", "Workload size profile: small, medium or large.", flag_type=str),
    Setting("thresholds.heap", "--heap-threshold", byte_size, _T.heap_bytes, "C heap growth per iteration that counts as a leak, e.g. 4KiB.", flag_type=str, target="heap_bytes"),
    Setting("thresholds.rss", "--rss-threshold", byte_size, _T.rss_bytes, "RSS/USS growth per iteration that counts as a leak.", flag_type=str, target="rss_bytes"),
    Setting("thresholds.objects", "--objects-threshold", count, _T.gc_objects, "gc-tracked objects per iteration that count as a leak.", flag_type=float, target="gc_objects"),
    Setting("thresholds.blocks", "--blocks-threshold", count, _T.py_blocks, "Python heap blocks per iteration that count as a leak.", flag_type=float, target="py_blocks"),
    Setting("thresholds.retain", "--retain-threshold", byte_size, _T.retained_bytes, "Retained size after the work above which a flat variant RETAINS.", flag_type=str, target="retained_bytes"),
    Setting("max_rss", "--max-rss", byte_size, None, "Stop a variant whose process tree's RSS passes this size, e.g. 4GiB; it shows as LEAK (capped). 0 turns the cap off. [default: half the machine's memory, divided by --jobs]", flag_type=str),
    Setting("timeout", "--timeout", seconds, 3600.0, "Kill a variant, with its child processes, after this many seconds; it shows as ERROR (timeout). 0: no limit.", flag_type=float),
    Setting("jobs", "--jobs", job_count, AUTO, "Variants to run at the same time, each in its own process; auto: as many as there are cores, at most one per variant. Verdicts are the same as a serial run.", flag_type=str, short="-j"),
    Setting("probes", "--probe", probe_list, (), "Extra probe, repeatable: memray (native C/C++ stacks of what the window kept, and a leak flame graph beside the JSON report); pympler (type sizes over the window).", flag_type=str, many=True, commands=(RUN,)),
    Setting("trim", "--trim", boolean, True, "Trim the C heap (malloc_trim) after reading RSS in each sample, to tell memory the allocator keeps from memory in use.", flag_type=bool, switch=True, commands=(RUN,)),
    Setting("tolerance", "--tolerance", tolerance_text, "50%,16KiB", "Gate: allowed excess over the baseline: a share, a size or both, e.g. 50%, 16KiB, 50%,16KiB.", flag_type=str, commands=(GATE,)),
    Setting("baseline", "--baseline", file_path, "reports/baseline.json", "Gate: the baseline file (ending in /: baseline.json in that folder; a [tool.memleak] value is relative to its pyproject.toml).", flag_type=str, commands=(GATE, BASELINE)),
    Setting("scenarios", "--scenario", spec_list, None, "Scenario to run (repeat for more): a name, path/to/file.py::name or package.module:name. [default: every built-in]", flag_type=str, many=True, short="-s", commands=(GATE, BASELINE)),
)
BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


def for_command(command: str) -> list[Setting]:
    """The settings whose flags *command* takes, in table order."""
    return [s for s in SETTINGS if command in s.commands]


@dataclass(frozen=True)
class RunSettings:
    """How to run and judge scenarios (every field comes from :data:`SETTINGS`).

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
        jobs: variants run at the same time, or ``auto`` (:func:`effective_jobs`).
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

    iterations: int = BY_NAME["iterations"].default
    warmup: int = BY_NAME["warmup"].default
    window: int = BY_NAME["window"].default
    frames: int = BY_NAME["frames"].default
    top: int = BY_NAME["top"].default
    size: str = BY_NAME["size"].default
    thresholds: Thresholds = field(default_factory=Thresholds)
    max_rss_bytes: int | None = None
    timeout_seconds: float | None = None
    jobs: int | str = AUTO
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
        """Return self when the values fit together (each alone was checked by its row).

        Raises:
            UsageError: one line naming the bad value and what to use instead.
        """
        needed = self.warmup + MIN_TREND_POINTS
        if self.iterations < needed:
            raise UsageError(
                f"--iterations {self.iterations} is too few for a trend: use at least {needed} "
                f"(warm-up {self.warmup} + {MIN_TREND_POINTS} measured)"
            )
        if self.max_iterations is not None and self.max_iterations < self.iterations:
            raise UsageError(f"--max-iterations {self.max_iterations} is under --iterations {self.iterations}: use at least {self.iterations} (--no-extend runs exactly --iterations)")
        if self.probes and self.window == 0:
            raise UsageError(f"--probe {self.probes[0]} needs an attribution window: use --window 1 or more")
        return self

    def as_dict(self) -> dict[str, Any]:
        """The settings as plain data for the report."""
        return asdict(self)


@dataclass(frozen=True)
class Resolved:
    """Everything :func:`resolve` decided: the run settings and the gate's values."""

    run: RunSettings
    tolerance: Tolerance
    baseline_path: Path
    scenarios: list[str] | None


def _from_flag(setting: Setting, value: Any) -> Any:
    try:
        return setting.check(list(value) if setting.many else value)
    except UsageError as exc:
        raise UsageError(f"{setting.flag}: {exc}") from None


def resolve(config: Config, flags: dict[str, Any] | None = None) -> Resolved:
    """Every setting: from its flag in *flags* (keyed by :attr:`Setting.param`; ``None`` or
    absent means not given), else from ``[tool.memleak]`` of *config*, else the default.

    Raises:
        UsageError: a flag value that does not parse or is out of range, or values that do not
            fit together (the message names those that came from the config file).
    """
    from memleak_cli.analysis.tolerance import parse_tolerance
    from memleak_cli.report.paths import output_path

    flags = flags or {}
    chosen: dict[str, Any] = {}
    from_config: list[str] = []
    for setting in SETTINGS:
        given = flags.get(setting.param)
        if setting.many and given is not None and not given:
            given = None  # a repeatable flag not used at all
        if given is not None:
            chosen[setting.name] = _from_flag(setting, given)
        elif setting.name in config.values:
            chosen[setting.name] = config.values[setting.name]
            from_config.append(setting.name)
        else:
            chosen[setting.name] = setting.default
    thresholds = Thresholds(**{s.target: float(chosen[s.name]) for s in SETTINGS if s.target})
    jobs = chosen["jobs"]
    # auto: as many variants at once as there are cores, each under its share of the cap
    max_rss = default_max_rss(usable_cores() if jobs == AUTO else int(jobs)) if chosen["max_rss"] is None else int(chosen["max_rss"])
    given_cap = flags.get("max_rss", config.values.get("max_rss"))
    if max_rss == 0 and given_cap is not None and any(c in "123456789" for c in str(given_cap).lower().split("e")[0]):
        raise UsageError(f"--max-rss {given_cap} rounds to 0 B: give a size such as 4GiB, or 0 for no cap")
    if 0 < max_rss < 1024 * 1024:
        raise UsageError(f"--max-rss {max_rss} B is below 1 MiB, too small for any Python process: give a size such as 4GiB, or 0 for no cap")
    # every RunSettings field named like its row is taken as checked; only the fields that are
    # computed from rows (thresholds, limits in bytes and seconds) are spelled out
    same_name = {f.name: chosen[f.name] for f in fields(RunSettings) if f.name in chosen}
    run = RunSettings(
        **same_name, thresholds=thresholds, max_rss_bytes=max_rss or None, timeout_seconds=float(chosen["timeout"]) or None,
    )
    try:
        run = run.validate()
    except UsageError as exc:
        if from_config:
            raise UsageError(f"{exc} ({', '.join(from_config)} from {config.path} [tool.memleak])") from None
        raise
    scenarios = chosen["scenarios"]
    return Resolved(
        run=run,
        tolerance=parse_tolerance(chosen["tolerance"]),
        baseline_path=output_path(chosen["baseline"], Path("baseline.json")),
        scenarios=list(scenarios) if scenarios is not None else None,
    )


def with_run(resolved: Resolved, **changes: Any) -> Resolved:
    """*resolved* with some :class:`RunSettings` fields replaced (validated again)."""
    return replace(resolved, run=replace(resolved.run, **changes).validate())


def markdown_table(settings: Sequence[Setting] = SETTINGS) -> str:
    """The README's settings table: flag, ``[tool.memleak]`` key, default, commands, meaning."""
    rows = ["| flag | `[tool.memleak]` key | default | commands | meaning |", "| --- | --- | --- | --- | --- |"]
    for s in settings:
        flag = f"`{s.flag}`" + (f", `{s.short}`" if s.short else "")
        key = f"`{s.name}`" if not s.name.startswith("thresholds.") else f"`{s.name.split('.')[1]}` in `[tool.memleak.thresholds]`"
        default = s.default_text or "see meaning"
        text = s.help.split(" [default:")[0]
        rows.append(f"| {flag} | {key} | {default} | {', '.join(s.commands)} | {text} |")
    return "\n".join(rows)


if __name__ == "__main__":  # python -m memleak_cli.settings: the README's settings table
    print(markdown_table())
