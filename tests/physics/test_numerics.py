"""The vectorised helpers agree with plain, obviously-correct references."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rex_env.physics._numerics import (
    ar1_scan,
    ar1_standard_normal,
    categorical,
    geometric_durations,
    norm_cdf,
    norm_log_sf,
    segments_to_slots,
)


def _loop_scan(b: np.ndarray, phi: float) -> np.ndarray:
    x = np.array(b, dtype=np.float64, copy=True)
    for i in range(1, x.shape[0]):
        x[i] = phi * x[i - 1] + x[i]
    return x


def test_norm_cdf_matches_math_erfc_in_both_tails() -> None:
    z = np.linspace(-12.0, 12.0, 2401)
    ref = np.array([0.5 * math.erfc(-v / math.sqrt(2.0)) for v in z])
    np.testing.assert_allclose(norm_cdf(z), ref, rtol=2e-7, atol=0.0)


def test_norm_log_sf_matches_math_erfc_far_into_the_upper_tail() -> None:
    z = np.linspace(-8.0, 30.0, 3801)
    ref = np.array([math.log(0.5 * math.erfc(v / math.sqrt(2.0))) for v in z])
    got = norm_log_sf(z)
    # relative accuracy of 1 - Phi means absolute accuracy of its logarithm
    np.testing.assert_allclose(got[z >= -3], ref[z >= -3], rtol=0.0, atol=2e-7)
    np.testing.assert_allclose(got, ref, rtol=2e-7, atol=1e-12)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 96, 1000, 40000])
@pytest.mark.parametrize("phi", [0.0, 0.3, 0.92, 0.999, 1.0])
def test_ar1_scan_equals_the_plain_loop(n: int, phi: float) -> None:
    b = np.random.default_rng(n).standard_normal(n)
    np.testing.assert_allclose(ar1_scan(b, phi), _loop_scan(b, phi), rtol=1e-9, atol=1e-9)


def test_ar1_scan_runs_along_axis_0_of_a_matrix() -> None:
    b = np.random.default_rng(1).standard_normal((50, 4))
    np.testing.assert_allclose(ar1_scan(b, 0.8), _loop_scan(b, 0.8), rtol=1e-12, atol=1e-12)


def test_ar1_scan_doubling_path_used_for_long_series_equals_the_loop() -> None:
    b = np.random.default_rng(2).standard_normal(3000)  # 0.5^-2999 overflows the fast path
    np.testing.assert_allclose(ar1_scan(b, 0.5), _loop_scan(b, 0.5), rtol=1e-12, atol=1e-12)


def test_ar1_standard_normal_is_stationary_with_lag1_correlation_phi() -> None:
    z = ar1_standard_normal(np.random.default_rng(3), (200, 500), 0.9)  # 500 paths of 200
    assert abs(z[0].var() - 1.0) < 0.15  # the first value is already stationary
    assert abs(z.var() - 1.0) < 0.05
    lag1 = np.mean(z[1:] * z[:-1])
    assert abs(lag1 - 0.9) < 0.02


def test_geometric_durations_have_the_requested_means() -> None:
    rng = np.random.default_rng(4)
    states = np.repeat(np.array([0, 1, 2], dtype=np.intp), 20000)
    d = geometric_durations(rng, states, np.array([1.0, 4.0, 30.0]))
    assert d.min() >= 1
    assert np.all(d[states == 0] == 1)
    assert abs(d[states == 1].mean() - 4.0) < 0.1
    assert abs(d[states == 2].mean() - 30.0) < 1.0


def test_categorical_frequencies_match_probabilities() -> None:
    p = np.array([0.2, 0.0, 0.5, 0.3])
    idx = categorical(np.random.default_rng(5), p, 100000)
    freq = np.bincount(idx, minlength=4) / idx.size
    np.testing.assert_allclose(freq, p, atol=0.01)
    assert freq[1] == 0.0


def test_segments_to_slots_expands_run_lengths() -> None:
    states = np.array([2, 0, 1], dtype=np.intp)
    durations = np.array([3, 1, 5], dtype=np.intp)
    assert segments_to_slots(states, durations, 6).tolist() == [2, 2, 2, 0, 1, 1]


def test_ar1_standard_normal_without_correlation_is_the_raw_draws() -> None:
    """phi = 0 returns the draws themselves (the filter would multiply by 1.0): the same
    numbers and the same stream position as ``standard_normal``."""
    a, b = np.random.default_rng(4), np.random.default_rng(4)
    z = ar1_standard_normal(a, (30, 5), 0.0)
    assert z.tobytes() == b.standard_normal((30, 5)).tobytes()
    assert a.random() == b.random()
