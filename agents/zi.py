"""Zero-intelligence traders (Gode & Sunder 1993): the calibration agents of CDA research.

ZI-U quotes uniformly over the whole price range, whatever its value or cost; ZI-C draws
uniformly from the no-loss range only (a buyer in ``[price_min, value]``, a seller in
``[cost, price_max]``). With enough shouts a correct continuous double auction with ZI-C
traders reaches ≈ 97-99 % allocative efficiency; ZI-U markedly less (Gode & Sunder 1993,
Tables 1-2). :func:`zi_quote` is the one rule, shared by the classroom runner
(:mod:`rex_env.sim.classroom`) and the community noise traders below.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from rex_env.exchange import Side
from rex_env.sim.agent_api import Instruction, MarketView, OwnerView

from .base import SlotTrader


def zi_quote(rng: np.random.Generator, side: Side, limit: int, price_min: int, price_max: int,
             constrained: bool) -> int:
    """A ZI quote in ticks: uniform on the no-loss range (ZI-C) or the whole range (ZI-U).

    Args:
        limit: the unit's value (buyer) or cost (seller) in ticks.
        constrained: True for ZI-C, False for ZI-U.
    """
    if not constrained:
        return int(rng.integers(price_min, price_max + 1))
    if side is Side.BUY:
        hi = min(max(limit, price_min), price_max)
        return int(rng.integers(price_min, hi + 1))
    lo = max(min(limit, price_max), price_min)
    return int(rng.integers(lo, price_max + 1))


class ZITrader(SlotTrader):
    """A noise trader without assets: random slot, side, value and size; ZI-C or ZI-U.

    Each wake-up (Poisson, mean ``period``) it draws a private value around the reference
    price (uniform within ±``spread`` of it), quotes per :func:`zi_quote` in a random open
    slot, and keeps its absolute position per slot within ``max_position`` lots so that its
    imbalance stays bounded.
    """

    def __init__(self, owner: str, *, constrained: bool = True, period: int = 120,
                 spread: float = 0.5, max_lots: int = 20, max_position: int = 60,
                 **kw: float) -> None:
        super().__init__(owner, period=period, **kw)  # type: ignore[arg-type]
        if not 0 < spread < 1:
            raise ValueError(f"spread must be in (0, 1), got {spread}")
        if max_lots < 1 or max_position < 1:
            raise ValueError("max_lots and max_position must be >= 1")
        self.constrained = constrained
        self.spread = spread
        self.max_lots = max_lots
        self.max_position = max_position
        self.lo = int(self.ref_ticks * (1 - spread))
        self.hi = int(self.ref_ticks * (1 + spread))

    def next_wake(self, now: int, rng: np.random.Generator) -> int | None:
        return max(0, now) + 1 + int(self._rng.exponential(self.period))

    def act(self, market: MarketView, me: OwnerView) -> Iterable[Instruction]:
        slots = market.open_slots()
        if not len(slots):
            return []
        r = self._rng
        slot = slots[int(r.integers(len(slots)))]
        side = Side.BUY if r.random() < 0.5 else Side.SELL
        pos = me.position(slot)
        room = self.max_position - pos if side is Side.BUY else self.max_position + pos
        size = min(int(r.integers(1, self.max_lots + 1)), room)
        if size <= 0:
            return self.steer(market, slot, 0, 0)
        value = int(r.integers(self.lo, self.hi + 1))
        price = zi_quote(r, side, value, self.lo, self.hi, self.constrained)
        return self.steer(market, slot, size if side is Side.BUY else -size, price)
