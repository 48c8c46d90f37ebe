"""Wind: the power curve's shape and the wind-speed models' statistics."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rex_env.physics import WIND_MODELS, WindFarm, power_curve

FARM = WindFarm(rated_kw=2000.0, cut_in=3.5, rated_speed=13.0, cut_out=25.0)


def test_power_curve_key_points() -> None:
    p = FARM.power([0.0, 3.4999, 3.5, 13.0, 20.0, 24.999, 25.0, 30.0])
    assert p.tolist() == [0.0, 0.0, 0.0, 2000.0, 2000.0, 2000.0, 0.0, 0.0]


def test_power_curve_cubic_ramp_hand_computed() -> None:
    v = 8.0
    expected = 2000.0 * (8.0**3 - 3.5**3) / (13.0**3 - 3.5**3)  # = 2000 * 469.125 / 2154.125
    assert FARM.power(v) == pytest.approx(expected)
    assert FARM.power(v) == pytest.approx(435.55968, rel=1e-6)


@given(
    st.floats(0.0, 24.99, allow_nan=False),
    st.floats(0.0, 24.99, allow_nan=False),
)
def test_power_curve_is_monotone_below_cut_out(v1: float, v2: float) -> None:
    lo, hi = sorted((v1, v2))
    assert FARM.power(lo) <= FARM.power(hi)


@given(st.floats(-5.0, 60.0, allow_nan=False))
def test_power_is_within_zero_and_rated(v: float) -> None:
    assert 0.0 <= float(power_curve(v, 1500.0)) <= 1500.0


@pytest.mark.parametrize("model", WIND_MODELS)
def test_both_models_give_valid_ranges(model: str) -> None:
    farm = WindFarm(model=model)
    rng = np.random.default_rng(0)
    v = farm.wind_speed(rng, 5000, 900)
    p = farm.sample(rng, 5000, 900)
    assert v.shape == p.shape == (5000,)
    assert np.all(np.isfinite(v)) and np.all(v >= 0.0)
    assert np.all(p >= 0.0) and np.all(p <= farm.rated_kw)
    assert p.max() > 0.5 * farm.rated_kw  # the curve is actually exercised
    assert np.mean(p == 0.0) < 0.5


def test_weibull_ar1_marginal_is_weibull() -> None:
    farm = WindFarm(weibull_k=2.0, weibull_c=7.0)
    v = farm.wind_speed(np.random.default_rng(1), 200000, 900)
    assert v.mean() == pytest.approx(7.0 * math.gamma(1.5), rel=0.03)
    assert farm.mean_speed() == pytest.approx(7.0 * math.gamma(1.5))
    # the empirical CDF follows 1 - exp(-(v/c)^k) (Kolmogorov distance on a grid)
    grid = np.linspace(0.5, 20.0, 40)
    empirical = np.searchsorted(np.sort(v), grid) / v.size
    assert np.max(np.abs(empirical - (1.0 - np.exp(-((grid / 7.0) ** 2.0))))) < 0.02


def test_weibull_shape_parameter_changes_the_spread() -> None:
    rng = np.random.default_rng(2)
    narrow = WindFarm(weibull_k=3.0).wind_speed(rng, 100000, 900)
    wide = WindFarm(weibull_k=1.5).wind_speed(rng, 100000, 900)
    cv = lambda k: math.sqrt(math.gamma(1 + 2 / k) / math.gamma(1 + 1 / k) ** 2 - 1)  # noqa: E731
    assert narrow.std() / narrow.mean() == pytest.approx(cv(3.0), rel=0.06)
    assert wide.std() / wide.mean() == pytest.approx(cv(1.5), rel=0.06)


def _acf(x: np.ndarray, lag: int) -> float:
    return float(np.corrcoef(x[:-lag], x[lag:])[0, 1])


@pytest.mark.parametrize("model", WIND_MODELS)
def test_autocorrelation_present_and_decaying(model: str) -> None:
    v = WindFarm(model=model, tau_s=3 * 3600.0).wind_speed(np.random.default_rng(3), 100000, 900)
    acf = [_acf(v, lag) for lag in (1, 4, 16, 64)]
    assert acf[0] > 0.85
    assert acf[0] > acf[1] > acf[2] > acf[3]
    if model == "weibull_ar1":
        assert acf[3] < 0.1  # 16 h = 5.3 tau: phi^64 = 0.005


def test_regime_model_time_shares_and_mean() -> None:
    farm = WindFarm(model="markov_regime", regime_smooth_s=0.0)
    rng = np.random.default_rng(4)
    scales = np.concatenate([farm._regime_scale(rng, 2000, 900) for _ in range(100)])
    levels = farm.weibull_c * np.asarray(farm.regime_scale)
    shares = np.array([np.mean(np.isclose(scales, c)) for c in levels])
    np.testing.assert_allclose(shares, farm.regime_time_share, atol=0.03)
    smooth = WindFarm(model="markov_regime")
    v = np.concatenate([smooth.wind_speed(rng, 2000, 900) for _ in range(100)])
    assert v.mean() == pytest.approx(smooth.mean_speed(), rel=0.05)


def test_regime_model_is_more_dispersed_than_a_single_weibull() -> None:
    rng = np.random.default_rng(5)
    single = WindFarm().wind_speed(rng, 100000, 900)
    mixed = WindFarm(model="markov_regime").wind_speed(rng, 100000, 900)
    assert mixed.std() / mixed.mean() > single.std() / single.mean()


def test_zero_slots_gives_an_empty_array() -> None:
    for model in WIND_MODELS:
        assert WindFarm(model=model).sample(np.random.default_rng(0), 0, 900).shape == (0,)
