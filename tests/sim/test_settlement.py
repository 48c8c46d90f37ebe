"""Settlement (SPEC §3.5, §9): hand-computed slots per mode, invariants, and the ledger.

The named scenario, default grid (tick 0.1, lot 0.1, 900 s slots = 0.25 h):

* ``a`` buys 4 kW @ 50.0 from ``b`` and 4 kW @ 70.0 from ``c`` -> VWAP 60, high 70, low 50;
* actual net rates: ``a`` -10 kW (reserved -8), ``b`` +5 (reserved +4), ``c`` +4 (reserved
  +4), ``d`` -1 (no trade, reserved 0);
* imbalances: a -0.5 kWh, b +0.25, c 0, d -0.25; system -0.5 kWh (short).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rex_env.exchange.book import Book
from rex_env.exchange.grid import Grid
from rex_env.sim.settlement import (
    Ledger,
    SettlementConfig,
    SlotSettlement,
    imbalance_prices,
    settle_book,
    settle_slot,
    terminal_energy_value,
)
from rex_env.spec.settlement import check_finite_number

GRID = Grid()
HOURS = 0.25


def trades_to_book(slot: int, trades: list[tuple[str, str, int, int]]) -> Book:
    """A closed book holding ``(buyer, seller, price_ticks, lots)`` executions."""
    book = Book(slot)
    for buyer, seller, price, lots in trades:
        book.record_trade(price, lots, buyer, seller)
    return book


NAMED_TRADES = [("a", "b", 500, 40), ("a", "c", 700, 40)]
NAMED_ACTUAL = {"a": -10.0, "b": 5.0, "c": 4.0, "d": -1.0}


def settle_named(config: SettlementConfig) -> SlotSettlement:
    book = trades_to_book(7, NAMED_TRADES)
    return settle_book(book, GRID, NAMED_ACTUAL, config)


def approx(x: float) -> object:
    return pytest.approx(x, rel=1e-12, abs=1e-12)


# -- the named slot, each mode ------------------------------------------------------------


def test_named_slot_positions_trade_cash_and_imbalances() -> None:
    s = settle_named(SettlementConfig())
    assert s.slot == 7 and s.traded
    assert (s.vwap, s.high, s.low) == (approx(60.0), approx(70.0), approx(50.0))
    a, b, c, d = (s.owners[o] for o in "abcd")
    assert (a.position_kw, b.position_kw, c.position_kw, d.position_kw) == (8.0, -4.0, -4.0, 0.0)
    assert (a.reserved_kw, b.reserved_kw, c.reserved_kw) == (-8.0, 4.0, 4.0)
    # 1 kWh at 50 + 1 kWh at 70 per MWh
    assert a.trade_cash == approx(-0.12)
    assert b.trade_cash == approx(0.05)
    assert c.trade_cash == approx(0.07)
    assert d.trade_cash == 0.0
    assert [r.imbalance_kwh for r in (a, b, c, d)] == [-0.5, 0.25, 0.0, -0.25]
    assert s.system_imbalance_kwh == approx(-0.5)


def test_single_price_hand_computed() -> None:
    # p = 60 - 2000 * (-0.0005 MWh) = 61: the short system raises the price
    s = settle_named(SettlementConfig(mode="single", scarcity_adder=2000.0))
    assert s.reference_price == approx(60.0)
    assert s.price_short == s.price_surplus == approx(61.0)
    assert s.owners["a"].imbalance_cash == approx(-0.0305)  # short: pays 61 * 0.5 kWh
    assert s.owners["b"].imbalance_cash == approx(0.01525)  # surplus: receives
    assert s.owners["c"].imbalance_cash == 0.0
    assert s.owners["d"].imbalance_cash == approx(-0.01525)


def test_single_price_is_capped() -> None:
    s = settle_named(SettlementConfig(mode="single", scarcity_adder=1e9, price_cap=100.0))
    assert s.price_short == 100.0
    long = settle_slot(
        0,
        GRID,
        {},
        {},
        {"x": 1000.0},
        None,
        None,
        None,
        SettlementConfig(scarcity_adder=1e9, price_cap=100.0),
    )
    assert long.price_short == -100.0


def test_dual_price_hand_computed() -> None:
    s = settle_named(SettlementConfig(mode="dual", premium=0.2, fee=5.0))
    assert s.price_short == approx(70 * 1.2 + 5)  # 89
    assert s.price_surplus == approx(50 / 1.2 - 5)  # 36.67
    assert s.owners["a"].imbalance_cash == approx(-89 * 0.5 / 1000)
    assert s.owners["b"].imbalance_cash == approx((50 / 1.2 - 5) * 0.25 / 1000)
    assert s.owners["d"].imbalance_cash == approx(-89 * 0.25 / 1000)
    assert s.owners["d"].imbalance_price == approx(89.0)


def test_dual_without_trades_uses_reference_price() -> None:
    cfg = SettlementConfig(mode="dual", premium=0.25, fee=2.0, reference_price=80.0)
    s = settle_slot(3, GRID, {}, {}, {"x": -2.0, "y": 2.0}, None, None, None, cfg)
    assert not s.traded
    assert s.price_short == approx(80 * 1.25 + 2)
    assert s.price_surplus == approx(80 / 1.25 - 2)
    assert s.owners["x"].imbalance_cash == approx(-102 * 0.5 / 1000)
    assert s.owners["y"].imbalance_cash == approx(62 * 0.5 / 1000)


def test_dual_penalises_negative_prices_too() -> None:
    # multiplying a negative price by (1 + premium) would make shortfalls cheaper
    _, short, surplus = imbalance_prices(
        0.0, -20.0, -10.0, -30.0, SettlementConfig(mode="dual", premium=0.5, fee=1.0)
    )
    assert short == approx(-10 / 1.5 + 1) and short > -10.0
    assert surplus == approx(-30 * 1.5 - 1) and surplus < -30.0


def test_curtail_hand_computed() -> None:
    s = settle_named(SettlementConfig(mode="curtail", voll=3000.0))
    a, b, c, d = (s.owners[o] for o in "abcd")
    assert all(r.imbalance_cash == 0.0 and r.imbalance_price == 0.0 for r in (a, b, c, d))
    assert (a.unserved_kwh, a.unserved_cost, a.spilled_kwh) == (0.5, approx(1.5), 0.0)
    assert (b.unserved_kwh, b.unserved_cost, b.spilled_kwh) == (0.0, 0.0, 0.25)
    assert (d.unserved_kwh, d.unserved_cost) == (0.25, approx(0.75))
    assert a.net_cash == approx(-0.12 - 1.5)
    assert b.net_cash == approx(0.05)  # spilled surplus is not paid


# -- invariants on the named slot ---------------------------------------------------------


@pytest.mark.parametrize("mode", ["single", "dual", "curtail"])
def test_every_owner_settled_once_and_trade_cash_sums_to_zero(mode: str) -> None:
    s = settle_named(SettlementConfig(mode=mode))
    assert list(s.owners) == ["a", "b", "c", "d"]
    assert s.total("trade_cash") == approx(0.0)


def test_owner_without_assets_has_actual_zero() -> None:
    s = settle_slot(
        0, GRID, {"t": 10, "u": -10}, {"t": -5000, "u": 5000}, {"u": 1.0}, 50.0, 50.0, 50.0
    )
    assert s.owners["t"].actual_kw == 0.0
    # bought (reserved consumption of) 1 kW and consumed none: a surplus of 0.25 kWh
    assert s.owners["t"].imbalance_kwh == approx(1.0 * HOURS)


# -- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"mode": "both"}, "mode"),
        ({"scarcity_adder": -1.0}, "scarcity_adder"),
        ({"price_cap": 0.0}, "price_cap"),
        ({"premium": -0.1}, "premium"),
        ({"fee": -1.0}, "fee"),
        ({"voll": 0.0}, "voll"),
        ({"reference_price": math.nan}, "reference_price"),
    ],
)
def test_config_rejects_bad_values_naming_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        SettlementConfig(**kwargs)


def test_inconsistent_input_is_rejected() -> None:
    with pytest.raises(ValueError, match="positions must sum to zero"):
        settle_slot(0, GRID, {"a": 1}, {"a": 0}, {}, 1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="notional must sum to zero"):
        settle_slot(0, GRID, {"a": 1, "b": -1}, {"a": 5}, {}, 1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="all be set or all None"):
        settle_slot(0, GRID, {}, {}, {}, 1.0, None, None)
    with pytest.raises(ValueError, match="no trade statistics"):
        settle_slot(0, GRID, {"a": 1, "b": -1}, {}, {}, None, None, None)
    with pytest.raises(ValueError, match="low <= vwap <= high"):
        settle_slot(0, GRID, {}, {}, {}, 5.0, 4.0, 3.0)
    with pytest.raises(ValueError, match="actual_kw"):
        settle_slot(0, GRID, {}, {}, {"a": math.inf}, None, None, None)


# -- the ledger -----------------------------------------------------------------------------


def test_ledger_settles_each_slot_once_and_reports_missing_slots() -> None:
    ledger = Ledger(GRID, SettlementConfig(mode="curtail"))
    first = ledger.settle_book(trades_to_book(7, NAMED_TRADES), NAMED_ACTUAL)
    ledger.settle(8, {}, {}, {"d": -2.0}, None, None, None)
    with pytest.raises(ValueError, match="already settled"):
        ledger.settle(7, {}, {}, {}, None, None, None)
    with pytest.raises(ValueError, match="already settled"):
        ledger.add(first)
    assert 7 in ledger and len(ledger) == 2
    assert ledger.unsettled(range(5, 10)) == [5, 6, 9]
    d = ledger.accounts["d"]
    assert d.n_slots == 2
    assert d.unserved_kwh == approx(0.25 + 0.5)
    assert d.unserved_cost == approx(3.0 * 0.75)
    assert ledger.accounts["a"].net_cash == approx(-0.12 - 1.5)  # trade cash from settlement
    assert ledger.accounts["a"].imbalance_net_kwh == approx(-0.5)
    assert len(ledger.records()) == 5
    ledger.reset()
    assert len(ledger) == 0 and not ledger.accounts


def test_failed_settlement_records_nothing() -> None:
    ledger = Ledger()
    with pytest.raises(ValueError):
        ledger.settle(1, {"a": 1}, {}, {}, 1.0, 1.0, 1.0)
    assert ledger.unsettled([1]) == [1]


# -- Hypothesis: random zero-sum trading in every mode ----------------------------------------

OWNERS = ["a", "b", "c", "d"]
trade = st.tuples(
    st.sampled_from(OWNERS),
    st.sampled_from(OWNERS),
    st.integers(-99990, 99990),
    st.integers(1, 2000),
)
actuals = st.dictionaries(
    st.sampled_from([*OWNERS, "x", "y"]),
    st.floats(-5000, 5000, allow_nan=False, allow_infinity=False),
)
configs = st.builds(
    SettlementConfig,
    mode=st.sampled_from(["single", "dual", "curtail"]),
    scarcity_adder=st.floats(0, 1e5),
    premium=st.floats(0, 2),
    fee=st.floats(0, 100),
)


@given(trades=st.lists(trade, max_size=12), actual=actuals, cfg=configs)
def test_invariants_hold_for_random_slots(
    trades: list[tuple[str, str, int, int]], actual: dict[str, float], cfg: SettlementConfig
) -> None:
    book = trades_to_book(0, trades)
    s = settle_book(book, GRID, actual, cfg)
    # every owner that traded or realised something, exactly once
    assert set(s.owners) == set(book.positions) | set(actual)
    assert s.total("trade_cash") == pytest.approx(0.0, abs=1e-9)
    for r in s.owners.values():
        # energy closes: reserved + imbalance = actual
        assert r.reserved_kwh + r.imbalance_kwh == pytest.approx(r.actual_kwh, abs=1e-9)
        assert r.imbalance_cash == pytest.approx(r.imbalance_price * r.imbalance_kwh / 1000)
        if cfg.mode == "curtail":
            assert r.imbalance_cash == 0.0
            assert r.unserved_kwh == max(-r.imbalance_kwh, 0.0)
            assert r.spilled_kwh == max(r.imbalance_kwh, 0.0)
            assert r.unserved_cost == pytest.approx(cfg.voll * r.unserved_kwh / 1000)
        else:
            assert r.unserved_kwh == r.unserved_cost == r.spilled_kwh == 0.0
    assert s.system_imbalance_kwh == pytest.approx(
        math.fsum(r.imbalance_kwh for r in s.owners.values()), abs=1e-9
    )
    if cfg.mode == "single":
        # system short (< 0) raises the price above the reference, long lowers it
        p, ref = s.price_short, s.reference_price
        assert (p - ref) * s.system_imbalance_kwh <= 1e-9
        assert abs(p) <= cfg.price_cap
    elif cfg.mode == "dual" and s.traded:
        assert s.high is not None and s.low is not None
        assert s.price_short >= s.high - 1e-9
        assert s.price_surplus <= s.low + 1e-9
    # nothing settled twice
    ledger = Ledger(GRID, cfg)
    ledger.add(s)
    with pytest.raises(ValueError):
        ledger.add(s)


@given(vwap=st.floats(-9999, 9999), si=st.floats(-1e4, 1e4))
def test_single_price_direction(vwap: float, si: float) -> None:
    cfg = SettlementConfig(scarcity_adder=50.0)
    _, p, q = imbalance_prices(si, vwap, vwap, vwap, cfg)
    assert p == q
    if abs(p) < cfg.price_cap:
        if si < 0:
            assert p >= vwap
        elif si > 0:
            assert p <= vwap


@given(
    lo=st.floats(-9999, 9999),
    span=st.floats(0, 1000),
    premium=st.floats(0, 3),
    fee=st.floats(0, 100),
)
def test_dual_penalises_both_directions(lo: float, span: float, premium: float, fee: float) -> None:
    hi = lo + span
    cfg = SettlementConfig(mode="dual", premium=premium, fee=fee)
    _, short, surplus = imbalance_prices(0.0, (hi + lo) / 2, hi, lo, cfg)
    assert short >= hi  # a shortfall costs at least the dearest trade
    assert surplus <= lo  # a surplus earns at most the cheapest trade


# -- the value of stored energy at the end of an episode --------------------------------------


def test_terminal_energy_value_hand_computed() -> None:
    from rex_env.physics import Battery

    b = Battery(energy_kwh=100.0, eta_charge=0.9, eta_discharge=0.8, initial_soc=0.5)
    # 20 kWh more than the 50 it started with, at a day VWAP of 90: 20 * 90 / 1000 * 0.8
    assert terminal_energy_value(70.0, 90.0, b) == approx(1.44)
    assert terminal_energy_value(50.0, 90.0, b) == 0.0  # idle: nothing gained or lost
    assert terminal_energy_value(30.0, 90.0, b) == approx(-1.44)  # drained: the value leaves
    assert terminal_energy_value(30.0, 90.0, b, soc_kwh_start=0.0) == approx(30 * 0.09 * 0.8)
    with pytest.raises(ValueError, match="soc_kwh"):
        terminal_energy_value(-1.0, 90.0, b)
    with pytest.raises(ValueError, match="day_vwap"):
        terminal_energy_value(1.0, math.nan, b)
    ledger = Ledger()
    assert ledger.book_terminal_value("s", 70.0, 90.0, b) == approx(1.44)
    assert ledger.accounts["s"].terminal_value == approx(1.44)
    assert ledger.accounts["s"].surplus == approx(1.44)
    with pytest.raises(ValueError, match="already booked"):
        ledger.book_terminal_value("s", 70.0, 90.0, b)


@pytest.mark.parametrize("value,ok", [
    (0.0, True), (-3, True), (2.5e300, True), (np.float32(1.5), True), (np.int64(7), True),
    (math.nan, False), (-math.inf, False), (np.float64("nan"), False), (True, False),
    ("1.0", False), (None, False), (1 + 0j, False),
])
def test_check_finite_number_admits_finite_reals_only(value: object, ok: bool) -> None:
    """Plain floats and ints take a fast path; numpy scalars the ABC check; bools, NaN,
    infinities and non-numbers are refused, naming the field."""
    if ok:
        check_finite_number("rate", value)  # type: ignore[arg-type]
    else:
        with pytest.raises(ValueError, match="rate must be a finite number"):
            check_finite_number("rate", value)  # type: ignore[arg-type]
