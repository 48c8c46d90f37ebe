"""The per-role benchmark table in one command: train every role on several seeds, evaluate,
collect the rows (issue 13).

Usage::

    python benchmarks/roles.py --dry-run                  # print the commands only
    python benchmarks/roles.py                            # community, seeds 0 1 2, full budgets
    python benchmarks/roles.py --roles storage plant --scale 0.1 --out runs/roles-short

For each role (``households``, ``pv_battery``, ``wind``, ``plant``, ``storage``, and ``all``:
every role at once, one policy per role) and training seed it runs ``train.py --role ROLE
--seed S --timesteps BUDGETS[ROLE] * scale`` (``--parallel`` processes at a time, one torch
thread each), then for each role ``evaluate.py --run <its seeds> --all-run <the all-roles
seeds> --role ROLE --budget-curve`` on ``--n-seeds`` held-out seeds, and writes
``OUT/table.md``: one row per role (random, prototype, strong baseline, PPO alone, PPO with
every role learning, bound, normalised score, share of headroom). A finished run (its
``model.zip`` or, for ``all``, ``timing.json`` exists) is not trained again, so an
interrupted job resumes where it stopped.

``BUDGETS``: agent-steps per role that fit <= 20 minutes of one core each on the machine the
budgets were measured on (README, "Learned policies per role"); with ``--parallel 2`` two
runs share the 2 cores.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROLES = ("households", "pv_battery", "wind", "plant", "storage", "all")
BUDGETS = {"households": 500_000, "pv_battery": 70_000, "wind": 80_000, "plant": 80_000,
           "storage": 110_000, "all": 850_000}
"""Agent-steps per run (summed over the role's learners; ``all``: over every learner)."""


def train_cmd(a: argparse.Namespace, role: str, seed: int) -> list[str]:
    steps = max(1, int(BUDGETS[role] * a.scale))
    return [sys.executable, "train.py", "--scenario", a.scenario, "--role", role,
            "--seed", str(seed), "--timesteps", str(steps), "--threads", "1",
            "--checkpoint-every", str(max(1, steps // 5)), "--no-progress",
            "--out", str(a.out / role / f"s{seed}")]


def eval_cmd(a: argparse.Namespace, role: str) -> list[str]:
    runs = [str(a.out / role / f"s{s}") for s in a.seeds]
    cmd = [sys.executable, "evaluate.py", "--run", *runs, "--n-seeds", str(a.n_seeds),
           "--budget-curve", "--out", str(a.out / role / "eval")]
    if "all" in a.roles:
        cmd += ["--all-run", *(str(a.out / "all" / f"s{s}") for s in a.seeds), "--role", role]
    return cmd


def done(a: argparse.Namespace, role: str, seed: int) -> bool:
    d = a.out / role / f"s{seed}"
    return (d / ("timing.json" if role == "all" else "model.zip")).exists()


def run_all(cmds: list[list[str]], parallel: int) -> None:
    """Run the commands, ``parallel`` at a time; stop at the first failure."""
    running: list[tuple[list[str], subprocess.Popen[bytes]]] = []
    queue = list(cmds)
    while queue or running:
        while queue and len(running) < parallel:
            cmd = queue.pop(0)
            print("$", " ".join(cmd[1:]), flush=True)
            running.append((cmd, subprocess.Popen(cmd, cwd=ROOT)))
        time.sleep(1)
        for item in list(running):
            cmd, proc = item
            if proc.poll() is not None:
                running.remove(item)
                if proc.returncode:
                    for _, p in running:
                        p.terminate()
                    raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd[1:])}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", default="community", help="scenario preset")
    ap.add_argument("--roles", nargs="+", default=list(ROLES), choices=ROLES)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2], help="training seeds")
    ap.add_argument("--n-seeds", type=int, default=10, help="held-out evaluation seeds")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every budget")
    ap.add_argument("--parallel", type=int, default=2, help="training processes at a time")
    ap.add_argument("--out", type=Path, default=Path("runs/roles"))
    ap.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    a = ap.parse_args(argv)
    if not a.seeds or a.n_seeds < 1:
        ap.error(f"need training seeds and --n-seeds >= 1, got {a.seeds} and {a.n_seeds}")
    if not 0 < a.scale <= 10 or a.parallel < 1:
        ap.error(f"--scale must be in (0, 10] and --parallel >= 1, got {a.scale}, {a.parallel}")
    trains = [train_cmd(a, r, s) for r in a.roles for s in a.seeds if not done(a, r, s)]
    evals = [eval_cmd(a, r) for r in a.roles if r != "all"]
    if a.dry_run:
        for cmd in [*trains, *evals]:
            print(" ".join(cmd[1:]))
        return 0
    run_all(trains, a.parallel)
    run_all(evals, 1)
    from rex_env.eval.benchmark import SUMMARY_HEAD

    rows = [(a.out / r / "eval" / "table.md").read_text().strip().splitlines()[-1]
            for r in a.roles if r != "all"]
    note = (f"Scenario {a.scenario}; training seeds {a.seeds}; {a.n_seeds} held-out seeds; "
            f"budgets (agent-steps): "
            + json.dumps({r: int(BUDGETS[r] * a.scale) for r in a.roles}))
    table = SUMMARY_HEAD + "\n" + "\n".join(rows) + "\n\n" + note + "\n"
    (a.out / "table.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
