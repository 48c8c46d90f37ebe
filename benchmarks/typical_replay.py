"""A typical well-written pure-Python replay engine: the yardstick of issue 12's replay target.

Issue 12 quotes "a typical well-written pure-Python engine of the same contract" at about
154 k events/s on a 200 k-event stream. This script is such an engine, so that the benchmark
can measure it in the same run as ``python -m rex_env.replay`` (ratios, not absolutes, on a
shared machine)::

    python benchmarks/typical_replay.py EVENTS.csv --out TRADES.csv

Same contract, written plainly: ``csv.reader`` over the file, columns by header name, exact
decimal prices and rates (``decimal.Decimal``; off-grid values are rejected, never rounded),
a plain sortedcontainers book as in :mod:`benchmarks.baseline_book` with self-trade prevention
(price-time priority, partial fills, cancel by id), a rejection line on standard error for
every row it cannot take (``bad_field``, ``unknown_order``, ``duplicate_id``), and TRADES.csv
with the SPEC's columns and grid decimals. It is self-contained (it imports nothing of
``rex_env``, so it does not pay the package's start-up: Gymnasium, NumPy). It handles the
benchmark's rows (gtc limit, ioc market, cancel); it has none of the exchange's accounting,
block orders, auctions or hostile-input limits, so it is a generous yardstick. On the
benchmark's streams it writes the very TRADES.csv of ``python -m rex_env.replay`` (the
benchmark checks this in every run).
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import deque
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sortedcontainers import SortedDict

TRADE_COLUMNS = ("trade_id", "time", "slot", "price", "rate", "buy_order_id", "sell_order_id",
                 "buyer", "seller", "aggressor")
TEN = Decimal(10)


def steps(text: str) -> int:
    """Tenths of a plain decimal (tick 0.1, lot 0.1) exactly; ValueError if off the grid."""
    try:
        q = Decimal(text) * TEN
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a decimal") from None
    n = int(q)
    if n != q:
        raise ValueError(f"{text!r} is off the grid")
    return n


def tenths(n: int) -> str:
    return f"{'-' if n < 0 else ''}{abs(n) // 10}.{abs(n) % 10}"


class Book:
    """Books of every slot: price -> FIFO of ``[order_id, owner, open rate]`` per side,
    price-time priority at the resting price, self-trade prevention (a resting order of the
    incoming order's owner is removed, matching goes on), cancel by id."""

    def __init__(self) -> None:
        self.books: dict[int, tuple[SortedDict, SortedDict]] = {}
        self.index: dict[str, tuple[SortedDict, float, list]] = {}
        self.trades: list[tuple[int, int, int, str, str]] = []  # slot, price, rate, buy, sell

    def submit(self, oid: str, owner: str, buy: bool, slot: int, price: float, rate: int,
               rest: bool) -> None:
        book = self.books.get(slot)
        if book is None:
            book = self.books[slot] = (SortedDict(), SortedDict())
        bids, asks = book
        other, own = (asks, bids) if buy else (bids, asks)
        trades, index = self.trades, self.index
        while other and rate:
            best, level = other.peekitem(0 if buy else -1)
            if (best > price) if buy else (best < price):
                break
            while level and rate:
                entry = level[0]
                if entry[1] == owner:
                    level.popleft()
                    del index[entry[0]]
                    continue
                r = min(entry[2], rate)
                trades.append((slot, best, r, oid, entry[0]) if buy else
                              (slot, best, r, entry[0], oid))
                rate -= r
                if r == entry[2]:
                    level.popleft()
                    del index[entry[0]]
                else:
                    entry[2] -= r
            if not level:
                del other[best]
        if rate and rest:
            level = own.get(price)
            if level is None:
                level = own[price] = deque()
            entry = [oid, owner, rate]
            level.append(entry)
            index[oid] = (own, price, entry)

    def cancel(self, oid: str, owner: str) -> bool:
        hit = self.index.get(oid)
        if hit is None or hit[2][1] != owner:
            return False
        own, price, entry = self.index.pop(oid)
        level = own[price]
        level.remove(entry)
        if not level:
            del own[price]
        return True


def replay(events: Path, out: Path) -> tuple[int, int, int]:
    """Replay ``events`` into ``out``; return (rows, trades, rejected)."""
    book = Book()
    trades = book.trades
    owner_of: dict[str, str] = {}
    rows: list[tuple] = []
    rejected = 0
    n_rows = 0
    err = sys.stderr
    inf = float("inf")
    with open(events, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = [h.strip() for h in next(reader)]
        c = {name: i for i, name in enumerate(header)}
        i_time, i_op, i_id, i_owner = c["time"], c["op"], c["order_id"], c["owner"]
        i_side, i_slot, i_price, i_rate = c["side"], c["first_slot"], c["price"], c["rate"]
        i_kind = c["kind"]
        for line, row in enumerate(reader, 2):
            if not row:
                continue
            n_rows += 1
            try:
                time = int(row[i_time])
                op = row[i_op]
                oid, owner = row[i_id], row[i_owner]
                if op == "cancel":
                    if not book.cancel(oid, owner):
                        rejected += 1
                        print(f"{events}: line {line}: cancel rejected unknown_order: no "
                              f"resting order {oid!r} of owner {owner!r}", file=err)
                    continue
                if op != "submit":
                    raise ValueError(f"op {op!r} is not handled")
                if oid in owner_of:
                    rejected += 1
                    print(f"{events}: line {line}: submit rejected duplicate_id: order_id "
                          f"{oid!r} was already used", file=err)
                    continue
                side = row[i_side]
                if side not in ("buy", "sell"):
                    raise ValueError(f"side {side!r} is not buy or sell")
                buy = side == "buy"
                slot = int(row[i_slot])
                rate = steps(row[i_rate])
                if rate <= 0:
                    raise ValueError("rate is not positive")
                market = row[i_kind] == "market"
                price = (inf if buy else -inf) if market else steps(row[i_price])
                owner_of[oid] = owner
                before = len(trades)
                book.submit(oid, owner, buy, slot, price, rate, not market)
                for t_slot, p, r, b, s in trades[before:]:
                    rows.append((len(rows) + 1, time, t_slot, tenths(p), tenths(r), b, s,
                                 owner_of[b], owner_of[s], side))
            except (ValueError, KeyError, IndexError) as exc:
                rejected += 1
                print(f"{events}: line {line}: {row[i_op] if len(row) > i_op else '?'} "
                      f"rejected bad_field: {exc}", file=err)
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(TRADE_COLUMNS)
        w.writerows(rows)
    return n_rows, len(rows), rejected


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("events", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    n, t, r = replay(args.events, args.out)
    print(f"{args.events}: {n} rows, {t} trades, {r} rejected", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
