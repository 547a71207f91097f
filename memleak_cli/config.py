"""The ``[tool.memleak]`` table of the nearest ``pyproject.toml``, read and checked once.

The nearest file is the first ``pyproject.toml`` found walking up from the current folder; when
it has no ``[tool.memleak]`` table there is no configuration (a project boundary: memleak does
not look further up). Every key is checked on load — an unknown key or a bad value is one
:class:`~memleak_cli.errors.ReportFileError` line naming the file and the key.

Keys (all optional)::

    [tool.memleak]
    iterations = 20            # whole number, trend iterations (warm-up included)
    warmup = 2                 # whole number >= 0
    window = 3                 # whole number >= 0, attribution iterations
    max_iterations = 80        # whole number, most iterations of an undecided variant (default 4 × iterations)
    extend = true              # false: exactly `iterations` (--no-extend)
    cleanup = true             # false: no interpreter-cache clearing between iterations (--no-cleanup)
    frames = 5                 # 0..100, tracemalloc depth
    top = 10                   # whole number >= 1
    size = "medium"            # small, medium or large
    tolerance = "50%,16KiB"    # gate: allowed excess over the baseline
    baseline = "reports/baseline.json"   # gate: relative to this pyproject.toml's folder
    scenarios = ["optuna", "tests/leaks.py::PAIR"]   # gate and baseline update: what to run

    [tool.memleak.thresholds]
    heap = "8KiB"              # --threshold
    rss = "512KiB"             # --rss-threshold
    objects = 1                # --objects-threshold
    blocks = 64                # --blocks-threshold
    retain = "16KiB"           # --retain-threshold
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memleak_cli.errors import ReportFileError, UsageError
from memleak_cli.scenario import SIZES
from memleak_cli.tolerance import parse_tolerance
from memleak_cli.units import parse_size

FILE_NAME = "pyproject.toml"


def _whole(minimum: int, maximum: int | None = None) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise UsageError(f"must be a whole number, got {value!r}")
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"from {minimum} to {maximum}" if maximum is not None else f"{minimum} or more"
            raise UsageError(f"must be {bound}, got {value}")
        return value

    return check


def _size_profile(value: Any) -> str:
    if value not in SIZES:
        raise UsageError(f"must be one of {', '.join(SIZES)}, got {value!r}")
    return str(value)


def _bytes(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise UsageError(f"must be a size such as 64KiB or a number of bytes, got {value!r}")
    if isinstance(value, (int, float)) and value < 0:
        raise UsageError(f"must be 0 or more, got {value}")
    return float(parse_size(str(value)))


def _count(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise UsageError(f"must be a number, 0 or more, got {value!r}")
    return float(value)


def _tolerance(value: Any) -> str:
    parse_tolerance(value)  # checked now, kept as text so the flag and the key parse alike
    return str(value)


def _spec_list(value: Any) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise UsageError(f"must be a non-empty list of scenario names or specs, got {value!r}")
    return list(value)


def _path(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise UsageError(f"must be a file path, got {value!r}")
    return value


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise UsageError(f"must be true or false, got {value!r}")
    return value


KEYS: dict[str, Callable[[Any], Any]] = {
    "iterations": _whole(1),
    "warmup": _whole(0),
    "window": _whole(0),
    "max_iterations": _whole(1),
    "extend": _flag,
    "cleanup": _flag,
    "frames": _whole(0, 100),
    "top": _whole(1),
    "size": _size_profile,
    "tolerance": _tolerance,
    "baseline": _path,
    "scenarios": _spec_list,
}
THRESHOLD_KEYS: dict[str, Callable[[Any], Any]] = {
    "heap": _bytes,
    "rss": _bytes,
    "objects": _count,
    "blocks": _count,
    "retain": _bytes,
}


@dataclass(frozen=True)
class Config:
    """Checked ``[tool.memleak]`` values.

    Attributes:
        path: the pyproject.toml read, or ``None`` when there is no configuration.
        values: key → checked value (sizes in bytes as floats, tolerance as text).
        thresholds: ``[tool.memleak.thresholds]`` key → checked value.
    """

    path: Path | None = None
    values: dict[str, Any] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)


def find_pyproject(start: Path | None = None) -> Path | None:
    """The nearest ``pyproject.toml`` in *start* (default: the current folder) or above it."""
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        path = candidate / FILE_NAME
        if path.is_file():
            return path
    return None


def _check_table(table: Any, keys: dict[str, Callable[[Any], Any]], path: Path, name: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ReportFileError(f"{path}: [{name}] must be a table, got {table!r}")
    checked = {}
    for key, value in table.items():
        if key == "thresholds" and name == "tool.memleak":
            continue
        if key not in keys:
            raise ReportFileError(f"{path}: unknown key {key!r} in [{name}]: use {', '.join(sorted(keys))}")
        try:
            checked[key] = keys[key](value)
        except UsageError as exc:
            raise ReportFileError(f"{path}: [{name}] {key} {exc}") from None
    return checked


def load_config(start: Path | None = None) -> Config:
    """Read and check ``[tool.memleak]`` of the nearest ``pyproject.toml``.

    Returns an empty :class:`Config` when there is no file or no table.

    Raises:
        ReportFileError: unreadable file, invalid TOML, an unknown key or a bad value.
    """
    path = find_pyproject(start)
    if path is None:
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ReportFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ReportFileError(f"{path}: not valid TOML: {exc}") from exc
    table = data.get("tool", {}).get("memleak") if isinstance(data.get("tool"), dict) else None
    if table is None:
        return Config()
    values = _check_table(table, KEYS, path, "tool.memleak")
    thresholds = _check_table(table.get("thresholds", {}), THRESHOLD_KEYS, path, "tool.memleak.thresholds")
    if "baseline" in values:
        values["baseline"] = str(path.parent / values["baseline"])
    return Config(path=path, values=values, thresholds=thresholds)
