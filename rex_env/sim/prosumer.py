"""A prosumer's physical side during one episode: assets, forecasts, realization (SPEC §8).

Uncontrollable assets (wind, PV, household load) have a true per-slot rate drawn at episode
start and a :class:`~rex_env.physics.ForecastPath` per asset that reveals it as delivery
approaches. Controllable assets (provision plant, battery) are dispatched *at delivery* to
meet the owner's reservation: the plant produces what was sold within its limits, and the
battery fills what is left within its power and state-of-charge limits. What they cannot meet
becomes imbalance (SPEC §9).

Sign convention: net rate > 0 is production (export), < 0 consumption.
"""

from __future__ import annotations

import math
from functools import cached_property
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from ..physics import ForecastPath
from ..spec.prosumer import ProsumerSpec, load_peak_kw
from ..spec.schedule import SlotSchedule

_WIND, _PV, _LOAD, _FORECAST, _PHASE = range(5)
"""A prosumer's streams, in the order of ``rng.spawn(5)``; the forecast stream's own children
are wind, PV and load in this order too."""


def _seed_child(root: np.random.SeedSequence, *path: int) -> np.random.SeedSequence:
    """The seed sequence that spawning would build at ``path`` below ``root`` (its spawn key
    extended by ``path``), built alone: its siblings need not be."""
    return np.random.SeedSequence(root.entropy, spawn_key=root.spawn_key + path,
                                  pool_size=root.pool_size)


class Realized(NamedTuple):
    """One slot's physical outcome for one owner (rates in kW, cost in currency)."""

    net_kw: float
    consumption_kw: float
    production_kw: float
    production_cost: float
    plant_kw: float
    battery_kw: float


class Prosumer:
    """The per-episode physical state of one :class:`ProsumerSpec`."""

    _update_s: int
    """Seconds between forecast revisions."""

    def __init__(self, spec: ProsumerSpec, schedule: SlotSchedule,
                 rng: np.random.Generator, update_s: int | None = None,
                 like: Prosumer | None = None, owned: bool = False) -> None:
        """``update_s``: seconds between forecast revisions, a divisor of the slot length; the
        revisions then arrive at a random phase of their own (drawn per prosumer), not at slot
        boundaries. ``None`` (the default): once per slot, at slot boundaries.

        ``like``: this owner's prosumer of an earlier episode (same spec, schedule and
        ``update_s``), whose tables that depend on no draw (the forecasts' standard
        deviations, the PV error scale) are reused instead of rebuilt: a market reset builds
        every prosumer again, and those tables were a large part of its cost.

        ``owned``: nothing else spawns from ``rng`` later (a market gives each prosumer a
        child of its own): the streams are then built without advancing ``rng``'s spawn
        counter. The streams are those of ``rng.spawn(5)`` either way.
        """
        self.spec = spec
        self.schedule = schedule
        n, L, doy = schedule.n_slots, schedule.slot_len, schedule.day_of_year
        U = L if update_s is None else int(update_s)
        if U <= 0 or L % U:
            raise ValueError(f"update_s must be a divisor of the slot length {L}, got {U}")
        if like is not None and not (like.spec is spec and like.schedule is schedule
                                     and like._update_s == U):
            raise ValueError("like must be a prosumer of the same spec, schedule and update_s "
                             f"(got owner {like.spec.owner!r} for {spec.owner!r})")
        self._first = schedule.first_slot
        self._slot_len = L
        self._update_s = U
        revisions = -(-schedule.open_lead // U)
        gen = np.zeros(n)
        cons = np.zeros(n)
        paths: list[tuple[ForecastPath, float]] = []  # (path, sign)
        # The streams are rng.spawn(5) (see _WIND ... _PHASE) and the forecast stream's
        # spawn(3) (wind, PV, load); only those drawn from are built (a seed sequence costs
        # ~3 us, a generator ~4 us, and most prosumers have one asset of three).
        root = rng.bit_generator.seed_seq
        if not isinstance(root, np.random.SeedSequence):
            raise TypeError("rng must be seeded by a numpy SeedSequence (as "
                            f"np.random.default_rng(seed) is), got {type(root).__name__}")
        gen_type, bits_type = type(rng), type(rng.bit_generator)
        base = root.n_children_spawned
        spawned = None if owned else root.spawn(5)  # advances rng's counter, as spawn(5) did

        def stream(*path: int) -> np.random.Generator:
            """The generator of the child at ``path`` below ``rng``."""
            if spawned is not None and len(path) == 1:
                return gen_type(bits_type(spawned[path[0]]))
            return gen_type(bits_type(_seed_child(root, base + path[0], *path[1:])))

        # phase: revisions of slot k arrive at T_k - phase - j U (0 without update_s, the first
        # version's schedule; the phase stream is then not drawn from)
        self._phase = 0 if update_s is None else int(stream(_PHASE).integers(U))
        self.pv_truth: NDArray[np.float64] | None = None
        """The PV output alone (kW per slot), for the day's clearness of the price curve."""
        self._pv_scale: NDArray[np.float64] | None = None
        if spec.wind is not None:
            y = spec.wind.sample(stream(_WIND), n, L)
            gen += y
            paths.append((ForecastPath(stream(_FORECAST, _WIND), y, spec.wind.capacity_kw,
                                       revisions, slot_len=L, update_s=U,
                                       bounds=(0.0, spec.wind.capacity_kw)), 1.0))
        if spec.pv is not None:
            y = spec.pv.sample(stream(_PV), doy, n, L)
            self.pv_truth = y
            gen += y
            # the error scales with the clear-sky potential: zero when the sun is down, so a
            # night forecast is exactly 0 instead of a positive (clipped) error
            if like is not None and like._pv_scale is not None:
                self._pv_scale = like._pv_scale
            else:
                potential = spec.pv.clear_sky_kw(doy, n, L) / spec.pv.capacity_kw
                self._pv_scale = np.clip(potential, 0.0, 1.0)
            paths.append((ForecastPath(stream(_FORECAST, _PV), y, spec.pv.capacity_kw,
                                       revisions, slot_len=L, update_s=U,
                                       bounds=(0.0, spec.pv.capacity_kw),
                                       scale=self._pv_scale), 1.0))
        if spec.load is not None:
            y = spec.load.sample(stream(_LOAD), doy, n, L)
            cons += y
            paths.append((ForecastPath(stream(_FORECAST, _LOAD), y, load_peak_kw(spec.load),
                                       revisions, slot_len=L, update_s=U,
                                       bounds=(0.0, math.inf)), -1.0))
        self.paths: tuple[tuple[ForecastPath, float], ...] = tuple(paths)
        """The forecast path of each uncontrollable asset and its sign in the net rate."""
        self.generation: NDArray[np.float64] = gen
        self.consumption: NDArray[np.float64] = cons
        # Every forecast the episode can show, precomputed: the net forecast of local slot i
        # with m revisions to go is fc_mean[i, m]; its standard deviation fc_std[i, m].
        # Reading a forecast is then indexing (agents read them at every wake-up).
        self._revisions = revisions
        mean = np.zeros((n, revisions + 1))
        for path, sign in paths:
            if sign > 0:  # sign is +1 or -1, and a - b is a + (-1 * b) exactly
                mean += path.means
            else:
                mean -= path.means
        self.fc_mean = mean
        if like is None:
            var = np.zeros((n, revisions + 1))
            for path, _ in paths:
                var += path.sigma_table**2
            self.fc_std = np.sqrt(var)
            self.fc_std.setflags(write=False)  # shared with the prosumers built like this one
        else:
            self.fc_std = like.fc_std
            if "_fc_std_rows" in like.__dict__:  # read (and built) in the earlier episode
                self._fc_std_rows = like._fc_std_rows
        self.plant_kw = 0.0  # previous slot's plant output (ramp limits)
        self.soc_kwh = spec.battery.initial_energy_kwh if spec.battery is not None else 0.0

    # -- forecasts ----------------------------------------------------------------------------
    @cached_property
    def _fc_rows(self) -> list[list[float]]:
        """``fc_mean`` as nested lists for :meth:`forecast` (a list read is ~3x faster than a
        numpy scalar read); built on the first read, since many owners never read one."""
        rows: list[list[float]] = self.fc_mean.tolist()
        return rows

    @cached_property
    def _fc_std_rows(self) -> list[list[float]]:
        """``fc_std`` as nested lists, like :attr:`_fc_rows` (and passed on to later episodes'
        prosumers built ``like`` this one: the standard deviations depend on no draw)."""
        rows: list[list[float]] = self.fc_std.tolist()
        return rows

    def _m(self, slot: int, t: int) -> int:
        """Revisions still to come for ``slot`` at time ``t`` (0 from ``phase`` seconds before
        delivery start on)."""
        L = self.schedule.slot_len
        m = -((t + self._phase - slot * L) // self._update_s)  # ceil((T_k - phase - t) / U)
        return 0 if m < 0 else (self._revisions if m > self._revisions else m)

    def forecast_window(self, slots: range | NDArray[np.int64], t: int
                        ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Forecast net rate (kW) and its standard deviation for many slots at time ``t``.

        Independent asset errors add in variance; fresh arrays.
        """
        k = np.asarray(slots, dtype=np.intp)
        L = self.schedule.slot_len
        m = -((t + self._phase - k * L) // self._update_s)
        # clipped in place: np.clip's Python wrapper costs more than the rest of this call, and
        # the env calls it ~20 times a step
        np.maximum(m, 0, out=m)
        np.minimum(m, self._revisions, out=m)
        i = k - self._first
        return self.fc_mean[i, m], self.fc_std[i, m]

    def forecast(self, slot: int, t: int) -> tuple[float, float]:
        """Forecast net rate (kW, production > 0) of one slot and its standard deviation."""
        # _m inlined: agents call this for every slot they manage at every wake-up
        m = -((t + self._phase - slot * self._slot_len) // self._update_s)
        if m < 0:
            m = 0
        elif m > self._revisions:
            m = self._revisions
        i = slot - self._first
        return self._fc_rows[i][m], self._fc_std_rows[i][m]

    def forecast_tables(self) -> tuple[int, int, int, int, int, list[list[float]]]:
        """What :meth:`forecast` reads: ``(first slot, phase s, slot length s, update period
        s, revisions, mean rows)`` (the rows are the prosumer's own lists: read-only). For
        compiled agents that read many forecasts in one call
        (:class:`rex_env._core.IntermittentCore`)."""
        return (self._first, self._phase, self._slot_len, self._update_s, self._revisions,
                self._fc_rows)

    def forecast_std_rows(self) -> list[list[float]]:
        """The standard deviations :meth:`forecast` reads, one row per slot as in
        :meth:`forecast_tables` (the prosumer's own lists: read-only), for compiled agents that
        need both (:class:`rex_env._core.NewsvendorCore`)."""
        return self._fc_std_rows

    def forecast_arrays(self) -> tuple[int, int, int, int, int, NDArray[np.float64],
                                       NDArray[np.float64]]:
        """What :meth:`forecast_window` reads: ``(first slot, phase s, slot length s, update
        period s, revisions, mean table, std table)`` (the prosumer's own arrays: read-only),
        for compiled readers of many forecasts (:func:`rex_env._core.private_slots`)."""
        return (self._first, self._phase, self.schedule.slot_len, self._update_s,
                self._revisions, self.fc_mean, self.fc_std)

    def uncontrollable_kw(self, slot: int) -> float:
        """True net rate of the uncontrollable assets in a slot (known only at delivery)."""
        i = slot - self._first
        return float(self.generation[i] - self.consumption[i])

    # -- delivery -----------------------------------------------------------------------------
    def flexible_range(self) -> tuple[float, float]:
        """What the controllable assets can add to the net rate in the next delivered slot."""
        lo = hi = 0.0
        L = self.schedule.slot_len
        if self.spec.plant is not None:
            p_lo, p_hi = self.spec.plant.feasible_range(self.plant_kw)
            if self.spec.plant.can_switch_off(self.plant_kw):
                p_lo = 0.0
            lo += p_lo
            hi += p_hi
        if self.spec.battery is not None:
            b_lo, b_hi = self.spec.battery.feasible_rate_range(self.soc_kwh, L)
            lo += b_lo
            hi += b_hi
        return lo, hi

    def realize(self, slot: int, reserved_net_kw: float) -> Realized:
        """Deliver a slot: dispatch the flexible assets toward the reservation."""
        i = slot - self._first
        L = self.schedule.slot_len
        if self.spec.external:
            return Realized(reserved_net_kw, 0.0, 0.0, 0.0, 0.0, 0.0)
        gen = float(self.generation[i])
        cons = float(self.consumption[i])
        target = reserved_net_kw - (gen - cons)  # what the flexible assets should add
        plant_kw = 0.0
        cost = 0.0
        spec = self.spec
        if spec.plant is not None:
            plant_kw = spec.plant.dispatch(max(target, 0.0), self.plant_kw)
            cost = spec.plant.cost(plant_kw, L)
            self.plant_kw = plant_kw
            target -= plant_kw
        battery_kw = 0.0
        if spec.battery is not None:
            battery_kw, self.soc_kwh = spec.battery.apply(self.soc_kwh, target, L)
        net = gen - cons + plant_kw + battery_kw
        return Realized(net, cons, gen + plant_kw, cost, plant_kw, battery_kw)
