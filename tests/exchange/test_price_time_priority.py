"""SPEC §4 price-time priority: better price first, then earlier; trades at the resting price."""

from rex_env.exchange import Side, Status

from .helpers import assert_book, check_invariants, make_book, queue, trade_rows


def test_better_priced_ask_trades_first_even_if_it_arrived_later():
    ex = make_book(asks=[(101, 5), (100, 5)])  # a1 @101 first in time, a2 @100 better
    rep = ex.submit(1, "t", "taker", "buy", 0, 101, 3)
    assert trade_rows(rep.trades) == [(100, 3, "t", "a2")]
    assert_book(ex, asks=[(100, 2), (101, 5)])
    check_invariants(ex)


def test_better_priced_bid_trades_first_even_if_it_arrived_later():
    ex = make_book(bids=[(99, 5), (100, 5)])
    rep = ex.submit(1, "t", "taker", "sell", 0, 99, 3)
    assert trade_rows(rep.trades) == [(100, 3, "b2", "t")]
    assert_book(ex, bids=[(100, 2), (99, 5)])


def test_at_equal_price_the_earlier_accepted_order_trades_first():
    ex = make_book(asks=[(100, 2, "x"), (100, 2, "y"), (100, 2, "z")])
    rep = ex.submit(1, "t", "taker", "buy", 0, 100, 3)
    assert trade_rows(rep.trades) == [(100, 2, "t", "a1"), (100, 1, "t", "a2")]
    assert queue(ex, 0, Side.SELL, 100) == [("a2", 1), ("a3", 2)]


def test_at_equal_price_earlier_bid_is_hit_first():
    ex = make_book(bids=[(100, 2, "x"), (100, 2, "y")])
    rep = ex.submit(1, "t", "taker", "sell", 0, 100, 3)
    assert trade_rows(rep.trades) == [(100, 2, "b1", "t"), (100, 1, "b2", "t")]


def test_trade_executes_at_resting_ask_price_not_at_incoming_buy_limit():
    ex = make_book(asks=[(100, 5)])
    rep = ex.submit(1, "t", "taker", "buy", 0, 105, 2)
    assert [t.price for t in rep.trades] == [100]


def test_trade_executes_at_resting_bid_price_not_at_incoming_sell_limit():
    ex = make_book(bids=[(100, 5)])
    rep = ex.submit(1, "t", "taker", "sell", 0, 90, 2)
    assert [t.price for t in rep.trades] == [100]


def test_incoming_buy_sweeps_levels_one_trade_per_resting_order_at_resting_price():
    ex = make_book(asks=[(100, 2), (100, 3), (101, 4), (102, 5)])
    rep = ex.submit(1, "t", "taker", "buy", 0, 101, 8)
    assert trade_rows(rep.trades) == [
        (100, 2, "t", "a1"),
        (100, 3, "t", "a2"),
        (101, 3, "t", "a3"),
    ]
    assert rep.status is Status.FILLED
    assert_book(ex, asks=[(101, 1), (102, 5)])
    check_invariants(ex)


def test_incoming_sell_sweeps_bid_levels_from_the_highest_down():
    ex = make_book(bids=[(98, 4), (100, 1), (99, 2), (100, 1)])
    rep = ex.submit(1, "t", "taker", "sell", 0, 98, 5)
    assert trade_rows(rep.trades) == [
        (100, 1, "b2", "t"),
        (100, 1, "b4", "t"),
        (99, 2, "b3", "t"),
        (98, 1, "b1", "t"),
    ]
    assert_book(ex, bids=[(98, 3)])


def test_sweep_stops_at_the_limit_and_the_remainder_rests_as_new_best_bid():
    ex = make_book(asks=[(100, 2), (101, 2), (102, 2)])
    rep = ex.submit(1, "t", "taker", "buy", 0, 101, 6)
    assert trade_rows(rep.trades) == [(100, 2, "t", "a1"), (101, 2, "t", "a2")]
    assert rep.status is Status.RESTING and rep.order.rate == 2 and rep.order.filled == 4
    assert_book(ex, bids=[(101, 2)], asks=[(102, 2)])
    check_invariants(ex)


def test_non_crossing_order_rests_without_trading():
    ex = make_book(asks=[(100, 2)])
    rep = ex.submit(1, "t", "taker", "buy", 0, 99, 2)
    assert rep.trades == [] and rep.status is Status.RESTING
    assert_book(ex, bids=[(99, 2)], asks=[(100, 2)])


def test_partially_filled_resting_order_keeps_its_place_at_the_front_of_the_queue():
    ex = make_book(asks=[(100, 5), (100, 5)])
    ex.submit(1, "t1", "taker", "buy", 0, 100, 2)
    rep = ex.submit(2, "t2", "taker", "buy", 0, 100, 4)
    assert trade_rows(rep.trades) == [(100, 3, "t2", "a1"), (100, 1, "t2", "a2")]


def test_new_order_at_an_existing_price_joins_the_back_of_the_queue():
    ex = make_book(bids=[(100, 1)])
    ex.submit(1, "b2", "late", "buy", 0, 100, 1)
    ex.submit(2, "b3", "later", "buy", 0, 101, 1)
    assert queue(ex, 0, Side.BUY, 100) == [("b1", 1), ("b2", 1)]
    rep = ex.submit(3, "s", "taker", "sell", 0, 100, 3)
    assert [t.buy_order_id for t in rep.trades] == ["b3", "b1", "b2"]


def test_events_at_the_same_second_are_processed_in_arrival_order():
    ex = make_book(asks=[(100, 1)])
    first = ex.submit(5, "first", "x", "buy", 0, 100, 1)
    second = ex.submit(5, "second", "y", "buy", 0, 100, 1)
    assert first.status is Status.FILLED and second.status is Status.RESTING


def test_trades_carry_time_slot_parties_and_aggressor_side():
    ex = make_book(asks=[(100, 1, "s")], slot=3)
    rep = ex.submit(7, "t", "b", "buy", 3, 100, 1)
    (t,) = rep.trades
    assert (t.time, t.slot, t.buyer, t.seller, t.aggressor) == (7, 3, "b", "s", "buy")
    ex2 = make_book(bids=[(100, 1, "b")])
    (t2,) = ex2.submit(9, "t", "s", "sell", 0, 100, 1).trades
    assert (t2.time, t2.buyer, t2.seller, t2.aggressor) == (9, "b", "s", "sell")


def test_trade_ids_count_up_from_one_in_execution_order_across_events_and_slots():
    ex = make_book(asks=[(100, 1), (101, 1)])
    ex.submit(0, "z", "asker", "sell", 1, 100, 1)
    r1 = ex.submit(1, "t1", "taker", "buy", 0, 101, 2)
    r2 = ex.submit(2, "t2", "taker", "buy", 1, 100, 1)
    assert [t.trade_id for t in r1.trades + r2.trades] == [1, 2, 3]
    assert ex.keep_trades() == r1.trades + r2.trades


def test_levels_are_reported_best_first_on_both_sides():
    ex = make_book(bids=[(97, 1), (99, 2), (98, 3)], asks=[(103, 1), (101, 2), (102, 3)])
    assert_book(ex, bids=[(99, 2), (98, 3), (97, 1)], asks=[(101, 2), (102, 3), (103, 1)])
    book = ex.books[0]
    assert (book.best_bid(), book.best_ask()) == (99, 101)


def test_books_of_different_slots_are_independent():
    ex = make_book(asks=[(100, 1)], slot=0)
    rep = ex.submit(1, "t", "taker", "buy", 1, 100, 1)
    assert rep.trades == [] and rep.status is Status.RESTING
    assert_book(ex, 0, asks=[(100, 1)])
    assert_book(ex, 1, bids=[(100, 1)])
