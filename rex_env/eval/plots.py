"""Evaluation plots (PNG, matplotlib's Agg backend: no display needed)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def surplus_bars(summary: Mapping[str, tuple[float, float]], path: Path, title: str) -> None:
    """Mean surplus per controller with its 95 % CI."""
    plt = _plt()
    names = list(summary)
    m = [summary[c][0] for c in names]
    h = [0 if math.isnan(summary[c][1]) else summary[c][1] for c in names]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.bar(names, m, yerr=h, capsize=4,
           color=["C3" if c.startswith("ppo") else "C0" for c in names])
    ax.axhline(0, color="k", lw=0.5)
    ax.set_ylabel("surplus per learner per day")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def training_curve(curves: Mapping[str, Sequence[tuple[int, float]]], path: Path) -> None:
    """Mean training episode reward against agent-steps, one line per run."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for name, curve in curves.items():
        if curve:
            ax.plot(*zip(*curve, strict=True), label=name)
    if len(curves) > 1:
        ax.legend(fontsize=7)
    ax.set_xlabel("agent-steps")
    ax.set_ylabel("mean episode reward (training)")
    ax.set_title("Learning curve")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def price_trajectories(trades: Mapping[str, list[tuple[int, int, float]]], seed: int,
                       path: Path) -> None:
    """Trade prices over the day, one colour per controller (the same market seed)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 3.5))
    for c, tr in trades.items():
        if tr:
            t = np.array(tr)
            ax.plot(t[:, 0] / 3600, t[:, 2], ".", ms=1.5, label=c, alpha=0.6)
    ax.set_xlabel("time (h)")
    ax.set_ylabel("trade price (currency/MWh)")
    ax.set_title(f"Price trajectories, seed {seed}")
    ax.legend(markerscale=6, fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def budget_curve(rows: Sequence[Mapping[str, Any]], reference: str | None, path: Path,
                 title: str) -> None:
    """Held-out score by training budget: the paired gain over ``reference`` when given."""
    plt = _plt()
    x = [r["agent_steps"] for r in rows]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    if reference is not None:
        ax.errorbar(x, [r["diff"] for r in rows], yerr=[r["diff_ci"] for r in rows],
                    marker="o", capsize=3, color="C3")
        ax.axhline(0, color="k", lw=0.8)
        ax.set_ylabel(f"PPO - {reference}, paired\n(surplus per learner per day)")
    else:
        ax.errorbar(x, [r["surplus"] for r in rows], yerr=[r["ci"] for r in rows],
                    marker="o", capsize=3, color="C3")
        ax.set_ylabel("PPO surplus per learner per day")
    ax.set_xlabel("training budget (agent-steps)")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def learning_curve(run: Path) -> list[tuple[int, float]]:
    """(step, mean episode reward) pairs from a run's TensorBoard logs."""
    try:
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    except ImportError:  # pragma: no cover
        return []
    points: list[tuple[int, float]] = []
    for d in sorted((run / "tb").glob("*")):
        acc = EventAccumulator(str(d))
        acc.Reload()
        if "rollout/ep_rew_mean" in acc.Tags().get("scalars", []):
            points += [(e.step, e.value) for e in acc.Scalars("rollout/ep_rew_mean")]
    return sorted(points)


def role_curves(curves: Mapping[str, Mapping[str, Any]], path: Path, title: str) -> None:
    """Every role's held-out gain over its prototype by training budget in one figure, one
    panel per role.

    ``curves[role]``: ``rows`` (``evaluate.py --budget-curve``: ``agent_steps``, ``diff`` and
    ``diff_ci``, PPO − prototype paired by seed: far tighter than the surplus, whose CI holds
    the day-to-day swings every controller shares) and ``refs`` (means drawn as horizontal
    lines, also relative to the prototype: the strong baseline, the bound), so a reader sees
    how much of the headroom PPO takes and whether more budget would help.
    """
    plt = _plt()
    n = max(1, len(curves))
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    styles = {"baseline": ("C2", ":"), "bound": ("0.4", "-")}
    for ax, (role, c) in zip(axes.ravel(), curves.items(), strict=False):
        pts = [r for r in c.get("rows") or [] if "diff" in r]
        if pts:
            ax.errorbar([r["agent_steps"] for r in pts], [r["diff"] for r in pts],
                        yerr=[0 if math.isnan(r["diff_ci"]) else r["diff_ci"] for r in pts],
                        marker="o", capsize=3, color="C3", label="PPO")
        ax.axhline(0, color="C0", ls="--", lw=1, label="prototype")
        for name, value in (c.get("refs") or {}).items():
            if value is not None and not math.isnan(value):
                colour, ls = styles.get(name, ("k", "-."))
                ax.axhline(value, color=colour, ls=ls, lw=1, label=name)
        ax.set_title(role)
        ax.set_xlabel("agent-steps")
        ax.set_ylabel("surplus − prototype's\n(per learner-day, paired)")
        ax.legend(fontsize=7)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
