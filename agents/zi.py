"""Zero-intelligence traders (Gode & Sunder 1993): the calibration agents of CDA research.

ZI-U quotes uniformly over the whole price range, whatever its value or cost; ZI-C draws
uniformly from the no-loss range only (a buyer in ``[price_min, value]``, a seller in
``[cost, price_max]``): "a bid above redemption value, or an ask below cost, is invalid"
(market_rules.md §5.1). With enough shouts a correct continuous double auction with ZI-C
traders reaches close to full allocative efficiency and ZI-U markedly less (Gode & Sunder
1993, Table 2) — :mod:`rex_env.classroom` reproduces this on the Rex exchange.
:func:`zi_quote` is the one rule, shared by the classroom runner and the community noise
traders below.

**Ending every slot flat.** A community noise trader owns no assets, so whatever position it
holds at a gate becomes imbalance. Left alone, ZI-C traders priced around a reference above the
local price level ended most slots as net buyers: the system was long in 90 % of slots and the
single imbalance price predictably below the VWAP, a free lunch for anyone who sold more than
they had (issue 11). So in the last ``flat_within`` seconds before a slot's gate the trader
opens nothing new there and unwinds: it steers its position to zero along the make-take path
(passive when the window opens, the touch near the gate) and sends what is left as a market
order in the last ``take_within`` seconds. It schedules its own wake-ups at those two moments
for every slot where it holds a position or a resting order, so a Poisson gap cannot leave a
position open at the gate. The imbalance of the market then comes from the physical
participants only, whose forecast errors have no predictable sign.

Cost: :func:`zi_quote` is one uniform draw; one :meth:`ZITrader.act` is a handful of draws, a
position lookup and one order, plus a position check of the ≈ 2 slots in the unwind window:
≈ 25 µs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from rex_env import _core
from rex_env.exchange import Report, Side
from rex_env.sim.agent_api import Instruction, MarketView, OwnerView

from .base import SlotTrader, check_number

# Enum members as module constants: an attribute lookup on an Enum class costs ~70 ns, and
# the hot paths compare sides and statuses for every slot of every wake-up
_BUY, _SELL = Side.BUY, Side.SELL


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
    if side is _BUY:
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
    anywhere in the band), and keeps its absolute position per slot within ``max_position``
    lots. In the last ``flat_within`` seconds before a slot's gate it only unwinds, so it ends
    every slot flat (module docstring). On the C engine it decides with its compiled twin
    (:data:`COMPILED_CORE`: the same instructions and the same draws).

    Args:
        owner: the participant it trades for.
        constrained: True for ZI-C, False for ZI-U.
        period: mean seconds between wake-ups.
        spread: fraction in (0, 1): the value band around the reference price.
        max_lots: largest order (lots, int >= 1).
        max_position: largest absolute position per slot (lots, int >= 1).
        flat_within: seconds before a slot's gate from which it only unwinds that slot
            (int > ``take_within``; default 1800, two 15-min slots).
        **kw: :class:`~agents.base.SlotTrader` parameters (``take_within``, default 600 s:
            the market-order part of the unwind).

    Raises:
        ValueError: a parameter out of range, naming it and what is allowed.
    """

    COMPILED_CORE = _core.ZICore
    COMPILED_WAKE = "zi"

    def __init__(self, owner: str, *, constrained: bool = True, period: int = 120,
                 spread: float = 0.5, max_lots: int = 20, max_position: int = 60,
                 flat_within: int = 1800, **kw: float) -> None:
        super().__init__(owner, period=period, **kw)  # type: ignore[arg-type]
        check_number("spread", spread, 0, 1, lo_open=True, hi_open=True)
        check_number("max_lots", max_lots, 1, integer=True)
        check_number("max_position", max_position, 1, integer=True)
        check_number("flat_within", flat_within, self.take_within, lo_open=True, integer=True)
        self.flat_within = int(flat_within)
        self._checkpoints: list[int] = []
        self._touched: set[int] = set()  # slots it sent an order to and may hold a position in
        self.constrained = bool(constrained)
        self.spread = float(spread)
        self.max_lots = int(max_lots)
        self.max_position = int(max_position)
        self.lo = int(self.ref_ticks * (1 - spread))
        self.hi = int(self.ref_ticks * (1 + spread))
        self.half = self.ref_ticks * spread  # half-width of the value band, ticks

    def reset(self, rng):  # type: ignore[no-untyped-def]
        super().reset(rng)
        self._checkpoints = []
        self._touched = set()

    def on_reports(self, reports: list[tuple[Instruction, Report]]) -> None:
        super().on_reports(reports)
        for ins, _ in reports:
            if ins.op == "submit" and ins.slot is not None:
                self._touched.add(ins.slot)

    def next_wake(self, now: int, rng: object) -> int | None:
        t = max(0, now) + 1 + int(self._py.expovariate(1.0 / self.period))
        later = [c for c in self._checkpoints if c > now]
        return min(t, *later) if later else t

    def act(self, market: MarketView, me: OwnerView) -> Iterable[Instruction]:
        slots = market.open_slots()
        if not len(slots):
            return []
        core = self._compiled(market)
        if core is not None:  # the same decision and draws, compiled
            got = core.act(self, slots, market.now, self.working, self.owner)
            if got is not None:
                out_c, self._checkpoints = got
                return out_c
        sched = market.schedule
        now = market.now
        out: list[Instruction] = []
        n_far = len(slots)
        for i, k in enumerate(slots):
            left = sched.close_time(k) - now
            if left > self.flat_within:
                n_far = i
                break
            out += self._unwind(market, me, k, left)
        far = slots[n_far:]
        if len(far):
            out += self._quote(market, me, far)
        self._checkpoints = self._plan(market, me)
        return out

    def _unwind(self, market: MarketView, me: OwnerView, slot: int, left: int
                ) -> list[Instruction]:
        """Steer the position of a slot near its gate to zero: make-take, then a market order."""
        gap = -me.position(slot)
        if gap == 0:
            return self.steer(market, slot, 0, 0)
        if left <= self.take_within:
            return self.steer(market, slot, gap, None)
        side = _BUY if gap > 0 else _SELL
        u = 1.0 - (left - self.take_within) / (self.flat_within - self.take_within)
        price = self.make_take_price(market, slot, side, u, own=self.live(slot))
        return self.steer(market, slot, gap, price)

    def _quote(self, market: MarketView, me: OwnerView, slots: range) -> list[Instruction]:
        """One ZI quote in a random slot far enough from its gate."""
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
        elif side is _BUY:
            price = r.randint(lo, value)
        else:
            price = r.randint(value, hi)
        return self.steer(market, slot, size if side is _BUY else -size, price)

    def _plan(self, market: MarketView, me: OwnerView) -> list[int]:
        """Wake-ups this trader must not miss: for every slot where it holds a position or a
        resting order, the start of its unwind window, the middle of its market-order part and
        (if a market order found too little liquidity) the last second before the gate.

        Only slots it has sent orders to can hold either, so only those are checked (a slot
        that is flat with no resting order is forgotten until it trades there again)."""
        close_time, live = market.schedule.close_time, self.live
        now = market.now
        flat, take = self.flat_within, self.take_within // 2
        touched = self._touched
        out: list[int] = []
        slots = list(touched)
        for k, held in zip(slots, me.positions(slots), strict=True):
            close = close_time(k)
            # the working order is looked up only for a flat slot (live() also forgets a dead
            # order; every later read goes through live() too, so when does not matter)
            if close <= now or (held == 0 and live(k) is None):
                touched.discard(k)
                continue
            if close - flat > now:  # the first of the three still ahead
                out.append(close - flat)
            elif close - take > now:
                out.append(close - take)
            elif close - 1 > now:
                out.append(close - 1)
        return out
