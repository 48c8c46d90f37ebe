"""Replay: the bare exchange over a CSV of instructions (SPEC §7).

``python -m rex_env.replay EVENTS.csv --out TRADES.csv [--orders ORDERS.csv] [--tick 0.1]
[--lot 0.1]`` runs the exchange with no agents and no physics, so real or synthetic order flow
can be replayed and two engines compared row for row. Every slot with a non-negative index
trades continuously from time 0 until its ``close`` row.

A row that cannot be parsed (or does not fit the exchange's state) is reported on standard
error as ``FILE: line N: OP rejected REASON: detail`` and counted as a rejection; the replay
goes on. Line numbers are those of the file (the header is line 1). Row content in the report
is escaped (control characters, line breaks and undecodable bytes as Python escapes) and cut,
so that no row can forge a line of the report.

Hostile input is a per-row rejection (``bad_field``), never an abort, and costs bounded memory:

* a physical line longer than :data:`MAX_LINE_CHARS` characters is read in chunks and dropped;
  a quoted field that runs past the csv module's field limit (131,072 characters) likewise
  (such a row has no fields to read, so it gets no ORDERS.csv row even if it was a submit);
* a field longer than :data:`MAX_FIELD_CHARS`, or a number (``time``, slots, ``price``,
  ``rate``) longer than :data:`MAX_NUMBER_CHARS` characters;
* bytes that are not UTF-8 (the row's ``order_id`` in ORDERS.csv then shows U+FFFD for them);
* a number that is not a plain ASCII decimal (``١٢٣``, ``1e3``, ``0x10``);
* a row with more fields than the header.

A UTF-8 byte-order mark at the start of the file (as spreadsheet programs write) is skipped.
The outputs are opened for writing before the replay starts, so that an unwritable ``--out``
or ``--orders`` (or one that names the input) fails at once with exit code 2.

With the C engine the replay takes a compiled fast path (:func:`fast_replay`; ``REX_REPLAY_FAST=0``
turns it off): clean lines (plain ASCII, no quotes, the header's 11 fields, ``submit`` /
``cancel`` / ``modify`` with values it converts exactly) are parsed, replayed and written in
C; every other line goes through the per-row code below. The outputs are byte for byte those
of the per-row code (``tests/test_replay_fast.py``).
"""

from __future__ import annotations

import argparse
import codecs
import csv
import io
import os
import re
import stat
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, TextIO

from .exchange import Exchange, Grid, Reason, Report, Status, Trade, parse_decimal
from .exchange.orders import OrderRecord, TradeRecord, rejected
from .exchange.zones import ZonalExchange, ZoneTrade

COLUMNS = ("time", "op", "order_id", "owner", "side", "first_slot", "last_slot", "price",
           "rate", "kind", "tif")
TRADE_COLUMNS = ("trade_id", "time", "slot", "price", "rate", "buy_order_id", "sell_order_id",
                 "buyer", "seller", "aggressor")
ORDER_COLUMNS = ("order_id", "status", "filled_rate", "remaining_rate", "reason")
OPS = ("submit", "cancel", "modify", "open_auction", "uncross", "close")
ZONE_COLUMNS = ("zone", "to_zone", "match_zone")
"""Optional columns: a file whose header has ``zone`` replays several zones (README "Zones")."""
ZONE_OPS = (*OPS, "zone", "capacity", "xclose")
ZONE_TRADE_COLUMNS = (*TRADE_COLUMNS, "zone", "buy_zone", "sell_zone")
ZONE_ORDER_COLUMNS = (*ORDER_COLUMNS, "zone")
NUMBER_COLUMNS = ("time", "first_slot", "last_slot", "price", "rate")

MAX_LINE_CHARS = 65_536
"""A physical line longer than this many characters is a rejected row (never held whole)."""
MAX_FIELD_CHARS = 1024
"""A field longer than this many characters (an ``order_id`` or ``owner``) is ``bad_field``."""
MAX_NUMBER_CHARS = 40
"""A number longer than this many characters is ``bad_field`` (the exchange's limits need at
most 19 digits; Python refuses to parse integers past 4,300)."""
REPORT_CHARS = 200
"""Row content in a stderr report line is escaped and cut to this many characters."""

_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)


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
    order: OrderRecord | None
    reason: Reason | None
    zone: str | None = None


@dataclass
class ReplayResult:
    """Everything a replay produced, in execution order."""

    grid: Grid
    trades: list[Trade] | list[ZoneTrade] = field(default_factory=list)
    submits: list[SubmitRow] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    rows: int = 0
    zonal: bool = False


def _number_text(text: str, what: str) -> str:
    t = text.strip(" \t")
    if len(t) > MAX_NUMBER_CHARS:
        raise RowError(f"{what} has {len(t)} characters; a number has at most "
                       f"{MAX_NUMBER_CHARS}")
    return t


def _int(text: str, what: str) -> int:
    t = _number_text(text, what)
    if not _INTEGER.fullmatch(t):
        raise RowError(f"{what} {text!r} is not an integer (ASCII digits)")
    return int(t)


def _value(text: str, what: str, to_grid: Fraction) -> Fraction | int:
    t = _number_text(text, what)
    if not _DECIMAL.fullmatch(t):
        raise RowError(f"{what} {text!r} is not a plain decimal (ASCII digits, no exponent)")
    q = parse_decimal(t) / to_grid
    return q.numerator if q.denominator == 1 else q


def printable(text: str, limit: int = REPORT_CHARS) -> str:
    """``text`` safe for one line of a report: non-printable characters (line breaks, controls,
    undecodable bytes) escaped as in Python, cut to ``limit`` characters."""
    out = "".join(c if c.isprintable() else
                  c.encode("unicode_escape", "backslashreplace").decode("ascii") for c in text)
    return out if len(out) <= limit else out[: limit - 3] + "..."


def _undecodable(text: str) -> bool:
    """Did the text come from bytes that are not UTF-8 (``surrogateescape`` leftovers)?"""
    return any("\udc80" <= c <= "\udcff" for c in text)


def _choice(text: str, what: str, allowed: tuple[str, ...]) -> str:
    if text not in allowed:
        raise RowError(f"{what} {text!r} is not one of {', '.join(allowed)}")
    return text


def _submit_fields(f: dict[str, str], g: Grid) -> tuple[Any, ...]:
    """A submit row's side, kind, tif, first and last slot, price and rate, parsed in the
    order whose first failure names the row's ``bad_field`` (single-zone and zonal files)."""
    side = _choice(f["side"], "side", ("buy", "sell"))
    kind = _choice(f["kind"], "kind", ("limit", "market"))
    tif = _choice(f["tif"], "tif", ("gtc", "ioc", "fok"))
    first = _int(f["first_slot"], "first_slot")
    last = first if f["last_slot"] == "" else _int(f["last_slot"], "last_slot")
    price = None if f["price"] == "" else _value(f["price"], "price", g.tick_q)
    if f["rate"] == "":
        raise RowError("rate is empty")
    rate = _value(f["rate"], "rate", g.lot_q)
    return side, kind, tif, first, last, price, rate


class Replayer:
    """Feeds rows (dicts of column -> text) to an exchange and collects the outcome.

    With ``zonal=True`` (a file whose header has a ``zone`` column) the rows go to a
    :class:`~rex_env.exchange.zones.ZonalExchange` that starts without zones: ``zone`` rows
    declare them, ``capacity`` rows set paths, ``xclose`` rows close cross-zonal trading.
    """

    def __init__(self, grid: Grid | None = None, zonal: bool = False) -> None:
        self.grid = grid if grid is not None else Grid()
        self.zonal = zonal
        self.exchange: Any = (ZonalExchange([], {}, self.grid, auto_open=True) if zonal
                              else Exchange(self.grid, auto_open=True))
        self.result = ReplayResult(self.grid, trades=self.exchange.keep_trades(), zonal=zonal)

    def run(self, rows: Iterable[tuple[int, dict[str, str] | RowError]]) -> ReplayResult:
        """Process ``(line_number, row)`` pairs in order."""
        for line, row in rows:
            self.row(line, row)
        return self.result

    def row(self, line: int, row: dict[str, str] | RowError) -> Report | None:
        """Process one row; return the exchange's report (``None`` if it did not parse).

        ``row`` is a :class:`RowError` for a line the reader could not split into fields.
        """
        self.result.rows += 1
        if isinstance(row, RowError):
            self._reject(line, "", Reason.BAD_FIELD, str(row))
            return None
        op = (row.get("op") or "").strip()
        try:
            _check_fields(row)
            report = self._dispatch(op, row)
        except RowError as exc:
            if op == "submit":
                oid = row.get("order_id") or ""
                if _undecodable(oid):
                    oid = oid.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                self.result.submits.append(SubmitRow(oid, None, Reason.BAD_FIELD,
                                                     row.get("zone") or None))
            self._reject(line, op, Reason.BAD_FIELD, str(exc))
            return None
        if report.reason is not None:
            self._reject(line, op, report.reason, _explain(report.reason, row))
        if op == "submit":
            self.result.submits.append(SubmitRow(row.get("order_id") or "", report.order,
                                                 report.reason, row.get("zone") or None))
        return report

    def _reject(self, line: int, op: str, reason: Reason, detail: str) -> None:
        self.result.rejections.append(Rejection(line, op, reason, detail))

    def _dispatch(self, op: str, row: dict[str, str]) -> Report:
        if self.zonal:
            return self._dispatch_zonal(op, row)
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
        side, kind, tif, first, last, price, rate = _submit_fields(f, g)
        return ex.submit(time, f["order_id"], f["owner"], side, first, price, rate, kind, tif,
                         last)

    def _dispatch_zonal(self, op: str, row: dict[str, str]) -> Report:
        """A row of a file with a ``zone`` column (README "Zones", replay)."""
        g = self.grid
        zx: ZonalExchange = self.exchange
        f = {c: (row.get(c) or "") for c in (*COLUMNS, *ZONE_COLUMNS)}
        time = _int(f["time"], "time")
        if time < 0:
            raise RowError(f"time {time} is negative")
        _choice(op, "op", ZONE_OPS)
        zone = f["zone"] or None
        if op == "zone":
            return zx.add_zone(f["zone"])
        if op == "capacity":
            if f["rate"] == "":
                raise RowError("rate is empty")
            lots = _value(f["rate"], "rate", g.lot_q)
            if type(lots) is not int:
                raise RowError(f"rate {f['rate']} is not a whole number of lots")
            first = None if f["first_slot"] == "" else _int(f["first_slot"], "first_slot")
            last = None if f["last_slot"] == "" else _int(f["last_slot"], "last_slot")
            if first is None and last is not None:
                raise RowError("last_slot without first_slot")
            return zx.set_capacity(f["zone"], f["to_zone"], lots, first, last)
        if op in ("open_auction", "uncross", "close", "xclose"):
            slot = _int(f["first_slot"], "first_slot")
            if op == "open_auction":
                return zx.open_auction(slot, time, zone)
            if op == "close":
                return zx.close(slot, time, zone)
            if op == "xclose":
                return zx.close_cross(slot, time)
            ref = None if f["price"] == "" else _value(f["price"], "price", g.tick_q)
            return zx.uncross(slot, time, ref, zone)
        if op == "cancel":
            return zx.cancel(time, f["order_id"], f["owner"], zone)
        if op == "modify":
            price = None if f["price"] == "" else _value(f["price"], "price", g.tick_q)
            rate = None if f["rate"] == "" else _value(f["rate"], "rate", g.lot_q)
            return zx.modify(time, f["order_id"], f["owner"], price, rate,
                             zone)
        side, kind, tif, first, last, price, rate = _submit_fields(f, g)
        if zone is None:  # a zonal file names the zone of every order
            return rejected(Reason.UNKNOWN_ZONE)
        return zx.submit(time, f["order_id"], f["owner"], side, first, price,
                         rate, kind, tif, last, zone, f["match_zone"] or None)


def _check_fields(row: dict[str, str]) -> None:
    """Row-level faults: extra fields, bytes that are not UTF-8, over-long fields."""
    extra = row.get(None)  # type: ignore[call-overload]
    if extra:
        raise RowError(f"the row has {len(row) - 1 + len(extra)} fields; the header has "
                       f"{len(row) - 1}")
    for name, value in row.items():
        if not value:
            continue
        if _undecodable(value):
            raise RowError(f"{name} {value!r} is not valid UTF-8")
        limit = MAX_NUMBER_CHARS if name in NUMBER_COLUMNS else MAX_FIELD_CHARS
        if len(value) > limit:
            raise RowError(f"{name} has {len(value)} characters; at most {limit} allowed")


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
        Reason.UNKNOWN_ZONE: f"zone {r.get('zone')!r}, {r.get('to_zone')!r} or "
                             f"{r.get('match_zone')!r} is not declared",
        Reason.NO_PATH: f"no path links zone {r.get('zone')!r} and {r.get('match_zone')!r}",
    }
    return details.get(reason, str(reason))


class _Lines:
    """The physical lines of a text file, each at most :data:`MAX_LINE_CHARS` characters.

    A longer line is read in chunks and dropped (an empty line takes its place, so that line
    numbers stay right); its number goes into :attr:`too_long`.
    """

    def __init__(self, handle: TextIO) -> None:
        self.handle = handle
        self.number = 0
        self.too_long: set[int] = set()

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        chunk = self.handle.readline(MAX_LINE_CHARS + 1)
        if not chunk:
            raise StopIteration
        self.number += 1
        if len(chunk) > MAX_LINE_CHARS and not chunk.endswith("\n"):
            self.too_long.add(self.number)
            while chunk and not chunk.endswith("\n"):
                chunk = self.handle.readline(MAX_LINE_CHARS + 1)
            return "\n"
        return chunk


def read_header(handle: TextIO) -> tuple[list[str], TextIO]:
    """The stripped column names of a CSV's first line, and a handle that reads the file from
    its start again: ``handle`` rewound, or (a pipe cannot seek) one that returns the line
    read here before the rest of the pipe."""
    if handle.seekable():
        pos = handle.tell()
        first = handle.readline(MAX_LINE_CHARS + 1)
        handle.seek(pos)
        again: TextIO = handle
    else:
        first = handle.readline(MAX_LINE_CHARS + 1)
        again = _Prefixed(first, handle)  # type: ignore[assignment]
    try:
        return ([h.strip() for h in next(csv.reader([first]))] if first else []), again
    except (csv.Error, StopIteration):
        return [], again


class _Prefixed:
    """``readline`` over a pipe whose first chunk was already read (see :func:`read_header`)."""

    def __init__(self, first: str, handle: TextIO) -> None:
        self.first: str | None = first
        self.handle = handle

    def readline(self, size: int = -1) -> str:
        if self.first is not None:
            first, self.first = self.first, None
            return first
        return self.handle.readline(size)


def read_rows(handle: TextIO) -> Iterator[tuple[int, dict[str, str] | RowError]]:
    """Yield ``(line, row)`` from a CSV with a header; ``line`` is the row's first file line.

    A row the reader cannot split (an over-long line or field) comes as a :class:`RowError`
    (extra fields beyond the header come under the key ``None``, as with ``csv.DictReader``).

    Raises:
        ValueError: the header is unusable (missing ``time``/``op``, or too long).
    """
    lines = _Lines(handle)
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise ValueError(f"the header cannot be read ({exc})") from None
    if lines.too_long:
        raise ValueError(f"the header is longer than {MAX_LINE_CHARS} characters")
    header = [h.strip() for h in header]
    missing = [c for c in ("time", "op") if c not in header]
    if missing:
        raise ValueError(f"the header lacks the column(s) {', '.join(missing)}; "
                         f"expected {','.join(COLUMNS)}")
    width = len(header)
    while True:
        record = next_record(reader, lines, header, width)
        if record is None:
            return
        line, row = record
        if row is not None:
            yield line, row


def next_record(reader: Iterator[list[str]], lines: _Lines, header: list[str], width: int
                ) -> tuple[int, dict[Any, Any] | RowError | None] | None:
    """The next record of ``reader`` (a ``csv.reader`` over ``lines``) as ``(line, row)``:
    ``row`` is ``None`` for a blank line; ``None`` at the end of the file."""
    line = lines.number + 1
    try:
        values = next(reader)
    except StopIteration:
        return None
    except csv.Error as exc:
        return line, RowError(f"the row cannot be read as CSV ({exc})")
    long = [n for n in range(line, lines.number + 1) if n in lines.too_long]
    if long:
        return line, RowError(f"line {long[0]} is longer than {MAX_LINE_CHARS} characters")
    if not values:  # a blank line is not a row
        return line, None
    row: dict[Any, Any] = dict(zip(header, values, strict=False))  # short: empty
    if len(values) > width:
        row[None] = values[width:]
    return line, row


def trade_fields(t: TradeRecord, grid: Grid) -> tuple:
    """One TRADES.csv row."""
    return (t.trade_id, t.time, t.slot, grid.format_price(t.price), grid.format_rate(t.rate),
            t.buy_order_id, t.sell_order_id, t.buyer, t.seller, t.aggressor)


def order_fields(s: SubmitRow, grid: Grid) -> tuple:
    """One ORDERS.csv row: a rejected submit, or an accepted order in its current state."""
    o = s.order
    if o is None:
        zero = grid.format_rate(0)
        return (s.order_id, Status.REJECTED, zero, zero, s.reason)
    remaining = o.rate if o.status is Status.RESTING else 0
    reason = o.reason if o.reason is Reason.SELF_TRADE else ""
    return (o.order_id, o.status, grid.format_rate(o.filled), grid.format_rate(remaining),
            reason)


def report_line(name: str, r: Rejection) -> str:
    """The stderr line of one rejection (without the line break)."""
    return (f"{name}: line {r.line}: {printable(r.op) or '?'} rejected {r.reason}: "
            f"{printable(r.detail)}")


def write_trades(trades: Iterable[TradeRecord], grid: Grid, handle: TextIO,
                 zonal: bool = False) -> None:
    w = csv.writer(handle, lineterminator="\n")
    w.writerow(ZONE_TRADE_COLUMNS if zonal else TRADE_COLUMNS)
    for t in trades:
        row = trade_fields(t, grid)
        if zonal:
            assert isinstance(t, ZoneTrade), "a zonal replay's trades carry their zones"
            row = (*row, t.zone, t.buy_zone, t.sell_zone)
        w.writerow(row)


def write_orders(submits: Iterable[SubmitRow], grid: Grid, handle: TextIO,
                 zonal: bool = False) -> None:
    w = csv.writer(handle, lineterminator="\n")
    w.writerow(ZONE_ORDER_COLUMNS if zonal else ORDER_COLUMNS)
    for s in submits:
        extra = (s.zone or "",) if zonal else ()
        w.writerow((*order_fields(s, grid), *extra))


def _grid_step(text: str) -> str:
    if len(text) > MAX_NUMBER_CHARS:
        raise argparse.ArgumentTypeError(f"at most {MAX_NUMBER_CHARS} characters")
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
    name = printable(str(args.events))
    try:
        events = open(args.events, newline="", encoding="utf-8-sig",  # noqa: SIM115
                      errors="surrogateescape")
    except OSError as exc:
        print(f"{name}: cannot read ({exc.strerror or exc})", file=sys.stderr)
        return 2
    with events:
        outputs = _open_outputs(events, [("--out", args.out), ("--orders", args.orders)])
        if outputs is None:
            return 2
        try:
            header, rows = read_header(events)
            replayer = Replayer(grid, zonal="zone" in header)
            fast = None if replayer.zonal else fast_replay(replayer, events, name)
            if fast is None:
                result = replayer.run(read_rows(rows))
        except (OSError, ValueError) as exc:
            for handle in outputs:
                handle.close()
            print(f"{name}: {printable(str(exc))}", file=sys.stderr)
            return 2
    if fast is not None:
        sys.stderr.write(fast.errors)
        with outputs[0] as handle:
            _write_raw(handle, TRADE_COLUMNS, fast.trades)
        if len(outputs) > 1:
            with outputs[1] as handle:
                _write_raw(handle, ORDER_COLUMNS, fast.orders)
        print(f"{name}: {fast.rows} rows, {fast.n_trades} trades, {fast.n_rejected} rejected",
              file=sys.stderr)
        return 0
    for r in result.rejections:
        print(report_line(name, r), file=sys.stderr)
    with outputs[0] as handle:
        write_trades(result.trades, grid, handle, result.zonal)
    if len(outputs) > 1:
        with outputs[1] as handle:
            write_orders(result.submits, grid, handle, result.zonal)
    print(f"{name}: {result.rows} rows, {len(result.trades)} trades, "
          f"{len(result.rejections)} rejected", file=sys.stderr)
    return 0


def _open_outputs(events: TextIO, paths: list[tuple[str, Path | None]]) -> list[TextIO] | None:
    """Open every output for writing before any work is done; ``None`` (reported) if one
    cannot be written, or names the input or another output."""
    seen: list[tuple[str, os.stat_result]] = [("the input", os.fstat(events.fileno()))]
    handles: list[TextIO] = []
    for option, path in paths:
        if path is None:
            continue
        try:
            st = os.stat(path)
        except OSError:
            st = None
        clash = next((what for what, other in seen
                      if st is not None and os.path.samestat(st, other)), None)
        if clash is None:
            try:
                handles.append(open(path, "w", newline="", encoding="utf-8"))  # noqa: SIM115
                seen.append((option, os.fstat(handles[-1].fileno())))
                continue
            except OSError as exc:
                problem = f"cannot be written ({exc.strerror or exc})"
        else:
            problem = f"is the same file as {clash}"
        for handle in handles:
            handle.close()
        print(f"{option} {printable(str(path))}: {problem}", file=sys.stderr)
        return None
    return handles


# -- the fast path (C engine) -------------------------------------------------------------------
FAST = os.environ.get("REX_REPLAY_FAST", "1") != "0"
"""Use the compiled fast path when the C engine runs the replay (``REX_REPLAY_FAST=0``: never).
Its outputs are byte for byte those of the per-row code above (tests/test_replay_fast.py)."""
_PEEK = 8192
"""Bytes looked at after a row of the reference reader to see whether the C path can go on."""


@dataclass
class FastOutput:
    """What the fast path produced: output bodies (without headers), the stderr rejection lines
    and the counts of the summary line."""

    trades: bytes
    orders: bytes
    errors: str
    rows: int
    n_trades: int
    n_rejected: int


def csv_field(value: str) -> bytes:
    """``value`` as one field of a row written by ``csv.writer`` (quoted if need be), UTF-8."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow((value, ""))
    return out.getvalue()[:-2].encode("utf-8")


def _grid_steps(step: Fraction, decimals: int) -> tuple[int, int, int, int] | None:
    """(numerator, denominator, printing step, decimals) of a grid step for the C path, or
    None if its 128-bit arithmetic might not hold (the per-row code then runs)."""
    printing = step * 10**decimals
    limit = 2**62
    if printing.denominator != 1 or max(step.numerator, step.denominator,
                                        printing.numerator) >= limit:
        return None
    return step.numerator, step.denominator, printing.numerator, decimals


def fast_replay(replayer: Replayer, events: TextIO, name: str) -> FastOutput | None:
    """Replay ``events`` with the C row reader when it applies; None: it does not (then
    nothing was read, and the per-row code runs).

    It applies with the C engine, a regular file and a header that is exactly :data:`COLUMNS`
    on one plain ASCII line. Clean lines (printable ASCII, no quotes, the 11 fields,
    ``submit``/``cancel`` with values the C path converts exactly) are replayed in C; any
    other clean line goes through :meth:`Replayer.row`, any other line through the reference
    reader (:class:`_Lines`, ``csv.reader``, :func:`next_record`) until the C path can take
    over again, so every output is byte for byte what the per-row code writes.
    """
    if not FAST:
        return None
    try:
        from ._core._cexchange import CoreExchange, FastReplay
    except ImportError:
        return None
    grid = replayer.grid
    price_grid = _grid_steps(grid.tick_q, grid.price_decimals)
    rate_grid = _grid_steps(grid.lot_q, grid.rate_decimals)
    fd = events.fileno()
    if (not isinstance(replayer.exchange, CoreExchange) or price_grid is None
            or rate_grid is None or not stat.S_ISREG(os.fstat(fd).st_mode)):
        return None
    head = os.pread(fd, MAX_LINE_CHARS + 3, 0)
    start = 3 if head.startswith(codecs.BOM_UTF8) else 0
    end = head.find(b"\n", start)
    if end < 0 or end + 1 - start > MAX_LINE_CHARS:
        return None
    text = head[start:end].removesuffix(b"\r")
    if not _PLAIN.fullmatch(text) or [h.strip() for h in text.decode().split(",")] != list(
            COLUMNS):
        return None
    fr = FastReplay(replayer.exchange, fd, end + 1, 2, f"{name}: line ".encode(), price_grid,
                    rate_grid, csv_field)
    header = list(COLUMNS)
    while True:
        code = fr.run()
        if code == 0:  # the end of the file
            break
        if code == 1:  # a clean line the C path leaves to the per-row code
            values = next(csv.reader([fr.row_text]), [])
            if values:
                row: dict[Any, Any] = dict(zip(header, values, strict=False))
                if len(values) > len(header):
                    row[None] = values[len(header):]
                replayer.row(fr.line - 1, row)
                _hand_over(fr, replayer, name)
            continue
        resume = _reference_reader(fr, fd, header, replayer, name)
        if resume is None:
            break
        fr.seek(*resume)
    return FastOutput(fr.trades_csv(), fr.orders_csv(), fr.errors_text(),
                      fr.rows + replayer.result.rows, fr.n_trades, fr.n_rejected)


_PLAIN = re.compile(rb"[\x20\x21\x23-\x7e]*")


class _Counted:
    """A text handle's ``readline`` that counts the bytes the returned text came from
    (``surrogateescape`` makes decoding one to one)."""

    def __init__(self, handle: TextIO) -> None:
        self.handle = handle
        self.bytes = 0

    def readline(self, limit: int = -1) -> str:
        chunk = self.handle.readline(limit)
        self.bytes += len(chunk.encode("utf-8", "surrogateescape"))
        return chunk


def _reference_reader(fr: Any, fd: int, header: list[str], replayer: Replayer, name: str
                      ) -> tuple[int, int] | None:
    """Read records with the reference reader from the fast path's position until the next
    line is clean; return the (offset, line number) to go on from, None at the end."""
    start = fr.offset
    raw = io.FileIO(fd, closefd=False)
    raw.seek(start)
    counted = _Counted(io.TextIOWrapper(io.BufferedReader(raw), encoding="utf-8",
                                        errors="surrogateescape", newline=""))
    lines = _Lines(counted)  # type: ignore[arg-type]
    lines.number = fr.line - 1
    reader = csv.reader(lines)
    while True:
        record = next_record(reader, lines, header, len(header))
        if record is None:
            return None
        line, row = record
        if row is not None:
            replayer.row(line, row)
            _hand_over(fr, replayer, name)
        offset = start + counted.bytes
        peek = os.pread(fd, _PEEK, offset)
        if fr.clean_at(peek, len(peek) < _PEEK):
            return offset, lines.number + 1


def _hand_over(fr: Any, replayer: Replayer, name: str) -> None:
    """Give the fast path what the per-row code just produced, in order."""
    fr.sync()
    res = replayer.result
    grid = replayer.grid
    if res.trades:
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        for t in res.trades:
            w.writerow(trade_fields(t, grid))
        fr.add_trades(out.getvalue().encode("utf-8"), len(res.trades))
        del res.trades[:]  # the exchange's live trade log
    for s in res.submits:
        if s.order is None:
            out = io.StringIO()
            csv.writer(out, lineterminator="\n").writerow(order_fields(s, grid))
            fr.add_order_row(out.getvalue().encode("utf-8"))
        else:
            fr.add_order(s.order)
    res.submits.clear()
    if res.rejections:
        fr.add_errors("".join(report_line(name, r) + "\n" for r in res.rejections
                              ).encode("utf-8"), len(res.rejections))
        res.rejections.clear()


def _write_raw(handle: TextIO, header: tuple[str, ...], body: bytes) -> None:
    csv.writer(handle, lineterminator="\n").writerow(header)
    handle.flush()
    handle.buffer.write(body)


if __name__ == "__main__":
    raise SystemExit(main())
