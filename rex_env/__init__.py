"""rex_env: Rex, the reservation exchange for small electricity prosumers, as an RL environment.

Layers (each imports only the ones above it): :mod:`rex_env.exchange` (the market mechanism,
no RL imports), :mod:`rex_env.physics`, :mod:`rex_env.sim` (kernel, schedule, settlement,
metrics), :mod:`rex_env.scenarios`, the hand-coded :mod:`agents`, then :mod:`rex_env.envs`
(PettingZoo / Gymnasium / SB3 adapters).

Importing ``rex_env`` registers ``rex_env/Rex-v0`` with PettingZoo's registry (``"parallel"``
and ``"aec"``) and ``rex_env/Prosumer-v0`` with Gymnasium — at once if they are already
imported, otherwise the moment they are, so the exchange, replay and simulation never import
an RL library.
"""

from __future__ import annotations

import importlib.abc
import sys
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


def _register_gymnasium(gymnasium: Any) -> None:
    if GYM_ID not in gymnasium.registry:
        gymnasium.register(GYM_ID, entry_point="rex_env.envs.single:ProsumerEnv")


def _register_pettingzoo(pettingzoo: Any) -> None:
    import warnings

    with warnings.catch_warnings():  # registering twice must not warn "Overriding environment"
        warnings.simplefilter("ignore")
        pettingzoo.register("parallel", ENV_ID, "rex_env:parallel_env")
        pettingzoo.register("aec", ENV_ID, "rex_env:env")


_REGISTRARS = {"gymnasium": _register_gymnasium, "pettingzoo": _register_pettingzoo}


class _RegisterOnImport(importlib.abc.MetaPathFinder):
    """Registers the envs the moment gymnasium / pettingzoo finish importing.

    So ``import rex_env`` registers ``rex_env/Rex-v0`` and ``rex_env/Prosumer-v0`` for any later
    ``gymnasium.make`` / ``pettingzoo.make`` without importing an RL library itself: the exchange,
    replay and simulation stay free of RL imports (STYLE practice 1).
    """

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name not in _REGISTRARS:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        run = loader.exec_module

        def exec_module(module: Any) -> None:
            run(module)
            _REGISTRARS[name](module)

        loader.exec_module = exec_module  # type: ignore[method-assign]  # this spec's loader
        return spec


def _register() -> None:
    """Register now for what is already imported, on import for the rest."""
    pending = False
    for name, registrar in _REGISTRARS.items():
        module = sys.modules.get(name)
        if module is not None:
            registrar(module)
        else:
            pending = True
    if pending and not any(isinstance(f, _RegisterOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _RegisterOnImport())


_register()

__all__ = ["ENV_ID", "GYM_ID", "__version__", "env", "parallel_env"]
