"""How ``memleak watch`` is shown: the live panel while sampling and the summary at the end."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from memleak_cli.report.watch_model import WatchPoint, WatchReport
from memleak_cli.reporters.terminal import verdict_text
from memleak_cli.reporters.text import for_terminal, terminal_text
from memleak_cli.units import format_bytes, format_duration
from memleak_cli.watch.analysis import METRIC_LABEL, recent_per_minute

_BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float], width: int = 60) -> str:
    """The last *width* values as block characters, lowest ``▁`` to highest ``█``."""
    tail = list(values)[-width:]
    if not tail:
        return ""
    low, high = min(tail), max(tail)
    if high == low:
        return _BARS[0] * len(tail)
    scale = (len(_BARS) - 1) / (high - low)
    return "".join(_BARS[round((v - low) * scale)] for v in tail)


def _target_line(target: dict[str, object]) -> str:
    parts = target.get("command") or []
    command = " ".join(str(part) for part in parts) if isinstance(parts, list) else str(parts)
    return for_terminal(f"PID {target.get('pid')}: {command[:70]}")


def live_panel(
    points: Sequence[WatchPoint], target: dict[str, object], recent: int = 60
) -> RenderableType:
    """The live view: current and peak RSS/USS of the tree, the trend per minute over the last
    *recent* readings, and a sparkline of each."""
    table = Table(box=None, pad_edge=False)
    for name in ("", "current", "peak", f"trend (last {recent})", "history"):
        table.add_column(name)
    for metric in ("rss_bytes", "uss_bytes"):
        values = [getattr(p, metric) for p in points if getattr(p, metric) is not None]
        if not values:
            continue
        rate = recent_per_minute(points, metric, recent)
        table.add_row(
            METRIC_LABEL[metric],
            format_bytes(values[-1]),
            format_bytes(max(values)),
            "…" if rate is None else f"{format_bytes(rate, signed=True)}/min",
            Text(sparkline(values, 40), style="cyan"),
        )
    last = points[-1] if points else None
    footer = (
        ""
        if last is None
        else f"{format_duration(last.seconds)} · {len(points)} readings · {last.processes} process(es) · Ctrl-C stops and writes the report"
    )
    return Panel(
        Group(table, Text(footer, style="dim")),
        title=Text(f"memleak watch — {_target_line(target)}"),
        title_align="left",
    )


def _signal_name(number: int) -> str:
    import signal

    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def render_summary(report: WatchReport, console: Console) -> None:
    """The end of a watch: verdict and reason, how it ended, peaks, and one row per trend."""
    ended = {
        "duration": "duration reached",
        "exited": "process exited",
        "interrupted": "interrupted",
    }.get(report.ended, for_terminal(report.ended))
    if report.exit_code is not None and report.exit_code < 0:
        stopped = (
            "stopped by memleak, "
            if report.ended != "exited" and report.target.get("launched")
            else ""
        )
        ended += f" ({stopped}killed by signal {_signal_name(-report.exit_code)})"
    elif report.exit_code is not None:
        ended += f" (exit status {report.exit_code})"
    console.print(
        Text.assemble(
            ("memleak watch ", "bold"),
            verdict_text(report.verdict),
            f"  {_target_line(report.target)}",
        )
    )
    console.print(terminal_text(report.reason))
    console.print(
        terminal_text(f"{len(report.points)} readings over {format_duration(report.seconds)}, {ended}; "
        f"peak RSS {format_bytes(report.peak_rss_bytes)}, peak USS {format_bytes(report.peak_uss_bytes)}")
    )
    if not report.trends:
        return
    table = Table(title_justify="left")
    for name in (
        "metric",
        "growth/min [95% interval]",
        "2nd half/min",
        "threshold/min",
        "steps up",
        "leak",
    ):
        table.add_column(name)
    for t in report.trends:
        table.add_row(
            terminal_text(METRIC_LABEL.get(t.metric, t.metric) + " (tree)"),
            f"{format_bytes(t.per_minute, signed=True)} [{format_bytes(t.low_per_minute, signed=True)}, {format_bytes(t.high_per_minute, signed=True)}]",
            format_bytes(t.late_per_minute, signed=True),
            format_bytes(t.threshold_per_minute),
            f"{t.trend.positive_deltas}/{t.trend.deltas}",
            Text("yes", style="red") if t.leaking else "no",
        )
    console.print(table)
