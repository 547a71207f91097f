"""CI regression gate: run scenarios; fail when a variant expected CLEAN is not, or growth or retained size exceeds the baseline by more than the tolerance.

Exit status: 0 every check passed; 1 a check failed; 2 bad usage, config or baseline file;
3 a scenario crashed; 130 / 143 interrupted by SIGINT / SIGTERM (the report of what was
measured is written, marked incomplete). Without a baseline file only expectations are checked
(run 'memleak baseline update' to record one).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from memleak_cli import engine
from memleak_cli.analysis.gate import check_baseline_size, evaluate
from memleak_cli.cli.options import settings_options
from memleak_cli.cli.outputs import default_json_path, output_path, prepare_outputs, render_guarded
from memleak_cli.cli.progress import variant_progress
from memleak_cli.config import load_config
from memleak_cli.errors import LeakFound, ScenarioCrashed
from memleak_cli.report.baseline import read_baseline
from memleak_cli.report.jsonio import write_report
from memleak_cli.reporters.gate import summary_lines, write_junit
from memleak_cli.reporters.terminal import TerminalReporter
from memleak_cli.reporters.text import for_terminal
from memleak_cli.scenarios.discovery import builtin_scenarios
from memleak_cli.scenarios.plan import plan
from memleak_cli.settings import GATE, resolve


@settings_options(GATE)
def gate(
    junit: Annotated[str | None, typer.Option("--junit", help="Also write JUnit XML here: one testcase per scenario × variant (ending in /: junit.xml in that folder).")] = None,
    json_path: Annotated[str | None, typer.Option("--json", help="Where to write the JSON run report; ending in / names a folder for the default file name. [default: reports/memleak-gate-<time>.json]")] = None,
    *,
    flags: dict[str, Any],
) -> None:
    """CI regression gate: run scenarios; fail when a variant expected CLEAN is not, or growth or
    retained size exceeds the baseline by more than the tolerance."""
    resolved = resolve(load_config(), flags)
    settings = resolved.run
    recorded = read_baseline(resolved.baseline_path)
    check_baseline_size(recorded, settings.size, resolved.baseline_path)
    planned = plan(resolved.scenarios or list(builtin_scenarios()), "all", settings.size)
    out_path = output_path(json_path, default_json_path("gate"))
    junit_path = None if junit is None else output_path(junit, Path("junit.xml"))
    prepare_outputs(out_path, ("--junit", junit_path))

    with variant_progress(Console(stderr=True), settings) as (on_variant, on_sample):
        report = engine.run(planned, settings, command=["memleak", *sys.argv[1:]], jobs=settings.jobs,
                            on_variant=on_variant, on_sample=on_sample, artifacts=out_path.with_suffix(""))
    write_report(report, out_path)  # first: a view that fails must not cost what was measured
    result = evaluate(report, recorded, resolved.tolerance, resolved.baseline_path)
    if junit_path is not None:
        write_junit(result, junit_path)
    failed = None
    if sys.stdout.isatty():
        failed = render_guarded("the terminal report", lambda: TerminalReporter(verbose=False).render(report, sys.stdout), out_path)
    for line in summary_lines(result):
        typer.echo(for_terminal(line))  # scenario names and reasons come from the measured code
    typer.echo(for_terminal(f"JSON report: {out_path}" + (f"; JUnit XML: {junit_path}" if junit_path is not None else "")))
    if failed is not None:
        raise failed
    engine.raise_for_interruption(report, out_path)
    if any(c.crashed for c in result.checks):
        raise ScenarioCrashed(f"{sum(c.crashed for c in result.checks)} of {len(result.checks)} checks crashed")
    if not result.passed:
        raise LeakFound(f"{len(result.failed)} of {len(result.checks)} checks failed")
