"""A stable-baselines3 ``VecEnv`` for parameter sharing: the K learners of M env copies are
K*M sub-environments of one policy.

Sub-env ``i`` is learner ``i % K`` of copy ``i // K``. All learners of a copy act in the same
step; when a copy's trading day ends, each of its sub-envs reports ``done`` with its
``terminal_observation`` and the copy resets itself (auto-reset, as SB3 expects);
``TimeLimit.truncated`` is set only for a ``max_cycles`` cut (a settled day is a true end,
so PPO does not bootstrap beyond it). Copy ``m``
is seeded with ``seed + m`` (``VecEnv.seed``), so runs are reproducible; an unseeded reset
continues each copy's random stream. This replaces SuperSuit, whose vectorisation breaks on
seeding and masking.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from stable_baselines3.common.vec_env.base_vec_env import (
    VecEnv,
    VecEnvIndices,
    VecEnvObs,
    VecEnvStepReturn,
)

from .parallel import RexParallelEnv

MAX_COPIES = 256
"""Most env copies one vector env holds: each copy is a whole market (≈ 10 MB for
``community``, ≈ 50 MB for ``town`` after reset), so a mistyped count would exhaust memory
before the first step."""


def check_copies(n_envs: object) -> int:
    """``n_envs`` as an int in ``[1, MAX_COPIES]``.

    Raises:
        ValueError: anything else, naming the allowed range.
    """
    if isinstance(n_envs, bool) or not isinstance(n_envs, int) or not 1 <= n_envs <= MAX_COPIES:
        raise ValueError(f"n_envs must be an int in [1, {MAX_COPIES}] (each copy is a whole "
                         f"market), got {n_envs!r}")
    return n_envs


class CopiesVecEnv(VecEnv):
    """What every vector env of Rex shares: sub-env ``i`` is learner ``i % k`` of copy
    ``i // k`` (``m`` copies), copy ``m`` is seeded ``seed + m``; no wrappers, no images."""

    k: int
    m: int
    _copy_seeds: list[int | None]

    def seed(self, seed: int | None = None) -> Sequence[int | None]:
        """Copy m gets ``seed + m`` at its next reset."""
        if seed is None:
            seed = int(np.random.default_rng().integers(0, 2**31 - 1))
        self._copy_seeds = [seed + m for m in range(self.m)]
        return [self._copy_seeds[i // self.k] for i in range(self.num_envs)]

    def env_is_wrapped(self, wrapper_class: type, indices: VecEnvIndices = None) -> list[bool]:
        return [False for _ in self._get_indices(indices)]

    def get_images(self) -> Sequence[NDArray[Any] | None]:
        return [None for _ in range(self.num_envs)]

    def _get_indices(self, indices: VecEnvIndices) -> Iterable[int]:
        if indices is None:
            return range(self.num_envs)
        if isinstance(indices, int):
            return [indices]
        return indices


class SharedVecEnv(CopiesVecEnv):
    """K learners x M copies of :class:`RexParallelEnv` as one SB3 ``VecEnv``.

    Args:
        env_fns: M zero-argument callables building the copies (identical scenarios); or
            use :meth:`make`.
    """

    def __init__(self, env_fns: Sequence[Callable[[], RexParallelEnv]]) -> None:
        if not env_fns:
            raise ValueError("SharedVecEnv needs at least one env copy")
        check_copies(len(env_fns))
        self.envs = [fn() for fn in env_fns]
        first = self.envs[0]
        self.agents = list(first.possible_agents)
        self.k = len(self.agents)
        for e in self.envs[1:]:
            if e.possible_agents != self.agents:
                raise ValueError("every copy must have the same learners")
        self.m = len(self.envs)
        obs_space = first.observation_space(self.agents[0])
        act_space = first.action_space(self.agents[0])
        if first.config.action_mask_in_obs:
            raise ValueError("SharedVecEnv needs the Box observation: drop action_mask_in_obs "
                             "(MaskablePPO reads the masks through action_masks())")
        self.render_mode = None
        super().__init__(self.m * self.k, obs_space, act_space)
        self._copy_seeds: list[int | None] = [None] * self.m
        self._actions: NDArray[Any] | None = None
        self._obs = np.zeros((self.num_envs, *obs_space.shape), np.float32)  # type: ignore[misc]

    @property
    def scenario(self) -> Any:
        """The copies' scenario (the same in every copy)."""
        return self.envs[0].scenario

    @property
    def owner_of(self) -> dict[str, str]:
        """Learner -> owner id (the same in every copy)."""
        return self.envs[0].owner_of

    @classmethod
    def make(cls, n_envs: int = 1, **env_kwargs: Any) -> SharedVecEnv:
        """M = ``n_envs`` copies of ``RexParallelEnv(**env_kwargs)``."""
        check_copies(n_envs)
        return cls([lambda: RexParallelEnv(**env_kwargs) for _ in range(n_envs)])

    # -- seeding --------------------------------------------------------------------------
    # -- stepping -------------------------------------------------------------------------
    def _put(self, m: int, obs: dict[str, NDArray[np.float32]]) -> None:
        base = m * self.k
        for j, a in enumerate(self.agents):
            self._obs[base + j] = obs[a]

    def reset(self) -> VecEnvObs:
        for m, env in enumerate(self.envs):
            obs, infos = env.reset(seed=self._copy_seeds[m])
            self._put(m, obs)
            for j, a in enumerate(self.agents):
                self.reset_infos[m * self.k + j] = infos[a]
        self._copy_seeds = [None] * self.m
        return self._obs.copy()

    def step_async(self, actions: NDArray[Any]) -> None:
        self._actions = np.asarray(actions)

    def step_wait(self) -> VecEnvStepReturn:
        assert self._actions is not None, "step_async() first"
        acts = self._actions
        rewards = np.zeros(self.num_envs, np.float32)
        dones = np.zeros(self.num_envs, bool)
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        for m, env in enumerate(self.envs):
            base = m * self.k
            step_actions = {a: acts[base + j] for j, a in enumerate(self.agents)}
            obs, rew, term, trunc, inf = env.step(step_actions)
            done = False
            for j, a in enumerate(self.agents):
                i = base + j
                rewards[i] = rew[a]
                d = term[a] or trunc[a]
                dones[i] = d
                info = dict(inf[a])
                if d:
                    done = True
                    info["terminal_observation"] = obs[a]
                    # a settled day is terminated (no bootstrapping); max_cycles truncates
                    info["TimeLimit.truncated"] = bool(trunc[a] and not term[a])
                infos[i] = info
            if done:
                obs, reset_infos = env.reset()
                for j, a in enumerate(self.agents):
                    self.reset_infos[base + j] = reset_infos[a]
            self._put(m, obs)
        self._actions = None
        return self._obs.copy(), rewards, dones, infos

    def close(self) -> None:
        for e in self.envs:
            e.close()

    # -- masks and attributes -------------------------------------------------------------
    def action_masks(self) -> NDArray[np.int8]:
        """Masks of every sub-env (``action_mode="discrete"``), shape (num_envs, n)."""
        return np.stack([self.envs[i // self.k].action_masks(self.agents[i % self.k])
                         for i in range(self.num_envs)])

    def _copies(self, indices: VecEnvIndices) -> list[tuple[int, RexParallelEnv]]:
        return [(i, self.envs[i // self.k]) for i in self._get_indices(indices)]

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        return [getattr(e, attr_name) for _, e in self._copies(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        for _, e in self._copies(indices):
            setattr(e, attr_name, value)

    def env_method(self, method_name: str, *method_args: Any, indices: VecEnvIndices = None,
                   **method_kwargs: Any) -> list[Any]:
        if method_name == "action_masks":
            return [self.envs[i // self.k].action_masks(self.agents[i % self.k])
                    for i in self._get_indices(indices)]
        return [getattr(e, method_name)(*method_args, **method_kwargs)
                for _, e in self._copies(indices)]
