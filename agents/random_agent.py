"""A random trader holding the same assets: the floor every prototype must beat.

It owns whatever the prosumer owns (its physics runs as usual: a plant or a battery is
dispatched toward the position, uncontrollable assets produce and consume what they do) but
trades without looking at its assets, forecasts or the book: at each wake-up it picks a random
open slot, a random side, a random size of at most the prosumer's capacity, and a random limit
price uniform in ``[price_lo, price_hi]`` (by default the feed-in and retail tariffs, the range
local prices live in), and replaces its working order in that slot. It keeps each slot's
position within ± capacity, so its imbalance is bounded by what its assets could have done.

A prototype that does not beat it in the same market with the same seeds has learnt nothing
from its assets, forecasts or prices.

Cost: O(1) per wake-up (a few ``random.Random`` draws and one position lookup): ≈ 20 µs.
"""

from __future__ import annotations

from collections.abc import Iterable

from rex_env.exchange import Side
from rex_env.sim.agent_api import Instruction, MarketView, OwnerView

from .base import SlotTrader, ceil_ticks, check_number, floor_ticks


class RandomTrader(SlotTrader):
    """Random slot, side, size (within capacity) and price (within a band) at each wake-up.

    Args:
        owner: the participant it trades for.
        capacity_kw: the largest rate it trades and the bound on its position per slot (> 0).
        price_lo: currency/MWh, lowest random price.
        price_hi: currency/MWh, highest random price (> ``price_lo``).
        period: seconds between wake-ups.
        **kw: :class:`~agents.base.SlotTrader` parameters.

    Raises:
        ValueError: a parameter out of range, naming it and what is allowed.
    """

    def __init__(self, owner: str, capacity_kw: float, *, price_lo: float = 80.0,
                 price_hi: float = 300.0, period: int = 120, **kw: float) -> None:
        super().__init__(owner, period=period, **kw)  # type: ignore[arg-type]
        check_number("capacity_kw", capacity_kw, 0, lo_open=True)
        check_number("price_lo", price_lo)
        check_number("price_hi", price_hi, price_lo, lo_open=True)
        self.capacity = max(1, int(capacity_kw / self.lot + 1e-9))
        self.lo = ceil_ticks(price_lo, self.tick)
        self.hi = max(self.lo, floor_ticks(price_hi, self.tick))

    def act(self, market: MarketView, me: OwnerView) -> Iterable[Instruction]:
        slots = market.open_slots()
        if not len(slots):
            return []
        slot, side, size = self.random_intent(slots, me, self.capacity, self.capacity)
        if size <= 0:
            return self.steer(market, slot, 0, 0)
        price = self._py.randint(self.lo, self.hi)
        return self.steer(market, slot, size if side is Side.BUY else -size, price)


__all__ = ["RandomTrader"]
