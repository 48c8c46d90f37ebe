"""Wind farm: random wind speed per delivery slot and a turbine power curve.

Wind speed has a Weibull marginal and autocorrelation: a stationary Gaussian AR(1) ``z`` (the
exact discretisation of an Ornstein-Uhlenbeck process, phi = exp(-slot_len / tau)) is mapped
through the Weibull quantile function, v = c * (-ln(1 - Phi(z)))^(1/k) (a Gaussian copula;
market_rules.md §3.1 `[design]`). Defaults k = 2, c = 7 m/s follow the hub-height fit
k = 2.15, c = 6.93 m/s quoted there [S37]; k = 2 is the Rayleigh case [S39].

Two models, selected by :attr:`WindFarm.model` (the seeds ask for "different RNGs"):

``"weibull_ar1"``
    The copula above with one fixed scale c: the marginal is exactly Weibull(k, c).
``"markov_regime"``
    The same copula, but the scale follows a Markov chain of weather regimes (by default calm,
    normal, stormy with scales 0.6c, c, 1.6c), smoothed with an exponential filter of time
    constant ``regime_smooth_s`` so that a front passes in about an hour rather than in one
    slot. Markov chains of wind states are one of the published generators [S41]; the regimes,
    their scales and durations are this project's assumption. The marginal is a mixture of
    Weibulls, with mean sum_i pi_i c_i Gamma(1 + 1/k), pi the regimes' time shares.

Regime chain: a regime lasts a geometric number of slots with mean ``regime_mean_h[i]`` hours,
then the next regime is drawn from ``regime_weight`` (the same regime may be drawn again, so
the uninterrupted stay in regime i averages regime_mean_h[i] / (1 - w_i)). The time share is
pi_i = w_i L_i / sum_j w_j L_j; the first regime is drawn from pi, so the path is stationary
from its first slot. Drawing the next regime independently of the current one is what lets the
whole path be built with numpy at once.

Turbine (issue 16): with ``turbine_type`` set, the power curve is that turbine's from the
windpowerlib turbine library [windpowerlib] (the oedb data shipped inside the package, read
offline), evaluated by :func:`windpowerlib.power_output.power_curve` and scaled so that the
farm's maximum output is ``rated_kw`` (``rated_kw`` / turbine rating turbines of that type;
fractional counts are fine, only the normalised curve matters); ``cut_in``, ``rated_speed`` and
``cut_out`` are then not used. With ``speed_height`` set, the sampled speeds describe the wind
at that height (10 m for weather-station data) and are carried to the hub height by
windpowerlib's logarithmic profile (roughness length ``roughness_length``) or the Hellman
power law (``profile``). Both laws multiply the speed by a constant, so the hub-height speed
keeps the Weibull form with its scale multiplied. Without ``turbine_type`` the generic cubic
curve below is used, at hub height.

windpowerlib (and pandas behind it) is imported when a curve is first needed; the turbine's
curve is memoised per type.

Power is evaluated at slot resolution: fluctuations within a slot are not modelled (SPEC §12).
"""

from __future__ import annotations

import csv
import difflib
import importlib.util
import math
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from ._numerics import (
    FloatArray,
    ar1_scan,
    ar1_standard_normal,
    categorical,
    geometric_durations,
    norm_log_sf,
    segments_to_slots,
)
from ._validate import check_grid, check_positive

WIND_MODELS: tuple[str, ...] = ("weibull_ar1", "markov_regime")
"""Names accepted by :attr:`WindFarm.model`."""

WIND_PROFILES: tuple[str, ...] = ("logarithmic", "hellman")
"""Wind profile laws accepted by :attr:`WindFarm.profile` (windpowerlib's)."""


def power_curve(
    speed: ArrayLike,
    rated_kw: float,
    cut_in: float = 3.5,
    rated_speed: float = 13.0,
    cut_out: float = 25.0,
) -> FloatArray:
    """Turbine power (kW) at wind speed ``speed`` (m/s), vectorised.

    Zero below ``cut_in`` and at or above ``cut_out``; the cubic ramp
    rated_kw * (v^3 - v_ci^3) / (v_r^3 - v_ci^3) between cut-in and rated speed (market_rules.md
    §3.2 `[def]`); ``rated_kw`` from rated speed up to cut-out.
    """
    v = np.asarray(speed, dtype=np.float64)
    ramp = rated_kw * (v**3 - cut_in**3) / (rated_speed**3 - cut_in**3)
    p = np.where(v < cut_in, 0.0, np.where(v < rated_speed, ramp, rated_kw))
    out: FloatArray = np.where(v >= cut_out, 0.0, p)
    return out


@dataclass(frozen=True)
class WindFarm:
    """A wind turbine or farm seen as one power curve.

    Attributes:
        rated_kw: Rated (maximum) output in kW. Default 1500 kW, the turbine of the Power TAC
            wind farm [S44].
        cut_in: Cut-in speed in m/s; default 3.5 (typical 2-4 m/s [S47]).
        rated_speed: Speed in m/s from which output is ``rated_kw``; default 13 (typical 12-17,
            Power TAC 14, NREL 5 MW 11.4 [S44][S46][S47]).
        cut_out: Storm shut-down speed in m/s; default 25 [S44][S46].
        model: Wind-speed model, one of :data:`WIND_MODELS`.
        weibull_k: Weibull shape k > 0; default 2.0 (2.15 fitted in [S37]).
        weibull_c: Weibull scale c in m/s; default 7.0 (6.93 fitted in [S37]). In the
            ``"markov_regime"`` model the regime scales are multiples of it.
        tau_s: Correlation time of the Gaussian AR(1) in seconds; default 3 h (an assumption:
            lag-1 correlation 0.92 at 15 min).
        regime_scale: ``"markov_regime"`` only: each regime's Weibull scale as a multiple of
            ``weibull_c`` (calm, normal, stormy).
        regime_weight: ``"markov_regime"`` only: the probability of drawing each regime when a
            regime ends (normalised to sum 1).
        regime_mean_h: ``"markov_regime"`` only: mean length of one regime segment, hours.
        regime_smooth_s: ``"markov_regime"`` only: time constant (s) of the exponential filter
            that smooths the scale across regime changes; 0 = abrupt changes.
        turbine_type: A turbine of windpowerlib's library with a power curve (e.g.
            ``"E-53/800"``; list them with :func:`turbine_types`), or None for the generic
            cubic curve.
        hub_height: Hub height in m; None = the first hub height the library lists for
            ``turbine_type``.
        speed_height: Height in m at which the Weibull parameters describe the wind (10 for
            weather-station data); None = at hub height (no profile law).
        roughness_length: Surface roughness length z0 in m for the logarithmic profile (and
            the Hellman exponent 1 / ln(h / z0)); default 0.15 (farmland with hedges).
        profile: ``"logarithmic"`` (default) or ``"hellman"``, see :data:`WIND_PROFILES`.
    """

    rated_kw: float = 1500.0
    cut_in: float = 3.5
    rated_speed: float = 13.0
    cut_out: float = 25.0
    model: str = "weibull_ar1"
    weibull_k: float = 2.0
    weibull_c: float = 7.0
    tau_s: float = 3 * 3600.0
    regime_scale: tuple[float, ...] = (0.6, 1.0, 1.6)
    regime_weight: tuple[float, ...] = (0.3, 0.5, 0.2)
    regime_mean_h: tuple[float, ...] = (12.0, 24.0, 8.0)
    regime_smooth_s: float = 3600.0
    turbine_type: str | None = None
    hub_height: float | None = None
    speed_height: float | None = None
    roughness_length: float = 0.15
    profile: str = "logarithmic"

    def __post_init__(self) -> None:
        owner = "WindFarm"
        _check_turbine(self.turbine_type)
        for name in ("hub_height", "speed_height"):
            if getattr(self, name) is not None:
                check_positive(owner, name, getattr(self, name))
        check_positive(owner, "roughness_length", self.roughness_length)
        if self.profile not in WIND_PROFILES:
            raise ValueError(f"WindFarm.profile must be one of {WIND_PROFILES}, got "
                             f"{self.profile!r}")
        if self.speed_height is not None and self.hub_height_m is None:
            if self.turbine_type is not None:
                raise ValueError(f"WindFarm.hub_height: the turbine library lists no hub height "
                                 f"for {self.turbine_type!r}; set hub_height")
            raise ValueError("WindFarm.speed_height needs a hub height: set hub_height or a "
                             "turbine_type")
        for name in ("speed_height", "hub_height_m"):
            h = getattr(self, name)
            if h is not None and h <= self.roughness_length:
                raise ValueError(f"WindFarm.{name} ({h} m) must exceed roughness_length "
                                 f"({self.roughness_length} m)")
        for name in ("rated_kw", "cut_in", "rated_speed", "cut_out"):
            check_positive(owner, name, getattr(self, name))
        if not self.cut_in < self.rated_speed < self.cut_out:
            raise ValueError(
                "WindFarm needs 0 < cut_in < rated_speed < cut_out, got "
                f"cut_in={self.cut_in}, rated_speed={self.rated_speed}, cut_out={self.cut_out}"
            )
        if self.model not in WIND_MODELS:
            raise ValueError(f"WindFarm.model must be one of {WIND_MODELS}, got {self.model!r}")
        for name in ("weibull_k", "weibull_c", "tau_s"):
            check_positive(owner, name, getattr(self, name))
        n = len(self.regime_scale)
        if n == 0 or len(self.regime_weight) != n or len(self.regime_mean_h) != n:
            raise ValueError(
                "WindFarm.regime_scale, regime_weight and regime_mean_h must be non-empty and of "
                f"equal length, got lengths {n}, {len(self.regime_weight)}, "
                f"{len(self.regime_mean_h)}"
            )
        for i in range(n):
            check_positive(owner, f"regime_scale[{i}]", self.regime_scale[i])
            check_positive(owner, f"regime_mean_h[{i}]", self.regime_mean_h[i])
        w = np.asarray(self.regime_weight, dtype=np.float64)
        if not (np.all(np.isfinite(w)) and np.all(w >= 0.0) and w.sum() > 0.0):
            raise ValueError(
                "WindFarm.regime_weight must be finite, >= 0 and not all zero, got "
                f"{self.regime_weight}"
            )
        if not (math.isfinite(self.regime_smooth_s) and self.regime_smooth_s >= 0.0):
            raise ValueError(
                f"WindFarm.regime_smooth_s must be a finite number >= 0, got {self.regime_smooth_s}"
            )

    @property
    def capacity_kw(self) -> float:
        """The output ceiling in kW (= ``rated_kw``), the scale of forecast errors."""
        return self.rated_kw

    @property
    def regime_time_share(self) -> FloatArray:
        """Long-run fraction of time spent in each regime: pi_i proportional to w_i * L_i."""
        share = np.asarray(self.regime_weight, dtype=np.float64) * np.asarray(self.regime_mean_h)
        out: FloatArray = share / share.sum()
        return out

    @cached_property
    def _regime_arrays(self) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """(draw probabilities, time shares, scales in m/s, mean hours), computed once."""
        w = np.asarray(self.regime_weight, dtype=np.float64)
        scales = self.weibull_c * np.asarray(self.regime_scale, dtype=np.float64)
        hours = np.asarray(self.regime_mean_h, dtype=np.float64)
        return w / w.sum(), self.regime_time_share, scales, hours

    @property
    def hub_height_m(self) -> float | None:
        """The hub height in m: ``hub_height``, else the library's first one for the type."""
        if self.hub_height is not None or self.turbine_type is None:
            return self.hub_height
        return _turbine_row(self.turbine_type)[1]

    @cached_property
    def hub_factor(self) -> float:
        """Hub-height speed / speed at ``speed_height`` (1 without a profile law), computed by
        windpowerlib's profile function."""
        hub = self.hub_height_m
        if self.speed_height is None or hub is None:
            return 1.0
        from windpowerlib import wind_speed as wpl_speed

        one = np.ones(1)
        if self.profile == "logarithmic":
            v = wpl_speed.logarithmic_profile(one, self.speed_height, hub, self.roughness_length)
        else:
            v = wpl_speed.hellman(one, self.speed_height, hub, self.roughness_length)
        return float(np.asarray(v, dtype=np.float64)[0])

    def mean_speed(self) -> float:
        """Stationary mean wind speed at ``speed_height`` in m/s: E[scale] * Gamma(1 + 1/k)."""
        gamma = math.gamma(1.0 + 1.0 / self.weibull_k)
        if self.model == "weibull_ar1":
            return self.weibull_c * gamma
        scale = float(np.dot(self.regime_time_share, self.regime_scale))
        return self.weibull_c * scale * gamma

    def power(self, speed: ArrayLike) -> FloatArray:
        """Output in kW at hub-height wind speed ``speed`` (m/s), by this farm's power curve."""
        if self.turbine_type is None:
            return power_curve(speed, self.rated_kw, self.cut_in, self.rated_speed,
                               self.cut_out)
        from windpowerlib import power_output

        speeds, values = _library_curve(self.turbine_type)
        v = np.asarray(speed, dtype=np.float64)
        p = power_output.power_curve(v.ravel(), speeds, values)
        out: FloatArray = np.asarray(p, dtype=np.float64).reshape(v.shape) * self.rated_kw
        return out

    def wind_speed(self, rng: np.random.Generator, n_slots: int, slot_len: int = 900) -> FloatArray:
        """Sample a stationary wind-speed path (m/s) at ``speed_height``, one value per slot."""
        check_grid(n_slots, slot_len)
        z = ar1_standard_normal(rng, n_slots, math.exp(-slot_len / self.tau_s))
        unit_weibull = (-norm_log_sf(z)) ** (1.0 / self.weibull_k)  # Weibull(k, scale 1)
        if self.model == "weibull_ar1":
            out: FloatArray = self.weibull_c * unit_weibull
            return out
        return self._regime_scale(rng, n_slots, slot_len) * unit_weibull

    def hub_wind_speed(self, rng: np.random.Generator, n_slots: int,
                       slot_len: int = 900) -> FloatArray:
        """Sample a wind-speed path (m/s) carried to hub height by the profile law."""
        out: FloatArray = self.wind_speed(rng, n_slots, slot_len) * self.hub_factor
        return out

    def sample(self, rng: np.random.Generator, n_slots: int, slot_len: int = 900) -> FloatArray:
        """Sample per-slot average output in kW, in [0, rated_kw]."""
        return self.power(self.hub_wind_speed(rng, n_slots, slot_len))

    def _regime_scale(self, rng: np.random.Generator, n_slots: int, slot_len: int) -> FloatArray:
        """Weibull scale per slot (m/s) along a stationary, smoothed regime path."""
        if n_slots == 0:
            return np.zeros(0)
        draw_p, share, scales, hours = self._regime_arrays
        states = categorical(rng, draw_p, n_slots)
        states[0] = categorical(rng, share, 1)[0]
        durations = geometric_durations(rng, states, hours * (3600.0 / slot_len))
        scale = scales[segments_to_slots(states, durations, n_slots)]
        if self.regime_smooth_s == 0.0:
            return scale
        a = math.exp(-slot_len / self.regime_smooth_s)
        b = (1.0 - a) * scale
        b[0] = scale[0]  # start on the first regime's own scale
        return ar1_scan(b, a)


def _library_dir() -> Path:
    """windpowerlib's shipped oedb turbine library (found without importing windpowerlib)."""
    spec = importlib.util.find_spec("windpowerlib")
    if spec is None or spec.origin is None:
        raise ValueError("WindFarm.turbine_type needs the windpowerlib package (pip install "
                         "windpowerlib)")
    return Path(spec.origin).parent / "oedb"


@lru_cache(maxsize=1)
def _turbine_table() -> dict[str, tuple[float, float | None]]:
    """Turbine type -> (nominal power in W, first listed hub height in m or None), for the
    types with a power curve; read from the library's CSV with the standard library, so that
    validating a scenario does not import pandas."""
    table: dict[str, tuple[float, float | None]] = {}
    with open(_library_dir() / "turbine_data.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row.get("has_power_curve", "").strip() != "True":
                continue
            hub: float | None = None
            for part in (row.get("hub_height") or "").replace(",", ".").split(";"):
                try:
                    hub = float(part)
                    break
                except ValueError:
                    continue
            table[row["turbine_type"]] = (float(row["nominal_power"]), hub)
    return table


def turbine_types() -> list[str]:
    """The turbine types of windpowerlib's shipped library that have a power curve."""
    return sorted(_turbine_table())


def _turbine_row(turbine_type: str) -> tuple[float, float | None]:
    return _turbine_table()[turbine_type]


def _check_turbine(turbine_type: str | None) -> None:
    """Raise ValueError, listing close matches, unless the type is in the library."""
    if turbine_type is None:
        return
    table = _turbine_table()
    if not isinstance(turbine_type, str) or turbine_type not in table:
        close = difflib.get_close_matches(str(turbine_type), list(table), n=5, cutoff=0.5)
        hint = f"close matches: {', '.join(close)}" if close else \
            f"{len(table)} types, e.g. {', '.join(sorted(table)[:5])}"
        raise ValueError(f"WindFarm.turbine_type {turbine_type!r} is not in windpowerlib's "
                         f"turbine library (types with a power curve); {hint}")


@lru_cache(maxsize=64)
def _library_curve(turbine_type: str) -> tuple[FloatArray, FloatArray]:
    """(wind speeds in m/s, power as a fraction of the curve's maximum) of a library turbine,
    loaded by windpowerlib from its shipped data."""
    from windpowerlib import WindTurbine

    hub = _turbine_row(turbine_type)[1]
    turbine = WindTurbine(turbine_type=turbine_type, hub_height=hub if hub else 100.0)
    curve = turbine.power_curve
    speeds = curve["wind_speed"].to_numpy(dtype=np.float64)
    values = curve["value"].to_numpy(dtype=np.float64)
    values = values / values.max()
    speeds.setflags(write=False)
    values.setflags(write=False)
    return speeds, values
