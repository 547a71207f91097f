"""The trend test on synthetic series with known slopes, plateaus and noise."""

from __future__ import annotations

import random

import pytest

from memleak_cli.analysis.trend import fit_trend


def _noisy(slope: float, n: int = 18, noise: float = 0.0, seed: int = 1) -> list[float]:
    rng = random.Random(seed)
    return [1000 + slope * i + rng.uniform(-noise, noise) for i in range(n)]


def test_steady_growth_is_a_leak_with_the_right_slope():
    trend = fit_trend("heap_bytes", "bytes", _noisy(4096, noise=500), threshold=1024)
    assert trend.leaking
    assert trend.slope == pytest.approx(4096, rel=0.1)
    assert trend.slope_low > 0 and trend.slope_low <= trend.slope <= trend.slope_high


def test_flat_series_with_noise_is_not_a_leak():
    trend = fit_trend("heap_bytes", "bytes", _noisy(0, noise=5000), threshold=1024)
    assert not trend.leaking
    assert abs(trend.slope) < 1024


def test_constant_series_has_zero_slope():
    trend = fit_trend("gc_objects", "objects", [5.0] * 10, threshold=1)
    assert (trend.slope, trend.slope_low, trend.slope_high) == (0.0, 0.0, 0.0)
    assert not trend.leaking


def test_a_cache_that_fills_then_plateaus_is_not_sustained_growth():
    # +100 per iteration for 8 iterations, then flat: the second half does not grow
    values = [min(i, 8) * 100.0 for i in range(18)]
    trend = fit_trend("py_blocks", "blocks", values, threshold=10)
    assert not trend.leaking
    assert "sustained" in trend.reason


def test_growth_that_starts_mid_run_is_caught_when_it_persists():
    values = [0.0] * 6 + [100.0 * i for i in range(1, 13)]
    assert fit_trend("py_blocks", "blocks", values, threshold=10).leaking


def test_one_spike_does_not_make_a_leak():
    values = [100.0] * 18
    values[9] = 100000.0
    assert not fit_trend("rss_bytes", "bytes", values, threshold=1024).leaking


def test_threshold_edges_just_under_passes_just_over_fails():
    values = [10.0 * i for i in range(18)]
    # growth at the threshold is a leak (as pytest-memray: a 2048-byte limit fails 2048 bytes)
    assert not fit_trend("gc_objects", "objects", values, threshold=10.01).leaking
    assert fit_trend("gc_objects", "objects", values, threshold=10.0).leaking


def test_vote_needs_most_deltas_positive():
    # a sawtooth with a net upward slope: only half the deltas are positive
    values = [float(i * 10 + (50 if i % 2 else 0)) for i in range(18)]
    trend = fit_trend("py_blocks", "blocks", values, threshold=1, vote=0.7)
    assert not trend.leaking
    assert "deltas positive" in trend.reason


def test_descriptors_leak_on_any_change_that_stays():
    assert fit_trend("fds", "descriptors", [5, 5, 5, 6, 6, 6], threshold=0, kind="any").leaking
    assert not fit_trend("fds", "descriptors", [5, 6, 5, 6, 5, 5], threshold=0, kind="any").leaking


def test_too_few_values_raise():
    with pytest.raises(ValueError, match="at least 3"):
        fit_trend("rss_bytes", "bytes", [1, 2], threshold=1)
