"""``Market.execute``'s compiled loop (``rex_env._core.execute_plain``, issue 12) against its
Python loop, the reference: two copies of one seeded market get the same random batches of
instructions — submits that rest and that cross, cancels and modifies of live, dead and
unknown orders, and instructions the compiled loop must leave to the Python one (float prices,
a ``match_zone``, an unknown op, a tuple that is not an ``Instruction``) — and must answer
with the same reports and end in the same state: order ids, the owner's order list,
rejection counts, accounts, trades and metrics."""

from __future__ import annotations

import random
from typing import Any

import pytest

import rex_env.sim.market as market_module
from agents import build_population
from rex_env import _core
from rex_env.exchange import Side, Tif
from rex_env.scenarios import make_scenario
from rex_env.sim.agent_api import Instruction, cancel, modify, submit
from rex_env.sim.market import Market

pytestmark = pytest.mark.skipif(not _core.AVAILABLE, reason="C core not built")


def _report(rep: Any) -> tuple[Any, ...]:
    o = rep.order
    order = None if o is None else (o.order_id, o.owner, o.side, o.first_slot, o.price,
                                     o.rate, o.filled, o.status, o.tif)
    return (rep.status, rep.reason, order, [tuple(t) for t in rep.trades],
            [x.order_id for x in rep.self_trade_cancelled], [x.order_id for x in rep.expired])


def _state(m: Market) -> tuple[Any, ...]:
    return (m._next_id, {o: list(v.order_ids) for o, v in m.owner_views.items()},
            {o: (a.trade_cash, a.fills, a.bought_kw, a.sold_kw, dict(a.rejections))
             for o, a in m.accounts.items()},
            [tuple(t) for t in m.trades], m.metrics.n_trades, m.metrics.volume,
            m.metrics.turnover)


def _run(m: Market, owner: str, batch: list[Any]) -> tuple[Any, ...]:
    """The reports of one batch, or the error it raised (a tuple that is not an
    ``Instruction`` has no ``op``: the Python loop's AttributeError, kept as it was)."""
    try:
        return ("ok", [(ins, _report(rep)) for ins, rep in m.execute(owner, list(batch))])
    except AttributeError as exc:
        return ("raised", str(exc))


def _batch(r: random.Random, m: Market, ids: list[int]) -> list[Any]:
    slots = list(m.view.open_slots())
    out: list[Any] = []
    for _ in range(r.randint(1, 6)):
        k = r.choice(slots)
        side = r.choice((Side.BUY, Side.SELL))
        mid = 900 + r.randint(-300, 300)
        x = r.random()
        if x < 0.45:
            out.append(submit(side, k, mid, r.randint(1, 30),
                              r.choice((Tif.GTC, Tif.GTC, Tif.IOC, Tif.FOK))))
        elif x < 0.5:
            out.append(submit(side, k, None, r.randint(1, 10), Tif.IOC))  # a market order
        elif x < 0.7:
            out.append(cancel(r.choice(ids) if ids and r.random() < 0.8 else 10**9))
        elif x < 0.85:
            out.append(modify(r.choice(ids) if ids else 1, r.choice((None, mid)),
                              r.choice((None, r.randint(1, 20)))))
        elif x < 0.88:
            out.append(submit(side, k, mid + 0.5, 3))  # off tick: the Python loop
        elif x < 0.9:
            out.append(submit(side, k, mid, 3, match_zone="north"))  # no zones here
        elif x < 0.92:
            out.append(Instruction("replace", None, side, k, mid, 3))  # unknown op
        elif x < 0.93:
            out.append(("submit", None, side, k, mid, 3, None, None, None, None))
        else:
            out.append(submit(side, k, mid, 0))  # a rejected rate
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_compiled_loop_executes_as_the_python_loop(monkeypatch: pytest.MonkeyPatch,
                                                       seed: int) -> None:
    monkeypatch.setattr(market_module, "Exchange", _core.Exchange)
    sc = make_scenario("toy")
    markets = []
    for _ in range(2):
        m = Market(sc, build_population(sc))
        m.reset(seed)
        m.run_until(sc.schedule.first_slot * sc.schedule.slot_len)
        markets.append(m)
    fast, ref = markets
    assert fast._execute_plain is not None
    r = random.Random(seed)
    owners = ["house00", "house01", "wind"]
    before = len(fast.trades)
    compiled = fell_back = 0
    for _ in range(400):
        owner = r.choice(owners)
        batch = _batch(r, ref, ref.owner_views[owner].order_ids)
        monkeypatch.setattr(_core, "COMPILED_AGENTS", False)
        want = _run(ref, owner, batch)
        monkeypatch.setattr(_core, "COMPILED_AGENTS", True)
        got = _run(fast, owner, batch)
        assert got == want
        assert _state(fast) == _state(ref)
        if all(type(i) is Instruction and i.op in ("submit", "cancel", "modify")
               and i.match_zone is None and type(i.price) in (int, type(None))
               and type(i.rate) in (int, type(None)) for i in batch):
            compiled += 1
        else:
            fell_back += 1
    assert compiled > 200 and fell_back > 20
    # the batches traded (with each other and the resting book): the bookkeeping was compared
    assert len(fast.trades) - before > 100


def test_an_exchange_subclass_is_called_not_bypassed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiled loop calls the C exchange's ``submit``/``cancel``/``modify`` bodies directly
    only when the class has not overridden them (``plain_ops``); a subclass's methods are
    called for every instruction and the reports are what they return."""
    calls: list[str] = []

    class Audited(_core.Exchange):
        def submit(self, *args: Any, **kw: Any) -> Any:
            calls.append("submit")
            return super().submit(*args, **kw)

        def cancel(self, *args: Any, **kw: Any) -> Any:
            calls.append("cancel")
            return super().cancel(*args, **kw)

        def modify(self, *args: Any, **kw: Any) -> Any:
            calls.append("modify")
            return super().modify(*args, **kw)

    assert _core.Exchange(auto_open=True).plain_ops
    assert not Audited(auto_open=True).plain_ops
    monkeypatch.setattr(_core, "COMPILED_AGENTS", True)
    sc = make_scenario("toy")
    states = []
    for cls in (_core.Exchange, Audited):
        monkeypatch.setattr(market_module, "Exchange", cls)
        m = Market(sc, build_population(sc))
        m.reset(3)
        m.run_until(sc.schedule.first_slot * sc.schedule.slot_len)
        assert m._execute_plain is not None
        assert (len(calls) > 50) is (cls is Audited)  # the agents' wake-ups called it too
        calls.clear()
        owner = "house00"
        slot = next(iter(m.view.open_slots()))
        got = m.execute(owner, [submit(Side.SELL, slot, 950, 3), submit(Side.BUY, slot, 990, 1)])
        oid = got[0][1].order.order_id
        got += m.execute(owner, [modify(oid, rate=2), cancel(oid), cancel(10**9)])
        states.append(([(ins, _report(rep)) for ins, rep in got], _state(m)))
    assert calls == ["submit", "submit", "modify", "cancel", "cancel"]
    assert states[0] == states[1]
