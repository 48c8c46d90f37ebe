"""The per-role benchmark: every controller on the same held-out seeds, then the table.

For one role (the learners of the run folders, or ``role_env_kwargs``), each controller trades
for the same prosumers in the same seeded markets: ``random``, the role's ``prototype``,
its strong ``baseline`` (where the role has one), each learned run (``ppo``: one row per
training seed, pooled in the table) and the perfect-foresight ``bound`` over the prototype's
day. Scores are ``runs x seeds`` matrices, so the CI of a learned policy includes the
training-seed variance (:func:`rex_env.eval.stats.two_way_ci`).
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..spec.kinds import CONTROLLERS as KINDS
from ..spec.roles import ROLE_NAMES, get_role, role_owners
from .episodes import METRICS, Episode
from .headroom import cell
from .parallel import EpisodePool, Row, check_workers
from .policies import HandCodedPolicy, LearnedPolicy, RandomPolicy
from .stats import EVAL_SEED_BASE, normalised, paired_diff, two_way_ci

CONTROLLERS = ("random", "prototype", "baseline", "ppo")
"""The benchmark's controllers; any hand-coded agent kind (``KINDS``, e.g. ``storage``) may
also be scored by name."""


@dataclass
class Run:
    """A run folder of ``train.py`` (or ``examples/rllib_train.py``)."""

    path: Path
    config: dict[str, Any]

    @property
    def env_kwargs(self) -> dict[str, Any]:
        """The run's env; a run trained before ``EnvConfig.feasible`` existed had none (its
        targets were never projected) and is scored as trained."""
        return {"feasible": False, **self.config["env_kwargs"]}

    @property
    def role(self) -> str:
        return str(self.config.get("role", "scenario"))

    def policy(self) -> Any:
        """The run's learned controller (SB3, or an RLlib checkpoint)."""
        if (self.path / "rllib_checkpoint").exists():
            from ..rllib import RLlibPolicy

            return RLlibPolicy(self.path / "rllib_checkpoint")
        return LearnedPolicy(self.path)


def _all_policy(path: Path) -> Any:
    """A by-role run's controller: SB3 models per role, or an RLlib by_role checkpoint."""
    if (path / "rllib_checkpoint").exists():
        from ..rllib import RLlibPolicy

        return RLlibPolicy(path / "rllib_checkpoint", name="ppo_all")
    from .policies import ByRolePolicy

    return ByRolePolicy(path)


NO_FLEXIBLE_ASSET = ("households", "wind", "spatial")
"""Roles whose prosumers have neither a battery nor a plant: ``feasible`` cannot change them."""


def _compared(run: Run) -> dict[str, Any]:
    """The env settings that must agree between training seeds of one configuration
    (``feasible`` only matters for a role with a battery or a plant)."""
    kw = dict(run.env_kwargs)
    if run.role in NO_FLEXIBLE_ASSET:
        kw.pop("feasible", None)
    return kw


def load_runs(paths: Sequence[Path], role: str | None = None) -> list[Run]:
    """Read the run folders and check they belong together (same env, same role).

    Raises:
        FileNotFoundError: a folder without ``config.json``.
        ValueError: runs trained on different envs, or for another role than ``role``.
    """
    runs = []
    for p in paths:
        cfg = Path(p) / "config.json"
        if not cfg.exists():
            raise FileNotFoundError(f"no run at {p} (config.json missing); train first")
        run = Run(Path(p), json.loads(cfg.read_text()))
        if run.role == "all":
            raise ValueError(f"{p} is an all-roles run (--role all): give it as "
                             f"--all-run together with --role (one of {', '.join(ROLE_NAMES)})")
        runs.append(run)
    for r in runs[1:]:
        a, b = _compared(r), _compared(runs[0])
        if a != b:
            diff = sorted(k for k in {*a, *b} if a.get(k) != b.get(k))
            raise ValueError(f"runs {runs[0].path} and {r.path} were trained on different envs "
                             f"({', '.join(diff)} differ): give the training seeds of one "
                             f"configuration")
    if role is not None and runs and runs[0].role != role:
        raise ValueError(f"--role {role!r}, but {runs[0].path} was trained for role "
                         f"{runs[0].role!r}: evaluate it as that role, or give a run of "
                         f"{role!r}")
    return runs


def role_env_kwargs(scenario: str, role: str, settlement: str | None = None) -> dict[str, Any]:
    """The evaluation env of a role without a run (hand-coded controllers and bound only).

    Raises:
        ValueError: an unknown role, or one the scenario does not have.
    """
    from ..scenarios import make_scenario

    get_role(role)
    role_owners(make_scenario(scenario), role)  # fails naming the scenario's roles
    kw: dict[str, Any] = {"scenario": scenario, "learners": role}
    if settlement:
        kw["settlement"] = settlement
    return kw


def check_seeds(seeds: Sequence[int], runs: Iterable[Run]) -> list[int]:
    """Held-out seeds: at least one, none a training seed of any run.

    Raises:
        ValueError: naming the problem and what is allowed.
    """
    seeds = list(seeds)
    if not seeds:
        raise ValueError("no evaluation seeds: give --n-seeds >= 1 or --seeds (held-out seeds "
                         f"start at {EVAL_SEED_BASE})")
    for r in runs:
        base = int(r.config.get("seed", 0)) * 1000
        clash = [s for s in seeds if base <= s < base + int(r.config.get("n_envs", 1))]
        if clash:
            raise ValueError(f"seeds {clash} were used for training {r.path}; evaluate on "
                             f"held-out seeds (from {EVAL_SEED_BASE})")
    return seeds


def role_of_env(env_kwargs: Mapping[str, Any]) -> str | None:
    """The role whose members the env's learners are (``None``: a mix or no role)."""
    from ..spec.roles import role_of
    from .episodes import make_env

    env = make_env(env_kwargs)
    roles = {role_of(env.scenario.spec(o)) for o in env.owner_of.values()}
    return roles.pop() if len(roles) == 1 else None


@dataclass
class Benchmark:
    """Episodes per controller: ``episodes[name][run][seed]`` (one run for hand-coded)."""

    role: str | None
    env_kwargs: dict[str, Any]
    seeds: list[int]
    episodes: dict[str, list[list[Episode]]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)

    def matrix(self, name: str, metric: str = "surplus") -> np.ndarray:
        """``runs x seeds`` of one metric."""
        return np.array([[getattr(e, metric) for e in row] for row in self.episodes[name]])

    @property
    def bound(self) -> np.ndarray | None:
        if "prototype" not in self.episodes:
            return None
        b = self.matrix("prototype", "bound")[0]
        return None if np.all(np.isnan(b)) else b  # a role without a bound (spatial)

    def summary(self) -> dict[str, dict[str, Any]]:
        """Per controller: every metric's mean ± CI, the paired gain over the prototype and over
        the strong baseline, the normalised score and the share of the headroom (each mean ±
        CI)."""
        out: dict[str, dict[str, Any]] = {}
        proto = self.matrix("prototype")[0] if "prototype" in self.episodes else None
        base = self.matrix("baseline")[0] if "baseline" in self.episodes else None
        rnd = self.matrix("random")[0] if "random" in self.episodes else None
        bnd = self.bound
        for name in self.episodes:
            s = self.matrix(name)
            row: dict[str, Any] = {k: two_way_ci(self.matrix(name, k)) for k in METRICS}
            nan = (float("nan"), float("nan"))
            row["vs_prototype"] = paired_diff(s, proto) if proto is not None else nan
            row["vs_baseline"] = paired_diff(s, base) if base is not None else nan
            row["normalised"] = two_way_ci(normalised(s, rnd, bnd)) \
                if rnd is not None and bnd is not None else nan
            row["headroom_share"] = two_way_ci(normalised(s, proto, bnd)) \
                if proto is not None and bnd is not None else nan
            row["welfare_vs_prototype"] = paired_diff(
                self.matrix(name, "welfare"), self.matrix("prototype", "welfare")[0]) \
                if proto is not None else nan
            row["runs"] = len(self.episodes[name])
            out[name] = row
        if bnd is not None:
            out["bound"] = {"surplus": two_way_ci(bnd)}
        return out


def score(env_kwargs: Mapping[str, Any], seeds: Sequence[int], runs: Sequence[Run] = (),
          controllers: Sequence[str] = CONTROLLERS, deterministic: bool = True,
          progress: Callable[[Sequence[int], str], Iterable[int]] | None = None,
          all_runs: Sequence[Path] = (), workers: int = 0) -> Benchmark:
    """Score the controllers on ``seeds`` (see the module doc); ``all_runs``: by-role runs
    (``train.py --role all``) scored as ``ppo_all`` for this env's learners, in a market
    where every role's learned policy trades.

    ``workers``: 0 or 1 runs every episode in this process; N >= 2 in N worker processes
    (-1: one per core), with the same episodes, in the same order (:mod:`.parallel`); as with
    any ``forkserver`` pool, a script doing so guards its entry point with
    ``if __name__ == "__main__":``.

    Raises:
        ValueError: an unknown controller or ``workers``; a run that does not fit the env
            (before any episode runs).
    """
    check_workers(workers)
    allowed = tuple(dict.fromkeys((*CONTROLLERS, *KINDS)))
    unknown = sorted(set(controllers) - set(allowed))
    if unknown or not controllers:
        raise ValueError(f"unknown controllers {unknown}; allowed: {', '.join(allowed)}"
                         if unknown else f"no controllers to score; give at least one of "
                         f"{', '.join(allowed)}")
    role_name = role_of_env(env_kwargs)
    role = get_role(role_name) if role_name is not None else None
    bench = Benchmark(role_name, dict(env_kwargs), list(seeds))
    each = progress or (lambda seq, desc: seq)
    from .episodes import make_env

    plan: list[tuple[str, list[Any], Mapping[str, Any], list[str] | None]] = []
    if all_runs:
        owners = list(make_env(env_kwargs).owner_of.values())
        pols = [_all_policy(Path(p)) for p in all_runs]
        kws = [{"feasible": False,  # trained before EnvConfig.feasible: as trained
                **json.loads((Path(p) / "config.json").read_text())["env_kwargs"]}
               for p in all_runs]
        kw_all = dict(kws[0])
        if any(k != kw_all for k in kws[1:]):
            raise ValueError("the by-role runs were trained on different envs: give the "
                             "training seeds of one configuration")
        for key in ("scenario", "settlement"):  # the same market, or the rows mean nothing
            if kw_all.get(key) != env_kwargs.get(key):
                raise ValueError(f"the by-role runs were trained with {key} "
                                 f"{kw_all.get(key)!r}, the scored env has "
                                 f"{env_kwargs.get(key)!r}: give by-role runs of the same "
                                 f"market")
        env_all = make_env(kw_all)
        missing = sorted(set(owners) - set(env_all.owner_of.values()))
        if missing:
            raise ValueError(f"the by-role runs do not trade for {missing}: evaluate them on "
                             f"the scenario they were trained on")
        for p in pols:
            p.check(env_all)
        plan.append(("ppo_all", pols, kw_all, owners))
    for c in controllers:
        if c == "ppo":
            if runs:
                policies = [r.policy() for r in runs]
                from .episodes import make_env

                env = make_env(env_kwargs)
                for p in policies:  # every run fits the env, before any work
                    check = getattr(p, "check", None)
                    if check is not None:
                        check(env)
                plan.insert(0, ("ppo", policies, env_kwargs, None))
            continue
        if c == "random":
            env = make_env(env_kwargs)
            plan.append(("random", [RandomPolicy(env.action_space(env.possible_agents[0]))],
                         env_kwargs, None))
            continue
        kind = c
        if c in ("prototype", "baseline"):
            if role is None:
                bench.skipped[c] = "the learners are not one role"
                continue
            kind = role.prototype if c == "prototype" else role.baseline  # type: ignore[assignment]
            if kind is None:
                bench.skipped[c] = f"role {role.name} has no strong baseline"
                continue
        bench.labels[c] = kind
        plan.append((c, [HandCodedPolicy(kind, name=c)], env_kwargs, None))
    order = {c: i for i, c in enumerate(("random", "prototype", "baseline", "ppo", "ppo_all"))}
    plan.sort(key=lambda p: order.get(p[0], len(order)))
    rows: list[Row] = []
    named: list[tuple[str, list[int]]] = []  # each controller's rows (one per run)
    for name, policies, kw, score_owners in plan:
        bounded = name == "prototype" and (role is None or role.bounded)
        named.append((name, list(range(len(rows), len(rows) + len(policies)))))
        for i, pol in enumerate(policies):
            desc = f"{name}[{i}]" if len(policies) > 1 else name
            rows.append(Row(f"{desc:>12}", pol, kw, list(seeds), deterministic, bounded,
                            score_owners))
    with EpisodePool(rows, workers, each) as pool:
        for name, indices in named:
            episodes = []
            for i in indices:
                try:
                    episodes.append(pool.result(i))
                except ValueError as exc:  # a hand-coded kind that cannot drive these assets
                    if name == "ppo":
                        raise
                    bench.skipped[name] = str(exc)
                    break
            else:
                bench.episodes[name] = episodes
    return bench


def markdown(bench: Benchmark) -> str:
    """The per-controller tables of one role: the role's scores, then the market with each
    controller trading for the role (does learning change the market?), with how to read
    them."""
    s = bench.summary()
    cols = ("surplus", "vs_prototype", "vs_baseline", "normalised", "headroom_share",
            "imbalance_kwh", "imbalance_cost")
    mcols = ("welfare", "welfare_vs_prototype", "traded_kwh", "vwap_range", "grid_share",
             "one_price_share", "volume_ratio", "volatility_ratio", "imbalance_minus_vwap",
             "spread", "volatility")

    def table(columns: Sequence[str]) -> list[str]:
        lines = ["| controller | " + " | ".join(columns) + " |",
                 "|" + "---|" * (len(columns) + 1)]
        for name, row in s.items():
            if name == "bound" and "surplus" not in columns:
                continue
            label = name
            if name in bench.labels and bench.labels[name] != name:
                label = f"{name} ({bench.labels[name]})"
            if name == "ppo" and row["runs"] > 1:
                label = f"ppo ({row['runs']} runs)"
            cells = [cell(*row[c]) if c in row else "" for c in columns]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        return lines

    kw = bench.env_kwargs
    settle = f", {kw['settlement']} settlement" if kw.get("settlement") else ""
    notes = [f"Scenario {kw['scenario']}{settle}, role {bench.role or 'mixed'}, "
             f"{len(bench.seeds)} held-out seeds from {bench.seeds[0]}. Per learner per "
             "day, mean ± 95 % CI (over seeds; for several runs also over training seeds). "
             "vs_prototype, vs_baseline: paired by seed; normalised: (x − random)/(bound − "
             "random); headroom_share: (x − prototype)/(bound − prototype); bound: perfect "
             "foresight over the prototype's realised prices; imbalance: the role's kWh and cost."]
    for name in ("ppo", "ppo_all"):
        for ref in ("prototype", "baseline"):
            if name in s and ref in s:
                d, h = s[name][f"vs_{ref}"]
                sig = not math.isnan(h) and abs(d) > h
                notes.append(f"{name} − {ref}: {d:+.4f} ± {h:.4f} "
                             f"({'significant' if sig else 'not significant'} at 95 %).")
    for name, why in bench.skipped.items():
        notes.append(f"{name}: not applicable ({why}).")
    market = ["The market with each controller trading for the role, per day (mean ± 95 % CI; "
              "rex_env.sim.stylized): welfare = the members' summed surplus "
              "(welfare_vs_prototype paired by seed); traded_kwh; vwap_range = highest − "
              "lowest slot VWAP; grid_share / one_price_share = share of traded energy at "
              "the grid's quotes / at the most common price; volume_ratio = traded energy per "
              "hour 10 min–3 h ÷ 3–5.5 h before the gate; volatility_ratio = realised "
              "volatility last hour ÷ 3–6 h before; imbalance_minus_vwap = single imbalance "
              "price − VWAP; spread, volatility: mean quoted spread and price volatility."]
    return ("\n".join(table(cols)) + "\n\n" + "\n".join(notes) + "\n\n"
            + "\n".join(table(mcols)) + "\n\n" + "\n".join(market) + "\n")


def summary_row(bench: Benchmark) -> str:
    """One line of the README's per-role table: random, prototype, baseline, PPO (alone and
    with every role learning), PPO's paired gain over the prototype (``*``: significant at
    95 %), bound, normalised score and share of headroom."""
    s = bench.summary()

    def get(name: str, key: str = "surplus") -> str:
        return cell(*s[name][key]) if name in s else "—"

    def gain(name: str) -> str:
        if name not in s or "prototype" not in s:
            return "—"
        d, h = s[name]["vs_prototype"]
        return cell(d, h) + (" *" if not math.isnan(h) and abs(d) > h else "")

    return (f"| {bench.role or 'mixed'} | {get('random')} | {get('prototype')} | "
            f"{get('baseline')} | {get('ppo')} | {get('ppo_all')} | {gain('ppo')} | "
            f"{gain('ppo_all')} | {get('bound')} | "
            f"{get('ppo', 'normalised')} | {get('ppo', 'headroom_share')} | "
            f"{get('ppo_all', 'headroom_share')} |")


def _num(x: float) -> str:
    """A mean with three significant digits (``—`` for NaN)."""
    if math.isnan(x):
        return "—"
    if abs(x) < 5e-4:  # rounding noise of a sum that is zero
        return "0"
    return f"{x:.0f}" if abs(x) >= 1000 else f"{x:.3g}"


def market_row(bench: Benchmark) -> str:
    """One line of the README's market table: prototype → PPO alone (→ PPO all roles) of the
    role's imbalance, the welfare (and its paired change) and the stylized figures."""
    s = bench.summary()
    names = [n for n in ("prototype", "ppo", "ppo_all") if n in s]

    def arrow(key: str) -> str:
        return " → ".join(_num(s[n][key][0]) for n in names) if names else "—"

    def paired(name: str) -> str:
        return cell(*s[name]["welfare_vs_prototype"]) if name in s else "—"

    return (f"| {bench.role or 'mixed'} | {arrow('imbalance_kwh')} | {arrow('welfare')} | "
            f"{paired('ppo')} | {paired('ppo_all')} | {arrow('vwap_range')} | "
            f"{arrow('grid_share')} | {arrow('volume_ratio')} | {arrow('volatility_ratio')} |")


MARKET_HEAD = ("| role | role's imbalance kWh | welfare | welfare: PPO − prototype | welfare: "
               "all roles − prototype | VWAP range | energy at grid quotes | volume ratio "
               "| volatility ratio |\n|---|---|---|---|---|---|---|---|---|")
"""Each cell but the paired ones: prototype → PPO alone (→ PPO all roles), means per day."""


SUMMARY_HEAD = ("| role | random | prototype | strong baseline | PPO alone | PPO all roles | "
                "PPO − prototype (paired) | all roles − prototype (paired) | bound | "
                "normalised PPO | PPO share of headroom | all-roles share of headroom "
                "|\n|---|---|---|---|---|---|---|---|---|---|---|---|")


def default_progress(seq: Sequence[int], desc: str) -> Iterable[int]:
    """A tqdm bar on stderr (the plain sequence without tqdm)."""
    try:
        from tqdm import tqdm

        return tqdm(seq, desc=desc, file=sys.stderr, leave=False)
    except ImportError:  # pragma: no cover
        return seq


__all__ = ["CONTROLLERS", "KINDS", "MARKET_HEAD", "ROLE_NAMES", "SUMMARY_HEAD", "Benchmark",
           "Run", "check_seeds", "default_progress", "load_runs", "market_row", "markdown",
           "role_env_kwargs", "role_of_env", "score", "summary_row"]
