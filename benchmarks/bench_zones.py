"""Cost of cross-zonal matching per message (issue 17; README "Zones").

Usage::

    python benchmarks/bench_zones.py                    # N=50000, S=24, both engines
    python benchmarks/bench_zones.py --messages 10000   # smoke run

One deterministic mixed stream (:mod:`benchmarks.streams`: 60 % gtc limits, 30 % cancels,
10 % ioc market orders, 32 owners, S open slots) is replayed four ways, each on a fresh
instance, gc disabled around the timed loop:

* ``plain``: the single-zone exchange (``Exchange``), everything in one book — what a
  single-zone market runs (it never touches the coupling layer);
* ``zonal_1``: a :class:`~rex_env.exchange.zones.ZonalExchange` with one zone (the layer's
  bookkeeping, no coupling possible);
* ``zonal_0cap``: two zones, owners split between them (even owner index -> ``A``), a path
  each way with zero capacity (every order checks its neighbour and finds no capacity);
* ``zonal``: the same two zones with ample capacity both ways (every marketable order is
  matched across zones in price-time priority: the full coupling).

Reported: microseconds per message (median of R repetitions) and the share of trades that
crossed zones. The two-zone streams differ from ``plain`` in what they match (two books
instead of one), so compare ``zonal`` with ``zonal_0cap`` for the price of coupling.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.streams import CANCEL, LIMIT, StreamParams, generate  # noqa: E402
from rex_env import _core  # noqa: E402
from rex_env.exchange import PythonExchange  # noqa: E402
from rex_env.exchange.zones import ZonalExchange  # noqa: E402


def run_plain(engine: type, stream: list) -> tuple[float, int, int]:
    ex = engine(auto_open=True)
    sub, can = ex.submit, ex.cancel
    gc.collect()
    gc.disable()
    t0 = time.perf_counter()
    n = 0
    for op, t, oid, owner, side, slot, price, rate in stream:
        if op == LIMIT:
            n += len(sub(t, oid, owner, side, slot, price, rate).trades)
        elif op == CANCEL:
            can(t, oid, owner)
        else:
            n += len(sub(t, oid, owner, side, slot, None, rate, "market", "ioc").trades)
    dt = time.perf_counter() - t0
    gc.enable()
    return dt, n, 0


def run_zonal(engine: type, stream: list, zones: int, cap: int) -> tuple[float, int, int]:
    names = ["A", "B"][:zones]
    caps = {("A", "B"): cap, ("B", "A"): cap} if zones == 2 else {}
    home = {f"o{i:02d}": names[i % zones] for i in range(64)}
    zx = ZonalExchange(names, caps, auto_open=True, home=home, engine=engine)
    sub, can = zx.submit, zx.cancel
    gc.collect()
    gc.disable()
    t0 = time.perf_counter()
    n = x = 0
    for op, t, oid, owner, side, slot, price, rate in stream:
        if op == LIMIT:
            rep = sub(t, oid, owner, side, slot, price, rate)
        elif op == CANCEL:
            can(t, oid, owner)
            continue
        else:
            rep = sub(t, oid, owner, side, slot, None, rate, "market", "ioc")
        for tr in rep.trades:
            n += 1
            x += tr.buy_zone != tr.sell_zone
    dt = time.perf_counter() - t0
    gc.enable()
    return dt, n, x


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, default=50_000)
    ap.add_argument("--slots", type=int, default=24)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    stream = generate(StreamParams(n_messages=args.messages, n_slots=args.slots))
    engines = [("python", PythonExchange)] + ([("c", _core.Exchange)] if _core.AVAILABLE
                                              else [])
    print(f"N={args.messages} messages, S={args.slots} slots, median of {args.repeats}")
    print(f"{'engine':<8}{'variant':<12}{'us/msg':>9}{'trades':>9}{'cross':>8}")
    for name, eng in engines:
        variants = {"plain": lambda e=eng: run_plain(e, stream),
                    "zonal_1": lambda e=eng: run_zonal(e, stream, 1, 0),
                    "zonal_0cap": lambda e=eng: run_zonal(e, stream, 2, 0),
                    "zonal": lambda e=eng: run_zonal(e, stream, 2, 10**9)}
        for v, fn in variants.items():
            runs = [fn() for _ in range(args.repeats)]
            us = statistics.median(r[0] for r in runs) / args.messages * 1e6
            print(f"{name:<8}{v:<12}{us:>9.2f}{runs[0][1]:>9}{runs[0][2]:>8}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
