"""The observation: a named, bounded float32 layout (see :func:`feature_names`).

One flat vector per learner:

* **time** (4): sin and cos of the local time of day, episode progress in [0, 1], share of the
  window's slots that are open;
* **per slot** of the rolling window (``W`` slots, nearest delivery first; slots not open are
  all zeros): open flag (1 continuous, 0.5 call phase), time to gate closure (fraction of the
  trading window), best bid and best ask (price features), bid/ask present flags, spread, top-K
  depth per side (depth features), last price, VWAP (price features), traded volume (depth
  feature), the slot's public wholesale price (price feature; the curve the grid quotes around,
  :mod:`rex_env.sim.curve`; 0 under flat tariffs); then private: own position and own working
  order (signed, fraction of capacity), the working order's price (price feature), the forecast
  net rate and its standard deviation (fraction of capacity);
* **private state** (8): state of charge (fraction), plant output (fraction of its
  capacity), last settled imbalance (fraction of capacity), asset flags (PV, wind, load,
  battery, plant).

With zones, the book is the learner's own zone's and a zonal block (neighbours' best quotes,
capacity left; :mod:`.zonal_obs`) comes before the private state.

Scales: a *price feature* is ``(price - reference) / reference``; a *depth feature* is
``log1p(kW) / log1p(1000)``; rates are divided by the learner's capacity. Every feature is
clipped to ``[-LIMIT, LIMIT]``, so observations are always inside the space and never inf/nan.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

LIMIT = 10.0
TIME_FEATURES = ("time_sin", "time_cos", "progress", "open_share")
PRIVATE_FEATURES = ("soc", "plant_output", "last_imbalance", "has_pv", "has_wind", "has_load",
                    "has_battery", "has_plant")
DEPTH_SCALE = math.log1p(1000.0)


def slot_features(k: int) -> tuple[str, ...]:
    """Feature names of one window slot with ``k`` depth levels per side."""
    return (
        "open", "time_to_gate", "best_bid", "best_ask", "has_bid", "has_ask", "spread",
        *(f"bid_depth_{i}" for i in range(k)), *(f"ask_depth_{i}" for i in range(k)),
        "last_price", "vwap", "volume", "wholesale",
        "position", "working_rate", "working_price", "forecast", "forecast_std",
    )


def feature_names(window: int, k: int) -> list[str]:
    """The observation's feature names in order (``slot03.best_bid`` etc.)."""
    names = list(TIME_FEATURES)
    per = slot_features(k)
    for j in range(window):
        names.extend(f"slot{j:02d}.{f}" for f in per)
    names.extend(PRIVATE_FEATURES)
    return names


class PublicBlock:
    """The public part of the per-slot features, computed once per step for all learners.

    On the C engine the env writes the same float32s with :func:`rex_env._core.public_block`
    (one call instead of ≈ 20 numpy calls); :meth:`fill` stays the reference
    (``tests/envs/test_obs_fast.py``)."""

    def __init__(self, window: int, k: int) -> None:
        self.window = window
        self.k = k
        self.per = len(slot_features(k))
        self.n_public = 7 + 2 * k + 4  # up to "wholesale"
        self.values: NDArray[np.float32] = np.zeros((window, self.per), np.float32)

    def fill(self, lob: object, open_codes: NDArray[np.float64], gate_frac: NDArray[np.float64],
             ref_ticks: float, lot_kw: float,
             wholesale_ticks: NDArray[np.float64] | None = None) -> None:
        """Write the public features of the ``n`` open slots in ``lob`` (a LOB3D);
        ``wholesale_ticks``: the curve's price of each (``None``: the reference price)."""
        v = self.values
        v[:] = 0.0
        n = len(open_codes)
        if n == 0:
            return
        k = self.k
        bb, ba = lob.best_bid, lob.best_ask  # type: ignore[attr-defined]
        has_b, has_a = ~np.isnan(bb), ~np.isnan(ba)

        def price(x: NDArray[np.float64]) -> NDArray[np.float64]:
            return np.nan_to_num((x - ref_ticks) / ref_ticks, nan=0.0)

        v[:n, 0] = open_codes
        v[:n, 1] = gate_frac
        v[:n, 2] = price(bb)
        v[:n, 3] = price(ba)
        v[:n, 4] = has_b
        v[:n, 5] = has_a
        v[:n, 6] = np.nan_to_num((ba - bb) / ref_ticks, nan=0.0)
        v[:n, 7:7 + k] = np.log1p(lob.bid_depth * lot_kw) / DEPTH_SCALE  # type: ignore[attr-defined]
        v[:n, 7 + k:7 + 2 * k] = np.log1p(lob.ask_depth * lot_kw) / DEPTH_SCALE  # type: ignore[attr-defined]
        v[:n, 7 + 2 * k] = price(lob.last_price)  # type: ignore[attr-defined]
        v[:n, 8 + 2 * k] = price(lob.vwap)  # type: ignore[attr-defined]
        v[:n, 9 + 2 * k] = np.log1p(lob.volume * lot_kw) / DEPTH_SCALE  # type: ignore[attr-defined]
        if wholesale_ticks is not None:
            v[:n, 10 + 2 * k] = price(np.asarray(wholesale_ticks, dtype=np.float64))
