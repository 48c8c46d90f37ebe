"""The contract between the market and its participants (SPEC §11).

An agent sees two things when it wakes: the :class:`MarketView` (public: the clock, the slot
schedule, the LOB-3D — never who owns a resting order) and its own :class:`OwnerView` (private:
its orders, positions, cash, forecasts and asset state). It returns :class:`Instruction`\\ s;
the market executes them through the exchange and hands the reports back.

Prices in instructions are integer ticks and rates integer lots (see
:class:`~rex_env.exchange.Grid` for conversions); the views offer both units.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

import numpy as np

from ..exchange import (
    LOB3D,
    AgentId,
    Exchange,
    Grid,
    Kind,
    Order,
    OrderId,
    Phase,
    Report,
    Side,
    Status,
    Tif,
)
from ..exchange.zones import ZonalExchange
from ..spec.schedule import SlotSchedule
from .kernel import Kernel

if TYPE_CHECKING:
    from .curve import PublicCurve
    from .prosumer import Prosumer


class Instruction(NamedTuple):
    """One order instruction; build with :func:`submit`, :func:`cancel`, :func:`modify`."""

    op: str  # "submit" | "cancel" | "modify"
    order_id: int | None = None  # cancel/modify: the order; submit: assigned by the market
    side: Side = Side.BUY
    slot: int = -1
    price: int | None = None  # ticks; None: market order (submit) or keep (modify)
    rate: int | None = None  # lots; None: keep (modify)
    kind: Kind = Kind.LIMIT
    tif: Tif = Tif.GTC
    last_slot: int | None = None  # block orders
    match_zone: str | None = None  # zonal markets: trade only in this zone's book (never rests)


# Instructions are built as plain tuples with the NamedTuple's own defaults: agents issue tens of
# thousands a day, and NamedTuple keyword construction plus Enum attribute lookups cost ~1 us
_new = tuple.__new__
_D = Instruction._field_defaults
_AFTER_ID = tuple(_D[f] for f in Instruction._fields[2:])  # side .. match_zone
_AFTER_RATE = tuple(_D[f] for f in Instruction._fields[6:])  # kind .. match_zone
_LIMIT, _MARKET, _GTC = Kind.LIMIT, Kind.MARKET, Tif.GTC


def submit(side: Side, slot: int, price: int | None, rate: int, tif: Tif = _GTC,
           last_slot: int | None = None, match_zone: str | None = None) -> Instruction:
    """A limit order (or a market order when ``price`` is ``None``); ``match_zone`` makes it
    an explicit cross-zonal order of a zonal market (README "Zones", rule 7)."""
    kind = _MARKET if price is None else _LIMIT
    return _new(Instruction, ("submit", None, side, slot, price, rate, kind, tif, last_slot,
                              match_zone))


def cancel(order_id: int) -> Instruction:
    return _new(Instruction, ("cancel", order_id, *_AFTER_ID))


def modify(order_id: int, price: int | None = None, rate: int | None = None) -> Instruction:
    return _new(Instruction, ("modify", order_id, _D["side"], _D["slot"], price, rate,
                              *_AFTER_RATE))


def compiled_exchange(exchange: object, zonal: object | None = None) -> Any:
    """``exchange`` if compiled decisions may read it directly (the C engine's, in a market
    without zones: :mod:`rex_env._core`), else ``None``."""
    return exchange if zonal is None and getattr(exchange, "engine", None) == "c" else None


class MarketView:
    """Read-only public market information; cheap O(1) accessors for agents' hot paths.

    The quote accessors ask the exchange directly (``best_bid``, ``quotes``, ``depth``,
    ``vwap``, ``traded_volume`` of either engine): agents call them ~100 k times a simulated
    day, and on the C engine each answer through the ``books`` views built a book view and a
    list of levels.
    """

    __slots__ = ("_ex", "_clock", "schedule", "grid", "k", "curve", "zonal", "zone",
                 "_compiled_ex")

    def __init__(self, exchange: Exchange, schedule: SlotSchedule, clock: Kernel,
                 k: int = 5, zonal: ZonalExchange | None = None, zone: str | None = None
                 ) -> None:
        self._ex = exchange
        self.zonal = zonal
        """The zonal exchange of a market with zones (public: every zone's book and the
        capacity left per path and slot), else ``None``; this view shows ``zone``'s book."""
        self.zone = zone
        self._clock = clock
        self.schedule = schedule
        self.grid: Grid = exchange.grid
        self.k = k
        self.curve: PublicCurve | None = None
        """The episode's public wholesale curve and grid quotes (set by the market at reset;
        see :mod:`rex_env.sim.curve`)."""
        self._compiled_ex = compiled_exchange(exchange, zonal)

    @property
    def now(self) -> int:
        """The simulation clock (seconds since episode start)."""
        return self._clock.now

    def open_slots(self) -> range:
        """Traded slots whose book is open now (call or continuous), nearest first."""
        return self.schedule.open_at(self._clock.now)

    def phase(self, slot: int) -> Phase | None:
        return self._ex.phase(slot)

    def best_bid(self, slot: int) -> int | None:
        return self._ex.best_bid(slot)

    def best_ask(self, slot: int) -> int | None:
        return self._ex.best_ask(slot)

    def quotes(self, slot: int) -> tuple[int | None, int | None]:
        """``(best bid, best ask)`` in one query (each ``None`` when that side is empty)."""
        return self._ex.quotes(slot)

    def last_price(self, slot: int) -> int | None:
        book = self._ex.books.get(slot)
        return None if book is None else book.last_price

    def vwap(self, slot: int) -> float | None:
        return self._ex.vwap(slot)

    def traded_volume(self, slot: int) -> int:
        return self._ex.traded_volume(slot)

    def depth(self, slot: int, side: Side, k: int) -> list[tuple[int, int]]:
        """Top ``k`` levels of one side as ``(price ticks, volume lots)``, best first."""
        return self._ex.depth(slot, side, k)

    def compiled(self, cls: Any) -> Any:
        """A compiled decision of :mod:`rex_env._core` (``cls``: ``IntermittentCore``,
        ``ZICore``) bound to this view's exchange and the episode's price curve, or ``None``
        where none can run (the Python engine, a zonal market). The core reads the books and
        its owner's orders in C; the exchange itself stays private (SPEC §11)."""
        ex = self._compiled_ex
        if ex is None:
            return None
        curve, sched = self.curve, self.schedule
        return cls(ex, sched.slot_len, sched.gate_lead, curve,
                   None if curve is None else curve.tick_tables(), submit, cancel, modify)

    def serves(self, core: Any) -> bool:
        """Whether ``core`` (from :meth:`compiled`) is bound to this view's exchange and the
        current episode's curve."""
        return self._compiled_ex is not None and bool(core.uses(self._compiled_ex, self.curve))

    def lob3d(self, slots: Sequence[int] | None = None) -> LOB3D:
        """A fresh LOB-3D snapshot of the given (default: the open) slots."""
        return self._ex.lob3d(self.open_slots() if slots is None else slots, self.k)


class OwnerBook(Protocol):
    """What an owner view reads: an :class:`Exchange`, or in a zonal market the owner's
    :class:`~rex_env.exchange.zones.OwnerAccess` (positions and cash over every zone)."""

    @property
    def orders(self) -> Mapping[OrderId, Order]: ...

    def position(self, owner: AgentId, slot: int) -> int: ...

    def notional(self, owner: AgentId, slot: int) -> int: ...


class OwnerView:
    """What only its owner may see: orders, positions, cash, forecasts, assets.

    The exchange behind it is private (SPEC §11): every accessor filters by the owner. The
    ``Order`` records returned by :meth:`working` are live and must be treated as read-only.
    """

    __slots__ = ("owner", "_exchange", "prosumer", "order_ids", "_positions")

    def __init__(self, owner: str, exchange: OwnerBook, prosumer: Prosumer | None,
                 order_ids: list[int]) -> None:
        self.owner = owner
        self._exchange = exchange
        self.prosumer = prosumer
        self.order_ids = order_ids
        # the engines answer many slots in one call; other exchanges (a zonal market's owner
        # access) one slot at a time
        self._positions = getattr(exchange, "positions", None)

    def position(self, slot: int) -> int:
        """Signed lots bought in the slot so far."""
        return self._exchange.position(self.owner, slot)

    def positions(self, slots: Iterable[int]) -> list[int]:
        """:meth:`position` of each of ``slots`` (one exchange query where it can)."""
        if self._positions is None:
            return [self._exchange.position(self.owner, k) for k in slots]
        return self._positions(self.owner, slots)

    def notional(self, slot: int) -> int:
        """The owner's trade cash in the slot in tick*lot units (received > 0)."""
        return self._exchange.notional(self.owner, slot)

    def working(self, slot: int | None = None) -> list[Order]:
        """The owner's resting orders (optionally of one slot), oldest first."""
        orders = self._exchange.orders
        live = [orders[i] for i in self.order_ids if orders[i].status is Status.RESTING]
        self.order_ids[:] = [o.order_id for o in live]  # type: ignore[misc]
        if slot is None:
            return live
        return [o for o in live if o.first_slot == slot]

    def forecast(self, slot: int, t: int) -> tuple[float, float]:
        """Forecast net rate (kW, production > 0) of the owner's uncontrollable assets."""
        if self.prosumer is None:
            return 0.0, 0.0
        return self.prosumer.forecast(slot, t)

    def forecast_window(self, slots: range, t: int) -> tuple[np.ndarray, np.ndarray]:
        if self.prosumer is None:
            z = np.zeros(len(slots))
            return z, z.copy()
        return self.prosumer.forecast_window(slots, t)


class Agent(ABC):
    """A market participant the simulation drives (hand-coded, or a learned policy's proxy).

    Subclasses set ``owner`` and implement :meth:`act`; ``wake`` says when it acts next.
    """

    owner: str

    @abstractmethod
    def act(self, market: MarketView, me: OwnerView) -> Iterable[Instruction]:
        """Decide what to do now; called at each of the agent's wake-ups."""

    def next_wake(self, now: int, rng: np.random.Generator) -> int | None:
        """The next time to wake (``None``: never). Default: every 60 s."""
        return now + 60

    def reset(self, rng: np.random.Generator) -> None:  # noqa: B027 - optional hook
        """Episode start: forget per-episode state; draw private randomness from ``rng``."""

    def on_reports(self, reports: list[tuple[Instruction, Report]]) -> None:  # noqa: B027
        """The outcome of the instructions of the last :meth:`act` (optional hook)."""


URGENCY_TAU_S = 3600.0
"""Time constant of :func:`make_take_urgency`, seconds (1 h)."""


def make_take_urgency(left_s: float, tau_s: float = URGENCY_TAU_S) -> float:
    """How urgently an order must fill, as a smooth function of the time to its gate.

    ``u = 2 exp(-left_s / tau_s)``, in (0, 2]: ``0`` (far from the gate) is *make* — rest
    passively inside the spread; ``1`` (``tau_s ln 2`` before the gate, 42 min with the
    default) is the touch — take the best opposite quote; ``2`` (at the gate) is *take* at
    the limit — the no-loss limit of the prototypes, 5 % of the reference beyond the touch in
    the env's scale. With the default it is 0.01 at 5.5 h, 0.10 at 3 h, 0.74 at 1 h and 1.7
    at 10 min: patient for most of a 6 h window, decisive over the last hour, and never a
    step. The hand-coded intermittent prosumer (:mod:`agents.intermittent`) and the env's
    ``pricing="make_take"`` decoder (:func:`rex_env.envs.actions.make_take_aggressiveness`)
    both use this one function, so the env's zero action trades like the prototype.
    """
    return 2.0 * math.exp(-max(0.0, left_s) / tau_s)
