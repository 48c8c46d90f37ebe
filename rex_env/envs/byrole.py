"""One policy per role in one market with stable-baselines3: lockstep views of one VecEnv.

:class:`SharedVecEnv` (or :class:`~rex_env.envs.rexvec.RexVecEnv`, the same with worker
processes) turns the K learners of M env copies into K*M sub-envs. With
``learners="all"`` those learners belong to several roles (:mod:`rex_env.spec.roles`); a
:class:`RoleHub` splits the sub-envs by role into one :class:`RoleView` (an SB3 ``VecEnv``)
per role, so that each role trains its own PPO model on its own view. The models run their
``learn()`` loops in threads; each view's ``step`` waits at a barrier until every role has
chosen its actions, then the market steps once for all of them (the roles act at the same
decision epochs, as in the single-policy env). Every model must make the same number of env
steps: the same ``n_steps`` and ``total_timesteps`` proportional to its view's size
(:meth:`RoleHub.timesteps`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from stable_baselines3.common.vec_env.base_vec_env import (
    VecEnv,
    VecEnvIndices,
    VecEnvObs,
    VecEnvStepReturn,
)

from ..spec.roles import role_of
from .rexvec import RexVecEnv
from .vec import SharedVecEnv

BARRIER_TIMEOUT = 600.0
"""Seconds a view waits for the other roles before giving up (a crashed trainer thread)."""


class RoleHub:
    """The shared market behind the role views.

    Args:
        venv: a :class:`SharedVecEnv` or :class:`RexVecEnv` whose learners span several roles.
    """

    def __init__(self, venv: SharedVecEnv | RexVecEnv) -> None:
        self.venv = venv
        roles = [role_of(venv.scenario.spec(venv.owner_of[a])) for a in venv.agents]
        if None in roles:
            raise ValueError("every learner must have a role (rex_env.spec.roles) to be split by "
                             "role")
        self.roles: list[str] = list(dict.fromkeys(r for r in roles if r is not None))
        self.indices: dict[str, NDArray[np.int64]] = {
            r: np.array([i for i in range(venv.num_envs) if roles[i % venv.k] == r])
            for r in self.roles}
        shape: tuple[int, ...] = venv.action_space.shape or ()
        self._actions = np.zeros((venv.num_envs, *shape), venv.action_space.dtype)
        self._op = "step"
        self._result: Any = None
        self.env_seconds = 0.0
        """Seconds spent stepping the market (for the timing report)."""
        self._barrier = threading.Barrier(len(self.roles), action=self._run)
        self.views = {r: RoleView(self, r) for r in self.roles}

    def timesteps(self, rollouts: int, n_steps: int) -> dict[str, int]:
        """``total_timesteps`` per role for ``rollouts`` rollouts of ``n_steps`` each."""
        return {r: rollouts * n_steps * len(ix) for r, ix in self.indices.items()}

    def _run(self) -> None:
        t = time.perf_counter()
        if self._op == "reset":
            self._result = self.venv.reset()
        else:
            self.venv.step_async(self._actions.copy())
            self._result = self.venv.step_wait()
        self.env_seconds += time.perf_counter() - t

    def sync(self, op: str, role: str | None = None, actions: NDArray[Any] | None = None
             ) -> Any:
        """Wait for every role, run ``op`` once, return the full result."""
        if role is not None and actions is not None:
            self._actions[self.indices[role]] = actions
        self._op = op
        try:
            self._barrier.wait(BARRIER_TIMEOUT)
        except threading.BrokenBarrierError as exc:
            raise RuntimeError("another role's trainer stopped; the market cannot step "
                               "without it") from exc
        return self._result

    def abort(self) -> None:
        """Release the other views (one trainer failed)."""
        self._barrier.abort()


class RoleView(VecEnv):
    """One role's sub-envs of a :class:`RoleHub` as an SB3 ``VecEnv``."""

    def __init__(self, hub: RoleHub, role: str) -> None:
        self.hub = hub
        self.role = role
        self.idx = hub.indices[role]
        self.render_mode = None
        super().__init__(len(self.idx), hub.venv.observation_space, hub.venv.action_space)
        self._pending: NDArray[Any] | None = None

    def reset(self) -> VecEnvObs:
        obs = self.hub.sync("reset")
        return np.asarray(obs)[self.idx]

    def step_async(self, actions: NDArray[Any]) -> None:
        self._pending = np.asarray(actions)

    def step_wait(self) -> VecEnvStepReturn:
        obs, rew, done, infos = self.hub.sync("step", self.role, self._pending)
        return (obs[self.idx], rew[self.idx], done[self.idx],
                [infos[i] for i in self.idx])

    def close(self) -> None:
        """The hub's env is closed by its owner."""

    def _global(self, indices: VecEnvIndices) -> list[int]:
        if indices is None:
            return [int(i) for i in self.idx]
        if isinstance(indices, int):
            return [int(self.idx[indices])]
        return [int(self.idx[i]) for i in indices]

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        return self.hub.venv.get_attr(attr_name, self._global(indices))

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        self.hub.venv.set_attr(attr_name, value, self._global(indices))

    def env_method(self, method_name: str, *method_args: Any, indices: VecEnvIndices = None,
                   **method_kwargs: Any) -> list[Any]:
        return self.hub.venv.env_method(method_name, *method_args,
                                        indices=self._global(indices), **method_kwargs)

    def env_is_wrapped(self, wrapper_class: type, indices: VecEnvIndices = None) -> list[bool]:
        return [False for _ in self._global(indices)]

    def get_images(self) -> Sequence[NDArray[Any] | None]:
        return [None for _ in range(self.num_envs)]

    def seed(self, seed: int | None = None) -> Sequence[int | None]:
        """Seeding is the hub's (``hub.venv.seed``): one market for every role."""
        return [None for _ in range(self.num_envs)]


def run_parallel(jobs: Iterable[Any], hub: RoleHub) -> None:
    """Run the zero-argument ``jobs`` (one ``learn()`` per role) in threads; re-raise the
    first failure after releasing the others."""
    errors: list[BaseException] = []

    def wrap(job: Any) -> None:
        try:
            job()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(exc)
            hub.abort()

    threads = [threading.Thread(target=wrap, args=(j,)) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
