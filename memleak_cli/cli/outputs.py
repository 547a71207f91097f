"""Where commands write their files: default report names, and checks made before any work."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from memleak_cli.errors import UsageError
from memleak_cli.report.jsonio import check_writable

REPORTS_DIR = Path("reports")


def default_json_path(name: str, now: dt.datetime | None = None) -> Path:
    """``reports/memleak-<name>-<UTC timestamp>.json`` (name made file-safe)."""
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
    return REPORTS_DIR / f"memleak-{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}-{stamp}.json"


def default_html_path(json_path: Path) -> Path:
    """The HTML file beside *json_path*: ``reports/run.json`` → ``reports/run.html``."""
    return json_path.with_suffix(".html")


def prepare_outputs(json_path: Path, *others: tuple[str, Path | None]) -> None:
    """Check, before any work, that every output can be written and that no two name the same
    file: a run must not end in a report it cannot write. *others* are ``(flag, path)`` pairs.

    Raises:
        UsageError: two outputs name the same file.
        ReportFileError: a path that cannot be written.
    """
    seen = {json_path.resolve(): "--json"}
    for flag, path in others:
        if path is None:
            continue
        if path.resolve() in seen:
            raise UsageError(f"{flag} and {seen[path.resolve()]} both name {path}: give each file its own name")
        seen[path.resolve()] = flag
    check_writable(json_path)
    for _, path in others:
        if path is not None:
            check_writable(path)
