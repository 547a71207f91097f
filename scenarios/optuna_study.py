"""Finding 3 — ``OptunaOptimizer.study`` keeps the ``optuna.Study`` after optimisation ends.

As the report found it: ``MLTrainingService`` (a module-level singleton,
``ml_training_service``) owns an ``OptunaOptimizer`` whose ``optimize()`` creates a study,
tunes real LightGBM hyperparameters on seeded data, and keeps the study in ``self.study``.

Verdict of the leaky variant: **RETAINS**, not LEAK. The singleton holds only its *latest*
study: each run replaces the previous one, so memory does not grow per run, but one study (its
trials, sampler and storage) stays alive after the work ended — bounded retention.

The fix is the report's ``cleanup()`` applied in a ``finally`` (a context manager). Of its
statements only ``self.study = None`` releases anything: ``optuna.Study.trials`` returns a deep
copy on every access, so ``self.study.trials.clear()`` clears a copy and frees nothing. The
``trials-clear-only`` variant applies that statement alone, and the measurement shows it
RETAINS exactly as much as the leaky code.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from memleak_cli.scenarios.contract import Scenario, Variant

from ._data import regression_data


class OptunaOptimizer:
    """optimization/optuna_optimizer.py as the report found it: no cleanup method."""

    def __init__(self) -> None:
        self.study: Any = None

    def optimize(self, objective: Any, n_trials: int, seed: int = 0) -> dict[str, Any]:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed))
        self.study.optimize(objective, n_trials=n_trials)
        return dict(self.study.best_params)


class MLTrainingService:
    """services/ml/ml_training_service.py: the service that owns the optimizer."""

    def __init__(self, trainer_type: str = "ensemble", automl_config: Any = None) -> None:
        self.trainer_type = trainer_type
        self.automl_config = automl_config
        self.optimizer = OptunaOptimizer()

    def tune(self, X: Any, y: Any, n_trials: int, n_estimators: int) -> dict[str, Any]:
        """Tune LightGBM's num_leaves, learning_rate and min_child_samples on a hold-out split."""
        import lightgbm as lgb

        split = int(len(y) * 0.8)

        def objective(trial: Any) -> float:
            model = lgb.LGBMRegressor(
                n_estimators=n_estimators,
                num_leaves=trial.suggest_int("num_leaves", 4, 32),
                learning_rate=trial.suggest_float("learning_rate", 0.02, 0.3, log=True),
                min_child_samples=trial.suggest_int("min_child_samples", 5, 30),
                verbosity=-1,
                n_jobs=1,
            )
            model.fit(X[:split], y[:split])
            return float(((model.predict(X[split:]) - y[split:]) ** 2).mean())

        return self.optimizer.optimize(objective, n_trials=n_trials)


# The module-level singleton of the backend (ml_training_service.py:685).
ml_training_service = MLTrainingService(trainer_type="ensemble", automl_config=None)


# --- the report's fix -------------------------------------------------------------------------
def cleanup(self: OptunaOptimizer) -> None:
    """``OptunaOptimizer.cleanup()`` as the report proposes it."""
    if self.study is not None:
        self.study.trials.clear()  # frees nothing: Study.trials is a deep copy on every access
        self.study = None  # the statement that releases the study
    gc.collect()


@contextmanager
def optimization_context(optimizer: OptunaOptimizer) -> Iterator[OptunaOptimizer]:
    """The report's context manager: ``cleanup()`` in ``finally``, whatever the run did."""
    try:
        yield optimizer
    finally:
        cleanup(optimizer)


def trials_clear_only(self: OptunaOptimizer) -> None:
    """The first statement of the report's ``cleanup()`` alone, to show what it frees (nothing)."""
    if self.study is not None:
        self.study.trials.clear()


# --- variants ---------------------------------------------------------------------------------
def _workload(size: Mapping[str, Any]) -> Any:
    X, y = regression_data(size["rows"], seed=0)

    def run() -> None:
        ml_training_service.tune(X, y, n_trials=size["trials"], n_estimators=size["estimators"])

    return run


def leaky(size: Mapping[str, Any]) -> Any:
    """The code as the report found it: the study stays in ``ml_training_service.optimizer.study``."""
    return _workload(size)


def fixed(size: Mapping[str, Any]) -> Any:
    """The same run inside the report's ``optimization_context`` (``cleanup()`` in ``finally``)."""
    run = _workload(size)

    def iteration() -> None:
        with optimization_context(ml_training_service.optimizer):
            run()

    return iteration


def clear_only(size: Mapping[str, Any]) -> Any:
    """The same run followed by ``study.trials.clear()`` only."""
    run = _workload(size)

    def iteration() -> None:
        run()
        trials_clear_only(ml_training_service.optimizer)

    return iteration


SCENARIO = Scenario(
    name="optuna",
    description="OptunaOptimizer keeps its optuna.Study (trials, sampler, storage) after optimisation",
    finding="3",
    module=__name__,
    sizes={
        "small": {"rows": 300, "trials": 10, "estimators": 10},
        "medium": {"rows": 1000, "trials": 20, "estimators": 30},
        "large": {"rows": 5000, "trials": 50, "estimators": 100},
    },
    variants={
        "leaky": Variant("leaky", leaky, expect="RETAINS", summary="keeps the latest study in the singleton"),
        "fixed": Variant(
            "fixed", fixed, expect="CLEAN", fix=[cleanup, optimization_context],
            summary="report's cleanup() in a finally: self.study = None",
        ),
        "trials-clear-only": Variant(
            "trials-clear-only", clear_only, expect="RETAINS", fix=trials_clear_only,
            summary="only study.trials.clear(): clears a copy, frees nothing",
        ),
    },
)
