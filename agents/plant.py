"""The continuous provision plant (SPEC §10.2): offer capacity at or above marginal cost.

A dispatchable producer with marginal cost ``c(q) = a + b q``. For each open slot it offers the
next step of its capacity at the marginal cost of that step plus a small markup — never below
cost, so every sale earns at least what it costs ("no-loss") — and when the market offers
energy below the marginal cost of what it has already sold, it buys back (it is cheaper to buy
than to produce). Offers are bounded so the schedule of positions stays within capacity and
ramp limits between consecutive slots, which the plant must honour at delivery.

Parameters and why:

* ``steps`` 4: a stepwise supply curve approximates the rising marginal cost without flooding
  the book (one working order per slot: the cheapest unsold step).
* ``markup`` 2 %: covers start-up wear not in the marginal cost; small so the plant stays
  competitive.
* ``period`` 300 s.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from rex_env.exchange import Phase
from rex_env.physics import ProvisionPlant
from rex_env.sim.agent_api import Instruction, MarketView, OwnerView

from .base import SlotTrader


class ProvisionPlantAgent(SlotTrader):
    """Sells capacity at or above marginal cost, buys back when the market is cheaper."""

    def __init__(self, owner: str, plant: ProvisionPlant, *, steps: int = 4,
                 markup: float = 0.02, period: int = 300, slots_per_wake: int = 8,
                 **kw: float) -> None:
        super().__init__(owner, period=period, **kw)  # type: ignore[arg-type]
        if steps < 1:
            raise ValueError(f"steps must be >= 1, got {steps}")
        if markup < 0:
            raise ValueError(f"markup must be >= 0, got {markup}")
        self.plant = plant
        self.steps = steps
        self.markup = markup
        self.slots_per_wake = slots_per_wake
        self._cursor = 0

    def mc_ticks(self, q_kw: float) -> int:
        """Marginal cost at output ``q_kw`` in ticks, rounded up (never sells below cost)."""
        return math.ceil(self.plant.marginal_cost(q_kw) * (1 + self.markup) / self.tick)

    def room(self, me: OwnerView, slot: int) -> float:
        """Largest output (kW) that slot may be sold for, given its neighbours' positions."""
        p = self.plant
        ramp = p.ramp_kw_per_slot
        cap = p.capacity_kw
        prev = -me.position(slot - 1) * self.lot
        nxt = -me.position(slot + 1) * self.lot
        return max(0.0, min(cap, prev + ramp, nxt + ramp if nxt > 0 else cap))

    def act(self, market: MarketView, me: OwnerView) -> Iterable[Instruction]:
        slots = market.open_slots()
        if not len(slots):
            return []
        n = min(self.slots_per_wake, len(slots))
        chosen = [slots[(self._cursor + i) % len(slots)] for i in range(n)]
        self._cursor += n
        out: list[Instruction] = []
        step_kw = self.plant.capacity_kw / self.steps
        for slot in chosen:
            sold_kw = -me.position(slot) * self.lot
            ask = market.best_ask(slot)
            # buy back: energy offered below the marginal cost of the last unit sold
            if (sold_kw > 0 and ask is not None and market.phase(slot) is Phase.CONTINUOUS
                    and ask < self.plant.marginal_cost(sold_kw) / self.tick):
                q = min(sold_kw, step_kw)
                out.extend(self.steer(market, slot, max(1, int(q / self.lot)), ask))
                continue
            room = self.room(me, slot) - sold_kw
            if room < self.lot:
                out.extend(self.steer(market, slot, 0, 0))
                continue
            q = min(room, step_kw)
            price = self.mc_ticks(sold_kw + q)
            bid = market.best_bid(slot)
            if bid is not None and bid > price:
                price = bid  # sell into a high bid at its price: more than cost
            out.extend(self.steer(market, slot, -int(q / self.lot), price, tolerance=1))
        return out
