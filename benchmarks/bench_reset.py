"""Cost of building an episode: ``import rex_env`` time and ``reset()`` time, for one or more
source trees side by side (e.g. before and after a physics change), interleaved so that both
see the same machine load.

Each measurement runs in a fresh interpreter with the tree first on ``sys.path``. ``reset()``
is timed over ``--resets`` seeds after one warm-up reset (which fills the per-scenario caches
of deterministic profiles); the first reset is reported separately. "prosumers" is the
physics part of a reset alone: building every prosumer's profiles and forecast paths.
"make env" includes validating the scenario and the first (lazy) imports of the physics
libraries.

    python benchmarks/bench_reset.py --trees /work/main . --repeats 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import rex_env
t_import = time.perf_counter() - t0
t0 = time.perf_counter()
env = rex_env.parallel_env(sys.argv[1])
t_make = time.perf_counter() - t0
t0 = time.perf_counter()
env.reset(seed=0)
t_first = time.perf_counter() - t0
times = []
for seed in range(1, int(sys.argv[2]) + 1):
    t0 = time.perf_counter()
    env.reset(seed=seed)
    times.append(time.perf_counter() - t0)
times.sort()
import numpy as np
from rex_env.scenarios import make_scenario
from rex_env.sim.prosumer import Prosumer
sc = make_scenario(sys.argv[1])
phys = []
for seed in range(1, int(sys.argv[2]) + 1):
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    for spec in sc.prosumers:
        Prosumer(spec, sc.schedule, rng)
    phys.append(time.perf_counter() - t0)
phys.sort()
print(json.dumps({"import_s": t_import, "make_s": t_make, "first_reset_s": t_first,
                  "reset_s": times[len(times) // 2], "prosumers_s": phys[len(phys) // 2],
                  "file": rex_env.__file__}))
"""


def measure(tree: str, scenario: str, resets: int) -> dict[str, float]:
    """One fresh-interpreter measurement of ``tree``."""
    out = subprocess.run([sys.executable, "-c", _CHILD, scenario, str(resets)], cwd=tree,
                         env={"PYTHONPATH": tree, "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--trees", nargs="+", default=["."])
    p.add_argument("--scenario", default="community")
    p.add_argument("--resets", type=int, default=20)
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args(argv)
    runs: dict[str, list[dict[str, float]]] = {t: [] for t in a.trees}
    for _ in range(a.repeats):
        for tree in a.trees:
            runs[tree].append(measure(tree, a.scenario, a.resets))
    print(f"scenario {a.scenario}, median of {a.repeats} fresh interpreters "
          f"(reset: median of {a.resets} seeds after a warm-up)")
    print(f"{'tree':24s} {'import rex_env':>15s} {'make env':>10s} {'first reset':>12s} "
          f"{'reset':>10s} {'prosumers':>10s}")
    for tree, rs in runs.items():
        med = {k: statistics.median(r[k] for r in rs)
               for k in ("import_s", "make_s", "first_reset_s", "reset_s", "prosumers_s")}
        print(f"{tree:24s} {med['import_s'] * 1e3:13.0f}ms {med['make_s'] * 1e3:8.0f}ms "
              f"{med['first_reset_s'] * 1e3:10.1f}ms "
              f"{med['reset_s'] * 1e3:8.2f}ms {med['prosumers_s'] * 1e3:8.2f}ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
