"""Watch the memory of a process (--pid) or command (after --) over a long run, live.

Reads RSS and USS of the process tree at an interval, judges growth with the trend test of
'memleak run' and writes a JSON report.

Exit status: 0 the watch completed (even when the process exited or Ctrl-C stopped it); 1 with
--fail-on-leak when memory grew steadily; 2 bad usage (no such PID, not ours to read, bad option).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Annotated

import typer
from rich.console import Console
from rich.live import Live

from memleak_cli.commands.output import render_guarded
from memleak_cli.commands.run import default_json_path
from memleak_cli.errors import EXIT_LEAK, UsageError
from memleak_cli.report.jsonio import check_writable
from memleak_cli.report.paths import output_path
from memleak_cli.report.watch_model import WatchPoint, write_watch_report
from memleak_cli.reporters.text import for_terminal
from memleak_cli.reporters.watch_view import live_panel, render_summary
from memleak_cli.units import parse_duration, parse_size
from memleak_cli.watch import Target, WatchSettings, prepare
from memleak_cli.watch import watch as watch_target


def _option(parse, text: str, flag: str):  # type: ignore[no-untyped-def]
    try:
        return parse(text)
    except UsageError as exc:
        raise UsageError(f"{flag}: {exc}") from exc


def watch(
    command: Annotated[
        list[str] | None,
        typer.Argument(help="Command to start and watch, after '--'.", show_default=False),
    ] = None,
    pid: Annotated[
        int | None,
        typer.Option(
            "--pid",
            min=1,
            help="Watch this running process (and its children).",
            show_default=False,
        ),
    ] = None,
    interval: Annotated[
        str, typer.Option(help="Time between readings, e.g. 500ms, 1s, 2m.")
    ] = "1s",
    duration: Annotated[
        str | None,
        typer.Option(
            help="How long to watch, e.g. 30s, 10m, 2h. [default: until the process exits or Ctrl-C]",
            show_default=False,
        ),
    ] = None,
    warmup: Annotated[
        str, typer.Option(help="First part of the watch kept out of the trend (start-up, imports).")
    ] = "0s",
    threshold: Annotated[
        str, typer.Option(help="RSS/USS growth per minute that counts as a leak, e.g. 1MiB.")
    ] = "1MiB",
    json_path: Annotated[
        str | None,
        typer.Option(
            "--json",
            help="Where to write the JSON report. [default: reports/memleak-watch-<target>-<time>.json]",
            show_default=False,
        ),
    ] = None,
    fail_on_leak: Annotated[
        bool, typer.Option("--fail-on-leak", help="Exit 1 when memory grew steadily.")
    ] = False,
) -> None:
    """Watch a running process (--pid) or a command (after --) over a long run: RSS and USS of its
    process tree, live, with the leak trend test of 'memleak run'; writes a JSON report."""
    if (pid is None) == (not command):
        raise UsageError(
            "give either --pid PID or a command after '--' (e.g. memleak watch -- python serve.py), not both"
        )
    settings = WatchSettings(
        interval=_option(parse_duration, interval, "--interval"),
        duration=None if duration is None else _option(parse_duration, duration, "--duration"),
        warmup=_option(parse_duration, warmup, "--warmup"),
        threshold_per_minute=float(_option(parse_size, threshold, "--threshold")),
    ).validate()
    name = (
        f"watch-{pid}"
        if pid is not None
        else f"watch-{os.path.basename((command or ['command'])[0])}"
    )
    out_path = output_path(json_path, default_json_path(name))
    check_writable(out_path)  # before any work: a watch must not end in a report it cannot write
    prepare()  # before the target starts, so that its first readings are not delayed
    target = Target.attach(pid) if pid is not None else Target.launch(command or [])
    argv = ["memleak", *sys.argv[1:]]
    console = Console(stderr=True)
    if console.is_terminal:
        with Live(
            live_panel([], target.describe()), console=console, refresh_per_second=4, transient=True
        ) as live:

            def show(points: Sequence[WatchPoint]) -> None:
                live.update(live_panel(points, target.describe()))

            report = watch_target(target, settings, command=argv, on_point=show)
    else:
        report = watch_target(target, settings, command=argv)
    write_watch_report(report, out_path)  # first: a view that fails must not cost the readings
    failed = render_guarded("the watch summary", lambda: render_summary(report, Console()), out_path)
    typer.echo(for_terminal(f"JSON report: {out_path}"))
    if failed is not None:
        raise failed
    if fail_on_leak and report.verdict == "LEAK":
        typer.echo(f"leak: {for_terminal(report.reason)}", err=True)
        raise typer.Exit(EXIT_LEAK)
