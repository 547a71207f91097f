"""Finding 4 — ``EnsembleTrainer.ensemble_model`` holds several models; its cleanup is incomplete.

As the report found it: the module-level ``ml_training_service`` (``trainer_type="ensemble"``)
owns an ``EnsembleTrainer``. Each run fits a stacking ensemble on seeded data — several real
LightGBM regressors (their out-of-fold predictions from scikit-learn's ``cross_val_predict``)
and a scikit-learn ``Ridge`` meta-model on top — keeps it in ``self.ensemble_model``, and files
every base model in ``self.trained_models`` under ``"<run>/<name>"`` (for feature importances
and later comparison). After the run the service calls ``cleanup_resources()``, which drops
only the meta-model and the out-of-fold predictions.

Verdict of the leaky variant: **LEAK**. ``trained_models`` gains every run's base models and
nothing removes them, so the process grows per run: Python objects (the ``LGBMRegressor``
wrappers, their parameters) and native memory that tracemalloc cannot see — each model's
LightGBM ``Booster`` keeps its trees in C++, seen by ``heap_bytes``. Measured at medium (20
iterations): the C heap grows ~300 KiB per run while tracemalloc traces ~15 KiB per run; at
small the native part (~57 KiB per run) stays under the 64 KiB threshold and the verdict rests
on gc objects. The latest ``ensemble_model`` is kept on top of that (bounded).

The fix completes ``cleanup_resources()``: every base model leaves ``ensemble_model`` and
``trained_models``, and ``ensemble_model`` itself goes. Of its steps, ``booster.free_dataset()``
frees nothing here: ``lightgbm.train`` already frees the training ``Dataset`` when
``keep_training_booster=False`` (what ``LGBMRegressor.fit`` uses). The ``free-dataset-only``
variant adds that step alone to the incomplete cleanup, and the measurement shows it still
LEAKs as much as the leaky code; dropping the references is what releases the boosters.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Mapping
from typing import Any

from memleak_cli.scenarios.contract import Scenario, Variant

from ._data import regression_data


class StackingEnsemble:
    """ensemble/stacking.py: LightGBM base models, a Ridge meta-model on their OOF output."""

    def __init__(self, base_params: list[dict[str, Any]], n_folds: int) -> None:
        self.base_params = base_params
        self.n_folds = n_folds
        self.base_models: list[Any] = []
        self.meta_model: Any = None
        self.oof_predictions: Any = None  # rows × base models, float64

    def fit(self, X: Any, y: Any) -> StackingEnsemble:
        """Fit every base model on all of *X* (``rows × features``) and the meta-model on their
        out-of-fold predictions (scikit-learn ``cross_val_predict`` with ``n_folds`` folds)."""
        import lightgbm as lgb
        import numpy as np
        from sklearn.linear_model import Ridge
        from sklearn.model_selection import KFold, cross_val_predict

        folds = KFold(n_splits=self.n_folds, shuffle=True, random_state=0)
        columns = []
        self.base_models = []
        for params in self.base_params:
            model = lgb.LGBMRegressor(**params, random_state=0, verbosity=-1, n_jobs=1)
            columns.append(cross_val_predict(model, X, y, cv=folds))
            self.base_models.append(model.fit(X, y))
        self.oof_predictions = np.column_stack(columns)
        self.meta_model = Ridge(alpha=1.0).fit(self.oof_predictions, y)
        return self

    def predict(self, X: Any) -> Any:
        """Meta-model prediction from the base models' predictions; one float per row of *X*."""
        import numpy as np

        return self.meta_model.predict(np.column_stack([m.predict(X) for m in self.base_models]))


class EnsembleTrainer:
    """ensemble/ensemble_trainer.py as the report found it."""

    def __init__(self, base_params: list[dict[str, Any]] | None = None, n_folds: int = 3) -> None:
        self.base_params = base_params or []
        self.n_folds = n_folds
        self.ensemble_model: StackingEnsemble | None = None  # holds several models (line 46)
        self.trained_models: dict[
            str, Any
        ] = {}  # "<run>/<name>" → fitted base model, never emptied
        self.runs = 0

    def train(self, X: Any, y: Any, X_test: Any, y_test: Any) -> dict[str, float]:
        """Fit the stacking ensemble; return its hold-out mean squared error."""
        self.runs += 1
        self.ensemble_model = StackingEnsemble(self.base_params, self.n_folds).fit(X, y)
        for index, model in enumerate(self.ensemble_model.base_models):
            self.trained_models[f"run{self.runs}/lgbm_{index}"] = model
        mse = float(((self.ensemble_model.predict(X_test) - y_test) ** 2).mean())
        return {"mse": mse}

    def cleanup_resources(self) -> None:
        """As found: drops the meta-model and the out-of-fold predictions, nothing else."""
        if self.ensemble_model is not None:
            self.ensemble_model.meta_model = None
            self.ensemble_model.oof_predictions = None


class MLTrainingService:
    """services/ml/ml_training_service.py: the service that owns the trainer."""

    def __init__(self, trainer_type: str = "ensemble", automl_config: Any = None) -> None:
        self.trainer_type = trainer_type
        self.automl_config = automl_config
        self.trainer = EnsembleTrainer()


# The module-level singleton of the backend (ml_training_service.py:685).
ml_training_service = MLTrainingService(trainer_type="ensemble", automl_config=None)

Cleanup = Callable[[EnsembleTrainer], None]


# --- the report's fix, completed ----------------------------------------------------------
def complete_cleanup_resources(self: EnsembleTrainer) -> None:
    """``cleanup_resources()`` completed: every model leaves the trainer, then ``gc.collect()``."""
    if self.ensemble_model is not None:
        for model in self.ensemble_model.base_models:
            model.booster_.free_dataset()  # frees nothing: LGBMRegressor.fit already freed it
        self.ensemble_model.base_models.clear()
        self.ensemble_model.meta_model = None
        self.ensemble_model.oof_predictions = None
        self.ensemble_model = None
    self.trained_models.clear()
    gc.collect()


def free_dataset_only(self: EnsembleTrainer) -> None:
    """The incomplete cleanup plus ``booster.free_dataset()`` on each base model (frees nothing)."""
    EnsembleTrainer.cleanup_resources(self)
    for model in self.trained_models.values():
        model.booster_.free_dataset()


# --- variants ---------------------------------------------------------------------------------
def _workload(size: Mapping[str, Any], cleanup: Cleanup) -> Any:
    X, y = regression_data(size["rows"] + size["rows"] // 4, features=size["features"], seed=0)
    split = size["rows"]
    trainer = ml_training_service.trainer
    trainer.n_folds = size["folds"]
    trainer.base_params = [
        {"n_estimators": size["estimators"], "num_leaves": leaves, "learning_rate": 0.1}
        for leaves in size["leaves"]
    ]

    def run() -> None:
        try:
            trainer.train(X[:split], y[:split], X[split:], y[split:])
        finally:
            cleanup(trainer)  # the service cleans up after every run

    return run


def leaky(size: Mapping[str, Any]) -> Any:
    """The code as the report found it: the incomplete ``cleanup_resources()`` after each run."""
    return _workload(size, EnsembleTrainer.cleanup_resources)


def fixed(size: Mapping[str, Any]) -> Any:
    """The same run with ``cleanup_resources()`` completed."""
    return _workload(size, complete_cleanup_resources)


def free_dataset(size: Mapping[str, Any]) -> Any:
    """The same run with the incomplete cleanup plus ``booster.free_dataset()``."""
    return _workload(size, free_dataset_only)


SCENARIO = Scenario(
    name="ensemble",
    description=(
        "EnsembleTrainer files every run's LightGBM base models; cleanup_resources() misses them"
    ),
    finding="4",
    module=__name__,
    sizes={
        "small": {"rows": 300, "features": 8, "folds": 2, "estimators": 15, "leaves": (7, 15)},
        "medium": {
            "rows": 1500,
            "features": 20,
            "folds": 3,
            "estimators": 30,
            "leaves": (15, 31, 63),
        },
        "large": {
            "rows": 20000,
            "features": 40,
            "folds": 5,
            "estimators": 200,
            "leaves": (31, 63, 127),
        },
    },
    variants={
        "leaky": Variant(
            "leaky", leaky, expect="LEAK", summary="trained_models keeps every run's base models"
        ),
        "fixed": Variant(
            "fixed",
            fixed,
            expect="CLEAN",
            fix=complete_cleanup_resources,
            summary="complete cleanup_resources(): every model leaves the trainer",
        ),
        "free-dataset-only": Variant(
            "free-dataset-only",
            free_dataset,
            expect="LEAK",
            fix=free_dataset_only,
            summary="only booster.free_dataset(): the Datasets were already freed, frees nothing",
        ),
    },
)
