"""Observations over long random rollouts: float32, inside the space, finite, and laid out as
:mod:`rex_env.envs.observation` documents.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import rex_env
from rex_env.envs.observation import LIMIT, PRIVATE_FEATURES, TIME_FEATURES, slot_features

from .helpers import ActionStream, assert_same, make_par


def _check(env: Any, obs: dict[str, np.ndarray], where: str) -> None:
    assert list(obs) == env.agents or not env.agents, where
    space = env.observation_space(env.possible_agents[0])
    for a, o in obs.items():
        assert isinstance(o, np.ndarray), f"{where} {a}: {type(o)}"
        assert o.dtype == np.float32, f"{where} {a}: dtype {o.dtype}"
        assert o.shape == space.shape, f"{where} {a}: shape {o.shape}"
        bad = np.flatnonzero(~np.isfinite(o))
        assert bad.size == 0, f"{where} {a}: non-finite {[env.feature_names()[i] for i in bad]}"
        assert space.contains(o), f"{where} {a}: outside the space"


def _play(env: Any, actions: ActionStream, episodes: int, seed: int = 0) -> int:
    n = 0
    for ep in range(episodes):
        obs, _ = env.reset(seed=seed + ep)
        _check(env, obs, f"reset {ep}")
        while env.agents:
            obs = env.step(actions(env))[0]
            _check(env, obs, f"episode {ep} step {n}")
            n += 1
    return n


ROLLOUTS = [
    pytest.param("toy", {}, 1.0, 4, id="toy-box"),
    pytest.param("toy", {}, 3.0, 3, id="toy-box-extreme"),
    pytest.param("toy", {"action_mode": "discrete"}, 1.0, 4, id="toy-discrete"),
    pytest.param("toy", {"settlement": "curtail"}, 2.0, 2, id="toy-curtail"),
    pytest.param("toy", {"settlement": "dual"}, 2.0, 2, id="toy-dual"),
    pytest.param("toy", {"decision_interval": 300}, 1.2, 2, id="toy-5min-steps"),
    pytest.param("toy", {"learners": "plant"}, 1.5, 2, id="toy-plant-learner"),
    pytest.param("toy", {"learners": "storage"}, 1.5, 2, id="toy-storage-learner"),
    pytest.param("toy", {"learners": ("wind", "noise0")}, 1.5, 2, id="toy-wind-and-noise"),
    pytest.param("town", {"max_cycles": 10}, 1.2, 1, id="town-10-steps"),
]


@pytest.mark.parametrize(("preset", "kwargs", "spread", "episodes"), ROLLOUTS)
def test_observations_in_bounds_over_random_rollouts(preset: str, kwargs: dict[str, Any],
                                                      spread: float, episodes: int) -> None:
    env = rex_env.parallel_env(preset, **kwargs)
    assert _play(env, ActionStream(episodes, spread=spread), episodes) > 0


@pytest.mark.slow
def test_observations_in_bounds_over_a_community_day() -> None:
    env = rex_env.parallel_env("community")
    assert _play(env, ActionStream(11, spread=1.5), 1) == 118


def test_feature_names_describe_the_vector() -> None:
    env = rex_env.parallel_env("toy")
    names = env.feature_names()
    assert len(names) == env.observation_space("prosumer_0").shape[0]
    assert len(set(names)) == len(names)
    assert tuple(names[: len(TIME_FEATURES)]) == TIME_FEATURES
    assert tuple(names[-len(PRIVATE_FEATURES):]) == PRIVATE_FEATURES
    per = slot_features(env.k)
    assert len(names) == len(TIME_FEATURES) + env.window * len(per) + len(PRIVATE_FEATURES)
    assert names[len(TIME_FEATURES)] == "slot00.open"
    assert env.feature_names() is not env.feature_names()  # a copy each time
    space = env.observation_space("prosumer_0")
    assert np.all(space.low == -LIMIT) and np.all(space.high == LIMIT)


def test_observations_are_fresh_arrays() -> None:
    """No buffer shared between agents or steps; writing into one changes nothing else."""
    env = rex_env.parallel_env("toy")
    obs, _ = env.reset(seed=0)
    a0, a1 = obs["prosumer_0"], obs["prosumer_1"]
    assert not np.shares_memory(a0, a1)
    keep = {a: o.copy() for a, o in obs.items()}
    obs2 = env.step({})[0]
    for a in obs2:
        assert not np.shares_memory(obs2[a], obs[a])
        np.testing.assert_array_equal(obs[a], keep[a])  # the old ones were not overwritten
    twin = rex_env.parallel_env("toy")
    twin.reset(seed=0)
    twin.step({})
    obs2["prosumer_0"][:] = 123.0  # scribbling on a returned array changes nothing
    assert_same(env.step({})[0], twin.step({})[0])

def test_observation_layout_semantics() -> None:
    """Time features, open-slot block, zeros for slots not open, asset flags."""
    env = rex_env.parallel_env("toy", learners=("house00", "house01", "battery", "plant"))
    names = env.feature_names()
    idx = {n: i for i, n in enumerate(names)}
    per = len(slot_features(env.k))
    head = len(TIME_FEATURES)
    expected_flags = {
        "house00": [1, 0, 1, 0, 0],  # pv, wind, load, battery, plant
        "house01": [0, 0, 1, 0, 0],
        "battery": [0, 0, 0, 1, 0],
        "plant": [0, 0, 0, 0, 1],
    }
    obs, _ = env.reset(seed=4)
    acts = ActionStream(4)
    last_progress = -1.0
    while True:
        n_open = len(env.market.view.open_slots()[: env.window])
        for a, o in obs.items():
            assert math.isclose(float(o[0]) ** 2 + float(o[1]) ** 2, 1.0, abs_tol=1e-5)
            assert 0.0 <= o[idx["progress"]] <= 1.0
            assert o[idx["open_share"]] == pytest.approx(n_open / env.window)
            block = o[head: head + env.window * per].reshape(env.window, per)
            assert set(np.unique(block[:n_open, 0])) <= {0.5, 1.0}, "open flag of open slots"
            assert not block[n_open:].any(), "slots beyond the open ones must be all zeros"
            assert np.all(block[:n_open, 1] >= 0) and np.all(block[:n_open, 1] <= 1)
            flags = o[-5:]
            np.testing.assert_array_equal(flags, expected_flags[env.owner_of[a]])
            assert 0.0 <= o[idx["soc"]] <= 1.0 and 0.0 <= o[idx["plant_output"]] <= 1.0
        progress = float(next(iter(obs.values()))[idx["progress"]])
        assert progress >= last_progress
        last_progress = progress
        if not env.agents:
            break
        obs = env.step(acts(env))[0]
    assert last_progress == 1.0


@pytest.mark.parametrize("preset", ["toy", "community"])
def test_first_observation_is_informative(preset: str) -> None:
    """Not all zeros, and different learners see their own private state."""
    env = make_par(preset)
    obs, _ = env.reset(seed=0)
    arrs = list(obs.values())
    assert all(np.any(o != 0) for o in arrs)
    if preset == "toy":  # house00 has PV, house01 does not
        assert not np.array_equal(arrs[0], arrs[1])


def test_the_public_wholesale_curve_is_a_feature_of_every_open_slot() -> None:
    env = rex_env.parallel_env("community")
    obs, _ = env.reset(seed=4)
    for _ in range(30):
        obs = env.step({a: np.zeros(env.action_space(a).shape, np.float32)
                        for a in env.agents})[0]
    names = env.feature_names()
    m = env.market
    slots = m.view.open_slots()[: env.window]
    ref = env.scenario.reference_price
    o = next(iter(obs.values()))
    for j, k in enumerate(slots):
        got = o[names.index(f"slot{j:02d}.wholesale")]
        assert got == pytest.approx((m.curve.price(k) - ref) / ref, abs=1e-5)
    flat = rex_env.parallel_env("community_flat")
    obs, _ = flat.reset(seed=4)
    o = next(iter(obs.values()))
    assert o[flat.feature_names().index("slot00.wholesale")] == 0.0
