"""SPEC §1/§3/§5: every order is accounted for; positions and trade cash."""

from collections import Counter

import pytest

from rex_env.exchange import Exchange, Grid, Reason, Status

from .helpers import check_invariants, make_book


def every_status_world() -> tuple[Exchange, dict[str, Status]]:
    """One order ending in each status, with the report status of each submission."""
    ex = make_book(asks=[(100, 2, "s")], slot=0)
    ex.submit(0, "own", "me", "sell", 0, 101, 1)
    seen: dict[str, Status] = {}

    def sub(oid, *args, **kw):
        seen[oid] = ex.submit(*args[:1], oid, *args[1:], **kw).status

    sub("filled", 1, "b", "buy", 0, 100, 1)
    sub("resting", 1, "b", "buy", 0, 90, 1)
    sub("by_owner", 1, "b", "buy", 0, 91, 1)
    ex.cancel(2, "by_owner", "b")
    sub("ioc", 2, "b", "buy", 0, 100, 3, tif="ioc")  # fills 1, cancels 2
    sub("stp", 3, "me", "buy", 0, 101, 1)  # cancels "own" (self_trade), rests
    sub("killed", 3, "b", "buy", 0, 100, 1, tif="fok")
    sub("rejected", 3, "b", "buy", 0, 100, 0)
    sub("expiring", 3, "c", "sell", 1, 100, 1)
    ex.close(1, 4)
    return ex, seen


def test_each_submission_ends_in_exactly_one_of_the_spec_statuses():
    ex, seen = every_status_world()
    final = {oid: o.status for oid, o in ex.orders.items()}
    assert final == {
        "a1": Status.FILLED,
        "own": Status.CANCELLED,
        "filled": Status.FILLED,
        "resting": Status.RESTING,
        "by_owner": Status.CANCELLED,
        "ioc": Status.CANCELLED,
        "stp": Status.RESTING,
        "killed": Status.KILLED,
        "expiring": Status.EXPIRED,
    }
    assert seen["rejected"] is Status.REJECTED and "rejected" not in ex.orders
    assert Counter(final.values())[Status.RESTING] == 2
    check_invariants(ex)


def test_cancellation_reasons_tell_self_trade_from_owner_and_ioc_cancels():
    ex, _ = every_status_world()
    assert ex.orders["own"].reason is Reason.SELF_TRADE
    assert ex.orders["by_owner"].reason is None
    assert ex.orders["ioc"].reason is None
    assert all(o.reason is None for oid, o in ex.orders.items() if oid != "own")


def test_every_lot_offered_is_filled_resting_or_removed():
    ex, _ = every_status_world()
    rows = {oid: (o.offered, o.filled, o.rate, o.removed) for oid, o in ex.orders.items()}
    assert rows == {
        "a1": (2, 2, 0, 0),
        "own": (1, 0, 0, 1),
        "filled": (1, 1, 0, 0),
        "resting": (1, 0, 1, 0),
        "by_owner": (1, 0, 0, 1),
        "ioc": (3, 1, 0, 2),
        "stp": (1, 0, 1, 0),
        "killed": (1, 0, 0, 1),
        "expiring": (1, 0, 0, 1),
    }


def test_modifies_keep_the_balance_removing_on_decrease_offering_on_increase():
    ex = make_book(bids=[(100, 5)])
    o = ex.orders["b1"]
    ex.submit(1, "t", "x", "sell", 0, 100, 1)
    ex.modify(2, "b1", "bidder", rate=2)  # removes 2
    ex.modify(3, "b1", "bidder", rate=6)  # offers 4 more
    ex.modify(4, "b1", "bidder", price=99, rate=3)  # removes 3
    assert (o.offered, o.filled, o.rate, o.removed) == (9, 1, 3, 5)
    check_invariants(ex)


def test_positions_are_signed_bought_positive_sold_negative_and_sum_to_zero():
    ex = make_book(asks=[(100, 3, "s1"), (101, 2, "s2")])
    ex.submit(1, "t", "b", "buy", 0, 101, 4)
    ex.submit(2, "t2", "s1", "buy", 0, 101, 1)
    book = ex.books[0]
    assert book.positions == {"b": 4, "s1": -2, "s2": -2}
    assert (ex.position("b", 0), ex.position("s1", 0), ex.position("nobody", 0)) == (4, -2, 0)
    assert ex.position("b", 7) == 0
    assert sum(book.positions.values()) == 0
    check_invariants(ex)


def test_notional_is_price_times_rate_received_by_the_seller_paid_by_the_buyer():
    ex = make_book(asks=[(100, 3, "s1"), (101, 2, "s2")])
    ex.submit(1, "t", "b", "buy", 0, 101, 4)
    assert ex.notional("b", 0) == -(100 * 3 + 101 * 1)
    assert ex.notional("s1", 0) == 300 and ex.notional("s2", 0) == 101
    assert sum(ex.books[0].notional.values()) == 0


def test_cash_in_currency_on_the_default_grid():
    # 51.0 currency/MWh * 2.5 kW * 0.25 h / 1000 = 0.031875
    g = Grid()
    ex = make_book(asks=[(g.price_ticks("51.0"), g.rate_lots("2.5"), "s")])
    ex.submit(1, "t", "b", "buy", 0, g.price_ticks("51.0"), g.rate_lots("2.5"))
    assert ex.cash("b", 0) == pytest.approx(-0.031875, rel=1e-12)
    assert ex.cash("s", 0) == pytest.approx(0.031875, rel=1e-12)
    assert g.cash(510 * 25) == pytest.approx(0.031875, rel=1e-12)


@pytest.mark.parametrize(
    ("grid", "price", "rate", "cash"),
    [
        # price * kW * slot_len_h / 1000
        (Grid(tick="0.01", lot="1", slot_len=3600, price_min=-500, price_max=3000),
         "45.67", "3", 45.67 * 3 * 1.0 / 1000),
        (Grid(tick="0.25", lot="0.5", slot_len=1800), "10.25", "1.5", 10.25 * 1.5 * 0.5 / 1000),
        (Grid(tick="1", lot="0.001", slot_len=300), "-20", "0.125", -20 * 0.125 / 12 / 1000),
    ],
    ids=["cent-tick-kw-lot-1h", "quarter-tick-30min", "negative-price-5min"],
)
def test_cash_in_currency_on_a_non_default_grid(grid, price, rate, cash):
    ex = make_book(asks=[(grid.price_ticks(price), grid.rate_lots(rate), "s")], grid=grid)
    rep = ex.submit(1, "t", "b", "buy", 0, grid.price_ticks(price), grid.rate_lots(rate))
    assert rep.status is Status.FILLED
    assert ex.cash("b", 0) == pytest.approx(-cash, rel=1e-12)
    assert ex.cash("s", 0) == pytest.approx(cash, rel=1e-12)


def test_cash_sums_to_zero_over_many_trades():
    ex = make_book(asks=[(100 + i, 1 + i % 3, f"s{i}") for i in range(10)])
    ex.submit(1, "t", "b", "buy", 0, 120, 15)
    ex.submit(2, "t2", "c", "sell", 0, 95, 10)
    assert sum(ex.cash(o, 0) for o in ex.owners()) == pytest.approx(0.0, abs=1e-12)
    check_invariants(ex)


def test_owners_lists_everyone_with_a_position():
    ex = make_book(asks=[(100, 1, "s")])
    ex.submit(1, "t", "b", "buy", 0, 100, 1)
    ex.submit(1, "r", "c", "buy", 1, 100, 1)
    assert ex.owners() == {"b", "s"}
