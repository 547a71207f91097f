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
from memleak_cli.report.model import SCHEMA_VERSION, RunReport, Sample, ScenarioResult, VariantResult
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
        created=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
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


def run_scenario(
    scenario: Scenario,
    spec: str,
    variants: Sequence[str],
    settings: RunSettings,
    *,
    on_variant: VariantStarted | None = None,
    on_sample: SampleTaken | None = None,
    artifacts: Path | None = None,
) -> ScenarioResult:
    """Run each of *variants* in its own process, one after the other, and judge them.

    *artifacts* is the JSON report's path without its suffix: files a probe writes (memray's
    flame graph) go beside the report with that prefix.
    """
    result = ScenarioResult(name=scenario.name, description=scenario.description, finding=scenario.finding, size=settings.size)
    total = settings.iterations + (settings.window + 1 if settings.window else 0)
    for name in variants:
        if on_variant is not None:
            on_variant(scenario.name, name, total)
        result.variants.append(run_variant(scenario, spec, name, settings, on_sample, artifacts=artifacts))
    result.fix_effective = fix_effective(result.variants)
    return result


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
