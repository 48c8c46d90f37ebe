"""Hypothesis order streams against the invariants, the slow reference model, and replay.

The reference model is the one in :mod:`tests.fuzz.model` (shared with the fuzz harness),
written from SPEC §4-§6 alone: resting orders are a plain list per slot, sorted by
``(price, seq)`` every time one is needed and matched one by one. It shares no code with
``book.py`` / ``auction.py`` (not even :func:`clearing_price`, which is itself checked against
the model's brute-force rule at the end of this file).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from hypothesis import given, note, settings
from hypothesis import strategies as st

from rex_env.exchange import Exchange, Grid, Side, clearing_price

from ..fuzz.model import MISFIT, Model, Outcome, clearing
from .helpers import check_invariants, state_digest

GRID = Grid()
LO, HI = GRID.min_ticks, GRID.max_ticks
LIFECYCLE_OPS = ("open_auction", "open_continuous", "uncross", "close")

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

    def reference(self) -> Model:
        return Model(self.auto_open, None if self.auto_open else self.n_slots)


WEIRD_PRICES = [LO, HI, LO - 1, HI + 1, Fraction(197, 2), Fraction(200, 2), Fraction(2 * HI + 1, 2)]
WEIRD_RATES = [0, -1, Fraction(3, 2), Fraction(-1, 2), Fraction(4, 2)]
ORDER_TYPES = [("limit", "gtc")] * 10 + [("limit", "ioc"), ("limit", "fok")] * 2 + [
    ("market", "gtc"), ("market", "ioc"), ("market", "fok")]
LIFECYCLE = {
    "pending": ["open_auction", "open_continuous"],
    "call": ["uncross"] * 5 + ["close"],
    "continuous": ["open_auction"] * 4 + ["close"],
    "closed": ["close"],
}
NEXT_PHASE = {"open_auction": "call", "uncross": "continuous", "open_continuous": "continuous",
              "close": "closed"}


@st.composite
def scenarios(draw, max_events: int = 50, lo: int = 98, hi: int = 102, cancel_weight: int = 2,
              block_pct: int = 12, min_slots: int = 1) -> Scenario:
    """A random stream of instructions that often crosses, self-trades and hits every fault.

    Each event draws one ``twist`` in 0..99 that picks at most one unusual thing about it (a
    row from the past, an empty owner, an off-grid or out-of-bounds value, an unknown slot, a
    block, a reused id, ...), which keeps the number of draws, and so the run time, small. The
    generator keeps a rough belief of each slot's phase (assuming its own lifecycle rows are
    accepted) so that most lifecycle rows fit and auctions really happen.
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
                phase[s] = NEXT_PHASE[how]
    used: list[str] = []
    owner_of: dict[str, str] = {}
    mid = (lo + hi) // 2
    for s in range(n_slots):  # a few resting quotes to start with: bids <= mid < asks
        for _ in range(draw(st.integers(0, 4))):
            oid = f"o{len(used)}"
            used.append(oid)
            owner_of[oid] = owner = draw(st.sampled_from(owners))
            side = draw(st.sampled_from(["buy", "sell"]))
            price = draw(st.integers(lo, mid) if side == "buy" else st.integers(mid + 1, hi))
            events.append(("submit", 0, oid, owner, side, s, price, draw(st.integers(1, 5)),
                           "limit", "gtc", None))
    prices = st.integers(lo, hi)
    rates = st.integers(1, 5)
    ops = st.sampled_from(["submit"] * 10 + ["cancel"] * cancel_weight + ["modify"] * 3
                          + ["lifecycle"])
    t = 0
    for _ in range(draw(st.integers(5, max_events))):
        t += draw(st.sampled_from([0, 0, 0, 1, 1, 2]))
        op = draw(ops)
        twist = draw(st.integers(0, 99))
        time = t - 1 if twist < 3 else t  # now and then a row from the past

        def recent_id(twist: int = twist) -> str:
            if not used or twist in (13, 14):
                return "zz" if twist != 14 else ""
            return draw(st.sampled_from(used[-4:] if twist % 3 else used))

        if op == "submit":
            owner = "" if twist in (3, 4) else draw(st.sampled_from(owners))
            oid = recent_id() if twist in (12, 13, 14) else f"o{len(used)}"
            if oid == f"o{len(used)}":
                used.append(oid)
                owner_of[oid] = owner
            side = draw(st.sampled_from(["buy", "sell"]))
            slot = draw(st.integers(0, n_slots - 1))
            kind, tif = draw(st.sampled_from(ORDER_TYPES))
            price = None if kind == "market" else draw(prices)
            rate = draw(rates)
            last = None
            if twist in (5, 6):
                price = None if kind == "market" else draw(st.sampled_from(WEIRD_PRICES))
            elif twist in (7, 8):
                rate = draw(st.sampled_from(WEIRD_RATES))
            elif twist == 9:
                slot = draw(st.sampled_from([-1, n_slots]))
            elif twist == 10:  # a market order with a price, a limit order without one
                price = draw(prices) if price is None else None
            elif twist == 11:
                last = slot - 1
            elif n_slots > 1 and 15 <= twist < 15 + block_pct:  # a block over 2-3 slots
                first = draw(st.integers(0, n_slots - 2))
                slot, last = first, draw(st.integers(first + 1, n_slots - 1))
                rate = 1 if twist % 4 else rate
                if twist == 15:
                    last = n_slots
            events.append(("submit", time, oid, owner, side, slot, price, rate, kind, tif, last))
        elif op in ("cancel", "modify"):
            oid = recent_id()
            owner = owner_of.get(oid, "A")
            if 3 <= twist < 12:
                owner = draw(st.sampled_from(owners))
            elif twist == 12:
                owner = ""
            if op == "cancel":
                events.append(("cancel", time, oid, owner))
                continue
            what = draw(st.sampled_from(["price", "rate", "both"]))
            price = draw(prices) if what != "rate" else None
            rate = draw(rates) if what != "price" else None
            if twist in (15, 16):
                price = draw(st.sampled_from(WEIRD_PRICES))
            elif twist in (17, 18):
                rate = draw(st.sampled_from(WEIRD_RATES))
            elif twist == 19:
                price = rate = None
            events.append(("modify", time, oid, owner, price, rate))
        else:
            slot = draw(st.integers(0, n_slots - 1))
            fits = LIFECYCLE[phase[slot]]
            life = draw(st.sampled_from(fits if twist >= 12 else list(NEXT_PHASE)))
            if life == "uncross":
                ref = draw(st.sampled_from([None, lo, hi, mid, Fraction(2 * lo + 1, 2)]))
                events.append(("uncross", time, slot, ref))
            else:
                events.append((life, time, slot))
            if time == t and life in fits:
                phase[slot] = NEXT_PHASE[life]
    return Scenario(auto_open, n_slots, events)


def apply(target: Exchange | Model, event: tuple) -> Any:
    """Send one event to the engine or the reference (both take the same arguments)."""
    op, time, *args = event
    if op == "submit":
        return target.submit(time, *args)
    if op == "cancel":
        return target.cancel(time, *args)
    if op == "modify":
        oid, owner, price, rate = args
        return target.modify(time, oid, owner, price=price, rate=rate)
    slot, *rest = args  # lifecycle events are (op, time, slot, ...); the methods take slot first
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


def ref_view(ref: Model, slots: range) -> dict[str, Any]:
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


def same_outcome(got: Outcome, want: Outcome, op: str) -> bool:
    """Equal outcomes; a lifecycle row that does not fit the phase may give any reason (SPEC §7)."""
    if op in LIFECYCLE_OPS and want.status == "rejected" and want.reason == MISFIT:
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
        assert same_outcome(got, want, event[0]), (
            f"event {i} {event}:\n engine {got}\n ref    {want}")
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


@given(scenarios(block_pct=50, min_slots=2))
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

def level_lists(lo: int, hi: int, vmax: int, size: int) -> st.SearchStrategy:
    return st.lists(st.tuples(st.integers(lo, hi), st.integers(1, vmax)), max_size=size)


# wide books, and narrow ones where equal volumes and surpluses (steps 2-4) are common
levels = st.one_of(level_lists(95, 105, 6, 6), level_lists(98, 101, 2, 4))
references = st.one_of(st.none(), st.integers(93, 107),
                       st.integers(186, 214).map(lambda x: Fraction(x, 2)),  # ties are likely
                       st.fractions(min_value=90, max_value=110, max_denominator=4))


@st.composite
def zero_surplus_books(draw) -> tuple[list, list, Any]:
    """bids v @ q and asks v @ p < q: V = v with zero surplus at both p and q (step 4 decides);
    extra bids below p and asks above q add prices where nothing is executable."""
    p = draw(st.integers(96, 102))
    q = p + draw(st.integers(1, 3))
    v = draw(st.integers(1, 4))
    bids = [(q, v)] + draw(level_lists(90, p - 1, 3, 2))
    asks = [(p, v)] + draw(level_lists(q + 1, 110, 3, 2))
    ref = draw(st.sampled_from([None, p, q, Fraction(p + q, 2), Fraction(2 * p + 1, 2)]))
    return bids, asks, ref


books_and_references = st.one_of(st.tuples(levels, levels, references), zero_surplus_books())
# a cheap pure function: many more examples than the stream tests
MANY = settings(max_examples=5 * settings().max_examples)


@MANY
@given(books_and_references)
def test_clearing_price_agrees_with_a_brute_force_reading_of_the_rule(book):
    bids, asks, reference = book
    c = clearing_price(bids, asks, reference)
    price, volume = clearing(bids, asks, reference)
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
    price, volume = clearing(bids, asks, reference)
    assert sum(t.rate for t in rep.trades) == volume
    assert {t.price for t in rep.trades} == (set() if price is None else {price})
    check_invariants(ex)
