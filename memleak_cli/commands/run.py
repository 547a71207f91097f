"""Run scenarios, leaky and fixed, each in its own process, and print the before/after diff report.

Flags left out fall back to ``[tool.memleak]`` in the nearest pyproject.toml, then to the defaults.

Exit status: 0 the run completed; 1 with --fail-on-leak when a variant expected to be clean is
not; 2 bad usage or input; 3 a scenario crashed or timed out (its traceback is in the report);
130 / 143 interrupted by SIGINT / SIGTERM (the report of what was measured is written, marked
incomplete).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from memleak_cli import engine
from memleak_cli.commands.progress import variant_progress
from memleak_cli.config import load_config
from memleak_cli.discovery import builtin_scenarios
from memleak_cli.errors import EXIT_LEAK, EXIT_SCENARIO_CRASHED, Interrupted, UsageError
from memleak_cli.interrupts import StopOnSignal
from memleak_cli.plan import choose_variants, plan  # noqa: F401  (choose_variants: re-exported)
from memleak_cli.report.jsonio import check_writable, write_report
from memleak_cli.reporters.terminal import TerminalReporter
from memleak_cli.settings import resolve_limits, resolve_run_settings

REPORTS_DIR = Path("reports")


MaxIterationsOption = Annotated[int | None, typer.Option("--max-iterations", help="Most iterations of a variant whose growth is undecided (more run, doubling, until it stops or keeps growing). [default: 4 × --iterations]")]
ExtendOption = Annotated[bool | None, typer.Option("--extend/--no-extend", help="Run more iterations when growth is undecided; --no-extend runs exactly --iterations. [default: extend]")]
CleanupOption = Annotated[bool | None, typer.Option("--cleanup/--no-cleanup", help="Clear the interpreter's caches (re, type, ABC, linecache, typing…) after every iteration, as CPython's -R does. [default: cleanup]")]

def default_json_path(name: str, now: dt.datetime | None = None) -> Path:
    """``reports/memleak-<name>-<UTC timestamp>.json`` (name made file-safe)."""
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
    return REPORTS_DIR / f"memleak-{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}-{stamp}.json"


def run(
    scenario: Annotated[str | None, typer.Argument(help="Scenario: a name (see 'memleak list'), path/to/file.py::name or package.module:name.", show_default=False)] = None,
    all_: Annotated[bool, typer.Option("--all", help="Run every built-in scenario.")] = False,
    iterations: Annotated[int | None, typer.Option("--iterations", "-n", help="Iterations that make the trend, warm-up included. [default: 20]")] = None,
    warmup: Annotated[int | None, typer.Option(help="First iterations kept out of the trend. [default: 2]")] = None,
    variant: Annotated[str, typer.Option(help="leaky, fixed, both (leaky and fixed) or all declared variants.")] = "both",
    size: Annotated[str | None, typer.Option(help="Workload size profile: small, medium or large. [default: medium]")] = None,
    frames: Annotated[int | None, typer.Option(help="tracemalloc traceback depth in the attribution window; 0 turns tracemalloc off. [default: 5]")] = None,
    window: Annotated[int | None, typer.Option(help="Attribution iterations after the trend (plus one priming); 0 skips attribution. [default: 3]")] = None,
    top: Annotated[int | None, typer.Option(help="Allocation sites, types and retained objects to show. [default: 10]")] = None,
    threshold: Annotated[str | None, typer.Option(help="C heap growth per iteration that counts as a leak, e.g. 4KiB. [default: 8KiB]")] = None,
    rss_threshold: Annotated[str | None, typer.Option(help="RSS/USS growth per iteration that counts as a leak. [default: 512KiB]")] = None,
    objects_threshold: Annotated[float | None, typer.Option(help="gc-tracked objects per iteration that count as a leak. [default: 1]")] = None,
    blocks_threshold: Annotated[float | None, typer.Option(help="Python heap blocks per iteration that count as a leak. [default: 64]")] = None,
    retain_threshold: Annotated[str | None, typer.Option(help="Retained size after the work above which a flat variant RETAINS. [default: 16KiB]")] = None,
    max_rss: Annotated[str | None, typer.Option("--max-rss", help="Stop a variant whose process tree's RSS passes this size, e.g. 4GiB; it shows as LEAK (capped). 0 turns the cap off. [default: half the machine's memory, divided by --jobs]")] = None,
    timeout: Annotated[float | None, typer.Option(help="Kill a variant, with its child processes, after this many seconds; it shows as ERROR (timeout). 0: no limit. [default: 3600]")] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Variants to run at the same time, each in its own process.")] = 1,
    json_path: Annotated[Path | None, typer.Option("--json", help="Where to write the JSON report. [default: reports/memleak-<name>-<time>.json]")] = None,
    html_path: Annotated[Path | None, typer.Option("--html", help="Also write the self-contained HTML report (charts, sites, chains) to this file.")] = None,
    fail_on_leak: Annotated[bool, typer.Option("--fail-on-leak", help="Exit 1 when a variant expected to be clean is not.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the verdict table and summary, no sites, types or fix source.")] = False,
    probe: Annotated[list[str] | None, typer.Option("--probe", help="Extra probe, repeatable: memray (native C/C++ stacks of what the window kept, and a leak flame graph beside the JSON report); pympler (type sizes over the window).")] = None,
    max_iterations: MaxIterationsOption = None,
    extend: ExtendOption = None,
    cleanup: CleanupOption = None,
    trim: Annotated[bool, typer.Option("--trim/--no-trim", help="Trim the C heap (malloc_trim) after reading RSS in each sample, to tell memory the allocator keeps from memory in use.")] = True,
) -> None:
    """Run scenarios, leaky and fixed, each in its own process, and print the before/after diff report."""
    if all_ == (scenario is not None):
        raise UsageError("name one scenario (see 'memleak list') or pass --all" + (", not both" if all_ else ""))
    settings = resolve_run_settings(
        load_config(),
        iterations=iterations, warmup=warmup, window=window, frames=frames, top=top, size=size,
        threshold=threshold, rss_threshold=rss_threshold, objects_threshold=objects_threshold,
        blocks_threshold=blocks_threshold, retain_threshold=retain_threshold,
        max_iterations=max_iterations, extend=extend, cleanup=cleanup,
    )
    max_rss_bytes, timeout_seconds = resolve_limits(max_rss, timeout, jobs)
    settings = dataclasses.replace(
        settings, max_rss_bytes=max_rss_bytes, timeout_seconds=timeout_seconds, probes=tuple(dict.fromkeys(probe or ())), trim=trim
    ).validate()
    broken: dict[str, str] = {}  # --all: a module that fails to import is reported, not fatal
    planned = plan(list(builtin_scenarios(broken)) if all_ else [scenario or ""], variant, settings.size)
    out_path = json_path or default_json_path("all" if all_ else planned[0].scenario.name)
    if html_path is not None and html_path.resolve() == out_path.resolve():
        raise UsageError(f"--html and --json both name {out_path}: give the HTML page another name")
    check_writable(out_path)  # before any work: a run must not end in a report it cannot write
    if html_path is not None:
        check_writable(html_path)

    report = engine.new_report(["memleak", *sys.argv[1:]], settings)
    console = Console(stderr=True)
    with StopOnSignal() as stop, variant_progress(console) as (on_variant, on_sample):
        report.scenarios = engine.run_plan(planned, settings, jobs=jobs, stop=stop, on_variant=on_variant, on_sample=on_sample, artifacts=out_path.with_suffix(""))
    report.scenarios.extend(engine.import_failure(module, message, settings) for module, message in broken.items())
    report.complete = not stop.event.is_set()
    TerminalReporter(verbose=not quiet).render(report, sys.stdout)  # shown even if the write fails
    write_report(report, out_path)
    typer.echo(f"JSON report: {out_path}")
    if html_path is not None:
        from memleak_cli.reporters.html import write_html

        write_html(report, html_path)
        typer.echo(f"HTML report: {html_path}")
    if stop.signum is not None:
        raise Interrupted(f"interrupted by {stop.signal_name}: the report of what was measured so far is marked incomplete ({out_path})", stop.signum)
    if engine.crashed(report):
        for line in engine.crashed(report):
            typer.echo(f"error: scenario crashed: {line}", err=True)
        raise typer.Exit(EXIT_SCENARIO_CRASHED)
    failures = engine.expectation_failures(report)
    if fail_on_leak and failures:
        for line in failures:
            typer.echo(f"leak: {line}", err=True)
        raise typer.Exit(EXIT_LEAK)
