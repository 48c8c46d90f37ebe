"""SPEC §2: the LOB-3D snapshot — best quotes, top-k depth, last price, VWAP, volume per slot."""

import numpy as np
import pytest

from rex_env.exchange import LOB3D, Exchange

from .helpers import make_book

NAN = np.nan


def two_slot_exchange() -> Exchange:
    ex = make_book(bids=[(99, 2), (97, 1), (98, 4)], asks=[(101, 3), (104, 1)], slot=0)
    ex.submit(0, "x", "s", "sell", 1, 100, 5)
    ex.submit(1, "t1", "b", "buy", 1, 100, 2)  # trade 2 @ 100
    ex.submit(2, "y", "s2", "sell", 1, 102, 3)
    ex.submit(3, "t2", "b", "buy", 1, 102, 4)  # trades 3 @ 100, 1 @ 102
    return ex


def test_top_k_depth_per_side_best_first_with_nan_prices_and_zero_depth_beyond():
    snap = two_slot_exchange().lob3d([0], k=4)
    np.testing.assert_array_equal(snap.bid_price[0], [99, 98, 97, NAN])
    np.testing.assert_array_equal(snap.bid_depth[0], [2, 4, 1, 0])
    np.testing.assert_array_equal(snap.ask_price[0], [101, 104, NAN, NAN])
    np.testing.assert_array_equal(snap.ask_depth[0], [3, 1, 0, 0])


def test_k_smaller_than_the_number_of_levels_keeps_only_the_best_k():
    snap = two_slot_exchange().lob3d([0], k=2)
    assert snap.bid_price.shape == (1, 2) and snap.k == 2
    np.testing.assert_array_equal(snap.bid_price[0], [99, 98])
    np.testing.assert_array_equal(snap.bid_depth[0], [2, 4])


def test_best_quotes_spread_and_mid_match_the_book():
    ex = two_slot_exchange()
    snap = ex.lob3d([0, 1], k=3)
    np.testing.assert_array_equal(snap.best_bid, [99, NAN])
    np.testing.assert_array_equal(snap.best_ask, [101, 102])
    assert snap.spread[0] == 2 and snap.mid[0] == 100
    assert np.isnan(snap.spread[1]) and np.isnan(snap.mid[1])


def test_empty_sides_and_untraded_slots_are_nan():
    ex = Exchange(auto_open=True)
    ex.submit(0, "x", "a", "buy", 0, 100, 1)
    snap = ex.lob3d([0], k=2)
    assert snap.best_bid[0] == 100
    assert np.isnan(snap.best_ask[0]) and np.isnan(snap.ask_price[0]).all()
    np.testing.assert_array_equal(snap.ask_depth[0], [0, 0])
    assert np.isnan(snap.last_price[0]) and np.isnan(snap.vwap[0])
    assert snap.volume[0] == 0 and snap.n_trades[0] == 0


def test_vwap_last_price_and_volume_summarise_the_slots_trades():
    snap = two_slot_exchange().lob3d([1], k=2)
    # trades: 2 @ 100, 3 @ 100, 1 @ 102
    assert snap.last_price[0] == 102
    assert snap.volume[0] == 6 and snap.n_trades[0] == 3
    assert snap.vwap[0] == pytest.approx((100 * 5 + 102 * 1) / 6)
    np.testing.assert_array_equal(snap.ask_price[0], [102, NAN])
    np.testing.assert_array_equal(snap.ask_depth[0], [2, 0])


def test_rows_follow_the_requested_slots_and_slots_without_a_book_are_empty():
    ex = two_slot_exchange()
    snap = ex.lob3d([1, 7, 0], k=2)
    np.testing.assert_array_equal(snap.slots, [1, 7, 0])
    assert snap.best_bid[2] == 99 and snap.best_ask[0] == 102
    assert np.isnan(snap.best_bid[1]) and np.isnan(snap.best_ask[1])
    assert snap.volume[1] == 0


def test_phase_codes_pending_call_continuous_closed():
    ex = Exchange(auto_open=False, n_slots=4)
    ex.open_auction(1, 0)
    ex.open_continuous(2, 0)
    ex.open_continuous(3, 0)
    ex.close(3, 0)
    np.testing.assert_array_equal(ex.lob3d(range(4), k=1).phase, [0, 1, 2, 3])


def test_phase_code_agrees_with_the_exchange_for_an_untouched_auto_open_slot():
    # in replay every non-negative slot trades continuously from time 0 (SPEC §7)
    ex = Exchange(auto_open=True)
    assert str(ex.phase(5)) == "continuous"
    assert ex.lob3d([5], k=1).phase[0] == 2


def test_closed_slot_shows_no_quotes_but_keeps_its_trade_statistics():
    ex = two_slot_exchange()
    ex.close(1, 5)
    snap = ex.lob3d([1], k=2)
    assert snap.phase[0] == 3
    assert np.isnan(snap.best_bid[0]) and np.isnan(snap.best_ask[0])
    assert snap.last_price[0] == 102 and snap.volume[0] == 6


def test_reusing_the_out_buffer_gives_the_same_snapshot_as_a_fresh_one():
    ex = two_slot_exchange()
    slots = [0, 1, 2]
    buf = ex.lob3d(slots, k=3)
    # change everything: trades, cancels, a closed slot, a new slot with a book
    ex.submit(4, "t3", "z", "sell", 0, 97, 7)
    ex.cancel(4, "a2", "asker")
    ex.close(1, 5)
    ex.submit(5, "n", "z", "buy", 2, 50, 1)
    again = ex.lob3d(slots, k=3, out=buf)
    fresh = ex.lob3d(slots, k=3)
    assert again is buf
    for name in LOB3D.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(again, name), getattr(fresh, name), err_msg=name)


def test_reused_buffer_is_cleared_where_the_book_emptied():
    ex = make_book(bids=[(99, 2), (98, 1)], asks=[(101, 1)])
    buf = ex.lob3d([0], k=2)
    ex.submit(1, "t", "x", "sell", 0, 98, 3)  # takes both bid levels
    snap = ex.lob3d([0], k=2, out=buf)
    assert np.isnan(snap.best_bid[0]) and np.isnan(snap.bid_price[0]).all()
    np.testing.assert_array_equal(snap.bid_depth[0], [0, 0])
    assert snap.last_price[0] == 98


def test_a_buffer_of_the_wrong_shape_is_replaced_by_a_fresh_one():
    ex = two_slot_exchange()
    buf = ex.lob3d([0], k=2)
    snap = ex.lob3d([0, 1], k=2, out=buf)
    assert snap is not buf and snap.best_bid.shape == (2,)
    snap3 = ex.lob3d([0, 1], k=3, out=snap)
    assert snap3 is not snap and snap3.k == 3


def test_k_must_be_positive():
    with pytest.raises(ValueError, match="k must be"):
        Exchange(auto_open=True).lob3d([0], k=0)


def test_snapshot_arrays_are_not_views_of_the_book():
    ex = make_book(bids=[(99, 2)])
    snap = ex.lob3d([0], k=1)
    ex.submit(1, "x", "z", "buy", 0, 100, 1)
    assert snap.best_bid[0] == 99
