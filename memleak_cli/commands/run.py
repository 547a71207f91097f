"""Run scenarios, leaky and fixed, each in its own process, and print the before/after diff report.

Exit status: 0 the run completed; 1 with --fail-on-leak when a variant expected to be clean is
not; 2 bad usage or input; 3 a scenario crashed (its traceback is in the report).
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from memleak_cli import engine
from memleak_cli.analysis.thresholds import Thresholds
from memleak_cli.discovery import builtin_scenarios, load_scenario
from memleak_cli.errors import EXIT_LEAK, EXIT_SCENARIO_CRASHED, UsageError
from memleak_cli.report.jsonio import check_writable, write_report
from memleak_cli.reporters.terminal import TerminalReporter
from memleak_cli.scenario import DEFAULT_VARIANTS, Scenario
from memleak_cli.settings import RunSettings
from memleak_cli.units import parse_size

REPORTS_DIR = Path("reports")


def default_json_path(name: str, now: dt.datetime | None = None) -> Path:
    """``reports/memleak-<name>-<UTC timestamp>.json`` (name made file-safe)."""
    stamp = (now or dt.datetime.now(dt.timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    return REPORTS_DIR / f"memleak-{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}-{stamp}.json"


def choose_variants(scenario: Scenario, variant: str) -> list[str]:
    """``both`` → leaky and fixed; ``all`` → every declared variant; else the one named.

    Raises:
        UsageError: the scenario has no such variant.
    """
    if variant == "both":
        return [v for v in DEFAULT_VARIANTS if v in scenario.variants] or list(scenario.variants)
    if variant == "all":
        return list(scenario.variants)
    if variant not in scenario.variants:
        raise UsageError(f"scenario {scenario.name!r} has no variant {variant!r}: use both, all or one of {', '.join(scenario.variants)}")
    return [variant]


def _size_option(text: Optional[str], default: float, flag: str) -> float:
    if text is None:
        return default
    try:
        return float(parse_size(text))
    except UsageError as exc:
        raise UsageError(f"{flag}: {exc}") from exc


def run(
    scenario: Annotated[Optional[str], typer.Argument(help="Scenario name (see 'memleak list').", show_default=False)] = None,
    all_: Annotated[bool, typer.Option("--all", help="Run every built-in scenario.")] = False,
    iterations: Annotated[Optional[int], typer.Option("--iterations", "-n", help="Iterations that make the trend, warm-up included. [default: 20]")] = None,
    warmup: Annotated[Optional[int], typer.Option(help="First iterations kept out of the trend. [default: 2]")] = None,
    variant: Annotated[str, typer.Option(help="leaky, fixed, both (leaky and fixed) or all declared variants.")] = "both",
    size: Annotated[Optional[str], typer.Option(help="Workload size profile: small, medium or large. [default: medium]")] = None,
    frames: Annotated[Optional[int], typer.Option(help="tracemalloc traceback depth in the attribution window; 0 turns tracemalloc off. [default: 5]")] = None,
    window: Annotated[Optional[int], typer.Option(help="Attribution iterations after the trend (plus one priming); 0 skips attribution. [default: 3]")] = None,
    top: Annotated[Optional[int], typer.Option(help="Allocation sites, types and retained objects to show. [default: 10]")] = None,
    threshold: Annotated[Optional[str], typer.Option(help="C heap growth per iteration that counts as a leak, e.g. 64KiB. [default: 64KiB]")] = None,
    rss_threshold: Annotated[Optional[str], typer.Option(help="RSS/USS growth per iteration that counts as a leak. [default: 512KiB]")] = None,
    objects_threshold: Annotated[Optional[float], typer.Option(help="gc-tracked objects per iteration that count as a leak. [default: 1]")] = None,
    blocks_threshold: Annotated[Optional[float], typer.Option(help="Python heap blocks per iteration that count as a leak. [default: 64]")] = None,
    retain_threshold: Annotated[Optional[str], typer.Option(help="Retained size after the work above which a flat variant RETAINS. [default: 16KiB]")] = None,
    json_path: Annotated[Optional[Path], typer.Option("--json", help="Where to write the JSON report. [default: reports/memleak-<name>-<time>.json]")] = None,
    fail_on_leak: Annotated[bool, typer.Option("--fail-on-leak", help="Exit 1 when a variant expected to be clean is not.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the verdict table and summary, no sites, types or fix source.")] = False,
    probe: Annotated[Optional[list[str]], typer.Option("--probe", help="Extra probe, repeatable: memray (native C/C++ stacks of what the window kept, and a leak flame graph beside the JSON report).")] = None,
    trim: Annotated[bool, typer.Option("--trim/--no-trim", help="Trim the C heap (malloc_trim) after reading RSS in each sample, to tell memory the allocator keeps from memory in use.")] = True,
) -> None:
    """Run scenarios, leaky and fixed, each in its own process, and print the before/after diff report."""
    if all_ == (scenario is not None):
        raise UsageError("name one scenario (see 'memleak list') or pass --all, not both")
    defaults = Thresholds()
    thresholds = Thresholds(
        heap_bytes=_size_option(threshold, defaults.heap_bytes, "--threshold"),
        rss_bytes=_size_option(rss_threshold, defaults.rss_bytes, "--rss-threshold"),
        gc_objects=defaults.gc_objects if objects_threshold is None else objects_threshold,
        py_blocks=defaults.py_blocks if blocks_threshold is None else blocks_threshold,
        retained_bytes=_size_option(retain_threshold, defaults.retained_bytes, "--retain-threshold"),
    )
    if thresholds.gc_objects < 0 or thresholds.py_blocks < 0:
        raise UsageError("--objects-threshold and --blocks-threshold must be 0 or more")
    base = RunSettings()
    settings = RunSettings(
        iterations=base.iterations if iterations is None else iterations,
        warmup=base.warmup if warmup is None else warmup,
        window=base.window if window is None else window,
        frames=base.frames if frames is None else frames,
        top=base.top if top is None else top,
        size=base.size if size is None else size,
        thresholds=thresholds,
        probes=tuple(dict.fromkeys(probe or ())),
        trim=trim,
    ).validate()
    # the spec string, not the scenario's name, is what the child process resolves again
    chosen = list(builtin_scenarios().items()) if all_ else [(scenario or "", load_scenario(scenario or ""))]
    plan = [(spec, s, choose_variants(s, variant)) for spec, s in chosen]
    out_path = json_path or default_json_path("all" if all_ else chosen[0][1].name)
    check_writable(out_path)  # before any work: a run must not end in a report it cannot write

    report = engine.new_report(["memleak", *sys.argv[1:]], settings)
    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task("starting", total=None)

        def on_variant(name: str, variant_name: str, total: int) -> None:
            progress.reset(task, total=total, description=f"{name} / {variant_name}")

        def on_sample(sample: object) -> None:
            if getattr(sample, "phase", "") != "baseline":
                progress.advance(task)

        for spec, scenario_obj, variants in plan:
            report.scenarios.append(
                engine.run_scenario(scenario_obj, spec, variants, settings, on_variant=on_variant, on_sample=on_sample, artifacts=out_path.with_suffix(""))
            )
    write_report(report, out_path)
    TerminalReporter(verbose=not quiet).render(report, sys.stdout)
    typer.echo(f"JSON report: {out_path}")
    if engine.crashed(report):
        for line in engine.crashed(report):
            typer.echo(f"error: scenario crashed: {line}", err=True)
        raise typer.Exit(EXIT_SCENARIO_CRASHED)
    failures = engine.expectation_failures(report)
    if fail_on_leak and failures:
        for line in failures:
            typer.echo(f"leak: {line}", err=True)
        raise typer.Exit(EXIT_LEAK)
