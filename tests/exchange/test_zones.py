"""Several zones coupled by transmission capacity: the named scenarios of README "Zones".

Every test runs on both engines (the conftest patches ``Exchange``; the zonal exchange is built
with ``engine=Exchange``). Prices are ticks, rates lots.
"""

from __future__ import annotations

from typing import Any

import pytest

from rex_env.exchange import Exchange, Reason, Status
from rex_env.exchange.zones import ZonalExchange

from .zone_helpers import check_zonal, zonal_digest


def make(caps: dict | None = None, zones: tuple[str, ...] = ("R", "T"), **kw: Any
         ) -> ZonalExchange:
    zx = ZonalExchange(list(zones), caps or {}, auto_open=True, engine=Exchange, **kw)
    zx.keep_trades()
    return zx


def flows(rep: Any) -> list[tuple]:
    return [(t.price, t.rate, t.zone, t.buy_zone, t.sell_zone) for t in rep.trades]


# -- rules 2-4: capacity limits, netting, accounting ----------------------------------------------
def test_match_limited_by_capacity() -> None:
    zx = make({("R", "T"): 5})
    assert zx.submit(0, "s1", "wind", "sell", 0, 300, 10, zone="R").status is Status.RESTING
    assert zx.submit(0, "s2", "gen", "sell", 0, 500, 10, zone="T").status is Status.RESTING
    rep = zx.submit(1, "b1", "home", "buy", 0, 600, 12, zone="T")
    # cheap rural energy first, but only 5 lots fit the line; the rest from the town seller
    assert flows(rep) == [(300, 5, "R", "T", "R"), (500, 7, "T", "T", "T")]
    assert rep.status is Status.FILLED and rep.order.filled == 12
    assert [t.buy_order_id for t in rep.trades] == ["b1", "b1"]
    assert zx.capacity_left("R", "T", 0) == 0
    assert zx.position("home", 0, "T") == 12 and zx.position("wind", 0, "R") == -5
    assert zx.net_import("T", 0) == 5 and zx.net_import("R", 0) == -5
    assert sum(zx.positions(0, "T").values()) == 5
    # the line is full: another town buyer at any price only sees the town book
    rep = zx.submit(2, "b2", "home2", "buy", 0, 9000, 4, zone="T")
    assert flows(rep) == [(500, 3, "T", "T", "T")] and rep.status is Status.RESTING
    assert zx.best_ask(0, "R") == 300  # rural energy left behind a congested line
    check_zonal(zx)


def test_capacity_freed_by_counter_flow() -> None:
    zx = make({("R", "T"): 5})
    zx.submit(0, "s1", "wind", "sell", 0, 300, 5, zone="R")
    zx.submit(1, "b1", "home", "buy", 0, 600, 5, zone="T")
    assert zx.capacity_left("R", "T", 0) == 0 and zx.capacity_left("T", "R", 0) == 5
    # a town seller meets a rural buyer: energy flows T->R and nets against the R->T flow
    zx.submit(2, "s2", "gen", "sell", 0, 440, 3, zone="T")
    rep = zx.submit(3, "b2", "farm", "buy", 0, 460, 2, zone="R")
    assert flows(rep) == [(440, 2, "T", "R", "T")]
    assert zx.flow("T", "R", 0) == 2 and zx.net_flow("R", "T", 0) == 3
    assert zx.capacity_left("R", "T", 0) == 2  # freed by the counter-flow
    zx.submit(4, "s3", "wind", "sell", 0, 300, 5, zone="R")
    rep = zx.submit(5, "b3", "home3", "buy", 0, 600, 9, zone="T")
    assert flows(rep) == [(300, 2, "R", "T", "R"), (440, 1, "T", "T", "T")]
    assert zx.capacity_left("R", "T", 0) == 0 and rep.order.rate == 6
    check_zonal(zx)


def test_counter_flow_without_a_declared_reverse_path() -> None:
    zx = make({("R", "T"): 5})
    zx.submit(0, "s1", "wind", "sell", 0, 300, 10, zone="R")
    zx.submit(1, "b1", "home", "buy", 0, 600, 4, zone="T")
    zx.submit(2, "s2", "gen", "sell", 0, 100, 10, zone="T")
    # T->R has no capacity of its own: only the 4 lots flowing R->T can be netted away
    rep = zx.submit(3, "b2", "farm", "buy", 0, 200, 8, zone="R")
    assert flows(rep) == [(100, 4, "T", "R", "T")] and rep.order.rate == 4
    assert zx.net_flow("R", "T", 0) == 0 and zx.capacity_left("T", "R", 0) == 0
    check_zonal(zx)


def test_capacity_may_vary_by_slot() -> None:
    zx = make({("R", "T"): {0: 2, 1: 6}})
    for slot in (0, 1, 2):
        zx.submit(0, f"s{slot}", "wind", "sell", slot, 300, 10, zone="R")
        rep = zx.submit(0, f"b{slot}", "home", "buy", slot, 600, 10, zone="T")
        assert rep.order.filled == {0: 2, 1: 6, 2: 0}[slot]
    assert [zx.capacity("R", "T", k) for k in (0, 1, 2)] == [2, 6, 0]
    check_zonal(zx)


def test_seller_exports_to_the_dearer_zone() -> None:
    zx = make({("R", "T"): 5})
    zx.submit(0, "b1", "home", "buy", 0, 700, 8, zone="T")
    zx.submit(0, "b2", "farm", "buy", 0, 400, 8, zone="R")
    rep = zx.submit(1, "s1", "wind", "sell", 0, 100, 8, zone="R")
    assert flows(rep) == [(700, 5, "T", "T", "R"), (400, 3, "R", "R", "R")]
    assert zx.cash("wind", 0, "R") == pytest.approx(zx.grid.cash(700 * 5 + 400 * 3))
    check_zonal(zx)


# -- rule 3: priority across zones --------------------------------------------------------------
def test_equal_price_goes_to_the_earlier_order_across_zones() -> None:
    zx = make({("R", "T"): 50})
    zx.submit(0, "s1", "wind", "sell", 0, 500, 3, zone="R")   # earlier, in another zone
    zx.submit(1, "s2", "gen", "sell", 0, 500, 3, zone="T")
    zx.submit(2, "s3", "wind2", "sell", 0, 500, 3, zone="R")
    rep = zx.submit(3, "b1", "home", "buy", 0, 500, 7, zone="T")
    assert [t.sell_order_id for t in rep.trades] == ["s1", "s2", "s3"]
    assert [t.rate for t in rep.trades] == [3, 3, 1]
    check_zonal(zx)


def test_self_trade_prevention_across_zones() -> None:
    zx = make({("R", "T"): 50})
    zx.submit(0, "s1", "dealer", "sell", 0, 300, 3, zone="R")
    zx.submit(0, "s2", "wind", "sell", 0, 300, 3, zone="R")
    rep = zx.submit(1, "b1", "dealer", "buy", 0, 400, 3, zone="T")
    assert [o.order_id for o in rep.self_trade_cancelled] == ["s1"]
    assert zx.status("s1", "R").reason is Reason.SELF_TRADE
    assert flows(rep) == [(300, 3, "R", "T", "R")]
    check_zonal(zx)


def test_market_order_sweeps_across_zones() -> None:
    zx = make({("R", "T"): 4})
    zx.submit(0, "s1", "wind", "sell", 0, 300, 10, zone="R")
    zx.submit(0, "s2", "gen", "sell", 0, 900, 10, zone="T")
    rep = zx.submit(1, "b1", "home", "buy", 0, None, 6, kind="market", tif="ioc", zone="T")
    assert flows(rep) == [(300, 4, "R", "T", "R"), (900, 2, "T", "T", "T")]
    check_zonal(zx)


# -- rule 5: cross-zonal gate closure -----------------------------------------------------------
def test_cross_zonal_gate_closure() -> None:
    zx = make({("R", "T"): 50})
    zx.submit(0, "s1", "wind", "sell", 0, 300, 10, zone="R")
    assert zx.close_cross(0, 10).ok and not zx.cross_open(0)
    rep = zx.submit(11, "b1", "home", "buy", 0, 600, 5, zone="T")
    assert rep.trades == [] and rep.status is Status.RESTING  # local trading goes on
    assert zx.submit(12, "s2", "farm", "sell", 0, 550, 2, zone="T").order.filled == 2
    assert zx.close_cross(0, 13).reason is Reason.SLOT_CLOSED
    assert zx.submit(13, "x1", "arb", "buy", 0, 600, 1, tif="ioc", zone="T",
                     match_zone="R").reason is Reason.SLOT_CLOSED
    # another slot still couples
    zx.submit(14, "s3", "wind", "sell", 1, 300, 10, zone="R")
    assert zx.submit(15, "b3", "home", "buy", 1, 600, 5, zone="T").order.filled == 5
    check_zonal(zx)


# -- rule 6: order types --------------------------------------------------------------------------
def test_fok_needing_more_capacity_than_left_is_killed_and_changes_nothing() -> None:
    zx = make({("R", "T"): 5})
    zx.submit(0, "s1", "wind", "sell", 0, 300, 10, zone="R")
    zx.submit(0, "s2", "gen", "sell", 0, 500, 2, zone="T")
    before = zonal_digest(zx)
    rep = zx.submit(1, "f1", "home", "buy", 0, 600, 8, tif="fok", zone="T")  # 5 + 2 < 8
    assert rep.status is Status.KILLED and rep.trades == []
    assert zonal_digest(zx, skip_orders={("T", "f1")}) == before
    rep = zx.submit(2, "f2", "home", "buy", 0, 600, 7, tif="fok", zone="T")  # exactly 5 + 2
    assert rep.status is Status.FILLED
    assert flows(rep) == [(300, 5, "R", "T", "R"), (500, 2, "T", "T", "T")]
    check_zonal(zx)


def test_fok_counts_only_other_owners_across_zones() -> None:
    zx = make({("R", "T"): 50})
    zx.submit(0, "s1", "home", "sell", 0, 300, 10, zone="R")
    zx.submit(0, "s2", "wind", "sell", 0, 300, 3, zone="R")
    rep = zx.submit(1, "f1", "home", "buy", 0, 600, 4, tif="fok", zone="T")
    assert rep.status is Status.KILLED and zx.status("s1", "R").status is Status.RESTING
    check_zonal(zx)


def test_block_orders_match_in_their_own_zone_only() -> None:
    zx = make({("R", "T"): 50})
    for slot in (0, 1):
        zx.submit(0, f"s{slot}", "wind", "sell", slot, 300, 5, zone="R")
    rep = zx.submit(1, "blk", "home", "buy", 0, 600, 5, last_slot=1, zone="T")
    assert rep.status is Status.KILLED
    zx.submit(2, "t0", "gen", "sell", 0, 500, 5, zone="T")
    zx.submit(2, "t1", "gen", "sell", 1, 500, 5, zone="T")
    rep = zx.submit(3, "blk2", "home", "buy", 0, 600, 5, last_slot=1, zone="T")
    assert rep.status is Status.FILLED and {t.zone for t in rep.trades} == {"T"}
    check_zonal(zx)


def test_priority_losing_modify_matches_across_zones() -> None:
    zx = make({("R", "T"): 3})
    zx.submit(0, "s1", "wind", "sell", 0, 300, 5, zone="R")
    zx.submit(0, "s2", "gen", "sell", 0, 500, 5, zone="T")
    zx.submit(1, "b1", "home", "buy", 0, 200, 5, zone="T")
    rep = zx.modify(2, "b1", "home", price=600, zone="T")
    assert flows(rep) == [(300, 3, "R", "T", "R"), (500, 2, "T", "T", "T")]
    assert rep.status is Status.FILLED and rep.order.filled == 5
    assert [t.buy_order_id for t in rep.trades] == ["b1", "b1"]
    rec = zx.status("b1", "T")
    assert (rec.offered, rec.filled, rec.rate, rec.removed) == (5, 5, 0, 0)
    check_zonal(zx)


def test_priority_losing_modify_rests_its_remainder_at_home() -> None:
    zx = make({("R", "T"): 3})
    zx.submit(0, "s1", "wind", "sell", 0, 300, 5, zone="R")
    zx.submit(1, "b1", "home", "buy", 0, 200, 5, zone="T")
    zx.submit(1, "b0", "home2", "buy", 0, 250, 1, zone="T")
    rep = zx.modify(2, "b1", "home", price=350, rate=6, zone="T")
    assert flows(rep) == [(300, 3, "R", "T", "R")]
    assert rep.status is Status.RESTING and rep.order.rate == 3 and rep.order.filled == 3
    assert (rep.order.offered, rep.order.removed) == (6, 0)  # 5 -> 6 offers one more
    assert zx.best_bid(0, "T") == 350
    rep = zx.modify(3, "b1", "home", rate=2, zone="T")  # a pure decrease stays local
    assert rep.trades == [] and (rep.order.rate, rep.order.removed) == (2, 1)
    check_zonal(zx)


def test_modify_filled_in_full_by_children_is_filled_and_accounted() -> None:
    zx = make({("R", "T"): 10})
    zx.submit(0, "s1", "wind", "sell", 0, 300, 10, zone="R")
    zx.submit(1, "b1", "home", "buy", 0, 200, 2, zone="T")
    rep = zx.modify(2, "b1", "home", price=300, rate=4, zone="T")
    assert rep.status is Status.FILLED and zx.status("b1", "T").status is Status.FILLED
    rec = zx.status("b1", "T")
    assert (rec.offered, rec.filled, rec.rate, rec.removed) == (4, 4, 0, 0)
    assert zx.cancel(3, "b1", "home", zone="T").reason is Reason.UNKNOWN_ORDER
    assert zx.best_bid(0, "T") is None
    check_zonal(zx)


def test_opening_auction_is_per_zone_and_leaves_the_coupled_book_crossed() -> None:
    zx = make({("R", "T"): 50})
    assert zx.open_auction(0, 0).ok
    zx.submit(0, "s1", "wind", "sell", 0, 300, 10, zone="R")
    zx.submit(0, "b1", "farm", "buy", 0, 320, 4, zone="R")
    zx.submit(0, "b2", "home", "buy", 0, 800, 6, zone="T")
    zx.submit(0, "s2", "gen", "sell", 0, 790, 2, zone="T")
    rep = zx.uncross(0, 1)
    assert {(t.zone, t.rate) for t in rep.trades} == {("R", 4), ("T", 2)}
    assert zx.best_ask(0, "R") == 300 and zx.best_bid(0, "T") == 800
    assert zx.capacity_left("R", "T", 0) == 50  # nothing re-matched across zones
    # the first incoming order meets the crossing: an explicit cross-zonal arbitrage
    rep = zx.submit(2, "x1", "arb", "buy", 0, 300, 4, tif="ioc", zone="T", match_zone="R")
    assert flows(rep) == [(300, 4, "R", "T", "R")] and rep.status is Status.FILLED
    rep = zx.submit(3, "x2", "arb", "sell", 0, 800, 4, tif="ioc", zone="T")
    assert flows(rep) == [(800, 4, "T", "T", "T")]
    assert zx.position("arb", 0) == 0 and zx.notional("arb", 0) == 4 * (800 - 300)
    check_zonal(zx)


# -- rule 7: explicit cross-zonal orders ----------------------------------------------------------
def test_explicit_cross_zonal_order_trades_only_in_its_match_zone() -> None:
    zx = make({("R", "T"): 3})
    zx.submit(0, "s1", "wind", "sell", 0, 300, 10, zone="R")
    zx.submit(0, "s2", "gen", "sell", 0, 200, 10, zone="T")
    rep = zx.submit(1, "x1", "arb", "buy", 0, 400, 5, tif="ioc", zone="T", match_zone="R")
    assert flows(rep) == [(300, 3, "R", "T", "R")]
    assert rep.status is Status.CANCELLED and rep.order.filled == 3 and rep.order.removed == 2
    assert zx.submit(2, "x1", "arb", "buy", 0, 400, 1, tif="ioc", zone="T",
                     match_zone="R").reason is Reason.DUPLICATE_ID
    assert zx.submit(2, "x2", "arb", "buy", 0, 400, 1, zone="T",
                     match_zone="R").reason is Reason.BAD_FIELD  # limit gtc would rest
    rep = zx.submit(3, "x3", "arb", "buy", 0, 400, 1, tif="fok", zone="T", match_zone="R")
    assert rep.status is Status.KILLED  # the line is full
    check_zonal(zx)


# -- bad input: rejected with a reason, nothing changed -------------------------------------------
def test_bad_zones_and_capacities_are_refused_when_building() -> None:
    with pytest.raises(ValueError, match="unknown zone 'X'"):
        make({("R", "X"): 5})
    with pytest.raises(ValueError, match="lots must be ints"):
        make({("R", "T"): -1})
    with pytest.raises(ValueError, match="to itself"):
        make({("R", "R"): 1})
    with pytest.raises(ValueError, match="lots must be ints"):
        make({("R", "T"): {0: -3}})
    with pytest.raises(ValueError, match="unique"):
        make(zones=("R", "R"))
    with pytest.raises(ValueError, match="home zone"):
        make(home={"alice": "X"})


@pytest.mark.parametrize("call, reason", [
    (lambda zx: zx.submit(5, "o9", "home", "buy", 0, 600, 1, zone="X"), Reason.UNKNOWN_ZONE),
    (lambda zx: zx.submit(5, "o9", "home", "buy", 0, 600, 1), Reason.UNKNOWN_ZONE),
    (lambda zx: zx.submit(5, "o9", "home", "buy", 0, 600, 1, zone="T", match_zone="X"),
     Reason.UNKNOWN_ZONE),
    (lambda zx: zx.submit(5, "o9", "arb", "buy", 0, 600, 1, tif="ioc", zone="T",
                          match_zone="Q"), Reason.NO_PATH),
    (lambda zx: zx.submit(5, "\x1f1", "home", "buy", 0, 600, 1, zone="T"), Reason.BAD_FIELD),
    (lambda zx: zx.submit(5, "b1", "home", "buy", 0, 600, 1, zone="T"), Reason.DUPLICATE_ID),
    (lambda zx: zx.submit(0, "o9", "home", "buy", 0, 600, 1, zone="T"), Reason.BAD_FIELD),
    (lambda zx: zx.submit(5, "o9", "home", "buy", 0, 601.5, 1, zone="T"), Reason.BAD_FIELD),
    (lambda zx: zx.submit(5, "o9", "home", "buy", -1, 600, 1, zone="T"), Reason.UNKNOWN_SLOT),
    (lambda zx: zx.cancel(5, "s1", "wind", zone="X"), Reason.UNKNOWN_ZONE),
    (lambda zx: zx.cancel(5, "s1", "wind", zone="T"), Reason.UNKNOWN_ORDER),
    (lambda zx: zx.modify(5, "s1", "wind", price=1, zone="X"), Reason.UNKNOWN_ZONE),
    (lambda zx: zx.set_capacity("R", "X", 5), Reason.UNKNOWN_ZONE),
    (lambda zx: zx.set_capacity("R", "T", -1), Reason.BAD_FIELD),
    (lambda zx: zx.set_capacity("R", "R", 1), Reason.BAD_FIELD),
    (lambda zx: zx.set_capacity("R", "T", 1, slot=0), Reason.BAD_FIELD),  # 2 lots already flow
    (lambda zx: zx.set_capacity("R", "T", 1.5), Reason.BAD_FIELD),
    (lambda zx: zx.close_cross(-1, 5), Reason.UNKNOWN_SLOT),
    (lambda zx: zx.close(0, 5, zone="X"), Reason.UNKNOWN_ZONE),
])
def test_bad_input_is_rejected_and_changes_nothing(call: Any, reason: Reason) -> None:
    zx = make({("R", "T"): 5}, zones=("R", "T", "Q"))
    zx.submit(0, "s1", "wind", "sell", 0, 300, 10, zone="R")
    zx.submit(1, "b1", "home", "buy", 0, 600, 2, zone="T")
    before = zonal_digest(zx)
    rep = call(zx)
    assert rep.status is Status.REJECTED and rep.reason is reason
    assert zonal_digest(zx) == before
    check_zonal(zx)


def test_capacity_can_rise_and_fall_but_not_below_the_flow() -> None:
    zx = make({("R", "T"): 5})
    zx.submit(0, "s1", "wind", "sell", 0, 300, 10, zone="R")
    zx.submit(1, "b1", "home", "buy", 0, 600, 4, zone="T")
    assert zx.set_capacity("R", "T", 4, slot=0).ok and zx.capacity_left("R", "T", 0) == 0
    assert zx.set_capacity("R", "T", 9).ok and zx.capacity_left("R", "T", 0) == 5
    assert zx.set_capacity("T", "R", 2).ok and zx.capacity_left("T", "R", 0) == 6
    check_zonal(zx)


def test_one_zone_is_the_plain_exchange() -> None:
    zx = make(zones=("A",))
    ex = Exchange(auto_open=True)
    ex.keep_trades()
    for args in [(0, "s1", "x", "sell", 0, 500, 3), (1, "b1", "y", "buy", 0, 510, 5),
                 (2, "s2", "x", "sell", 0, 505, 9)]:
        a, b = zx.submit(*args), ex.submit(*args)
        assert (a.status, a.reason) == (b.status, b.reason)
        assert [tuple(t)[:10] for t in a.trades] == [tuple(t) for t in b.trades]


@pytest.mark.parametrize("weird", [None, 1, 1.5, True, ["R"], {"R": 1}, b"R", "", "r"])
def test_weird_zone_arguments_are_rejected_never_raised(weird: Any) -> None:
    zx = make({("R", "T"): 5})
    zx.submit(0, "s1", "wind", "sell", 0, 300, 10, zone="R")
    before = zonal_digest(zx)
    calls = [lambda: zx.submit(1, "o1", "home", "buy", 0, 600, 1, zone=weird),
             lambda: zx.submit(1, "o2", "home", "buy", 0, 600, 1, tif="ioc", zone="T",
                               match_zone=weird),
             lambda: zx.cancel(1, "s1", "wind", zone=weird),
             lambda: zx.modify(1, "s1", "wind", price=301, zone=weird),
             lambda: zx.set_capacity(weird, "T", 1), lambda: zx.set_capacity("R", weird, 1),
             lambda: zx.close(0, 1, zone=weird), lambda: zx.uncross(0, 1, zone=weird)]
    if weird is None:  # no zone means the owner's home zone (none here) for orders
        calls = [calls[0], calls[2], calls[3]]
    reps = [c() for c in calls]
    assert all(r.status is Status.REJECTED for r in reps), reps
    assert zx.status("s1", weird) is None
    assert zonal_digest(zx) == before


def test_weird_order_fields_in_a_coupled_submission_are_rejected() -> None:
    zx = make({("R", "T"): 5})
    zx.submit(0, "s1", "wind", "sell", 0, 300, 10, zone="R")
    before = zonal_digest(zx)
    for args in [(1, ["x"], "home", "buy", 0, 600, 1), (1, "o1", None, "buy", 0, 600, 1),
                 (1, "o1", "home", "buy", 0, 600.5, 1), (1, "o1", "home", "buy", 0, 600, 0),
                 (1, "o1", "home", "buy", 0, 600, 2**70), (1, "o1", "home", 1, 0, 600, 1),
                 (-1, "o1", "home", "buy", 0, 600, 1), (1, "o1", "home", "buy", 0, None, 1)]:
        rep = zx.submit(*args, zone="T")
        assert rep.status is Status.REJECTED, args
    assert zonal_digest(zx) == before
