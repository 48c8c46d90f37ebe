"""Evaluation episodes in worker processes, with the serial path's results and errors.

Every (controller, seed) episode of a benchmark is independent: a fresh env, seeded by the
held-out seed, and a controller that is either stateless or reset per episode (its ``reset``).
:class:`EpisodePool` therefore runs them in ``workers`` processes and hands each row back in
seed order, so every table, JSON, CSV and plot is the one the serial path (``workers`` 0 or 1,
everything in this process) writes.

Controllers reach the workers cheaply: a learned one sends its :meth:`recipe` (the factory and
the run's paths, a few hundred bytes), which a worker loads once and keeps
(:func:`_build`); the random and hand-coded controllers are small and are pickled as they are.
Workers start with ``forkserver`` (:data:`rex_env.envs.workers.START_METHOD`: torch may be
loaded here, and forking a process running torch's thread pools can deadlock) and run torch on
one thread (one process per core already).

A worker that raises gives the parent the same exception type and message (the serial path's
semantics: :func:`rex_env.eval.benchmark.score` skips a hand-coded kind that raises
``ValueError``), with the worker's traceback as its ``__cause__``.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from .episodes import Episode, run_episode

Progress = Callable[[Sequence[int], str], Iterable[int]]
"""``progress(seeds, desc)``: an iterable over ``seeds`` that shows how far a row is (tqdm)."""


@dataclass(frozen=True)
class Row:
    """One controller on every seed: the episodes of one table row (one run of a controller)."""

    desc: str
    policy: Any
    env_kwargs: Mapping[str, Any]
    seeds: Sequence[int]
    deterministic: bool = True
    with_bound: bool = False
    owners: Sequence[str] | None = None


def check_workers(workers: int, flag: str = "workers") -> int:
    """``workers`` as given, if allowed: -1 (one per core), 0 or 1 (in this process) or more.

    Raises:
        ValueError: naming ``flag`` and the allowed values.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < -1:
        raise ValueError(f"{flag} must be -1 (one process per core), 0 (in this process) or a "
                         f"number of worker processes >= 1; got {workers!r}")
    return workers


def resolve_workers(workers: int, tasks: int) -> int:
    """The processes to start for ``tasks`` episodes: ``-1`` is one per core this process may
    use; never more than the tasks; 0 (serial) when one process would do."""
    from ..envs.workers import default_workers

    check_workers(workers)
    n = default_workers(tasks) if workers == -1 else min(workers, tasks)
    return n if n >= 2 else 0


def recipe(policy: Any) -> Any:
    """What a worker needs to build ``policy``: its ``recipe()`` (a factory and hashable
    arguments) where it has one, else the policy itself (it must pickle)."""
    make = getattr(policy, "recipe", None)
    return ("recipe", *make()) if make is not None else ("object", policy)


@functools.lru_cache(maxsize=32)
def _build(factory: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    """A worker's controller from its recipe, loaded once per process (a budget curve sends
    one recipe per checkpoint; 32 small models stay in memory)."""
    policy = factory(*args)
    torch = sys.modules.get("torch")
    if torch is not None:  # loading a model imported it: one thread, one process per core
        torch.set_num_threads(1)
    return policy


def _init_worker() -> None:
    """Torch (if a controller loads it) on one thread: the pool already uses every core."""
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ["MKL_NUM_THREADS"] = "1"


def _episode(how: Any, env_kwargs: Mapping[str, Any], seed: int, deterministic: bool,
             with_bound: bool, owners: Sequence[str] | None) -> Episode:
    """One episode in a worker (the arguments of :func:`run_episode`)."""
    policy = _build(how[1], tuple(how[2])) if how[0] == "recipe" else how[1]
    return run_episode(env_kwargs, policy, seed, deterministic, with_bound=with_bound,
                       owners=owners)


class EpisodePool:
    """The episodes of ``rows``: :meth:`result` ``(i)`` is row ``i``'s in seed order.

    With ``workers`` >= 2 every episode is submitted at once (the workers stay busy across
    rows) and :meth:`result` waits for its row, advancing ``progress`` per finished episode;
    it raises the exception of the row's first failing seed, as the serial path would. With 0
    or 1 each row runs in this process when asked for. Use as a context manager: leaving it
    stops the workers (cancelling what has not started).
    """

    def __init__(self, rows: Sequence[Row], workers: int = 0,
                 progress: Progress | None = None) -> None:
        self.rows = list(rows)
        self.progress: Progress = progress or (lambda seq, desc: seq)
        self.workers = resolve_workers(workers, sum(len(r.seeds) for r in self.rows))
        self._pool: ProcessPoolExecutor | None = None
        self._futures: list[list[Future[Episode]]] = []
        if self.workers:
            from ..envs.workers import context

            self._pool = ProcessPoolExecutor(self.workers, mp_context=context(),
                                             initializer=_init_worker)
            try:
                for r in self.rows:
                    how = recipe(r.policy)
                    owners = list(r.owners) if r.owners is not None else None
                    self._futures.append([self._pool.submit(
                        _episode, how, dict(r.env_kwargs), s, r.deterministic, r.with_bound,
                        owners) for s in r.seeds])
            except BaseException:  # not returned, so never closed by its caller
                self.close(wait=False)
                raise

    def result(self, i: int) -> list[Episode]:
        """Row ``i``'s episodes in seed order.

        Raises:
            Exception: the first failing seed's, with its type and message.
        """
        row = self.rows[i]
        if not self._futures:
            return [run_episode(row.env_kwargs, row.policy, s, row.deterministic,
                                with_bound=row.with_bound, owners=row.owners)
                    for s in self.progress(row.seeds, row.desc)]
        futures = self._futures[i]
        bar = iter(self.progress(row.seeds, row.desc))
        if futures:
            next(bar, None)  # the bar counts an item as done when the next one is asked for
            for k, _ in enumerate(as_completed(futures)):
                if k < len(futures) - 1:
                    next(bar, None)
        for _ in bar:  # the last one done: the bar completes and closes
            pass
        return [f.result() for f in futures]

    def close(self, wait: bool = True) -> None:
        """Stop the workers, dropping the episodes not started (a row never asked for, e.g.
        after its controller was skipped); ``wait``: for the running ones to end."""
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> EpisodePool:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close(wait=kind is None)  # an error: report it now, not after the episodes


__all__ = ["EpisodePool", "Progress", "Row", "check_workers", "recipe", "resolve_workers"]
