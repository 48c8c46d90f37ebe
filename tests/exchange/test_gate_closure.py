"""SPEC §3/§5/§7: gate closure — resting orders expire, positions are final, the slot is shut."""

import pytest

from rex_env.exchange import Exchange, Phase, Reason, Status

from .helpers import assert_book, check_invariants, make_book, state_digest


def traded_book() -> Exchange:
    """Slot 0 with a trade (buyer ``t`` +2, seller ``asker`` -2) and orders still resting."""
    ex = make_book(bids=[(98, 1), (99, 2)], asks=[(100, 5), (101, 1)])
    ex.submit(1, "t", "taker", "buy", 0, 100, 2)
    ex.submit(1, "other", "z", "sell", 1, 100, 1)
    return ex


def test_close_expires_every_resting_order_of_the_slot():
    ex = traded_book()
    rep = ex.close(0, 5)
    assert rep.ok and rep.trades == []
    assert [o.order_id for o in rep.expired] == ["b1", "b2", "a1", "a2"]  # acceptance order
    for oid, open_rate in (("b1", 1), ("b2", 2), ("a1", 3), ("a2", 1)):
        o = ex.orders[oid]
        assert (o.status, o.rate, o.removed) == (Status.EXPIRED, 0, open_rate)
    assert ex.orders["a1"].filled == 2
    assert ex.phase(0) is Phase.CLOSED
    assert_book(ex, 0)
    check_invariants(ex)


def test_close_leaves_other_slots_untouched():
    ex = traded_book()
    ex.close(0, 5)
    assert ex.orders["other"].status is Status.RESTING
    assert ex.phase(1) is Phase.CONTINUOUS
    assert_book(ex, 1, asks=[(100, 1)])


def test_positions_and_cash_are_final_after_gate_closure():
    ex = traded_book()
    ex.close(0, 5)
    final = (ex.position("taker", 0), ex.position("asker", 0), ex.notional("taker", 0))
    assert final == (2, -2, -200)
    assert ex.submit(6, "late", "taker", "sell", 0, 1, 2).reason is Reason.SLOT_CLOSED
    assert ex.cancel(6, "a1", "asker").reason is Reason.UNKNOWN_ORDER
    assert ex.modify(6, "b1", "bidder", price=100).reason is Reason.UNKNOWN_ORDER
    assert (ex.position("taker", 0), ex.position("asker", 0), ex.notional("taker", 0)) == final
    check_invariants(ex)


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"kind": "market", "price": None}, {"tif": "ioc"}, {"tif": "fok"}],
    ids=["limit", "market", "ioc", "fok"],
)
def test_any_submission_to_a_closed_slot_is_slot_closed_and_changes_nothing(kwargs):
    ex = traded_book()
    ex.close(0, 5)
    before = state_digest(ex)
    args = {"price": 100} | kwargs
    rep = ex.submit(6, "late", "x", "buy", 0, args.pop("price"), 1, **args)
    assert (rep.status, rep.reason) == (Status.REJECTED, Reason.SLOT_CLOSED)
    assert state_digest(ex) == before


def test_block_with_a_closed_leg_is_slot_closed():
    ex = traded_book()
    ex.close(0, 5)
    assert ex.submit(6, "blk", "x", "buy", 0, 100, 1, last_slot=1).reason is Reason.SLOT_CLOSED
    assert ex.orders["other"].status is Status.RESTING


def test_closing_a_closed_slot_is_slot_closed():
    ex = traded_book()
    ex.close(0, 5)
    assert ex.close(0, 6).reason is Reason.SLOT_CLOSED


def test_close_going_back_in_time_is_bad_field_and_expires_nothing():
    ex = traded_book()
    rep = ex.close(0, 0)
    assert rep.reason is Reason.BAD_FIELD
    assert ex.orders["a1"].status is Status.RESTING


def test_close_of_an_untouched_slot_shuts_it():
    ex = Exchange(auto_open=True)
    assert ex.close(3, 0).expired == []
    assert ex.submit(0, "x", "a", "buy", 3, 100, 1).reason is Reason.SLOT_CLOSED


def test_close_of_a_pending_slot_shuts_it():
    ex = Exchange(auto_open=False, n_slots=2)
    assert ex.close(1, 0).ok
    assert ex.phase(1) is Phase.CLOSED
    assert ex.open_auction(1, 0).reason is Reason.SLOT_CLOSED


def test_expired_orders_keep_their_ids_in_use():
    ex = traded_book()
    ex.close(0, 5)
    assert ex.submit(6, "b1", "bidder", "buy", 1, 90, 1).reason is Reason.DUPLICATE_ID
