"""Finding 7 — the global ``data_preprocessor`` caches fitted imputers and scalers and nobody clears them.

As the report found it (utils/data_preprocessing.py:289): ``data_preprocessor =
DataPreprocessor()`` is a module-level instance whose ``preprocess()`` fits a scikit-learn
``SimpleImputer`` and ``StandardScaler`` per column and caches them in ``self.imputers`` /
``self.scalers`` so a repeated call on the same data can reuse them. The cache key is the column
name plus a fingerprint of its data (``pandas.util.hash_pandas_object``), so every pipeline run
on new data — a new time window of market data, a new training request — adds an imputer and a
scaler for every column. ``clear_cache()`` exists but nothing calls it.

One iteration is one pipeline run: a new seeded feature frame with missing values is imputed,
scaled, and a scikit-learn ``Ridge`` model is fitted on the result.

Verdict of the leaky variant: **LEAK**. Two fitted estimators per column (with their ``statistics_``,
``mean_``, ``scale_``, ``var_`` arrays and ``feature_names_in_``) accumulate per run; the
reference chain ends in ``data_preprocessor.imputers[...]`` (or ``.scalers[...]``).

The fix is the report's: call ``clear_cache()`` after each pipeline run
(:func:`preprocessing_run`, a context manager that calls it in ``finally``). Fixed variant:
**CLEAN**.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from memleak_cli.scenarios.contract import Scenario, Variant

from ._data import feature_frame


class DataPreprocessor:
    """utils/data_preprocessing.py as the report found it: a cache with a ``clear_cache()`` nobody calls."""

    def __init__(self) -> None:
        self.imputers: dict[str, Any] = {}
        self.scalers: dict[str, Any] = {}

    @staticmethod
    def cache_key(column: Any, strategy: str) -> str:
        """``column|strategy|fingerprint``: the fingerprint is the sum of ``hash_pandas_object`` of the column."""
        import pandas as pd

        fingerprint = int(pd.util.hash_pandas_object(column, index=False).sum())
        return f"{column.name}|{strategy}|{fingerprint:x}"

    def preprocess(self, frame: Any, strategy: str = "median") -> Any:
        """Impute missing values and standardise *frame* column by column; returns a DataFrame of the same shape.

        Each column's fitted imputer and scaler are cached under :meth:`cache_key` and reused
        when the same column data comes again.
        """
        import pandas as pd
        from sklearn.impute import SimpleImputer
        from sklearn.preprocessing import StandardScaler

        out = {}
        for name in frame.columns:
            column = frame[[name]]
            key = self.cache_key(frame[name], strategy)
            if key not in self.imputers:
                self.imputers[key] = SimpleImputer(strategy=strategy).fit(column)
            imputed = self.imputers[key].transform(column)
            if key not in self.scalers:
                self.scalers[key] = StandardScaler().fit(imputed)
            out[name] = self.scalers[key].transform(imputed)[:, 0]
        return pd.DataFrame(out, index=frame.index)

    def clear_cache(self) -> None:
        """Drop every cached imputer and scaler."""
        self.imputers.clear()
        self.scalers.clear()


# The global instance (data_preprocessing.py:289).
data_preprocessor = DataPreprocessor()


# --- the report's fix -------------------------------------------------------------------------
@contextmanager
def preprocessing_run(preprocessor: DataPreprocessor) -> Iterator[DataPreprocessor]:
    """The report's fix: ``clear_cache()`` after each pipeline run, in ``finally``."""
    try:
        yield preprocessor
    finally:
        preprocessor.clear_cache()


# --- the workload -----------------------------------------------------------------------------
def _workload(size: Mapping[str, Any]) -> Callable[[], float]:
    counter = itertools.count()

    def run() -> float:
        from sklearn.linear_model import Ridge

        frame, target = feature_frame(size["rows"], size["columns"], seed=next(counter), missing=0.05)
        features = data_preprocessor.preprocess(frame)
        return float(Ridge(alpha=1.0).fit(features, target).score(features, target))

    return run


def leaky(size: Mapping[str, Any]) -> Callable[[], object]:
    """The code as the report found it: every run on new data adds an imputer and a scaler to the cache."""
    return _workload(size)


def fixed(size: Mapping[str, Any]) -> Callable[[], object]:
    """The same runs inside :func:`preprocessing_run` (``clear_cache()`` after each)."""
    run = _workload(size)

    def iteration() -> float:
        with preprocessing_run(data_preprocessor):
            return run()

    return iteration


SCENARIO = Scenario(
    name="preprocessor-cache",
    description="global DataPreprocessor caches fitted SimpleImputers and StandardScalers per column and run; clear_cache() never called",
    finding="7",
    module=__name__,
    sizes={
        "small": {"rows": 200, "columns": 12},
        "medium": {"rows": 5000, "columns": 60},
        "large": {"rows": 50000, "columns": 200},
    },
    variants={
        "leaky": Variant("leaky", leaky, expect="LEAK", summary="cache keyed by column + data fingerprint, never cleared"),
        "fixed": Variant(
            "fixed", fixed, expect="CLEAN", fix=preprocessing_run,
            summary="report's fix: clear_cache() after each pipeline run",
        ),
    },
)
