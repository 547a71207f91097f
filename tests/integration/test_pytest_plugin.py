"""The pytest plugin: @pytest.mark.memleak on leaking and clean tests, edges, messages, xdist."""

from __future__ import annotations

import importlib.metadata
import re
import textwrap
from pathlib import Path

import pytest

from memleak_cli.errors import UsageError
from memleak_cli.pytest_plugin import LeakOptions, Measurement, memleak_marker, parse_marker

pytest_plugins = ["pytester"]


def plugin_args() -> list[str]:
    """``-p memleak_cli.pytest_plugin`` unless the installed package already registers it."""
    installed = any(ep.value == "memleak_cli.pytest_plugin" for ep in importlib.metadata.entry_points(group="pytest11"))
    quiet = ["-W", "ignore::pytest.PytestAssertRewriteWarning"]  # the plugin is imported by this module
    return quiet if installed else [*quiet, "-p", "memleak_cli.pytest_plugin"]


def run_pytest(pytester, *args: str):
    """pytest with the plugin in its own process, as a user runs it (``-rA``: every outcome in the
    summary). In-process, the plugin would measure inside this suite's pytest process, whose heap
    (every collected test module) made each heap walk and retained search several times slower."""
    return pytester.runpytest_subprocess(*args, "-rA")


def outcomes_of(result) -> dict[str, str]:
    """Test name → ``passed``/``failed``, from ``-rA``'s short summary lines."""
    found = {}
    for line in result.outlines:
        match = re.match(r"^(PASSED|FAILED|ERROR) \S+::(\w+)", line)
        if match:
            found[match.group(2)] = match.group(1).lower()
    return found


# A body that keeps exactly `LEAK` traced bytes per call: a bytes object of LEAK - 33 bytes
# (CPython's bytes header is 33 bytes) stored in a preallocated list, so nothing else grows.
BODY = textwrap.dedent(
    """
    import pytest

    SINK = [None] * 1000
    COUNT = [0]

    def keep(total):
        SINK[COUNT[0]] = bytes(total - 33)
        COUNT[0] += 1

    @pytest.mark.memleak(iterations=12, warmup=2, max_growth="8 KiB")
    def test_just_under():
        keep(8191)

    @pytest.mark.memleak(iterations=12, warmup=2, max_growth="8 KiB")
    def test_at_the_limit():
        keep(8192)

    @pytest.mark.memleak(iterations=12, warmup=2, max_growth="8 KiB")
    def test_just_over():
        keep(8193)

    @pytest.mark.memleak(iterations=12, warmup=2, max_growth=0)
    def test_clean():
        made = [bytes(10_000) for _ in range(10)]
        del made

    def test_unmarked_runs_once():
        keep(100)
        assert COUNT[0] >= 1
    """
)


def test_threshold_edges_leak_and_clean(pytester):
    pytester.makepyfile(test_edges=BODY)
    result = run_pytest(pytester, *plugin_args(), "-q")
    result.assert_outcomes(passed=3, failed=2)
    assert outcomes_of(result) == {
        "test_just_under": "passed", "test_at_the_limit": "failed", "test_just_over": "failed",
        "test_clean": "passed", "test_unmarked_runs_once": "passed",
    }


def test_failure_message_has_verdict_growth_and_sites(pytester):
    pytester.makepyfile(test_edges=BODY)
    result = run_pytest(pytester, *plugin_args(), "-q", "-k", "just_over")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*memleak: LEAK — traced memory grows +8.0 KiB per iteration (max_growth 8.0 KiB), +80.* KiB over 10 measured iterations after 2 warm-up",
        "*slope +8.0 KiB/iteration >= threshold +8.0 KiB; 95% interval above zero; *; 10/10 deltas positive*",
        "*top allocation sites (growth over the measured iterations, tracemalloc):",
        "*+80.0 KiB in +10 blocks  test_edges.py:7",
    ])


def test_failure_names_the_growing_reference_path(pytester):
    pytester.makepyfile(test_history=textwrap.dedent(
        """
        import pytest

        class Server:
            def __init__(self):
                self.history = []

        SERVER = Server()

        @pytest.mark.memleak(iterations=12, warmup=2, max_growth="1 KiB")
        def test_predict_keeps_history():
            SERVER.history.append({"features": bytes(4000), "predictions": bytes(1000)})
        """
    ))
    result = run_pytest(pytester, *plugin_args(), "-q")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*memleak: LEAK — traced memory grows*",
        "*held by test_history.SERVER.history[[][*][]] +1 dict/it (+*/it), 16 held",
        "*dict → {'features': bytes *, 'predictions': bytes *}",
    ])


def test_body_runs_iterations_times_and_fixtures_once(pytester):
    pytester.makepyfile(
        test_count="""
        import pytest

        CALLS = []
        SETUPS = []

        @pytest.fixture
        def resource():
            SETUPS.append(1)
            return object()

        @pytest.mark.memleak(iterations=7, warmup=3)
        def test_counted(resource):
            CALLS.append(None)

        def test_after():
            assert len(CALLS) == 7 + 1 + 3  # the trend, the priming call, the window
            assert len(SETUPS) == 1
        """
    )
    run_pytest(pytester, *plugin_args(), "-q", "-p", "no:randomly").assert_outcomes(passed=2)


def test_leak_that_starts_in_the_middle_fails(pytester):
    pytester.makepyfile(
        test_middle="""
        import pytest

        SINK = []
        CALLS = [0]

        @pytest.mark.memleak(iterations=22, warmup=2, max_growth="1 KiB")
        def test_late_leak():
            CALLS[0] += 1
            if CALLS[0] > 8:
                SINK.append(bytes(50_000))
        """
    )
    result = run_pytest(pytester, *plugin_args(), "-q")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*memleak: LEAK — traced memory grows*"])


def test_exception_in_the_body_fails_as_usual(pytester):
    pytester.makepyfile(
        test_raises="""
        import pytest

        @pytest.mark.memleak(iterations=5, warmup=1)
        def test_boom():
            raise ValueError("boom")
        """
    )
    result = run_pytest(pytester, *plugin_args(), "-q")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*ValueError: boom*"])


def test_bad_marker_arguments_fail_the_test_with_one_line(pytester):
    pytester.makepyfile(
        test_bad="""
        import pytest

        @pytest.mark.memleak(iterations=4, warmup=2)
        def test_too_few():
            pass

        @pytest.mark.memleak(max_growth="lots")
        def test_bad_size():
            pass

        @pytest.mark.memleak(repeat=3)
        def test_unknown():
            pass
        """
    )
    result = run_pytest(pytester, *plugin_args(), "-q")
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines_random([
        "*@pytest.mark.memleak: iterations=4 is too few: use at least 5 (warmup 2 + 3 measured)",
        "*@pytest.mark.memleak: max_growth: cannot read size 'lots'*",
        "*@pytest.mark.memleak: unknown argument 'repeat': use enabled, frames, iterations, max_growth, top, warmup, window",
    ])


def test_marker_is_registered_for_strict_markers(pytester):
    pytester.makepyfile(test_strict="import pytest\n\n@pytest.mark.memleak(iterations=4, warmup=0)\ndef test_x():\n    pass\n")
    run_pytest(pytester, *plugin_args(), "-q", "--strict-markers").assert_outcomes(passed=1)


# --- the pieces, without pytest in the loop -----------------------------------------------------
def test_parse_marker_defaults_and_sizes():
    assert parse_marker((), {}) == LeakOptions(20, 2, 1024, 10, 5)
    assert parse_marker((), {"max_growth": "1.5 kB", "iterations": 5, "warmup": 0}).max_growth == 1500


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((5,), {}, "takes keyword arguments only"),
        ((), {"iterations": 2.5}, "iterations must be a whole number >= 1, got 2.5"),
        ((), {"warmup": -1}, "warmup must be a whole number >= 0, got -1"),
        ((), {"max_growth": -5}, "max_growth must be a size such as '8 KiB' or a number of bytes, got -5"),
        ((), {"frames": 101}, "frames must be at most 100, got 101"),
        ((), {"top": 0}, "top must be a whole number >= 1, got 0"),
    ],
)
def test_parse_marker_rejects(args, kwargs, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_marker(args, kwargs)


def test_marker_judges_with_the_engine_trend():
    options = LeakOptions(iterations=8, warmup=2, max_growth=100)
    assert memleak_marker(options, Measurement([1000 + 99 * i for i in range(7)])) is None  # just under
    failure = memleak_marker(options, Measurement([1000 + 100 * i for i in range(7)]))  # at the limit fails
    assert failure is not None and failure.long_repr.startswith("memleak: LEAK — traced memory grows +100 B per iteration")
    # a cache that fills once and stays is not steady growth
    assert memleak_marker(options, Measurement([1000, 50_000, 50_000, 50_000, 50_000, 50_000, 50_000])) is None


# --- whole-suite mode, native memory, baseline, xdist --------------------------------------------
PROJECT = Path(__file__).parent.parent / "data" / "pytest_project" / "test_sample.py"
EXPECTED = {  # the verdicts written in the sample project
    "test_clean": "CLEAN", "test_keeps_history": "LEAK", "test_native_malloc_without_free": "LEAK",
    "test_native_malloc_freed": "CLEAN", "test_bounded_cache": "CLEAN",
}


def _call_outcomes(result) -> dict[str, str]:
    return outcomes_of(result)


def test_whole_suite_flags_exactly_the_leaking_tests(pytester):
    pytester.makepyfile(test_sample=PROJECT.read_text())
    report_path = pytester.path / "session.json"
    result = run_pytest(pytester, *plugin_args(), "-q", "-p", "no:randomly", "--memleak", "--memleak-calls=2:6", "--memleak-json", str(report_path))
    assert _call_outcomes(result) == {
        "test_clean": "passed", "test_keeps_history": "failed", "test_native_malloc_without_free": "failed",
        "test_native_malloc_freed": "passed", "test_bounded_cache": "passed", "test_opted_out": "passed",
    }
    result.stdout.fnmatch_lines_random([
        # the native-only leak: verdict first, with the C heap's growth per call
        "*memleak: LEAK — sustained growth in *heap_bytes*",
        "*growth per iteration: *C heap +25*.* KiB (LEAK)*",
        # the Python leak names its holder before the allocation sites
        "*held by test_sample.HISTORY[[][*][]] +1 dict/it*",
        "*top allocation sites*",
        "5 tests judged: 2 LEAK, 0 RETAINS, 3 CLEAN*",
        "*LEAK *C heap +25*.* KiB/it*test_sample.py::test_native_malloc_without_free",
    ])
    from memleak_cli.report.jsonio import read_report

    report = read_report(report_path)
    assert {s.name.split("::")[-1]: s.variants[0].verdict for s in report.scenarios} == EXPECTED


def test_marked_tests_and_the_whole_suite_under_xdist_give_the_same_results(pytester):
    # one xdist session for both modes: the marked edge tests and the whole-suite project
    pytester.makepyfile(test_sample=PROJECT.read_text(), test_edges=BODY.replace("def test_unmarked_runs_once():\n    keep(100)\n    assert COUNT[0] >= 1\n", ""))
    result = run_pytest(pytester, *plugin_args(), "-q", "-n", "2", "--memleak", "--memleak-calls=2:6")
    assert outcomes_of(result) == {
        **{name: ("failed" if verdict == "LEAK" else "passed") for name, verdict in EXPECTED.items()}, "test_opted_out": "passed",
        "test_just_under": "passed", "test_at_the_limit": "failed", "test_just_over": "failed", "test_clean": "passed",
    }
    result.stdout.fnmatch_lines_random([
        # test_just_under passes its marker (8191 B/call is under max_growth) and keeps the
        # window's three 8 KiB blobs: RETAINS, 24 KiB, over the 16 KiB retained threshold
        "9 tests judged: 4 LEAK, 1 RETAINS, 4 CLEAN*",
        "*RETAINS  keeps 24.0 KiB*test_edges.py::test_just_under",
        "*memleak: LEAK — traced memory grows +8.0 KiB per iteration*",
    ])


REGRESSION = textwrap.dedent(
    """
    import os

    LATEST = {}

    def test_keeps_latest():  # RETAINS: the latest result only, of KEEP bytes
        LATEST["result"] = bytearray(int(os.environ["KEEP"]))
    """
)


def test_baseline_records_then_fails_a_regression_and_passes_otherwise(pytester, monkeypatch):
    pytester.makepyfile(test_regress=REGRESSION)
    baseline = pytester.path / "baseline.json"
    args = [*plugin_args(), "-q", "--memleak", "--memleak-calls=1:4", "--memleak-baseline", str(baseline)]
    monkeypatch.setenv("KEEP", "20000")
    run_pytest(pytester, *args).assert_outcomes(passed=1)  # records
    assert baseline.exists()
    run_pytest(pytester, *args).assert_outcomes(passed=1)  # the same growth: passes
    monkeypatch.setenv("KEEP", "200000")  # 10x what it kept: over 50% and 16 KiB
    result = run_pytest(pytester, *args)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*memleak: REGRESSION against the baseline *baseline.json:",
        "*retained size 19*.* KiB exceeds the baseline 19.* KiB by more than 50%, 16.0 KiB*",
        "*1 tests judged: 0 LEAK, 1 RETAINS, 0 CLEAN; 1 over the baseline*",
    ])


def test_memleak_is_a_flag_that_leaves_the_paths_to_pytest(pytester):
    pytester.makepyfile(test_one="def test_clean():\n    made = [0] * 10\n    del made\n")
    result = run_pytest(pytester, *plugin_args(), "-q", "--memleak", "test_one.py")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*1 tests judged: 0 LEAK, 0 RETAINS, 1 CLEAN*"])
