"""Issue 15: hostile scenario files and env arguments are refused at load, naming the field and
the allowed range, in bounded time and memory; loading is linear in ``count``."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import pytest

from rex_env.envs.config import EnvConfig
from rex_env.physics import PVSystem
from rex_env.physics._validate import MAX_MAGNITUDE
from rex_env.scenarios import PRESETS, load_scenario, scenario_from_dict
from rex_env.scenarios.loader import (
    LIMITS,
    MAX_FILE_BYTES,
    MAX_JSON_DEPTH,
    MAX_OPEN_SLOTS,
    MAX_PROSUMERS,
    check_limits,
    nesting,
)

STREET: dict[str, Any] = {
    "name": "street",
    "schedule": {"n_slots": 8, "open_lead": 7200},
    "prosumers": [
        {"owner": "house", "count": 3, "agent": "intermittent",
         "load": {"annual_kwh": 3000}, "pv": {"peak_kw": 5}},
        {"owner": "plant", "agent": "plant", "plant": {"capacity_kw": 100}},
        {"owner": "grid", "agent": "grid", "external": True},
    ],
}


def street(**changes: Any) -> dict[str, Any]:
    d = json.loads(json.dumps(STREET))
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = d
        for p in parents:
            target = target[int(p)] if p.isdigit() else target.setdefault(p, {})
        target[last] = value
    return d


def test_the_street_is_valid():
    assert len(scenario_from_dict(street()).prosumers) == 5


@pytest.mark.parametrize(("changes", "message"), [
    ({"prosumers__0__count": 10**9},
     r"prosumers\[0\]\.count: must be an int >= 1 and <= 10000, got 1000000000"),
    ({"prosumers__0__count": 1e9}, r"prosumers\[0\]\.count: must be an int >= 1 and <= 10000"),
    ({"prosumers__0__count": 6000, "prosumers__1__agent": "plant"}, None),  # fine alone
    ({"schedule__n_slots": 10**9}, r"schedule\.n_slots: must be in \[1, 35136\] slots"),
    ({"schedule__open_lead": 10**9}, r"schedule\.open_lead: must be in \[1, 604800\] s"),
    ({"schedule__slot_len": 60, "schedule__open_lead": 604800, "schedule__gate_lead": 900},
     r"schedule: open_lead / slot_len = 10080 slots open at once; at most 1024"),
    ({"schedule__n_slots": 35136, "prosumers__0__count": 100},
     r"schedule\.n_slots: 102 prosumers \* 35136 slots = 3583872; at most 2000000"),
    ({"tariff": {"retail": 1e308}}, r"tariff\.retail: must be in \[0, 1e\+06\] currency/MWh"),
    ({"tariff": {"feed_in": 1e7}}, r"tariff\.feed_in: must be in \[0, 1e\+06\]"),
    ({"settlement": {"voll": 1e300}}, r"settlement\.voll: must be in \[0, 1e\+06\]"),
    ({"grid": {"price_min": "-1e9"}}, r"grid"),
    ({"grid": {"price_min": "-9999999", "price_max": "9999999"}},
     r"grid\.price_min: must be in \[-1e\+06, 1e\+06\]"),
    ({"prosumers__1__plant": {"capacity_kw": 100, "cost_a": 1e300}},
     r"prosumers\[1\]\.plant\.cost_a: must be in \[-1e\+06, 1e\+06\]"),
    ({"prosumers__0__pv": {"peak_kw": 1e300}},
     r"prosumers\[0\]\.pv: PVSystem\.peak_kw must be a finite number > 0 and <= 1e\+09"),
    ({"prosumers__0__load": {"annual_kwh": 1e300}},
     r"prosumers\[0\]\.load: Household\.annual_kwh must be a finite number > 0 and <= 1e\+09"),
    ({"prosumers__1__plant": {"capacity_kw": 1e300}},
     r"prosumers\[1\]\.plant: ProvisionPlant\.capacity_kw must be a finite number > 0"),
    ({"prosumers__1__plant": {"capacity_kw": 100, "ramp_kw_per_slot": 1e300}},
     r"ramp_kw_per_slot must be a number > 0 \(math\.inf allowed; finite ones <= 1e\+09\)"),
])
def test_hostile_sizes_and_magnitudes_are_refused_naming_the_field(changes, message):
    data = street(**changes)
    t0 = time.perf_counter()
    if message is None:
        scenario_from_dict(data)
    else:
        with pytest.raises(ValueError, match=message):
            scenario_from_dict(data)
    assert time.perf_counter() - t0 < 2.0


def test_more_than_max_prosumers_in_total_are_refused_before_copies_are_made():
    data = street(prosumers__0__count=MAX_PROSUMERS)
    data["prosumers"].append({"owner": "more", "count": MAX_PROSUMERS, "agent": "zic",
                              "load": {"annual_kwh": 3000}})
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=r"prosumers: more than 10000 prosumers"):
        scenario_from_dict(data)
    assert time.perf_counter() - t0 < 1.0


def test_loading_is_linear_in_count():
    # issue 15: loading grew x3.5 per doubling of count (a quadratic duplicate check)
    def load(n: int) -> float:
        data = street(prosumers__0__count=n)
        t0 = time.perf_counter()
        scenario_from_dict(data)
        return time.perf_counter() - t0

    load(100)  # warm up
    small = min(load(2500) for _ in range(3))
    large = min(load(MAX_PROSUMERS - 2) for _ in range(3))
    assert large < 2.0
    assert large / small < 10, (small, large)  # 4x the prosumers: linear 4x, quadratic 16x


def test_a_file_larger_than_the_limit_is_refused_after_reading_limit_plus_one_bytes(
        tmp_path: Path, monkeypatch):
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (MAX_FILE_BYTES + 10))
    reads: list[int] = []
    real_open = open

    def spy(*args: Any, **kwargs: Any) -> Any:
        handle = real_open(*args, **kwargs)
        read = handle.read

        def counted(n: int = -1) -> Any:
            reads.append(n)
            return read(n)
        handle.read = counted
        return handle
    monkeypatch.setattr("builtins.open", spy)
    with pytest.raises(ValueError, match=r"big\.json: the scenario file is larger than 4194304"):
        load_scenario(big)
    assert reads == [MAX_FILE_BYTES + 1]


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000,
                                  '{"a":' * 100_000 + "1" + "}" * 100_000,
                                  json.dumps({"name": "x", "prosumers": [[[[[[[[[[[[[[[[[[[[[[[[
                                      [[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]})],
                         ids=["arrays-100000-deep", "objects-100000-deep", "34-deep"])
def test_deeply_nested_json_is_refused_without_recursion_error(tmp_path: Path, text: str):
    f = tmp_path / "deep.json"
    f.write_text(text)
    with pytest.raises(ValueError, match=r"deep\.json: JSON nests deeper than 32 levels"):
        load_scenario(f)


def test_deeply_nested_python_data_is_refused_too():
    deep: list[Any] = [1]
    for _ in range(100_000):
        deep = [deep]
    data = street()
    data["prosumers"][0]["pv"] = {"peak_kw": 5, "substeps": deep}
    with pytest.raises(ValueError, match=r"nests deeper than 32 levels"):
        scenario_from_dict(data)
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    assert nesting(cyclic) == MAX_JSON_DEPTH + 1


def test_a_file_that_is_not_utf8_is_refused_naming_the_file(tmp_path: Path):
    f = tmp_path / "latin.json"
    f.write_bytes(b'{"name": "caf\xe9"}')
    with pytest.raises(ValueError, match=r"latin\.json: not UTF-8 text"):
        load_scenario(f)


def test_every_preset_is_within_the_limits():
    for make in PRESETS.values():
        check_limits(make())


def test_limits_table_has_sane_ranges():
    for path, (lo, hi, unit) in LIMITS.items():
        assert lo < hi and unit, path
    assert MAX_OPEN_SLOTS == 1024
    assert MAX_MAGNITUDE == 1e9


def test_physics_magnitudes_are_capped_at_construction():
    with pytest.raises(ValueError, match=r"PVSystem\.peak_kw must be a finite number > 0 and"):
        PVSystem(peak_kw=1e300)
    with pytest.raises(ValueError, match=r"PVSystem\.peak_kw"):
        PVSystem(peak_kw=10**400)  # an int too large for a float: no OverflowError
    assert PVSystem(peak_kw=MAX_MAGNITUDE).peak_kw == MAX_MAGNITUDE


# -- the env constructor -------------------------------------------------------------------------


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"price_levels": 10**9}, r"price_levels must be an int >= 2 and <= 64"),
    ({"size_levels": tuple([0.5] * 1000)}, r"size_levels must be a sequence of 1\.\.32"),
    ({"size_levels": (True,)}, r"size_levels must be fractions"),
    ({"decision_interval": 10**12}, r"decision_interval must be a positive int of seconds <="),
    ({"max_cycles": 10**12}, r"max_cycles must be a positive int <= 10000000"),
])
def test_env_config_refuses_hostile_sizes(kwargs, message):
    with pytest.raises(ValueError, match=message):
        EnvConfig(**kwargs)


def test_env_config_checks_a_python_built_scenario_against_the_limits():
    from rex_env.scenarios import make_scenario
    from rex_env.spec.schedule import SlotSchedule

    sc = make_scenario("toy")
    huge = sc.replace(schedule=SlotSchedule(n_slots=10**9))
    with pytest.raises(ValueError, match=r"schedule\.n_slots: must be in \[1, 35136\]"):
        EnvConfig(scenario=huge).build_scenario()


def test_env_config_refuses_a_discrete_table_beyond_the_limit():
    from rex_env.scenarios import make_scenario
    from rex_env.spec.schedule import SlotSchedule

    sc = make_scenario("toy")
    wide = sc.replace(schedule=SlotSchedule(slot_len=600, n_slots=96, open_lead=604_800),
                      grid=dataclasses.replace(sc.grid, slot_len=600))
    cfg = EnvConfig(scenario=wide, action_mode="discrete", price_levels=64,
                    size_levels=tuple(i / 32 for i in range(1, 33)))
    with pytest.raises(ValueError, match=r"discrete action table would have 4124672 rows"):
        cfg.build_scenario()
