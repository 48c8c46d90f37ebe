"""``rex_env/Prosumer-v0``: one learner among hand-coded agents, as a plain gymnasium Env.

Gymnasium's ``check_env`` (spaces, reset/step signatures, seeding determinism, no shared
buffers, render, close) and SB3's ``check_env`` on every mode that matters.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import rex_env
from rex_env.envs.parallel import INFO_KEYS, RexParallelEnv
from rex_env.envs.single import ProsumerEnv

from .helpers import WARNING_FILTERS, assert_same, differs

pytestmark = WARNING_FILTERS

KWARGS = [
    pytest.param({}, id="default-community"),
    pytest.param({"scenario": "toy"}, id="toy"),
    pytest.param({"scenario": "toy", "action_mode": "discrete"}, id="toy-discrete"),
    pytest.param({"scenario": "toy", "learner": "battery"}, id="toy-storage-learner"),
]


def _make(**kwargs: Any) -> gym.Env:
    return gym.make(rex_env.GYM_ID, **kwargs)


def test_registered_with_gymnasium() -> None:
    assert rex_env.GYM_ID in gym.registry
    env = _make(scenario="toy")
    assert isinstance(env.unwrapped, ProsumerEnv)
    assert env.spec is not None and env.spec.id == rex_env.GYM_ID
    default = _make().unwrapped
    assert default.par.scenario.name == "community"
    assert default.learner == "house00"  # the scenario's first learner
    assert default.par.possible_agents == ["prosumer_0"]


@pytest.mark.parametrize("kwargs", KWARGS)
def test_gymnasium_check_env(kwargs: dict[str, Any]) -> None:
    env = _make(**kwargs)
    check_env(env.unwrapped)


@pytest.mark.parametrize("mode", ["ansi", "rgb_array"])
def test_gymnasium_check_env_with_render_mode(mode: str) -> None:
    env = _make(scenario="toy", render_mode=mode)
    check_env(env.unwrapped)


@pytest.mark.parametrize("kwargs", KWARGS)
def test_sb3_check_env(kwargs: dict[str, Any]) -> None:
    env = _make(**kwargs)
    sb3_check_env(env.unwrapped, warn=True)
    sb3_check_env(env, warn=True)  # through gymnasium.make's wrappers as well


def test_spaces_are_those_of_the_parallel_env() -> None:
    single = _make(scenario="toy").unwrapped
    par = RexParallelEnv("toy")
    assert single.observation_space == par.observation_space("prosumer_0")
    assert single.action_space == par.action_space("prosumer_0")
    assert single.observation_space is single.par.observation_space("prosumer_0")


def test_whole_episode_through_the_passive_checker() -> None:
    """``gymnasium.make`` wraps the passive env checker: a whole day with out-of-range actions
    must not trigger any of its warnings (they are errors here, see WARNING_FILTERS)."""
    env = _make(scenario="toy")
    obs, info = env.reset(seed=0)
    assert env.observation_space.contains(obs) and isinstance(info, dict)
    rng = np.random.default_rng(0)
    steps = 0
    while True:
        action = rng.uniform(-1.5, 1.5, env.action_space.shape).astype(np.float32)
        obs, reward, terminated, truncated, info = env.step(action)
        steps += 1
        assert obs.dtype == np.float32 and env.observation_space.contains(obs)
        assert isinstance(reward, float) and np.isfinite(reward)
        assert truncated is False  # a complete day ends as terminated (all slots settled)
        assert list(info) == list(INFO_KEYS)
        if terminated:
            break
    assert steps == env.unwrapped.par.n_steps


def test_max_cycles_through_gymnasium_make() -> None:
    env = _make(scenario="toy", max_cycles=4)
    env.reset(seed=0)
    flags = [env.step(env.action_space.sample())[3] for _ in range(4)]
    assert flags == [False, False, False, True]


def _trajectory(env: gym.Env, seed: int | None, n: int = 8) -> list[Any]:
    out: list[Any] = [env.reset(seed=seed)]
    rng = np.random.default_rng(1)
    for _ in range(n):
        out.append(env.step(rng.uniform(-1, 1, env.action_space.shape).astype(np.float32)))
    return out


def test_seeding() -> None:
    e1 = _make(scenario="toy")
    e2 = _make(scenario="toy")
    assert_same(_trajectory(e1, 5), _trajectory(e2, 5))
    assert differs(_trajectory(e1, 5), _trajectory(e1, 6))
    # an unseeded reset continues the generator: reproducible given the same history
    _trajectory(e1, 5, n=2)
    _trajectory(e2, 5, n=2)
    c1 = _trajectory(e1, None)
    c2 = _trajectory(e2, None)
    assert_same(c1, c2)
    assert differs(c1, _trajectory(e1, 5))


def test_single_learner_is_the_requested_owner() -> None:
    env = ProsumerEnv("toy", learner="wind")
    assert env.par.owner_of == {"prosumer_0": "wind"}
    env.reset(seed=0)
    assert env.last_details()["owner"] == "wind"
    # the scenario's own learners are hand-coded here
    assert {"house00", "house01"} <= set(env.par.market.agents)


def test_action_masks_in_discrete_mode() -> None:
    env = ProsumerEnv("toy", action_mode="discrete")
    env.reset(seed=0)
    mask = env.action_masks()
    assert mask.shape == (env.action_space.n,) and mask.dtype == np.int8 and mask[0] == 1
