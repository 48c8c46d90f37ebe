"""rex_env: Rex, the reservation exchange for small electricity prosumers, as an RL environment.

Layers (each imports only the ones above it): :mod:`rex_env.exchange` (the market mechanism,
no RL imports), :mod:`rex_env.physics`, :mod:`rex_env.sim` (kernel, schedule, settlement,
metrics), :mod:`rex_env.scenarios`, the hand-coded :mod:`agents`, then :mod:`rex_env.envs`
(PettingZoo / Gymnasium / SB3 adapters).

Importing ``rex_env`` registers ``rex_env/Prosumer-v0`` with Gymnasium
(``gymnasium.make("rex_env/Prosumer-v0", ...)``) and, with PettingZoo >= 1.27 (which has a
registry), ``rex_env/Rex-v0`` as ``"parallel"`` and ``"aec"`` (``pettingzoo.make("parallel",
"rex_env/Rex-v0", ...)``) — plain ``register`` calls, as Gymnasium and PettingZoo expect. With
PettingZoo 1.26 use the factories :func:`parallel_env` and :func:`env`. The exchange, physics
and simulation sub-packages import no RL library themselves.
"""

from __future__ import annotations

import warnings
from typing import Any

import gymnasium

__version__ = "0.1.0"

ENV_ID = "rex_env/Rex-v0"
GYM_ID = "rex_env/Prosumer-v0"


def parallel_env(scenario: Any = "community", render_mode: str | None = None,
                 max_cycles: int | None = None, **overrides: Any) -> Any:
    """The PettingZoo ``ParallelEnv`` (see :class:`rex_env.envs.RexParallelEnv`)."""
    from .envs import parallel_env as make

    return make(scenario, render_mode=render_mode, max_cycles=max_cycles, **overrides)


def env(scenario: Any = "community", render_mode: str | None = None,
        max_cycles: int | None = None, **overrides: Any) -> Any:
    """The PettingZoo AEC form of :func:`parallel_env`."""
    from .envs import env as make

    return make(scenario, render_mode=render_mode, max_cycles=max_cycles, **overrides)


def _register() -> None:
    """Register the envs (idempotent: importing twice must not warn "Overriding")."""
    if GYM_ID not in gymnasium.registry:
        gymnasium.register(GYM_ID, entry_point="rex_env.envs.single:ProsumerEnv")
    try:
        from pettingzoo import register  # the registry: PettingZoo >= 1.27
    except ImportError:  # PettingZoo 1.26: no registry; the factories below still work
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        register("parallel", ENV_ID, "rex_env:parallel_env")
        register("aec", ENV_ID, "rex_env:env")


_register()

__all__ = ["ENV_ID", "GYM_ID", "__version__", "env", "parallel_env"]
