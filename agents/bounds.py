"""Perfect-foresight bounds per role: what an owner could have earned knowing the day.

Issue 11 / SPEC §10 (version 2): every learned result is placed between the prototype, a
strong baseline and the perfect-foresight optimum of its role. These are those optima, as
pure functions of a realised day (prices per slot, realised rates) and the owner's assets.

All bounds are **price-taking**: the owner trades any quantity at the slot's realised price
(its VWAP, or the settlement reference where the slot did not trade) and its own trades do not
move it. That is the usual oracle of storage and dispatch studies; it is an upper bound for a
participant that pays the spread and not for one that earns it (a maker that sells above the
VWAP can beat it), and it ignores that a bigger position would have moved the price. Values are
in currency, with the accounting of the market's per-owner surplus (SPEC §9 metrics): trade
cash, plus the value of served consumption, minus production cost, plus the value of energy
left in a battery at the end (``terminal_price``: currency/MWh per kWh stored; 0 in the
accounting that gives leftover charge no value, ``day VWAP x round-trip efficiency`` in the
one issue 11 introduces).

* :func:`intermittent_bound` — uncontrollable assets (wind, PV, load): the best reservation
  with hindsight is the realised net rate, sold (bought) at the realised price; no imbalance.
  (Deliberate imbalance priced better than the trade is not counted: it is speculation on the
  imbalance price, not the use of the asset.)
* :func:`storage_bound` — a battery (the storage dealer's, or a household's on top of its
  intermittent bound): a linear programme over the slots with charge/discharge efficiencies,
  the power limit, the energy limits and the terminal value (scipy's HiGHS). Charge and
  discharge are separate variables limited together by the power (``c + d <= power``); with
  non-negative prices charging and discharging at once is never better, so the optimum is a
  physical schedule; with negative prices the LP may waste energy that way, which makes the
  bound (slightly) loose, never wrong.
* :func:`plant_bound` — the provision plant: exact dynamic programming over outputs on a grid
  of ``step_kw`` (the lot: positions are whole lots) with the plant's own feasibility rule
  (ramp limit, minimum stable output, start-up and shut-down,
  :meth:`~rex_env.physics.ProvisionPlant.is_feasible`), maximising revenue minus the
  integral of the marginal cost, from the episode's starting output.

Cost: the storage LP has 3 x n_slots variables (≈ 5 ms for a day); the plant DP is
O(n_slots x levels^2) numpy work (≈ 0.2 s for 96 slots and a 60 kW plant on 0.1 kW).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, TypeAlias

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linprog

from rex_env.physics import Battery, ProvisionPlant

Series: TypeAlias = Sequence[float] | NDArray[np.float64]
"""Per-slot values: a sequence or a 1-d float array."""

__all__ = ["Bound", "Series", "intermittent_bound", "plant_bound", "storage_bound"]


class Bound(NamedTuple):
    """A perfect-foresight optimum.

    Attributes:
        value: currency (trade cash + the role's other surplus terms, see the module doc).
        rates: the optimal net rate per slot, kW (production / discharge > 0).
        energy: stored energy after each slot, kWh (storage; empty otherwise).
    """

    value: float
    rates: NDArray[np.float64]
    energy: NDArray[np.float64]


def _prices(prices: Series) -> NDArray[np.float64]:
    p = np.asarray(prices, dtype=float)
    if p.ndim != 1 or not np.all(np.isfinite(p)):
        raise ValueError(f"prices must be a 1-d sequence of finite numbers, got {prices!r}")
    return p


def _hours(slot_len: int) -> float:
    if not isinstance(slot_len, (int, np.integer)) or slot_len <= 0:
        raise ValueError(f"slot_len must be an int > 0 seconds, got {slot_len!r}")
    return slot_len / 3600.0


def intermittent_bound(prices: Series, net_kw: Series, slot_len: int,
                       consumption_kw: Series | None = None,
                       consumption_value: float | Series = 0.0) -> Bound:
    """Reserve the realised net rate in every slot at the realised price.

    Args:
        prices: currency/MWh per slot.
        net_kw: realised net rate of the uncontrollable assets per slot (production > 0).
        slot_len: seconds.
        consumption_kw: realised consumption per slot (its value counts in the surplus).
        consumption_value: currency/MWh of served consumption: one price, or one per slot
            (the grid's retail ask of each slot under the wholesale-indexed grid, as the
            market's accounts value it).

    Raises:
        ValueError: arrays of different lengths or non-finite values.
    """
    p = _prices(prices)
    x = np.asarray(net_kw, dtype=float)
    cons = np.zeros_like(x) if consumption_kw is None else np.asarray(consumption_kw, float)
    if x.shape != p.shape or cons.shape != p.shape:
        raise ValueError(f"prices, net_kw and consumption_kw must have the same length, got "
                         f"{p.shape}, {x.shape}, {cons.shape}")
    cv = np.broadcast_to(np.asarray(consumption_value, dtype=float), p.shape) \
        if np.ndim(consumption_value) == 0 else np.asarray(consumption_value, dtype=float)
    if cv.shape != p.shape or not np.all(np.isfinite(cv)):
        raise ValueError(f"consumption_value must be one finite price or one per slot "
                         f"({p.shape}), got shape {cv.shape}")
    h = _hours(slot_len)
    value = float(np.sum(p * x) * h / 1000 + np.sum(cons * cv) * h / 1000)
    return Bound(value, x.copy(), np.zeros(0))


def storage_bound(prices: Series, battery: Battery, slot_len: int, *,
                  initial_kwh: float | None = None, terminal_price: float = 0.0) -> Bound:
    """The best battery schedule against known prices (an LP).

    Args:
        prices: currency/MWh per slot (price-taking).
        battery: power, energy limits, efficiencies (its ``initial_energy_kwh`` unless
            ``initial_kwh`` is given).
        slot_len: seconds.
        initial_kwh: stored energy at the start, kWh, within the battery's limits.
        terminal_price: currency/MWh per kWh stored at the end (>= 0 makes keeping energy
            worth something; 0 = leftover charge is worth nothing).

    Returns:
        The optimal trade cash plus terminal value, the grid rate per slot (discharge > 0)
        and the stored energy after each slot.

    Raises:
        ValueError: bad input, naming the field.
    """
    p = _prices(prices)
    h = _hours(slot_len)
    b = battery
    e0 = b.initial_energy_kwh if initial_kwh is None else float(initial_kwh)
    if not b.min_energy_kwh - 1e-9 <= e0 <= b.max_energy_kwh + 1e-9:
        raise ValueError(f"initial_kwh must be in [{b.min_energy_kwh}, {b.max_energy_kwh}] "
                         f"kWh, got {initial_kwh!r}")
    if not np.isfinite(terminal_price):
        raise ValueError(f"terminal_price must be finite, got {terminal_price!r}")
    n = len(p)
    if n == 0:
        return Bound(terminal_price * e0 / 1000, np.zeros(0), np.zeros(0))
    # variables: charge c (n, kW from the grid), discharge d (n, kW to the grid), energy e (n)
    cost = np.concatenate([p * h / 1000, -p * h / 1000, np.zeros(n)])
    cost[3 * n - 1] -= terminal_price / 1000
    eq = np.zeros((n, 3 * n))
    rhs = np.zeros(n)
    for i in range(n):  # e_i - e_{i-1} - eta_c h c_i + h d_i / eta_d = 0
        eq[i, 2 * n + i] = 1.0
        if i:
            eq[i, 2 * n + i - 1] = -1.0
        eq[i, i] = -b.eta_charge * h
        eq[i, n + i] = h / b.eta_discharge
    rhs[0] = e0
    ub_rows = np.zeros((n, 3 * n))
    ub_rows[np.arange(n), np.arange(n)] = 1.0
    ub_rows[np.arange(n), n + np.arange(n)] = 1.0
    bounds = ([(0.0, b.power_kw)] * (2 * n)
              + [(b.min_energy_kwh, b.max_energy_kwh)] * n)
    res = linprog(cost, A_ub=ub_rows, b_ub=np.full(n, b.power_kw), A_eq=eq, b_eq=rhs,
                  bounds=bounds, method="highs")
    if res.x is None:  # pragma: no cover - doing nothing is always feasible
        raise RuntimeError(f"storage LP failed: {res.message}")
    c, d, e = res.x[:n], res.x[n:2 * n], res.x[2 * n:]
    return Bound(float(-res.fun), d - c, e)


def plant_bound(prices: Series, plant: ProvisionPlant, slot_len: int, *,
                initial_kw: float = 0.0, step_kw: float = 0.1) -> Bound:
    """The best dispatch of a plant against known prices (exact DP on a ``step_kw`` grid).

    Args:
        prices: currency/MWh per slot (price-taking).
        plant: capacity, minimum stable output, marginal cost, ramp limit.
        slot_len: seconds.
        initial_kw: output before the first slot (the market starts plants off: 0).
        step_kw: output grid (> 0; the lot, since positions are whole lots).

    Returns:
        Revenue minus production cost of the optimal schedule, and the schedule (kW).

    Raises:
        ValueError: bad input, naming the field.
    """
    p = _prices(prices)
    h = _hours(slot_len)
    if not step_kw > 0:
        raise ValueError(f"step_kw must be > 0, got {step_kw!r}")
    levels = int(plant.capacity_kw / step_kw + 1e-9)
    q = np.arange(levels + 1) * step_kw
    tol = 1e-9
    feasible = np.zeros((levels + 1, levels + 1), dtype=bool)  # [prev, next]
    for i, prev in enumerate(q):
        lo, hi = plant.feasible_range(float(prev))
        row = (q >= lo - tol) & (q <= hi + tol) & (q >= plant.min_stable_kw - tol)
        row[0] = lo == 0.0
        feasible[i] = row
    lo0, hi0 = plant.feasible_range(initial_kw)
    start = (q >= lo0 - tol) & (q <= hi0 + tol) & (q >= plant.min_stable_kw - tol)
    start[0] = lo0 == 0.0
    cost = (plant.cost_a * q + 0.5 * plant.cost_b * q**2) * h / 1000
    n = len(p)
    if n == 0:
        return Bound(0.0, np.zeros(0), np.zeros(0))
    value = np.where(start, p[0] * q * h / 1000 - cost, -np.inf)
    back = np.zeros((n, levels + 1), dtype=np.int32)
    for k in range(1, n):
        cand = np.where(feasible, value[:, None], -np.inf)
        back[k] = np.argmax(cand, axis=0)
        value = cand[back[k], np.arange(levels + 1)] + p[k] * q * h / 1000 - cost
    j = int(np.argmax(value))
    best = float(value[j])
    path = np.zeros(n, dtype=np.int64)
    for k in range(n - 1, -1, -1):
        path[k] = j
        j = int(back[k, j])
    return Bound(best, np.asarray(q[path], dtype=np.float64), np.zeros(0))
