"""One delivery slot's limit order book: FIFO price levels and continuous matching (SPEC §4).

Layout, chosen for speed in pure Python and for bounded cost per instruction:

* each side is a ``dict`` price -> :class:`Level` plus a sorted ``list`` of *keys* whose best
  element is last (bids keyed by price, asks by ``-price``), so the best level is ``keys[-1]``
  and removing it is ``list.pop()``;
* a level is an intrusive doubly linked list of its orders in time priority (``Order.prev`` /
  ``Order.next``), so a cancel or a priority-losing modify unlinks an order in O(1), wherever
  it sits in the queue; a level whose volume reaches zero is removed at once, so best prices
  and depth are always exact;
* a level also keeps each owner's open volume in it, so a fill-or-kill or block feasibility
  check costs one step per price level in reach, however many orders the owner has there.

Positions and trade cash per owner are kept here too, since they belong to the slot.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Iterator

from .orders import AgentId, Order, Phase, Reason, Side, Status, Trade

# enum members as module constants: EnumType.__getattr__ makes Enum.X slow on 3.11
_Phase_CLOSED = Phase.CLOSED
_Phase_CONTINUOUS = Phase.CONTINUOUS
_Reason_SELF_TRADE = Reason.SELF_TRADE
_Side_BUY = Side.BUY
_Side_SELL = Side.SELL
_Status_CANCELLED = Status.CANCELLED
_Status_EXPIRED = Status.EXPIRED
_Status_FILLED = Status.FILLED
_Status_RESTING = Status.RESTING

_tuple_new = tuple.__new__


class Level:
    """Orders at one price in time priority, as a linked list from ``head`` (first) to ``tail``.

    ``volume`` is the sum of their open rates and ``owners`` maps each owner to its part of it.
    """

    __slots__ = ("price", "head", "tail", "volume", "owners")

    def __init__(self, price: int) -> None:
        self.price = price
        self.head: Order | None = None
        self.tail: Order | None = None
        self.volume = 0
        self.owners: dict[AgentId, int] = {}

    def __iter__(self) -> Iterator[Order]:
        o = self.head
        while o is not None:
            yield o
            o = o.next

    def live(self) -> list[Order]:
        """The level's orders in time priority (every linked order has an open rate)."""
        return list(self)

    def append(self, order: Order) -> None:
        tail = self.tail
        order.prev = tail
        order.next = None
        if tail is None:
            self.head = order
        else:
            tail.next = order
        self.tail = order
        self.volume += order.rate
        owners = self.owners
        owners[order.owner] = owners.get(order.owner, 0) + order.rate

    def unlink(self, order: Order) -> None:
        """Take an order out of the queue (its open rate is the caller's business)."""
        prev, nxt = order.prev, order.next
        if prev is None:
            self.head = nxt
        else:
            prev.next = nxt
        if nxt is None:
            self.tail = prev
        else:
            nxt.prev = prev
        order.prev = order.next = None


class Book:
    """The book of one delivery slot.

    The book does not validate: :class:`~rex_env.exchange.exchange.Exchange` checks every
    instruction before it reaches here, so methods below cannot fail on user input.
    """

    __slots__ = (
        "slot",
        "phase",
        "bids",
        "asks",
        "bid_keys",
        "ask_keys",
        "positions",
        "notional",
        "last_price",
        "volume",
        "turnover",
        "n_trades",
        "high",
        "low",
    )

    def __init__(self, slot: int, phase: Phase = _Phase_CONTINUOUS) -> None:
        self.slot = slot
        self.phase = phase
        self.bids: dict[int, Level] = {}
        self.asks: dict[int, Level] = {}
        self.bid_keys: list[int] = []  # prices ascending: best bid last
        self.ask_keys: list[int] = []  # -prices ascending: best (lowest) ask last
        self.positions: dict[AgentId, int] = {}  # lots, bought > 0
        self.notional: dict[AgentId, int] = {}  # tick*lots received (seller +, buyer -)
        self.last_price: int | None = None
        self.volume = 0  # traded lots
        self.turnover = 0  # sum price*rate, tick*lots (VWAP = turnover / volume)
        self.n_trades = 0
        self.high: int | None = None
        self.low: int | None = None

    # -- queries --------------------------------------------------------------------------
    def best_bid(self) -> int | None:
        return self.bid_keys[-1] if self.bid_keys else None

    def best_ask(self) -> int | None:
        return -self.ask_keys[-1] if self.ask_keys else None

    def is_crossed(self) -> bool:
        return bool(self.bid_keys and self.ask_keys and self.bid_keys[-1] >= -self.ask_keys[-1])

    def levels(self, side: Side) -> list[Level]:
        """All levels of a side, best first."""
        if side is _Side_BUY:
            return [self.bids[p] for p in reversed(self.bid_keys)]
        return [self.asks[-k] for k in reversed(self.ask_keys)]

    def n_levels(self) -> int:
        return len(self.bids) + len(self.asks)

    def resting(self) -> list[Order]:
        """Every live resting order, bids then asks, each side in priority order."""
        out: list[Order] = []
        for side in (_Side_BUY, _Side_SELL):
            for level in self.levels(side):
                out.extend(level)
        return out

    # -- mutation -------------------------------------------------------------------------
    def rest(self, order: Order) -> None:
        """Put a (validated, unmatched) order's open rate at the back of its price level."""
        price = order.price
        assert price is not None
        if order.side is _Side_BUY:
            level = self.bids.get(price)
            if level is None:
                level = self.bids[price] = Level(price)
                insort(self.bid_keys, price)
        else:
            level = self.asks.get(price)
            if level is None:
                level = self.asks[price] = Level(price)
                insort(self.ask_keys, -price)
        level.append(order)

    def level_of(self, order: Order) -> Level:
        assert order.price is not None
        return (self.bids if order.side is _Side_BUY else self.asks)[order.price]

    def _drop_level(self, side: Side, price: int) -> None:
        if side is _Side_BUY:
            del self.bids[price]
            keys, key = self.bid_keys, price
        else:
            del self.asks[price]
            keys, key = self.ask_keys, -price
        if keys[-1] == key:
            keys.pop()
        else:
            # bisect for the key; levels are removed from the middle only by cancels
            lo, hi = 0, len(keys)
            while lo < hi:
                mid = (lo + hi) // 2
                if keys[mid] < key:
                    lo = mid + 1
                else:
                    hi = mid
            del keys[lo]

    def take_out(self, order: Order, rate: int) -> None:
        """Lower a linked order's level accounting by ``rate`` (its fill or removal)."""
        level = self.level_of(order)
        level.volume -= rate
        level.owners[order.owner] -= rate

    def unlink(self, order: Order) -> None:
        """Take a live order out of the book in O(1), its open rate with it (the record stays:
        a cancel zeroes its rate, a priority-losing modify re-enters it)."""
        level = self.level_of(order)
        level.unlink(order)
        level.volume -= order.rate
        level.owners[order.owner] -= order.rate
        if level.volume == 0:
            self._drop_level(order.side, level.price)

    def remove(self, order: Order) -> int:
        """Take a resting order's open rate out of the book; return the rate removed."""
        self.unlink(order)
        rate = order.rate
        order.rate = 0
        return rate

    def reduce(self, order: Order, new_rate: int) -> int:
        """Lower a resting order's open rate in place (keeps priority); return lots removed."""
        diff = order.rate - new_rate
        self.take_out(order, diff)
        order.rate = new_rate
        return diff

    def record_trade(self, price: int, rate: int, buyer: AgentId, seller: AgentId) -> None:
        """Positions, cash and statistics of one execution (called for every trade)."""
        pos = self.positions
        pos[buyer] = pos.get(buyer, 0) + rate
        pos[seller] = pos.get(seller, 0) - rate
        value = price * rate
        cash = self.notional
        cash[buyer] = cash.get(buyer, 0) - value
        cash[seller] = cash.get(seller, 0) + value
        self.last_price = price
        self.volume += rate
        self.turnover += value
        self.n_trades += 1
        if self.high is None or price > self.high:
            self.high = price
        if self.low is None or price < self.low:
            self.low = price

    def match(
        self,
        order: Order,
        time: int,
        trades: list[Trade],
        first_trade_id: int,
        self_trades: list[Order],
    ) -> None:
        """Match an incoming order against the opposite side by price-time priority.

        One trade per resting order touched, at the resting price; stops at the order's limit
        (``None``: sweep to the bound) or when it is complete. Same-owner resting orders it
        reaches are cancelled (self-trade prevention) and matching goes on. The caller decides
        what happens to the remainder.
        """
        buy = order.side is _Side_BUY
        if buy:
            levels, keys = self.asks, self.ask_keys
        else:
            levels, keys = self.bids, self.bid_keys
        if not keys:
            return
        limit = order.price
        owner = order.owner
        oid = order.order_id
        aggressor = "buy" if buy else "sell"
        slot = self.slot
        tid = first_trade_id
        want = order.rate
        pos = self.positions
        cash = self.notional
        new = _tuple_new
        append = trades.append
        volume = turnover = 0
        price = 0
        while want and keys:
            key = keys[-1]
            price = -key if buy else key
            if limit is not None and (price > limit if buy else price < limit):
                break
            level = levels[price]
            owners = level.owners
            resting = level.head
            while want and resting is not None:
                rrate = resting.rate
                rowner = resting.owner
                nxt = resting.next
                if rowner == owner:
                    resting.rate = 0
                    resting.removed += rrate
                    resting.status = _Status_CANCELLED
                    resting.reason = _Reason_SELF_TRADE
                    level.volume -= rrate
                    owners[rowner] -= rrate
                    self_trades.append(resting)
                    resting.next = None
                    level.head = resting = nxt
                    if nxt is not None:
                        nxt.prev = None
                    continue
                if want < rrate:
                    fill = want
                    resting.rate = rrate - fill
                else:
                    fill = rrate
                    resting.rate = 0
                    resting.status = _Status_FILLED
                    resting.next = None
                    level.head = nxt
                    if nxt is not None:
                        nxt.prev = None
                resting.filled += fill
                level.volume -= fill
                owners[rowner] -= fill
                want -= fill
                value = price * fill
                if buy:
                    append(new(Trade, (tid, time, slot, price, fill, oid, resting.order_id,
                                       owner, rowner, aggressor)))
                    pos[owner] = pos.get(owner, 0) + fill
                    pos[rowner] = pos.get(rowner, 0) - fill
                    cash[owner] = cash.get(owner, 0) - value
                    cash[rowner] = cash.get(rowner, 0) + value
                else:
                    append(new(Trade, (tid, time, slot, price, fill, resting.order_id, oid,
                                       rowner, owner, aggressor)))
                    pos[rowner] = pos.get(rowner, 0) + fill
                    pos[owner] = pos.get(owner, 0) - fill
                    cash[rowner] = cash.get(rowner, 0) - value
                    cash[owner] = cash.get(owner, 0) + value
                volume += fill
                turnover += value
                tid += 1
                resting = nxt
            if level.volume == 0:  # its queue is empty too: every linked order is open
                del levels[price]
                keys.pop()
        n = tid - first_trade_id
        order.filled += order.rate - want
        order.rate = want
        if n:
            self.last_price = trades[-1].price
            self.volume += volume
            self.turnover += turnover
            self.n_trades += n
            # prices touched are monotone: best level first, worst last
            first, last = trades[-n].price, trades[-1].price
            h, l_ = (last, first) if buy else (first, last)
            if self.high is None or h > self.high:
                self.high = h
            if self.low is None or l_ < self.low:
                self.low = l_

    def fillable(self, side: Side, limit: int | None, owner: AgentId, need: int) -> bool:
        """Can ``need`` lots be bought/sold now within ``limit`` from *other* owners' orders?

        One step per price level in reach (the owner's own volume there is one lookup).
        """
        if side is _Side_BUY:
            levels, keys, sign = self.asks, self.ask_keys, -1
        else:
            levels, keys, sign = self.bids, self.bid_keys, 1
        got = 0
        for key in reversed(keys):
            price = sign * key
            if limit is not None and (price > limit if side is _Side_BUY else price < limit):
                return False
            level = levels[price]
            got += level.volume - level.owners.get(owner, 0)
            if got >= need:
                return True
        return False

    def expire_all(self) -> list[Order]:
        """Gate closure: every resting order expires; the book is empty and closed."""
        out: list[Order] = []
        for level in (*self.bids.values(), *self.asks.values()):
            o = level.head
            while o is not None:
                nxt = o.next
                o.removed += o.rate
                o.rate = 0
                o.status = _Status_EXPIRED
                o.prev = o.next = None
                out.append(o)
                o = nxt
        out.sort(key=lambda o: o.seq)
        self.bids.clear()
        self.asks.clear()
        self.bid_keys.clear()
        self.ask_keys.clear()
        self.phase = _Phase_CLOSED
        return out

    def check(self) -> None:
        """Assert the book's internal consistency (used by tests, never on the hot path)."""
        for levels, keys, sign in ((self.bids, self.bid_keys, 1), (self.asks, self.ask_keys, -1)):
            assert keys == sorted(keys), "keys out of order"
            assert sorted(levels) == sorted(sign * k for k in keys), "keys and levels disagree"
            for price, level in levels.items():
                live = level.live()
                assert live and live[0] is level.head and live[-1] is level.tail, "bad ends"
                assert all(b.prev is a for a, b in zip(live, live[1:], strict=False)), "bad links"
                assert level.volume == sum(o.rate for o in live) > 0, "bad level volume"
                assert all(o.rate > 0 for o in live), "a linked order has no open rate"
                by_owner: dict[AgentId, int] = {}
                for o in live:
                    by_owner[o.owner] = by_owner.get(o.owner, 0) + o.rate
                assert {k: v for k, v in level.owners.items() if v} == by_owner, "bad owners"
                assert all(o.price == price and o.status is _Status_RESTING for o in live)
                seqs = [o.seq for o in live]
                assert seqs == sorted(seqs), "time priority broken in a level"
        if self.phase is _Phase_CONTINUOUS:
            assert not self.is_crossed(), "continuous book is crossed"
