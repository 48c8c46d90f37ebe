"""Market metrics: hand-computed answers, and incremental == batch (numpy) on random series."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rex_env.sim.metrics import (
    MarketMetrics,
    SlotStats,
    allocative_efficiency,
    competitive_equilibrium,
    format_table,
    herfindahl,
    smith_alpha,
)
from rex_env.sim.settlement import Delivery, Ledger, OwnerAccount, OwnerSettlement
from rex_env.spec.scenario import Tariff


def rec(owner: str, slot: int = 0, **fields: float) -> OwnerSettlement:
    """A settlement record with zeros except the given fields."""
    base: dict[str, float] = dict(
        position_kw=0.0,
        reserved_kw=0.0,
        actual_kw=0.0,
        imbalance_kwh=0.0,
        trade_cash=0.0,
        imbalance_cash=0.0,
        unserved_kwh=0.0,
        unserved_cost=0.0,
        spilled_kwh=0.0,
        imbalance_price=0.0,
        hours=0.25,
    )
    base.update(fields)
    return OwnerSettlement(slot=slot, owner=owner, **base)


# -- slot statistics ------------------------------------------------------------------------


def test_vwap_and_volatility_small_series() -> None:
    prices = [50.0, 52.0, 51.0, 55.0]
    rates = [1.0, 2.0, 1.0, 4.0]
    s = SlotStats(3)
    for t, (p, q) in enumerate(zip(prices, rates, strict=True)):
        s.on_trade(10 * t, p, q)
    assert s.vwap == pytest.approx(425 / 8)  # (50 + 104 + 51 + 220) / 8
    assert s.vwap == pytest.approx(np.average(prices, weights=rates))
    # changes 2, -1, 4: sample std sqrt(57/9)
    assert s.volatility == pytest.approx(math.sqrt(57 / 9))
    assert s.volatility == pytest.approx(np.std(np.diff(prices), ddof=1))
    assert (s.n_trades, s.volume, s.volume_kwh) == (4, 8.0, 2.0)
    assert (s.high, s.low, s.last_price) == (55.0, 50.0, 55.0)
    assert (s.first_trade_time, s.last_trade_time) == (0, 30)


def test_empty_slot_is_undefined_not_zero() -> None:
    s = SlotStats(0)
    assert math.isnan(s.vwap) and math.isnan(s.volatility) and math.isnan(s.mean_spread)
    s.on_trade(0, 10.0, 1.0)
    s.on_trade(1, 12.0, 1.0)
    assert math.isnan(s.volatility)  # one change: no sample std yet


def test_spread_and_depth_sample_and_time_weighted() -> None:
    s = SlotStats(0)
    s.on_quote(0, 50.0, 52.0, 3.0, 1.0)  # spread 2, holds 10 s
    s.on_quote(10, 49.0, 53.0, 1.0, 1.0)  # spread 4, holds 30 s
    s.on_quote(40, 49.0, None, 1.0, 0.0)  # one-sided, holds 20 s
    s.close(60)
    assert s.mean_spread == pytest.approx(3.0)  # (2 + 4) / 2 two-sided samples
    assert s.tw_spread == pytest.approx((2 * 10 + 4 * 30) / 40)  # one-sided time excluded
    assert s.two_sided_fraction == pytest.approx(2 / 3)
    assert s.mean_bid_depth == pytest.approx(5 / 3)
    assert s.tw_bid_depth == pytest.approx((3 * 10 + 1 * 50) / 60)
    assert s.tw_ask_depth == pytest.approx((1 * 40) / 60)
    with pytest.raises(ValueError, match="before the last quote"):
        s.on_quote(59, 1.0, 2.0, 1.0, 1.0)


def test_bad_events_are_rejected() -> None:
    s = SlotStats(0)
    with pytest.raises(ValueError, match="rate"):
        s.on_trade(0, 10.0, 0.0)
    with pytest.raises(ValueError, match="finite"):
        s.on_trade(0, math.nan, 1.0)
    with pytest.raises(ValueError, match="bid_depth"):
        s.on_quote(0, 1.0, 2.0, -1.0, 0.0)


series = st.lists(
    st.tuples(
        st.integers(0, 100),  # time step
        st.floats(-9999, 9999, allow_nan=False),  # price
        st.floats(0.1, 1000),  # rate
        st.one_of(st.none(), st.floats(-9999, 9999)),  # bid
        st.one_of(st.none(), st.floats(-9999, 9999)),  # ask
        st.floats(0, 1000),  # depth
    ),
    min_size=1,
    max_size=40,
)


@given(events=series, p_star=st.floats(1, 1000))
def test_incremental_equals_batch(events: list, p_star: float) -> None:
    s = SlotStats(0)
    t = 0
    times, bids, asks, depths = [], [], [], []
    for dt, p, q, bid, ask, depth in events:
        t += dt
        s.on_trade(t, p, q)
        s.on_quote(t, bid, ask, depth, 2 * depth)
        times.append(t)
        bids.append(np.nan if bid is None else bid)
        asks.append(np.nan if ask is None else ask)
        depths.append(depth)
    end = t + 7
    s.close(end)
    prices = np.array([e[1] for e in events])
    rates = np.array([e[2] for e in events])
    assert s.vwap == pytest.approx(np.sum(prices * rates) / np.sum(rates), rel=1e-9, abs=1e-6)
    assert s.high == prices.max() and s.low == prices.min()
    if len(prices) >= 3:
        assert s.volatility == pytest.approx(np.std(np.diff(prices), ddof=1), rel=1e-9, abs=1e-6)
    assert s.mean_price == pytest.approx(prices.mean(), rel=1e-9, abs=1e-6)
    assert s.smith_alpha(p_star) == pytest.approx(smith_alpha(prices, p_star), rel=1e-9, abs=1e-6)
    spread = np.array(asks) - np.array(bids)
    two = np.isfinite(spread)
    if two.any():
        assert s.mean_spread == pytest.approx(spread[two].mean(), rel=1e-9, abs=1e-6)
    dts = np.diff(np.array([*times, end], dtype=float))
    if (dts[two] > 0).any():
        tw = np.sum(spread[two] * dts[two]) / np.sum(dts[two])
        assert s.tw_spread == pytest.approx(tw, rel=1e-9, abs=1e-6)
    assert s.tw_bid_depth == pytest.approx(
        np.sum(np.array(depths) * dts) / dts.sum(), rel=1e-9, abs=1e-6
    )
    assert s.mean_ask_depth == pytest.approx(2 * np.mean(depths), rel=1e-9, abs=1e-6)


# -- concentration, Smith's alpha, competitive equilibrium ---------------------------------------


@pytest.mark.parametrize("n", [1, 2, 4, 5, 10])
def test_hhi_of_equal_shares(n: int) -> None:
    assert herfindahl([3.5] * n) == pytest.approx(10000 / n)


def test_hhi_monopoly_and_examples() -> None:
    assert herfindahl([7.0, 0.0, 0.0]) == pytest.approx(10000)
    assert herfindahl([60, 20, 20]) == pytest.approx(3600 + 400 + 400)
    assert math.isnan(herfindahl([]))
    with pytest.raises(ValueError):
        herfindahl([1.0, -1.0])


def test_market_hhi_counts_bought_plus_sold() -> None:
    ledger = Ledger(cash_at_fill=True)
    m = MarketMetrics(accounts=ledger.accounts)
    for t, (seller, price) in enumerate((("b", 50.0), ("c", 51.0))):
        m.on_trade(0, t, price, 2.0)
        ledger.on_fill("a", seller, price * 2.0 / 4000, 2.0)
    # gross volumes a 4, b 2, c 2 of 8: shares 50, 25, 25
    assert m.hhi() == pytest.approx(2500 + 625 + 625)


def test_smith_alpha() -> None:
    assert smith_alpha([100.0] * 5, 100.0) == 0.0
    assert smith_alpha([90.0, 110.0], 100.0) == pytest.approx(10.0)
    m = MarketMetrics()
    for p in (200.0, 200.0, 200.0):
        m.on_trade(0, 0, p, 1.0)
    assert m.smith_alpha(200.0) == 0.0
    assert m.slot(0).smith_alpha(200.0) == 0.0
    m.on_trade(1, 5, 180.0, 1.0)
    assert m.smith_alpha(200.0) == pytest.approx(100 * math.sqrt(400 / 4) / 200)  # 5 %
    with pytest.raises(ValueError, match="p_star"):
        smith_alpha([1.0], 0.0)


def test_competitive_equilibrium_cliff_symmetric_market() -> None:
    # Cliff (1997) symmetric market (notes §5.4): 11 buyers and 11 sellers, limits 75..325 in
    # steps of 25 -> P0 = 200, Q0 = 6; surplus = sum over k=1..6 of (300 - 50 k) = 750
    limits = [75 + 25 * i for i in range(11)]
    eq = competitive_equilibrium(limits, limits)
    assert (eq.price_lo, eq.price_hi, eq.quantity, eq.max_surplus) == (200, 200, 6, 750)
    assert eq.price == 200


def test_competitive_equilibrium_price_interval() -> None:
    # values 200 180 160 140 120, costs 100 120 140 160 180: three units trade
    # (surplus 100 + 60 + 20); prices 140..160 clear (4th buyer and seller not willing)
    eq = competitive_equilibrium([120, 200, 160, 140, 180], [160, 100, 180, 120, 140])
    assert tuple(eq) == (140.0, 160.0, 3, 180.0)
    lo, hi, q, surplus = competitive_equilibrium([10.0], [20.0])  # no gains from trade
    assert (lo, hi, q, surplus) == (10.0, 20.0, 0, 0.0)
    assert competitive_equilibrium([50.0, 50.0], [50.0]).quantity == 1  # zero-surplus unit
    eq = competitive_equilibrium([30.0], [10.0, 20.0])  # excess supply: 2nd seller sets floor
    assert (eq.price_lo, eq.price_hi) == (10.0, 20.0)
    assert competitive_equilibrium([], [5.0]).price_lo == -math.inf


def test_allocative_efficiency_classroom_market() -> None:
    # buyers value 200 and 180, sellers cost 100 and 120: max surplus 160. Only the first pair
    # trades, at 150: buyer 200 - 150 = 50, seller 150 - 100 = 50, realised 100 -> 62.5 %
    eq = competitive_equilibrium([200, 180], [100, 120])
    m = MarketMetrics(accounts={
        "b1": OwnerAccount("b1", trade_cash=-150.0, consumption_value=200.0),
        "s1": OwnerAccount("s1", trade_cash=150.0, production_cost=100.0),
        "b2": OwnerAccount("b2"),
        "s2": OwnerAccount("s2"),
    })
    assert m.welfare == pytest.approx(100.0)
    assert m.efficiency(eq.max_surplus) == pytest.approx(0.625)
    assert allocative_efficiency(1.0, 0.0) != allocative_efficiency(1.0, 0.0)  # nan


# -- owners and the market --------------------------------------------------------------------


def test_owner_surplus_and_benefit_against_tariff() -> None:
    # a household consumes 2 kWh valued at 0.60 (retail 300), buys 1.6 kWh on Rex for 0.16 and
    # pays 0.05 imbalance; on the tariff the 2 kWh would cost 0.60
    tariff = Tariff(retail=300.0, feed_in=80.0)
    ledger = Ledger(tariff=tariff)
    o = ledger.account("h")
    o.on_settlement(
        rec("h", trade_cash=-0.16, imbalance_cash=-0.05, imbalance_kwh=-0.4, position_kw=6.4),
        Delivery(2.0, 0.0, 0.0), retail=tariff.retail)
    o.trade_cash += -0.16  # on_settlement leaves trade cash to the fills
    assert o.consumption_value == pytest.approx(0.60)
    assert o.surplus == pytest.approx(-0.16 - 0.05 + 0.60)
    assert o.tariff_surplus == pytest.approx(0.60 - 0.60)
    assert o.benefit == pytest.approx(0.39)
    assert o.imbalance_volume_kwh == 0.4 and o.imbalance_net_kwh == -0.4
    assert o.imbalance_cost == pytest.approx(0.05)
    assert o.position_kwh == pytest.approx(1.6)
    # a PV owner produces 4 kWh at no cost, sells on Rex for 0.30; feed-in would pay 0.32
    pv = ledger.account("pv")
    pv.on_settlement(rec("pv", unserved_cost=0.01), Delivery(0.0, 4.0, 0.0))
    pv.on_fill(0.30, 1.2, bought=False)
    assert pv.surplus == pytest.approx(0.29)
    assert pv.benefit == pytest.approx(0.29 - 0.32)
    assert (pv.fills, pv.sold_kw, pv.filled_kw) == (1, 1.2, 1.2)
    assert math.isnan(OwnerAccount("x").benefit)  # no tariff: undefined
    with pytest.raises(ValueError, match="record of"):
        pv.on_settlement(rec("h"))


def test_benefit_is_measured_against_the_grid_quotes_of_each_slot() -> None:
    """Under the wholesale-indexed grid the no-market benchmark buys consumption at the slot's
    retail ask and sells production at its feed-in bid, slot by slot (not the flat tariff)."""
    o = Ledger(tariff=Tariff(retail=300.0, feed_in=80.0)).account("h")
    o.on_settlement(rec("h"), Delivery(2.0, 1.0, 0.0), retail=250.0, feed_in=40.0)
    o.on_settlement(rec("h"), Delivery(1.0, 3.0, 0.0), retail=350.0, feed_in=-20.0)
    assert o.no_market_cash == pytest.approx((1.0 * 40 - 2.0 * 250 + 3.0 * -20 - 350) / 1000)
    assert o.consumption_value == pytest.approx((2.0 * 250 + 1.0 * 350) / 1000)
    assert o.tariff_surplus == pytest.approx((40 - 60) / 1000)  # consumption nets out
    assert o.benefit == pytest.approx(o.surplus - o.tariff_surplus)


def test_tariff_is_validated() -> None:
    with pytest.raises(ValueError, match="retail"):
        Tariff(retail=math.inf)
    with pytest.raises(ValueError, match="feed_in"):
        Tariff(feed_in=-1.0)


def test_summary_is_strict_json_and_rows_total() -> None:
    tariff = Tariff(retail=250.0, feed_in=50.0)
    ledger = Ledger(tariff=tariff, cash_at_fill=True)
    m = MarketMetrics(tariff, slot_len=900, accounts=ledger.accounts)
    m.on_quote(4, 0, None, None, 0.0, 0.0)
    m.on_trade(5, 10, 60.0, 4.0)
    ledger.on_fill("a", "b", 0.06, 4.0)
    m.on_trade(5, 20, 70.0, 4.0)
    ledger.on_fill("a", "c", 0.07, 4.0)
    ledger.account("a").on_settlement(rec("a", 5), Delivery(2.0, 0.0, 0.0), retail=250.0)
    ledger.account("b").on_settlement(rec("b", 5, imbalance_cash=0.01, imbalance_kwh=0.2))
    ledger.account("c").on_settlement(rec("c", 5))
    out = m.summary()
    text = json.dumps(out, allow_nan=False)
    assert json.loads(text)["slots"]["4"]["vwap"] is None
    assert out["vwap"] == pytest.approx(65.0)
    assert out["volume_kwh"] == pytest.approx(2.0)
    assert out["welfare"] == pytest.approx(0.5 - 0.13 + 0.07 + 0.07)
    assert out["hhi"] == pytest.approx(2500 + 625 + 625)
    rows = m.table_rows()
    assert [r["owner"] for r in rows] == ["a", "b", "c", "(market)"]
    assert rows[-1]["surplus"] == pytest.approx(out["welfare"])
    assert len(m.table_rows("slots")) == 2
    assert "(market)" in format_table(rows)
    with pytest.raises(ValueError, match="kind"):
        m.table_rows("trades")


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 5), st.integers(-50, 3000),
                          st.integers(1, 40)), min_size=1, max_size=30),
       st.integers(1, 6))
def test_the_markets_batches_book_what_one_at_a_time_books(
        fills: list[tuple[int, int, int, int]], batch: int) -> None:
    """The market's per-report path (no checks) gives bit-identical statistics to the public
    one-by-one methods, for trades in several slots within one report and across reports."""
    one, many = MarketMetrics(), MarketMetrics()
    rows = [(slot, 10 * i + dt, 0.1 * p, 0.1 * q)
            for i, (slot, dt, p, q) in enumerate(fills)]
    for slot, t, price, rate in rows:
        one.on_trade(slot, t, price, rate)
    for i in range(0, len(rows), batch):
        many.on_exchange_trades(rows[i:i + batch])
    quotes = [(k, 0.1 * (100 + k), math.nan if k == 2 else 0.1 * (120 + k), 0.5 * k, 1.0)
              for k in range(4)]
    for k, bid, ask, bd, ad in quotes:
        one.on_quote(k, 9999, bid, ask, bd, ad)
    many.on_exchange_quotes(9999, *(list(c) for c in zip(*quotes, strict=True)))
    assert json.dumps(many.summary()) == json.dumps(one.summary())


def test_grid_converts_arrays_as_it_converts_numbers() -> None:
    from rex_env.exchange import Grid

    g = Grid()
    ticks = np.array([-99990.0, -1.0, 0.0, 3.0, 517.0, 99990.0, math.nan])
    assert g.price(ticks)[:-1].tolist() == [g.price(x) for x in ticks.tolist()[:-1]]
    assert math.isnan(g.price(ticks)[-1])
    assert g.rate(np.array([1.0, 7.0, 33.0])).tolist() == [g.rate(x) for x in (1.0, 7.0, 33.0)]
