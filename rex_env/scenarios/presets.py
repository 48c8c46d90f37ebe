"""Named scenario presets: ``toy``, ``community`` (the default), ``town``, ``bandit``, and the
season variants ``community_winter`` and ``community_summer`` (real dates, a real turbine).

Sizes are those of a German residential community; every preset is placed at the scenario
default location (Kassel, 51.3° N, :class:`~rex_env.spec.scenario.Location`):

* a household uses 3,500 kWh/a (BDEW H0 load from demandlib, mean 0.4 kW);
* rooftop PV is 5-8 kWp, 30° south, pvlib's clear sky and PVWatts model (≈ 3.5-5.5 kW at a
  clear summer noon);
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

import datetime as dt
from collections.abc import Callable
from dataclasses import replace

from ..physics import Battery, Household, ProvisionPlant, PVSystem, WindFarm
from ..physics.wholesale import WholesaleModel
from ..spec.prosumer import ProsumerSpec
from ..spec.scenario import Scenario
from ..spec.schedule import SlotSchedule
from ..spec.settlement import SettlementConfig
from ..spec.zones import Line


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

Revisited with the reBAP-style coupling (:mod:`rex_env.sim.settlement`) and flat noise traders
(issue 11): the coupling does not add an incentive of its own (the VWAP minus an adder was
already never better than the VWAP for the side that caused the imbalance); what changed is
that the sign of the system imbalance is no longer predictable (long in 48 % of slots, 8
days), so the expected cost of an imbalance ``e`` is the adder's ``≈ adder * e^2``. For a
household (``e`` ≈ 0.25 kWh a slot) that is ≈ 0.12 a day at 20000, about what trading costs it
in spread, so a smaller adder would make not trading pay for households: 20000 stays.
Measured at 20000 (community, 8 days): mean(imbalance price - VWAP) = +0.8 /MWh; a household
selling 1 kW more (less) than its forecast loses 0.17 (0.11) a day against the prototype.
"""

TOWN_ADDER = 5000.0
"""Scarcity adder of ``town``, scaled like :data:`COMMUNITY_ADDER`: its 100 households use ≈ 10
kWh per slot, so an imbalance the size of the load moves the price by ≈ 50 /MWh. With the
default adder (50) imbalance settled at about the VWAP and a wind farm that never traded
earned about as much as the prototype (issue 11); at 5000 it loses ≈ 250 a day against it.
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
                    settlement=SettlementConfig(mode="single", scarcity_adder=TOWN_ADDER),
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


TWO_TOWNS_LINE_KW = 15.0
"""Capacity of the line between ``rural`` and ``town`` in each direction, kW per slot: an
eighth of the rural turbines' rated power, so the rural wind surplus congests it on windy
hours (measured, 3 seeds: 5-21 h a day; at 40 kW it congested 4-11 h but the zone prices
split less clearly than their noise). Chosen by looking at the spread in congested against
uncongested slots (README "Zones: two_towns")."""


def two_towns() -> Scenario:
    """Two zones linked by one line (issue 17; README "Zones").

    ``rural``: a windy village — two 60 kW turbines (mean wind 8 m/s at hub height), 6
    households, 2 ZI-C noise traders, no grid connection of its own. ``town``: 24 households
    (8 with PV, 16 charging an EV or running a heat pump at 3 kW in the evening), a 30 kW
    biogas plant, a 200 kWh battery, 2 ZI-C noise traders, the grid connection quoting
    around the wholesale curve (as in ``community``), and a spatial arbitrager. The line
    carries :data:`TWO_TOWNS_LINE_KW` each way; the rural surplus congests it on windy hours,
    so the zones' prices split (the rural zone cheaper).
    Cross-zonal trading of a slot ends 10 min before its local gate closure.
    """
    wind = WindFarm(rated_kw=60.0, weibull_c=9.0)
    rural = [
        *(replace(p, zone="rural") for p in _households(6, n_pv=2, n_battery=0,
                                                         prefix="farm")),
        *(ProsumerSpec(f"wind{i}", "intermittent", wind=wind, zone="rural") for i in range(2)),
        *(ProsumerSpec(f"rnoise{i}", "zic", zone="rural") for i in range(2)),
    ]
    town = [
        *(replace(p, zone="town") for p in _households(24, n_pv=8, n_battery=3,
                                                        evening=(8, 24, 3.0))),
        ProsumerSpec("plant", "plant", plant=ProvisionPlant(capacity_kw=30.0, min_stable_kw=0.0,
                                                            cost_a=70.0, cost_b=1.0,
                                                            ramp_kw_per_slot=15.0),
                     zone="town"),
        ProsumerSpec("battery", "storage", battery=Battery(energy_kwh=200.0, power_kw=80.0),
                     zone="town"),
        *(ProsumerSpec(f"tnoise{i}", "zic", zone="town") for i in range(2)),
        ProsumerSpec("grid", "grid", external=True,
                     params=(("bid_kw", COMMUNITY_GRID_EXPORT_KW),), zone="town"),
        ProsumerSpec("arbitrager", "spatial", zone="town"),
    ]
    lines = (Line("rural", "town", TWO_TOWNS_LINE_KW), Line("town", "rural", TWO_TOWNS_LINE_KW))
    return Scenario("two_towns", tuple(rural + town), schedule=SlotSchedule(day_of_year=100),
                    settlement=SettlementConfig(mode="single", scarcity_adder=COMMUNITY_ADDER),
                    description="a windy village exporting to a town with evening load over "
                                "one 15 kW line; a spatial arbitrager",
                    wholesale=COMMUNITY_WHOLESALE, forecast_update_s=900,
                    learners=tuple(f"house{i:02d}" for i in range(8)),  # once envs take zones
                    zones=("rural", "town"), lines=lines, cross_gate_lead=600)


PRESETS: dict[str, Callable[[], Scenario]] = {"toy": toy, "community": community,
                                              "community_flat": community_flat, "town": town,
                                              "bandit": bandit, "two_towns": two_towns}
DEFAULT = "community"


# -- seasons at a real place (issue 16: physics from pvlib, windpowerlib, demandlib) ---------
# The community on calendar dates at the default location (Kassel, 51.3 N), with a real
# turbine: the wind farm is 60 kW of Enercon E-53/800 turbines (windpowerlib's library, hub
# 73 m), the wind described at 10 m by the Weibull AR(1) fitted to the DWD test reference
# year (benchmarks/calibrate_physics.py) and carried to the hub by the logarithmic profile.

TRY_WIND: dict[str, float] = {"weibull_k": 1.97, "weibull_c": 4.51, "tau_s": 55000.0}
"""Weibull AR(1) of the hourly 10 m wind speed of DWD TRY2010 region 4 (Potsdam), shipped
with demandlib: maximum-likelihood Weibull fit; tau (15.3 h) fitted to the autocorrelation of
the Gaussianised series over lags 1-24 h (the lag-1 value alone, 0.83, would give 5.4 h and
lose the persistence over a trading day)."""

SEASON_TURBINE = "E-53/800"
"""The season presets' turbine type (windpowerlib's library)."""


def _community_on(name: str, date: dt.date, description: str) -> Scenario:
    base = community()
    wind = WindFarm(rated_kw=60.0, turbine_type=SEASON_TURBINE, hub_height=73.0,
                    speed_height=10.0, weibull_k=TRY_WIND["weibull_k"],
                    weibull_c=TRY_WIND["weibull_c"], tau_s=TRY_WIND["tau_s"])
    prosumers = tuple(replace(p, wind=wind) if p.wind is not None else p
                      for p in base.prosumers)
    return base.replace(name=name, prosumers=prosumers, date=date, description=description)


def community_winter() -> Scenario:
    """The community on Wednesday 15 January 2025 in Kassel: short days, high load."""
    return _community_on("community_winter", dt.date(2025, 1, 15),
                         "community on a January workday in Kassel (E-53 turbine)")


def community_summer() -> Scenario:
    """The community on Wednesday 16 July 2025 in Kassel: long days, a PV surplus at noon."""
    return _community_on("community_summer", dt.date(2025, 7, 16),
                         "community on a July workday in Kassel (E-53 turbine)")


PRESETS.update({"community_winter": community_winter, "community_summer": community_summer})
