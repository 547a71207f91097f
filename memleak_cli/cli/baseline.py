"""Record the gate's baseline (reports/baseline.json) from a fresh run or an existing JSON report."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from memleak_cli import engine
from memleak_cli.cli.options import settings_options
from memleak_cli.cli.outputs import default_json_path, output_path, prepare_outputs
from memleak_cli.cli.progress import variant_progress
from memleak_cli.config import load_config
from memleak_cli.errors import UsageError
from memleak_cli.report.baseline import baseline_from_report, read_baseline, write_baseline
from memleak_cli.report.jsonio import check_writable, read_report, write_report
from memleak_cli.reporters.text import for_terminal
from memleak_cli.scenarios.discovery import builtin_scenarios
from memleak_cli.scenarios.plan import plan
from memleak_cli.settings import BASELINE, resolve

app = typer.Typer(help="Record and inspect the gate's baseline.", no_args_is_help=True, add_completion=False)


@app.command("update")
@settings_options(BASELINE)
def update(
    from_report: Annotated[str | None, typer.Option("--from-report", help="Record from this JSON run report (e.g. the gate's) instead of running.")] = None,
    json_path: Annotated[str | None, typer.Option("--json", help="Where to write the JSON run report; ending in / names a folder for the default file name. [default: reports/memleak-baseline-<time>.json]")] = None,
    *,
    flags: dict[str, Any],
) -> None:
    """Run scenarios (the gate's set) and write their measures as the gate's baseline, atomically.

    Scenarios already in a baseline of the same size and not run now keep their entries.
    """
    resolved = resolve(load_config(), flags)
    baseline_path = resolved.baseline_path
    previous = read_baseline(baseline_path)
    check_writable(baseline_path)
    if from_report is not None:
        given = [name for name, value in flags.items() if value not in (None, []) and name != "baseline"]
        if given or json_path is not None:
            raise UsageError("--from-report takes the report as it is: leave out --scenario, --size and the run options")
        report = read_report(Path(from_report))
    else:
        settings = resolved.run
        planned = plan(resolved.scenarios or list(builtin_scenarios()), "all", settings.size)
        out_path = output_path(json_path, default_json_path("baseline"))
        prepare_outputs(out_path, ("--baseline", baseline_path))
        with variant_progress(Console(stderr=True), settings) as (on_variant, on_sample):
            report = engine.run(planned, settings, command=["memleak", *sys.argv[1:]], jobs=settings.jobs,
                                on_variant=on_variant, on_sample=on_sample, artifacts=out_path.with_suffix(""))
        write_report(report, out_path)
        typer.echo(for_terminal(f"JSON report: {out_path}"))
        engine.raise_for_interruption(report, out_path)  # a partial run records no baseline
    recorded = baseline_from_report(report, previous)
    write_baseline(recorded, baseline_path)
    count = sum(len(v) for v in recorded.entries.values())
    typer.echo(for_terminal(f"baseline: {baseline_path} — {count} variant(s) of {len(recorded.entries)} scenario(s) at size {recorded.size}"))
