"""``rex_env/Prosumer-v0``: one learned prosumer in a market of hand-coded agents.

A plain ``gymnasium.Env`` for any single-agent library: the learner is one owner of the
scenario (``learner=``, default: the scenario's first learner); every other participant,
including the scenario's other learners, is driven by its hand-coded agent. Spaces, reward,
observation, infos and episode end are those of :class:`~rex_env.envs.parallel.RexParallelEnv`:
the end of a complete trading day is ``terminated`` (every slot is settled: a terminal state),
a cut by ``max_cycles`` is ``truncated``; infos are flat and numeric, with the nested detail in
:meth:`ProsumerEnv.last_details`.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from numpy.typing import NDArray

from ..scenarios import Scenario
from .config import EnvConfig, check_keywords
from .parallel import RexParallelEnv


class ProsumerEnv(gym.Env):
    """One learner, everyone else hand-coded (see :class:`RexParallelEnv` for the spec).

    Args:
        scenario: preset name or :class:`Scenario`.
        learner: the owner id the policy trades for (default: the scenario's first learner).
        render_mode: ``ansi``, ``rgb_array`` or ``human``.
        **overrides: other :class:`~rex_env.envs.config.EnvConfig` fields.
    """

    metadata = {"render_modes": ["ansi", "rgb_array", "human"], "render_fps": 4}

    def __init__(self, scenario: str | Scenario = "community", learner: str | None = None,
                 render_mode: str | None = None, **overrides: Any) -> None:
        if "learners" in overrides:
            raise TypeError("ProsumerEnv.__init__() got an unexpected keyword argument "
                            "'learners'; it takes learner= (one owner id)")
        allowed = ["scenario", "learner", "render_mode", *sorted(
            set(EnvConfig.__dataclass_fields__) - {"learners", "scenario"})]
        check_keywords("ProsumerEnv.__init__", overrides, allowed)
        cfg_scenario = EnvConfig(scenario=scenario).build_scenario()
        if learner is None:
            if not cfg_scenario.learners:
                raise ValueError(f"scenario {cfg_scenario.name!r} names no learners; pass "
                                 "learner=<owner id>")
            learner = cfg_scenario.learners[0]
        self.par = RexParallelEnv(scenario, render_mode=render_mode, learners=(learner,),
                                  **overrides)
        self.agent = self.par.possible_agents[0]
        self.learner = learner
        self.observation_space = self.par.observation_space(self.agent)
        self.action_space = self.par.action_space(self.agent)
        self.render_mode = render_mode

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[NDArray[np.float32], dict[str, Any]]:
        super().reset(seed=seed)
        # the market draws from this env's generator, so reset(seed) then reset() continues
        self.par._np_random = self.np_random
        obs, infos = self.par.reset(seed=None, options=options)
        return obs[self.agent], infos[self.agent]

    def step(self, action: Any) -> tuple[NDArray[np.float32], float, bool, bool,
                                         dict[str, Any]]:
        obs, rew, term, trunc, info = self.par.step({self.agent: action})
        a = self.agent
        return obs[a], rew[a], term[a], trunc[a], info[a]

    def last_details(self) -> dict[str, Any]:
        """The learner's nested detail of the last reset or step (``owner``,
        ``reward_parts``, ``rejections``; see :meth:`RexParallelEnv.last_details`)."""
        return self.par.last_details()[self.agent]

    def action_masks(self) -> NDArray[np.int8]:
        """Valid discrete actions (``action_mode="discrete"``), for MaskablePPO."""
        return self.par.action_masks(self.agent)

    def render(self) -> Any:
        return self.par.render()

    def close(self) -> None:
        self.par.close()
