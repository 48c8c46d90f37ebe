"""``python -m rex_env.demo``: the README's main job on a built-in default.

Until the RL environment exists this replays a built-in, seeded order stream through the bare
exchange (four delivery slots, each opening with a call auction, then continuous trading and
gate closure) and prints the trades and a LOB-3D summary.
"""

from __future__ import annotations

import argparse

import numpy as np

from .exchange import Exchange, Grid, Kind, Side, Tif


def demo_stream(seed: int = 7, n_slots: int = 4, n_orders: int = 400) -> Exchange:
    """Run a small seeded zero-intelligence order flow through a scheduled exchange."""
    rng = np.random.default_rng(seed)
    grid = Grid()
    ex = Exchange(grid, n_slots=n_slots)
    ex.keep_trades()
    owners = [f"p{i}" for i in range(8)]
    t = 0
    for s in range(n_slots):
        ex.open_auction(s, t)
    for i in range(40):  # call phase: limit gtc only
        s = int(rng.integers(n_slots))
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        price = int(rng.normal(800 if side is Side.BUY else 820, 40))
        ex.submit(t, f"c{i}", owners[int(rng.integers(8))], side, s, price,
                  int(rng.integers(1, 30)))
    t += 60
    for s in range(n_slots):
        ex.uncross(s, t, 810)
    for i in range(n_orders):
        t += int(rng.integers(1, 20))
        s = int(rng.integers(n_slots))
        owner = owners[int(rng.integers(8))]
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        u = rng.random()
        if u < 0.1:
            ex.submit(t, i, owner, side, s, None, int(rng.integers(1, 20)), Kind.MARKET, Tif.IOC)
        elif u < 0.3:
            live = [o for o in ex.orders.values() if o.rate and o.owner == owner]
            if live:
                ex.cancel(t, live[int(rng.integers(len(live)))].order_id, owner)
        else:
            price = int(rng.normal(810, 30))
            ex.submit(t, i, owner, side, s, price, int(rng.integers(1, 30)))
    return ex


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rex_env.demo", description=__doc__)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    ex = demo_stream(args.seed)
    g = ex.grid
    trades = ex.trade_log or []
    print(f"Rex demo (seed {args.seed}): {len(ex.orders)} accepted orders, {len(trades)} trades")
    print(f"{'id':>4} {'time':>5} {'slot':>4} {'price':>8} {'kW':>6} {'aggr':>7}  buyer<-seller")
    for tr in trades[:15]:
        print(f"{tr.trade_id:>4} {tr.time:>5} {tr.slot:>4} {g.format_price(tr.price):>8} "
              f"{g.format_rate(tr.rate):>6} {tr.aggressor:>7}  {tr.buyer}<-{tr.seller}")
    if len(trades) > 15:
        print(f"... {len(trades) - 15} more")
    view = ex.lob3d(range(ex.n_slots or 0), k=3)
    print("\nLOB-3D summary (currency/MWh, kW):")
    print(f"{'slot':>4} {'bid':>8} {'ask':>8} {'depth b/a (top 3)':>20} {'last':>8} "
          f"{'vwap':>8} {'volume':>8}")
    for i, s in enumerate(view.slots):
        def fmt(x: float) -> str:
            return "-" if np.isnan(x) else f"{g.price(x):.1f}"
        depth = f"{g.rate(view.bid_depth[i].sum()):.1f}/{g.rate(view.ask_depth[i].sum()):.1f}"
        print(f"{s:>4} {fmt(view.best_bid[i]):>8} {fmt(view.best_ask[i]):>8} {depth:>20} "
              f"{fmt(view.last_price[i]):>8} {fmt(view.vwap[i]):>8} "
              f"{g.rate(view.volume[i]):>8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
