"""SPEC §4/§5: block orders — same rate and side in every slot of a range, all or none, now."""

import pytest

from rex_env.exchange import Exchange, Status

from .helpers import assert_book, check_invariants, make_book, state_digest, trade_rows


def three_slot_asks(rate_in_slot_2: int = 3, price_in_slot_2: int = 100) -> Exchange:
    """Asks of owner ``s`` in slots 0, 1, 2 (ids s0, s1, s2)."""
    ex = make_book()
    ex.submit(0, "s0", "s", "sell", 0, 100, 3)
    ex.submit(0, "s1", "s", "sell", 1, 101, 3)
    ex.submit(0, "s2", "s", "sell", 2, price_in_slot_2, rate_in_slot_2)
    return ex


def test_block_fills_every_leg_in_full_in_slot_order():
    ex = three_slot_asks()
    rep = ex.submit(1, "blk", "b", "buy", 0, 101, 2, last_slot=2)
    assert rep.status is Status.FILLED
    assert [(t.slot, t.price, t.rate, t.sell_order_id) for t in rep.trades] == [
        (0, 100, 2, "s0"),
        (1, 101, 2, "s1"),
        (2, 100, 2, "s2"),
    ]
    assert [t.trade_id for t in rep.trades] == [1, 2, 3]
    assert all(t.aggressor == "buy" and t.time == 1 for t in rep.trades)
    check_invariants(ex)


def test_block_filled_rate_is_the_per_slot_rate():
    ex = three_slot_asks()
    rep = ex.submit(1, "blk", "b", "buy", 0, 101, 2, last_slot=2)
    o = rep.order
    assert (o.filled, o.rate, o.offered, o.removed) == (2, 0, 2, 0)


def test_block_gives_the_same_position_in_every_slot_of_the_range():
    ex = three_slot_asks()
    ex.submit(1, "blk", "b", "buy", 0, 101, 2, last_slot=2)
    assert [ex.position("b", s) for s in range(3)] == [2, 2, 2]
    assert [ex.position("s", s) for s in range(3)] == [-2, -2, -2]


def test_block_is_killed_when_one_leg_lacks_volume_and_no_slot_changes():
    ex = three_slot_asks(rate_in_slot_2=1)
    before = state_digest(ex)
    rep = ex.submit(1, "blk", "b", "buy", 0, 101, 2, last_slot=2)
    assert rep.status is Status.KILLED and rep.trades == []
    o = ex.orders["blk"]
    assert (o.filled, o.rate, o.removed, o.offered) == (0, 0, 2, 2)
    assert state_digest(ex)[2] == before[2]  # every book exactly as before
    check_invariants(ex)


def test_block_is_killed_when_one_leg_is_fillable_only_beyond_the_limit():
    ex = three_slot_asks(price_in_slot_2=102)
    rep = ex.submit(1, "blk", "b", "buy", 0, 101, 2, last_slot=2)
    assert rep.status is Status.KILLED
    assert_book(ex, 0, asks=[(100, 3)])
    assert_book(ex, 2, asks=[(102, 3)])


def test_block_leg_on_an_empty_slot_kills_the_block():
    ex = three_slot_asks()
    rep = ex.submit(1, "blk", "b", "buy", 0, 101, 1, last_slot=3)
    assert rep.status is Status.KILLED
    assert_book(ex, 0, asks=[(100, 3)])


@pytest.mark.parametrize("tif", ["gtc", "ioc", "fok"])
def test_block_never_rests_whatever_its_tif(tif):
    ex = make_book()
    rep = ex.submit(1, "blk", "b", "buy", 0, 100, 1, tif=tif, last_slot=1)
    assert rep.status is Status.KILLED
    assert_book(ex, 0)
    assert_book(ex, 1)


@pytest.mark.parametrize("tif", ["gtc", "ioc", "fok"])
def test_block_is_all_or_none_whatever_its_tif(tif):
    ex = three_slot_asks(rate_in_slot_2=1)
    rep = ex.submit(1, "blk", "b", "buy", 0, 101, 2, tif=tif, last_slot=2)
    assert rep.status is Status.KILLED and rep.trades == []


def test_block_leg_sweeps_several_resting_orders_in_price_time_priority():
    ex = make_book(asks=[(100, 1), (99, 1)], slot=0)
    ex.submit(0, "x", "s2", "sell", 1, 100, 5)
    rep = ex.submit(1, "blk", "b", "buy", 0, 100, 2, last_slot=1)
    assert [(t.slot, t.price, t.rate, t.sell_order_id) for t in rep.trades] == [
        (0, 99, 1, "a2"),
        (0, 100, 1, "a1"),
        (1, 100, 2, "x"),
    ]
    assert_book(ex, 1, asks=[(100, 3)])


def test_block_may_be_a_market_order_and_sweeps_each_leg():
    ex = make_book(bids=[(100, 2), (50, 2)], slot=0)
    ex.submit(0, "y", "b2", "buy", 1, 70, 3)
    rep = ex.submit(1, "blk", "s", "sell", 0, None, 3, kind="market", last_slot=1)
    assert rep.status is Status.FILLED
    assert [(t.slot, t.price, t.rate) for t in rep.trades] == [(0, 100, 2), (0, 50, 1),
                                                               (1, 70, 3)]


def test_market_block_is_killed_if_any_leg_is_too_thin():
    ex = make_book(bids=[(100, 5)], slot=0)
    ex.submit(0, "y", "b2", "buy", 1, 70, 2)
    rep = ex.submit(1, "blk", "s", "sell", 0, None, 3, kind="market", last_slot=1)
    assert rep.status is Status.KILLED
    assert_book(ex, 0, bids=[(100, 5)])


def test_block_counts_only_other_owners_volume_and_a_kill_cancels_nothing():
    ex = make_book(asks=[(100, 2, "other"), (100, 2, "me")], slot=0)
    ex.submit(0, "x", "other", "sell", 1, 100, 5)
    rep = ex.submit(1, "blk", "me", "buy", 0, 100, 3, last_slot=1)
    assert rep.status is Status.KILLED and rep.self_trade_cancelled == []
    assert ex.orders["a2"].status is Status.RESTING
    assert_book(ex, 0, asks=[(100, 4)])


def test_filled_block_cancels_the_own_resting_orders_its_legs_reach():
    ex = make_book(asks=[(99, 1, "me"), (100, 2, "other")], slot=0)
    ex.submit(0, "x", "me", "sell", 1, 100, 1)
    ex.submit(0, "y", "other", "sell", 1, 100, 2)
    rep = ex.submit(1, "blk", "me", "buy", 0, 100, 2, last_slot=1)
    assert rep.status is Status.FILLED
    assert trade_rows(rep.trades) == [(100, 2, "blk", "a2"), (100, 2, "blk", "y")]
    assert [o.order_id for o in rep.self_trade_cancelled] == ["a1", "x"]
    check_invariants(ex)


def test_block_sell_fills_against_bids_in_every_slot():
    ex = make_book(bids=[(100, 2)], slot=1)
    ex.submit(0, "y", "b2", "buy", 2, 101, 2)
    rep = ex.submit(1, "blk", "s", "sell", 1, 100, 2, last_slot=2)
    assert rep.status is Status.FILLED
    assert [(t.slot, t.price, t.aggressor) for t in rep.trades] == [(1, 100, "sell"),
                                                                   (2, 101, "sell")]
    assert [ex.position("s", s) for s in (1, 2)] == [-2, -2]
