"""Finding 6 — ``BackgroundTaskManager`` keeps ``_task_resources`` / ``_cleanup_callbacks`` of ended tasks.

As the report found it (orchestration/background_task_manager.py): the module-level singleton
``background_task_manager`` registers each task's resources and cleanup callbacks under its task
id (``self._task_resources[task_id] = resources or []``, lines 63-64). A task here is real
work: it builds a seeded pandas feature frame and fits a LightGBM regressor on it; its resources
are ``[frame, model]`` and its cleanup callback drops the task's entry from the module-level
``task_progress`` dict the UI polls. When a task ends, ``complete_task()`` runs the callbacks
(stopping at the first that raises) but never drops the entries; a task that raises skips
``complete_task()`` altogether, so its callbacks never run.

Each iteration runs ``tasks`` training tasks; every ``fail_every``-th task gets a batch whose
target has NaN values, LightGBM raises ``ValueError``, and the iteration catches it so the run
goes on — as the service's task runner logs a failed task and carries on.

Verdict of the leaky variant: **LEAK**. Entries accumulate per task id, each holding a frame
and a fitted model, so memory grows with every task; the reference chain ends in
``background_task_manager._task_resources[...]``.

The fix is the report's: run every callback (one that raises does not stop the others) and drop
both entries, in a ``finally`` so the failing task is cleaned too (:func:`cleanup_task` in the
:func:`task_cleanup` context manager). Fixed variant: **CLEAN**.
"""

from __future__ import annotations

import functools
import itertools
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from memleak_cli.scenarios.contract import Scenario, Variant

from ._data import feature_frame

logger = logging.getLogger(__name__)

# ml_training_orchestration_service.py keeps per-task progress for the UI in a module dict.
task_progress: dict[str, dict[str, Any]] = {}


class BackgroundTaskManager:
    """orchestration/background_task_manager.py as the report found it."""

    def __init__(self) -> None:
        self._task_resources: dict[str, list[Any]] = {}
        self._cleanup_callbacks: dict[str, list[Callable[[], object]]] = {}

    def start_task(self, task_id: str, resources: list[Any] | None = None, cleanup_callbacks: list[Callable[[], object]] | None = None) -> None:
        """Register a task's resources and cleanup callbacks under its id (lines 63-64)."""
        self._task_resources[task_id] = resources or []
        self._cleanup_callbacks[task_id] = cleanup_callbacks or []

    def complete_task(self, task_id: str) -> None:
        """Run the task's cleanup callbacks; the first that raises stops the rest. Entries stay."""
        for callback in self._cleanup_callbacks.get(task_id, []):
            callback()

    def run_task(self, task_id: str, work: Callable[[list[Any]], Any], resources: list[Any], cleanup_callbacks: list[Callable[[], object]]) -> Any:
        """Register, run ``work(resources)``, complete. A task that raises never reaches ``complete_task``."""
        self.start_task(task_id, resources, cleanup_callbacks)
        result = work(self._task_resources[task_id])
        self.complete_task(task_id)
        return result


# The module-level singleton (background_task_manager.py:214).
background_task_manager = BackgroundTaskManager()


# --- the report's fix -------------------------------------------------------------------------
def cleanup_task(manager: BackgroundTaskManager, task_id: str) -> None:
    """Run every cleanup callback of *task_id* (one raising does not stop the others) and drop its entries."""
    for callback in manager._cleanup_callbacks.pop(task_id, []):
        try:
            callback()
        except Exception:  # a failing callback must not keep the others from running
            logger.exception("cleanup callback of task %s failed", task_id)
    manager._task_resources.pop(task_id, None)


@contextmanager
def task_cleanup(manager: BackgroundTaskManager, task_id: str) -> Iterator[None]:
    """The fix applied around a task: :func:`cleanup_task` in ``finally``, whether the task raised or not."""
    try:
        yield
    finally:
        cleanup_task(manager, task_id)


# --- the workload -----------------------------------------------------------------------------
def _train(estimators: int) -> Callable[[list[Any]], float]:
    """The task body: fit LightGBM on the frame in ``resources``, keep the model there, return the R²."""

    def work(resources: list[Any]) -> float:
        import lightgbm as lgb

        frame, target = resources[0], resources[1]
        model = lgb.LGBMRegressor(n_estimators=estimators, num_leaves=15, verbosity=-1, n_jobs=1)
        model.fit(frame, target)  # ValueError("Input y contains NaN.") on a bad batch
        resources.append(model)
        return float(model.score(frame, target))

    return work


def _workload(size: Mapping[str, Any], guard: Callable[[BackgroundTaskManager, str], Any] | None) -> Callable[[], None]:
    counter = itertools.count()
    work = _train(size["estimators"])

    def run() -> None:
        for _ in range(size["tasks"]):
            number = next(counter)
            task_id = f"task-{number:05d}"
            frame, target = feature_frame(size["rows"], size["columns"], seed=number)
            if number % size["fail_every"] == size["fail_every"] - 1:
                target.iloc[::7] = float("nan")  # a batch with missing labels: the task raises
            task_progress[task_id] = {"status": "running", "progress": 0}
            callbacks: list[Callable[[], object]] = [functools.partial(task_progress.pop, task_id, None)]
            try:
                if guard is None:
                    background_task_manager.run_task(task_id, work, [frame, target], callbacks)
                else:
                    with guard(background_task_manager, task_id):
                        background_task_manager.run_task(task_id, work, [frame, target], callbacks)
            except ValueError:
                logger.debug("task %s failed", task_id)  # the runner logs it and carries on
            del frame, target, callbacks

    return run


def leaky(size: Mapping[str, Any]) -> Callable[[], None]:
    """The code as the report found it: entries stay; a failing task skips its callbacks too."""
    return _workload(size, None)


def fixed(size: Mapping[str, Any]) -> Callable[[], None]:
    """The same tasks inside the report's fix, :func:`task_cleanup` (every callback, entries dropped, in ``finally``)."""
    return _workload(size, task_cleanup)


SCENARIO = Scenario(
    name="background-tasks",
    description="BackgroundTaskManager keeps each ended task's resources (frame + LightGBM model) by task id",
    finding="6",
    module=__name__,
    sizes={
        "small": {"tasks": 2, "fail_every": 4, "rows": 300, "columns": 8, "estimators": 10},
        "medium": {"tasks": 3, "fail_every": 4, "rows": 2000, "columns": 20, "estimators": 20},
        "large": {"tasks": 8, "fail_every": 4, "rows": 10000, "columns": 40, "estimators": 100},
    },
    variants={
        "leaky": Variant("leaky", leaky, expect="LEAK", summary="entries kept per task id; a failing task skips cleanup"),
        "fixed": Variant(
            "fixed", fixed, expect="CLEAN", fix=[cleanup_task, task_cleanup],
            summary="report's fix: every callback run and entries dropped in finally",
        ),
    },
)
