"""Run scenarios, leaky and fixed, each in its own process, and print the before/after diff report.

Flags left out fall back to ``[tool.memleak]`` in the nearest pyproject.toml, then to the defaults.

Exit status: 0 the run completed; 1 with --fail-on-leak when a variant expected to be clean is
not; 2 bad usage or input; 3 a scenario crashed or timed out (its traceback is in the report);
130 / 143 interrupted by SIGINT / SIGTERM (the report of what was measured is written, marked
incomplete).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from memleak_cli import engine
from memleak_cli.analysis.judge import expectation_failures
from memleak_cli.cli.options import settings_options
from memleak_cli.cli.outputs import default_json_path, prepare_outputs
from memleak_cli.cli.progress import variant_progress
from memleak_cli.config import load_config
from memleak_cli.errors import LeakFound, UsageError
from memleak_cli.report.jsonio import write_report
from memleak_cli.reporters.terminal import TerminalReporter
from memleak_cli.scenarios.discovery import builtin_scenarios
from memleak_cli.scenarios.plan import plan
from memleak_cli.settings import RUN, resolve


@settings_options(RUN)
def run(
    scenario: Annotated[str | None, typer.Argument(help="Scenario: a name (see 'memleak list'), path/to/file.py::name or package.module:name.", show_default=False)] = None,
    all_: Annotated[bool, typer.Option("--all", help="Run every built-in scenario.")] = False,
    variant: Annotated[str, typer.Option(help="leaky, fixed, both (leaky and fixed) or all declared variants.")] = "both",
    json_path: Annotated[Path | None, typer.Option("--json", help="Where to write the JSON report. [default: reports/memleak-<name>-<time>.json]")] = None,
    html_path: Annotated[Path | None, typer.Option("--html", help="Also write the self-contained HTML report (charts, sites, chains) to this file.")] = None,
    fail_on_leak: Annotated[bool, typer.Option("--fail-on-leak", help="Exit 1 when a variant expected to be clean is not.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the verdict table and summary, no sites, types or fix source.")] = False,
    *,
    flags: dict[str, Any],
) -> None:
    """Run scenarios, leaky and fixed, each in its own process, and print the before/after diff report."""
    if all_ == (scenario is not None):
        raise UsageError("name one scenario (see 'memleak list') or pass --all" + (", not both" if all_ else ""))
    settings = resolve(load_config(), flags).run
    broken: dict[str, str] = {}  # --all: a module that fails to import is reported, not fatal
    planned = plan(list(builtin_scenarios(broken)) if all_ else [scenario or ""], variant, settings.size)
    out_path = json_path or default_json_path("all" if all_ else planned[0].scenario.name)
    prepare_outputs(out_path, ("--html", html_path))

    with variant_progress(Console(stderr=True)) as (on_variant, on_sample):
        report = engine.run(planned, settings, command=["memleak", *sys.argv[1:]], jobs=settings.jobs, on_variant=on_variant,
                            on_sample=on_sample, artifacts=out_path.with_suffix(""), broken=broken)
    try:
        write_report(report, out_path)  # first: whatever happens while rendering, the measurements are kept
    finally:  # and a report that cannot be written is still shown
        TerminalReporter(verbose=not quiet).render(report, sys.stdout)
    typer.echo(f"JSON report: {out_path}")
    if html_path is not None:
        from memleak_cli.reporters.html import write_html

        write_html(report, html_path)
        typer.echo(f"HTML report: {html_path}")
    engine.raise_for_interruption(report, out_path)
    engine.raise_for_crashes(report)
    failures = expectation_failures(report)
    if fail_on_leak and failures:
        raise LeakFound("\n".join(failures))
