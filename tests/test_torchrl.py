"""TorchRL (issue 14): the env works through TorchRL's own wrappers, with no wrapper of ours.

Needs TorchRL (``pip install "rex-env[torchrl]"``; ``make test-torchrl`` installs it in its own
venv, and ``make test-benchmarl`` runs this file again with BenchMARL's TorchRL 0.11); without
it every test here is skipped.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("torchrl", reason="TorchRL is not installed: pip install "
                                      "'rex-env[torchrl]' (make test-torchrl installs it)")

import torch  # noqa: E402
from torchrl.envs.libs.gym import GymEnv  # noqa: E402
from torchrl.envs.libs.pettingzoo import PettingZooWrapper  # noqa: E402
from torchrl.envs.utils import check_env_specs  # noqa: E402

import rex_env  # noqa: E402
from rex_env.envs.parallel import INFO_KEYS  # noqa: E402

CASES = [
    pytest.param("toy", {}, id="toy"),
    pytest.param("community", {"max_cycles": 6}, id="community-cut"),
    pytest.param("toy", {"action_mode": "discrete", "action_mask_in_obs": True},
                 id="toy-discrete-masked"),
]


@pytest.mark.parametrize(("scenario", "kwargs"), CASES)
def test_pettingzoo_wrapper_specs_and_rollout(scenario: str, kwargs: dict[str, Any]) -> None:
    par = rex_env.parallel_env(scenario, **kwargs)
    discrete = kwargs.get("action_mode") == "discrete"
    env = PettingZooWrapper(par, return_state=True, categorical_actions=True, seed=0)
    assert env.group_map == {"prosumer": par.possible_agents}
    check_env_specs(env)
    td = env.rollout(1000)  # stops at the end of the episode
    steps = par.n_steps if par.max_cycles is None else min(par.n_steps, par.max_cycles)
    assert td.batch_size == torch.Size([steps])
    nxt = td["next"]
    done = nxt["done"].squeeze(-1)
    assert done[-1] and not done[:-1].any()
    cut = par.max_cycles is not None and par.max_cycles < par.n_steps
    # a settled day terminates (no bootstrapping past it), only a max_cycles cut truncates
    assert bool(nxt["terminated"][-1]) is not cut and bool(nxt["truncated"][-1]) is cut
    assert nxt["prosumer", "terminated"][-1].all() == (not cut)
    assert set(nxt["prosumer", "info"].keys()) == set(INFO_KEYS)
    assert nxt["state"].shape == (steps, *par.state_space.shape)
    if discrete:  # the mask reaches TorchRL, whose random actions then respect it
        assert td["prosumer", "action_mask"].shape == (steps, 2, par.action_space("x").n)
        assert nxt["prosumer", "info", "masked"].sum() == 0
        assert nxt["prosumer", "info", "clipped"].sum() == 0


def test_gym_env_on_the_single_agent_env() -> None:
    env = GymEnv(rex_env.GYM_ID, scenario="toy")
    check_env_specs(env)
    td = env.rollout(1000)
    assert bool(td["next", "terminated"][-1]) and not bool(td["next", "truncated"][-1])
    assert not td["next", "done"][:-1].any()
