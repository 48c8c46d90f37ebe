"""Household load: the BDEW profile from demandlib, its normalisation and the noise."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from rex_env.physics import (
    DayType,
    Household,
    Season,
    easter_sunday,
    german_holidays,
    h0_day_type,
    h0_dynamisation,
    h0_season,
)

HH = Household(annual_kwh=3500.0, year=2025)


@pytest.mark.parametrize("year,days", [(2025, 365), (2024, 366)])
@pytest.mark.parametrize("slot_len", [900, 3600, 1800, 600])
def test_a_year_sums_to_the_annual_consumption(year: int, days: int, slot_len: int) -> None:
    hh = Household(annual_kwh=3500.0, year=year)
    kw = hh.expected(1, days * 86400 // slot_len, slot_len)
    assert kw.sum() * slot_len / 3600 == pytest.approx(3500.0, rel=1e-9)


def test_coarse_slots_are_averages_of_quarter_hours() -> None:
    fine = HH.expected(40, 96 * 2, 900)
    coarse = HH.expected(40, 48, 3600)
    np.testing.assert_allclose(coarse, fine.reshape(48, 4).mean(axis=1), rtol=1e-12)


def test_odd_slot_lengths_conserve_energy() -> None:
    fine = HH.expected(10, 96, 900)
    odd = HH.expected(10, 96 * 900 // 1350, 1350)  # 22.5-minute slots
    assert odd.sum() * 1350 == pytest.approx(fine.sum() * 900, rel=1e-12)


@pytest.mark.parametrize("profile,column", [("h0", "h0_dyn"), ("h25", None)])
def test_profile_equals_demandlib_called_directly(profile: str, column: str | None) -> None:
    import warnings

    import pandas as pd
    from demandlib import bdew

    hh = Household(annual_kwh=3500.0, year=2025, profile=profile)
    holidays = list(german_holidays(2025))
    with warnings.catch_warnings():
        if column is not None:
            direct = bdew.ElecSlp(2025, holidays=holidays).get_scaled_power_profiles(
                {column: 3500.0})[column].to_numpy()
        else:
            idx = pd.date_range("2025-01-01", periods=365 * 96, freq="15min")
            direct = bdew.H25(idx, holidays=holidays).to_numpy() * 3500.0 / 1e6
    ours = hh.expected(1, 365 * 96)
    # ours is renormalised to exactly 3500 kWh; demandlib's own sum is within 0.5 % of that
    np.testing.assert_allclose(ours, direct * (ours.sum() / direct.sum()), rtol=1e-9)
    assert direct.sum() / 4 == pytest.approx(3500.0, rel=5e-3)


def test_holidays_are_sundays_and_easter_is_right() -> None:
    assert easter_sunday(2025) == dt.date(2025, 4, 20)
    assert easter_sunday(2024) == dt.date(2024, 3, 31)
    assert easter_sunday(2000) == dt.date(2000, 4, 23)
    assert dt.date(2025, 4, 18) in german_holidays(2025)  # Good Friday
    # Good Friday 2025 (day 108) uses the Sunday curve: it equals the next Sunday's shape
    good_friday = HH.expected(108, 96)
    sunday = HH.expected(117, 96)  # Sunday 27 April
    thursday = HH.expected(107, 96)
    assert np.corrcoef(good_friday, sunday)[0, 1] > 0.999
    assert np.corrcoef(good_friday, thursday)[0, 1] < 0.99


@pytest.mark.parametrize("day", [15, 17, 19, 196, 198, 200])  # Jan/Jul: Wed, Fri, Sun
def test_evening_peak_exceeds_night_base(day: int) -> None:
    p = HH.expected(day, 96)
    h = (np.arange(96) + 0.5) / 4
    assert p[(h >= 17) & (h < 22)].max() > 1.8 * p[(h >= 2) & (h < 5)].mean()
    assert np.argmin(p) < 28  # the minimum is at night, before 07:00


def test_sunday_has_the_noon_cooking_peak() -> None:
    sunday = HH.expected(19, 96)  # Sunday 19 January 2025
    workday = HH.expected(15, 96)  # Wednesday 15 January
    assert 10.5 <= (np.argmax(sunday[: 15 * 4]) + 0.5) / 4 <= 13.5
    assert sunday[48] > workday[48]


def test_dynamisation_polynomial_hand_computed() -> None:
    # F(1) = -3.92e-10 + 3.2e-7 - 7.02e-5 + 2.1e-3 + 1.24 = 1.24203..., F(182) = 0.7959...
    assert float(h0_dynamisation(1)) == 1.2420
    assert float(h0_dynamisation(182)) == pytest.approx(0.7959, abs=1e-4)
    f = h0_dynamisation(np.arange(1, 366))
    assert 150 < int(np.argmin(f)) + 1 < 220  # lowest in summer


def test_winter_days_consume_more_than_summer_days() -> None:
    assert HH.expected(15, 96).sum() > 1.3 * HH.expected(196, 96).sum()


@pytest.mark.parametrize(
    "date,day_type",
    [
        (dt.date(2025, 1, 1), DayType.SUNDAY),  # New Year, a Wednesday
        (dt.date(2025, 1, 4), DayType.SATURDAY),
        (dt.date(2025, 1, 5), DayType.SUNDAY),
        (dt.date(2025, 1, 6), DayType.WORKDAY),
        (dt.date(2025, 12, 24), DayType.SATURDAY),  # a Wednesday
        (dt.date(2025, 12, 26), DayType.SUNDAY),
        (dt.date(2025, 10, 3), DayType.SUNDAY),
        (dt.date(2025, 4, 21), DayType.SUNDAY),  # Easter Monday
        (dt.date(2025, 5, 29), DayType.SUNDAY),  # Ascension Day
    ],
)
def test_day_types(date: dt.date, day_type: DayType) -> None:
    assert h0_day_type(date) is day_type


@pytest.mark.parametrize(
    "month,day,season",
    [
        (3, 20, Season.WINTER),
        (3, 21, Season.TRANSITION),
        (5, 14, Season.TRANSITION),
        (5, 15, Season.SUMMER),
        (9, 14, Season.SUMMER),
        (9, 15, Season.TRANSITION),
        (10, 31, Season.TRANSITION),
        (11, 1, Season.WINTER),
    ],
)
def test_season_boundaries(month: int, day: int, season: Season) -> None:
    assert h0_season(dt.date(2025, month, day)) is season


def test_noise_has_mean_one_and_keeps_load_nonnegative() -> None:
    rng = np.random.default_rng(0)
    samples = np.array([HH.sample(rng, 100, 96) for _ in range(1000)])
    assert samples.min() >= 0.0
    expected = HH.expected(100, 96)
    assert samples.mean(axis=0).sum() == pytest.approx(expected.sum(), rel=0.02)
    log_ratio = np.log(samples / expected)
    assert log_ratio.std() == pytest.approx(0.3, rel=0.05)
    lag1 = np.corrcoef(log_ratio[:, :-1].ravel(), log_ratio[:, 1:].ravel())[0, 1]
    assert lag1 == pytest.approx(np.exp(-900 / 3600), abs=0.03)


def test_zero_noise_gives_the_expected_profile() -> None:
    hh = Household(noise_sigma=0.0)
    np.testing.assert_array_equal(hh.sample(np.random.default_rng(0), 5, 96), hh.expected(5, 96))


def test_multi_day_episode_crosses_the_year_end() -> None:
    kw = HH.expected(365, 96 * 2)
    assert kw.shape == (192,) and np.all(kw > 0)


def test_split_sums_to_the_load() -> None:
    hh = Household(flexible_share=0.25)
    load = hh.expected(1, 96)
    fixed, flexible = hh.split(load)
    np.testing.assert_allclose(fixed + flexible, load)
    np.testing.assert_allclose(flexible, 0.25 * load)


def test_expected_is_memoised_but_every_caller_gets_a_fresh_array() -> None:
    """The mean profile is memoised (every reset samples around it): writing into what
    ``expected`` returned must not reach later calls or samples."""
    first = HH.expected(120, 96)
    first[:] = -1.0
    again = HH.expected(120, 96)
    assert np.all(again > 0.0) and again is not first
    zero_noise = Household(annual_kwh=3500.0, year=2025, noise_sigma=0.0)
    np.testing.assert_array_equal(zero_noise.sample(np.random.default_rng(1), 120, 96), again)
    with pytest.raises(ValueError, match="day_of_year"):
        HH.expected(0, 96)  # validated on every call, not only when first computed
