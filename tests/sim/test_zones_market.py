"""Zones in the simulation (issue 17): scenario validation, routing, cross-zonal gate,
accounting, the spatial arbitrager, the loader and the environment."""

from __future__ import annotations

import dataclasses

import pytest

from agents import build_population, make_agent
from rex_env.scenarios import make_scenario
from rex_env.scenarios.loader import scenario_from_dict, scenario_to_dict
from rex_env.sim.market import Market
from rex_env.sim.zonal import zonal_day
from rex_env.spec import Line, ProsumerSpec, SlotSchedule

SHORT = SlotSchedule(n_slots=12, open_lead=3 * 3600, gate_lead=900, call_len=300,
                     day_of_year=100, start_hour=16.0)


def short_two_towns(**changes):  # type: ignore[no-untyped-def]
    return make_scenario("two_towns").replace(schedule=SHORT, **changes)


@pytest.fixture(scope="module")
def market() -> Market:
    sc = short_two_towns()
    m = Market(sc, build_population(sc))
    m.reset(3)
    m.run()
    return m


def test_every_owner_trades_in_its_zone_and_the_zones_account_for_the_flows(market: Market
                                                                             ) -> None:
    zx = market.zonal
    assert zx is not None and zx.zones == ["rural", "town"]
    cross = [t for t in market.trades if t.buy_zone != t.sell_zone]
    assert cross, "the line carried nothing"
    zone_of = market.zone_of
    for t in market.trades:
        assert zone_of[t.buyer] == t.buy_zone and zone_of[t.seller] == t.sell_zone
    for slot in market.schedule.slots:
        total = 0
        for z in zx.zones:
            pos = zx.positions(slot, z)
            assert all(zone_of[o] == z for o in pos)
            assert sum(pos.values()) == zx.net_import(z, slot)
            total += sum(pos.values())
        assert total == 0
        for a, b in zx.paths:
            assert -zx.capacity(b, a, slot) <= zx.net_flow(a, b, slot) <= zx.capacity(a, b, slot)
        # settlement used the positions held in every zone
        for owner, rec in market.settlements[slot].items():
            lots = zx.position(owner, slot)
            assert rec.position_kw == pytest.approx(float(market.grid.rate(lots)))


def test_cross_zonal_trading_ends_at_the_cross_zonal_gate(market: Market) -> None:
    lead = market.scenario.cross_gate_lead
    assert lead > 0
    for t in market.trades:
        if t.buy_zone != t.sell_zone:
            assert t.time < market.schedule.close_time(t.slot) - lead + 1


def test_two_towns_metrics_and_arbitrager(market: Market) -> None:
    day = zonal_day(market)
    tot = day.totals
    assert tot["flow_mwh_by_path"]["rural->town"] > 0
    assert tot["slots_with_both_prices"] > 0 and tot["mean_spread"] >= 0
    assert set(tot["congestion_hours_by_path"]) == {"rural->town", "town->rural"}
    # the arbitrager closes crossings with two immediate legs: it ends flat and earns
    arb = market.accounts["arbitrager"]
    assert sum(1 for t in market.trades if "arbitrager" in (t.buyer, t.seller)) > 10
    assert all(market.zonal.position("arbitrager", k) == 0 for k in market.schedule.slots)
    assert arb.imbalance_volume_kwh == pytest.approx(0.0, abs=1e-9)
    assert arb.surplus > 0


@pytest.mark.parametrize("change, match", [
    (dict(zones=("rural",)), "prosumer 'town'|is in zone 'town'"),
    (dict(lines=(Line("rural", "moon", 5.0),)), "zone 'moon', which does not exist"),
    (dict(cross_gate_lead=-1), "cross_gate_lead"),
    (dict(zones=()), "lines need zones"),
])
def test_bad_zone_scenarios_are_refused(change: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        short_two_towns(**change)


def test_bad_lines_are_refused() -> None:
    with pytest.raises(ValueError, match="capacity_kw must be in"):
        Line("a", "b", -1.0)
    with pytest.raises(ValueError, match="24 hourly"):
        Line("a", "b", (1.0, 2.0))
    with pytest.raises(ValueError, match="to itself"):
        Line("a", "a", 1.0)
    with pytest.raises(ValueError, match="name a zone but the scenario declares none"):
        make_scenario("toy").replace(prosumers=(ProsumerSpec("x", "zic", zone="z"),),
                                     learners=())


def test_hourly_line_capacity_varies_by_slot() -> None:
    hourly = tuple(10.0 if 17 <= h < 20 else 40.0 for h in range(24))
    lines = (Line("rural", "town", hourly), Line("town", "rural", 40.0))
    m = Market(short_two_towns(lines=lines), {})
    zx = m.zonal
    s = m.schedule
    caps = {k: zx.capacity("rural", "town", k) for k in s.slots}
    for k, lots in caps.items():
        hour = (s.local_seconds(k) // 3600) % 24
        assert lots == (100 if 17 <= hour < 20 else 400)


def test_the_spatial_arbitrager_needs_zones() -> None:
    sc = make_scenario("toy")
    with pytest.raises(ValueError, match="needs a scenario with zones"):
        make_agent(ProsumerSpec("arb", "spatial"), sc)


def test_loader_round_trip_and_bad_zone_fields() -> None:
    sc = short_two_towns()
    back = scenario_from_dict(scenario_to_dict(sc))
    assert back == sc
    d = scenario_to_dict(sc)
    d["prosumers"][0]["zone"] = "atlantis"
    with pytest.raises(ValueError, match="atlantis"):
        scenario_from_dict(d)
    d = scenario_to_dict(sc)
    d["lines"][0]["capacity_kw"] = -3
    with pytest.raises(ValueError, match=r"lines\[0\]"):
        scenario_from_dict(d)
    d = scenario_to_dict(sc)
    d["zones"] = "rural"
    with pytest.raises(ValueError, match="zones"):
        scenario_from_dict(d)


def test_the_environment_runs_zonal_scenarios() -> None:
    import rex_env

    env = rex_env.parallel_env(short_two_towns())  # was refused before issue 17's env work
    obs, _ = env.reset(seed=0)
    assert set(obs) == set(env.possible_agents)


def test_single_zone_scenarios_use_the_plain_exchange() -> None:
    sc = make_scenario("toy")
    m = Market(sc, {})
    assert m.zonal is None and not sc.zonal
    assert all(p.zone == "" for p in sc.prosumers)
    assert dataclasses.replace(sc) == sc
