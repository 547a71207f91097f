"""The engine end to end on tiny synthetic scenarios with known growth, in real child processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from memleak_cli.measure.parent import run_variant
from memleak_cli.scenarios.discovery import load_scenario
from memleak_cli.settings import RunSettings
from tests import synthetic_scenarios
from tests.synthetic_scenarios import PAYLOAD_BYTES

SETTINGS = RunSettings(iterations=12, warmup=2, window=3, frames=3, size="small")


def run(name: str, settings: RunSettings = SETTINGS):
    spec = f"tests.synthetic_scenarios:{name}"
    return run_variant(load_scenario(spec), spec, "leaky", settings)


def test_growing_scenario_leaks_by_its_known_size():
    result = run("GROWING")
    assert result.verdict == "LEAK", result.reason
    objects = result.trend("gc_objects")
    assert objects is not None and objects.leaking
    assert objects.slope == pytest.approx(1.0, abs=0.01)  # one list per iteration
    blocks = result.trend("py_blocks")
    assert blocks is not None and blocks.slope == pytest.approx(4.0, abs=1.0)
    # the 4097-byte buffer goes to malloc, so the C heap sees it: at least the payload per
    # iteration, and less than a second payload (the allocator's own bookkeeping varies with the
    # machine and its load, so no tighter bound is asserted on the C heap).
    heap = result.trend("heap_bytes")
    assert heap is not None  # under the 8 KiB C-heap threshold: the gc count makes the verdict
    assert PAYLOAD_BYTES <= heap.slope < 2 * PAYLOAD_BYTES
    assert PAYLOAD_BYTES <= heap.late_slope < 2 * PAYLOAD_BYTES
    traced = result.attribution.traced_growth_per_iteration
    # a 4096-byte bytearray buffer plus the list and bytearray objects: within 1 KiB above
    assert PAYLOAD_BYTES <= traced <= PAYLOAD_BYTES + 1024
    top = result.attribution.sites[0]
    assert top.size_diff_bytes >= 3 * PAYLOAD_BYTES
    source = Path(synthetic_scenarios.__file__).read_text().splitlines()
    append_line = next(i for i, line in enumerate(source, 1) if "kept.append(" in line)
    assert top.first_own_frame == f"{synthetic_scenarios.__file__}:{append_line}"
    paths = [o.path for o in result.attribution.retained]
    assert any(p.startswith("tests.synthetic_scenarios.kept[") for p in paths), paths


def test_flat_twin_is_clean():
    result = run("FLAT")
    assert result.verdict == "CLEAN", result.reason
    assert result.attribution.retained_bytes < SETTINGS.thresholds.retained_bytes
    assert abs(result.attribution.traced_growth_per_iteration) < 512


def test_latest_result_kept_is_retention_not_a_leak():
    result = run("LATEST")
    assert result.verdict == "RETAINS", result.reason
    assert result.attribution.retained_bytes >= 64 * 1024
    assert result.attribution.retained[0].path == "tests.synthetic_scenarios.holder.latest"


def test_every_sample_is_kept_and_phases_are_labelled():
    result = run("FLAT")
    phases = [s.phase for s in result.samples]
    assert phases == ["baseline"] + ["warmup"] * 2 + ["measure"] * 10 + ["window"]
    assert [s.iteration for s in result.samples] == [*range(-1, 12), 15]
    assert all(s.traced_bytes is None for s in result.samples[:-1])  # the trend is never traced
    assert result.samples[-1].traced_bytes > 0 and result.samples[-1].traced_peak_bytes >= result.samples[-1].traced_bytes


def test_crashing_scenario_is_reported_with_its_traceback_and_samples():
    result = run("CRASHING")
    assert result.verdict == "ERROR"
    assert "boom on the third iteration" in result.error
    assert "RuntimeError" in result.reason
    assert len(result.samples) == 3  # baseline + the two iterations before the crash


def test_frames_zero_turns_tracemalloc_off_but_still_finds_retained_objects():
    result = run("LATEST", RunSettings(iterations=8, warmup=2, window=2, frames=0))
    assert result.attribution.traced is False and result.attribution.sites == []
    assert result.verdict == "RETAINS"


def test_the_fast_snapshot_filter_keeps_exactly_what_filter_traces_keeps():
    import tracemalloc

    from memleak_cli.probes import allocations
    from memleak_cli.units import format_bytes

    tracemalloc.start(3)
    try:
        # the user's allocations, and strings allocated inside memleak's own units.py
        kept = [{"x": [1, 2]}, bytearray(100), *(format_bytes(n * 1000.5) for n in range(50))]
        snapshot = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    fast = allocations.without_own(snapshot)
    reference = snapshot.filter_traces(allocations._ignore_filters())
    assert len(fast.traces) == len(reference.traces) > 0
    assert len(snapshot.traces) > len(reference.traces)  # memleak's own traces were there to drop
    assert sorted(map(repr, fast.traces)) == sorted(map(repr, reference.traces))
    del kept


def test_an_untracked_blob_kept_as_the_latest_result_is_retention():
    result = run("LATEST_BLOB")
    assert result.verdict == "RETAINS", result.reason
    top = result.attribution.retained[0]
    assert top.type_name == "bytes" and top.size_bytes >= 64 * 1024
    assert top.path == "tests.synthetic_scenarios.holder.latest"


def test_a_native_handle_kept_as_the_latest_result_retains_the_c_heap_it_pins():
    from tests.synthetic_scenarios import NATIVE_MODEL_BYTES

    result = run("LATEST_NATIVE")
    assert result.verdict == "RETAINS", result.reason
    root = result.attribution.retained[0]
    assert root.path == "tests.synthetic_scenarios.holder.latest" and root.handle == "c_void_p"
    # pympler sees a ~500-byte Python object; the 256 KiB behind its pointer decide the verdict,
    # within a page: the window subtracts the traced Python share, and its own collection after
    # the mark keeps tracemalloc's table churn out of the reading
    assert result.attribution.retained_bytes < SETTINGS.thresholds.retained_bytes
    assert NATIVE_MODEL_BYTES - 4096 <= result.attribution.retained_native_bytes <= NATIVE_MODEL_BYTES + 8192
    assert "of C heap behind its c_void_p handle" in result.reason


def test_temporary_files_a_scenario_leaves_are_removed_with_its_run(tmp_path: Path, monkeypatch):
    listed = tmp_path / "made"
    monkeypatch.setenv("MEMLEAK_TEST_PIDFILE", str(listed))
    result = run("TEMPORARY_DIRECTORIES", RunSettings(iterations=4, warmup=1, window=0, size="small", extend=False))
    assert result.verdict != "ERROR", result.reason
    made = [Path(line) for line in listed.read_text(encoding="utf-8").split()]
    assert len(made) == 4  # the warm-up iteration is one of the 4
    assert not [p for p in made if p.exists()], "a scenario's temporary directory outlived the run"
