"""The public price curve (rex_env/sim/curve.py) and how the market and the agents use it."""

from __future__ import annotations

import numpy as np
import pytest

from agents import GridAgent, ZITrader, build_population
from rex_env.exchange import Grid, Side
from rex_env.scenarios import make_scenario
from rex_env.sim.curve import PublicCurve
from rex_env.sim.market import Market


def test_quotes_round_onto_the_tick_grid_away_from_the_community() -> None:
    g = Grid()
    c = PublicCurve(10, np.array([50.04, -3.06]), np.array([40.04, -13.06]),
                    np.array([170.01, 116.94]), g)
    assert c.bid_ticks(10) == 400 and c.ask_ticks(10) == 1701  # bid down, ask up
    assert c.bid_ticks(11) == -131 and c.ask_ticks(11) == 1170
    assert c.price(11) == pytest.approx(-3.06) and c.price_ticks(10) == pytest.approx(500.4)
    np.testing.assert_allclose(c.window(range(10, 12)), [50.04, -3.06])
    with pytest.raises(IndexError, match="outside the episode's slots 10..11"):
        c.bid_ticks(12)
    with pytest.raises(ValueError, match="one value per slot"):
        PublicCurve(0, np.zeros(2), np.zeros(3), np.zeros(2), g)
    assert not c.prices.flags.writeable


def test_flat_scenarios_get_the_tariffs_and_the_default_a_seeded_curve() -> None:
    flat = make_scenario("community_flat")
    m = Market(flat, {})
    m.reset(0)
    assert m.curve.flat and m.view.curve is m.curve
    assert set(m.curve.prices) == {flat.reference_price}
    assert set(m.curve.bids) == {flat.tariff.feed_in} and set(m.curve.asks) == {300.0}
    sc = make_scenario("community")
    a, b, c = Market(sc, {}), Market(sc, {}), Market(sc, {})
    a.reset(5)
    b.reset(5)
    c.reset(6)
    assert not a.curve.flat
    np.testing.assert_array_equal(a.curve.prices, b.curve.prices)
    assert not np.allclose(a.curve.prices, c.curve.prices)
    w = sc.wholesale
    assert w is not None
    np.testing.assert_allclose(a.curve.bids, a.curve.prices - w.feed_in_spread)
    np.testing.assert_allclose(a.curve.asks, a.curve.prices + w.retail_spread)


def test_the_curve_does_not_change_the_other_random_streams() -> None:
    """The curve draws from the market's spare child generator: the physics of every prosumer
    is the same with and without a wholesale model."""
    sc = make_scenario("community")
    flat = sc.replace(wholesale=None)
    a, b = Market(sc, {}), Market(flat, {})
    a.reset(3)
    b.reset(3)
    for owner in sc.owners:
        np.testing.assert_array_equal(a.prosumers[owner].generation,
                                      b.prosumers[owner].generation)


def test_consumption_is_valued_at_the_grids_retail_ask_of_its_slot() -> None:
    sc = make_scenario("community")
    m = Market(sc, build_population(sc))
    m.reset(0)
    m.run()
    st = m.metrics.owner("house20")
    cons = m.prosumers["house20"].consumption
    value = float(np.sum(cons * 0.25 * m.curve.asks) / 1000)
    assert m.accounts["house20"].consumption_value == pytest.approx(value, rel=1e-9)
    assert st.consumption_kwh == pytest.approx(float(cons.sum() * 0.25))


def test_the_grid_buys_no_more_than_its_export_capacity_and_sells_without_limit() -> None:
    sc = make_scenario("community")
    pop = build_population(sc)
    m = Market(sc, pop)
    m.reset(0)
    m.run()
    bought = {k: m.exchange.position("grid", k) * 0.1 for k in sc.schedule.slots}
    assert max(bought.values()) <= 40.0 + 1e-9
    assert max(bought.values()) == pytest.approx(40.0)  # the export limit binds
    assert min(bought.values()) < 0  # the community imports in some slots
    grid = pop["grid"]
    assert isinstance(grid, GridAgent) and grid.limited == {Side.BUY: True, Side.SELL: False}
    for t in m.trades:
        if t.buyer == "grid":
            assert t.price == m.curve.bid_ticks(t.slot)
        if t.seller == "grid":
            assert t.price == m.curve.ask_ticks(t.slot)


def test_grid_parameters_are_validated() -> None:
    with pytest.raises(ValueError, match="bid_kw must be a number > 0"):
        GridAgent("grid", bid_kw=0.0)
    with pytest.raises(ValueError, match="depth_kw"):
        GridAgent("grid", depth_kw=-1.0)


def test_noise_traders_draw_values_around_the_slots_public_price() -> None:
    sc = make_scenario("community")
    m = Market(sc, {})
    m.reset(2)
    m.run_until(sc.schedule.first_slot * sc.schedule.slot_len)
    z = ZITrader("noise0", constrained=False, spread=0.5, reference_price=100.0)
    z.reset(np.random.default_rng(0))
    seen = 0
    for _ in range(300):
        for ins in z.act(m.view, m.owner_views["noise0"]):
            if ins.op == "submit" and ins.price is not None:
                c = m.curve.price_ticks(ins.slot)
                assert c - 500 - 1 <= ins.price <= c + 500 + 1  # ± spread x reference
                seen += 1
        z.working.clear()
    assert seen > 100
