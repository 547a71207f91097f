"""The accuracy corpus: every case loads, declares its truth, and is what its label says.

The labels are checked with deterministic signals in this process (tracemalloc bytes for the
Python-heap leaks, the C heap in use for the ctypes leaks); two cases run through the real
engine, one leak and one look-alike, with the verdict their truth promises.
"""

from __future__ import annotations

import gc
import sys
import tracemalloc

import psutil
import pytest

from benchmarks.accuracy import _caught_sizes, summarise
from benchmarks.corpus import KINDS, all_cases
from memleak_cli.measure.parent import run_variant
from memleak_cli.scenarios.discovery import load_scenario
from memleak_cli.settings import RunSettings

CASES = all_cases()
BY_NAME = {c.name: c for c in CASES}
HEAVY = {"booster-kept", "latest-booster", "lgbm-train-discard"}  # import lightgbm: covered by the benchmark


def test_corpus_has_every_kind_and_the_sizes_the_benchmark_promises():
    kinds = {c.kind for c in CASES}
    assert kinds == set(KINDS.values())
    python_sizes = {c.leak_bytes for c in CASES if c.kind == "python"}
    assert {256, 1024, 4096, 64 * 1024, 1024 * 1024} <= python_sizes
    assert {4 * 1024, 64 * 1024, 1024 * 1024} <= {c.leak_bytes for c in CASES if c.kind == "native"}
    assert len({c.name for c in CASES}) == len(CASES), "case names must be unique"
    assert len(CASES) >= 60
    names = {c.name for c in CASES}
    # the leak kinds and look-alikes issue #14 asked for
    assert {"fd-leak", "thread-leak", "worker-process-1m", "numpy-kept-4k", "asyncio-tasks-1k"} <= names
    assert {"warmup-staircase-8", "sawtooth-prune-16", "large-temporary", "threads-come-and-go", "per-call-pool", "slow-fill-cache-48"} <= names


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_every_case_loads_as_the_child_would_and_declares_its_truth(case):
    scenario = load_scenario(case.spec)
    assert scenario is case.scenario
    assert list(scenario.variants) == ["case"]
    truth = scenario.variant("case").expect
    expected = {"python": "LEAK", "native": "LEAK", "resource": "LEAK", "retains": "RETAINS", "lookalike": "CLEAN"}[case.kind]
    assert truth == expected == case.truth
    assert (case.leak_bytes > 0) == (truth == "LEAK")
    assert case.shape


def _traced_growth_per_iteration(case, iterations: int = 4) -> float:
    if sys.gettrace() is not None:  # pytest --cov: coverage's tracer records lines as the case runs
        pytest.skip("a tracer is active in this process (coverage?): its own records would be traced as growth")
    iterate = case.scenario.variant("case").factory(case.scenario.sizes["small"])
    iterate()
    iterate()
    tracemalloc.start(1)
    try:
        iterate()  # priming under tracing: what the next iteration replaces is traced too
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(iterations):
            iterate()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return (after - before) / iterations


@pytest.mark.parametrize("case", [c for c in CASES if c.kind == "python"], ids=lambda c: c.name)
def test_python_heap_leaks_keep_at_least_their_label_per_iteration(case):
    growth = _traced_growth_per_iteration(case)
    # the payload is a floor; object headers, str overhead (a 64-char str is 113 bytes) and
    # list over-allocation come on top: at most about twice the payload plus 1.5 KiB
    assert case.leak_bytes * 0.95 <= growth <= case.leak_bytes * 2 + 1536, growth


@pytest.mark.parametrize("name", ["cycles-1m", "periodic-spikes", "fragmentation"])
def test_look_alikes_that_free_everything_keep_nothing_on_the_python_heap(name):
    growth = _traced_growth_per_iteration(BY_NAME[name])
    assert abs(growth) < 1024, growth  # a leak of the smallest labelled size would be >= 256 B each


@pytest.mark.parametrize("name", ["malloc-64k", "malloc-1m"])
def test_ctypes_leaks_grow_the_c_heap_by_their_label(name):
    case = BY_NAME[name]
    iterate = case.scenario.variant("case").factory(case.scenario.sizes["small"])

    def c_heap() -> int:
        info = psutil.heap_info()
        return info.heap_used + info.mmap_used

    iterate()
    before = c_heap()
    for _ in range(4):
        iterate()
    per_iteration = (c_heap() - before) / 4
    # malloc's chunk header and page rounding of mmap'd blocks: within 8 KiB above
    assert case.leak_bytes <= per_iteration <= case.leak_bytes + 8192, per_iteration


def _engine(name: str):
    case = BY_NAME[name]
    settings = RunSettings(iterations=10, window=2, frames=1, size="small")
    return run_variant(case.scenario, case.spec, "case", settings)


def test_a_corpus_leak_is_judged_leak_by_the_engine():
    result = _engine("closure-64k")
    assert result.verdict == "LEAK", result.reason
    assert result.trend("gc_objects").leaking  # a function, its cell and the bytearray: 3 objects/iteration


def test_the_new_users_2_kib_of_predictions_per_request_is_a_leak_at_default_settings():
    case = BY_NAME["predictions-2k"]
    result = run_variant(case.scenario, case.spec, "case", RunSettings(size="small", window=2, frames=1))
    assert result.verdict == "LEAK", result.reason
    assert result.extended_by == 20  # 20 requested, 20 more to confirm one block per request keeps coming
    assert "Python heap blocks" in result.extend_why
    # 2 KiB of predictions (a 2048-byte payload + its 33-byte bytes header) and the list slot; a
    # list resize inside the 2-iteration window adds at most its overallocation (~11 slots)
    per = result.attribution.traced_growth_per_iteration
    assert 2048 + 33 + 8 <= per <= 2048 + 33 + 8 + 11 * 8
    assert result.severity.startswith(("+2.0 KiB/iteration", "+2.1 KiB/iteration"))


def test_a_corpus_look_alike_is_judged_clean_by_the_engine():
    result = _engine("cycles-1m")
    assert result.verdict == "CLEAN", result.reason


def test_summary_counts_true_and_false_positives_and_the_smallest_size_caught():
    cases = [BY_NAME[n] for n in ("list-256b", "list-1k", "list-64k", "malloc-64k", "latest-rows-64k", "cycles-1m")]
    verdicts = {"list-256b": "LEAK", "list-1k": "CLEAN", "list-64k": "LEAK", "malloc-64k": "LEAK",
                "latest-rows-64k": "RETAINS", "cycles-1m": "LEAK"}
    runs = {n: {"verdict": v, "leaking_metrics": ["heap_bytes"] if v == "LEAK" else [], "slopes": {"heap_bytes": 1.0}}
            for n, v in verdicts.items()}
    summary = summarise(cases, runs)
    assert (summary["true_positives"], summary["leaks"]) == (3, 4)
    assert summary["false_positives"] == ["cycles-1m"]
    assert summary["python_sizes"] == {"smallest_caught": 256, "all_caught_from": 64 * 1024, "missed": ["list-1k"]}
    assert summary["per_metric"]["heap_bytes"]["fpr"] == 0.5
    assert _caught_sizes([], set()) == {"smallest_caught": None, "all_caught_from": None, "missed": []}
