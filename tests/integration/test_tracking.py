"""memleak_cli.track: one operation's difference, and the verdict of repeated calls.

Verdicts here are judged on deterministic signals only (``metrics=("gc_objects", "py_blocks")``):
gc-tracked object counts and Python heap blocks do not depend on the allocator or the OS.
"""

from __future__ import annotations

import gc
import logging
import subprocess
import sys
import textwrap
import tracemalloc

import pytest

import memleak_cli
from memleak_cli.errors import UsageError
from memleak_cli.units import format_bytes

DETERMINISTIC = ("gc_objects", "py_blocks")
CALLS = 8  # warm-up 2 + 6 measured

LEAKED: list[object] = []


class _Latest:
    """A bounded holder: keeps only the latest result (retention, not growth)."""

    value: object = None


@pytest.fixture(autouse=True)
def _empty_leak() -> None:
    LEAKED.clear()
    _Latest.value = None


def _eleven_lists() -> list[list[int]]:
    # lists are always gc-tracked (dicts of atomic values are not): 11 objects per call
    return [[i] for i in range(10)]


def leaky() -> int:
    """Keeps 11 gc-tracked objects per call in a module-level list."""
    LEAKED.append(_eleven_lists())
    return len(LEAKED)


def clean() -> int:
    """Builds the same objects and drops them."""
    return len(_eleven_lists())


def test_decorated_leaky_function_is_leak_on_gc_objects() -> None:
    tracked = memleak_cli.track("leaky", repeat=True, metrics=DETERMINISTIC, level=None)(leaky)
    for _ in range(CALLS):
        tracked()
    verdict = tracked.tracker.verdict()
    assert verdict.verdict == "LEAK"
    assert "gc_objects" in verdict.reason
    objects = verdict.trend("gc_objects")
    assert (
        objects is not None and 10.5 <= objects.slope <= 11.5
    )  # 11 per call, nothing of the tracker's
    assert verdict.calls == CALLS and verdict.measured == CALLS - 2 and verdict.warmup == 2


def test_decorated_clean_function_is_clean_and_flat() -> None:
    tracked = memleak_cli.track("clean", repeat=True, metrics=DETERMINISTIC, level=None)(clean)
    for _ in range(CALLS):
        tracked()
    verdict = tracked.tracker.verdict()
    assert verdict.verdict == "CLEAN", verdict.reason
    assert verdict.trend("gc_objects").slope == 0  # type: ignore[union-attr]
    # the tracker keeps one tuple of ints per call: ~7 blocks, far under the 64 blocks/call threshold
    assert verdict.trend("py_blocks").slope < 16  # type: ignore[union-attr]


def test_context_manager_form_gives_the_same_verdicts() -> None:
    leaking = memleak_cli.track("with-leaky", repeat=True, metrics=DETERMINISTIC, level=None)
    for _ in range(CALLS):
        with leaking:
            LEAKED.append(_eleven_lists())
    steady = memleak_cli.track("with-clean", repeat=True, metrics=DETERMINISTIC, level=None)
    for _ in range(CALLS):
        with steady:
            _eleven_lists()
    assert leaking.verdict().verdict == "LEAK"
    assert steady.verdict().verdict == "CLEAN"


def test_growth_between_calls_is_not_blamed_on_the_operation_but_named() -> None:
    # other code grows the heap between two calls: the call itself keeps nothing (issue #18)
    steady = memleak_cli.track("between", repeat=True, metrics=DETERMINISTIC, level=None)
    for _ in range(CALLS):
        with steady:
            _eleven_lists()
        LEAKED.append(_eleven_lists())
    verdict = steady.verdict()
    assert verdict.verdict == "CLEAN", verdict.reason
    # 11 per gap, and the first call's result (a handful of objects) made after its sample
    assert 11 * (CALLS - 1) <= verdict.between_gc_objects <= 11 * (CALLS - 1) + 8
    assert "the process also grew between calls (+" in verdict.ambiguous
    assert verdict.ambiguous in verdict.reason


def test_alternating_clean_and_leaking_handlers_only_the_leaking_one_is_leak() -> None:
    leaking = memleak_cli.track("leaky handler", repeat=True, metrics=DETERMINISTIC, level=None)(leaky)
    steady = memleak_cli.track("clean handler", repeat=True, metrics=DETERMINISTIC, level=None)(clean)
    for _ in range(CALLS):
        leaking()
        steady()
    leak_verdict, clean_verdict = leaking.tracker.verdict(), steady.tracker.verdict()
    assert leak_verdict.verdict == "LEAK", leak_verdict.reason
    assert clean_verdict.verdict == "CLEAN", clean_verdict.reason
    objects = leak_verdict.trend("gc_objects")
    assert objects is not None and 10.5 <= objects.slope <= 11.5  # its own 11 per call
    assert clean_verdict.trend("gc_objects").slope == 0  # type: ignore[union-attr]
    # the clean handler's verdict names the growth it was not blamed for
    assert 11 * (CALLS - 1) <= clean_verdict.between_gc_objects <= 11 * (CALLS - 1) + 8
    assert "between calls" in clean_verdict.reason


def test_a_leak_found_while_other_threads_run_says_attribution_is_ambiguous() -> None:
    import threading

    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        tracked = memleak_cli.track("threaded", repeat=True, metrics=DETERMINISTIC, level=None)(leaky)
        for _ in range(CALLS):
            tracked()
    finally:
        stop.set()
        other.join()
    verdict = tracked.tracker.verdict()
    assert verdict.verdict == "LEAK"
    assert f"other threads ran during {CALLS} call(s)" in verdict.reason


@pytest.mark.parametrize(("per_call", "expected"), [(0, "CLEAN"), (1, "LEAK")])
def test_gc_object_threshold_edge_is_not_moved_by_the_tracker(per_call: int, expected: str) -> None:
    # threshold 1 object/call: growth at the threshold is a leak, none is not. Were the tracker
    # to keep one gc-tracked object per call itself, the clean call would read as 1 and turn LEAK.
    tracker = memleak_cli.track("edge", repeat=True, metrics=("gc_objects",), level=None)
    for _ in range(CALLS):
        with tracker:
            LEAKED.extend([[0] for _ in range(per_call)])
    assert tracker.verdict().verdict == expected


def test_one_call_returns_the_difference_of_gc_objects_and_blocks() -> None:
    with memleak_cli.track("keep", level=None) as kept:
        LEAKED.append([[i] for i in range(100)])
    with memleak_cli.track("drop", level=None) as dropped:
        [[i] for i in range(100)]
    # 101 lists kept (plus the tracker's own before-sample and call record: a handful)
    assert 101 <= kept.result.gc_objects <= 110  # type: ignore[union-attr]
    assert kept.result.py_blocks >= 200  # type: ignore[union-attr]  # each list: object + item array
    assert 0 <= dropped.result.gc_objects <= 9  # type: ignore[union-attr]
    assert dropped.result.py_blocks < 50  # type: ignore[union-attr]


def test_traced_reports_net_bytes_and_peak_from_tracemalloc() -> None:
    size = 1 << 20
    with memleak_cli.track("keep bytes", traced=True, level=None) as kept:
        LEAKED.append(b"\x01" * size)
    with memleak_cli.track("temporary bytes", traced=True, level=None) as temporary:
        del_me = b"\x01" * size
        del del_me
    assert size <= kept.result.traced_bytes <= size + 64 * 1024  # type: ignore[union-attr,operator]
    assert temporary.result.traced_bytes < 64 * 1024  # type: ignore[union-attr,operator]
    assert temporary.result.traced_peak_bytes >= size  # type: ignore[union-attr,operator]
    assert not tracemalloc.is_tracing()  # the tracker stops what it started


def test_traced_leaves_tracing_on_when_it_was_already_on() -> None:
    tracemalloc.start()
    try:
        with memleak_cli.track("inside", traced=True, level=None) as t:
            LEAKED.append(b"\x01" * 100_000)
        assert tracemalloc.is_tracing()
        assert 100_000 <= t.result.traced_bytes <= 100_000 + 64 * 1024  # type: ignore[union-attr,operator]
        assert t.result.traced_peak_bytes is None  # type: ignore[union-attr]  # the user's peak is not ours to reset
    finally:
        tracemalloc.stop()


def test_repeat_with_retained_tells_retention_from_growth() -> None:
    def keep_latest() -> None:
        _Latest.value = list(range(5000))  # replaces the previous one: bounded

    tracker = memleak_cli.track(
        "latest", repeat=True, retained=True, metrics=DETERMINISTIC, level=None
    )
    for _ in range(6):  # warm-up 2 + 4 measured, each with a retained search over the whole heap
        with tracker:
            keep_latest()
    verdict = tracker.verdict()
    assert verdict.verdict == "RETAINS", verdict.reason
    assert verdict.attribution is not None and verdict.attribution.retained_bytes >= 16 * 1024
    assert "value" in verdict.attribution.retained[0].path


def test_retained_gives_the_c_heap_a_kept_native_handle_pins() -> None:
    from tests.synthetic_scenarios import NativeModel

    size = 1024 * 1024
    _Latest.value = NativeModel(size)
    with memleak_cli.track("load", retained=True, level=None) as t:
        _Latest.value = NativeModel(size)  # a LightGBM Booster kept as the latest model
    result = t.result
    assert result is not None and result.retained[0].handle == "c_void_p"
    # within a page: the retained roots' Python size is subtracted as the Python heap's share
    assert size - 4096 <= result.retained_native_bytes <= size + 4096  # type: ignore[operator]
    assert f" + {format_bytes(result.retained_native_bytes)} native, held by " in result.summary()


def test_one_call_logs_its_summary(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="memleak.track"):
        with memleak_cli.track("logged"):
            LEAKED.append(_eleven_lists())
    [record] = [r for r in caplog.records if r.name == "memleak.track"]
    assert record.levelno == logging.INFO
    assert record.getMessage().startswith("logged: ")
    assert "gc objects +" in record.getMessage()


def test_decorator_keeps_the_function_and_measures_a_call_that_raises() -> None:
    @memleak_cli.track("fails", level=None)
    def fails(x: int) -> int:
        """Docstring kept."""
        LEAKED.append(_eleven_lists())
        raise ValueError(x)

    assert fails.__name__ == "fails" and fails.__doc__ == "Docstring kept."
    # CPython untracks constant tuples one nesting level per collection: settle that first, or a
    # run of this test alone, right after the imports, reads a few gc objects low
    for _ in range(3):
        gc.collect()
    with pytest.raises(ValueError):
        fails(3)
    assert fails.tracker.calls == 1  # type: ignore[attr-defined]
    assert fails.tracker.result.gc_objects >= 11  # type: ignore[attr-defined]


def test_recursive_calls_are_measured_once() -> None:
    @memleak_cli.track("recursive", level=None)
    def depth(n: int) -> int:
        return 0 if n == 0 else 1 + depth(n - 1)

    assert depth(5) == 5
    assert depth.tracker.calls == 1  # type: ignore[attr-defined]


def test_verdict_needs_repeat_and_enough_calls() -> None:
    single = memleak_cli.track("single", level=None)
    with single:
        pass
    with pytest.raises(UsageError, match=r"repeat=True"):
        single.verdict()
    few = memleak_cli.track("few", repeat=True, level=None)
    for _ in range(4):
        with few:
            pass
    with pytest.raises(UsageError, match=r"at least 5 calls \(warm-up 2 \+ 3 measured\), got 4"):
        few.verdict()


def test_keep_bounds_the_samples_of_a_long_run() -> None:
    tracker = memleak_cli.track("bounded", repeat=True, keep=5, warmup=1, level=None)
    for _ in range(12):  # twice what is kept, and more
        with tracker:
            pass
    phases = [s.phase for s in tracker.samples()]
    assert phases == ["baseline", "warmup"] + ["measure"] * 5
    assert tracker.verdict().measured == 5


def test_bad_options_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="keep >= 3"):
        memleak_cli.track("bad", keep=2)
    with pytest.raises(UsageError, match="unknown metric"):
        memleak_cli.track("bad", metrics=("gc_object",))


def test_importing_memleak_loads_nothing_heavy_and_track_is_the_function() -> None:
    code = textwrap.dedent(
        """
        import sys
        import memleak_cli
        heavy = [m for m in ("psutil", "scipy", "numpy", "pympler", "objgraph", "memleak_cli.tracking") if m in sys.modules]
        assert not heavy, heavy
        from memleak_cli import track, Tracker
        assert isinstance(track("a"), Tracker)
        import memleak_cli.tracking as module       # a module of its own name: no shadowing
        assert memleak_cli.track is module.track and isinstance(memleak_cli.track("b"), module.Tracker)
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
