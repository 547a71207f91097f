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
