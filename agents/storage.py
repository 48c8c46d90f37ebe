"""The storage dealer (SPEC §10.3): a battery-backed market maker and temporal arbitrager.

It estimates the value of energy ``v`` (an exponential average of the prices it sees traded,
starting from the reference price) and, per open slot, quotes on the side where that slot
looks mispriced against ``v``: it bids below ``v`` in slots whose price is at or below value
(cheap: charge) and offers above ``v`` where the price is at or above value (dear: discharge).
The half-spread it asks for covers the round-trip efficiency loss, so a bought-then-sold kWh
is never a loss. Sizes are limited so the projected state of charge — from the current state
through every not-yet-delivered slot's position, in delivery order — stays inside the
battery's limits whatever gets filled (schedule feasibility), and quotes are skewed by
inventory: a fuller battery lowers its prices (sell more, buy less), an emptier one raises
them.

Parameters and why:

* ``half_spread`` 5 % + the efficiency loss: earns a dealer's margin, keeps it no-loss.
* ``skew`` 10 % of ``v`` at a full/empty battery: mean-reverts inventory toward half full.
* ``alpha`` 0.05: the value estimate adapts over tens of trades, not one.
* ``period`` 120 s: a dealer refreshes quotes more often than the other prototypes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from rex_env.physics import Battery
from rex_env.sim.agent_api import Instruction, MarketView, OwnerView

from .base import SlotTrader


class StorageDealer(SlotTrader):
    """Quotes both sides across slots around a value estimate within its battery's limits."""

    def __init__(self, owner: str, battery: Battery, *, half_spread: float = 0.05,
                 skew: float = 0.10, alpha: float = 0.05, period: int = 120,
                 slots_per_wake: int = 8, **kw: float) -> None:
        super().__init__(owner, period=period, **kw)  # type: ignore[arg-type]
        if half_spread < 0 or skew < 0 or not 0 < alpha <= 1:
            raise ValueError("need half_spread >= 0, skew >= 0 and alpha in (0, 1]")
        self.battery = battery
        self.loss = 1.0 - battery.eta_charge * battery.eta_discharge
        self.half_spread = half_spread + self.loss / 2
        self.skew = skew
        self.alpha = alpha
        self.slots_per_wake = slots_per_wake
        self.value = float(self.ref_ticks)
        self._seen_trades = 0
        self._cursor = 0

    def reset(self, rng):  # type: ignore[no-untyped-def]
        super().reset(rng)
        self.value = float(self.ref_ticks)
        self._seen_trades = 0

    def projected_soc(self, market: MarketView, me: OwnerView) -> tuple[list[int], list[float]]:
        """Slots not yet delivered (in order) and the SoC (kWh) after each, if delivered at
        their current positions."""
        s = market.schedule
        now = market.now
        first = max(s.first_slot, now // s.slot_len)
        last = min(s.end_slot, (now + s.open_lead) // s.slot_len + 1)
        soc = me.prosumer.soc_kwh if me.prosumer is not None else 0.0
        h = s.slot_len / 3600
        b = self.battery
        slots, path = [], []
        for k in range(first, last):
            pos_kw = me.position(k) * self.lot
            if pos_kw > 0:
                soc += pos_kw * h * b.eta_charge
            else:
                soc += pos_kw * h / b.eta_discharge
            slots.append(k)
            path.append(soc)
        return slots, path

    def act(self, market: MarketView, me: OwnerView) -> Iterable[Instruction]:
        open_slots = market.open_slots()
        if not len(open_slots):
            return []
        self._learn_value(market, open_slots)
        slots, path = self.projected_soc(market, me)
        b = self.battery
        lo_e, hi_e = b.min_energy_kwh, b.max_energy_kwh
        h = market.schedule.slot_len / 3600
        # headroom after each slot, then the tightest headroom from each slot onward
        room_up = [hi_e - e for e in path]
        room_down = [e - lo_e for e in path]
        for i in range(len(path) - 2, -1, -1):
            room_up[i] = min(room_up[i], room_up[i + 1])
            room_down[i] = min(room_down[i], room_down[i + 1])
        index = {k: i for i, k in enumerate(slots)}
        mid_e = (lo_e + hi_e) / 2
        fill = ((path[-1] if path else mid_e) - mid_e) / max(hi_e - mid_e, 1e-9)  # -1..1
        center = self.value * (1 - self.skew * fill)
        n = min(self.slots_per_wake, len(open_slots))
        chosen = [open_slots[(self._cursor + i) % len(open_slots)] for i in range(n)]
        self._cursor += n
        out: list[Instruction] = []
        for slot in chosen:
            i = index.get(slot)
            if i is None:
                continue
            pos_kw = me.position(slot) * self.lot
            fair = self.fair_price(market, slot)
            if fair <= center:  # cheap slot: charge
                kw = min(b.power_kw - max(pos_kw, 0.0), room_up[i] / (h * b.eta_charge))
                price = math.floor(center * (1 - self.half_spread))
                ask = market.best_ask(slot)
                if ask is not None and ask <= price:
                    price = ask  # take a cheap offer at its price
                gap = int(kw / self.lot)
            else:  # dear slot: discharge
                kw = min(b.power_kw + min(pos_kw, 0.0), room_down[i] * b.eta_discharge / h)
                price = math.ceil(center * (1 + self.half_spread))
                bid = market.best_bid(slot)
                if bid is not None and bid >= price:
                    price = bid
                gap = -int(kw / self.lot)
            if abs(gap) < 1:
                out.extend(self.steer(market, slot, 0, 0))
            else:
                out.extend(self.steer(market, slot, gap, price, tolerance=2))
        return out

    def _learn_value(self, market: MarketView, slots: range) -> None:
        """Move the value estimate toward the VWAPs of slots that traded since last time."""
        for slot in (slots[0], slots[len(slots) // 2], slots[-1]):
            v = market.vwap(slot)
            if v is not None:
                self.value += self.alpha * (v - self.value)
