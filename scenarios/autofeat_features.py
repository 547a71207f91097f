"""Finding 2 — ``AutoFeatCalculator.autofeat_model`` keeps the fitted AutoFeat model.

As the report found it: a module-level feature service (``feature_service``) owns an
``AutoFeatCalculator`` whose ``generate_features`` fits a real ``autofeat.AutoFeatRegressor``
with ``fit_transform`` on seeded market bars and keeps it in ``self.autofeat_model``. The class
has the report's ``clear_model()``, but nothing calls it.

Verdict of the leaky variant: **LEAK**, and mostly not for the reason the report gives. Every
``fit_transform`` turns its feature formulas into new functions (``sympy.lambdify``) and
compiles each with ``numba.njit`` (autofeat/feateng.py ``compile_func_transform``,
autofeat/autofeat.py ``_transform``). numba never gives the machine code and type data of a
compiled function back, so the process grows by megabytes per fit — native memory seen by
``heap_bytes`` and RSS (measured, 20 iterations: +3.3 MiB per fit at small, +7.9 MiB at
medium), plus hundreds to a thousand Python objects per fit — whether or not the model is
kept. Compiled functions keep their Python source function alive, and tracemalloc names that
part: ``sympy/utilities/lambdify.py:809``, where each lambdified function gets its own copy of
numpy's namespace as globals (~25 KiB each). The model the report names is bounded: each fit
replaces the previous one.

That is what the variants separate:

* ``clear-model-only`` — the report's fix alone: ``clear_model()`` called in ``finally``.
  It drops the model, yet the variant still **LEAKs** (numba). Of ``clear_model()``'s
  statements, setting ``feateng_cols_``, ``featsel_``, ``model_`` and ``scaler_`` to ``None``
  frees nothing: autofeat 2.1 has no ``featsel_``, ``model_`` or ``scaler_`` (its fitted state is
  ``feature_functions_``, ``prediction_model_``, ``good_cols_``…), ``feateng_cols_`` is a short
  list of names, and the model is dropped right after anyway. ``self.autofeat_model = None``
  is the statement that releases it.
* ``jit-off-only`` — numba's JIT switched off during the fit (``numba.config.DISABLE_JIT``;
  lambdify's numpy functions then run as they are, which at these sizes is faster than
  compiling them), ``clear_model()`` still not called: finding 2 exactly as the report
  describes it, the latest model held by
  ``feature_service.autofeat_calculator.autofeat_model`` — and **CLEAN**: what the window
  retains weighs 11.2, 12.8 and 14.2 KiB at small, medium and large (pympler, measured), under
  the 16 KiB retention floor. The fitted ``AutoFeatRegressor`` keeps formulas, column names and
  a small linear model, not the training data, so the "large memory" the report ascribes to
  the kept model is not there in autofeat 2.1; it grows with the features selected, and a
  wider frame than the large profile's could cross the floor.
* ``fixed`` — both: the report's ``clear_model()`` in ``finally`` and the JIT off: **CLEAN**.
  Switching the JIT off goes beyond the report, which did not see the numba growth; without it
  the report's fix does not stop the growth (``clear-model-only``).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from memleak_cli.scenarios.contract import Scenario, Variant

from ._market import market_frame, nonlinear_target


class AutoFeatCalculator:
    """feature_engineering/automl_features/autofeat_calculator.py as the report found it."""

    def __init__(
        self, transformations: tuple[str, ...] = ("1/", "^2", "sqrt"), featsel_runs: int = 1
    ) -> None:
        self.transformations = transformations
        self.featsel_runs = featsel_runs
        self.autofeat_model: Any = None  # keeps the fitted model after fit_transform (line 43)

    def generate_features(self, frame: Any, target: Any) -> Any:
        """Fit AutoFeat on *frame* (``rows × columns``) and *target*; return the frame with the
        selected engineered columns added (a ``pandas.DataFrame``, same rows)."""
        import warnings

        from autofeat import AutoFeatRegressor

        self.autofeat_model = AutoFeatRegressor(
            feateng_steps=1,
            featsel_runs=self.featsel_runs,
            transformations=self.transformations,
            n_jobs=1,
            verbose=0,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # autofeat's pandas FutureWarnings, once per fit
            return self.autofeat_model.fit_transform(frame, target)

    def clear_model(self) -> None:
        """The report's ``clear_model()``: exists, but the leaky code never calls it."""
        if self.autofeat_model is not None:
            for attr in ["feateng_cols_", "featsel_", "model_", "scaler_"]:
                if hasattr(self.autofeat_model, attr):  # only feateng_cols_ exists in autofeat 2.1
                    setattr(self.autofeat_model, attr, None)
            self.autofeat_model = None  # the statement that releases the model
            gc.collect()


class FeatureEngineeringService:
    """The service that owns the calculator (one per process, like the backend's singletons)."""

    def __init__(self) -> None:
        self.autofeat_calculator = AutoFeatCalculator()


feature_service = FeatureEngineeringService()


# --- fixes ------------------------------------------------------------------------------------
@contextmanager
def clear_model_after(calculator: AutoFeatCalculator) -> Iterator[AutoFeatCalculator]:
    """The report's fix: ``clear_model()`` at the right time, in ``finally`` after the features."""
    try:
        yield calculator
    finally:
        calculator.clear_model()


@contextmanager
def numba_jit_disabled() -> Iterator[None]:
    """Beyond the report: switch numba's JIT off while AutoFeat fits, so ``numba.njit`` returns
    the lambdified numpy function instead of compiling machine code that is never freed."""
    import numba

    config: Any = numba.config  # DISABLE_JIT is set from the environment at import
    previous = config.DISABLE_JIT
    config.DISABLE_JIT = True
    try:
        yield
    finally:
        config.DISABLE_JIT = previous


# --- variants ---------------------------------------------------------------------------------
def _workload(size: Mapping[str, Any]) -> Any:
    frame = market_frame(size["rows"], seed=0)[list(size["columns"])]
    target = nonlinear_target(market_frame(size["rows"], seed=0), seed=0)
    calculator = feature_service.autofeat_calculator
    calculator.transformations = tuple(size["transformations"])

    def run() -> None:
        features = calculator.generate_features(frame, target)
        assert len(features) == len(frame)

    return run


def leaky(size: Mapping[str, Any]) -> Any:
    """The code as found: the model stays in ``autofeat_model``, numba compiles per fit."""
    return _workload(size)


def clear_model_only(size: Mapping[str, Any]) -> Any:
    """The report's fix alone: ``clear_model()`` in ``finally``."""
    run = _workload(size)

    def iteration() -> None:
        with clear_model_after(feature_service.autofeat_calculator):
            run()

    return iteration


def jit_off_only(size: Mapping[str, Any]) -> Any:
    """numba's JIT off during the fit, ``clear_model()`` not called: the model retention alone."""
    run = _workload(size)

    def iteration() -> None:
        with numba_jit_disabled():
            run()

    return iteration


def fixed(size: Mapping[str, Any]) -> Any:
    """The report's ``clear_model()`` in ``finally`` and numba's JIT off during the fit."""
    run = _workload(size)

    def iteration() -> None:
        with clear_model_after(feature_service.autofeat_calculator), numba_jit_disabled():
            run()

    return iteration


SCENARIO = Scenario(
    name="autofeat",
    description=(
        "AutoFeatCalculator keeps its AutoFeat model; each fit JIT-compiles code numba never frees"
    ),
    finding="2",
    module=__name__,
    sizes={
        "small": {"rows": 100, "columns": ("close", "volume"), "transformations": ("1/",)},
        "medium": {
            "rows": 500,
            "columns": ("high", "low", "close", "volume"),
            "transformations": ("1/", "^2", "sqrt"),
        },
        "large": {
            "rows": 3000,
            "columns": ("open", "high", "low", "close", "volume"),
            "transformations": ("1/", "^2", "sqrt", "log", "abs"),
        },
    },
    variants={
        "leaky": Variant(
            "leaky",
            leaky,
            expect="LEAK",
            summary="keeps the latest model; numba compiles new code every fit",
        ),
        "fixed": Variant(
            "fixed",
            fixed,
            expect="CLEAN",
            fix=[AutoFeatCalculator.clear_model, clear_model_after, numba_jit_disabled],
            summary="report's clear_model() in finally, and numba's JIT off during the fit",
        ),
        "clear-model-only": Variant(
            "clear-model-only",
            clear_model_only,
            expect="LEAK",
            fix=[AutoFeatCalculator.clear_model, clear_model_after],
            summary="report's clear_model() alone: drops the model, numba's code still grows",
        ),
        "jit-off-only": Variant(
            "jit-off-only",
            jit_off_only,
            expect="CLEAN",
            fix=numba_jit_disabled,
            summary="JIT off, model kept: only the report's retention is left",
        ),
    },
)
