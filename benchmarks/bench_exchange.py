"""Throughput of the Rex matching engines (pure Python and C) against a plain Python book.

Usage::

    python benchmarks/bench_exchange.py                      # N=200000, R=5, S in 1,24,96
    python benchmarks/bench_exchange.py --messages 20000 --repeats 1   # smoke run, seconds
    python benchmarks/bench_exchange.py --profile            # + cProfile of Rex at S=24
    python benchmarks/bench_exchange.py --replay-messages 0  # skip the end-to-end replay
    python benchmarks/bench_exchange.py --replay-only --repeats 3  # only the end-to-end replay
    python benchmarks/bench_exchange.py --json out/bench.json

Engines, all in the same run (ratios are medians of per-repetition ratios):

* ``baseline``: the sortedcontainers book below; ``python``: the reference engine
  (:class:`rex_env.exchange.PythonExchange`); ``c``: the C core through its Python API
  (:class:`rex_env._core.Exchange`, one ``submit`` / ``cancel`` call and one ``Report`` per
  message, exactly like ``python``); ``c_bulk``: the same stream as numpy arrays processed
  inside C by ``Exchange.run_many`` (no report objects; the conversion to arrays is untimed).
* replay end to end: the S=24 stream written as a CSV (``--replay-messages`` rows), wall time
  of the whole process for the typical pure-Python engine of issue 12's target
  (``benchmarks/typical_replay.py``; the issue quotes ≈ 154 k events/s for it) and for
  ``python -m rex_env.replay`` with ``REX_ENGINE=python``, with ``REX_ENGINE=c`` on the per-row
  code (``REX_REPLAY_FAST=0``) and with ``REX_ENGINE=c`` and its fast path, interleaved; ratios
  to the typical engine are medians of per-repetition ratios (``--replay-only``: just this).

What is measured. For each number of open slots S, one deterministic mixed stream of N
messages (60 % gtc limit submits, 30 % cancels, 10 % ioc market orders; see
:mod:`benchmarks.streams` for every parameter) is generated *before* timing as plain tuples.
Each engine then replays the same stream on a fresh instance:

* ``baseline``: :class:`benchmarks.baseline_book.BaselineExchange`, a plain SortedDict-of-deques
  book that only records trades (no validation, no reports, no positions, no self-trade
  prevention);
* ``python`` / ``c``: :class:`rex_env.exchange.PythonExchange` / :class:`rex_env._core.Exchange`
  (``auto_open=True``) through their public
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
import csv
import gc
import io
import json
import os
import platform
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__:
    from . import streams
    from .baseline_book import BaselineExchange
else:  # run as a script: python benchmarks/bench_exchange.py
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import streams  # type: ignore[no-redef]
    from baseline_book import BaselineExchange  # type: ignore[no-redef]

import numpy as np

from rex_env import _core
from rex_env.exchange import Kind, PythonExchange, Status, Tif

#: issue 12: "a typical well-written pure-Python engine of the same contract" on replay
TYPICAL_REPLAY_EVENTS_PER_S = 154_000
REPO = Path(__file__).resolve().parents[1]

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


def replay_engine(cls: type, stream: list[tuple]) -> tuple[float, int]:
    """Replay on a fresh exchange of one engine; return (seconds, number of trades)."""
    ex = cls(auto_open=True)
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


def replay_python(stream: list[tuple]) -> tuple[float, int]:
    return replay_engine(PythonExchange, stream)


def replay_c(stream: list[tuple]) -> tuple[float, int]:
    return replay_engine(_core.Exchange, stream)


def bulk_arrays(stream: list[tuple]) -> tuple[list[np.ndarray], list[str]]:
    """The stream as the numpy arrays of ``Exchange.run_many`` (and the owner names)."""
    owners = sorted({m[3] for m in stream})
    ix = {o: i for i, o in enumerate(owners)}
    n = len(stream)
    op = np.zeros(n, np.int8)
    tm, oid, slot, price, rate = (np.zeros(n, np.int64) for _ in range(5))
    owner = np.zeros(n, np.int32)
    side, kind, tif = (np.zeros(n, np.int8) for _ in range(3))
    for i, (o, t, order_id, who, sd, sl, pr, rt) in enumerate(stream):
        op[i] = 1 if o == streams.CANCEL else 0
        tm[i], oid[i], owner[i], rate[i] = t, order_id, ix[who], rt
        if o != streams.CANCEL:
            side[i], slot[i] = int(sd), sl
            if o == streams.MARKET:
                kind[i] = tif[i] = 1
            else:
                price[i] = pr
    return [op, tm, oid, owner, side, slot, price, rate, kind, tif], owners


def replay_c_bulk(stream: list[tuple], arrays: tuple | None = None) -> tuple[float, int]:
    """The whole stream inside C (``run_many``); the arrays are built before timing."""
    cols, owners = arrays if arrays is not None else bulk_arrays(stream)
    ex = _core.Exchange(auto_open=True)
    gc.collect()
    gc.disable()
    try:
        t0 = time.perf_counter()
        _, _, n_trades = ex.run_many(*cols, owners=owners)
        t1 = time.perf_counter()
    finally:
        gc.enable()
    return t1 - t0, n_trades


ENGINES = {"baseline": replay_baseline, "python": replay_python, "c": replay_c,
           "c_bulk": replay_c_bulk}


# -- untimed checks -----------------------------------------------------------------------------
def check_stream(stream: list[tuple]) -> dict:
    """Replay untimed, counting what happened; compare Rex's trades with baseline+STP."""
    # Rex, with every report looked at (the C engine must give the very same trades)
    c = _core.Exchange(auto_open=True)
    c_log = c.keep_trades()
    for op, t, oid, owner, side, slot, price, rate in stream:
        if op == 0:
            c.submit(t, oid, owner, side, slot, price, rate, Kind.LIMIT, Tif.GTC)
        elif op == 1:
            c.cancel(t, oid, owner)
        else:
            c.submit(t, oid, owner, side, slot, None, rate, Kind.MARKET, Tif.IOC)
    ex = PythonExchange(auto_open=True)
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
    out["c_equals_python"] = [tuple(t) for t in c_log] == [tuple(t) for t in log]
    out["cancels"] = n_cancel
    out["cancel_hit_frac_rex"] = rex_hits / n_cancel if n_cancel else 0.0
    out["cancel_hit_frac_baseline"] = out["baseline"]["cancel_hits"] / n_cancel if n_cancel else 0.0
    return out


# -- replay end to end -------------------------------------------------------------------------
def to_replay_csv(stream: list[tuple], path: Path | None = None) -> str:
    """A benchmark stream as a replay file (SPEC §7, tick 0.1, lot 0.1); written to ``path``."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(("time", "op", "order_id", "owner", "side", "first_slot", "last_slot", "price",
                "rate", "kind", "tif"))

    def tenths(x: int) -> str:
        return f"{'-' if x < 0 else ''}{abs(x) // 10}.{abs(x) % 10}"

    for op, t, oid, owner, side, slot, price, rate in stream:
        if op == streams.CANCEL:
            w.writerow((t, "cancel", oid, owner, "", "", "", "", "", "", ""))
        elif op == streams.LIMIT:
            w.writerow((t, "submit", oid, owner, str(side), slot, "", tenths(price),
                        tenths(rate), "limit", "gtc"))
        else:
            w.writerow((t, "submit", oid, owner, str(side), slot, "", "", tenths(rate),
                        "market", "ioc"))
    text = out.getvalue()
    if path is not None:
        path.write_text(text)
    return text


REPLAY_RUNS = {
    # name: (command after the interpreter, extra environment); typical and c run next to each
    # other in every repetition (the order alternates), so that load changes hit both alike
    "python": (["-m", "rex_env.replay"], {"REX_ENGINE": "python"}),
    "c_per_row": (["-m", "rex_env.replay"], {"REX_ENGINE": "c", "REX_REPLAY_FAST": "0"}),
    "typical": (["benchmarks/typical_replay.py"], {}),
    "c": (["-m", "rex_env.replay"], {"REX_ENGINE": "c"}),
}
"""The end-to-end replay runs: the typical pure-Python engine (benchmarks/typical_replay.py),
``python -m rex_env.replay`` on the Python engine, on the C engine with the per-row code only,
and on the C engine with its fast path (the default)."""


def bench_replay(n: int, repeats: int, seed: int, owners: int) -> dict:
    """Wall time of every replay run of :data:`REPLAY_RUNS` on one file, interleaved."""
    stream = streams.generate(streams.StreamParams(n_messages=n, n_slots=24, seed=seed,
                                                   n_owners=owners))
    names = list(REPLAY_RUNS)
    secs: dict[str, list[float]] = {k: [] for k in names}
    outputs: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory() as tmp:
        events = Path(tmp) / "events.csv"
        to_replay_csv(stream, events)
        for r in range(repeats):
            for name in (names if r % 2 == 0 else names[::-1]):
                args, extra = REPLAY_RUNS[name]
                trades = Path(tmp) / f"trades_{name}.csv"
                env = {**os.environ, **extra,
                       "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get(
                           "PYTHONPATH", "")])}
                t0 = time.perf_counter()
                subprocess.run([sys.executable, *args, str(events), "--out", str(trades)],
                               env=env, cwd=REPO, check=True, stderr=subprocess.DEVNULL)
                secs[name].append(time.perf_counter() - t0)
                outputs[name] = trades.read_bytes()
    rate = {k: [n / s for s in v] for k, v in secs.items()}
    ratios = {f"{k}/typical": statistics.median(x / y for x, y in zip(
        rate[k], rate["typical"], strict=True)) for k in names if k != "typical"}
    ratios["c/c_per_row"] = statistics.median(x / y for x, y in zip(
        rate["c"], rate["c_per_row"], strict=True))
    return {"rows": n, "seconds": secs, "median_s": {k: statistics.median(v)
                                                     for k, v in secs.items()},
            "events_per_s": {k: statistics.median(v) for k, v in rate.items()},
            "median_ratio": ratios,
            "identical": all(outputs[k] == outputs["c"] for k in names)}


# -- driver -------------------------------------------------------------------------------------
def bench_one(stream: list[tuple], repeats: int) -> dict:
    """R interleaved repetitions of every engine on one stream."""
    n = len(stream)
    names = list(ENGINES)
    secs: dict[str, list[float]] = {k: [] for k in names}
    trades: dict[str, int] = {}
    arrays = bulk_arrays(stream)
    for r in range(repeats):
        order = names if r % 2 == 0 else names[::-1]
        for name in order:
            if name == "c_bulk":
                dt, nt = replay_c_bulk(stream, arrays)
            else:
                dt, nt = ENGINES[name](stream)
            secs[name].append(dt)
            if trades.setdefault(name, nt) != nt:
                raise AssertionError(f"{name}: trade count changed between repeats")
    rate = {k: [n / s for s in v] for k, v in secs.items()}

    def ratio(a: str, b: str) -> float:
        return statistics.median(x / y for x, y in zip(rate[a], rate[b], strict=True))

    return {
        "seconds": secs,
        "msgs_per_s": rate,
        "median_msgs_per_s": {k: statistics.median(v) for k, v in rate.items()},
        "median_ratio": {"python/baseline": ratio("python", "baseline"),
                         "c/baseline": ratio("c", "baseline"),
                         "c/python": ratio("c", "python"),
                         "c_bulk/c": ratio("c_bulk", "c")},
        "trades": trades,
    }


def profile_rex(stream: list[tuple], top: int = 25) -> str:
    """cProfile one Rex replay; the top functions by total (own) time."""
    ex = PythonExchange(auto_open=True)
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


def print_tables(results: list[dict]) -> None:
    """The stream composition and per-call throughput tables."""
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
    print("throughput per Python call, msg/s (median over repetitions); ratios = median of "
          "per-repetition ratios")
    print(f"{'slots':>5} {'messages':>9} {'baseline':>10} {'python':>10} {'c':>10} "
          f"{'c_bulk':>10} {'c/base':>7} {'c/py':>6} {'py/base':>7} {'us/msg c':>8} "
          f"{'trades':>7} {'c==py':>5} {'py==base+STP':>12}")
    for r in results:
        m = r["median_msgs_per_s"]
        q = r["median_ratio"]
        k = r["check"]
        same = "-" if k is None else ("yes" if k["rex_equals_baseline_stp"] else "NO")
        same_c = "-" if k is None else ("yes" if k["c_equals_python"] else "NO")
        print(f"{r['slots']:>5} {r['messages']:>9} {fmt_rate(m['baseline']):>10} "
              f"{fmt_rate(m['python']):>10} {fmt_rate(m['c']):>10} {fmt_rate(m['c_bulk']):>10} "
              f"{q['c/baseline']:>7.2f} {q['c/python']:>6.2f} {q['python/baseline']:>7.2f} "
              f"{1e6 / m['c']:>8.3f} {r['trades']['c']:>7} {same_c:>5} {same:>12}")
        if r["trades"]["c"] != r["trades"]["python"] or r["trades"]["c_bulk"] != r["trades"][
                "c"]:
            print(f"  WARNING S={r['slots']}: trade counts differ {r['trades']}")
    print()
    print("targets (issue 12): c/base >= 2 per Python call; c_bulk >= 5 M msg/s inside C")
    print("trades differ from the plain baseline because Rex applies self-trade prevention "
          "(SPEC §4);")
    print("py==base+STP: the Python engine's trades equal, tuple by tuple, those of the "
          "baseline run with stp=True (untimed); c==py: the C engine's trades equal Python's.")
    for r in results:
        k = r["check"]
        if k is not None:
            print(f"  S={r['slots']}: Rex self-trade cancels {k['rex']['stp_cancels']}, "
                  f"baseline+STP trades {k['baseline_stp']['trades']}, "
                  f"rejected submits in Rex {k['rex']['rejected_orders']}")
            if not k["rex_equals_baseline_stp"] or not k["c_equals_python"]:
                print(f"  WARNING S={r['slots']}: trades differ between engines")


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
    ap.add_argument("--replay-messages", type=int, default=200_000,
                    help="rows of the end-to-end replay stream (0: skip)")
    ap.add_argument("--replay-only", action="store_true",
                    help="only the end-to-end replay (skip the per-call engine table)")
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
    for S in [] if args.replay_only else slot_counts:
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
    if args.profile and profile_text is None and not args.replay_only:  # S=24 not in --slots
        stream = streams.generate(streams.StreamParams(n_messages=args.messages, n_slots=24,
                                                       seed=args.seed, n_owners=args.owners))
        profile_text = profile_rex(stream)

    if results:
        print_tables(results)

    replay_res = None
    if args.replay_messages > 0:
        replay_res = bench_replay(args.replay_messages, args.repeats, args.seed, args.owners)
        print()
        print(f"replay end to end: {replay_res['rows']} rows (S=24 stream), wall time of the "
              f"process, median of {args.repeats}; ratio = median of per-repetition ratios to "
              "the typical engine run beside it")
        labels = {"typical": "typical pure-Python engine (benchmarks/typical_replay.py)",
                  "python": "rex_env.replay, REX_ENGINE=python",
                  "c_per_row": "rex_env.replay, REX_ENGINE=c, REX_REPLAY_FAST=0 (per-row code)",
                  "c": "rex_env.replay, REX_ENGINE=c (fast path)"}
        for name, label in labels.items():
            ev = replay_res["events_per_s"][name]
            ratio = 1.0 if name == "typical" else replay_res["median_ratio"][f"{name}/typical"]
            print(f"  {label:<66} {replay_res['median_s'][name]:6.2f} s {ev / 1e3:8.1f} k "
                  f"events/s  {ratio:5.2f} x typical")
        print(f"  fast path / per-row code on the C engine: "
              f"{replay_res['median_ratio']['c/c_per_row']:.1f} x; TRADES.csv byte-identical "
              f"across all four: {'yes' if replay_res['identical'] else 'NO'}; target (issue 12)"
              f": c >= 1.5 x typical (issue figure for typical: "
              f"{TYPICAL_REPLAY_EVENTS_PER_S // 1000} k events/s)")

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
            "replay": replay_res,
            "wall_seconds": elapsed,
        }
        path.write_text(json.dumps(doc, indent=2, default=str) + "\n")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
