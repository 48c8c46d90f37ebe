"""The stylized-facts report (rex_env/sim/stylized.py): its figures agree with the raw trades
and quotes they summarise."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from agents import build_population
from rex_env.scenarios import make_scenario
from rex_env.sim.market import Market
from rex_env.sim.stylized import TTG_EDGES_H, record_quotes, stylized_facts


@pytest.fixture(scope="module")
def toy() -> tuple[list[Market], list[list[tuple[int, int, int, int]]]]:
    sc = make_scenario("toy")
    markets, quotes = [], []
    for seed in (0, 1):
        m = Market(sc, build_population(sc))
        m.reset(seed)
        quotes.append(record_quotes(m))
        m.run()
        markets.append(m)
    return markets, quotes


def test_figures_agree_with_the_raw_trades(toy: tuple) -> None:  # type: ignore[type-arg]
    markets, quotes = toy
    f = stylized_facts(markets, quotes)
    json.dumps(f, allow_nan=True)  # JSON-able
    kwh = [t.rate * 0.1 * 0.25 for m in markets for t in m.trades]
    assert f["traded_kwh_per_day"] == pytest.approx(sum(kwh) / 2)
    b = f["by_time_to_gate"]
    widths = np.diff(TTG_EDGES_H)
    # every trade happens between the slot's opening and its gate: the bins hold all energy
    assert float(np.sum(np.array(b["kwh_per_hour_per_day"]) * widths)) == pytest.approx(
        f["traded_kwh_per_day"])
    assert sum(b["trades_per_day"]) == pytest.approx(sum(len(m.trades) for m in markets) / 2)
    # the grid's quotes are flat in toy: 80 and 300
    at_grid = sum(t.rate for m in markets for t in m.trades if t.price in (800, 3000))
    assert f["energy_at_grid_quotes"] == pytest.approx(
        at_grid / sum(t.rate for m in markets for t in m.trades))
    assert 0 < f["max_share_at_one_price"] <= 1
    ranges = []
    for m in markets:
        v = [m.metrics.slot(k).vwap for k in m.schedule.slots]
        v = [x for x in v if math.isfinite(x)]
        ranges.append(max(v) - min(v))
    assert f["daily_vwap_range"]["per_day"] == pytest.approx(ranges)
    assert f["surplus_by_owner"]["house00"] == pytest.approx(
        np.mean([m.accounts["house00"].surplus for m in markets]))


def test_spreads_come_from_two_sided_quote_samples(toy: tuple) -> None:  # type: ignore[type-arg]
    markets, quotes = toy
    q = quotes[0]
    assert q and all(a > b for _, _, b, a in q)  # an uncrossed book, both sides present
    assert {t for t, *_ in q} <= set(range(0, markets[0].schedule.last_close, 300))
    f = stylized_facts(markets, quotes)
    spreads = [v for v in f["spread_by_time_since_open"].values() if math.isfinite(v)]
    assert spreads and all(0 < s <= 220 + 1e-9 for s in spreads)  # within the tariffs
    assert stylized_facts(markets)["spread_by_time_since_open"] == {}


def test_realised_volatility_is_zero_for_a_constant_price() -> None:
    sc = make_scenario("bandit")  # one buyer at one price: every trade at the feed-in tariff
    m = Market(sc, build_population(sc))
    m.reset(0)
    m.run()
    f = stylized_facts([m])
    rv = [x for x in f["by_time_to_gate"]["realised_volatility"] if math.isfinite(x)]
    assert rv and max(rv) == 0.0
    assert f["max_share_at_one_price"] == pytest.approx(1.0)


def test_no_episode_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one finished episode"):
        stylized_facts([])
