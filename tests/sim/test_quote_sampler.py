"""The market's compiled quote samples (``rex_env._core.QuoteSampler``, issue 12) against
``Market._on_sample``'s Python code, the reference (a LOB-3D snapshot, the grid's units, then
``MarketMetrics.on_exchange_quotes``): two copies of one market at the same moment, one
sampled each way, must hold bit-identical slot statistics — at many moments of whole days,
for slots without a book, for time running backwards (the same error after the same partial
update) — and whole days sampled compiled must end with the reference's figures."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from agents import build_population
from rex_env import _core
from rex_env.scenarios import make_scenario
from rex_env.sim.market import Market
from rex_env.sim.metrics import MarketMetrics, SlotStats
from tests.compiled import CountingAnswers, figures

pytestmark = pytest.mark.skipif(not _core.AVAILABLE, reason="C core not built")


@pytest.fixture(autouse=True)
def compiled_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_core, "COMPILED_AGENTS", True)


def _stats(m: Market) -> Any:
    return figures(m.metrics.slots)


def _python_sample(m: Market, t: int) -> None:
    """The reference: ``_on_sample``'s update with the compiled sampler off."""
    sampler, m._quote_sampler = m._quote_sampler, None
    try:
        Market._on_sample(m, t, None)
    finally:
        m._quote_sampler = sampler


def _market(name: str, seed: int) -> Market:
    sc = make_scenario(name)
    m = Market(sc, build_population(sc))
    m.reset(seed)
    assert m._quote_sampler is not None, "the C engine without zones samples compiled"
    return m


@pytest.mark.parametrize("name,seed", [("toy", 1), ("community", 4)])
def test_samples_match_at_many_moments_of_a_day(name: str, seed: int) -> None:
    m = _market(name, seed)
    slots_seen = 0
    for t in range(600, m.schedule.last_close, 3_617):  # off the sampling grid
        m.run_until(t)
        a, b = copy.deepcopy(m), copy.deepcopy(m)
        slots = a.view.open_slots()
        slots_seen += len(slots)
        assert a._quote_sampler.sample(a.exchange, slots, a.now, a.metrics) is True
        _python_sample(b, b.now)
        assert _stats(a) == _stats(b)
    assert slots_seen > 10


def test_slots_without_a_book_and_repeated_times() -> None:
    m = _market("community", 2)
    m.run_until(40_000)
    a, b = copy.deepcopy(m), copy.deepcopy(m)
    far = [m.schedule.end_slot + 3, 10**6]  # no book: nan quotes, zero depth
    slots = [*a.view.open_slots()[:3], *far]
    for t in (a.now, a.now, a.now + 1):  # dt = 0, then 1
        assert a._quote_sampler.sample(a.exchange, slots, t, a.metrics) is True
        view = b.exchange.lob3d(slots, b.view.k)
        g = b.grid
        b.metrics.on_exchange_quotes(
            t, view.slots.tolist(), g.price(view.best_bid).tolist(),
            g.price(view.best_ask).tolist(), g.rate(view.bid_depth.sum(axis=1)).tolist(),
            g.rate(view.ask_depth.sum(axis=1)).tolist())
    assert _stats(a) == _stats(b)
    assert a.metrics.slots[far[0]].n_quotes == 3


def test_time_running_backwards_raises_the_same_error_after_the_same_updates() -> None:
    m = _market("community", 2)
    m.run_until(40_000)
    a, b = copy.deepcopy(m), copy.deepcopy(m)
    slots = list(a.view.open_slots())
    # the first slot has never been sampled at a time later than now - 1, the rest have
    for x in (a, b):
        for k in slots[1:]:
            x.metrics.slot(k)._t_quote = x.now + 50
    with pytest.raises(ValueError) as compiled:
        a._quote_sampler.sample(a.exchange, slots, a.now, a.metrics)
    with pytest.raises(ValueError) as python:
        _python_sample(b, b.now)
    assert str(compiled.value) == str(python.value)
    assert _stats(a) == _stats(b)


def test_subclasses_and_deep_views_go_to_python() -> None:
    m = _market("community", 0)
    m.run_until(40_000)
    before = _stats(m)
    slots = m.view.open_slots()
    assert len(slots) > 2

    class Logged(MarketMetrics):
        pass

    logged = Logged(m.scenario.tariff, slot_len=m.schedule.slot_len, accounts=m.accounts)
    assert m._quote_sampler.sample(m.exchange, slots, m.now, logged) is False

    class Noted(SlotStats):
        pass

    kept = m.metrics.slots[slots[-1]]
    m.metrics.slots[slots[-1]] = Noted(slots[-1], m.schedule.slot_len)
    assert m._quote_sampler.sample(m.exchange, slots, m.now, m.metrics) is False
    m.metrics.slots[slots[-1]] = kept
    assert _stats(m) == before  # declined before booking anything
    deep = _core.QuoteSampler(m.grid, 65, MarketMetrics, SlotStats)
    assert deep.sample(m.exchange, slots, m.now, m.metrics) is False
    with pytest.raises(ValueError, match=">= 1"):
        _core.QuoteSampler(m.grid, 0, MarketMetrics, SlotStats)


@pytest.mark.parametrize("name,seed", [("toy", 5), ("community", 1), ("town", 0)])
def test_whole_days_match(name: str, seed: int) -> None:
    """A day sampled compiled (the sampler alone toggled) ends with the reference's figures."""
    states = []
    calls = {"compiled": 0, "python": 0}
    for compiled in (True, False):
        m = _market(name, seed)
        if compiled:
            m._quote_sampler = CountingAnswers(m._quote_sampler, calls)  # type: ignore[assignment]
        else:
            m._quote_sampler = None
        m.run()
        states.append(_stats(m))
    assert calls["compiled"] > 20 and calls["python"] == 0
    assert states[0] == states[1]
