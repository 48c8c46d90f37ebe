"""The intermittent prosumer's compiled decision (``rex_env._core.IntermittentCore``, issue 12)
against its Python code, the reference: at every wake-up of whole market days both decide from
the same state, and the instructions, the working orders left and the round-robin cursor must
be equal — over the settlement modes, flat and wholesale-indexed grids, and both the grid's
quotes and configured limits as bounds. The whole-day digests of
``tests/sim/test_fingerprints.py`` pin the same equality end to end."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

import agents.intermittent as intermittent
import rex_env.sim.market as market_module
from agents import IntermittentProsumer, build_population
from rex_env import _core
from rex_env.scenarios import make_scenario
from rex_env.sim.market import Market
from rex_env.spec import Scenario, SettlementConfig

pytestmark = pytest.mark.skipif(not _core.AVAILABLE, reason="C core not built")


class _Counting:
    """Wraps a core: counts the wake-ups it decided and those it handed back (``None``)."""

    def __init__(self, core: Any, tally: dict[str, int]) -> None:
        self.core, self.tally = core, tally

    def act(self, *args: Any) -> Any:
        out = self.core.act(*args)
        self.tally["decided" if out is not None else "handed back"] += 1
        return out


def _compare_every_wake(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Make every act decide twice (reference, then compiled) and assert both agree."""
    tally = {"decided": 0, "handed back": 0, "wakes": 0, "instructions": 0}
    act, compiled = IntermittentProsumer.act, IntermittentProsumer._compiled

    def counting(self: IntermittentProsumer, market: Any) -> Any:
        core = compiled(self, market)
        return None if core is None else _Counting(core, tally)

    def both(self: IntermittentProsumer, market: Any, me: Any) -> Any:
        cursor, working = self._cursor, dict(self.working)
        monkeypatch.setattr(intermittent, "COMPILED", False)
        ref = list(act(self, market, me))
        ref_state = (self._cursor, dict(self.working))
        self._cursor, self.working = cursor, working
        monkeypatch.setattr(intermittent, "COMPILED", True)
        got = act(self, market, me)
        assert got == ref, f"{self.owner} at t={market.now}"
        assert (self._cursor, self.working) == ref_state
        tally["wakes"] += 1
        tally["instructions"] += len(got)
        return got

    monkeypatch.setattr(market_module, "Exchange", _core.Exchange)
    monkeypatch.setattr(IntermittentProsumer, "_compiled", counting)
    monkeypatch.setattr(IntermittentProsumer, "act", both)
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
    assert tally["decided"] == tally["wakes"] > 100  # toy: ~125 wake-ups, community ~8,900
    assert tally["instructions"] > 50


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
    monkeypatch.setattr(intermittent, "COMPILED", False)
    assert agent._compiled(m.view) is None

    class Tweaked(IntermittentProsumer):
        pass

    monkeypatch.setattr(intermittent, "COMPILED", True)
    sub = Tweaked("house00")
    sub.reset(m.rng)
    assert sub._compiled(m.view) is None, "a subclass may override any step: Python decides"


def test_the_python_engine_never_uses_the_core(monkeypatch: pytest.MonkeyPatch) -> None:
    from rex_env.exchange import PythonExchange
    monkeypatch.setattr(market_module, "Exchange", PythonExchange)
    sc = make_scenario("toy")
    m = Market(sc, build_population(sc))
    m.reset(0)
    assert m.view.compiled_exchange is None
    assert m.agents["house00"]._compiled(m.view) is None  # type: ignore[attr-defined]


def test_a_limit_the_reference_cannot_hold_raises_its_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A cushion that makes the no-loss limit infinite: the core hands the wake-up back and
    the reference raises what it always raised, rather than the core inventing a price."""
    monkeypatch.setattr(market_module, "Exchange", _core.Exchange)
    errors = []
    for compiled in (False, True):
        monkeypatch.setattr(intermittent, "COMPILED", compiled)
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
    sc = make_scenario("toy")
    m = Market(sc, build_population(sc))
    m.reset(0)
    m.run_until(sc.schedule.first_slot * sc.schedule.slot_len)
    agent = m.agents["house00"]
    assert agent._compiled(m.view) is not None  # type: ignore[attr-defined]
    clone = pickle.loads(pickle.dumps(agent))
    assert clone._core is None
    assert clone.tau_s == agent.tau_s  # type: ignore[attr-defined]
