"""A random trader holding the same assets: the floor every prototype must beat.

It owns whatever the prosumer owns (its physics runs as usual: a plant or a battery is
dispatched toward the position, uncontrollable assets produce and consume what they do) but
trades without looking at its assets, forecasts or the book: at each wake-up it picks a random
open slot, a random side, a random size of at most the prosumer's capacity, and a random limit
price, and replaces its working order in that slot. The price is uniform between the grid's
feed-in bid and retail ask *of that slot* on the public curve (``market.curve``, the range
local prices live in: under the wholesale-indexed grid it moves with the day's curve, under a
flat tariff it is the feed-in to retail band), or uniform in a fixed ``[price_lo, price_hi]``
when both are given (or when the market publishes no curve: 80-300). It keeps each slot's
position within ± capacity, so its imbalance is bounded by what its assets could have done.

A prototype that does not beat it in the same market with the same seeds has learnt nothing
from its assets, forecasts or prices.

Cost: O(1) per wake-up (a few ``random.Random`` draws, one position and two curve lookups): ≈ 20 µs.
"""

from __future__ import annotations

from collections.abc import Iterable

from rex_env.exchange import Side
from rex_env.sim.agent_api import Instruction, MarketView, OwnerView

from .base import SlotTrader, ceil_ticks, check_number, floor_ticks

_FALLBACK_LO, _FALLBACK_HI = 80.0, 300.0
"""currency/MWh: the band without a public curve (the flat tariffs' feed-in and retail)."""


class RandomTrader(SlotTrader):
    """Random slot, side, size (within capacity) and price (within a band) at each wake-up.

    Args:
        owner: the participant it trades for.
        capacity_kw: the largest rate it trades and the bound on its position per slot (> 0).
        price_lo: currency/MWh, lowest random price (None: the grid's bid of the slot).
        price_hi: currency/MWh, highest random price (> ``price_lo``; None: the grid's ask of
            the slot). Give both or neither.
        period: seconds between wake-ups.
        **kw: :class:`~agents.base.SlotTrader` parameters.

    Raises:
        ValueError: a parameter out of range, naming it and what is allowed.
    """

    def __init__(self, owner: str, capacity_kw: float, *, price_lo: float | None = None,
                 price_hi: float | None = None, period: int = 120, **kw: float) -> None:
        super().__init__(owner, period=period, **kw)  # type: ignore[arg-type]
        check_number("capacity_kw", capacity_kw, 0, lo_open=True)
        if (price_lo is None) != (price_hi is None):
            raise ValueError(f"price_lo and price_hi must be given together (a fixed band) or "
                             f"both left None (the curve's quotes), got {price_lo}, {price_hi}")
        self.fixed = price_lo is not None
        lo, hi = (price_lo, price_hi) if self.fixed else (_FALLBACK_LO, _FALLBACK_HI)
        check_number("price_lo", lo)
        check_number("price_hi", hi, lo, lo_open=True)
        self.capacity = max(1, int(capacity_kw / self.lot + 1e-9))
        self.lo = ceil_ticks(lo, self.tick)  # type: ignore[arg-type]
        self.hi = max(self.lo, floor_ticks(hi, self.tick))  # type: ignore[arg-type]

    def band(self, market: MarketView, slot: int) -> tuple[int, int]:
        """The price band (ticks, inclusive) it draws from in ``slot``."""
        curve = market.curve
        if self.fixed or curve is None:
            return self.lo, self.hi
        lo, hi = curve.bid_ticks(slot), curve.ask_ticks(slot)
        return lo, max(lo, hi)

    def act(self, market: MarketView, me: OwnerView) -> Iterable[Instruction]:
        slots = market.open_slots()
        if not len(slots):
            return []
        slot, side, size = self.random_intent(slots, me, self.capacity, self.capacity)
        if size <= 0:
            return self.steer(market, slot, 0, 0)
        price = self._py.randint(*self.band(market, slot))
        return self.steer(market, slot, size if side is Side.BUY else -size, price)


__all__ = ["RandomTrader"]
