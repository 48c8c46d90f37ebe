"""Solar PV: clear-sky irradiance times a Markov-switching clear-sky index.

Output per slot (market_rules.md §3.4 `[design]`)::

    P = peak_kw * GHI_cs * k_c / 1000 W/m^2 * PR,  clipped to [0, peak_kw]

* Sun position: Spencer (1971) Fourier series for the declination and the equation of time,
  as given in Iqbal, *An Introduction to Solar Radiation* (1983), with day angle
  Gamma = 2 pi (d - 1) / 365. cos z = sin(lat) sin(decl) + cos(lat) cos(decl) cos(hour angle).
* Clear-sky GHI: Haurwitz, GHI_cs = 1098 cos z exp(-0.059 / cos z) W/m^2, 0 when the sun is
  down [S53]; judged best among zenith-only models by Reno, Hansen & Stein [S52].
  Irradiance is averaged over ``substeps`` equally spaced instants inside each slot (midpoint
  rule), so a slot containing sunrise gets a partial value.
* Clear-sky index k_c: a two-state Markov chain (clear / cloudy) at slot resolution, each state
  with its own distribution of k_c [S54b]; here a normal law per state, clipped to
  [kc_min, kc_max] (kc_max > 1 allows cloud enhancement), drawn independently per slot. States
  alternate with geometric durations of mean ``clear_mean_h`` / ``cloudy_mean_h``; the first
  state is drawn from the stationary shares, so the path is stationary from slot 0. The state
  distributions and durations are assumptions (clear share 40 %, roughly German sunshine
  hours); they are not fitted to data.

Clock time: the episode starts at midnight of ``day_of_year``. With ``longitude=None`` the
clock is local apparent solar time (solar noon at 12:00); with a longitude it is standard time
of UTC + ``utc_offset_h`` (no daylight saving). Multi-day episodes advance the day of year,
wrapping after day 365.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist

import numpy as np
from numpy.typing import ArrayLike

from ._numerics import FloatArray, IntArray, geometric_durations, segments_to_slots
from ._validate import check_day_of_year, check_grid, check_positive, check_range

SOLAR_CONSTANT_HAURWITZ = 1098.0
"""W/m^2, the Haurwitz model's leading constant."""

_STC_IRRADIANCE = 1000.0  # W/m^2 at which a module delivers its peak (nameplate) power


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


def _clipped_normal_mean(mu: float, sd: float, lo: float, hi: float) -> float:
    """E[clip(X, lo, hi)] for X ~ N(mu, sd^2), in closed form."""
    if sd == 0.0:
        return min(max(mu, lo), hi)
    std = NormalDist()
    a, b = (lo - mu) / sd, (hi - mu) / sd
    inside = mu * (std.cdf(b) - std.cdf(a)) + sd * (std.pdf(a) - std.pdf(b))
    return lo * std.cdf(a) + hi * (1.0 - std.cdf(b)) + inside


@dataclass(frozen=True)
class PVSystem:
    """A photovoltaic installation.

    Attributes:
        peak_kw: Nameplate (peak) power in kW at 1000 W/m^2; default 10 kWp (a large rooftop).
        performance_ratio: Losses from nameplate to AC output, in (0, 1]; default 0.8 [§3.4].
        latitude: Degrees north, default 51.0 (central Germany).
        longitude: Degrees east, or None to run on apparent solar time (default).
        utc_offset_h: Time zone of the episode clock when ``longitude`` is set; default +1 (CET).
        clear_mean_h: Mean duration of a clear spell, hours.
        cloudy_mean_h: Mean duration of a cloudy spell, hours.
        kc_clear_mean: Mean clear-sky index in the clear state.
        kc_clear_sd: Its standard deviation (before clipping).
        kc_cloudy_mean: Mean clear-sky index in the cloudy state.
        kc_cloudy_sd: Its standard deviation (before clipping).
        kc_min: Lower clip of k_c (heavy overcast still lets diffuse light through).
        kc_max: Upper clip of k_c (> 1: cloud enhancement).
        substeps: Irradiance evaluation points per slot (midpoint rule).
    """

    peak_kw: float = 10.0
    performance_ratio: float = 0.8
    latitude: float = 51.0
    longitude: float | None = None
    utc_offset_h: float = 1.0
    clear_mean_h: float = 3.0
    cloudy_mean_h: float = 4.5
    kc_clear_mean: float = 0.95
    kc_clear_sd: float = 0.05
    kc_cloudy_mean: float = 0.45
    kc_cloudy_sd: float = 0.2
    kc_min: float = 0.05
    kc_max: float = 1.2
    substeps: int = 4

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

    @property
    def capacity_kw(self) -> float:
        """The output ceiling in kW (= ``peak_kw``), the scale of forecast errors."""
        return self.peak_kw

    @property
    def clear_share(self) -> float:
        """Long-run fraction of time in the clear state."""
        return self.clear_mean_h / (self.clear_mean_h + self.cloudy_mean_h)

    @property
    def mean_clear_sky_index(self) -> float:
        """Stationary mean of k_c (closed form for the clipped normals)."""
        lo, hi = self.kc_min, self.kc_max
        clear = _clipped_normal_mean(self.kc_clear_mean, self.kc_clear_sd, lo, hi)
        cloudy = _clipped_normal_mean(self.kc_cloudy_mean, self.kc_cloudy_sd, lo, hi)
        return self.clear_share * clear + (1.0 - self.clear_share) * cloudy

    def clear_sky_ghi(self, day_of_year: int, n_slots: int, slot_len: int = 900) -> FloatArray:
        """Slot-average Haurwitz clear-sky GHI in W/m^2 for an episode starting at midnight.

        Deterministic, so results are memoised per (system, day, grid); returns a fresh copy.
        """
        check_day_of_year(day_of_year)
        check_grid(n_slots, slot_len)
        return _clear_sky_ghi(self, day_of_year, n_slots, slot_len).copy()

    def clear_sky_kw(self, day_of_year: int, n_slots: int, slot_len: int = 900) -> FloatArray:
        """Deterministic output in kW under a clear sky (k_c = 1), per slot."""
        ghi = self._ghi(day_of_year, n_slots, slot_len)
        return self._to_kw(ghi)

    def expected_kw(self, day_of_year: int, n_slots: int, slot_len: int = 900) -> FloatArray:
        """Mean output in kW per slot: clear-sky output times the mean clear-sky index.

        Ignores the ``peak_kw`` clip, which never binds with the defaults (1098 W/m^2 * 1.2 *
        0.8 < 1000 W/m^2), so this is exact for them.
        """
        ghi = self._ghi(day_of_year, n_slots, slot_len)
        return self._to_kw(ghi * self.mean_clear_sky_index)

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
        ghi = self._ghi(day_of_year, n_slots, slot_len)
        return self._to_kw(ghi * self.clear_sky_index(rng, n_slots, slot_len))

    def _ghi(self, day_of_year: int, n_slots: int, slot_len: int) -> FloatArray:
        """Memoised clear-sky GHI (read-only; callers must not write to it)."""
        check_day_of_year(day_of_year)
        check_grid(n_slots, slot_len)
        return _clear_sky_ghi(self, day_of_year, n_slots, slot_len)

    def _to_kw(self, irradiance: FloatArray) -> FloatArray:
        kw = self.peak_kw * irradiance / _STC_IRRADIANCE * self.performance_ratio
        out: FloatArray = np.minimum(np.maximum(kw, 0.0), self.peak_kw)
        return out


@lru_cache(maxsize=1024)
def _clear_sky_ghi(pv: PVSystem, day_of_year: int, n_slots: int, slot_len: int) -> FloatArray:
    """Slot-average clear-sky GHI (W/m^2); sun geometry computed once per day, not per instant."""
    n_days = max(1, -(-(n_slots * slot_len) // 86400))
    days = (day_of_year - 1 + np.arange(n_days)) % 365 + 1
    decl = solar_declination(days)
    shift_h = np.zeros(n_days)
    if pv.longitude is not None:
        shift_min = 4.0 * (pv.longitude - 15.0 * pv.utc_offset_h) + equation_of_time_min(days)
        shift_h = shift_min / 60.0
    frac = (np.arange(pv.substeps) + 0.5) / pv.substeps
    t_h = (np.arange(n_slots)[:, None] + frac[None, :]) * (slot_len / 3600.0)  # hours
    day_idx = (t_h // 24.0).astype(np.intp)
    solar_h = t_h - 24.0 * day_idx + shift_h[day_idx]
    lat = math.radians(pv.latitude)
    cz = math.sin(lat) * np.sin(decl)[day_idx] + math.cos(lat) * np.cos(decl)[day_idx] * np.cos(
        (np.pi / 12.0) * (solar_h - 12.0)
    )
    out: FloatArray = haurwitz_ghi(cz).mean(axis=1)
    out.setflags(write=False)
    return out
