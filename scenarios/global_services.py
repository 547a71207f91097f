"""Finding 1 — module-level singletons keep models and data for the life of the process.

As the report found it: four module globals of the backend — ``ml_training_service =
MLTrainingService(trainer_type="ensemble", automl_config=None)``, ``background_task_manager``,
``model_manager`` and the ``training_status`` dict. Each run is a background training task:
registered with ``background_task_manager``, reported in ``training_status``, trained by the
singleton service — a real scikit-learn ``VotingRegressor`` of a LightGBM regressor and a
``Ridge`` on this run's seeded data — and saved by ``model_manager`` (joblib, into a temporary
models directory). The service keeps its trainer's latest model and data, and appends every
run's result — model, training data, metrics — to ``self.training_history``.
``MLTrainingService.cleanup_resources()`` exists, but nothing calls it on the singleton.

Verdict of the leaky variant: **LEAK**. ``training_history`` gains one model and one run's data
per run, held by a module global that is never collected: Python objects, numpy buffers
(``py_blocks``, ``heap_bytes``) and each LightGBM booster's native trees. The background task
manager, the model manager and ``training_status`` are cleaned up correctly here (finding 6 has
the task manager's own faults); what they keep between runs is a few hundred bytes.

The fix is the report's: ``MLServiceFactory`` and the context manager ``ml_training_context``,
which creates a service per run and calls ``cleanup_resources()`` in ``finally``, plus
``periodic_memory_cleanup()`` after each run (it cleans the singleton and every background task
and logs what ``gc.collect()`` freed). With a service made per run, its ``cleanup_resources()``
is a second line of defence: nothing global holds that service, so it is freed when the
``with`` block ends anyway. The ``periodic-cleanup-only`` variant keeps the singleton and only
adds ``periodic_memory_cleanup()`` after each run: it is CLEAN too, because that call is what
empties the singleton's history.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from memleak_cli.scenarios.contract import Scenario, Variant

from ._data import regression_data

logger = logging.getLogger(__name__)


class EnsembleModelTrainer:
    """The service's trainer: a VotingRegressor of LightGBM and Ridge; keeps the latest model."""

    def __init__(self, n_estimators: int = 20) -> None:
        self.n_estimators = n_estimators
        self.model: Any = None
        self.X_train: Any = None  # rows × features, float64
        self.y_train: Any = None

    def train(self, X: Any, y: Any) -> Any:
        """Fit on *X* (``rows × features``) and *y*; return the fitted VotingRegressor."""
        import lightgbm as lgb
        from sklearn.ensemble import VotingRegressor
        from sklearn.linear_model import Ridge

        self.X_train, self.y_train = X, y
        self.model = VotingRegressor(
            [
                (
                    "lgbm",
                    lgb.LGBMRegressor(
                        n_estimators=self.n_estimators, random_state=0, verbosity=-1, n_jobs=1
                    ),
                ),
                ("ridge", Ridge()),
            ]
        ).fit(X, y)
        return self.model


class MLTrainingService:
    """services/ml/ml_training_service.py as the report found it."""

    def __init__(self, trainer_type: str = "ensemble", automl_config: Any = None) -> None:
        self.trainer_type = trainer_type
        self.automl_config = automl_config
        self.trainer = EnsembleModelTrainer()
        self.training_history: list[dict[str, Any]] = []  # every run's result, never emptied

    def train_model(self, X: Any, y: Any, X_test: Any, y_test: Any) -> dict[str, Any]:
        """Train on *X*/*y*, score on the hold-out; return ``{"model", "mse", "rows"}``."""
        model = self.trainer.train(X, y)
        mse = float(((model.predict(X_test) - y_test) ** 2).mean())
        result = {"model": model, "X_train": X, "y_train": y, "mse": mse, "rows": len(y)}
        self.training_history.append(result)
        return result

    def cleanup_resources(self) -> None:
        """Drop the trainer's model and data and the history (nobody calls it on the singleton)."""
        self.trainer.model = self.trainer.X_train = self.trainer.y_train = None
        self.training_history.clear()


class BackgroundTaskManager:
    """orchestration/background_task_manager.py: tasks, their resources and cleanup callbacks."""

    def __init__(self) -> None:
        self._active_tasks: dict[str, dict[str, Any]] = {}
        self._task_resources: dict[str, list[Any]] = {}
        self._cleanup_callbacks: dict[str, list[Any]] = {}

    def register_task(
        self,
        task_id: str,
        resources: list[Any] | None = None,
        cleanup_callbacks: list[Any] | None = None,
    ) -> None:
        """Start tracking *task_id*."""
        self._active_tasks[task_id] = {"status": "running"}
        self._task_resources[task_id] = resources or []
        self._cleanup_callbacks[task_id] = cleanup_callbacks or []

    def unregister_task(self, task_id: str) -> None:
        """Run the task's cleanup callbacks and forget it."""
        for callback in self._cleanup_callbacks.pop(task_id, []):
            callback()
        self._task_resources.pop(task_id, None)
        self._active_tasks.pop(task_id, None)

    def cleanup_all_tasks(self) -> None:
        """Unregister every task still tracked."""
        for task_id in list(self._active_tasks):
            self.unregister_task(task_id)


class ModelManager:
    """model_manager.py: saves models with joblib into the models directory."""

    def __init__(self) -> None:
        self._directory: Any = None  # a tempfile.TemporaryDirectory, made on first save

    def save_model(self, model: Any, model_name: str, metadata: dict[str, Any]) -> str:
        """Write ``{"model", "metadata"}`` to ``<models dir>/<model_name>.pkl``; return the path."""
        import os
        import tempfile

        import joblib

        if self._directory is None:
            self._directory = tempfile.TemporaryDirectory(prefix="memleak-models-")
        path = os.path.join(self._directory.name, f"{model_name}.pkl")
        joblib.dump({"model": model, "metadata": metadata}, path)
        return path


# The backend's module-level singletons (ml_training_service.py:685,
# background_task_manager.py:214, model_manager.py:494, ml_training_orchestration_service.py:28).
ml_training_service = MLTrainingService(trainer_type="ensemble", automl_config=None)
background_task_manager = BackgroundTaskManager()
model_manager = ModelManager()
training_status: dict[str, Any] = {
    "is_training": False,
    "progress": 0,
    "status": "idle",
    "message": "",
    "model_info": None,
    "error": None,
}


def run_training(service: MLTrainingService, run: int, size: Mapping[str, Any]) -> float:
    """One background training task (ml_training_orchestration_service.py): this run's data, the
    model trained by *service*, saved by ``model_manager``; returns the hold-out MSE."""
    task_id = f"training-{run}"
    background_task_manager.register_task(task_id, resources=[service])
    training_status.update(
        is_training=True, progress=0, status="training", message=f"run {run}", error=None
    )
    try:
        X, y = regression_data(
            size["rows"] + size["rows"] // 4, features=size["features"], seed=run
        )
        split = size["rows"]
        service.trainer.n_estimators = size["estimators"]
        result = service.train_model(X[:split], y[:split], X[split:], y[split:])
        model_manager.save_model(
            result["model"],
            f"{service.trainer_type}_latest",
            {"mse": result["mse"], "rows": result["rows"]},
        )
        training_status.update(
            progress=100,
            status="completed",
            model_info={"mse": result["mse"], "rows": result["rows"]},
        )
        return result["mse"]
    finally:
        training_status["is_training"] = False
        background_task_manager.unregister_task(task_id)


# --- the report's fix -------------------------------------------------------------------------
class MLServiceFactory:
    """The report's factory: a service per use, cleaned up when done."""

    @staticmethod
    def create_training_service(**kwargs: Any) -> MLTrainingService:
        return MLTrainingService(**kwargs)

    @staticmethod
    def cleanup_service(service: Any) -> None:
        if hasattr(service, "cleanup_resources"):
            service.cleanup_resources()


@contextmanager
def ml_training_context(**kwargs: Any) -> Iterator[MLTrainingService]:
    """The report's context manager: ``cleanup_resources()`` in ``finally``."""
    service = MLServiceFactory.create_training_service(**kwargs)
    try:
        yield service
    finally:
        MLServiceFactory.cleanup_service(service)


def periodic_memory_cleanup() -> int:
    """The report's periodic cleanup: the singleton, every background task, then ``gc.collect()``;
    returns (and logs) how many objects the collection freed."""
    if hasattr(ml_training_service, "cleanup_resources"):
        ml_training_service.cleanup_resources()
    background_task_manager.cleanup_all_tasks()
    collected = gc.collect()
    logger.info("periodic cleanup done: %d objects collected", collected)
    return collected


# --- variants ---------------------------------------------------------------------------------
def leaky(size: Mapping[str, Any]) -> Any:
    """The code as found: every run trained by the singleton, which is never cleaned."""
    state = {"run": 0}

    def iteration() -> None:
        state["run"] += 1
        run_training(ml_training_service, state["run"], size)

    return iteration


def fixed(size: Mapping[str, Any]) -> Any:
    """A service per run from ``ml_training_context``, then ``periodic_memory_cleanup()``."""
    state = {"run": 0}

    def iteration() -> None:
        state["run"] += 1
        with ml_training_context(trainer_type="ensemble", automl_config=None) as service:
            run_training(service, state["run"], size)
        periodic_memory_cleanup()

    return iteration


def periodic_only(size: Mapping[str, Any]) -> Any:
    """The singleton as found, with ``periodic_memory_cleanup()`` after each run."""
    state = {"run": 0}

    def iteration() -> None:
        state["run"] += 1
        run_training(ml_training_service, state["run"], size)
        periodic_memory_cleanup()

    return iteration


SCENARIO = Scenario(
    name="global-services",
    description="Module-level singletons (ml_training_service, …) keep every run's model and data",
    finding="1",
    module=__name__,
    sizes={
        "small": {"rows": 300, "features": 8, "estimators": 15},
        "medium": {"rows": 2000, "features": 20, "estimators": 50},
        "large": {"rows": 20000, "features": 40, "estimators": 200},
    },
    variants={
        "leaky": Variant(
            "leaky",
            leaky,
            expect="LEAK",
            summary="ml_training_service.training_history keeps every run",
        ),
        "fixed": Variant(
            "fixed",
            fixed,
            expect="CLEAN",
            fix=[MLServiceFactory, ml_training_context, periodic_memory_cleanup],
            summary="report's factory + ml_training_context; periodic_memory_cleanup() after runs",
        ),
        "periodic-cleanup-only": Variant(
            "periodic-cleanup-only",
            periodic_only,
            expect="CLEAN",
            fix=periodic_memory_cleanup,
            summary="singleton kept, periodic_memory_cleanup() after each run",
        ),
    },
)
