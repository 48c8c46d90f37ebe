"""Zero-intelligence traders (Gode & Sunder 1993): the calibration agents of CDA research.

ZI-U quotes uniformly over the whole price range, whatever its value or cost; ZI-C draws
uniformly from the no-loss range only (a buyer in ``[price_min, value]``, a seller in
``[cost, price_max]``): "a bid above redemption value, or an ask below cost, is invalid"
(market_rules.md §5.1). With enough shouts a correct continuous double auction with ZI-C
traders reaches close to full allocative efficiency and ZI-U markedly less (Gode & Sunder
1993, Table 2) — :mod:`rex_env.classroom` reproduces this on the Rex exchange.
:func:`zi_quote` is the one rule, shared by the classroom runner and the community noise
traders below.

Cost: :func:`zi_quote` is one uniform draw; one :meth:`ZITrader.act` is a handful of draws, a
position lookup and one order: ≈ 20 µs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from rex_env.exchange import Side
from rex_env.sim.agent_api import Instruction, MarketView, OwnerView

from .base import SlotTrader, check_number


class _IntegerSource(Protocol):
    def integers(self, low: int, high: int) -> object: ...


def zi_quote(rng: _IntegerSource, side: Side, limit: int, price_min: int, price_max: int,
             constrained: bool) -> int:
    """A ZI quote in ticks: uniform on the no-loss range (ZI-C) or the whole range (ZI-U).

    Args:
        rng: a ``numpy.random.Generator`` (``integers(lo, hi)`` draws from ``[lo, hi)``).
        side: the trader's side.
        limit: the unit's value (buyer) or cost (seller) in ticks.
        price_min, price_max: the price range in ticks (inclusive).
        constrained: True for ZI-C, False for ZI-U.
    """
    if not constrained:
        return int(rng.integers(price_min, price_max + 1))  # type: ignore[call-overload]
    if side is Side.BUY:
        hi = min(max(limit, price_min), price_max)
        return int(rng.integers(price_min, hi + 1))  # type: ignore[call-overload]
    lo = max(min(limit, price_max), price_min)
    return int(rng.integers(lo, price_max + 1))  # type: ignore[call-overload]


class ZITrader(SlotTrader):
    """A noise trader without assets: random slot, side, value and size; ZI-C or ZI-U.

    Each wake-up (Poisson, mean ``period`` seconds) it draws a private value uniform within
    ±``spread`` × the reference price around the slot's public wholesale price
    (``market.curve``: the value of energy outside the community moves with it; with flat
    tariffs it is the reference price itself, the first version's band), quotes per the ZI
    rule in a random open slot (ZI-C: a buyer at most its value, a seller at least it; ZI-U:
    anywhere in the band), and keeps
    its absolute position per slot within ``max_position`` lots so that its imbalance stays
    bounded.

    Args:
        owner: the participant it trades for.
        constrained: True for ZI-C, False for ZI-U.
        period: mean seconds between wake-ups.
        spread: fraction in (0, 1): the value band around the reference price.
        max_lots: largest order (lots, int >= 1).
        max_position: largest absolute position per slot (lots, int >= 1).
        **kw: :class:`~agents.base.SlotTrader` parameters.

    Raises:
        ValueError: a parameter out of range, naming it and what is allowed.
    """

    def __init__(self, owner: str, *, constrained: bool = True, period: int = 120,
                 spread: float = 0.5, max_lots: int = 20, max_position: int = 60,
                 **kw: float) -> None:
        super().__init__(owner, period=period, **kw)  # type: ignore[arg-type]
        check_number("spread", spread, 0, 1, lo_open=True, hi_open=True)
        check_number("max_lots", max_lots, 1, integer=True)
        check_number("max_position", max_position, 1, integer=True)
        self.constrained = bool(constrained)
        self.spread = float(spread)
        self.max_lots = int(max_lots)
        self.max_position = int(max_position)
        self.lo = int(self.ref_ticks * (1 - spread))
        self.hi = int(self.ref_ticks * (1 + spread))
        self.half = self.ref_ticks * spread  # half-width of the value band, ticks

    def next_wake(self, now: int, rng: object) -> int | None:
        return max(0, now) + 1 + int(self._py.expovariate(1.0 / self.period))

    def act(self, market: MarketView, me: OwnerView) -> Iterable[Instruction]:
        slots = market.open_slots()
        if not len(slots):
            return []
        slot, side, size = self.random_intent(slots, me, self.max_lots, self.max_position)
        r = self._py
        if size <= 0:
            return self.steer(market, slot, 0, 0)
        lo, hi = self.lo, self.hi
        curve = market.curve
        if curve is not None and not curve.flat:
            c = curve.price_ticks(slot)
            lo, hi = int(c - self.half), int(c + self.half)
        value = r.randint(lo, hi)
        if not self.constrained:
            price = r.randint(lo, hi)
        elif side is Side.BUY:
            price = r.randint(lo, value)
        else:
            price = r.randint(value, hi)
        return self.steer(market, slot, size if side is Side.BUY else -size, price)
