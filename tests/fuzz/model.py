"""The one reference model of SPEC §4-§6: plain, slow and obviously right.

Both the fuzz harness (:mod:`tests.fuzz.fuzz`) and the Hypothesis order streams
(``tests/exchange/test_properties.py``) compare the engine with it, so a rule of the contract is
written down once. It is written from the SPEC and the documented limits alone and shares no
code with ``rex_env/exchange`` (only the API vocabulary: the ``Side``/``Kind``/``Tif`` enums a
caller may pass, and the four limit constants, whose *values* are the contract; not even
:func:`~rex_env.exchange.clearing_price`, which :func:`clearing` checks by brute force). Resting
orders are one list per slot in arrival order; the queue of a side is sorted afresh whenever it
is needed, and matched one order at a time. Every instruction returns an :class:`Outcome` that
the tests compare with the engine's report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from rex_env.exchange import Kind, Side, Tif
from rex_env.exchange.orders import MAX_BLOCK_SLOTS, MAX_LOTS, MAX_SLOT, MAX_TIME

PRICE_MIN, PRICE_MAX = -99990, 99990  # the default grid's bounds in ticks of 0.1
# SPEC §7 names no reason for a lifecycle instruction that does not fit the slot's phase (opening
# an auction twice, uncrossing outside a call, ...); the engine says ``auction_phase``, which the
# fuzz harness pins and the Hypothesis streams accept as any rejection.
MISFIT = "auction_phase"


@dataclass
class MOrder:
    oid: Any
    owner: str
    side: str  # "buy" / "sell"
    first: int
    last: int
    price: int | None
    kind: str
    tif: str
    open: int
    seq: int
    filled: int = 0
    removed: int = 0
    offered: int = 0
    status: str = "resting"
    reason: str | None = None


@dataclass
class Outcome:
    status: str | None  # None: an accepted lifecycle instruction
    reason: str | None = None
    trades: list[tuple] = field(default_factory=list)
    stp: list[Any] = field(default_factory=list)
    expired: list[Any] = field(default_factory=list)


def _rejected(reason: str) -> Outcome:
    return Outcome("rejected", reason)


def _int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _exact(x: Any) -> bool:
    return _int(x) or isinstance(x, Fraction)


def _whole(x: Any) -> bool:
    return Fraction(x).denominator == 1


def _side(x: Any) -> str | None:
    if x is Side.BUY or (isinstance(x, str) and not isinstance(x, Kind | Tif) and x == "buy"):
        return "buy"
    if x is Side.SELL or (isinstance(x, str) and not isinstance(x, Kind | Tif) and x == "sell"):
        return "sell"
    return None


def _word(x: Any, words: tuple[str, ...]) -> str | None:
    return str(x.value) if isinstance(x, Kind | Tif) and x.value in words else (
        x if type(x) is str and x in words else None)


class Model:
    """The SPEC executed as plainly as possible (``auto_open`` as in replay, or ``n_slots``)."""

    def __init__(self, auto_open: bool, n_slots: int | None) -> None:
        self.auto_open = auto_open
        self.n_slots = n_slots
        self.phases: dict[int, str] = {}
        self.orders: dict[Any, MOrder] = {}
        self.book: dict[int, list[MOrder]] = {}
        self.trades: list[tuple] = []
        self.now = 0
        self.seq = 0

    # -- helpers
    def phase(self, slot: Any) -> str | None:
        if not _int(slot) or slot < 0 or slot > MAX_SLOT:
            return None
        if self.n_slots is not None and slot >= self.n_slots:
            return None
        return self.phases.get(slot, "continuous" if self.auto_open else "pending")

    def queue(self, slot: int, side: str) -> list[MOrder]:
        """Resting orders of one side in priority order: best price, then earliest."""
        mine = [o for o in self.book.get(slot, []) if o.side == side]
        return sorted(mine, key=(lambda o: (-o.price, o.seq)) if side == "buy"
                      else (lambda o: (o.price, o.seq)))

    def bad_time(self, t: Any) -> bool:
        return not _int(t) or t < self.now or t > MAX_TIME

    @staticmethod
    def value_fault(price: Any, rate: Any) -> str | None:
        if price is not None:
            if price < PRICE_MIN or price > PRICE_MAX:
                return "price_out_of_bounds"
            if not _whole(price):
                return "off_tick"
        if rate <= 0:
            return "non_positive_rate"
        if not _whole(rate):
            return "off_lot"
        return None

    @staticmethod
    def reaches(order: MOrder, price: int) -> bool:
        if order.price is None:
            return True
        return price <= order.price if order.side == "buy" else price >= order.price

    def others(self, order: MOrder, slot: int) -> int:
        """Other owners' volume the order could take now within its limit."""
        other = "sell" if order.side == "buy" else "buy"
        return sum(o.open for o in self.book.get(slot, [])
                   if o.side == other and o.owner != order.owner and self.reaches(order, o.price))

    def trade(self, time: int, slot: int, price: int, rate: int, buy: MOrder, sell: MOrder,
              aggressor: str, out: Outcome) -> None:
        t = (len(self.trades) + 1, time, slot, price, rate, buy.oid, sell.oid, buy.owner,
             sell.owner, aggressor)
        self.trades.append(t)
        out.trades.append(t)

    def take(self, order: MOrder, slot: int, need: int, out: Outcome) -> int:
        """Continuous matching of ``need`` lots; returns the lots left over."""
        other = "sell" if order.side == "buy" else "buy"
        while need > 0:
            q = self.queue(slot, other)
            if not q or not self.reaches(order, q[0].price):
                break
            best = q[0]
            if best.owner == order.owner:  # self-trade prevention
                self.book[slot].remove(best)
                best.removed += best.open
                best.open = 0
                best.status, best.reason = "cancelled", "self_trade"
                out.stp.append(best.oid)
                continue
            fill = min(need, best.open)
            best.open -= fill
            best.filled += fill
            if best.open == 0:
                best.status = "filled"
                self.book[slot].remove(best)
            need -= fill
            buy, sell = (order, best) if order.side == "buy" else (best, order)
            self.trade(self.now, slot, best.price, fill, buy, sell, order.side, out)
        return need

    def incoming(self, order: MOrder, out: Outcome) -> None:
        """A single-slot order (new or re-entering after a modify) meets its book."""
        slot = order.first
        if self.phase(slot) == "call":
            self.book.setdefault(slot, []).append(order)
            return
        if order.tif == "fok" and self.others(order, slot) < order.open:
            order.removed += order.open
            order.open = 0
            order.status = "killed"
            return
        left = self.take(order, slot, order.open, out)
        order.filled += order.open - left
        order.open = left
        if left == 0:
            order.status = "filled"
        elif order.kind == "limit" and order.tif == "gtc":
            self.book.setdefault(slot, []).append(order)
        else:
            order.removed += left
            order.open = 0
            order.status = "cancelled"

    # -- instructions
    def submit(self, time: Any, oid: Any, owner: Any, side: Any, first: Any, price: Any,
               rate: Any, kind: Any = "limit", tif: Any = "gtc", last: Any = None) -> Outcome:
        if last is None:
            last = first
        side_, kind_, tif_ = _side(side), _word(kind, ("limit", "market")), _word(
            tif, ("gtc", "ioc", "fok"))
        if (side_ is None or kind_ is None or tif_ is None
                or isinstance(oid, bool) or not isinstance(oid, str | int) or oid == ""
                or not isinstance(owner, str) or owner == ""
                or not _int(first) or not _int(last) or last < first
                or last - first + 1 > MAX_BLOCK_SLOTS
                or self.bad_time(time)
                or (price is not None and not _exact(price))
                or not _exact(rate) or abs(rate) > MAX_LOTS
                or (kind_ == "market") != (price is None)):
            return _rejected("bad_field")
        if oid in self.orders:
            return _rejected("duplicate_id")
        fault = self.value_fault(price, rate)
        if fault:
            return _rejected(fault)
        phases = [self.phase(s) for s in range(first, last + 1)]
        if None in phases:
            return _rejected("unknown_slot")
        for ph in phases:
            if ph == "closed":
                return _rejected("slot_closed")
            if ph == "pending":
                return _rejected("slot_not_open")
        if "call" in phases and (kind_ == "market" or tif_ != "gtc" or first != last):
            return _rejected("auction_phase")
        self.now = time
        self.seq += 1
        order = MOrder(oid, owner, side_, first, last, None if price is None else int(price),
                       kind_, tif_, int(rate), self.seq, offered=int(rate))
        self.orders[oid] = order
        out = Outcome("")
        if first != last:  # block: every leg in full, now, or nothing
            if all(self.others(order, s) >= order.open for s in range(first, last + 1)):
                for s in range(first, last + 1):
                    left = self.take(order, s, order.open, out)
                    assert left == 0
                order.filled, order.open, order.status = order.open, 0, "filled"
            else:
                order.removed, order.open, order.status = order.open, 0, "killed"
        else:
            self.incoming(order, out)
        out.status = order.status
        return out

    def resting(self, oid: Any, owner: Any) -> MOrder | None:
        try:
            o = self.orders.get(oid)
        except TypeError:
            return None
        if o is None or o.status != "resting" or o.owner != owner:
            return None
        return o

    def cancel(self, time: Any, oid: Any, owner: Any) -> Outcome:
        if self.bad_time(time):
            return _rejected("bad_field")
        o = self.resting(oid, owner)
        if o is None:
            return _rejected("unknown_order")
        self.now = time
        self.book[o.first].remove(o)
        o.removed += o.open
        o.open = 0
        o.status = "cancelled"
        return Outcome("cancelled")

    def modify(self, time: Any, oid: Any, owner: Any, price: Any = None,
               rate: Any = None) -> Outcome:
        if (self.bad_time(time) or (price is None and rate is None)
                or (price is not None and not _exact(price))
                or (rate is not None and (not _exact(rate) or abs(rate) > MAX_LOTS))):
            return _rejected("bad_field")
        o = self.resting(oid, owner)
        if o is None:
            return _rejected("unknown_order")
        new_price = o.price if price is None else price
        new_rate = o.open if rate is None else rate
        fault = self.value_fault(new_price, new_rate)
        if fault:
            return _rejected(fault)
        self.now = time
        new_price, new_rate = int(new_price), int(new_rate)
        if new_price == o.price and new_rate <= o.open:  # keeps priority
            o.removed += o.open - new_rate
            o.open = new_rate
            return Outcome("resting")
        self.book[o.first].remove(o)
        if new_rate < o.open:
            o.removed += o.open - new_rate
        else:
            o.offered += new_rate - o.open
        o.price, o.open = new_price, new_rate
        self.seq += 1
        o.seq = self.seq
        out = Outcome("")
        self.incoming(o, out)
        out.status = o.status
        return out

    def lifecycle_fault(self, time: Any, slot: Any) -> str | None:
        if self.bad_time(time) or not _int(slot):
            return "bad_field"
        ph = self.phase(slot)
        if ph is None:
            return "unknown_slot"
        if ph == "closed":
            return "slot_closed"
        return None

    def switch(self, slot: Any, time: Any, fits: bool, to: str) -> Outcome:
        """Move a slot to phase ``to``, if the instruction ``fits`` the phase it is in."""
        fault = self.lifecycle_fault(time, slot) or (None if fits else MISFIT)
        if fault:
            return _rejected(fault)
        self.now = time
        self.phases[slot] = to
        return Outcome(None)

    def open_auction(self, slot: Any, time: Any) -> Outcome:
        return self.switch(slot, time, self.phase(slot) != "call", "call")

    def open_continuous(self, slot: Any, time: Any) -> Outcome:
        return self.switch(slot, time, self.phase(slot) == "pending", "continuous")

    def close(self, slot: Any, time: Any) -> Outcome:
        fault = self.lifecycle_fault(time, slot)
        if fault:
            return _rejected(fault)
        self.now = time
        out = Outcome(None)
        for o in sorted(self.book.pop(slot, []), key=lambda o: o.seq):
            o.removed += o.open
            o.open = 0
            o.status = "expired"
            out.expired.append(o.oid)
        self.phases[slot] = "closed"
        return out

    def uncross(self, slot: Any, time: Any, reference: Any = None) -> Outcome:
        if reference is not None and not _exact(reference):
            return _rejected("bad_field")
        fault = self.lifecycle_fault(time, slot) or (
            MISFIT if self.phase(slot) != "call" else None)
        if fault:
            return _rejected(fault)
        self.now = time
        out = Outcome(None)
        bids, asks = self.queue(slot, "buy"), self.queue(slot, "sell")
        price, volume = clearing([(o.price, o.open) for o in bids],
                                 [(o.price, o.open) for o in asks], reference)
        left = volume
        while left:
            bid, ask = bids[0], asks[0]
            fill = min(bid.open, ask.open)
            assert 0 < fill <= left
            for o, q in ((bid, bids), (ask, asks)):
                o.open -= fill
                o.filled += fill
                if o.open == 0:
                    o.status = "filled"
                    q.pop(0)
                    self.book[slot].remove(o)
            self.trade(time, slot, price, fill, bid, ask, "auction", out)
            left -= fill
        self.phases[slot] = "continuous"
        return out


def clearing(bids: list[tuple[int, int]], asks: list[tuple[int, int]],
             reference: Any) -> tuple[int | None, int]:
    """SPEC §6 by brute force over ``(price, lots)`` levels: every candidate price, each rule."""
    prices = sorted({p for p, _ in bids} | {p for p, _ in asks})

    def demand(p: int) -> int:
        return sum(v for q, v in bids if q >= p)

    def supply(p: int) -> int:
        return sum(v for q, v in asks if q <= p)

    if not prices:
        return None, 0
    vol = {p: min(demand(p), supply(p)) for p in prices}
    best = max(vol.values())
    if best == 0:
        return None, 0
    cand = [p for p in prices if vol[p] == best]
    least = min(abs(demand(p) - supply(p)) for p in cand)
    cand = [p for p in cand if abs(demand(p) - supply(p)) == least]
    if all(demand(p) > supply(p) for p in cand):
        return max(cand), best
    if all(demand(p) < supply(p) for p in cand):
        return min(cand), best
    if reference is None:
        return max(cand), best
    gap = min(abs(p - reference) for p in cand)
    return max(p for p in cand if abs(p - reference) == gap), best
