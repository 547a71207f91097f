"""CI regression gate: run scenarios; fail when a variant expected CLEAN is not, or growth or retained size exceeds the baseline by more than the tolerance.

Exit status: 0 every check passed; 1 a check failed; 2 bad usage, config or baseline file;
3 a scenario crashed. Without a baseline file only expectations are checked (run
'memleak baseline update' to record one).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from memleak_cli import gate as gate_logic
from memleak_cli.baseline import read_baseline
from memleak_cli.commands.progress import variant_progress
from memleak_cli.commands.run import default_json_path
from memleak_cli.config import load_config
from memleak_cli.discovery import builtin_scenarios
from memleak_cli.errors import EXIT_LEAK, EXIT_SCENARIO_CRASHED, UsageError
from memleak_cli.plan import plan
from memleak_cli.report.jsonio import check_writable, write_report
from memleak_cli.reporters.terminal import TerminalReporter
from memleak_cli.settings import (
    resolve_baseline_path,
    resolve_run_settings,
    resolve_scenarios,
    resolve_tolerance,
)

ScenarioOption = Annotated[list[str] | None, typer.Option("--scenario", "-s", help="Scenario to run (repeat for more): a name, path/to/file.py::name or package.module:name. [default: 'scenarios' in [tool.memleak], else every built-in]")]
SizeOption = Annotated[str | None, typer.Option(help="Workload size profile: small, medium or large. [default: medium]")]
IterationsOption = Annotated[int | None, typer.Option("--iterations", "-n", help="Iterations that make the trend, warm-up included. [default: 20]")]
WarmupOption = Annotated[int | None, typer.Option(help="First iterations kept out of the trend. [default: 2]")]
WindowOption = Annotated[int | None, typer.Option(help="Attribution iterations after the trend; 0 skips attribution (and the retained-size check). [default: 3]")]
FramesOption = Annotated[int | None, typer.Option(help="tracemalloc depth in the window; 0 measures growth by the C heap instead. [default: 5]")]
BaselineOption = Annotated[Path | None, typer.Option("--baseline", help="Baseline file. [default: 'baseline' in [tool.memleak], else reports/baseline.json]")]
MaxIterationsOption = Annotated[int | None, typer.Option("--max-iterations", help="Most iterations of a variant whose growth is undecided (more run, doubling, until it stops or keeps growing). [default: 4 × --iterations]")]
ExtendOption = Annotated[bool | None, typer.Option("--extend/--no-extend", help="Run more iterations when growth is undecided; --no-extend runs exactly --iterations. [default: extend]")]
CleanupOption = Annotated[bool | None, typer.Option("--cleanup/--no-cleanup", help="Clear the interpreter's caches (re, type, ABC, linecache, typing…) after every iteration, as CPython's -R does. [default: cleanup]")]
JsonOption = Annotated[Path | None, typer.Option("--json", help="Where to write the JSON run report. [default: reports/memleak-<name>-<time>.json]")]


def gate(
    scenario: ScenarioOption = None,
    size: SizeOption = None,
    iterations: IterationsOption = None,
    warmup: WarmupOption = None,
    window: WindowOption = None,
    frames: FramesOption = None,
    max_iterations: MaxIterationsOption = None,
    extend: ExtendOption = None,
    cleanup: CleanupOption = None,
    tolerance: Annotated[str | None, typer.Option(help="Allowed excess over the baseline: a share, a size or both, e.g. 50%, 16KiB, 50%,16KiB. [default: 50%,16KiB]")] = None,
    baseline: BaselineOption = None,
    junit: Annotated[Path | None, typer.Option("--junit", help="Also write JUnit XML here: one testcase per scenario × variant.")] = None,
    json_path: JsonOption = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Variants to run at the same time, each in its own process.")] = 1,
) -> None:
    """CI regression gate: run scenarios; fail when a variant expected CLEAN is not, or growth or
    retained size exceeds the baseline by more than the tolerance."""
    if jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {jobs}")
    config = load_config()
    settings = resolve_run_settings(
        config, iterations=iterations, warmup=warmup, window=window, frames=frames, size=size,
        max_iterations=max_iterations, extend=extend, cleanup=cleanup,
    )
    allowed = resolve_tolerance(tolerance, config)
    baseline_path = resolve_baseline_path(baseline, config)
    recorded = read_baseline(baseline_path)
    gate_logic.check_baseline_size(recorded, settings.size, baseline_path)
    planned = plan(resolve_scenarios(scenario, config, lambda: list(builtin_scenarios())), "all", settings.size)
    out_path = json_path or default_json_path("gate")
    check_writable(out_path)
    if junit is not None:
        check_writable(junit)

    console = Console(stderr=True)
    with variant_progress(console) as (on_variant, on_sample):
        report = gate_logic.run_plan(planned, settings, ["memleak", *sys.argv[1:]], jobs=jobs, on_variant=on_variant, on_sample=on_sample)
    write_report(report, out_path)
    result = gate_logic.evaluate(report, recorded, allowed, baseline_path)
    if junit is not None:
        gate_logic.write_junit(result, junit)
    if sys.stdout.isatty():
        TerminalReporter(verbose=False).render(report, sys.stdout)
    for line in gate_logic.summary_lines(result):
        typer.echo(line)
    typer.echo(f"JSON report: {out_path}" + (f"; JUnit XML: {junit}" if junit is not None else ""))
    if any(c.crashed for c in result.checks):
        raise typer.Exit(EXIT_SCENARIO_CRASHED)
    if not result.passed:
        raise typer.Exit(EXIT_LEAK)
