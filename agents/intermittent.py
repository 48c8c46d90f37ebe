"""The intermittent prosumer (SPEC §10.1): reserve the forecast, manage make-take to the gate.

It owns uncontrollable generation and/or load (wind, PV, household) and needs no clever
forecasting: for every open slot it targets a position equal to minus its forecast net rate
(it sells forecast surplus, buys forecast deficit), revises as forecasts update, and manages
its working order *make-take*: passive inside the spread while the gate is far (earning the
spread rather than paying it), progressively crossing as gate closure approaches, and a
market order for what remains in its last wake-up before the gate, so it rarely ends in
imbalance. Risk-neutral and "no-loss": it never buys above ``max_buy`` nor sells below
``min_sell`` (currency/MWh), the prices at which staying in imbalance is cheaper.

Parameters and why:

* ``period`` 300 s: forecasts are revised every slot (900 s); three looks per revision let it
  follow the book without flooding it.
* ``deadband`` 1 lot: a forecast change smaller than this does not move its order (keeps
  priority, avoids churn).
* ``make_take`` 2.0: quadratic urgency — patient for most of the 6 h window, decisive in the
  last hour.
* ``max_buy`` / ``min_sell``: the outside options (the retail tariff for a buyer, zero for
  renewable output whose marginal cost is zero).
"""

from __future__ import annotations

from collections.abc import Iterable

from rex_env.exchange import Phase, Side
from rex_env.sim.agent_api import Instruction, MarketView, OwnerView

from .base import SlotTrader


class IntermittentProsumer(SlotTrader):
    """Reserves its forecast net rate in every open slot with make-take management."""

    def __init__(self, owner: str, *, period: int = 300, deadband: int = 1,
                 max_buy: float = 300.0, min_sell: float = 0.0, slots_per_wake: int = 6,
                 **kw: float) -> None:
        super().__init__(owner, period=period, **kw)  # type: ignore[arg-type]
        if max_buy < min_sell:
            raise ValueError(f"max_buy ({max_buy}) must be >= min_sell ({min_sell})")
        if slots_per_wake < 1:
            raise ValueError(f"slots_per_wake must be >= 1, got {slots_per_wake}")
        self.deadband = deadband
        self.max_buy = int(max_buy / self.tick)
        self.min_sell = int(min_sell / self.tick)
        self.slots_per_wake = slots_per_wake
        self._cursor = 0

    def target(self, me: OwnerView, slot: int, now: int) -> int:
        """Target position in lots: minus the forecast net rate (bought > 0)."""
        return round(-me.forecast(slot, now)[0] / self.lot)

    def act(self, market: MarketView, me: OwnerView) -> Iterable[Instruction]:
        slots = market.open_slots()
        if not len(slots):
            return []
        now = market.now
        # the nearest slots every time (urgent), the rest round-robin
        chosen = list(slots[: self.slots_per_wake // 2])
        far = slots[len(chosen):]
        if len(far):
            k = self.slots_per_wake - len(chosen)
            start = self._cursor % len(far)
            chosen += [far[(start + i) % len(far)] for i in range(min(k, len(far)))]
            self._cursor += k
        out: list[Instruction] = []
        for slot in chosen:
            gap = self.target(me, slot, now) - me.position(slot)
            w = self.live(slot)
            if w is not None and abs(gap - (w.rate if w.side is Side.BUY else -w.rate)) < \
                    self.deadband and self.urgency(market, slot) < 0.5:
                continue
            out.extend(self.order_for(market, slot, gap))
        return out

    def order_for(self, market: MarketView, slot: int, gap: int) -> list[Instruction]:
        if gap == 0:
            return self.steer(market, slot, 0, 0)
        side = Side.BUY if gap > 0 else Side.SELL
        phase = market.phase(slot)
        left = market.schedule.close_time(slot) - market.now
        if phase is Phase.CONTINUOUS and left <= self.take_within:
            # last chance: take what the book offers within the no-loss limit, now
            price = self.max_buy if side is Side.BUY else self.min_sell
            return self.steer(market, slot, gap, price)
        u = self.urgency(market, slot)
        price = self.make_take_price(market, slot, side, u)
        price = min(price, self.max_buy) if side is Side.BUY else max(price, self.min_sell)
        return self.steer(market, slot, gap, price)
