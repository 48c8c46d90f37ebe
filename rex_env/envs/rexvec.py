"""``RexVecEnv``: N market copies x K learners stepped by worker processes in one call, as a
stable-baselines3 ``VecEnv``, with observations, actions, rewards and infos in shared buffers.

The same sub-env layout, seeding, auto-reset and results as
:class:`~rex_env.envs.vec.SharedVecEnv` (tested step for step), but the copies are split into
contiguous blocks, one per worker process, and all blocks step at once: with ``W`` free cores
the market's simulation — nearly all of an env step — runs up to ``W`` times faster. The
hand-coded market is Python, so threads would not help (the GIL); worker processes writing
into shared arrays are PufferLib's multiprocessing pattern. Per step only a one-word request
and an empty reply cross the pipes; the data stays in the shared arrays.

    venv = RexVecEnv.make(n_envs=4, workers=2, scenario="community")
    model = PPO("MlpPolicy", venv)

As with any process-based vector env (SB3's ``SubprocVecEnv``), a script that makes one must
guard its entry point with ``if __name__ == "__main__":`` (Python's rule for ``forkserver``
and ``spawn``: a worker imports the main module). A worker that fails raises
:class:`RuntimeError` in the parent with the worker's traceback; a worker that dies (killed,
out of memory) raises one naming it. ``close()`` stops the workers (also at garbage
collection and at interpreter exit).
"""

from __future__ import annotations

import weakref
from multiprocessing.connection import Connection
from typing import Any

import numpy as np
from numpy.typing import NDArray
from stable_baselines3.common.vec_env.base_vec_env import (
    VecEnvIndices,
    VecEnvObs,
    VecEnvStepReturn,
)

from ._vecworker import serve, views
from .parallel import INFO_COUNTS, INFO_KEYS, RexParallelEnv
from .vec import CopiesVecEnv, check_copies
from .workers import START_METHOD as START_METHOD  # re-exported: train.py, the tests
from .workers import context as _context
from .workers import default_workers as default_workers


class RexVecEnv(CopiesVecEnv):
    """``n_envs`` copies of ``RexParallelEnv(**env_kwargs)`` in ``workers`` processes.

    Sub-env ``i`` is learner ``i % K`` of copy ``i // K``; copy ``m`` is seeded with
    ``seed + m`` (:meth:`seed`); when a copy's day ends its sub-envs report ``done`` with their
    ``terminal_observation`` and the copy resets itself; ``TimeLimit.truncated`` marks a
    ``max_cycles`` cut only — all as :class:`~rex_env.envs.vec.SharedVecEnv`.

    Args:
        n_envs: market copies M (1 .. :data:`~rex_env.envs.vec.MAX_COPIES`).
        workers: processes (1 <= workers <= n_envs; default :func:`default_workers`).
        **env_kwargs: the :class:`RexParallelEnv` options (picklable: a scenario name or a
            ``Scenario``), checked here before any process starts.

    Raises:
        ValueError: ``n_envs`` or ``workers`` out of range, or a bad env option (the env's own
            message); ``RuntimeError``: a worker failed to build its copies.
    """

    def __init__(self, n_envs: int = 1, workers: int | None = None, **env_kwargs: Any) -> None:
        check_copies(n_envs)
        if workers is None:
            workers = default_workers(n_envs)
        if isinstance(workers, bool) or not isinstance(workers, int) \
                or not 1 <= workers <= n_envs:
            raise ValueError(f"workers must be an int in [1, n_envs={n_envs}], got {workers!r}")
        # the parent's copy checks every option and answers for spaces, learners and roles;
        # it is never stepped
        self.template = RexParallelEnv(**env_kwargs)
        if self.template.config.action_mask_in_obs:
            raise ValueError("RexVecEnv needs the Box observation: drop action_mask_in_obs "
                             "(MaskablePPO reads the masks through action_masks())")
        self.agents = list(self.template.possible_agents)
        self.k, self.m = len(self.agents), n_envs
        obs_space = self.template.observation_space(self.agents[0])
        act_space = self.template.action_space(self.agents[0])
        self.render_mode = None
        super().__init__(self.m * self.k, obs_space, act_space)
        self._shape = self._buffer_shape()
        self._raw = self._allocate(*self._shape)
        self.buf = views(self._raw, *self._shape)
        self._copy_seeds: list[int | None] = [None] * self.m
        self._blocks = [(int(b[0]), len(b)) for b in np.array_split(np.arange(self.m), workers)]
        self._conns: list[Connection] = []
        self._procs: list[Any] = []
        self._closed = False
        ctx = _context()
        for w, (first, count) in enumerate(self._blocks):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=serve, name=f"RexVecEnv-worker-{w}", daemon=True,
                               args=(child, first, count, env_kwargs, self._raw, self._shape))
            proc.start()
            child.close()
            self._conns.append(parent)
            self._procs.append(proc)
        self._finalizer = weakref.finalize(self, _shutdown, self._conns, self._procs)
        self._gather()

    @classmethod
    def make(cls, n_envs: int = 1, workers: int | None = None, **env_kwargs: Any
             ) -> RexVecEnv:
        """The same as the constructor (mirrors :meth:`SharedVecEnv.make`)."""
        return cls(n_envs, workers, **env_kwargs)

    @property
    def scenario(self) -> Any:
        return self.template.scenario

    @property
    def owner_of(self) -> dict[str, str]:
        return self.template.owner_of

    @property
    def workers(self) -> int:
        return len(self._blocks)

    # -- buffers and messages ------------------------------------------------------------
    def _buffer_shape(self) -> tuple[int, int, tuple[int, ...], str, int | None]:
        obs_shape = self.observation_space.shape or ()
        if len(obs_shape) != 1:
            raise ValueError(f"RexVecEnv needs a flat Box observation, got shape {obs_shape}")
        n_actions = None
        if self.template.config.action_mode == "discrete":
            n_actions = int(self.template.action_masks(self.agents[0]).shape[-1])
        return (self.num_envs, int(obs_shape[0]), tuple(self.action_space.shape or ()),
                np.dtype(self.action_space.dtype).str, n_actions)

    @staticmethod
    def _allocate(n: int, obs_dim: int, act_shape: tuple[int, ...], act_dtype: str,
                  n_actions: int | None) -> dict[str, Any]:
        """Shared zeroed arrays (``RawArray``: no lock, each row has one writer)."""
        ctx = _context()
        per_action = int(np.prod(act_shape, dtype=np.int64)) * np.dtype(act_dtype).itemsize
        sizes = {"obs": n * obs_dim * 4, "actions": n * per_action,
                 "rewards": n * 4, "terminated": n, "truncated": n,
                 "infos": n * len(INFO_KEYS) * 8, "reset_infos": n * len(INFO_KEYS) * 8,
                 "terminal_obs": n * obs_dim * 4}
        if n_actions is not None:
            sizes["masks"] = n * n_actions
        return {name: ctx.RawArray("b", max(1, size)) for name, size in sizes.items()}

    def _send(self, w: int, *msg: Any) -> None:
        if self._closed:
            raise RuntimeError("RexVecEnv is closed")
        try:
            self._conns[w].send(msg)
        except (BrokenPipeError, OSError) as exc:
            raise RuntimeError(self._dead(w)) from exc

    def _recv(self, w: int) -> Any:
        try:
            status, value = self._conns[w].recv()
        except (EOFError, OSError) as exc:
            raise RuntimeError(self._dead(w)) from exc
        if status == "error":
            raise RuntimeError(f"RexVecEnv worker {w} failed:\n{value}")
        return value

    def _dead(self, w: int) -> str:
        code = self._procs[w].exitcode
        return (f"RexVecEnv worker {w} (copies {self._blocks[w][0]}.."
                f"{sum(self._blocks[w]) - 1}) died (exit code {code})")

    def _gather(self) -> list[Any]:
        """The replies of every worker, in order; the first failure raised after all replied
        (so the pipes stay in step)."""
        out, error = [], None
        for w in range(self.workers):
            try:
                out.append(self._recv(w))
            except RuntimeError as exc:
                error = error or exc
        if error is not None:
            raise error
        return out

    def _worker_of(self, m: int) -> int:
        return next(w for w, (first, count) in enumerate(self._blocks) if m < first + count)

    def _info(self, row: NDArray[np.float64]) -> dict[str, Any]:
        return {k: int(v) if k in INFO_COUNTS else float(v)
                for k, v in zip(INFO_KEYS, row.tolist(), strict=True)}

    # -- seeding and stepping ---------------------------------------------------------------
    def reset(self) -> VecEnvObs:
        for w, (first, count) in enumerate(self._blocks):
            self._send(w, "reset", self._copy_seeds[first:first + count])
        self._gather()
        self._copy_seeds = [None] * self.m
        self.reset_infos = [self._info(r) for r in self.buf.reset_infos]
        return self.buf.obs.copy()

    def step_async(self, actions: NDArray[Any]) -> None:
        self.buf.actions[:] = np.asarray(actions).reshape(self.buf.actions.shape)
        for w in range(self.workers):
            self._send(w, "step")

    def step_wait(self) -> VecEnvStepReturn:
        self._gather()
        buf = self.buf
        dones = buf.terminated | buf.truncated
        infos = [self._info(r) for r in buf.infos]
        for i in np.flatnonzero(dones):
            infos[i]["terminal_observation"] = buf.terminal_obs[i].copy()
            infos[i]["TimeLimit.truncated"] = bool(buf.truncated[i] and not buf.terminated[i])
            self.reset_infos[i] = self._info(buf.reset_infos[i])
        return buf.obs.copy(), buf.rewards.copy(), dones, infos

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._finalizer()

    # -- masks and attributes --------------------------------------------------------------
    def action_masks(self) -> NDArray[np.int8]:
        """Masks of every sub-env (``action_mode="discrete"``), shape (num_envs, n)."""
        if self.buf.masks is None:
            raise ValueError("action masks exist only with action_mode='discrete'")
        return self.buf.masks.copy()

    def _call(self, m: int, op: str, *args: Any) -> Any:
        w = self._worker_of(m)
        self._send(w, op, m, *args)
        return self._recv(w)

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        if not hasattr(self, "_conns"):  # SB3's constructor asks before the workers exist
            return [getattr(self.template, attr_name) for _ in self._get_indices(indices)]
        return [self._call(i // self.k, "get", attr_name) for i in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        for i in self._get_indices(indices):
            self._call(i // self.k, "set", attr_name, value)

    def env_method(self, method_name: str, *method_args: Any, indices: VecEnvIndices = None,
                   **method_kwargs: Any) -> list[Any]:
        ix = list(self._get_indices(indices))
        if method_name == "action_masks":  # what sb3-contrib's MaskablePPO asks for
            return list(self.action_masks()[ix])
        return [self._call(i // self.k, "call", method_name, method_args, method_kwargs)
                for i in ix]



def _shutdown(conns: list[Connection], procs: list[Any]) -> None:
    """Ask every worker to stop, then make sure it has (a stuck one is terminated)."""
    for conn in conns:
        try:
            conn.send(("close",))
        except (BrokenPipeError, OSError):
            pass
    for conn, proc in zip(conns, procs, strict=True):
        proc.join(timeout=5)
        if proc.is_alive():
            proc.terminate()
            proc.join(timeout=5)
        conn.close()
