"""The intermittent prosumer (agents/intermittent.py): reserve minus the forecast, make-take to
the gate, never pay more than the imbalance would cost."""

from __future__ import annotations

import numpy as np
import pytest

from agents import IntermittentProsumer, build_population
from rex_env.exchange import Side
from rex_env.scenarios import make_scenario
from rex_env.sim.agent_api import make_take_urgency
from rex_env.sim.market import Market

from .helpers import Desk


def test_target_is_minus_the_forecast_rounded_to_the_lot() -> None:
    sc = make_scenario("toy")
    pop = build_population(sc)
    m = Market(sc, pop)
    m.reset(1)
    m.run_until(sc.schedule.first_slot * sc.schedule.slot_len)  # mid-episode
    seen = 0
    for owner in ("house00", "house01", "wind"):
        agent, me = pop[owner], m.owner_views[owner]
        for k in m.view.open_slots():
            f = me.forecast(k, m.now)[0]
            assert agent.target(me, k, m.now) == round(-f / 0.1)  # type: ignore[attr-defined]
            seen += f != 0
    assert seen > 10


def _trade_at(desk: Desk, slot: int, price: int) -> None:
    desk.order("x", Side.SELL, slot, price, 1)
    desk.order("y", Side.BUY, slot, price, 1)


def test_no_loss_limit_follows_the_settlement_rule() -> None:
    d = Desk()
    k = d.slots[0]
    _trade_at(d, k, 1000)  # VWAP 100 /MWh
    single = IntermittentProsumer("h", settlement="single", cushion=0.2)
    assert single.limit(d.view, k, Side.BUY) == 1200
    assert single.limit(d.view, k, Side.SELL) == 800
    dual = IntermittentProsumer("h", settlement="dual", premium=0.2, fee=5.0)
    assert dual.limit(d.view, k, Side.BUY) == 1250  # 100 * 1.2 + 5
    assert dual.limit(d.view, k, Side.SELL) == 784  # 100 / 1.2 - 5, rounded up
    curtail = IntermittentProsumer("h", settlement="curtail", max_buy=300.0, min_sell=0.0)
    assert curtail.limit(d.view, k, Side.BUY) == 3000
    assert curtail.limit(d.view, k, Side.SELL) == 0
    capped = IntermittentProsumer("h", settlement="single", max_buy=110.0, min_sell=95.0)
    assert capped.limit(d.view, k, Side.BUY) == 1100
    assert capped.limit(d.view, k, Side.SELL) == 950
    # before the slot's first trade: the reference price stands in for the VWAP
    assert single.limit(d.view, d.slots[1], Side.BUY) == 1200


def test_near_the_gate_it_takes_the_book_within_the_limit_and_no_further() -> None:
    d = Desk()
    k = d.slots[0]
    _trade_at(d, k, 1000)
    d.order("s", Side.SELL, k, 1050, 3)  # within the limit (120 /MWh)
    d.order("s", Side.SELL, k, 1300, 50)  # beyond it
    d.clock.now = d.schedule.close_time(k) - 300
    a = IntermittentProsumer("h", settlement="single", patience=(3600.0, 3600.0))
    a.reset(np.random.default_rng(0))
    reps = d.execute("h", a.order_for(d.view, k, 10))
    a.on_reports(reps)
    [(ins, rep)] = reps
    # 5 min before the gate the urgency is 2 exp(-1/12) = 1.84: 84 % of the way from the
    # touch (105) to the no-loss limit (120)
    u = make_take_urgency(300, 3600.0)
    assert ins.side is Side.BUY and ins.price == int(1050 + (u - 1) * (1200 - 1050))
    assert [t.price for t in rep.trades] == [1050]  # took what was within the limit
    assert d.ex.position("h", k) == 3
    assert rep.order is not None and rep.order.rate == 7  # the rest waits near the limit
    d.clock.now = d.schedule.close_time(k) - 1
    [last] = a.order_for(d.view, k, 7)
    assert last.price == a.limit(d.view, k, Side.BUY)  # at the gate: its limit, no further


def test_early_orders_are_passive_and_late_ones_cross() -> None:
    d = Desk()
    k = d.slots[-1]
    d.order("b", Side.BUY, k, 800, 10)
    d.order("s", Side.SELL, k, 900, 10)
    a = IntermittentProsumer("h", settlement="curtail")
    d.clock.now = d.schedule.open_time(k) + 400
    [early] = a.order_for(d.view, k, -5)
    assert early.side is Side.SELL and 800 < early.price <= 899  # inside the spread
    d.clock.now = d.schedule.close_time(k) - 3600
    [late] = a.order_for(d.view, k, -5)
    assert 800 < late.price < early.price  # more aggressive, not yet crossing
    d.clock.now = d.schedule.close_time(k) - 300
    [last] = a.order_for(d.view, k, -5)
    assert last.price < 800  # crosses the bid, toward its limit (curtail: 0)
    d.clock.now = d.schedule.close_time(k)
    [gate] = a.order_for(d.view, k, -5)
    assert gate.price == 0  # at the gate: its limit (spilled output earns nothing)


@pytest.mark.parametrize(("kw", "field"), [
    ({"deadband": -1}, "deadband"), ({"slots_per_wake": 0}, "slots_per_wake"),
    ({"max_buy": 10.0, "min_sell": 20.0}, "max_buy"), ({"settlement": "pay-as-bid"},
                                                       "settlement"),
    ({"cushion": -0.1}, "cushion"), ({"premium": -1}, "premium"), ({"fee": "5"}, "fee"),
    ({"patience": (10.0, 20.0)}, "patience"), ({"patience": (600.0, 60.0)}, "patience"),
])
def test_bad_parameters_are_refused_naming_the_field(kw: dict, field: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError, match=field):
        IntermittentProsumer("h", **kw)
