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


# In a fresh interpreter, as a pytest session starts: the probes the window uses are not imported
# yet, so their imports between the two heap walks would show (sys.path_importer_cache grows).
FRESH = """
import gc, json, sys, types
from memleak_cli.measure.repeat import Plan, measure
from tests.synthetic_scenarios import NativeModel

service = types.ModuleType("fake_model_service")
service.models = []
sys.modules[service.__name__] = service
frozen = []

def call():
    frozen.append(gc.get_freeze_count())
    service.models.append(NativeModel(256 * 1024))

result = measure(call, Plan(iterations=8, warmup=2, max_iterations=8, window=1, frames=0)).result
print(json.dumps({
    "verdict": result.verdict, "objects_per_call": result.trend("gc_objects").slope,
    "holders": [[h.path, h.objects_per_iteration, h.handle, h.native_bytes_each] for h in result.holders],
    "frozen": frozen, "frozen_after": gc.get_freeze_count(),
}))
"""


def test_a_growing_list_of_native_models_in_a_fresh_process() -> None:
    import json
    import subprocess

    from tests.paths import ROOT

    done = subprocess.run([sys.executable, "-c", FRESH], capture_output=True, text=True, cwd=ROOT, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["verdict"] == "LEAK"
    assert found["objects_per_call"] == 2.0  # the model and its c_void_p: exact with the older heap frozen
    # one holder: the growing list, with each model's 256 KiB behind its handle within a page
    ((path, per_call, handle, native_each),) = found["holders"]
    assert (path, per_call, handle) == ("fake_model_service.models[*]", 1.0, "c_void_p")
    assert MODEL_BYTES - 4096 <= native_each <= MODEL_BYTES + 4096
    # the trend calls ran with the older heap frozen; the window's priming call and its call not
    assert all(count > 0 for count in found["frozen"][:8]) and found["frozen"][8:] == [0, 0]
    assert found["frozen_after"] == 0


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
