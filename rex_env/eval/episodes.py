"""One evaluation episode: a controller trades for the learners for one seeded day.

Every controller goes through the same env loop, so the learned policy, the random policy and
the hand-coded ones (acting inside the market through the env's ``controlled_by``) are scored
on identical markets. Scores are the market's per-owner accounts (SPEC §9), averaged over the
learners.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..sim.stylized import stylized_facts
from .headroom import bound as owner_bound

MARKET = ("welfare", "traded_kwh", "vwap_range", "grid_share", "one_price_share",
          "volume_ratio", "volatility_ratio", "imbalance_minus_vwap")
"""The market's figures with the controller in it (does learning change the market?):
community welfare (members' summed surplus) and the stylized facts of
:func:`rex_env.sim.stylized.stylized_facts` for this one day — traded kWh, the range of slot
VWAPs, the share of traded energy at the grid's quotes and at the most common price, the
volume ratio 10 min-3 h over 3-5.5 h before the gate, the volatility ratio last hour over
3-6 h before, and the mean single imbalance price minus the VWAP."""
METRICS = ("surplus", "imbalance_kwh", "imbalance_cost", "benefit", "spread", "volatility",
           *MARKET)
"""Per-episode numbers: the learners' mean surplus, imbalance volume and cost, benefit versus
the flat tariff; the market's mean spread, price volatility and :data:`MARKET`."""


@dataclass
class Episode:
    """The outcome of one seeded day (see :data:`METRICS`); ``bound`` is the learners' mean
    perfect-foresight bound over this day's realised prices (NaN unless asked for)."""

    controller: str
    seed: int
    surplus: float
    imbalance_kwh: float
    imbalance_cost: float
    benefit: float
    spread: float
    volatility: float
    welfare: float
    traded_kwh: float = float("nan")
    vwap_range: float = float("nan")
    grid_share: float = float("nan")
    one_price_share: float = float("nan")
    volume_ratio: float = float("nan")
    volatility_ratio: float = float("nan")
    imbalance_minus_vwap: float = float("nan")
    bound: float = float("nan")
    trades: list[tuple[int, int, float]] = field(default_factory=list)


def make_env(env_kwargs: Mapping[str, Any], controlled_by: str | None = None) -> Any:
    """The evaluation env of a run's ``env_kwargs`` (a hand-coded ``controlled_by``)."""
    from ..envs.parallel import RexParallelEnv

    kw = dict(env_kwargs)
    if isinstance(kw.get("learners"), list):
        kw["learners"] = tuple(kw["learners"])
    return RexParallelEnv(**kw, controlled_by=controlled_by)


def run_episode(env_kwargs: Mapping[str, Any], policy: Any, seed: int,
                deterministic: bool = True, with_bound: bool = False,
                owners: Sequence[str] | None = None) -> Episode:
    """One trading day with ``policy`` trading for the learners (mean over the learners, or
    over ``owners``: e.g. one role's learners in a market where every role learns).

    ``policy`` follows :class:`rex_env.eval.policies.Policy` (``predict`` on the stacked
    observations), or has ``act(obs_dict, env, deterministic)`` (a multi-policy controller
    such as :class:`rex_env.rllib.RLlibPolicy`, which maps each agent to its own module).

    Raises:
        ValueError: the policy does not fit the env (its ``check``).
    """
    env = make_env(env_kwargs, getattr(policy, "controlled_by", None))
    check = getattr(policy, "check", None)
    if check is not None:
        check(env)
    reset = getattr(policy, "reset", None)
    if reset is not None:
        reset(seed)
    obs, _ = env.reset(seed=seed)
    act = getattr(policy, "act", None)
    start = True
    while env.agents:
        if policy.controlled_by is not None:
            actions: dict[str, Any] = {a: None for a in obs}
        elif act is not None:
            actions = act(obs, env, deterministic)
        else:
            agents = list(obs)
            x = np.stack([obs[a] for a in agents])
            acts, _ = policy.predict(x, None, np.full(len(agents), start), deterministic)
            actions = dict(zip(agents, acts, strict=True))
        start = False
        obs, _, _, _, _ = env.step(actions)
    m = env.market
    if owners is None:
        owners = [env.owner_of[a] for a in env.possible_agents]
    accts = [m.accounts[o] for o in owners]
    slots = [m.metrics.slot(k) for k in m.schedule.slots]
    spreads = [s.mean_spread for s in slots if not math.isnan(s.mean_spread)]
    vols = [s.volatility for s in slots if not math.isnan(s.volatility)]
    members = [p.owner for p in m.scenario.prosumers if not p.external]
    g = m.grid
    facts = stylized_facts([m])
    ttg = facts["by_time_to_gate"]
    return Episode(
        policy.name, seed,
        surplus=float(np.mean([a.surplus for a in accts])),
        imbalance_kwh=float(np.mean([a.imbalance_volume_kwh for a in accts])),
        imbalance_cost=float(np.mean([a.imbalance_cost for a in accts])),
        benefit=float(np.mean([a.benefit for a in accts])),
        spread=float(np.mean(spreads)) if spreads else float("nan"),
        volatility=float(np.mean(vols)) if vols else float("nan"),
        welfare=float(sum(m.accounts[o].surplus for o in members)),
        traded_kwh=float(facts["traded_kwh_per_day"]),
        vwap_range=float(facts["daily_vwap_range"]["median"]),
        grid_share=float(facts["energy_at_grid_quotes"]),
        one_price_share=float(facts["max_share_at_one_price"]),
        volume_ratio=float(ttg["volume_ratio_10min_3h_vs_3_5.5h"]),
        volatility_ratio=float(ttg["volatility_ratio_last_hour_vs_3_6h"]),
        imbalance_minus_vwap=float(facts["imbalance_minus_vwap"]),
        bound=float(np.mean([owner_bound(m, o) for o in owners])) if with_bound
        else float("nan"),
        trades=[(t.time, t.slot, g.price(t.price)) for t in m.trades],
    )
