"""A plain pure-Python limit order book: the baseline the Rex engine is measured against.

This is the "plain pure-Python book (sorted dict of FIFO levels, trades only recorded)" that
published figures for pure-Python matching engines refer to (roughly 0.5-0.66 M messages/s on
one book). It is meant to be a *fair* baseline, written the way a competent Python programmer
would write a simple book, not a strawman:

* per slot and side a :class:`sortedcontainers.SortedDict` price -> :class:`collections.deque`
  of mutable entries ``[order_id, owner, open_rate]`` in time priority (asks best at index 0,
  bids best at index -1; both found with ``peekitem``, which is O(1) at the ends);
* one dict ``order_id -> (side_dict, price, entry)`` for cancels, so a cancel is a dict lookup,
  a ``deque.remove`` on that one level (identity hit, O(level length)) and, if the level is now
  empty, dropping it;
* limit orders match by price-time priority at the resting price, one trade per resting order
  touched, and their remainder rests; market orders sweep and never rest (ioc);
* a trade is only *recorded*: a tuple ``(slot, price, rate, buy_order_id, sell_order_id)``
  appended to :attr:`BaselineExchange.trades`. No positions, cash, statistics or reports.

No validation at all: the benchmark feeds only well-formed messages. The one optional extra is
``stp=True`` (self-trade prevention exactly as Rex does it: a resting order of the incoming
order's owner that the incoming order reaches is removed and matching goes on). The timed
baseline runs with ``stp=False``; ``stp=True`` is used untimed to check that Rex produces the
very same trades as this simple book, i.e. that the two do the same matching work.
"""

from __future__ import annotations

from collections import deque

from sortedcontainers import SortedDict

from rex_env.exchange import Side

_BUY = Side.BUY
_INF = float("inf")


class BaselineExchange:
    """Books for any number of slots (created on first use), matching as described above."""

    __slots__ = ("books", "index", "trades", "stp")

    def __init__(self, stp: bool = False) -> None:
        self.books: dict[int, tuple[SortedDict, SortedDict]] = {}  # slot -> (bids, asks)
        self.index: dict = {}  # order_id -> (side SortedDict, price, entry)
        self.trades: list[tuple] = []
        self.stp = stp

    def _book(self, slot: int) -> tuple[SortedDict, SortedDict]:
        book = self.books.get(slot)
        if book is None:
            book = self.books[slot] = (SortedDict(), SortedDict())
        return book

    # -- matching -----------------------------------------------------------------------
    def _buy(self, asks: SortedDict, oid, owner, slot: int, limit, rate: int) -> int:
        """Match an incoming buy against the asks up to ``limit``; return the open rest."""
        trades = self.trades
        index = self.index
        stp = self.stp
        while asks:
            price, level = asks.peekitem(0)
            if price > limit:
                break
            while level:
                entry = level[0]
                if stp and entry[1] == owner:
                    level.popleft()
                    del index[entry[0]]
                    continue
                r = entry[2]
                if r <= rate:
                    level.popleft()
                    del index[entry[0]]
                    trades.append((slot, price, r, oid, entry[0]))
                    rate -= r
                    if not rate:
                        break
                else:
                    entry[2] = r - rate
                    trades.append((slot, price, rate, oid, entry[0]))
                    return 0
            if not level:
                del asks[price]
            if not rate:
                return 0
        return rate

    def _sell(self, bids: SortedDict, oid, owner, slot: int, limit, rate: int) -> int:
        """Match an incoming sell against the bids down to ``limit``; return the open rest."""
        trades = self.trades
        index = self.index
        stp = self.stp
        while bids:
            price, level = bids.peekitem(-1)
            if price < limit:
                break
            while level:
                entry = level[0]
                if stp and entry[1] == owner:
                    level.popleft()
                    del index[entry[0]]
                    continue
                r = entry[2]
                if r <= rate:
                    level.popleft()
                    del index[entry[0]]
                    trades.append((slot, price, r, entry[0], oid))
                    rate -= r
                    if not rate:
                        break
                else:
                    entry[2] = r - rate
                    trades.append((slot, price, rate, entry[0], oid))
                    return 0
            if not level:
                del bids[price]
            if not rate:
                return 0
        return rate

    # -- messages ---------------------------------------------------------------------------
    def limit(self, oid, owner: str, side: Side, slot: int, price: int, rate: int) -> None:
        """A gtc limit order: match, then rest the remainder at the back of its level."""
        bids, asks = self._book(slot)
        if side is _BUY:
            rate = self._buy(asks, oid, owner, slot, price, rate)
            own = bids
        else:
            rate = self._sell(bids, oid, owner, slot, price, rate)
            own = asks
        if rate:
            level = own.get(price)
            if level is None:
                level = own[price] = deque()
            entry = [oid, owner, rate]
            level.append(entry)
            self.index[oid] = (own, price, entry)

    def market(self, oid, owner: str, side: Side, slot: int, rate: int) -> None:
        """A market order: sweep the opposite side; the remainder is dropped (ioc)."""
        bids, asks = self._book(slot)
        if side is _BUY:
            self._buy(asks, oid, owner, slot, _INF, rate)
        else:
            self._sell(bids, oid, owner, slot, -_INF, rate)

    def cancel(self, oid, owner: str) -> bool:
        """Remove a resting order of ``owner``; ``False`` if there is none by that id."""
        hit = self.index.get(oid)
        if hit is None:
            return False
        own, price, entry = hit
        if entry[1] != owner:
            return False
        del self.index[oid]
        level = own[price]
        level.remove(entry)
        if not level:
            del own[price]
        return True

    # -- views (untimed) ------------------------------------------------------------------
    def resting(self) -> int:
        """Number of resting orders in all books."""
        return len(self.index)

    def n_levels(self) -> int:
        """Number of non-empty price levels in all books."""
        return sum(len(b) + len(a) for b, a in self.books.values())
