"""Shared helpers for the agent tests: a controlled exchange ("desk") to put one agent in front
of a known book, and whole-market runs for the evidence tests.

Prices are integer ticks (0.1 /MWh) and rates integer lots (0.1 kW) on the desk, as in the
exchange.
"""

from __future__ import annotations

import functools
from types import SimpleNamespace
from typing import Any

from agents import build_population
from rex_env.exchange import Exchange, Grid, Report, Side
from rex_env.scenarios import Scenario, make_scenario
from rex_env.sim.agent_api import Agent, Instruction, MarketView, OwnerView
from rex_env.sim.market import Market
from rex_env.spec.schedule import SlotSchedule


class Desk:
    """An exchange with a schedule and a settable clock; the open slots trade continuously.

    The default schedule has 8 slots (8..15), a 2 h window and a 15 min gate; at the default
    ``now`` = 3600 s slots 8..12 are open.
    """

    def __init__(self, schedule: SlotSchedule | None = None, now: int = 3600) -> None:
        self.schedule = schedule or SlotSchedule(n_slots=8, open_lead=7200, gate_lead=900,
                                                 call_len=300)
        self.grid = Grid(slot_len=self.schedule.slot_len)
        self.ex = Exchange(self.grid, n_slots=self.schedule.end_slot)
        self.clock = SimpleNamespace(now=now)
        self.view = MarketView(self.ex, self.schedule, self.clock)  # type: ignore[arg-type]
        self._id = 0
        for k in range(self.schedule.first_slot):
            self.ex.close(k, 0)
        for k in self.view.open_slots():
            self.ex.open_continuous(k, 0)

    @property
    def slots(self) -> range:
        return self.view.open_slots()

    def order(self, owner: str, side: Side, slot: int, price: int | None, rate: int) -> Report:
        """Another participant's limit order (or market order with ``price=None``)."""
        self._id += 1
        from rex_env.exchange import Kind, Tif

        kind = Kind.MARKET if price is None else Kind.LIMIT
        tif = Tif.IOC if price is None else Tif.GTC
        rep = self.ex.submit(self.clock.now, self._id, owner, side, slot, price, rate, kind, tif)
        assert rep.status is not None and rep.reason is None, rep
        return rep

    def me(self, owner: str, prosumer: Any = None) -> OwnerView:
        return OwnerView(owner, self.ex, prosumer, [])

    def execute(self, owner: str, instructions: list[Instruction]
                ) -> list[tuple[Instruction, Report]]:
        """Carry out an agent's instructions as :meth:`Market.execute` does."""
        out = []
        t = self.clock.now
        for ins in instructions:
            if ins.op == "submit":
                self._id += 1
                rep = self.ex.submit(t, self._id, owner, ins.side, ins.slot, ins.price,
                                     ins.rate, ins.kind, ins.tif, ins.last_slot)
            elif ins.op == "cancel":
                rep = self.ex.cancel(t, ins.order_id, owner)  # type: ignore[arg-type]
            else:
                rep = self.ex.modify(t, ins.order_id, owner, ins.price,  # type: ignore
                                     ins.rate)
            out.append((ins, rep))
        return out

    def step(self, agent: Agent, me: OwnerView) -> list[tuple[Instruction, Report]]:
        """One wake-up of ``agent``: act, execute, report back."""
        reps = self.execute(me.owner, list(agent.act(self.view, me)))
        agent.on_reports(reps)
        return reps


# -- whole markets ----------------------------------------------------------------------------

HALF_DAY = SlotSchedule(n_slots=48, start_hour=6.0, day_of_year=100)
"""The evidence tests' schedule: the community's day from 06:00 to 18:00 (PV hours and
evening), half the cost of a full day."""


def community_half_day(**kinds: str) -> Scenario:
    """The flat-tariff community (``community_flat``, the first version's default market) on
    :data:`HALF_DAY`, optionally with some owners' agents changed."""
    sc = make_scenario("community_flat").replace(schedule=HALF_DAY)
    return sc.with_agents(**kinds) if kinds else sc


def run(scenario: Scenario, seed: int) -> Market:
    """One seeded episode of ``scenario`` with its hand-coded population, run to the end."""
    m = Market(scenario, build_population(scenario))
    m.reset(seed)
    m.run()
    return m


@functools.cache
def community_run(seed: int, random_owner: str | None = None) -> Market:
    """Cached half-day community runs (per test process): the prototypes, or the same market
    with ``random_owner`` traded by a random trader holding the same assets."""
    kinds = {random_owner: "random"} if random_owner else {}
    return run(community_half_day(**kinds), seed)
