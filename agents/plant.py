"""The continuous provision plant (SPEC §10.2): offer capacity at or above marginal cost.

A dispatchable producer with marginal cost ``c(q) = a + b q`` (currency/MWh at output q kW),
capacity and a ramp limit between consecutive slots. It is dispatched at delivery to produce
what it sold (:mod:`rex_env.sim.prosumer`), so its schedule of positions must stay feasible.
Its rules, per open slot:

1. **Never below cost.** It offers the next *step* of its capacity (``capacity / steps`` kW) at
   no less than the marginal cost of the step's *last* unit times ``1 + markup``, rounded up
   to the tick: every unit sold earns at least its cost ("no-loss").
2. **Sell into a bid that pays; otherwise ask just under the competition.** If the best bid
   already pays the floor, the step is sold into it at once. If not, the offer rests between
   its floor and one tick under the *other* sellers' best ask (never at a loss, never undercut
   by itself), moving to the floor as the gate approaches (``urgency ** make_take``): a taker
   buys the cheapest offer, so standing one tick under the next seller sells the same units
   at a better price; at the gate only the floor is left.
3. **Buy back when the market is cheaper.** If another seller asks less than the marginal cost
   of the plant's last unit sold, producing that unit costs more than buying it: it buys back
   (immediate-or-cancel at that ask) the units whose marginal cost exceeds the ask, down to
   what the ramp limit toward its neighbours allows.
4. **Ramp-feasible whatever fills.** With ``q`` the output sold per slot (0 if unsold), an
   offer in slot k never takes ``q_k`` above ``min(capacity, q_{k-1} + ramp, q_{k+1} + ramp)``
   (the plant can ramp up from the previous slot and down to the next one even if nothing
   more sells there); a buy-back never takes it below ``max(q_{k-1}, q_{k+1}) - ramp``,
   counting the neighbours' resting offers as sold. Sales only raise the ``q`` these bounds
   rely on and buy-backs are immediate, so the schedule stays feasible in every combination
   of fills.

Parameters and why:

* ``steps`` 4: a stepwise supply curve approximates the rising marginal cost without flooding
  the book (one working order per slot: the cheapest unsold step).
* ``markup`` 2 %: covers wear not in the marginal cost; small so the plant stays competitive.
* ``undercut`` True: rule 2's ask under the competition (False: a truthful offer at the floor).
* ``period`` 300 s, ``slots_per_wake`` 8 (half the nearest slots, half round-robin): every
  open slot is revisited about every 15 min.

The minimum stable output is left to the plant's physics: the presets use 0; with a positive
one, a partial fill below it is dispatched at the minimum or at zero (an imbalance).

Cost: one :meth:`act` handles ``slots_per_wake`` slots with O(1) work each (three positions,
the best quotes): ≈ 140 µs of CPU per act (357 acts in a community day: 3 % of its time).
On the C engine the same decision runs compiled (:class:`rex_env._core.PlantCore`, with the
whole wake-up: :class:`rex_env._core.WakeLoop`); this Python code stays the reference and
decides wherever the core hands back (``tests/agents/test_compiled_agents.py``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from rex_env import _core
from rex_env.exchange import Phase, Side, Tif
from rex_env.physics import ProvisionPlant
from rex_env.sim.agent_api import Instruction, MarketView, OwnerView, submit

from .base import SlotTrader, ceil_ticks, check_number


class ProvisionPlantAgent(SlotTrader):
    """Sells capacity at or above marginal cost, buys back when the market is cheaper.

    Args:
        owner: the participant it trades for.
        plant: its plant (capacity, marginal cost, ramp limit).
        steps: capacity steps of the offer ladder (int >= 1).
        markup: fraction >= 0 over marginal cost for the offer floor.
        undercut: ask one tick under the other sellers while the gate is far.
        period: seconds between wake-ups.
        slots_per_wake: slots it manages per wake-up (int >= 1).
        **kw: :class:`~agents.base.SlotTrader` parameters.

    Raises:
        ValueError: a parameter out of range, naming it and what is allowed.
    """

    COMPILED_CORE = _core.PlantCore
    COMPILED_WAKE = "plant"

    TUNABLE = (("markup", 0.0, 0.5),)
    """``action_mode="tune"``: the offer floor's markup over marginal cost."""

    def __init__(self, owner: str, plant: ProvisionPlant, *, steps: int = 4,
                 markup: float = 0.02, undercut: bool = True, period: int = 300,
                 slots_per_wake: int = 8, **kw: float) -> None:
        super().__init__(owner, period=period, **kw)  # type: ignore[arg-type]
        if not isinstance(plant, ProvisionPlant):
            raise ValueError(f"plant must be a ProvisionPlant, got {plant!r}")
        check_number("steps", steps, 1, integer=True)
        check_number("markup", markup, 0)
        check_number("slots_per_wake", slots_per_wake, 1, integer=True)
        self.plant = plant
        self.steps = int(steps)
        self.markup = float(markup)
        self.undercut = bool(undercut)
        self.slots_per_wake = int(slots_per_wake)
        self.step_kw = plant.capacity_kw / self.steps

    # -- rules --------------------------------------------------------------------------------
    def floor_ticks(self, q_kw: float) -> int:
        """Offer floor of the unit at output ``q_kw``: marginal cost x (1 + markup), rounded
        up to the tick (rule 1)."""
        return ceil_ticks(self.plant.marginal_cost(q_kw) * (1 + self.markup), self.tick)

    def sold_kw(self, me: OwnerView, slot: int) -> float:
        """Output sold for ``slot`` (kW; 0 for slots outside the episode)."""
        return -me.position(slot) * self.lot

    def offered_kw(self, slot: int) -> float:
        """Rate of the plant's resting offer in ``slot`` (kW)."""
        w = self.live(slot)
        return w.rate * self.lot if w is not None and w.side is Side.SELL else 0.0

    def ceiling(self, me: OwnerView, market: MarketView, slot: int) -> float:
        """Highest output slot ``slot`` may be sold for (rule 4's upper bound)."""
        p = self.plant
        s = market.schedule
        hi = p.capacity_kw
        if slot - 1 >= s.first_slot:
            hi = min(hi, self.sold_kw(me, slot - 1) + p.ramp_kw_per_slot)
        else:
            hi = min(hi, p.ramp_kw_per_slot)  # the plant starts the episode off
        if slot + 1 < s.end_slot:
            hi = min(hi, self.sold_kw(me, slot + 1) + p.ramp_kw_per_slot)
        return max(0.0, hi)

    def floor_kw(self, me: OwnerView, market: MarketView, slot: int) -> float:
        """Lowest output a buy-back may leave in ``slot`` (rule 4's lower bound)."""
        s = market.schedule
        r = self.plant.ramp_kw_per_slot
        lo = 0.0
        for k in (slot - 1, slot + 1):
            if s.first_slot <= k < s.end_slot:
                lo = max(lo, self.sold_kw(me, k) + self.offered_kw(k) - r)
        return lo

    def _compiled(self, market: MarketView) -> Any:
        """:meth:`SlotTrader._compiled`, told which plant class it computes the marginal
        cost of (another class, e.g. a subclass with its own cost curve, decides in Python)."""
        core = super()._compiled(market)
        if core is not None:
            core.plant_type = ProvisionPlant
        return core

    def act(self, market: MarketView, me: OwnerView) -> Iterable[Instruction]:
        slots = market.open_slots()
        if not len(slots):
            return []
        core = self._compiled(market)
        if core is not None:  # the same decision, compiled (the slot choice too)
            s = market.schedule
            got = core.act(self, slots, market.now, self.working, self.owner, self.plant,
                           s.first_slot, s.end_slot, s.open_lead - s.gate_lead)
            if got is not None:
                return got
        out: list[Instruction] = []
        for slot in self.chosen_slots(slots):
            out.extend(self.manage(market, me, slot))
        return out

    def manage(self, market: MarketView, me: OwnerView, slot: int) -> list[Instruction]:
        """Buy back (rule 3) or offer the next step (rules 1, 2, 4) in one slot."""
        p = self.plant
        q = self.sold_kw(me, slot)
        own = self.live(slot)
        continuous = market.phase(slot) is Phase.CONTINUOUS
        ask = self.others_best(market, slot, Side.SELL, own) if continuous else None
        if q > 0 and ask is not None and ask * self.tick < p.marginal_cost(q):
            # rule 3: units with marginal cost above the ask are cheaper to buy than to make
            price = ask * self.tick
            if p.cost_b > 0:
                keep = max(0.0, (price - p.cost_a) / p.cost_b)
            else:
                keep = 0.0
            keep = max(keep, self.floor_kw(me, market, slot))
            lots = int((q - keep) / self.lot + 1e-9)
            if lots >= 1:
                out = self.steer(market, slot, 0, 0)  # the offer goes first
                out.append(submit(Side.BUY, slot, ask, lots, Tif.IOC))
                return out
        room = self.ceiling(me, market, slot) - q
        lots = int(min(room, self.step_kw) / self.lot + 1e-9)
        if lots < 1:
            return self.steer(market, slot, 0, 0)
        floor = self.floor_ticks(q + lots * self.lot)
        price = floor
        if continuous:
            bid = market.best_bid(slot)
            if bid is not None and bid >= floor:
                price = bid  # rule 2: a bid pays the floor: sell into it now
            elif self.undercut and ask is not None and ask - 1 > floor:
                w = self.urgency(market, slot) ** self.make_take
                price = math.ceil((ask - 1) - w * (ask - 1 - floor))
        return self.steer(market, slot, -lots, price, tolerance=1)
