"""A typical well-written pure-Python replay engine: the yardstick of issue 12's replay target.

Issue 12 quotes "a typical well-written pure-Python engine of the same contract" at about
154 k events/s on a 200 k-event stream. This script is such an engine, so that the benchmark
can measure it in the same run as ``python -m rex_env.replay`` (ratios, not absolutes, on a
shared machine)::

    python benchmarks/typical_replay.py EVENTS.csv --out TRADES.csv

Same contract, written plainly: ``csv.reader`` over the file, columns by header name, exact
decimal prices and rates (``decimal.Decimal``; off-grid values are rejected, never rounded),
the plain sortedcontainers book of :mod:`benchmarks.baseline_book` with self-trade prevention
(price-time priority, partial fills, cancel by id), a rejection line on standard error for
every row it cannot take (``bad_field``, ``unknown_order``, ``duplicate_id``), and TRADES.csv
with the SPEC's columns and grid decimals. It handles the benchmark's rows (gtc limit, ioc
market, cancel); it has none of the exchange's accounting, block orders, auctions or
hostile-input limits, so it is a generous yardstick.
"""

from __future__ import annotations

import argparse
import csv
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

if __package__:
    from .baseline_book import BaselineExchange
else:  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from baseline_book import BaselineExchange  # type: ignore[no-redef]

from rex_env.exchange import Side

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


def replay(events: Path, out: Path) -> tuple[int, int, int]:
    """Replay ``events`` into ``out``; return (rows, trades, rejected)."""
    book = BaselineExchange(stp=True)
    trades = book.trades
    owner_of: dict[str, str] = {}
    rows: list[tuple] = []
    rejected = 0
    n_rows = 0
    err = sys.stderr
    sides = {"buy": Side.BUY, "sell": Side.SELL}
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
                side = sides[row[i_side]]
                slot = int(row[i_slot])
                rate = steps(row[i_rate])
                if rate <= 0:
                    raise ValueError("rate is not positive")
                owner_of[oid] = owner
                before = len(trades)
                if row[i_kind] == "market":
                    book.market(oid, owner, side, slot, rate)
                else:
                    book.limit(oid, owner, side, slot, steps(row[i_price]), rate)
                aggressor = "buy" if side is Side.BUY else "sell"
                for t_slot, price, r, buy, sell in trades[before:]:
                    rows.append((len(rows) + 1, time, t_slot, tenths(price), tenths(r), buy,
                                 sell, owner_of[buy], owner_of[sell], aggressor))
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
