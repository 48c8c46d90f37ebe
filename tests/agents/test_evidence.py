"""Evidence that the prototypes are good baselines (issue 4, item 4), in the flat-tariff community
(``community_flat``, the first version's default; the wholesale-indexed default is checked in
``tests/sim/test_price_formation.py``):
each earns a non-negative surplus, beats a random trader holding the same assets in the same
market and seeds, and keeps its imbalance low.

The counterfactual replaces *one* owner at a time by :class:`agents.RandomTrader` (replacing
several at once changes the market for all of them: random plants and wind farms going long
push the single imbalance price down, which then rewards random households for staying short).
To keep the suite fast the day is the community's 06:00-18:00 (PV hours and the evening ramp,
48 slots); ``python -m rex_env.simulate community`` and the README give full days.
"""

from __future__ import annotations

import pytest

from rex_env.sim.market import Market

from .helpers import community_run

pytestmark = pytest.mark.slow

SEEDS = (0, 1, 2)
OWNERS = {
    "house00": "intermittent: household with 5 kWp PV",
    "house08": "intermittent: household, load only",
    "wind": "intermittent: 60 kW wind turbine",
    "plant": "plant: 60 kW biogas CHP",
    "battery": "storage: 200 kWh / 80 kW community battery",
}


def energy_kwh(m: Market, owner: str) -> float:
    """Energy the owner's assets moved: consumption + production (+ battery throughput)."""
    st = m.metrics.owner(owner)
    e = st.consumption_kwh + st.production_kwh
    if m.scenario.spec(owner).battery is not None:
        e += st.position_kwh
    return e


@pytest.mark.parametrize("owner", list(OWNERS))
def test_prototype_earns_a_non_negative_surplus(owner: str) -> None:
    """(The storage dealer is in again: it caps its bids at what leftover charge is worth at
    the end, the day's VWAP x round-trip efficiency, and winds down to the day's VWAP, so in
    this flat market, where idling is optimal, it no longer buys at ≈ 80 and dumps the charge
    at ≈ 80, which lost 0.1-0.4 a day. Its positive surplus in the default market is checked
    in ``tests/sim/test_price_formation.py``.)"""
    surplus = [community_run(s).accounts[owner].surplus for s in SEEDS]
    assert sum(surplus) / len(surplus) >= 0.0, surplus
    if owner in ("plant", "battery"):  # no-loss by construction: on every day
        assert min(surplus) >= -1e-9, surplus


@pytest.mark.parametrize("owner", list(OWNERS))
def test_prototype_beats_a_random_trader_holding_the_same_assets(owner: str) -> None:
    diff = [community_run(s).accounts[owner].surplus
            - community_run(s, owner).accounts[owner].surplus for s in SEEDS]
    assert all(d > 0 for d in diff), diff


@pytest.mark.parametrize("owner", list(OWNERS))
def test_prototype_keeps_its_imbalance_low(owner: str) -> None:
    for s in SEEDS:
        m = community_run(s)
        imb = m.accounts[owner].imbalance_volume_kwh
        if owner in ("plant", "battery"):  # dispatchable: it delivers exactly its position
            assert imb == pytest.approx(0.0, abs=1e-6)
            continue
        rnd = community_run(s, owner).accounts[owner].imbalance_volume_kwh
        assert imb < 0.2 * rnd, (imb, rnd)
        assert imb < 0.3 * energy_kwh(m, owner), (imb, energy_kwh(m, owner))


@pytest.mark.parametrize("owner", ["house00", "house08", "wind"])
def test_intermittent_position_at_the_gate_is_the_last_forecast_it_could_see(
        owner: str) -> None:
    """No tracking error: what imbalance remains is the forecast's own error at the gate
    (and the rounding to the lot)."""
    for s in SEEDS:
        m = community_run(s)
        p = m.prosumers[owner]
        sched = m.schedule
        hits = [m.exchange.position(owner, k)
                == round(-p.forecast(k, sched.close_time(k) - 1)[0] / 0.1)
                for k in sched.slots]
        assert sum(hits) >= 0.97 * len(hits), (s, sum(hits), len(hits))
