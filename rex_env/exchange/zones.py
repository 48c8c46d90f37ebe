"""Several zones linked by transmission capacity: cross-zonal continuous matching (SPEC §13).

A :class:`ZonalExchange` holds one ordinary :class:`~.exchange.Exchange` per zone (either
engine, unchanged) and a table of directed transmission capacities in lots per path and
delivery slot. It couples the zones *implicitly, order by order*, the way the European single
intraday coupling does: an incoming order in zone A trades, in price-time priority, against
its own book and against the books of every zone from which (buy) or to which (sell) a path
still has capacity left; each cross-zonal fill consumes capacity of that path, and a fill the
other way frees it again (netting). The remainder rests in A's book.

Rules (README "Rules", section "Zones"; every one is pinned by ``tests/exchange/test_zones*``):

1. **Zones and paths.** Zones are named by non-empty strings. A path ``(a, b)`` carries energy
   from ``a`` to ``b``; its capacity is a non-negative number of lots per slot (a default and
   per-slot values). A pair of zones is *linked* when at least one direction is declared. An
   unknown zone, a path to a missing zone, a path from a zone to itself or a negative capacity
   is refused (``ValueError`` in the constructor, ``unknown_zone`` / ``bad_field`` for
   :meth:`ZonalExchange.set_capacity`) and changes nothing.
2. **Capacity left.** For linked ``a, b`` and slot ``k`` with gross cross-zonal flows
   ``f(a->b)``, ``f(b->a)`` (lots traded so far): ``left(a->b) = cap(a->b) - f(a->b) +
   f(b->a)``. So ``-cap(b->a) <= f(a->b) - f(b->a) <= cap(a->b)`` always: capacity is never
   exceeded, and a counter-flow frees capacity. Capacity left is public (:meth:`capacity_left`).
   A capacity may be changed at any time, but never below the net flow already on the path.
3. **Matching.** An order entering zone A's book in continuous trading is matched against the
   best opposite resting order among A and every linked zone B whose book for the slot is in
   continuous trading and whose path in the needed direction (``B->A`` for a buy, ``A->B`` for
   a sell) has capacity left, as long as the slot's cross-zonal gate is open. Better price
   first; at equal price the order accepted earlier (a system-wide sequence) first. Each
   cross-zonal fill is limited by the capacity left and executes at the resting order's price.
   Self-trade prevention works across zones: a resting order of the same owner that the
   incoming order reaches is cancelled (``self_trade``), in whatever zone it rests.
4. **Positions and cash belong to the zone where the order was entered.** A buyer in A who
   buys from a seller in B holds the position in A; the seller's in B. Per zone and slot the
   positions sum to the zone's net import (imports minus exports); system-wide they sum to zero,
   and so does trade cash.
5. **Cross-zonal gate closure** (:meth:`close_cross`): after it no order of that slot matches
   across zones; local trading goes on until the local gate (:meth:`close`).
6. **Order types.** ``fok`` counts other owners' volume within its limit in every reachable
   zone, each zone's share capped by its path's capacity left; it fills in full or is killed
   with nothing changed. ``market`` orders sweep across zones up to the price bound. Block
   orders match in their own zone only (the coupling allocates no capacity to them). A modify
   that loses priority re-enters as an incoming order and matches across zones like a new
   one (if children fill it in full, its record says ``filled`` and its old open rate is
   counted as removed, the new rate as offered and filled). The opening auction is per zone
   (no capacity is allocated in a call phase). So the coupled book can be crossed between
   zones after an uncross, a capacity increase or a counter-flow: nothing re-matches resting
   orders; that is what a spatial arbitrager earns from.
7. **Explicit cross-zonal orders.** An order entered in ``zone`` with ``match_zone`` set to
   another zone trades only against ``match_zone``'s book (delivered to ``zone``, consuming the
   path). It never rests (``limit`` + ``gtc`` is ``bad_field``) and needs a linked pair (else
   ``no_path``) and an open cross-zonal gate (else ``slot_closed``).
8. **Ids and faults.** Order ids are unique per zone; cancel and modify name the zone (or the
   owner's home zone). An unknown zone is ``unknown_zone`` (checked first); then the SPEC §5
   checks in their order; then ``no_path`` and the cross-zonal gate. A rejection changes
   nothing. Time is one clock for all zones (a row earlier than the last accepted one is
   ``bad_field``). Order ids of the form ``"\\x1f..."`` are reserved (``bad_field``): the
   coupling executes cross-zonal fills as immediate child orders with such ids and the true
   owner; trades report the parent's id. A lifecycle call without a zone applies to every zone
   where it fits and is rejected only if it fits none.

Single-zone markets never go through this module: they use :class:`~.exchange.Exchange`
directly, so their behaviour and speed are unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import NamedTuple, Protocol, TypeGuard, cast

from .exchange import _KINDS, _SIDES, _TIFS, Lots, Ticks, _is_int, _is_number
from .exchange import Exchange as PythonExchange
from .grid import Grid
from .lob3d import LOB3D
from .orders import (
    EMPTY,
    MAX_BLOCK_SLOTS,
    MAX_LOTS,
    MAX_SLOT,
    MAX_TIME,
    AgentId,
    Kind,
    Order,
    OrderId,
    OrderRecord,
    Phase,
    Reason,
    Report,
    Side,
    Status,
    Tif,
    Trade,
    TradeRecord,
    rejected,
)

CHILD_PREFIX = "\x1f"
"""Order ids starting with this character are reserved for the coupling's child orders."""


class ZoneTrade(NamedTuple):
    """A trade with the zones of both sides; ``zone`` is the book it executed in.

    The first ten fields are those of :class:`~.orders.Trade`; ``trade_id`` is system-wide.
    """

    trade_id: int
    time: int
    slot: int
    price: int
    rate: int
    buy_order_id: OrderId
    sell_order_id: OrderId
    buyer: AgentId
    seller: AgentId
    aggressor: str
    zone: str
    buy_zone: str
    sell_zone: str


class ZoneOrder:
    """The record of an order part of which was filled by cross-zonal child orders.

    ``local`` is the zone exchange's record of the remainder entered under the order's own id
    (``None`` when children filled it all, or it was an explicit cross-zonal order).
    """

    __slots__ = ("order_id", "owner", "zone", "side", "first_slot", "last_slot", "_price",
                 "kind", "tif", "time", "pre_filled", "pre_removed", "local", "end_status",
                 "_seq", "closed")

    def __init__(self, order_id: OrderId, owner: AgentId, zone: str, side: Side, slot: int,
                 price: int | None, kind: Kind, tif: Tif, time: int, seq: int) -> None:
        self.order_id, self.owner, self.zone, self.side = order_id, owner, zone, side
        self.first_slot = self.last_slot = slot
        self._price, self.kind, self.tif, self.time, self._seq = price, kind, tif, time, seq
        self.pre_filled = 0
        self.pre_removed = 0
        self.local: OrderRecord | None = None
        self.end_status = Status.FILLED
        self.closed = False  # filled in full by a coupled modify: the local record was removed

    @property
    def price(self) -> int | None:
        return self._price if self.local is None else self.local.price

    @property
    def seq(self) -> int:
        return self._seq if self.local is None else self.local.seq

    @property
    def rate(self) -> int:
        return 0 if self.local is None else self.local.rate

    @property
    def filled(self) -> int:
        return self.pre_filled + (0 if self.local is None else self.local.filled)

    @property
    def offered(self) -> int:
        return self.pre_filled + self.pre_removed + (
            0 if self.local is None else self.local.offered)

    @property
    def removed(self) -> int:
        return self.pre_removed + (0 if self.local is None else self.local.removed)
    # (pre_removed goes negative after a coupled modify: see ZonalExchange._coupled_modify)

    @property
    def status(self) -> Status:
        return self.end_status if self.local is None or self.closed else self.local.status

    @property
    def reason(self) -> Reason | None:
        return None if self.local is None else self.local.reason

    @property
    def is_block(self) -> bool:
        return False

    def __repr__(self) -> str:
        return (f"ZoneOrder({self.order_id!r}, {self.owner!r}, zone={self.zone!r}, {self.side}, "
                f"slot={self.first_slot}, filled={self.filled}, open={self.rate}, "
                f"{self.status})")


Capacity = int | Mapping[int, int] | Sequence[int]
"""Lots per slot: one number for every slot, ``{slot: lots}`` (others 0) or a per-slot list
starting at slot 0 (slots beyond it 0)."""


def _lots(x: object) -> TypeGuard[int]:
    return _is_int(x) and 0 <= x <= MAX_LOTS


class _LevelWalk(Protocol):
    """The compiled engine's walk of one side of a book (it keeps no Python books)."""

    def _levels(self, slot: int, side: int) -> Iterable[tuple[int, int, Iterable[Order]]]: ...


def _check_capacity(path: object, value: object, zones: Sequence[str]) -> tuple[str, str]:
    if not (isinstance(path, tuple) and len(path) == 2):
        raise ValueError(f"capacity path must be a (from_zone, to_zone) pair, got {path!r}")
    a, b = path
    for z in (a, b):
        if z not in zones:
            raise ValueError(f"capacity path {path!r} names unknown zone {z!r}; zones are "
                             f"{list(zones)}")
    if a == b:
        raise ValueError(f"capacity path {path!r} goes from a zone to itself")
    if isinstance(value, Mapping):
        bad = [(k, v) for k, v in value.items()
               if not (_is_int(k) and 0 <= k <= MAX_SLOT) or not _lots(v)]
    elif isinstance(value, (list, tuple)):
        bad = [(i, v) for i, v in enumerate(value) if not _lots(v)]
    else:
        bad = [] if _lots(value) else [("all", value)]
    if bad:
        raise ValueError(f"capacity of path {path!r}: lots must be ints in 0..{MAX_LOTS} per "
                         f"slot >= 0, got {bad[:3]!r}")
    return a, b


class ZonalExchange:
    """Zones, each with its own exchange, coupled by transmission capacity (module docstring).

    Args:
        zones: zone names (non-empty, unique strings); more with :meth:`add_zone`.
        capacity: ``(from_zone, to_zone) -> lots per slot`` (see :data:`Capacity`).
        grid: tick, lot, bounds, slot length (shared by all zones).
        auto_open: as :class:`~.exchange.Exchange` (replay: every slot open from time 0).
        n_slots: as :class:`~.exchange.Exchange`.
        home: owner -> zone, used when a call names no zone (the simulation's routing).
        engine: the exchange class of every zone (default: the selected engine).

    Raises:
        ValueError: bad zones or capacities (nothing is built).
    """

    def __init__(self, zones: Sequence[str], capacity: Mapping[tuple[str, str], Capacity]
                 | None = None, grid: Grid | None = None, *, auto_open: bool = False,
                 n_slots: int | None = None, home: Mapping[AgentId, str] | None = None,
                 engine: type[PythonExchange] | None = None) -> None:
        zones = list(zones)
        if any(not isinstance(z, str) or not z for z in zones):
            raise ValueError(f"zones must be a list of non-empty strings, got {zones!r}")
        if len(set(zones)) != len(zones):
            raise ValueError(f"zone names must be unique, got {zones!r}")
        caps: dict[tuple[str, str], Capacity] = {}
        for path, value in (capacity or {}).items():
            caps[_check_capacity(path, value, zones)] = value
        for owner, z in (home or {}).items():
            if z not in zones:
                raise ValueError(f"home zone {z!r} of owner {owner!r} is not one of {zones}")
        if engine is None:
            from . import Exchange as selected  # the engine the package selected

            engine = selected
        self.engine: type[PythonExchange] = engine
        self.grid = grid if grid is not None else Grid()
        self.zones = zones
        self.home: dict[AgentId, str] = dict(home or {})
        self.auto_open = auto_open
        self.n_slots = n_slots
        self.exchanges: dict[str, PythonExchange] = {
            z: engine(self.grid, auto_open=auto_open, n_slots=n_slots) for z in zones}
        self._python = engine is PythonExchange or issubclass(engine, PythonExchange)
        self._cap_all: dict[tuple[str, str], int] = {}
        self._cap_slot: dict[tuple[str, str], dict[int, int]] = {}
        for path, value in caps.items():
            self._store_capacity(path, value)
        self.reset()

    # -- capacity ---------------------------------------------------------------------------
    def _store_capacity(self, path: tuple[str, str], value: Capacity) -> None:
        if isinstance(value, Mapping):
            self._cap_all[path] = 0
            self._cap_slot[path] = {int(k): int(v) for k, v in value.items()}
        elif isinstance(value, int):
            self._cap_all[path] = int(value)
            self._cap_slot[path] = {}
        else:  # a list or tuple (_check_capacity refused anything else)
            self._cap_all[path] = 0
            self._cap_slot[path] = {i: int(v) for i, v in enumerate(value)}

    def _rebuild_links(self) -> None:
        self._links: dict[str, list[str]] = {z: [] for z in self.zones}
        for a, b in self._cap_all:
            for x, y in ((a, b), (b, a)):
                if y not in self._links[x]:
                    self._links[x].append(y)
        for z in self._links:
            self._links[z].sort(key=self.zones.index)

    @property
    def paths(self) -> list[tuple[str, str]]:
        """Declared directed paths, in declaration order."""
        return list(self._cap_all)

    def neighbours(self, zone: str) -> list[str]:
        """Zones linked to ``zone`` (either direction declared), in zone order."""
        return list(self._links.get(zone, ()))

    def linked(self, a: str, b: str) -> bool:
        """Whether at least one direction between two zones is declared."""
        return (a, b) in self._cap_all or (b, a) in self._cap_all

    def capacity(self, a: str, b: str, slot: int) -> int:
        """Declared capacity of the path ``a -> b`` for a slot, in lots (0 if undeclared)."""
        if (a, b) not in self._cap_all:
            return 0
        return self._cap_slot[(a, b)].get(slot, self._cap_all[(a, b)])

    def flow(self, a: str, b: str, slot: int) -> int:
        """Gross lots traded so far from zone ``a`` to zone ``b`` in a slot."""
        return self._flow.get((a, b, slot), 0)

    def net_flow(self, a: str, b: str, slot: int) -> int:
        """Net lots from ``a`` to ``b`` (negative: net the other way)."""
        return self.flow(a, b, slot) - self.flow(b, a, slot)

    def capacity_left(self, a: str, b: str, slot: int) -> int:
        """Lots that can still flow ``a -> b`` in a slot: capacity plus counter-flow freed."""
        if not self.linked(a, b):
            return 0
        return self.capacity(a, b, slot) - self.net_flow(a, b, slot)

    def add_zone(self, name: str) -> Report:
        """Declare one more zone (replay's ``zone`` rows); ``bad_field`` for an empty name, a
        name that is not a string, or one already declared."""
        if not isinstance(name, str) or not name or name in self.exchanges:
            return rejected(Reason.BAD_FIELD)
        self.zones.append(name)
        ex = self.engine(self.grid, auto_open=self.auto_open, n_slots=self.n_slots)
        self.exchanges[name] = ex
        self._parents[name] = {}
        self._rebuild_links()
        return Report(None, None, None, EMPTY, EMPTY, EMPTY)

    def set_capacity(self, a: str, b: str, lots: int, slot: int | None = None,
                     last_slot: int | None = None) -> Report:
        """Declare or change a path's capacity for slots ``slot..last_slot`` (``last_slot``
        ``None``: just ``slot``; ``slot`` ``None``: every slot).

        Rejected (nothing changes): ``unknown_zone`` for an unknown zone; ``bad_field`` for a
        path from a zone to itself, lots that are not an int in ``0..MAX_LOTS``, slots that are
        not ints in ``0..MAX_SLOT``, a range longer than ``MAX_BLOCK_SLOTS`` or reversed, or a
        capacity below the net flow already on the path in one of the slots.
        """
        if not isinstance(a, str) or not isinstance(b, str) or a not in self.exchanges \
                or b not in self.exchanges:
            return rejected(Reason.UNKNOWN_ZONE)
        if a == b or not _lots(lots):
            return rejected(Reason.BAD_FIELD)
        if slot is None:
            check = [k for (x, y, k) in self._flow if {x, y} == {a, b}]
        else:
            last = slot if last_slot is None else last_slot
            if not (_is_int(slot) and _is_int(last) and 0 <= slot <= last <= MAX_SLOT
                    and last - slot < MAX_BLOCK_SLOTS):
                return rejected(Reason.BAD_FIELD)
            check = list(range(slot, last + 1))
        if any(self.net_flow(a, b, k) > lots for k in check):
            return rejected(Reason.BAD_FIELD)
        if (a, b) not in self._cap_all:
            self._cap_all[(a, b)] = 0
            self._cap_slot[(a, b)] = {}
            self._rebuild_links()
        if slot is None:
            self._cap_all[(a, b)] = lots
            self._cap_slot[(a, b)] = {}
        else:
            for k in check:
                self._cap_slot[(a, b)][k] = lots
        return Report(None, None, None, EMPTY, EMPTY, EMPTY)

    # -- state ------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget every order, trade and flow (capacities stay)."""
        for ex in self.exchanges.values():
            ex.reset()
        self.now = 0
        self.n_trades = 0
        self.trade_log: list[ZoneTrade] | None = None
        self._seq = 0
        self._stamp: dict[tuple[str, OrderId], int] = {}
        self._parents: dict[str, dict[OrderId, ZoneOrder]] = {z: {} for z in self.zones}
        self._flow: dict[tuple[str, str, int], int] = {}
        self._adj_pos: dict[tuple[str, AgentId, int], int] = {}
        self._adj_cash: dict[tuple[str, AgentId, int], int] = {}
        self._xclosed: set[int] = set()
        self._child = 0
        self._rebuild_links()

    def keep_trades(self) -> list[ZoneTrade]:
        """Start keeping every trade (system-wide, in execution order); return the list."""
        if self.trade_log is None:
            self.trade_log = []
        return self.trade_log

    def _zone(self, zone: str | None, owner: object) -> str | None:
        if zone is None:
            if len(self.zones) == 1:
                return self.zones[0]
            return self.home.get(owner) if isinstance(owner, str) else None
        return zone if isinstance(zone, str) and zone in self.exchanges else None

    # -- lifecycle (per zone; zone None = every zone) -----------------------------------------
    def _lifecycle(self, name: str, zone: str | None, slot: int, time: int,
                   *args: Ticks | None) -> Report:
        if zone is not None:
            if not isinstance(zone, str) or zone not in self.exchanges:
                return rejected(Reason.UNKNOWN_ZONE)
            targets = [zone]
        else:
            targets = self.zones
        if not _is_int(time) or time < self.now:
            return rejected(Reason.BAD_FIELD)
        trades: list[ZoneTrade] = []
        expired: list[Order] = []
        first: Report | None = None
        done = 0
        for z in targets:
            rep: Report = getattr(self.exchanges[z], name)(slot, time, *args)
            if not rep.ok:
                first = first or rep
                continue
            done += 1
            trades.extend(self._wrap(rep.trades, z, {}))
            expired.extend(rep.expired)
        if not done:
            assert first is not None
            return first
        self.now = time
        return Report(None, None, None, trades or EMPTY, EMPTY, expired or EMPTY)

    def open_auction(self, slot: int, time: int, zone: str | None = None) -> Report:
        """Put a slot into a call phase (in one zone, or every zone)."""
        return self._lifecycle("open_auction", zone, slot, time)

    def open_continuous(self, slot: int, time: int, zone: str | None = None) -> Report:
        """Open a pending slot into continuous trading (in one zone, or every zone)."""
        return self._lifecycle("open_continuous", zone, slot, time)

    def uncross(self, slot: int, time: int, reference: Ticks | None = None,
                zone: str | None = None) -> Report:
        """End the slot's call phase at one price per zone (SPEC §6; no capacity is used)."""
        return self._lifecycle("uncross", zone, slot, time, reference)

    def close(self, slot: int, time: int, zone: str | None = None) -> Report:
        """Local gate closure (in one zone, or every zone); also ends cross-zonal trading."""
        rep = self._lifecycle("close", zone, slot, time)
        if rep.ok and zone is None and _is_int(slot):
            self._xclosed.add(slot)
        return rep

    def close_cross(self, slot: int, time: int) -> Report:
        """Cross-zonal gate closure of a slot: from now on it trades only within zones."""
        if not _is_int(time) or time < self.now or time > MAX_TIME or not _is_int(slot):
            return rejected(Reason.BAD_FIELD)
        if slot < 0 or slot > MAX_SLOT or (self.n_slots is not None and slot >= self.n_slots):
            return rejected(Reason.UNKNOWN_SLOT)
        if slot in self._xclosed:
            return rejected(Reason.SLOT_CLOSED)
        self._xclosed.add(slot)
        self.now = time
        return Report(None, None, None, EMPTY, EMPTY, EMPTY)

    def cross_open(self, slot: int) -> bool:
        """Whether the slot's cross-zonal gate is still open."""
        return slot not in self._xclosed

    # -- orders -----------------------------------------------------------------------------
    def _fault(self, ex: PythonExchange, time: object, order_id: object, owner: object,
               side: object, first_slot: object, last_slot: object, price: object, rate: object,
               kind: object, tif: object) -> Reason | None:
        """The SPEC §5 checks in their order, as the zone exchange makes them (sound: an order
        passing here is accepted by the zone exchange)."""
        side_ = _SIDES.get(side) if isinstance(side, (Side, str)) else None
        kind_ = _KINDS.get(kind) if isinstance(kind, str) else None
        tif_ = _TIFS.get(tif) if isinstance(tif, str) else None
        if (side_ is None or kind_ is None or tif_ is None
                or not isinstance(order_id, (str, int)) or order_id == ""
                or isinstance(order_id, bool) or not isinstance(owner, str) or owner == ""
                or not _is_int(first_slot) or not _is_int(last_slot)
                or last_slot < first_slot
                or last_slot - first_slot >= MAX_BLOCK_SLOTS
                or not _is_int(time) or time < self.now or time > MAX_TIME
                or (price is not None and not _is_number(price))
                or not _is_number(rate) or not -MAX_LOTS <= rate <= MAX_LOTS
                or (kind_ is Kind.MARKET) != (price is None)
                or (isinstance(order_id, str) and order_id.startswith(CHILD_PREFIX))):
            return Reason.BAD_FIELD
        if order_id in ex.orders or order_id in self._parents_of(ex):
            return Reason.DUPLICATE_ID
        g = self.grid
        if price is not None:
            if price < g.min_ticks or price > g.max_ticks:
                return Reason.PRICE_OUT_OF_BOUNDS
            if type(price) is not int and price.denominator != 1:
                return Reason.OFF_TICK
        if rate <= 0:
            return Reason.NON_POSITIVE_RATE
        if type(rate) is not int and rate.denominator != 1:
            return Reason.OFF_LOT
        for s in range(first_slot, last_slot + 1):
            ph = ex.phase(s)
            if ph is None:
                return Reason.UNKNOWN_SLOT
        for s in range(first_slot, last_slot + 1):
            ph = ex.phase(s)
            if ph is Phase.CLOSED:
                return Reason.SLOT_CLOSED
            if ph is Phase.PENDING:
                return Reason.SLOT_NOT_OPEN
        return None

    def _parents_of(self, ex: PythonExchange) -> dict[OrderId, ZoneOrder]:
        for z, e in self.exchanges.items():
            if e is ex:
                return self._parents[z]
        return {}

    def submit(self, time: int, order_id: OrderId, owner: AgentId, side: Side | str,
               first_slot: int, price: Ticks | None, rate: Lots, kind: Kind | str = Kind.LIMIT,
               tif: Tif | str = Tif.GTC, last_slot: int | None = None, zone: str | None = None,
               match_zone: str | None = None) -> Report:
        """Submit an order to a zone (``None``: the owner's home zone); see the module rules.

        Never raises on user input: an unknown zone is ``unknown_zone``, the rest as
        :meth:`~.exchange.Exchange.submit`, then ``no_path``.
        """
        z = self._zone(zone, owner)
        if z is None or (match_zone is not None and (
                not isinstance(match_zone, str) or match_zone not in self.exchanges)):
            return rejected(Reason.UNKNOWN_ZONE)
        if last_slot is None:
            last_slot = first_slot
        if _is_int(time) and time < self.now:
            return rejected(Reason.BAD_FIELD)
        ex = self.exchanges[z]
        parents = self._parents[z]
        other = match_zone if match_zone is not None and match_zone != z else None
        if other is None:
            side_ = _SIDES.get(side) if isinstance(side, (Side, str)) else None
            coupled = (side_ is not None and _is_int(first_slot) and first_slot == last_slot
                       and self._links[z] and first_slot not in self._xclosed
                       and ex.phase(first_slot) is Phase.CONTINUOUS
                       and any(self._reach(z, y, side_, first_slot) > 0
                               for y in self._links[z]))
            if not coupled:
                if self._reserved(parents, order_id):
                    fault = self._fault(ex, time, order_id, owner, side, first_slot, last_slot,
                                        price, rate, kind, tif)
                    if fault is not None:
                        return rejected(fault)
                rep = ex.submit(time, order_id, owner, side, first_slot, price, rate, kind, tif,
                                last_slot)
                return self._accepted(rep, z, time, order_id)
        fault = self._fault(ex, time, order_id, owner, side, first_slot, last_slot, price, rate,
                            kind, tif)
        if fault is not None:
            return rejected(fault)
        side_ = _SIDES[side]
        kind_, tif_ = _KINDS[kind], _TIFS[tif]
        if other is not None:
            if first_slot != last_slot or (kind_ is Kind.LIMIT and tif_ is Tif.GTC):
                return rejected(Reason.BAD_FIELD)
            if not self.linked(z, other):
                return rejected(Reason.NO_PATH)
            if first_slot in self._xclosed:
                return rejected(Reason.SLOT_CLOSED)
            if self.exchanges[other].phase(first_slot) is not Phase.CONTINUOUS \
                    or ex.phase(first_slot) is not Phase.CONTINUOUS:
                return rejected(Reason.AUCTION_PHASE)
        return self._coupled(time, order_id, owner, side_, first_slot,
                             None if price is None else int(price), int(rate), kind_, tif_, z,
                             other)

    @staticmethod
    def _reserved(parents: Mapping[OrderId, ZoneOrder], order_id: object) -> bool:
        """An id the zone exchange cannot judge alone: a child id, or one a parent holds."""
        if isinstance(order_id, str) and order_id.startswith(CHILD_PREFIX):
            return True
        try:
            return bool(parents) and order_id in parents
        except TypeError:
            return False

    def _reach(self, z: str, y: str, side: Side, slot: int) -> int:
        """Capacity left for an order in ``z`` on ``side`` to trade with zone ``y``."""
        return self.capacity_left(y, z, slot) if side is Side.BUY else \
            self.capacity_left(z, y, slot)

    def _accepted(self, rep: Report, z: str, time: int, order_id: OrderId) -> Report:
        if rep.status is Status.REJECTED:
            return rep
        self.now = time
        self._seq += 1
        if rep.status is Status.RESTING:
            self._stamp[(z, order_id)] = self._seq
        if not rep.trades:
            return rep
        return Report(rep.status, rep.reason, rep.order, self._wrap(rep.trades, z, {}),
                      rep.self_trade_cancelled, rep.expired)

    def _orders(self, ex: PythonExchange, slot: int, side: Side) -> Iterator[tuple[int, Order]]:
        """Resting orders of one side of a zone's book, in priority order."""
        if self._python:
            book = ex.books.get(slot)
            if book is None:
                return
            if side is Side.BUY:
                for p in reversed(book.bid_keys):
                    o = book.bids[p].head
                    while o is not None:
                        yield p, o
                        o = o.next
            else:
                for k in reversed(book.ask_keys):
                    o = book.asks[-k].head
                    while o is not None:
                        yield -k, o
                        o = o.next
        else:
            walk = cast(_LevelWalk, ex)  # not self._python: the compiled engine
            for price, _, recs in walk._levels(slot, 1 if side is Side.BUY else -1):
                for o in recs:
                    yield price, o

    def _head(self, z: str, slot: int, opp: Side, owner: AgentId,
              limit: int | None) -> tuple[int, Order] | None:
        """The first other-owner resting order on ``opp`` within the limit, or ``None``."""
        for price, o in self._orders(self.exchanges[z], slot, opp):
            if limit is not None and (price > limit if opp is Side.SELL else price < limit):
                return None
            if o.owner != owner:
                return price, o
        return None

    def _available(self, z: str, slot: int, opp: Side, owner: AgentId, limit: int | None,
                   cap: int) -> int:
        got = 0
        for price, o in self._orders(self.exchanges[z], slot, opp):
            if got >= cap or (limit is not None and (
                    price > limit if opp is Side.SELL else price < limit)):
                break
            if o.owner != owner:
                got += o.rate
        return min(got, cap)

    def _coupled(self, time: int, order_id: OrderId, owner: AgentId, side: Side, slot: int,
                 price: int | None, rate: int, kind: Kind, tif: Tif, z: str,
                 only: str | None) -> Report:
        """Price-time matching across zones (rules 3, 6, 7); the order passed validation."""
        opp = Side.SELL if side is Side.BUY else Side.BUY
        zones = [only] if only is not None else [z, *self._links[z]]
        caps = {y: self._reach(z, y, side, slot) for y in zones if y != z}
        zones = [y for y in zones if y == z or (
            caps[y] > 0 and self.exchanges[y].phase(slot) is Phase.CONTINUOUS)]
        ex = self.exchanges[z]
        if tif is Tif.FOK:
            total = 0
            for y in zones:
                cap = rate if y == z else min(rate, caps[y])
                total += self._available(y, slot, opp, owner, price, cap)
            if total < rate:
                if only is not None:
                    return self._explicit_end(time, order_id, owner, side, slot, price, kind,
                                              tif, z, rate, 0, [], [], Status.KILLED)
                return self._accepted(ex.submit(time, order_id, owner, side, slot, price, rate,
                                                kind, tif), z, time, order_id)
        self.now = time
        self._seq += 1
        seq = self._seq
        filled, trades, stp = self._sweep(time, order_id, owner, side, slot, price, rate, z,
                                          zones, caps)
        rem = rate - filled
        if only is not None:
            status = Status.FILLED if rem == 0 else Status.CANCELLED
            return self._explicit_end(time, order_id, owner, side, slot, price, kind, tif, z,
                                      rate, filled, trades, stp, status)
        if filled == 0:
            rep = ex.submit(time, order_id, owner, side, slot, price, rate, kind, tif)
            self._seq -= 1  # _accepted stamps it
            return self._merge(self._accepted(rep, z, time, order_id), trades, stp)
        parent = ZoneOrder(order_id, owner, z, side, slot, price, kind, tif, time, seq)
        parent.pre_filled = filled
        self._parents[z][order_id] = parent
        if rem > 0:
            rep = ex.submit(time, order_id, owner, side, slot, price, rem, kind, tif)
            assert rep.ok, f"remainder rejected: {rep.reason}"
            parent.local = rep.order
            if rep.status is Status.RESTING:
                self._stamp[(z, order_id)] = seq
            trades.extend(self._wrap(rep.trades, z, {}))
            stp.extend(rep.self_trade_cancelled)
        return Report(parent.status, None, parent, trades or EMPTY, stp or EMPTY, EMPTY)

    def _sweep(self, time: int, order_id: OrderId, owner: AgentId, side: Side, slot: int,
               price: int | None, rate: int, z: str, zones: list[str],
               caps: dict[str, int]) -> tuple[int, list[ZoneTrade], list[Order]]:
        """Fill up to ``rate`` with immediate child orders in priority order across ``zones``
        until only the home zone ``z`` is left to trade with; return (filled, trades, STP).

        ``caps`` holds the capacity left towards every zone but ``z``; it is used up here.
        """
        opp = Side.SELL if side is Side.BUY else Side.BUY
        rem = rate
        trades: list[ZoneTrade] = []
        stp: list[Order] = []
        while rem > 0:
            # (price key, stamp, zone, (price, order))
            best: tuple[int, int, str, tuple[int, Order]] | None = None
            others = False  # another zone still has something to trade
            for y in zones:
                if y != z and caps[y] <= 0:
                    continue
                head = self._head(y, slot, opp, owner, price)
                if head is None:
                    continue
                others = others or y != z
                p, o = head
                key = (p if opp is Side.SELL else -p, self._stamp.get((y, o.order_id), 0))
                if best is None or key < best[:2]:
                    best = (key[0], key[1], y, (p, o))
            if best is None or not others:
                break  # only the home book is left: it matches the remainder itself
            y = best[2]
            p, o = best[3]
            qty = min(rem, o.rate) if y == z else min(rem, o.rate, caps[y])
            self._child += 1
            cid = f"{CHILD_PREFIX}{self._child}"
            rep = self.exchanges[y].submit(time, cid, owner, side, slot, p, qty, Kind.LIMIT,
                                           Tif.IOC)
            assert rep.order is not None, f"child order rejected: {rep.reason}"
            got = rep.order.filled
            stp.extend(rep.self_trade_cancelled)
            for t in rep.trades:
                trades.extend(self._wrap([_as_parent(t, side, order_id)], y,
                                         {owner: z} if y != z else {},
                                         side if y != z else None))
            if y != z:
                caps[y] -= got
            rem -= got
            if got == 0:  # cannot happen (the head is another owner's, within the limit)
                break
        return rate - rem, trades, stp

    def _explicit_end(self, time: int, order_id: OrderId, owner: AgentId, side: Side,
                      slot: int, price: int | None, kind: Kind, tif: Tif, z: str, rate: int,
                      filled: int, trades: list[ZoneTrade], stp: list[Order],
                      status: Status) -> Report:
        self.now = time
        if status is Status.KILLED:
            self._seq += 1
        parent = ZoneOrder(order_id, owner, z, side, slot, price, kind, tif, time, self._seq)
        parent.pre_filled = filled
        parent.pre_removed = rate - filled
        parent.end_status = status
        self._parents[z][order_id] = parent
        return Report(status, None, parent, trades or EMPTY, stp or EMPTY, EMPTY)

    @staticmethod
    def _merge(rep: Report, trades: list[ZoneTrade], stp: list[Order]) -> Report:
        if not trades and not stp:
            return rep
        return Report(rep.status, rep.reason, rep.order, trades + list(rep.trades),
                      stp + list(rep.self_trade_cancelled), rep.expired)

    def _wrap(self, trades: Iterable[TradeRecord], zone: str, moved: Mapping[AgentId, str],
              side: Side | None = None) -> list[ZoneTrade]:
        """Number trades system-wide, tag zones, and book cross-zonal positions and flows.

        ``moved`` maps the aggressor (owner) to its home zone when the trade executed in
        another zone's book; ``side`` is the aggressor's side then.
        """
        out: list[ZoneTrade] = []
        for t in trades:
            self.n_trades += 1
            bz = sz = zone
            if moved and side is not None:
                home = moved[t.buyer if side is Side.BUY else t.seller]
                if side is Side.BUY:
                    bz = home
                    self._move(t.buyer, zone, home, t.slot, t.rate, -t.price * t.rate)
                    key = (zone, home, t.slot)
                else:
                    sz = home
                    self._move(t.seller, zone, home, t.slot, -t.rate, t.price * t.rate)
                    key = (home, zone, t.slot)
                self._flow[key] = self._flow.get(key, 0) + t.rate
            zt = ZoneTrade(self.n_trades, t.time, t.slot, t.price, t.rate, t.buy_order_id,
                           t.sell_order_id, t.buyer, t.seller, t.aggressor, zone, bz, sz)
            out.append(zt)
        if self.trade_log is not None:
            self.trade_log.extend(out)
        return out

    def _move(self, owner: AgentId, src: str, dst: str, slot: int, pos: int, cash: int) -> None:
        for zz, sign in ((src, -1), (dst, 1)):
            k = (zz, owner, slot)
            self._adj_pos[k] = self._adj_pos.get(k, 0) + sign * pos
            self._adj_cash[k] = self._adj_cash.get(k, 0) + sign * cash

    def cancel(self, time: int, order_id: OrderId, owner: AgentId,
               zone: str | None = None) -> Report:
        """Cancel a resting order in its zone (``None``: the owner's home zone)."""
        z = self._zone(zone, owner)
        if z is None:
            return rejected(Reason.UNKNOWN_ZONE)
        if _is_int(time) and time < self.now:
            return rejected(Reason.BAD_FIELD)
        rep = self.exchanges[z].cancel(time, order_id, owner)
        if rep.ok:
            self.now = time
            parent = self._parents[z].get(order_id)
            if parent is not None:
                rep = Report(rep.status, rep.reason, parent, rep.trades,
                             rep.self_trade_cancelled, rep.expired)
        return rep

    def modify(self, time: int, order_id: OrderId, owner: AgentId, price: Ticks | None = None,
               rate: Lots | None = None, zone: str | None = None) -> Report:
        """Modify a resting order in its zone (SPEC §4). One that loses priority re-enters as
        an incoming order: it matches across zones like a new submission (rule 3)."""
        z = self._zone(zone, owner)
        if z is None:
            return rejected(Reason.UNKNOWN_ZONE)
        if _is_int(time) and time < self.now:
            return rejected(Reason.BAD_FIELD)
        ex = self.exchanges[z]
        before = ex.orders.get(order_id) if isinstance(order_id, (str, int)) and not \
            isinstance(order_id, bool) else None
        if before is not None:
            coupled = self._modify_coupling(ex, z, time, before, owner, price, rate)
            if coupled is not None:
                return self._coupled_modify(time, before, z, *coupled)
        seq = None if before is None else before.seq
        rep = ex.modify(time, order_id, owner, price, rate)
        if not rep.ok:
            return rep
        self.now = time
        if rep.order is not None and rep.order.seq != seq:
            self._seq += 1
            self._stamp[(z, order_id)] = self._seq
        parent = self._parents[z].get(order_id)
        if rep.trades or parent is not None:
            rep = Report(rep.status, rep.reason, parent or rep.order,
                         self._wrap(rep.trades, z, {}) if rep.trades else rep.trades,
                         rep.self_trade_cancelled, rep.expired)
        return rep

    def _modify_coupling(self, ex: PythonExchange, z: str, time: object, order: Order,
                         owner: object, price: object, rate: object
                         ) -> tuple[int, int, list[str], dict[str, int]] | None:
        """``(new price, new rate, zones, caps)`` when a valid modify loses priority and can
        reach another zone; ``None`` when the zone exchange alone decides it."""
        if (not self._links[z] or not _is_int(time) or time > MAX_TIME
                or (price is None and rate is None)
                or (price is not None and not _is_number(price))
                or (rate is not None and not (_is_number(rate) and -MAX_LOTS <= rate <= MAX_LOTS))
                or order.status is not Status.RESTING or order.owner != owner
                or not isinstance(owner, str)):
            return None
        new_price = order.price if price is None else price
        new_rate = order.rate if rate is None else rate
        g = self.grid
        if (new_price is None  # a market order, which never rests
                or not g.min_ticks <= new_price <= g.max_ticks or new_rate <= 0
                or (type(new_price) is not int and new_price.denominator != 1)
                or (type(new_rate) is not int and new_rate.denominator != 1)):
            return None
        new_price, new_rate = int(new_price), int(new_rate)
        slot = order.first_slot
        if (new_price == order.price and new_rate <= order.rate) or slot in self._xclosed \
                or ex.phase(slot) is not Phase.CONTINUOUS:
            return None
        side = order.side
        zones = [z, *self._links[z]]
        caps = {y: self._reach(z, y, side, slot) for y in zones if y != z}
        zones = [y for y in zones if y == z or (
            caps[y] > 0 and self.exchanges[y].phase(slot) is Phase.CONTINUOUS)]
        if len(zones) == 1:
            return None
        return new_price, new_rate, zones, caps

    def _coupled_modify(self, time: int, order: Order, z: str, price: int, rate: int,
                        zones: list[str], caps: dict[str, int]) -> Report:
        """A priority-losing modify that can reach other zones: children first (the resting
        order is on their side, so nothing touches it), then the zone exchange re-enters the
        remainder (or removes the order when the children filled it all)."""
        oid, owner, slot, side = order.order_id, order.owner, order.first_slot, order.side
        old_rate = order.rate
        ex = self.exchanges[z]
        filled, trades, stp = self._sweep(time, oid, owner, side, slot, price, rate, z, zones,
                                          caps)
        self.now = time
        self._seq += 1
        parent = self._parents[z].get(oid)
        if parent is None and filled:
            parent = ZoneOrder(oid, owner, z, side, slot, price, order.kind, order.tif,
                               order.time, order.seq)
            parent.local = order
            self._parents[z][oid] = parent
        if parent is not None:
            # SPEC §5 accounting of a modify (open rate old_rate -> rate): the zone exchange
            # sees old_rate -> rate - filled; lots it counts as removed that the children
            # filled were never removed
            parent.pre_filled += filled
            parent.pre_removed -= min(filled, max(0, old_rate - (rate - filled)))
        if rate - filled == 0:
            ex.cancel(time, oid, owner)  # the old open rate leaves; the new one traded
            assert parent is not None
            parent.closed = True
            parent.end_status = Status.FILLED
            self._stamp.pop((z, oid), None)
            return Report(Status.FILLED, None, parent, trades, stp or EMPTY, EMPTY)
        rep = ex.modify(time, oid, owner, price, rate - filled)
        assert rep.ok, f"coupled modify rejected: {rep.reason}"
        self._stamp[(z, oid)] = self._seq
        trades.extend(self._wrap(rep.trades, z, {}))
        stp.extend(rep.self_trade_cancelled)
        rec = parent if parent is not None else rep.order
        assert rec is not None, "an accepted modify reports its order"
        return Report(rec.status, None, rec, trades or EMPTY, stp or EMPTY, EMPTY)

    # -- accounting and views ---------------------------------------------------------------
    def owner_access(self, zone: str) -> OwnerAccess:
        """What an owner view of the simulation reads: positions and cash over every zone,
        working orders from its zone's book."""
        return OwnerAccess(self, zone)

    def best_level(self, slot: int, zone: str, side: Side) -> tuple[int, int] | None:
        """``(price, volume)`` of a zone's best level on one side (``None``: empty)."""
        book = self.exchanges[zone].books.get(slot)
        if book is None:
            return None
        p = book.best_bid() if side is Side.BUY else book.best_ask()
        if p is None:
            return None
        return p, (book.bids if side is Side.BUY else book.asks)[p].volume

    def status(self, order_id: OrderId, zone: str) -> Order | ZoneOrder | None:
        """The record of an order accepted in a zone (``None`` if never accepted there)."""
        if not isinstance(zone, str) or zone not in self.exchanges:
            return None
        try:
            parent = self._parents[zone].get(order_id)
        except TypeError:
            return None
        return parent if parent is not None else self.exchanges[zone].status(order_id)

    def position(self, owner: AgentId, slot: int, zone: str | None = None) -> int:
        """Signed lots of an owner in a slot held in a zone (``None``: summed over zones)."""
        zs = self.zones if zone is None else [zone]
        return sum(self.exchanges[z].position(owner, slot) + self._adj_pos.get(
            (z, owner, slot), 0) for z in zs)

    def notional(self, owner: AgentId, slot: int, zone: str | None = None) -> int:
        """Trade cash (tick*lot, received > 0) of an owner in a slot, in a zone or in all."""
        zs = self.zones if zone is None else [zone]
        return sum(self.exchanges[z].notional(owner, slot) + self._adj_cash.get(
            (z, owner, slot), 0) for z in zs)

    def cash(self, owner: AgentId, slot: int, zone: str | None = None) -> float:
        """Trade cash in currency (received > 0)."""
        return self.grid.cash(self.notional(owner, slot, zone))

    def positions(self, slot: int, zone: str) -> dict[AgentId, int]:
        """Every owner's position in a slot held in a zone (zero entries dropped)."""
        book = self.exchanges[zone].books.get(slot)
        out = dict(book.positions) if book is not None else {}
        for (zz, owner, k), v in self._adj_pos.items():
            if zz == zone and k == slot:
                out[owner] = out.get(owner, 0) + v
        return {o: v for o, v in out.items() if v}

    def notionals(self, slot: int, zone: str) -> dict[AgentId, int]:
        """Every owner's trade cash in a slot held in a zone."""
        book = self.exchanges[zone].books.get(slot)
        out = dict(book.notional) if book is not None else {}
        for (zz, owner, k), v in self._adj_cash.items():
            if zz == zone and k == slot:
                out[owner] = out.get(owner, 0) + v
        return out

    def net_import(self, zone: str, slot: int) -> int:
        """Lots flowing into a zone in a slot minus lots flowing out."""
        return sum(self.net_flow(y, zone, slot) for y in self._links[zone])

    def owners(self) -> set[AgentId]:
        """Everyone with a position or cash in any slot of any zone."""
        out: set[AgentId] = set()
        for ex in self.exchanges.values():
            out |= ex.owners()
        return out

    def best_bid(self, slot: int, zone: str) -> int | None:
        book = self.exchanges[zone].books.get(slot)
        return None if book is None else book.best_bid()

    def best_ask(self, slot: int, zone: str) -> int | None:
        book = self.exchanges[zone].books.get(slot)
        return None if book is None else book.best_ask()

    def lob3d(self, slots: Iterable[int], k: int = 5, zone: str | None = None,
              out: LOB3D | None = None) -> LOB3D:
        """One zone's LOB-3D snapshot (the first zone's for ``None``)."""
        return self.exchanges[zone or self.zones[0]].lob3d(slots, k, out)

    def phase(self, slot: int, zone: str | None = None) -> Phase | None:
        return self.exchanges[zone or self.zones[0]].phase(slot)


def _as_parent(t: TradeRecord, side: Side, order_id: OrderId) -> Trade:
    """A child order's trade as its parent's: the parent's id on the child's side."""
    buy_id, sell_id = (order_id, t.sell_order_id) if side is Side.BUY else \
        (t.buy_order_id, order_id)
    return Trade(t.trade_id, t.time, t.slot, t.price, t.rate, buy_id, sell_id, t.buyer,
                 t.seller, t.aggressor)


class OwnerAccess:
    """Positions and cash of an owner summed over zones; orders of its home zone's book."""

    __slots__ = ("_zx", "_zone", "grid")

    def __init__(self, zx: ZonalExchange, zone: str) -> None:
        self._zx = zx
        self._zone = zone
        self.grid = zx.grid

    @property
    def orders(self) -> Mapping[OrderId, Order]:
        return self._zx.exchanges[self._zone].orders

    def position(self, owner: AgentId, slot: int) -> int:
        return self._zx.position(owner, slot)

    def notional(self, owner: AgentId, slot: int) -> int:
        return self._zx.notional(owner, slot)
