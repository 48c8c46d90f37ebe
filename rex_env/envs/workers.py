"""How the project starts worker processes (``RexVecEnv``, the evaluation pool): decided once.

Kept apart from :mod:`rex_env.envs.rexvec` so that a user of worker processes that needs no
stable-baselines3 (the evaluation of hand-coded controllers) does not import it and torch
(≈ 1.2 s) just to read the start method.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from typing import Any

START_METHOD = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
"""How workers start: not ``fork`` (a forked copy of a process running torch's thread pools can
deadlock); ``forkserver`` forks from a clean server process, so a worker starts in ≈ 0.3 s."""


def context() -> Any:
    """The start context; the fork server imports the env once, so that each worker forks
    with it loaded (≈ 0.05 s instead of ≈ 0.5 s to start)."""
    ctx = mp.get_context(START_METHOD)
    if START_METHOD == "forkserver":
        ctx.set_forkserver_preload(["rex_env.envs._vecworker"])
    return ctx


def default_workers(n_envs: int) -> int:
    """One worker per copy (or task), at most one per core this process may use."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(n_envs, cores or 1))
