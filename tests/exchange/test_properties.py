"""Hypothesis order streams against the invariants, a slow reference model, and replay.

The reference model below is written from SPEC §4-§6 alone: resting orders are a plain list per
slot, sorted by ``(price, seq)`` every time one is needed and matched one by one. It shares no
code with ``book.py`` / ``auction.py`` (not even :func:`clearing_price`, which is itself
checked against a brute-force rule at the end of this file).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from hypothesis import given, note
from hypothesis import strategies as st

from rex_env.exchange import Exchange, Grid, Side, clearing_price

from .helpers import check_invariants, state_digest

GRID = Grid()
LO, HI = GRID.min_ticks, GRID.max_ticks
ANY = "<any reason>"  # SPEC §7 names no reason for a lifecycle row that does not fit the state

# -- the reference model -----------------------------------------------------------------------


@dataclass
class RefOrder:
    oid: Any
    owner: str
    side: str
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
    status: str | None  # None: an accepted lifecycle row
    reason: str | None = None
    trades: list[tuple] = field(default_factory=list)
    stp: list[Any] = field(default_factory=list)
    expired: list[Any] = field(default_factory=list)


def rejected(reason: str) -> Outcome:
    return Outcome("rejected", reason)


def whole(x: Any) -> bool:
    return Fraction(x).denominator == 1


class RefExchange:
    """The SPEC, executed as plainly as possible."""

    def __init__(self, auto_open: bool, n_slots: int | None) -> None:
        self.auto_open = auto_open
        self.n_slots = n_slots
        self.phases: dict[int, str] = {}
        self.orders: dict[Any, RefOrder] = {}
        self.resting: dict[int, list[RefOrder]] = {}
        self.trades: list[tuple] = []
        self.now = 0
        self.seq = 0

    # -- helpers
    def phase(self, slot: int) -> str | None:
        if slot < 0 or (self.n_slots is not None and slot >= self.n_slots):
            return None
        return self.phases.get(slot, "continuous" if self.auto_open else "pending")

    def queue(self, slot: int, side: str) -> list[RefOrder]:
        """Resting orders of one side in priority order: best price, then earliest."""
        orders = [o for o in self.resting.get(slot, []) if o.side == side]
        if side == "buy":
            return sorted(orders, key=lambda o: (-o.price, o.seq))
        return sorted(orders, key=lambda o: (o.price, o.seq))

    def value_fault(self, price: Any, rate: Any) -> str | None:
        if price is not None:
            if price < LO or price > HI:
                return "price_out_of_bounds"
            if not whole(price):
                return "off_tick"
        if rate <= 0:
            return "non_positive_rate"
        if not whole(rate):
            return "off_lot"
        return None

    def within(self, order: RefOrder, price: int) -> bool:
        if order.price is None:
            return True
        return price <= order.price if order.side == "buy" else price >= order.price

    def available(self, order: RefOrder, slot: int) -> int:
        """Other owners' resting volume the order could take now within its limit."""
        other = "sell" if order.side == "buy" else "buy"
        return sum(o.open for o in self.queue(slot, other)
                   if o.owner != order.owner and self.within(order, o.price))

    def trade(self, time: int, slot: int, price: int, rate: int, buy: RefOrder, sell: RefOrder,
              aggressor: str, out: Outcome) -> None:
        t = (len(self.trades) + 1, time, slot, price, rate, buy.oid, sell.oid, buy.owner,
             sell.owner, aggressor)
        self.trades.append(t)
        out.trades.append(t)

    def take(self, order: RefOrder, slot: int, need: int, out: Outcome) -> int:
        """Continuous matching of ``need`` lots; returns the lots left over."""
        other = "sell" if order.side == "buy" else "buy"
        while need > 0:
            q = self.queue(slot, other)
            if not q or not self.within(order, q[0].price):
                break
            best = q[0]
            if best.owner == order.owner:  # self-trade prevention
                self.resting[slot].remove(best)
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
                self.resting[slot].remove(best)
            need -= fill
            buy, sell = (order, best) if order.side == "buy" else (best, order)
            self.trade(self.now, slot, best.price, fill, buy, sell, order.side, out)
        return need

    def incoming(self, order: RefOrder, out: Outcome) -> None:
        """A single-slot order (new or re-entering after a modify) meets its book."""
        slot = order.first
        if self.phase(slot) == "call":
            self.resting.setdefault(slot, []).append(order)
            return
        if order.tif == "fok" and self.available(order, slot) < order.open:
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
            self.resting.setdefault(slot, []).append(order)
        else:
            order.removed += left
            order.open = 0
            order.status = "cancelled"

    # -- instructions
    def submit(self, time, oid, owner, side, first, price, rate, kind, tif, last) -> Outcome:
        last = first if last is None else last
        if (
            side not in ("buy", "sell")
            or kind not in ("limit", "market")
            or tif not in ("gtc", "ioc", "fok")
            or oid == ""
            or owner == ""
            or last < first
            or time < self.now
            or (kind == "market") != (price is None)
        ):
            return rejected("bad_field")
        if oid in self.orders:
            return rejected("duplicate_id")
        fault = self.value_fault(price, rate)
        if fault:
            return rejected(fault)
        phases = [self.phase(s) for s in range(first, last + 1)]
        if None in phases:
            return rejected("unknown_slot")
        for ph in phases:
            if ph == "closed":
                return rejected("slot_closed")
            if ph == "pending":
                return rejected("slot_not_open")
        if "call" in phases and (kind == "market" or tif != "gtc" or first != last):
            return rejected("auction_phase")
        self.now = time
        self.seq += 1
        order = RefOrder(oid, owner, side, first, last, None if price is None else int(price),
                         kind, tif, int(rate), self.seq, offered=int(rate))
        self.orders[oid] = order
        out = Outcome("")
        if first != last:  # block: every leg in full, now, or nothing
            if all(self.available(order, s) >= order.open for s in range(first, last + 1)):
                for s in range(first, last + 1):
                    assert self.take(order, s, order.open, out) == 0
                order.filled, order.open, order.status = order.open, 0, "filled"
            else:
                order.removed, order.open, order.status = order.open, 0, "killed"
        else:
            self.incoming(order, out)
        out.status = order.status
        return out

    def cancel(self, time, oid, owner) -> Outcome:
        if time < self.now:
            return rejected("bad_field")
        o = self.orders.get(oid)
        if o is None or o.status != "resting" or o.owner != owner:
            return rejected("unknown_order")
        self.now = time
        self.resting[o.first].remove(o)
        o.removed += o.open
        o.open = 0
        o.status = "cancelled"
        return Outcome("cancelled")

    def modify(self, time, oid, owner, price, rate) -> Outcome:
        if time < self.now or (price is None and rate is None):
            return rejected("bad_field")
        o = self.orders.get(oid)
        if o is None or o.status != "resting" or o.owner != owner:
            return rejected("unknown_order")
        new_price = o.price if price is None else price
        new_rate = o.open if rate is None else rate
        fault = self.value_fault(new_price, new_rate)
        if fault:
            return rejected(fault)
        self.now = time
        new_price, new_rate = int(new_price), int(new_rate)
        if new_price == o.price and new_rate <= o.open:  # keeps priority
            o.removed += o.open - new_rate
            o.open = new_rate
            return Outcome("resting")
        self.resting[o.first].remove(o)
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

    def lifecycle_fault(self, time, slot) -> str | None:
        if time < self.now:
            return "bad_field"
        ph = self.phase(slot)
        if ph is None:
            return "unknown_slot"
        if ph == "closed":
            return "slot_closed"
        return None

    def open_auction(self, time, slot) -> Outcome:
        fault = self.lifecycle_fault(time, slot) or (ANY if self.phase(slot) == "call" else None)
        if fault:
            return rejected(fault)
        self.now = time
        self.phases[slot] = "call"
        return Outcome(None)

    def open_continuous(self, time, slot) -> Outcome:
        fault = self.lifecycle_fault(time, slot) or (
            ANY if self.phase(slot) != "pending" else None)
        if fault:
            return rejected(fault)
        self.now = time
        self.phases[slot] = "continuous"
        return Outcome(None)

    def close(self, time, slot) -> Outcome:
        fault = self.lifecycle_fault(time, slot)
        if fault:
            return rejected(fault)
        self.now = time
        out = Outcome(None)
        for o in sorted(self.resting.pop(slot, []), key=lambda o: o.seq):
            o.removed += o.open
            o.open = 0
            o.status = "expired"
            out.expired.append(o.oid)
        self.phases[slot] = "closed"
        return out

    def uncross(self, time, slot, reference) -> Outcome:
        fault = self.lifecycle_fault(time, slot) or (ANY if self.phase(slot) != "call" else None)
        if fault:
            return rejected(fault)
        self.now = time
        out = Outcome(None)
        bids, asks = self.queue(slot, "buy"), self.queue(slot, "sell")
        price, volume = ref_clearing([(o.price, o.open) for o in bids],
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
                    self.resting[slot].remove(o)
            self.trade(time, slot, price, fill, bid, ask, "auction", out)
            left -= fill
        self.phases[slot] = "continuous"
        return out


def ref_clearing(bids: list[tuple[int, int]], asks: list[tuple[int, int]],
                 reference: Any) -> tuple[int | None, int]:
    """SPEC §6 price rule by brute force over the limit prices present."""
    prices = sorted({p for p, _ in bids} | {p for p, _ in asks})

    def b(p: int) -> int:
        return sum(v for q, v in bids if q >= p)

    def a(p: int) -> int:
        return sum(v for q, v in asks if q <= p)

    if not prices:
        return None, 0
    best = max(min(b(p), a(p)) for p in prices)
    if best == 0:
        return None, 0
    cand = [p for p in prices if min(b(p), a(p)) == best]
    least = min(abs(b(p) - a(p)) for p in cand)
    cand = [p for p in cand if abs(b(p) - a(p)) == least]
    if all(b(p) > a(p) for p in cand):
        return max(cand), best
    if all(b(p) < a(p) for p in cand):
        return min(cand), best
    if reference is None:
        return max(cand), best
    closest = min(abs(p - reference) for p in cand)
    return max(p for p in cand if abs(p - reference) == closest), best


# -- streams -----------------------------------------------------------------------------------


@dataclass
class Scenario:
    auto_open: bool
    n_slots: int
    events: list[tuple]

    def exchange(self) -> Exchange:
        ex = Exchange(auto_open=self.auto_open, n_slots=None if self.auto_open else self.n_slots)
        ex.keep_trades()
        return ex

    def reference(self) -> RefExchange:
        return RefExchange(self.auto_open, None if self.auto_open else self.n_slots)


def one_in(draw, n: int) -> bool:
    """True with probability 1/n (Hypothesis favours 0 and the bounds, so not at 0; shrinking
    towards 0 makes it False, the plain case)."""
    return draw(st.integers(0, n - 1)) == n // 2


def draw_price(draw, lo: int, hi: int) -> Any:
    if not one_in(draw, 15):
        return draw(st.integers(lo, hi))
    return draw(st.sampled_from([LO, HI, LO - 1, HI + 1, Fraction(2 * lo + 1, 2),
                                 Fraction(2 * hi, 2)]))


def draw_rate(draw) -> Any:
    if not one_in(draw, 15):
        return draw(st.integers(1, 5))
    return draw(st.sampled_from([0, -1, Fraction(3, 2), Fraction(-1, 2), Fraction(4, 2)]))


@st.composite
def scenarios(draw, max_events: int = 50, lo: int = 98, hi: int = 102,
              cancel_weight: int = 2, block_one_in: int = 5, min_slots: int = 1) -> Scenario:
    """A random stream of instructions that often crosses, self-trades and hits every fault.

    The generator keeps a rough belief of each slot's phase (assuming its own lifecycle rows are
    accepted) so that most lifecycle rows fit and auctions really happen; now and then it sends
    one that does not fit, a row from the past, or an instruction with a bad field or value.
    """
    n_slots = draw(st.integers(min_slots, 3))
    auto_open = draw(st.booleans())
    owners = ["A", "B", "C", "D"][: draw(st.integers(2, 4))]
    events: list[tuple] = []
    phase = {s: "continuous" if auto_open else "pending" for s in range(n_slots)}
    if not auto_open:
        for s in range(n_slots):
            how = draw(st.sampled_from(["open_continuous"] * 3 + ["open_auction", "pending"]))
            if how != "pending":
                events.append((how, 0, s))
                phase[s] = "call" if how == "open_auction" else "continuous"
    used: dict[str, str] = {}  # id -> owner of its first submission
    mid = (lo + hi) // 2
    for s in range(n_slots):  # a few resting quotes to start with: bids <= mid < asks
        for _ in range(draw(st.integers(0, 4))):
            oid = f"o{len(used)}"
            used[oid] = owner = draw(st.sampled_from(owners))
            side = draw(st.sampled_from(["buy", "sell"]))
            price = draw(st.integers(lo, mid) if side == "buy" else st.integers(mid + 1, hi))
            events.append(("submit", 0, oid, owner, side, s, price, draw(st.integers(1, 5)),
                           "limit", "gtc", None))
    t = 0
    ops = ["submit"] * 10 + ["cancel"] * cancel_weight + ["modify"] * 3 + ["lifecycle"]
    for _ in range(draw(st.integers(5, max_events))):
        t += draw(st.sampled_from([0, 0, 0, 1, 1, 2]))
        time = t - 1 if one_in(draw, 25) else t  # now and then a row from the past
        op = draw(st.sampled_from(ops))

        def any_owner() -> str:
            return "" if one_in(draw, 30) else draw(st.sampled_from(owners))

        def known_id() -> str:
            """Mostly a recent id (likely still resting), else an older, unknown or empty one."""
            if used and not one_in(draw, 10):
                ids = list(used)
                return draw(st.sampled_from(ids[-4:] if not one_in(draw, 3) else ids))
            return draw(st.sampled_from(["zz", ""]))

        def owner_of(oid: str) -> str:
            return used[oid] if oid in used and not one_in(draw, 6) else any_owner()

        if op == "submit":
            oid = f"o{len(used)}" if not used or not one_in(draw, 12) else known_id()
            owner = any_owner()
            if oid and oid not in used:
                used[oid] = owner
            side = draw(st.sampled_from(["buy", "sell"]))
            slot = draw(st.integers(0, n_slots - 1))
            if one_in(draw, 30):
                slot = draw(st.sampled_from([-1, n_slots]))
            kind = "market" if one_in(draw, 6) else "limit"
            tif = draw(st.sampled_from(["gtc"] * 5 + ["ioc", "fok"]))
            price = None if kind == "market" else draw_price(draw, lo, hi)
            if one_in(draw, 40):  # market with a price, limit without one
                price = draw_price(draw, lo, hi) if price is None else None
            rate = draw_rate(draw)
            last = None
            if n_slots > 1 and one_in(draw, block_one_in):  # a block over 2-3 slots, rarely beyond
                first = draw(st.integers(0, n_slots - 2))
                slot, last = first, draw(st.integers(first + 1, n_slots - 1))
                if one_in(draw, 10):
                    last = n_slots
                rate = 1 if not one_in(draw, 4) else rate
            elif one_in(draw, 40):
                last = slot - 1
            events.append(("submit", time, oid, owner, side, slot, price, rate, kind, tif, last))
        elif op == "cancel":
            oid = known_id()
            events.append(("cancel", time, oid, owner_of(oid)))
        elif op == "modify":
            oid = known_id()
            price = None if one_in(draw, 2) else draw_price(draw, lo, hi)
            rate = None if price is not None and one_in(draw, 2) else draw_rate(draw)
            if one_in(draw, 20):
                price = rate = None
            events.append(("modify", time, oid, owner_of(oid), price, rate))
        else:
            slot = draw(st.integers(0, n_slots - 1))
            fits = {
                "pending": ["open_auction", "open_continuous"],
                "call": ["uncross"] * 5 + ["close"],
                "continuous": ["open_auction"] * 4 + ["close"],
                "closed": ["close"],
            }[phase[slot]]
            life = draw(st.sampled_from(fits if not one_in(draw, 8) else
                                        ["open_auction", "uncross", "close", "open_continuous"]))
            if life == "uncross":
                ref = draw(st.sampled_from([None, lo, hi, (lo + hi) // 2,
                                            Fraction(2 * lo + 1, 2)]))
                events.append(("uncross", time, slot, ref))
            else:
                events.append((life, time, slot))
            if time == t and life in fits:
                phase[slot] = {"open_auction": "call", "uncross": "continuous",
                               "open_continuous": "continuous", "close": "closed"}[life]
    return Scenario(auto_open, n_slots, events)


def apply(target: Exchange | RefExchange, event: tuple) -> Any:
    op, time, *args = event
    if op == "submit":
        oid, owner, side, slot, price, rate, kind, tif, last = args
        if isinstance(target, RefExchange):
            return target.submit(time, oid, owner, side, slot, price, rate, kind, tif, last)
        return target.submit(time, oid, owner, side, slot, price, rate, kind, tif, last)
    if op == "cancel":
        return target.cancel(time, *args)
    if op == "modify":
        oid, owner, price, rate = args
        return target.modify(time, oid, owner, price=price, rate=rate)
    slot, *rest = args
    if isinstance(target, RefExchange):
        return getattr(target, op)(time, slot, *rest)
    return getattr(target, op)(slot, time, *rest)


def engine_outcome(rep) -> Outcome:
    return Outcome(
        None if rep.status is None else str(rep.status),
        None if rep.reason is None else str(rep.reason),
        [tuple(t) for t in rep.trades],
        [o.order_id for o in rep.self_trade_cancelled],
        [o.order_id for o in rep.expired],
    )


def engine_view(ex: Exchange, slots: range) -> dict[str, Any]:
    orders = {oid: (str(o.status), None if o.reason is None else str(o.reason), o.price, o.rate,
                    o.filled, o.offered, o.removed) for oid, o in ex.orders.items()}
    books = {}
    positions = {}
    for s in slots:
        book = ex.books.get(s)
        books[s] = (
            None if ex.phase(s) is None else str(ex.phase(s)),
            [] if book is None else [[(o.order_id, o.price, o.rate) for lv in book.levels(side)
                                      for o in lv.live()] for side in (Side.BUY, Side.SELL)],
        )
        if book is not None:
            positions[s] = {k: v for k, v in book.positions.items() if v}
    return {"orders": orders, "books": books, "positions": positions}


def ref_view(ref: RefExchange, slots: range) -> dict[str, Any]:
    orders = {oid: (o.status, o.reason, o.price, o.open, o.filled, o.offered, o.removed)
              for oid, o in ref.orders.items()}
    books = {}
    for s in slots:
        rows = [[(o.oid, o.price, o.open) for o in ref.queue(s, side)] for side in ("buy", "sell")]
        books[s] = (ref.phase(s), [] if rows == [[], []] else rows)
    pos: dict[int, dict[str, int]] = {}
    for t in ref.trades:
        slot, rate, buyer, seller = t[2], t[4], t[7], t[8]
        p = pos.setdefault(slot, {})
        p[buyer] = p.get(buyer, 0) + rate
        p[seller] = p.get(seller, 0) - rate
    positions = {s: {k: v for k, v in p.items() if v} for s, p in pos.items()}
    return {"orders": orders, "books": books, "positions": positions}


def comparable(view: dict[str, Any]) -> dict[str, Any]:
    """Empty books and empty position tables look the same whether a book object exists."""
    books = {s: (ph, rows if rows != [[], []] else []) for s, (ph, rows) in view["books"].items()}
    positions = {s: p for s, p in view["positions"].items() if p}
    return {"orders": view["orders"], "books": books, "positions": positions}


def same_outcome(got: Outcome, want: Outcome) -> bool:
    if want.reason == ANY:
        return got.status == "rejected" and got.trades == []
    return (got.status, got.reason, got.trades, got.stp, sorted(got.expired, key=repr)) == (
        want.status, want.reason, want.trades, want.stp, sorted(want.expired, key=repr))


# -- the properties ----------------------------------------------------------------------------


def run_against_reference(sc: Scenario) -> None:
    ex, ref = sc.exchange(), sc.reference()
    slots = range(-1, sc.n_slots + 3)
    for i, event in enumerate(sc.events):
        note(f"event {i}: {event}")
        got = engine_outcome(apply(ex, event))
        want = apply(ref, event)
        assert same_outcome(got, want), f"event {i} {event}:\n engine {got}\n ref    {want}"
        check_invariants(ex)
        assert comparable(engine_view(ex, slots)) == comparable(ref_view(ref, slots)), (
            f"state differs after event {i} {event}")
    assert [tuple(t) for t in ex.keep_trades()] == ref.trades


@given(scenarios())
def test_engine_matches_the_reference_model_and_keeps_every_invariant(sc):
    run_against_reference(sc)


@given(scenarios(max_events=120, lo=99, hi=100, cancel_weight=5))
def test_long_streams_on_two_price_levels_match_the_reference_model(sc):
    run_against_reference(sc)


@given(scenarios(block_one_in=2, min_slots=2))
def test_block_heavy_streams_match_the_reference_model(sc):
    run_against_reference(sc)


@given(scenarios())
def test_the_same_stream_replays_identically_on_a_fresh_exchange(sc):
    runs = []
    for _ in range(2):
        ex = sc.exchange()
        reports = [engine_outcome(apply(ex, e)) for e in sc.events]
        runs.append((reports, [tuple(t) for t in ex.keep_trades()], state_digest(ex)))
    assert runs[0] == runs[1]


@given(scenarios())
def test_rejected_events_change_nothing(sc):
    ex = sc.exchange()
    for event in sc.events:
        before = state_digest(ex)
        rep = apply(ex, event)
        if rep.status is not None and str(rep.status) == "rejected":
            assert rep.trades == [] and rep.self_trade_cancelled == [] and rep.expired == []
            assert state_digest(ex) == before, f"rejected {event} changed the exchange"


# -- the clearing price against brute force ----------------------------------------------------

levels = st.lists(st.tuples(st.integers(95, 105), st.integers(1, 6)), max_size=6)
references = st.one_of(st.none(), st.integers(90, 110),
                       st.fractions(min_value=90, max_value=110, max_denominator=4))


@given(levels, levels, references)
def test_clearing_price_agrees_with_a_brute_force_reading_of_the_rule(bids, asks, reference):
    c = clearing_price(bids, asks, reference)
    price, volume = ref_clearing(bids, asks, reference)
    assert (c.price, c.volume) == (price, volume)
    if price is not None:
        b = sum(v for p, v in bids if p >= price)
        a = sum(v for p, v in asks if p <= price)
        assert c.surplus == b - a


@given(levels, levels, references)
def test_uncrossing_a_random_call_book_executes_v_and_leaves_it_uncrossed(bids, asks, reference):
    ex = Exchange(auto_open=True)
    ex.keep_trades()
    ex.open_auction(0, 0)
    for i, (p, v) in enumerate(bids):
        ex.submit(0, f"b{i}", f"o{i % 3}", "buy", 0, p, v)
    for i, (p, v) in enumerate(asks):
        ex.submit(0, f"a{i}", f"o{i % 2}", "sell", 0, p, v)
    rep = ex.uncross(0, 1, reference)
    price, volume = ref_clearing(bids, asks, reference)
    assert sum(t.rate for t in rep.trades) == volume
    assert {t.price for t in rep.trades} == (set() if price is None else {price})
    check_invariants(ex)
