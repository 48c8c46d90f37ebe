"""Hand-coded agents: the three prototypical prosumers of the seeds and zero-intelligence
traders. They populate the market that learned policies trade in and are the baselines every
learned policy is judged against (SPEC §10).

=====================  ==========================================  =======================
kind (scenario name)   class                                       module
=====================  ==========================================  =======================
``intermittent``       :class:`IntermittentProsumer`               :mod:`.intermittent`
``plant``              :class:`ProvisionPlantAgent`                :mod:`.plant`
``storage``            :class:`StorageDealer`                      :mod:`.storage`
``zic`` / ``ziu``      :class:`ZITrader`                           :mod:`.zi`
``grid``               :class:`GridAgent` (supplier of last resort)  :mod:`.grid`
=====================  ==========================================  =======================
"""

from __future__ import annotations

from rex_env.scenarios import Scenario
from rex_env.sim.agent_api import Agent
from rex_env.sim.prosumer import ProsumerSpec

from .base import SlotTrader
from .grid import GridAgent
from .intermittent import IntermittentProsumer
from .plant import ProvisionPlantAgent
from .storage import StorageDealer
from .zi import ZITrader, zi_quote

HAND_CODED = ("intermittent", "plant", "storage", "zic", "ziu", "grid")


def make_agent(spec: ProsumerSpec, scenario: Scenario, kind: str | None = None) -> Agent | None:
    """The hand-coded agent of a prosumer (``kind`` overrides ``spec.agent``).

    Returns ``None`` for ``learner`` and ``passive`` prosumers (nobody trades for them here).

    Raises:
        ValueError: the kind does not fit the prosumer's assets (e.g. ``plant`` without a
            plant), naming what is allowed.
    """
    kind = spec.agent if kind is None else kind
    params = dict(spec.params)
    common = {"reference_price": scenario.reference_price,
              "tick": float(scenario.grid.tick_q), "lot": float(scenario.grid.lot_q)}
    common.update(params)
    if kind in ("learner", "passive"):
        return None
    if kind == "intermittent":
        return IntermittentProsumer(spec.owner, max_buy=scenario.tariff.retail, **common)
    if kind == "plant":
        if spec.plant is None:
            raise ValueError(f"{spec.owner!r}: agent 'plant' needs a plant asset")
        return ProvisionPlantAgent(spec.owner, spec.plant, **common)
    if kind == "storage":
        if spec.battery is None:
            raise ValueError(f"{spec.owner!r}: agent 'storage' needs a battery asset")
        return StorageDealer(spec.owner, spec.battery, **common)
    if kind == "grid":
        if not spec.external:
            raise ValueError(f"{spec.owner!r}: agent 'grid' needs ProsumerSpec(external=True)")
        return GridAgent(spec.owner, bid=scenario.tariff.feed_in, ask=scenario.tariff.retail,
                         **common)
    if kind in ("zic", "ziu"):
        return ZITrader(spec.owner, constrained=kind == "zic", **common)
    raise ValueError(f"{spec.owner!r}: unknown agent kind {kind!r}; allowed: "
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
    "GridAgent",
    "Agent",
    "IntermittentProsumer",
    "ProvisionPlantAgent",
    "SlotTrader",
    "StorageDealer",
    "ZITrader",
    "build_population",
    "make_agent",
    "zi_quote",
]
