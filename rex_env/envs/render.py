"""Rendering of the Rex environment: a compact text view and a matplotlib picture.

Both take the market (and, for the text view, the learners' agent -> owner table), not the
env, and only read it: rendering never changes the simulation, and this module needs nothing
of the env.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from ..sim.market import Market

_FIG: Any = None


def ansi(m: Market, learners: Mapping[str, str], depth: int, max_slots: int = 8) -> str:
    """The book window (best quotes, ``depth`` levels, last price) and the positions of each
    learner (``learners``: agent id -> owner id)."""
    g = m.grid
    slots = list(m.view.open_slots())[:max_slots]
    lines = [f"t={m.now}s ({m.now / 3600:.2f} h)  open slots: {len(m.view.open_slots())}"]
    lines.append(f"{'slot':>5} {'phase':>10} {'bid':>8} {'ask':>8} {'bid kW':>8} {'ask kW':>8} "
                 f"{'last':>8} {'gate in':>8}")
    lob = m.exchange.lob3d(slots, depth)
    for i, k in enumerate(slots):
        def p(x: float) -> str:
            return "-" if np.isnan(x) else f"{g.price(x):.1f}"
        gate = (m.schedule.close_time(k) - m.now) / 60
        phase = m.exchange.phase(k)
        lines.append(f"{k:>5} {str(phase):>10} {p(lob.best_bid[i]):>8} {p(lob.best_ask[i]):>8} "
                     f"{g.rate(lob.bid_depth[i].sum()):>8.1f} "
                     f"{g.rate(lob.ask_depth[i].sum()):>8.1f}"
                     f" {p(lob.last_price[i]):>8} {gate:>7.0f}m")
    for a, owner in learners.items():
        pos = " ".join(f"{g.rate(m.exchange.position(owner, k)):+.1f}" for k in slots)
        acct = m.accounts[owner]
        lines.append(f"{a} ({owner}): positions kW [{pos}]  surplus {acct.surplus:.3f}")
    return "\n".join(lines)


def rgb(m: Market) -> NDArray[np.uint8]:
    """LOB-3D depth heatmap (slot x price) and recent trade prices, as an RGB array.

    Draws on a private figure and canvas: the process's matplotlib backend is left alone.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    g = m.grid
    slots = list(m.view.open_slots())
    fig = Figure(figsize=(8, 3.2), dpi=80)
    canvas = FigureCanvasAgg(fig)
    ax1, ax2 = fig.subplots(1, 2)
    if slots:
        lob = m.exchange.lob3d(slots, 10)
        prices = np.concatenate([lob.bid_price, lob.ask_price], 1) * float(g.tick_q)
        depth = np.concatenate([lob.bid_depth, -lob.ask_depth], 1) * float(g.lot_q)
        ok = np.isfinite(prices)
        if ok.any():
            ys = np.repeat(np.array(slots)[:, None], prices.shape[1], 1)
            vmax = max(1e-9, float(np.percentile(np.abs(depth[ok]), 90)))
            ax1.scatter(prices[ok], ys[ok], c=depth[ok], cmap="coolwarm_r", vmin=-vmax,
                        vmax=vmax, s=12, marker="s")
    ax1.set_xlabel("price")
    ax1.set_ylabel("slot")
    ax1.set_title("LOB-3D depth")
    recent = m.trades[-300:]
    if recent:
        ax2.plot([t.time / 3600 for t in recent], [g.price(t.price) for t in recent], ".", ms=2)
    ax2.set_xlabel("time (h)")
    ax2.set_title("trade prices")
    fig.tight_layout()
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def show(img: NDArray[np.uint8]) -> None:
    """``human`` mode: show the picture in a window where a GUI backend exists."""
    global _FIG
    import matplotlib.pyplot as plt

    if plt.get_backend().lower() == "agg":
        return  # headless: nothing to show
    if _FIG is None:
        _FIG = plt.figure()
    plt.figure(_FIG.number)
    plt.clf()
    plt.imshow(img)
    plt.axis("off")
    plt.pause(0.001)


def close() -> None:
    global _FIG
    if _FIG is not None:
        import matplotlib.pyplot as plt

        plt.close(_FIG)
        _FIG = None
