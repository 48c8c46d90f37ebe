"""``RexVecEnv``: the market copies stepped by worker processes give exactly what
``SharedVecEnv`` gives in one process (observations, rewards, dones, every info, terminal
observations, reset infos, action masks), and its failures are clear errors."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from rex_env.envs.rexvec import RexVecEnv, default_workers
from rex_env.envs.vec import SharedVecEnv

from .helpers import WARNING_FILTERS

pytestmark = WARNING_FILTERS


@pytest.fixture
def closing() -> Iterator[list[Any]]:
    """Vector envs to close at the end of the test, whatever happens."""
    envs: list[Any] = []
    yield envs
    for v in envs:
        v.close()


def _same_info(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        if key == "terminal_observation":
            np.testing.assert_array_equal(a[key], b[key])
        else:
            assert a[key] == b[key] and type(a[key]) is type(b[key]), (key, a[key], b[key])


def _lockstep(kw: dict[str, Any], n_envs: int, workers: int, steps: int,
              closing: list[Any]) -> int:
    """Step a RexVecEnv and a SharedVecEnv with the same actions; every output equal.
    Returns how many steps ended a copy's day."""
    ours = RexVecEnv.make(n_envs, workers, **kw)
    closing.append(ours)
    ref = SharedVecEnv.make(n_envs, **kw)
    ours.seed(11)
    ref.seed(11)
    np.testing.assert_array_equal(ours.reset(), ref.reset())
    for a, b in zip(ours.reset_infos, ref.reset_infos, strict=True):
        _same_info(a, b)
    discrete = kw.get("action_mode") == "discrete"
    rng = np.random.default_rng(3)
    ends = 0
    for t in range(steps):
        if discrete:
            np.testing.assert_array_equal(ours.action_masks(), ref.action_masks())
            acts = rng.integers(ours.action_space.n, size=ours.num_envs)
        else:
            acts = rng.uniform(-1.2, 1.2, (ours.num_envs, *ours.action_space.shape)
                               ).astype(np.float32)
        obs, rew, done, infos = ours.step(acts)
        r_obs, r_rew, r_done, r_infos = ref.step(acts)
        np.testing.assert_array_equal(obs, r_obs, err_msg=f"step {t}")
        np.testing.assert_array_equal(rew, r_rew, err_msg=f"step {t}")
        assert rew.dtype == r_rew.dtype and done.dtype == r_done.dtype
        np.testing.assert_array_equal(done, r_done, err_msg=f"step {t}")
        for a, b in zip(infos, r_infos, strict=True):
            _same_info(a, b)
        for a, b in zip(ours.reset_infos, ref.reset_infos, strict=True):
            _same_info(a, b)
        ends += bool(done.any())
    return ends


@pytest.mark.parametrize(("n_envs", "workers", "kw", "steps"), [
    (3, 2, {"scenario": "toy", "max_cycles": 7}, 16),
    (2, 2, {"scenario": "toy"}, 130),
    (2, 1, {"scenario": "toy", "action_mode": "discrete", "max_cycles": 5}, 12),
    (2, 2, {"scenario": "community", "max_cycles": 4}, 9),
], ids=["uneven-blocks-truncated", "whole-days", "discrete-masks", "community"])
def test_steps_exactly_like_the_in_process_vec_env(n_envs: int, workers: int,
                                                   kw: dict[str, Any], steps: int,
                                                   closing: list[Any]) -> None:
    assert _lockstep(kw, n_envs, workers, steps, closing) >= 1  # auto-resets were compared


def test_attributes_and_methods_reach_the_right_copy(closing: list[Any]) -> None:
    v = RexVecEnv.make(3, 2, scenario="toy", max_cycles=5)
    closing.append(v)
    k = v.k
    v.seed(5)
    v.reset()
    assert v.get_attr("owner_of") == [v.owner_of] * v.num_envs
    v.set_attr("tag", "x", indices=[k])  # copy 1 only (the second worker's block)
    tags = v.env_method("__getattribute__", "__dict__")
    assert [("tag" in d) for d in tags] == [1 <= i // k < 2 for i in range(v.num_envs)]
    masks = v.env_method("state_names", indices=0)
    assert masks == [v.template.state_names()]


def test_action_masks_follow_sb3_contrib(closing: list[Any]) -> None:
    from sb3_contrib.common.maskable.utils import get_action_masks

    v = RexVecEnv.make(2, 2, scenario="toy", action_mode="discrete")
    closing.append(v)
    v.reset()
    masks = get_action_masks(v)
    assert masks.shape == (v.num_envs, v.action_space.n) and masks.any(axis=1).all()
    with pytest.raises(ValueError, match="only with action_mode='discrete'"):
        RexVecEnv.make(1, 1, scenario="toy").action_masks()


@pytest.mark.parametrize(("args", "kw", "words"), [
    ((0, None), {}, r"n_envs must be an int in \[1, 256\]"),
    ((10**9, None), {}, r"n_envs must be an int in \[1, 256\]"),
    ((2, 3), {}, r"workers must be an int in \[1, n_envs=2\]"),
    ((2, 0), {}, "workers must be"),
    ((1, None), {"settlement": "barter"}, "settlement"),
    ((1, None), {"action_mode": "discrete", "action_mask_in_obs": True}, "Box observation"),
], ids=["n_envs", "a-billion-copies", "too-many-workers", "no-workers", "env-option",
        "mask-in-obs"])
def test_bad_arguments_fail_before_any_process_starts(args: tuple[int, int | None],
                                                      kw: dict[str, Any], words: str) -> None:
    import multiprocessing

    before = len(multiprocessing.active_children())
    with pytest.raises(ValueError, match=words):
        RexVecEnv(*args, **{"scenario": "toy", **kw})
    assert len(multiprocessing.active_children()) == before


def test_a_failing_worker_raises_its_traceback_and_the_env_goes_on(closing: list[Any]) -> None:
    v = RexVecEnv.make(2, 2, scenario="toy")
    closing.append(v)
    v.reset()
    with pytest.raises(RuntimeError, match="worker 1 failed:(.|\n)*AttributeError"):
        v.env_method("no_such_method", indices=[v.k])
    obs, *_ = v.step(np.zeros((v.num_envs, *v.action_space.shape), np.float32))
    assert obs.shape == (v.num_envs, *v.observation_space.shape)


def test_a_dead_worker_is_named_and_close_does_not_hang(closing: list[Any]) -> None:
    v = RexVecEnv.make(2, 2, scenario="toy")
    v.reset()
    proc = v._procs[0]
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(5)
    with pytest.raises(RuntimeError, match=r"worker 0 \(copies 0..0\) died"):
        v.step(np.zeros((v.num_envs, *v.action_space.shape), np.float32))
    v.close()
    assert not any(p.is_alive() for p in v._procs)
    with pytest.raises(RuntimeError, match="closed"):
        v.reset()


def test_default_workers_never_exceed_copies_or_cores() -> None:
    cores = len(os.sched_getaffinity(0))
    assert default_workers(1) == 1
    assert default_workers(64) == min(64, cores)
