"""``--jobs auto`` (the default): min(cores, variants) variants at once, with the verdicts of a serial run."""

from __future__ import annotations

from dataclasses import replace

import pytest

from memleak_cli import settings as settings_module
from memleak_cli.config import Config
from memleak_cli.engine import run as run_engine
from memleak_cli.errors import UsageError
from memleak_cli.scenarios.discovery import load_scenario
from memleak_cli.scenarios.plan import Planned
from memleak_cli.settings import AUTO, RunSettings, effective_jobs, resolve


def spec(name: str) -> str:
    return f"tests.synthetic_scenarios:{name}"


def test_jobs_default_to_auto_from_flags_and_config():
    assert RunSettings().jobs == AUTO
    assert resolve(Config()).run.jobs == AUTO
    assert resolve(Config(), {"jobs": "AUTO"}).run.jobs == AUTO
    assert resolve(Config(), {"jobs": "3"}).run.jobs == 3
    assert resolve(Config(values={"jobs": 2})).run.jobs == 2
    assert resolve(Config(values={"jobs": "auto"})).run.jobs == AUTO


@pytest.mark.parametrize(("given", "line"), [("0", "must be from 1 to 256, got 0"), ("many", "must be auto or a whole number, got 'many'")])
def test_a_bad_jobs_value_is_refused(given, line):
    with pytest.raises(UsageError) as info:
        resolve(Config(), {"jobs": given})
    assert str(info.value) == f"--jobs: {line}"


@pytest.mark.parametrize(("cores", "variants", "jobs", "expected"), [
    (2, 2, AUTO, 2),  # leaky and fixed side by side on a 2-core machine
    (2, 16, AUTO, 2),
    (8, 2, AUTO, 2),
    (1, 2, AUTO, 1),
    (4, 0, AUTO, 1),
    (2, 2, 1, 1),
    (2, 2, 5, 5),  # an explicit count is taken as given
])
def test_auto_is_the_smaller_of_cores_and_variants(monkeypatch, cores, variants, jobs, expected):
    monkeypatch.setattr(settings_module, "usable_cores", lambda: cores)
    assert effective_jobs(jobs, variants) == expected


def test_auto_gives_the_verdicts_slopes_retention_and_holders_of_a_serial_run(monkeypatch):
    monkeypatch.setattr(settings_module, "usable_cores", lambda: 3)  # parallel even on one core
    base = RunSettings(iterations=6, warmup=1, window=1, frames=1, size="small")
    plan = [Planned(spec(n), load_scenario(spec(n)), ("leaky",)) for n in ("GROWING", "FLAT", "LATEST")]

    def summary(jobs):
        report = run_engine(plan, replace(base, jobs=jobs))
        return [
            (r.name, v.verdict, round(v.trend("gc_objects").slope, 1), v.attribution.retained_roots if v.attribution else None,
             [h.path for h in v.holders])
            for r in report.scenarios for v in r.variants
        ]

    serial = summary(1)
    assert summary(AUTO) == serial
    assert [verdict for _, verdict, *_ in serial] == ["LEAK", "CLEAN", "RETAINS"]
