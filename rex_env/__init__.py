"""rex_env: Rex, the reservation exchange for small electricity prosumers, as an RL environment.

Layers (each imports only the ones above it): :mod:`rex_env.exchange` (the market mechanism,
no RL imports), :mod:`rex_env.physics`, :mod:`rex_env.sim` (kernel, schedule, settlement,
metrics), :mod:`rex_env.scenarios`, the hand-coded :mod:`agents`, then :mod:`rex_env.envs`
(PettingZoo / Gymnasium / SB3 adapters).

Importing ``rex_env`` registers ``rex_env/Rex-v0`` with PettingZoo's registry (``"parallel"``
and ``"aec"``) and ``rex_env/Prosumer-v0`` with Gymnasium (when those are installed; the
exchange, replay and simulation work without them).
"""

from __future__ import annotations

from typing import Any

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
    """Register the environments; a no-op where gymnasium/pettingzoo are not installed."""
    try:
        import gymnasium
        import pettingzoo
    except ImportError:  # the core (exchange, replay, simulate) needs neither
        return
    import warnings

    with warnings.catch_warnings():  # re-importing must not warn "Overriding environment"
        warnings.simplefilter("ignore")
        pettingzoo.register("parallel", ENV_ID, "rex_env:parallel_env")
        pettingzoo.register("aec", ENV_ID, "rex_env:env")
        if GYM_ID not in gymnasium.registry:
            gymnasium.register(GYM_ID, entry_point="rex_env.envs.single:ProsumerEnv")


_register()

__all__ = ["ENV_ID", "GYM_ID", "__version__", "env", "parallel_env"]
