"""Solar: pvlib's sun geometry and clear sky, hand checks of them, and the PV output's shape."""

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


def _pvlib_direct(pv: PVSystem, day: int, n_slots: int, slot_len: int) -> tuple[
        np.ndarray, np.ndarray]:  # type: ignore[type-arg]
    """Slot-average clear-sky GHI and POA computed with pvlib directly (no rex_env code)."""
    import pandas as pd
    from pvlib import irradiance, location

    lat, lon, utc, alt, tilt, az = pv.geometry
    frac = (np.arange(pv.substeps) + 0.5) / pv.substeps
    t = ((np.arange(n_slots)[:, None] + frac) * slot_len).ravel()
    start = pd.Timestamp(f"{pv.year}-01-01", tz="UTC") + pd.Timedelta(days=day - 1, hours=-utc)
    times = start + pd.to_timedelta(t, unit="s")
    loc = location.Location(lat, lon, altitude=alt)
    sp = loc.get_solarposition(times)
    cs = loc.get_clearsky(times, model="ineichen")
    poa = irradiance.get_total_irradiance(tilt, az, sp["apparent_zenith"], sp["azimuth"],
                                          cs["dni"], cs["ghi"], cs["dhi"],
                                          dni_extra=irradiance.get_extra_radiation(times),
                                          model="haydavies")["poa_global"].fillna(0.0)
    return (cs["ghi"].to_numpy().reshape(n_slots, -1).mean(axis=1),
            poa.to_numpy().reshape(n_slots, -1).mean(axis=1))


@pytest.mark.parametrize(
    "pv",
    [PV, PVSystem(longitude=10.0, utc_offset_h=1.0, substeps=3, altitude=300.0),
     PVSystem(latitude=-33.9, longitude=18.4, utc_offset_h=2.0, azimuth=0.0)],
    ids=["meridian", "CET-longitude-10E", "southern"],
)
@pytest.mark.parametrize("slot_len", [900, 3600])
def test_clear_sky_equals_pvlib_called_directly(pv: PVSystem, slot_len: int) -> None:
    n_slots = 3 * 86400 // slot_len  # three days, crossing the year end
    ghi, poa = _pvlib_direct(pv, 364, n_slots, slot_len)
    np.testing.assert_allclose(pv.clear_sky_ghi(364, n_slots, slot_len), ghi, atol=1e-9)
    np.testing.assert_allclose(pv.clear_sky_poa(364, n_slots, slot_len), poa, atol=1e-9)


def test_module_model_equals_pvlib_called_directly() -> None:
    from pvlib import pvsystem, temperature

    one = PVSystem(peak_kw=6.0, longitude=9.45, altitude=231.0, substeps=1)
    poa = one.clear_sky_poa(172, 96 * 4, 225)
    params = temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]["close_mount_glass_glass"]
    t_cell = temperature.sapm_cell(poa, 12.0, 1.0, **params)
    direct = pvsystem.pvwatts_dc(poa, t_cell, 6.0, -0.0047) * 0.86
    np.testing.assert_allclose(one.clear_sky_kw(172, 96 * 4, 225),
                               np.asarray(direct), rtol=1e-9, atol=1e-12)


def test_pvlib_agrees_with_the_closed_form_hand_checks() -> None:
    """Spencer's sun and Haurwitz's clear sky, independent of pvlib, bound what it gives."""
    pv = PVSystem(longitude=10.0, altitude=0.0, substeps=1)
    n = 96 * 4
    t_h = (np.arange(n) + 0.5) * 225 / 3600
    cz = cos_zenith(51.0, JUNE_21, t_h, 10.0, 1.0)
    # solar noon: Spencer's and pvlib's agree to one 3.75-min slot
    assert abs(int(np.argmax(cz)) - int(np.argmax(pv.clear_sky_ghi(JUNE_21, n, 225)))) <= 1
    # clear-sky GHI at a June noon at 51 N: Haurwitz 890 W/m^2, Ineichen (turbid Europe) less
    noon = pv.clear_sky_ghi(JUNE_21, n, 225).max()
    assert 780.0 < noon < float(haurwitz_ghi(cz.max())) + 10.0
    up = cz > 0.1
    ratio = pv.clear_sky_ghi(JUNE_21, n, 225)[up] / haurwitz_ghi(cz[up])
    assert 0.75 < ratio.mean() < 1.05


def test_solar_noon_on_a_known_date_and_place() -> None:
    # Kassel (9.45 E) on 21 June: EoT -1.7 min, so solar noon is 12:00 CET - 4 min/deg *
    # (9.45 - 15) + 1.7 min = 12:23.9 CET (13:23.9 summer time).
    pv = PVSystem(latitude=51.31, longitude=9.45, altitude=231.0, tilt=0.0)
    ghi = pv.clear_sky_ghi(JUNE_21, 1536, 56)  # 56-s slots
    noon_h = (int(np.argmax(ghi)) + 0.5) * 56 / 3600
    assert noon_h == pytest.approx(12.0 + 23.9 / 60, abs=2 / 60)


def test_pv_is_zero_at_night() -> None:
    rng = np.random.default_rng(0)
    for day in (JUNE_21, DEC_21):
        clear = PV.clear_sky_kw(day, 96, 900)
        sampled = PV.sample(rng, day, 96, 900)
        night = np.r_[0:12, 88:96]  # 00:00-03:00 and 22:00-24:00 solar time
        assert np.all(clear[night] == 0.0) and np.all(sampled[night] == 0.0)


def test_pv_peaks_at_solar_noon() -> None:
    # no longitude: the CET meridian, so solar noon is 12:00 minus the equation of time
    clear = PV.clear_sky_kw(JUNE_21, 96 * 4, 225)
    noon_h = (int(np.argmax(clear)) + 0.5) * 225 / 3600
    assert noon_h == pytest.approx(12.0 - float(equation_of_time_min(JUNE_21)) / 60, abs=0.07)
    half = 48 * 4
    np.testing.assert_allclose(clear[: half - 4], clear[half - 4 :][::-1][: half - 4],
                               rtol=0.05, atol=0.05)


def test_clock_noon_shifts_with_longitude_and_time_zone() -> None:
    pv = PVSystem(longitude=7.5, utc_offset_h=1.0)  # 30 min west of the CET meridian
    clear = pv.clear_sky_kw(JUNE_21, 96 * 4, 225)  # 3.75-min slots to resolve the shift
    noon_h = (int(np.argmax(clear)) + 0.5) * 225 / 3600
    expected = 12.0 + (15.0 - 7.5) * 4 / 60 - float(equation_of_time_min(JUNE_21)) / 60
    assert noon_h == pytest.approx(expected, abs=0.1)


def test_summer_output_exceeds_winter_at_latitude_51() -> None:
    flat = PVSystem(tilt=0.0)
    assert flat.clear_sky_kw(JUNE_21, 96).sum() > 4.0 * flat.clear_sky_kw(DEC_21, 96).sum()
    summer = PV.clear_sky_kw(JUNE_21, 96).sum()
    winter = PV.clear_sky_kw(DEC_21, 96).sum()
    assert summer > 2.0 * winter > 0.0
    assert winter > 1.5 * flat.clear_sky_kw(DEC_21, 96).sum()  # a tilted roof gains in winter
    rng = np.random.default_rng(1)
    s = np.mean([PV.sample(rng, JUNE_21, 96).sum() for _ in range(50)])
    w = np.mean([PV.sample(rng, DEC_21, 96).sum() for _ in range(50)])
    assert s > 2.0 * w


def test_output_within_zero_and_peak() -> None:
    rng = np.random.default_rng(2)
    pv = PVSystem(peak_kw=4.0, performance_ratio=1.0, kc_max=1.5, kc_clear_mean=1.2,
                  latitude=0.0, tilt=0.0, gamma_pdc=0.0)  # clip binds
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
