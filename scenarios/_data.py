"""Seeded data shared by the scenarios: generated, never downloaded."""

from __future__ import annotations

from typing import Any


def regression_data(rows: int, features: int = 10, seed: int = 0) -> tuple[Any, Any]:
    """A seeded regression problem ``(X, y)``: X is ``rows × features`` float64, y has ``rows`` values.

    Source: scikit-learn ``make_regression``.
    """
    from sklearn.datasets import make_regression

    X, y = make_regression(n_samples=rows, n_features=features, n_informative=max(2, features // 2), noise=0.5, random_state=seed)
    return X, y


def feature_frame(rows: int, columns: int = 10, seed: int = 0, missing: float = 0.0) -> tuple[Any, Any]:
    """A seeded regression problem as pandas ``(frame, target)``.

    ``frame`` is a ``rows × columns`` float64 DataFrame with columns ``f00, f01, …``; a share
    *missing* (0 to 1) of its cells is NaN, as raw feature data arrives; ``target`` is a Series
    of ``rows`` values with no NaN. Source: :func:`regression_data` (scikit-learn
    ``make_regression``) and a ``numpy.random.default_rng(seed)`` mask.
    """
    import numpy as np
    import pandas as pd

    X, y = regression_data(rows, features=columns, seed=seed)
    if missing > 0:
        X[np.random.default_rng(seed).random(X.shape) < missing] = np.nan
    frame = pd.DataFrame(X, columns=[f"f{i:02d}" for i in range(columns)])
    return frame, pd.Series(y, name="target")
