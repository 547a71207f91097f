"""Watch the memory of a process (--pid) or command (after --) over a long run, live.

Reads RSS and USS of the process tree at an interval, judges growth with the trend test of
'memleak run' and writes a JSON report.

Without a terminal it logs one line per reading (--log-every N: per N readings). --serve
HOST:PORT exposes the readings, growth per hour and verdict at /metrics for Prometheus.

Exit status: 0 the watch completed (even when the process exited, or Ctrl-C or SIGTERM stopped it); 1 with
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

from memleak_cli.cli.outputs import default_json_path, output_path, render_guarded
from memleak_cli.errors import EXIT_LEAK, UsageError
from memleak_cli.report.jsonio import check_writable
from memleak_cli.report.watch_model import WatchPoint, write_watch_report
from memleak_cli.reporters.text import for_terminal
from memleak_cli.reporters.watch_log import log_line
from memleak_cli.reporters.watch_view import live_panel, render_summary
from memleak_cli.units import parse_duration, parse_size
from memleak_cli.watch.export import WatchExport, sigterm_stops
from memleak_cli.watch.sampler import prepare
from memleak_cli.watch.sampler import watch as watch_target
from memleak_cli.watch.settings import WatchSettings
from memleak_cli.watch.target import Target


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
        str, typer.Option("--warmup-time", help="Time at the start kept out of the trend (start-up, imports), e.g. 30s; a duration, not iterations as in 'run'.")
    ] = "0s",
    threshold: Annotated[
        str, typer.Option("--rate-threshold", help="RSS/USS growth per minute that counts as a leak, e.g. 1MiB; a rate, not per iteration as in 'run'.")
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
    serve: Annotated[
        str | None,
        typer.Option(
            "--serve",
            help="Expose /metrics for Prometheus on HOST:PORT while watching, e.g. 127.0.0.1:9464.",
            show_default=False,
        ),
    ] = None,
    log_every: Annotated[
        int,
        typer.Option("--log-every", min=1, help="Without a terminal: one log line every N readings."),
    ] = 1,
) -> None:
    """Watch a running process (--pid) or a command (after --) over a long run: RSS and USS of its
    process tree, live (one line per reading in logs), with the leak trend test of 'memleak run';
    writes a JSON report, also on Ctrl-C or SIGTERM. --serve exposes it to Prometheus."""
    if (pid is None) == (not command):
        raise UsageError(
            "give either --pid PID or a command after '--' (e.g. memleak watch -- python serve.py), not both"
        )
    settings = WatchSettings(
        interval=_option(parse_duration, interval, "--interval"),
        duration=None if duration is None else _option(parse_duration, duration, "--duration"),
        warmup=_option(parse_duration, warmup, "--warmup-time"),
        threshold_per_minute=float(_option(parse_size, threshold, "--rate-threshold")),
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
    server = exported = None
    if serve is not None:
        from memleak_cli.export.prometheus import MetricsServer

        exported = WatchExport(settings, target.process)
        try:
            server = MetricsServer(exported.status, serve)
        except UsageError:
            target.stop()
            raise
        typer.echo(f"metrics: {server.url}", err=True)

    def export(points: Sequence[WatchPoint]) -> None:
        if exported is not None:
            exported.update(points)

    try:
        with sigterm_stops():
            if console.is_terminal:
                with Live(
                    live_panel([], target.describe()), console=console, refresh_per_second=4, transient=True
                ) as live:

                    def show(points: Sequence[WatchPoint]) -> None:
                        export(points)
                        live.update(live_panel(points, target.describe()))

                    report = watch_target(target, settings, command=argv, on_point=show)
            else:

                def log(points: Sequence[WatchPoint]) -> None:
                    export(points)
                    if len(points) % log_every == 0:
                        print(log_line(points, target.pid), file=sys.stderr, flush=True)

                report = watch_target(target, settings, command=argv, on_point=log)
    finally:
        if server is not None:
            server.close()
    write_watch_report(report, out_path)  # first: a view that fails must not cost the readings
    failed = render_guarded("the watch summary", lambda: render_summary(report, Console()), out_path)
    typer.echo(for_terminal(f"JSON report: {out_path}"))
    if failed is not None:
        raise failed
    if fail_on_leak and report.verdict == "LEAK":
        typer.echo(f"leak: {for_terminal(report.reason)}", err=True)
        raise typer.Exit(EXIT_LEAK)
