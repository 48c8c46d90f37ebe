"""Bad scenarios and keyword arguments fail at construction, naming what is allowed, through
every entry point (parallel, AEC, PettingZoo and Gymnasium registries, the VecEnv)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import pettingzoo
import pytest

import rex_env
from rex_env.envs import EnvConfig
from rex_env.envs.single import ProsumerEnv
from rex_env.envs.vec import SharedVecEnv
from rex_env.scenarios import PRESETS, make_scenario

ENTRY_POINTS: dict[str, Callable[..., Any]] = {
    "parallel_env": rex_env.parallel_env,
    "env": rex_env.env,
    "pettingzoo.make": lambda scenario, **kw: pettingzoo.make("parallel", rex_env.ENV_ID,
                                                              scenario=scenario, **kw),
    "gymnasium.make": lambda scenario, **kw: gym.make(rex_env.GYM_ID, scenario=scenario,
                                                      **kw),
    "SharedVecEnv": lambda scenario, **kw: SharedVecEnv.make(n_envs=1, scenario=scenario,
                                                             **kw),
}
ENTRY_PARAMS = [pytest.param(f, id=name) for name, f in ENTRY_POINTS.items()]
ALLOWED_KWARGS = [f.name for f in dataclasses.fields(EnvConfig)]


@pytest.mark.parametrize("make", ENTRY_PARAMS)
def test_unknown_scenario_lists_the_presets(make: Callable[..., Any]) -> None:
    with pytest.raises(ValueError) as err:
        make("atlantis")
    msg = str(err.value)
    assert "atlantis" in msg
    for name in PRESETS:
        assert name in msg


@pytest.mark.parametrize("make", ENTRY_PARAMS)
def test_unknown_keyword_lists_the_allowed(make: Callable[..., Any]) -> None:
    with pytest.raises(TypeError) as err:
        make("toy", n_agents=3)
    msg = str(err.value)
    assert "n_agents" in msg
    single = "Prosumer" in msg or "learner," in msg  # the single-learner env takes learner=
    for name in ALLOWED_KWARGS:
        name = "learner" if single and name == "learners" else name
        assert name in msg, f"{name!r} missing from: {msg}"


# (keyword, bad value, words the message must contain: what is allowed)
BAD_VALUES = [
    ("action_mode", "multi", ["box", "discrete"]),
    ("decision_interval", 0, ["positive"]),
    ("decision_interval", -900, ["positive"]),
    ("decision_interval", 1.5, ["int"]),
    ("decision_interval", True, ["int"]),
    ("max_cycles", 0, ["positive"]),
    ("max_cycles", -3, ["positive"]),
    ("max_cycles", 2.5, ["int"]),
    ("reward_scale", 0, ["> 0"]),
    ("reward_scale", -1.0, ["> 0"]),
    ("reward_scale", float("nan"), ["finite"]),
    ("reward_scale", float("inf"), ["finite"]),
    ("reward_scale", "big", ["number"]),
    ("price_levels", 1, [">= 2"]),
    ("price_levels", 3.0, ["int"]),
    ("size_levels", (), ["(0, 1]"]),
    ("size_levels", (0.0, 0.5), ["(0, 1]"]),
    ("size_levels", (1.5,), ["(0, 1]"]),
    ("size_levels", ("half",), ["(0, 1]"]),
    ("settlement", "auction", ["single", "dual", "curtail"]),
    ("learners", "wizard", ["intermittent", "plant", "storage"]),
    ("learners", ("house00", "nobody"), ["nobody", "house01", "wind"]),
    ("learners", (), ["owners"]),
    ("learners", ("grid",), ["external"]),
    ("controlled_by", "wizard", ["intermittent", "plant", "storage", "zic"]),
    # not sequences / not trading kinds: still a ValueError that says what is allowed
    ("size_levels", 0.5, ["(0, 1]"]),
    ("learners", 5, ["owners"]),
    ("controlled_by", "learner", ["intermittent", "plant", "storage", "zic"]),
    ("pricing", "haggle", ["touch", "make_take"]),
    ("target_range", 0.0, ["(0, 2]"]),
]


@pytest.mark.parametrize(("key", "value", "words"), BAD_VALUES,
                         ids=[f"{k}={v!r}" for k, v, _ in BAD_VALUES])
def test_bad_values_fail_at_construction_naming_the_allowed(key: str, value: Any,
                                                            words: list[str]) -> None:
    with pytest.raises(ValueError) as err:
        rex_env.parallel_env("toy", **{key: value})
    msg = str(err.value)
    for w in words:
        assert w in msg, f"{w!r} missing from: {msg}"


@pytest.mark.parametrize("value", ["grid", ("house00", "house00")],
                         ids=["kind-grid", "duplicate-owner"])
def test_learners_must_be_distinct_tradable_owners(value: Any) -> None:
    """``learners="grid"`` selects the external grid by kind (the sequence form already
    rejects it); a repeated owner would make two agents trade one account."""
    with pytest.raises(ValueError):
        rex_env.parallel_env("toy", learners=value)


def test_bad_render_mode_lists_the_modes() -> None:
    with pytest.raises(ValueError) as err:
        rex_env.parallel_env("toy", render_mode="hologram")
    for mode in ("ansi", "rgb_array", "human"):
        assert mode in str(err.value)


def test_prosumer_env_specific_arguments() -> None:
    with pytest.raises(TypeError, match="learner="):
        ProsumerEnv("toy", learners=("house00",))
    with pytest.raises(ValueError, match=re.escape("house00")):
        ProsumerEnv("toy", learner="nobody")  # the message lists the owners
    with pytest.raises(ValueError, match="external"):
        ProsumerEnv("toy", learner="grid")


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_names_learners(name: str) -> None:
    """The env's default learners come from the preset: each preset must name some."""
    sc = make_scenario(name)
    assert sc.learners, f"preset {name!r} names no learners"
    assert set(sc.learners) <= set(sc.owners)


def test_good_arguments_are_accepted() -> None:
    sc = make_scenario("toy").replace(learners=("house01",))
    env = rex_env.parallel_env(sc, learners=None, decision_interval=300,
                               action_mode="discrete", max_cycles=3, reward_scale=2.0,
                               price_levels=2, size_levels=[0.5, 1.0], settlement="dual",
                               controlled_by=None)
    assert env.owner_of == {"prosumer_0": "house01"}
    assert env.config.size_levels == (0.5, 1.0)
    assert env.action_space("prosumer_0").n == 1 + env.window * 2 * 2 * 2
    assert rex_env.parallel_env("toy", learners="intermittent").possible_agents == [
        "prosumer_0", "prosumer_1", "prosumer_2"]
