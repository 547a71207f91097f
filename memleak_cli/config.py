"""The ``[tool.memleak]`` table of the nearest ``pyproject.toml``, read and checked once.

The nearest file is the first ``pyproject.toml`` found walking up from the current folder; when
it has no ``[tool.memleak]`` table there is no configuration (a project boundary: memleak does
not look further up). Every key is a row of :data:`memleak_cli.settings.SETTINGS` and is checked
on load by that row's check — an unknown key or a bad value is one
:class:`~memleak_cli.errors.ReportFileError` line naming the file and the key. Thresholds sit in
their own table::

    [tool.memleak]
    iterations = 20
    size = "small"
    scenarios = ["optuna", "tests/leaks.py::PAIR"]
    baseline = "reports/baseline.json"   # relative to this pyproject.toml's folder

    [tool.memleak.thresholds]
    heap = "8KiB"

The README's settings table lists every key (``python -m memleak_cli.settings`` prints it).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memleak_cli.errors import ReportFileError, UsageError
from memleak_cli.report.documents import read_document_text
from memleak_cli.settings import SETTINGS, Setting

FILE_NAME = "pyproject.toml"


@dataclass(frozen=True)
class Config:
    """Checked ``[tool.memleak]`` values.

    Attributes:
        path: the pyproject.toml read, or ``None`` when there is no configuration.
        values: setting name → checked value (sizes in bytes as floats, tolerance as text);
            thresholds are named ``thresholds.<key>``.
    """

    path: Path | None = None
    values: dict[str, Any] = field(default_factory=dict)


def find_pyproject(start: Path | None = None) -> Path | None:
    """The nearest ``pyproject.toml`` in *start* (default: the current folder) or above it."""
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        path = candidate / FILE_NAME
        if path.is_file():
            return path
    return None


def _check_table(table: Any, keys: dict[str, Setting], path: Path, name: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ReportFileError(f"{path}: [{name}] must be a table, got {table!r}")
    checked = {}
    for key, value in table.items():
        if key == "thresholds" and name == "tool.memleak":
            continue
        if key not in keys:
            raise ReportFileError(f"{path}: unknown key {key!r} in [{name}]: use {', '.join(sorted(keys))}")
        try:
            checked[keys[key].name] = keys[key].check(value)
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
    try:  # the file checks of every document memleak reads: a FIFO must not block, bytes must be UTF-8
        text = read_document_text(path, "config")
    except FileNotFoundError as exc:
        raise ReportFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError, ValueError) as exc:  # ValueError: an integer of 4300+ digits
        raise ReportFileError(f"{path}: not valid TOML: {exc}") from exc
    table = data.get("tool", {}).get("memleak") if isinstance(data.get("tool"), dict) else None
    if table is None:
        return Config()
    top = {s.name: s for s in SETTINGS if not s.name.startswith("thresholds.")}
    thresholds = {s.name.split(".", 1)[1]: s for s in SETTINGS if s.name.startswith("thresholds.")}
    values = _check_table(table, top, path, "tool.memleak")
    values.update(_check_table(table.get("thresholds", {}), thresholds, path, "tool.memleak.thresholds"))
    if "baseline" in values:
        values["baseline"] = str(path.parent / values["baseline"])
    return Config(path=path, values=values)
