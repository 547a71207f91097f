"""Shared by the benchmark scripts: the machine they ran on, where results go, and the goals."""

from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from memleak_cli.units import format_bytes

REPORT_DIR = Path("reports") / "benchmarks"

# The goals every benchmark prints beside what it measured.
GOAL_PYTHON_BYTES = 256  # every Python-heap leak of at least this much per iteration …
GOAL_NATIVE_BYTES = 4 * 1024  # … and every native leak of at least this much …
GOAL_ITERATIONS = 20  # … caught at default settings when this many iterations are requested
GOAL_MEAN_ITERATIONS = 1.5  # mean iterations run over the corpus / requested
GOAL_DEFAULT_OVERHEAD = 1.3  # memleak run (default settings) wall time / bare loop
GOAL_ATTRIBUTION_OVERHEAD = 2.0  # traced iteration in the attribution window / untraced iteration


def cpu_model() -> str:
    """The ``model name`` line of /proc/cpuinfo (``platform.processor()`` elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, Any]:
    """Where and when the benchmark ran: CPUs usable, CPU model, Python, OS, load, UTC time."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = []
    return {
        "nproc": usable,
        "cpu_model": cpu_model(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "load_average_1_5_15": load,
        "date_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def machine_line(info: dict[str, Any]) -> str:
    """One line for the top of a table: ``2 × AMD EPYC, Python 3.11.7, 2026-11-29, load 4.8``."""
    load = info["load_average_1_5_15"]
    return (
        f"{info['nproc']} × {info['cpu_model']}, Python {info['python']}, {info['date_utc'][:16].replace('T', ' ')} UTC"
        + (f", load average {load[0]}" if load else "")
    )


def median(values: Sequence[float]) -> float | None:
    """The median of *values*, ``None`` when there are none."""
    return statistics.median(values) if values else None


def size_text(n: float | None) -> str:
    """Bytes for a table cell (``—`` for None)."""
    return "—" if n is None else format_bytes(n)


def out_path(name: str, given: str | None) -> Path:
    """*given*, or ``reports/benchmarks/<name>.json``."""
    return Path(given) if given else REPORT_DIR / f"{name}.json"


def markdown_table(table: Any) -> str:
    """A rich ``Table`` as a GitHub markdown table (title as a bold line above it; markup removed)."""
    from rich.text import Text

    def plain(cell: Any) -> str:
        text = cell.plain if isinstance(cell, Text) else Text.from_markup(str(cell)).plain
        return text.replace("|", "\\|").replace("\n", " ")

    columns = table.columns
    lines = [f"**{plain(table.title)}**", ""] if table.title else []
    lines.append("| " + " | ".join(plain(c.header) for c in columns) + " |")
    lines.append("|" + "---|" * len(columns))
    for row in zip(*(list(c.cells) for c in columns), strict=True):
        lines.append("| " + " | ".join(plain(cell) for cell in row) + " |")
    return "\n".join(lines) + "\n"


def write_markdown(path: Path, tables: Sequence[Any], notes: Sequence[str] = ()) -> Path:
    """Write *tables* (rich Tables) and *notes* as markdown next to the JSON (*path* with ``.md``)."""
    from memleak_cli.report.jsonio import write_text_atomic

    target = path.with_suffix(".md")
    write_text_atomic(target, "\n".join([*(markdown_table(t) for t in tables), *notes]) + "\n")
    return target
