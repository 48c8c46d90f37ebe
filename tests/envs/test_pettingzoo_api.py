"""PettingZoo's own checkers on every scenario preset (rl_api_conventions.md §1.6, §5).

``parallel_api_test`` does not check observation bounds or dtypes and ``parallel_seed_test``
compares only the first step, so the AEC ``api_test`` and ``seed_test`` run as well (and
``test_seeding.py`` compares whole episodes). ``town`` is large: the checkers play only a few
cycles there.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pettingzoo
import pytest
from pettingzoo import AECEnv, ParallelEnv
from pettingzoo.test import (
    api_test,
    max_cycles_test,
    parallel_api_test,
    parallel_seed_test,
    render_test,
    seed_test,
)

import rex_env
from rex_env.envs import RexParallelEnv
from rex_env.envs.parallel import INFO_KEYS

from .helpers import BUDGETS, PRESET_PARAMS, WARNING_FILTERS, make_aec, make_par

pytestmark = WARNING_FILTERS


@pytest.mark.parametrize("preset", PRESET_PARAMS)
def test_parallel_api_test(preset: str) -> None:
    env = make_par(preset)
    parallel_api_test(env, num_cycles=BUDGETS[preset].num_cycles)


@pytest.mark.parametrize("preset", PRESET_PARAMS)
def test_aec_api_test(preset: str) -> None:
    """The AEC checker is the one that asserts observations lie in the space (dtype too)."""
    env = make_aec(preset)
    assert isinstance(env, AECEnv)
    api_test(env, num_cycles=BUDGETS[preset].num_cycles)


@pytest.mark.parametrize("preset", PRESET_PARAMS)
def test_seed_test(preset: str) -> None:
    """AEC lockstep determinism over ``num_cycles`` (all of a toy day)."""
    seed_test(lambda: make_aec(preset), num_cycles=BUDGETS[preset].num_cycles)


@pytest.mark.parametrize("preset", PRESET_PARAMS)
def test_parallel_seed_test(preset: str) -> None:
    parallel_seed_test(lambda: make_par(preset), num_cycles=BUDGETS[preset].num_cycles)


class _Factories:
    """What ``max_cycles_test`` expects: a module-like object with the two factories."""

    def __init__(self, preset: str, **extra: Any) -> None:
        self.preset = preset
        self.extra = extra

    def parallel_env(self, **kwargs: Any) -> Any:
        return rex_env.parallel_env(self.preset, **self.extra, **kwargs)

    def env(self, **kwargs: Any) -> Any:
        return rex_env.env(self.preset, **self.extra, **kwargs)


@pytest.mark.parametrize("preset", PRESET_PARAMS)
def test_max_cycles_test(preset: str) -> None:
    max_cycles_test(_Factories(preset))


@pytest.mark.parametrize("preset", PRESET_PARAMS)
def test_render_test(preset: str) -> None:
    def env_fn(render_mode: str | None = None) -> Any:
        return make_aec(preset, render_mode=render_mode)

    render_test(env_fn, custom_tests={"ansi": lambda text: "prosumer_0" in text})


def test_package_max_cycles_factories() -> None:
    """``rex_env`` itself is the module ``max_cycles_test`` was written for (default
    scenario)."""
    max_cycles_test(rex_env)


# -- discrete action mode through the same checkers --------------------------------------------
DISCRETE = {"action_mode": "discrete"}


def test_discrete_parallel_api_test() -> None:
    parallel_api_test(rex_env.parallel_env("toy", **DISCRETE), num_cycles=1000)


def test_discrete_aec_api_test() -> None:
    api_test(rex_env.env("toy", **DISCRETE), num_cycles=1000)


def test_discrete_seed_tests() -> None:
    seed_test(lambda: rex_env.env("toy", **DISCRETE), num_cycles=1000)
    parallel_seed_test(lambda: rex_env.parallel_env("toy", **DISCRETE), num_cycles=1000)


def test_discrete_max_cycles_test() -> None:
    max_cycles_test(_Factories("toy", **DISCRETE))


# -- registry ------------------------------------------------------------------------------------
@pytest.mark.skipif(not hasattr(pettingzoo, "register"),
                    reason="PettingZoo < 1.27 has no registry (rex_env.parallel_env still works)")
def test_registered_parallel_and_aec() -> None:
    par = pettingzoo.make("parallel", rex_env.ENV_ID, scenario="toy", max_cycles=3)
    assert isinstance(par, RexParallelEnv) and isinstance(par, ParallelEnv)
    assert par.max_cycles == 3
    aec = pettingzoo.make("aec", rex_env.ENV_ID, scenario="toy", max_cycles=3)
    assert isinstance(aec, AECEnv)
    assert isinstance(aec.unwrapped, RexParallelEnv)
    assert aec.metadata["is_parallelizable"] is True
    assert aec.unwrapped.metadata["name"] == "rex_v0"


# -- spaces: identical for every learner, the same objects on every call ------------------------
@pytest.mark.parametrize("preset", PRESET_PARAMS)
def test_learners_share_identical_cached_spaces(preset: str) -> None:
    env = make_par(preset)
    agents = env.possible_agents
    assert agents, "a preset must name learners"
    assert all(a == f"prosumer_{i}" for i, a in enumerate(agents))
    obs_space = env.observation_space(agents[0])
    act_space = env.action_space(agents[0])

    def check() -> None:
        for a in agents:
            assert env.observation_space(a) is obs_space
            assert env.action_space(a) is act_space

    check()  # before reset
    env.reset(seed=0)
    check()
    env.step({a: act_space.sample() for a in env.agents})
    check()
    assert obs_space.dtype == np.float32
    assert obs_space.shape == (len(env.feature_names()),)
    assert np.all(np.isfinite(obs_space.low)) and np.all(np.isfinite(obs_space.high))
    assert act_space.dtype == np.float32 and act_space.shape == (2 * env.window,)
    assert np.all(act_space.low == -1.0) and np.all(act_space.high == 1.0)


@pytest.mark.parametrize("preset", PRESET_PARAMS)
def test_reset_returns_every_agent_and_nothing_done(preset: str) -> None:
    env = make_par(preset)
    obs, infos = env.reset(seed=1)
    assert env.agents == env.possible_agents
    assert list(obs) == env.agents and list(infos) == env.agents
    for a in env.agents:
        assert infos[a] == dict.fromkeys(INFO_KEYS, 0), "flat, numeric, all zero at reset"
        assert env.last_details()[a]["owner"] == env.owner_of[a]
