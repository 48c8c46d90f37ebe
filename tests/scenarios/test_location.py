"""Scenarios at a place and on a date: defaults, presets, JSON fields, bad input, forecasts."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rex_env.physics import Household, PVSystem, WindFarm
from rex_env.scenarios import (
    Scenario,
    load_scenario,
    make_scenario,
    save_scenario,
    scenario_from_dict,
    scenario_to_dict,
)
from rex_env.sim.prosumer import Prosumer
from rex_env.simulate import main
from rex_env.spec.prosumer import ProsumerSpec
from rex_env.spec.scenario import Location
from rex_env.spec.schedule import SlotSchedule


def _one_house(**kw: Any) -> Scenario:
    spec = ProsumerSpec("h", "intermittent", load=Household(), pv=PVSystem(peak_kw=5.0))
    return Scenario("one", (spec, ProsumerSpec("grid", "grid", external=True)), **kw)


def test_defaults_place_the_assets_in_kassel_on_the_schedules_day() -> None:
    sc = _one_house(schedule=SlotSchedule(day_of_year=100))
    assert sc.location == Location() and sc.location.name == "Kassel"
    assert sc.date is None and sc.episode_date == dt.date(2025, 4, 10)
    pv = sc.spec("h").pv
    assert pv is not None
    assert (pv.latitude, pv.longitude, pv.altitude, pv.utc_offset_h, pv.year) == (
        51.31, 9.45, 231.0, 1.0, 2025)


def test_a_date_sets_the_day_of_year_and_every_assets_year() -> None:
    sc = _one_house(date=dt.date(2024, 12, 31), location=Location(48.14, 11.58, 519.0))
    assert sc.schedule.day_of_year == 366
    assert sc.spec("h").load.year == 2024 and sc.spec("h").pv.year == 2024  # type: ignore[union-attr]
    assert sc.spec("h").pv.latitude == 48.14  # type: ignore[union-attr]
    rng = np.random.default_rng(0)
    p = Prosumer(sc.spec("h"), sc.schedule, rng)  # crosses into 2025 without error
    assert p.consumption.min() > 0.0


def test_season_presets_differ_as_seasons_do() -> None:
    winter, summer = make_scenario("community_winter"), make_scenario("community_summer")
    assert winter.episode_date == dt.date(2025, 1, 15) and winter.schedule.day_of_year == 15
    assert summer.episode_date == dt.date(2025, 7, 16) and summer.schedule.day_of_year == 197
    w_house, s_house = winter.spec("house00"), summer.spec("house00")
    assert w_house.pv is not None and s_house.pv is not None
    assert w_house.load is not None and s_house.load is not None
    n, L = 96, 900
    pv_w = w_house.pv.clear_sky_kw(15, n, L).sum()
    pv_s = s_house.pv.clear_sky_kw(197, n, L).sum()
    assert pv_s > 1.8 * pv_w > 0.0
    assert w_house.load.expected(15, n, L).sum() > 1.2 * s_house.load.expected(197, n, L).sum()
    wind = winter.spec("wind").wind
    assert wind is not None and wind.turbine_type == "E-53/800" and wind.speed_height == 10.0


@pytest.mark.parametrize("name", ["community_winter", "community_summer"])
def test_json_round_trip_keeps_location_and_date(name: str, tmp_path: Path) -> None:
    sc = make_scenario(name)
    save_scenario(sc, tmp_path / "s.json")
    back = load_scenario(tmp_path / "s.json")
    assert back == sc
    d = scenario_to_dict(sc)
    assert d["date"] == sc.episode_date.isoformat() and d["location"]["name"] == "Kassel"


def test_a_file_can_move_a_preset_to_another_place_and_date() -> None:
    sc = scenario_from_dict({"name": "munich", "base": "community", "date": "2025-11-05",
                             "location": {"latitude": 48.14, "longitude": 11.58,
                                          "altitude": 519, "name": "Munich"}})
    assert sc.schedule.day_of_year == 309 and sc.location.name == "Munich"
    assert all(p.pv.latitude == 48.14 for p in sc.prosumers if p.pv is not None)


def _base(**fields: Any) -> dict[str, Any]:
    return {"name": "x", "base": "toy", **fields}


@pytest.mark.parametrize("data,message", [
    (_base(location={"latitude": 95}),
     r"location: location.latitude must be a number in \[-90.0, 90.0\], got 95"),
    (_base(location={"longitude": -200}), r"location.longitude must be a number in \[-180.0"),
    (_base(location={"lat": 50}), r"location: unknown field\(s\) 'lat'"),
    (_base(date="2025-13-01"), r"date: must be a date 'YYYY-MM-DD', got '2025-13-01'"),
    (_base(date=20250101), r"date: must be a date 'YYYY-MM-DD'"),
    (_base(date="1850-06-01"), r"date must lie in 1900-01-01 .. 2200-12-31 .*got 1850-06-01"),
    ({"name": "x", "prosumers": [{"owner": "w", "agent": "intermittent",
                                  "wind": {"turbine_type": "E-53/80"}}]},
     r"prosumers\[0\].wind: WindFarm.turbine_type 'E-53/80' .*close matches: E-53/800"),
])
def test_bad_place_and_date_are_refused_naming_the_field(data: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        scenario_from_dict(data)


def test_bad_place_and_date_in_code() -> None:
    with pytest.raises(ValueError, match=r"location.latitude must be a number in"):
        Location(latitude=-90.5)
    with pytest.raises(ValueError, match=r"date must be a calendar date"):
        _one_house(date="2025-01-01")
    with pytest.raises(ValueError, match=r"date must lie in 1900-01-01"):
        _one_house(date=dt.date(2300, 1, 1))
    with pytest.raises(ValueError, match=r"schedule.day_of_year 366 needs a leap year"):
        _one_house(schedule=SlotSchedule(day_of_year=366))


@pytest.mark.parametrize("name", ["community_winter", "community_summer"])
def test_forecasts_stay_martingales_on_the_new_profiles(name: str) -> None:
    """Per asset: zero error at delivery, and each revision is mean-zero and uncorrelated with
    the previous one, standardised by its own scale (many seeds of the real profiles)."""
    sc = make_scenario(name)
    specs = [sc.spec("house00"), sc.spec("wind")]
    z_prev, z_next = [], []
    for seed in range(60):
        for spec in specs:
            p = Prosumer(spec, sc.schedule, np.random.default_rng(seed))
            for path, _ in p.paths:
                e = path.errors
                assert np.all(e[:, 0] == 0.0)
                inc = np.diff(e, axis=1)  # revision from m to m+1 revisions to go
                sd = np.sqrt(np.maximum(np.diff(path.sigma_table**2, axis=1), 0.0))
                ok = sd[:, 1:] > 0
                z_prev.append(inc[:, :-1][ok] / sd[:, :-1][ok])
                z_next.append(inc[:, 1:][ok] / sd[:, 1:][ok])
    a, b = np.concatenate(z_prev), np.concatenate(z_next)
    assert abs(a.mean()) < 4.0 / math.sqrt(a.size)  # mean zero within 4 standard errors
    assert a.std() == pytest.approx(1.0, abs=0.02)
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.01


def test_simulate_runs_the_winter_preset_with_plots(tmp_path: Path) -> None:
    assert main(["community_winter", "--days", "1", "--out", str(tmp_path),
                 "--no-progress"]) == 0
    for plot in ("depth_heatmap.png", "price_vs_gate.png", "positions.png", "imbalance.png"):
        assert (tmp_path / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", plot
    assert "community_winter" in (tmp_path / "summary.json").read_text()


def test_a_real_turbine_with_a_generic_scenario() -> None:
    farm = WindFarm(rated_kw=20.0, turbine_type="E-53/800", speed_height=10.0)
    spec = ProsumerSpec("w", "intermittent", wind=farm)
    sc = Scenario("w", (spec, ProsumerSpec("grid", "grid", external=True)))
    p = Prosumer(sc.spec("w"), sc.schedule, np.random.default_rng(3))
    assert 0.0 <= p.generation.min() and p.generation.max() <= 20.0
