"""Paired evaluation of a trained policy against the three prototypes and a random policy.

For the role the run was trained on, every controller — the learned PPO policy, the
intermittent prosumer, the provision plant, the storage dealer (each where it can drive the
prosumer's assets) and a random policy — trades for the *same* prosumers in the *same*
markets with the *same* held-out seeds, through one code path (the env loop of
:func:`run_episode`; hand-coded controllers act inside the market via the env's
``controlled_by`` switch). Reported per controller: mean and 95 % confidence interval over
seeds of the learners' surplus, imbalance volume and cost, benefit versus the flat tariff,
and market metrics (mean spread, price volatility, community welfare); and the paired
difference PPO minus the best prototype. Writes ``results.csv``, ``results.json``,
``table.md`` and plots (``surplus_by_controller.png``, ``learning_curve.png``,
``price_trajectories.png``); with ``--budget-curve`` also every checkpoint of the run on the
same seeds (``budget.csv``, ``budget_curve.png``: the budget after which PPO beats the
prototypes)::

    python evaluate.py --run runs/ppo --n-seeds 20 --out runs/ppo/eval [--budget-curve]
"""

from __future__ import annotations

import csv
import json
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

EVAL_SEED_BASE = 1_000_000_000
"""Evaluation seeds start here; training seeds are below 10^9 (train.py enforces it)."""
PROTOTYPES = ("intermittent", "plant", "storage")
BASELINES = ("newsvendor", "rolling_intrinsic")
"""The strong baselines (SPEC §10 version 2); scored like the prototypes when asked for, e.g.
``--controllers ppo intermittent newsvendor random`` (benchmarks/headroom.py adds the bounds)."""


@dataclass
class Args:
    """Options of ``evaluate.py``."""

    run: Path = Path("runs/ppo")
    """run folder written by train.py (config.json, model.zip, vecnormalize.pkl)"""
    n_seeds: int = 10
    """number of held-out seeds (EVAL_SEED_BASE, EVAL_SEED_BASE+1, ...)"""
    first_seed: int = EVAL_SEED_BASE
    """first of the --n-seeds consecutive held-out seeds (e.g. a fresh range for a final
    report after configurations were compared on the default one)"""
    seeds: tuple[int, ...] = ()
    """explicit held-out seeds (overrides --n-seeds and --first-seed)"""
    controllers: tuple[str, ...] = ("ppo", "intermittent", "plant", "storage", "random")
    """controllers to score"""
    out: Path | None = None
    """output folder (default RUN/eval)"""
    deterministic: bool = True
    """use the policy's mean action"""
    plots: bool = True
    """write the PNG plots"""
    budget_curve: bool = False
    """also score every checkpoint in RUN/checkpoints on the same seeds: the held-out surplus
    by training budget (budget.csv, budget_curve.png)"""


# -- controllers: one interface for learned, hand-coded and random ------------------------
class Controller:
    """Chooses the learners' actions each step (hand-coded ones act inside the market)."""

    name = "controller"
    controlled_by: str | None = None  # a hand-coded agent kind, or None: actions matter

    def reset(self, seed: int) -> None:
        """A new episode with this seed."""

    def act(self, obs: dict[str, np.ndarray], env: Any) -> dict[str, Any]:
        return {a: None for a in obs}


class HandCoded(Controller):
    def __init__(self, kind: str) -> None:
        self.name = kind
        self.controlled_by = kind


class RandomPolicy(Controller):
    name = "random"

    def __init__(self) -> None:
        self.rng = np.random.default_rng(0)

    def reset(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed + 7)

    def act(self, obs: dict[str, np.ndarray], env: Any) -> dict[str, Any]:
        space = env.action_space(env.possible_agents[0])
        if hasattr(space, "n"):
            return {a: int(self.rng.integers(space.n)) for a in obs}
        return {a: self.rng.uniform(space.low, space.high).astype(np.float32) for a in obs}


class PPOPolicy(Controller):
    """A saved SB3 model (and its observation normalisation) as a controller."""

    name = "ppo"

    def __init__(self, run: Path, deterministic: bool = True, model: Path | None = None,
                 stats: Path | None = None) -> None:
        from stable_baselines3 import PPO

        model_path = model or run / "model.zip"
        if not model_path.exists():
            raise FileNotFoundError(f"no model at {model_path}; train one with train.py")
        try:
            self.model = PPO.load(model_path, device="cpu")
        except Exception as exc:  # a corrupt or foreign file: say which, then stop
            raise ValueError(f"{model_path} is not a loadable PPO model: {exc}") from exc
        self.deterministic = deterministic
        self.obs_rms = None
        stats = stats or run / "vecnormalize.pkl"
        if stats.exists():
            import pickle

            with open(stats, "rb") as f:
                vn = pickle.load(f)
            self.obs_rms = vn.obs_rms
            self.clip = vn.clip_obs
            self.eps = vn.epsilon

    def check(self, env: Any) -> None:
        want = env.observation_space(env.possible_agents[0]).shape
        have = self.model.observation_space.shape
        if want != have:
            raise ValueError(f"the model expects observations of shape {have}, the env gives "
                             f"{want}: evaluate on the scenario it was trained on")
        if self.model.action_space != env.action_space(env.possible_agents[0]):
            raise ValueError("the model's action space differs from the env's")

    def act(self, obs: dict[str, np.ndarray], env: Any) -> dict[str, Any]:
        agents = list(obs)
        x = np.stack([obs[a] for a in agents])
        if self.obs_rms is not None:
            x = np.clip((x - self.obs_rms.mean) / np.sqrt(self.obs_rms.var + self.eps),
                        -self.clip, self.clip).astype(np.float32)
        actions, _ = self.model.predict(x, deterministic=self.deterministic)
        return dict(zip(agents, actions, strict=True))


# -- one episode ------------------------------------------------------------------------------
@dataclass
class Episode:
    controller: str
    seed: int
    surplus: float
    imbalance_kwh: float
    imbalance_cost: float
    benefit: float
    spread: float
    volatility: float
    welfare: float
    trades: list[tuple[int, int, float]] = field(default_factory=list)


def run_episode(make_env: Callable[..., Any], controller: Controller, seed: int) -> Episode:
    """One trading day with ``controller`` trading for the learners; mean per learner."""
    env = make_env(controlled_by=controller.controlled_by)
    check = getattr(controller, "check", None)
    if check is not None:
        check(env)
    controller.reset(seed)
    obs, _ = env.reset(seed=seed)
    while env.agents:
        obs, _, _, _, _ = env.step(controller.act(obs, env))
    m = env.market
    owners = [env.owner_of[a] for a in env.possible_agents]
    accts = [m.accounts[o] for o in owners]
    slots = [m.metrics.slot(k) for k in m.schedule.slots]
    spreads = [s.mean_spread for s in slots if not math.isnan(s.mean_spread)]
    vols = [s.volatility for s in slots if not math.isnan(s.volatility)]
    members = [p.owner for p in m.scenario.prosumers if not p.external]
    g = m.grid
    return Episode(
        controller.name, seed,
        surplus=float(np.mean([a.surplus for a in accts])),
        imbalance_kwh=float(np.mean([a.imbalance_volume_kwh for a in accts])),
        imbalance_cost=float(np.mean([a.imbalance_cost for a in accts])),
        benefit=float(np.mean([a.benefit for a in accts])),
        spread=float(np.mean(spreads)) if spreads else float("nan"),
        volatility=float(np.mean(vols)) if vols else float("nan"),
        welfare=float(sum(m.accounts[o].surplus for o in members)),
        trades=[(t.time, t.slot, g.price(t.price)) for t in m.trades],
    )


# -- statistics -------------------------------------------------------------------------------
def t_critical(df: int) -> float:
    """Two-sided 95 % Student-t quantile (Cornish-Fisher expansion; exact to ~1e-3)."""
    if df <= 0:
        return float("nan")
    z = 1.959963984540054
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4


def mean_ci(x: Sequence[float]) -> tuple[float, float]:
    """Mean and half-width of its 95 % confidence interval."""
    a = np.asarray([v for v in x if not math.isnan(v)], dtype=float)
    if a.size == 0:
        return float("nan"), float("nan")
    if a.size == 1:
        return float(a[0]), float("nan")
    return float(a.mean()), float(t_critical(a.size - 1) * a.std(ddof=1) / math.sqrt(a.size))


METRICS = ("surplus", "imbalance_kwh", "imbalance_cost", "benefit", "spread", "volatility",
           "welfare")


def summarise(episodes: dict[str, list[Episode]]) -> dict[str, dict[str, tuple[float, float]]]:
    return {c: {k: mean_ci([getattr(e, k) for e in eps]) for k in METRICS}
            for c, eps in episodes.items()}


def paired(episodes: dict[str, list[Episode]], a: str, b: str) -> tuple[float, float]:
    """Mean and 95 % CI half-width of the per-seed surplus difference a - b."""
    eb = {e.seed: e.surplus for e in episodes[b]}
    return mean_ci([e.surplus - eb[e.seed] for e in episodes[a] if e.seed in eb])


def markdown(summary: dict[str, dict[str, tuple[float, float]]], note: str) -> str:
    head = "| controller | " + " | ".join(METRICS) + " |"
    lines = [head, "|" + "---|" * (len(METRICS) + 1)]
    for c, row in summary.items():
        cells = [f"{m:.3f} ± {h:.3f}" if not math.isnan(h) else f"{m:.3f}"
                 for m, h in (row[k] for k in METRICS)]
        lines.append(f"| {c} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n\n" + note + "\n"


# -- main -------------------------------------------------------------------------------------
def evaluate(args: Args) -> dict[str, Any]:
    cfg_path = args.run / "config.json"
    if not cfg_path.exists():
        raise FileNotFoundError(f"no run at {args.run} (config.json missing); train first")
    cfg = json.loads(cfg_path.read_text())
    seeds = list(args.seeds) if args.seeds else [args.first_seed + i for i in range(args.n_seeds)]
    if not seeds:
        raise ValueError("no evaluation seeds: give --n-seeds >= 1 or --seeds")
    train_base = int(cfg.get("seed", 0)) * 1000
    clash = [s for s in seeds if train_base <= s < train_base + int(cfg.get("n_envs", 1))]
    if clash:
        raise ValueError(f"seeds {clash} were used for training; evaluate on held-out seeds")
    unknown = sorted(set(args.controllers) - {"ppo", "random", *PROTOTYPES, *BASELINES})
    if unknown:
        raise ValueError(f"unknown controllers {unknown}; allowed: ppo, random, "
                         f"{', '.join(PROTOTYPES + BASELINES)}")
    env_kw = dict(cfg["env_kwargs"])
    if env_kw.get("learners") is not None:
        env_kw["learners"] = tuple(env_kw["learners"])
    from rex_env.envs.parallel import RexParallelEnv

    def make_env(controlled_by: str | None = None) -> Any:
        return RexParallelEnv(**env_kw, controlled_by=controlled_by)

    controllers: list[Controller] = []
    for c in args.controllers:
        if c == "ppo" and (args.run / "rllib_checkpoint").exists():
            from rex_env.rllib import RLlibPolicy  # a run of examples/rllib_train.py

            controllers.append(RLlibPolicy(args.run / "rllib_checkpoint", args.deterministic))
        elif c == "ppo":
            controllers.append(PPOPolicy(args.run, args.deterministic))
        elif c == "random":
            controllers.append(RandomPolicy())
        else:
            controllers.append(HandCoded(c))
    out = args.out or args.run / "eval"
    out.mkdir(parents=True, exist_ok=True)
    episodes: dict[str, list[Episode]] = {}
    skipped: dict[str, str] = {}
    for ctrl in controllers:
        try:
            make_env(ctrl.controlled_by)
        except ValueError as exc:  # e.g. the plant agent cannot drive a household
            skipped[ctrl.name] = str(exc)
            continue
        eps = []
        for s in _progress(seeds, f"{ctrl.name:>12}"):
            eps.append(run_episode(make_env, ctrl, s))
        episodes[ctrl.name] = eps
    summary = summarise(episodes)
    protos = [p for p in PROTOTYPES if p in summary]
    settle = f" ({env_kw['settlement']} settlement)" if env_kw.get("settlement") else ""
    note_lines = [f"Scenario {env_kw['scenario']}{settle}, learners {cfg['role']}, {len(seeds)} "
                  f"held-out seeds from {seeds[0]}; mean ± 95 % CI over seeds of the "
                  f"per-learner mean."]
    result: dict[str, Any] = {"summary": {c: {k: list(v) for k, v in row.items()}
                                          for c, row in summary.items()},
                              "seeds": seeds, "skipped": skipped, "run": str(args.run)}
    if "ppo" in summary and protos:
        best = max(protos, key=lambda p: summary[p]["surplus"][0])
        d, h = paired(episodes, "ppo", best)
        sig = not math.isnan(h) and abs(d) > h
        note_lines.append(f"Paired surplus difference PPO - best prototype ({best}): "
                          f"{d:.4f} ± {h:.4f} ({'significant' if sig else 'not significant'}"
                          f" at 95 %).")
        result["paired"] = {"best_prototype": best, "diff": d, "ci": h, "significant": sig}
    for name, why in skipped.items():
        note_lines.append(f"{name}: not applicable ({why}).")
    table = markdown(summary, "\n".join(note_lines))
    print(table)
    (out / "table.md").write_text(table)
    if args.budget_curve:
        result["budget"] = budget_curve(args, make_env, seeds, episodes, out,
                                        str(env_kw["scenario"]))
    (out / "results.json").write_text(json.dumps(result, indent=2))
    with open(out / "results.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["controller", "seed", *METRICS])
        for c, eps in episodes.items():
            for e in eps:
                w.writerow([c, e.seed, *(getattr(e, k) for k in METRICS)])
    if args.plots:
        plot_all(episodes, summary, args.run, out)
    return result


def checkpoints(run: Path) -> list[tuple[int, Path, Path]]:
    """(agent-steps, model, normalisation stats) of the run's checkpoints, oldest first."""
    found = []
    for model in (run / "checkpoints").glob("ppo_*_steps.zip"):
        steps = int(model.stem.split("_")[1])
        found.append((steps, model, model.with_name(f"ppo_vecnormalize_{steps}_steps.pkl")))
    return sorted(found)


def budget_curve(args: Args, make_env: Callable[..., Any], seeds: list[int],
                 episodes: dict[str, list[Episode]], out: Path,
                 scenario: str) -> list[dict[str, Any]]:
    """Score each checkpoint (and the final model) on the held-out seeds; paired against the
    best prototype already scored. Writes budget.csv and budget_curve.png."""
    final = json.loads((args.run / "timing.json").read_text())["agent_steps"] \
        if (args.run / "timing.json").exists() else None
    points = checkpoints(args.run)
    if final is not None and "ppo" in episodes:
        points.append((int(final), args.run / "model.zip", args.run / "vecnormalize.pkl"))
    if not points:
        raise FileNotFoundError(f"--budget-curve: no checkpoints in {args.run / 'checkpoints'}")
    protos = [p for p in PROTOTYPES if p in episodes]
    best = max(protos, key=lambda p: float(np.mean([e.surplus for e in episodes[p]]))) \
        if protos else None
    rows: list[dict[str, Any]] = []
    for steps, model, stats in points:
        if steps == final and "ppo" in episodes:
            eps = episodes["ppo"]
        else:
            pol = PPOPolicy(args.run, args.deterministic, model=model, stats=stats)
            eps = [run_episode(make_env, pol, s) for s in _progress(seeds, f"{steps:>12}")]
        m, h = mean_ci([e.surplus for e in eps])
        row: dict[str, Any] = {"agent_steps": steps, "surplus": m, "ci": h}
        if best is not None:
            d, dh = paired({"ppo": eps, best: episodes[best]}, "ppo", best)
            row |= {"best_prototype": best, "diff": d, "diff_ci": dh}
        rows.append(row)
    with open(out / "budget.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print("\n| agent-steps | PPO surplus | paired diff vs " + (best or "-") + " |\n|---|---|---|")
    for r in rows:
        diff = f"{r['diff']:+.3f} ± {r['diff_ci']:.3f}" if "diff" in r else "-"
        print(f"| {r['agent_steps']} | {r['surplus']:.3f} ± {r['ci']:.3f} | {diff} |")
    if args.plots:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        x = [r["agent_steps"] for r in rows]
        fig, ax = plt.subplots(figsize=(7, 3.5))
        if best is not None:  # the quantity of interest: the paired gain over the best
            ax.errorbar(x, [r["diff"] for r in rows], yerr=[r["diff_ci"] for r in rows],
                        marker="o", capsize=3, color="C3")
            ax.axhline(0, color="k", lw=0.8)
            ax.set_ylabel(f"PPO - {best}, paired\n(surplus per learner per day)")
        else:
            ax.errorbar(x, [r["surplus"] for r in rows], yerr=[r["ci"] for r in rows],
                        marker="o", capsize=3, color="C3")
            ax.set_ylabel("PPO surplus per learner per day")
        ax.set_xlabel("training budget (agent-steps)")
        ax.set_title(f"Held-out seeds by training budget ({scenario}, {len(seeds)} "
                     f"seeds, 95 % CI)")
        fig.tight_layout()
        fig.savefig(out / "budget_curve.png", dpi=110)
        plt.close(fig)
    return rows


def _progress(seq: Sequence[int], desc: str) -> Any:
    try:
        from tqdm import tqdm

        return tqdm(seq, desc=desc, file=sys.stderr, leave=False)
    except ImportError:  # pragma: no cover
        return seq


def plot_all(episodes: dict[str, list[Episode]], summary: dict[str, dict[str, tuple[float,
             float]]], run: Path, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(summary)
    m = [summary[c]["surplus"][0] for c in names]
    h = [0 if math.isnan(summary[c]["surplus"][1]) else summary[c]["surplus"][1] for c in names]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.bar(names, m, yerr=h, capsize=4, color=["C3" if c == "ppo" else "C0" for c in names])
    ax.axhline(0, color="k", lw=0.5)
    ax.set_ylabel("surplus per learner per day")
    ax.set_title("Surplus by controller (95 % CI over held-out seeds)")
    fig.tight_layout()
    fig.savefig(out / "surplus_by_controller.png", dpi=110)
    plt.close(fig)
    curve = learning_curve(run)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    if curve:
        ax.plot(*zip(*curve, strict=True))
    ax.set_xlabel("agent-steps")
    ax.set_ylabel("mean episode reward (training)")
    ax.set_title("Learning curve")
    fig.tight_layout()
    fig.savefig(out / "learning_curve.png", dpi=110)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(8, 3.5))
    for c, eps in episodes.items():
        if eps and eps[0].trades:
            t = np.array(eps[0].trades)
            ax.plot(t[:, 0] / 3600, t[:, 2], ".", ms=1.5, label=c, alpha=0.6)
    ax.set_xlabel("time (h)")
    ax.set_ylabel("trade price (currency/MWh)")
    ax.set_title(f"Price trajectories, seed {next(iter(episodes.values()))[0].seed}")
    ax.legend(markerscale=6, fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "price_trajectories.png", dpi=110)
    plt.close(fig)


def learning_curve(run: Path) -> list[tuple[int, float]]:
    """(step, mean episode reward) pairs from the run's TensorBoard logs."""
    try:
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    except ImportError:  # pragma: no cover
        return []
    points: list[tuple[int, float]] = []
    for d in sorted((run / "tb").glob("*")):
        acc = EventAccumulator(str(d))
        acc.Reload()
        if "rollout/ep_rew_mean" in acc.Tags().get("scalars", []):
            points += [(e.step, e.value) for e in acc.Scalars("rollout/ep_rew_mean")]
    return sorted(points)


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
