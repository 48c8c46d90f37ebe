"""SPEC §4/§5: cancel removes the remaining rate of the owner's own resting order."""

import pytest

from rex_env.exchange import Exchange, Reason, Side, Status

from .helpers import assert_book, check_invariants, make_book, queue, state_digest, trade_rows


def test_cancel_removes_the_open_rate_from_the_book():
    ex = make_book(bids=[(100, 5), (99, 1)])
    rep = ex.cancel(1, "b1", "bidder")
    assert rep.status is Status.CANCELLED and rep.reason is None and rep.trades == []
    o = ex.orders["b1"]
    assert (o.status, o.reason, o.rate, o.removed, o.filled) == (Status.CANCELLED, None, 0, 5, 0)
    assert_book(ex, bids=[(99, 1)])
    check_invariants(ex)


def test_cancel_of_a_partially_filled_order_removes_only_the_remainder():
    ex = make_book(asks=[(100, 5)])
    ex.submit(1, "t", "taker", "buy", 0, 100, 2)
    ex.cancel(2, "a1", "asker")
    o = ex.orders["a1"]
    assert (o.status, o.filled, o.rate, o.removed, o.offered) == (Status.CANCELLED, 2, 0, 3, 5)
    assert ex.position("asker", 0) == -2
    assert_book(ex)


def test_cancel_keeps_the_priority_of_the_other_orders_at_the_level():
    ex = make_book(asks=[(100, 1), (100, 2), (100, 3)])
    ex.cancel(1, "a2", "asker")
    assert queue(ex, 0, Side.SELL, 100) == [("a1", 1), ("a3", 3)]
    rep = ex.submit(2, "t", "taker", "buy", 0, 100, 4)
    assert trade_rows(rep.trades) == [(100, 1, "t", "a1"), (100, 3, "t", "a3")]
    check_invariants(ex)


def test_cancelled_best_level_uncovers_the_next_best_price():
    ex = make_book(asks=[(100, 1), (101, 1)])
    ex.cancel(1, "a1", "asker")
    assert ex.books[0].best_ask() == 101
    rep = ex.submit(2, "t", "taker", "buy", 0, 100, 1)
    assert rep.trades == [] and rep.status is Status.RESTING


def test_many_cancels_at_one_level_leave_the_survivors_in_time_order():
    ex = make_book(asks=[(100, 1, f"o{i}") for i in range(80)])
    for i in range(1, 80):
        if i % 3:
            assert ex.cancel(1, f"a{i}", f"o{i - 1}").ok
    survivors = [f"a{i}" for i in range(1, 81) if i % 3 == 0 or i == 80]
    assert [oid for oid, _ in queue(ex, 0, Side.SELL, 100)] == survivors
    rep = ex.submit(2, "t", "taker", "buy", 0, 100, len(survivors))
    assert [t.sell_order_id for t in rep.trades] == survivors
    check_invariants(ex)


def test_cancel_by_another_owner_is_unknown_order_and_the_order_stays():
    ex = make_book(bids=[(100, 5, "alice")])
    before = state_digest(ex)
    rep = ex.cancel(1, "b1", "mallory")
    assert (rep.status, rep.reason) == (Status.REJECTED, Reason.UNKNOWN_ORDER)
    assert state_digest(ex) == before


def test_cancel_with_an_empty_owner_is_unknown_order():
    ex = make_book(bids=[(100, 5, "alice")])
    assert ex.cancel(1, "b1", "").reason is Reason.UNKNOWN_ORDER


@pytest.mark.parametrize("how", ["filled", "cancelled", "ioc", "killed", "expired", "never"])
def test_cancel_of_an_order_that_is_not_resting_is_unknown_order(how):
    ex = make_book(asks=[(100, 1, "s")])
    ex.submit(0, "x", "me", "buy", 0, 99, 1)
    if how == "filled":
        ex.submit(1, "x2", "me", "buy", 0, 100, 1)
        oid = "x2"
    elif how == "cancelled":
        ex.cancel(1, "x", "me")
        oid = "x"
    elif how == "ioc":
        ex.submit(1, "x2", "me", "buy", 0, 99, 1, tif="ioc")
        oid = "x2"
    elif how == "killed":
        ex.submit(1, "x2", "me", "buy", 0, 99, 1, tif="fok")
        oid = "x2"
    elif how == "expired":
        ex.close(0, 1)
        oid = "x"
    else:
        oid = "nope"
    before = state_digest(ex)
    rep = ex.cancel(2, oid, "me")
    assert (rep.status, rep.reason) == (Status.REJECTED, Reason.UNKNOWN_ORDER)
    assert state_digest(ex) == before


def test_cancel_twice_rejects_the_second():
    ex = make_book(bids=[(100, 5)])
    assert ex.cancel(1, "b1", "bidder").ok
    assert ex.cancel(1, "b1", "bidder").reason is Reason.UNKNOWN_ORDER


def test_cancel_with_time_going_backwards_is_bad_field():
    ex = make_book(bids=[(100, 5)], time=10)
    rep = ex.cancel(9, "b1", "bidder")
    assert rep.reason is Reason.BAD_FIELD
    assert ex.orders["b1"].status is Status.RESTING


def test_cancelled_id_stays_used():
    ex = make_book(bids=[(100, 5)])
    ex.cancel(1, "b1", "bidder")
    assert ex.submit(2, "b1", "bidder", "buy", 0, 100, 1).reason is Reason.DUPLICATE_ID


def test_cancel_during_a_call_phase_takes_the_order_out_of_the_uncross():
    ex = make_book(bids=[(101, 2), (101, 2)], asks=[(100, 2)], call_phase=True)
    ex.cancel(1, "b1", "bidder")
    rep = ex.uncross(0, 2)
    assert trade_rows(rep.trades) == [(101, 2, "b2", "a1")]
    check_invariants(ex)


def test_cancel_moves_the_clock():
    ex = Exchange(auto_open=True)
    ex.submit(0, "x", "me", "buy", 0, 100, 1)
    ex.cancel(5, "x", "me")
    assert ex.submit(4, "y", "me", "buy", 0, 100, 1).reason is Reason.BAD_FIELD
