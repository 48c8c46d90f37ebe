"""The hand-coded agents' compiled decisions (``rex_env._core``: ``IntermittentCore``, ``ZICore``,
``StorageCore``, ``PlantCore``, ``GridCore``; issue 12) against their Python code, the
reference: at every wake-up of whole market days both decide from the same state, and the
instructions, the working orders, the round-robin cursor, the random generator's state, the ZI
trader's wake-up plan and the storage dealer's quotes, price memory and cash bookkeeping must be
equal afterwards — over the settlement modes, flat and wholesale-indexed grids, and both the
grid's quotes and configured limits as bounds. The whole-day digests of
``tests/sim/test_fingerprints.py`` pin the same equality end to end."""

from __future__ import annotations

import dataclasses
import pickle
from collections import deque
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import rex_env.sim.market as market_module
from agents import (
    GridAgent,
    IntermittentProsumer,
    NewsvendorProsumer,
    ProvisionPlantAgent,
    StorageDealer,
    ZITrader,
    build_population,
    make_agent,
)
from agents.base import SlotTrader
from rex_env import _core
from rex_env.exchange import Side, Status
from rex_env.physics import ProvisionPlant
from rex_env.scenarios import make_scenario
from rex_env.sim.agent_api import submit
from rex_env.sim.market import Market
from rex_env.spec import Scenario, SettlementConfig
from tests.compiled import CountingCore

pytestmark = pytest.mark.skipif(not _core.AVAILABLE, reason="C core not built")


def _state(agent: SlotTrader) -> tuple[Any, ...]:
    """Everything an act may change: cursor, working orders, random state, ZI plan (its
    wake-up times as a sorted list: only their minimum is read, and their order follows the
    iteration order of a set, which a copy does not keep), the storage dealer's quotes, price
    memory and cash bookkeeping."""
    storage = None
    if isinstance(agent, StorageDealer):
        storage = (dict(agent.quotes), list(agent._prices), agent._next_closed,
                   agent._turnover, agent._volume, agent._cash,
                   {k: list(v) for k, v in agent._fills.items()})
    return (agent._cursor, dict(agent.working), agent._py.getstate(),
            set(getattr(agent, "_touched", ())), sorted(getattr(agent, "_checkpoints", ())),
            storage, dict(getattr(agent, "quotes", {})))


def _restore(agent: SlotTrader, state: tuple[Any, ...]) -> None:
    agent._cursor, agent.working = state[0], dict(state[1])
    agent._py.setstate(state[2])
    if isinstance(agent, ZITrader):
        agent._touched, agent._checkpoints = set(state[3]), list(state[4])
    if isinstance(agent, StorageDealer):
        quotes, prices, agent._next_closed, agent._turnover, agent._volume, agent._cash, \
            fills = state[5]
        agent.quotes = dict(quotes)
        agent._prices = deque(prices, maxlen=agent.memory)
        agent._fills = {k: list(v) for k, v in fills.items()}
    if isinstance(agent, GridAgent):
        agent.quotes = dict(state[6])


def _market(name: str, seed: int) -> tuple[Scenario, Market]:
    """A scenario's market with its hand-coded population, reset with ``seed``."""
    sc = make_scenario(name)
    m = Market(sc, build_population(sc))
    m.reset(seed)
    return sc, m


COMPILED_CLASSES = (IntermittentProsumer, ZITrader, StorageDealer, ProvisionPlantAgent,
                    GridAgent)


def _compare_every_wake(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Make every act of the compiled classes decide twice (reference, then compiled) and
    assert both agree."""
    tally = {"decided": 0, "handed back": 0, "wakes": 0, "instructions": 0}
    compiled = SlotTrader._compiled

    def counting(self: SlotTrader, market: Any) -> Any:
        core = compiled(self, market)
        return None if core is None else CountingCore(core, tally)

    def checked(act: Any) -> Any:
        def both(self: SlotTrader, market: Any, me: Any) -> Any:
            before = _state(self)
            monkeypatch.setattr(_core, "COMPILED_AGENTS", False)
            ref = list(act(self, market, me))
            after = _state(self)
            _restore(self, before)
            monkeypatch.setattr(_core, "COMPILED_AGENTS", True)
            got = act(self, market, me)
            assert got == ref, f"{self.owner} at t={market.now}"
            assert [type(i) for i in got] == [type(i) for i in ref]  # the API's records
            assert _state(self) == after, f"{self.owner} at t={market.now}"
            tally["wakes"] += 1
            tally[type(self).__name__] = tally.get(type(self).__name__, 0) + 1
            tally["instructions"] += len(got)
            return got
        return both

    monkeypatch.setattr(market_module, "Exchange", _core.Exchange)
    monkeypatch.setattr(SlotTrader, "_compiled", counting)
    for cls in COMPILED_CLASSES:
        monkeypatch.setattr(cls, "act", checked(cls.act))
        # the market calls act (patched above) only on the Python wake-up; the compiled one
        # (rex_env._core.WakeLoop, compared with it in tests/sim/test_wake_loop.py) calls the
        # cores directly
        monkeypatch.setattr(cls, "COMPILED_WAKE", None)
    return tally


def _with_mode(name: str, mode: str) -> Scenario:
    sc = make_scenario(name)
    return sc.replace(settlement=SettlementConfig(mode=mode, premium=0.3, fee=7.0,
                                                  scarcity_adder=2000.0))


@pytest.mark.parametrize("scenario,mode,seed", [
    ("community", None, 3),       # single price, the grid's quotes as limits (wholesale curve)
    ("community", "dual", 5),     # penalty prices around the VWAP
    ("community", "curtail", 6),  # hard "no reservation, no service"
    ("toy", None, 0),             # flat tariffs: configured limits, VWAP cushion
    ("toy", "dual", 1),
    ("town", None, 2),
])
def test_every_wake_up_decides_as_the_reference(monkeypatch: pytest.MonkeyPatch, scenario: str,
                                                mode: str | None, seed: int) -> None:
    tally = _compare_every_wake(monkeypatch)
    sc = make_scenario(scenario) if mode is None else _with_mode(scenario, mode)
    m = Market(sc, build_population(sc))
    m.reset(seed)
    m.run()
    assert m.trades, "the day traded nothing: the comparison would be empty"
    assert tally["handed back"] == 0
    # every wake-up was decided by a core (toy: ~240, community ~12,800, town ~48,000)
    assert tally["decided"] == tally["wakes"] > 200
    present = {type(a) for a in m.agents.values()}
    assert all(tally[cls.__name__] > 20 for cls in COMPILED_CLASSES if cls in present)
    if scenario != "toy":
        assert StorageDealer in present
    assert tally["instructions"] > 250


def test_reference_only_where_the_core_cannot_read_the_market(
        monkeypatch: pytest.MonkeyPatch) -> None:
    sc = make_scenario("toy")
    monkeypatch.setattr(market_module, "Exchange", _core.Exchange)
    m = Market(sc, build_population(sc))
    m.reset(0)
    m.run_until(sc.schedule.first_slot * sc.schedule.slot_len)
    agent = m.agents["house00"]
    assert isinstance(agent, IntermittentProsumer)
    core = agent._compiled(m.view)
    assert core is not None and core.uses(m.exchange, m.view.curve)
    assert agent._compiled(m.view) is core, "one core per episode, not one per wake-up"
    monkeypatch.setattr(_core, "COMPILED_AGENTS", False)
    assert agent._compiled(m.view) is None

    class Tweaked(IntermittentProsumer):
        pass

    monkeypatch.setattr(_core, "COMPILED_AGENTS", True)
    sub = Tweaked("house00")
    sub.reset(m.rng)
    assert sub._compiled(m.view) is None, "a subclass may override any step: Python decides"


def test_the_python_engine_never_uses_the_core(monkeypatch: pytest.MonkeyPatch) -> None:
    from rex_env.exchange import PythonExchange
    monkeypatch.setattr(market_module, "Exchange", PythonExchange)
    sc, m = _market("toy", 0)
    assert m.agents["house00"]._compiled(m.view) is None  # type: ignore[attr-defined]


def test_a_limit_the_reference_cannot_hold_raises_its_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A cushion that makes the no-loss limit infinite: the core hands the wake-up back and
    the reference raises what it always raised, rather than the core inventing a price."""
    monkeypatch.setattr(market_module, "Exchange", _core.Exchange)
    errors = []
    for compiled in (False, True):
        monkeypatch.setattr(_core, "COMPILED_AGENTS", compiled)
        sc = make_scenario("toy")
        m = Market(sc, build_population(sc))
        m.reset(0)
        for a in m.agents.values():
            if isinstance(a, IntermittentProsumer):
                a.cushion = 1e308
                a.max_buy = a.min_sell = None  # the VWAP-cushion limit decides
        with pytest.raises((OverflowError, ValueError)) as err:
            m.run()
        errors.append((type(err.value), str(err.value), m.kernel.now, len(m.trades)))
    assert errors[0] == errors[1]


def test_an_agent_with_its_core_pickles_and_builds_it_anew(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(market_module, "Exchange", _core.Exchange)
    sc, m = _market("toy", 0)
    m.run_until(sc.schedule.first_slot * sc.schedule.slot_len)
    agent = m.agents["house00"]
    assert agent._compiled(m.view) is not None  # type: ignore[attr-defined]
    clone = pickle.loads(pickle.dumps(agent))
    assert clone._core is None
    assert clone.tau_s == agent.tau_s  # type: ignore[attr-defined]


def test_a_hand_back_leaves_the_agent_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    """The core cancels one slot's order, then meets a working order it cannot read: the
    cancel and the round-robin step are undone before it hands back, so the reference starts
    from the same state (and cancels that order itself)."""
    monkeypatch.setattr(market_module, "Exchange", _core.Exchange)
    sc, m = _market("toy", 0)
    m.run_until(sc.schedule.first_slot * sc.schedule.slot_len)
    agent, me = m.agents["house00"], m.owner_views["house00"]
    assert isinstance(agent, IntermittentProsumer)
    a = list(m.view.open_slots())[-2]
    slots = range(a, a + 2)  # slots_per_wake 2: slot a (near), then a + 1 (round-robin)
    agent.slots_per_wake = 2
    gap = agent.targets(me, [a], m.now)[0] - me.position(a)
    # a resting order in slot a on the side opposite to its gap: the core cancels it
    side, price = (Side.SELL, int(m.exchange.grid.max_ticks)) if gap > 0 else (Side.BUY, 1)
    [(_, rep)] = m.execute("house00", [submit(side, a, price, 1)])
    assert rep.order is not None and rep.order.status is Status.RESTING
    foreign = object()  # not an order record of this exchange
    agent.working = {a: rep.order, a + 1: foreign}  # type: ignore[dict-item]
    cursor = agent._cursor
    core = agent._compiled(m.view)
    assert core.act(agent, slots, m.now, agent.working, me.prosumer, "house00") is None
    assert agent.working == {a: rep.order, a + 1: foreign}
    assert agent._cursor == cursor


def test_the_zi_core_hands_back_before_its_first_draw(monkeypatch: pytest.MonkeyPatch) -> None:
    """A draw cannot be taken back: a working order the core cannot read sends the wake-up to
    the reference before anything is drawn or changed."""
    monkeypatch.setattr(market_module, "Exchange", _core.Exchange)
    sc, m = _market("community", 0)
    m.run_until(sc.schedule.first_slot * sc.schedule.slot_len)
    zi = next(a for a in m.agents.values() if type(a) is ZITrader)
    slots = m.view.open_slots()
    foreign = object()
    zi.working[slots[-1]] = foreign  # type: ignore[assignment]
    before = _state(zi)
    core = zi._compiled(m.view)
    assert core.act(zi, slots, m.now, zi.working, zi.owner) is None
    assert _state(zi) == before


def test_the_storage_core_hands_back_for_numbers_it_does_not_replicate(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A reserve given as a numpy float32 (Python's arithmetic on it is not plain double
    arithmetic): the storage core hands every wake-up back and the reference decides, from
    the state the core left (the closed slots' prices and the cash of fills it booked, which
    the reference then finds booked)."""
    tally = _compare_every_wake(monkeypatch)
    sc, m = _market("community", 2)
    dealers = [a for a in m.agents.values() if type(a) is StorageDealer]
    assert dealers
    for a in dealers:
        a.reserve_kwh = np.float32(a.reserve_kwh)
    m.run_until(14 * 3600)
    assert tally["StorageDealer"] > 20
    assert tally["handed back"] >= tally["StorageDealer"] - 5  # (early wake-ups: no samples)
    assert m.trades


def test_the_storage_core_reads_others_best_beside_a_quote_it_cannot_read(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A resting quote that is not a record of the core's exchange (a plain object with the
    record's fields, as a user's wrapper might hold): the core asks the agent's own
    ``others_best`` for that slot and decides as the reference."""
    tally = _compare_every_wake(monkeypatch)
    sc, m = _market("community", 4)
    m.run_until(10 * 3600)
    [dealer] = [a for a in m.agents.values() if type(a) is StorageDealer]
    live = [(key, o) for key, o in dealer.quotes.items() if o.status is Status.RESTING]
    assert live, "the dealer quotes by mid-morning"
    key, o = live[0]
    dealer.quotes[key] = SimpleNamespace(**{  # not a record the core can read
        f: getattr(o, f) for f in ("order_id", "side", "price", "rate", "status", "first_slot",
                                   "filled")})
    assert dealer.quotes[key] is not o and dealer.quotes[key].status is Status.RESTING
    asked = []  # the agent's others_best, called from the compiled decision
    others_best = SlotTrader.others_best

    def counted(market: Any, slot: int, side: Side, own: Any) -> Any:
        if _core.COMPILED_AGENTS:
            asked.append((slot, side))
        return others_best(market, slot, side, own)

    monkeypatch.setattr(StorageDealer, "others_best", staticmethod(counted))
    before = tally["StorageDealer"]
    m.run_until(11 * 3600)
    assert tally["StorageDealer"] > before
    assert tally["handed back"] == 0
    assert (key[0], key[1]) in asked


@pytest.mark.parametrize("how", ["plant class", "float32 markup"])
def test_the_plant_core_hands_back_for_a_cost_curve_or_number_it_does_not_replicate(
        monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    """The plant core computes ``ProvisionPlant``'s own marginal cost on plain doubles: a plant
    subclass with its own cost curve, or a markup given as a numpy float32, sends every plant
    wake-up to the reference, which decides (with the other cost curve)."""

    class Steeper(ProvisionPlant):
        def marginal_cost(self, q_kw: float) -> float:
            return 2 * super().marginal_cost(q_kw)

    tally = _compare_every_wake(monkeypatch)
    sc, m = _market("community", 3)
    plants = [a for a in m.agents.values() if type(a) is ProvisionPlantAgent]
    assert plants
    for a in plants:
        if how == "plant class":
            a.plant = Steeper(**{f.name: getattr(a.plant, f.name)
                                 for f in dataclasses.fields(a.plant)})
        else:
            a.markup = np.float32(a.markup)  # type: ignore[assignment]
    m.run_until(14 * 3600)
    assert tally["ProvisionPlantAgent"] > 20
    assert tally["handed back"] == tally["ProvisionPlantAgent"]
    assert any(t.seller in {a.owner for a in plants} for t in m.trades), "the plants sold"


def test_the_grid_core_hands_back_for_a_quote_it_cannot_read(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A standing quote that is not a record of the core's exchange: the grid core changes
    nothing and hands back; the reference tops up as always."""
    tally = _compare_every_wake(monkeypatch)
    sc, m = _market("community", 5)
    m.run_until(10 * 3600)
    [grid] = [a for a in m.agents.values() if type(a) is GridAgent]
    key, o = max((k, o) for k, o in grid.quotes.items()  # the farthest: open for hours
                 if o.status is Status.RESTING)
    grid.quotes[key] = SimpleNamespace(order_id=o.order_id, rate=0,  # type: ignore[assignment]
                                       status=Status.RESTING)
    before = tally["GridAgent"], tally["handed back"]
    m.run_until(11 * 3600)
    assert tally["GridAgent"] > before[0]
    assert tally["handed back"] - before[1] == tally["GridAgent"] - before[0]


# -- the newsvendor prosumer (a strong baseline: the intermittent core with its own target) ---
def _newsvendor_market(sc: Scenario, seed: int) -> Market:
    """The scenario's population with every intermittent prosumer a newsvendor."""
    population = build_population(sc)
    for owner, agent in list(population.items()):
        if type(agent) is IntermittentProsumer:
            population[owner] = make_agent(sc.spec(owner), sc, "newsvendor")  # type: ignore[assignment]
    m = Market(sc, population)
    m.reset(seed)
    return m


@pytest.mark.parametrize("scenario,mode,seed", [
    ("community", None, 3),       # single price: the median plus the battery's buffer
    ("community", "dual", 5),
    ("community", "curtail", 6),  # ratio ~0.03: households buy well above their forecast
    ("toy", "dual", 1),           # flat tariffs
])
def test_every_newsvendor_wake_up_decides_as_the_reference(
        monkeypatch: pytest.MonkeyPatch, scenario: str, mode: str | None, seed: int) -> None:
    tally = _compare_every_wake(monkeypatch)  # NewsvendorProsumer.act calls the checked act
    sc = make_scenario(scenario) if mode is None else _with_mode(scenario, mode)
    m = _newsvendor_market(sc, seed)
    sellers = [a for a in m.agents.values() if type(a) is NewsvendorProsumer]
    assert sellers and all(isinstance(a._compiled(m.view).core, _core.NewsvendorCore)
                           for a in sellers)
    m.run()
    assert m.trades
    assert tally["handed back"] == 0
    assert tally["NewsvendorProsumer"] > 100  # its wake-ups, each checked
    assert tally["decided"] >= tally["NewsvendorProsumer"], "the cores decided them"
    if scenario == "community":
        assert any(a.battery is not None for a in sellers), "the buffer path is covered"


def test_a_newsvendor_with_a_parameter_it_cannot_hold_goes_to_the_reference(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A numpy float32 ratio clip (the reference's arithmetic would be float32's) and a prior
    that is not an int: the core hands back, the reference decides (the same instructions)."""
    tally = _compare_every_wake(monkeypatch)
    sc = make_scenario("community")
    m = _newsvendor_market(sc, 7)
    sellers = [a for a in m.agents.values() if type(a) is NewsvendorProsumer]
    sellers[0].min_ratio = np.float32(0.01)  # type: ignore[assignment]
    sellers[1].voll = 3000  # type: ignore[assignment]  (an int)
    m.run_until(sc.schedule.first_slot * sc.schedule.slot_len + 3 * 3600)
    assert tally["handed back"] > 0 and tally["decided"] > tally["handed back"]



def test_the_cores_build_the_agent_api_s_own_instruction_records() -> None:
    """The cores build instruction records themselves from templates the agent API's
    functions returned, field for field; a constructor that is not the API's own is called."""
    from rex_env._core import _cexchange
    from rex_env.sim import agent_api as api

    got = _cexchange.instruction_templates(api.submit, api.cancel, api.modify)
    assert got is not None
    cls, t_cancel, t_modify, t_submit, limit, market = got
    assert cls is api.Instruction
    assert t_cancel == tuple(api.cancel(0)) and t_modify == tuple(api.modify(0))
    assert t_submit == tuple(api.submit(Side.BUY, 0, 0, 1))
    assert (limit, market) == (api.submit(Side.BUY, 0, 0, 1).kind,
                               api.submit(Side.BUY, 0, None, 1).kind)

    def my_submit(*args: Any) -> Any:  # e.g. a researcher's wrapper that counts
        return api.submit(*args)

    assert _cexchange.instruction_templates(my_submit, api.cancel, api.modify) is None
    assert _cexchange.instruction_templates(api.submit, api.cancel, lambda *a: None) is None
