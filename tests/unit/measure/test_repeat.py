"""The pytest plugin's engine (in-process repetition): native handles get their C heap, as ``memleak run`` does; the older heap is frozen for the trend calls."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator

import pytest

from memleak_cli.measure.repeat import Plan, measure
from tests.synthetic_scenarios import NativeModel

MODEL_BYTES = 256 * 1024


@pytest.fixture
def service() -> Iterator[types.ModuleType]:
    module = types.ModuleType("fake_model_service")
    module.latest = None  # type: ignore[attr-defined]
    module.models = []  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    yield module
    del sys.modules[module.__name__]


def test_a_kept_latest_native_model_retains_the_c_heap_behind_its_handle(service: types.ModuleType) -> None:
    def call() -> None:
        service.latest = NativeModel(MODEL_BYTES)  # type: ignore[attr-defined]

    result = measure(call, Plan(iterations=8, warmup=2, max_iterations=8, window=2, frames=0)).result
    assert result.verdict == "RETAINS", result.reason
    assert result.attribution is not None and result.attribution.retained[0].handle == "c_void_p"
    assert MODEL_BYTES - 4096 <= (result.attribution.retained_native_bytes or 0) <= MODEL_BYTES + 4096
    assert result.attribution.retained[0].path == "fake_model_service.latest"


def test_a_growing_list_of_native_models_names_its_native_size_each(service: types.ModuleType) -> None:
    def call() -> None:
        service.models.append(NativeModel(MODEL_BYTES))  # type: ignore[attr-defined]

    result = measure(call, Plan(iterations=8, warmup=2, max_iterations=8, window=2, frames=0)).result
    assert result.verdict == "LEAK", result.reason
    holder = result.holders[0]
    assert holder.path == "fake_model_service.models[*]" and holder.handle == "c_void_p"
    assert holder.objects_per_iteration == 1.0
    # the C heap's slope less the path's own Python bytes: the 256 KiB model, within a page
    assert MODEL_BYTES - 4096 <= (holder.native_bytes_each or 0) <= MODEL_BYTES + 4096


def test_the_calls_run_with_the_older_heap_frozen_and_the_counts_stay_exact(service: types.ModuleType) -> None:
    import gc

    frozen_during: list[int] = []

    def call() -> None:
        frozen_during.append(gc.get_freeze_count())
        service.models.append([])  # type: ignore[attr-defined]  # one gc-tracked list per call

    result = measure(call, Plan(iterations=8, warmup=2, max_iterations=8, window=1, frames=0)).result
    assert result.verdict == "LEAK"
    assert result.trend("gc_objects").slope == 1.0  # type: ignore[union-attr]
    assert all(count > 0 for count in frozen_during[:8])  # the trend calls: older heap frozen
    assert frozen_during[8:] == [0, 0]  # the window's priming call and its one call: unfrozen
    assert gc.get_freeze_count() == 0


def test_a_heap_the_program_froze_itself_is_left_frozen(service: types.ModuleType) -> None:
    import gc

    mine = [[]]  # an object the program froze
    gc.freeze()
    try:
        result = measure(lambda: service.models.append([]), Plan(iterations=6, warmup=2, max_iterations=6, window=0, frames=0)).result  # type: ignore[attr-defined]
        assert not any(o is mine for o in gc.get_objects())  # still frozen: never unfrozen by measure
        assert result.trend("gc_objects").slope == 1.0  # type: ignore[union-attr]
    finally:
        gc.unfreeze()
