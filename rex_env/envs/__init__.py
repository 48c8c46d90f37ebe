"""The Rex environments: PettingZoo parallel/AEC, single-learner Gymnasium, SB3 VecEnv."""

from __future__ import annotations

from typing import Any

from .config import EnvConfig
from .observation import feature_names
from .parallel import RexParallelEnv


def parallel_env(scenario: Any = "community", render_mode: str | None = None,
                 max_cycles: int | None = None, **overrides: Any) -> RexParallelEnv:
    """The native PettingZoo ``ParallelEnv`` (see :class:`RexParallelEnv`)."""
    return RexParallelEnv(scenario, render_mode=render_mode, max_cycles=max_cycles, **overrides)


def env(scenario: Any = "community", render_mode: str | None = None,
        max_cycles: int | None = None, **overrides: Any) -> Any:
    """The AEC form: ``parallel_to_aec(parallel_env(...))``."""
    from pettingzoo.utils.conversions import parallel_to_aec

    return parallel_to_aec(parallel_env(scenario, render_mode, max_cycles, **overrides))


__all__ = ["EnvConfig", "RexParallelEnv", "env", "feature_names", "parallel_env"]
