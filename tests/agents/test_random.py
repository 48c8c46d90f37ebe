"""The random trader holding the same assets (agents/random_agent.py): the floor every
prototype must beat."""

from __future__ import annotations

import pytest

from agents import RandomTrader, make_agent
from rex_env.scenarios import make_scenario

from .helpers import run


def test_make_agent_gives_every_prosumer_a_random_twin_with_its_capacity() -> None:
    sc = make_scenario("toy")
    for spec in sc.prosumers:
        if spec.external:
            continue
        a = make_agent(spec, sc, "random")
        assert isinstance(a, RandomTrader)
        cap_kw = spec.capacity_kw if spec.capacity_kw > 0 else 1.0  # no assets: 1 kW
        assert a.capacity == round(cap_kw / 0.1)
        assert not a.fixed  # it draws between the grid's quotes of each slot


def test_its_prices_follow_the_grid_quotes_of_each_slot_under_the_wholesale_curve() -> None:
    sc = make_scenario("community").with_agents(wind="random")
    m = run(sc, 0)
    assert not m.curve.flat
    a = m.agents["wind"]
    bands = [a.band(m.view, k) for k in sc.schedule.slots]
    assert bands == [(m.curve.bid_ticks(k), m.curve.ask_ticks(k)) for k in sc.schedule.slots]
    assert len(set(bands)) > 10  # the band moves with the day's curve
    assert any("wind" in (t.buyer, t.seller) for t in m.trades)


def test_a_fixed_band_is_kept_and_a_flat_curve_gives_the_tariff_band() -> None:
    a = RandomTrader("r", 1.0, price_lo=50.0, price_hi=60.0)
    assert a.fixed and (a.lo, a.hi) == (500, 600)
    m = run(make_scenario("toy").with_agents(wind="random"), 0)
    assert m.curve.flat
    b = m.agents["wind"]
    assert b.band(m.view, m.schedule.first_slot) == (800, 3000)  # feed-in to retail


@pytest.mark.parametrize("seed", [0, 1])
def test_it_trades_at_random_within_its_capacity(seed: int) -> None:
    sc = make_scenario("toy").with_agents(plant="random", battery="random", wind="random")
    m = run(sc, seed)
    for owner in ("plant", "battery", "wind"):
        cap = round(sc.spec(owner).capacity_kw / 0.1)
        positions = [m.exchange.position(owner, k) for k in sc.schedule.slots]
        assert all(abs(p) <= cap for p in positions), (owner, positions)
        assert any(positions), owner  # it does trade
        sides = {t.buyer == owner for t in m.trades if owner in (t.buyer, t.seller)}
        assert sides == {True, False}  # both sides


def test_same_seed_same_random_day() -> None:
    sc = make_scenario("toy").with_agents(plant="random")
    assert run(sc, 5).trades == run(sc, 5).trades


@pytest.mark.parametrize(("kw", "field"), [
    ({"capacity_kw": 0}, "capacity_kw"), ({"capacity_kw": 1, "price_lo": 100,
                                           "price_hi": 50}, "price_hi"),
    ({"capacity_kw": 1, "price_lo": 100}, "price_hi"),
])
def test_bad_parameters_are_refused_naming_the_field(kw: dict, field: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError, match=field):
        RandomTrader("r", **kw)
