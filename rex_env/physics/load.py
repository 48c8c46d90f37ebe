"""Household load: the BDEW standard load profile from demandlib, times noise.

The mean profile is the BDEW household standard load profile computed by demandlib
[demandlib], the field's reference implementation, from the tables shipped inside it:

* ``profile="h0"`` (default): the VDEW/BDEW H0 profile (1999, quarter-hour values per
  season and day type [S57][S58]) for the calendar ``year``, by
  :class:`demandlib.bdew.ElecSlp` with its H0 dynamisation (``"h0_dyn"``: the H0 times the
  BDEW polynomial F(t) = -3.92e-10 t^4 + 3.2e-7 t^3 - 7.02e-5 t^2 + 2.1e-3 t + 1.24,
  demandlib evaluating it per quarter hour [S60]);
* ``profile="h25"``: the BDEW 2025 household profile H25 (per month and day type, already
  dynamised), by :class:`demandlib.bdew.H25`.

demandlib applies the BDEW seasons (winter 1 Nov - 20 Mar, summer 15 May - 14 Sep,
transition otherwise) and day types (workday, Saturday, Sunday); the nationwide German public
holidays of the year (:func:`german_holidays`, incl. Easter-dependent ones) count as Sundays.
The year's profile is rescaled so that it sums to ``annual_kwh`` exactly over the calendar
year. The episode clock is standard time (no daylight saving), as in the solar model.

demandlib (and pandas) is imported when a year's profile is first built; the year's profile
is memoised, so building an episode is a numpy slice.

:func:`h0_season`, :func:`h0_day_type` and :func:`h0_dynamisation` state the BDEW calendar
rules and the daily dynamisation factor in closed form (for reports and hand checks).

A single household is far noisier than the aggregate H0: :meth:`Household.sample` multiplies
the mean profile by a mean-one lognormal noise exp(sigma z - sigma^2 / 2) with z a stationary
Gaussian AR(1) across slots (sigma about 0.3-0.5 at 15 min is the notes' assumption, §3.5).

Sign: load values are consumption, >= 0 kW. The owner's net rate is minus the load.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike

from ._numerics import FloatArray, ar1_standard_normal
from ._validate import check_day_of_year, check_grid, check_nonnegative, check_positive, check_range

QUARTER_HOURS_PER_DAY = 96


class Season(IntEnum):
    """BDEW seasons of the standard load profiles."""

    WINTER = 0
    TRANSITION = 1
    SUMMER = 2


class DayType(IntEnum):
    """BDEW day types of the standard load profiles."""

    WORKDAY = 0
    SATURDAY = 1
    SUNDAY = 2


def h0_dynamisation(day_of_year: ArrayLike) -> FloatArray:
    """H0 dynamisation factor F(t), t = day of year, rounded to 4 decimals [S60]."""
    t = np.asarray(day_of_year, dtype=np.float64)
    f = -3.92e-10 * t**4 + 3.2e-7 * t**3 - 7.02e-5 * t**2 + 2.1e-3 * t + 1.24
    out: FloatArray = np.round(f, 4)
    return out


def h0_season(date: dt.date) -> Season:
    """BDEW season of a calendar date."""
    md = (date.month, date.day)
    if md >= (11, 1) or md <= (3, 20):
        return Season.WINTER
    if (5, 15) <= md <= (9, 14):
        return Season.SUMMER
    return Season.TRANSITION


_SATURDAY_DATES = frozenset({(12, 24), (12, 31)})


def h0_day_type(date: dt.date) -> DayType:
    """BDEW day type of a date: the nationwide holidays (:func:`german_holidays`) count as
    Sunday, 24 and 31 December as Saturday (BDEW's rule; demandlib's profiles treat those two
    as ordinary days)."""
    if date.weekday() == 6 or date in german_holidays(date.year):
        return DayType.SUNDAY
    if date.weekday() == 5 or (date.month, date.day) in _SATURDAY_DATES:
        return DayType.SATURDAY
    return DayType.WORKDAY


def _days_in_year(year: int) -> int:
    return (dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days


def easter_sunday(year: int) -> dt.date:
    """Gregorian Easter Sunday (the anonymous Gregorian computus)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    lw = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * lw) // 451
    month, day = divmod(h + lw - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def german_holidays(year: int) -> tuple[dt.date, ...]:
    """The nationwide German public holidays of ``year`` (profiles treat them as Sundays)."""
    easter = easter_sunday(year)
    movable = [easter + dt.timedelta(days=d) for d in (-2, 1, 39, 50)]  # Good Friday .. Whit Mon
    fixed = [dt.date(year, m, d) for m, d in ((1, 1), (5, 1), (10, 3), (12, 25), (12, 26))]
    return tuple(sorted(fixed + movable))


LOAD_PROFILES: tuple[str, ...] = ("h0", "h25")
"""BDEW household profiles accepted by :attr:`Household.profile`."""


@lru_cache(maxsize=32)
def _year_profile(year: int, profile: str) -> FloatArray:
    """Quarter-hour mean power (kW) of the calendar year for 1 kWh/a, from demandlib.

    Sums to 4 (one kWh in quarter hours); read-only.
    """
    import warnings

    import pandas as pd
    from demandlib import bdew

    holidays = list(german_holidays(year))
    # ElecSlp turns warnings into errors process-wide; keep that inside this block
    with warnings.catch_warnings():
        if profile == "h0":
            values = bdew.ElecSlp(year, holidays=holidays).get_profiles("h0_dyn")["h0_dyn"]
        else:
            index = pd.date_range(dt.datetime(year, 1, 1), periods=_days_in_year(year) * 96,
                                  freq="15min")
            values = bdew.H25(index, holidays=holidays)
    out: FloatArray = np.asarray(values, dtype=np.float64)
    out = out * (4.0 / out.sum())
    out.setflags(write=False)
    return out


def _quarter_hours(year: int, profile: str, day_of_year: int, n_days: int) -> FloatArray:
    """``n_days`` days of quarter-hour kW per kWh/a from ``day_of_year``, into later years."""
    parts, need = [], n_days * QUARTER_HOURS_PER_DAY
    start = (day_of_year - 1) * QUARTER_HOURS_PER_DAY
    while need > 0:
        year_qh = _year_profile(year, profile)
        piece = year_qh[start:start + need]
        parts.append(piece)
        need -= piece.size
        year, start = year + 1, 0
    return np.concatenate(parts)


@dataclass(frozen=True)
class Household:
    """A household's electricity consumption.

    Attributes:
        annual_kwh: Consumption over the calendar year ``year`` in kWh; default 3500 (a typical
            German household).
        noise_sigma: Standard deviation of the log of the multiplicative noise, >= 0; default
            0.3 (coefficient of variation about 0.31). 0 gives the mean profile.
        noise_tau_s: Correlation time of the noise in seconds; default 1 h (an appliance cycle).
        flexible_share: Fraction of each slot's load its owner may shift in time, in [0, 1];
            the physics only reports it (see :meth:`split`), agents decide what to shift.
        year: Calendar year fixing weekdays, holidays and the normalisation; default 2025.
        profile: The BDEW profile, one of :data:`LOAD_PROFILES`: ``"h0"`` (default, the
            dynamised H0) or ``"h25"`` (the 2025 profile).
        evening_kw: Extra mean load of an electric vehicle charged or a heat pump run after
            work, kW >= 0 (default 0): a bump of this height centred at 19:00 with a standard
            deviation of 2 h (≈ 12.5 kWh a day at 2.5 kW), on top of the H0 profile and under
            the same noise. It makes a community short in the evening, when the wholesale
            curve peaks.
    """

    annual_kwh: float = 3500.0
    noise_sigma: float = 0.3
    noise_tau_s: float = 3600.0
    flexible_share: float = 0.0
    year: int = 2025
    profile: str = "h0"
    evening_kw: float = 0.0

    def __post_init__(self) -> None:
        owner = "Household"
        check_nonnegative(owner, "evening_kw", self.evening_kw)
        check_positive(owner, "annual_kwh", self.annual_kwh)
        check_nonnegative(owner, "noise_sigma", self.noise_sigma)
        check_positive(owner, "noise_tau_s", self.noise_tau_s)
        check_range(owner, "flexible_share", self.flexible_share, 0.0, 1.0)
        if (
            not isinstance(self.year, int)
            or isinstance(self.year, bool)
            or not (1900 <= self.year <= 2200)
        ):
            raise ValueError(f"Household.year must be an int in 1900..2200, got {self.year!r}")
        if self.profile not in LOAD_PROFILES:
            raise ValueError(f"Household.profile must be one of {LOAD_PROFILES}, got "
                             f"{self.profile!r}")

    def expected(self, day_of_year: int, n_slots: int, slot_len: int = 900) -> FloatArray:
        """Mean load in kW per slot for an episode starting at midnight of ``day_of_year``.

        The quarter-hour profile is a step function (as the BDEW table is); slot values are its
        exact averages over each slot, so energy is conserved for any ``slot_len``. A fresh
        array.
        """
        out: FloatArray = self._expected(day_of_year, n_slots, slot_len).copy()
        return out

    def _expected(self, day_of_year: int, n_slots: int, slot_len: int) -> FloatArray:
        """:meth:`expected` validated, then memoised (read-only)."""
        check_day_of_year(day_of_year)
        check_grid(n_slots, slot_len)
        if day_of_year > _days_in_year(self.year):
            raise ValueError(
                f"day_of_year must be <= {_days_in_year(self.year)} in year {self.year}, "
                f"got {day_of_year}"
            )
        return _expected_kw(self, day_of_year, n_slots, slot_len)

    def sample(
        self, rng: np.random.Generator, day_of_year: int, n_slots: int, slot_len: int = 900
    ) -> FloatArray:
        """Sample load in kW per slot (>= 0): the mean profile times mean-one lognormal noise."""
        mean = self._expected(day_of_year, n_slots, slot_len)
        z = ar1_standard_normal(rng, n_slots, math.exp(-slot_len / self.noise_tau_s))
        s = self.noise_sigma
        out: FloatArray = mean * np.exp(s * z - 0.5 * s * s)
        return out

    def split(self, load_kw: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Split load into (inflexible, flexible) parts by ``flexible_share``; they sum to it."""
        load = np.asarray(load_kw, dtype=np.float64)
        flexible = load * self.flexible_share
        return load - flexible, flexible


@lru_cache(maxsize=1024)
def _expected_kw(load: Household, day_of_year: int, n_slots: int, slot_len: int) -> FloatArray:
    """The mean load of :meth:`Household.expected` (validated there), read-only.

    Memoised per household, day and grid: it depends on no draw and every reset of a market
    samples each household's load around it again.
    """
    horizon_s = n_slots * slot_len
    n_days = max(1, math.ceil(horizon_s / 86400))
    qh_kw = _quarter_hours(load.year, load.profile, day_of_year, n_days) * load.annual_kwh
    if load.evening_kw > 0:
        h = (np.arange(qh_kw.size) + 0.5) * 0.25 % 24.0
        qh_kw = qh_kw + load.evening_kw * np.exp(-0.5 * ((h - 19.0) / 2.0) ** 2)
    out: FloatArray
    if slot_len == 900:
        out = qh_kw[:n_slots].copy()
    else:
        cum_kwh = np.concatenate(([0.0], np.cumsum(qh_kw * 0.25)))
        edges = np.arange(n_slots + 1) * float(slot_len)
        e = np.interp(edges, np.arange(cum_kwh.size) * 900.0, cum_kwh)
        out = np.diff(e) / (slot_len / 3600.0)
    out.setflags(write=False)
    return out
