"""The storage dealer (agents/storage.py): limits from public prices and its own cost, make
then take, and a schedule feasible for its state of charge whatever fills."""

from __future__ import annotations

import functools
from types import SimpleNamespace

import numpy as np
import pytest

from agents import StorageDealer
from rex_env.exchange import Side, Status
from rex_env.physics import Battery, Household, PVSystem
from rex_env.scenarios import Scenario, make_scenario
from rex_env.sim.agent_api import submit
from rex_env.sim.market import Market
from rex_env.spec.prosumer import ProsumerSpec
from rex_env.spec.schedule import SlotSchedule
from rex_env.spec.settlement import SettlementConfig

from .helpers import Desk, run

BATTERY = Battery(energy_kwh=40.0, power_kw=20.0)  # reserve 20 kWh, ceiling 36, floor 4


def solar(kind: str = "storage") -> Scenario:
    """A solar street with an evening deficit and hard 'no reservation, no service': prices
    are low at midday (PV sells to the grid's feed-in bid) and high at night (the grid's
    retail offer) — the temporal spread a battery lives on."""
    pros = [ProsumerSpec(f"h{i:02d}", "intermittent", load=Household(annual_kwh=3500.0),
                         pv=PVSystem(peak_kw=8.0) if i < 4 else None) for i in range(8)]
    pros += [ProsumerSpec("battery", kind, battery=Battery(energy_kwh=30.0, power_kw=8.0)),
             ProsumerSpec("grid", "grid", external=True)]
    return Scenario("solar", tuple(pros),
                    schedule=SlotSchedule(n_slots=80, start_hour=4.0, day_of_year=172),
                    settlement=SettlementConfig(mode="curtail"))


@functools.cache
def solar_run(seed: int, kind: str = "storage") -> Market:
    return run(solar(kind), seed)


def soc_path(m: Market, owner: str, battery: Battery) -> list[float]:
    """Stored energy after each delivered slot, recomputed from the positions."""
    e = battery.initial_energy_kwh
    out = []
    for k in m.schedule.slots:
        kw = m.exchange.position(owner, k) * 0.1
        e += kw * 0.25 * battery.eta_charge if kw > 0 else kw * 0.25 / battery.eta_discharge
        out.append(e)
    return out


def check_feasible(m: Market, owner: str, battery: Battery) -> None:
    path = soc_path(m, owner, battery)
    assert min(path) >= battery.min_energy_kwh - 1e-6
    assert max(path) <= battery.max_energy_kwh + 1e-6
    assert path[-1] >= battery.initial_energy_kwh - 1e-6  # sells only what it bought
    assert m.accounts[owner].imbalance_volume_kwh == pytest.approx(0.0, abs=1e-6)
    assert m.prosumers[owner].soc_kwh == pytest.approx(path[-1], abs=1e-6)


@pytest.mark.parametrize("seed", [0, 1])
def test_in_a_market_with_a_temporal_spread_it_profits_and_beats_random(seed: int) -> None:
    m = solar_run(seed)
    acct = m.accounts["battery"]
    assert acct.surplus > 0.2  # ≈ 30 kWh a day through the battery at tens of /MWh
    bought = [t for t in m.trades if t.buyer == "battery"]
    sold = [t for t in m.trades if t.seller == "battery"]
    assert bought and sold
    vw = lambda ts: sum(t.price * t.rate for t in ts) / sum(t.rate for t in ts)  # noqa: E731
    assert vw(sold) * 0.95 * 0.95 > vw(bought)  # it sells dear what it bought cheap
    check_feasible(m, "battery", m.scenario.spec("battery").battery)  # type: ignore[arg-type]
    assert solar_run(seed, "random").accounts["battery"].surplus < acct.surplus


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_toy_dealer_schedule_is_feasible_and_no_loss(seed: int) -> None:
    sc = make_scenario("toy")
    m = run(sc, seed)
    check_feasible(m, "battery", sc.spec("battery").battery)  # type: ignore[arg-type]
    assert m.accounts["battery"].surplus >= -1e-9


def _desk_with_prices(prices: list[int]) -> Desk:
    """A desk whose open slots traded at ``prices`` (one VWAP per slot) and still quote a
    wide book, so the dealer's limits are what bind."""
    d = Desk(SlotSchedule(n_slots=12, open_lead=3 * 3600, gate_lead=900, call_len=300),
             now=3 * 3600)
    for k, p in zip(d.slots, prices, strict=False):
        d.order("x", Side.SELL, k, p, 1)
        d.order("y", Side.BUY, k, p, 1)
    for k in d.slots:
        d.order("bid", Side.BUY, k, 300, 1000)
        d.order("ask", Side.SELL, k, 3000, 1000)
    return d


def test_it_does_not_quote_before_it_has_seen_enough_prices() -> None:
    d = _desk_with_prices([1000, 1000])
    a = StorageDealer("bat", BATTERY, min_samples=8)
    a.reset(np.random.default_rng(0))
    assert list(a.act(d.view, d.me("bat", SimpleNamespace(soc_kwh=20.0)))) == []


def test_its_bid_pays_the_round_trip_loss_and_margin_below_the_dear_price() -> None:
    d = _desk_with_prices([800, 800, 800, 900, 1000, 1200, 1200, 1200])
    a = StorageDealer("bat", BATTERY, min_samples=4, margin=0.02)
    a.reset(np.random.default_rng(0))
    ins = list(a.act(d.view, d.me("bat", SimpleNamespace(soc_kwh=20.0))))
    bids = [i for i in ins if i.side is Side.BUY]
    assert bids and not [i for i in ins if i.side is Side.SELL]  # no inventory: no asks
    p_hi = 1200
    cap = p_hi * 0.95 * 0.95 / 1.02
    assert all(i.price <= cap for i in bids)
    assert max(i.price for i in bids) >= 301  # and it competes: over the others' bid


def test_it_never_sells_below_its_break_even() -> None:
    d = _desk_with_prices([800] * 8)
    a = StorageDealer("bat", BATTERY, min_samples=4, margin=0.02)
    a.reset(np.random.default_rng(0))
    last = d.slots[-1]
    d.order("s", Side.SELL, last, 1000, 100)
    a.on_reports(d.execute("bat", [submit(Side.BUY, last, 1000, 100)]))  # 10 kW at 100 /MWh
    assert d.ex.position("bat", last) == 100
    for k in d.slots:
        d.order("rich", Side.BUY, k, 1050, 500)  # bids above 100, below break-even
    ins = list(a.act(d.view, d.me("bat", SimpleNamespace(soc_kwh=20.0))))
    asks = [i for i in ins if i.side is Side.SELL]
    breakeven = 1000 / (0.95 * 0.95) * 1.02
    assert asks and all(i.price >= breakeven for i in asks)
    d.clock.now = d.schedule.last_close - 600  # winding down: the floor falls, it sells
    ins = list(a.act(d.view, d.me("bat", SimpleNamespace(soc_kwh=20.0))))
    assert any(i.side is Side.SELL and i.price == 1050 for i in ins)


def _stored(kw: float) -> float:
    return kw * 0.25 * 0.95 if kw > 0 else kw * 0.25 / 0.95


@pytest.mark.parametrize("seed", range(6))
def test_the_schedule_stays_feasible_whatever_fills(seed: int) -> None:
    """Random books and feasible positions: if every resting sell fills (and no buy), or
    every buy (and no sell), the state of charge stays in its band, the battery's power is
    respected, and it sells no more than it bought."""
    rng = np.random.default_rng(seed)
    d = _desk_with_prices([int(x) for x in rng.integers(600, 1400, 8)])
    a = StorageDealer("bat", BATTERY, min_samples=4, margin=0.0, q_buy=0.5, q_sell=0.5)
    a.reset(np.random.default_rng(seed))
    soc = float(rng.uniform(BATTERY.initial_energy_kwh, BATTERY.max_energy_kwh - 4))
    e = soc
    for k in d.slots:  # some positions already traded, the path within the band
        lots = int(rng.integers(-60, 120))
        if lots and BATTERY.min_energy_kwh <= e + _stored(lots * 0.1) <= BATTERY.max_energy_kwh:
            e += _stored(lots * 0.1)
            side = Side.BUY if lots > 0 else Side.SELL
            d.order("bat", side, k, 1000, abs(lots))
            d.order("cp", Side.SELL if lots > 0 else Side.BUY, k, 1000, abs(lots))
    held = e
    d.step(a, d.me("bat", SimpleNamespace(soc_kwh=soc)))
    rest = {(o.first_slot, o.side): o.rate for o in a.quotes.values()
            if o.status is Status.RESTING}
    assert rest  # it quotes something
    for fill in (Side.SELL, Side.BUY):
        e = soc
        for k in d.slots:
            pos = d.ex.position("bat", k)
            extra = rest.get((k, fill), 0)
            lots = pos + (extra if fill is Side.BUY else -extra)
            assert abs(lots) * 0.1 <= BATTERY.power_kw + 1e-9
            e += _stored(lots * 0.1)
            assert BATTERY.min_energy_kwh - 1e-6 <= e <= BATTERY.max_energy_kwh + 1e-6, \
                (fill, k, e)
        if fill is Side.SELL:  # never below what it started with (or held, if less)
            assert e >= min(held, BATTERY.initial_energy_kwh) - 1e-6


def test_stored_energy_and_lot_sizing_follow_the_efficiencies() -> None:
    a = StorageDealer("bat", BATTERY)
    h = 0.25
    assert a.stored(40, h) == pytest.approx(4 * h * 0.95)  # 4 kW bought: charged
    assert a.stored(-40, h) == pytest.approx(-4 * h / 0.95)  # 4 kW sold: discharged
    # selling from a long position first only reduces charging
    n = a._max_lots(40, 0.5, -1, 1000, h)
    assert a.stored(40, h) - a.stored(40 - n, h) <= 0.5 + 1e-9
    assert a.stored(40, h) - a.stored(40 - n - 1, h) > 0.5
    n = a._max_lots(-40, 2.0, 1, 1000, h)
    assert a.stored(-40 + n, h) - a.stored(-40, h) <= 2.0 + 1e-9
    assert a.stored(-40 + n + 1, h) - a.stored(-40, h) > 2.0


@pytest.mark.parametrize(("kw", "field"), [
    ({"margin": -0.01}, "margin"), ({"q_buy": 1.5}, "q_buy"),
    ({"q_buy": 0.6, "q_sell": 0.5}, "q_sell"), ({"memory": 0}, "memory"),
    ({"min_samples": 0}, "min_samples"), ({"max_inventory_kwh": -1}, "max_inventory_kwh"),
    ({"wind_down": -5}, "wind_down"), ({"liquidation_floor": float("inf")},
                                       "liquidation_floor"),
])
def test_bad_parameters_are_refused_naming_the_field(kw: dict, field: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError, match=field):
        StorageDealer("bat", BATTERY, **kw)


@pytest.mark.parametrize("seed", [0, 1])
def test_its_own_cash_bookkeeping_matches_the_exchange(seed: int) -> None:
    """The break-even uses cash the dealer tracks from its own orders (it never reads the
    exchange's books of cash, SPEC §11); it must agree with the settlement."""
    m = solar_run(seed)
    dealer = m.agents["battery"]
    assert dealer.cash_ticks_lots() * 0.1 * 0.1 * 0.25 / 1000 == pytest.approx(  # type: ignore
        m.accounts["battery"].trade_cash, abs=1e-9)
