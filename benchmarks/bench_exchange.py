"""Throughput of the Rex matching engine against a plain pure-Python book.

Usage::

    python benchmarks/bench_exchange.py                      # N=200000, R=5, S in 1,24,96
    python benchmarks/bench_exchange.py --messages 20000 --repeats 1   # smoke run, seconds
    python benchmarks/bench_exchange.py --profile            # + cProfile of Rex at S=24
    python benchmarks/bench_exchange.py --json out/bench.json

What is measured. For each number of open slots S, one deterministic mixed stream of N
messages (60 % gtc limit submits, 30 % cancels, 10 % ioc market orders; see
:mod:`benchmarks.streams` for every parameter) is generated *before* timing as plain tuples.
Each engine then replays the same stream on a fresh instance:

* ``baseline``: :class:`benchmarks.baseline_book.BaselineExchange`, a plain SortedDict-of-deques
  book that only records trades (no validation, no reports, no positions, no self-trade
  prevention);
* ``rex``: :class:`rex_env.exchange.Exchange` (``auto_open=True``) through its public
  ``submit`` / ``cancel``, i.e. with full validation, a ``Report`` per message, ``Trade``
  records, positions/cash/statistics per slot and self-trade prevention.

The replay loop is the same shape for both (tuple unpacking, an ``op`` dispatch, one bound
method call per message), so the loop overhead is in both figures. Timing is
``time.perf_counter`` around the whole replay with the cyclic garbage collector disabled
(``gc.collect()`` then ``gc.disable()`` before, ``gc.enable()`` after; instance construction
and teardown are outside the timed region). Each of the R repetitions runs both engines,
alternating which goes first, so machine noise hits both; the table shows medians over the
repetitions and the median of the per-repetition ratios.

The trade counts of the two engines differ slightly because Rex applies self-trade prevention
(SPEC §4: a resting order of the incoming order's owner that it reaches is cancelled instead of
traded) and the plain baseline does not. To show that they otherwise do the same matching work,
an untimed check replays the stream once more through the baseline with ``stp=True`` and
compares its trades with Rex's trade log tuple by tuple (slot, price, rate, buy id, sell id).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import platform
import pstats
import statistics
import sys
import time
from pathlib import Path

if __package__:
    from . import streams
    from .baseline_book import BaselineExchange
else:  # run as a script: python benchmarks/bench_exchange.py
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import streams  # type: ignore[no-redef]
    from baseline_book import BaselineExchange  # type: ignore[no-redef]

from rex_env.exchange import Exchange, Kind, Status, Tif

# the replay loops below dispatch on literal op codes for speed
assert (streams.LIMIT, streams.CANCEL, streams.MARKET) == (0, 1, 2)


# -- timed replays ----------------------------------------------------------------------------
def replay_baseline(stream: list[tuple]) -> tuple[float, int]:
    """Replay on a fresh baseline book; return (seconds, number of trades)."""
    book = BaselineExchange()
    limit, market, cancel = book.limit, book.market, book.cancel
    gc.collect()
    gc.disable()
    try:
        t0 = time.perf_counter()
        for op, _t, oid, owner, side, slot, price, rate in stream:
            if op == 0:
                limit(oid, owner, side, slot, price, rate)
            elif op == 1:
                cancel(oid, owner)
            else:
                market(oid, owner, side, slot, rate)
        t1 = time.perf_counter()
    finally:
        gc.enable()
    return t1 - t0, len(book.trades)


def replay_rex(stream: list[tuple]) -> tuple[float, int]:
    """Replay on a fresh Rex exchange; return (seconds, number of trades)."""
    ex = Exchange(auto_open=True)
    submit, cancel = ex.submit, ex.cancel
    LIMIT, MARKET, GTC, IOC = Kind.LIMIT, Kind.MARKET, Tif.GTC, Tif.IOC
    gc.collect()
    gc.disable()
    try:
        t0 = time.perf_counter()
        for op, t, oid, owner, side, slot, price, rate in stream:
            if op == 0:
                submit(t, oid, owner, side, slot, price, rate, LIMIT, GTC)
            elif op == 1:
                cancel(t, oid, owner)
            else:
                submit(t, oid, owner, side, slot, None, rate, MARKET, IOC)
        t1 = time.perf_counter()
    finally:
        gc.enable()
    return t1 - t0, ex.n_trades


ENGINES = {"baseline": replay_baseline, "rex": replay_rex}


# -- untimed checks -----------------------------------------------------------------------------
def check_stream(stream: list[tuple]) -> dict:
    """Replay untimed, counting what happened; compare Rex's trades with baseline+STP."""
    # Rex, with every report looked at
    ex = Exchange(auto_open=True)
    log = ex.keep_trades()
    rex_hits = rex_rejects = 0
    for op, t, oid, owner, side, slot, price, rate in stream:
        if op == 0:
            rep = ex.submit(t, oid, owner, side, slot, price, rate, Kind.LIMIT, Tif.GTC)
        elif op == 1:
            rep = ex.cancel(t, oid, owner)
            rex_hits += rep.status is Status.CANCELLED
        else:
            rep = ex.submit(t, oid, owner, side, slot, None, rate, Kind.MARKET, Tif.IOC)
        if rep.status is Status.REJECTED and op != 1:
            rex_rejects += 1
    rex_resting = sum(len(b.resting()) for b in ex.books.values())
    rex_levels = sum(len(b.bids) + len(b.asks) for b in ex.books.values())
    rex_trades = [(tr.slot, tr.price, tr.rate, tr.buy_order_id, tr.sell_order_id) for tr in log]
    stp_cancels = sum(1 for o in ex.orders.values() if o.reason is not None
                      and o.reason.value == "self_trade")

    out: dict = {}
    for stp in (False, True):
        book = BaselineExchange(stp=stp)
        hits = 0
        for op, _t, oid, owner, side, slot, price, rate in stream:
            if op == 0:
                book.limit(oid, owner, side, slot, price, rate)
            elif op == 1:
                hits += book.cancel(oid, owner)
            else:
                book.market(oid, owner, side, slot, rate)
        key = "baseline_stp" if stp else "baseline"
        out[key] = {"trades": len(book.trades), "cancel_hits": hits,
                    "resting_end": book.resting(), "levels_end": book.n_levels()}
        if stp:
            out["rex_equals_baseline_stp"] = book.trades == rex_trades
    n_cancel = sum(1 for m in stream if m[0] == 1)
    out["rex"] = {"trades": len(rex_trades), "cancel_hits": rex_hits, "rejected_orders":
                  rex_rejects, "stp_cancels": stp_cancels, "resting_end": rex_resting,
                  "levels_end": rex_levels}
    out["cancels"] = n_cancel
    out["cancel_hit_frac_rex"] = rex_hits / n_cancel if n_cancel else 0.0
    out["cancel_hit_frac_baseline"] = out["baseline"]["cancel_hits"] / n_cancel if n_cancel else 0.0
    return out


# -- driver -------------------------------------------------------------------------------------
def bench_one(stream: list[tuple], repeats: int) -> dict:
    """R interleaved repetitions of every engine on one stream."""
    n = len(stream)
    names = list(ENGINES)
    secs: dict[str, list[float]] = {k: [] for k in names}
    trades: dict[str, int] = {}
    for r in range(repeats):
        order = names if r % 2 == 0 else names[::-1]
        for name in order:
            dt, nt = ENGINES[name](stream)
            secs[name].append(dt)
            if trades.setdefault(name, nt) != nt:
                raise AssertionError(f"{name}: trade count changed between repeats")
    rate = {k: [n / s for s in v] for k, v in secs.items()}
    ratios = [x / y for x, y in zip(rate["rex"], rate["baseline"], strict=True)]
    return {
        "seconds": secs,
        "msgs_per_s": rate,
        "median_msgs_per_s": {k: statistics.median(v) for k, v in rate.items()},
        "ratio_rex_over_baseline": ratios,
        "median_ratio": statistics.median(ratios),
        "trades": trades,
    }


def profile_rex(stream: list[tuple], top: int = 25) -> str:
    """cProfile one Rex replay; the top functions by total (own) time."""
    ex = Exchange(auto_open=True)
    submit, cancel = ex.submit, ex.cancel
    LIMIT, MARKET, GTC, IOC = Kind.LIMIT, Kind.MARKET, Tif.GTC, Tif.IOC

    def run() -> None:
        for op, t, oid, owner, side, slot, price, rate in stream:
            if op == 0:
                submit(t, oid, owner, side, slot, price, rate, LIMIT, GTC)
            elif op == 1:
                cancel(t, oid, owner)
            else:
                submit(t, oid, owner, side, slot, None, rate, MARKET, IOC)

    prof = cProfile.Profile()
    gc.collect()
    gc.disable()
    try:
        prof.runcall(run)
    finally:
        gc.enable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(top)
    return buf.getvalue()


def fmt_rate(x: float) -> str:
    return f"{x / 1e6:.3f} M"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=200_000, help="messages per stream (N)")
    ap.add_argument("--repeats", type=int, default=5, help="repetitions per engine (R)")
    ap.add_argument("--slots", default="1,24,96", help="comma list of open slot counts (S)")
    ap.add_argument("--seed", type=int, default=streams.StreamParams.seed)
    ap.add_argument("--owners", type=int, default=streams.StreamParams.n_owners,
                    help="number of owners (8-64)")
    ap.add_argument("--profile", action="store_true",
                    help="also cProfile Rex on the S=24 stream, top 25 by tottime")
    ap.add_argument("--no-check", action="store_true",
                    help="skip the untimed replay that counts cancels and compares trades")
    ap.add_argument("--json", metavar="PATH", help="write all results as JSON")
    args = ap.parse_args(argv)
    if args.messages <= 0 or args.repeats <= 0:
        ap.error("--messages and --repeats must be positive")
    slot_counts = [int(s) for s in args.slots.split(",") if s.strip()]

    print(f"Python {sys.version.split()[0]} ({platform.python_implementation()}, "
          f"{platform.machine()}, {platform.system()})")
    print(f"N={args.messages} messages per stream, R={args.repeats} repetitions, "
          f"seed={args.seed}, owners={args.owners}")
    print("timing: time.perf_counter around the whole replay; gc.collect() then gc.disable() "
          "during each timed replay; engines interleaved per repetition, alternating order")

    t_start = time.perf_counter()
    results = []
    profile_text = None
    for S in slot_counts:
        params = streams.StreamParams(n_messages=args.messages, n_slots=S, seed=args.seed,
                                      n_owners=args.owners)
        stream = streams.generate(params)  # before any timing
        comp = streams.composition(stream)
        check = None if args.no_check else check_stream(stream)
        res = bench_one(stream, args.repeats)
        res.update(slots=S, messages=len(stream), params=params.as_dict(), composition=comp,
                   check=check)
        results.append(res)
        if args.profile and S == 24:
            profile_text = profile_rex(stream)
        del stream
    if args.profile and profile_text is None:  # S=24 was not among --slots
        stream = streams.generate(streams.StreamParams(n_messages=args.messages, n_slots=24,
                                                       seed=args.seed, n_owners=args.owners))
        profile_text = profile_rex(stream)

    # -- stream composition (as measured) --
    print()
    print("stream composition (counted; cancel hits measured on the untimed check replay)")
    print(f"{'slots':>5} {'limit':>7} {'cancel':>7} {'market':>7} {'buy':>6} {'mean rate':>9} "
          f"{'owners':>6} {'prices':>11} {'cancel hit rex':>14} {'hit base':>8} "
          f"{'rest@end rex':>12} {'levels@end':>10}")
    for r in results:
        c = r["composition"]
        k = r["check"]
        hit_rex = f"{k['cancel_hit_frac_rex']:.1%}" if k else "-"
        hit_base = f"{k['cancel_hit_frac_baseline']:.1%}" if k else "-"
        rest = f"{k['rex']['resting_end']}" if k else "-"
        lev = f"{k['rex']['levels_end']}" if k else "-"
        print(f"{r['slots']:>5} {c['limit_frac']:>7.1%} {c['cancel_frac']:>7.1%} "
              f"{c['market_frac']:>7.1%} {c['buy_frac']:>6.1%} {c['mean_rate']:>9.2f} "
              f"{c['owners']:>6} {c['price_min']:>5}-{c['price_max']:<5} {hit_rex:>14} "
              f"{hit_base:>8} {rest:>12} {lev:>10}")

    # -- throughput --
    print()
    print("throughput (median over repetitions; ratio = median of per-repetition ratios)")
    print(f"{'slots':>5} {'messages':>9} {'baseline msg/s':>15} {'rex msg/s':>12} "
          f"{'rex/base':>8} {'us/msg base':>11} {'us/msg rex':>10} {'trades base':>11} "
          f"{'trades rex':>10} {'rex==base+STP':>13}")
    for r in results:
        m = r["median_msgs_per_s"]
        k = r["check"]
        same = "-" if k is None else ("yes" if k["rex_equals_baseline_stp"] else "NO")
        print(f"{r['slots']:>5} {r['messages']:>9} {fmt_rate(m['baseline']):>15} "
              f"{fmt_rate(m['rex']):>12} {r['median_ratio']:>8.3f} "
              f"{1e6 / m['baseline']:>11.2f} {1e6 / m['rex']:>10.2f} "
              f"{r['trades']['baseline']:>11} {r['trades']['rex']:>10} {same:>13}")
    print()
    print("trades differ because Rex applies self-trade prevention (SPEC §4) and the plain "
          "baseline does not;")
    print("rex==base+STP: Rex's trades equal, tuple by tuple, those of the baseline run with "
          "stp=True (untimed).")
    for r in results:
        k = r["check"]
        if k is not None:
            print(f"  S={r['slots']}: Rex self-trade cancels {k['rex']['stp_cancels']}, "
                  f"baseline+STP trades {k['baseline_stp']['trades']}, "
                  f"rejected submits in Rex {k['rex']['rejected_orders']}")
            if not k["rex_equals_baseline_stp"]:
                print(f"  WARNING S={r['slots']}: Rex's trades differ from baseline+STP")

    if profile_text is not None:
        print()
        print("cProfile of one Rex replay, S=24 (profiler overhead inflates absolute times)")
        print(profile_text)

    elapsed = time.perf_counter() - t_start
    print(f"total wall time {elapsed:.1f} s")

    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        doc = {
            "python": sys.version,
            "implementation": platform.python_implementation(),
            "machine": platform.machine(),
            "platform": platform.platform(),
            "messages": args.messages,
            "repeats": args.repeats,
            "seed": args.seed,
            "owners": args.owners,
            "timer": "time.perf_counter, gc disabled during timing",
            "results": results,
            "profile_rex_s24": profile_text,
            "wall_seconds": elapsed,
        }
        path.write_text(json.dumps(doc, indent=2, default=str) + "\n")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
