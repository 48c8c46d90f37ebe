"""SPEC §4/§5: market orders sweep to the price bound, never rest, carry no price."""

import pytest

from rex_env.exchange import Grid, Status

from .helpers import assert_book, check_invariants, make_book, trade_rows

MAX = Grid().max_ticks  # 99990 ticks = 9999.0 currency/MWh
MIN = Grid().min_ticks


def test_market_buy_sweeps_every_level_up_to_the_price_bound_at_resting_prices():
    ex = make_book(asks=[(100, 1), (5000, 1), (MAX, 1)])
    rep = ex.submit(1, "t", "taker", "buy", 0, None, 3, kind="market")
    assert trade_rows(rep.trades) == [(100, 1, "t", "a1"), (5000, 1, "t", "a2"),
                                      (MAX, 1, "t", "a3")]
    assert rep.status is Status.FILLED
    assert_book(ex)


def test_market_sell_sweeps_bids_down_to_the_lower_price_bound():
    ex = make_book(bids=[(MIN, 2), (0, 1), (-50, 1)])
    rep = ex.submit(1, "t", "taker", "sell", 0, None, 4, kind="market")
    assert [t.price for t in rep.trades] == [0, -50, MIN]
    assert [t.rate for t in rep.trades] == [1, 1, 2]
    assert rep.status is Status.FILLED


@pytest.mark.parametrize("tif", ["gtc", "ioc"])
def test_market_remainder_is_cancelled_and_never_rests(tif):
    ex = make_book(asks=[(100, 2)])
    rep = ex.submit(1, "t", "taker", "buy", 0, None, 5, kind="market", tif=tif)
    assert trade_rows(rep.trades) == [(100, 2, "t", "a1")]
    assert rep.status is Status.CANCELLED
    o = rep.order
    assert (o.filled, o.rate, o.removed, o.offered) == (2, 0, 3, 5)
    assert_book(ex)
    check_invariants(ex)


@pytest.mark.parametrize("tif", ["gtc", "ioc", "fok"])
def test_market_order_on_an_empty_side_trades_nothing_and_does_not_rest(tif):
    ex = make_book(bids=[(100, 2)])
    rep = ex.submit(1, "t", "taker", "buy", 0, None, 5, kind="market", tif=tif)
    assert rep.trades == []
    assert rep.status is (Status.KILLED if tif == "fok" else Status.CANCELLED)
    assert_book(ex, bids=[(100, 2)])


def test_market_fok_is_all_or_none_killed_when_the_book_is_too_thin():
    ex = make_book(asks=[(100, 2), (MAX, 2)])
    rep = ex.submit(1, "t", "taker", "buy", 0, None, 5, kind="market", tif="fok")
    assert rep.status is Status.KILLED and rep.trades == []
    assert_book(ex, asks=[(100, 2), (MAX, 2)])


def test_market_fok_fills_in_full_when_the_book_is_deep_enough():
    ex = make_book(asks=[(100, 2), (MAX, 3)])
    rep = ex.submit(1, "t", "taker", "buy", 0, None, 5, kind="market", tif="fok")
    assert rep.status is Status.FILLED
    assert trade_rows(rep.trades) == [(100, 2, "t", "a1"), (MAX, 3, "t", "a2")]


def test_market_fok_counts_only_other_owners_volume():
    ex = make_book(asks=[(100, 2, "me"), (101, 2, "other")])
    rep = ex.submit(1, "t", "me", "buy", 0, None, 3, kind="market", tif="fok")
    assert rep.status is Status.KILLED
    assert ex.orders["a1"].status is Status.RESTING


def test_market_order_applies_self_trade_prevention_and_goes_on_matching():
    ex = make_book(asks=[(100, 2, "me"), (101, 2, "other")])
    rep = ex.submit(1, "t", "me", "buy", 0, None, 2, kind="market")
    assert trade_rows(rep.trades) == [(101, 2, "t", "a2")]
    assert [o.order_id for o in rep.self_trade_cancelled] == ["a1"]
    assert rep.status is Status.FILLED


def test_market_order_record_has_no_price():
    ex = make_book(asks=[(100, 2)])
    rep = ex.submit(1, "t", "taker", "buy", 0, None, 1, kind="market")
    assert rep.order.price is None and rep.order.kind == "market"
