"""sb3-contrib (issue 14): MaskablePPO on the discrete action mode, through the parameter-
sharing VecEnv and through ``gymnasium.make("rex_env/Prosumer-v0")``, reading the masks from
``action_masks()`` with no wrapper of ours.

sb3-contrib is in the core venv (extra ``train``); without it every test here is skipped.
"""

from __future__ import annotations

import pytest

pytest.importorskip("sb3_contrib", reason="sb3-contrib is not installed: pip install "
                                          "'rex-env[train]'")

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from sb3_contrib import MaskablePPO  # noqa: E402
from sb3_contrib.common.maskable.utils import get_action_masks  # noqa: E402
from stable_baselines3.common.callbacks import BaseCallback  # noqa: E402
from stable_baselines3.common.env_util import make_vec_env  # noqa: E402

import rex_env  # noqa: E402
from rex_env.envs.vec import SharedVecEnv  # noqa: E402

DAY = 14  # steps of a toy day


class _Masked(BaseCallback):  # type: ignore[misc]
    """Counts the actions the env dropped as masked (``infos[i]["masked"]``)."""

    masked = 0
    steps = 0

    def _on_step(self) -> bool:
        self.masked += sum(int(i["masked"]) for i in self.locals["infos"])
        self.steps += len(self.locals["infos"])
        return True


def _learn(venv: object) -> tuple[MaskablePPO, _Masked]:
    torch.set_num_threads(1)
    model = MaskablePPO("MlpPolicy", venv, n_steps=DAY, batch_size=DAY, n_epochs=1, seed=0,
                        device="cpu", policy_kwargs={"net_arch": [32]})
    before = [p.detach().clone() for p in model.policy.parameters()]
    cb = _Masked()
    model.learn(total_timesteps=2 * DAY * venv.num_envs, callback=cb)  # type: ignore[attr-defined]
    after = list(model.policy.parameters())
    assert any(not torch.equal(b, a) for b, a in zip(before, after, strict=True))
    return model, cb


def test_maskable_ppo_on_the_shared_vec_env() -> None:
    venv = SharedVecEnv.make(n_envs=1, scenario="toy", action_mode="discrete")
    masks = get_action_masks(venv)
    assert masks.shape == (venv.num_envs, venv.action_space.n) and masks[:, 0].all()
    model, cb = _learn(venv)
    assert cb.steps >= 2 * DAY * venv.num_envs
    assert cb.masked == 0, "MaskablePPO reads the masks, so the env drops nothing"


def test_maskable_ppo_on_the_registered_single_agent_env() -> None:
    venv = make_vec_env(lambda: gym.make(rex_env.GYM_ID, scenario="toy", action_mode="discrete"),
                        n_envs=1, seed=0)
    masks = get_action_masks(venv)
    assert masks.shape == (1, venv.action_space.n) and masks[0, 0]
    assert not masks.all(), "some orders are invalid at the start of the day"
    model, cb = _learn(venv)
    assert cb.masked == 0
    obs = venv.reset()
    action, _ = model.predict(obs, action_masks=get_action_masks(venv))
    assert get_action_masks(venv)[0, int(np.asarray(action)[0])]
