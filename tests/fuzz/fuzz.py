"""Fuzz and abuse harness: random instruction streams against the engine and an independent model.

Each *episode* is a fresh :class:`~rex_env.exchange.Exchange` (auto-open as in replay, or a
fixed number of slots opened by lifecycle calls) and a fresh :class:`~tests.fuzz.model.Model`
fed the same random instructions: submits (limit/market, gtc/ioc/fok, blocks) around a narrow
price band so that books cross, self-trade and auction often, cancels, modifies, opening
auctions, uncrossings and gate closures. About one instruction in five is hostile: a size
beyond a limit (a block of 10^9 slots, a slot above ``MAX_SLOT``, a rate above ``MAX_LOTS``, a
time above ``MAX_TIME``, a 40-digit price), a wrong Python type (``side=True``, a float price,
a str rate, an unhashable id, ...) or a value fault. After *every* instruction it checks:

* the engine's report equals the model's outcome (status, reason, trades, self-trade cancels,
  expiries, in order), and the engine raised nothing;
* SPEC §5 invariants: a rejection changed nothing; every book in continuous trading is
  uncrossed; per touched slot positions and trade cash sum to zero; the order of the report
  accounts for every lot (``offered == filled + open + removed``, resting iff open > 0);
  the clock and the trade count agree with the model;

and at the end of each episode that every order's state and every book's queues equal the
model's. Any difference or exception is a *violation*; the first few are printed.

Usage::

    python -m tests.fuzz.fuzz                          # 200 000 instructions, seed 0
    python -m tests.fuzz.fuzz --instructions 10000000 --seed 1   # the long run (README)
"""

from __future__ import annotations

import argparse
import random
import sys
import time as clock
import traceback
from decimal import Decimal
from fractions import Fraction
from typing import Any

from rex_env.exchange import ENGINE, Exchange, Kind, PythonExchange, Side, Status, Tif
from rex_env.exchange.orders import MAX_BLOCK_SLOTS, MAX_LOTS, MAX_SLOT, MAX_TIME

from .model import Model, Outcome

OWNERS = ("A", "B", "C", "D")
LO, HI = 96, 104  # the price band of ordinary orders, ticks
ORDER_TYPES = [("limit", "gtc")] * 8 + [("limit", "ioc"), ("limit", "fok")] * 2 + [
    ("market", "ioc"), ("market", "fok"), ("market", "gtc")]
BAD_TYPES = [True, False, 1.0, "1", None, Decimal(1), ["x"], b"x", float("nan"), 2.5]


class Episode:
    """One exchange and one model, and the generator's belief of what exists."""

    def __init__(self, rng: random.Random, length: int,
                 engine: type[Exchange] = Exchange) -> None:
        self.rng = rng
        self.length = length
        self.auto_open = rng.random() < 0.5
        self.n_slots = rng.randint(1, 4)
        n = None if self.auto_open else self.n_slots
        self.ex = engine(auto_open=self.auto_open, n_slots=n)
        self.ex.keep_trades()
        self.model = Model(self.auto_open, n)
        self.owners = OWNERS[: rng.randint(2, 4)]
        self.ids: list[Any] = []
        self.t = 0
        self.next_id = 0

    # -- the generator ------------------------------------------------------------------------
    def slot(self) -> int:
        """Mostly a slot that is not closed yet (the model knows), so that streams trade."""
        live = [s for s in range(self.n_slots) if self.model.phase(s) != "closed"]
        if live and self.rng.random() < 0.95:
            return self.rng.choice(live)
        return self.rng.randrange(self.n_slots)

    def new_id(self) -> Any:
        self.next_id += 1
        return self.next_id if self.rng.random() < 0.2 else f"o{self.next_id}"

    def tick(self) -> int:
        r = self.rng.random()
        if r < 0.6:
            self.t += 0
        elif r < 0.95:
            self.t += 1
        else:
            self.t += self.rng.randint(2, 50)
        return self.t

    def instruction(self) -> tuple[str, tuple[Any, ...]]:
        """One random instruction as ``(method, args)``, the same for engine and model."""
        rng = self.rng
        t = self.tick()
        r = rng.random()
        if r < 0.55:
            call = self.submit(t)
        elif r < 0.68:
            call = ("cancel", (t, *self.some_order()))
        elif r < 0.85:
            price = rng.randint(LO, HI) if rng.random() < 0.6 else None
            rate = rng.randint(1, 6) if price is None or rng.random() < 0.5 else None
            call = ("modify", (t, *self.some_order(), price, rate))
        else:
            op = rng.choice(["open_auction", "uncross", "uncross", "close", "open_continuous"])
            if op == "uncross":
                ref = rng.choice([None, rng.randint(LO, HI), Fraction(rng.randint(2 * LO,
                                                                                  2 * HI), 2)])
                call = (op, (self.slot(), t, ref))
            else:
                call = (op, (self.slot(), t))
            if op == "close" and rng.random() < 0.85:  # keep slots alive most of the time
                call = ("open_auction", call[1])
        if rng.random() < 0.2:
            call = self.twist(call)
        return call

    def some_order(self) -> tuple[Any, str]:
        """``(id, owner)``: mostly a resting order and its owner, else anything used."""
        rng = self.rng
        resting = [o for o in self.model.orders.values() if o.status == "resting"]
        if resting and rng.random() < 0.85:
            o = rng.choice(resting)
            return o.oid, (o.owner if rng.random() < 0.9 else self.some_owner())
        if self.ids and rng.random() < 0.8:
            return rng.choice(self.ids), self.some_owner()
        return f"o{rng.randint(0, self.next_id + 2)}", self.some_owner()

    def some_owner(self) -> str:
        return self.rng.choice(self.owners)

    def submit(self, t: int) -> tuple[str, tuple[Any, ...]]:
        rng = self.rng
        oid = self.new_id()
        self.ids.append(oid)
        kind, tif = rng.choice(ORDER_TYPES)
        side = rng.choice(["buy", "sell"])
        # bids low, asks high, with some overlap: books cross and rest
        mid = (LO + HI) // 2
        price = None if kind == "market" else (
            rng.randint(LO, mid + 2) if side == "buy" else rng.randint(mid - 2, HI))
        first = self.slot()
        last = None
        if rng.random() < 0.08:
            last = min(first + rng.randint(1, 3), self.n_slots + 1)
        if rng.random() < 0.1:
            side = Side.BUY if side == "buy" else Side.SELL
        if rng.random() < 0.1:
            kind, tif = Kind(kind), Tif(tif)
        return ("submit", (t, oid, self.some_owner(), side, first, price, rng.randint(1, 6),
                           kind, tif, last))

    def twist(self, call: tuple[str, tuple[Any, ...]]) -> tuple[str, tuple[Any, ...]]:
        """Make one field of the instruction hostile: a size beyond a limit or a wrong type."""
        rng = self.rng
        op, args = call
        a = list(args)
        pick = rng.random()
        if op == "submit":
            # time, oid, owner, side, first, price, rate, kind, tif, last
            i = rng.choice([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 4, 6, 5])
            if i == 0:
                a[0] = rng.choice([MAX_TIME + 1, self.t - 1, -1, MAX_TIME * 4] + BAD_TYPES)
            elif i == 9:
                first = a[4]
                a[9] = first + rng.choice([MAX_BLOCK_SLOTS - 1, MAX_BLOCK_SLOTS, 10**9, 2**63,
                                           -1, 10**40])
            elif i == 4:
                a[4] = rng.choice([MAX_SLOT, MAX_SLOT + 1, -1, 10**30, 2**63] + BAD_TYPES)
            elif i == 6:
                a[6] = rng.choice([MAX_LOTS, MAX_LOTS + 1, -MAX_LOTS - 1, 10**40, 0, -1,
                                   Fraction(3, 2), Fraction(2 * MAX_LOTS + 1, 2)] + BAD_TYPES)
            elif i == 5:
                a[5] = rng.choice([99990, 99991, -99991, 10**40, -(10**40), Fraction(201, 2),
                                   Fraction(200, 2)] + BAD_TYPES)
            elif i in (1, 2):
                a[i] = rng.choice(["", None, 1.5, ["x"], ("x",), True, 0] + BAD_TYPES)
            else:
                a[i] = rng.choice(BAD_TYPES + ["BUY", "Buy", "limit", "gtc", "sell", "market",
                                               "fok", 1, -1])
        elif op in ("cancel", "modify"):
            i = rng.randrange(len(a))
            if i == 0:
                a[0] = rng.choice([MAX_TIME + 1, self.t - 1] + BAD_TYPES)
            elif i in (1, 2):
                a[i] = rng.choice(["", None, ["x"], {"x": 1}, 7, 1.5])
            else:
                a[i] = rng.choice([MAX_LOTS + 1, -MAX_LOTS - 1, 10**40, 0, Fraction(1, 3),
                                   99991, -99991] + BAD_TYPES)
                if pick < 0.1:
                    a[3] = a[4] = None
        else:  # lifecycle: slot, time[, reference]
            i = rng.randrange(len(a))
            if i == 0:
                a[0] = rng.choice([MAX_SLOT + 1, -1, 10**30] + BAD_TYPES)
            elif i == 1:
                a[1] = rng.choice([MAX_TIME + 1, self.t - 1] + BAD_TYPES)
            else:
                a[2] = rng.choice([10**40, Fraction(1, 3), -(10**40)] + BAD_TYPES)
        return op, tuple(a)


# -- the checks ---------------------------------------------------------------------------------


def _digest(ex: Exchange) -> tuple[Any, ...]:
    return (ex.now, ex._seq, ex.n_trades, len(ex.orders), len(ex.books),
            sum(b.n_levels() for b in ex.books.values()))


def _outcome(rep: Any) -> Outcome:
    status = None if rep.status is None else str(rep.status)
    reason = None if rep.reason is None else str(rep.reason)
    return Outcome(status, reason, [tuple(t) for t in rep.trades],
                   [o.order_id for o in rep.self_trade_cancelled],
                   [o.order_id for o in rep.expired])


def _touched(op: str, args: tuple[Any, ...]) -> list[Any]:
    if op == "submit":
        first, last = args[4], args[9]
        if type(first) is int and (last is None or (type(last) is int and 0 <= last - first < 8)):
            return list(range(first, (first if last is None else last) + 1))
        return [first]
    if op in ("cancel", "modify"):
        return []
    return [args[0]]


def check_step(ep: Episode, op: str, args: tuple[Any, ...], rep: Any, expected: Outcome,
               before: tuple[Any, ...]) -> str | None:
    """Compare one instruction's report with the model and check the invariants after it."""
    ex, model = ep.ex, ep.model
    got = _outcome(rep)
    if got != expected:
        return f"report {got} != model {expected}"
    if rep.status is Status.REJECTED and _digest(ex) != before:
        return f"a rejection changed state: {before} -> {_digest(ex)}"
    if ex.now != model.now or ex.n_trades != len(model.trades):
        return f"clock/trade count {ex.now}/{ex.n_trades} != model {model.now}/" \
               f"{len(model.trades)}"
    grew = len(ex.books) - before[4]
    if grew and not (rep.status is None or rep.status is Status.RESTING) or grew > 1:
        return f"{grew} new book(s) but nothing rests in them"
    slots = _touched(op, args)
    if op in ("cancel", "modify") and rep.order is not None:
        slots = [rep.order.first_slot]
    for s in slots:
        try:
            book = ex.books.get(s)
        except TypeError:
            continue
        if book is None:
            continue
        if str(book.phase) == "continuous" and book.is_crossed():
            return f"slot {s} is crossed in continuous trading"
        if sum(book.positions.values()) or sum(book.notional.values()):
            return f"slot {s}: positions or cash do not sum to zero"
    o = rep.order
    if o is not None:
        if o.offered != o.filled + o.rate + o.removed:
            return f"{o!r}: offered != filled + open + removed"
        if (o.status is Status.RESTING) != (o.rate > 0):
            return f"{o!r}: resting status vs open rate"
    return None


def check_episode(ep: Episode) -> str | None:
    """Every order's state and every book's queues equal the model's; books are consistent."""
    ex, model = ep.ex, ep.model
    if set(map(repr, ex.orders)) != set(map(repr, model.orders)):
        return "the sets of accepted ids differ"
    for oid, m in model.orders.items():
        o = ex.orders[oid]
        got = (str(o.status), o.filled, o.rate, o.removed, o.offered, o.price,
               None if o.reason is None else str(o.reason))
        want = (m.status, m.filled, m.open, m.removed, m.offered, m.price, m.reason)
        if got != want:
            return f"order {oid!r}: {got} != model {want}"
    for s, book in ex.books.items():
        book.check()
        for side, name in ((Side.BUY, "buy"), (Side.SELL, "sell")):
            got_q = [o.order_id for lv in book.levels(side) for o in lv.live()]
            want_q = [o.oid for o in model.queue(s, name)]
            if got_q != want_q:
                return f"slot {s} {name} queue {got_q} != model {want_q}"
        pos: dict[str, int] = {}
        for t in model.trades:
            if t[2] == s:
                pos[t[7]] = pos.get(t[7], 0) + t[4]
                pos[t[8]] = pos.get(t[8], 0) - t[4]
        if {k: v for k, v in book.positions.items() if v} != {k: v for k, v in pos.items() if v}:
            return f"slot {s}: positions {book.positions} != model {pos}"
    for s, q in model.book.items():
        if q and s not in ex.books:
            return f"slot {s} rests orders in the model but has no book"
    if list(ex.trade_log or []) != model.trades:
        return "trade logs differ"
    return None


ENGINES: dict[str, type[Exchange]] = {"python": PythonExchange, ENGINE: Exchange}
"""The engines the harness can drive: the Python reference, and the default (the C core where
it is built)."""


def run(n: int, seed: int = 0, episode_len: int = 300, show: int = 3,
        out: Any = sys.stderr, engine: type[Exchange] = Exchange) -> dict[str, Any]:
    """Fuzz ``n`` instructions on ``engine``; return counts (``instructions``,
    ``violations``, ...)."""
    rng = random.Random(seed)
    done = violations = rejected = trades = episodes = 0
    t0 = clock.perf_counter()
    while done < n:
        ep = Episode(rng, min(episode_len, n - done), engine)
        episodes += 1
        if not ep.auto_open:  # open most slots so that the stream trades
            for s in range(ep.n_slots):
                how = rng.choice(["open_continuous", "open_continuous", "open_auction", None])
                if how:
                    for target in (ep.ex, ep.model):
                        getattr(target, how)(s, 0)
        bad = None
        for _ in range(ep.length):
            op, args = ep.instruction()
            done += 1
            before = _digest(ep.ex)
            expected = getattr(ep.model, op)(*args)
            try:
                rep = getattr(ep.ex, op)(*args)
            except Exception:  # noqa: BLE001 - an exception is a violation to report
                bad = f"{op}{args!r} raised:\n{traceback.format_exc()}"
                break
            rejected += rep.status is Status.REJECTED
            trades += len(rep.trades)
            bad = check_step(ep, op, args, rep, expected, before)
            if bad:
                bad = f"{op}{args!r}: {bad}"
                break
        if bad is None:
            try:
                bad = check_episode(ep)
            except AssertionError as exc:
                bad = f"book check failed: {exc}"
        if bad is not None:
            violations += 1
            if violations <= show:
                print(f"violation {violations} (seed {seed}, episode {episodes}): {bad}",
                      file=out)
    seconds = clock.perf_counter() - t0
    return {"instructions": done, "violations": violations, "episodes": episodes,
            "rejected": rejected, "trades": trades, "seconds": seconds,
            "rate": done / seconds if seconds else float("inf")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.fuzz", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instructions", "-n", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--episode-len", type=int, default=300)
    parser.add_argument("--engine", choices=sorted(ENGINES), default=ENGINE,
                        help=f"which exchange engine to fuzz (default: {ENGINE})")
    parser.add_argument("--report-every", type=int, default=1_000_000,
                        help="print progress every this many instructions")
    args = parser.parse_args(argv)
    total: dict[str, Any] = {}
    left, chunk, seed = args.instructions, max(1, args.report_every), args.seed
    while left > 0:
        part = run(min(chunk, left), seed=seed, episode_len=args.episode_len,
                   engine=ENGINES[args.engine])
        for k, v in part.items():
            total[k] = total.get(k, 0) + v
        left -= part["instructions"]
        seed += 1_000_003
        rate = total["instructions"] / total["seconds"]
        print(f"{total['instructions']} instructions, {total['violations']} violations, "
              f"{total['rejected']} rejected, {total['trades']} trades, "
              f"{total['seconds']:.0f} s, {rate:,.0f} instructions/s", flush=True)
    return 1 if total.get("violations") else 0


if __name__ == "__main__":
    raise SystemExit(main())
