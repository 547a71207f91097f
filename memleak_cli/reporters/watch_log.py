"""``memleak watch`` without a terminal: one plain line per reading (or per N), for logs."""

from __future__ import annotations

from collections.abc import Sequence

from memleak_cli.report.watch_model import WatchPoint
from memleak_cli.units import format_bytes, format_duration
from memleak_cli.watch.analysis import recent_per_minute


def log_line(points: Sequence[WatchPoint], pid: int, recent: int = 60) -> str:
    """``memleak watch PID 4242 1m05s: RSS 45.2 MiB, USS 40.1 MiB, 1 process(es), USS trend
    +1.2 MiB/min (last 60)`` — the latest reading and the recent trend (``…`` until 3 readings)."""
    last = points[-1]
    parts = [f"RSS {format_bytes(last.rss_bytes)}"]
    if last.uss_bytes is not None:
        parts.append(f"USS {format_bytes(last.uss_bytes)}")
    parts.append(f"{last.processes} process(es)")
    metric = "uss_bytes" if last.uss_bytes is not None else "rss_bytes"
    rate = recent_per_minute(points, metric, recent)
    label = "USS" if metric == "uss_bytes" else "RSS"
    trend = "…" if rate is None else f"{format_bytes(rate, signed=True)}/min"
    parts.append(f"{label} trend {trend} (last {min(len(points), recent)})")
    return f"memleak watch PID {pid} {format_duration(last.seconds)}: " + ", ".join(parts)
