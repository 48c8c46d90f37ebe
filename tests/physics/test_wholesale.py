"""The per-episode wholesale curve (rex_env/physics/wholesale.py): calibration to the German
2024 day-ahead statistics it cites, its daily shape, seeding and validation."""

from __future__ import annotations

import numpy as np
import pytest

from rex_env.physics.wholesale import WholesaleModel, clear_sky_shape


def _year(model: WholesaleModel, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    curves = np.array([model.sample(rng, d, 96) for d in range(1, 366)])
    return curves, np.arange(1, 366)


def test_a_year_of_curves_matches_the_cited_2024_statistics() -> None:
    """Base ≈ 80 (79.6), peak/base ≈ 1.1 (1.11), a few % negative hours (5.2 %)."""
    curves, days = _year(WholesaleModel())
    hour = np.arange(96) / 4
    working = (days - 1) % 7 < 5
    peak = curves[working][:, (hour >= 8) & (hour < 20)].mean()
    base = curves.mean()
    assert 75.0 <= base <= 87.0
    assert 1.05 <= peak / base <= 1.17
    assert 0.03 <= (curves < 0).mean() <= 0.08
    # negative prices are mostly a midday phenomenon of the sunny half of the year (a few
    # fall on cheap weekend nights, as with strong wind in reality)
    neg_hours = np.nonzero(curves < 0)[1] / 4
    assert np.mean((neg_hours >= 7) & (neg_hours <= 18)) > 0.9
    summer = (days >= 60) & (days <= 273)
    assert (curves[summer] < 0).sum() > 5 * (curves[~summer] < 0).sum()


def test_the_daily_shape_has_two_peaks_a_night_trough_and_a_solar_dip() -> None:
    m = WholesaleModel(dev_sigma=0.0, level_sigma=0.0)
    h = np.arange(96) / 4
    c = m.sample(np.random.default_rng(0), 172, 96, pv_index=0.0)  # no sun: the bare shape
    evening = c[(h >= 17) & (h < 21)].max()
    morning = c[(h >= 6) & (h < 10)].max()
    night = c[(h >= 2) & (h < 5)].mean()
    assert night < morning < evening
    assert c.argmax() / 4 == pytest.approx(18.5, abs=1.0)
    sunny = m.sample(np.random.default_rng(0), 172, 96, pv_index=1.0)
    assert sunny[(h >= 11) & (h < 15)].mean() < night - 50  # the midday valley


def test_a_clear_day_has_a_deeper_midday_dip_than_a_cloudy_one() -> None:
    m = WholesaleModel()
    clear = m.sample(np.random.default_rng(3), 150, 96, pv_index=0.9)
    cloudy = m.sample(np.random.default_rng(3), 150, 96, pv_index=0.1)
    noon = slice(11 * 4, 14 * 4)
    assert clear[noon].mean() < cloudy[noon].mean() - 50
    night = slice(0, 4 * 4)  # no sun: the same
    np.testing.assert_allclose(clear[night], cloudy[night])
    # winter sun is weak: the same clearness dips less
    assert clear_sky_shape(355, 96).max() < 0.5 * clear_sky_shape(172, 96).max()


def test_the_same_seed_gives_the_same_curve_and_another_seed_another() -> None:
    m = WholesaleModel()
    a = m.sample(np.random.default_rng(7), 100, 96)
    b = m.sample(np.random.default_rng(7), 100, 96)
    c = m.sample(np.random.default_rng(8), 100, 96)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert m.sample(np.random.default_rng(7), 100, 192).shape == (192,)  # two days


def test_the_grid_quotes_are_the_curve_minus_and_plus_the_spreads() -> None:
    m = WholesaleModel(feed_in_spread=10.0, retail_spread=120.0)
    c = m.sample(np.random.default_rng(0), 100, 96)
    np.testing.assert_allclose(m.bid(c), c - 10.0)
    np.testing.assert_allclose(m.ask(c), c + 120.0)


@pytest.mark.parametrize(("field", "value", "allowed"), [
    ("base", float("nan"), r"\[-500.0, 3000.0\]"), ("level_sigma", -0.1, r"\[0.0, 2.0\]"),
    ("solar_dip", 2000.0, r"\[0.0, 1000.0\]"), ("pv_mean", 1.0, r"\[0.001, 0.999\]"),
    ("dev_tau_s", 10.0, r"\[60.0, 86400.0\]"), ("retail_spread", -1.0, r"\[0.0, 3000.0\]"),
    ("weekend_drop", 0.95, r"\[0.0, 0.9\]"), ("feed_in_spread", "10", r"\[0.0, 1000.0\]"),
])
def test_bad_parameters_are_refused_naming_the_field_and_range(field: str, value: object,
                                                               allowed: str) -> None:
    with pytest.raises(ValueError, match=rf"WholesaleModel\.{field} must be .* in {allowed}"):
        WholesaleModel(**{field: value})  # type: ignore[arg-type]


def test_a_bad_clearness_or_grid_is_refused() -> None:
    m = WholesaleModel()
    with pytest.raises(ValueError, match="pv_index"):
        m.sample(np.random.default_rng(0), 100, 96, pv_index=1.5)
    with pytest.raises(ValueError, match="day_of_year"):
        m.sample(np.random.default_rng(0), 0, 96)
    with pytest.raises(ValueError, match="slot_len"):
        m.sample(np.random.default_rng(0), 100, 96, slot_len=0)
