"""The rolling-intrinsic storage trader: re-optimise against the book, trade the difference.

A strong baseline for the storage role (issue 11, STYLE practice 17): the standard industry
baseline for batteries in continuous intraday markets (e.g. Löhndorf & Wozabal, "The value of
coordination in multimarket bidding of grid energy storage", Oper. Res. 2023; Bertrand &
Papavasiliou, "Adaptive trading in continuous intraday electricity markets for a storage
unit", IEEE Trans. Power Syst. 2020). At every decision it

1. reads the *tradable* prices of every open slot from the public book: it can buy up the ask
   side level by level (price, volume) and sell down the bid side;
2. solves for the battery schedule that maximises the cash of the trades it would make now
   plus the value of the energy left at the end of the window, given its current position in
   every not-yet-delivered slot, its state of charge, the power limit, the energy limits and
   the charge/discharge efficiencies (a small mixed-integer LP: trades in whole lots);
3. trades the difference to its current positions at once (immediate-or-cancel at the worst
   level the plan uses), so its positions are always a feasible schedule and it never rests
   an order that could fill later into an infeasible one.

It locks in spreads between slots (buy a cheap slot's ask, sell a dear slot's bid, in the
right order and net of the round-trip loss) and later re-trades positions when the book moves
(sell back what it bought when a bid pays more than the plan's alternative). Since it only
takes liquidity, it pays the spread the makers earn: where the book's spread across slots
never exceeds the round-trip loss it stays idle.

The model, per delivery slot i of the window (the slot in delivery up to the last open one),
with the position ``x_i`` (lots, bought > 0) and trades ``B`` at ask levels and ``S`` at bid
levels (lots, integer, at most the level's volume; zero where the slot is not in continuous
trading)::

    c_i - d_i = x_i + sum B_i - sum S_i        charge c_i >= 0, discharge d_i >= 0 (lots)
    c_i + d_i <= power                         the battery's power limit
    e_i = e_{i-1} + eta_c h c_i - h d_i / eta_d    stored energy (kWh), e_{-1} = now's SoC
    E_min <= e_i <= E_max,   e_last >= e_floor
    max  sum bid * S - sum ask * B + terminal_price * e_last   (currency)

with ``h`` = lot x slot hours. Splitting the net position into ``c`` and ``d`` is exact when
prices are positive (simultaneous charge and discharge only loses energy); with negative
prices the plan could count on wasting energy the physics cannot waste, so a plan whose
physical state-of-charge path (:meth:`RollingIntrinsicTrader.soc_path`) leaves the limits is
not traded.

The end of the window: before the episode's last slot is open the energy at the window's end
must stay at least the starting charge (``keep_reserve``: the battery returns what it started
with, as the storage prototype does) and energy above it is worth ``terminal_price``; in the
last window only the SoC floor applies. ``terminal_price`` (currency/MWh of stored energy)
is the episode's value of leftover charge: ``None`` estimates the settlement's rule (SPEC §9,
:func:`rex_env.sim.settlement.terminal_energy_value`: the day's VWAP x discharge efficiency)
from the slot VWAPs it has seen; 0 gives leftover charge no value.

Parameters and why:

* ``period`` 300 s (the prototypes' rhythm; the plan is re-solved at every wake-up).
* ``levels`` 5: book levels per side it may trade through (the LOB-3D's depth).
* ``terminal_price`` None, ``keep_reserve`` True: above. With the estimated terminal price
  the trader values leftover charge as the settlement does; with 0 it would only lock in
  spreads inside the window and sell what is left in the last window (which the settlement
  charges back at the day's VWAP).
* ``terminal_scale`` 1.0: multiplies the value of leftover charge (estimated or given). 1 is
  the settlement's own rule; ``action_mode="tune"`` with ``tune_base="baseline"`` lets a policy
  move it (above 1: keep or buy energy for later, below 1: sell it now), the one way this
  trader can act on value beyond its window.
* ``min_gain`` 0.0: currency; a plan that gains less than this over doing nothing is not
  traded (churn control).
* ``mip_nodes`` 100: the LP relaxation's trades are usually whole lots (the book's volumes
  are); when they are not and rounding them toward zero leaves the limits, a mixed-integer
  program decides, within this many branch-and-bound nodes (HiGHS; the best plan found so far,
  else no trade). A node limit, not a time limit, so the same day gives the same trades on any
  machine under any load: with the former 0.2 s time limit 5-10 % of the programs stopped at
  the limit on a loaded machine and the baseline's score moved with the load (15.25, 15.53 and
  15.79 a day on the same ten held-out seeds); every program of three held-out days finishes
  within 20 nodes.
* ``mip_seconds`` 10.0: a guard against a pathological program only (never reached in the
  measured days; if it is, the result depends on the machine's speed).

Cost: one HiGHS MILP with ≈ 25 slots x (2 x ``levels``) integer variables per wake-up
(measured ≈ 5-30 ms).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from rex_env.exchange import Phase, Side, Tif
from rex_env.physics import Battery
from rex_env.sim.agent_api import Instruction, MarketView, OwnerView, submit

from .base import SlotTrader, check_number

_EPS = 1e-6


class RollingIntrinsicTrader(SlotTrader):
    """Re-optimises the battery schedule against the book at every wake-up.

    Args:
        owner: the participant it trades for.
        battery: its battery (power, energy limits, efficiencies).
        period: seconds between wake-ups.
        levels: book levels per side it may trade through (int >= 1).
        terminal_price: currency/MWh per kWh stored at the end (``None``: estimated).
        keep_reserve: keep the starting charge until the last window.
        terminal_scale: factor (>= 0) on the value of stored energy (1: the settlement's).
        min_gain: currency >= 0; smaller improvements are not traded.
        mip_nodes: node limit (int >= 1) of the mixed-integer fallback (deterministic).
        mip_seconds: time guard (s, > 0) of the mixed-integer fallback.
        **kw: :class:`~agents.base.SlotTrader` parameters.

    Raises:
        ValueError: a parameter out of range, naming it and what is allowed.
    """

    TUNABLE = (("terminal_scale", 0.5, 1.5), ("min_gain", 0.0, 0.1))
    """``action_mode="tune"``, ``tune_base="baseline"``: the value put on stored energy (how
    much charge to carry beyond the window) and the gain a re-plan must bring (wait for a
    better book). The median plan gains ≈ 0.009, the 90th percentile ≈ 0.1 (a community day)."""

    def __init__(self, owner: str, battery: Battery, *, period: int = 300, levels: int = 5,
                 terminal_price: float | None = None, keep_reserve: bool = True,
                 terminal_scale: float = 1.0, min_gain: float = 0.0, mip_nodes: int = 100,
                 mip_seconds: float = 10.0, **kw: float) -> None:
        super().__init__(owner, period=period, **kw)  # type: ignore[arg-type]
        if not isinstance(battery, Battery):
            raise ValueError(f"battery must be a Battery, got {battery!r}")
        check_number("levels", levels, 1, integer=True)
        if terminal_price is not None:
            check_number("terminal_price", terminal_price)
        check_number("terminal_scale", terminal_scale, 0)
        check_number("min_gain", min_gain, 0)
        check_number("mip_nodes", mip_nodes, 1, integer=True)
        check_number("mip_seconds", mip_seconds, 0, lo_open=True)
        self.battery = battery
        self.levels = int(levels)
        self.terminal_price = None if terminal_price is None else float(terminal_price)
        self.keep_reserve = bool(keep_reserve)
        self.terminal_scale = float(terminal_scale)
        self.min_gain = float(min_gain)
        self.mip_nodes = int(mip_nodes)
        self.mip_seconds = float(mip_seconds)
        self._seen: dict[int, float] = {}

    def reset(self, rng: np.random.Generator) -> None:
        super().reset(rng)
        self._seen = {}

    # -- helpers ------------------------------------------------------------------------------
    def stored_kwh(self, lots: int, hours: float) -> float:
        """Change of stored energy (kWh) when a slot's position is ``lots`` (bought > 0)."""
        b = self.battery
        kwh = lots * self.lot * hours
        return kwh * b.eta_charge if lots > 0 else kwh / b.eta_discharge

    def soc_path(self, soc_kwh: float, positions: Iterable[int], hours: float) -> list[float]:
        """The stored energy after each slot when the battery follows ``positions``."""
        out = []
        e = soc_kwh
        for p in positions:
            e += self.stored_kwh(p, hours)
            out.append(e)
        return out

    def feasible(self, soc_kwh: float, positions: list[int], hours: float,
                 floor_kwh: float) -> bool:
        """Whether the battery can follow ``positions`` exactly (power and SoC limits)."""
        b = self.battery
        power = int(b.power_kw / self.lot + 1e-9)
        if any(abs(p) > power for p in positions):
            return False
        path = self.soc_path(soc_kwh, positions, hours)
        return (all(b.min_energy_kwh - _EPS <= e <= b.max_energy_kwh + _EPS for e in path)
                and (not path or path[-1] >= floor_kwh - _EPS))

    def value_of_stored(self, market: MarketView) -> float:
        """Currency/MWh a kWh left in the battery at the end is worth (see the module doc)."""
        if self.terminal_price is not None:
            return self.terminal_price * self.terminal_scale
        if not self._seen:
            return 0.0
        b = self.battery
        v = float(np.mean(list(self._seen.values()))) * self.tick
        return max(0.0, v) * b.eta_discharge * self.terminal_scale

    # -- the decision -------------------------------------------------------------------------
    def plan(self, market: MarketView, me: OwnerView
             ) -> tuple[dict[tuple[int, Side], tuple[int, int]], float]:
        """The trades of the re-optimised schedule: ``(slot, side) -> (worst price ticks,
        lots)``, and the plan's gain over trading nothing (currency)."""
        s = market.schedule
        open_ = market.open_slots()
        if not len(open_) or me.prosumer is None:
            return {}, 0.0
        for k in open_:
            v = market.vwap(k)
            if v is not None:
                self._seen[k] = v
        b = self.battery
        now = market.now
        hours = s.slot_len / 3600
        first = max(s.first_slot, now // s.slot_len)  # the slot in delivery or the next one
        slots = range(first, open_[-1] + 1)
        n = len(slots)
        x = [me.position(k) for k in slots]
        soc = float(me.prosumer.soc_kwh)
        last_window = open_[-1] == s.end_slot - 1
        floor = b.min_energy_kwh
        if self.keep_reserve and not last_window:
            floor = max(floor, min(b.initial_energy_kwh, self.soc_path(soc, x, hours)[-1]))
        if not self.feasible(soc, x, hours, floor):
            return {}, 0.0  # the current positions already leave the limits: do not add
        trades: list[tuple[int, int, int, int]] = []  # (slot index, sign, price, volume)
        for i, k in enumerate(slots):
            if k < open_[0] or market.phase(k) is not Phase.CONTINUOUS:
                continue
            trades += [(i, 1, p, v) for p, v in market.depth(k, Side.SELL, self.levels)]
            trades += [(i, -1, p, v) for p, v in market.depth(k, Side.BUY, self.levels)]
        if not trades:
            return {}, 0.0
        power = b.power_kw / self.lot
        m = len(trades)
        nv = 3 * n + m  # c (n), d (n), e (n), trades (m)
        unit = self.tick * self.lot * hours / 1000  # currency of one tick x lot for a slot
        value = self.value_of_stored(market)
        cost = np.zeros(nv)
        for j, (_, sign, p, _) in enumerate(trades):
            cost[3 * n + j] = sign * p * unit
        cost[3 * n - 1] = -value / 1000
        a_c, a_d = b.eta_charge * self.lot * hours, self.lot * hours / b.eta_discharge
        rows = np.zeros((3 * n, nv))
        lo = np.zeros(3 * n)
        hi = np.zeros(3 * n)
        for i in range(n):
            rows[i, i], rows[i, n + i] = 1.0, -1.0  # c - d - trades = x
            lo[i] = hi[i] = x[i]
            r = n + i  # e_i - e_{i-1} - a_c c + a_d d = 0 (soc for i = 0)
            rows[r, 2 * n + i], rows[r, i], rows[r, n + i] = 1.0, -a_c, a_d
            if i:
                rows[r, 2 * n + i - 1] = -1.0
            lo[r] = hi[r] = soc if i == 0 else 0.0
            r = 2 * n + i  # c + d <= power
            rows[r, i] = rows[r, n + i] = 1.0
            lo[r], hi[r] = 0.0, power
        for j, (i, sign, _, _) in enumerate(trades):
            rows[i, 3 * n + j] = -sign
        lb = np.concatenate([np.zeros(2 * n), np.full(n, b.min_energy_kwh), np.zeros(m)])
        ub = np.concatenate([np.full(2 * n, power), np.full(n, b.max_energy_kwh),
                             [float(v) for *_, v in trades]])
        lb[3 * n - 1] = max(lb[3 * n - 1], floor)
        def positions(q: np.ndarray) -> list[int]:
            out = list(x)
            for (i, sign, _, _), lots in zip(trades, q, strict=True):
                out[i] += sign * int(lots)
            return out

        buy = np.array([sign > 0 for _, sign, _, _ in trades])
        qty = self._solve(cost, rows, lo, hi, lb, ub, 3 * n, buy,
                          lambda q: self.feasible(soc, positions(q), hours, floor))
        if qty is None or not qty.any():
            return {}, 0.0
        new_x = positions(qty)
        if not self.feasible(soc, new_x, hours, floor):
            return {}, 0.0
        plan: dict[tuple[int, Side], tuple[int, int]] = {}
        for (i, sign, p, _), q in zip(trades, qty, strict=True):
            if q <= 0:
                continue
            side = Side.BUY if sign > 0 else Side.SELL
            key = (slots[i], side)
            worst, lots = plan.get(key, (p, 0))
            worst = max(worst, p) if sign > 0 else min(worst, p)
            plan[key] = (worst, lots + int(q))
        e_end_now = self.soc_path(soc, x, hours)[-1]
        gain = -(float(cost[3 * n:] @ qty)) + value * (self.soc_path(soc, new_x, hours)[-1]
                                                       - e_end_now) / 1000
        return plan, gain

    def _solve(self, cost: np.ndarray, rows: np.ndarray, lo: np.ndarray, hi: np.ndarray,
               lb: np.ndarray, ub: np.ndarray, n_cont: int, buy: np.ndarray,
               feasible: Callable[[np.ndarray], bool]) -> np.ndarray | None:
        """Whole-lot trades of the plan: the LP relaxation's trades when they are whole (the
        usual case: the volumes are whole lots) or, rounded toward zero (or the buys or the sells
        up), still ``feasible``;
        else the mixed-integer program (rarely needed; HiGHS, capped at ``mip_nodes``)."""
        from scipy.optimize import Bounds, LinearConstraint, milp  # ~0.3 s to import: lazily

        cons = LinearConstraint(rows, lo, hi)
        res = milp(cost, constraints=cons, bounds=Bounds(lb, ub))
        if res.x is None:
            return None
        t = res.x[n_cont:]
        whole = np.round(t)
        if np.all(np.abs(t - whole) < 1e-7):
            return whole.astype(int)
        down = np.floor(t + 1e-7)
        up = np.minimum(np.ceil(t - 1e-7), ub[n_cont:])
        for q in (down, np.where(buy, up, down), np.where(buy, down, up)):
            if feasible(q.astype(int)):
                return q.astype(int)
        integrality = np.concatenate([np.zeros(n_cont), np.ones(len(t))])
        res = milp(cost, constraints=cons, bounds=Bounds(lb, ub), integrality=integrality,
                   options={"node_limit": self.mip_nodes, "time_limit": self.mip_seconds,
                            "mip_rel_gap": 1e-3})
        return None if res.x is None else np.round(res.x[n_cont:]).astype(int)

    def act(self, market: MarketView, me: OwnerView) -> Iterable[Instruction]:
        plan, gain = self.plan(market, me)
        if not plan or gain <= self.min_gain:
            return []
        return [submit(side, k, price, lots, Tif.IOC)
                for (k, side), (price, lots) in sorted(plan.items())]
