"""Ray RLlib support (issue 7): the MultiAgentEnv adapter, policy mappings, a short PPO
training iteration, the evaluation controller and the example script.

Needs the ``rllib`` extra; without it every test here is skipped (CI installs it).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ray = pytest.importorskip("ray", reason="Ray RLlib is not installed: pip install "
                                        "'rex-env[rllib]' (CI installs it)")
pytest.importorskip("ray.rllib", reason="ray is installed without RLlib: pip install "
                                        "'rex-env[rllib]'")

from ray.rllib.env.env_context import EnvContext  # noqa: E402
from ray.rllib.env.multi_agent_env import MultiAgentEnv  # noqa: E402
from ray.rllib.utils.pre_checks.env import check_multiagent_environments  # noqa: E402

from rex_env.envs.parallel import INFO_KEYS, RexParallelEnv  # noqa: E402
from rex_env.rllib import (  # noqa: E402
    FIXED_MODULE,
    RexMultiAgentEnv,
    RLlibPolicy,
    build_config,
    policy_mapping,
    save_mapping,
)

ROOT = Path(__file__).resolve().parents[1]
TOY = {"scenario": "toy"}
# house00 has PV, house01 only a load, wind a turbine: three roles; wind stays hand-coded
TRAIN_ENV = {"scenario": "toy", "learners": ["house00", "house01", "wind"]}


def rollout(env: Any, seed: int | None, steps: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    obs, _ = env.reset(seed=seed)
    out = [np.concatenate([obs[a] for a in env.possible_agents])]
    for _ in range(steps):
        acts = {a: rng.uniform(-1, 1, env.action_spaces[a].shape).astype(np.float32)
                for a in env.agents}
        obs, *_ = env.step(acts)
        out.append(np.concatenate([obs[a] for a in env.possible_agents]))
    return out


# -- the adapter ------------------------------------------------------------------------------
def test_adapter_meets_the_multi_agent_env_contract() -> None:
    env = RexMultiAgentEnv(TOY)
    assert isinstance(env, MultiAgentEnv)
    assert env.possible_agents == ["prosumer_0", "prosumer_1"]
    assert env.agents == []  # no reset in __init__
    for a in env.possible_agents:
        assert env.get_observation_space(a) is env.observation_spaces[a]
        assert env.get_action_space(a) is env.action_spaces[a]
    check_multiagent_environments(env)  # RLlib's own check: reset/step shapes, types
    obs, infos = env.reset(seed=3)
    assert set(obs) == set(infos) == set(env.agents) == set(env.possible_agents)
    for a, o in obs.items():
        assert env.observation_spaces[a].contains(o)
    n = 0
    while True:
        acts = {a: env.action_spaces[a].sample() for a in env.agents}
        obs, rew, term, trunc, infos = env.step(acts)
        n += 1
        assert set(rew) == set(obs) == set(env.possible_agents)
        assert set(term) == set(trunc) == {*env.possible_agents, "__all__"}
        assert all(isinstance(r, float) and math.isfinite(r) for r in rew.values())
        if term["__all__"] or trunc["__all__"]:
            break
        assert not any(term.values()) and not any(trunc.values())
        assert env.agents == env.possible_agents
    # a complete, settled day is a true end (no bootstrapping), all agents at once
    assert n == RexParallelEnv("toy").n_steps and env.agents == []
    assert all(term.values()) and not any(trunc.values())
    assert all(set(info) == set(INFO_KEYS) for info in infos.values()), "flat, numeric"
    env.reset(seed=0)
    with pytest.raises(ValueError, match="prosumer_9"):  # an unknown id names itself
        env.step({"prosumer_9": None})
    # a day cut short by max_cycles is a truncation
    short = RexMultiAgentEnv({**TOY, "max_cycles": 3})
    short.reset(seed=0)
    for _ in range(3):
        _, _, term, trunc, _ = short.step({a: None for a in short.agents})
    assert all(trunc.values()) and not any(term.values()) and short.agents == []


def test_adapter_seeding_explicit_and_per_worker() -> None:
    env = RexMultiAgentEnv(TOY)
    a, b = rollout(env, 7, 4), rollout(env, 7, 4)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True)), "same seed, same episode"
    c = rollout(env, 8, 4)
    assert not all(np.array_equal(x, y) for x, y in zip(a, c, strict=True)), "another seed differs"
    # env_config seed + the env runner's index seed the first unseeded reset
    w1 = RexMultiAgentEnv(EnvContext({**TOY, "seed": 1000}, worker_index=1))
    w2 = RexMultiAgentEnv(EnvContext({**TOY, "seed": 1000}, worker_index=2))
    check_multiagent_environments(w1)  # RLlib resets with seed=42 first: seed stays pending
    r1, r2 = rollout(w1, None, 4), rollout(w2, None, 4)
    assert all(np.array_equal(x, y) for x, y in zip(r1, rollout(env, 1001, 4), strict=True))
    assert all(np.array_equal(x, y) for x, y in zip(r2, rollout(env, 1002, 4), strict=True))


def test_policy_mappings() -> None:
    assert set(policy_mapping("shared", {"scenario": "community"}).values()) == {"shared"}
    roles = policy_mapping("by_role", {"scenario": "community"})
    assert roles["prosumer_0"] == "households" and roles["prosumer_7"] == "pv_battery"
    assert set(roles.values()) == {"households", "pv_battery"}
    every = policy_mapping("by_role", {"scenario": "toy", "learners": "all"})
    assert set(every.values()) == {"households", "wind", "plant", "storage"}
    indep = policy_mapping("independent", {"scenario": "community"})
    assert list(indep.values()) == [f"house{i:02d}" for i in range(8)]
    mixed = policy_mapping("by_role", TRAIN_ENV, fixed=["wind"])
    assert mixed == {"prosumer_0": "households", "prosumer_1": "households",
                     "prosumer_2": FIXED_MODULE}
    with pytest.raises(ValueError, match="mapping must be one of"):
        policy_mapping("per_agent", TOY)
    with pytest.raises(ValueError, match="not learners"):
        policy_mapping("shared", TOY, fixed=["plant"])
    with pytest.raises(ValueError, match="nothing to train"):
        policy_mapping("shared", TOY, fixed=["house00", "house01"])


# -- a short training iteration and the evaluation controller --------------------------------
@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """One PPO iteration on toy (by_role, wind fixed) with local Ray; its checkpoint."""
    ckpt = tmp_path_factory.mktemp("rllib") / "rllib_checkpoint"
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    algo = None
    try:
        cfg = build_config(TRAIN_ENV, mapping="by_role", fixed=["wind"], env_runners=0,
                           train_batch=28, minibatch=14, epochs=1, hidden=(16,))
        algo = cfg.build_algo()
        result = algo.train()
        algo.save_to_path(str(ckpt))
        save_mapping(ckpt, TRAIN_ENV, policy_mapping("by_role", TRAIN_ENV, fixed=["wind"]))
    finally:
        if algo is not None:
            algo.stop()
        ray.shutdown()
    return result, ckpt


def test_a_training_iteration_gives_finite_metrics(trained: tuple[dict[str, Any], Path]) -> None:
    result, _ = trained
    er = result["env_runners"]
    assert er["num_env_steps_sampled"] >= 28
    assert sum(er["num_agent_steps_sampled"].values()) == 3 * er["num_env_steps_sampled"]
    assert math.isfinite(er["episode_return_mean"])
    learners = result["learners"]
    for m in ("households",):  # the trained module (both households share their role)
        for k in ("total_loss", "policy_loss", "vf_loss", "entropy"):
            assert math.isfinite(learners[m][k]), (m, k)
    assert "total_loss" not in learners.get(FIXED_MODULE, {}), "the fixed module trained"


def test_rllib_policy_acts_as_an_evaluate_controller(trained: tuple[dict[str, Any], Path]
                                                     ) -> None:
    _, ckpt = trained
    policy = RLlibPolicy(ckpt)
    assert policy.name == "ppo" and policy.controlled_by is None
    env = RexParallelEnv(**{**TRAIN_ENV, "learners": tuple(TRAIN_ENV["learners"])})
    policy.check(env)
    with pytest.raises(ValueError, match="trained for learners"):
        policy.check(RexParallelEnv("toy"))
    policy.reset(1_000_000_000)
    obs, _ = env.reset(seed=1_000_000_000)
    first = policy.act(obs, env)
    assert first.keys() == obs.keys()
    again = policy.act(obs, env)
    for a in obs:
        assert env.action_space(a).contains(first[a])
        np.testing.assert_array_equal(first[a], again[a])  # deterministic
    np.testing.assert_array_equal(first["prosumer_2"], 0.0)  # wind: the hold-forecast module
    cls, args = policy.recipe()  # how an evaluation worker rebuilds it (rex_env.eval.parallel)
    rebuilt = cls(*args)
    for a, act in rebuilt.act(obs, env).items():
        np.testing.assert_array_equal(act, first[a])
    while env.agents:
        obs, rew, *_ = env.step(policy.act(obs, env))
        assert all(math.isfinite(r) for r in rew.values())
    with pytest.raises(FileNotFoundError, match="no RLlib checkpoint"):
        RLlibPolicy(ckpt.parent)


# -- the example script -----------------------------------------------------------------------
def test_example_script_writes_a_run_evaluate_can_read(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "examples/rllib_train.py", "--scenario", "toy", "--iterations", "1",
         "--env-runners", "1", "--num-cpus", "2", "--train-batch", "28", "--minibatch", "14",
         "--epochs", "1", "--hidden", "16", "--mapping", "independent", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "env steps/s" in proc.stdout and "agent steps/s" in proc.stdout
    cfg = json.loads((out / "config.json").read_text())
    for key in ("env_kwargs", "role", "seed", "n_envs"):  # what evaluate.py reads
        assert key in cfg, key
    assert cfg["env_kwargs"]["scenario"] == "toy" and cfg["backend"] == "rllib"
    assert cfg["modules"] == {"prosumer_0": "house00", "prosumer_1": "house01"}
    timing = json.loads((out / "timing.json").read_text())
    assert timing["iterations"][0]["env_steps_per_s"] > 0
    policy = RLlibPolicy(out / "rllib_checkpoint")
    env = RexParallelEnv(**cfg["env_kwargs"])
    policy.check(env)
    obs, _ = env.reset(seed=1_000_000_000)
    assert policy.act(obs, env).keys() == obs.keys()
    # a foreign run folder is refused, not overwritten
    (tmp_path / "sb3").mkdir()
    (tmp_path / "sb3" / "config.json").write_text(json.dumps({"scenario": "toy"}))
    proc = subprocess.run([sys.executable, "examples/rllib_train.py", "--out",
                           str(tmp_path / "sb3")], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 2 and "holds another run" in proc.stderr


def test_rex_env_does_not_import_ray() -> None:
    probe = ("import sys, rex_env, rex_env.envs; "
             "print(any(m == 'ray' or m.startswith('ray.') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "False"
