"""Forecasts of uncontrollable assets whose errors shrink to zero at delivery.

Construction (market_rules.md §3.3 `[design]`). For each delivery slot k with true rate y[k]
(kW) and delivery start T_k = k * slot_len, forecasts are revised every ``update_s`` seconds. A
forecast issued at time t has lead h = T_k - t and m = ceil(h / update_s) revisions still to
come (m = 0 at and after delivery start; leads beyond ``max_revisions`` use m = M). It is

    f_m(k) = y[k] + e_m(k),  e_m(k) = eps_1(k) + ... + eps_m(k),
    eps_j(k) ~ N(0, sigma_j^2 - sigma_{j-1}^2) independent over j,

with sigma_j = capacity * :meth:`ForecastErrorModel.fraction` (j * update_s) and sigma_0 = 0.
Hence Var e_m = sigma_m^2, the error is exactly zero at delivery, the error scale grows with
the lead, and each revision f_{m-1} - f_m = -eps_m has mean zero and is independent of every
other revision: every forecast is an unbiased estimate of y[k], and successive forecasts are
consistent (a backward random walk onto the truth).

Martingale caveat: conditional on the truth y, the revisions are independent and mean zero
(what the tests check). Because y is drawn first by the physics and the error is added, a
forecaster who also treats y as random would find revisions slightly mean-reverting toward
its prior; that is inherent in "truth + shrinking noise" and the usual simplification.

The error matrix E[k, m] (n_slots x (M + 1)) is drawn once per episode, so reading a forecast
is pure numpy indexing. Optionally the increments are correlated across neighbouring delivery
slots (``slot_corr_s``), as real forecast errors are; each slot's marginal law is unchanged.

Reported means are clipped to the physical range ``bounds`` (e.g. [0, capacity] for wind);
``clip=False`` returns the unclipped value y + e, the one with the martingale property.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike

from ._numerics import FloatArray, IntArray, ar1_standard_normal
from ._validate import check_positive


@dataclass(frozen=True)
class ForecastErrorModel:
    """Forecast error standard deviation as a fraction of capacity, by lead time.

    sigma(h) = 0 for h <= 0; sigma_0 * sqrt(h / lead_0_s) for 0 < h < lead_0_s (a random-walk
    start); sigma_inf - (sigma_inf - sigma_0) * exp(-(h - lead_0_s) / tau_s) beyond. The
    defaults give 3.0 % at 15 min, 4.0 % at 1 h, 8.7 % at 6 h and 12.3 % at 24 h: the notes'
    "about 3 % at 15 min, 10-15 % day-ahead" for a single site [S48]. The shape is an
    assumption.

    Attributes:
        sigma_0: Fraction of capacity at lead ``lead_0_s``, > 0.
        sigma_inf: Fraction approached at long leads, >= sigma_0.
        lead_0_s: Reference short lead in seconds (15 min).
        tau_s: Time constant of the growth towards sigma_inf, seconds.
    """

    sigma_0: float = 0.03
    sigma_inf: float = 0.125
    lead_0_s: float = 900.0
    tau_s: float = 6 * 3600.0

    def __post_init__(self) -> None:
        owner = "ForecastErrorModel"
        for name in ("sigma_0", "sigma_inf", "lead_0_s", "tau_s"):
            check_positive(owner, name, getattr(self, name))
        if self.sigma_inf < self.sigma_0:
            raise ValueError(
                "ForecastErrorModel.sigma_inf must be >= sigma_0 (errors grow with lead), got "
                f"sigma_0={self.sigma_0}, sigma_inf={self.sigma_inf}"
            )

    def fraction(self, lead_s: ArrayLike) -> FloatArray:
        """Error standard deviation as a fraction of capacity at lead ``lead_s`` seconds."""
        h = np.asarray(lead_s, dtype=np.float64)
        short = self.sigma_0 * np.sqrt(np.clip(h, 0.0, None) / self.lead_0_s)
        grow = np.exp(-(np.maximum(h, self.lead_0_s) - self.lead_0_s) / self.tau_s)
        long = self.sigma_inf - (self.sigma_inf - self.sigma_0) * grow
        out: FloatArray = np.where(h <= 0.0, 0.0, np.where(h < self.lead_0_s, short, long))
        return out


class ForecastPath:
    """One episode's forecasts of one asset's per-slot rate.

    Args:
        rng: The episode's generator (the error matrix is drawn at construction).
        truth: True per-slot rates y[k] in kW, shape (n_slots,).
        capacity_kw: Scale of the errors (rated power; for a load, e.g. its peak mean).
        max_revisions: M, the number of revisions before delivery that are modelled; leads
            longer than M * update_s have the error of lead M * update_s.
        slot_len: Slot length in seconds.
        update_s: Seconds between forecast revisions.
        error: The error scale by lead time.
        bounds: Physical range (lo, hi) to which reported means are clipped.
        slot_corr_s: Correlation time of errors across delivery slots, seconds (0 = independent
            slots).
        scale: Optional per-slot factor (>= 0, shape (n_slots,)) on the error scale: a slot
            whose outcome is certain has scale 0 (PV at night: the sun is down, the forecast
            is exactly 0), otherwise errors would be clipped into a biased forecast there.
    """

    def __init__(
        self,
        rng: np.random.Generator,
        truth: ArrayLike,
        capacity_kw: float,
        max_revisions: int = 96,
        *,
        slot_len: int = 900,
        update_s: int = 900,
        error: ForecastErrorModel | None = None,
        bounds: tuple[float, float] = (0.0, math.inf),
        slot_corr_s: float = 0.0,
        scale: ArrayLike | None = None,
    ) -> None:
        y = np.array(truth, dtype=np.float64)
        if y.ndim != 1:
            raise ValueError(f"truth must be one-dimensional (one rate per slot), got {y.shape}")
        check_positive("ForecastPath", "capacity_kw", capacity_kw)
        if not isinstance(max_revisions, int) or max_revisions < 0:
            raise ValueError(f"max_revisions must be an int >= 0, got {max_revisions!r}")
        for name, value in (("slot_len", slot_len), ("update_s", update_s)):
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be an int number of seconds > 0, got {value!r}")
        if not (slot_corr_s >= 0.0 and math.isfinite(slot_corr_s)):
            raise ValueError(f"slot_corr_s must be a finite number >= 0, got {slot_corr_s!r}")
        if not bounds[0] <= bounds[1]:
            raise ValueError(f"bounds must be (lo, hi) with lo <= hi, got {bounds!r}")
        self.error = error if error is not None else _DEFAULT_ERROR
        self.capacity_kw = float(capacity_kw)
        self.max_revisions = max_revisions
        self.slot_len = slot_len
        self.update_s = update_s
        self.bounds = (float(bounds[0]), float(bounds[1]))

        if scale is not None:
            row_scale = np.array(scale, dtype=np.float64)
            if row_scale.shape != y.shape or not np.all(np.isfinite(row_scale)) \
                    or np.any(row_scale < 0.0):
                raise ValueError(f"scale must be finite, >= 0 and of shape {y.shape} (one per "
                                 f"slot), got shape {row_scale.shape}")
        sigma, increment_sd = _sigma_steps(self.error, self.capacity_kw, max_revisions,
                                           update_s)
        phi = math.exp(-slot_len / slot_corr_s) if slot_corr_s > 0.0 else 0.0
        eps = ar1_standard_normal(rng, (y.size, max_revisions), phi) * increment_sd
        errors = np.zeros((y.size, max_revisions + 1))
        sigma_table: FloatArray
        if scale is None:
            # a unit scale would multiply by 1.0 (exact): skip it, and share sigma's rows
            sigma_table = _unit_sigma_table(self.error, self.capacity_kw, max_revisions,
                                            update_s, y.size)
        else:
            eps *= row_scale[:, None]
            sigma_table = row_scale[:, None] * sigma[None, :]
        np.cumsum(eps, axis=1, out=errors[:, 1:])

        # Forecast tables per (slot, revisions left), so a read is one fancy index.
        unclipped = y[:, None] + errors
        clipped = np.maximum(unclipped, self.bounds[0])
        if self.bounds[1] != math.inf:  # min(x, inf) is x: skip it (loads have no ceiling)
            np.minimum(clipped, self.bounds[1], out=clipped)
        for a in (y, sigma, sigma_table, errors, unclipped, clipped):
            a.setflags(write=False)
        self._truth = y
        self._sigma = sigma
        self._sigma_table = sigma_table
        self._errors = errors
        self._unclipped = unclipped
        self._clipped = clipped

    @property
    def means(self) -> FloatArray:
        """Clipped forecast means F[k, m] of slot k with m revisions to go, shape
        (n_slots, M + 1) (read-only view): every forecast of the episode in one table."""
        return self._clipped

    @property
    def truth(self) -> FloatArray:
        """The true per-slot rates (read-only view)."""
        return self._truth

    @property
    def errors(self) -> FloatArray:
        """Error matrix E[k, m], shape (n_slots, M + 1), E[:, 0] = 0 (read-only view)."""
        return self._errors

    @property
    def sigma_by_revisions(self) -> FloatArray:
        """sigma_m in kW for m = 0..M before the per-slot ``scale`` (read-only view);
        sigma_0 = 0."""
        return self._sigma

    @property
    def sigma_table(self) -> FloatArray:
        """Error standard deviation S[k, m] in kW of slot k with m revisions to go: the
        per-slot ``scale`` times sigma_m, shape (n_slots, M + 1) (read-only view)."""
        return self._sigma_table

    @property
    def n_slots(self) -> int:
        """Number of slots covered."""
        return int(self._truth.size)

    def revisions_left(self, slots: ArrayLike, t: float) -> IntArray:
        """m = ceil((T_k - t) / update_s) clipped to [0, M], for each slot k in ``slots``."""
        k = np.asarray(slots, dtype=np.intp)
        if self.slot_len % self.update_s == 0:
            # Fast path (every env step): m = k * (slot_len / update_s) - floor(t / update_s),
            # exact in integers because T_k is a whole number of update periods.
            m = k * (self.slot_len // self.update_s) - int(t // self.update_s)
        else:
            m = -np.floor_divide(t - k * self.slot_len, self.update_s).astype(np.intp)
        out: IntArray = np.minimum(np.maximum(m, 0), self.max_revisions).astype(np.intp)
        return out

    def forecast_window(
        self, slots: ArrayLike, t: float, *, clip: bool = True
    ) -> tuple[FloatArray, FloatArray]:
        """Forecast means and standard deviations (kW) of many slots at time ``t`` (seconds).

        Pure numpy indexing (called every env step); returns fresh arrays. ``clip=False``
        gives the unclipped means y + e.
        """
        k = np.asarray(slots, dtype=np.intp)
        m = self.revisions_left(k, t)
        mean: FloatArray = (self._clipped if clip else self._unclipped)[k, m]
        std: FloatArray = self._sigma_table[k, m]
        return mean, std

    def forecast(self, k: int, t: float, *, clip: bool = True) -> float:
        """Forecast mean (kW) of slot ``k`` issued at time ``t``."""
        m = int(self.revisions_left(k, t))
        return float((self._clipped if clip else self._unclipped)[k, m])

    def sigma(self, k: int, t: float) -> float:
        """Standard deviation (kW) of the forecast error of slot ``k`` at time ``t``."""
        return float(self._sigma_table[k, int(self.revisions_left(k, t))])


_DEFAULT_ERROR = ForecastErrorModel()
"""The error model of a path built without one (frozen, so one instance serves all)."""


@lru_cache(maxsize=256)
def _sigma_steps(error: ForecastErrorModel, capacity_kw: float, max_revisions: int,
                 update_s: int) -> tuple[FloatArray, FloatArray]:
    """sigma_m in kW (m = 0..M, sigma_0 = 0) and the increments' standard deviations
    sqrt(sigma_m^2 - sigma_{m-1}^2), read-only.

    Memoised because they depend on no draw and every market reset builds the same few (one
    per asset size) again.
    """
    sigma = capacity_kw * error.fraction(np.arange(max_revisions + 1) * update_s)
    sigma[0] = 0.0
    increment_sd = np.sqrt(np.maximum(np.diff(sigma**2), 0.0))
    sigma.setflags(write=False)
    increment_sd.setflags(write=False)
    return sigma, increment_sd


@lru_cache(maxsize=256)
def _unit_sigma_table(error: ForecastErrorModel, capacity_kw: float, max_revisions: int,
                      update_s: int, n_slots: int) -> FloatArray:
    """The sigma table of a path without ``scale``: sigma_m in every row, as a read-only
    broadcast view (memoised: building the view costs more than a path's other tables)."""
    sigma = _sigma_steps(error, capacity_kw, max_revisions, update_s)[0]
    out: FloatArray = np.broadcast_to(sigma, (n_slots, max_revisions + 1))
    return out
