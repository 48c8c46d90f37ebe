"""The worker side of :class:`rex_env.envs.rexvec.RexVecEnv`: one process stepping a block of
market copies and writing their results into the shared buffers.

Kept apart from ``rexvec`` so that a worker imports the env and numpy only (not
stable-baselines3 and torch, ≈ 1.5 s and 300 MB per process).
"""

from __future__ import annotations

import gc
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .parallel import INFO_KEYS, RexParallelEnv


@dataclass
class Buffers:
    """Numpy views of the shared arrays; row ``i`` is sub-env ``i`` (copy ``i // K``, learner
    ``i % K``)."""

    obs: NDArray[np.float32]
    actions: NDArray[Any]
    rewards: NDArray[np.float32]
    terminated: NDArray[np.bool_]
    truncated: NDArray[np.bool_]
    infos: NDArray[np.float64]
    reset_infos: NDArray[np.float64]
    terminal_obs: NDArray[np.float32]
    masks: NDArray[np.int8] | None


def views(raw: dict[str, Any], n: int, obs_dim: int, act_shape: tuple[int, ...],
          act_dtype: str, n_actions: int | None) -> Buffers:
    """The numpy views of the raw shared arrays ``raw`` (made by ``RexVecEnv``)."""
    def arr(name: str, dtype: Any, shape: tuple[int, ...]) -> Any:
        return np.frombuffer(raw[name], dtype=dtype).reshape(shape)

    return Buffers(
        obs=arr("obs", np.float32, (n, obs_dim)),
        actions=arr("actions", act_dtype, (n, *act_shape)),
        rewards=arr("rewards", np.float32, (n,)),
        terminated=arr("terminated", np.bool_, (n,)),
        truncated=arr("truncated", np.bool_, (n,)),
        infos=arr("infos", np.float64, (n, len(INFO_KEYS))),
        reset_infos=arr("reset_infos", np.float64, (n, len(INFO_KEYS))),
        terminal_obs=arr("terminal_obs", np.float32, (n, obs_dim)),
        masks=None if n_actions is None else arr("masks", np.int8, (n, n_actions)))


class Block:
    """Market copies ``first .. first + len(envs) - 1`` of the vector env, in one process."""

    def __init__(self, first: int, n_copies: int, env_kwargs: dict[str, Any],
                 buf: Buffers) -> None:
        self.first = first
        self.envs = [RexParallelEnv(**env_kwargs) for _ in range(n_copies)]
        self.agents = list(self.envs[0].possible_agents)
        self.k = len(self.agents)
        self.buf = buf

    def _write(self, m: int, obs: dict[str, Any], infos: dict[str, dict[str, Any]],
               into: NDArray[np.float64]) -> None:
        """Copy ``m``'s observations, infos (into ``into``) and action masks."""
        base = (self.first + m) * self.k
        env, buf = self.envs[m], self.buf
        for j, a in enumerate(self.agents):
            buf.obs[base + j] = obs[a]
            info = infos[a]
            into[base + j] = [info[key] for key in INFO_KEYS]
            if buf.masks is not None:
                buf.masks[base + j] = env.action_masks(a)

    def reset(self, seeds: list[int | None]) -> None:
        for m, (env, seed) in enumerate(zip(self.envs, seeds, strict=True)):
            obs, infos = env.reset(seed=seed)
            self._write(m, obs, infos, self.buf.reset_infos)

    def step(self) -> None:
        buf = self.buf
        for m, env in enumerate(self.envs):
            base = (self.first + m) * self.k
            obs, rew, term, trunc, infos = env.step(
                {a: buf.actions[base + j] for j, a in enumerate(self.agents)})
            done = False
            for j, a in enumerate(self.agents):
                i = base + j
                buf.rewards[i] = rew[a]
                buf.terminated[i] = term[a]
                buf.truncated[i] = trunc[a]
                if term[a] or trunc[a]:
                    done = True
                    buf.terminal_obs[i] = obs[a]
            if done:  # auto-reset, as SB3 expects; the step's infos are the ones reported
                obs, reset_infos = env.reset()
                self._write(m, obs, reset_infos, buf.reset_infos)
            self._write(m, obs, infos, buf.infos)

    def call(self, m: int, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return getattr(self.envs[m - self.first], name)(*args, **kwargs)

    def get(self, m: int, name: str) -> Any:
        return getattr(self.envs[m - self.first], name)

    def set(self, m: int, name: str, value: Any) -> None:
        setattr(self.envs[m - self.first], name, value)


def serve(conn: Connection, first: int, n_copies: int, env_kwargs: dict[str, Any],
          raw: dict[str, Any], shape: tuple[int, int, tuple[int, ...], str, int | None]) -> None:
    """The worker's loop: one request, one reply (``("ok", value)`` or ``("error", text)``)."""
    try:
        block = Block(first, n_copies, env_kwargs, views(raw, *shape))
    except BaseException:  # noqa: BLE001 - reported to the parent, which raises it
        conn.send(("error", traceback.format_exc()))
        return
    # the worker's envs and imports live as long as it does: out of the garbage collector's
    # scans, so the collections the env steps trigger stay short (train.py does the same)
    gc.collect()
    gc.freeze()
    conn.send(("ok", None))
    while True:
        try:
            op, *args = conn.recv()
        except (EOFError, KeyboardInterrupt):
            return
        if op == "close":
            conn.send(("ok", None))
            return
        try:
            conn.send(("ok", getattr(block, op)(*args)))
        except BaseException:  # noqa: BLE001 - reported to the parent, which raises it
            conn.send(("error", traceback.format_exc()))
