"""Record the gate's baseline (reports/baseline.json) from a fresh run or an existing JSON report."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from memleak_cli import gate as gate_logic
from memleak_cli.baseline import baseline_from_report, read_baseline, write_baseline
from memleak_cli.commands.gate import (
    BaselineOption,
    FramesOption,
    IterationsOption,
    JsonOption,
    ScenarioOption,
    SizeOption,
    WarmupOption,
    WindowOption,
    baseline_flag,
)
from memleak_cli.commands.progress import variant_progress
from memleak_cli.commands.run import default_json_path
from memleak_cli.config import load_config
from memleak_cli.discovery import builtin_scenarios
from memleak_cli.errors import UsageError
from memleak_cli.plan import plan
from memleak_cli.report.jsonio import check_writable, read_report, write_report
from memleak_cli.report.paths import output_path
from memleak_cli.reporters.text import for_terminal
from memleak_cli.settings import resolve_baseline_path, resolve_run_settings, resolve_scenarios

app = typer.Typer(help="Record and inspect the gate's baseline.", no_args_is_help=True, add_completion=False)


@app.command("update")
def update(
    scenario: ScenarioOption = None,
    size: SizeOption = None,
    iterations: IterationsOption = None,
    warmup: WarmupOption = None,
    window: WindowOption = None,
    frames: FramesOption = None,
    baseline: BaselineOption = None,
    from_report: Annotated[Path | None, typer.Option("--from-report", help="Record from this JSON run report (e.g. the gate's) instead of running.")] = None,
    json_path: JsonOption = None,
) -> None:
    """Run scenarios (the gate's set) and write their measures as the gate's baseline, atomically.

    Scenarios already in a baseline of the same size and not run now keep their entries.
    """
    config = load_config()
    baseline_path = resolve_baseline_path(baseline_flag(baseline), config)
    previous = read_baseline(baseline_path)
    check_writable(baseline_path)
    if from_report is not None:
        if scenario or any(v is not None for v in (size, iterations, warmup, window, frames, json_path)):
            raise UsageError("--from-report takes the report as it is: leave out --scenario, --size and the run options")
        report = read_report(Path(from_report))
    else:
        settings = resolve_run_settings(config, iterations=iterations, warmup=warmup, window=window, frames=frames, size=size)
        planned = plan(resolve_scenarios(scenario, config, lambda: list(builtin_scenarios())), "all", settings.size)
        out_path = output_path(json_path, default_json_path("baseline"))
        check_writable(out_path)
        with variant_progress(Console(stderr=True)) as (on_variant, on_sample):
            report = gate_logic.run_plan(planned, settings, ["memleak", *sys.argv[1:]], on_variant=on_variant, on_sample=on_sample)
        write_report(report, out_path)
        typer.echo(for_terminal(f"JSON report: {out_path}"))
    recorded = baseline_from_report(report, previous)
    write_baseline(recorded, baseline_path)
    count = sum(len(v) for v in recorded.entries.values())
    typer.echo(for_terminal(f"baseline: {baseline_path} — {count} variant(s) of {len(recorded.entries)} scenario(s) at size {recorded.size}"))
