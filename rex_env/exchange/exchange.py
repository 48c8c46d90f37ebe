"""All open delivery slots together: the Rex exchange (SPEC §2-§6).

The :class:`Exchange` validates every instruction (SPEC §5, checks in the SPEC's order), routes
it to the slot's :class:`~.book.Book`, and returns a :class:`~.orders.Report` of what happened.
It never raises on user input: a rejection carries its reason code and changes no state.

Wrong types are input too. A field of the wrong Python type is ``bad_field``, never a
``TypeError``: ``side`` must be :class:`~.orders.Side` or ``"buy"``/``"sell"`` (``True``, ``1``
or ``1.0`` are not sides), ``kind``/``tif`` their enum or its string, ``time`` and slots ints
(not ``bool``/``float``/``str``), prices and rates ``int`` or :class:`~fractions.Fraction`
ticks/lots (a ``float``, ``Decimal``, ``str`` or ``bool`` is not: convert at the edge with
:class:`~.grid.Grid`), ``order_id`` a ``str`` or ``int``, ``owner`` a ``str``. The same holds
for :meth:`~Exchange.cancel`, :meth:`~Exchange.modify` and the lifecycle calls (a bad ``time``,
``slot``, ``price``, ``rate`` or ``reference`` is ``bad_field``; an id or owner that names no
resting order of that owner, whatever its type, is ``unknown_order``).

Sizes are bounded so that one instruction costs bounded memory and time (constants in
:mod:`.orders`): a block spans at most ``MAX_BLOCK_SLOTS`` slots and ``abs(rate)`` is at most
``MAX_LOTS`` lots (else ``bad_field``), ``time`` is at most ``MAX_TIME`` (else ``bad_field``),
a slot index is in ``0..MAX_SLOT`` (else ``unknown_slot``). A block that is rejected or killed
creates no book.

Two ways to run slots:

* ``auto_open=True`` (replay, SPEC §7): every slot with a non-negative index is open for
  continuous trading from time 0 until it is closed;
* ``auto_open=False`` (the simulation): a slot is ``slot_not_open`` until the kernel calls
  :meth:`Exchange.open_auction` on it, and indices at or beyond ``n_slots`` are unknown.
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from itertools import islice
from typing import TypeGuard

from . import auction
from .book import Book
from .grid import Grid
from .lob3d import LOB3D, MAX_LOB3D_CELLS, snapshot
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
    Phase,
    Reason,
    Report,
    Side,
    Status,
    Tif,
    Trade,
    rejected,
)

# enum members as module constants: EnumType.__getattr__ makes Enum.X slow on 3.11
_Kind_LIMIT = Kind.LIMIT
_Kind_MARKET = Kind.MARKET
_Phase_CALL = Phase.CALL
_Phase_CLOSED = Phase.CLOSED
_Phase_CONTINUOUS = Phase.CONTINUOUS
_Phase_PENDING = Phase.PENDING
_Reason_AUCTION_PHASE = Reason.AUCTION_PHASE
_Reason_BAD_FIELD = Reason.BAD_FIELD
_Reason_DUPLICATE_ID = Reason.DUPLICATE_ID
_Reason_NON_POSITIVE_RATE = Reason.NON_POSITIVE_RATE
_Reason_OFF_LOT = Reason.OFF_LOT
_Reason_OFF_TICK = Reason.OFF_TICK
_Reason_PRICE_OUT_OF_BOUNDS = Reason.PRICE_OUT_OF_BOUNDS
_Reason_SLOT_CLOSED = Reason.SLOT_CLOSED
_Reason_SLOT_NOT_OPEN = Reason.SLOT_NOT_OPEN
_Reason_UNKNOWN_ORDER = Reason.UNKNOWN_ORDER
_Reason_UNKNOWN_SLOT = Reason.UNKNOWN_SLOT
_Side_BUY = Side.BUY
_Side_SELL = Side.SELL
_Status_CANCELLED = Status.CANCELLED
_Status_FILLED = Status.FILLED
_Status_KILLED = Status.KILLED
_Status_RESTING = Status.RESTING
_Tif_FOK = Tif.FOK
_Tif_GTC = Tif.GTC
_Tif_IOC = Tif.IOC

_tuple_new = tuple.__new__


_SIDES = {_Side_BUY: _Side_BUY, _Side_SELL: _Side_SELL, "buy": _Side_BUY, "sell": _Side_SELL}
_KINDS = {_Kind_LIMIT: _Kind_LIMIT, _Kind_MARKET: _Kind_MARKET, "limit": _Kind_LIMIT,
          "market": _Kind_MARKET}
_TIFS = {_Tif_GTC: _Tif_GTC, _Tif_IOC: _Tif_IOC, _Tif_FOK: _Tif_FOK, "gtc": _Tif_GTC,
         "ioc": _Tif_IOC,
         "fok": _Tif_FOK}

Ticks = int | Fraction
"""A price in ticks; a ``Fraction`` that is not whole is off the tick grid."""
Lots = int | Fraction
"""A rate in lots; a ``Fraction`` that is not whole is off the lot grid."""


def _is_int(x: object) -> TypeGuard[int]:
    return type(x) is int or (isinstance(x, int) and not isinstance(x, bool))


def _is_number(x: object) -> TypeGuard[int | Fraction]:
    """An exact number of ticks or lots: an ``int`` (not ``bool``) or a ``Fraction``."""
    return type(x) is int or isinstance(x, Fraction) or (
        isinstance(x, int) and not isinstance(x, bool))


def _bad_time(time: object, now: int) -> bool:
    return not _is_int(time) or time < now or time > MAX_TIME


class Exchange:
    """The reservation exchange: one book per delivery slot, positions and cash per owner.

    Args:
        grid: tick, lot, price bounds, slot length.
        auto_open: open every non-negative slot for continuous trading on first use (replay).
        n_slots: with ``auto_open=False``, slots ``0..n_slots-1`` exist (``None``: unbounded).
    """

    def __init__(self, grid: Grid | None = None, *, auto_open: bool = False,
                 n_slots: int | None = None) -> None:
        if n_slots is not None and (not _is_int(n_slots) or n_slots <= 0):
            raise ValueError(f"n_slots must be a positive int or None, got {n_slots!r}")
        self.grid = grid if grid is not None else Grid()
        self.auto_open = auto_open
        self.n_slots = n_slots
        self.reset()

    def reset(self) -> None:
        """Forget everything: no books, orders, trades; the clock at 0; ids free again."""
        self.books: dict[int, Book] = {}
        self.orders: dict[OrderId, Order] = {}
        self.now = 0
        self._seq = 0
        self.n_trades = 0
        self.trade_log: list[Trade] | None = None  # set to [] to keep every trade

    def keep_trades(self) -> list[Trade]:
        """Start keeping every trade in execution order; return the (live) list."""
        if self.trade_log is None:
            self.trade_log = []
        return self.trade_log

    # -- slot lifecycle (SPEC §3) ----------------------------------------------------------
    def phase(self, slot: int) -> Phase | None:
        """The slot's phase; ``None`` for an unknown slot."""
        if not _is_int(slot) or slot < 0 or slot > MAX_SLOT or (
                self.n_slots is not None and slot >= self.n_slots):
            return None
        book = self.books.get(slot)
        if book is not None:
            return book.phase
        return _Phase_CONTINUOUS if self.auto_open else _Phase_PENDING

    def _book(self, slot: int) -> Book:
        book = self.books.get(slot)
        if book is None:
            book = self.books[slot] = Book(slot, _Phase_CONTINUOUS if self.auto_open
                                           else _Phase_PENDING)
        return book

    def _lifecycle_fault(self, time: object, slot: object) -> Reason | None:
        if _bad_time(time, self.now) or not _is_int(slot):
            return _Reason_BAD_FIELD
        ph = self.phase(slot)
        if ph is None:
            return _Reason_UNKNOWN_SLOT
        if ph is _Phase_CLOSED:
            return _Reason_SLOT_CLOSED
        return None

    def open_auction(self, slot: int, time: int) -> Report:
        """Put a pending or continuously trading slot into a call phase (SPEC §3, §7)."""
        fault = self._lifecycle_fault(time, slot)
        if fault is None and self.phase(slot) is _Phase_CALL:
            fault = _Reason_AUCTION_PHASE
        if fault is not None:
            return rejected(fault)
        self.now = time
        self._book(slot).phase = _Phase_CALL
        return _tuple_new(Report, (None, None, None, EMPTY, EMPTY, EMPTY))

    def open_continuous(self, slot: int, time: int) -> Report:
        """Open a pending slot straight into continuous trading (no opening auction)."""
        fault = self._lifecycle_fault(time, slot)
        if fault is None and self.phase(slot) is not _Phase_PENDING:
            fault = _Reason_AUCTION_PHASE
        if fault is not None:
            return rejected(fault)
        self.now = time
        self._book(slot).phase = _Phase_CONTINUOUS
        return _tuple_new(Report, (None, None, None, EMPTY, EMPTY, EMPTY))

    def uncross(self, slot: int, time: int, reference: Ticks | None = None) -> Report:
        """End the slot's call phase at one price (SPEC §6); then it trades continuously.

        Args:
            reference: reference price in ticks (fractional allowed); ``None``: highest price.
        """
        if reference is not None and not _is_number(reference):
            return rejected(_Reason_BAD_FIELD)
        fault = self._lifecycle_fault(time, slot)
        if fault is None and self.phase(slot) is not _Phase_CALL:
            fault = _Reason_AUCTION_PHASE
        if fault is not None:
            return rejected(fault)
        self.now = time
        trades = auction.uncross(self.books[slot], time, reference, self.n_trades + 1)
        self._log(trades)
        return _tuple_new(Report, (None, None, None, trades, EMPTY, EMPTY))

    def close(self, slot: int, time: int) -> Report:
        """Gate closure: every resting order of the slot expires; positions are final."""
        fault = self._lifecycle_fault(time, slot)
        if fault is not None:
            return rejected(fault)
        self.now = time
        book = self._book(slot)
        expired = book.expire_all()
        return _tuple_new(Report, (None, None, None, EMPTY, EMPTY, expired))

    # -- orders (SPEC §4, §5) --------------------------------------------------------------
    def submit(
        self,
        time: int,
        order_id: OrderId,
        owner: AgentId,
        side: Side | str,
        first_slot: int,
        price: Ticks | None,
        rate: Lots,
        kind: Kind | str = _Kind_LIMIT,
        tif: Tif | str = _Tif_GTC,
        last_slot: int | None = None,
    ) -> Report:
        """Submit an order; prices in ticks, rates in lots (see :class:`~.grid.Grid`).

        Returns a report with the order's status (``filled``, ``resting``, ``cancelled``,
        ``killed`` or ``rejected`` with a reason), its trades and any self-trade cancels.
        Never raises: a field of the wrong type or beyond its limit is ``bad_field`` (see the
        module docstring).
        """
        if last_slot is None:
            last_slot = first_slot
        # 1. bad_field (types first, so that the comparisons below cannot raise)
        side_ = _SIDES.get(side) if isinstance(side, (Side, str)) else None
        kind_ = _KINDS.get(kind) if isinstance(kind, str) else None
        tif_ = _TIFS.get(tif) if isinstance(tif, str) else None
        if (
            side_ is None
            or kind_ is None
            or tif_ is None
            or not isinstance(order_id, (str, int))
            or order_id == ""
            or isinstance(order_id, bool)
            or not isinstance(owner, str)
            or owner == ""
            or (type(first_slot) is not int and not _is_int(first_slot))
            or (type(last_slot) is not int and not _is_int(last_slot))
            or last_slot < first_slot
            or last_slot - first_slot >= MAX_BLOCK_SLOTS
            or (type(time) is not int and not _is_int(time))
            or time < self.now
            or time > MAX_TIME
            or (price is not None and type(price) is not int and not _is_number(price))
            or (type(rate) is not int and not _is_number(rate))
            or rate > MAX_LOTS
            or rate < -MAX_LOTS
            or (kind_ is _Kind_MARKET) != (price is None)
        ):
            return rejected(_Reason_BAD_FIELD)
        # 2. duplicate_id
        if order_id in self.orders:
            return rejected(_Reason_DUPLICATE_ID)
        # 3-6. values
        fault = self._value_fault(price, rate)
        if fault is not None:
            return rejected(fault)
        # 7-9. slots and phase
        book = self.books.get(first_slot) if first_slot == last_slot else None
        if book is not None and book.phase is _Phase_CONTINUOUS:
            pass  # fast path: an open single-slot book in continuous trading
        else:
            fault = self._slot_fault(first_slot, last_slot, kind_, tif_)
            if fault is not None:
                return rejected(fault)
        # accepted
        self.now = time
        self._seq += 1
        order = Order(order_id, owner, side_, first_slot, last_slot,
                      price if price is None or type(price) is int else int(price),
                      rate if type(rate) is int else int(rate), kind_, tif_, time, self._seq)
        self.orders[order_id] = order
        if first_slot != last_slot:
            return self._block(order)
        if book is None:
            book = self.books.get(first_slot)
        if book is not None:
            return self._enter(order, book)
        # a slot without a book (auto_open) has nothing to trade with: register the new book
        # only if the order rests in it, so that no instruction leaves an empty book behind
        book = Book(first_slot, _Phase_CONTINUOUS)
        report = self._enter(order, book)
        if order.status is _Status_RESTING:
            self.books[first_slot] = book
        return report

    def _value_fault(self, price: Ticks | None, rate: Lots) -> Reason | None:
        g = self.grid
        if price is not None:
            if price < g.min_ticks or price > g.max_ticks:
                return _Reason_PRICE_OUT_OF_BOUNDS
            if type(price) is not int and price.denominator != 1:
                return _Reason_OFF_TICK
        if rate <= 0:
            return _Reason_NON_POSITIVE_RATE
        if type(rate) is not int and rate.denominator != 1:
            return _Reason_OFF_LOT
        return None

    def _slot_fault(self, first: int, last: int, kind: Kind, tif: Tif) -> Reason | None:
        phases = [self.phase(s) for s in range(first, last + 1)]
        if any(p is None for p in phases):
            return _Reason_UNKNOWN_SLOT
        for p in phases:
            if p is _Phase_CLOSED:
                return _Reason_SLOT_CLOSED
            if p is _Phase_PENDING:
                return _Reason_SLOT_NOT_OPEN
        if _Phase_CALL in phases and (kind is _Kind_MARKET or tif is not _Tif_GTC or first != last):
            return _Reason_AUCTION_PHASE
        return None

    def _enter(self, order: Order, book: Book) -> Report:
        """An accepted single-slot order (new, or re-entering after a modify) meets the book."""
        if book.phase is _Phase_CALL:  # collect only (validation admitted limit+gtc)
            book.rest(order)
            return _tuple_new(Report, (_Status_RESTING, None, order, EMPTY, EMPTY, EMPTY))
        if order.tif is _Tif_FOK and not book.fillable(order.side, order.price, order.owner,
                                                      order.rate):
            return self._kill(order)
        trades: list[Trade] = []
        self_trades: list[Order] = []
        book.match(order, self.now, trades, self.n_trades + 1, self_trades)
        if trades:
            self.n_trades += len(trades)
            if self.trade_log is not None:
                self.trade_log.extend(trades)
        if order.rate == 0:
            order.status = _Status_FILLED
        elif order.kind is _Kind_LIMIT and order.tif is _Tif_GTC:
            book.rest(order)
        else:  # ioc / market remainder
            order.removed += order.rate
            order.rate = 0
            order.status = _Status_CANCELLED
        return _tuple_new(Report, (order.status, None, order, trades, self_trades, EMPTY))

    def _kill(self, order: Order) -> Report:
        order.removed += order.rate
        order.rate = 0
        order.status = _Status_KILLED
        return _tuple_new(Report, (_Status_KILLED, None, order, EMPTY, EMPTY, EMPTY))

    def _block(self, order: Order) -> Report:
        """All legs fill in full now within the limit, in slot order, or nothing happens."""
        need = order.rate
        # a slot without a book has nothing to trade with: kill without creating one
        books = [self.books.get(s) for s in range(order.first_slot, order.last_slot + 1)]
        for b in books:
            if b is None or not b.fillable(order.side, order.price, order.owner, need):
                return self._kill(order)
        trades: list[Trade] = []
        self_trades: list[Order] = []
        for book in books:
            assert book is not None
            order.rate = need
            order.filled = 0
            book.match(order, self.now, trades, self.n_trades + 1 + len(trades), self_trades)
            assert order.rate == 0, "fillable() guaranteed the leg"
        order.filled = need
        order.status = _Status_FILLED
        self._log(trades)
        return _tuple_new(Report, (_Status_FILLED, None, order, trades, self_trades, EMPTY))

    def _log(self, trades: list[Trade]) -> None:
        self.n_trades += len(trades)
        if self.trade_log is not None:
            self.trade_log.extend(trades)

    def _resting(self, order_id: OrderId, owner: AgentId) -> Order | None:
        try:
            order = self.orders.get(order_id)
        except TypeError:  # unhashable id
            return None
        if order is None or order.status is not _Status_RESTING or order.owner != owner:
            return None
        return order

    def cancel(self, time: int, order_id: OrderId, owner: AgentId) -> Report:
        """Remove the open rate of the owner's resting order (status ``cancelled``), in O(1)."""
        if _bad_time(time, self.now):
            return rejected(_Reason_BAD_FIELD)
        order = self._resting(order_id, owner)
        if order is None:
            return rejected(_Reason_UNKNOWN_ORDER)
        self.now = time
        order.removed += self.books[order.first_slot].remove(order)
        order.status = _Status_CANCELLED
        return _tuple_new(Report, (_Status_CANCELLED, None, order, EMPTY, EMPTY, EMPTY))

    def modify(
        self,
        time: int,
        order_id: OrderId,
        owner: AgentId,
        price: Ticks | None = None,
        rate: Lots | None = None,
    ) -> Report:
        """Change a resting order's price and/or open rate (SPEC §4).

        ``None`` keeps the old value (both ``None`` is ``bad_field``). A pure decrease of rate,
        or no change at all, keeps time priority; anything else re-enters the order at the back
        (same id), and in continuous trading it may match at once. A price or rate of the
        wrong type, or ``abs(rate) > MAX_LOTS``, is ``bad_field``.
        """
        if (
            _bad_time(time, self.now)
            or (price is None and rate is None)
            or (price is not None and not _is_number(price))
            or (rate is not None and (not _is_number(rate) or not -MAX_LOTS <= rate <= MAX_LOTS))
        ):
            return rejected(_Reason_BAD_FIELD)
        order = self._resting(order_id, owner)
        if order is None:
            return rejected(_Reason_UNKNOWN_ORDER)
        new_price = order.price if price is None else price
        new_rate = order.rate if rate is None else rate
        fault = self._value_fault(new_price, new_rate)
        if fault is not None:
            return rejected(fault)
        self.now = time
        new_price, new_rate = int(new_price), int(new_rate)  # type: ignore[arg-type]
        book = self.books[order.first_slot]
        if new_price == order.price and new_rate <= order.rate:
            order.removed += book.reduce(order, new_rate)
            return _tuple_new(Report, (_Status_RESTING, None, order, EMPTY, EMPTY, EMPTY))
        # loses priority: out of the book, then in again as an incoming limit order
        book.unlink(order)
        if new_rate < order.rate:
            order.removed += order.rate - new_rate
        else:
            order.offered += new_rate - order.rate
        order.price = new_price
        order.rate = new_rate
        order.time = time
        self._seq += 1
        order.seq = self._seq
        return self._enter(order, book)

    # -- accounting and views --------------------------------------------------------------
    def status(self, order_id: OrderId) -> Order | None:
        """The record of an accepted order (``None`` if the id was never accepted)."""
        try:
            return self.orders.get(order_id)
        except TypeError:  # unhashable: never an id
            return None

    def position(self, owner: AgentId, slot: int) -> int:
        """Signed traded lots of an owner in a slot (bought > 0)."""
        book = self.books.get(slot)
        return 0 if book is None else book.positions.get(owner, 0)

    # -- the agents' queries (the C engine answers them in one call each) ---------------------
    def best_bid(self, slot: int) -> int | None:
        """The best bid of a slot (ticks), ``None`` without bids."""
        book = self.books.get(slot)
        return book.bid_keys[-1] if book is not None and book.bid_keys else None

    def best_ask(self, slot: int) -> int | None:
        """The best ask of a slot (ticks), ``None`` without asks."""
        book = self.books.get(slot)
        return -book.ask_keys[-1] if book is not None and book.ask_keys else None

    def quotes(self, slot: int) -> tuple[int | None, int | None]:
        """``(best bid, best ask)`` of a slot, each ``None`` when that side is empty."""
        book = self.books.get(slot)
        if book is None:
            return None, None
        return (book.bid_keys[-1] if book.bid_keys else None,
                -book.ask_keys[-1] if book.ask_keys else None)

    def depth(self, slot: int, side: Side, k: int) -> list[tuple[int, int]]:
        """The top ``k`` levels of one side as ``[(price ticks, volume lots)]``, best first."""
        book = self.books.get(slot)
        if book is None or k <= 0:
            return []
        if side is Side.BUY:
            return [(p, book.bids[p].volume) for p in book.bid_keys[-k:][::-1]]
        return [(-p, book.asks[-p].volume) for p in book.ask_keys[-k:][::-1]]

    def vwap(self, slot: int) -> float | None:
        """Turnover / volume of a slot's trades (ticks), ``None`` before its first trade."""
        book = self.books.get(slot)
        return None if book is None or not book.volume else book.turnover / book.volume

    def traded_volume(self, slot: int) -> int:
        """Lots traded in a slot so far."""
        book = self.books.get(slot)
        return 0 if book is None else book.volume

    def positions(self, owner: AgentId, slots: Iterable[int]) -> list[int]:
        """:meth:`position` of an owner in each of ``slots``, in one call."""
        books = self.books
        return [0 if (b := books.get(k)) is None else b.positions.get(owner, 0) for k in slots]

    def notional(self, owner: AgentId, slot: int) -> int:
        """Trade cash of an owner in a slot in tick*lot units (received > 0)."""
        book = self.books.get(slot)
        return 0 if book is None else book.notional.get(owner, 0)

    def cash(self, owner: AgentId, slot: int) -> float:
        """Trade cash of an owner in a slot in currency (received > 0)."""
        return self.grid.cash(self.notional(owner, slot))

    def owners(self) -> set[AgentId]:
        """Everyone with a position or cash in any slot."""
        out: set[AgentId] = set()
        for book in self.books.values():
            out.update(book.positions)
        return out

    def open_slots(self) -> list[int]:
        """Slots with a book in a call phase or in continuous trading, ascending."""
        return sorted(s for s, b in self.books.items()
                      if b.phase is _Phase_CALL or b.phase is _Phase_CONTINUOUS)

    def lob3d(self, slots: Iterable[int], k: int = 5, out: LOB3D | None = None) -> LOB3D:
        """A numpy snapshot of the given slots' books: best quotes, top-k depth, statistics.

        Raises:
            ValueError: ``k`` is not in ``1..MAX_LOB3D_LEVELS`` or ``slots * k`` exceeds
                ``MAX_LOB3D_CELLS`` (see :mod:`.lob3d`); the slots are never read past it.
        """
        window = list(islice(slots, MAX_LOB3D_CELLS + 1))
        return snapshot(self.books, window, k, out,
                        Phase.CONTINUOUS if self.auto_open else Phase.PENDING)

    def forget(self, slot: int) -> None:
        """Drop a closed slot's book after settlement to bound memory on long runs.

        The slot stays closed (its orders keep their records and ids stay used).
        """
        book = self.books.get(slot)
        if book is None or book.phase is not _Phase_CLOSED:
            raise ValueError(f"slot {slot} is not closed; only closed slots can be forgotten")
        empty = Book(slot, _Phase_CLOSED)
        self.books[slot] = empty
