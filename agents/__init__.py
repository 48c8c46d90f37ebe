"""Hand-coded agents: the three prototypical prosumers of the seeds, zero-intelligence
traders and a random baseline. They populate the market that learned policies trade in and
are the baselines every learned policy is judged against (SPEC §10).

=====================  ============================================  =======================
kind (scenario name)   class                                         module
=====================  ============================================  =======================
``intermittent``       :class:`IntermittentProsumer`                 :mod:`.intermittent`
``plant``              :class:`ProvisionPlantAgent`                  :mod:`.plant`
``storage``            :class:`StorageDealer`                        :mod:`.storage`
``zic`` / ``ziu``      :class:`ZITrader`                             :mod:`.zi`
``random``             :class:`RandomTrader` (same assets, random)   :mod:`.random_agent`
``grid``               :class:`GridAgent` (supplier of last resort)  :mod:`.grid`
``newsvendor``         :class:`NewsvendorProsumer` (strong baseline)  :mod:`.newsvendor`
``rolling_intrinsic``  :class:`RollingIntrinsicTrader` (strong b.)   :mod:`.rolling_intrinsic`
``spatial``            :class:`SpatialArbitrager` (zones only)       :mod:`.spatial`
=====================  ============================================  =======================

The last two are the strong baselines of SPEC §10 (version 2); the perfect-foresight bounds
of every role are in :mod:`.bounds`.

Every agent is a :class:`SlotTrader` (:mod:`.base`): periodic seeded wake-ups, one working
order per slot (two for the dealer), make-take pricing. Each module's docstring gives its
rules, the reasoning behind each, its parameters (validated: a bad one raises a
``ValueError`` naming it and what is allowed) and the cost of one decision.
"""

from __future__ import annotations

import math

from rex_env.sim.agent_api import Agent
from rex_env.spec.kinds import HAND_CODED, NOISE_TRADERS
from rex_env.spec.prosumer import ProsumerSpec
from rex_env.spec.scenario import Scenario

from .base import SlotTrader
from .grid import GridAgent
from .intermittent import IntermittentProsumer
from .newsvendor import NewsvendorProsumer
from .plant import ProvisionPlantAgent
from .random_agent import RandomTrader
from .rolling_intrinsic import RollingIntrinsicTrader
from .spatial import SpatialArbitrager
from .storage import StorageDealer
from .zi import ZITrader, zi_quote


def _common(spec: ProsumerSpec, scenario: Scenario) -> dict[str, object]:
    out: dict[str, object] = {"reference_price": scenario.reference_price,
                              "tick": float(scenario.grid.tick_q),
                              "lot": float(scenario.grid.lot_q)}
    out.update(dict(spec.params))
    return out


def make_agent(spec: ProsumerSpec, scenario: Scenario, kind: str | None = None) -> Agent | None:
    """The hand-coded agent of a prosumer (``kind`` overrides ``spec.agent``).

    ``spec.params`` override the agent's defaults (e.g. ``(("period", 600),)``).

    Returns ``None`` for ``learner`` and ``passive`` prosumers (nobody trades for them here).

    Raises:
        ValueError: the kind does not fit the prosumer's assets (e.g. ``plant`` without a
            plant), or a parameter is out of range — naming what is allowed.
    """
    kind = spec.agent if kind is None else kind
    if kind in ("learner", "passive"):
        return None
    common = _common(spec, scenario)
    who = repr(spec.owner)
    try:
        if kind in ("intermittent", "newsvendor"):
            if scenario.wholesale is None:  # flat tariffs: the first version's limits
                common.setdefault("max_buy", scenario.tariff.retail)
                common.setdefault("min_sell", 0.0)
            st = scenario.settlement
            common.setdefault("settlement", st.mode)
            common.setdefault("premium", st.premium)
            common.setdefault("fee", st.fee)
            if kind == "intermittent":
                return IntermittentProsumer(spec.owner, **common)  # type: ignore[arg-type]
            common.setdefault("voll", st.voll)
            common.setdefault("consumption_value",
                              scenario.tariff.retail if spec.load is not None else 0.0)
            gen = sum(a.capacity_kw for a in (spec.wind, spec.pv) if a is not None)
            common.setdefault("net_max", gen)
            common.setdefault("net_min", -math.inf if spec.load is not None else 0.0)
            return NewsvendorProsumer(spec.owner, battery=spec.battery,
                                      **common)  # type: ignore[arg-type]
        if kind == "plant":
            if spec.plant is None or spec.has_uncontrollable or spec.battery is not None:
                raise ValueError(f"{who}: agent 'plant' needs a plant asset and no other assets")
            return ProvisionPlantAgent(spec.owner, spec.plant, **common)  # type: ignore[arg-type]
        if kind in ("storage", "rolling_intrinsic"):
            if spec.battery is None or spec.has_uncontrollable or spec.plant is not None:
                raise ValueError(f"{who}: agent {kind!r} needs a battery asset and no other "
                                 "assets (a household with a battery is 'intermittent' or "
                                 "'newsvendor')")
            if kind == "rolling_intrinsic":
                return RollingIntrinsicTrader(spec.owner, spec.battery,
                                              **common)  # type: ignore[arg-type]
            return StorageDealer(spec.owner, spec.battery, **common)  # type: ignore[arg-type]
        if kind == "grid":
            if not spec.external:
                raise ValueError(f"{who}: agent 'grid' needs ProsumerSpec(external=True)")
            return GridAgent(spec.owner, **common)  # type: ignore[arg-type]
        if kind in NOISE_TRADERS:
            return ZITrader(spec.owner, constrained=kind == "zic", **common)  # type: ignore
        if kind == "spatial":
            if not scenario.zonal or spec.has_uncontrollable or spec.plant or spec.battery:
                raise ValueError(f"{who}: agent 'spatial' needs a scenario with zones and a "
                                 "prosumer without assets")
            return SpatialArbitrager(spec.owner, **common)  # type: ignore[arg-type]
        if kind == "random":
            cap = spec.capacity_kw if spec.capacity_kw > 0 else 1.0
            return RandomTrader(spec.owner, cap, **common)  # type: ignore[arg-type]
    except TypeError as exc:  # an unknown parameter name in spec.params
        if "keyword argument" not in str(exc):
            raise
        raise ValueError(f"{who}: unknown parameter for agent {kind!r} in params: "
                         f"{str(exc).split('argument ')[-1]}") from None
    except ValueError as exc:
        msg = str(exc)
        raise ValueError(msg if msg.startswith(who) else f"{who} (agent {kind!r}): {msg}"
                         ) from None
    raise ValueError(f"{who}: unknown agent kind {kind!r}; allowed: "
                     f"{', '.join(HAND_CODED)}, learner, passive")


def build_population(scenario: Scenario, exclude: tuple[str, ...] = ()) -> dict[str, Agent]:
    """One hand-coded agent per prosumer of the scenario (learners and ``exclude`` left out)."""
    out: dict[str, Agent] = {}
    for spec in scenario.prosumers:
        if spec.owner in exclude:
            continue
        agent = make_agent(spec, scenario)
        if agent is not None:
            out[spec.owner] = agent
    return out


__all__ = [
    "HAND_CODED",
    "Agent",
    "GridAgent",
    "IntermittentProsumer",
    "NewsvendorProsumer",
    "ProvisionPlantAgent",
    "RandomTrader",
    "RollingIntrinsicTrader",
    "SpatialArbitrager",
    "SlotTrader",
    "StorageDealer",
    "ZITrader",
    "build_population",
    "make_agent",
    "zi_quote",
]
