"""Headroom per role: random, prototype, strong baseline and perfect-foresight bound.

The library half of ``benchmarks/headroom.py`` (which documents what is measured): the
roles' members, one seeded hand-coded day, an owner's score and perfect-foresight bound
(:mod:`agents.bounds`) over a day's realised prices, and the per-role result with its paired
summaries. :mod:`rex_env.eval` uses :func:`bound` to place a learned policy between the
prototype and the bound.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..scenarios import Scenario
from ..sim.market import Market
from ..spec.roles import ROLE_NAMES, ROLES, Role
from .stats import mean_ci, normalised

CONTROLLERS = ("random", "prototype", "baseline", "bound")


def members(scenario: Scenario, role: Role) -> list[str]:
    """The owners a role is scored for: its learners, else every owner of the role."""
    own = [p.owner for p in scenario.prosumers
           if not p.external and p.agent not in ("learner", "passive") and role.member(p)]
    learners = [o for o in own if o in scenario.learners]
    return learners or own


def run_day(scenario: Scenario, seed: int) -> Market:
    """One seeded day of ``scenario`` with its hand-coded population, run to the end."""
    from agents import build_population

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
    from agents.bounds import intermittent_bound, plant_bound, storage_bound

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
        rnd, bnd = self.scores["random"], self.scores["bound"]
        for c in ("prototype", "baseline"):  # normalised score (policy - random)/(bound - random)
            out[f"normalised_{c}"] = mean_ci(normalised(self.scores[c], rnd, bnd)[0])
        return out


def _mean_score(market: Market, owners: Sequence[str]) -> float:
    return float(np.mean([score(market, o) for o in owners]))


def headroom(scenario: Scenario, seeds: Sequence[int], roles: Sequence[str] = ROLE_NAMES,
             progress: bool = False) -> list[RoleResult]:
    """Score every role on every seed (see ``benchmarks/headroom.py``).

    Raises:
        ValueError: an unknown role, or no seeds.
    """
    import sys

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
            # the bound values assets: a role without them (spatial) has none, not a bound of 0
            res.scores["bound"].append(
                float(np.mean([bound(proto, o) for o in res.members])) if role.bounded
                else float("nan"))
            for c, kind in (("random", "random"), ("baseline", role.baseline)):
                if kind is None:
                    res.scores[c].append(float("nan"))
                    continue
                sc = scenario.with_agents(**{o: kind for o in res.members})
                res.scores[c].append(_mean_score(run_day(sc, seed), res.members))
        if progress:
            print(f"seed {seed} done", file=sys.stderr, flush=True)
    return [r for r in results if r.members]


def cell(m: float, h: float) -> str:
    """``m ± h`` with three decimals (``—`` for NaN; no CI for a single value)."""
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
        cells = [cell(*s[k]) for k in ("random", "prototype", "baseline", "bound", "headroom",
                                       "baseline_gain", "normalised_prototype")]
        lines.append(f"| {r.role} | {who} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
