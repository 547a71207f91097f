"""The evidence rule on hand-built series: no process, exact edges, expected verdicts written here."""

from __future__ import annotations

import random

import pytest

from memleak_cli.analysis.evidence import KEEP, assess, decide, next_total
from memleak_cli.analysis.thresholds import Thresholds

T = Thresholds()
KiB = 1024


def steady(per: float, n: int, start: float = 1000.0) -> list[float]:
    return [start + per * i for i in range(n)]


def judge(metric: str, values: list[float], *, iterations: int, requested: int = 20, final: bool = False, unit: str = "bytes", kind: str = "vote"):
    return assess(metric, unit, values, T, kind=kind, iterations=iterations, requested=requested, final=final)


# --- the goals' edges: one Python heap block per iteration, 4 KiB of C heap per iteration --------
def test_one_block_per_iteration_is_undecided_at_20_and_a_leak_at_40():
    assert judge("py_blocks", steady(1, 18), iterations=20, unit="blocks").status == "steady"
    evidence = judge("py_blocks", steady(1, 38), iterations=40, unit="blocks")
    assert evidence.leaking and evidence.status == "leak"


def test_just_under_half_a_block_per_iteration_is_not_a_leak_even_after_80():
    evidence = judge("py_blocks", steady(0.49, 78), iterations=80, unit="blocks", final=True)
    assert not evidence.leaking and evidence.status == "flat"
    assert judge("py_blocks", steady(0.5, 38), iterations=40, unit="blocks").leaking


def test_a_one_block_leak_with_blocks_coming_and_going_beside_it_is_still_a_leak():
    # measured beside a 2 KiB/request leak: +4, +4, -2 and -3 now and then
    deltas = [1] * 11 + [4, 4, 1, -2, 2, 1, 2, 1, 1, 1, -3] + [1] * 15
    values = [1000.0]
    for d in deltas:
        values.append(values[-1] + d)
    assert judge("py_blocks", values, iterations=40, unit="blocks").leaking


def test_native_goal_edge_4096_bytes_is_a_leak_4095_is_not():
    assert judge("heap_bytes", steady(4096, 38), iterations=40).leaking
    assert not judge("heap_bytes", steady(4095, 78), iterations=80, final=True).leaking


def test_the_new_users_2_kib_predictions_list_is_a_leak_after_extension():
    # C heap +2 KiB/it (under its 4 KiB floor) and one Python heap block per request, every delta positive
    heap, blocks = steady(2 * KiB + 33, 18), steady(1, 18)
    first = decide({"heap_bytes": heap, "py_blocks": blocks}, T, iterations=20, requested=20, max_iterations=80)
    assert (first.kind, first.more) == ("undecided", 20)
    assert first.why == "whether +1 blocks/it of Python heap blocks keeps growing"
    heap, blocks = steady(2 * KiB + 33, 38), steady(1, 38)
    second = decide({"heap_bytes": heap, "py_blocks": blocks}, T, iterations=40, requested=20, max_iterations=80)
    assert second.kind == "leak"


def test_a_large_leak_with_every_delta_positive_is_decided_at_once():
    decision = decide({"heap_bytes": steady(64 * KiB, 18)}, T, iterations=20, requested=20, max_iterations=80)
    assert (decision.kind, decision.more) == ("leak", 0)


def test_a_large_leak_with_one_delta_not_positive_waits_for_confirmation():
    values = steady(64 * KiB, 18)
    values[9:] = [v - 64 * KiB for v in values[9:]]  # one iteration added nothing
    assert judge("heap_bytes", values, iterations=20).status == "steady"


# --- look-alikes ---------------------------------------------------------------------------------
def test_a_staircase_that_stops_after_8_iterations_is_bounded_at_20():
    values = [min(i, 6) * 4 * KiB for i in range(18)]  # 8 steps with 2 in the warm-up
    decision = decide({"heap_bytes": values}, T, iterations=20, requested=20, max_iterations=80)
    assert decision.kind == "bounded"
    assert decision.metrics[0].status in ("flat", "stopped")  # the Theil–Sen slope of 6 steps in 18 is under the floor


def test_a_cache_filling_for_24_iterations_is_undecided_at_20_then_bounded_at_40():
    values = [min(i + 2, 24) * 4 * KiB for i in range(38)]
    assert decide({"heap_bytes": values[:18]}, T, iterations=20, requested=20, max_iterations=80).kind == "undecided"
    assert decide({"heap_bytes": values}, T, iterations=40, requested=20, max_iterations=80).kind == "bounded"


def test_a_self_pruning_sawtooth_is_not_a_leak():
    values = [(8 + i % 8) * 4 * KiB for i in range(78)]  # up 8 entries, drop 8, again
    for n, iterations in ((18, 20), (38, 40), (78, 80)):
        assert not judge("heap_bytes", values[:n], iterations=iterations, final=iterations == 80).leaking


def test_a_cache_filling_at_random_slows_down_and_is_not_a_leak_at_80():
    rng = random.Random(3)
    seen: set[int] = set()
    values = []
    for _ in range(80):
        seen.add(rng.randrange(48))
        values.append(len(seen) * 8 * KiB)
    at_40 = judge("heap_bytes", values[2:40], iterations=40)
    assert not at_40.leaking and at_40.status in ("slowing", "steady")  # fewer iterations grow as it fills: look longer
    evidence = judge("heap_bytes", values[2:], iterations=80, final=True)
    assert not evidence.leaking
    assert evidence.status in ("slowing", "stopped", "flat")


def test_growth_in_fewer_and_fewer_iterations_is_slowing_even_at_the_same_size_per_step():
    deltas = [8 * KiB] * 19 + [8 * KiB if i % 2 else 0 for i in range(19)]  # every call, then every other call
    values = [0.0]
    for d in deltas:
        values.append(values[-1] + d)
    assert judge("heap_bytes", values, iterations=41).status == "slowing"


def test_slowing_growth_is_undecided_before_the_limit_and_not_a_leak_at_it():
    # fast first half, a second half at 60 % of it (under KEEP = 75 %)
    values = steady(10 * KiB, 20) + steady(6 * KiB, 20, start=10 * KiB * 20)
    assert KEEP == 0.75
    assert judge("heap_bytes", values, iterations=42).status == "slowing"
    final = judge("heap_bytes", values, iterations=80, final=True)
    assert not final.leaking and "slowing" in final.reason


def test_noise_around_a_flat_line_is_flat():
    rng = random.Random(1)
    values = [1e6 + rng.uniform(-5000, 5000) for _ in range(38)]
    assert judge("heap_bytes", values, iterations=40).status == "flat"


# --- counts --------------------------------------------------------------------------------------
def test_a_descriptor_per_iteration_is_a_leak_at_once():
    assert judge("fds", steady(1, 18, start=5), iterations=20, unit="descriptors", kind="any").leaking


def test_threads_that_come_and_go_are_not_a_leak():
    rng = random.Random(7)
    values = [float(4 + rng.randrange(3)) for _ in range(78)]
    assert not judge("threads", values, iterations=80, unit="threads", kind="any", final=True).leaking


def test_a_pool_that_opens_four_descriptors_then_stops_is_not_a_leak():
    values = [float(5 + min(i // 2, 4)) for i in range(18)]
    assert not judge("fds", values, iterations=20, unit="descriptors", kind="any").leaking


# --- no extension: the fixed-threshold rule, final ------------------------------------------------
def test_without_extension_steady_growth_under_the_threshold_is_not_a_leak_but_says_so():
    evidence = judge("heap_bytes", steady(5 * KiB, 18), iterations=20, requested=20, final=True)
    assert not evidence.leaking
    assert "not confirmed" in evidence.reason


def test_without_extension_the_old_threshold_rule_still_decides():
    values = steady(8 * KiB, 18)
    values[5] -= 1  # one delta not positive: not decisive, but the fixed-threshold rule holds
    assert judge("heap_bytes", values, iterations=20, requested=20, final=True).leaking


def test_doubling_stops_at_the_limit():
    assert next_total(20, 80) == 40
    assert next_total(40, 80) == 80
    assert next_total(40, 50) == 50


@pytest.mark.parametrize("informational", [(), ("rss_bytes",)])
def test_an_informational_metric_never_decides(informational):
    decision = decide({"rss_bytes": steady(1024 * KiB, 18)}, T, iterations=20, requested=20, max_iterations=80, informational=informational)
    assert decision.kind == ("bounded" if informational else "leak")


@pytest.mark.parametrize("seed", range(6))
def test_the_plain_python_theil_sen_gives_scipys_numbers(seed):
    from scipy.stats import theilslopes

    from memleak_cli.analysis.evidence import theil_sen

    rng = random.Random(seed)
    n = rng.choice([3, 7, 18, 38, 78])
    values = [float(rng.choice([rng.randrange(5), rng.uniform(-1e4, 1e4) + 300 * i])) for i in range(n)]
    expected = theilslopes(values, list(range(n)), alpha=0.95)
    assert theil_sen(values) == pytest.approx((expected.slope, expected.low_slope, expected.high_slope))
