"""The `bandit` preset has a known optimal action, and a short PPO run finds it.

One wind farm learns to sell into a market whose only buyer is the grid's standing bid, under
`dual` settlement with a fee that makes any imbalance a loss. The optimum is to reserve exactly
the forecast (``target = 0``) and to take the grid's bid at the touch or beyond
(``aggressiveness >= 0``); passive offers never fill. PPO starts from a noisy policy (std
0.37 around a random initial mean) and must get most of the way to that optimum.
"""

from __future__ import annotations

import numpy as np
import pytest

import rex_env
from rex_env.envs.parallel import RexParallelEnv

SEEDS = range(2_000_000_000, 2_000_000_008)


def score(env: RexParallelEnv, policy) -> float:  # type: ignore[no-untyped-def]
    total = []
    for s in SEEDS:
        obs, _ = env.reset(seed=s)
        ret = 0.0
        while env.agents:
            obs, rew, _, _, _ = env.step({a: policy(obs[a]) for a in env.agents})
            ret += sum(rew.values())
        total.append(ret)
    return float(np.mean(total))


def const(env: RexParallelEnv, target: float, aggr: float):  # type: ignore[no-untyped-def]
    act = np.tile([target, aggr], env.window).astype(np.float32)
    return lambda _obs: act


def test_the_optimal_action_beats_its_neighbours() -> None:
    env = rex_env.parallel_env("bandit")
    best = score(env, const(env, 0.0, 0.0))
    assert best > score(env, const(env, 0.0, -1.0)) + 0.5  # passive never fills
    assert best > score(env, const(env, 0.3, 0.0)) + 0.2  # under-selling
    assert best > score(env, const(env, -0.3, 0.0)) + 0.2  # over-selling
    assert best >= score(env, const(env, 0.0, 0.5)) - 1e-9  # deeper never earns more


@pytest.mark.slow
def test_a_short_ppo_run_finds_the_known_optimum() -> None:
    torch = pytest.importorskip("torch")
    from stable_baselines3 import PPO

    from rex_env.envs.vec import SharedVecEnv

    torch.set_num_threads(1)
    env = rex_env.parallel_env("bandit")
    rng = np.random.default_rng(0)
    random_score = score(env, lambda _o: rng.uniform(-1, 1, 2 * env.window).astype(np.float32))
    best = score(env, const(env, 0.0, 0.0))
    venv = SharedVecEnv.make(4, scenario="bandit")
    venv.seed(0)
    model = PPO("MlpPolicy", venv, n_steps=64, batch_size=64, n_epochs=10, gamma=0.999,
                learning_rate=1e-3, seed=0, policy_kwargs={"log_std_init": -1.0})
    model.learn(12_000)
    learned = score(env, lambda o: model.predict(o, deterministic=True)[0])
    # most of the way from a random policy to the optimum, and better than passive selling
    assert learned > random_score + 0.75 * (best - random_score), (random_score, learned, best)
    assert learned > score(env, const(env, 0.0, -1.0)), learned
