"""A seeded per-episode wholesale price curve: the public price the grid quotes around.

A community market is embedded in a national one: what it cannot balance locally it buys from
or sells to the wider grid at a price indexed to the wholesale (day-ahead) price of that
quarter-hour. :class:`WholesaleModel` draws one such curve per episode, in currency/MWh per
delivery slot, as the sum of

* a **day level** ``L_d = base * exp(level_sigma * z_d - level_sigma^2 / 2)`` (mean ``base``,
  lognormal day-to-day variation);
* a **daily shape** in currency/MWh: a morning peak (Gaussian around 08:00), an evening peak
  (around 18:30) and a night trough (around 03:30), each scaled by ``L_d / base`` so that dear
  days have larger peaks;
* a **midday solar dip** ``- solar_dip * pv_index * cs(t)``: ``cs`` is the day's clear-sky
  irradiance relative to its summer-solstice noon value at latitude 51 N, ``pv_index`` in
  [0, 1] the day's clearness (the realised PV energy over its clear-sky energy, supplied by
  the caller; drawn from a Beta law when there is no PV to read it from). A sunny spring or
  summer day therefore has a deep midday valley, a cloudy or winter day a shallow one;
* an **autocorrelated deviation** (Gaussian AR(1) per slot with correlation time
  ``dev_tau_s``, standard deviation ``dev_sigma``): the hour-to-hour noise of real prices.

Nothing is clipped: the curve is negative where a deep solar dip meets a low level, as German
prices are on sunny, windy middays.

**Calibration** (German-Luxembourg day-ahead, EPEX Spot, 2024): base 79.6 EUR/MWh, peak
(working days 08-20 h) 88.2, peak/base 1.11 (FfE, "German electricity prices on EPEX Spot 2024",
https://www.ffe.de/en/publications/german-electricity-prices-on-epex-spot-2024/); 457 negative
hours, 5.2 % of the year (Fraunhofer ISE Energy-Charts, via pv magazine, 30 June 2025,
https://www.pv-magazine.com/2025/06/30/germanys-day-ahead-market-posts-389-hours-of-negative-prices-in-h1/);
daily profiles with the highest prices 19-22 h and negative prices "between mid-morning and
mid-afternoon" when PV runs at full capacity (same source). With the defaults, over all days
of a year (``tests/physics/test_wholesale.py``): mean 81, peak/base 1.10, 5.4 % negative
slots (around midday, mostly from March to September), a median daily range of ≈ 140.

The curve is public information: every participant sees the whole day's curve from the start
(it is the day-ahead price, known the day before). Cost: one :meth:`WholesaleModel.sample` is a
handful of vectorised numpy operations over the episode's slots (≈ 30 µs for 96 slots).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._numerics import FloatArray, ar1_standard_normal
from ._validate import check_day_of_year, check_grid

_LAT = math.radians(51.0)


def _check(name: str, value: object, lo: float, hi: float) -> float:
    """``WholesaleModel.<name>`` must be a finite number in ``[lo, hi]``."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not math.isfinite(float(value)) or not lo <= float(value) <= hi:  # type: ignore[arg-type]
        raise ValueError(f"WholesaleModel.{name} must be a finite number in [{lo}, {hi}], "
                         f"got {value!r}")
    return float(value)  # type: ignore[arg-type]


def clear_sky_shape(day_of_year: int, n_slots: int, slot_len: int = 900) -> FloatArray:
    """Clear-sky irradiance per slot relative to the summer-solstice noon (51 N), in [0, 1].

    Solar time = the slot's hour counted from midnight of ``day_of_year`` (as the PV and load
    models count it); the slot value is the mean of four sub-steps.
    """
    check_day_of_year(day_of_year)
    check_grid(n_slots, slot_len)
    frac = (np.arange(4) + 0.5) / 4
    t_h = (np.arange(n_slots)[:, None] + frac[None, :]) * (slot_len / 3600.0)
    day = (day_of_year - 1 + (t_h // 24.0).astype(np.intp)) % 365 + 1
    decl = math.radians(23.45) * np.sin(2 * math.pi * (284 + day) / 365.0)
    hour = t_h % 24.0
    cz = (math.sin(_LAT) * np.sin(decl)
          + math.cos(_LAT) * np.cos(decl) * np.cos(math.pi / 12.0 * (hour - 12.0)))
    noon_max = math.sin(_LAT) * math.sin(math.radians(23.45)) + \
        math.cos(_LAT) * math.cos(math.radians(23.45))
    out: FloatArray = np.clip(cz, 0.0, None).mean(axis=1) / noon_max
    return out


_SOLAR_MEAN = float(np.mean([clear_sky_shape(d, 96).mean() for d in range(1, 366)]))
"""Mean of :func:`clear_sky_shape` over a year: the solar dip is centred on it, so that
``base`` is the curve's mean over a year."""


@dataclass(frozen=True)
class WholesaleModel:
    """Parameters of the per-episode wholesale curve and of the grid's quotes around it.

    Attributes:
        base: mean price level, currency/MWh, in [-500, 3000] (2024 DE day-ahead base ≈ 80).
        level_sigma: day-to-day log-standard deviation of the level, in [0, 2].
        morning_peak: height of the 08:00 peak at the base level, currency/MWh, in [0, 1000].
        evening_peak: height of the 18:30 peak at the base level, currency/MWh, in [0, 1000].
        night_trough: depth of the 03:30 trough at the base level, currency/MWh, in [0, 1000].
        solar_dip: depth of the midday dip on a clear summer day, currency/MWh, in [0, 1000].
        pv_mean: mean of the day's clearness drawn when no PV is supplied, in (0, 1).
        dev_sigma: standard deviation of the intraday deviation, currency/MWh, in [0, 500].
        dev_tau_s: its correlation time, seconds, in [60, 86400].
        weekend_drop: the level on Saturdays and Sundays is ``1 - weekend_drop`` times a
            working day's, in [0, 0.9] (lower demand; day 1 is a Monday, as in 2024).
        feed_in_spread: the grid's bid is the curve minus this (a direct-marketing fee),
            currency/MWh, in [0, 1000].
        retail_spread: the grid's ask is the curve plus this (network charges, levies and
            taxes on imported energy), currency/MWh, in [0, 3000].

    Raises:
        ValueError: a field out of range, naming it and the allowed range.
    """

    base: float = 80.0
    level_sigma: float = 0.35
    morning_peak: float = 40.0
    evening_peak: float = 70.0
    night_trough: float = 30.0
    solar_dip: float = 150.0
    pv_mean: float = 0.6
    dev_sigma: float = 15.0
    dev_tau_s: float = 3 * 3600.0
    weekend_drop: float = 0.3
    feed_in_spread: float = 10.0
    retail_spread: float = 120.0

    def __post_init__(self) -> None:
        _check("base", self.base, -500.0, 3000.0)
        _check("level_sigma", self.level_sigma, 0.0, 2.0)
        for name in ("morning_peak", "evening_peak", "night_trough", "solar_dip",
                     "feed_in_spread"):
            _check(name, getattr(self, name), 0.0, 1000.0)
        _check("pv_mean", self.pv_mean, 1e-3, 1 - 1e-3)
        _check("dev_sigma", self.dev_sigma, 0.0, 500.0)
        _check("dev_tau_s", self.dev_tau_s, 60.0, 86400.0)
        _check("retail_spread", self.retail_spread, 0.0, 3000.0)
        _check("weekend_drop", self.weekend_drop, 0.0, 0.9)

    def shape(self, n_slots: int, slot_len: int = 900) -> FloatArray:
        """The daily shape at the base level (peaks minus trough), currency/MWh per slot."""
        check_grid(n_slots, slot_len)
        h = (np.arange(n_slots) + 0.5) * (slot_len / 3600.0) % 24.0

        def bump(center: float, width: float) -> FloatArray:
            d = (h - center + 12.0) % 24.0 - 12.0  # circular distance in hours
            out: FloatArray = np.exp(-0.5 * (d / width) ** 2)
            return out

        return (self.morning_peak * bump(8.0, 1.5) + self.evening_peak * bump(18.5, 2.0)
                - self.night_trough * bump(3.5, 2.0))

    def sample(self, rng: np.random.Generator, day_of_year: int, n_slots: int,
               slot_len: int = 900, pv_index: float | None = None) -> FloatArray:
        """One episode's curve, currency/MWh per slot (slot 0 starts at midnight).

        Args:
            rng: the episode's generator for the curve (level, clearness, deviation).
            day_of_year: day of the first slot, 1..366 (sets the solar dip's season).
            n_slots: slots in the episode; slot_len: their length in seconds.
            pv_index: the day's clearness in [0, 1] (realised PV / clear-sky PV); ``None``
                draws it from Beta(4 pv_mean, 4 (1 - pv_mean)), one per day.

        Raises:
            ValueError: a bad grid, day or ``pv_index``.
        """
        check_grid(n_slots, slot_len)
        check_day_of_year(day_of_year)
        n_days = max(1, -(-(n_slots * slot_len) // 86400))
        z = rng.standard_normal(n_days)
        drawn = rng.beta(4 * self.pv_mean, 4 * (1 - self.pv_mean), n_days)
        if pv_index is not None:
            if not isinstance(pv_index, (int, float)) or not 0.0 <= pv_index <= 1.0:
                raise ValueError(f"pv_index must be a number in [0, 1], got {pv_index!r}")
            drawn = np.full(n_days, float(pv_index))
        phi = math.exp(-slot_len / self.dev_tau_s)
        dev = ar1_standard_normal(rng, n_slots, phi) * self.dev_sigma
        day = (np.arange(n_slots) * slot_len) // 86400
        s = self.level_sigma
        weekday = (day_of_year - 1 + np.arange(n_days)) % 7  # 0 Monday (1 Jan 2024)
        week = np.where(weekday >= 5, 1.0 - self.weekend_drop, 1.0)
        week = week / (1.0 - 2.0 / 7.0 * self.weekend_drop)  # base stays the mean
        level = self.base * (week * np.exp(s * z - 0.5 * s * s))[day]
        scale = level / self.base if self.base != 0 else np.ones(n_slots)
        solar = clear_sky_shape(day_of_year, n_slots, slot_len)
        shape = self.shape(96, 900).mean()  # the shape's daily mean, removed: base is the mean
        dip = self.solar_dip * (drawn[day] * solar - self.pv_mean * _SOLAR_MEAN)
        out: FloatArray = level + scale * (self.shape(n_slots, slot_len) - shape) - dip + dev
        return out

    def bid(self, curve: FloatArray) -> FloatArray:
        """The grid's feed-in bid per slot: the curve minus ``feed_in_spread``."""
        out: FloatArray = curve - self.feed_in_spread
        return out

    def ask(self, curve: FloatArray) -> FloatArray:
        """The grid's retail ask per slot: the curve plus ``retail_spread``."""
        out: FloatArray = curve + self.retail_spread
        return out
