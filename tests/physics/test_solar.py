"""Solar: sun geometry, clear-sky irradiance and the PV output's shape."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rex_env.physics import (
    PVSystem,
    cos_zenith,
    equation_of_time_min,
    haurwitz_ghi,
    solar_declination,
)

PV = PVSystem(peak_kw=10.0, performance_ratio=0.8, latitude=51.0)
JUNE_21, DEC_21 = 172, 355


def test_declination_at_solstices_and_equinox() -> None:
    assert math.degrees(float(solar_declination(JUNE_21))) == pytest.approx(23.44, abs=0.3)
    assert math.degrees(float(solar_declination(DEC_21))) == pytest.approx(-23.44, abs=0.3)
    assert abs(math.degrees(float(solar_declination(80)))) < 1.0  # 21 March


def test_equation_of_time_extremes() -> None:
    assert float(equation_of_time_min(307)) == pytest.approx(16.4, abs=0.6)  # early November
    assert float(equation_of_time_min(42)) == pytest.approx(-14.2, abs=0.6)  # mid February


def test_haurwitz_values() -> None:
    ghi = haurwitz_ghi([1.0, 0.5, 0.0, -0.3])
    assert ghi[0] == pytest.approx(1098.0 * math.exp(-0.059))
    assert ghi[1] == pytest.approx(1098.0 * 0.5 * math.exp(-0.118))
    assert ghi[2] == 0.0 and ghi[3] == 0.0


@pytest.mark.parametrize(
    "pv",
    [PV, PVSystem(longitude=10.0, utc_offset_h=1.0, substeps=3), PVSystem(latitude=-33.9)],
    ids=["solar-time", "CET-longitude-10E", "southern"],
)
@pytest.mark.parametrize("slot_len", [900, 3600])
def test_fast_clear_sky_equals_the_per_instant_formula(pv: PVSystem, slot_len: int) -> None:
    n_slots = 3 * 86400 // slot_len  # three days, crossing the year end
    fast = pv.clear_sky_ghi(364, n_slots, slot_len)
    frac = (np.arange(pv.substeps) + 0.5) / pv.substeps
    t = (np.arange(n_slots)[:, None] + frac) * slot_len
    day = (364 - 1 + t // 86400) % 365 + 1
    cz = cos_zenith(pv.latitude, day, (t % 86400) / 3600.0, pv.longitude, pv.utc_offset_h)
    np.testing.assert_allclose(fast, haurwitz_ghi(cz).mean(axis=1), rtol=1e-12, atol=1e-9)


def test_pv_is_zero_at_night() -> None:
    rng = np.random.default_rng(0)
    for day in (JUNE_21, DEC_21):
        clear = PV.clear_sky_kw(day, 96, 900)
        sampled = PV.sample(rng, day, 96, 900)
        night = np.r_[0:12, 88:96]  # 00:00-03:00 and 22:00-24:00 solar time
        assert np.all(clear[night] == 0.0) and np.all(sampled[night] == 0.0)


def test_pv_peaks_at_solar_noon() -> None:
    clear = PV.clear_sky_kw(JUNE_21, 96, 900)
    assert int(np.argmax(clear)) in (47, 48)  # 11:45-12:00 or 12:00-12:15
    np.testing.assert_allclose(clear[:48], clear[48:][::-1], rtol=1e-6, atol=1e-9)


def test_clock_noon_shifts_with_longitude_and_time_zone() -> None:
    pv = PVSystem(longitude=7.5, utc_offset_h=1.0)  # 30 min west of the CET meridian
    clear = pv.clear_sky_kw(JUNE_21, 96 * 4, 225)  # 3.75-min slots to resolve the shift
    noon_h = (int(np.argmax(clear)) + 0.5) * 225 / 3600
    expected = 12.0 + (15.0 - 7.5) * 4 / 60 - float(equation_of_time_min(JUNE_21)) / 60
    assert noon_h == pytest.approx(expected, abs=0.1)


def test_summer_output_exceeds_winter_at_latitude_51() -> None:
    summer = PV.clear_sky_kw(JUNE_21, 96).sum()
    winter = PV.clear_sky_kw(DEC_21, 96).sum()
    assert summer > 3.0 * winter > 0.0
    rng = np.random.default_rng(1)
    s = np.mean([PV.sample(rng, JUNE_21, 96).sum() for _ in range(50)])
    w = np.mean([PV.sample(rng, DEC_21, 96).sum() for _ in range(50)])
    assert s > 3.0 * w


def test_output_within_zero_and_peak() -> None:
    rng = np.random.default_rng(2)
    pv = PVSystem(peak_kw=4.0, performance_ratio=1.0, kc_max=1.5, latitude=0.0)  # clip binds
    p = pv.sample(rng, 80, 96 * 30)
    assert np.all(p >= 0.0) and np.all(p <= 4.0)
    assert p.max() == 4.0


def test_clear_sky_index_mean_and_state_durations() -> None:
    rng = np.random.default_rng(3)
    kc = np.concatenate([PV.clear_sky_index(rng, 960) for _ in range(200)])
    assert kc.mean() == pytest.approx(PV.mean_clear_sky_index, rel=0.02)
    assert kc.min() >= PV.kc_min and kc.max() <= PV.kc_max
    state = PV.cloud_state(rng, 200000, 900)
    assert np.mean(state == 0) == pytest.approx(PV.clear_share, abs=0.02)
    runs = np.diff(np.flatnonzero(np.diff(state) != 0))  # complete runs, alternating states
    first_state = state[np.flatnonzero(np.diff(state) != 0)[0] + 1]
    clear_runs = runs[0 if first_state == 0 else 1 :: 2]
    assert clear_runs.mean() * 0.25 == pytest.approx(PV.clear_mean_h, rel=0.05)


def test_expected_kw_is_the_mean_of_samples() -> None:
    rng = np.random.default_rng(4)
    mean = np.mean([PV.sample(rng, 120, 96) for _ in range(2000)], axis=0)
    expected = PV.expected_kw(120, 96)
    assert mean.sum() == pytest.approx(expected.sum(), rel=0.02)


def test_returned_arrays_are_fresh() -> None:
    a = PV.clear_sky_kw(100, 96)
    a[:] = -1.0
    assert PV.clear_sky_kw(100, 96).min() == 0.0
    g = PV.clear_sky_ghi(100, 96)
    g[:] = -1.0
    assert PV.clear_sky_ghi(100, 96).min() == 0.0
