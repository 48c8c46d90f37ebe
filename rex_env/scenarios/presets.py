"""Named scenario presets: ``toy``, ``community`` (the default) and ``town``.

Sizes are those of a German residential community in summer (day 172, latitude 51° N):

* a household uses 3,500 kWh/a (BDEW H0-shaped load, mean 0.4 kW);
* rooftop PV is 5-8 kWp with performance ratio 0.8 (≈ 4-6 kW at a clear noon);
* a small community wind turbine is 100-250 kW rated (Weibull k=2, c=7 m/s);
* a provision plant (e.g. a biogas CHP) is 50-100 kW with a marginal cost of 60-90 /MWh;
* a community battery is 100-200 kWh / 50-100 kW;
* the grid behind the community (``grid``, the supplier of last resort) bids below and offers
  above the day's public wholesale curve (``community``), or the flat feed-in and retail
  tariffs (``community_flat``, ``toy``, ``town``), so local prices lie mostly between them.

The classroom market (Gode & Sunder) has its own runner: :mod:`rex_env.classroom`. Scenarios
can also be written as JSON files (:mod:`rex_env.scenarios.loader`).
"""

from __future__ import annotations

from collections.abc import Callable

from ..physics import Battery, Household, ProvisionPlant, PVSystem, WindFarm
from ..physics.wholesale import WholesaleModel
from ..sim.prosumer import ProsumerSpec
from ..sim.schedule import SlotSchedule
from ..sim.settlement import SettlementConfig
from .base import Scenario


def _households(n: int, n_pv: int, n_battery: int, prefix: str = "house",
                agent: str = "intermittent", evening: tuple[int, int, float] = (0, 0, 0.0)
                ) -> list[ProsumerSpec]:
    """``n`` households, the first ``n_pv`` with PV (the last ``n_battery`` of those with a
    battery); ``evening = (first, last, kW)``: households ``first..last-1`` charge an EV or
    run a heat pump in the evening (:attr:`Household.evening_kw`)."""
    out = []
    for i in range(n):
        pv = PVSystem(peak_kw=5.0 + (i % 4)) if i < n_pv else None
        battery = (Battery(energy_kwh=10.0, power_kw=5.0)
                   if n_pv - n_battery <= i < n_pv else None)
        ev = evening[2] if evening[0] <= i < evening[1] else 0.0
        out.append(ProsumerSpec(f"{prefix}{i:02d}", agent,
                                load=Household(annual_kwh=2500.0 + 250.0 * (i % 8),
                                               evening_kw=ev),
                                pv=pv, battery=battery))
    return out


COMMUNITY_ADDER = 20000.0
"""Scarcity adder of the community's single imbalance price, currency/MWh per MWh.

Scaled to the community: its load is ≈ 10 kW, i.e. ≈ 2.5 kWh per 15-min slot, so a system
imbalance of the size of the whole load moves the imbalance price by ≈ 50 /MWh, about half
the price level. With a much smaller adder (2000: 5 /MWh for the same imbalance) imbalance
settles at about the VWAP, and an owner who buys cheap from impatient sellers and leaves the
energy in imbalance is paid the VWAP for it: a random trader holding the plant then earned
more than the prototype plant (market_rules.md §2.2: the scarcity component exists to give
an incentive to balance).
"""


def toy() -> Scenario:
    """Tiny and fast: 8 slots, a 2 h rolling window, six participants (for tests)."""
    schedule = SlotSchedule(n_slots=8, open_lead=2 * 3600, gate_lead=900, call_len=300,
                            day_of_year=172)
    prosumers = (
        ProsumerSpec("house00", "intermittent", load=Household(annual_kwh=3500.0),
                     pv=PVSystem(peak_kw=6.0)),
        ProsumerSpec("house01", "intermittent", load=Household(annual_kwh=4000.0)),
        ProsumerSpec("wind", "intermittent", wind=WindFarm(rated_kw=20.0)),
        ProsumerSpec("plant", "plant", plant=ProvisionPlant(capacity_kw=20.0, cost_a=60.0,
                                                            cost_b=0.5, ramp_kw_per_slot=10.0)),
        ProsumerSpec("battery", "storage", battery=Battery(energy_kwh=40.0, power_kw=20.0)),
        ProsumerSpec("noise0", "zic"),
        ProsumerSpec("grid", "grid", external=True),
    )
    return Scenario("toy", prosumers, schedule=schedule,
                    description="8 slots, 6 participants: for tests and quick checks",
                    learners=("house00", "house01"))


COMMUNITY_WHOLESALE = WholesaleModel()
"""The default market's wholesale curve (German 2024 day-ahead statistics,
:mod:`rex_env.physics.wholesale`): the grid bids the curve - 10 and asks the curve + 120."""

COMMUNITY_GRID_EXPORT_KW = 40.0
"""The community's export capacity (kW per slot): the grid's feed-in bid has this depth, so on
a sunny, windy midday the community cannot sell everything at the grid's bid and local prices
fall below it (a feed-in limit, as at a congested low-voltage feeder). Imports are unlimited
(the grid is the supplier of last resort)."""


def community() -> Scenario:
    """The default: a community trading one spring day against a wholesale-indexed grid.

    24 households (8 with PV, 3 of those with a home battery; the 16 others charge an EV or
    run a heat pump in the evening, 3 kW at 19:00), a 60 kW wind turbine, a 30 kW biogas
    plant (marginal cost 70-100 /MWh), a 200 kWh community battery run by a storage dealer,
    4 ZI-C noise traders anchored to the public curve, and the grid connection quoting around
    the day's wholesale curve (:data:`COMMUNITY_WHOLESALE`) with a 40 kW export limit
    (:data:`COMMUNITY_GRID_EXPORT_KW`). Forecast revisions arrive once per slot at each
    prosumer's own random phase, so revisions reach the market all the time (every 5 min
    at each prosumer costs 10 % more CPU per env step for the same stylized facts). The
    community exports at midday and is short in the evening peak (and on calm nights), so
    local prices move between the grid's quotes and the plant and the storage dealer face
    real scarcity. Single-price imbalance settlement with a scarcity
    adder scaled to the community (:data:`COMMUNITY_ADDER`); day 100.
    """
    prosumers = [
        *_households(24, n_pv=8, n_battery=3, evening=(8, 24, 3.0)),
        ProsumerSpec("wind", "intermittent", wind=WindFarm(rated_kw=60.0)),
        ProsumerSpec("plant", "plant", plant=ProvisionPlant(capacity_kw=30.0, min_stable_kw=0.0,
                                                            cost_a=70.0, cost_b=1.0,
                                                            ramp_kw_per_slot=15.0)),
        ProsumerSpec("battery", "storage", battery=Battery(energy_kwh=200.0, power_kw=80.0)),
        *(ProsumerSpec(f"noise{i}", "zic") for i in range(4)),
        ProsumerSpec("grid", "grid", external=True,
                     params=(("bid_kw", COMMUNITY_GRID_EXPORT_KW),)),
    ]
    return Scenario("community", tuple(prosumers), schedule=SlotSchedule(day_of_year=100),
                    settlement=SettlementConfig(mode="single", scarcity_adder=COMMUNITY_ADDER),
                    description="24 households (16 with evening EV/heat-pump load), wind, "
                                "biogas plant, battery, 4 noise traders, wholesale-indexed grid",
                    learners=tuple(f"house{i:02d}" for i in range(8)),
                    wholesale=COMMUNITY_WHOLESALE, forecast_update_s=900)


def community_flat() -> Scenario:
    """The first version's default market: flat tariffs, slot-boundary forecast revisions.

    24 households (8 with PV, 3 of those with a home battery), a 60 kW wind turbine, a 60 kW
    biogas plant, a 200 kWh community battery run by a storage dealer, 4 ZI-C noise traders
    and the grid connection (feed-in 80 and retail 300 in every slot, 500 kW deep); a spring
    day (day 100); single-price imbalance settlement with a scarcity adder scaled to the
    community (:data:`COMMUNITY_ADDER`). The community exports in every slot, so the grid's
    feed-in bid sets most prices (kept for the mechanics it pins and for comparison).
    """
    prosumers = [
        *_households(24, n_pv=8, n_battery=3),
        ProsumerSpec("wind", "intermittent", wind=WindFarm(rated_kw=60.0)),
        ProsumerSpec("plant", "plant", plant=ProvisionPlant(capacity_kw=60.0, min_stable_kw=0.0,
                                                            cost_a=70.0, cost_b=0.3,
                                                            ramp_kw_per_slot=20.0)),
        ProsumerSpec("battery", "storage", battery=Battery(energy_kwh=200.0, power_kw=80.0)),
        *(ProsumerSpec(f"noise{i}", "zic") for i in range(4)),
        ProsumerSpec("grid", "grid", external=True),
    ]
    return Scenario("community_flat", tuple(prosumers), schedule=SlotSchedule(day_of_year=100),
                    settlement=SettlementConfig(mode="single", scarcity_adder=COMMUNITY_ADDER),
                    description="24 households, wind, biogas plant, battery, 4 noise traders "
                                "(flat tariffs)",
                    learners=tuple(f"house{i:02d}" for i in range(8)))


def town() -> Scenario:
    """A larger market for throughput benchmarks: 120 participants, 96 slots."""
    prosumers = [
        *_households(100, n_pv=50, n_battery=10),
        *(ProsumerSpec(f"wind{i}", "intermittent", wind=WindFarm(rated_kw=250.0))
          for i in range(2)),
        *(ProsumerSpec(f"plant{i}", "plant",
                       plant=ProvisionPlant(capacity_kw=100.0, cost_a=60.0 + 10 * i, cost_b=0.2,
                                            ramp_kw_per_slot=40.0)) for i in range(3)),
        *(ProsumerSpec(f"battery{i}", "storage", battery=Battery(energy_kwh=200.0, power_kw=80.0))
          for i in range(3)),
        *(ProsumerSpec(f"noise{i}", "zic") for i in range(12)),
        ProsumerSpec("grid", "grid", external=True),
    ]
    return Scenario("town", tuple(prosumers),
                    description="100 households, 2 wind, 3 plants, 3 batteries, 12 noise traders",
                    learners=tuple(f"house{i:02d}" for i in range(10)))


def bandit() -> Scenario:
    """A learning check with a known optimum: one 20 kW wind farm (the learner) and the grid.

    The grid's standing bid (the feed-in tariff, 80 /MWh) is the only buyer, and `dual`
    settlement with a fee of 100 /MWh makes any imbalance a loss (a surplus is paid
    ``min price / 2 - 100``, a shortfall pays ``max price * 2 + 100``). The optimal action is
    therefore known: reserve exactly the forecast (``target = 0``) and take the bid at the
    touch (``aggressiveness >= 0``); passive offers never fill. 8 slots, a 1 h window.
    """
    schedule = SlotSchedule(n_slots=8, open_lead=3600, gate_lead=900, call_len=0)
    prosumers = (ProsumerSpec("wind", "intermittent", wind=WindFarm(rated_kw=20.0)),
                 ProsumerSpec("grid", "grid", external=True))
    return Scenario("bandit", prosumers, schedule=schedule,
                    settlement=SettlementConfig(mode="dual", premium=1.0, fee=100.0),
                    description="one wind farm and the grid: a known optimal action",
                    learners=("wind",))


PRESETS: dict[str, Callable[[], Scenario]] = {"toy": toy, "community": community,
                                              "community_flat": community_flat, "town": town,
                                              "bandit": bandit}
DEFAULT = "community"
