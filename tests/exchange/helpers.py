"""Shared helpers for the exchange tests: build a book, compare it, check SPEC §5 invariants.

Prices are integer ticks and rates integer lots throughout (the exchange's internal units).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rex_env.exchange import Exchange, Grid, Phase, Side, Status

#: ``(price, rate)`` or ``(price, rate, owner)``
OrderSpec = tuple[Any, ...]

DEFAULT_BID_OWNER = "bidder"
DEFAULT_ASK_OWNER = "asker"


def make_book(
    bids: Sequence[OrderSpec] = (),
    asks: Sequence[OrderSpec] = (),
    slot: int = 0,
    *,
    grid: Grid | None = None,
    call_phase: bool = False,
    time: int = 0,
) -> Exchange:
    """An auto-open exchange whose ``slot`` holds the given resting limit gtc orders.

    Bids get ids ``b1, b2, ...`` and asks ``a1, a2, ...``; they are accepted in list order,
    bids first, all at ``time`` (so earlier in the list means earlier in time priority).
    The owner defaults to ``"bidder"`` / ``"asker"``. With ``call_phase=True`` the slot is put
    into a call phase first, so the orders may cross. Every trade is kept (``ex.trade_log``).
    """
    ex = Exchange(grid, auto_open=True)
    ex.keep_trades()
    if call_phase:
        assert ex.open_auction(slot, time).ok
    for prefix, side, specs, default_owner in (
        ("b", Side.BUY, bids, DEFAULT_BID_OWNER),
        ("a", Side.SELL, asks, DEFAULT_ASK_OWNER),
    ):
        for i, spec in enumerate(specs, 1):
            price, rate, *rest = spec
            owner = rest[0] if rest else default_owner
            rep = ex.submit(time, f"{prefix}{i}", owner, side, slot, price, rate)
            assert rep.status is Status.RESTING and not rep.trades, (
                f"make_book: {prefix}{i} {spec} did not rest ({rep.status}); "
                "use call_phase=True for a crossed book"
            )
    return ex


def book_levels(ex: Exchange, slot: int, side: Side) -> list[tuple[int, int]]:
    """``(price, volume)`` per level of one side, best first (empty if the slot has no book)."""
    book = ex.books.get(slot)
    if book is None:
        return []
    return [(lv.price, lv.volume) for lv in book.levels(side)]


def assert_book(
    ex: Exchange,
    slot: int = 0,
    bids: Sequence[tuple[int, int]] = (),
    asks: Sequence[tuple[int, int]] = (),
) -> None:
    """Assert the slot's levels, best first: ``bids=[(price, volume), ...]``, same for asks."""
    got_bids = book_levels(ex, slot, Side.BUY)
    got_asks = book_levels(ex, slot, Side.SELL)
    assert (got_bids, got_asks) == (list(bids), list(asks)), (
        f"slot {slot}: bids {got_bids} asks {got_asks}, expected bids {list(bids)} "
        f"asks {list(asks)}"
    )
    book = ex.books.get(slot)
    if book is not None:
        book.check()


def queue(ex: Exchange, slot: int, side: Side, price: int) -> list[tuple[Any, int]]:
    """``(order_id, open rate)`` of the live orders at one price level, in time priority."""
    book = ex.books[slot]
    for lv in book.levels(side):
        if lv.price == price:
            return [(o.order_id, o.rate) for o in lv.live()]
    return []


def trade_rows(trades: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Trades as ``(price, rate, buy_order_id, sell_order_id)`` for compact assertions."""
    return [(t.price, t.rate, t.buy_order_id, t.sell_order_id) for t in trades]


STATUSES = frozenset(Status) - {Status.REJECTED}


def check_invariants(ex: Exchange) -> None:
    """Assert every SPEC §5 invariant on an exchange (call after every event).

    * each book's own ``check()`` passes and no book in continuous trading is crossed;
    * per slot the positions of all owners sum to zero, and so does the trade cash;
    * every accepted order has exactly one non-``rejected`` status, its open rate is > 0 exactly
      when it is ``resting``, and ``offered == filled + rate + removed`` (per slot for blocks);
    * the live orders in the books are exactly the ``resting`` orders, each in its own slot;
    * if the trade log is kept, positions, cash and ``filled`` agree with the trades.
    """
    in_books: dict[Any, int] = {}
    for slot, book in ex.books.items():
        book.check()
        if book.phase is Phase.CONTINUOUS:
            bb, ba = book.best_bid(), book.best_ask()
            assert bb is None or ba is None or bb < ba, f"slot {slot} crossed: {bb} >= {ba}"
        if book.phase is Phase.CLOSED:
            assert not book.bid_keys and not book.ask_keys, f"closed slot {slot} has orders"
        assert sum(book.positions.values()) == 0, f"slot {slot} positions {book.positions}"
        assert sum(book.notional.values()) == 0, f"slot {slot} cash {book.notional}"
        for order in book.resting():
            assert order.order_id not in in_books, f"{order.order_id!r} rests twice"
            in_books[order.order_id] = slot
    for oid, order in ex.orders.items():
        assert order.order_id == oid
        assert order.status in STATUSES, f"{oid!r} has status {order.status}"
        assert order.rate >= 0 and order.filled >= 0 and order.removed >= 0
        assert order.offered == order.filled + order.rate + order.removed, (
            f"{order!r}: offered {order.offered} != filled {order.filled} + open {order.rate}"
            f" + removed {order.removed}"
        )
        resting = order.status is Status.RESTING
        assert resting == (order.rate > 0), f"{order!r}: status and open rate disagree"
        assert resting == (oid in in_books), f"{order!r}: resting status vs book membership"
        if resting:
            assert in_books[oid] == order.first_slot == order.last_slot
            assert order.kind == "limit" and order.tif == "gtc"
        if order.status is Status.FILLED:
            assert order.filled > 0 and order.rate == 0
        if order.status is Status.KILLED:
            assert order.filled == 0 and order.removed == order.offered
        if order.first_slot != order.last_slot:
            assert order.status in (Status.FILLED, Status.KILLED), f"block {order!r} rested"
    assert set(in_books) <= set(ex.orders)
    log = ex.trade_log
    if log is None:
        return
    assert [t.trade_id for t in log] == list(range(1, len(log) + 1)), "trade ids not 1, 2, ..."
    assert len(log) == ex.n_trades
    pos: dict[tuple[int, str], int] = {}
    cash: dict[tuple[int, str], int] = {}
    filled: dict[Any, int] = {}
    for t in log:
        assert t.rate > 0
        assert ex.grid.min_ticks <= t.price <= ex.grid.max_ticks
        pos[t.slot, t.buyer] = pos.get((t.slot, t.buyer), 0) + t.rate
        pos[t.slot, t.seller] = pos.get((t.slot, t.seller), 0) - t.rate
        cash[t.slot, t.buyer] = cash.get((t.slot, t.buyer), 0) - t.price * t.rate
        cash[t.slot, t.seller] = cash.get((t.slot, t.seller), 0) + t.price * t.rate
        for oid in (t.buy_order_id, t.sell_order_id):
            filled[oid] = filled.get(oid, 0) + t.rate
    for slot, book in ex.books.items():
        for owner in set(book.positions) | {o for s, o in pos if s == slot}:
            assert book.positions.get(owner, 0) == pos.get((slot, owner), 0)
            assert book.notional.get(owner, 0) == cash.get((slot, owner), 0)
    for oid, order in ex.orders.items():
        legs = order.last_slot - order.first_slot + 1
        assert filled.get(oid, 0) == order.filled * legs, f"{order!r} vs its trades"


def state_digest(ex: Exchange) -> tuple[Any, ...]:
    """Everything observable about an exchange, as a comparable value."""
    books = []
    for slot in sorted(ex.books):
        book = ex.books[slot]
        sides = tuple(
            tuple(
                (lv.price, lv.volume, tuple((o.order_id, o.rate, o.seq) for o in lv.live()))
                for lv in book.levels(side)
            )
            for side in (Side.BUY, Side.SELL)
        )
        books.append(
            (
                slot,
                book.phase,
                sides,
                tuple(sorted(book.positions.items())),
                tuple(sorted(book.notional.items())),
                book.last_price,
                book.volume,
                book.turnover,
                book.n_trades,
            )
        )
    orders = tuple(
        sorted(
            (
                repr(oid),
                o.owner,
                o.side,
                o.first_slot,
                o.last_slot,
                o.price,
                o.rate,
                o.kind,
                o.tif,
                o.time,
                o.seq,
                o.filled,
                o.status,
                o.reason,
                o.offered,
                o.removed,
            )
            for oid, o in ex.orders.items()
        )
    )
    log = None if ex.trade_log is None else tuple(ex.trade_log)
    return (ex.now, ex.n_trades, tuple(books), orders, log)
