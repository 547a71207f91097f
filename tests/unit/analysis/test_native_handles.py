"""The C heap growth of a leak is given to the growing path whose elements hold native handles."""

from __future__ import annotations

from memleak_cli.analysis.native import attribute_handles
from memleak_cli.analysis.thresholds import Thresholds
from memleak_cli.analysis.trend import fit_trend
from memleak_cli.report.model import Attribution, GrowingPath

KiB = 1024


def _path(handle: str | None, per_iteration: float = 1.0) -> GrowingPath:
    return GrowingPath(path="svc.boosters[*]", fingerprint="0" * 16, objects_per_iteration=per_iteration,
                       bytes_per_iteration=1200.0 * per_iteration, held=20, held_bytes=24_000, handle=handle)


def _heap(per_iteration: float):  # a C heap that grows exactly this much per iteration
    return fit_trend("heap_bytes", "bytes", [40e6 + i * per_iteration for i in range(20)], 8 * KiB)


def _window(traced_per_iteration: float | None) -> Attribution:
    return Attribution(window_iterations=2, frames=5 if traced_per_iteration is not None else 0,
                       traced=traced_per_iteration is not None, traced_growth_bytes=None,
                       traced_growth_per_iteration=traced_per_iteration)


def test_each_element_gets_the_untraced_c_heap_growth_per_element_added() -> None:
    holder = _path("c_void_p", per_iteration=2.0)
    attribute_handles([holder], [_heap(62 * KiB)], _window(2 * KiB), Thresholds())
    assert holder.native_bytes_each == (62 * KiB - 2 * KiB) / 2
    assert holder.line().endswith(", 20 held, ≈ 30.0 KiB native each (C heap behind its c_void_p handle)")


def test_untraced_the_paths_own_bytes_are_the_python_share() -> None:
    holder = _path("c_void_p")
    attribute_handles([holder], [_heap(62 * KiB)], _window(None), Thresholds())
    assert holder.native_bytes_each == 62 * KiB - 1200


def test_no_handle_or_a_c_heap_under_its_floor_attributes_nothing() -> None:
    plain, small = _path(None), _path("c_void_p")
    attribute_handles([plain], [_heap(62 * KiB)], _window(0.0), Thresholds())
    attribute_handles([small], [_heap(Thresholds().heap_bytes - 1)], _window(0.0), Thresholds())
    assert plain.native_bytes_each is None and small.native_bytes_each is None
    assert "native" not in plain.line()


def test_a_kept_latest_handle_retains_by_the_c_heap_it_pins() -> None:
    from memleak_cli.analysis.verdict import judge
    from memleak_cli.report.model import RetainedObject

    thresholds = Thresholds()
    booster = RetainedObject(type_name="lightgbm.basic.Booster", repr="<Booster>", size_bytes=3328,
                             path="service.model", chain=["module", "Booster"], handle="c_void_p", native_bytes=40_000)
    kept = _window(0.0)
    kept.retained, kept.retained_bytes, kept.retained_roots = [booster], 3328, 1
    assert kept.retained_bytes < thresholds.retained_bytes  # the handle alone would be CLEAN
    verdict, reason = judge([], kept, thresholds)
    assert verdict == "CLEAN"
    kept.retained_native_bytes = 40_000
    verdict, reason = judge([], kept, thresholds)
    assert verdict == "RETAINS"
    assert reason == ("no growth, but keeps 1 new object(s) of 3.2 KiB and 39.1 KiB of C heap behind its "
                      "c_void_p handle after the work ended, held by service.model")
    assert kept.retained_text() == "3.2 KiB + 39.1 KiB native"


def test_two_handles_are_named_as_two_and_the_baseline_counts_the_native_size() -> None:
    from memleak_cli.analysis.verdict import judge
    from memleak_cli.report.baseline import measures_of
    from memleak_cli.report.model import RetainedObject, VariantResult

    def root(path: str) -> RetainedObject:
        return RetainedObject(type_name="Model", repr="<Model>", size_bytes=400, path=path, chain=[], handle="c_void_p")

    kept = _window(0.0)
    kept.retained, kept.retained_bytes, kept.retained_roots = [root("svc.model"), root("svc.other")], 800, 2
    kept.retained_native_bytes = 64 * KiB
    verdict, reason = judge([], kept, Thresholds())
    assert verdict == "RETAINS"
    assert "800 B and 64.0 KiB of C heap behind 2 native handles after the work ended" in reason
    result = VariantResult(variant="leaky", expect="RETAINS", verdict=verdict, reason=reason, attribution=kept)
    assert measures_of(result).retained_bytes == 800 + 64 * KiB  # a 16x bigger model fails the gate


def test_the_plugin_session_table_says_the_native_size_a_kept_handle_pins() -> None:
    from memleak_cli.pytest_plugin import Measurement, lead_text
    from memleak_cli.report.model import VariantResult

    kept = _window(0.0)
    kept.retained_bytes, kept.retained_roots, kept.retained_native_bytes = 424, 1, 64 * KiB
    result = VariantResult(variant="test", expect="", verdict="RETAINS", reason="", attribution=kept)
    assert lead_text(Measurement(None, [], [], result)) == (424 + 64 * KiB, "keeps 424 B + 64.0 KiB native")
