"""What several zones did in one episode (issue 17; README "Zones"): prices per zone, the
spread between them, congestion, congestion rent and flows per path.

Definitions (one day of a :class:`~rex_env.sim.market.Market` with zones):

* **zone price** of a slot: the VWAP of the trades executed in the zone's book (a cross-zonal
  trade executes in the book of the resting order, at its price);
* **spread** of a slot between two linked zones: the importing-side price minus the other,
  reported as ``|price(b) - price(a)|`` where both traded;
* a path ``a -> b`` is **congested** in a slot when its capacity is positive and no more than
  :data:`CONGESTED_SHARE` of it is left at gate closure; **congestion hours** count the
  slots in which any path is congested (slot length in hours each);
* **congested price gap**: over the slots and paths ``a -> b`` that are congested, the mean of
  ``price(b) - price(a)`` (positive: the line is full and the importing zone is dearer);
* **congestion rent** of a slot and linked pair: the net flow ``a -> b`` (MWh) times
  ``price(b) - price(a)`` — what a transmission owner would collect if the flow were bought
  at the exporting zone's price and sold at the importing zone's (positive when energy flows
  to the dearer zone); summed over slots and pairs where both zones traded;
* **flows** per path: gross MWh traded across it over the day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..exchange.zones import ZoneTrade

if TYPE_CHECKING:
    from .market import Market

CONGESTED_SHARE = 0.01
"""A path whose capacity left at gate closure is at most this share of its capacity is
congested in that slot."""


@dataclass
class ZonalDay:
    """Per-slot zone prices and path flows of one day, and the day's totals."""

    zones: list[str]
    paths: list[tuple[str, str]]
    slots: list[int]
    price: dict[str, list[float | None]]
    """zone -> VWAP per slot (``None``: no trade in that zone's book)."""
    flow_kw: dict[tuple[str, str], list[float]]
    """path -> gross kW traded across it per slot."""
    capacity_kw: dict[tuple[str, str], list[float]]
    congested: dict[tuple[str, str], list[bool]]
    totals: dict[str, Any] = field(default_factory=dict)


def zonal_day(m: Market) -> ZonalDay:
    """The zonal statistics of a finished market day (its exchange must be zonal)."""
    zx = m.zonal
    if zx is None:
        raise ValueError("zonal_day needs a market with zones (scenario.zones)")
    g, s = m.grid, m.schedule
    slots = list(s.slots)
    hours = s.slot_len / 3600
    lot_kw = float(g.lot_q)
    tick = float(g.tick_q)
    sums: dict[tuple[str, int], list[float]] = {}
    for t in m.trades:
        assert isinstance(t, ZoneTrade), "a zonal market's trades carry their zones"
        acc = sums.setdefault((t.zone, t.slot), [0.0, 0.0])
        acc[0] += t.price * t.rate
        acc[1] += t.rate
    price = {z: [(sums[(z, k)][0] / sums[(z, k)][1] * tick) if (z, k) in sums else None
                 for k in slots] for z in zx.zones}
    paths = zx.paths
    flow = {p: [zx.flow(p[0], p[1], k) * lot_kw for k in slots] for p in paths}
    cap = {p: [zx.capacity(p[0], p[1], k) * lot_kw for k in slots] for p in paths}
    congested = {p: [c > 0 and zx.capacity_left(p[0], p[1], k) * lot_kw <= CONGESTED_SHARE * c
                     for k, c in zip(slots, cap[p], strict=True)] for p in paths}
    day = ZonalDay(list(zx.zones), paths, slots, price, flow, cap, congested)
    any_congested = [any(congested[p][i] for p in paths) for i in range(len(slots))]
    pairs = sorted({tuple(sorted(p)) for p in paths})
    spreads: list[float] = []
    spread_congested: list[float] = []
    spread_free: list[float] = []
    rent = 0.0
    gaps: list[float] = []  # across congested paths, in path order then slot order
    for a, b in paths:
        for i in range(len(slots)):
            pa, pb = price[a][i], price[b][i]
            if congested[(a, b)][i] and pa is not None and pb is not None:
                gaps.append(pb - pa)
    for a, b in pairs:
        for i, k in enumerate(slots):
            pa, pb = price[a][i], price[b][i]
            if pa is None or pb is None:
                continue
            spreads.append(abs(pb - pa))
            (spread_congested if any_congested[i] else spread_free).append(abs(pb - pa))
            net_mwh = zx.net_flow(a, b, k) * lot_kw * hours / 1000
            rent += net_mwh * (pb - pa)
    day.totals = {
        "mean_spread": _mean(spreads),
        "mean_spread_congested": _mean(spread_congested),
        "mean_spread_uncongested": _mean(spread_free),
        "congested_price_gap": _mean(gaps),
        "slots_with_both_prices": len(spreads),
        "congestion_hours": sum(any_congested) * hours,
        "congestion_hours_by_path": {f"{a}->{b}": sum(congested[(a, b)]) * hours
                                     for a, b in paths},
        "congestion_rent": rent,
        "flow_mwh_by_path": {f"{a}->{b}": sum(flow[(a, b)]) * hours / 1000 for a, b in paths},
        "mean_price_by_zone": {z: _mean([x for x in price[z] if x is not None])
                               for z in zx.zones},
    }
    return day


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else float("nan")
