"""Every built-in scenario's leaky and fixed variants get their declared verdicts at ``--jobs 1``
and at ``--jobs auto`` (the default), the same verdict either way: the speed work (variants side
by side, the id-array retained search) does not change an answer."""

from __future__ import annotations

from dataclasses import replace

import pytest

from memleak_cli.engine import run as run_engine
from memleak_cli.scenarios.discovery import builtin_scenarios
from memleak_cli.scenarios.plan import Planned
from memleak_cli.settings import AUTO, RunSettings


@pytest.mark.slow
def test_builtin_verdicts_are_the_declared_ones_serially_and_with_jobs_auto():
    scenarios = builtin_scenarios()
    plan = [Planned(name, scenario, ("leaky", "fixed")) for name, scenario in scenarios.items()]
    base = RunSettings(size="small")
    verdicts = {}
    for jobs in (1, AUTO):
        report = run_engine(plan, replace(base, jobs=jobs))
        verdicts[jobs] = {(s.name, v.variant): v.verdict for s in report.scenarios for v in s.variants}
    declared = {(name, v): scenarios[name].variant(v).expect for name in scenarios for v in ("leaky", "fixed")}
    assert verdicts[1] == declared
    assert verdicts[AUTO] == verdicts[1]
