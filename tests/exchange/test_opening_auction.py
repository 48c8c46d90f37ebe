"""SPEC §3/§6: the opening (call) auction — collect, uncross at one price, then trade continuously.

Curves below are written out by hand: ``B(p)`` = bids at or above p, ``A(p)`` = asks at or below
p, ``V(p) = min(B, A)``, surplus ``s(p) = B - A``.
"""

from fractions import Fraction

import pytest

from rex_env.exchange import Exchange, Phase, Reason, Side, Status, clearing_price

from .helpers import (
    assert_book,
    check_invariants,
    make_book,
    queue,
    state_digest,
    trade_rows,
)

# -- the price rule, step by step (pure function) ---------------------------------------------


def test_step1_maximum_executable_volume_wins_over_a_smaller_surplus():
    #   p   B  A  V  s
    #  99   8  3  3 +5
    # 100   8  5  5 +3   <- max V
    # 101   4  6  4 -2   (smallest |s|, but less volume)
    c = clearing_price([(101, 4), (100, 4)], [(99, 3), (100, 2), (101, 1)])
    assert (c.price, c.volume, c.surplus) == (100, 5, 3)


def test_step2_among_equal_volumes_the_minimum_surplus_wins_over_the_reference():
    #   p   B  A  V  s
    #  99   8  5  5 +3
    # 100   8  5  5 +3
    # 101   5  9  5 -4   <- closest to the reference, but |s| = 4 > 3
    c = clearing_price([(101, 5), (100, 3)], [(99, 5), (101, 4)], reference=101)
    assert (c.price, c.volume, c.surplus) == (100, 5, 3)


def test_step3_buy_pressure_takes_the_highest_remaining_price_whatever_the_reference():
    # same curves: after step 2 {99, 100} remain, both with surplus on the buy side
    c = clearing_price([(101, 5), (100, 3)], [(99, 5), (101, 4)], reference=99)
    assert c.price == 100


def test_step3_sell_pressure_takes_the_lowest_remaining_price_whatever_the_reference():
    #   p   B  A  V  s
    #  99   9  5  5 +4
    # 100   5  8  5 -3
    # 101   5  8  5 -3   -> {100, 101} remain, both on the sell side: lowest
    c = clearing_price([(101, 5), (99, 4)], [(99, 5), (100, 3)], reference=101)
    assert (c.price, c.volume, c.surplus) == (100, 5, -3)


MIXED_BIDS = [(102, 3), (101, 2), (100, 4)]
MIXED_ASKS = [(99, 2), (100, 3), (101, 4)]
#   p   B  A  V  s
#  99   9  2  2 +7
# 100   9  5  5 +4
# 101   5  9  5 -4   -> {100, 101} remain with mixed pressure: step 4
# 102   3  9  3 -6


@pytest.mark.parametrize(
    ("reference", "price"),
    [
        (100, 100),
        (101, 101),
        (Fraction(1004, 10), 100),  # 100.4 ticks: closer to 100
        (Fraction(1006, 10), 101),
        (Fraction(201, 2), 101),  # 100.5: equally close -> the higher
        (50, 100),
        (200, 101),
        (None, 101),  # no reference: the highest remaining price
    ],
    ids=["ref100", "ref101", "ref100.4", "ref100.6", "tie-higher", "far-below", "far-above",
         "none-highest"],
)
def test_step4_mixed_pressure_takes_the_price_closest_to_the_reference(reference, price):
    c = clearing_price(MIXED_BIDS, MIXED_ASKS, reference)
    assert (c.price, c.volume) == (price, 5)
    assert c.surplus == (4 if price == 100 else -4)


@pytest.mark.parametrize(("reference", "price"), [(None, 102), (100, 100), (101, 102),
                                                   (Fraction(2009, 20), 100)])
def test_step4_zero_surplus_goes_on_to_the_reference(reference, price):
    # bids 5@102, asks 5@100: V = 5 and s = 0 at both 100 and 102; 101 is not a limit price
    c = clearing_price([(102, 5)], [(100, 5)], reference)
    assert (c.price, c.volume, c.surplus) == (price, 5, 0)


def test_clearing_price_is_always_one_of_the_limit_prices_present():
    c = clearing_price([(110, 5)], [(90, 5)], reference=100)
    assert c.price in (90, 110)


def test_no_executable_volume_gives_no_price():
    assert clearing_price([(99, 5)], [(100, 5)]).price is None
    assert clearing_price([(99, 5)], [(100, 5)]).volume == 0
    assert clearing_price([], []).price is None
    assert clearing_price([(99, 5)], []).price is None


def test_levels_given_twice_at_one_price_add_up():
    assert clearing_price([(100, 2), (100, 3)], [(100, 5)]).volume == 5


# -- the call phase on a book ------------------------------------------------------------------


def call_book() -> Exchange:
    """A slot in its call phase whose curves are those of the step-1 example, split in orders.

    bids: 101: b2 3 (B), b3 1 (C)   100: b1 2 (A), b4 2 (D)
    asks:  99: a2 2 (F), a4 1 (H)   100: a3 2 (G)   101: a1 1 (E)
    """
    ex = Exchange(auto_open=False, n_slots=2)
    ex.keep_trades()
    assert ex.open_auction(0, 0).ok
    for t, (oid, owner, side, price, rate) in enumerate([
        ("b1", "A", "buy", 100, 2),
        ("b2", "B", "buy", 101, 3),
        ("b3", "C", "buy", 101, 1),
        ("b4", "D", "buy", 100, 2),
        ("a1", "E", "sell", 101, 1),
        ("a2", "F", "sell", 99, 2),
        ("a3", "G", "sell", 100, 2),
        ("a4", "H", "sell", 99, 1),
    ]):
        rep = ex.submit(t, oid, owner, side, 0, price, rate)
        assert rep.status is Status.RESTING and rep.trades == []
    return ex


def test_call_phase_collects_orders_without_matching_and_may_be_crossed():
    ex = call_book()
    assert ex.phase(0) is Phase.CALL
    assert ex.keep_trades() == []
    assert_book(ex, bids=[(101, 4), (100, 4)], asks=[(99, 3), (100, 2), (101, 1)])
    assert ex.books[0].is_crossed()
    check_invariants(ex)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "market", "price": None},
        {"kind": "market", "price": None, "tif": "ioc"},
        {"kind": "market", "price": None, "tif": "fok"},
        {"tif": "ioc"},
        {"tif": "fok"},
        {"last_slot": 1},
    ],
    ids=["market", "market-ioc", "market-fok", "ioc", "fok", "block"],
)
def test_call_phase_accepts_only_limit_gtc_single_slot_orders(kwargs):
    ex = call_book()
    ex.open_auction(1, 10)
    before = state_digest(ex)
    args = {"price": 100, "kind": "limit", "tif": "gtc", "last_slot": None} | kwargs
    rep = ex.submit(10, "x", "Z", "buy", 0, args.pop("price"), 1, **args)
    assert (rep.status, rep.reason) == (Status.REJECTED, Reason.AUCTION_PHASE)
    assert state_digest(ex) == before


def test_block_touching_a_slot_in_its_call_phase_is_auction_phase():
    ex = Exchange(auto_open=True)
    ex.open_auction(1, 0)
    assert ex.submit(0, "x", "Z", "buy", 0, 100, 1, last_slot=1).reason is Reason.AUCTION_PHASE


def test_uncross_executes_exactly_v_at_p_in_price_time_allocation_order():
    ex = call_book()
    rep = ex.uncross(0, 20)
    # p = 100, V = 5. Bids in priority: b2 3, b3 1, b1 2, b4 2 (101 first, then 100 by time).
    # Asks in priority: a2 2, a4 1, a3 2, a1 1. First bid against first ask, repeatedly:
    assert trade_rows(rep.trades) == [
        (100, 2, "b2", "a2"),
        (100, 1, "b2", "a4"),
        (100, 1, "b3", "a3"),
        (100, 1, "b1", "a3"),
    ]
    assert sum(t.rate for t in rep.trades) == 5
    check_invariants(ex)


def test_auction_trades_carry_the_uncross_time_and_aggressor_auction():
    ex = call_book()
    rep = ex.uncross(0, 20)
    assert {(t.time, t.aggressor, t.slot) for t in rep.trades} == {(20, "auction", 0)}
    assert [t.trade_id for t in rep.trades] == [1, 2, 3, 4]


def test_executed_volume_equals_the_clearing_volume_of_the_book():
    ex = call_book()
    book = ex.books[0]
    c = clearing_price([(lv.price, lv.volume) for lv in book.levels(Side.BUY)],
                       [(lv.price, lv.volume) for lv in book.levels(Side.SELL)])
    rep = ex.uncross(0, 20)
    assert sum(t.rate for t in rep.trades) == c.volume == 5
    assert {t.price for t in rep.trades} == {c.price}


def test_remainders_rest_with_their_priority_and_the_book_trades_continuously():
    ex = call_book()
    ex.uncross(0, 20)
    assert ex.phase(0) is Phase.CONTINUOUS
    assert_book(ex, bids=[(100, 3)], asks=[(101, 1)])
    assert queue(ex, 0, Side.BUY, 100) == [("b1", 1), ("b4", 2)]
    assert ex.orders["b1"].status is Status.RESTING and ex.orders["b1"].filled == 1
    assert ex.orders["b2"].status is Status.FILLED
    rep = ex.submit(21, "s", "Z", "sell", 0, 100, 2)
    assert trade_rows(rep.trades) == [(100, 1, "b1", "s"), (100, 1, "b4", "s")]
    assert all(t.aggressor == "sell" for t in rep.trades)
    check_invariants(ex)


def test_auction_applies_no_self_trade_prevention():
    ex = make_book(bids=[(101, 2, "me")], asks=[(100, 2, "me")], call_phase=True)
    rep = ex.uncross(0, 1)
    assert [(t.buyer, t.seller, t.rate) for t in rep.trades] == [("me", "me", 2)]
    assert ex.orders["b1"].reason is None and ex.position("me", 0) == 0
    check_invariants(ex)


def test_uncross_uses_the_given_reference_price():
    bids = [(p, r) for p, r in MIXED_BIDS]
    asks = [(p, r) for p, r in MIXED_ASKS]
    for ref, price in ((100, 100), (None, 101), (Fraction(201, 2), 101)):
        ex = make_book(bids=bids, asks=asks, call_phase=True)
        rep = ex.uncross(0, 1, reference=ref)
        assert {t.price for t in rep.trades} == {price}
        assert sum(t.rate for t in rep.trades) == 5
        check_invariants(ex)


def test_uncross_with_nothing_executable_trades_nothing_and_opens_continuous_trading():
    ex = make_book(bids=[(99, 2)], asks=[(100, 2)], call_phase=True)
    rep = ex.uncross(0, 1)
    assert rep.ok and rep.trades == []
    assert ex.phase(0) is Phase.CONTINUOUS
    assert_book(ex, bids=[(99, 2)], asks=[(100, 2)])
    assert ex.submit(2, "t", "taker", "buy", 0, 100, 1).trades != []


def test_uncross_of_an_empty_book_opens_continuous_trading():
    ex = Exchange(auto_open=False, n_slots=1)
    ex.open_auction(0, 0)
    assert ex.uncross(0, 1).trades == []
    assert ex.phase(0) is Phase.CONTINUOUS


def test_slot_opens_in_a_call_phase_and_is_not_open_before():
    ex = Exchange(auto_open=False, n_slots=1)
    assert ex.submit(0, "x", "A", "buy", 0, 100, 1).reason is Reason.SLOT_NOT_OPEN
    assert ex.open_auction(0, 1).ok
    assert ex.submit(1, "x", "A", "buy", 0, 100, 1).status is Status.RESTING


def test_reopening_a_call_phase_after_an_uncross_keeps_resting_orders_in_the_next_uncross():
    ex = make_book(bids=[(99, 2)], asks=[(101, 2)])
    assert ex.open_auction(0, 1).ok
    assert ex.phase(0) is Phase.CALL
    rep = ex.submit(2, "x", "Z", "buy", 0, 102, 1)  # would trade in continuous trading
    assert rep.status is Status.RESTING and rep.trades == []
    rep = ex.uncross(0, 3)
    assert trade_rows(rep.trades) == [(101, 1, "x", "a1")]
    assert_book(ex, bids=[(99, 2)], asks=[(101, 1)])
    # and once more
    assert ex.open_auction(0, 4).ok
    ex.submit(4, "y", "Z", "sell", 0, 98, 3)
    rep = ex.uncross(0, 5)
    assert trade_rows(rep.trades) == [(98, 2, "b1", "y")]
    assert {t.time for t in rep.trades} == {5}
    check_invariants(ex)


def test_modify_during_the_call_phase_requeues_behind_and_changes_the_allocation():
    ex = make_book(bids=[(100, 2), (100, 2)], asks=[(100, 2)], call_phase=True)
    ex.modify(1, "b1", "bidder", rate=3)  # increase: back of the queue
    rep = ex.uncross(0, 2)
    assert trade_rows(rep.trades) == [(100, 2, "b2", "a1")]


def test_close_during_a_call_phase_expires_orders_without_an_auction():
    ex = make_book(bids=[(101, 2)], asks=[(100, 2)], call_phase=True)
    rep = ex.close(0, 5)
    assert rep.trades == [] and ex.keep_trades() == []
    assert [o.order_id for o in rep.expired] == ["b1", "a1"]
    assert all(o.status is Status.EXPIRED for o in rep.expired)
    assert ex.phase(0) is Phase.CLOSED
    check_invariants(ex)


def test_uncross_outside_a_call_phase_is_rejected_and_changes_nothing():
    ex = make_book(bids=[(99, 2)])
    before = state_digest(ex)
    rep = ex.uncross(0, 1)
    assert rep.status is Status.REJECTED
    assert state_digest(ex) == before


def test_open_auction_during_a_call_phase_is_rejected_and_changes_nothing():
    ex = make_book(bids=[(101, 2)], asks=[(100, 2)], call_phase=True)
    before = state_digest(ex)
    rep = ex.open_auction(0, 1)
    assert rep.status is Status.REJECTED
    assert state_digest(ex) == before
    assert ex.phase(0) is Phase.CALL


@pytest.mark.parametrize("op", ["open_auction", "uncross", "close"])
def test_lifecycle_rows_on_a_closed_slot_are_slot_closed(op):
    ex = make_book(bids=[(99, 2)])
    ex.close(0, 1)
    before = state_digest(ex)
    rep = getattr(ex, op)(0, 2)
    assert (rep.status, rep.reason) == (Status.REJECTED, Reason.SLOT_CLOSED)
    assert state_digest(ex) == before


@pytest.mark.parametrize("op", ["open_auction", "uncross", "close"])
def test_lifecycle_rows_on_an_unknown_slot_or_going_back_in_time_are_rejected(op):
    ex = Exchange(auto_open=False, n_slots=2)
    ex.open_auction(0, 10)
    assert getattr(ex, op)(-1, 10).reason is Reason.UNKNOWN_SLOT
    assert getattr(ex, op)(2, 10).reason is Reason.UNKNOWN_SLOT
    assert getattr(ex, op)(0, 9).reason is Reason.BAD_FIELD
    assert ex.phase(0) is Phase.CALL
