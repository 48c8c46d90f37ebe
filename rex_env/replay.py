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
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, TextIO

from .exchange import Exchange, Grid, Order, Reason, Report, Status, Trade, parse_decimal
from .exchange.orders import rejected
from .exchange.zones import ZonalExchange

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
    order: Order | None
    reason: Reason | None
    zone: str | None = None


@dataclass
class ReplayResult:
    """Everything a replay produced, in execution order."""

    grid: Grid
    trades: list[Trade] = field(default_factory=list)
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
            return zx.uncross(slot, time, ref, zone)  # type: ignore[arg-type]
        if op == "cancel":
            return zx.cancel(time, f["order_id"], f["owner"], zone)
        if op == "modify":
            price = None if f["price"] == "" else _value(f["price"], "price", g.tick_q)
            rate = None if f["rate"] == "" else _value(f["rate"], "rate", g.lot_q)
            return zx.modify(time, f["order_id"], f["owner"], price, rate,  # type: ignore[arg-type]
                             zone)
        side = _choice(f["side"], "side", ("buy", "sell"))
        kind = _choice(f["kind"], "kind", ("limit", "market"))
        tif = _choice(f["tif"], "tif", ("gtc", "ioc", "fok"))
        first = _int(f["first_slot"], "first_slot")
        last = first if f["last_slot"] == "" else _int(f["last_slot"], "last_slot")
        price = None if f["price"] == "" else _value(f["price"], "price", g.tick_q)
        if f["rate"] == "":
            raise RowError("rate is empty")
        rate = _value(f["rate"], "rate", g.lot_q)
        if zone is None:  # a zonal file names the zone of every order
            return rejected(Reason.UNKNOWN_ZONE)
        return zx.submit(time, f["order_id"], f["owner"], side, first, price,  # type: ignore[arg-type]
                         rate, kind, tif, last, zone, f["match_zone"] or None)  # type: ignore[arg-type]


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


def read_header(handle: TextIO) -> list[str]:
    """The stripped column names of a CSV's first line; the handle is rewound afterwards."""
    pos = handle.tell()
    first = handle.readline(MAX_LINE_CHARS + 1)
    handle.seek(pos)
    try:
        return [h.strip() for h in next(csv.reader([first]))] if first else []
    except (csv.Error, StopIteration):
        return []


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
    line = lines.number + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield line, RowError(f"the row cannot be read as CSV ({exc})")
            line = lines.number + 1
            continue
        long = [n for n in range(line, lines.number + 1) if n in lines.too_long]
        if long:
            yield line, RowError(f"line {long[0]} is longer than {MAX_LINE_CHARS} characters")
        elif values:  # a blank line is not a row
            row: dict[Any, Any] = dict(zip(header, values, strict=False))  # short: empty
            if len(values) > width:
                row[None] = values[width:]
            yield line, row
        line = lines.number + 1


def write_trades(trades: Iterable[Trade], grid: Grid, handle: TextIO,
                 zonal: bool = False) -> None:
    w = csv.writer(handle, lineterminator="\n")
    w.writerow(ZONE_TRADE_COLUMNS if zonal else TRADE_COLUMNS)
    for t in trades:
        row = (t.trade_id, t.time, t.slot, grid.format_price(t.price),
               grid.format_rate(t.rate), t.buy_order_id, t.sell_order_id, t.buyer, t.seller,
               t.aggressor)
        w.writerow((*row, t.zone, t.buy_zone, t.sell_zone) if zonal else row)  # type: ignore[attr-defined]


def write_orders(submits: Iterable[SubmitRow], grid: Grid, handle: TextIO,
                 zonal: bool = False) -> None:
    w = csv.writer(handle, lineterminator="\n")
    w.writerow(ZONE_ORDER_COLUMNS if zonal else ORDER_COLUMNS)
    zero = grid.format_rate(0)
    for s in submits:
        o = s.order
        extra = (s.zone or "",) if zonal else ()
        if o is None:
            w.writerow((s.order_id, Status.REJECTED, zero, zero, s.reason, *extra))
            continue
        remaining = o.rate if o.status is Status.RESTING else 0
        reason = o.reason if o.reason is Reason.SELF_TRADE else ""
        w.writerow((o.order_id, o.status, grid.format_rate(o.filled),
                    grid.format_rate(remaining), reason, *extra))


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
            replayer = Replayer(grid, zonal="zone" in read_header(events))
            result = replayer.run(read_rows(events))
        except (OSError, ValueError) as exc:
            for handle in outputs:
                handle.close()
            print(f"{name}: {printable(str(exc))}", file=sys.stderr)
            return 2
    for r in result.rejections:
        print(f"{name}: line {r.line}: {printable(r.op) or '?'} rejected {r.reason}: "
              f"{printable(r.detail)}", file=sys.stderr)
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


if __name__ == "__main__":
    raise SystemExit(main())
