"""Process-CPU-time figures of one source tree, as one JSON line: for comparing two commits
(or engines) on a shared, noisy machine, where wall time stretches with other jobs.

    python benchmarks/bench_cpu.py                         # this tree
    python benchmarks/bench_cpu.py --tree /tmp/old-commit  # another checkout (built in place)
    # before/after: alternate the trees, several rounds, and compare medians of the ratios
    for i in 1 2 3 4; do for t in /tmp/old .; do python benchmarks/bench_cpu.py --tree $t; done
    done
    REX_ENGINE=python python benchmarks/bench_cpu.py       # the Python engine
    REX_COMPILED_AGENTS=0 python benchmarks/bench_cpu.py   # the compiled paths off

What is measured: the median CPU seconds of ``--days`` simulated ``community`` days and one
``town`` day (each after a warm-up day; the hand-coded population, seeds 1, 2, ...), and env
steps per CPU-second of ``--steps`` ``community`` steps with the scenario's 8 learners and
seeded random actions after 20 warm-up steps (episodes restart as needed). The README's
"compiled wake-ups" row was measured with it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tree", type=Path, default=Path(__file__).resolve().parents[1],
                   help="the source tree to import (default: this one)")
    p.add_argument("--days", type=int, default=4, help="community days (median)")
    p.add_argument("--steps", type=int, default=300, help="env steps measured")
    a = p.parse_args(argv)
    tree = a.tree.resolve()
    sys.path.insert(0, str(tree))
    os.chdir(tree)
    import numpy as np

    import rex_env
    from agents import build_population
    from rex_env.scenarios import make_scenario
    from rex_env.sim.market import Market

    out: dict[str, object] = {"tree": str(tree), "engine": rex_env.exchange.ENGINE}
    for name, days in (("community", a.days), ("town", 1)):
        sc = make_scenario(name)
        m = Market(sc, build_population(sc))
        m.reset(0)
        m.run()
        spent = []
        for d in range(days):
            m.reset(d + 1)
            c = time.process_time()
            m.run()
            spent.append(time.process_time() - c)
        out[f"{name}_day_cpu_s"] = statistics.median(spent)
    env = rex_env.parallel_env(scenario="community")
    env.reset(seed=0)
    for agent in env.possible_agents:
        env.action_space(agent).seed(0)
    rng = np.random.default_rng(0)

    def step() -> None:
        if not env.agents:
            env.reset(seed=int(rng.integers(1_000)))
        env.step({agent: env.action_space(agent).sample() for agent in env.agents})

    for _ in range(20):
        step()
    c = time.process_time()
    for _ in range(a.steps):
        step()
    out["env_steps_per_cpu_s"] = a.steps / (time.process_time() - c)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
