"""BenchMARL support: the Rex env as a BenchMARL task, so any of its algorithms (MAPPO, IPPO,
MADDPG, ...) trains on it with no wrapper of the user's.

Needs BenchMARL (``pip install "rex-env[benchmarl]"``); nothing else in ``rex_env`` imports
this module.

.. code-block:: python

    from benchmarl.algorithms import MappoConfig
    from benchmarl.experiment import Experiment, ExperimentConfig
    from benchmarl.models.mlp import MlpConfig
    from rex_env.envs.benchmarl import rex_task

    Experiment(task=rex_task(scenario="community"), algorithm_config=MappoConfig.get_from_yaml(),
               model_config=MlpConfig.get_from_yaml(), seed=0,
               config=ExperimentConfig.get_from_yaml()).run()

Continuous algorithms get the ``box`` action mode (or ``offset``, if asked for), discrete ones
``action_mode="discrete"`` with ``action_mask_in_obs=True``, so BenchMARL masks the invalid
orders. The learners form one group, ``prosumer``; MAPPO's critic reads :meth:`state`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

try:
    from benchmarl.environments import PettingZooClass
    from torchrl.envs import EnvBase, PettingZooWrapper
except ImportError as exc:  # pragma: no cover - the message is the point
    raise ImportError('rex_env.envs.benchmarl needs BenchMARL: pip install '
                      '"rex-env[benchmarl]"') from exc

from .parallel import RexParallelEnv


class RexTaskClass(PettingZooClass):  # type: ignore[misc, unused-ignore]
    """A BenchMARL task over :class:`RexParallelEnv`; ``config`` holds its keywords."""

    def _env_kwargs(self, continuous_actions: bool) -> dict[str, Any]:
        kwargs = dict(self.config)
        if continuous_actions:
            if kwargs.get("action_mode") == "discrete":
                raise ValueError("a continuous-action algorithm needs action_mode 'box' or "
                                 "'offset', got 'discrete'")
            kwargs.pop("action_mask_in_obs", None)
        else:
            kwargs.update(action_mode="discrete", action_mask_in_obs=True)
        return kwargs

    def get_env_fun(self, num_envs: int, continuous_actions: bool, seed: int | None,
                    device: Any) -> Callable[[], EnvBase]:
        kwargs = self._env_kwargs(continuous_actions)

        def make() -> EnvBase:
            return PettingZooWrapper(RexParallelEnv(**kwargs), categorical_actions=True,
                                     device=device, seed=seed, return_state=True)

        return make

    def supports_continuous_actions(self) -> bool:
        return True

    def supports_discrete_actions(self) -> bool:
        return True

    def has_state(self) -> bool:
        return True

    def has_render(self, env: EnvBase) -> bool:
        return False

    def max_steps(self, env: EnvBase) -> int:
        par = RexParallelEnv(**self._env_kwargs(self.config.get("action_mode") != "discrete"))
        return int(par.n_steps if par.max_cycles is None else min(par.n_steps, par.max_cycles))

    @staticmethod
    def env_name() -> str:
        return "rex_env"


def rex_task(**env_kwargs: Any) -> RexTaskClass:
    """A BenchMARL task of :func:`rex_env.parallel_env` with these keywords (``scenario``,
    ``max_cycles``, ``learners``, ...); validated here, so a bad keyword fails at once."""
    RexParallelEnv(**env_kwargs)
    return RexTaskClass(name="REX", config=dict(env_kwargs))


__all__ = ["RexTaskClass", "rex_task"]
