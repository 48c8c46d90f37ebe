"""The opening (call) auction: the uncrossing price rule and the allocation (SPEC §6).

:func:`clearing_price` is a pure function of the two sides' price levels so that the four-step
rule can be tested on hand-made curves; :func:`uncross` executes it on a book.
"""

from __future__ import annotations

from bisect import bisect_left
from fractions import Fraction
from typing import NamedTuple

from .book import Book
from .orders import Order, Phase, Side, Status, Trade


class Clearing(NamedTuple):
    """The outcome of the price rule: ``price`` is ``None`` when nothing is executable."""

    price: int | None
    volume: int
    surplus: int  # bids at or above p minus asks at or below p


def clearing_price(
    bids: list[tuple[int, int]],
    asks: list[tuple[int, int]],
    reference: int | Fraction | None = None,
) -> Clearing:
    """Choose the uncrossing price among the limit prices present (SPEC §6).

    Args:
        bids: ``(price, volume)`` per bid level (any order).
        asks: ``(price, volume)`` per ask level (any order).
        reference: the reference price in ticks (may be fractional); ``None`` -> highest price.

    The rule, in order: (1) maximum executable volume ``V(p) = min(B(p), A(p))``;
    (2) minimum ``|B(p) - A(p)|``; (3) all surpluses on the buy side -> highest price, all on
    the sell side -> lowest; otherwise (4) closest to the reference, ties to the higher price.
    """
    prices = sorted({p for p, _ in bids} | {p for p, _ in asks})
    if not prices:
        return Clearing(None, 0, 0)
    bid_at: dict[int, int] = {}
    for p, v in bids:
        bid_at[p] = bid_at.get(p, 0) + v
    ask_at: dict[int, int] = {}
    for p, v in asks:
        ask_at[p] = ask_at.get(p, 0) + v
    n = len(prices)
    cum_ask = [0] * n  # asks at or below prices[i]
    run = 0
    for i, p in enumerate(prices):
        run += ask_at.get(p, 0)
        cum_ask[i] = run
    cum_bid = [0] * n  # bids at or above prices[i]
    run = 0
    for i in range(n - 1, -1, -1):
        run += bid_at.get(prices[i], 0)
        cum_bid[i] = run
    vols = [min(b, a) for b, a in zip(cum_bid, cum_ask, strict=True)]
    best = max(vols)
    if best == 0:
        return Clearing(None, 0, 0)
    cand = [i for i in range(n) if vols[i] == best]  # (1)
    least = min(abs(cum_bid[i] - cum_ask[i]) for i in cand)
    cand = [i for i in cand if abs(cum_bid[i] - cum_ask[i]) == least]  # (2)
    surplus = [cum_bid[i] - cum_ask[i] for i in cand]
    if all(s > 0 for s in surplus):  # (3) buy pressure
        i = cand[-1]
    elif all(s < 0 for s in surplus):  # (3) sell pressure
        i = cand[0]
    elif reference is None:  # (4) no reference: the highest remaining price
        i = cand[-1]
    else:  # (4) closest to the reference; equally close -> the higher
        i = min(cand, key=lambda j: (abs(prices[j] - reference), -prices[j]))
    return Clearing(prices[i], best, cum_bid[i] - cum_ask[i])


def uncross(book: Book, time: int, reference: int | Fraction | None, first_trade_id: int
            ) -> list[Trade]:
    """End a call phase: execute exactly V(p) at the clearing price, then trade continuously.

    Reads only the crossed part of the book (levels between the best ask and the best bid),
    so that repeated call phases over a deep book cost nothing when it is not crossed.

    Bids at or above p (highest first, then earliest) are paired with asks at or below p
    (lowest first, then earliest); each trade is for the smaller open rate of the pair. The
    auction applies no self-trade prevention. Remainders keep their priority in the book.
    """
    assert book.phase is Phase.CALL
    trades: list[Trade] = []
    if not book.is_crossed():  # V(p) = 0 at every price: nothing to look at
        book.phase = Phase.CONTINUOUS
        return trades
    # only levels between the best ask and the best bid can execute, and the cumulative
    # volumes at those prices count no level outside them: the rest of the book is not read
    lo, hi = book.best_ask(), book.best_bid()
    assert lo is not None and hi is not None
    bid_keys = book.bid_keys[bisect_left(book.bid_keys, lo):]
    ask_keys = book.ask_keys[bisect_left(book.ask_keys, -hi):]
    clearing = clearing_price(
        [(p, book.bids[p].volume) for p in bid_keys],
        [(-k, book.asks[-k].volume) for k in ask_keys],
        reference,
    )
    if clearing.price is not None:
        price = clearing.price
        left = clearing.volume
        tid = first_trade_id
        bid = _next_live(book, Side.BUY)
        ask = _next_live(book, Side.SELL)
        while left:
            assert bid is not None and ask is not None, "V(p) is covered on both sides"
            fill = min(bid.rate, ask.rate)
            for o in (bid, ask):
                book.take_out(o, fill)
                o.rate -= fill
                o.filled += fill
            trades.append(
                Trade(tid, time, book.slot, price, fill, bid.order_id, ask.order_id,
                      bid.owner, ask.owner, "auction")
            )
            book.record_trade(price, fill, bid.owner, ask.owner)
            tid += 1
            left -= fill
            if bid.rate == 0:
                _pop_filled(book, bid)
                bid = _next_live(book, Side.BUY) if left else None
            if ask.rate == 0:
                _pop_filled(book, ask)
                ask = _next_live(book, Side.SELL) if left else None
    book.phase = Phase.CONTINUOUS
    return trades


def _next_live(book: Book, side: Side) -> Order | None:
    """The first order of a side in priority order (best level's head)."""
    if side is Side.BUY:
        return book.bids[book.bid_keys[-1]].head if book.bid_keys else None
    return book.asks[-book.ask_keys[-1]].head if book.ask_keys else None


def _pop_filled(book: Book, order: Order) -> None:
    """Remove a just-filled order from the front of its level (and the level if empty)."""
    order.status = Status.FILLED
    assert book.level_of(order).head is order
    book.unlink(order)
