"""The market's compiled wake-up (``rex_env._core.WakeLoop``, issue 12) against
``Market._on_wake``, the reference: two markets of the same scenario and seed, one waking its
intermittent prosumers, ZI traders, plants, grid connection and storage dealers in C, one in
Python, must hold
the same event queue (times, priorities, tie-break draws, sequence numbers, owners), the same
generator states, agents (private generators, working orders, cursors, checkpoints, a storage
dealer's quotes, fills, cash and price memory), trades,
accounts and metrics at many moments of whole days — also when the switch flips mid-day, when a
market subclass counts its ``execute`` calls, when an agent's generator is not a plain
``random.Random``, and across a copy. Classes that merely inherit an agent keep the Python wake-
up; a declaration that matches no core is an error."""

from __future__ import annotations

import copy
import pickle
import random
from collections.abc import Iterable
from typing import Any

import pytest

from agents import build_population
from agents.grid import GridAgent
from agents.intermittent import IntermittentProsumer
from agents.plant import ProvisionPlantAgent
from agents.storage import StorageDealer
from agents.zi import ZITrader
from rex_env import _core
from rex_env.exchange import Report, Status
from rex_env.scenarios import make_scenario
from rex_env.sim.agent_api import Instruction
from rex_env.sim.kernel import Prio
from rex_env.sim.market import Market
from tests.compiled import figures

pytestmark = pytest.mark.skipif(not _core.AVAILABLE, reason="C core not built")

WAKE_CLASSES = (IntermittentProsumer, ZITrader, ProvisionPlantAgent, GridAgent, StorageDealer)
"""The classes whose whole wake-up runs compiled."""


@pytest.fixture(autouse=True)
def compiled_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_core, "COMPILED_AGENTS", True)


class PythonWake(Market):
    """The reference: a subclass with its own ``_on_wake`` gets no compiled wake-up."""

    def _on_wake(self, t: int, owner: str) -> None:
        super()._on_wake(t, owner)


class CountingMarket(Market):
    """A market whose ``execute`` counts instructions (``benchmarks/bench_sim.py`` does)."""

    messages = 0

    def execute(self, owner: str, instructions: Iterable[Instruction]
                ) -> list[tuple[Instruction, Report]]:
        out = super().execute(owner, instructions)
        self.messages += len(out)
        return out


def _agent_state(a: Any) -> Any:
    return (type(a).__name__, a._py.getstate() if hasattr(a, "_py") else None,
            sorted((k, o.order_id) for k, o in getattr(a, "working", {}).items()),
            getattr(a, "_cursor", None), getattr(a, "tau_s", None),
            list(getattr(a, "_checkpoints", [])), sorted(getattr(a, "_touched", ())),
            sorted((k[0], k[1].value, o.order_id) for k, o in getattr(a, "quotes", {}).items()
                   if type(a) in (GridAgent, StorageDealer)),
            _dealer_state(a) if type(a) is StorageDealer else None)


def _dealer_state(a: StorageDealer) -> Any:
    """What a storage dealer's wake-up keeps beyond its quotes: the cash and lots accounted
    of its orders' fills, the closed slots' prices it remembers."""
    return (a._cash, sorted((oid, o.order_id, seen) for oid, (o, seen) in a._fills.items()),
            list(a._prices), a._next_closed, a._turnover, a._volume)


def state(m: Market) -> Any:
    """Everything a wake-up touches, comparable between two markets."""
    return {
        "now": m.kernel.now, "seq": m.kernel._seq, "processed": m.kernel.processed,
        "queue": sorted((e[0], int(e[1]), e[2], e[3], e[4].__name__, e[5])
                        for e in m.kernel._queue),
        "rng": m.rng.bit_generator.state, "next_id": m._next_id,
        "agents": {o: _agent_state(a) for o, a in sorted(m.agents.items())},
        "trades": [tuple(t) for t in m.trades],
        "accounts": {o: (a.trade_cash, a.imbalance_cash, a.fills, a.bought_kw, a.sold_kw,
                         dict(a.rejections)) for o, a in sorted(m.accounts.items())},
        "order_ids": {o: list(v.order_ids) for o, v in sorted(m.owner_views.items())},
        "metrics": figures(m.metrics.slots),
    }


def pair(name: str, seed: int, cls: type[Market] = Market) -> tuple[Market, Market]:
    sc = make_scenario(name)
    fast, ref = cls(sc, build_population(sc)), PythonWake(sc, build_population(sc))
    assert fast._wake_loop is not None and ref._wake_loop is None
    fast.reset(seed)
    ref.reset(seed)
    return fast, ref


def python_wakes(monkeypatch: pytest.MonkeyPatch) -> dict[tuple[int, str], int]:
    """Count the wake-ups ``Market._on_wake`` (Python) handles, per (market id, owner)."""
    seen: dict[tuple[int, str], int] = {}
    on_wake = Market._on_wake

    def counted(self: Market, t: int, owner: str) -> None:
        seen[id(self), owner] = seen.get((id(self), owner), 0) + 1
        on_wake(self, t, owner)

    monkeypatch.setattr(Market, "_on_wake", counted)
    return seen


@pytest.mark.parametrize("name,seed", [("toy", 0), ("community", 1), ("community", 7),
                                       ("town", 2)])
def test_whole_days_wake_as_the_reference(monkeypatch: pytest.MonkeyPatch, name: str,
                                          seed: int) -> None:
    seen = python_wakes(monkeypatch)
    fast, ref = pair(name, seed)
    compiled = set(fast._wake_loop.compiled_owners)
    assert {o for o, a in fast.agents.items()
            if type(a) in WAKE_CLASSES} == compiled
    assert compiled, "the population has agents whose wake-up runs compiled"
    for t in range(900, fast.schedule.horizon, 5_400):
        fast.run_until(t)
        ref.run_until(t)
        assert state(fast) == state(ref), f"t={t}"
    fast.run()
    ref.run()
    assert state(fast) == state(ref)
    assert fast.settlements.keys() == ref.settlements.keys()
    for k in fast.settlements:
        assert fast.settlements[k] == ref.settlements[k], f"slot {k}"
    # the compiled owners never went through the Python handler in the fast market; the
    # reference woke every agent there
    assert {o for (m, o) in seen if m == id(fast)} == set(fast.agents) - compiled
    assert {o for (m, o) in seen if m == id(ref)} == set(ref.agents)
    assert sum(n for (m, o), n in seen.items() if m == id(ref) and o in compiled) > 200
    assert len(fast.trades) > 0
    if name == "community":  # the storage dealer traded: its fills' cash was kept in C
        assert any(a._cash for a in fast.agents.values() if type(a) is StorageDealer)


def test_a_storage_dealer_without_its_prosumer_cancels_as_the_reference() -> None:
    """The dealer's first checks (no prosumer, no open slot) are the reference's: it cancels
    every resting quote, and wakes on."""
    fast, ref = pair("community", 4)
    owner = next(o for o, a in fast.agents.items() if type(a) is StorageDealer)
    fast.run_until(14 * 3600)
    ref.run_until(14 * 3600)
    assert fast.agents[owner].quotes, "the dealer quotes at noon"
    for m in (fast, ref):
        m.owner_views[owner].prosumer = None
    fast.run_until(16 * 3600)
    ref.run_until(16 * 3600)
    assert state(fast) == state(ref)
    assert not fast.agents[owner].quotes
    assert not any(fast.exchange.status(o).status is Status.RESTING
                   for o in fast.owner_views[owner].order_ids)


def test_fast_market_sends_no_compiled_owner_to_python(monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    seen = python_wakes(monkeypatch)
    sc = make_scenario("community")
    m = Market(sc, build_population(sc))
    m.reset(3)
    m.run_until(6 * 3600)
    compiled = set(m._wake_loop.compiled_owners)
    woke = {o for _, o in seen}
    assert not compiled & woke, "compiled owners' wake-ups ran in Python"
    assert woke == set(m.agents) - compiled  # the agents of classes without a compiled wake-up


def test_the_switch_flipping_mid_day_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    fast, ref = pair("community", 5)
    for i, t in enumerate(range(1_800, fast.schedule.horizon, 3_600)):
        monkeypatch.setattr(_core, "COMPILED_AGENTS", i % 2 == 0)
        fast.run_until(t)
        ref.run_until(t)
        assert state(fast) == state(ref), f"t={t}"


class CountingPythonWake(CountingMarket):
    """The reference of a counting market: its own ``_on_wake`` gets the Python wake-up."""

    def _on_wake(self, t: int, owner: str) -> None:
        super()._on_wake(t, owner)


def test_a_market_subclass_s_execute_is_called() -> None:
    sc = make_scenario("community")
    fast = CountingMarket(sc, build_population(sc))
    ref = CountingPythonWake(sc, build_population(sc))
    assert fast._wake_loop is not None and ref._wake_loop is None
    for m in (fast, ref):
        m.reset(4)
        m.run()
    assert fast.messages == ref.messages > 10_000
    assert [tuple(t) for t in fast.trades] == [tuple(t) for t in ref.trades]


def test_an_agent_with_another_generator_draws_through_its_methods() -> None:
    class Recording(random.Random):
        calls = 0

        def random(self) -> float:
            Recording.calls += 1
            return super().random()

    fast, ref = pair("community", 6)
    for m in (fast, ref):
        for a in m.agents.values():
            if isinstance(a, WAKE_CLASSES):
                a._py = Recording(a._py.getrandbits(64))
    fast.run_until(8 * 3600)
    ref.run_until(8 * 3600)
    assert Recording.calls > 1_000
    assert state(fast) == state(ref)


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_copied_market_wakes_on_as_the_original(how: str) -> None:
    fast, ref = pair("toy", 3)
    fast.run_until(7 * 3600)
    ref.run_until(7 * 3600)
    twin = copy.deepcopy(fast) if how == "deepcopy" else pickle.loads(pickle.dumps(fast))
    assert twin._wake_loop is not fast._wake_loop
    assert all(e[4] is twin._wake_loop for e in twin.kernel._queue if int(e[1]) == 6)
    for m in (twin, fast, ref):
        m.run()
    assert state(twin) == state(ref) == state(fast)


def test_subclasses_inherit_no_compiled_wake_up() -> None:
    class Tweaked(IntermittentProsumer):
        def next_wake(self, now: int, rng: Any) -> int | None:
            return super().next_wake(now, rng)

    sc = make_scenario("community")
    pop = build_population(sc)
    owner = next(o for o, a in pop.items() if type(a) is IntermittentProsumer)
    pop[owner] = copy.copy(pop[owner])
    pop[owner].__class__ = Tweaked
    m = Market(sc, pop)
    assert owner not in m._wake_loop.compiled_owners
    assert len(m._wake_loop.compiled_owners) == sum(
        type(a) in WAKE_CLASSES for a in pop.values())


def test_an_agent_replaced_mid_day_wakes_as_what_it_is_now() -> None:
    class Tweaked(ZITrader):  # inherits no compiled wake-up: wakes in Python
        pass

    fast, ref = pair("community", 8)
    owner = next(o for o, a in fast.agents.items() if type(a) is ZITrader)
    fast.run_until(5 * 3600)
    ref.run_until(5 * 3600)
    for m in (fast, ref):
        m.agents[owner].__class__ = Tweaked
    assert owner not in fast._wake_loop.compiled_owners
    fast.run_until(12 * 3600)
    ref.run_until(12 * 3600)
    assert state(fast) == state(ref)
    for m in (fast, ref):
        m.agents[owner].__class__ = ZITrader
    assert owner in fast._wake_loop.compiled_owners
    fast.run()
    ref.run()
    assert state(fast) == state(ref)


@pytest.mark.parametrize("kind,core,match", [
    ("zi", "IntermittentCore", "needs COMPILED_CORE = ZICore"),
    ("intermittent", None, "needs COMPILED_CORE = IntermittentCore"),
    ("battery", "ZICore", "unknown COMPILED_WAKE 'battery'"),
    ("storage", "PlantCore", "needs COMPILED_CORE = StorageCore"),
    ("plant", "GridCore", "needs COMPILED_CORE = PlantCore"),
])
def test_a_wake_declaration_without_its_core_is_an_error(kind: str, core: str | None,
                                                         match: str) -> None:
    body: dict[str, Any] = {"COMPILED_WAKE": kind,
                            "COMPILED_CORE": None if core is None else getattr(_core, core)}
    bad = type("Bad", (IntermittentProsumer,), body)
    sc = make_scenario("toy")
    pop = build_population(sc)
    owner = next(iter(pop))
    pop[owner] = copy.copy(pop[owner])
    pop[owner].__class__ = bad
    with pytest.raises(ValueError, match=match):
        Market(sc, pop)


def test_the_python_engine_wakes_in_python(monkeypatch: pytest.MonkeyPatch) -> None:
    from rex_env.exchange import PythonExchange
    from rex_env.sim import market as market_module

    monkeypatch.setattr(market_module, "Exchange", PythonExchange)
    sc = make_scenario("toy")
    m = Market(sc, build_population(sc))
    m.reset(0)
    assert m._wake_loop is None
    assert {e[4] for e in m.kernel._queue if int(e[1]) == 6} == {m._on_wake}


def test_the_zi_next_wake_draw_is_random_s_own() -> None:
    """The wake loop draws a ZI trader's next wake-up without ``Random.expovariate``'s Python
    frame where this Python's method is the formula it replicates (checked at import, here
    asserted so the fast path is known to be taken): over 5,000 draws of two generators of one
    seed, the compiled next wake equals ``ZITrader.next_wake``'s, and the states stay equal."""
    from rex_env._core import _cexchange

    assert _cexchange._expovariate_is_ours()
    fast, ref = pair("community", 4)
    zi = [o for o, a in fast.agents.items() if type(a) is ZITrader]
    assert zi
    fast.run()
    ref.run()
    assert state(fast) == state(ref)
    a, b = random.Random(99), random.Random(99)
    for period in (1, 7, 300, 1_000_003):
        for _ in range(1_250):
            assert b.expovariate(1.0 / period) == _cexchange._expovariate(a, 1.0 / period)
    assert a.getstate() == b.getstate()


def _figures_now(m: Market) -> tuple[Any, ...]:
    """What Python code reading the market's bookkeeping sees."""
    return (m.kernel.now, m.metrics.n_trades, m.metrics.volume, len(m.trades),
            sorted((o, a.fills, a.trade_cash, a.bought_kw, a.sold_kw)
                   for o, a in m.accounts.items()))


def test_python_code_in_the_day_sees_every_trade_booked() -> None:
    """The compiled loop books its wake-ups' trades together, but before anything else runs:
    an event handler of the user's and an agent waking in Python read the same accounts,
    metrics and trade list at every moment as in the reference."""
    class Reading(ZITrader):  # inherits no compiled wake-up: wakes in Python
        def act(self, market: Any, me: Any) -> Any:
            seen[id(self)].append(_figures_now(self.market))
            return super().act(market, me)

    fast, ref = pair("community", 9)
    owner = next(o for o, a in fast.agents.items() if type(a) is ZITrader)
    seen: dict[int, list[Any]] = {}
    for m in (fast, ref):
        m.agents[owner].__class__ = Reading
        m.agents[owner].market = m  # type: ignore[attr-defined]
        seen[id(m.agents[owner])] = []
        seen[id(m)] = []

        def look(t: int, _: Any, m: Market = m) -> None:
            seen[id(m)].append(_figures_now(m))

        for t in range(1800, m.schedule.horizon, 1234):
            m.kernel.schedule(t, Prio.INFO, look)
    for t in range(3600, fast.schedule.horizon, 7200):
        fast.run_until(t)
        ref.run_until(t)
        assert _figures_now(fast) == _figures_now(ref)
    fast.run()
    ref.run()
    assert state(fast) == state(ref)
    for m_f, m_r in ((fast, ref), (fast.agents[owner], ref.agents[owner])):
        assert seen[id(m_f)] == seen[id(m_r)]
        assert len({row[1] for row in seen[id(m_f)]}) > 10  # the figures moved between looks


def test_an_error_in_a_handler_leaves_the_day_booked() -> None:
    """A handler that raises stops both loops at the same event with everything before it
    booked, the clock at its time and the count unchanged; the day then runs on alike."""
    fast, ref = pair("community", 10)

    def boom(t: int, _: Any) -> None:
        raise RuntimeError("boom")

    for m in (fast, ref):
        m.kernel.schedule(5 * 3600 + 17, Prio.INFO, boom)
    for m in (fast, ref):
        with pytest.raises(RuntimeError, match="boom"):
            m.run_until(8 * 3600)
    assert fast.kernel.now == 5 * 3600 + 17
    assert state(fast) == state(ref)
    assert _figures_now(fast) == _figures_now(ref) and fast.metrics.n_trades > 0
    fast.run()
    ref.run()
    assert state(fast) == state(ref)


def _takers(m: Market, rnd: random.Random) -> list[tuple[str, list[Instruction]]]:
    """Marketable orders of a few owners into the open slots (trades at once)."""
    from rex_env.exchange import Side
    from rex_env.sim.agent_api import submit

    slots = list(m.view.open_slots())
    out = []
    for owner in sorted(m.accounts)[:6]:
        ins = [submit(rnd.choice((Side.BUY, Side.SELL)), rnd.choice(slots), None,
                      rnd.randint(1, 40)) for _ in range(4)]
        out.append((owner, ins))
    return out


def test_deferred_booking_books_the_same_figures() -> None:
    """``Market.deferred_booking`` (the env's learners): inside the block ``execute``'s trades
    wait and are booked in order when it ends — also around an instruction batch that is not
    a plain list (booked at once after what waited), across nested blocks and around a run of
    the kernel inside the block (an agent's Python reads its fills at once there) — the same
    figures as booking each batch at once; the reports are the same too."""
    fast, ref = pair("community", 11)
    for m in (fast, ref):
        m.run_until(10 * 3600)
    rnd_f, rnd_r = random.Random(5), random.Random(5)
    traded = 0
    for step in range(30):
        batches_f, batches_r = _takers(fast, rnd_f), _takers(ref, rnd_r)
        with fast.deferred_booking():
            got = [fast.execute(o, ins if i % 3 else tuple(ins))
                   for i, (o, ins) in enumerate(batches_f)]
            if step % 5 == 0:
                with fast.deferred_booking():
                    got.append(fast.execute(*batches_f[0]))
                fast.run_until(10 * 3600 + 300 * (step + 1))
        want = [ref.execute(o, ins if i % 3 else tuple(ins))
                for i, (o, ins) in enumerate(batches_r)]
        if step % 5 == 0:
            want.append(ref.execute(*batches_r[0]))
            ref.run_until(10 * 3600 + 300 * (step + 1))
        assert [[(tuple(i), tuple(r.trades), r.reason) for i, r in reps] for reps in got] == \
            [[(tuple(i), tuple(r.trades), r.reason) for i, r in reps] for reps in want]
        assert _figures_now(fast) == _figures_now(ref), f"step {step}"
        traded += sum(len(r.trades) for reps in got for _, r in reps)
    assert traded > 100  # the takers' orders traded
    assert state(fast) == state(ref)


def test_deferred_booking_books_what_waits_when_the_block_raises() -> None:
    fast, ref = pair("community", 12)
    for m in (fast, ref):
        m.run_until(11 * 3600)
    rnd_f, rnd_r = random.Random(6), random.Random(6)
    n = fast.metrics.n_trades
    with pytest.raises(KeyError):
        with fast.deferred_booking():
            for o, ins in _takers(fast, rnd_f):
                fast.execute(o, ins)
            raise KeyError("boom")
    for o, ins in _takers(ref, rnd_r):
        ref.execute(o, ins)
    assert fast.metrics.n_trades > n
    assert _figures_now(fast) == _figures_now(ref)
