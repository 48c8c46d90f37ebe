"""Tianshou (issue 14): single-agent PPO on ``rex_env/Prosumer-v0`` for a few steps, from
``gymnasium.make`` with no wrapper of ours.

Needs Tianshou (``pip install "rex-env[tianshou]"``; ``make test-tianshou`` installs it in its
own venv); without it every test here is skipped.
"""

from __future__ import annotations

import pytest

pytest.importorskip("tianshou", reason="Tianshou is not installed: pip install "
                                       "'rex-env[tianshou]' (make test-tianshou installs it)")

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from tianshou.algorithm import PPO  # noqa: E402
from tianshou.algorithm.modelfree.reinforce import ProbabilisticActorPolicy  # noqa: E402
from tianshou.algorithm.optim import AdamOptimizerFactory  # noqa: E402
from tianshou.data import Collector, VectorReplayBuffer  # noqa: E402
from tianshou.env import DummyVectorEnv  # noqa: E402
from tianshou.trainer import OnPolicyTrainerParams  # noqa: E402
from tianshou.utils.net.common import Net  # noqa: E402
from tianshou.utils.net.continuous import (  # noqa: E402
    ContinuousActorProbabilistic,
    ContinuousCritic,
)
from torch.distributions import Independent, Normal  # noqa: E402

import rex_env  # noqa: E402

DAY = 14  # steps of a toy day


def _make() -> gym.Env:
    return gym.make(rex_env.GYM_ID, scenario="toy")


def test_ppo_trains_a_few_steps() -> None:
    env = _make()
    obs_shape, act_shape = env.observation_space.shape, env.action_space.shape
    torch.manual_seed(0)
    actor = ContinuousActorProbabilistic(
        preprocess_net=Net(state_shape=obs_shape, hidden_sizes=[64]), action_shape=act_shape,
        unbounded=True)
    critic = ContinuousCritic(preprocess_net=Net(state_shape=obs_shape, hidden_sizes=[64]))
    policy = ProbabilisticActorPolicy(
        actor=actor, dist_fn=lambda p: Independent(Normal(*p), 1),
        action_space=env.action_space, observation_space=env.observation_space)
    algo = PPO(policy=policy, critic=critic, optim=AdamOptimizerFactory(lr=3e-4))
    train_envs = DummyVectorEnv([_make, _make])
    test_envs = DummyVectorEnv([_make])
    train_envs.seed(0)
    test_envs.seed(1)
    buffer = VectorReplayBuffer(4 * DAY, len(train_envs))
    train = Collector(algo, train_envs, buffer)
    before = [p.detach().clone() for p in actor.parameters()]
    result = algo.run_training(OnPolicyTrainerParams(
        training_collector=train, test_collector=Collector(algo, test_envs), max_epochs=1,
        epoch_num_steps=4 * DAY, collection_step_num_env_steps=2 * DAY, test_step_num_episodes=1,
        batch_size=DAY, update_step_num_repetitions=1, show_progress=False, verbose=False))
    assert result.train_step == 4 * DAY and result.update_step == 2
    assert result.train_episode == 4, "every day ends after 14 steps"
    assert np.isfinite(result.best_reward)
    assert any(not torch.equal(b, a) for b, a in zip(before, actor.parameters(), strict=True))
    # a settled day is terminated, not truncated: no value is bootstrapped past it
    day = Collector(algo, DummyVectorEnv([_make]), VectorReplayBuffer(DAY, 1))
    stats = day.collect(n_episode=1, reset_before_collect=True)
    assert stats.n_collected_steps == DAY
    assert day.buffer.terminated.tolist() == [False] * (DAY - 1) + [True]
    assert not day.buffer.truncated.any()
