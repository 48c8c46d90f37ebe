"""The continuous provision plant (agents/plant.py): never below cost, sell into a paying bid,
undercut the competition while the gate is far, buy back when the market is cheaper, and a
ramp-feasible schedule whatever fills."""

from __future__ import annotations

import pytest

from agents import ProvisionPlantAgent
from rex_env.exchange import Side, Tif
from rex_env.physics import ProvisionPlant
from rex_env.scenarios import make_scenario
from rex_env.sim.market import Market

from .helpers import Desk, run

PLANT = ProvisionPlant(capacity_kw=20.0, cost_a=60.0, cost_b=0.5, ramp_kw_per_slot=10.0)


def sold_schedule(m: Market, owner: str) -> list[float]:
    return [-m.exchange.position(owner, k) * 0.1 for k in m.schedule.slots]


def check_never_below_cost(m: Market, owner: str, plant: ProvisionPlant) -> int:
    """Every sale of the plant is at or above the marginal cost of the output it reached."""
    sold: dict[int, int] = {}
    n = 0
    for t in m.trades:
        if owner not in (t.buyer, t.seller):
            continue
        sold[t.slot] = sold.get(t.slot, 0) + (t.rate if t.seller == owner else -t.rate)
        if t.seller == owner:
            n += 1
            assert t.price * 0.1 >= plant.marginal_cost(sold[t.slot] * 0.1) - 1e-9, t
    return n


def check_ramp_feasible(q: list[float], plant: ProvisionPlant) -> None:
    prev = 0.0  # the plant starts the episode off
    for x in q:
        assert -1e-9 <= x <= plant.capacity_kw + 1e-9
        assert abs(x - prev) <= plant.ramp_kw_per_slot + 1e-9, (prev, x)
        prev = x


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_toy_plant_sells_at_or_above_cost_on_a_ramp_feasible_schedule(seed: int) -> None:
    sc = make_scenario("toy")
    m = run(sc, seed)
    plant = sc.spec("plant").plant
    assert plant is not None
    assert check_never_below_cost(m, "plant", plant) > 0
    check_ramp_feasible(sold_schedule(m, "plant"), plant)
    acct = m.accounts["plant"]
    assert acct.imbalance_volume_kwh == pytest.approx(0.0, abs=1e-9)  # it produced what it sold
    assert acct.surplus >= 0.0


def test_the_first_step_is_offered_at_its_cost_and_sold_into_a_bid_that_pays() -> None:
    d = Desk()
    k = d.slots[0]
    a = ProvisionPlantAgent("plant", PLANT, steps=4, markup=0.02)
    floor = a.floor_ticks(5.0)
    assert floor == 638  # (60 + 0.5 * 5) * 1.02 = 63.75 /MWh, rounded up
    d.order("b", Side.BUY, k, 900, 500)
    [(ins, rep)] = [r for r in d.execute("plant", a.manage(d.view, d.me("plant"), k))]
    assert ins.side is Side.SELL and ins.price == 900 and ins.rate == 50  # one 5 kW step
    assert sum(t.rate for t in rep.trades) == 50


def test_it_asks_just_under_the_competition_while_the_gate_is_far_and_at_cost_at_the_gate(
        ) -> None:
    d = Desk()
    a = ProvisionPlantAgent("plant", PLANT)
    for k in d.slots:
        d.order("b", Side.BUY, k, 500, 500)  # bids below its cost
        d.order("s", Side.SELL, k, 1000, 500)
    far = d.slots[-1]
    d.clock.now = d.schedule.open_time(far) + 600
    [ins] = a.manage(d.view, d.me("plant"), far)
    assert 990 <= ins.price <= 999  # one tick under the other seller, hardly discounted
    near = d.slots[0]
    d.clock.now = d.schedule.close_time(near) - 10
    [ins] = a.manage(d.view, d.me("plant"), near)
    assert a.floor_ticks(5.0) <= ins.price <= a.floor_ticks(5.0) + 3  # at the gate: its cost
    plain = ProvisionPlantAgent("plant", PLANT, undercut=False)
    [ins] = plain.manage(d.view, d.me("plant"), far)
    assert ins.price == plain.floor_ticks(5.0)  # truthful


def _sell(d: Desk, slot: int, lots: int, price: int = 900) -> None:
    d.order("plant", Side.SELL, slot, price, lots)
    d.order("b", Side.BUY, slot, price, lots)


def test_it_buys_back_units_that_cost_more_than_the_market_asks() -> None:
    d = Desk()
    a = ProvisionPlantAgent("plant", PLANT)
    k = d.slots[1]
    _sell(d, k - 1, 100)
    _sell(d, k, 100)  # 10 kW sold: marginal cost 65 /MWh
    d.order("s", Side.SELL, k, 610, 500)  # energy at 61 /MWh
    ins = a.manage(d.view, d.me("plant"), k)
    [buy] = [i for i in ins if i.op == "submit"]
    assert buy.side is Side.BUY and buy.tif is Tif.IOC and buy.price == 610
    # units whose marginal cost exceeds 61 /MWh: above (61 - 60) / 0.5 = 2 kW
    assert buy.rate == 80
    d.execute("plant", ins)
    assert d.ex.position("plant", k) == -20


def test_a_buy_back_never_breaks_the_ramp_toward_its_neighbours() -> None:
    d = Desk()
    a = ProvisionPlantAgent("plant", PLANT)
    k = d.slots[1]
    _sell(d, k - 1, 100)
    _sell(d, k, 100)
    _sell(d, k + 1, 200)  # 20 kW next: slot k must keep at least 10 kW
    d.order("s", Side.SELL, k, 610, 500)
    ins = a.manage(d.view, d.me("plant"), k)
    buys = [i for i in ins if i.op == "submit" and i.side is Side.BUY]
    assert not buys or buys[0].rate <= 0
    assert a.floor_kw(d.me("plant"), d.view, k) == pytest.approx(10.0)


def test_offers_never_exceed_the_ramp_from_the_previous_or_to_the_next_slot() -> None:
    d = Desk()
    a = ProvisionPlantAgent("plant", PLANT)
    me = d.me("plant")
    first = d.schedule.first_slot
    assert a.ceiling(me, d.view, first) == pytest.approx(10.0)  # starts off: one ramp
    _sell(d, first, 100)
    # up one ramp from 10 kW, but the next slot is unsold: it must be able to ramp down to 0
    assert a.ceiling(me, d.view, first + 1) == pytest.approx(10.0)
    _sell(d, first + 2, 150)
    assert a.ceiling(me, d.view, first + 1) == pytest.approx(20.0)  # 10 + 10 and 15 + 10
    _sell(d, first + 3, 1)
    # up from the unsold slot before it (0 + 10) binds before down to 0.1 kW (10.1)
    assert a.ceiling(me, d.view, first + 2) == pytest.approx(10.0)


@pytest.mark.parametrize(("kw", "field"), [
    ({"steps": 0}, "steps"), ({"markup": -0.1}, "markup"),
    ({"slots_per_wake": 0}, "slots_per_wake"), ({"steps": 2.5}, "steps"),
])
def test_bad_parameters_are_refused_naming_the_field(kw: dict, field: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError, match=field):
        ProvisionPlantAgent("plant", PLANT, **kw)
