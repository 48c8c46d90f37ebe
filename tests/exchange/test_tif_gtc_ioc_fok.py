"""SPEC §4/§5: gtc rests the remainder, ioc cancels it, fok fills in full now or is killed."""

import pytest

from rex_env.exchange import Side, Status

from .helpers import assert_book, check_invariants, make_book, queue, state_digest, trade_rows

# -- gtc ---------------------------------------------------------------------------------------


def test_gtc_remainder_rests_in_the_book_at_its_limit():
    ex = make_book(asks=[(100, 2)])
    rep = ex.submit(1, "t", "taker", "buy", 0, 100, 5, tif="gtc")
    assert rep.status is Status.RESTING and rep.order.rate == 3
    assert_book(ex, bids=[(100, 3)])


def test_gtc_that_fills_completely_ends_filled_and_does_not_rest():
    ex = make_book(asks=[(100, 5)])
    rep = ex.submit(1, "t", "taker", "buy", 0, 100, 5, tif="gtc")
    assert rep.status is Status.FILLED
    assert_book(ex)


def test_tif_defaults_to_gtc():
    ex = make_book()
    rep = ex.submit(1, "t", "taker", "buy", 0, 100, 5)
    assert rep.order.tif == "gtc" and rep.status is Status.RESTING


# -- ioc ---------------------------------------------------------------------------------------


def test_ioc_fills_what_is_possible_now_and_cancels_the_rest():
    ex = make_book(asks=[(100, 2), (101, 1), (103, 9)])
    rep = ex.submit(1, "t", "taker", "buy", 0, 102, 5, tif="ioc")
    assert trade_rows(rep.trades) == [(100, 2, "t", "a1"), (101, 1, "t", "a2")]
    assert rep.status is Status.CANCELLED and rep.order.reason is None
    o = rep.order
    assert (o.filled, o.rate, o.removed, o.offered) == (3, 0, 2, 5)
    assert_book(ex, asks=[(103, 9)])
    check_invariants(ex)


def test_ioc_with_nothing_to_match_is_cancelled_without_trades_and_never_rests():
    ex = make_book(asks=[(105, 2)])
    rep = ex.submit(1, "t", "taker", "buy", 0, 100, 5, tif="ioc")
    assert rep.status is Status.CANCELLED and rep.trades == []
    assert rep.order.removed == 5
    assert_book(ex, asks=[(105, 2)])


def test_ioc_that_can_fill_completely_ends_filled():
    ex = make_book(bids=[(100, 5)])
    rep = ex.submit(1, "t", "taker", "sell", 0, 100, 5, tif="ioc")
    assert rep.status is Status.FILLED and rep.order.removed == 0
    assert_book(ex)


# -- fok ---------------------------------------------------------------------------------------


def test_fok_that_can_fill_in_full_sweeps_levels_and_ends_filled():
    ex = make_book(asks=[(100, 2), (101, 3), (102, 1)])
    rep = ex.submit(1, "t", "taker", "buy", 0, 102, 6, tif="fok")
    assert rep.status is Status.FILLED
    assert trade_rows(rep.trades) == [
        (100, 2, "t", "a1"),
        (101, 3, "t", "a2"),
        (102, 1, "t", "a3"),
    ]
    assert_book(ex)


def test_fok_short_by_one_lot_is_killed_and_nothing_changes():
    ex = make_book(bids=[(90, 1)], asks=[(100, 2), (101, 3)])
    before = state_digest(ex)
    rep = ex.submit(1, "t", "taker", "buy", 0, 101, 6, tif="fok")
    assert rep.status is Status.KILLED and rep.trades == [] and rep.self_trade_cancelled == []
    o = ex.orders["t"]
    assert (o.status, o.filled, o.rate, o.removed, o.offered) == (Status.KILLED, 0, 0, 6, 6)
    after = state_digest(ex)
    # only the killed order's own record differs (and the clock moved)
    assert after[2] == before[2]
    assert_book(ex, bids=[(90, 1)], asks=[(100, 2), (101, 3)])
    check_invariants(ex)


def test_fok_is_killed_when_the_volume_exists_only_beyond_its_limit():
    ex = make_book(asks=[(100, 2), (102, 10)])
    rep = ex.submit(1, "t", "taker", "buy", 0, 101, 3, tif="fok")
    assert rep.status is Status.KILLED
    assert_book(ex, asks=[(100, 2), (102, 10)])


def test_fok_sell_fills_exactly_the_volume_at_or_above_its_limit():
    ex = make_book(bids=[(101, 2), (100, 2), (99, 5)])
    rep = ex.submit(1, "t", "taker", "sell", 0, 100, 4, tif="fok")
    assert rep.status is Status.FILLED
    assert_book(ex, bids=[(99, 5)])


def test_fok_counts_only_other_owners_volume_and_a_kill_cancels_nothing():
    # 5 lots at 100, but 3 of them are the fok owner's own: only 2 count
    ex = make_book(asks=[(100, 2, "other"), (100, 3, "me")])
    rep = ex.submit(1, "t", "me", "buy", 0, 100, 4, tif="fok")
    assert rep.status is Status.KILLED and rep.self_trade_cancelled == []
    assert ex.orders["a2"].status is Status.RESTING
    assert queue(ex, 0, Side.SELL, 100) == [("a1", 2), ("a2", 3)]


def test_fok_that_fills_cancels_the_own_resting_orders_it_reaches():
    ex = make_book(asks=[(100, 3, "me"), (100, 2, "other"), (101, 2, "other2")])
    rep = ex.submit(1, "t", "me", "buy", 0, 101, 4, tif="fok")
    assert rep.status is Status.FILLED
    assert trade_rows(rep.trades) == [(100, 2, "t", "a2"), (101, 2, "t", "a3")]
    assert [o.order_id for o in rep.self_trade_cancelled] == ["a1"]
    assert ex.orders["a1"].reason == "self_trade"
    check_invariants(ex)


@pytest.mark.parametrize("tif", ["gtc", "ioc", "fok"])
def test_every_tif_trades_at_resting_prices_in_priority_order(tif):
    ex = make_book(asks=[(101, 1), (100, 1), (100, 1)])
    rep = ex.submit(1, "t", "taker", "buy", 0, 101, 3, tif=tif)
    assert trade_rows(rep.trades) == [
        (100, 1, "t", "a2"),
        (100, 1, "t", "a3"),
        (101, 1, "t", "a1"),
    ]
    assert rep.status is Status.FILLED
