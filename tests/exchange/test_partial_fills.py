"""SPEC §4: partial fills are normal; open and filled rates add up."""

from rex_env.exchange import Side, Status

from .helpers import assert_book, check_invariants, make_book, queue, trade_rows


def test_incoming_larger_than_resting_fills_it_and_rests_the_remainder():
    ex = make_book(asks=[(100, 3)])
    rep = ex.submit(1, "t", "taker", "buy", 0, 100, 5)
    assert trade_rows(rep.trades) == [(100, 3, "t", "a1")]
    assert rep.status is Status.RESTING
    assert (rep.order.filled, rep.order.rate) == (3, 2)
    assert ex.orders["a1"].status is Status.FILLED
    assert_book(ex, bids=[(100, 2)])
    check_invariants(ex)


def test_incoming_smaller_than_resting_leaves_it_partially_filled_and_still_resting():
    ex = make_book(asks=[(100, 5)])
    rep = ex.submit(1, "t", "taker", "buy", 0, 100, 2)
    assert rep.status is Status.FILLED and (rep.order.filled, rep.order.rate) == (2, 0)
    a1 = ex.orders["a1"]
    assert (a1.status, a1.filled, a1.rate) == (Status.RESTING, 2, 3)
    assert_book(ex, asks=[(100, 3)])
    check_invariants(ex)


def test_equal_rates_fill_both_orders_and_remove_the_level():
    ex = make_book(bids=[(99, 1)], asks=[(100, 4)])
    rep = ex.submit(1, "t", "taker", "buy", 0, 100, 4)
    assert rep.status is Status.FILLED and ex.orders["a1"].status is Status.FILLED
    assert_book(ex, bids=[(99, 1)], asks=[])
    assert ex.books[0].best_ask() is None


def test_partially_filled_resting_order_is_filled_by_later_orders_until_status_filled():
    ex = make_book(asks=[(100, 5)])
    for i, rate in enumerate([1, 2], 1):
        ex.submit(i, f"t{i}", "taker", "buy", 0, 100, rate)
        assert ex.orders["a1"].status is Status.RESTING
    ex.submit(3, "t3", "taker", "buy", 0, 100, 2)
    a1 = ex.orders["a1"]
    assert (a1.status, a1.filled, a1.rate, a1.offered) == (Status.FILLED, 5, 0, 5)
    assert_book(ex)


def test_order_filled_against_several_counterparties_sums_its_trades():
    ex = make_book(asks=[(100, 1, "p"), (101, 2, "q"), (102, 3, "r")])
    rep = ex.submit(1, "t", "taker", "buy", 0, 102, 5)
    assert [t.rate for t in rep.trades] == [1, 2, 2]
    assert [t.seller for t in rep.trades] == ["p", "q", "r"]
    assert rep.order.filled == sum(t.rate for t in rep.trades) == 5
    assert ex.orders["a3"].rate == 1


def test_level_volume_tracks_partial_fills_of_its_orders():
    ex = make_book(asks=[(100, 2), (100, 3), (100, 4)])
    ex.submit(1, "t", "taker", "buy", 0, 100, 4)
    assert queue(ex, 0, Side.SELL, 100) == [("a2", 1), ("a3", 4)]
    assert_book(ex, asks=[(100, 5)])


def test_remainder_of_a_partially_filled_incoming_order_queues_ahead_of_later_arrivals():
    ex = make_book(asks=[(100, 2)])
    rep = ex.submit(1, "t", "taker", "buy", 0, 101, 3)
    assert trade_rows(rep.trades) == [(100, 2, "t", "a1")]
    ex.submit(2, "late", "other", "buy", 0, 101, 1)
    assert queue(ex, 0, Side.BUY, 101) == [("t", 1), ("late", 1)]
    fill = ex.submit(3, "s", "seller", "sell", 0, 101, 1)
    assert trade_rows(fill.trades) == [(101, 1, "t", "s")]
