"""One evaluation episode (:func:`rex_env.eval.episodes.run_episode`) and the controllers that
act on the whole observation dict (``act(obs, env, deterministic)``: by-role SB3 runs, RLlib
checkpoints)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from rex_env.eval.benchmark import role_env_kwargs
from rex_env.eval.episodes import run_episode


class Recorder:
    """A dict-acting controller that holds the forecast and records the flag it was given."""

    controlled_by: str | None = None
    name = "recorder"

    def __init__(self) -> None:
        self.flags: list[bool] = []

    def act(self, obs: dict[str, Any], env: Any, deterministic: bool) -> dict[str, Any]:
        self.flags.append(deterministic)
        return {a: np.zeros(env.action_space(a).shape, np.float32) for a in obs}


@pytest.mark.parametrize("deterministic", [True, False])
def test_a_dict_acting_controller_gets_the_evaluation_flag(deterministic: bool) -> None:
    # ppo_all and RLlib runs act through ``act``: evaluate.py --deterministic must reach them
    rec = Recorder()
    ep = run_episode(role_env_kwargs("toy", "households"), rec, 1_000_000_000, deterministic)
    assert rec.flags and set(rec.flags) == {deterministic}
    assert np.isfinite(ep.surplus)
