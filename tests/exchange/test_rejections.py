"""SPEC §5: every reject reason, the order of the checks, and "a rejection changes no state".

The world used here (``auto_open=False``, ``n_slots=4``):

====  ========================  =========================================
slot  phase                     content
====  ========================  =========================================
0     closed                    -
1     pending (not open)        -
2     call phase                ``c`` (buy 1 @ 100, owner ``B``)
3     continuous                ``dup`` (sell 1 @ 200, owner ``Z``), ``own`` (buy 2 @ 90, ``A``)
====  ========================  =========================================

The base submission (buy 5 @ 100 in slot 3 at time 10, id ``new``, owner ``A``) is valid and
rests; each fault below changes one or two of its fields.
"""

from __future__ import annotations

from fractions import Fraction
from itertools import combinations
from typing import Any

import pytest

from rex_env.exchange import Exchange, Grid, Reason, Side, Status

from .helpers import check_invariants, state_digest

MAX = Grid().max_ticks
MIN = Grid().min_ticks


def world() -> Exchange:
    ex = Exchange(auto_open=False, n_slots=4)
    ex.keep_trades()
    assert ex.open_continuous(0, 0).ok and ex.close(0, 0).ok
    assert ex.open_auction(2, 0).ok
    assert ex.open_continuous(3, 0).ok
    assert ex.submit(0, "c", "B", "buy", 2, 100, 1).status is Status.RESTING
    assert ex.submit(5, "dup", "Z", "sell", 3, 200, 1).status is Status.RESTING
    assert ex.submit(5, "own", "A", "buy", 3, 90, 2).status is Status.RESTING
    return ex


BASE: dict[str, Any] = {
    "time": 10,
    "order_id": "new",
    "owner": "A",
    "side": "buy",
    "first_slot": 3,
    "price": 100,
    "rate": 5,
    "kind": "limit",
    "tif": "gtc",
    "last_slot": None,
}

#: the SPEC's check order, one representative fault each
ORDER = [
    "bad_field",
    "duplicate_id",
    "price_out_of_bounds",
    "off_tick",
    "non_positive_rate",
    "off_lot",
    "unknown_slot",
    "slot_closed",
    "slot_not_open",
    "auction_phase",
]
FAULTS: dict[str, dict[str, Any]] = {
    "bad_field": {"owner": ""},
    "duplicate_id": {"order_id": "dup"},
    "price_out_of_bounds": {"price": MAX + 1},
    "off_tick": {"price": Fraction(2001, 2)},
    "non_positive_rate": {"rate": 0},
    "off_lot": {"rate": Fraction(3, 2)},
    "unknown_slot": {"first_slot": 4},
    "slot_closed": {"first_slot": 0},
    "slot_not_open": {"first_slot": 1},
    "auction_phase": {"first_slot": 2, "tif": "ioc"},
}
#: pairs of faults on the same field, combined by hand into one value with both faults
BOTH: dict[tuple[str, str], dict[str, Any]] = {
    ("price_out_of_bounds", "off_tick"): {"price": Fraction(2 * MAX + 3, 2)},
    ("non_positive_rate", "off_lot"): {"rate": Fraction(-1, 2)},
    # a block over slots with different faults
    ("unknown_slot", "slot_closed"): {"first_slot": 0, "last_slot": 4},
    ("unknown_slot", "slot_not_open"): {"first_slot": 1, "last_slot": 4},
    ("unknown_slot", "auction_phase"): {"first_slot": 2, "last_slot": 4},
    ("slot_closed", "auction_phase"): {"first_slot": 0, "last_slot": 2},
    ("slot_not_open", "auction_phase"): {"first_slot": 1, "last_slot": 2},
}
#: slot_closed and slot_not_open share a rank in the SPEC (no order between them)
SAME_RANK = {("slot_closed", "slot_not_open")}

PAIRS = [(a, b) for a, b in combinations(ORDER, 2) if (a, b) not in SAME_RANK]


def submission(*faults: str) -> dict[str, Any]:
    args = dict(BASE)
    if len(faults) == 2 and faults in BOTH:
        args.update(BOTH[faults])  # type: ignore[index]
    else:
        for f in faults:
            overlap = set(FAULTS[f]) & {k for g in faults if g != f for k in FAULTS[g]}
            assert not overlap, f"faults {faults} touch the same field; add them to BOTH"
            args.update(FAULTS[f])
    return args


def submit(ex: Exchange, args: dict[str, Any]):
    args = dict(args)
    return ex.submit(args.pop("time"), args.pop("order_id"), args.pop("owner"), args.pop("side"),
                     args.pop("first_slot"), args.pop("price"), args.pop("rate"), **args)


def assert_rejected_without_effect(ex: Exchange, args: dict[str, Any], reason: Reason):
    before = state_digest(ex)
    rep = submit(ex, args)
    assert (rep.status, rep.reason) == (Status.REJECTED, reason)
    assert rep.order is None and rep.trades == [] and rep.self_trade_cancelled == []
    assert state_digest(ex) == before, "a rejection changed the exchange"
    check_invariants(ex)


# -- the check order ---------------------------------------------------------------------------


def test_the_base_submission_of_this_module_is_valid():
    ex = world()
    rep = submit(ex, BASE)
    assert rep.status is Status.RESTING
    check_invariants(ex)


@pytest.mark.parametrize("fault", ORDER)
def test_each_fault_alone_is_rejected_with_its_reason_and_changes_nothing(fault):
    assert_rejected_without_effect(world(), submission(fault), Reason(fault))


@pytest.mark.parametrize(("first", "second"), PAIRS, ids=[f"{a}+{b}" for a, b in PAIRS])
def test_a_submission_with_two_faults_is_named_by_the_first_check_in_spec_order(first, second):
    assert_rejected_without_effect(world(), submission(first, second), Reason(first))


@pytest.mark.parametrize("fault", [f for f in ORDER if f != "duplicate_id"])
def test_a_rejected_submission_does_not_use_up_its_id(fault):
    ex = world()
    assert submit(ex, submission(fault)).status is Status.REJECTED
    rep = submit(ex, BASE)
    assert rep.status is Status.RESTING and ex.orders["new"].owner == "A"


def test_a_duplicate_id_rejection_leaves_the_original_order_alone():
    ex = world()
    before = ex.orders["dup"]
    assert submit(ex, submission("duplicate_id")).reason is Reason.DUPLICATE_ID
    assert ex.orders["dup"] is before and before.rate == 1 and before.owner == "Z"


def test_ids_of_finished_orders_stay_used():
    ex = world()
    submit(ex, {**BASE, "order_id": "f", "tif": "ioc"})  # cancelled at once
    assert submit(ex, {**BASE, "order_id": "f"}).reason is Reason.DUPLICATE_ID


# -- bad_field ---------------------------------------------------------------------------------

BAD_FIELDS: dict[str, dict[str, Any]] = {
    "side-upper-case": {"side": "BUY"},
    "side-unknown": {"side": "hold"},
    "side-none": {"side": None},
    "kind-unknown": {"kind": "stop"},
    "kind-upper-case": {"kind": "LIMIT"},
    "tif-unknown": {"tif": "day"},
    "order-id-empty": {"order_id": ""},
    "order-id-none": {"order_id": None},
    "order-id-bool": {"order_id": True},
    "owner-empty": {"owner": ""},
    "owner-none": {"owner": None},
    "owner-not-a-string": {"owner": 7},
    "last-slot-before-first": {"first_slot": 3, "last_slot": 2},
    "first-slot-not-an-int": {"first_slot": "3"},
    "first-slot-float": {"first_slot": 3.0},
    "first-slot-bool": {"first_slot": True},
    "last-slot-not-an-int": {"last_slot": "3"},
    "time-going-backwards": {"time": 4},
    "time-negative": {"time": -1},
    "time-not-an-int": {"time": "10"},
    "time-float": {"time": 10.0},
    "market-with-a-price": {"kind": "market", "price": 100},
    "limit-without-a-price": {"kind": "limit", "price": None},
}


@pytest.mark.parametrize("override", list(BAD_FIELDS.values()), ids=list(BAD_FIELDS))
def test_malformed_fields_are_bad_field_and_change_nothing(override):
    assert_rejected_without_effect(world(), {**BASE, **override}, Reason.BAD_FIELD)


@pytest.mark.parametrize("override", [{"order_id": ["x"]}, {"side": ["buy"]}],
                         ids=["unhashable-order-id", "unhashable-side"])
def test_unhashable_fields_are_reported_as_bad_field_not_raised(override):
    # SPEC §5: bad input never raises out of the matching engine (cancel and modify already
    # report an unhashable id as unknown_order)
    assert_rejected_without_effect(world(), {**BASE, **override}, Reason.BAD_FIELD)


def test_side_may_be_given_as_the_enum():
    ex = world()
    assert submit(ex, {**BASE, "side": Side.SELL, "price": 300}).status is Status.RESTING


def test_a_market_order_with_a_valid_price_is_still_bad_field():
    ex = world()
    assert submit(ex, {**BASE, "kind": "market", "price": 200}).reason is Reason.BAD_FIELD


def test_rejected_rows_do_not_move_the_clock():
    ex = world()
    assert submit(ex, {**BASE, "time": 50, "rate": 0}).reason is Reason.NON_POSITIVE_RATE
    assert ex.now == 5
    assert submit(ex, {**BASE, "time": 6}).status is Status.RESTING
    assert ex.now == 6
    assert submit(ex, {**BASE, "order_id": "x", "time": 5}).reason is Reason.BAD_FIELD


def test_events_at_the_same_second_as_the_last_accepted_one_are_fine():
    ex = world()
    assert submit(ex, {**BASE, "time": 5}).ok


# -- values ------------------------------------------------------------------------------------


@pytest.mark.parametrize("side", ["buy", "sell"])
@pytest.mark.parametrize("price", [MIN, MAX], ids=["min", "max"])
def test_price_bounds_are_inclusive(side, price):
    ex = Exchange(auto_open=True)
    rep = ex.submit(0, "x", "A", side, 0, price, 1)
    assert rep.status is Status.RESTING


@pytest.mark.parametrize("price", [MIN - 1, MAX + 1, Fraction(2 * MAX + 1, 2), 10**9, -(10**9)],
                         ids=["min-1", "max+1", "max+half", "huge", "huge-negative"])
def test_prices_outside_the_bounds_are_price_out_of_bounds(price):
    assert_rejected_without_effect(world(), {**BASE, "price": price},
                                   Reason.PRICE_OUT_OF_BOUNDS)


def test_bounds_follow_the_grid():
    grid = Grid(tick="0.5", price_min=-10, price_max=10)
    ex = Exchange(grid, auto_open=True)
    assert ex.submit(0, "x", "A", "buy", 0, grid.price_ticks("10"), 1).ok
    assert ex.submit(0, "y", "A", "buy", 0, grid.price_ticks("10.5"), 1).reason is (
        Reason.PRICE_OUT_OF_BOUNDS)
    assert ex.submit(0, "z", "A", "sell", 0, grid.price_ticks("-10.5"), 1).reason is (
        Reason.PRICE_OUT_OF_BOUNDS)


@pytest.mark.parametrize("price", ["51.05", "0.01", "-3.33"])
def test_off_grid_prices_from_the_edge_are_off_tick_never_rounded(price):
    ticks = Grid().price_ticks(price)
    assert isinstance(ticks, Fraction) and ticks.denominator != 1
    assert_rejected_without_effect(world(), {**BASE, "price": ticks}, Reason.OFF_TICK)


def test_whole_fraction_price_is_on_the_grid():
    ex = world()
    rep = submit(ex, {**BASE, "price": Fraction(100)})
    assert rep.status is Status.RESTING and rep.order.price == 100


@pytest.mark.parametrize("rate", [0, -1, -50, Fraction(-1, 2)])
def test_zero_or_negative_rates_are_non_positive_rate(rate):
    assert_rejected_without_effect(world(), {**BASE, "rate": rate}, Reason.NON_POSITIVE_RATE)


@pytest.mark.parametrize("rate", ["0.25", "0.01", "1.05"])
def test_rates_off_the_lot_grid_from_the_edge_are_off_lot(rate):
    lots = Grid().rate_lots(rate)
    assert isinstance(lots, Fraction) and lots.denominator != 1
    assert_rejected_without_effect(world(), {**BASE, "rate": lots}, Reason.OFF_LOT)


def test_grid_conversion_at_the_edge_is_exact():
    g = Grid()
    assert g.price_ticks("51.0") == 510 and g.price_ticks("-9999") == MIN
    assert g.rate_lots("2.5") == 25
    assert g.price_ticks("51.05") == Fraction(1021, 2)


# -- slots and phases --------------------------------------------------------------------------


@pytest.mark.parametrize("slot", [-1, 4, 10**6])
def test_slots_outside_the_known_range_are_unknown_slot(slot):
    assert_rejected_without_effect(world(), {**BASE, "first_slot": slot}, Reason.UNKNOWN_SLOT)


def test_negative_slot_is_unknown_even_when_every_slot_opens_automatically():
    ex = Exchange(auto_open=True)
    assert ex.submit(0, "x", "A", "buy", -1, 100, 1).reason is Reason.UNKNOWN_SLOT
    assert ex.submit(0, "x", "A", "buy", 0, 100, 1).status is Status.RESTING


def test_block_reaching_an_unknown_slot_is_unknown_slot():
    assert_rejected_without_effect(world(), {**BASE, "first_slot": 3, "last_slot": 4},
                                   Reason.UNKNOWN_SLOT)


def test_block_reaching_a_pending_slot_is_slot_not_open():
    ex = Exchange(auto_open=False, n_slots=3)
    ex.open_continuous(0, 0)
    assert ex.submit(0, "x", "A", "buy", 0, 100, 1, last_slot=1).reason is Reason.SLOT_NOT_OPEN


@pytest.mark.parametrize(
    "override",
    [
        {"kind": "market", "price": None},
        {"kind": "market", "price": None, "tif": "fok"},
        {"tif": "ioc"},
        {"tif": "fok"},
        {"first_slot": 2, "last_slot": 3},
    ],
    ids=["market", "market-fok", "ioc", "fok", "block"],
)
def test_market_ioc_fok_and_block_orders_during_a_call_phase_are_auction_phase(override):
    args = {**BASE, "first_slot": 2, **override}
    assert_rejected_without_effect(world(), args, Reason.AUCTION_PHASE)


# -- cancel ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("oid", "owner", "reason"),
    [
        ("nope", "A", Reason.UNKNOWN_ORDER),
        ("own", "Z", Reason.UNKNOWN_ORDER),
        ("own", "", Reason.UNKNOWN_ORDER),
        ("own", "a", Reason.UNKNOWN_ORDER),
        ("", "A", Reason.UNKNOWN_ORDER),
    ],
    ids=["unknown-id", "wrong-owner", "empty-owner", "owner-case", "empty-id"],
)
def test_cancel_of_anything_but_the_owners_resting_order_is_unknown_order(oid, owner, reason):
    ex = world()
    before = state_digest(ex)
    assert ex.cancel(10, oid, owner).reason is reason
    assert state_digest(ex) == before


def test_cancel_going_back_in_time_is_bad_field_before_unknown_order():
    ex = world()
    assert ex.cancel(4, "nope", "A").reason is Reason.BAD_FIELD
    assert ex.cancel(4, "own", "A").reason is Reason.BAD_FIELD


# -- modify ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("time", "oid", "owner", "price", "rate", "reason"),
    [
        (10, "own", "A", None, None, Reason.BAD_FIELD),
        (10, "nope", "A", None, None, Reason.BAD_FIELD),
        (4, "nope", "A", 100, None, Reason.BAD_FIELD),
        (4, "own", "A", Fraction(1, 2), None, Reason.BAD_FIELD),
        (10, "nope", "A", Fraction(1, 2), 0, Reason.UNKNOWN_ORDER),
        (10, "own", "Z", MAX + 1, None, Reason.UNKNOWN_ORDER),
        (10, "own", "", None, 0, Reason.UNKNOWN_ORDER),
        (10, "dup", "A", 100, None, Reason.UNKNOWN_ORDER),
        (10, "own", "A", Fraction(2 * MAX + 3, 2), 0, Reason.PRICE_OUT_OF_BOUNDS),
        (10, "own", "A", MIN - 1, None, Reason.PRICE_OUT_OF_BOUNDS),
        (10, "own", "A", Fraction(181, 2), 0, Reason.OFF_TICK),
        (10, "own", "A", Fraction(181, 2), None, Reason.OFF_TICK),
        (10, "own", "A", None, Fraction(-1, 2), Reason.NON_POSITIVE_RATE),
        (10, "own", "A", 90, 0, Reason.NON_POSITIVE_RATE),
        (10, "own", "A", None, -3, Reason.NON_POSITIVE_RATE),
        (10, "own", "A", 90, Fraction(5, 2), Reason.OFF_LOT),
    ],
    ids=[
        "both-empty",
        "both-empty+unknown-id",
        "time-back+unknown-id",
        "time-back+off-tick",
        "unknown-id+values",
        "wrong-owner+out-of-bounds",
        "empty-owner+zero-rate",
        "other-owners-order",
        "out-of-bounds+off-tick+zero-rate",
        "below-min",
        "off-tick+zero-rate",
        "off-tick",
        "negative-off-lot-rate",
        "zero-rate",
        "negative-rate",
        "off-lot",
    ],
)
def test_modify_faults_are_checked_bad_field_then_unknown_order_then_values(
    time, oid, owner, price, rate, reason
):
    ex = world()
    before = state_digest(ex)
    rep = ex.modify(time, oid, owner, price=price, rate=rate)
    assert (rep.status, rep.reason) == (Status.REJECTED, reason)
    assert state_digest(ex) == before


def test_modify_accepts_prices_on_the_inclusive_bounds():
    ex = world()
    assert ex.modify(10, "own", "A", price=MIN).ok
    assert ex.modify(11, "dup", "Z", price=MAX).ok


@pytest.mark.parametrize("how", ["filled", "cancelled", "killed", "expired", "rejected"])
def test_modify_of_an_order_that_is_not_resting_is_unknown_order(how):
    ex = world()
    if how == "filled":
        ex.submit(10, "t", "B", "buy", 3, 200, 1)
        oid, owner = "dup", "Z"
    elif how == "cancelled":
        ex.cancel(10, "own", "A")
        oid, owner = "own", "A"
    elif how == "killed":
        ex.submit(10, "k", "A", "buy", 3, 100, 1, tif="fok")
        oid, owner = "k", "A"
    elif how == "expired":
        ex.close(3, 10)
        oid, owner = "own", "A"
    else:
        ex.submit(10, "r", "A", "buy", 3, 100, 0)
        oid, owner = "r", "A"
    before = state_digest(ex)
    assert ex.modify(11, oid, owner, rate=1).reason is Reason.UNKNOWN_ORDER
    assert state_digest(ex) == before


# -- lifecycle ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "slot", "time"),
    [
        ("open_auction", 2, 10),  # already in a call phase
        ("uncross", 3, 10),  # not in a call phase
        ("uncross", 1, 10),  # pending
        ("open_continuous", 3, 10),  # already open
        ("open_auction", 0, 10),  # closed
        ("close", 0, 10),  # closed
        ("close", 4, 10),  # unknown
        ("open_auction", 1, 4),  # time going backwards
    ],
)
def test_lifecycle_rows_that_do_not_fit_the_slot_state_are_rejected_and_change_nothing(
    op, slot, time
):
    ex = world()
    before = state_digest(ex)
    rep = getattr(ex, op)(slot, time)
    assert rep.status is Status.REJECTED
    assert state_digest(ex) == before


def test_uncross_with_a_reference_that_is_not_a_number_is_bad_field():
    ex = world()
    before = state_digest(ex)
    assert ex.uncross(2, 10, reference="100").reason is Reason.BAD_FIELD
    assert state_digest(ex) == before


def test_accepted_lifecycle_rows_move_the_clock_and_rejected_ones_do_not():
    ex = world()
    assert ex.uncross(3, 30).status is Status.REJECTED  # not in a call phase
    assert submit(ex, {**BASE, "order_id": "x", "time": 25}).ok
    assert ex.open_auction(1, 40).ok
    assert submit(ex, {**BASE, "time": 39}).reason is Reason.BAD_FIELD
    assert submit(ex, {**BASE, "time": 40}).ok
