"""The background-tasks, preprocessor-cache and circular-refs scenarios.

Fast tests check each mechanism in-process with deterministic signals (dict sizes, weakrefs with
the collector off); one slow test runs the frozen variants through the engine. Every built-in
variant's verdict and first holder line (growing path, objects per iteration, native handle) are
checked on CI's real gate run against tables written apart from the scenarios
(``.ci/expected-verdicts.json``, ``.ci/expected-holders.json``, ``.ci/check_verdicts.py``), so
the suite does not run each ML workload a second time.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest
from memleak_scenarios import background_tasks, circular_refs, preprocessor_cache
from memleak_scenarios._data import feature_frame

from memleak_cli.engine import run as run_engine
from memleak_cli.scenarios.plan import Planned
from memleak_cli.settings import RunSettings

# --- background-tasks (finding 6) ------------------------------------------------------------


def test_leaky_manager_keeps_entries_of_ended_and_failed_tasks() -> None:
    manager = background_tasks.BackgroundTaskManager()
    ran: list[str] = []
    manager.run_task("ok", lambda resources: len(resources), [b"x" * 100], [lambda: ran.append("ok")])
    with pytest.raises(ValueError):
        manager.run_task("bad", lambda resources: (_ for _ in ()).throw(ValueError("bad batch")), [b"y"], [lambda: ran.append("bad")])
    assert ran == ["ok"]  # the failing task's callback never ran
    assert set(manager._task_resources) == set(manager._cleanup_callbacks) == {"ok", "bad"}


def test_fix_runs_every_callback_and_drops_entries_even_when_the_task_and_a_callback_raise() -> None:
    manager = background_tasks.BackgroundTaskManager()
    ran: list[str] = []

    def failing_callback() -> None:
        ran.append("first")
        raise OSError("callback failed")

    def work(resources: list[object]) -> None:
        raise ValueError("bad batch")

    with pytest.raises(ValueError):
        with background_tasks.task_cleanup(manager, "bad"):
            manager.run_task("bad", work, [b"y"], [failing_callback, lambda: ran.append("second")])
    assert ran == ["first", "second"]
    assert manager._task_resources == {} and manager._cleanup_callbacks == {}


# --- preprocessor-cache (finding 7) ----------------------------------------------------------


def test_preprocessor_caches_one_imputer_and_scaler_per_column_of_new_data_and_reuses_them() -> None:
    preprocessor = preprocessor_cache.DataPreprocessor()
    first, _ = feature_frame(50, 4, seed=1, missing=0.1)
    second, _ = feature_frame(50, 4, seed=2, missing=0.1)
    out = preprocessor.preprocess(first)
    assert out.shape == first.shape and not out.isna().any().any()
    preprocessor.preprocess(first)
    assert len(preprocessor.imputers) == len(preprocessor.scalers) == 4  # same data: reused
    preprocessor.preprocess(second)
    assert len(preprocessor.imputers) == len(preprocessor.scalers) == 8  # new data: new entries
    with preprocessor_cache.preprocessing_run(preprocessor):
        preprocessor.preprocess(second)
    assert preprocessor.imputers == {} and preprocessor.scalers == {}


# --- circular-refs (summary) -----------------------------------------------------------------


@pytest.fixture
def collector_off() -> Iterator[None]:
    """The service's tuning, undone afterwards; listeners the test left behind are dropped."""
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        circular_refs.model_manager._listeners.clear()
        if was_enabled:
            gc.enable()


def _session() -> circular_refs.TrainingSession:
    frame, target = feature_frame(20, 3, seed=0)
    return circular_refs.TrainingSession("request-test", frame, target, estimators=2)


def test_teardown_frees_the_session_by_reference_counting_alone(collector_off: None) -> None:
    session = _session()
    alive = weakref.ref(session)
    with circular_refs.session_scope(session):
        pass
    del session
    assert alive() is None  # no collection needed


def test_cycle_kept_needs_the_collector(collector_off: None) -> None:
    session = _session()
    alive = weakref.ref(session)
    with circular_refs.remove_listener_only(session):
        pass
    del session
    assert alive() is not None  # garbage, but cyclic: reference counting cannot free it
    gc.collect()
    assert alive() is None


def test_listener_keeps_the_cycle_even_through_a_collection(collector_off: None) -> None:
    session = _session()
    alive = weakref.ref(session)
    del session
    gc.collect()
    assert alive() is not None
    assert circular_refs.model_manager._listeners[-1].session is alive()


# --- the variants through the engine ---------------------------------------------------------

# tracemalloc off (frames=0): the verdicts and reference chains do not need allocation tracebacks,
# and filtering the window's snapshots costs seconds per variant with pandas and LightGBM loaded
SETTINGS = RunSettings(size="small", iterations=12, top=3, frames=0)


@pytest.mark.slow
def test_freezing_the_heap_turns_a_kept_cycle_into_a_leak_but_not_the_fix() -> None:
    scenario = circular_refs.SCENARIO
    result = run_engine([Planned(scenario.name, scenario, ("cycle-kept-frozen", "fixed-frozen"))], SETTINGS).scenarios[0]
    frozen, fixed = result.variant("cycle-kept-frozen"), result.variant("fixed-frozen")
    assert frozen is not None and fixed is not None
    assert (frozen.verdict, fixed.verdict) == ("LEAK", "CLEAN"), (frozen.reason, fixed.reason)
    # frozen objects are out of gc.get_objects(): the heap blocks show the growth, not the gc count
    assert frozen.trend("py_blocks").leaking and not frozen.trend("gc_objects").leaking  # type: ignore[union-attr]
