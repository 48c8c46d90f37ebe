"""The per-role benchmark table in one command: train every role on several seeds, evaluate,
collect the rows (issue 13).

Usage::

    python benchmarks/roles.py --dry-run                  # print the commands only
    python benchmarks/roles.py                            # community, seeds 0 1 2, full budgets
    python benchmarks/roles.py --roles storage plant --scale 0.1 --out runs/roles-short
    python benchmarks/roles.py --out runs/roles --publish # the full table -> README's reference

For each role (``households``, ``pv_battery``, ``wind``, ``plant``, ``storage``, and ``all``:
every role at once, one policy per role) and training seed it runs ``train.py --role ROLE
--seed S --timesteps BUDGETS[ROLE] * scale`` (``--parallel`` processes at a time, one torch
thread each), then for each role ``evaluate.py --run <its seeds> --all-run <the all-roles
seeds> --role ROLE --budget-curve --workers 0`` on ``--n-seeds`` held-out seeds
(``--parallel`` at a time, each in its own process), and writes into ``OUT``: ``table.md``
(one row per role: random, prototype, strong baseline, PPO alone, PPO with every role
learning, bound, normalised score, share of headroom; then the market with the learners in
it), ``table.json`` (the same rows, the budgets and seeds) and ``learning_curves.png`` (every
role's held-out score by training budget, from the checkpoints). A finished run (its
``model.zip`` or, for ``all``, ``timing.json`` exists) is not trained again and a finished
evaluation (its ``results.json`` for the same runs and seeds) is not run again, so an
interrupted job resumes where it stopped.

``--reference FILE`` (a ``table.json`` published with ``--publish`` to
``benchmarks/results/roles_full.json``) prints the full-budget rows beside this run's, role by
role: ``make demo`` runs a short budget that way.

``BUDGETS``: agent-steps per role that fit <= 20 minutes of one core each on the machine the
budgets were measured on (README, "Learned policies per role"); with ``--parallel 2`` two
runs share the 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere: this tree's rex_env first
    sys.path.insert(0, str(ROOT))
ROLES = ("households", "pv_battery", "wind", "plant", "storage", "all")
BUDGETS = {"households": 500_000, "pv_battery": 70_000, "wind": 80_000, "plant": 40_000,
           "storage": 12_000, "all": 850_000}
"""Agent-steps per run (summed over the role's learners; ``all``: over every learner). The
plant learns with ``action_mode="tune"`` (its markup, one number per step, starting at the
prototype): 40 k agent-steps (≈ 340 trading days) fit the 2-core machine three runs at a time
(≈ 17 min each, loaded). The storage role tunes the rolling-intrinsic trader, which solves a
small MILP at every wake-up (≈ 55 ms per env step on one core, ≈ 6.5 s a trading day against
≈ 2.5 s with the dealer): 12 k agent-steps (≈ 100 trading days) is what three runs fit in
20 minutes on 2 cores."""
PUBLISHED = ROOT / "benchmarks" / "results" / "roles_full.json"
"""The full-budget table the README quotes and ``make demo`` prints beside its short one."""
COLUMNS = ("Columns: surplus per learner per day on the held-out seeds, mean ± 95 % CI (over "
           "seeds and training seeds); (paired) = difference to the prototype on the same "
           "seeds, * where significant at 95 %; normalised = (PPO − random)/(bound − random); "
           "share of headroom = (PPO − prototype)/(bound − prototype); — = not run or not "
           "applicable.")


def steps_of(a: argparse.Namespace, role: str) -> int:
    return max(1, int(BUDGETS[role] * a.scale))


def train_cmd(a: argparse.Namespace, role: str, seed: int) -> list[str]:
    steps = steps_of(a, role)
    every = max(1, steps // a.checkpoints) if a.checkpoints else 0
    return [sys.executable, "train.py", "--scenario", a.scenario, "--role", role,
            "--seed", str(seed), "--timesteps", str(steps), "--threads", "1", "--workers", "0",
            "--checkpoint-every", str(every), "--no-progress",
            "--out", str(a.out / role / f"s{seed}"),
            *(["--settlement", a.settlement] if a.settlement else [])]


def eval_cmd(a: argparse.Namespace, role: str) -> list[str]:
    runs = [str(a.out / role / f"s{s}") for s in a.seeds]
    cmd = [sys.executable, "evaluate.py", "--run", *runs, "--n-seeds", str(a.n_seeds),
           *(["--budget-curve"] if a.checkpoints else []), "--out", str(a.out / role / "eval"),
           "--workers", "0"]  # the jobs already run --parallel at a time: one core each
    if "all" in a.roles:
        cmd += ["--all-run", *(str(a.out / "all" / f"s{s}") for s in a.seeds), "--role", role]
    return cmd


def done(a: argparse.Namespace, role: str, seed: int) -> bool:
    d = a.out / role / f"s{seed}"
    return (d / ("timing.json" if role == "all" else "model.zip")).exists()


def evaluated(a: argparse.Namespace, role: str) -> dict[str, Any] | None:
    """The role's finished evaluation of these runs on these seeds (``None``: not done)."""
    f = a.out / role / "eval" / "results.json"
    if not f.exists():
        return None
    res: dict[str, Any] = json.loads(f.read_text())
    runs = [str(a.out / role / f"s{s}") for s in a.seeds]
    if res.get("runs") != runs or len(res.get("seeds", [])) != a.n_seeds or "row" not in res \
            or (a.checkpoints and "budget" not in res):
        return None
    if newest_model(a, role) > f.stat().st_mtime:
        return None  # a run was trained again since
    return res


def newest_model(a: argparse.Namespace, role: str) -> float:
    roles = (role, "all") if "all" in a.roles else (role,)
    files = [a.out / r / f"s{s}" / "timing.json" for r in roles for s in a.seeds]
    return max((f.stat().st_mtime for f in files if f.exists()), default=0.0)


@dataclass
class Job:
    """One process of the table: ``kind`` (train or evaluate) for the CPU account, ``name``
    for the jobs that wait on it, ``after``: the names it waits on."""

    cmd: list[str]
    kind: str
    name: str = ""
    after: frozenset[str] = field(default_factory=frozenset)


def run_all(jobs: list[Job], parallel: int) -> dict[str, float]:
    """Run the jobs, ``parallel`` at a time (one torch thread each), each as soon as the
    jobs it waits on have finished (a role's evaluation starts while other roles still
    train); stop at the first failure. Returns the CPU seconds (user + system) per kind:
    what a run costs whatever else the machine is doing (on a quiet machine its wall time
    is about this over ``parallel`` cores)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    cpu = {j.kind: 0.0 for j in jobs}
    running: list[tuple[Job, subprocess.Popen[bytes]]] = []
    queue = list(jobs)
    pending = {j.name for j in jobs if j.name}
    while queue or running:
        ready = [j for j in queue if not j.after & pending]
        while ready and len(running) < parallel:
            job = ready.pop(0)
            queue.remove(job)
            print("$", " ".join(job.cmd[1:]), flush=True)
            running.append((job, subprocess.Popen(job.cmd, cwd=ROOT, env=env)))
        time.sleep(1)
        for item in list(running):
            job, proc = item
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid == 0:
                continue
            proc.returncode = os.waitstatus_to_exitcode(status)
            running.remove(item)
            pending.discard(job.name)
            cpu[job.kind] += usage.ru_utime + usage.ru_stime
            if proc.returncode:
                for _, p in running:
                    p.terminate()
                raise SystemExit(f"failed ({proc.returncode}): {' '.join(job.cmd[1:])}")
    return cpu


def check(a: argparse.Namespace, ap: argparse.ArgumentParser) -> None:
    """Every check that can fail before any work: seeds, scale, the scenario's roles."""
    if not a.seeds or a.n_seeds < 1:
        ap.error(f"need training seeds and --n-seeds >= 1, got {a.seeds} and {a.n_seeds}")
    if not 0 < a.scale <= 10 or a.parallel < 1 or a.checkpoints < 0:
        ap.error(f"--scale must be in (0, 10], --parallel >= 1 and --checkpoints >= 0, got "
                 f"{a.scale}, {a.parallel}, {a.checkpoints}")
    if any(s < 0 or s >= 1_000_000 for s in a.seeds):
        ap.error(f"training seeds must be in [0, 1000000), got {a.seeds}")
    from rex_env.spec.kinds import SETTLEMENT_MODES

    if a.settlement and a.settlement not in SETTLEMENT_MODES:
        ap.error(f"--settlement must be one of {', '.join(SETTLEMENT_MODES)} (or empty: the "
                 f"scenario's own), got {a.settlement!r}")
    if a.reference is not None and not a.reference.exists():
        ap.error(f"--reference {a.reference}: no such file (publish one with --publish)")
    from rex_env.scenarios import PRESETS, make_scenario
    from rex_env.spec.roles import scenario_roles

    if a.scenario not in PRESETS and not a.scenario.endswith(".json"):
        ap.error(f"unknown scenario {a.scenario!r}; allowed: {', '.join(sorted(PRESETS))} or "
                 "a scenario .json file")
    have = scenario_roles(make_scenario(a.scenario))
    missing = [r for r in a.roles if r != "all" and r not in have]
    if missing:
        ap.error(f"scenario {a.scenario!r} has no prosumer of role {', '.join(missing)}; its "
                 f"roles: {', '.join(have) or 'none'} (and all)")


def collect(a: argparse.Namespace) -> dict[str, Any]:
    """The table of the evaluated roles: rows, market rows, budgets, seeds; and the learning
    curves figure."""
    results = {r: json.loads((a.out / r / "eval" / "results.json").read_text())
               for r in a.roles if r != "all"}
    table = {"scenario": a.scenario, "training_seeds": list(a.seeds), "n_seeds": a.n_seeds,
             "budgets": {r: steps_of(a, r) for r in a.roles},
             "agent_steps": {r: trained_steps(a, r) for r in a.roles},
             "rows": {r: res["row"] for r, res in results.items()},
             "market_rows": {r: res["market_row"] for r, res in results.items()}}
    curves = {r: {"rows": res.get("budget", []), "refs": gains(res["summary"])}
              for r, res in results.items()}
    if any(c["rows"] for c in curves.values()):
        from rex_env.eval import plots

        plots.role_curves(curves, a.out / "learning_curves.png",
                          f"{a.scenario}: PPO's held-out gain over the prototype by training "
                          f"budget ({a.n_seeds} seeds, training seeds {a.seeds}, 95 % CI)")
    return table


def gains(summary: dict[str, Any]) -> dict[str, float]:
    """The strong baseline's and the bound's mean gain over the prototype (same seeds)."""
    if "prototype" not in summary:
        return {}
    out = {}
    if "baseline" in summary:
        out["baseline"] = float(summary["baseline"]["vs_prototype"][0])
    if "bound" in summary:
        out["bound"] = float(summary["bound"]["surplus"][0] - summary["prototype"]["surplus"][0])
    return out


def trained_steps(a: argparse.Namespace, role: str) -> int | None:
    """Agent-steps of the role's first run as trained (rounded up to whole rollouts)."""
    f = a.out / role / f"s{a.seeds[0]}" / "timing.json"
    return int(json.loads(f.read_text())["agent_steps"]) if f.exists() else None


def markdown(table: dict[str, Any]) -> str:
    """``table.md``: the per-role table, the market table and how they were made."""
    from rex_env.eval.benchmark import MARKET_HEAD, SUMMARY_HEAD

    note = (f"Scenario {table['scenario']}; training seeds {table['training_seeds']}; "
            f"{table['n_seeds']} held-out seeds; agent-steps per run: "
            + ", ".join(f"{r} {n}" for r, n in table["agent_steps"].items()))
    return (SUMMARY_HEAD + "\n" + "\n".join(table["rows"].values()) + "\n\n" + COLUMNS + "\n\n"
            + "The market with the learners in it (prototype → PPO alone → PPO all roles; "
            "welfare changes paired by seed):\n\n"
            + MARKET_HEAD + "\n" + "\n".join(table["market_rows"].values()) + "\n\n"
            + note + "\n")


def _label(table: dict[str, Any], role: str, name: str) -> str:
    steps = (table.get("agent_steps") or {}).get(role) or (table.get("budgets") or {}).get(role)
    seeds = len(table.get("training_seeds") or [])
    if not steps:
        return name
    return f"{name}: {steps / 1000:.0f} k × {seeds} seed{'s' * (seeds != 1)}"


def beside(short: dict[str, Any], full: dict[str, Any]) -> str:
    """This run's rows and the reference's, role by role (the reference's status when it has
    no row for a role, e.g. "not yet measured")."""
    from rex_env.eval.benchmark import SUMMARY_HEAD

    head, rule = SUMMARY_HEAD.split("\n")
    head = head.replace("| role |", "| role | budget |", 1)
    rule = rule + "---|"
    lines = [head, rule]
    status = full.get("status", "not yet measured")
    if status == "measured":  # a published run that left this role out
        status = "not in the published run"
    for role, row in short["rows"].items():
        cells = row.split("|")[2:-1]
        lines.append(f"| {role} | {_label(short, role, 'this run')} |" + "|".join(cells) + "|")
        ref = (full.get("rows") or {}).get(role)
        if ref:
            lines.append(f"| {role} | {_label(full, role, 'full')} |"
                         + "|".join(ref.split("|")[2:-1]) + "|")
        else:
            lines.append(f"| {role} | full | {status} |" + " |" * (len(cells) - 1))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", default="community", help="scenario preset")
    ap.add_argument("--roles", nargs="+", default=list(ROLES), choices=ROLES)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2], help="training seeds")
    ap.add_argument("--n-seeds", type=int, default=10, help="held-out evaluation seeds")
    ap.add_argument("--settlement", default="",
                    help="imbalance settlement for training (empty: the scenario's own)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every budget")
    ap.add_argument("--checkpoints", type=int, default=5,
                    help="checkpoints per run for the learning curve (0: no curve)")
    ap.add_argument("--parallel", type=int, default=2, help="processes at a time")
    ap.add_argument("--out", type=Path, default=Path("runs/roles"))
    ap.add_argument("--reference", type=Path, default=None,
                    help=f"a published table.json to print beside this one ({PUBLISHED.name})")
    ap.add_argument("--publish", action="store_true",
                    help="copy OUT/table.json to benchmarks/results/roles_full.json (the README's "
                         "full-budget reference) and OUT/learning_curves.png beside it")
    ap.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    a = ap.parse_args(argv)
    check(a, ap)
    jobs = [Job(train_cmd(a, r, s), "train", f"{r}/s{s}")
            for r in a.roles for s in a.seeds if not done(a, r, s)]
    waits = ("all",) if "all" in a.roles else ()
    jobs += [Job(eval_cmd(a, r), "evaluate",
                 after=frozenset(f"{x}/s{s}" for x in (r, *waits) for s in a.seeds))
             for r in a.roles if r != "all" and evaluated(a, r) is None]
    if a.dry_run:
        for job in jobs:
            print(" ".join(job.cmd[1:]))
        return 0
    t0 = time.perf_counter()
    cpu = run_all(jobs, a.parallel)
    wall = time.perf_counter() - t0
    table = collect(a)
    table["seconds"] = {"wall": round(wall), "train_cpu": round(cpu.get("train", 0.0)),
                        "evaluate_cpu": round(cpu.get("evaluate", 0.0))}
    (a.out / "table.json").write_text(json.dumps(table, indent=2, ensure_ascii=False))
    text = markdown(table)
    (a.out / "table.md").write_text(text)
    sec = table["seconds"]
    print(f"\n## This run ({a.out}): {sec['wall']} s wall on {a.parallel} processes; CPU "
          f"{sec['train_cpu']} s training, {sec['evaluate_cpu']} s evaluating\n")
    if a.reference is None:
        print(text)
    else:
        full = json.loads(a.reference.read_text())
        print(f"Beside the full-budget table ({a.reference}: "
              f"{full.get('status', 'measured')}):\n")
        print(beside(table, full))
        print("\n" + COLUMNS)
        if full.get("note"):
            print(full["note"])
        print("\n" + text.split(COLUMNS, 1)[1].strip() + "\n")
        print(f"Files: {a.out}/table.md, {a.out}/learning_curves.png, {a.out}/ROLE/eval/.")
    if a.publish:
        PUBLISHED.parent.mkdir(parents=True, exist_ok=True)
        PUBLISHED.write_text(json.dumps({"status": "measured", **table}, indent=2,
                                        ensure_ascii=False) + "\n")
        figure = a.out / "learning_curves.png"
        if figure.exists():
            shutil.copyfile(figure, PUBLISHED.with_name("roles_full_learning_curves.png"))
        print(f"published {PUBLISHED} (and the learning curves beside it)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
