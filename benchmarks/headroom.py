"""Headroom per role: random, prototype, strong baseline and perfect-foresight bound.

Usage::

    python benchmarks/headroom.py                         # community, 10 held-out seeds
    python benchmarks/headroom.py toy --n-seeds 2 --json out/headroom.json
    python benchmarks/headroom.py --settlement curtail

What is measured (issue 11, SPEC §10 version 2). For each role — ``households`` (load, with
or without PV, no battery), ``pv_battery`` (households with a battery), ``wind``, ``plant``,
``storage`` — its *members* are the scenario's learners of that role (the owners a learned
policy would trade for; all owners of the role when no learner has it). On each held-out
market seed (:data:`evaluate.EVAL_SEED_BASE` on, never a training seed) the members are
traded, all together and with the rest of the population unchanged, by

* ``random``: :class:`agents.RandomTrader` with their assets;
* ``prototype``: the role's hand-coded prototype (the population as the scenario defines it);
* ``baseline``: the role's strong baseline — :class:`agents.NewsvendorProsumer` for the
  intermittent roles (it ignores a household's battery, which buffers its imbalance at
  delivery), :class:`agents.RollingIntrinsicTrader` for storage; none for the plant, whose
  prototype already offers at marginal cost;

and the role's perfect-foresight **bound** (:mod:`agents.bounds`) is computed for each
member over the realised prices of the prototype's day: price-taking at each slot's VWAP (the
settlement reference where a slot did not trade), so a member that earns the spread can
exceed it. A score is the member's surplus for the day (the market's per-owner accounts:
trade cash + imbalance cash + value of served consumption - production cost - unserved
cost), averaged over the members; mean ± 95 % CI over seeds. ``headroom`` = bound -
prototype and ``baseline - prototype`` are paired by seed. Each seed's markets share their
physics (same seed, same realised weather, load and forecasts).

Battery charge left at the end is valued by the market's own rule (SPEC §9,
:func:`rex_env.sim.settlement.terminal_energy_value`: the change of stored energy at the day's
VWAP times the discharge efficiency), which the accounts already hold; the storage bound uses
the same price for its terminal value and the same starting charge, so the two compare.

Cost: per seed one prototype day plus one day per role and controller (≈ 1-2 s each for the
community; the rolling-intrinsic trader solves one small LP per wake-up).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere: agents/ lives at the root
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from numpy.typing import NDArray  # noqa: E402

from agents import build_population  # noqa: E402
from agents.bounds import intermittent_bound, plant_bound, storage_bound  # noqa: E402
from evaluate import EVAL_SEED_BASE, mean_ci  # noqa: E402
from rex_env.scenarios import PRESETS, Scenario, make_scenario  # noqa: E402
from rex_env.sim.market import Market  # noqa: E402
from rex_env.spec.kinds import SETTLEMENT_MODES  # noqa: E402
from rex_env.spec.prosumer import ProsumerSpec  # noqa: E402

CONTROLLERS = ("random", "prototype", "baseline", "bound")


@dataclass(frozen=True)
class Role:
    """A role: which prosumers belong to it and who trades for them."""

    name: str
    member: Callable[[ProsumerSpec], bool]
    baseline: str | None
    """The strong baseline's agent kind (None: the role has none)."""


def _household(p: ProsumerSpec) -> bool:
    return p.load is not None and p.wind is None and p.plant is None


ROLES: tuple[Role, ...] = (
    Role("households", lambda p: _household(p) and p.battery is None, "newsvendor"),
    Role("pv_battery", lambda p: _household(p) and p.battery is not None, "newsvendor"),
    Role("wind", lambda p: p.wind is not None and p.load is None and p.battery is None,
         "newsvendor"),
    Role("plant", lambda p: p.plant is not None, None),
    Role("storage", lambda p: p.battery is not None and not p.has_uncontrollable
         and p.plant is None, "rolling_intrinsic"),
)
ROLE_NAMES = tuple(r.name for r in ROLES)


def members(scenario: Scenario, role: Role) -> list[str]:
    """The owners a role is scored for: its learners, else every owner of the role."""
    own = [p.owner for p in scenario.prosumers
           if not p.external and p.agent not in ("learner", "passive") and role.member(p)]
    learners = [o for o in own if o in scenario.learners]
    return learners or own


def run_day(scenario: Scenario, seed: int) -> Market:
    """One seeded day of ``scenario`` with its hand-coded population, run to the end."""
    m = Market(scenario, build_population(scenario))
    m.reset(seed)
    m.run()
    return m


def slot_prices(market: Market) -> NDArray[np.float64]:
    """Realised price per slot (currency/MWh): the VWAP, or the settlement reference."""
    return np.array([market.ledger.slots[k].reference_price for k in market.schedule.slots],
                    dtype=np.float64)


def score(market: Market, owner: str) -> float:
    """An owner's surplus of the day (leftover battery charge included, SPEC §9)."""
    return market.accounts[owner].surplus


def bound(market: Market, owner: str) -> float:
    """The owner's perfect-foresight bound over the realised prices of ``market``."""
    sc = market.scenario
    spec = sc.spec(owner)
    p = slot_prices(market)
    L = sc.schedule.slot_len
    value = 0.0
    if spec.has_uncontrollable:
        pro = market.prosumers[owner]
        # served consumption is worth the grid's retail ask of each slot, as in the accounts
        value += intermittent_bound(p, pro.generation - pro.consumption, L, pro.consumption,
                                    market.curve.asks).value
    if spec.battery is not None:
        b = spec.battery
        # the accounts credit the *change* of stored energy (terminal_energy_value): the
        # bound's terminal value of the whole charge, less that of the starting charge
        terminal = market.day_price * b.eta_discharge
        value += (storage_bound(p, b, L, terminal_price=terminal).value
                  - terminal * b.initial_energy_kwh / 1000)
    if spec.plant is not None:
        value += plant_bound(p, spec.plant, L, step_kw=float(market.grid.lot_q)).value
    return value


@dataclass
class RoleResult:
    """Per seed, the members' mean score of each controller (NaN where not applicable)."""

    role: str
    members: list[str]
    seeds: list[int] = field(default_factory=list)
    scores: dict[str, list[float]] = field(
        default_factory=lambda: {c: [] for c in CONTROLLERS})

    def summary(self) -> dict[str, Any]:
        """Mean ± 95 % CI per controller, and the paired differences."""
        out: dict[str, Any] = {c: mean_ci(v) for c, v in self.scores.items()}
        proto = np.asarray(self.scores["prototype"])
        for name, other in (("headroom", "bound"), ("baseline_gain", "baseline")):
            out[name] = mean_ci(list(np.asarray(self.scores[other]) - proto))
        rnd, bnd = np.asarray(self.scores["random"]), np.asarray(self.scores["bound"])
        for c in ("prototype", "baseline"):  # normalised score (policy - random)/(bound - random)
            span = bnd - rnd
            x = np.asarray(self.scores[c])
            out[f"normalised_{c}"] = mean_ci(list(np.where(span > 0, (x - rnd) / span, np.nan)))
        return out


def _mean_score(market: Market, owners: Sequence[str]) -> float:
    return float(np.mean([score(market, o) for o in owners]))


def headroom(scenario: Scenario, seeds: Sequence[int], roles: Sequence[str] = ROLE_NAMES,
             progress: bool = False) -> list[RoleResult]:
    """Score every role on every seed (see the module doc).

    Raises:
        ValueError: an unknown role, or no seeds.
    """
    unknown = sorted(set(roles) - set(ROLE_NAMES))
    if unknown:
        raise ValueError(f"unknown roles {unknown}; allowed: {', '.join(ROLE_NAMES)}")
    if not seeds:
        raise ValueError("no seeds: give at least one")
    chosen = [r for r in ROLES if r.name in roles]
    results = [RoleResult(r.name, members(scenario, r)) for r in chosen]
    for seed in seeds:
        proto = run_day(scenario, seed)
        for role, res in zip(chosen, results, strict=True):
            if not res.members:
                continue
            res.seeds.append(seed)
            res.scores["prototype"].append(_mean_score(proto, res.members))
            res.scores["bound"].append(float(np.mean([bound(proto, o) for o in res.members])))
            for c, kind in (("random", "random"), ("baseline", role.baseline)):
                if kind is None:
                    res.scores[c].append(float("nan"))
                    continue
                sc = scenario.with_agents(**{o: kind for o in res.members})
                res.scores[c].append(_mean_score(run_day(sc, seed), res.members))
        if progress:
            print(f"seed {seed} done", file=sys.stderr, flush=True)
    return [r for r in results if r.members]


def _cell(m: float, h: float) -> str:
    if math.isnan(m):
        return "—"
    return f"{m:.3f}" if math.isnan(h) else f"{m:.3f} ± {h:.3f}"


def table(results: Sequence[RoleResult]) -> str:
    """A markdown table: one row per role."""
    head = ("| role | members | random | prototype | baseline | bound | headroom "
            "(bound − prototype) | baseline − prototype | normalised prototype |")
    lines = [head, "|" + "---|" * 9]
    for r in results:
        s = r.summary()
        who = ", ".join(r.members) if len(r.members) <= 3 else f"{len(r.members)} owners"
        cells = [_cell(*s[k]) for k in ("random", "prototype", "baseline", "bound", "headroom",
                                        "baseline_gain", "normalised_prototype")]
        lines.append(f"| {r.role} | {who} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenario", nargs="?", default="community",
                    help=f"a preset ({', '.join(PRESETS)})")
    ap.add_argument("--n-seeds", type=int, default=10, help="held-out seeds (>= 1)")
    ap.add_argument("--first-seed", type=int, default=EVAL_SEED_BASE,
                    help="first held-out seed (default: evaluate.py's EVAL_SEED_BASE)")
    ap.add_argument("--roles", nargs="+", default=list(ROLE_NAMES), choices=ROLE_NAMES)
    ap.add_argument("--settlement", choices=SETTLEMENT_MODES, default=None,
                    help="override the scenario's settlement mode (its other parameters stay)")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    ap.add_argument("--quiet", action="store_true", help="no progress on stderr")
    a = ap.parse_args(argv)
    if a.n_seeds < 1:
        ap.error(f"--n-seeds must be >= 1, got {a.n_seeds}")
    try:
        sc = make_scenario(a.scenario)
    except (KeyError, ValueError) as exc:
        ap.error(str(exc))
    if a.settlement is not None:
        sc = sc.replace(settlement=replace(sc.settlement, mode=a.settlement))
    seeds = list(range(a.first_seed, a.first_seed + a.n_seeds))
    results = headroom(sc, seeds, a.roles, progress=not a.quiet)
    note = (f"Scenario {sc.name} ({sc.settlement.mode} settlement), {len(seeds)} held-out "
            f"seeds from {seeds[0]}. Surplus per member-day, "
            f"mean ± 95 % CI over seeds; headroom and baseline − prototype paired by seed; "
            f"bound: perfect foresight, price-taking at the realised slot VWAPs.")
    print(table(results) + "\n\n" + note)
    if a.json is not None:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps({
            "scenario": sc.name, "settlement": sc.settlement.mode, "seeds": seeds,
            "roles": {r.role: {"members": r.members, "scores": r.scores,
                               "summary": {k: list(v) for k, v in r.summary().items()}}
                      for r in results}}, indent=2, allow_nan=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
