"""Seeded market data for the feature-engineering scenarios (AutoFeat, TSFresh): generated, never
downloaded."""

from __future__ import annotations

from typing import Any


def market_frame(rows: int, seed: int = 0) -> Any:
    """A seeded OHLCV-like ``pandas.DataFrame`` of *rows* bars: ``open``, ``high``, ``low``,
    ``close`` (a geometric random walk around 100) and ``volume`` (log-normal, so ``1/volume`` is
    not nearly linear in it); every value is positive
    (AutoFeat's ``1/``, ``log`` and ``sqrt`` need that).

    Source: a numpy ``default_rng(seed)`` random walk.
    """
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, rows)))
    spread = np.abs(rng.normal(0.0, 0.005, rows)) * close
    return pd.DataFrame(
        {
            "open": close * (1.0 + rng.normal(0.0, 0.002, rows)),
            "high": close + spread,
            "low": close - spread,
            "close": close,
            "volume": np.exp(rng.normal(8.0, 1.0, rows)),  # log-normal: 1/volume is not ~linear
        }
    )


def nonlinear_target(frame: Any, seed: int = 0) -> Any:
    """A seeded target for *frame* (from :func:`market_frame`) that needs engineered features:
    ``(high - low)² / close + 1000 / volume`` plus a little noise; a numpy array of ``len(frame)``
    floats."""
    import numpy as np

    rng = np.random.default_rng(seed + 1)
    values = (frame["high"] - frame["low"]) ** 2 / frame["close"] + 1000.0 / frame["volume"]
    return values.to_numpy() + rng.normal(0.0, 0.01, len(frame))
