"""Summary cause — circular references that delay or prevent release, with the collector tuned down.

The service objects here reference each other as the backend's do: a ``TrainingSession`` (one per
training request, holding the request's pandas frame) owns a ``ModelTrainer`` that points back
at the session (``trainer.session``) and holds the fitted LightGBM model, and the trainer
registers itself as a listener with the module-level ``model_manager`` so it hears when its
model is saved. The service runs with the cyclic collector switched off
(``gc.disable()`` in the factory), as latency-sensitive services tune it; the factory restores
the previous settings at exit (each variant runs in its own process anyway).

What memleak measures, and why it matters here: the worker calls ``gc.collect()`` after every
iteration before it samples, so every metric is *what survives a full collection*. A cycle the
collector can reach is freed by that collection, however long the service itself would have
waited for one: delayed release is a peak between collections, not growth, and shows as CLEAN.
A cycle leaks for good only when something keeps it reachable or hides it from the collector:

* ``leaky`` — **LEAK**. The realistic design: the back-reference from the long-lived singleton
  (``model_manager._listeners``, the list of registered trainers) keeps every trainer, and through the
  cycle its session, frame and model, reachable. No collection frees them; the reference chain
  ends in ``model_manager._listeners[...]``.
* ``fixed`` — **CLEAN**. The fix breaks the cycles by explicit teardown (:func:`session_scope`:
  listener removed, ``trainer.session`` and ``session.trainer`` set to None in ``finally``), so
  reference counting alone frees the session the moment the request drops it — no collector
  needed, which is what a service running with ``gc.disable()`` requires.
* ``cycle-kept`` — **CLEAN** in this measurement. Only the listener is removed
  (:func:`remove_listener_only`); the session ⇄ trainer cycle stays, so each session is garbage
  that only the cyclic collector can free. With the collector off the service would hold every
  session made since the last collection; the worker's ``gc.collect()`` frees them before each
  sample, so no growth is measured — the honest result for a collectable cycle.
* ``cycle-kept-frozen`` — **LEAK**. The same code with the other common tuning: ``gc.freeze()``
  after every request (keeping a loaded model's objects out of collector scans, or before
  forking workers). Freezing moves the not-yet-collected cycles into the permanent generation,
  which ``gc.collect()`` never examines: collectable garbage becomes a leak. Frozen objects are
  not in ``gc.get_objects()``, so the gc-object count and the retained-object probe cannot see
  them; Python heap blocks and the C heap do.
* ``fixed-frozen`` — **CLEAN**. The fix under the same freezing, done the way the ``gc.freeze``
  documentation implies: collect, then freeze. The fix alone is not enough under freezing:
  LightGBM's own ``ctypes.cast`` calls leave small reference cycles on every fit, and freezing
  them uncollected pins them — memleak's evidence-based verdict measured that residual at +14
  Python heap blocks (~1.5 KiB) per request, every delta positive over 40 iterations.
"""

from __future__ import annotations

import atexit
import gc
import itertools
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from memleak_cli.scenarios.contract import Scenario, Variant

from ._data import feature_frame


class ModelManager:
    """model_manager.py: the module-level service that saves models and notifies listeners."""

    def __init__(self) -> None:
        self._listeners: list[ModelTrainer] = []
        self.saved_models = 0

    def add_listener(self, listener: ModelTrainer) -> None:
        """Call ``listener.on_model_saved(name, size in bytes)`` whenever a model is saved."""
        self._listeners.append(listener)

    def remove_listener(self, listener: ModelTrainer) -> None:
        """Stop notifying *listener*.

        Raises:
            ValueError: *listener* is not registered.
        """
        self._listeners.remove(listener)

    def save_model(self, name: str, model: Any) -> int:
        """Serialise *model*'s booster (``model_to_string``), count it, notify listeners; returns its size in bytes."""
        size = len(model.booster_.model_to_string())
        self.saved_models += 1
        for listener in list(self._listeners):
            listener.on_model_saved(name, size)
        return size


# The module-level singleton (model_manager.py:494).
model_manager = ModelManager()


class ModelTrainer:
    """Fits the session's model; points back at its session and listens to the model manager."""

    def __init__(self, session: TrainingSession, estimators: int) -> None:
        self.session: TrainingSession | None = session  # back-reference: session ⇄ trainer cycle
        self.estimators = estimators
        self.model: Any = None
        model_manager.add_listener(self)  # the singleton now holds the trainer, and so the session

    def fit(self) -> None:
        """Fit LightGBM on the session's frame and save it through the model manager."""
        import lightgbm as lgb

        assert self.session is not None
        self.model = lgb.LGBMRegressor(n_estimators=self.estimators, num_leaves=15, verbosity=-1, n_jobs=1)
        self.model.fit(self.session.frame, self.session.target)
        model_manager.save_model(self.session.request_id, self.model)

    def on_model_saved(self, name: str, size: int) -> None:
        """Record the save in the session's status when it is this session's model."""
        if self.session is not None and name == self.session.request_id:
            self.session.status.update(saved=True, model_bytes=size)


class TrainingSession:
    """One training request: its data, its trainer and a status the API reports."""

    def __init__(self, request_id: str, frame: Any, target: Any, estimators: int) -> None:
        self.request_id = request_id
        self.frame = frame
        self.target = target
        self.status: dict[str, Any] = {"saved": False}
        self.trainer: ModelTrainer | None = ModelTrainer(self, estimators)


# --- the fix: break the cycles by explicit teardown ---------------------------------------------
@contextmanager
def session_scope(session: TrainingSession) -> Iterator[TrainingSession]:
    """Tear the session down in ``finally``: unregister the listener and break session ⇄ trainer."""
    try:
        yield session
    finally:
        trainer = session.trainer
        if trainer is not None:
            model_manager.remove_listener(trainer)
            trainer.session = None
        session.trainer = None


@contextmanager
def remove_listener_only(session: TrainingSession) -> Iterator[TrainingSession]:
    """Half the fix: unregister the listener in ``finally`` but keep the session ⇄ trainer cycle."""
    try:
        yield session
    finally:
        if session.trainer is not None:
            model_manager.remove_listener(session.trainer)


# --- the service's collector tuning ---------------------------------------------------------------
def tune_collector() -> None:
    """``gc.disable()`` as the service does at start-up; the previous state is restored (and any frozen objects unfrozen) at exit."""
    was_enabled = gc.isenabled()
    gc.disable()

    def restore() -> None:
        gc.unfreeze()
        if was_enabled:
            gc.enable()

    atexit.register(restore)


# --- the workload -------------------------------------------------------------------------------
Scope = Callable[[TrainingSession], AbstractContextManager[Any]]


def _workload(size: Mapping[str, Any], scope: Scope, *, freeze: bool, collect_first: bool = False) -> Callable[[], None]:
    tune_collector()
    counter = itertools.count()

    def run() -> None:
        number = next(counter)
        frame, target = feature_frame(size["rows"], size["columns"], seed=number)
        session = TrainingSession(f"request-{number:05d}", frame, target, size["estimators"])
        with scope(session):
            assert session.trainer is not None
            session.trainer.fit()
        del session, frame, target  # the request handler drops the session
        if freeze:
            if collect_first:  # library cycles (LightGBM's ctypes.cast) are freed, not frozen
                gc.collect()
            gc.freeze()

    return run


def leaky(size: Mapping[str, Any]) -> Callable[[], None]:
    """As found: the trainer registered in ``model_manager._listeners`` keeps each session's cycle."""
    return _workload(size, nullcontext, freeze=False)


def fixed(size: Mapping[str, Any]) -> Callable[[], None]:
    """The same requests inside :func:`session_scope`: no cycle left, freed by reference counting."""
    return _workload(size, session_scope, freeze=False)


def cycle_kept(size: Mapping[str, Any]) -> Callable[[], None]:
    """Listener removed, cycle kept: only the cyclic collector frees the session."""
    return _workload(size, remove_listener_only, freeze=False)


def cycle_kept_frozen(size: Mapping[str, Any]) -> Callable[[], None]:
    """Listener removed, cycle kept, ``gc.freeze()`` after each request: the cycles are never examined again."""
    return _workload(size, remove_listener_only, freeze=True)


def fixed_frozen(size: Mapping[str, Any]) -> Callable[[], None]:
    """The fix with ``gc.collect(); gc.freeze()`` after each request: nothing cyclic is left to freeze."""
    return _workload(size, session_scope, freeze=True, collect_first=True)


SCENARIO = Scenario(
    name="circular-refs",
    description="service objects in reference cycles (session ⇄ trainer, frame + LightGBM model) with the collector off",
    finding="summary",
    module=__name__,
    sizes={
        "small": {"rows": 500, "columns": 10, "estimators": 10},
        "medium": {"rows": 5000, "columns": 30, "estimators": 30},
        "large": {"rows": 50000, "columns": 50, "estimators": 100},
    },
    variants={
        "leaky": Variant("leaky", leaky, expect="LEAK", summary="a listener in the model_manager singleton keeps each session's cycle"),
        "fixed": Variant(
            "fixed", fixed, expect="CLEAN", fix=session_scope,
            summary="explicit teardown breaks the cycles: freed by reference counting, collector off",
        ),
        "cycle-kept": Variant(
            "cycle-kept", cycle_kept, expect="CLEAN", fix=remove_listener_only,
            summary="listener removed, cycle kept: freed only by a collection (the worker's, before each sample)",
        ),
        "cycle-kept-frozen": Variant(
            "cycle-kept-frozen", cycle_kept_frozen, expect="LEAK", fix=remove_listener_only,
            summary="cycle kept and gc.freeze() after each request: the cycles are never collected",
        ),
        "fixed-frozen": Variant(
            "fixed-frozen", fixed_frozen, expect="CLEAN", fix=session_scope,
            summary="the fix with gc.freeze() after each request: nothing cyclic to freeze",
        ),
    },
)
