"""The env's compiled battery projection (``rex_env._core.battery_targets``, issue 12) against
:func:`rex_env.envs.feasible.battery_targets`, the reference: the same lots for every
Hypothesis case (batteries, states of charge, positions, targets, forecasts, priority
orders), ``None`` — the Python code then decides or raises — for what it must not compute
(subclasses, numpy or bool positions, indices out of range, a bound that is not finite), and
whole env episodes running through it."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rex_env
import rex_env.sim.market as market_module
from rex_env import _core
from rex_env.envs.feasible import battery_targets
from rex_env.exchange import PythonExchange
from rex_env.physics import Battery

pytestmark = pytest.mark.skipif(not _core.AVAILABLE, reason="C core not built")


def _fast(*args: Any) -> Any:
    return _core.battery_targets(*args, Battery)


@st.composite
def cases(draw: st.DrawFn) -> tuple[Any, ...]:
    lo = draw(st.floats(0.0, 0.5))
    battery = Battery(energy_kwh=draw(st.floats(0.5, 200.0)),
                      power_kw=draw(st.one_of(st.floats(0.1, 50.0), st.integers(1, 20))),
                      eta_charge=draw(st.floats(0.5, 1.0)),
                      eta_discharge=draw(st.floats(0.5, 1.0)),
                      soc_min=lo, soc_max=draw(st.floats(lo, 1.0)), initial_soc=lo)
    soc = draw(st.floats(battery.min_energy_kwh, battery.max_energy_kwh))
    n = draw(st.integers(0, 14))
    current = draw(st.lists(st.integers(-40, 40), min_size=n, max_size=n))
    target = [c if draw(st.booleans()) else draw(st.integers(-60, 60)) for c in current]
    forecast = draw(st.lists(st.one_of(st.floats(-20.0, 20.0), st.integers(-5, 5)),
                             min_size=n, max_size=n))
    order = draw(st.one_of(st.none(), st.permutations(range(n)),
                           st.lists(st.integers(0, max(0, n - 1)), max_size=2 * n)
                           if n else st.just([])))
    return (battery, soc, draw(st.sampled_from((60, 900, 3600))),
            draw(st.sampled_from((0.1, 0.25, 1.0, 2.5))), forecast, current, target, order)


@settings(max_examples=400, deadline=None)
@given(cases())
def test_the_same_lots_as_the_reference(case: tuple[Any, ...]) -> None:
    want = battery_targets(*case)
    got = _fast(*case)
    assert got == want and all(type(x) is int for x in got)


def _case() -> list[Any]:
    b = Battery(energy_kwh=20.0, power_kw=6.0)
    return [b, 10.0, 900, 0.5, [0.5, -1.0, 2.0, 0.0], [0, 4, -2, 1], [8, -6, -2, 9], None]


@pytest.mark.parametrize("change", [
    (0, "subclass"), (5, [0, np.int64(4), -2, 1]), (5, [0, True, -2, 1]),
    (6, [8, -6, -2, 2**60]), (7, [0, 4]), (7, [0, -1]), (7, [0, 1.0]), (4, [0.5, -1.0]),
    (4, [0.5, -1.0, np.float64(2.0), 0.0]), (2, 0), (2, 900.0), (3, np.float64(0.5)),
    (4, [math.nan, 0.0, 0.0, 0.0]), (4, [math.inf, 0.0, 0.0, 0.0]), (5, (0, 4, -2, 1)),
    (7, iter([0, 1])), (7, range(4)),
])
def test_what_it_must_not_compute_goes_to_python(change: tuple[int, Any]) -> None:
    args = _case()
    i, value = change
    if value == "subclass":
        class Aged(Battery):
            pass

        value = Aged(energy_kwh=20.0, power_kw=6.0)
    args[i] = value
    assert _fast(*args) is None
    try:  # the reference decides (or raises) as it always did
        battery_targets(*args)
    except (ValueError, OverflowError, IndexError, TypeError):
        pass


def test_the_plain_case_is_computed() -> None:
    assert _fast(*_case()) == battery_targets(*_case()) is not None


def test_an_episode_projects_through_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """A community episode's battery learners (feasible targets on by default) run the
    compiled projection at every decision, each time equal to the reference."""
    monkeypatch.setattr(_core, "COMPILED_AGENTS", True)
    calls = {"n": 0}
    inner = _core.battery_targets

    def checked(*args: Any) -> Any:
        got = inner(*args)
        assert got is not None and got == battery_targets(*args[:-1])
        calls["n"] += 1
        return got

    monkeypatch.setattr(_core, "battery_targets", checked)
    env = rex_env.parallel_env("community")
    env.reset(seed=1)
    rng = np.random.default_rng(1)
    for _ in range(30):
        env.step({a: rng.uniform(-1, 1, env.action_space(a).shape).astype(np.float32)
                  for a in env.agents})
    assert calls["n"] > 20


def test_the_python_engine_projects_in_python(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reference engine runs the reference code: the compiled projection is not called."""
    monkeypatch.setattr(_core, "COMPILED_AGENTS", True)
    monkeypatch.setattr(market_module, "Exchange", PythonExchange)
    calls = {"n": 0}
    inner = _core.battery_targets

    def counted(*args: Any) -> Any:
        calls["n"] += 1
        return inner(*args)

    monkeypatch.setattr(_core, "battery_targets", counted)
    env = rex_env.parallel_env("community")
    env.reset(seed=1)
    assert isinstance(env.market.exchange, PythonExchange)
    rng = np.random.default_rng(1)
    for _ in range(10):
        env.step({a: rng.uniform(-1, 1, env.action_space(a).shape).astype(np.float32)
                  for a in env.agents})
    assert calls["n"] == 0
