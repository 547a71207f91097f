"""Finding 5 — ``TSFreshCalculator`` keeps the frames ``tsfresh.extract_features`` made.

As the report found it: a module-level feature service (``feature_service``) owns a
``TSFreshCalculator`` whose ``calculate_tsfresh_features`` cuts seeded market bars into
rolling windows (the long format of tsfresh ``roll_time_series``), runs the real
``tsfresh.extract_features`` on them with the configured ``n_jobs`` and stores the extracted
frame in ``self.feature_cache[<data fingerprint>]`` — with the long-format rolled frame it
was made from, "to reuse next time". Every run brings new bars (each AutoML run reads the latest
market data), so every run adds a new key and nothing ever evicts one.

Verdict of the leaky variant: **LEAK**: the cache gains one pair of frames per run (Python
objects, and numpy buffers that ``py_blocks``/``heap_bytes`` and RSS see).

The report's fix has two parts. *Release the frames*: the caller takes the features and the
calculator keeps nothing (``release_frames`` empties the cache in ``finally``), which is what
stops the growth. *Control n_jobs*: with ``n_jobs`` > 0 tsfresh forks a
``multiprocessing.Pool`` per call whose workers each start as a copy-on-write image of the
parent and build their own chunks of the result (the peak the report warns of), but tsfresh
closes the pool when ``extract_features`` returns, so no child outlives the call: bounding
``n_jobs`` changes the peak and the time, not the verdict. The medium and large profiles run
the leaky code with ``n_jobs=2`` and the fix with ``n_jobs=0`` (no pool); small uses
``n_jobs=0`` in both, to stay fast. Measured at medium: every sample, taken after the call,
finds 0 children, so the process-tree metrics (``tree_rss_bytes``, ``tree_uss_bytes``) are not
judged — the per-iteration samples cannot see a peak inside the call.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from memleak_cli.scenarios.contract import Scenario, Variant

from ._market import market_frame


def rolling_windows(frame: Any, window: int) -> Any:
    """tsfresh's long format of every *window*-row window of *frame*: columns ``id`` (the
    window's last row), ``time`` (position in the window) and *frame*'s columns; ``(rows -
    window + 1) × window`` rows. What ``tsfresh.utilities.dataframe_functions.roll_time_series``
    makes, by numpy ``sliding_window_view`` (much faster for one series)."""
    import numpy as np
    import pandas as pd

    count = len(frame) - window + 1
    data = {
        "id": np.repeat(np.arange(window - 1, len(frame)), window),
        "time": np.tile(np.arange(window), count),
    }
    for column in frame.columns:
        data[column] = np.lib.stride_tricks.sliding_window_view(
            frame[column].to_numpy(), window
        ).ravel()
    return pd.DataFrame(data)


class TSFreshCalculator:
    """feature_engineering/automl_features/tsfresh_calculator.py as the report found it."""

    def __init__(self, n_jobs: int = 2, window: int = 20, fc_parameters: str = "minimal") -> None:
        self.n_jobs = n_jobs
        self.window = window
        self.fc_parameters = fc_parameters
        self.feature_cache: dict[str, dict[str, Any]] = {}  # fingerprint → frames, never evicted

    def calculate_tsfresh_features(self, bars: Any) -> Any:
        """Rolling-window tsfresh features of *bars* (``rows × OHLCV`` frame): one row per window
        end, one column per (price column, feature) — a ``pandas.DataFrame``."""
        import warnings

        from pandas.util import hash_pandas_object
        from tsfresh import extract_features
        from tsfresh.feature_extraction import EfficientFCParameters, MinimalFCParameters

        key = f"{len(bars)}:{int(hash_pandas_object(bars).sum()):x}"
        if key in self.feature_cache:
            return self.feature_cache[key]["features"]
        rolled = rolling_windows(bars[["close", "volume"]], self.window)
        if self.fc_parameters == "minimal":
            parameters = MinimalFCParameters()
        else:  # a few of EfficientFCParameters' cheaper calculators
            efficient = EfficientFCParameters()
            parameters = {name: efficient[name] for name in self.fc_parameters.split(",")}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # skewness/kurtosis of flat windows
            extracted_features = extract_features(  # tsfresh_calculator.py:138
                rolled,
                column_id="id",
                column_sort="time",
                default_fc_parameters=parameters,
                n_jobs=self.n_jobs,
                disable_progressbar=True,
            )
        self.feature_cache[key] = {"features": extracted_features, "rolled": rolled}
        return extracted_features


class FeatureEngineeringService:
    """The service that owns the calculator (one per process, like the backend's singletons)."""

    def __init__(self) -> None:
        self.tsfresh_calculator = TSFreshCalculator()


feature_service = FeatureEngineeringService()


# --- the report's fix -------------------------------------------------------------------------
@contextmanager
def release_frames(calculator: TSFreshCalculator, n_jobs: int = 0) -> Iterator[TSFreshCalculator]:
    """The report's fix: bound the parallelism (``n_jobs``; 0 runs in-process, no pool) while the
    features are made, and release the frames afterwards (the cache is emptied in ``finally``)."""
    previous = calculator.n_jobs
    calculator.n_jobs = n_jobs
    try:
        yield calculator
    finally:
        calculator.n_jobs = previous
        calculator.feature_cache.clear()


# --- variants ---------------------------------------------------------------------------------
def _workload(size: Mapping[str, Any]) -> Any:
    calculator = feature_service.tsfresh_calculator
    calculator.n_jobs = size["n_jobs"]
    calculator.window = size["window"]
    calculator.fc_parameters = size["fc_parameters"]
    state = {"run": 0}

    def run() -> None:
        state["run"] += 1
        bars = market_frame(size["rows"], seed=state["run"])  # this run's market data
        features = calculator.calculate_tsfresh_features(bars)
        assert len(features) == size["rows"] - size["window"] + 1

    return run


def leaky(size: Mapping[str, Any]) -> Any:
    """The code as the report found it: every run's frames stay in ``feature_cache``."""
    return _workload(size)


def fixed(size: Mapping[str, Any]) -> Any:
    """The same run inside ``release_frames`` (``n_jobs=0``, cache emptied in ``finally``)."""
    run = _workload(size)

    def iteration() -> None:
        with release_frames(feature_service.tsfresh_calculator, n_jobs=0):
            run()

    return iteration


SCENARIO = Scenario(
    name="tsfresh",
    description=(
        "TSFreshCalculator caches every run's tsfresh feature frames; n_jobs forks a pool per call"
    ),
    finding="5",
    module=__name__,
    sizes={
        "small": {"rows": 120, "window": 20, "n_jobs": 0, "fc_parameters": "minimal"},
        "medium": {"rows": 400, "window": 30, "n_jobs": 2, "fc_parameters": "minimal"},
        "large": {
            "rows": 3000,
            "window": 60,
            "n_jobs": 2,
            "fc_parameters": (
                "mean,standard_deviation,skewness,kurtosis,autocorrelation,linear_trend"
            ),
        },
    },
    variants={
        "leaky": Variant(
            "leaky", leaky, expect="LEAK", summary="feature_cache keeps every run's frames"
        ),
        "fixed": Variant(
            "fixed",
            fixed,
            expect="CLEAN",
            fix=release_frames,
            summary="report's fix: frames released after the run, n_jobs=0",
        ),
    },
)
