"""Household load: an approximation of the BDEW H0 standard load profile, times noise.

**This is not the official H0 table.** The official profile (VDEW 1999, 96 quarter-hour values
per day type and season, normalised to 1,000 kWh/a [S57][S58]) may not be shipped here, so its
*shape* is rebuilt from a smooth parametric form, calibrated by eye to the published curves:

    p(h) = base + plateau * (S((h - rise) / rise_w) - S((h - 23.4) / 0.8)) + sum of Gaussians

with h the hour of day at each quarter-hour's midpoint, S the logistic function (the morning
rise and the late-evening fall of activity), and Gaussian bumps (centre, width, amplitude) for
the noon cooking peak, the afternoon dip and the evening peak. All terms are summed over the
periodic images h - 24, h, h + 24 so the day wraps smoothly through midnight. The parameters
per season and day type (in W per 1,000 kWh/a, before normalisation) reproduce what the H0
curves show:

* night base about 0.37 x the annual mean from 01:00 to 05:00 for every day type;
* workdays: rise at 06:15, a small noon peak, a dip at 15:30 and the largest peak in the
  evening (about 19:30 in winter, 20:30 and lower in summer);
* Saturdays: later rise, a broad late-morning plateau, an evening peak;
* Sundays (and holidays): latest rise and a large noon (cooking) peak at about 12:00.

Seasons and day types follow BDEW: winter 1 Nov - 20 Mar, summer 15 May - 14 Sep, transition
otherwise; Saturday also on 24 and 31 Dec unless Sunday; Sunday also on the nationwide
fixed-date holidays (1 Jan, 1 May, 3 Oct, 25 and 26 Dec). Movable holidays (Easter etc.) are
not modelled.

The day's values are multiplied by the H0 dynamisation factor
F(t) = -3.92e-10 t^4 + 3.2e-7 t^3 - 7.02e-5 t^2 + 2.1e-3 t + 1.24 (t = day of year, rounded
to 4 decimals as BDEW's 2025 guidance recommends [S60]), then scaled so that the profile
summed over the calendar year ``year`` equals ``annual_kwh`` exactly.

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


@dataclass(frozen=True)
class _Shape:
    """Parameters of one characteristic day (W per 1,000 kWh/a, before normalisation)."""

    rise_h: float
    rise_w: float
    plateau: float
    bumps: tuple[tuple[float, float, float], ...]  # (centre h, width h, amplitude W)


_BASE_W = 42.0
_FALL_H, _FALL_W = 23.4, 0.8

_SHAPES: dict[tuple[Season, DayType], _Shape] = {
    (Season.WINTER, DayType.WORKDAY): _Shape(
        6.3, 0.45, 78.0, ((12.5, 1.0, 18.0), (15.6, 1.6, -20.0), (19.5, 1.3, 62.0))
    ),
    (Season.TRANSITION, DayType.WORKDAY): _Shape(
        6.3, 0.45, 90.0, ((12.5, 1.0, 22.0), (15.6, 1.6, -25.0), (20.1, 1.4, 50.0))
    ),
    (Season.SUMMER, DayType.WORKDAY): _Shape(
        6.3, 0.45, 95.0, ((12.5, 1.0, 24.0), (15.6, 1.6, -28.0), (20.6, 1.4, 42.0))
    ),
    (Season.WINTER, DayType.SATURDAY): _Shape(
        7.0, 0.7, 100.0, ((12.3, 1.4, 22.0), (16.0, 1.5, -20.0), (19.6, 1.2, 72.0))
    ),
    (Season.TRANSITION, DayType.SATURDAY): _Shape(
        7.0, 0.7, 105.0, ((12.3, 1.4, 26.0), (16.0, 1.5, -22.0), (20.2, 1.3, 55.0))
    ),
    (Season.SUMMER, DayType.SATURDAY): _Shape(
        7.0,
        0.7,
        108.0,
        ((12.3, 1.4, 28.0), (16.0, 1.5, -22.0), (20.6, 1.3, 38.0), (22.6, 0.8, 12.0)),
    ),
    (Season.WINTER, DayType.SUNDAY): _Shape(
        7.6, 0.7, 68.0, ((11.9, 1.5, 100.0), (15.5, 1.2, -12.0), (19.4, 1.3, 70.0))
    ),
    (Season.TRANSITION, DayType.SUNDAY): _Shape(
        7.4, 0.7, 70.0, ((11.9, 1.5, 98.0), (15.5, 1.2, -12.0), (20.0, 1.4, 58.0))
    ),
    (Season.SUMMER, DayType.SUNDAY): _Shape(
        7.4,
        0.7,
        72.0,
        ((11.9, 1.5, 96.0), (15.5, 1.2, -12.0), (20.4, 1.5, 48.0), (22.6, 0.8, 10.0)),
    ),
}


def _logistic(x: FloatArray) -> FloatArray:
    out: FloatArray = 0.5 * (1.0 + np.tanh(0.5 * x))
    return out


def h0_shape(season: Season, day_type: DayType, hour: ArrayLike) -> FloatArray:
    """The unnormalised approximate H0 curve of one characteristic day, at hours ``hour``."""
    s = _SHAPES[(season, day_type)]
    h = np.asarray(hour, dtype=np.float64)
    total = np.full_like(h, _BASE_W)
    for image in (-24.0, 0.0, 24.0):
        x = h + image
        total += s.plateau * (
            _logistic((x - s.rise_h) / s.rise_w) - _logistic((x - _FALL_H) / _FALL_W)
        )
        for centre, width, amp in s.bumps:
            total += amp * np.exp(-0.5 * ((x - centre) / width) ** 2)
    return total


def _build_table() -> FloatArray:
    """Quarter-hour values, shape (season, day type, 96), at each quarter-hour's midpoint."""
    hours = (np.arange(QUARTER_HOURS_PER_DAY) + 0.5) / 4.0
    table = np.empty((len(Season), len(DayType), QUARTER_HOURS_PER_DAY))
    for season in Season:
        for day_type in DayType:
            table[season, day_type] = h0_shape(season, day_type, hours)
    table.setflags(write=False)
    return table


_TABLE = _build_table()


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


_SUNDAY_DATES = frozenset({(1, 1), (5, 1), (10, 3), (12, 25), (12, 26)})
_SATURDAY_DATES = frozenset({(12, 24), (12, 31)})


def h0_day_type(date: dt.date) -> DayType:
    """BDEW day type of a date (fixed-date national holidays count as Sunday)."""
    md = (date.month, date.day)
    if date.weekday() == 6 or md in _SUNDAY_DATES:
        return DayType.SUNDAY
    if date.weekday() == 5 or md in _SATURDAY_DATES:
        return DayType.SATURDAY
    return DayType.WORKDAY


def _days_in_year(year: int) -> int:
    return (dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days


@lru_cache(maxsize=4096)
def _day_values(year: int, day_of_year: int) -> FloatArray:
    """Dynamised quarter-hour values (table units) of one day; may roll into later years."""
    while day_of_year > _days_in_year(year):
        day_of_year -= _days_in_year(year)
        year += 1
    date = dt.date(year, 1, 1) + dt.timedelta(days=day_of_year - 1)
    out: FloatArray = _TABLE[h0_season(date), h0_day_type(date)] * h0_dynamisation(day_of_year)
    out.setflags(write=False)
    return out


@lru_cache(maxsize=64)
def _year_energy(year: int) -> float:
    """Sum over the year of the dynamised profile, in table units times hours."""
    return sum(float(_day_values(year, d).sum()) for d in range(1, _days_in_year(year) + 1)) / 4.0


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
        year: Calendar year fixing weekdays and the normalisation; default 2025.
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

    def expected(self, day_of_year: int, n_slots: int, slot_len: int = 900) -> FloatArray:
        """Mean load in kW per slot for an episode starting at midnight of ``day_of_year``.

        The quarter-hour profile is a step function (as the H0 table is); slot values are its
        exact averages over each slot, so energy is conserved for any ``slot_len``.
        """
        check_day_of_year(day_of_year)
        check_grid(n_slots, slot_len)
        if day_of_year > _days_in_year(self.year):
            raise ValueError(
                f"day_of_year must be <= {_days_in_year(self.year)} in year {self.year}, "
                f"got {day_of_year}"
            )
        horizon_s = n_slots * slot_len
        n_days = max(1, math.ceil(horizon_s / 86400))
        qh = np.concatenate([_day_values(self.year, day_of_year + i) for i in range(n_days)])
        qh_kw = qh * (self.annual_kwh / _year_energy(self.year))
        if self.evening_kw > 0:
            h = (np.arange(qh_kw.size) + 0.5) * 0.25 % 24.0
            qh_kw = qh_kw + self.evening_kw * np.exp(-0.5 * ((h - 19.0) / 2.0) ** 2)
        if slot_len == 900:
            out: FloatArray = qh_kw[:n_slots].copy()
            return out
        cum_kwh = np.concatenate(([0.0], np.cumsum(qh_kw * 0.25)))
        edges = np.arange(n_slots + 1) * float(slot_len)
        e = np.interp(edges, np.arange(cum_kwh.size) * 900.0, cum_kwh)
        out = np.diff(e) / (slot_len / 3600.0)
        return out

    def sample(
        self, rng: np.random.Generator, day_of_year: int, n_slots: int, slot_len: int = 900
    ) -> FloatArray:
        """Sample load in kW per slot (>= 0): the mean profile times mean-one lognormal noise."""
        mean = self.expected(day_of_year, n_slots, slot_len)
        z = ar1_standard_normal(rng, n_slots, math.exp(-slot_len / self.noise_tau_s))
        s = self.noise_sigma
        out: FloatArray = mean * np.exp(s * z - 0.5 * s * s)
        return out

    def split(self, load_kw: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Split load into (inflexible, flexible) parts by ``flexible_share``; they sum to it."""
        load = np.asarray(load_kw, dtype=np.float64)
        flexible = load * self.flexible_share
        return load - flexible, flexible
