"""The C engine behind the reference's Python API: :class:`Exchange` and its book views.

:class:`Exchange` is the Cython class :class:`~rex_env._core._cexchange.CoreExchange` (submit,
cancel, modify, lifecycle, LOB-3D, bulk ``run_many``) plus the read-only views that the
simulation, the env and the tests use on the reference engine: ``books`` (slot -> a book view
with levels, positions, notional and statistics), ``orders`` (order id -> live order record),
positions and cash per owner. The views read the C state when asked; they never copy a book
until a caller iterates it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from rex_env.exchange.orders import AgentId, OrderId, Phase, Side, Status

from ._cexchange import COrder, CoreExchange

_BUY = Side.BUY
_CHECK_FAULTS = {
    1: "keys out of order",
    2: "queue links broken",
    3: "an order in a level is not a resting order of that price and side",
    4: "time priority broken in a level",
    5: "bad level volume",
    6: "continuous book is crossed",
    7: "the per-owner volume index of a level disagrees with its queue",
}


class LevelView:
    """One price level of a C book: ``price``, ``volume``, the live orders in time priority."""

    __slots__ = ("_ex", "_slot", "_side", "price")

    def __init__(self, ex: Exchange, slot: int, side: int, price: int) -> None:
        self._ex = ex
        self._slot = slot
        self._side = side
        self.price = price

    @property
    def volume(self) -> int:
        v = self._ex._level_volume(self._slot, self._side, self.price)
        return 0 if v is None else v

    @property
    def orders(self) -> list[COrder]:
        for price, _, recs in self._ex._levels(self._slot, self._side):
            if price == self.price:
                return recs
        return []

    def live(self) -> list[COrder]:
        return self.orders

    @property
    def dead(self) -> int:
        return 0  # the C book unlinks a cancelled order at once

    def __repr__(self) -> str:
        return f"Level(price={self.price}, volume={self.volume})"


class SideLevels(Mapping[int, LevelView]):
    """price -> :class:`LevelView` of one side (a live view, best level first)."""

    __slots__ = ("_ex", "_slot", "_side")

    def __init__(self, ex: Exchange, slot: int, side: int) -> None:
        self._ex, self._slot, self._side = ex, slot, side

    def __getitem__(self, price: int) -> LevelView:
        if self._ex._level_volume(self._slot, self._side, price) is None:
            raise KeyError(price)
        return LevelView(self._ex, self._slot, self._side, price)

    def __iter__(self) -> Iterator[int]:
        return iter(self._ex._prices(self._slot, self._side))

    def __len__(self) -> int:
        return len(self._ex._prices(self._slot, self._side))


class BookView:
    """The book of one delivery slot of the C engine, with the reference ``Book``'s fields."""

    __slots__ = ("_ex", "slot")

    def __init__(self, ex: Exchange, slot: int) -> None:
        self._ex = ex
        self.slot = slot

    def _info(self) -> tuple:
        return self._ex._book_info(self.slot)

    @property
    def phase(self) -> Phase:
        return self._info()[0]

    @property
    def last_price(self) -> int | None:
        return self._info()[1]

    @property
    def volume(self) -> int:
        return self._info()[2]

    @property
    def turnover(self) -> int:
        return self._info()[3]

    @property
    def n_trades(self) -> int:
        return self._info()[4]

    @property
    def high(self) -> int | None:
        return self._info()[5]

    @property
    def low(self) -> int | None:
        return self._info()[6]

    @property
    def bids(self) -> SideLevels:
        return SideLevels(self._ex, self.slot, 1)

    @property
    def asks(self) -> SideLevels:
        return SideLevels(self._ex, self.slot, -1)

    @property
    def bid_keys(self) -> list[int]:
        """Bid prices ascending (best last), as the reference keeps them."""
        keys = self._ex._prices(self.slot, 1)
        keys.reverse()
        return keys

    @property
    def ask_keys(self) -> list[int]:
        """Negated ask prices ascending (best last), as the reference keeps them."""
        keys = [-p for p in self._ex._prices(self.slot, -1)]
        keys.reverse()
        return keys

    @property
    def positions(self) -> dict[AgentId, int]:
        return {o: p for o, p, _ in self._ex._accounts(self.slot)}

    @property
    def notional(self) -> dict[AgentId, int]:
        return {o: c for o, _, c in self._ex._accounts(self.slot)}

    def best_bid(self) -> int | None:
        p = self._ex._prices(self.slot, 1)
        return p[0] if p else None

    def best_ask(self) -> int | None:
        p = self._ex._prices(self.slot, -1)
        return p[0] if p else None

    def n_levels(self) -> int:
        """Number of price levels on both sides."""
        return len(self._ex._prices(self.slot, 1)) + len(self._ex._prices(self.slot, -1))

    def is_crossed(self) -> bool:
        b, a = self.best_bid(), self.best_ask()
        return b is not None and a is not None and b >= a

    def levels(self, side: Side) -> list[LevelView]:
        """All levels of a side, best first."""
        s = 1 if side is _BUY else -1
        return [LevelView(self._ex, self.slot, s, p) for p in self._ex._prices(self.slot, s)]

    def resting(self) -> list[COrder]:
        """Every live resting order, bids then asks, each side in priority order."""
        out: list[COrder] = []
        for s in (1, -1):
            for _, _, recs in self._ex._levels(self.slot, s):
                out.extend(recs)
        return out

    def check(self) -> None:
        """Assert the C book's internal consistency (queues, volumes, priority, not crossed)."""
        code = self._ex._check_book(self.slot)
        assert code == 0, f"C book of slot {self.slot}: {_CHECK_FAULTS.get(code, code)}"
        for s in (1, -1):
            for price, volume, recs in self._ex._levels(self.slot, s):
                assert volume == sum(o.rate for o in recs) > 0, "bad level volume"
                assert all(o.price == price and o.status is Status.RESTING for o in recs)

    def __repr__(self) -> str:
        return f"BookView(slot={self.slot}, {self.phase})"


class BooksView(Mapping[int, BookView]):
    """slot -> :class:`BookView` for every slot that has a book, in order of creation."""

    __slots__ = ("_ex",)

    def __init__(self, ex: Exchange) -> None:
        self._ex = ex

    def __getitem__(self, slot: int) -> BookView:
        try:
            has = self._ex._has_book(slot)
        except TypeError:
            has = False
        if not has:
            raise KeyError(slot)
        return BookView(self._ex, slot)

    def get(self, slot: Any, default: Any = None) -> Any:
        try:
            has = self._ex._has_book(slot)
        except TypeError:
            has = False
        return BookView(self._ex, slot) if has else default

    def __contains__(self, slot: object) -> bool:
        try:
            return bool(self._ex._has_book(slot))
        except TypeError:
            return False

    def __iter__(self) -> Iterator[int]:
        return iter(self._ex._book_slots())

    def __len__(self) -> int:
        return len(self._ex._book_slots())


class OrdersView(Mapping[OrderId, COrder]):
    """order id -> live order record for every accepted order, in order of acceptance."""

    __slots__ = ("_ex",)

    def __init__(self, ex: Exchange) -> None:
        self._ex = ex

    def __getitem__(self, order_id: OrderId) -> COrder:
        h = self._ex._handle_of(order_id)
        if h < 0:
            raise KeyError(order_id)
        return self._ex._order(h)

    def get(self, order_id: Any, default: Any = None) -> Any:
        h = self._ex._handle_of(order_id)
        return default if h < 0 else self._ex._order(h)

    def __contains__(self, order_id: object) -> bool:
        try:
            return self._ex._handle_of(order_id) >= 0
        except TypeError:
            return False

    def __iter__(self) -> Iterator[OrderId]:
        ex = self._ex
        return (ex._id_obj(h) for h in range(ex._n_orders()))

    def __len__(self) -> int:
        return self._ex._n_orders()

    def values(self) -> list[COrder]:  # type: ignore[override]
        ex = self._ex
        return [ex._order(h) for h in range(ex._n_orders())]

    def items(self) -> list[tuple[OrderId, COrder]]:  # type: ignore[override]
        ex = self._ex
        return [(ex._id_obj(h), ex._order(h)) for h in range(ex._n_orders())]


class Exchange(CoreExchange):
    """The reservation exchange on the C core; the same API as the reference engine.

    Args:
        grid: tick, lot, price bounds, slot length.
        auto_open: open every non-negative slot for continuous trading on first use (replay).
        n_slots: with ``auto_open=False``, slots ``0..n_slots-1`` exist (``None``: unbounded).
    """

    engine = "c"

    @property
    def books(self) -> BooksView:
        return BooksView(self)

    @property
    def orders(self) -> OrdersView:
        return OrdersView(self)

    def status(self, order_id: OrderId) -> COrder | None:
        """The record of an accepted order (``None`` if the id was never accepted)."""
        try:
            return self.orders.get(order_id)
        except TypeError:  # unhashable: never an id
            return None

    def notional(self, owner: AgentId, slot: int) -> int:
        """Trade cash of an owner in a slot in tick*lot units (received > 0)."""
        return self._account(owner, slot)[1]

    def cash(self, owner: AgentId, slot: int) -> float:
        """Trade cash of an owner in a slot in currency (received > 0)."""
        return self.grid.cash(self.notional(owner, slot))

    def owners(self) -> set[AgentId]:
        """Everyone with a position or cash in any slot."""
        out: set[AgentId] = set()
        for slot in self._book_slots():
            out.update(o for o, _, _ in self._accounts(slot))
        return out

    def open_slots(self) -> list[int]:
        """Slots with a book in a call phase or in continuous trading, ascending."""
        return sorted(s for s in self._book_slots()
                      if self._book_info(s)[0] in (Phase.CALL, Phase.CONTINUOUS))
