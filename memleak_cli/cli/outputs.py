"""Where commands write their files, and how they show them: default report names, checks made
before any work, and rendering that never costs the measurements (the JSON report is written
first; a view that fails is one line)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

from memleak_cli.errors import MemleakError, ReportRenderError, UsageError
from memleak_cli.report.jsonio import check_writable
from memleak_cli.report.paths import output_path

REPORTS_DIR = Path("reports")

__all__ = ["default_html_path", "default_json_path", "output_path", "prepare_outputs", "render_guarded"]


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
        ReportFileError: a path that cannot be written (a folder, a device, a FIFO, a source file…).
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


def render_guarded(what: str, render: Callable[[], None], written: Path | None) -> ReportRenderError | None:
    """Call *render* (the terminal report, the HTML page); return the failure as one
    :class:`~memleak_cli.errors.ReportRenderError` line instead of raising it, so the caller can
    finish its other outputs first. *written* is the JSON report already on disk (named in the
    message). A :class:`~memleak_cli.errors.MemleakError` (an HTML file that cannot be written)
    is not a rendering failure and is raised as it is, as is ``KeyboardInterrupt``.
    """
    try:
        render()
    except MemleakError:
        raise
    except Exception as exc:  # noqa: BLE001 - a view must not lose a run: said in one line
        kept = f"; the JSON report is written: {written}" if written is not None else ""
        message = str(exc).splitlines()[0] if str(exc) else ""
        return ReportRenderError(f"cannot show {what}: {type(exc).__name__}: {message[:300]}{kept}")
    return None
