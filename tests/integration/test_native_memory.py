"""Native and multi-process memory: memray's native sites, memory the allocator keeps, children.

The slow tests run real child processes (LightGBM, ctypes, multiprocessing). Where a test's
signal is RSS (the allocator test, the forked child), the scenario's effect is at least twice the
threshold and every page it counts is touched on purpose.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memleak_cli.analysis.native import allocator_note, native_note, notes
from memleak_cli.analysis.thresholds import Thresholds
from memleak_cli.analysis.verdict import judge, trends
from memleak_cli.cli.app import app
from memleak_cli.errors import UsageError
from memleak_cli.measure.parent import run_variant
from memleak_cli.probes.allocator import can_trim, trim_heap
from memleak_cli.probes.native import library_frame
from memleak_cli.probes.typesizes import type_size_diff
from memleak_cli.report.jsonio import read_report, report_from_dict, report_to_dict, write_report
from memleak_cli.report.model import (
    SCHEMA_VERSION,
    Attribution,
    ChildProcess,
    MetricTrend,
    NativeSite,
    RunReport,
    Sample,
    ScenarioResult,
    TypeSize,
    VariantResult,
)
from memleak_cli.reporters.terminal import TerminalReporter, short_symbol
from memleak_cli.scenarios.discovery import load_scenario
from memleak_cli.settings import RunSettings, probe_list
from tests import native_scenarios

MiB = 1024 * 1024
KiB = 1024
SETTINGS = RunSettings(iterations=10, warmup=2, window=2, frames=3, size="small")


def run(name: str, settings: RunSettings = SETTINGS, artifacts: Path | None = None) -> VariantResult:
    spec = f"tests.native_scenarios:{name}"
    return run_variant(load_scenario(spec), spec, "leaky", settings, artifacts=artifacts)


def line_of(text: str) -> str:
    source = Path(native_scenarios.__file__).read_text().splitlines()
    number = next(i for i, line in enumerate(source, 1) if text in line)
    return f"{native_scenarios.__file__}:{number}"


def trend(metric: str, slope: float, *, leaking: bool, informational: bool = False) -> MetricTrend:
    return MetricTrend(metric, "bytes", slope, slope, slope, slope, 9, 9, 9, 1.0, 0.0, slope * 9, leaking, "", informational)


# --- frames, symbols, type sizes: pure functions -----------------------------------------


def test_library_frame_skips_the_allocator_the_standard_library_and_openmp():
    native = [
        ("operator new(unsigned long)", "<unknown>", 0),
        ("std::vector<double, std::allocator<double> >::reserve(unsigned long)", "<unknown>", 0),
        ("<unknown>", "<unknown>", 0),
        ("GOMP_parallel", "<unknown>", 0),
        ("LGBM_BoosterLoadModelFromString", "<unknown>", 0),
        ("LightGBM::Tree::Tree(char const*, unsigned long*)", "<unknown>", 0),
        ("_PyEval_EvalFrameDefault", "Python/ceval.c", 1),
    ]
    assert library_frame(native) == "LightGBM::Tree::Tree(char const*, unsigned long*)"
    assert library_frame([native[0], native[4], native[6]]) == "LGBM_BoosterLoadModelFromString"
    assert library_frame([native[0], native[6], ("ffi_call", "<unknown>", 0)]) is None
    realloc_insert = ("void std::vector<std::string>::_M_realloc_insert<std::string>(std::string&&)", "<unknown>", 0)
    assert library_frame([native[0], realloc_insert, native[4]]) == "LGBM_BoosterLoadModelFromString"
    numpy = [("malloc", "<unknown>", 0), ("default_malloc", "<unknown>", 0), ("PyDataMem_UserNEW", "<unknown>", 0), ("PyArray_NewFromDescr_int", "<unknown>", 0)]
    assert library_frame(numpy) == "PyArray_NewFromDescr_int"


def test_short_symbol_drops_template_and_call_arguments():
    assert short_symbol("LightGBM::Tree::Tree(char const*, unsigned long*)") == "LightGBM::Tree::Tree(…)"
    assert short_symbol("void std::vector<std::basic_string<char, std::char_traits<char> > >::push_back(int)") == "void std::vector<…>::push_back(…)"
    assert short_symbol("LGBM_BoosterLoadModelFromString") == "LGBM_BoosterLoadModelFromString"


def test_type_size_diff_keeps_growth_largest_first_and_leaves_out_the_probes_own_types():
    before = {"dict": [10, 1000], "str": [5, 300], "int": [3, 84]}
    after = {"dict": [12, 1400], "str": [5, 300], "int": [2, 56], "pympler.asizeof._Typedef": [5, 280], "lightgbm.basic.Booster": [3, 168]}
    rows = type_size_diff(before, after, top=10)
    assert rows == [TypeSize("dict", 2, 400), TypeSize("lightgbm.basic.Booster", 3, 168)]
    assert type_size_diff(before, after, top=1) == [TypeSize("dict", 2, 400)]


# --- notes and the trimmed-RSS verdict -----------------------------------------------------


def native_attribution(native_per_iteration: float, traced_per_iteration: float = 1500.0) -> Attribution:
    site = NativeSite(int(native_per_iteration * 2), 700, "malloc", "LightGBM::Tree::Tree(char const*, unsigned long*)", "operator new(unsigned long)", "scenario.py:48")
    return Attribution(
        2, 3, True, int(traced_per_iteration * 2), traced_per_iteration,
        native=True, native_iterations=2, native_growth_bytes=int(native_per_iteration * 2), native_sites=[site],
    )


def test_native_growth_tracemalloc_cannot_see_is_attributed_to_memray_s_native_frame():
    note = native_note([trend("heap_bytes", 60 * KiB, leaking=True)], native_attribution(53 * KiB), Thresholds())
    assert note is not None
    assert note.startswith("native growth 58.5 KiB/iteration not visible to tracemalloc (C/C++ allocations")
    assert "memray attributes 53.0 KiB/iteration to native stacks, most under LightGBM::Tree::Tree" in note


def test_native_growth_memray_did_not_see_is_reported_without_a_stack():
    note = native_note([trend("heap_bytes", MiB, leaking=True)], native_attribution(0.0, 256.0), Thresholds())
    assert note is not None and note.startswith("native growth, no stack: 1023.8 KiB/iteration")
    assert "LightGBM" not in note


def test_no_native_note_when_tracemalloc_sees_the_growth_or_nothing_grows():
    assert native_note([trend("heap_bytes", 4 * KiB, leaking=True)], native_attribution(0.0, 4 * KiB), Thresholds()) is None
    assert native_note([trend("heap_bytes", 0.0, leaking=False)], native_attribution(0.0), Thresholds()) is None


def test_without_memray_the_note_says_what_memray_can_and_cannot_see():
    attribution = Attribution(2, 3, True, 3000, 1500.0)
    note = native_note([trend("heap_bytes", 60 * KiB, leaking=True)], attribution, Thresholds())
    assert note == (
        "native growth 58.5 KiB/iteration not visible to tracemalloc (C/C++ allocations; C heap grows 60.0 KiB/iteration); "
        "--probe memray names native stacks for what compiled libraries allocate (C/C++ extensions), "
        "but cannot see malloc called through ctypes or resolved with dlsym, nor a custom allocator's pool"
    )


def test_rss_the_allocator_keeps_is_shown_but_not_judged_when_trimmed_rss_is_measured():
    def sample(i: int, rss: int, trimmed: int | None) -> Sample:
        return Sample(i, "measure", 0.0, rss, 100, rss, 100, 0, 1000, 500, 50, 4, 1, rss_trimmed_bytes=trimmed)

    grows_untrimmed = [sample(i, 100 * MiB + i * MiB, 100 * MiB) for i in range(8)]
    found = trends(grows_untrimmed, Thresholds())
    rss = next(t for t in found if t.metric == "rss_bytes")
    assert rss.leaking and rss.informational
    assert judge(found, None, Thresholds())[0] == "CLEAN"
    assert allocator_note(found) is not None and "kept by the C allocator" in allocator_note(found)
    untrimmed = trends([sample(i, 100 * MiB + i * MiB, None) for i in range(8)], Thresholds())
    assert judge(untrimmed, None, Thresholds())[0] == "LEAK"
    assert notes(untrimmed, None, Thresholds()) == []


# --- report model, settings, allocator ---------------------------------------------------


def make_report() -> RunReport:
    sample = Sample(0, "measure", 0.1, 100, 90, 100, 90, 1, 50, 1000, 500, 4, 1, rss_trimmed_bytes=95, child_processes=[ChildProcess(7, "python", 60, 50)])
    attribution = native_attribution(50 * KiB)
    attribution.type_sizes = [TypeSize("lightgbm.basic.Booster", 3, 168)]
    attribution.flamegraph = "reports/x-leaks.html"
    alone = Sample(1, "measure", 0.1, 100, 90, 100, 90, 0, 50, 1000, 500, 4, 1, rss_trimmed_bytes=95)
    variant = VariantResult("leaky", "LEAK", "LEAK", "grows", samples=[sample, alone], attribution=attribution, notes=["native growth"])
    scenario = ScenarioResult("demo", "a demo", "", "small", variants=[variant])
    return RunReport(SCHEMA_VERSION, "0.1.0", "2026-11-29T00:00:00+00:00", ["memleak"], {}, {}, [scenario])


def test_json_round_trip_rebuilds_native_sites_type_sizes_and_children(tmp_path):
    path = tmp_path / "run.json"
    write_report(make_report(), path)
    back = read_report(path)
    assert back == make_report()
    assert isinstance(back.scenarios[0].variants[0].attribution.native_sites[0], NativeSite)
    assert isinstance(back.scenarios[0].variants[0].samples[0].child_processes[0], ChildProcess)
    samples = json.loads(path.read_text())["scenarios"][0]["variants"][0]["samples"]
    assert samples[0]["child_processes"] == [{"pid": 7, "name": "python", "rss_bytes": 60, "uss_bytes": 50}]
    assert "child_processes" not in samples[1]  # only a process with children says so


def test_a_report_without_the_new_fields_still_loads():
    data = report_to_dict(make_report())
    variant = data["scenarios"][0]["variants"][0]
    for key in ("rss_trimmed_bytes", "child_processes"):
        del variant["samples"][0][key]
    for key in ("native_sites", "type_sizes", "native", "native_growth_bytes", "flamegraph"):
        del variant["attribution"][key]
    del variant["notes"]
    back = report_from_dict(json.loads(json.dumps(data))).scenarios[0].variants[0]
    assert back.samples[0].child_processes is None and back.samples[0].rss_trimmed_bytes is None
    assert back.attribution.native_sites == [] and back.attribution.native is False and back.notes == []


def test_probe_settings_are_validated():
    with pytest.raises(UsageError, match="unknown probe 'valgrind': use memray"):
        probe_list(["valgrind"])
    with pytest.raises(UsageError, match="--probe memray needs an attribution window"):
        RunSettings(probes=("memray",), window=0).validate()


def test_cli_rejects_an_unknown_probe_in_one_line():
    result = CliRunner().invoke(app, ["run", "tests.native_scenarios:CTYPES_MALLOC", "--probe", "valgrind"])
    assert result.exit_code == 2
    assert result.output.strip() == "error: --probe: unknown probe 'valgrind': use memray, pympler"


def test_trim_gives_free_pages_back_on_glibc():
    if not can_trim():
        pytest.skip("no malloc_trim here (not glibc)")
    assert trim_heap() is True


# --- end to end, in child processes ------------------------------------------------------


@pytest.fixture(scope="module")
def boosters(tmp_path_factory) -> tuple[VariantResult, Path]:
    folder = tmp_path_factory.mktemp("reports")
    settings = RunSettings(iterations=8, warmup=2, window=2, frames=3, size="small", probes=("memray", "pympler"))
    return run("BOOSTERS", settings, artifacts=folder / "run"), folder


@pytest.mark.slow
def test_kept_lightgbm_boosters_leak_and_memray_finds_lightgbm_s_native_frames(boosters):
    result, folder = boosters
    assert result.verdict == "LEAK", result.reason
    a = result.attribution
    native_per_iteration = a.native_growth_bytes / a.native_iterations
    # 30 trees of 15 leaves: the loaded model's C++ vectors come to ~50 KiB per booster
    assert native_per_iteration >= 20 * KiB
    top = a.native_sites[0]
    assert top.native_frame.startswith("LightGBM::"), top
    assert top.allocator_frame.startswith("operator new")
    assert top.python_frame == line_of("lgb.train(")
    assert all(site.native_frame and "LightGBM" in site.native_frame or site.native_frame.startswith("LGBM_") for site in a.native_sites[:3])
    # tracemalloc holds only the Python wrappers: a few objects per booster
    assert a.traced_growth_per_iteration < native_per_iteration / 4
    assert all(site.size_diff_bytes < top.size_bytes for site in a.sites)
    booster = next(t for t in a.type_sizes if t.type_name == "lightgbm.basic.Booster")
    assert booster.count_delta == a.window_iterations + 1  # the priming iteration counts too
    assert any("not visible to tracemalloc" in n and "LightGBM::" in n for n in result.notes), result.notes
    # the holder line: the growing list of boosters, each with its share of the C heap growth
    holder = result.holders[0]
    assert holder.objects_per_iteration == 1.0 and holder.handle == "c_void_p"
    assert holder.native_bytes_each is not None and holder.native_bytes_each >= 20 * KiB
    assert "native each (C heap behind its c_void_p handle)" in holder.line()


@pytest.mark.slow
def test_memray_flame_graph_is_written_beside_the_report_and_the_table_is_shown(boosters):
    result, folder = boosters
    graph = Path(result.attribution.flamegraph)
    assert graph.parent == folder and graph.name == "run-boosters-leaky-leaks.html"
    assert "<html" in graph.read_text(errors="replace")[:2000].lower()
    out = io.StringIO()
    report = RunReport(SCHEMA_VERSION, "0", "now", [], {}, {"iterations": 8}, [ScenarioResult("boosters", "d", "", "small", [result])])
    TerminalReporter(width=160, color=False).render(report, out)
    text = out.getvalue()
    assert "native allocations made in the memray window and still alive at its end" in text
    assert "LightGBM::Tree::Tree(…)" in text or "LightGBM::GBDT::LoadModelFromString(…)" in text
    assert "note: native growth" in text


@pytest.mark.slow
def test_ctypes_malloc_leak_is_native_growth_with_no_stack(tmp_path):
    out = tmp_path / "ctypes.json"
    result = CliRunner().invoke(app, ["run", "tests.native_scenarios:CTYPES_MALLOC", "-n", "8", "--window", "2", "--probe", "memray", "--json", str(out)])
    assert result.exit_code == 0, result.output
    variant = json.loads(out.read_text())["scenarios"][0]["variants"][0]
    assert variant["verdict"] == "LEAK"
    heap = next(t for t in variant["trends"] if t["metric"] == "heap_bytes")
    # a 1 MiB malloc is served by mmap: 1 MiB plus one page of chunk header each time, and the
    # list of addresses a few bytes more; the upper bound is far from a second chunk, not a
    # figure measured on one machine
    assert heap["leaking"] and MiB + 4096 <= heap["slope"] < MiB + 64 * KiB
    attribution = variant["attribution"]
    assert attribution["native_growth_bytes"] < 64 * KiB  # memray never saw the ctypes mallocs
    assert any(n.startswith("native growth, no stack: ") for n in variant["notes"]), variant["notes"]
    assert Path(attribution["flamegraph"]).exists()
    assert "native growth, no stack" in result.output


@pytest.mark.slow
def test_memory_freed_but_kept_by_glibc_is_not_a_leak_once_trimmed():
    if not can_trim():
        pytest.skip("no malloc_trim here (not glibc)")
    result = run("ALLOCATOR_KEEPS")
    assert result.verdict == "CLEAN", result.reason
    assert result.trend("heap_bytes").leaking is False  # nothing stays in use
    assert result.trend("rss_bytes").informational
    assert any("kept by the C allocator" in n for n in result.notes), result.notes
    # the control: without trimming the same run looks like a leak, by RSS only
    untrimmed = run("ALLOCATOR_KEEPS", RunSettings(iterations=10, warmup=2, window=1, frames=0, size="small", trim=False))
    assert untrimmed.verdict == "LEAK"
    assert {t.metric for t in untrimmed.trends if t.leaking} <= {"rss_bytes", "uss_bytes"}


@pytest.mark.slow
def test_forked_child_memory_is_counted_in_the_process_tree():
    result = run("FORKED_CHILD", RunSettings(iterations=6, warmup=1, window=1, frames=0, size="small"))
    assert result.verdict == "CLEAN", result.reason
    baseline, *after = result.samples
    assert baseline.child_processes is None and baseline.children == 0
    for sample in after:
        (child,) = sample.child_processes
        assert child.uss_bytes >= native_scenarios.CHILD_BYTES  # every page of the 50 MiB was touched
        assert sample.tree_uss_bytes >= sample.uss_bytes + native_scenarios.CHILD_BYTES
        assert sample.tree_rss_bytes >= sample.rss_trimmed_bytes + native_scenarios.CHILD_BYTES
    assert result.trend("tree_rss_bytes") is not None
