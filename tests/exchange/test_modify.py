"""SPEC §4/§5: modify — a pure rate decrease keeps priority, anything else re-enters the order."""

from fractions import Fraction

import pytest

from rex_env.exchange import Reason, Side, Status

from .helpers import assert_book, check_invariants, make_book, queue, state_digest, trade_rows


def test_pure_rate_decrease_keeps_time_priority():
    ex = make_book(asks=[(100, 5), (100, 5)])
    rep = ex.modify(1, "a1", "asker", rate=2)
    assert rep.status is Status.RESTING and rep.trades == []
    assert queue(ex, 0, Side.SELL, 100) == [("a1", 2), ("a2", 5)]
    fill = ex.submit(2, "t", "taker", "buy", 0, 100, 3)
    assert trade_rows(fill.trades) == [(100, 2, "t", "a1"), (100, 1, "t", "a2")]
    check_invariants(ex)


def test_rate_decrease_removes_the_difference():
    ex = make_book(asks=[(100, 5)])
    ex.modify(1, "a1", "asker", rate=2)
    o = ex.orders["a1"]
    assert (o.rate, o.removed, o.offered, o.filled) == (2, 3, 5, 0)
    assert_book(ex, asks=[(100, 2)])


def test_rate_increase_loses_priority_and_offers_more():
    ex = make_book(asks=[(100, 2), (100, 2)])
    ex.modify(1, "a1", "asker", rate=3)
    assert queue(ex, 0, Side.SELL, 100) == [("a2", 2), ("a1", 3)]
    o = ex.orders["a1"]
    assert (o.rate, o.offered, o.removed, o.time) == (3, 3, 0, 1)
    check_invariants(ex)


def test_price_change_loses_priority_even_when_changed_back():
    ex = make_book(asks=[(100, 2), (100, 2)])
    ex.modify(1, "a1", "asker", price=101)
    assert_book(ex, asks=[(100, 2), (101, 2)])
    ex.modify(2, "a1", "asker", price=100)
    assert queue(ex, 0, Side.SELL, 100) == [("a2", 2), ("a1", 2)]


def test_price_change_with_a_rate_decrease_still_loses_priority_and_removes_the_difference():
    ex = make_book(bids=[(100, 4), (99, 1)])
    ex.modify(1, "b1", "bidder", price=99, rate=1)
    assert queue(ex, 0, Side.BUY, 99) == [("b2", 1), ("b1", 1)]
    o = ex.orders["b1"]
    assert (o.rate, o.removed, o.offered) == (1, 3, 4)
    check_invariants(ex)


@pytest.mark.parametrize("kwargs", [{"price": 100}, {"rate": 2}, {"price": 100, "rate": 2}],
                         ids=["same-price", "same-rate", "same-both"])
def test_modify_that_changes_nothing_is_accepted_and_keeps_priority(kwargs):
    ex = make_book(asks=[(100, 2), (100, 2)])
    rep = ex.modify(1, "a1", "asker", **kwargs)
    assert rep.ok and rep.status is Status.RESTING
    assert queue(ex, 0, Side.SELL, 100) == [("a1", 2), ("a2", 2)]
    o = ex.orders["a1"]
    assert (o.offered, o.removed) == (2, 0)


def test_empty_price_keeps_the_old_price_and_empty_rate_keeps_the_old_rate():
    ex = make_book(bids=[(100, 4)])
    ex.modify(1, "b1", "bidder", rate=6)
    assert (ex.orders["b1"].price, ex.orders["b1"].rate) == (100, 6)
    ex.modify(2, "b1", "bidder", price=98)
    assert (ex.orders["b1"].price, ex.orders["b1"].rate) == (98, 6)
    assert_book(ex, bids=[(98, 6)])


def test_new_rate_is_the_new_open_rate_and_what_was_filled_stays_filled():
    ex = make_book(asks=[(100, 5)])
    ex.submit(1, "t", "taker", "buy", 0, 100, 2)  # a1: filled 2, open 3
    ex.modify(2, "a1", "asker", rate=4)
    o = ex.orders["a1"]
    assert (o.filled, o.rate, o.offered, o.removed) == (2, 4, 6, 0)
    ex.modify(3, "a1", "asker", rate=1)
    assert (o.filled, o.rate, o.offered, o.removed) == (2, 1, 6, 3)
    assert_book(ex, asks=[(100, 1)])
    check_invariants(ex)


def test_modify_to_a_crossing_price_trades_at_once_as_aggressor_at_resting_prices():
    ex = make_book(bids=[(98, 3)], asks=[(100, 1), (101, 1), (103, 1)])
    rep = ex.modify(5, "b1", "bidder", price=101)
    assert rep.status is Status.RESTING
    assert trade_rows(rep.trades) == [(100, 1, "b1", "a1"), (101, 1, "b1", "a2")]
    assert all(t.aggressor == "buy" and t.time == 5 for t in rep.trades)
    assert_book(ex, bids=[(101, 1)], asks=[(103, 1)])
    check_invariants(ex)


def test_modify_that_fills_completely_ends_filled():
    ex = make_book(asks=[(100, 2)], bids=[(99, 2, "b")])
    rep = ex.modify(1, "b1", "b", price=100)
    assert rep.status is Status.FILLED and ex.orders["b1"].status is Status.FILLED
    assert_book(ex)


def test_modify_reentry_applies_self_trade_prevention():
    ex = make_book(bids=[(98, 2, "me")], asks=[(100, 1, "me"), (100, 1, "other")])
    rep = ex.modify(1, "b1", "me", price=100)
    assert [o.order_id for o in rep.self_trade_cancelled] == ["a1"]
    assert ex.orders["a1"].reason is Reason.SELF_TRADE
    assert trade_rows(rep.trades) == [(100, 1, "b1", "a2")]
    assert_book(ex, bids=[(100, 1)])
    check_invariants(ex)


def test_modify_keeps_the_order_id():
    ex = make_book(bids=[(98, 2)])
    ex.modify(1, "b1", "bidder", price=99, rate=3)
    assert [o.order_id for o in ex.books[0].resting()] == ["b1"]
    assert ex.orders["b1"].price == 99


def test_modify_in_a_call_phase_only_requeues_at_the_back_and_never_matches():
    ex = make_book(bids=[(100, 2), (100, 2)], asks=[(105, 2)], call_phase=True)
    rep = ex.modify(1, "b1", "bidder", rate=3)
    assert rep.trades == [] and rep.status is Status.RESTING
    assert queue(ex, 0, Side.BUY, 100) == [("b2", 2), ("b1", 3)]
    rep = ex.modify(2, "b2", "bidder", price=106)  # crosses: still no trade in a call phase
    assert rep.trades == [] and rep.status is Status.RESTING
    assert_book(ex, bids=[(106, 2), (100, 3)], asks=[(105, 2)])
    check_invariants(ex)


def test_rejected_modify_changes_nothing():
    ex = make_book(asks=[(100, 2), (100, 2)])
    before = state_digest(ex)
    rep = ex.modify(1, "a1", "asker", price=Fraction(2001, 2), rate=5)
    assert rep.reason is Reason.OFF_TICK
    assert state_digest(ex) == before


def test_modify_of_another_owners_order_is_unknown_order():
    ex = make_book(asks=[(100, 2, "alice")])
    assert ex.modify(1, "a1", "mallory", rate=1).reason is Reason.UNKNOWN_ORDER
    assert ex.modify(1, "a1", "", rate=1).reason is Reason.UNKNOWN_ORDER
    assert ex.orders["a1"].rate == 2


def test_modify_of_a_filled_order_is_unknown_order():
    ex = make_book(asks=[(100, 2)])
    ex.submit(1, "t", "taker", "buy", 0, 100, 2)
    assert ex.modify(2, "a1", "asker", rate=1).reason is Reason.UNKNOWN_ORDER


def test_modify_with_both_fields_empty_is_bad_field():
    ex = make_book(asks=[(100, 2)])
    assert ex.modify(1, "a1", "asker").reason is Reason.BAD_FIELD


def test_modify_moves_the_clock_and_a_rejected_one_does_not():
    ex = make_book(asks=[(100, 2)])
    assert ex.modify(9, "a1", "asker", rate=0).reason is Reason.NON_POSITIVE_RATE
    assert ex.submit(5, "x", "me", "buy", 0, 90, 1).ok
    assert ex.modify(7, "a1", "asker", rate=1).ok
    assert ex.submit(6, "y", "me", "buy", 0, 90, 1).reason is Reason.BAD_FIELD


def test_requeued_order_keeps_its_side_and_slot():
    ex = make_book(asks=[(100, 2)], slot=4)
    ex.modify(1, "a1", "asker", price=102, rate=3)
    o = ex.orders["a1"]
    assert (o.side, o.first_slot, o.last_slot) == (Side.SELL, 4, 4)
    assert_book(ex, 4, asks=[(102, 3)])
