"""Speed of the RL environment: env steps/s of the ParallelEnv and agent-steps/s of the
SB3 VecEnv, with random actions, medians over interleaved repeats.

An env step is one decision epoch (900 s of market time by default) for all learners; an
agent-step is one learner's step (what SB3 counts as a timestep). Each step runs the whole
background market (every hand-coded agent, lifecycle events, settlement) up to the next
epoch, so the figure is dominated by the simulation, not by the adapter; ``--profile``
splits it.

    python benchmarks/bench_env.py                 # community, 8 learners
    python benchmarks/bench_env.py --scenario toy --profile
    python benchmarks/bench_env.py --learners plant --action-mode tune --zero-actions
                                                   # issue 12's profile: the prototypes alone
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import statistics
import sys
import time
from typing import Any

import numpy as np


def run_parallel(scenario: str, steps: int, seed: int, zero: bool = False,
                 **overrides: Any) -> tuple[int, float]:
    """Agent-steps and seconds of ``steps`` env steps (random actions, or zeros)."""
    import rex_env

    env = rex_env.parallel_env(scenario, **overrides)
    rng = np.random.default_rng(seed)
    shape = env.action_space(env.possible_agents[0]).shape
    env.reset(seed=seed)
    n = 0
    t0 = time.perf_counter()
    while n < steps:
        if not env.agents:
            env.reset()
        env.step({a: np.zeros(shape, np.float32) if zero else
                  rng.uniform(-1, 1, shape).astype(np.float32) for a in env.agents})
        n += 1
    return n * len(env.possible_agents), time.perf_counter() - t0


def run_vec(scenario: str, steps: int, seed: int, copies: int, workers: int = 0,
            **overrides: Any) -> tuple[int, float]:
    """Agent-steps and seconds of ``steps`` vector steps: ``SharedVecEnv`` (``workers`` 0,
    in this process) or ``RexVecEnv`` with ``workers`` processes (start-up not timed)."""
    from rex_env.envs.rexvec import RexVecEnv
    from rex_env.envs.vec import SharedVecEnv

    venv: Any = (SharedVecEnv.make(copies, scenario=scenario, **overrides) if workers == 0 else
                 RexVecEnv.make(copies, workers, scenario=scenario, **overrides))
    venv.seed(seed)
    venv.reset()
    rng = np.random.default_rng(seed)
    shape = (venv.num_envs, *venv.action_space.shape)
    t0 = time.perf_counter()
    for _ in range(steps):
        venv.step(rng.uniform(-1, 1, shape).astype(np.float32))
    dt = time.perf_counter() - t0
    venv.close()
    return steps * venv.num_envs, dt


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", default="community")
    p.add_argument("--steps", type=int, default=120, help="env steps per measurement")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--copies", type=int, default=2, help="env copies in the VecEnv")
    p.add_argument("--workers", type=int, help="RexVecEnv's worker processes (default: one per "
                   "copy, at most one per core)")
    p.add_argument("--learners", help="the env's learners (default: the scenario's)")
    p.add_argument("--action-mode", help="the env's action_mode (default: box)")
    p.add_argument("--zero-actions", action="store_true",
                   help="zero actions instead of random ones in the ParallelEnv (in tune mode: "
                   "the prototypes alone)")
    p.add_argument("--profile", action="store_true")
    args = p.parse_args(argv)
    import rex_env

    ov = {k: v for k, v in (("learners", args.learners), ("action_mode", args.action_mode))
          if v is not None}
    k = len(rex_env.parallel_env(args.scenario, **ov).possible_agents)
    print(f"Python {sys.version.split()[0]}; scenario {args.scenario}{f' {ov}' if ov else ''}, "
          f"{k} learners, "
          f"{'zero' if args.zero_actions else 'random'} actions, {args.steps} steps x "
          f"{args.repeats} repeats (gc off while timing)")
    from rex_env.envs.rexvec import default_workers

    workers = args.workers or default_workers(args.copies)
    par, vec, proc = [], [], []
    for r in range(args.repeats):
        gc.collect()
        gc.disable()
        try:
            n, dt = run_parallel(args.scenario, args.steps, r, args.zero_actions, **ov)
            par.append((n / k / dt, n / dt))
            n, dt = run_vec(args.scenario, args.steps // args.copies, r, args.copies, **ov)
            vec.append(n / dt)
            n, dt = run_vec(args.scenario, args.steps // args.copies, r, args.copies, workers,
                            **ov)
            proc.append(n / dt)
        finally:
            gc.enable()
    print(f"ParallelEnv: {statistics.median(x[0] for x in par):8.1f} env steps/s "
          f"({statistics.median(x[1] for x in par):8.1f} agent-steps/s)")
    print(f"SharedVecEnv ({args.copies} copies x {k} learners): "
          f"{statistics.median(vec):8.1f} agent-steps/s")
    print(f"RexVecEnv ({args.copies} copies x {k} learners, {workers} workers): "
          f"{statistics.median(proc):8.1f} agent-steps/s "
          f"({statistics.median(p / v for p, v in zip(proc, vec, strict=True)):.2f}x "
          f"SharedVecEnv, median of paired repeats)")
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        run_parallel(args.scenario, args.steps, 0, args.zero_actions, **ov)
        prof.disable()
        stats = pstats.Stats(prof).sort_stats("tottime")
        by_area: dict[str, float] = {}
        for (file, _, _), (_, _, tt, _, _) in stats.stats.items():  # type: ignore[attr-defined]
            area = ("agents" if "/agents/" in file else
                    "exchange" if "/exchange/" in file else
                    "env adapter" if "/envs/" in file else
                    "market/sim" if "/sim/" in file else
                    "physics" if "/physics/" in file else "numpy/builtins/other")
            by_area[area] = by_area.get(area, 0.0) + tt
        total = sum(by_area.values())
        print("\nwhere the time goes (self time):")
        for area, tt in sorted(by_area.items(), key=lambda x: -x[1]):
            print(f"  {area:<22}{100 * tt / total:5.1f} %")
        stats.print_stats(15)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
