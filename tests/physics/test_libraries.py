"""The physics against the field's libraries called directly, offline loading, bad input."""

from __future__ import annotations

import socket
from typing import Any

import numpy as np
import pytest

from rex_env.physics import Household, PVSystem, WindFarm, turbine_types
from rex_env.physics.wind import _library_curve


def _windpowerlib_direct(farm: WindFarm, v_measured: np.ndarray) -> np.ndarray:  # type: ignore[type-arg]
    """Farm output (kW) computed with windpowerlib alone: profile law, then the power curve."""
    from windpowerlib import WindTurbine, power_output, wind_speed

    turbine = WindTurbine(turbine_type=farm.turbine_type, hub_height=farm.hub_height_m)
    if farm.profile == "logarithmic":
        v_hub = wind_speed.logarithmic_profile(v_measured, farm.speed_height, turbine.hub_height,
                                               farm.roughness_length)
    else:
        v_hub = wind_speed.hellman(v_measured, farm.speed_height, turbine.hub_height,
                                   farm.roughness_length)
    curve = turbine.power_curve
    watts = power_output.power_curve(np.asarray(v_hub), curve["wind_speed"], curve["value"])
    out: np.ndarray = np.asarray(watts) / curve["value"].max() * farm.rated_kw  # type: ignore[type-arg]
    return out


@pytest.mark.parametrize("profile", ["logarithmic", "hellman"])
@pytest.mark.parametrize("turbine", ["E-53/800", "V90/2000", "N131/3600"])
def test_wind_output_equals_windpowerlib_called_directly(profile: str, turbine: str) -> None:
    farm = WindFarm(rated_kw=60.0, turbine_type=turbine, speed_height=10.0, profile=profile,
                    weibull_c=5.0)
    v10 = farm.wind_speed(np.random.default_rng(0), 96 * 7)
    ours = farm.sample(np.random.default_rng(0), 96 * 7)
    np.testing.assert_allclose(ours, _windpowerlib_direct(farm, v10), rtol=1e-12, atol=1e-12)
    assert ours.max() <= 60.0 and ours.min() >= 0.0


def test_turbine_data_come_from_the_library() -> None:
    farm = WindFarm(turbine_type="E-53/800")
    assert farm.hub_height_m == 50.0  # the first of the library's 50; 60; 73 m
    assert WindFarm(turbine_type="E-53/800", hub_height=73.0).hub_height_m == 73.0
    assert "E-53/800" in turbine_types() and len(turbine_types()) > 50
    # E-53: cut-in below 3 m/s, full power from 13 m/s, nothing above its 25 m/s curve
    p = farm.power([2.0, 8.0, 13.0, 20.0, 26.0])
    assert p[0] < 0.01 * farm.rated_kw and p[2] == p[3] == farm.rated_kw and p[4] == 0.0
    assert p[1] == pytest.approx(336.0 / 810.0 * farm.rated_kw)


def test_log_profile_hand_computed() -> None:
    # v_hub / v_10 = ln(73 / 0.15) / ln(10 / 0.15) = 6.1876 / 4.1997 = 1.4733
    farm = WindFarm(turbine_type="E-53/800", hub_height=73.0, speed_height=10.0)
    assert farm.hub_factor == pytest.approx(np.log(73 / 0.15) / np.log(10 / 0.15), rel=1e-12)
    assert farm.hub_factor == pytest.approx(1.4733, abs=1e-4)
    assert WindFarm(turbine_type="E-53/800").hub_factor == 1.0  # no speed_height: at the hub


def test_generic_curve_unchanged_without_a_turbine_type() -> None:
    farm = WindFarm(rated_kw=100.0)
    assert farm.power(3.0) == 0.0 and farm.power(13.0) == 100.0 and farm.power(25.0) == 0.0


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OSError("network access attempted")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.usefixtures("no_network")
def test_profiles_build_offline() -> None:
    _library_curve.cache_clear()
    farm = WindFarm(turbine_type="V112/3000", hub_height=119.0, speed_height=10.0)
    assert farm.sample(np.random.default_rng(1), 96).shape == (96,)
    pv = PVSystem(latitude=47.1, longitude=13.3, substeps=2)  # a geometry not cached yet
    assert pv.clear_sky_kw(33, 96).max() > 0.0
    assert Household(year=2031, profile="h25").expected(5, 96).min() > 0.0


def test_unknown_turbine_lists_close_matches() -> None:
    with pytest.raises(ValueError, match=r"turbine_type 'E-53/80' is not in windpowerlib's "
                                         r"turbine library.*close matches: E-53/800"):
        WindFarm(turbine_type="E-53/80")
    with pytest.raises(ValueError, match=r"turbine_type 'zzz'.*e\.g\. "):
        WindFarm(turbine_type="zzz")


@pytest.mark.parametrize("kwargs,message", [
    ({"speed_height": 10.0}, r"speed_height needs a hub height"),
    ({"turbine_type": "V112/3000", "speed_height": 10.0},
     r"lists no hub height for 'V112/3000'; set hub_height"),
    ({"turbine_type": "E-53/800", "profile": "power"}, r"profile must be one of"),
    ({"turbine_type": "E-53/800", "roughness_length": 0.0}, r"roughness_length must be"),
    ({"turbine_type": "E-53/800", "speed_height": 0.1, "roughness_length": 0.5},
     r"speed_height \(0.1 m\) must exceed roughness_length"),
])
def test_bad_wind_fields(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WindFarm(**kwargs)


@pytest.mark.parametrize("kwargs,message", [
    ({"longitude": 181.0}, r"PVSystem.longitude must be in \[-180.0, 180.0\]"),
    ({"latitude": -91.0}, r"PVSystem.latitude must be in \[-90.0, 90.0\]"),
    ({"tilt": 95.0}, r"PVSystem.tilt must be in \[0.0, 90.0\]"),
    ({"year": 1850}, r"PVSystem.year must be an int in 1900..2200"),
    ({"mount": "roof"}, r"PVSystem.mount must be one of"),
    ({"altitude": 10000.0}, r"PVSystem.altitude must be in"),
])
def test_bad_pv_fields(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PVSystem(**kwargs)


def test_bad_load_profile() -> None:
    with pytest.raises(ValueError, match=r"Household.profile must be one of \('h0', 'h25'\)"):
        Household(profile="g0")


def test_altitude_lookup_from_pvlibs_shipped_map() -> None:
    from pvlib.location import lookup_altitude

    pv = PVSystem(latitude=46.5, longitude=9.8)  # the Engadin, well above 1000 m
    assert pv.geometry[3] == float(lookup_altitude(46.5, 9.8)) > 1000.0


FIELD_LIBRARIES = ("pvlib", "windpowerlib", "demandlib", "pandas")


def test_only_the_physics_layer_imports_the_field_libraries() -> None:
    import ast
    from pathlib import Path

    import rex_env

    root = Path(rex_env.__file__).parent
    for path in sorted(root.rglob("*.py")):
        if path.parent.name == "physics":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            else:
                continue
            assert not {n.split(".")[0] for n in names} & set(FIELD_LIBRARIES), (
                f"{path.relative_to(root)} imports {names}")


def test_import_and_scenario_construction_stay_lazy() -> None:
    import json
    import subprocess
    import sys

    probe = ("import json, sys, rex_env\n"
             "from rex_env.scenarios import make_scenario\n"
             "make_scenario('community_winter')\n"
             "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=120)
    loaded = set(json.loads(out.stdout))
    assert not loaded & set(FIELD_LIBRARIES), sorted(loaded & set(FIELD_LIBRARIES))
