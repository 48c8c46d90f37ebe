"""Per-role evaluation of trained policies against random, the prototype, the strong baseline
and the perfect-foresight bound, on held-out market seeds.

For the role the runs were trained on (``--run A B C``: one folder per training
seed, same configuration), every controller trades for the *same* prosumers in the *same*
markets (held-out seeds from :data:`rex_env.eval.EVAL_SEED_BASE`): ``random``, the role's
``prototype``, its strong ``baseline`` (newsvendor / rolling intrinsic), ``ppo`` (each run)
and the ``bound``. Prints the per-controller table and the role's one-line summary (the
README's table row); writes ``table.md``, ``results.json``, ``results.csv`` and plots. The
library is :mod:`rex_env.eval`; this file only reads the options and calls it::

    python evaluate.py --run runs/storage/s0 runs/storage/s1 runs/storage/s2
    python evaluate.py --role storage --scenario community   # no runs: hand-coded + bound
    python evaluate.py --run runs/ppo --budget-curve         # every checkpoint, same seeds

The episodes run in ``--workers`` processes (default one per core; ``--workers 0``: all in
this process), with the same results either way.
"""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rex_env.eval.benchmark import (
    CONTROLLERS,
    MARKET_HEAD,
    ROLE_NAMES,
    SUMMARY_HEAD,
    Run,
    check_seeds,
    default_progress,
    load_runs,
    markdown,
    market_row,
    role_env_kwargs,
    score,
    summary_row,
)
from rex_env.eval.episodes import METRICS
from rex_env.eval.parallel import EpisodePool, Row, check_workers
from rex_env.eval.stats import EVAL_SEED_BASE, paired_diff, two_way_ci


@dataclass
class Args:
    """Options of ``evaluate.py``."""

    run: tuple[Path, ...] = ()
    """run folders written by train.py, one per training seed of one configuration"""
    all_run: tuple[Path, ...] = ()
    """by-role run folders (train.py --role all), one per training seed: scored as ppo_all
    for --role's learners, with every role's policy trading in the market"""
    role: str = ""
    """the role to score (default: the runs' role); without --run: score the hand-coded
    controllers and the bound of this role in --scenario"""
    scenario: str = "community"
    """scenario preset, used only without --run"""
    settlement: str = ""
    """settlement override, used only without --run"""
    n_seeds: int = 10
    """number of held-out seeds (EVAL_SEED_BASE, EVAL_SEED_BASE+1, ...)"""
    first_seed: int = EVAL_SEED_BASE
    """first of the --n-seeds consecutive held-out seeds"""
    seeds: tuple[int, ...] | None = None
    """explicit held-out seeds (overrides --n-seeds and --first-seed; an empty list is an
    error)"""
    controllers: tuple[str, ...] = CONTROLLERS
    """controllers to score: random, prototype, baseline, ppo, or a hand-coded agent kind"""
    out: Path | None = None
    """output folder (default: the first run's eval/, or runs/eval-ROLE)"""
    deterministic: bool = True
    """learned policies (ppo, ppo_all, RLlib runs) act with their mean action; else they
    sample, seeded by each episode's market seed"""
    plots: bool = True
    """write the PNG plots"""
    budget_curve: bool = False
    """also score every checkpoint of the runs on the same seeds: held-out score by training
    budget (budget.csv, budget_curve.png)"""
    workers: int = -1
    """worker processes scoring the episodes side by side: -1 one per core this process may
    use, 0 (or 1) every episode in this process; the files are the same either way"""


def evaluate(args: Args) -> dict[str, Any]:
    """Check everything, score every controller, write the table and files."""
    check_workers(args.workers, "--workers")
    # 1. what is scored: the runs' env, or a role's env without runs
    runs = load_runs(args.run, args.role or None)
    if args.all_run and not args.role:
        raise ValueError(f"--all-run needs --role (one of {', '.join(ROLE_NAMES)}): the role "
                         "whose learners are scored")
    if runs:
        env_kwargs = runs[0].env_kwargs
    elif args.role:
        scenario, settlement = args.scenario, args.settlement or None
        if args.all_run:  # the by-role runs' scenario and settlement
            kw = json.loads((args.all_run[0] / "config.json").read_text())["env_kwargs"] \
                if (args.all_run[0] / "config.json").exists() else {}
            scenario = kw.get("scenario", scenario)
            settlement = kw.get("settlement", settlement)
        env_kwargs = role_env_kwargs(scenario, args.role, settlement)
    else:
        raise ValueError("nothing to evaluate: give --run (a train.py run folder) or --role")
    if args.budget_curve and not runs:
        raise ValueError("--budget-curve needs --run (the checkpoints of train.py runs)")
    if "ppo" in args.controllers and not runs:
        args.controllers = tuple(c for c in args.controllers if c != "ppo")
        if not args.controllers:
            raise ValueError("--controllers ppo needs --run (a train.py run folder)")
    # 2. on which seeds (held out, never a training seed)
    seeds = list(args.seeds) if args.seeds is not None else \
        [args.first_seed + i for i in range(args.n_seeds)]
    seeds = check_seeds(seeds, [*runs, *load_all_runs(args.all_run)])
    # 3. score every controller on the same seeds
    bench = score(env_kwargs, seeds, runs, args.controllers, args.deterministic,
                  default_progress, args.all_run, args.workers)
    # 4. report
    out = args.out or (runs[0].path / "eval" if runs else Path(f"runs/eval-{args.role}"))
    out.mkdir(parents=True, exist_ok=True)
    table = markdown(bench)
    row, mrow = summary_row(bench), market_row(bench)
    rows = f"{SUMMARY_HEAD}\n{row}\n\n{MARKET_HEAD}\n{mrow}\n"
    print(table)
    print(rows)
    (out / "table.md").write_text(table + "\n" + rows)
    result: dict[str, Any] = {
        "role": bench.role, "env_kwargs": env_kwargs, "seeds": seeds, "row": row,
        "market_row": mrow,
        "runs": [str(r.path) for r in runs], "skipped": bench.skipped,
        "summary": {c: {k: (list(v) if isinstance(v, tuple) else v) for k, v in s.items()}
                    for c, s in bench.summary().items()}}
    if args.budget_curve:
        result["budget"] = budget_curve(args, runs, env_kwargs, seeds, bench, out)
    (out / "results.json").write_text(json.dumps(result, indent=2))
    with open(out / "results.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["controller", "run", "seed", *METRICS, "bound"])
        for c, rows in bench.episodes.items():
            for i, eps in enumerate(rows):
                for e in eps:
                    w.writerow([c, i, e.seed, *(getattr(e, k) for k in METRICS), e.bound])
    if args.plots:
        from rex_env.eval import plots

        s = bench.summary()
        plots.surplus_bars({c: v["surplus"] for c, v in s.items()},
                           out / "surplus_by_controller.png",
                           f"{bench.role}: surplus by controller (95 % CI)")
        plots.training_curve({str(r.path): plots.learning_curve(r.path) for r in runs},
                             out / "learning_curve.png")
        plots.price_trajectories({c: rows[0][0].trades for c, rows in bench.episodes.items()},
                                 seeds[0], out / "price_trajectories.png")
    return result


def load_all_runs(paths: tuple[Path, ...]) -> list[Run]:
    """The by-role runs' folders (for the training-seed check; the library loads the models)."""
    out = []
    for p in paths:
        cfg = p / "config.json"
        if not cfg.exists():
            raise FileNotFoundError(f"no run at {p} (config.json missing); train first")
        out.append(Run(p, json.loads(cfg.read_text())))
    return out


def budget_curve(args: Args, runs: list[Any], env_kwargs: dict[str, Any], seeds: list[int],
                 bench: Any, out: Path) -> list[dict[str, Any]]:
    """Score each checkpoint budget common to all runs (and the final models) on the seeds;
    paired against the prototype. Writes budget.csv and budget_curve.png."""
    from rex_env.eval import plots
    from rex_env.eval.policies import LearnedPolicy

    if not runs:
        raise ValueError("--budget-curve needs --run")
    per_run = [{int(m.stem.split("_")[1]): m for m in (r.path / "checkpoints").glob(
        "ppo_*_steps.zip")} for r in runs]
    steps = sorted(set.intersection(*(set(p) for p in per_run)))
    finals = {json.loads((r.path / "timing.json").read_text())["agent_steps"]
              for r in runs if (r.path / "timing.json").exists()}
    if "ppo" in bench.episodes and len(finals) == 1:
        # a checkpoint within one rollout of the final model is that model: not scored twice
        final = next(iter(finals))
        rollout = int(runs[0].config.get("n_steps", 1)) * int(runs[0].config.get("num_envs", 1))
        steps = [n for n in steps if final - n >= rollout]
    if not steps and not finals:
        raise FileNotFoundError(f"--budget-curve: no checkpoints in {runs[0].path}/checkpoints")
    proto = bench.matrix("prototype")[0] if "prototype" in bench.episodes else None
    rows: list[dict[str, Any]] = []
    episodes = [Row(f"{n:>12}", LearnedPolicy(r.path, model=p[n], stats=p[n].with_name(
        f"ppo_vecnormalize_{n}_steps.pkl")), env_kwargs, seeds, args.deterministic)
        for n in steps for r, p in zip(runs, per_run, strict=True)]
    with EpisodePool(episodes, args.workers, default_progress) as pool:
        for j, n in enumerate(steps):
            mat = [[e.surplus for e in pool.result(j * len(runs) + i)]
                   for i in range(len(runs))]
            rows.append(_budget_row(n, mat, proto))
    if "ppo" in bench.episodes and len(finals) == 1:
        rows.append(_budget_row(finals.pop(), bench.matrix("ppo"), proto))
    with open(out / "budget.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print("\n| agent-steps | PPO surplus | paired diff vs prototype |\n|---|---|---|")
    for r in rows:
        diff = f"{r['diff']:+.3f} ± {r['diff_ci']:.3f}" if "diff" in r else "-"
        print(f"| {r['agent_steps']} | {r['surplus']:.3f} ± {r['ci']:.3f} | {diff} |")
    if args.plots:
        plots.budget_curve(rows, "prototype" if proto is not None else None,
                           out / "budget_curve.png",
                           f"Held-out seeds by training budget ({len(seeds)} seeds, "
                           f"{len(runs)} runs, 95 % CI)")
    return rows


def _budget_row(steps: int, mat: Any, proto: Any) -> dict[str, Any]:
    m, h = two_way_ci(mat)
    row: dict[str, Any] = {"agent_steps": steps, "surplus": m, "ci": h}
    if proto is not None:
        d, dh = paired_diff(mat, proto)
        row |= {"diff": d, "diff_ci": dh}
    return row


def main(argv: list[str] | None = None) -> int:
    import tyro

    args = tyro.cli(Args, args=argv, description=__doc__.split("\n\n")[0])
    try:
        evaluate(args)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
