"""The built-in scenarios of findings 1, 2, 4 and 5 get the verdicts their docstrings promise:
leaky, fixed and the partial-fix variants.

Each variant runs for real in its own measuring process (``memleak_cli.measure.parent.run_variant``)
at size ``small``. The verdicts rest on the deterministic metrics (gc objects, Python heap
blocks) and on what the attribution window finds retained and who holds it. tracemalloc is off
(``frames=0``): allocation sites are not asserted here, and tracing slows numba's compiler
several times over. ``top=1`` computes one reference chain, the largest root's.
"""

from __future__ import annotations

import pytest

from memleak_cli.measure.parent import run_variant
from memleak_cli.report.model import VariantResult
from memleak_cli.scenarios.discovery import builtin_scenarios
from memleak_cli.settings import RunSettings

SETTINGS = RunSettings(size="small", iterations=12, warmup=2, window=2, frames=0, top=1)

# The verdicts the scenarios' docstrings promise, written here and not read from the scenarios'
# own ``expect=``: editing ``expect=`` must not make a regression pass.
EXPECTED = {
    ("global-services", "leaky"): "LEAK",
    ("global-services", "fixed"): "CLEAN",
    ("global-services", "periodic-cleanup-only"): "CLEAN",  # the cleanup empties the singleton
    ("ensemble", "leaky"): "LEAK",
    ("ensemble", "fixed"): "CLEAN",
    ("ensemble", "free-dataset-only"): "LEAK",  # booster.free_dataset() frees nothing
    ("tsfresh", "leaky"): "LEAK",
    ("tsfresh", "fixed"): "CLEAN",
    ("autofeat", "leaky"): "LEAK",
    ("autofeat", "fixed"): "CLEAN",
    ("autofeat", "clear-model-only"): "LEAK",  # the report's fix alone: numba still grows
    ("autofeat", "jit-off-only"): "CLEAN",
}

pytestmark = pytest.mark.slow


def _run(scenario_name: str, variant: str) -> VariantResult:
    scenario = builtin_scenarios()[scenario_name]
    result = run_variant(scenario, scenario_name, variant, SETTINGS)
    assert result.verdict != "ERROR", result.error
    assert result.verdict == EXPECTED[scenario_name, variant], result.reason
    return result


def _leading(result: VariantResult) -> set[str]:
    return {t.metric for t in result.trends if t.leaking}


@pytest.mark.parametrize(
    ("scenario", "holder", "growing", "per_iteration"),
    [
        ("global-services", "memleak_scenarios.global_services.ml_training_service.training_history[",
         "memleak_scenarios.global_services.ml_training_service.training_history[*]", 1.0),
        ("ensemble", "memleak_scenarios.ensemble_trainer.ml_training_service.trainer.trained_models['run",
         "memleak_scenarios.ensemble_trainer.ml_training_service.trainer.trained_models[*]", 2.0),
        (
            "tsfresh",
            "memleak_scenarios.tsfresh_features.feature_service.tsfresh_calculator.feature_cache['",
            "memleak_scenarios.tsfresh_features.feature_service.tsfresh_calculator.feature_cache[*]", 1.0,
        ),
    ],
)
def test_leaky_variant_leaks_through_the_attribute_the_report_names(
    scenario: str, holder: str, growing: str, per_iteration: float
) -> None:
    result = _run(scenario, "leaky")
    assert result.verdict == "LEAK"
    assert "gc_objects" in _leading(result)
    assert result.attribution is not None
    assert result.attribution.retained[0].path.startswith(holder)
    # the growth detector's first holder line: the growing container by its path, with its count
    # per iteration (one training record / one cache entry per request; two models per ensemble)
    assert result.holders[0].path == growing
    assert result.holders[0].objects_per_iteration == per_iteration
    # each ensemble member is an LGBMRegressor whose Booster keeps its trees in C++ behind a
    # ctypes handle: the line gives each its share of the C heap growth
    assert result.holders[0].handle == ("c_void_p" if scenario == "ensemble" else None)
    assert (result.holders[0].native_bytes_each is not None) == (scenario == "ensemble")


def test_autofeat_leaky_leaks_native_memory_through_numba() -> None:
    result = _run("autofeat", "leaky")
    assert result.verdict == "LEAK"
    # numba's compiled code is native: the C heap grows by megabytes per fit, far over the threshold
    heap = next(t for t in result.trends if t.metric == "heap_bytes")
    assert heap.leaking and heap.slope > 10 * SETTINGS.thresholds.heap_bytes
    assert "gc_objects" in _leading(result)


@pytest.mark.parametrize("scenario", ["global-services", "ensemble", "tsfresh", "autofeat"])
def test_fixed_variant_is_clean(scenario: str) -> None:
    result = _run(scenario, "fixed")
    assert result.verdict == "CLEAN"
    assert not _leading(result)
    assert result.attribution is not None
    assert result.attribution.retained_bytes < SETTINGS.thresholds.retained_bytes


def test_autofeat_without_numba_keeps_only_the_latest_model_in_autofeat_model() -> None:
    result = _run("autofeat", "jit-off-only")
    assert result.verdict == "CLEAN"  # the kept AutoFeatRegressor is under the 16 KiB floor
    assert result.attribution is not None
    top = result.attribution.retained[0]
    assert top.type_name == "autofeat.autofeat.AutoFeatRegressor"
    assert (
        top.path == "memleak_scenarios.autofeat_features.feature_service.autofeat_calculator.autofeat_model"
    )
    assert 0 < top.size_bytes < SETTINGS.thresholds.retained_bytes


@pytest.mark.parametrize(
    ("scenario", "variant"),
    [
        ("autofeat", "clear-model-only"),  # the report's fix alone: numba still grows
        ("ensemble", "free-dataset-only"),  # booster.free_dataset() frees nothing
    ],
)
def test_partial_fix_that_frees_nothing_still_leaks_python_objects(
    scenario: str, variant: str
) -> None:
    result = _run(scenario, variant)
    assert result.verdict == "LEAK"
    assert "gc_objects" in _leading(result)


def test_periodic_cleanup_alone_makes_global_services_clean() -> None:
    result = _run("global-services", "periodic-cleanup-only")
    assert result.verdict == "CLEAN"
    assert not _leading(result)


def test_the_expected_table_covers_every_variant_of_these_scenarios() -> None:
    """A variant added to one of these scenarios needs its verdict written here too."""
    scenarios = builtin_scenarios()
    declared = {
        (name, variant)
        for name in {name for name, _ in EXPECTED}
        for variant in scenarios[name].variants
    }
    assert declared == set(EXPECTED)
