"""Replay: the bare exchange over a CSV of instructions (SPEC §7).

``python -m rex_env.replay EVENTS.csv --out TRADES.csv [--orders ORDERS.csv] [--tick 0.1]
[--lot 0.1]`` runs the exchange with no agents and no physics, so real or synthetic order flow
can be replayed and two engines compared row for row. Every slot with a non-negative index
trades continuously from time 0 until its ``close`` row.

A row that cannot be parsed (or does not fit the exchange's state) is reported on standard
error as ``FILE:LINE: rejected REASON: detail`` and counted as a rejection; the replay goes on.
Line numbers are those of the file (the header is line 1).
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TextIO

from .exchange import Exchange, Grid, Order, Reason, Report, Status, Trade, parse_decimal

COLUMNS = ("time", "op", "order_id", "owner", "side", "first_slot", "last_slot", "price",
           "rate", "kind", "tif")
TRADE_COLUMNS = ("trade_id", "time", "slot", "price", "rate", "buy_order_id", "sell_order_id",
                 "buyer", "seller", "aggressor")
ORDER_COLUMNS = ("order_id", "status", "filled_rate", "remaining_rate", "reason")
OPS = ("submit", "cancel", "modify", "open_auction", "uncross", "close")


class RowError(ValueError):
    """A field that cannot be parsed: the row is rejected as ``bad_field``."""


@dataclass
class Rejection:
    """One rejected row: where, why, and a human-readable detail."""

    line: int
    op: str
    reason: Reason
    detail: str


@dataclass
class SubmitRow:
    """A ``submit`` row's outcome: the live order record, or the reason it was rejected."""

    order_id: str
    order: Order | None
    reason: Reason | None


@dataclass
class ReplayResult:
    """Everything a replay produced, in execution order."""

    grid: Grid
    trades: list[Trade] = field(default_factory=list)
    submits: list[SubmitRow] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    rows: int = 0


def _int(text: str, what: str) -> int:
    t = text.strip()
    body = t[1:] if t[:1] in "+-" else t
    if not body.isdigit() or not body.isascii():
        raise RowError(f"{what} {text!r} is not an integer")
    return int(t)


def _value(text: str, what: str, to_grid: Fraction) -> Fraction | int:
    try:
        q = parse_decimal(text) / to_grid
    except ValueError as exc:
        raise RowError(f"{what} {text!r} is not a plain decimal") from exc
    return q.numerator if q.denominator == 1 else q


def _choice(text: str, what: str, allowed: tuple[str, ...]) -> str:
    if text not in allowed:
        raise RowError(f"{what} {text!r} is not one of {', '.join(allowed)}")
    return text


class Replayer:
    """Feeds rows (dicts of column -> text) to an exchange and collects the outcome."""

    def __init__(self, grid: Grid | None = None) -> None:
        self.grid = grid if grid is not None else Grid()
        self.exchange = Exchange(self.grid, auto_open=True)
        self.result = ReplayResult(self.grid, trades=self.exchange.keep_trades())

    def run(self, rows: Iterable[tuple[int, dict[str, str]]]) -> ReplayResult:
        """Process ``(line_number, row)`` pairs in order."""
        for line, row in rows:
            self.row(line, row)
        return self.result

    def row(self, line: int, row: dict[str, str]) -> Report | None:
        """Process one row; return the exchange's report (``None`` if it did not parse)."""
        self.result.rows += 1
        op = (row.get("op") or "").strip()
        try:
            report = self._dispatch(op, row)
        except RowError as exc:
            if op == "submit":
                self.result.submits.append(SubmitRow(row.get("order_id") or "", None,
                                                     Reason.BAD_FIELD))
            self._reject(line, op, Reason.BAD_FIELD, str(exc))
            return None
        if report.reason is not None:
            self._reject(line, op, report.reason, _explain(report.reason, row))
        if op == "submit":
            self.result.submits.append(SubmitRow(row.get("order_id") or "", report.order,
                                                 report.reason))
        return report

    def _reject(self, line: int, op: str, reason: Reason, detail: str) -> None:
        self.result.rejections.append(Rejection(line, op, reason, detail))

    def _dispatch(self, op: str, row: dict[str, str]) -> Report:
        g = self.grid
        ex = self.exchange
        f = {c: (row.get(c) or "") for c in COLUMNS}
        time = _int(f["time"], "time")
        if time < 0:
            raise RowError(f"time {time} is negative")
        _choice(op, "op", OPS)
        if op in ("open_auction", "uncross", "close"):
            slot = _int(f["first_slot"], "first_slot")
            if op == "open_auction":
                return ex.open_auction(slot, time)
            if op == "close":
                return ex.close(slot, time)
            ref = None if f["price"] == "" else _value(f["price"], "price", g.tick_q)
            return ex.uncross(slot, time, ref)
        if op == "cancel":
            return ex.cancel(time, f["order_id"], f["owner"])
        if op == "modify":
            price = None if f["price"] == "" else _value(f["price"], "price", g.tick_q)
            rate = None if f["rate"] == "" else _value(f["rate"], "rate", g.lot_q)
            return ex.modify(time, f["order_id"], f["owner"], price, rate)
        # submit
        side = _choice(f["side"], "side", ("buy", "sell"))
        kind = _choice(f["kind"], "kind", ("limit", "market"))
        tif = _choice(f["tif"], "tif", ("gtc", "ioc", "fok"))
        first = _int(f["first_slot"], "first_slot")
        last = first if f["last_slot"] == "" else _int(f["last_slot"], "last_slot")
        price = None if f["price"] == "" else _value(f["price"], "price", g.tick_q)
        if f["rate"] == "":
            raise RowError("rate is empty")
        rate = _value(f["rate"], "rate", g.lot_q)
        return ex.submit(time, f["order_id"], f["owner"], side, first, price, rate, kind, tif,
                         last)


def _explain(reason: Reason, row: dict[str, str]) -> str:
    """A short human-readable detail for a rejection reported by the exchange."""
    r = {k: (v or "") for k, v in row.items() if k is not None}
    details = {
        Reason.BAD_FIELD: "a field is missing or inconsistent (ids, owner, slots, price vs kind,"
                          " time order)",
        Reason.DUPLICATE_ID: f"order_id {r.get('order_id')!r} was already used",
        Reason.PRICE_OUT_OF_BOUNDS: f"price {r.get('price')} is outside the price bounds",
        Reason.OFF_TICK: f"price {r.get('price')} is not on the tick grid",
        Reason.NON_POSITIVE_RATE: f"rate {r.get('rate')} is not positive",
        Reason.OFF_LOT: f"rate {r.get('rate')} is not a multiple of the lot",
        Reason.UNKNOWN_SLOT: f"slot {r.get('first_slot')} does not exist",
        Reason.SLOT_CLOSED: f"slot {r.get('first_slot')} is closed",
        Reason.SLOT_NOT_OPEN: f"slot {r.get('first_slot')} is not open",
        Reason.AUCTION_PHASE: "not allowed in the slot's current phase",
        Reason.UNKNOWN_ORDER: f"no resting order {r.get('order_id')!r} of owner "
                              f"{r.get('owner')!r}",
    }
    return details.get(reason, str(reason))


def read_rows(handle: TextIO) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line, row)`` from a CSV with a header; ``line`` is the row's first file line."""
    reader = csv.reader(handle)
    try:
        header = next(reader)
    except StopIteration:
        return
    header = [h.strip() for h in header]
    missing = [c for c in ("time", "op") if c not in header]
    if missing:
        raise ValueError(f"the header lacks the column(s) {', '.join(missing)}; "
                         f"expected {','.join(COLUMNS)}")
    line = reader.line_num + 1
    for values in reader:
        if values:  # a blank line is not a row
            yield line, dict(zip(header, values, strict=False))  # short rows: empty fields
        line = reader.line_num + 1


def write_trades(trades: Iterable[Trade], grid: Grid, handle: TextIO) -> None:
    w = csv.writer(handle, lineterminator="\n")
    w.writerow(TRADE_COLUMNS)
    for t in trades:
        w.writerow((t.trade_id, t.time, t.slot, grid.format_price(t.price),
                    grid.format_rate(t.rate), t.buy_order_id, t.sell_order_id, t.buyer, t.seller,
                    t.aggressor))


def write_orders(submits: Iterable[SubmitRow], grid: Grid, handle: TextIO) -> None:
    w = csv.writer(handle, lineterminator="\n")
    w.writerow(ORDER_COLUMNS)
    zero = grid.format_rate(0)
    for s in submits:
        o = s.order
        if o is None:
            w.writerow((s.order_id, Status.REJECTED, zero, zero, s.reason))
            continue
        remaining = o.rate if o.status is Status.RESTING else 0
        reason = o.reason if o.reason is Reason.SELF_TRADE else ""
        w.writerow((o.order_id, o.status, grid.format_rate(o.filled),
                    grid.format_rate(remaining), reason))


def _grid_step(text: str) -> str:
    try:
        value = parse_decimal(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a plain decimal") from exc
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be > 0")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rex_env.replay",
        description="Replay a CSV of exchange instructions (SPEC §7) and write the trades.",
    )
    parser.add_argument("events", type=Path, help="input CSV (time,op,order_id,owner,side,"
                        "first_slot,last_slot,price,rate,kind,tif)")
    parser.add_argument("--out", type=Path, required=True, help="TRADES.csv to write")
    parser.add_argument("--orders", type=Path, help="ORDERS.csv to write (one row per submit)")
    parser.add_argument("--tick", type=_grid_step, default="0.1", help="price tick (0.1)")
    parser.add_argument("--lot", type=_grid_step, default="0.1", help="rate lot in kW (0.1)")
    args = parser.parse_args(argv)
    try:
        grid = Grid(tick=args.tick, lot=args.lot)
    except ValueError as exc:
        parser.error(str(exc))
    replayer = Replayer(grid)
    try:
        with open(args.events, newline="", encoding="utf-8") as handle:
            result = replayer.run(read_rows(handle))
    except (OSError, ValueError, csv.Error) as exc:
        print(f"{args.events}: {exc}", file=sys.stderr)
        return 2
    for r in result.rejections:
        print(f"{args.events}: line {r.line}: {r.op or '?'} rejected {r.reason}: "
              f"{r.detail}", file=sys.stderr)
    with open(args.out, "w", newline="", encoding="utf-8") as handle:
        write_trades(result.trades, grid, handle)
    if args.orders is not None:
        with open(args.orders, "w", newline="", encoding="utf-8") as handle:
            write_orders(result.submits, grid, handle)
    print(f"{args.events}: {result.rows} rows, {len(result.trades)} trades, "
          f"{len(result.rejections)} rejected", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
