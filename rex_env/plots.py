"""Pictures of a simulated market (matplotlib, headless): where a person would rather look
than read. Each function writes one PNG and returns its path.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

if TYPE_CHECKING:
    from .sim.market import Market


class DayRecord(Protocol):
    """What a picture needs of a simulated day (``rex_env.simulate.DayRecord`` has it): the
    plots read a finished market and never import the runner that made it."""

    day: int
    market: Market
    snapshots: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]]


def depth_heatmap(rec: DayRecord, path: Path, price_bins: int = 80) -> Path:
    """LOB-3D depth (slot x price) at each recorded moment: bids blue, asks red."""
    snaps = rec.snapshots
    n = max(1, len(snaps))
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 4.2), squeeze=False)
    allp = np.concatenate([s[2][np.isfinite(s[2])] for s in snaps]) if snaps else np.array([])
    if allp.size:
        lo, hi = np.percentile(allp, [2, 98])
        pad = max(1.0, 0.05 * (hi - lo))
        edges = np.linspace(lo - pad, hi + pad, price_bins + 1)
    else:
        edges = np.linspace(0, 200, price_bins + 1)
    vmax = 1e-9
    grids = []
    for t, slots, prices, depth in snaps:
        grid = np.zeros((len(slots), price_bins))
        for i in range(len(slots)):
            ok = np.isfinite(prices[i])
            idx = np.clip(np.searchsorted(edges, prices[i][ok]) - 1, 0, price_bins - 1)
            np.add.at(grid[i], idx, depth[i][ok])
        grids.append((t, slots, grid))
        nz = np.abs(grid[grid != 0])
        if nz.size:  # the grid's deep tariff quotes would wash out everything else
            vmax = max(vmax, float(np.percentile(nz, 90)))
    # axes has one (empty) panel when there are no snapshots, hence strict=False
    for ax, (t, slots, grid) in zip(axes[0], grids, strict=False):
        extent = (edges[0], edges[-1], slots[-1] + 0.5 if len(slots) else 1,
                  slots[0] - 0.5 if len(slots) else 0)
        ax.imshow(grid, aspect="auto", cmap="coolwarm_r", vmin=-vmax, vmax=vmax, extent=extent,
                  interpolation="nearest")
        ax.set_title(f"t = {t / 3600:.1f} h ({len(slots)} open slots)")
        ax.set_xlabel("price (currency/MWh)")
    axes[0][0].set_ylabel("delivery slot (nearest at top)")
    fig.suptitle(f"LOB-3D depth — {rec.market.scenario.name}, day {rec.day} "
                 "(blue: bids, red: asks; kW)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def price_vs_gate(rec: DayRecord, path: Path, n_slots: int = 8) -> Path:
    """Trade prices of a few slots against the time left to their gate closure."""
    m = rec.market
    s = m.schedule
    g = m.grid
    slots = list(s.slots)
    pick = slots[:: max(1, len(slots) // n_slots)][:n_slots]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    cmap = plt.get_cmap("viridis")
    for j, k in enumerate(pick):
        tr = [t for t in m.trades if t.slot == k]
        if not tr:
            continue
        x = [(s.close_time(k) - t.time) / 3600 for t in tr]
        y = [g.price(t.price) for t in tr]
        ax.plot(x, y, ".-", ms=3, lw=0.8, color=cmap(j / max(1, len(pick) - 1)),
                label=f"slot {k}")
    ax.invert_xaxis()
    ax.set_xlabel("time to gate closure (h)")
    ax.set_ylabel("trade price (currency/MWh)")
    ax.set_title(f"Price trajectories toward gate closure — {m.scenario.name}, day {rec.day}")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def positions(rec: DayRecord, path: Path) -> Path:
    """Reserved (traded) versus actual net rate per slot, summed by agent kind."""
    m = rec.market
    kinds = sorted({p.agent for p in m.scenario.prosumers})
    slots = sorted(m.settlements)
    fig, axes = plt.subplots(len(kinds), 1, figsize=(9, 2.0 * len(kinds)), sharex=True,
                             squeeze=False)
    agent_of = {p.owner: p.agent for p in m.scenario.prosumers}
    for ax, kind in zip(axes[:, 0], kinds, strict=True):
        res = np.array([sum(r.reserved_kw for o, r in m.settlements[k].items()
                            if agent_of.get(o) == kind) for k in slots])
        act = np.array([sum(r.actual_kw for o, r in m.settlements[k].items()
                            if agent_of.get(o) == kind) for k in slots])
        ax.step(slots, res, where="mid", label="reserved", lw=1.2)
        ax.step(slots, act, where="mid", label="actual", lw=1.0)
        ax.axhline(0, color="k", lw=0.5)
        ax.set_ylabel(f"{kind}\nnet kW")
    axes[0, 0].legend(fontsize=8)
    axes[-1, 0].set_xlabel("delivery slot")
    fig.suptitle(f"Reserved vs actual net rate (production > 0) — {m.scenario.name}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def imbalance(records: Sequence[DayRecord], path: Path) -> Path:
    """System imbalance per slot (kWh) for each simulated day."""
    fig, ax = plt.subplots(figsize=(9, 3.5))
    for rec in records:
        m = rec.market
        slots = sorted(m.settlements)
        y = [sum(r.imbalance_kwh for r in m.settlements[k].values()) for k in slots]
        ax.plot(slots, y, lw=1, label=f"day {rec.day}")
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xlabel("delivery slot")
    ax.set_ylabel("system imbalance (kWh, long > 0)")
    ax.set_title("Imbalance settled per slot")
    if len(records) <= 8:
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def stylized_panel(facts: dict[str, Any], path: Path) -> Path:
    """The stylized facts of :func:`rex_env.sim.stylized.stylized_facts` on one page: daily
    VWAP range, hourly VWAP vs the wholesale curve, volume, trades and volatility by time to
    gate, spread by time since opening, and each agent kind's surplus."""
    fig, axes = plt.subplots(2, 3, figsize=(14, 7.5))
    ax = axes[0, 0]
    prof = facts["hourly_profile"]
    hours = np.arange(len(prof["vwap"]))
    ax.plot(hours, prof["curve"], "k--", lw=1.2, label="wholesale curve")
    ax.plot(hours, [np.nan if v is None else v for v in prof["vwap"]], "o-", ms=3,
            label="slot VWAP")
    ax.set_xlabel("hour of day")
    ax.set_ylabel("currency/MWh")
    ax.set_title(f"hourly profile (corr {prof['correlation']:.2f})")
    ax.legend(fontsize=8)
    ax = axes[0, 1]
    ranges = facts["daily_vwap_range"]["per_day"]
    ax.hist(ranges, bins=max(3, min(20, len(ranges))), color="tab:blue", alpha=0.8)
    ax.set_xlabel("daily range of slot VWAPs (currency/MWh)")
    ax.set_title(f"daily VWAP range (median {facts['daily_vwap_range']['median']:.0f})")
    bt = facts["by_time_to_gate"]
    labels = bt["bins"]
    x = np.arange(len(labels))
    ax = axes[0, 2]
    ax.bar(x, bt["kwh_per_hour_per_day"], color="tab:green", alpha=0.8, label="kWh per hour")
    ax2 = ax.twinx()
    ax2.plot(x, bt["trades_per_day"], "k.-", label="trades per day")
    ax.set_xticks(x, labels, rotation=60, fontsize=7)
    ax.set_xlabel("time to gate closure")
    ax.set_title("volume (bars) and trades (line) by time to gate")
    ax = axes[1, 0]
    ax.plot(x, [np.nan if v is None else v for v in bt["realised_volatility"]], "o-")
    ax.set_xticks(x, labels, rotation=60, fontsize=7)
    ax.set_ylabel("currency/MWh per sqrt(hour)")
    ax.set_title("realised volatility by time to gate")
    ax = axes[1, 1]
    sp = facts["spread_by_time_since_open"]
    if sp:
        ax.plot(np.arange(len(sp)), [np.nan if v is None else v for v in sp.values()], "o-")
        ax.set_xticks(np.arange(len(sp)), list(sp), rotation=60, fontsize=7)
    ax.set_title("mean quoted spread by time since opening")
    ax.set_ylabel("currency/MWh")
    ax = axes[1, 2]
    sa = facts["surplus_by_agent"]
    ax.bar(list(sa), list(sa.values()), color="tab:purple", alpha=0.8)
    ax.axhline(0, color="k", lw=0.5)
    ax.set_title("mean surplus per owner and day")
    ax.tick_params(axis="x", rotation=45)
    imb = facts["imbalance_minus_vwap"]
    fig.suptitle(
        f"Stylized facts — {facts['scenario']}, {facts['days']} day(s): "
        f"{100 * facts['energy_at_grid_quotes']:.0f} % of energy at the grid's quotes, "
        f"max {100 * facts['max_share_at_one_price']:.0f} % at one price, "
        f"{facts['negative_vwap_slots']} negative-VWAP slots, imbalance - VWAP "
        f"{'n/a' if imb is None else f'{imb:.1f}'}, system long in "
        f"{100 * (facts['system_long_share'] or 0):.0f} % of slots", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def zone_map(records: Sequence[DayRecord], path: Path) -> Path:
    """A map of the zones (README "Zones"): nodes coloured by mean price, arrows for the
    day's flows per path (width by energy, labelled MWh and congestion hours), and each
    zone's price per slot with the congested slots shaded."""
    from matplotlib import colors
    from matplotlib.patches import FancyArrowPatch

    from .sim.zonal import zonal_day

    days = [zonal_day(r.market) for r in records]
    d0 = days[0]
    zones = d0.zones
    mean_price = {z: float(np.nanmean([np.nan if x is None else x
                                       for d in days for x in d.price[z]] or [np.nan]))
                  for z in zones}
    flows = {p: float(np.mean([sum(d.flow_kw[p]) for d in days])) * 0.25 / 1000
             for p in d0.paths}
    cong = {p: float(np.mean([sum(d.congested[p]) for d in days])) * 0.25 for p in d0.paths}
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(14, 5.2),
                                  gridspec_kw={"width_ratios": [1.2, 1.6]})
    angle = np.linspace(0, 2 * np.pi, len(zones), endpoint=False) + np.pi
    pos = {z: (np.cos(a), np.sin(a) * 0.6) for z, a in zip(zones, angle, strict=True)}
    finite = [v for v in mean_price.values() if np.isfinite(v)]
    norm = colors.Normalize(min(finite, default=0.0), max(finite, default=1.0) + 1e-9)
    cmap = plt.get_cmap("coolwarm")
    width_scale = max(flows.values(), default=0.0) or 1.0
    for (a, b), mwh in flows.items():
        (x0, y0), (x1, y1) = pos[a], pos[b]
        off = 0.08 if a < b else -0.08  # the two directions side by side
        arrow = FancyArrowPatch((x0, y0 + off), (x1, y1 + off), arrowstyle="-|>",
                                mutation_scale=18, lw=1 + 6 * mwh / width_scale,
                                color="tab:red" if cong[(a, b)] > 0 else "tab:gray",
                                shrinkA=38, shrinkB=38)
        ax.add_patch(arrow)
        ax.text((x0 + x1) / 2, (y0 + y1) / 2 + 4.5 * off, f"{a}→{b}: {mwh:.3f} MWh/day\n"
                f"congested {cong[(a, b)]:.2f} h/day", ha="center", va="center", fontsize=8)
    for z, (x, y) in pos.items():
        v = mean_price[z]
        ax.scatter([x], [y], s=3800, color=cmap(norm(v)) if np.isfinite(v) else "lightgray",
                   edgecolor="black", zorder=3)
        ax.text(x, y, f"{z}\n{v:.1f} /MWh", ha="center", va="center", fontsize=8, zorder=4)
    ax.set_xlim(-1.6, 1.6)
    ax.set_ylim(-1.1, 1.1)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"{records[0].market.scenario.name}: zone prices and flows\n"
                 f"(mean of {len(days)} day(s))", fontsize=10)
    fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.7,
                 label="mean zone price (/MWh)")
    slots = np.asarray(d0.slots)
    hours = (slots - slots[0]) * records[0].market.schedule.slot_len / 3600
    for z in zones:
        ax2.plot(hours, [np.nan if x is None else x for x in d0.price[z]], label=z, lw=1.2)
    any_c = np.array([any(d0.congested[p][i] for p in d0.paths) for i in range(len(slots))])
    for h in hours[any_c]:
        ax2.axvspan(h, h + records[0].market.schedule.slot_len / 3600, color="tab:red",
                    alpha=0.12, lw=0)
    ax2.set_xlabel("hour of the delivery day")
    ax2.set_ylabel("zone VWAP (/MWh)")
    ax2.set_title("day 1: zone prices; red = a path congested")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
