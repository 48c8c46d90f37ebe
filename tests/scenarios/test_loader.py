"""Scenarios from JSON files (rex_env/scenarios/loader.py): round trips, the format's
conveniences (count, base preset), make_scenario with a path, and errors that name the field
and what is allowed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents import build_population
from rex_env.physics import Battery
from rex_env.scenarios import (
    PRESETS,
    load_scenario,
    make_scenario,
    save_scenario,
    scenario_from_dict,
    scenario_to_dict,
)
from rex_env.sim.market import Market

STREET = {
    "name": "street",
    "description": "six houses, a battery and the grid",
    "schedule": {"n_slots": 8, "open_lead": 7200, "gate_lead": 900, "call_len": 300,
                 "day_of_year": 172},
    "settlement": {"mode": "dual", "premium": 0.3},
    "tariff": {"retail": 280, "feed_in": 70},
    "reference_price": 90,
    "prosumers": [
        {"owner": "house", "count": 6, "agent": "intermittent",
         "load": {"annual_kwh": 3000}, "pv": {"peak_kw": 5}},
        {"owner": "battery", "agent": "storage",
         "battery": {"energy_kwh": 30, "power_kw": 10}, "params": {"margin": 0.05}},
        {"owner": "grid", "agent": "grid", "external": True},
    ],
}


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_survives_a_round_trip_through_json(name: str, tmp_path: Path) -> None:
    sc = make_scenario(name)
    path = tmp_path / f"{name}.json"
    save_scenario(sc, path)
    assert load_scenario(path) == sc
    assert make_scenario(str(path)) == sc and make_scenario(path) == sc
    json.loads(path.read_text())  # plain JSON


def test_a_scenario_file_builds_and_runs(tmp_path: Path) -> None:
    path = tmp_path / "street.json"
    path.write_text(json.dumps(STREET))
    sc = make_scenario(str(path))
    assert sc.name == "street" and sc.settlement.mode == "dual" and sc.settlement.premium == 0.3
    assert [p.owner for p in sc.prosumers][:3] == ["house00", "house01", "house02"]
    assert len(sc.prosumers) == 8
    assert sc.spec("battery").battery == Battery(energy_kwh=30, power_kw=10)
    assert dict(sc.spec("battery").params) == {"margin": 0.05}
    assert sc.tariff.retail == 280 and sc.reference_price == 90
    assert sc.grid.slot_len == sc.schedule.slot_len
    pop = build_population(sc)
    assert pop["battery"].margin == 0.05  # type: ignore[attr-defined]
    m = Market(sc, pop)
    m.reset(0)
    m.run()
    assert m.done and len(m.settlements) == 8


def test_a_base_preset_with_changes() -> None:
    sc = scenario_from_dict({"name": "community-dual", "base": "community",
                             "settlement": {"mode": "dual"}})
    base = make_scenario("community")
    assert sc.settlement.mode == "dual" and sc.prosumers == base.prosumers
    assert sc.schedule == base.schedule and sc.name == "community-dual"


def test_preset_names_still_work_and_unknown_names_list_them() -> None:
    assert make_scenario("toy").name == "toy"
    with pytest.raises(ValueError, match=f"presets: {', '.join(sorted(PRESETS))}, or the path"):
        make_scenario("villag")


def _with(**changes: object) -> dict:  # type: ignore[type-arg]
    d = json.loads(json.dumps(STREET))
    d.update(changes)
    return d


def _prosumer(**p: object) -> dict:  # type: ignore[type-arg]
    return _with(prosumers=[p])


@pytest.mark.parametrize(("data", "message"), [
    ([1, 2], r"scenario: must be a JSON object"),
    ({"prosumers": STREET["prosumers"]}, r"name: must be a non-empty string"),
    ({"name": "x"}, r"prosumers: missing"),
    (_with(colour="red"), r"unknown field\(s\) 'colour'; allowed: name, description"),
    (_with(prosumers=[]), r"prosumers: must be a non-empty list"),
    (_with(schedule={"n_slots": "many"}), r"schedule: n_slots must be an int"),
    (_with(schedule={"slots": 4}), r"schedule: unknown field\(s\) 'slots'; allowed: slot_len"),
    (_with(grid={"tick": 0}), r"grid: tick must be > 0"),
    (_with(grid={"slot_len": 600}), r"grid: unknown field\(s\) 'slot_len'"),
    (_with(settlement={"mode": "pay-as-bid"}), r"settlement: mode must be one of single"),
    (_with(tariff={"retail": -1}), r"tariff: Tariff.retail must be"),
    (_with(reference_price="cheap"), r"reference_price: must be a number"),
    (_with(depth_levels=0), r"depth_levels must be an int in 1..50"),
    (_with(base="village"),
     r"base: must be a preset, one of bandit, community, .*toy, two_towns; got"),
    (_with(learners=["nobody"]), r"learners \['nobody'\] are not owners"),
    (_with(wholesale={"retail_spread": -5}),
     r"wholesale: WholesaleModel.retail_spread must be a finite number in \[0.0, 3000.0\]"),
    (_with(wholesale={"peak": 1}), r"wholesale: unknown field\(s\) 'peak'; allowed: base"),
    (_with(forecast_update_s=7), r"forecast_update_s must be an int >= 60 that divides"),
    (_with(forecast_update_s=1.5), r"forecast_update_s: must be an int"),
    (_prosumer(agent="zic"), r"prosumers\[0\].owner: must be a non-empty string"),
    (_prosumer(owner="a", agent="wizard"), r"prosumers\[0\].agent: must be one of intermittent"),
    (_prosumer(owner="a", agent="plant"), r"prosumers\[0\]: 'a': agent 'plant' needs a plant"),
    (_prosumer(owner="a", agent="storage", battery={"power_kw": -1}),
     r"prosumers\[0\].battery: Battery.power_kw must be"),
    (_prosumer(owner="a", agent="storage", battery={"power": 1}),
     r"prosumers\[0\].battery: unknown field\(s\) 'power'; allowed: energy_kwh, power_kw"),
    (_prosumer(owner="a", agent="storage", battery={}, params={"margin": -1}),
     r"prosumers\[0\]: 'a' \(agent 'storage'\): margin must be a number >= 0"),
    (_prosumer(owner="a", agent="storage", battery={}, params={"colour": 1}),
     r"prosumers\[0\]: 'a': unknown parameter for agent 'storage' in params: 'colour'"),
    (_prosumer(owner="a", agent="zic", params=[1]), r"prosumers\[0\].params: must be"),
    (_prosumer(owner="h", agent="zic", count=0), r"prosumers\[0\].count: must be an int >= 1"),
    (_prosumer(owner="g", agent="grid"), r"prosumers\[0\]: 'g': agent 'grid' needs"),
    (_prosumer(owner="g", agent="grid", external="yes"),
     r"prosumers\[0\].external: must be true or false"),
    (_with(prosumers=[{"owner": "a", "agent": "zic"}, {"owner": "a", "agent": "zic"}]),
     r"owner ids must be unique, repeated: \['a'\]"),
])
def test_invalid_scenarios_are_refused_naming_the_field(data: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        scenario_from_dict(data)


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"missing.json: cannot read the scenario file"):
        load_scenario(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    with pytest.raises(ValueError, match=r"bad.json: not valid JSON"):
        make_scenario(str(bad))
    bad.write_text(json.dumps(_with(tariff={"retail": -1})))
    with pytest.raises(ValueError, match=r"bad.json: tariff: Tariff.retail"):
        load_scenario(bad)


def test_to_dict_is_plain_json_and_names_every_part() -> None:
    d = scenario_to_dict(make_scenario("community"))
    assert set(d) >= {"name", "schedule", "grid", "settlement", "tariff", "prosumers"}
    assert d["settlement"]["scarcity_adder"] == 20000.0
    assert json.loads(json.dumps(d)) == d
