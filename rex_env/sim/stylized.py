"""Stylized facts of a simulated market, next to those of real continuous intraday markets.

:func:`stylized_facts` reads finished episodes (:class:`~rex_env.sim.market.Market` objects,
one per simulated day) and returns one JSON-able dict; ``python -m rex_env.simulate`` writes it
as ``stylized.json`` and draws it (:func:`rex_env.plots.stylized_panel`). The figures, and
why each is asked for (issue 11; real-market figures with sources in the README):

* ``daily_vwap_range``: per day, the highest minus the lowest slot VWAP; the median over days.
  Real quarter-hourly prices span tens of EUR/MWh a day (a flat, tariff-pinned market does
  not).
* ``hourly_profile``: mean slot VWAP and mean wholesale curve per hour of the day, and their
  correlation: local prices should follow the day's shape.
* ``energy_at_grid_quotes``: share of traded energy at the grid's bid or ask of its slot;
  ``max_share_at_one_price``: the largest share of traded energy at any single price (a
  market pinned to one tariff has most of its volume there).
* ``negative_vwap_slots`` (and per 20 days).
* ``by_time_to_gate``: traded energy (kWh per hour of trading, per day), trade count and
  realised volatility (root of the summed squared 5-minute changes of the last trade price,
  per hour, per slot, currency/MWh) in bins of the time to gate closure; the ratios the
  targets use: volume 10 min-3 h before the gate over 3-5.5 h before (per hour), and
  volatility in the last hour over 3-6 h before. Real intraday markets trade most and move
  most in the last hours before the gate.
* ``spread_by_time_since_open``: mean quoted spread (best ask - best bid, both present) by
  time since the slot opened, from quote samples (:func:`record_quotes`); real spreads are
  L-shaped over the session ([S64] in market_rules.md).
* ``imbalance_minus_vwap``: mean of (single imbalance price - slot VWAP) over slots with
  both; ``system_long_share``: share of settled slots whose system imbalance is > 0 (long).
* ``surplus_by_owner`` and ``surplus_by_agent``: mean surplus per day.

Cost: one pass over the trades and settlements (≈ 10 ms per simulated community day).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .kernel import Prio
from .market import Market

TTG_EDGES_H = (0.0, 1 / 6, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 5.5, 5.75)
"""Bins of the time to gate closure, hours (the default window is 5.75 h long)."""
SINCE_OPEN_EDGES_H = (0.0, 0.25, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 5.75)
"""Bins of the time since a slot opened, hours."""


def record_quotes(market: Market, every: int = 300) -> list[tuple[int, int, int, int]]:
    """Sample ``(time, slot, best bid, best ask)`` (ticks) of every open slot every ``every``
    seconds of the episode into the returned list (call after :meth:`Market.reset`)."""
    out: list[tuple[int, int, int, int]] = []
    view = market.view
    last = market.schedule.last_close

    def sample(t: int, _: object) -> None:
        for slot in view.open_slots():
            b, a = view.best_bid(slot), view.best_ask(slot)
            if b is not None and a is not None:
                out.append((t, int(slot), b, a))
        if t + every < last:
            market.kernel.schedule(t + every, Prio.INFO, sample, None)

    market.kernel.schedule(0, Prio.INFO, sample, None)
    return out


def _corr(x: np.ndarray, y: np.ndarray) -> float:
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3 or np.std(x[ok]) == 0 or np.std(y[ok]) == 0:
        return float("nan")
    return float(np.corrcoef(x[ok], y[ok])[0, 1])


def _bins(edges: Sequence[float]) -> list[str]:
    return [f"{a:g}-{b:g}h" for a, b in zip(edges[:-1], edges[1:], strict=True)]


def stylized_facts(markets: Sequence[Market],
                   quotes: Sequence[Sequence[tuple[int, int, int, int]]] | None = None,
                   step_s: int = 300) -> dict[str, Any]:
    """The stylized facts of finished episodes (see the module docstring).

    Args:
        markets: one finished episode per day (same scenario).
        quotes: per day, the samples of :func:`record_quotes` (spreads are left out without).
        step_s: the grid of the last-price path for realised volatility, seconds.

    Raises:
        ValueError: no markets.
    """
    if not markets:
        raise ValueError("stylized_facts needs at least one finished episode")
    sc = markets[0].scenario
    s = sc.schedule
    g = markets[0].grid
    tick, lot = float(g.tick_q), float(g.lot_q)
    slot_h = s.slot_len / 3600
    days = len(markets)
    edges = np.asarray(TTG_EDGES_H) * 3600
    n_bins = len(edges) - 1
    vol_kwh = np.zeros(n_bins)
    n_trades = np.zeros(n_bins)
    rv2 = np.zeros(n_bins)  # summed squared price changes
    rv_n = np.zeros(n_bins)  # slot-intervals contributing
    hours = np.zeros(24)
    hour_vwap = np.zeros(24)
    hour_curve = np.zeros(24)
    ranges: list[float] = []
    total_kwh = 0.0
    grid_kwh = 0.0
    by_price: dict[int, float] = {}
    neg_slots = 0
    imb_diff: list[float] = []
    long_slots = 0
    settled_slots = 0
    owner_surplus: dict[str, float] = {}
    agent_of = {p.owner: p.agent for p in sc.prosumers}
    for m in markets:
        curve = m.curve
        trades_by_slot: dict[int, list[tuple[int, int, int]]] = {}
        for t in m.trades:
            trades_by_slot.setdefault(t.slot, []).append((t.time, t.price, t.rate))
            kwh = t.rate * lot * slot_h
            total_kwh += kwh
            by_price[t.price] = by_price.get(t.price, 0.0) + kwh
            if t.price in (curve.bid_ticks(t.slot), curve.ask_ticks(t.slot)):
                grid_kwh += kwh
            left = s.close_time(t.slot) - t.time
            b = int(np.searchsorted(edges, left, side="right")) - 1
            if 0 <= b < n_bins:
                vol_kwh[b] += kwh
                n_trades[b] += 1
        vwaps = []
        for slot in s.slots:
            st = m.metrics.slot(slot)
            v = st.vwap
            hour = int(((slot - s.first_slot) * s.slot_len / 3600 + s.start_hour) % 24)
            hour_curve[hour] += curve.price(slot)
            hours[hour] += 1
            if math.isfinite(v):
                vwaps.append(v)
                hour_vwap[hour] += v
                neg_slots += v < 0
            else:
                hour_vwap[hour] += math.nan
            recs = m.settlements.get(slot)
            if recs:
                settled_slots += 1
                long_slots += sum(r.imbalance_kwh for r in recs.values()) > 0
                if math.isfinite(v):
                    ip = next(iter(recs.values())).imbalance_price
                    if ip is not None and math.isfinite(ip):
                        imb_diff.append(ip - v)
            # realised volatility: the last trade price on a step_s grid up to the gate
            tr = trades_by_slot.get(slot)
            if tr:
                close = s.close_time(slot)
                times = np.array([x[0] for x in tr])
                prices = np.array([x[1] for x in tr], dtype=float) * tick
                grid_t = np.arange(close - int(edges[-1]), close + 1, step_s)
                idx = np.searchsorted(times, grid_t, side="right") - 1
                path = np.where(idx >= 0, prices[np.maximum(idx, 0)], np.nan)
                d = np.diff(path)
                mid_left = close - (grid_t[1:] + grid_t[:-1]) / 2
                bins = np.searchsorted(edges, mid_left, side="right") - 1
                ok = np.isfinite(d) & (bins >= 0) & (bins < n_bins)
                np.add.at(rv2, bins[ok], d[ok] ** 2)
                np.add.at(rv_n, bins[ok], 1)
        if vwaps:
            ranges.append(max(vwaps) - min(vwaps))
        for owner, acct in m.accounts.items():
            owner_surplus[owner] = owner_surplus.get(owner, 0.0) + acct.surplus / days
    widths_h = np.diff(edges) / 3600
    per_hour_kwh = vol_kwh / widths_h / days
    # realised volatility per slot and hour: sqrt(sum of squared changes per slot-hour)
    slot_hours = rv_n * step_s / 3600
    rv = np.sqrt(np.divide(rv2, slot_hours, out=np.full(n_bins, np.nan), where=slot_hours > 0))

    def window(values: np.ndarray, lo_h: float, hi_h: float, weights: np.ndarray) -> float:
        sel = (np.asarray(TTG_EDGES_H[:-1]) >= lo_h - 1e-9) & \
            (np.asarray(TTG_EDGES_H[1:]) <= hi_h + 1e-9)
        w = weights[sel]
        return float(np.sum(values[sel] * w) / np.sum(w)) if np.sum(w) > 0 else float("nan")

    near_vol = window(per_hour_kwh, 1 / 6, 3.0, widths_h)
    far_vol = window(per_hour_kwh, 3.0, 5.5, widths_h)
    rv_last = float(np.sqrt(window(rv**2, 0.0, 1.0, slot_hours)))
    rv_far = float(np.sqrt(window(rv**2, 3.0, 5.75, slot_hours)))
    with np.errstate(invalid="ignore"):
        prof_v = hour_vwap / np.maximum(hours, 1)
        prof_c = hour_curve / np.maximum(hours, 1)
    spread: dict[str, float] = {}
    if quotes is not None:
        se = np.asarray(SINCE_OPEN_EDGES_H) * 3600
        sums = np.zeros(len(se) - 1)
        counts = np.zeros(len(se) - 1)
        for q in quotes:
            for when, slot, bid, ask in q:
                k = int(np.searchsorted(se, float(when - s.open_time(slot)), side="right")) - 1
                if 0 <= k < len(sums):
                    sums[k] += (ask - bid) * tick
                    counts[k] += 1
        spread = {name: (float(x / c) if c else float("nan"))
                  for name, x, c in zip(_bins(SINCE_OPEN_EDGES_H), sums, counts, strict=True)}
    agents: dict[str, list[float]] = {}
    for owner, v in owner_surplus.items():
        agents.setdefault(agent_of.get(owner, "?"), []).append(v)
    n_slots = days * s.n_slots
    return {
        "scenario": sc.name,
        "days": days,
        "daily_vwap_range": {"median": float(np.median(ranges)) if ranges else float("nan"),
                             "per_day": ranges},
        "hourly_profile": {"vwap": prof_v.tolist(), "curve": prof_c.tolist(),
                           "correlation": _corr(prof_v, prof_c)},
        "energy_at_grid_quotes": grid_kwh / total_kwh if total_kwh else float("nan"),
        "max_share_at_one_price": (max(by_price.values()) / total_kwh
                                   if total_kwh else float("nan")),
        "traded_kwh_per_day": total_kwh / days,
        "negative_vwap_slots": neg_slots,
        "negative_vwap_slots_per_20_days": 20.0 * neg_slots / days,
        "negative_curve_share": float(np.mean([np.mean(m.curve.prices < 0) for m in markets])),
        "by_time_to_gate": {
            "bins": _bins(TTG_EDGES_H),
            "kwh_per_hour_per_day": per_hour_kwh.tolist(),
            "trades_per_day": (n_trades / days).tolist(),
            "realised_volatility": rv.tolist(),
            "volume_ratio_10min_3h_vs_3_5.5h": near_vol / far_vol if far_vol else float("nan"),
            "volatility_ratio_last_hour_vs_3_6h": rv_last / rv_far if rv_far else float("nan"),
        },
        "spread_by_time_since_open": spread,
        "imbalance_minus_vwap": float(np.mean(imb_diff)) if imb_diff else float("nan"),
        "system_long_share": long_slots / settled_slots if settled_slots else float("nan"),
        "slots": n_slots,
        "surplus_by_owner": owner_surplus,
        "surplus_by_agent": {k: float(np.mean(v)) for k, v in sorted(agents.items())},
    }
