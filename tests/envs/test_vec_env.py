"""``SharedVecEnv``: K learners x M env copies as one SB3 VecEnv (parameter sharing), and PPO
learning on it and on ``rex_env/Prosumer-v0`` for a few hundred steps.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import VecEnv

import rex_env
from rex_env.envs.parallel import INFO_KEYS, RexParallelEnv
from rex_env.envs.vec import SharedVecEnv

from .helpers import WARNING_FILTERS, assert_same, differs

pytestmark = WARNING_FILTERS


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """Two pytest workers on two cores: keep torch from oversubscribing them."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _actions(v: VecEnv, rng: np.random.Generator) -> np.ndarray:
    if isinstance(v.action_space, gym.spaces.Discrete):
        return rng.integers(v.action_space.n, size=v.num_envs)
    return rng.uniform(-1, 1, (v.num_envs, *v.action_space.shape)).astype(np.float32)


def _rollout(v: VecEnv, seed: int | None, n: int, action_seed: int = 0) -> list[Any]:
    if seed is not None:
        v.seed(seed)
    out: list[Any] = [v.reset()]
    rng = np.random.default_rng(action_seed)
    for _ in range(n):
        out.append(v.step(_actions(v, rng)))
    return out


@pytest.mark.parametrize(("m", "preset"), [(1, "toy"), (3, "toy"), (2, "community")],
                         ids=["toy-x1", "toy-x3", "community-x2"])
def test_num_envs_and_shapes(m: int, preset: str) -> None:
    v = SharedVecEnv.make(n_envs=m, scenario=preset, max_cycles=5)
    k = len(v.envs[0].possible_agents)
    assert v.num_envs == k * m
    par = v.envs[0]
    assert v.observation_space == par.observation_space("prosumer_0")
    assert v.action_space == par.action_space("prosumer_0")
    obs = v.reset()
    assert obs.shape == (k * m, *v.observation_space.shape) and obs.dtype == np.float32
    obs, rewards, dones, infos = v.step(_actions(v, np.random.default_rng(0)))
    assert obs.shape == (k * m, *v.observation_space.shape) and obs.dtype == np.float32
    assert rewards.shape == (k * m,) and rewards.dtype == np.float32
    assert dones.shape == (k * m,) and dones.dtype == bool and not dones.any()
    assert isinstance(infos, list) and len(infos) == k * m
    assert all(set(i) == set(INFO_KEYS) for i in infos)
    assert all(v.observation_space.contains(o) for o in obs)


def test_sub_env_i_is_learner_i_mod_k_of_copy_i_div_k() -> None:
    """Sub-env ``i`` = learner ``i % K`` of copy ``i // K``; copy ``m`` is seeded ``seed + m``
    (checked against stand-alone parallel envs stepped with the same actions)."""
    m_copies = 2
    v = SharedVecEnv.make(n_envs=m_copies, scenario="toy")
    refs = [RexParallelEnv("toy") for _ in range(m_copies)]
    v.seed(40)
    obs = v.reset()
    ref_obs = [r.reset(seed=40 + m)[0] for m, r in enumerate(refs)]
    k = v.k
    agents = v.agents

    def expected(per_copy: list[dict[str, Any]]) -> np.ndarray:
        return np.stack([per_copy[i // k][agents[i % k]] for i in range(v.num_envs)])

    np.testing.assert_array_equal(obs, expected(ref_obs))
    rng = np.random.default_rng(0)
    for _ in range(6):
        acts = _actions(v, rng)
        obs, rewards, dones, infos = v.step(acts)
        outs = [r.step({a: acts[m * k + j] for j, a in enumerate(agents)})
                for m, r in enumerate(refs)]
        np.testing.assert_array_equal(obs, expected([o[0] for o in outs]))
        np.testing.assert_array_equal(
            rewards, expected([o[1] for o in outs]).astype(np.float32))
        for i, info in enumerate(infos):
            assert info == outs[i // k][4][agents[i % k]]


@pytest.mark.parametrize("mode", ["box", "discrete"])
def test_seed_then_reset_twice_gives_identical_rollouts(mode: str) -> None:
    """Across an auto-reset (toy days are 14 steps) and with the instance re-used."""
    v = SharedVecEnv.make(n_envs=2, scenario="toy", action_mode=mode)
    a = _rollout(v, 3, 20)
    b = _rollout(v, 3, 20)
    assert_same(a, b)
    fresh = SharedVecEnv.make(n_envs=2, scenario="toy", action_mode=mode)
    assert_same(_rollout(fresh, 3, 20), a)
    assert differs(_rollout(v, 4, 20), a)


def test_copies_get_different_seeds() -> None:
    v = SharedVecEnv.make(n_envs=2, scenario="toy")
    seeds = v.seed(10)
    assert list(seeds) == [10, 10, 11, 11]  # per sub-env: the seed of its copy
    out = _rollout(v, None, 5)
    k = v.k
    last_obs = out[-1][0]
    assert not np.array_equal(last_obs[:k], last_obs[k:])


def test_auto_reset_with_terminal_observation() -> None:
    v = SharedVecEnv.make(n_envs=2, scenario="toy", max_cycles=4)
    v.seed(0)
    v.reset()
    rng = np.random.default_rng(0)
    for step in range(1, 5):
        obs, rewards, dones, infos = v.step(_actions(v, rng))
        assert dones.all() == (step == 4) and (dones.any() == dones.all())
    for i, info in enumerate(infos):
        term = info["terminal_observation"]
        assert term.shape == v.observation_space.shape and term.dtype == np.float32
        assert v.observation_space.contains(term)
        assert info["TimeLimit.truncated"] is True
        assert not np.array_equal(term, obs[i]), "the returned obs must be the reset one"
    progress = v.envs[0].feature_names().index("progress")
    assert np.all(obs[:, progress] == 0.0), "after auto-reset: a new day"
    assert all(e.agents == e.possible_agents for e in v.envs)
    assert all(isinstance(r, dict) and set(r) == set(INFO_KEYS) for r in v.reset_infos)
    obs, *_ = v.step(_actions(v, rng))  # and the next episode runs
    assert obs.shape[0] == v.num_envs


def test_auto_reset_at_the_end_of_the_trading_day() -> None:
    v = SharedVecEnv.make(n_envs=1, scenario="toy")
    v.seed(1)
    v.reset()
    rng = np.random.default_rng(0)
    n_steps = v.envs[0].n_steps
    for step in range(1, n_steps + 1):
        _, _, dones, infos = v.step(_actions(v, rng))
        assert dones.all() == (step == n_steps)
    assert all("terminal_observation" in i for i in infos)


def test_discrete_masks_and_attributes() -> None:
    v = SharedVecEnv.make(n_envs=2, scenario="toy", action_mode="discrete")
    v.reset()
    n = v.action_space.n
    masks = v.action_masks()
    assert masks.shape == (v.num_envs, n) and masks.dtype == np.int8
    assert np.all(masks[:, 0] == 1)
    listed = v.env_method("action_masks")
    assert len(listed) == v.num_envs
    np.testing.assert_array_equal(np.stack(listed), masks)
    assert v.get_attr("max_cycles") == [None] * v.num_envs
    v.set_attr("max_cycles", 2)
    assert v.get_attr("max_cycles", indices=0) == [2]
    assert v.env_is_wrapped(gym.Wrapper) == [False] * v.num_envs
    v.close()


def test_make_validates() -> None:
    for bad in (0, 10**9, 2.0, True):  # a billion copies would exhaust memory: refused first
        with pytest.raises(ValueError, match=r"n_envs must be an int in \[1, 256\]"):
            SharedVecEnv.make(n_envs=bad, scenario="toy")
    with pytest.raises(ValueError, match="allowed"):
        SharedVecEnv.make(n_envs=1, scenario="nowhere")


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["box", "discrete"])
def test_ppo_learns_on_the_shared_vec_env(mode: str, one_torch_thread: None) -> None:
    v = SharedVecEnv.make(n_envs=2, scenario="toy", action_mode=mode)
    model = PPO("MlpPolicy", v, n_steps=32, batch_size=64, n_epochs=2, seed=0, device="cpu")
    model.learn(total_timesteps=300)
    assert model.num_timesteps >= 300
    obs = v.reset()
    actions, _ = model.predict(obs, deterministic=True)
    assert actions.shape[0] == v.num_envs
    v.step(actions)


@pytest.mark.slow
def test_ppo_learns_on_the_gymnasium_prosumer_env(one_torch_thread: None) -> None:
    env = gym.make(rex_env.GYM_ID, scenario="toy")
    model = PPO("MlpPolicy", env, n_steps=64, batch_size=32, n_epochs=2, seed=0, device="cpu")
    model.learn(total_timesteps=256)
    assert model.num_timesteps >= 256
    obs, _ = env.reset(seed=0)
    action, _ = model.predict(obs, deterministic=True)
    assert env.action_space.contains(action)
