"""A scenario: who is in the market, what they own, and the market's rules and timing.

Scenarios are frozen and validated at construction, so an invalid one fails before any
simulation starts, with a message that says what is wrong and what is allowed.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

from ..exchange import Grid
from ..physics import YEAR_RANGE
from ..physics.wholesale import WholesaleModel
from .kinds import AGENT_KINDS
from .prosumer import ProsumerSpec
from .schedule import SlotSchedule
from .settlement import SettlementConfig
from .zones import Line, check_zones


@dataclass(frozen=True)
class Tariff:
    """The flat tariff a small prosumer would face without the market.

    The benefit metric's no-market benchmark is the grid's quotes of each slot (its retail ask
    for consumption, its feed-in bid for production: a dynamic, wholesale-indexed tariff,
    :attr:`~rex_env.sim.settlement.OwnerAccount.no_market_cash`); this flat tariff is that
    benchmark (and the value of served consumption) only where the curve is flat
    (``community_flat``, ``toy``, ``town``) and for records settled without slot prices.

    Both defaults are assumptions (not from the notes), of the order of German household
    prices around 2023-2024: about 30 ct/kWh retail and 8 ct/kWh small-PV feed-in.

    Args:
        retail: flat retail price of consumption, currency/MWh.
        feed_in: flat feed-in remuneration of production, currency/MWh.
    """

    retail: float = 300.0
    feed_in: float = 80.0

    def __post_init__(self) -> None:
        for name in ("retail", "feed_in"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise ValueError(f"Tariff.{name} must be a finite number >= 0, got {v!r}")


# -- location and date (issue 16) ------------------------------------------------------------
DEFAULT_YEAR = 2025
"""Year of a scenario without a ``date``: its date is day ``schedule.day_of_year`` of it."""


@dataclass(frozen=True)
class Location:
    """Where a scenario's assets are: the sun (pvlib) and the clock depend on it.

    The default is Kassel, Germany (51.31 N, 9.45 E, 231 m; the DWD test-reference-year
    station against which the clear-sky index is calibrated), close to the latitude 51 N the
    physics used before locations existed.

    Args:
        latitude: degrees north, in [-90, 90].
        longitude: degrees east, in [-180, 180].
        altitude: metres above sea level, in [-450, 9000].
        utc_offset_h: the episode clock's standard time zone, hours east of UTC (no daylight
            saving), in [-14, 14].
        name: a label for listings.
    """

    latitude: float = 51.31
    longitude: float = 9.45
    altitude: float = 231.0
    utc_offset_h: float = 1.0
    name: str = "Kassel"

    def __post_init__(self) -> None:
        for key, lo, hi in (("latitude", -90.0, 90.0), ("longitude", -180.0, 180.0),
                            ("altitude", -450.0, 9000.0), ("utc_offset_h", -14.0, 14.0)):
            v = getattr(self, key)
            if (not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v)
                    or not lo <= v <= hi):
                raise ValueError(f"location.{key} must be a number in [{lo}, {hi}], got {v!r}")
        if not isinstance(self.name, str):
            raise ValueError(f"location.name must be a string, got {self.name!r}")


def _check_date(date: object) -> dt.date:
    lo, hi = YEAR_RANGE
    if not isinstance(date, dt.date) or isinstance(date, dt.datetime):
        raise ValueError(f"date must be a calendar date (datetime.date, or 'YYYY-MM-DD' in a "
                         f"file), got {date!r}")
    if not lo <= date.year <= hi:
        raise ValueError(f"date must lie in {lo}-01-01 .. {hi}-12-31 (the years the profiles "
                         f"are built for), got {date.isoformat()}")
    return date


def _placed(scenario: Scenario) -> tuple[SlotSchedule, tuple[ProsumerSpec, ...]]:
    """The schedule and prosumers with the scenario's date and location applied: the day of
    year comes from ``date``; every PV system takes the location, every asset the year."""
    loc, date = scenario.location, scenario.episode_date
    schedule = scenario.schedule
    if date.timetuple().tm_yday != schedule.day_of_year:
        schedule = replace(schedule, day_of_year=date.timetuple().tm_yday)
    prosumers = []
    for p in scenario.prosumers:
        changes: dict[str, Any] = {}
        if p.pv is not None:
            pv = replace(p.pv, latitude=float(loc.latitude), longitude=float(loc.longitude),
                         altitude=float(loc.altitude), utc_offset_h=float(loc.utc_offset_h),
                         year=date.year)
            if pv != p.pv:
                changes["pv"] = pv
        if p.load is not None and p.load.year != date.year:
            changes["load"] = replace(p.load, year=date.year)
        prosumers.append(replace(p, **changes) if changes else p)
    return schedule, tuple(prosumers)


@dataclass(frozen=True)
class Scenario:
    """Everything that defines a market episode except the seed.

    Args:
        name: the preset's name (or a user's label).
        prosumers: the participants, each with its assets and the agent kind that trades
            for it (see :data:`AGENT_KINDS`).
        schedule: slot length, number of slots, open/gate leads, call phase, day of year.
        grid: tick, lot and price bounds (its ``slot_len`` must equal the schedule's).
        settlement: imbalance settlement mode and its parameters (SPEC §9).
        tariff: the no-market benchmark and value of consumption.
        reference_price: currency/MWh; the opening auctions' reference and agents' prior.
        depth_levels: K, levels per side in the LOB-3D views.
        description: one line for listings.
        learners: the owners an RL policy trades for in the environment (each keeps its
            hand-coded ``agent`` for simulations and as its baseline).
        location: where the assets are (:class:`Location`; default Kassel, 51.3 N). Every PV
            system takes its latitude, longitude, altitude and time zone.
        date: the calendar date of the first delivered slot; it fixes
            ``schedule.day_of_year`` and every asset's ``year``. None (default) means day
            ``schedule.day_of_year`` of :data:`DEFAULT_YEAR` (see :attr:`episode_date`).
        wholesale: the per-episode wholesale curve the grid quotes around
            (:class:`~rex_env.physics.wholesale.WholesaleModel`); ``None``: flat tariffs (the
            grid bids ``tariff.feed_in`` and asks ``tariff.retail`` in every slot).
        forecast_update_s: seconds between forecast revisions, a divisor of the slot length,
            each prosumer's at its own random phase, so revisions arrive all the time rather
            than at slot boundaries (``None``: once per slot, at slot boundaries, the first
            version's schedule).
        zones: zone names (README "Zones"); empty (default): one zone, as before.
        lines: directed transmission paths between zones with their capacity.
        cross_gate_lead: seconds before the local gate closure at which cross-zonal trading
            of a slot ends (0: with the local gate).
    """

    name: str
    prosumers: tuple[ProsumerSpec, ...]
    schedule: SlotSchedule = field(default_factory=SlotSchedule)
    grid: Grid = field(default_factory=Grid)
    settlement: SettlementConfig = field(default_factory=SettlementConfig)
    tariff: Tariff = field(default_factory=Tariff)
    reference_price: float = 100.0
    depth_levels: int = 5
    description: str = ""
    learners: tuple[str, ...] = ()
    location: Location = field(default_factory=Location)
    date: dt.date | None = None
    wholesale: WholesaleModel | None = None
    forecast_update_s: int | None = None
    zones: tuple[str, ...] = ()
    lines: tuple[Line, ...] = ()
    cross_gate_lead: int = 0

    def __post_init__(self) -> None:
        if not self.prosumers:
            raise ValueError(f"scenario {self.name!r} has no prosumers; at least one is needed")
        owners = [p.owner for p in self.prosumers]
        dup = sorted(o for o, n in Counter(owners).items() if n > 1)  # linear: count <= 10^4
        if dup:
            raise ValueError(f"scenario {self.name!r}: owner ids must be unique, repeated: {dup}")
        for p in self.prosumers:
            if p.agent not in AGENT_KINDS:
                raise ValueError(f"scenario {self.name!r}: prosumer {p.owner!r} has agent "
                                 f"{p.agent!r}; allowed: {', '.join(AGENT_KINDS)}")
        if self.grid.slot_len != self.schedule.slot_len:
            raise ValueError(f"grid.slot_len ({self.grid.slot_len}) must equal "
                             f"schedule.slot_len ({self.schedule.slot_len})")
        ref = self.reference_price
        if not isinstance(ref, (int, float)) or not math.isfinite(ref):
            raise ValueError(f"reference_price must be a finite number, got {ref!r}")
        if not isinstance(self.depth_levels, int) or not 1 <= self.depth_levels <= 50:
            raise ValueError(f"depth_levels must be an int in 1..50, got {self.depth_levels!r}")
        unknown = sorted(set(self.learners) - set(owners))
        if unknown:
            raise ValueError(f"scenario {self.name!r}: learners {unknown} are not owners; "
                             f"owners: {owners}")
        if len(set(self.learners)) != len(self.learners):
            raise ValueError(f"scenario {self.name!r}: learners must be unique")
        if self.wholesale is not None and not isinstance(self.wholesale, WholesaleModel):
            raise ValueError(f"wholesale must be a WholesaleModel or None, got "
                             f"{type(self.wholesale).__name__}")
        u = self.forecast_update_s
        if u is not None and (not isinstance(u, int) or isinstance(u, bool) or u < 60
                              or self.schedule.slot_len % u):
            raise ValueError(f"forecast_update_s must be an int >= 60 that divides the slot "
                             f"length {self.schedule.slot_len}, got {u!r}")
        ticks = self.grid.price_ticks(ref)
        if not (self.grid.min_ticks <= ticks <= self.grid.max_ticks):
            raise ValueError(f"reference_price {ref} lies outside the grid's price bounds")
        # location and date (issue 16)
        if not isinstance(self.location, Location):
            raise ValueError(f"location must be a Location, got {self.location!r}")
        if self.date is not None:
            _check_date(self.date)
        elif self.schedule.day_of_year > 365:
            raise ValueError(f"schedule.day_of_year {self.schedule.day_of_year} needs a leap "
                             f"year ({DEFAULT_YEAR} is not): set the scenario's date instead")
        if isinstance(self.zones, list):
            object.__setattr__(self, "zones", tuple(self.zones))
        if isinstance(self.lines, list):
            object.__setattr__(self, "lines", tuple(self.lines))
        check_zones(self.zones, self.lines, {p.owner: p.zone for p in self.prosumers},
                    self.cross_gate_lead, self.schedule.open_lead, self.name)
        schedule, prosumers = _placed(self)
        object.__setattr__(self, "schedule", schedule)
        object.__setattr__(self, "prosumers", prosumers)

    @property
    def episode_date(self) -> dt.date:
        """The calendar date of the first delivered slot: ``date``, or day
        ``schedule.day_of_year`` of :data:`DEFAULT_YEAR`."""
        if self.date is not None:
            return self.date
        return dt.date(DEFAULT_YEAR, 1, 1) + dt.timedelta(days=self.schedule.day_of_year - 1)

    @property
    def zonal(self) -> bool:
        """Whether the market has several zones (a zonal exchange) or one (the plain one)."""
        return bool(self.zones)

    @property
    def owners(self) -> list[str]:
        return [p.owner for p in self.prosumers]

    @property
    def reference_ticks(self) -> int | Fraction:
        return self.grid.price_ticks(self.reference_price)

    def spec(self, owner: str) -> ProsumerSpec:
        for p in self.prosumers:
            if p.owner == owner:
                return p
        raise KeyError(f"no prosumer {owner!r} in scenario {self.name!r}; owners: {self.owners}")

    def with_agents(self, **kinds: str) -> Scenario:
        """A copy in which the named owners are traded by other agent kinds."""
        unknown = sorted(set(kinds) - set(self.owners))
        if unknown:
            raise ValueError(f"unknown owners {unknown}; scenario {self.name!r} has "
                             f"{self.owners}")
        return replace(self, prosumers=tuple(
            replace(p, agent=kinds.get(p.owner, p.agent)) for p in self.prosumers))

    def replace(self, **changes: Any) -> Scenario:
        """A validated copy with some fields changed (``schedule=...``, ``settlement=...``)."""
        return replace(self, **changes)
