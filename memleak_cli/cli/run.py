"""Run scenarios, leaky and fixed, each in its own process, and print the before/after diff report.

Flags left out fall back to ``[tool.memleak]`` in the nearest pyproject.toml, then to the defaults.

Exit status: 0 the run completed; 1 with --fail-on-leak when a variant expected to be clean is
not; 2 bad usage or input; 3 a scenario crashed or timed out (its traceback is in the report);
130 / 143 interrupted by SIGINT / SIGTERM (the report of what was measured is written, marked
incomplete).
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich.console import Console

from memleak_cli import engine
from memleak_cli.analysis.judge import expectation_failures
from memleak_cli.cli.options import settings_options
from memleak_cli.cli.outputs import default_json_path, output_path, prepare_outputs, render_guarded
from memleak_cli.cli.progress import variant_progress
from memleak_cli.config import load_config
from memleak_cli.errors import LeakFound, ReportFileError, UsageError
from memleak_cli.report.jsonio import check_writable, write_report
from memleak_cli.reporters.terminal import TerminalReporter
from memleak_cli.reporters.text import for_terminal
from memleak_cli.scenarios.discovery import builtin_scenarios
from memleak_cli.scenarios.plan import plan
from memleak_cli.settings import RUN, resolve


@settings_options(RUN)
def run(
    scenario: Annotated[str | None, typer.Argument(help="Scenario: a name (see 'memleak list'), path/to/file.py::name or package.module:name.", show_default=False)] = None,
    all_: Annotated[bool, typer.Option("--all", help="Run every built-in scenario.")] = False,
    variant: Annotated[str, typer.Option(help="leaky, fixed, both (leaky and fixed) or all declared variants.")] = "both",
    json_path: Annotated[str | None, typer.Option("--json", help="Where to write the JSON report; ending in / names a folder for the default file name. [default: reports/memleak-<name>-<time>.json]")] = None,
    html_path: Annotated[str | None, typer.Option("--html", help="Also write the self-contained HTML report (charts, sites, chains) to this file (ending in /: a folder).")] = None,
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
    out_path = output_path(json_path, default_json_path("all" if all_ else planned[0].scenario.name))
    check_writable(out_path)  # first: the HTML's default name comes from it (a folder has none)
    html = None if html_path is None else output_path(html_path, out_path.with_suffix(".html"))
    prepare_outputs(out_path, ("--html", html))

    with variant_progress(Console(stderr=True), settings) as (on_variant, on_sample):
        report = engine.run(planned, settings, command=["memleak", *sys.argv[1:]], jobs=settings.jobs, on_variant=on_variant,
                            on_sample=on_sample, artifacts=out_path.with_suffix(""), broken=broken)
    # the JSON report first: a view that fails must not cost what was measured
    try:
        write_report(report, out_path)
    except ReportFileError as exc:
        unwritten: ReportFileError | None = exc
    else:
        unwritten = None
    # shown even when the write failed: the terminal is then the only copy
    failed = render_guarded("the terminal report", lambda: TerminalReporter(verbose=not quiet).render(report, sys.stdout), None if unwritten else out_path)
    if unwritten is not None:
        raise unwritten
    typer.echo(for_terminal(f"JSON report: {out_path}"))
    if html is not None:
        from memleak_cli.reporters.html import write_html

        failed = failed or render_guarded("the HTML report", lambda: write_html(report, html), out_path)
        if not failed:
            typer.echo(for_terminal(f"HTML report: {html}"))
    if failed is not None:
        raise failed
    engine.raise_for_interruption(report, out_path)
    engine.raise_for_crashes(report)
    failures = expectation_failures(report)
    if fail_on_leak and failures:
        raise LeakFound("\n".join(failures))
