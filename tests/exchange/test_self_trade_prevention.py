"""SPEC §4/§5: an incoming order never trades with its owner's resting orders.

A same-owner resting order that the incoming order reaches (within its limit, before it is
complete) is cancelled with reason ``self_trade`` and matching goes on.
"""

import pytest

from rex_env.exchange import Reason, Status

from .helpers import assert_book, check_invariants, make_book, trade_rows


def test_incoming_order_cancels_its_owners_resting_order_and_goes_on_matching():
    ex = make_book(asks=[(100, 2, "me"), (100, 3, "other")])
    rep = ex.submit(1, "t", "me", "buy", 0, 100, 3)
    assert trade_rows(rep.trades) == [(100, 3, "t", "a2")]
    assert [o.order_id for o in rep.self_trade_cancelled] == ["a1"]
    a1 = ex.orders["a1"]
    assert (a1.status, a1.reason, a1.rate, a1.removed) == (
        Status.CANCELLED, Reason.SELF_TRADE, 0, 2)
    assert rep.status is Status.FILLED
    assert_book(ex)
    check_invariants(ex)


def test_self_trade_prevention_never_produces_a_trade_with_the_same_buyer_and_seller():
    ex = make_book(bids=[(100, 1, "me"), (99, 1, "me"), (98, 1, "x")])
    rep = ex.submit(1, "t", "me", "sell", 0, 98, 2)
    assert all(t.buyer != t.seller for t in rep.trades)
    assert trade_rows(rep.trades) == [(98, 1, "b3", "t")]
    assert [o.order_id for o in rep.self_trade_cancelled] == ["b1", "b2"]
    assert rep.status is Status.RESTING and rep.order.rate == 1
    assert_book(ex, asks=[(98, 1)])


def test_own_order_beyond_the_limit_is_not_reached_and_stays():
    ex = make_book(asks=[(100, 1, "x"), (102, 1, "me")])
    rep = ex.submit(1, "t", "me", "buy", 0, 101, 3)
    assert rep.self_trade_cancelled == []
    assert ex.orders["a2"].status is Status.RESTING
    assert_book(ex, bids=[(101, 2)], asks=[(102, 1)])


def test_own_order_behind_a_completed_incoming_order_is_not_reached_and_stays():
    ex = make_book(asks=[(100, 2, "x"), (100, 2, "me")])
    rep = ex.submit(1, "t", "me", "buy", 0, 100, 2)
    assert rep.status is Status.FILLED and rep.self_trade_cancelled == []
    assert ex.orders["a2"].status is Status.RESTING


def test_own_order_right_after_the_last_needed_lot_on_the_next_level_stays():
    ex = make_book(asks=[(100, 2, "x"), (101, 2, "me")])
    rep = ex.submit(1, "t", "me", "buy", 0, 105, 2)
    assert rep.status is Status.FILLED and rep.self_trade_cancelled == []
    assert_book(ex, asks=[(101, 2)])


def test_incoming_order_meeting_only_own_orders_cancels_them_and_rests_uncrossed():
    ex = make_book(asks=[(100, 2, "me"), (101, 2, "me")])
    rep = ex.submit(1, "t", "me", "buy", 0, 101, 1)
    assert rep.trades == []
    assert [o.order_id for o in rep.self_trade_cancelled] == ["a1", "a2"]
    assert_book(ex, bids=[(101, 1)])
    check_invariants(ex)


def test_self_trade_cancels_in_priority_order_across_levels():
    ex = make_book(asks=[(101, 1, "me"), (100, 1, "me"), (100, 1, "x"), (100, 1, "me")])
    rep = ex.submit(1, "t", "me", "buy", 0, 101, 2)
    assert [o.order_id for o in rep.self_trade_cancelled] == ["a2", "a4", "a1"]
    assert trade_rows(rep.trades) == [(100, 1, "t", "a3")]
    assert rep.status is Status.RESTING
    assert_book(ex, bids=[(101, 1)])


@pytest.mark.parametrize("tif", ["ioc", "gtc"])
def test_self_trade_prevention_applies_to_ioc_and_gtc(tif):
    ex = make_book(bids=[(100, 1, "me"), (99, 1, "x")])
    rep = ex.submit(1, "t", "me", "sell", 0, 99, 1, tif=tif)
    assert [o.order_id for o in rep.self_trade_cancelled] == ["b1"]
    assert trade_rows(rep.trades) == [(99, 1, "b2", "t")]


def test_other_owners_orders_are_never_cancelled_by_self_trade_prevention():
    ex = make_book(asks=[(100, 1, "x"), (100, 1, "me"), (100, 1, "y")])
    rep = ex.submit(1, "t", "me", "buy", 0, 100, 3)
    assert [o.owner for o in rep.self_trade_cancelled] == ["me"]
    assert {t.seller for t in rep.trades} == {"x", "y"}
    assert rep.status is Status.RESTING and rep.order.rate == 1
