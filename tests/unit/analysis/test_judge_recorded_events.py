"""The verdict, the diffs and the report of one variant judged from recorded events, with no
process started (the way CPython tests tracemalloc Snapshots built from literal traces).

The files in tests/data/events-*.jsonl were streamed by the real worker
(``python -m memleak_cli.measure.worker``) for tests/synthetic_scenarios.py's GROWING (keeps a
list holding one 2 KiB bytearray per iteration), FLAT (keeps nothing) and LATEST (replaces a
~66 KiB dict of bytearrays each iteration), size small, 8 iterations, warm-up 2, window 2.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from memleak_cli.analysis.judge import Declared, WorkerExit, judge_variant
from memleak_cli.analysis.lead import lead_trend
from memleak_cli.engine import new_report
from memleak_cli.measure.parent import read_events
from memleak_cli.measure.protocol import Finished, SampleTaken
from memleak_cli.report.model import ScenarioResult
from memleak_cli.reporters.html import lead_growth
from memleak_cli.reporters.summary import METRIC_LABEL
from memleak_cli.reporters.terminal import render_matrix
from memleak_cli.settings import RunSettings

DATA = Path(__file__).resolve().parents[2] / "data"
SETTINGS = RunSettings(iterations=8, warmup=2, window=2, size="small")


def judged(name: str, exit_code: int = 0, *, drop_done: bool = False):
    events, _ = read_events(DATA / f"events-{name}.jsonl")
    if drop_done:
        events = [e for e in events if not isinstance(e, Finished)]
    return judge_variant(Declared("leaky", "CLEAN"), events, SETTINGS, WorkerExit(exit_code))


def test_recorded_events_decode_to_every_sample_in_order():
    events, offset = read_events(DATA / "events-growing.jsonl")
    samples = [e.sample for e in events if isinstance(e, SampleTaken)]
    assert [s.iteration for s in samples] == [-1, 0, 1, 2, 3, 4, 5, 6, 7, 10]
    assert [s.phase for s in samples][:3] == ["baseline", "warmup", "warmup"] and samples[-1].phase == "window"
    assert offset == (DATA / "events-growing.jsonl").stat().st_size


@pytest.mark.parametrize(("name", "verdict"), [("growing", "LEAK"), ("flat", "CLEAN"), ("latest", "RETAINS")])
def test_the_verdict_comes_from_the_events_alone(name, verdict):
    assert judged(name).verdict == verdict


def test_a_growing_list_grows_one_object_per_iteration_and_names_its_holder():
    result = judged("growing")
    assert result.trend("gc_objects").slope == 1.0
    assert result.holders and result.holders[0].path == "tests.synthetic_scenarios.kept[*]"
    assert result.holders[0].objects_per_iteration == 1.0


def test_a_worker_that_never_said_done_is_an_error_that_keeps_its_samples():
    result = judged("growing", exit_code=-9, drop_done=True)
    assert result.verdict == "ERROR"
    assert result.reason == "the measuring process killed by signal SIGKILL after 10 samples"
    assert len(result.samples) == 10


def test_html_and_terminal_name_the_same_lead_metric():
    variants = [judged("growing"), judged("flat")]
    report = new_report(["memleak"], SETTINGS)
    report.scenarios = [ScenarioResult(name="s", description="", finding="", size="small", variants=variants)]
    out = io.StringIO()
    render_matrix(report, Console(file=out, width=200))
    for variant in variants:
        lead = lead_trend(variant)
        assert lead is not None
        assert lead_growth(variant).endswith(f"({METRIC_LABEL[lead.metric]})")
        assert f"({METRIC_LABEL[lead.metric]})" in out.getvalue()
    assert lead_trend(variants[0]).metric == "gc_objects"  # the leaking one: +1 list per iteration
    assert lead_growth(variants[0]) == "+1 objects/it (gc objects)"
