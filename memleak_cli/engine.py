"""The one orchestration entry: :func:`run` turns a plan into a :class:`RunReport` (no printing here).

Limits (``--max-rss``, ``--timeout``) and signals (Ctrl-C, SIGTERM) are handled inside it, so no
command that runs scenarios can miss them; exit codes come from the exceptions raised by
:func:`raise_for_interruption` and :func:`raise_for_crashes`, caught in ``cli.app``.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import platform
import signal
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from memleak_cli import __version__
from memleak_cli.analysis.judge import crashed, fix_effective
from memleak_cli.errors import Interrupted, ScenarioCrashed
from memleak_cli.measure.interrupts import StopOnSignal
from memleak_cli.measure.parent import run_variant
from memleak_cli.report.model import (
    SCHEMA_VERSION,
    RunReport,
    Sample,
    ScenarioResult,
    VariantResult,
)
from memleak_cli.scenarios.plan import Planned
from memleak_cli.settings import RunSettings, effective_jobs

TRACED_LIBRARIES = ("optuna", "lightgbm", "scikit-learn", "autofeat", "tsfresh", "pandas", "numpy", "psutil", "objgraph", "pympler", "memray")


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


def iterations_per_variant(settings: RunSettings) -> int:
    """Sampled iterations of one variant: the trend, plus the window and its priming one."""
    return settings.iterations + (settings.window + 1 if settings.window else 0)


def import_failure(module: str, message: str, settings: RunSettings) -> ScenarioResult:
    """A :class:`ScenarioResult` for a scenario module that failed to import (``run --all``).

    It has one variant, ``import``, with verdict ``ERROR`` and *message* as reason and error, so
    the report, the matrix and the exit status treat it as a crashed scenario.
    """
    name = module.rsplit(".", 1)[-1].replace("_", "-")
    failed = VariantResult(variant="import", expect="CLEAN", verdict="ERROR", reason=message, error=message, exit_code=None)
    return ScenarioResult(name=name, description=f"module {module} failed to import", finding="", size=settings.size, variants=[failed])


VariantKey = tuple[str, str]  # (scenario name, variant name)
OnVariant = Callable[[VariantKey, int], None]
OnSample = Callable[[VariantKey, Sample], None]


def _prefetch_analysis() -> None:
    """Import scipy.stats (the trend fit's Theil–Sen) in a background thread while the first
    variants run: the parent only polls then, and the import costs 0.5–1.4 s of wall time
    (measured on this 2-core machine, idle and at load 4) that a trivial run would otherwise
    wait for after its last variant. The judge's own import waits for this one (import lock)."""
    import threading

    if "scipy.stats" in sys.modules:
        return
    threading.Thread(target=importlib.import_module, args=("scipy.stats",), name="memleak-prefetch", daemon=True).start()


def run(
    plan: Sequence[Planned],
    settings: RunSettings,
    *,
    command: Sequence[str] = (),
    jobs: int | str | None = None,
    on_variant: OnVariant | None = None,
    on_sample: OnSample | None = None,
    artifacts: Path | None = None,
    broken: dict[str, str] | None = None,
    stop: StopOnSignal | None = None,
) -> RunReport:
    """The one way memleak runs scenarios (``run``, ``gate`` and ``baseline update`` all come here).

    Every variant of every planned scenario runs in its own process
    (:func:`memleak_cli.measure.parent.run_variant`), *jobs* at a time (default
    ``settings.jobs``; ``auto``: min(cores, variants), see
    :func:`~memleak_cli.settings.effective_jobs`), each under the limits of
    *settings* (``--max-rss``, ``--timeout``). SIGINT and SIGTERM are handled here
    (:class:`~memleak_cli.measure.interrupts.StopOnSignal`, when called from the main thread):
    the running variants are stopped and kept as ``ERROR``, the others never start, and the
    report comes back marked incomplete with ``interrupted_by`` set, so the caller writes what
    was measured before it reports the interruption (:func:`raise_for_interruption`).

    *on_variant* is called with the variant's key and its number of sampled iterations when it
    starts, *on_sample* with each sample (from the driving thread). *artifacts* is the JSON
    report's path without its suffix (memray's flame graph goes beside it). *broken* maps
    scenario modules that failed to import to their error: each becomes an ``ERROR`` scenario.
    *stop* lets an embedder that handles signals itself pass its own stop request.
    Results come back in plan order, so a parallel run reports exactly like a serial one.
    """
    from concurrent.futures import ThreadPoolExecutor

    _prefetch_analysis()
    report = new_report(command, settings)
    total = iterations_per_variant(settings)
    with stop or StopOnSignal() as stop:

        def one(planned: Planned, name: str) -> VariantResult | None:
            if stop.event.is_set():
                return None
            key = (planned.scenario.name, name)
            if on_variant is not None:
                on_variant(key, total)
            progress = None if on_sample is None else (lambda sample: on_sample(key, sample))
            return run_variant(planned.scenario, planned.spec, name, settings, progress, stop=stop, artifacts=artifacts)

        workers = effective_jobs(settings.jobs if jobs is None else jobs, sum(len(p.variants) for p in plan))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="memleak-variant") as pool:
            futures = [[pool.submit(one, planned, name) for name in planned.variants] for planned in plan]
            outcomes = [[future.result() for future in row] for row in futures]
    for planned, row in zip(plan, outcomes, strict=True):
        scenario = planned.scenario
        done = [v for v in row if v is not None]
        if not done:
            continue
        result = ScenarioResult(name=scenario.name, description=scenario.description, finding=scenario.finding, size=settings.size, variants=done)
        result.fix_effective = fix_effective(done)
        report.scenarios.append(result)
    report.scenarios.extend(import_failure(module, message, settings) for module, message in (broken or {}).items())
    report.complete = stop.signum is None
    report.interrupted_by = stop.signum
    return report


def raise_for_interruption(report: RunReport, where: Path) -> None:
    """Raise :class:`~memleak_cli.errors.Interrupted` (exit 128 + signal) when *report* was
    stopped by a signal; *where* is the file its partial report was written to."""
    if report.interrupted_by is not None:
        name = signal.Signals(report.interrupted_by).name
        raise Interrupted(f"interrupted by {name}: the report of what was measured so far is marked incomplete ({where})", report.interrupted_by)


def raise_for_crashes(report: RunReport) -> None:
    """Raise :class:`~memleak_cli.errors.ScenarioCrashed` (exit 3) naming every crashed variant."""
    lines = crashed(report)
    if lines:
        raise ScenarioCrashed("\n".join(f"scenario crashed: {line}" for line in lines))
