"""The newsvendor prosumer (agents/newsvendor.py): the critical ratio per settlement mode, the
quantile against its closed form, and the prototype's order management around it."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from agents import NewsvendorProsumer, build_population, make_agent
from agents.newsvendor import critical_ratio, imbalance_values, newsvendor_quantile
from rex_env.scenarios import make_scenario
from rex_env.sim.market import Market
from rex_env.spec.settlement import SettlementConfig


@pytest.mark.parametrize("ratio", [0.001, 0.03, 0.25, 0.5, 0.8, 0.999])
@pytest.mark.parametrize(("mu", "sigma"), [(0.0, 1.0), (-0.4, 0.12), (12.5, 3.0)])
def test_quantile_is_the_gaussian_closed_form(mu: float, sigma: float, ratio: float) -> None:
    assert newsvendor_quantile(mu, sigma, ratio) == pytest.approx(
        mu + sigma * norm.ppf(ratio), abs=1e-9)


def test_quantile_is_clipped_to_what_the_assets_can_realise() -> None:
    assert newsvendor_quantile(2.0, 5.0, 0.03) == pytest.approx(2.0 + 5.0 * norm.ppf(0.03))
    assert newsvendor_quantile(2.0, 5.0, 0.03, lo=0.0) == 0.0  # a wind farm never buys
    assert newsvendor_quantile(55.0, 5.0, 0.99, hi=60.0) == 60.0
    assert newsvendor_quantile(1.0, 0.0, 0.03) == 1.0  # no uncertainty: the forecast


@pytest.mark.parametrize(("mode", "kw", "ratio"), [
    # curtail: spilled surplus earns 0, a shortfall costs voll + the lost consumption
    ("curtail", dict(voll=3000.0, consumption_value=300.0), 100 / 3300),
    ("curtail", dict(voll=3000.0), 100 / 3000),
    # dual: s = 100/1.2 - 5, d = 100*1.2 + 5 -> (100 - s) / (d - s)
    ("dual", dict(premium=0.2, fee=5.0), (100 - (100 / 1.2 - 5)) / (125 - (100 / 1.2 - 5))),
    # single: symmetric in expectation -> the median; an asymmetric expectation moves it
    ("single", {}, 0.5),
    ("single", dict(short_premium=20.0, surplus_discount=10.0), 10 / 30),
])
def test_critical_ratio_per_settlement_mode(mode: str, kw: dict, ratio: float  # type: ignore
                                            ) -> None:
    d, s = imbalance_values(mode, 100.0, **kw)
    assert critical_ratio(100.0, d, s) == pytest.approx(ratio)


def test_dual_penalties_flip_for_negative_prices_as_settlement_does() -> None:
    d, s = imbalance_values("dual", -50.0, premium=0.25, fee=5.0)
    assert d == pytest.approx(-50 / 1.25 + 5) and s == pytest.approx(-50 * 1.25 - 5)
    assert 0 < critical_ratio(-50.0, d, s) < 1


@pytest.mark.parametrize(("mode", "kw"), [("curtail", dict(voll=3000.0)),
                                          ("dual", dict(premium=0.2, fee=5.0))])
def test_the_quantile_maximises_the_expected_surplus(mode: str, kw: dict) -> None:  # type: ignore
    """G(r) = p r + s E[(X - r)+] - d E[(r - X)+] for X ~ N(mu, sigma), by quadrature."""
    p, mu, sigma = 100.0, 5.0, 2.0
    d, s = imbalance_values(mode, p, **kw)
    x = np.linspace(mu - 8 * sigma, mu + 8 * sigma, 200_001)
    w = norm.pdf(x, mu, sigma) * (x[1] - x[0])

    def gain(r: float) -> float:
        return p * r + s * float(w @ np.maximum(x - r, 0)) - d * float(w @ np.maximum(r - x, 0))

    q = newsvendor_quantile(mu, sigma, critical_ratio(p, d, s))
    for delta in (0.05, 0.3, 1.0):
        assert gain(q) > gain(q - delta) and gain(q) > gain(q + delta)
    assert gain(q) > gain(mu) or math.isclose(q, mu)


def test_a_battery_buffers_the_quantile_but_never_past_the_median() -> None:
    agent = NewsvendorProsumer("h", settlement="curtail", voll=3000.0)
    r = agent.ratio(100.0)  # 1/30: reserve far below the forecast
    q = -1.0 + 0.5 * norm.ppf(r)
    assert agent.reservation_kw(-1.0, 0.5, 100.0) == pytest.approx(q)
    # a 0.5 kW discharge covers that much of a shortfall: reserve 0.5 kW more
    assert agent.reservation_kw(-1.0, 0.5, 100.0, (0.0, 0.5)) == pytest.approx(q + 0.5)
    # a big battery covers it all: the median, not a bet on discharging
    assert agent.reservation_kw(-1.0, 0.5, 100.0, (5.0, 5.0)) == pytest.approx(-1.0)
    # the charge side matters when a surplus is the costly error (ratio > 1/2)
    dear = NewsvendorProsumer("h", settlement="single", short_premium=0.0,
                              surplus_discount=50.0)
    q = 2.0 + 0.5 * norm.ppf(dear.ratio(100.0))
    assert q > 2.0
    assert dear.reservation_kw(2.0, 0.5, 100.0, (0.2, 0.0)) == pytest.approx(q - 0.2)
    assert dear.reservation_kw(2.0, 0.5, 100.0, (9.0, 0.0)) == pytest.approx(2.0)


def test_agent_targets_the_quantile_of_its_own_forecast() -> None:
    sc = make_scenario("toy").replace(settlement=SettlementConfig(mode="curtail"))
    sc = sc.with_agents(house01="newsvendor", wind="newsvendor")
    pop = build_population(sc)
    m = Market(sc, pop)
    m.reset(2)
    m.run_until(sc.schedule.first_slot * sc.schedule.slot_len)
    seen = 0
    for owner in ("house01", "wind"):
        agent, me = pop[owner], m.owner_views[owner]
        assert isinstance(agent, NewsvendorProsumer)
        agent._market = m.view  # noqa: SLF001 - the view its last act saw
        for k in m.view.open_slots():
            mu, sigma = me.forecast(k, m.now)
            price = agent.fair_price(m.view, k) * 0.1
            ratio = price / (3000.0 + (300.0 if owner == "house01" else 0.0))
            q = mu + sigma * norm.ppf(ratio)
            if owner == "wind":
                q = min(max(q, 0.0), 20.0)
            assert agent.target(me, k, m.now) == round(-q / 0.1)
            seen += sigma > 0
    assert seen > 5


def test_under_curtailment_it_is_served_where_the_prototype_is_cut() -> None:
    base = make_scenario("toy").replace(settlement=SettlementConfig(mode="curtail"))
    unserved = {}
    for kind in ("intermittent", "newsvendor"):
        sc = base.with_agents(house00=kind, house01=kind)
        total = 0.0
        for seed in (0, 1, 2):
            m = Market(sc, build_population(sc))
            m.reset(seed)
            m.run()
            total += sum(r.unserved_kwh for recs in m.settlements.values()
                         for o, r in recs.items() if o in ("house00", "house01"))
        unserved[kind] = total
    assert unserved["intermittent"] > 0.1
    assert unserved["newsvendor"] < 0.3 * unserved["intermittent"]


def test_factory_passes_the_settlement_and_the_assets() -> None:
    sc = make_scenario("community")
    wind = make_agent(sc.spec("wind"), sc, "newsvendor")
    house = make_agent(sc.spec("house00"), sc, "newsvendor")
    assert isinstance(wind, NewsvendorProsumer) and isinstance(house, NewsvendorProsumer)
    assert wind.net_min == 0.0 and wind.net_max == pytest.approx(60.0)
    assert wind.consumption_value == 0.0
    assert house.net_min == -math.inf and house.consumption_value == sc.tariff.retail
    assert house.settlement == "single" and house.ratio(80.0) == 0.5
    assert house.battery is None
    assert make_agent(sc.spec("house05"), sc, "newsvendor").battery is sc.spec("house05").battery


@pytest.mark.parametrize(("kw", "field"), [
    (dict(voll=0.0), "voll"), (dict(consumption_value=-1.0), "consumption_value"),
    (dict(short_premium=-1.0), "short_premium"), (dict(min_ratio=0.5), "min_ratio"),
    (dict(net_min=1.0, net_max=0.0), "net_min"), (dict(net_max=float("nan")), "net_max"),
    (dict(settlement="auction"), "settlement"), (dict(battery=5.0), "battery"),
])
def test_bad_parameters_are_refused_naming_the_field(kw: dict, field: str) -> None:  # type: ignore
    with pytest.raises(ValueError, match=field):
        NewsvendorProsumer("h", **kw)
