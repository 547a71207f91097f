"""Runs scenarios and assembles the :class:`RunReport` (no printing here)."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import platform
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from memleak_cli import __version__
from memleak_cli.interrupts import StopOnSignal
from memleak_cli.plan import Planned
from memleak_cli.report.model import (
    SCHEMA_VERSION,
    RunReport,
    Sample,
    ScenarioResult,
    VariantResult,
)
from memleak_cli.runner import run_variant
from memleak_cli.scenario import Scenario
from memleak_cli.settings import RunSettings

TRACED_LIBRARIES = ("optuna", "lightgbm", "scikit-learn", "autofeat", "tsfresh", "pandas", "numpy", "psutil", "objgraph", "pympler", "memray")

VariantStarted = Callable[[str, str, int], None]
SampleTaken = Callable[[Sample], None]


def host_info() -> dict[str, object]:
    """Python, platform, host name and the versions of the traced libraries (missing ones omitted)."""
    versions = {}
    for name in TRACED_LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "hostname": socket.gethostname(),
        "cpus": __import__("os").cpu_count(),
        "libraries": versions,
    }


def new_report(command: Sequence[str], settings: RunSettings) -> RunReport:
    """An empty report stamped with the time, command line, host and settings."""
    return RunReport(
        schema_version=SCHEMA_VERSION,
        tool_version=__version__,
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        command=list(command),
        host=host_info(),
        settings=settings.as_dict(),
    )


def fix_effective(variants: Sequence[VariantResult]) -> bool | None:
    """True when the leaky variant is not CLEAN and the fixed one is; None when either is missing or crashed."""
    by_name = {v.variant: v for v in variants}
    leaky, fixed = by_name.get("leaky"), by_name.get("fixed")
    if leaky is None or fixed is None or "ERROR" in (leaky.verdict, fixed.verdict):
        return None
    return leaky.verdict != "CLEAN" and fixed.verdict == "CLEAN"


def iterations_per_variant(settings: RunSettings) -> int:
    """Sampled iterations of one variant: the trend, plus the window and its priming one."""
    return settings.iterations + (settings.window + 1 if settings.window else 0)


def run_scenario(
    scenario: Scenario,
    spec: str,
    variants: Sequence[str],
    settings: RunSettings,
    *,
    on_variant: VariantStarted | None = None,
    on_sample: SampleTaken | None = None,
    stop: StopOnSignal | None = None,
    artifacts: Path | None = None,
) -> ScenarioResult:
    """Run each of *variants* in its own process, one after the other, and judge them.

    When *stop* is set the running variant is stopped (and kept, as ``ERROR``) and no other
    starts. *artifacts* is the JSON report's path without its suffix: files a probe writes
    (memray's flame graph) go beside the report with that prefix.
    """
    result = ScenarioResult(name=scenario.name, description=scenario.description, finding=scenario.finding, size=settings.size)
    total = iterations_per_variant(settings)
    for name in variants:
        if stop is not None and stop.event.is_set():
            break
        if on_variant is not None:
            on_variant(scenario.name, name, total)
        result.variants.append(run_variant(scenario, spec, name, settings, on_sample, stop=stop, artifacts=artifacts))
    result.fix_effective = fix_effective(result.variants)
    return result


def import_failure(module: str, message: str, settings: RunSettings) -> ScenarioResult:
    """A :class:`ScenarioResult` for a scenario module that failed to import (``run --all``).

    It has one variant, ``import``, with verdict ``ERROR`` and *message* as reason and error, so
    the report, the matrix and the exit status treat it as a crashed scenario.
    """
    name = module.rsplit(".", 1)[-1].replace("_", "-")
    failed = VariantResult(variant="import", expect="CLEAN", verdict="ERROR", reason=message, error=message, exit_code=None)
    return ScenarioResult(name=name, description=f"module {module} failed to import", finding="", size=settings.size, variants=[failed])


VariantKey = tuple[str, str]  # (scenario name, variant name)


def run_plan(
    plan: Sequence[Planned],
    settings: RunSettings,
    *,
    jobs: int = 1,
    stop: StopOnSignal | None = None,
    on_variant: Callable[[VariantKey, int], None] | None = None,
    on_sample: Callable[[VariantKey, Sample], None] | None = None,
    artifacts: Path | None = None,
) -> list[ScenarioResult]:
    """Run every variant of every planned scenario, *jobs* at a time, each in its own process.

    A ``concurrent.futures.ThreadPoolExecutor`` of *jobs* threads drives :func:`run_variant`
    calls (each thread only waits on its child process). Results come back in plan order, so a
    parallel run reports exactly like a serial one. *on_variant* is called with the variant's
    key and its number of sampled iterations when it starts, *on_sample* with each sample (from
    the driving thread). *artifacts* is the JSON report's path without its suffix, for files a
    probe writes (memray's flame graph). When *stop* is set, running variants are stopped and kept as
    ``ERROR``, the others never start, and scenarios with no variant run are left out.
    """
    from concurrent.futures import ThreadPoolExecutor

    total = iterations_per_variant(settings)

    def one(planned: Planned, name: str) -> VariantResult | None:
        if stop is not None and stop.event.is_set():
            return None
        key = (planned.scenario.name, name)
        if on_variant is not None:
            on_variant(key, total)
        progress = None if on_sample is None else (lambda sample: on_sample(key, sample))
        return run_variant(planned.scenario, planned.spec, name, settings, progress, stop=stop, artifacts=artifacts)

    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="memleak-variant") as pool:
        futures = [[pool.submit(one, planned, name) for name in planned.variants] for planned in plan]
        outcomes = [[future.result() for future in row] for row in futures]
    results = []
    for planned, row in zip(plan, outcomes, strict=True):
        scenario = planned.scenario
        done = [v for v in row if v is not None]
        if not done:
            continue
        result = ScenarioResult(name=scenario.name, description=scenario.description, finding=scenario.finding, size=settings.size, variants=done)
        result.fix_effective = fix_effective(done)
        results.append(result)
    return results


def expectation_failures(report: RunReport) -> list[str]:
    """Variants expected CLEAN that are not (what ``--fail-on-leak`` fails on), as one line each."""
    return [
        f"{s.name}/{v.variant}: expected CLEAN, got {v.verdict}"
        for s in report.scenarios
        for v in s.variants
        if v.expect == "CLEAN" and v.verdict not in ("CLEAN", "ERROR")
    ]


def crashed(report: RunReport) -> list[str]:
    """Variants whose scenario crashed, as ``scenario/variant: reason``."""
    return [f"{s.name}/{v.variant}: {v.reason}" for s in report.scenarios for v in s.variants if v.verdict == "ERROR"]
