"""A scenario: who is in the market, what they own, and the market's rules and timing.

Scenarios are frozen and validated at construction, so an invalid one fails before any
simulation starts, with a message that says what is wrong and what is allowed.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

from ..exchange import Grid
from ..sim.prosumer import ProsumerSpec
from ..sim.schedule import SlotSchedule
from ..sim.settlement import SettlementConfig

AGENT_KINDS = ("intermittent", "plant", "storage", "zic", "ziu", "random", "grid", "learner",
               "passive")
"""What may trade for a prosumer: a hand-coded agent, an RL learner, or nobody."""


@dataclass(frozen=True)
class Tariff:
    """What a small prosumer gets without the market (the benefit benchmark, SPEC §9 metrics).

    Args:
        retail: flat retail price of consumption, currency/MWh (also the value of consumption
            served in surplus accounting: what the household is willing to pay at least).
        feed_in: flat feed-in remuneration of production, currency/MWh.
    """

    retail: float = 300.0
    feed_in: float = 80.0

    def __post_init__(self) -> None:
        for name in ("retail", "feed_in"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise ValueError(f"Tariff.{name} must be a finite number >= 0, got {v!r}")


@dataclass(frozen=True)
class Scenario:
    """Everything that defines a market episode except the seed.

    Args:
        name: the preset's name (or a user's label).
        prosumers: the participants, each with its assets and the agent kind that trades
            for it (see :data:`AGENT_KINDS`).
        schedule: slot length, number of slots, open/gate leads, call phase, day of year.
        grid: tick, lot and price bounds (its ``slot_len`` must equal the schedule's).
        settlement: imbalance settlement mode and its parameters (SPEC §9).
        tariff: the no-market benchmark and value of consumption.
        reference_price: currency/MWh; the opening auctions' reference and agents' prior.
        depth_levels: K, levels per side in the LOB-3D views.
        description: one line for listings.
        learners: the owners an RL policy trades for in the environment (each keeps its
            hand-coded ``agent`` for simulations and as its baseline).
    """

    name: str
    prosumers: tuple[ProsumerSpec, ...]
    schedule: SlotSchedule = field(default_factory=SlotSchedule)
    grid: Grid = field(default_factory=Grid)
    settlement: SettlementConfig = field(default_factory=SettlementConfig)
    tariff: Tariff = field(default_factory=Tariff)
    reference_price: float = 100.0
    depth_levels: int = 5
    description: str = ""
    learners: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.prosumers:
            raise ValueError(f"scenario {self.name!r} has no prosumers; at least one is needed")
        owners = [p.owner for p in self.prosumers]
        dup = sorted(o for o, n in Counter(owners).items() if n > 1)  # linear: count <= 10^4
        if dup:
            raise ValueError(f"scenario {self.name!r}: owner ids must be unique, repeated: {dup}")
        for p in self.prosumers:
            if p.agent not in AGENT_KINDS:
                raise ValueError(f"scenario {self.name!r}: prosumer {p.owner!r} has agent "
                                 f"{p.agent!r}; allowed: {', '.join(AGENT_KINDS)}")
        if self.grid.slot_len != self.schedule.slot_len:
            raise ValueError(f"grid.slot_len ({self.grid.slot_len}) must equal "
                             f"schedule.slot_len ({self.schedule.slot_len})")
        ref = self.reference_price
        if not isinstance(ref, (int, float)) or not math.isfinite(ref):
            raise ValueError(f"reference_price must be a finite number, got {ref!r}")
        if not isinstance(self.depth_levels, int) or not 1 <= self.depth_levels <= 50:
            raise ValueError(f"depth_levels must be an int in 1..50, got {self.depth_levels!r}")
        unknown = sorted(set(self.learners) - set(owners))
        if unknown:
            raise ValueError(f"scenario {self.name!r}: learners {unknown} are not owners; "
                             f"owners: {owners}")
        if len(set(self.learners)) != len(self.learners):
            raise ValueError(f"scenario {self.name!r}: learners must be unique")
        ticks = self.grid.price_ticks(ref)
        if not (self.grid.min_ticks <= ticks <= self.grid.max_ticks):
            raise ValueError(f"reference_price {ref} lies outside the grid's price bounds")

    @property
    def owners(self) -> list[str]:
        return [p.owner for p in self.prosumers]

    @property
    def reference_ticks(self) -> int | Fraction:
        return self.grid.price_ticks(self.reference_price)

    def spec(self, owner: str) -> ProsumerSpec:
        for p in self.prosumers:
            if p.owner == owner:
                return p
        raise KeyError(f"no prosumer {owner!r} in scenario {self.name!r}; owners: {self.owners}")

    def with_agents(self, **kinds: str) -> Scenario:
        """A copy in which the named owners are traded by other agent kinds."""
        unknown = sorted(set(kinds) - set(self.owners))
        if unknown:
            raise ValueError(f"unknown owners {unknown}; scenario {self.name!r} has "
                             f"{self.owners}")
        return replace(self, prosumers=tuple(
            replace(p, agent=kinds.get(p.owner, p.agent)) for p in self.prosumers))

    def replace(self, **changes: Any) -> Scenario:
        """A validated copy with some fields changed (``schedule=...``, ``settlement=...``)."""
        return replace(self, **changes)
