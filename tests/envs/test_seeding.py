"""Seeding (rl_api_conventions.md §1.8): whole episodes, not just the first step.

``parallel_seed_test`` stops after one step, so two envs are stepped here in lockstep with the
same seeded actions over whole trading days, comparing observations, rewards, flags, infos and
the trades printed in each step.
"""

from __future__ import annotations

import copy
import pickle
import random

import numpy as np
import pytest

import rex_env

from .helpers import (
    PRESET_PARAMS,
    ActionStream,
    assert_same,
    differs,
    lockstep,
    make_par,
    step_record,
    trajectory,
)


@pytest.mark.parametrize("seed", [0, 12345])
@pytest.mark.parametrize("mode", ["box", "discrete"])
def test_same_seed_same_whole_day_toy(mode: str, seed: int) -> None:
    e1 = rex_env.parallel_env("toy", action_mode=mode)
    e2 = rex_env.parallel_env("toy", action_mode=mode)
    n = lockstep(e1, e2, ActionStream(seed + 1, spread=1.2), seed=seed)
    assert n == e1.n_steps  # the whole day
    assert e1.agents == e2.agents == []
    assert_same(e1.market.trades, e2.market.trades, "trades")


@pytest.mark.slow
def test_same_seed_same_whole_day_community() -> None:
    """118 steps in lockstep (two random community days, ~6 s)."""
    e1 = rex_env.parallel_env("community")
    e2 = rex_env.parallel_env("community")
    n = lockstep(e1, e2, ActionStream(7), seed=2024)
    assert n == e1.n_steps == 118
    assert_same(e1.market.trades, e2.market.trades, "trades")


@pytest.mark.parametrize("preset", PRESET_PARAMS)
def test_same_seed_same_trajectory_every_preset(preset: str) -> None:
    steps = {"toy": None, "community": 25, "town": 6}[preset]
    e1 = make_par(preset, max_cycles=steps)
    e2 = make_par(preset, max_cycles=steps)
    n = lockstep(e1, e2, ActionStream(3), seed=99)
    assert n == (steps or e1.n_steps)


def test_two_episodes_in_a_row_stay_in_lockstep() -> None:
    """Seeded, then unseeded resets: the streams continue identically in both envs."""
    e1 = rex_env.parallel_env("toy")
    e2 = rex_env.parallel_env("toy")
    acts = ActionStream(5)
    lockstep(e1, e2, acts, seed=11)
    lockstep(e1, e2, acts, seed=None)
    lockstep(e1, e2, acts, seed=None)


@pytest.mark.parametrize("preset", ["toy", "community"])
def test_different_seeds_differ(preset: str) -> None:
    steps = None if preset == "toy" else 20
    e1 = rex_env.parallel_env(preset, max_cycles=steps)
    e2 = rex_env.parallel_env(preset, max_cycles=steps)
    a = trajectory(e1, ActionStream(0), seed=1)
    b = trajectory(e2, ActionStream(0), seed=2)
    assert differs(a, b)


def test_unseeded_envs_differ() -> None:
    a = trajectory(rex_env.parallel_env("toy"), ActionStream(0), seed=None)
    b = trajectory(rex_env.parallel_env("toy"), ActionStream(0), seed=None)
    assert differs(a, b)


def test_global_random_state_is_not_used() -> None:
    """Only the env's own generator matters (no ``np.random``/``random`` module state)."""
    np.random.seed(1)
    random.seed(1)
    e1 = rex_env.parallel_env("toy")
    a = trajectory(e1, ActionStream(0), seed=8)
    np.random.seed(2)
    random.seed(2)
    e2 = rex_env.parallel_env("toy")
    b = trajectory(e2, ActionStream(0), seed=8)
    assert_same(a, b)


def test_unseeded_reset_continues_the_stream() -> None:
    """``reset(seed=s); reset()`` differs from ``reset(seed=s)`` again, but is reproducible
    given the same history."""
    def history(env: rex_env.envs.RexParallelEnv) -> list[object]:
        trajectory(env, ActionStream(0), seed=5, max_steps=3)  # seeded, part of a day
        return trajectory(env, ActionStream(1), reset_kwargs={})  # unseeded continuation

    e1 = rex_env.parallel_env("toy")
    e2 = rex_env.parallel_env("toy")
    cont1 = history(e1)
    cont2 = history(e2)
    assert_same(cont1, cont2, "continuation")
    reseeded = trajectory(e1, ActionStream(1), seed=5)
    assert differs(cont1, reseeded), "reset() after reset(seed=s) restarted the same stream"


def test_reset_with_seed_mid_episode_matches_a_fresh_env() -> None:
    """Re-using an instance (mid-episode, after a finished day, after an unseeded day) and
    reseeding it gives exactly the trajectory of a fresh env: no state leaks across resets."""
    fresh = trajectory(rex_env.parallel_env("toy"), ActionStream(4, spread=1.2), seed=21)
    env = rex_env.parallel_env("toy")
    trajectory(env, ActionStream(9, spread=1.2), seed=3, max_steps=6)  # abandoned mid-day
    assert_same(trajectory(env, ActionStream(4, spread=1.2), seed=21), fresh, "after mid-day")
    trajectory(env, ActionStream(9), reset_kwargs={})  # a whole unseeded day
    assert_same(trajectory(env, ActionStream(4, spread=1.2), seed=21), fresh, "after a day")


def test_gymnasium_style_reset_options_accepted() -> None:
    env = rex_env.parallel_env("toy")
    a = env.reset(seed=3, options={"anything": 1})
    b = rex_env.parallel_env("toy").reset(seed=3)
    assert_same(a, b)


# -- copies --------------------------------------------------------------------------------------
def _advance(env: rex_env.envs.RexParallelEnv, seed: int, n: int) -> None:
    env.reset(seed=seed)
    acts = ActionStream(seed)
    for _ in range(n):
        env.step(acts(env))


def _continue(env: rex_env.envs.RexParallelEnv, seed: int) -> list[object]:
    acts = ActionStream(seed, spread=1.2)
    out: list[object] = []
    while env.agents:
        out.append(step_record(env, acts(env)))
    out.append(trajectory(env, acts, reset_kwargs={}, max_steps=4))  # and the next day
    return out


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_copy_continues_identically(how: str) -> None:
    env = rex_env.parallel_env("toy")
    _advance(env, seed=17, n=5)
    twin = copy.deepcopy(env) if how == "deepcopy" else pickle.loads(pickle.dumps(env))
    assert twin is not env
    assert twin.agents == env.agents
    assert_same(_continue(twin, 3), _continue(env, 3), how)


def test_copy_is_independent_of_the_original() -> None:
    env = rex_env.parallel_env("toy")
    _advance(env, seed=17, n=5)
    twin = copy.deepcopy(env)
    reference = copy.deepcopy(env)
    _continue(twin, 8)  # play the copy to the end with other actions
    assert_same(_continue(env, 3), _continue(reference, 3), "original after the copy played")


def test_copy_before_reset_and_discrete_mode() -> None:
    env = rex_env.parallel_env("toy", action_mode="discrete")
    twin = pickle.loads(pickle.dumps(copy.deepcopy(env)))
    lockstep(env, twin, ActionStream(2), seed=4)
