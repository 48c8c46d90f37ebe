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
        assert (a.lo, a.hi) == (800, 3000)  # the tariff band: feed-in to retail


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
])
def test_bad_parameters_are_refused_naming_the_field(kw: dict, field: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError, match=field):
        RandomTrader("r", **kw)
