"""``python -m rex_env.simulate``: run a named scenario with its hand-coded population.

Examples::

    python -m rex_env.simulate                       # community, 1 day, seed 0, out runs/sim
    python -m rex_env.simulate toy --days 3 --seed 7 --out runs/toy
    python -m rex_env.simulate classroom --market MARKET.json --trader zic --periods 10 \\
        --shouts 500 --seed 1 --json OUT.json

Writes, for market scenarios: ``slots.csv`` (per slot and day: trades, VWAP, spread, depth,
volatility, system imbalance, the imbalance prices, the public wholesale price and the grid's
bid and ask), ``owners.csv`` (per owner: surplus, ``benefit_vs_tariff`` = surplus minus what
trading only with the grid at its quotes of each slot would have given, imbalance volume and
net, the terminal value of stored energy), ``settlements.csv`` (per owner and slot: position,
actual, imbalance, cash), ``trades.csv``, ``summary.json``, ``stylized.json`` (the
stylized facts of :mod:`rex_env.sim.stylized`: price range and profile against the wholesale
curve, volume and volatility by time to gate, ...), and the plots ``stylized.png`` (those
facts), ``depth_heatmap.png`` (LOB-3D depth, slot x price, at chosen moments),
``price_vs_gate.png`` (trade prices against time to gate closure), ``positions.png`` (reserved
versus actual) and ``imbalance.png``.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .exchange.zones import ZonalExchange
from .scenarios import PRESETS, Scenario, make_scenario
from .sim.kernel import Prio
from .sim.market import Market
from .sim.stylized import record_quotes, stylized_facts
from .spec.kinds import NOISE_TRADERS, SETTLEMENT_MODES
from .spec.settlement import SettlementConfig


@dataclass
class DayRecord:
    """What one simulated day leaves behind for tables and plots."""

    day: int
    seed: int
    market: Market
    snapshots: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    zone_snapshots: dict[str, list[tuple[int, np.ndarray, np.ndarray, np.ndarray]]] = field(
        default_factory=dict)
    """With zones: the same LOB-3D snapshots per zone (``snapshots`` holds the first zone's)."""
    quotes: list[tuple[int, int, int, int]] = field(default_factory=list)
    """Best bid and ask of every open slot every 5 minutes (for the stylized facts)."""
    elapsed_s: float = float("nan")
    """Wall time of the day: building the market, reset and the run."""


def snapshot_times(scenario: Scenario, n: int = 4) -> list[int]:
    """``n`` moments spread over the steady-state trading period of an episode."""
    s = scenario.schedule
    lo = s.open_lead
    hi = max(lo + 1, s.horizon - s.open_lead)
    return [int(x) for x in np.linspace(lo, hi, n)]


def run_days(scenario: Scenario, days: int, seed: int, progress: bool = True,
             snapshots: list[int] | None = None, levels: int = 30) -> list[DayRecord]:
    """Simulate ``days`` independent episodes (day d uses a child of ``seed``)."""
    from agents import build_population  # the population lives above the simulation layer

    if days < 1:
        raise ValueError(f"days must be >= 1, got {days}")
    seeds = np.random.SeedSequence(seed).spawn(days)
    out: list[DayRecord] = []
    bar = _progress(days * scenario.schedule.horizon, progress, f"simulating {scenario.name}")
    for d in range(days):
        t0 = time.perf_counter()
        market = Market(scenario, build_population(scenario))
        market.reset(np.random.default_rng(seeds[d]))
        rec = DayRecord(d, int(seeds[d].generate_state(1)[0]), market,
                        quotes=record_quotes(market))
        for t in snapshots if snapshots is not None else snapshot_times(scenario):
            market.kernel.schedule(t, Prio.INFO, _snapshotter(rec, levels))
        step = scenario.schedule.slot_len
        t = 0
        while not market.done:
            t += step
            market.run_until(t)
            if bar is not None:
                bar.update(step)
            if t >= scenario.schedule.horizon:
                market.run()
        rec.elapsed_s = time.perf_counter() - t0
        out.append(rec)
    if bar is not None:
        bar.close()
    return out


def _snapshotter(rec: DayRecord, levels: int) -> Any:
    def grab(lob: Any, slots: list[int], t: int) -> tuple:
        g = rec.market.grid
        prices = np.concatenate([lob.bid_price, lob.ask_price], axis=1) * float(g.tick_q)
        depth = np.concatenate([lob.bid_depth, -lob.ask_depth], axis=1) * float(g.lot_q)
        return (t, np.asarray(slots), prices, depth)

    def handler(t: int, _: object) -> None:
        m = rec.market
        slots = list(m.view.open_slots())
        if m.zonal is None:
            rec.snapshots.append(grab(m.exchange.lob3d(slots, levels), slots, t))
            return
        for z in m.zonal.zones:
            rec.zone_snapshots.setdefault(z, []).append(
                grab(m.zonal.lob3d(slots, levels, zone=z), slots, t))
        rec.snapshots.append(rec.zone_snapshots[m.zonal.zones[0]][-1])
    return handler


def _progress(total: int, enabled: bool, desc: str) -> Any:
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency; degrade to no bar
        return None
    return tqdm(total=total, desc=desc, unit="sim-s", unit_scale=True, file=sys.stderr)


# -- outputs --------------------------------------------------------------------------------
def write_outputs(records: list[DayRecord], out: Path, plots: bool = True,
                  extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write the tables, ``summary.json`` (strict JSON, ``extra`` merged in) and the plots.

    Returns the summary (with ``nan`` where a statistic is undefined; the file has ``null``).
    """
    out.mkdir(parents=True, exist_ok=True)
    sc = records[0].market.scenario
    summary: dict[str, Any] = {"scenario": sc.name, "days": len(records),
                               "settlement": sc.settlement.mode, **(extra or {}),
                               "per_day": []}
    with open(out / "slots.csv", "w", newline="") as fs, \
            open(out / "owners.csv", "w", newline="") as fo, \
            open(out / "settlements.csv", "w", newline="") as fe, \
            open(out / "trades.csv", "w", newline="") as ft:
        ws, wo, we, wt = (csv.writer(f) for f in (fs, fo, fe, ft))
        ws.writerow(["day", "slot", "n_trades", "volume_kw", "vwap", "high", "low", "volatility",
                     "mean_spread", "mean_bid_depth_kw", "mean_ask_depth_kw",
                     "system_imbalance_kwh", "imbalance_price_short",
                     "imbalance_price_surplus", "wholesale", "grid_bid", "grid_ask"])
        wo.writerow(["day", "owner", "agent", "surplus", "benefit_vs_tariff", "trade_cash",
                     "imbalance_cash", "imbalance_kwh", "unserved_kwh", "fills", "rejections",
                     "terminal_value", "imbalance_net_kwh"])
        we.writerow(["day", "slot", "owner", "position_kw", "actual_kw", "imbalance_kwh",
                     "trade_cash", "imbalance_cash", "unserved_kwh", "imbalance_price"])
        wt.writerow(["day", "trade_id", "time", "slot", "price", "rate_kw", "buyer", "seller",
                     "aggressor"])
        for rec in records:
            m = rec.market
            g = m.grid
            for t in m.trades:
                wt.writerow([rec.day, t.trade_id, t.time, t.slot, g.format_price(t.price),
                             g.format_rate(t.rate), t.buyer, t.seller, t.aggressor])
            sys_imb: dict[int, float] = {}
            for slot, recs in sorted(m.settlements.items()):
                sys_imb[slot] = sum(r.imbalance_kwh for r in recs.values())
                for owner, r in sorted(recs.items()):
                    we.writerow([rec.day, slot, owner, _f(r.position_kw), _f(r.actual_kw),
                                 _f(r.imbalance_kwh), _f(r.trade_cash), _f(r.imbalance_cash),
                                 _f(r.unserved_kwh), _f(r.imbalance_price)])
            for slot in sc.schedule.slots:
                st = m.metrics.slot(slot)
                settled = m.ledger.slots.get(slot)
                ws.writerow([rec.day, slot, st.n_trades, _f(st.volume), _f(st.vwap),
                             _f(st.high), _f(st.low), _f(st.volatility), _f(st.mean_spread),
                             _f(st.mean_bid_depth), _f(st.mean_ask_depth),
                             _f(sys_imb.get(slot, 0.0)),
                             _f(None if settled is None else settled.price_short),
                             _f(None if settled is None else settled.price_surplus),
                             _f(m.curve.price(slot)),
                             g.format_price(m.curve.bid_ticks(slot)),
                             g.format_price(m.curve.ask_ticks(slot))])
            for p in sc.prosumers:
                a = m.accounts[p.owner]
                wo.writerow([rec.day, p.owner, p.agent, _f(a.surplus), _f(a.benefit),
                             _f(a.trade_cash), _f(a.imbalance_cash), _f(a.imbalance_volume_kwh),
                             _f(a.unserved_kwh), a.fills, sum(a.rejections.values()),
                             _f(a.terminal_value), _f(a.imbalance_net_kwh)])
            summary["per_day"].append(day_summary(rec))
    summary["mean"] = {k: _mean_finite([d[k] for d in summary["per_day"]])
                       for k in ("welfare", "volume_kwh", "vwap", "mean_spread", "hhi",
                                 "imbalance_kwh", "trades", "events_per_s")}
    summary["by_agent"] = by_agent(records)
    if records[0].market.zonal is not None:
        summary["zones"] = write_zones(records, out)
    with open(out / "summary.json", "w") as f:
        json.dump(_strict_json(summary), f, indent=2, allow_nan=False)
    facts = stylized_facts([r.market for r in records], [r.quotes for r in records])
    with open(out / "stylized.json", "w") as f:
        json.dump(_strict_json(facts), f, indent=2, allow_nan=False)
    if plots:
        from . import plots as P

        P.stylized_panel(facts, out / "stylized.png")

        P.depth_heatmap(records[0], out / "depth_heatmap.png")
        P.price_vs_gate(records[0], out / "price_vs_gate.png")
        P.positions(records[0], out / "positions.png")
        P.imbalance(records, out / "imbalance.png")
        if records[0].market.zonal is not None:
            P.zone_map(records, out / "zones_map.png")
            r0 = records[0]
            for z, snaps in r0.zone_snapshots.items():  # the LOB-3D of each zone
                P.depth_heatmap(DayRecord(r0.day, r0.seed, r0.market, snaps),
                                out / f"depth_heatmap_{z}.png")
    return summary


def _f(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    return f"{x:.6g}"


def _mean_finite(xs: list[float]) -> float:
    """Mean over the days where the statistic is defined (nan if it never is)."""
    ok = [float(x) for x in xs if x is not None and math.isfinite(x)]
    return float(np.mean(ok)) if ok else float("nan")


def _strict_json(x: Any) -> Any:
    """A copy with numpy scalars as Python numbers and nan/inf as None (strict JSON)."""
    if isinstance(x, dict):
        return {str(k): _strict_json(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_strict_json(v) for v in x]
    if isinstance(x, (np.floating, np.integer)):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def day_summary(rec: DayRecord) -> dict[str, Any]:
    m = rec.market
    spreads = [m.metrics.slot(s).mean_spread for s in m.schedule.slots]
    spreads = [x for x in spreads if not math.isnan(x)]
    mm = m.metrics
    return {
        "day": rec.day,
        "trades": len(m.trades),
        "volume_kwh": mm.volume_kwh,
        "vwap": mm.vwap,
        "mean_spread": float(np.mean(spreads)) if spreads else float("nan"),
        "welfare": sum(a.surplus for a in m.accounts.values()),
        "hhi": mm.hhi(),
        "imbalance_kwh": sum(a.imbalance_volume_kwh for a in m.accounts.values()),
        "events": m.events,
        "messages": _n_orders(m),
        "elapsed_s": rec.elapsed_s,
        # kernel events + accepted orders per second of the day's wall time
        "events_per_s": (m.events + _n_orders(m)) / rec.elapsed_s,
    }


def _n_orders(m: Market) -> int:
    """Accepted orders of the day (with zones: in every zone's book, the coupling's
    cross-zonal child orders included)."""
    ex = m.exchange
    if not isinstance(ex, ZonalExchange):
        return len(ex.orders)
    return sum(len(zone_ex.orders) for zone_ex in ex.exchanges.values())


ZONE_KEYS = ("mean_spread", "mean_spread_congested", "mean_spread_uncongested",
             "congested_price_gap", "congestion_hours", "congestion_rent")


def write_zones(records: list[DayRecord], out: Path) -> dict[str, Any]:
    """``zones.csv`` (per day and slot: each zone's price, each path's flow, capacity and
    congestion) and the zonal summary (per day and mean; README "Zones")."""
    from .sim.zonal import zonal_day

    days = [zonal_day(r.market) for r in records]
    d0 = days[0]
    names = [f"{a}->{b}" for a, b in d0.paths]
    with open(out / "zones.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["day", "slot", *(f"price_{z}" for z in d0.zones),
                    *(f"{c}_{n}" for n in names for c in ("flow_kw", "capacity_kw",
                                                          "congested"))])
        for rec, day in zip(records, days, strict=True):
            for i, k in enumerate(day.slots):
                w.writerow([rec.day, k, *(_f(day.price[z][i]) for z in day.zones),
                            *(v for p in day.paths for v in (
                                _f(day.flow_kw[p][i]), _f(day.capacity_kw[p][i]),
                                int(day.congested[p][i])))])
    arb = [(r.market.accounts[p.owner].surplus) for r in records
           for p in r.market.scenario.prosumers if p.agent == "spatial"]
    return {"per_day": [d.totals for d in days],
            "mean": {k: _mean_finite([d.totals[k] for d in days]) for k in ZONE_KEYS},
            "arbitrager_surplus_per_day": _mean_finite(arb) if arb else None}


def by_agent(records: list[DayRecord]) -> dict[str, dict[str, float]]:
    """Mean per-owner outcome by agent kind over all days."""
    acc: dict[str, list[tuple[float, float, float]]] = {}
    for rec in records:
        m = rec.market
        for p in m.scenario.prosumers:
            a = m.accounts[p.owner]
            acc.setdefault(p.agent, []).append(
                (a.surplus, a.benefit, a.imbalance_volume_kwh))
    return {k: {"owners_x_days": len(v), "surplus": float(np.mean([x[0] for x in v])),
                "benefit_vs_tariff": float(np.mean([x[1] for x in v])),
                "imbalance_kwh": float(np.mean([x[2] for x in v]))}
            for k, v in sorted(acc.items())}


def print_table(summary: dict[str, Any]) -> None:
    print(f"\nScenario {summary['scenario']}: {summary['days']} day(s), settlement "
          f"{summary['settlement']}")
    m = summary["mean"]
    print(f"  trades/day {m['trades']:.0f}  volume {m['volume_kwh']:.1f} kWh/day  "
          f"VWAP {m['vwap']:.2f} /MWh  mean spread {m['mean_spread']:.2f} /MWh  "
          f"HHI {m['hhi']:.0f}  welfare {m['welfare']:.2f}  imbalance "
          f"{m['imbalance_kwh']:.1f} kWh/day")
    print(f"\n{'agent':<14}{'owners':>8}{'surplus':>12}{'benefit':>12}{'|imb| kWh':>12}")
    for kind, row in summary["by_agent"].items():
        print(f"{kind:<14}{row['owners_x_days']:>8}{row['surplus']:>12.3f}"
              f"{row['benefit_vs_tariff']:>12.3f}{row['imbalance_kwh']:>12.2f}")
    zones = summary.get("zones")
    if zones:
        z = zones["mean"]
        flows: dict[str, float] = {}
        for d in zones["per_day"]:
            for k, v in d["flow_mwh_by_path"].items():
                flows[k] = flows.get(k, 0.0) + v / len(zones["per_day"])
        print(f"\nzones: mean spread {z['mean_spread']:.2f} /MWh (congested slots "
              f"{z['mean_spread_congested']:.2f}, uncongested {z['mean_spread_uncongested']:.2f})"
              f"  congestion {z['congestion_hours']:.2f} h/day  congestion rent "
              f"{z['congestion_rent']:.3f}/day")
        print(f"  importing zone dearer by {z['congested_price_gap']:.2f} /MWh on congested "
              f"paths")
        print("  flows MWh/day: " + "  ".join(f"{k} {v:.3f}" for k, v in flows.items()))
        if zones["arbitrager_surplus_per_day"] is not None:
            print(f"  spatial arbitrager surplus {zones['arbitrager_surplus_per_day']:.3f}/day")


# -- classroom ------------------------------------------------------------------------------
def classroom_main(args: argparse.Namespace) -> int:
    from .classroom import ClassroomMarket, run_classroom, smith_market

    try:
        market = ClassroomMarket.load(args.market) if args.market else smith_market()
        result = run_classroom(market, args.trader, args.periods, args.shouts, args.seed,
                               args.reset_book_after_trade)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = result.as_dict(market, trader=args.trader, periods=args.periods, shouts=args.shouts,
                         seed=args.seed, reset_book_after_trade=args.reset_book_after_trade)
    eq = out["equilibrium"]
    print(f"classroom market: {len(market.buyers)} buyers, {len(market.sellers)} sellers, "
          f"equilibrium price [{eq['price_lo']}, {eq['price_hi']}], {eq['quantity']} units, "
          f"max surplus {eq['max_surplus']}")
    print(f"trader {args.trader}, {args.periods} periods x {args.shouts} shouts: mean efficiency "
          f"{out['mean_efficiency']:.3f}, trades/period {np.mean(out['trades']):.1f}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)
    return 0


def main(argv: list[str] | None = None) -> int:
    names = sorted(PRESETS) + ["classroom"]
    parser = argparse.ArgumentParser(prog="python -m rex_env.simulate",
                                     description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("scenario", nargs="?", default="community",
                        help=f"one of {', '.join(names)} (default community)")
    parser.add_argument("--days", type=int, default=1, help="days to simulate (default 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/sim"), help="output folder")
    parser.add_argument("--settlement", choices=SETTLEMENT_MODES,
                        help="override the scenario's imbalance settlement mode")
    parser.add_argument("--no-plots", action="store_true")
    parser.add_argument("--no-progress", action="store_true")
    g = parser.add_argument_group("classroom (Gode & Sunder)")
    g.add_argument("--market", type=Path, help="MARKET.json: buyers' values, sellers' costs")
    g.add_argument("--trader", choices=NOISE_TRADERS, default="zic")
    g.add_argument("--periods", type=int, default=10)
    g.add_argument("--shouts", type=int, default=500)
    g.add_argument("--reset-book-after-trade", action="store_true")
    g.add_argument("--json", type=Path, help="write the classroom results here")
    args = parser.parse_args(argv)
    if args.scenario == "classroom":
        return classroom_main(args)
    try:
        scenario = make_scenario(args.scenario)
        if args.settlement:
            scenario = scenario.replace(settlement=SettlementConfig(mode=args.settlement))
        if args.days < 1:
            raise ValueError(f"--days must be >= 1, got {args.days}")
        if args.seed < 0:
            raise ValueError(f"--seed must be >= 0, got {args.seed}")
    except ValueError as exc:
        parser.error(str(exc))
    t0 = time.perf_counter()
    records = run_days(scenario, args.days, args.seed, progress=not args.no_progress)
    elapsed = time.perf_counter() - t0
    extra = {"seed": args.seed, "elapsed_s": elapsed}
    try:
        summary = write_outputs(records, args.out, plots=not args.no_plots, extra=extra)
    except OSError as exc:
        print(f"error: cannot write the results to {args.out}: {exc}", file=sys.stderr)
        return 1
    print_table(summary)
    print(f"\nwrote {args.out}/ (slots.csv, owners.csv, settlements.csv, trades.csv, "
          f"{'zones.csv, ' if scenario.zonal else ''}"
          f"summary.json, stylized.json{', plots' if not args.no_plots else ''}) in "
          f"{elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
