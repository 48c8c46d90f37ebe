"""Whole simulated days (SPEC §3, §9, §11): accounting invariants, lifecycle, determinism,
invalid instructions and private information.

Every check recomputes what it can from independent records: positions and cash from the
trade list, actual rates from the prosumers' own realisations (recorded by wrapping
:meth:`Prosumer.realize`), lifecycle from probes the test schedules into the kernel.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from agents import build_population
from rex_env.exchange import Order, Phase, Reason, Report, Side, Status, Trade
from rex_env.scenarios import Scenario, make_scenario
from rex_env.sim.agent_api import (
    Agent,
    Instruction,
    MarketView,
    OwnerView,
    cancel,
    modify,
    submit,
)
from rex_env.sim.kernel import Prio
from rex_env.sim.market import Market
from rex_env.sim.prosumer import Realized
from rex_env.spec.settlement import SettlementConfig

MODES = ("single", "dual", "curtail")
TERMINAL = {Status.FILLED, Status.CANCELLED, Status.EXPIRED, Status.KILLED}


# -- running a day with recorders -------------------------------------------------------------


@dataclass
class Day:
    """A finished day and what the recorders saw."""

    market: Market
    realized: dict[tuple[str, int], tuple[float, Realized]] = field(default_factory=dict)
    settled: Counter[int] = field(default_factory=Counter)
    phases: list[tuple[str, int, Phase | None, int]] = field(default_factory=list)


def instrument(m: Market) -> Day:
    """Wrap the prosumers' realisations and the ledger, and probe the lifecycle."""
    day = Day(m)
    for owner, p in m.prosumers.items():
        inner = p.realize

        def realize(slot: int, reserved: float, _o: str = owner, _f: Any = inner) -> Realized:
            r = _f(slot, reserved)
            assert (_o, slot) not in day.realized, "a slot realised twice"
            day.realized[(_o, slot)] = (reserved, r)
            return r

        p.realize = realize  # type: ignore[method-assign]
    ledger_add = m.ledger.add

    def add(settlement: Any, deliveries: Any = None, consumption_price: Any = None,
            feed_in_price: Any = None) -> None:
        day.settled[settlement.slot] += 1
        ledger_add(settlement, deliveries, consumption_price, feed_in_price)

    m.ledger.add = add  # type: ignore[method-assign]
    s = m.schedule

    def probe(t: int, arg: tuple[str, int]) -> None:
        what, slot = arg
        book = m.exchange.books.get(slot)
        resting = 0 if book is None else len(book.bid_keys) + len(book.ask_keys)
        day.phases.append((what, slot, m.exchange.phase(slot), resting))

    for k in s.slots:
        if s.open_time(k) > 0:
            m.kernel.schedule(s.open_time(k) - 1, Prio.INFO, probe, ("before_open", k))
        m.kernel.schedule(s.open_time(k), Prio.INFO, probe, ("open", k))
        m.kernel.schedule(s.uncross_time(k), Prio.INFO, probe, ("uncross", k))
        m.kernel.schedule(s.close_time(k), Prio.INFO, probe, ("close", k))
    return day


def new_market(scenario: Scenario | str, agents: dict[str, Agent] | None = None) -> Market:
    sc = make_scenario(scenario)
    return Market(sc, build_population(sc) if agents is None else agents)


def run_day(scenario: Scenario | str, seed: int | None = 0,
            agents: dict[str, Agent] | None = None, market: Market | None = None) -> Day:
    m = market if market is not None else new_market(scenario, agents)
    m.reset(seed)
    day = instrument(m)
    m.run()
    return day


def with_mode(name: str, mode: str) -> Scenario:
    sc = make_scenario(name)
    return sc.replace(settlement=SettlementConfig(mode=mode, scarcity_adder=2000.0))


def fingerprint(m: Market) -> tuple[list[Trade], list[dict[str, Any]]]:
    recs = [r.as_dict() for k in sorted(m.settlements) for r in m.settlements[k].values()]
    return list(m.trades), recs


# -- the invariants ---------------------------------------------------------------------------


def check_day(day: Day) -> None:
    """Every accounting and lifecycle invariant of a finished day."""
    m = day.market
    s, g = m.schedule, m.grid
    slots = set(s.slots)
    owners = set(m.scenario.owners)
    assert m.done and m.now == s.horizon

    # every traded slot settled exactly once, nothing else settled
    assert set(day.settled) == slots and set(day.settled.values()) == {1}
    assert set(m.ledger.slots) == slots and m.ledger.unsettled(slots) == []
    assert set(m.settlements) == slots
    assert {k for _, k in day.realized} == slots
    assert set(day.realized) == {(o, k) for o in m.prosumers for k in slots}

    # positions and cash, recomputed from the trade list
    pos: dict[tuple[int, str], int] = defaultdict(int)
    notional: dict[tuple[int, str], int] = defaultdict(int)
    ids = [t.trade_id for t in m.trades]
    assert ids == list(range(1, len(ids) + 1))
    for t in m.trades:
        assert t.slot in slots and t.rate > 0
        assert s.uncross_time(t.slot) <= t.time < s.close_time(t.slot)
        if t.aggressor == "auction":  # the opening call auction trades at its uncross
            assert t.time == s.uncross_time(t.slot)
        pos[(t.slot, t.buyer)] += t.rate
        pos[(t.slot, t.seller)] -= t.rate
        notional[(t.slot, t.buyer)] -= t.price * t.rate
        notional[(t.slot, t.seller)] += t.price * t.rate
    for k in slots:
        book = m.exchange.books[k]
        assert sum(book.positions.values()) == 0  # positions sum to zero per slot
        assert sum(book.notional.values()) == 0  # trade cash sums to zero per slot
        for o in owners:
            assert book.positions.get(o, 0) == pos[(k, o)]
            assert book.notional.get(o, 0) == notional[(k, o)]
        recs = m.settlements[k]
        assert set(recs) == owners
        assert math.fsum(r.trade_cash for r in recs.values()) == pytest.approx(0.0, abs=1e-9)
        sys_imb = math.fsum(r.imbalance_kwh for r in recs.values())
        assert m.ledger.slots[k].system_imbalance_kwh == pytest.approx(sys_imb, abs=1e-9)
        for o, r in recs.items():
            reserved, real = day.realized[(o, k)]
            assert r.position_kw == pytest.approx(g.rate(pos[(k, o)]), abs=1e-12)
            assert r.reserved_kw == pytest.approx(-g.rate(pos[(k, o)]), abs=1e-12)
            assert reserved == pytest.approx(r.reserved_kw, abs=1e-12)
            assert r.trade_cash == pytest.approx(g.cash(notional[(k, o)]), abs=1e-12)
            assert r.actual_kw == real.net_kw
            # energy closes: reserved + imbalance = actual
            assert r.reserved_kwh + r.imbalance_kwh == pytest.approx(r.actual_kwh, abs=1e-9)
            assert r.imbalance_cash == pytest.approx(r.imbalance_price * r.imbalance_kwh / 1000)
            if m.scenario.settlement.mode == "curtail":
                assert r.imbalance_cash == 0.0
                assert r.unserved_kwh == pytest.approx(max(-r.imbalance_kwh, 0.0))
                assert r.spilled_kwh == pytest.approx(max(r.imbalance_kwh, 0.0))
            if m.scenario.spec(o).external:
                assert r.imbalance_kwh == pytest.approx(0.0, abs=1e-9)
    # the running accounts agree with the settlements
    total_cash = 0.0
    for o in owners:
        a = m.accounts[o]
        total_cash += a.trade_cash
        assert a.trade_cash == pytest.approx(
            math.fsum(m.settlements[k][o].trade_cash for k in slots), abs=1e-9)
        assert a.imbalance_cash == pytest.approx(
            math.fsum(m.settlements[k][o].imbalance_cash for k in slots), abs=1e-9)
        assert a.n_slots == len(slots) and m.ledger.accounts[o] is a
    assert total_cash == pytest.approx(0.0, abs=1e-9)  # trade cash sums to zero

    # every order ended; every lot it offered is accounted for
    for o in m.exchange.orders.values():
        assert o.status in TERMINAL, o
        assert o.rate == 0
        if not o.is_block:
            assert o.offered == o.filled + o.removed, o

    # lifecycle, as the probes saw it
    seen = {(what, k): (ph, resting) for what, k, ph, resting in day.phases}
    call = s.call_len > 0
    for k in slots:
        if ("before_open", k) in seen:
            assert seen[("before_open", k)][0] is Phase.PENDING
        assert seen[("open", k)][0] is (Phase.CALL if call else Phase.CONTINUOUS)
        assert seen[("uncross", k)][0] is Phase.CONTINUOUS
        assert seen[("close", k)] == (Phase.CLOSED, 0)  # closed and empty at the gate
    for k in range(s.first_slot):
        assert m.exchange.phase(k) is Phase.CLOSED


# -- whole days -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def toy_days() -> list[Day]:
    return [run_day("toy", seed) for seed in range(4)]


def test_toy_days_keep_every_invariant(toy_days: list[Day]) -> None:
    for day in toy_days:
        check_day(day)
    assert all(day.market.trades for day in toy_days)
    assert any(t.aggressor == "auction" for d in toy_days for t in d.market.trades)
    assert any(o.status is Status.EXPIRED for d in toy_days
               for o in d.market.exchange.orders.values())


@pytest.mark.parametrize("mode", MODES)
def test_toy_day_in_every_settlement_mode(mode: str) -> None:
    day = run_day(with_mode("toy", mode), seed=5)
    check_day(day)
    assert {s.mode for s in day.market.ledger.slots.values()} == {mode}


@pytest.mark.parametrize("mode", MODES)
def test_community_day_in_every_settlement_mode(mode: str) -> None:
    day = run_day(with_mode("community", mode), seed=1)
    check_day(day)
    m = day.market
    assert len(m.trades) > 100
    assert {s.mode for s in m.ledger.slots.values()} == {mode}
    if mode == "dual":
        for st in m.ledger.slots.values():
            if st.traded:
                assert st.price_short >= st.high and st.price_surplus <= st.low  # type: ignore


def test_toy_with_another_timing_and_no_call_phase() -> None:
    base = make_scenario("toy")
    sched = type(base.schedule)(slot_len=600, n_slots=10, open_lead=5000, gate_lead=300,
                                call_len=0)
    from rex_env.exchange import Grid

    sc = base.replace(schedule=sched, grid=Grid(slot_len=600))
    day = run_day(sc, seed=2)
    check_day(day)
    assert not any(t.aggressor == "auction" for t in day.market.trades)


# -- determinism ------------------------------------------------------------------------------


def test_same_seed_same_day_different_seed_different_day(toy_days: list[Day]) -> None:
    again = run_day("toy", 0)
    assert fingerprint(again.market) == fingerprint(toy_days[0].market)
    prints = [fingerprint(d.market) for d in toy_days]
    assert all(a != b for i, a in enumerate(prints) for b in prints[i + 1:])


def test_same_seed_same_community_day() -> None:
    sc = make_scenario("community")
    a, b = new_market(sc), new_market(sc)
    for m in (a, b):
        m.reset(3)
        m.run_until(6 * 3600)
    assert a.trades == b.trades and a.trades
    assert [o.__repr__() for o in a.exchange.orders.values()] == [
        o.__repr__() for o in b.exchange.orders.values()]


def test_an_unseeded_reset_continues_the_stream() -> None:
    m = new_market("toy")
    m.reset(7)
    m.run()
    first = fingerprint(m)
    m.reset()
    m.run()
    second = fingerprint(m)
    assert second != first  # a new episode, not a replay
    m2 = new_market("toy")
    m2.reset(7)
    m2.run()
    assert fingerprint(m2) == first
    m2.reset()
    m2.run()
    assert fingerprint(m2) == second  # ... and reproducible from the first seed


def test_reset_with_a_generator_equals_reset_with_its_seed() -> None:
    a, b = new_market("toy"), new_market("toy")
    a.reset(np.random.default_rng(11))
    a.run()
    b.reset(11)
    b.run()
    assert fingerprint(a) == fingerprint(b)


@pytest.mark.parametrize("name", ["toy", "community"])
def test_a_seeded_reset_replays_the_day_whatever_came_before(name: str) -> None:
    """Agents and views forget everything in reset (e.g. a round-robin cursor)."""
    if name == "community":  # part of a day is enough to see a leak
        fresh, m = new_market(name), new_market(name)
        fresh.reset(11)
        fresh.run_until(4 * 3600)
        m.reset(3)
        m.run_until(3 * 3600 + 17)
        m.reset(11)
        m.run_until(4 * 3600)
        assert fingerprint(m) == fingerprint(fresh) and m.trades
        return
    fresh = run_day(name, 11).market
    m = new_market(name)
    m.reset(3)
    m.run()
    check_day(run_day("toy", 11, market=m))
    assert fingerprint(m) == fingerprint(fresh)


def test_stopping_at_decision_epochs_changes_nothing() -> None:
    plain = new_market("toy")
    plain.reset(4)
    plain.run()
    m = new_market("toy")
    m.reset(4)
    t = 0
    while not m.done:
        t += 450
        m.run_until(t)
        assert m.now == t
        if t >= m.schedule.horizon:
            m.run()
    assert fingerprint(m) == fingerprint(plain)
    assert m.kernel.processed == plain.kernel.processed


def test_the_last_settled_slot_is_kept() -> None:
    m = new_market("toy")
    for seed in (1, 2):  # (a reset forgets it)
        m.reset(seed)
        assert m.last_settled is None
        seen = 0
        for t in range(900, m.schedule.horizon + 900, 900):
            m.run_until(t)
            assert m.last_settled == (max(m.settlements) if m.settlements else None)
            seen += m.last_settled is not None
        assert seen >= 3 and m.last_settled == m.schedule.end_slot - 1


# -- wake-ups -----------------------------------------------------------------------------


class Clockwork(Agent):
    """Records its wake-up times; ``plan(now)`` says when to wake next."""

    def __init__(self, owner: str, plan: Any) -> None:
        self.owner = owner
        self.plan = plan
        self.times: list[int] = []

    def reset(self, rng: np.random.Generator) -> None:
        self.times = []

    def next_wake(self, now: int, rng: np.random.Generator) -> int | None:
        return self.plan(now, rng)

    def act(self, market: MarketView, me: OwnerView) -> Iterable[Instruction]:
        self.times.append(market.now)
        return []


def test_periodic_poisson_and_stopping_wake_ups() -> None:
    sc = make_scenario("toy")
    last = sc.schedule.last_close
    periodic = Clockwork("house00", lambda now, rng: 0 if now < 0 else now + 450)
    poisson = Clockwork("house01", lambda now, rng: max(now, 0) + 1 + int(rng.exponential(200)))
    stubborn = Clockwork("wind", lambda now, rng: max(now, 0))  # asks for "now" again
    quitter = Clockwork("plant", lambda now, rng: 0 if now < 0 else None if now >= 1000
                        else now + 500)
    m = Market(sc, {a.owner: a for a in (periodic, poisson, stubborn, quitter)})
    m.reset(0)
    m.run()
    assert periodic.times == list(range(0, last, 450))
    gaps = np.diff(poisson.times)
    assert poisson.times[0] >= 1 and (gaps >= 1).all() and 100 < gaps.mean() < 300
    assert poisson.times[-1] < last
    assert stubborn.times == list(range(0, last))  # never twice in one second
    assert quitter.times == [0, 500, 1000]
    first = list(poisson.times)
    m2 = Market(sc, {a.owner: a for a in (periodic, poisson, stubborn, quitter)})
    m2.reset(0)
    m2.run()
    assert poisson.times == first  # the Poisson draws come from the seeded generator


# -- invalid instructions ---------------------------------------------------------------------


class GarbageAgent(Agent):
    """Sends one kind of invalid instruction per wake-up (and a valid order now and then)."""

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.reports: list[tuple[Instruction, Report]] = []
        self.wakes = 0

    def reset(self, rng: np.random.Generator) -> None:
        self.reports = []
        self.wakes = 0

    def next_wake(self, now: int, rng: np.random.Generator) -> int | None:
        return 0 if now < 0 else now + 97

    def act(self, market: MarketView, me: OwnerView) -> Iterable[Instruction]:
        self.wakes += 1
        s = market.schedule
        open_ = market.open_slots()
        slot = open_[0] if len(open_) else s.first_slot
        g = market.grid
        far = s.end_slot - 1
        menu: list[Instruction] = [
            submit(Side.BUY, slot, int(g.max_ticks) + 1, 10),  # price out of bounds
            submit(Side.SELL, slot, int(g.min_ticks) - 50, 10),
            submit(Side.BUY, 10**6, 1000, 10),  # unknown slot
            submit(Side.BUY, -3, 1000, 10),  # unknown slot (negative)
            submit(Side.BUY, s.first_slot - 1, 1000, 10),  # closed warm-up slot
            submit(Side.SELL, slot, 1000, -5),  # negative rate
            submit(Side.SELL, slot, 1000, 0),  # zero rate
            submit(Side.BUY, slot, 1000, 10, last_slot=slot - 1),  # last < first
            cancel(10**9),  # unknown order
            modify(10**9, price=1000),  # unknown order
            modify(10**9),  # neither price nor rate
            submit(Side.BUY, far, 1000, 10),  # a far slot, not open yet (most of the day)
            submit(Side.BUY, slot, None, 10),  # market order: rejected in a call phase
            submit(Side.BUY, slot, 900, 5),  # valid
        ]
        return [menu[self.wakes % len(menu)]]

    def on_reports(self, reports: list[tuple[Instruction, Report]]) -> None:
        self.reports.extend(reports)


def test_invalid_instructions_are_rejected_reported_and_the_day_completes() -> None:
    sc = make_scenario("toy")
    agents = build_population(sc)
    bad = GarbageAgent("noise0")
    agents["noise0"] = bad
    day = run_day(sc, 3, agents=agents)
    check_day(day)
    m = day.market
    assert bad.wakes > 50 and len(bad.reports) == bad.wakes
    reasons = Counter(rep.reason for _, rep in bad.reports if rep.status is Status.REJECTED)
    for want in (Reason.PRICE_OUT_OF_BOUNDS, Reason.UNKNOWN_SLOT, Reason.SLOT_CLOSED,
                 Reason.NON_POSITIVE_RATE, Reason.BAD_FIELD, Reason.UNKNOWN_ORDER,
                 Reason.SLOT_NOT_OPEN):
        assert reasons[want] > 0, want
    for _, rep in bad.reports:  # every rejection says why and changes nothing
        if rep.status is Status.REJECTED:
            assert rep.reason is not None and rep.order is None and not rep.trades
    assert sum(m.accounts["noise0"].rejections.values()) == sum(reasons.values())
    assert any(rep.status is not Status.REJECTED for _, rep in bad.reports)  # valid ones work


def test_a_learner_acting_through_execute_gets_reports() -> None:
    sc = make_scenario("toy")
    m = Market(sc, build_population(sc, exclude=("house01",)))
    m.reset(0)
    s = m.schedule
    k = s.first_slot
    m.run_until(s.uncross_time(k) + 60)
    out = m.execute("house01", [submit(Side.BUY, k, 1000, 20), submit(Side.BUY, k, 1000, 0),
                                cancel(12345)])
    assert [rep.status for _, rep in out][1:] == [Status.REJECTED, Status.REJECTED]
    assert out[0][1].status in (Status.RESTING, Status.FILLED)
    assert [rep.reason for _, rep in out][1:] == [Reason.NON_POSITIVE_RATE,
                                                  Reason.UNKNOWN_ORDER]
    assert m.accounts["house01"].rejections == {"non_positive_rate": 1, "unknown_order": 1}
    m.run()
    assert m.done and len(m.settlements) == s.n_slots


def test_an_unknown_op_is_a_bad_field_rejection() -> None:
    sc = make_scenario("toy")
    m = Market(sc, build_population(sc, exclude=("house01",)))
    m.reset(0)
    m.run_until(3600)
    [(_, rep)] = m.execute("house01", [Instruction("explode")])
    assert rep.reason is Reason.BAD_FIELD
    assert rep.status is Status.REJECTED


def test_prices_from_agents_are_coerced_or_rejected_never_raised() -> None:
    """Numpy integers are whole ticks; a fractional or non-finite price is a rejection."""
    sc = make_scenario("toy")
    m = Market(sc, build_population(sc, exclude=("house01",)))
    m.reset(0)
    k = m.schedule.first_slot
    m.run_until(m.schedule.uncross_time(k) + 60)
    ins = [Instruction("submit", None, Side.BUY, k, p, 10)  # type: ignore[arg-type]
           for p in (100.5, float("nan"), "100", np.int64(500))]
    reps = [r for _, r in m.execute("house01", ins)]
    assert [r.reason for r in reps[:3]] == [Reason.OFF_TICK, Reason.BAD_FIELD, Reason.BAD_FIELD]
    assert reps[3].ok and reps[3].order is not None and type(reps[3].order.price) is int


def test_metrics_and_ledger_use_the_scenarios_slot_length_and_rules() -> None:
    from rex_env.exchange import Grid
    from rex_env.spec.schedule import SlotSchedule

    sc = with_mode("toy", "dual").replace(
        schedule=SlotSchedule(slot_len=600, n_slots=6, open_lead=5000, gate_lead=300),
        grid=Grid(slot_len=600))
    m = Market(sc, build_population(sc))
    m.reset(0)
    m.run()
    st = m.metrics.slot(sc.schedule.first_slot)
    assert st.volume > 0
    assert st.volume_kwh == pytest.approx(st.volume * 600 / 3600)
    assert m.ledger.config == sc.settlement and m.ledger.grid == sc.grid


def test_the_lob3d_view_shows_an_order_that_rested_in_the_same_second() -> None:
    sc = make_scenario("toy")
    m = Market(sc, {})
    m.reset(0)
    k = sc.schedule.first_slot
    m.run_until(sc.schedule.uncross_time(k) + 10)
    assert np.isnan(m.view.lob3d().best_bid[0])
    [(_, rep)] = m.execute("house00", [submit(Side.BUY, k, 900, 10)])
    assert rep.status is Status.RESTING and not rep.trades
    assert m.view.lob3d().best_bid[0] == 900


# -- private information ----------------------------------------------------------------------


class Spy(Agent):
    """A trading agent that records what its views show it."""

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.working: list[Order] = []
        self.public: list[Any] = []
        self._n = 0

    def next_wake(self, now: int, rng: np.random.Generator) -> int | None:
        return 0 if now < 0 else now + 120

    def act(self, market: MarketView, me: OwnerView) -> Iterable[Instruction]:
        self._n += 1
        self.working.extend(me.working())
        slots = market.open_slots()
        for k in slots:
            self.public.extend([market.best_bid(k), market.best_ask(k), market.last_price(k),
                                market.vwap(k), market.traded_volume(k), market.phase(k),
                                *market.depth(k, Side.BUY, 3), *market.depth(k, Side.SELL, 3)])
        lob = market.lob3d()
        self.public.append(lob)
        if not len(slots):
            return []
        k = slots[self._n % len(slots)]
        side = Side.BUY if self._n % 2 else Side.SELL
        return [submit(side, k, 800 + 10 * (self._n % 7), 3)]


def _public_values(x: Any) -> Iterable[Any]:
    if isinstance(x, tuple):
        for y in x:
            yield from _public_values(y)
    elif hasattr(x, "__dataclass_fields__"):
        for name in x.__dataclass_fields__:
            yield getattr(x, name)
    else:
        yield x


def test_views_never_show_other_owners_orders() -> None:
    sc = make_scenario("toy")
    agents = build_population(sc)
    spy = Spy("noise0")
    agents["noise0"] = spy
    day = run_day(sc, 0, agents=agents)
    m = day.market
    assert spy.working and all(o.owner == "noise0" for o in spy.working)
    others = {o.order_id for o in m.exchange.orders.values() if o.owner != "noise0"}
    assert others and not others & {o.order_id for o in spy.working}
    for v in spy.public:  # public data: numbers and phases, never orders, trades or names
        for x in _public_values(v):
            if isinstance(x, np.ndarray):
                assert x.dtype.kind in "fiu", x.dtype
            else:
                assert x is None or isinstance(x, (int, float, Phase)), x
    # an OwnerView reports only its owner's positions
    view = m.owner_views["noise0"]
    for k in sc.schedule.slots:
        assert view.position(k) == m.exchange.books[k].positions.get("noise0", 0)


def test_no_public_attribute_of_a_view_reaches_the_exchange() -> None:
    from rex_env.exchange import Exchange

    m = new_market("toy")
    m.reset(0)
    views: list[Any] = [m.view, m.owner_views["house00"]]
    for v in views:
        names = set(getattr(type(v), "__slots__", ())) | set(vars(v) if hasattr(v, "__dict__")
                                                             else {})
        for name in names:
            if name.startswith("_"):
                continue
            assert not isinstance(getattr(v, name), Exchange), (type(v).__name__, name)


# -- construction errors ----------------------------------------------------------------------


def test_market_construction_errors_say_what_is_allowed() -> None:
    sc = make_scenario("toy")
    with pytest.raises(ValueError, match=r"agents for unknown owners \['ghost'\]; the scenario "
                                         r"has \[.*'house00'.*\]"):
        Market(sc, {"ghost": GarbageAgent("ghost")})
    with pytest.raises(ValueError, match="sample_every must be > 0 seconds, got 0"):
        Market(sc, {}, sample_every=0)


def test_a_passive_market_settles_every_slot_without_trades() -> None:
    day = run_day("toy", 0, agents={})
    check_day(day)
    m = day.market
    assert not m.trades
    for recs in m.settlements.values():
        for r in recs.values():
            assert r.position_kw == 0.0
            assert r.imbalance_kwh == pytest.approx(r.actual_kwh)
