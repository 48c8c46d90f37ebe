"""Solar PV: pvlib's clear sky and module model times a Markov-switching clear-sky index.

Output per slot (market_rules.md §3.4; issue 16), every physical step by pvlib [pvlib]:

* sun position: :func:`pvlib.solarposition.get_solarposition` (NREL SPA) at the system's
  latitude, longitude and altitude, at ``substeps`` equally spaced instants inside each slot
  (midpoint rule, so a slot containing sunrise gets a partial value);
* clear-sky irradiance: Ineichen-Perez (:meth:`pvlib.location.Location.get_clearsky`,
  ``model="ineichen"``) with the Linke turbidity read from the monthly climatology shipped
  with pvlib (``LinkeTurbidities.h5``, :func:`pvlib.clearsky.lookup_linke_turbidity`);
  everything is read from files inside the pvlib package, no network;
* plane of array: :func:`pvlib.irradiance.get_total_irradiance`, Hay-Davies sky diffuse,
  for the module ``tilt`` and ``azimuth`` (180 = facing south), ground albedo 0.25;
* module: cell temperature by the SAPM model (:func:`pvlib.temperature.sapm_cell`, the
  ``mount`` parameter set, at air temperature ``temp_air_c`` and wind ``wind_ms``), then
  PVWatts DC power (:func:`pvlib.pvsystem.pvwatts_dc`, temperature coefficient
  ``gamma_pdc``) times ``performance_ratio`` (the other losses: soiling, wiring, mismatch,
  inverter), clipped to [0, peak_kw].

Clouds (the project's own model): all-sky plane-of-array irradiance = k_c x clear-sky POA,
k_c the clear-sky index of a two-state Markov chain (clear / cloudy) at slot resolution, each
state with its own normal law of k_c [S54b], clipped to [kc_min, kc_max] (kc_max > 1 allows
cloud enhancement), drawn independently per slot. States alternate with geometric durations
of mean ``clear_mean_h`` / ``cloudy_mean_h``; the first state is drawn from the stationary
shares, so the path is stationary from slot 0. The defaults are calibrated against the DWD
test reference year for Kassel shipped with demandlib (``benchmarks/calibrate_physics.py``;
the README's physics section has the table). Applying k_c to POA rather than to GHI is a
simplification: under overcast a tilted module gains less over a flat one than under a clear
sky.

Clock time: the episode starts at midnight, standard time UTC + ``utc_offset_h`` (no
daylight saving), of day ``day_of_year`` of ``year``; multi-day episodes run on into later
days (and years). ``longitude=None`` places the system on its time zone's central meridian
(15 deg x ``utc_offset_h``): solar noon is then 12:00 minus the equation of time.

pvlib (and pandas behind it) is imported only when a profile is first computed, so
``import rex_env`` stays fast; the deterministic clear-sky arrays are memoised per geometry
and date, so building an episode costs numpy work only.

The closed-form Spencer / Haurwitz functions below (:func:`solar_declination`,
:func:`equation_of_time_min`, :func:`cos_zenith`, :func:`haurwitz_ghi`) are kept as
independent hand checks of what pvlib computes (the tests compare the two).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from functools import cached_property, lru_cache
from statistics import NormalDist

import numpy as np
from numpy.typing import ArrayLike

from ._numerics import FloatArray, IntArray, geometric_durations, segments_to_slots
from ._validate import check_day_of_year, check_grid, check_positive, check_range

SOLAR_CONSTANT_HAURWITZ = 1098.0
"""W/m^2, the Haurwitz model's leading constant."""

_STC_IRRADIANCE = 1000.0  # W/m^2 at which a module delivers its peak (nameplate) power

MOUNTS: tuple[str, ...] = ("open_rack_glass_glass", "close_mount_glass_glass",
                           "open_rack_glass_polymer", "insulated_back_glass_polymer")
"""Mounting / module types of pvlib's SAPM cell-temperature parameters (``PVSystem.mount``)."""

YEAR_RANGE = (1900, 2200)
"""Years for which profiles are built (pandas timestamps, pvlib SPA and the BDEW calendar are
all valid there)."""


def _day_angle(day_of_year: ArrayLike) -> FloatArray:
    out: FloatArray = 2.0 * np.pi * (np.asarray(day_of_year, dtype=np.float64) - 1.0) / 365.0
    return out


def solar_declination(day_of_year: ArrayLike) -> FloatArray:
    """Solar declination in radians (Spencer 1971, max error about 0.0006 rad)."""
    g = _day_angle(day_of_year)
    out: FloatArray = (
        0.006918
        - 0.399912 * np.cos(g)
        + 0.070257 * np.sin(g)
        - 0.006758 * np.cos(2 * g)
        + 0.000907 * np.sin(2 * g)
        - 0.002697 * np.cos(3 * g)
        + 0.00148 * np.sin(3 * g)
    )
    return out


def equation_of_time_min(day_of_year: ArrayLike) -> FloatArray:
    """Equation of time in minutes, apparent minus mean solar time (Spencer 1971)."""
    g = _day_angle(day_of_year)
    out: FloatArray = 229.18 * (
        0.000075
        + 0.001868 * np.cos(g)
        - 0.032077 * np.sin(g)
        - 0.014615 * np.cos(2 * g)
        - 0.04089 * np.sin(2 * g)
    )
    return out


def cos_zenith(
    latitude_deg: float,
    day_of_year: ArrayLike,
    clock_h: ArrayLike,
    longitude_deg: float | None = None,
    utc_offset_h: float = 1.0,
) -> FloatArray:
    """Cosine of the solar zenith angle (negative when the sun is below the horizon).

    Args:
        latitude_deg: Latitude in degrees north.
        day_of_year: Day of year, 1 = 1 January (broadcasts with ``clock_h``).
        clock_h: Clock time in hours since local midnight.
        longitude_deg: Degrees east; None means ``clock_h`` is apparent solar time.
        utc_offset_h: Time zone of the clock (hours east of UTC) when a longitude is given.
    """
    solar_h = np.asarray(clock_h, dtype=np.float64)
    if longitude_deg is not None:
        shift_min = 4.0 * (longitude_deg - 15.0 * utc_offset_h) + equation_of_time_min(day_of_year)
        solar_h = solar_h + shift_min / 60.0
    hour_angle = np.radians(15.0 * (solar_h - 12.0))
    decl = solar_declination(day_of_year)
    lat = math.radians(latitude_deg)
    out: FloatArray = math.sin(lat) * np.sin(decl) + math.cos(lat) * np.cos(decl) * np.cos(
        hour_angle
    )
    return out


def haurwitz_ghi(cos_z: ArrayLike) -> FloatArray:
    """Clear-sky global horizontal irradiance in W/m^2 (Haurwitz); 0 when cos z <= 0."""
    c = np.asarray(cos_z, dtype=np.float64)
    up = c > 0.0
    safe = np.where(up, c, 1.0)
    out: FloatArray = np.where(up, SOLAR_CONSTANT_HAURWITZ * safe * np.exp(-0.059 / safe), 0.0)
    return out


def _clipped_normal_moments(mu: float, sd: float, lo: float, hi: float) -> tuple[float, float]:
    """(E[Y], E[Y^2]) for Y = clip(X, lo, hi), X ~ N(mu, sd^2), in closed form."""
    if sd == 0.0:
        y = min(max(mu, lo), hi)
        return y, y * y
    std = NormalDist()
    a, b = (lo - mu) / sd, (hi - mu) / sd
    pa, pb, fa, fb = std.cdf(a), std.cdf(b), std.pdf(a), std.pdf(b)
    inside1 = mu * (pb - pa) + sd * (fa - fb)
    inside2 = (mu * mu * (pb - pa) + 2.0 * mu * sd * (fa - fb)
               + sd * sd * (pb - pa + a * fa - b * fb))
    return lo * pa + hi * (1.0 - pb) + inside1, lo * lo * pa + hi * hi * (1.0 - pb) + inside2


@dataclass(frozen=True)
class PVSystem:
    """A photovoltaic installation.

    Attributes:
        peak_kw: Nameplate (peak, DC) power in kW at 1000 W/m^2 and 25 °C; default 10 kWp.
        performance_ratio: Losses from DC to AC output other than temperature (soiling,
            wiring, mismatch, inverter), in (0, 1]; default 0.86, PVWatts' default 14 %
            system losses [Dobos 2014].
        latitude: Degrees north, default 51.0 (central Germany).
        longitude: Degrees east, or None for the time zone's central meridian (default).
        utc_offset_h: Time zone of the episode clock (standard time); default +1 (CET).
        clear_mean_h: Mean duration of a clear spell, hours. This and the next five fields
            default to the fit against the DWD test reference year for Kassel (hourly k_c:
            mean, spread, clear and overcast shares, ramps, lag-1 and lag-3 autocorrelation;
            ``benchmarks/calibrate_physics.py --fit``).
        cloudy_mean_h: Mean duration of a cloudy spell, hours.
        kc_clear_mean: Mean clear-sky index in the clear state.
        kc_clear_sd: Its standard deviation (before clipping).
        kc_cloudy_mean: Mean clear-sky index in the cloudy state.
        kc_cloudy_sd: Its standard deviation (before clipping).
        kc_min: Lower clip of k_c (heavy overcast still lets diffuse light through).
        kc_max: Upper clip of k_c (> 1: cloud enhancement).
        substeps: Irradiance evaluation points per slot (midpoint rule).
        altitude: Metres above sea level, or None to look it up in pvlib's shipped altitude
            map (``Altitude.h5``) at the latitude and longitude; used by the clear-sky model.
        tilt: Module tilt from horizontal, degrees in [0, 90]; default 30 (a pitched roof).
        azimuth: Direction the modules face, degrees clockwise from north; default 180.
        year: Calendar year of ``day_of_year`` (sun position, turbidity); default 2025.
        temp_air_c: Air temperature in °C for the cell-temperature model; default 12 (an
            assumption: a German daytime annual mean).
        wind_ms: Wind speed at the module in m/s for the cell-temperature model; default 1.
        mount: SAPM cell-temperature parameter set, one of :data:`MOUNTS`; default
            ``"close_mount_glass_glass"`` (a rooftop array with little back ventilation).
        gamma_pdc: Power temperature coefficient in 1/°C; default -0.0047, PVWatts'
            "standard" module [Dobos 2014].
    """

    peak_kw: float = 10.0
    performance_ratio: float = 0.86
    latitude: float = 51.0
    longitude: float | None = None
    utc_offset_h: float = 1.0
    clear_mean_h: float = 7.8
    cloudy_mean_h: float = 11.2
    kc_clear_mean: float = 1.02
    kc_clear_sd: float = 0.07
    kc_cloudy_mean: float = 0.34
    kc_cloudy_sd: float = 0.17
    kc_min: float = 0.05
    kc_max: float = 1.2
    substeps: int = 4
    altitude: float | None = None
    tilt: float = 30.0
    azimuth: float = 180.0
    year: int = 2025
    temp_air_c: float = 12.0
    wind_ms: float = 1.0
    mount: str = "close_mount_glass_glass"
    gamma_pdc: float = -0.0047

    def __post_init__(self) -> None:
        owner = "PVSystem"
        check_positive(owner, "peak_kw", self.peak_kw)
        check_range(owner, "performance_ratio", self.performance_ratio, 1e-9, 1.0)
        check_range(owner, "latitude", self.latitude, -90.0, 90.0)
        if self.longitude is not None:
            check_range(owner, "longitude", self.longitude, -180.0, 180.0)
        check_range(owner, "utc_offset_h", self.utc_offset_h, -14.0, 14.0)
        for name in ("clear_mean_h", "cloudy_mean_h"):
            check_positive(owner, name, getattr(self, name))
        for name in ("kc_clear_sd", "kc_cloudy_sd"):
            check_range(owner, name, getattr(self, name), 0.0, 10.0)
        check_range(owner, "kc_min", self.kc_min, 0.0, 2.0)
        check_range(owner, "kc_max", self.kc_max, 0.0, 2.0)
        if self.kc_min >= self.kc_max:
            raise ValueError(
                f"PVSystem needs kc_min < kc_max, got kc_min={self.kc_min}, kc_max={self.kc_max}"
            )
        for name in ("kc_clear_mean", "kc_cloudy_mean"):
            check_range(owner, name, getattr(self, name), self.kc_min, self.kc_max)
        if (
            not isinstance(self.substeps, int)
            or isinstance(self.substeps, bool)
            or not (1 <= self.substeps <= 60)
        ):
            raise ValueError(f"PVSystem.substeps must be an int in 1..60, got {self.substeps!r}")
        if self.altitude is not None:
            check_range(owner, "altitude", self.altitude, -450.0, 9000.0)
        check_range(owner, "tilt", self.tilt, 0.0, 90.0)
        check_range(owner, "azimuth", self.azimuth, 0.0, 360.0)
        check_year(owner, "year", self.year)
        check_range(owner, "temp_air_c", self.temp_air_c, -60.0, 60.0)
        check_range(owner, "wind_ms", self.wind_ms, 0.0, 60.0)
        if self.mount not in MOUNTS:
            raise ValueError(f"PVSystem.mount must be one of {MOUNTS}, got {self.mount!r}")
        check_range(owner, "gamma_pdc", self.gamma_pdc, -0.02, 0.0)

    @property
    def capacity_kw(self) -> float:
        """The output ceiling in kW (= ``peak_kw``), the scale of forecast errors."""
        return self.peak_kw

    @property
    def clear_share(self) -> float:
        """Long-run fraction of time in the clear state."""
        return self.clear_mean_h / (self.clear_mean_h + self.cloudy_mean_h)

    @cached_property
    def _kc_moments(self) -> tuple[float, float]:
        """Stationary (E[k_c], E[k_c^2]), closed form for the clipped normals."""
        lo, hi = self.kc_min, self.kc_max
        c1, c2 = _clipped_normal_moments(self.kc_clear_mean, self.kc_clear_sd, lo, hi)
        o1, o2 = _clipped_normal_moments(self.kc_cloudy_mean, self.kc_cloudy_sd, lo, hi)
        s = self.clear_share
        return s * c1 + (1.0 - s) * o1, s * c2 + (1.0 - s) * o2

    @property
    def mean_clear_sky_index(self) -> float:
        """Stationary mean of k_c (closed form for the clipped normals)."""
        return self._kc_moments[0]

    @property
    def geometry(self) -> tuple[float, float, float, float, float, float]:
        """(latitude, longitude, utc_offset_h, altitude, tilt, azimuth) with the defaults
        resolved: what the clear-sky arrays depend on."""
        lon = 15.0 * self.utc_offset_h if self.longitude is None else float(self.longitude)
        alt = self.altitude
        if alt is None:
            alt = _lookup_altitude(float(self.latitude), lon)
        return (float(self.latitude), lon, float(self.utc_offset_h), float(alt),
                float(self.tilt), float(self.azimuth))

    def clear_sky_ghi(self, day_of_year: int, n_slots: int, slot_len: int = 900) -> FloatArray:
        """Slot-average Ineichen clear-sky GHI in W/m^2 for an episode starting at midnight.

        Deterministic, so results are memoised per (geometry, date, grid); a fresh copy.
        """
        out: FloatArray = self._clear(day_of_year, n_slots, slot_len)[0].mean(axis=1)
        return out

    def clear_sky_poa(self, day_of_year: int, n_slots: int, slot_len: int = 900) -> FloatArray:
        """Slot-average clear-sky plane-of-array irradiance in W/m^2 (fresh array)."""
        out: FloatArray = self._clear(day_of_year, n_slots, slot_len)[1].mean(axis=1)
        return out

    def clear_sky_kw(self, day_of_year: int, n_slots: int, slot_len: int = 900) -> FloatArray:
        """Deterministic output in kW under a clear sky (k_c = 1), per slot (memoised per
        system, day and grid: every reset needs it as the forecast-error scale; fresh copy)."""
        self._clear(day_of_year, n_slots, slot_len)  # validates the arguments
        out: FloatArray = _clear_sky_kw(self, day_of_year, n_slots, slot_len).copy()
        return out

    def expected_kw(self, day_of_year: int, n_slots: int, slot_len: int = 900) -> FloatArray:
        """Mean output in kW per slot over the stationary clear-sky index.

        The module chain is quadratic in k_c (the cell temperature is linear in irradiance, the
        power linear in irradiance times temperature), so with q(k) the slot output at index k,
        E[q(k_c)] = a E[k_c] + b E[k_c^2] with a, b from q(1) and q(2). Exact while the
        ``peak_kw`` clip does not bind (it never does with the defaults).
        """
        poa = self._clear(day_of_year, n_slots, slot_len)[1]
        q1 = self._module_kw(poa).mean(axis=1)
        q2 = self._module_kw(2.0 * poa).mean(axis=1)
        a, b = 2.0 * q1 - 0.5 * q2, 0.5 * q2 - q1
        m1, m2 = self._kc_moments
        out: FloatArray = np.minimum(np.maximum(a * m1 + b * m2, 0.0), self.peak_kw)
        return out

    def cloud_state(self, rng: np.random.Generator, n_slots: int, slot_len: int = 900) -> IntArray:
        """Stationary clear (0) / cloudy (1) state path, one state per slot."""
        check_grid(n_slots, slot_len)
        first = int(rng.random() >= self.clear_share)
        states = ((first + np.arange(n_slots)) % 2).astype(np.intp)  # the two states alternate
        mean_slots = np.array([self.clear_mean_h, self.cloudy_mean_h]) * 3600.0 / slot_len
        durations = geometric_durations(rng, states, mean_slots)
        return segments_to_slots(states, durations, n_slots)

    def clear_sky_index(
        self, rng: np.random.Generator, n_slots: int, slot_len: int = 900
    ) -> FloatArray:
        """Sample the clear-sky index k_c per slot from the two-state Markov mixture."""
        state = self.cloud_state(rng, n_slots, slot_len)
        mean = np.where(state == 0, self.kc_clear_mean, self.kc_cloudy_mean)
        sd = np.where(state == 0, self.kc_clear_sd, self.kc_cloudy_sd)
        kc = mean + sd * rng.standard_normal(n_slots)
        out: FloatArray = np.minimum(np.maximum(kc, self.kc_min), self.kc_max)
        return out

    def sample(
        self, rng: np.random.Generator, day_of_year: int, n_slots: int, slot_len: int = 900
    ) -> FloatArray:
        """Sample per-slot average output in kW, in [0, peak_kw]."""
        poa = self._clear(day_of_year, n_slots, slot_len)[1]
        kc = self.clear_sky_index(rng, n_slots, slot_len)
        return self._to_kw(poa * kc[:, None])

    def _clear(self, day_of_year: int, n_slots: int, slot_len: int
               ) -> tuple[FloatArray, FloatArray]:
        """Memoised (GHI, POA) per slot and substep, shape (n_slots, substeps), read-only."""
        check_day_of_year(day_of_year)
        check_grid(n_slots, slot_len)
        if day_of_year > _days_in_year(self.year):
            raise ValueError(f"day_of_year must be <= {_days_in_year(self.year)} in year "
                             f"{self.year}, got {day_of_year}")
        return _clear_sky(self.geometry, self.year, day_of_year, n_slots, slot_len,
                          self.substeps)

    def _module_kw(self, poa: FloatArray) -> FloatArray:
        """AC output in kW at plane-of-array irradiance ``poa`` (W/m^2), unclipped: pvlib's
        SAPM cell temperature, then PVWatts DC power, times the performance ratio."""
        from pvlib import pvsystem, temperature

        params = temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"][self.mount]
        t_cell = temperature.sapm_cell(poa, self.temp_air_c, self.wind_ms, **params)
        dc = pvsystem.pvwatts_dc(poa, t_cell, self.peak_kw, self.gamma_pdc)
        out: FloatArray = np.asarray(dc, dtype=np.float64) * self.performance_ratio
        return out

    def _to_kw(self, poa: FloatArray) -> FloatArray:
        """Slot-average output (kW) in [0, peak_kw] from POA per slot and substep."""
        kw = self._module_kw(poa).mean(axis=1)
        out: FloatArray = np.minimum(np.maximum(kw, 0.0), self.peak_kw)
        return out


def check_year(owner: str, name: str, year: object) -> None:
    """Raise ValueError unless ``year`` is an int in :data:`YEAR_RANGE`."""
    lo, hi = YEAR_RANGE
    if not isinstance(year, int) or isinstance(year, bool) or not lo <= year <= hi:
        raise ValueError(f"{owner}.{name} must be an int in {lo}..{hi} (the range the "
                         f"profiles are built for), got {year!r}")


def _days_in_year(year: int) -> int:
    return (dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days


@lru_cache(maxsize=4096)
def _lookup_altitude(latitude: float, longitude: float) -> float:
    """Altitude in m from pvlib's shipped map (no network)."""
    from pvlib.location import lookup_altitude

    return float(lookup_altitude(latitude, longitude))


@lru_cache(maxsize=1024)
def _clear_sky_kw(pv: PVSystem, day_of_year: int, n_slots: int, slot_len: int) -> FloatArray:
    out = pv._to_kw(pv._clear(day_of_year, n_slots, slot_len)[1])
    out.setflags(write=False)
    return out


@lru_cache(maxsize=512)
def _clear_sky(geometry: tuple[float, ...], year: int, day_of_year: int, n_slots: int,
               slot_len: int, substeps: int) -> tuple[FloatArray, FloatArray]:
    """Clear-sky GHI and POA (W/m^2) at each slot's substep midpoints, shape (n, substeps).

    One vectorised pvlib pass per (geometry, date, grid); the arrays are read-only.
    """
    import pandas as pd
    from pvlib import irradiance
    from pvlib.location import Location

    lat, lon, utc_offset_h, alt, tilt, azimuth = geometry
    frac = (np.arange(substeps) + 0.5) / substeps
    t_s = (np.arange(n_slots)[:, None] + frac[None, :]) * float(slot_len)
    midnight_utc = pd.Timestamp(dt.datetime(year, 1, 1) + dt.timedelta(days=day_of_year - 1),
                                tz="UTC") - pd.Timedelta(hours=utc_offset_h)
    times = midnight_utc + pd.to_timedelta(t_s.ravel(), unit="s")
    loc = Location(lat, lon, tz="UTC", altitude=alt)
    sun = loc.get_solarposition(times)
    cs = loc.get_clearsky(times, model="ineichen", solar_position=sun)
    poa = irradiance.get_total_irradiance(
        tilt, azimuth, sun["apparent_zenith"], sun["azimuth"], cs["dni"], cs["ghi"], cs["dhi"],
        dni_extra=irradiance.get_extra_radiation(times), model="haydavies")["poa_global"]
    ghi_a = np.nan_to_num(cs["ghi"].to_numpy(dtype=np.float64)).reshape(n_slots, substeps)
    poa_a = np.nan_to_num(poa.to_numpy(dtype=np.float64)).reshape(n_slots, substeps)
    ghi_a = np.maximum(ghi_a, 0.0)
    poa_a = np.maximum(poa_a, 0.0)
    ghi_a.setflags(write=False)
    poa_a.setflags(write=False)
    return ghi_a, poa_a


