"""Paired statistics of held-out evaluations (mean ± 95 % CI, normalised scores).

Scores come as a matrix ``runs x seeds``: one row per training seed (a separately trained
policy), one column per held-out market seed. Hand-coded controllers have one row. The CI of
:func:`two_way_ci` includes the training-seed variance; :func:`mean_ci` is the plain CI over
one row.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

EVAL_SEED_BASE = 1_000_000_000
"""Evaluation seeds start here; training seeds are below 10^9 (train.py enforces it)."""


def t_critical(df: float) -> float:
    """Two-sided 95 % Student-t quantile (Cornish-Fisher expansion; exact to ~1e-3)."""
    if not df > 0:
        return float("nan")
    z = 1.959963984540054
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4


def mean_ci(x: Sequence[float] | NDArray[np.float64]) -> tuple[float, float]:
    """Mean and half-width of its 95 % confidence interval (NaNs dropped; one value: no CI)."""
    a = np.asarray([v for v in np.asarray(x, dtype=float).ravel() if not math.isnan(v)])
    if a.size == 0:
        return float("nan"), float("nan")
    if a.size == 1:
        return float(a[0]), float("nan")
    return float(a.mean()), float(t_critical(a.size - 1) * a.std(ddof=1) / math.sqrt(a.size))


def _matrix(scores: ArrayLike) -> NDArray[np.float64]:
    m = np.asarray(scores, dtype=float)
    if m.ndim == 1:
        m = m[None, :]
    if m.ndim != 2 or m.size == 0:
        raise ValueError(f"scores must be a non-empty runs x seeds matrix, got shape {m.shape}")
    return m


def two_way_ci(scores: ArrayLike) -> tuple[float, float]:
    """Mean and 95 % CI half-width of a ``runs x seeds`` score matrix, training-seed variance
    included.

    The grand mean of ``y[r, s] = mu + a_r + b_s + e_rs`` (run effect ``a``, market-seed
    effect ``b``) has variance ``var_a/R + var_b/S + var_e/(RS)``; it is estimated by
    ``var(row means)/R + var(column means)/S`` (each term also holds ``var_e/(RS)``, so the
    estimate is slightly conservative), with Welch-Satterthwaite degrees of freedom. One run:
    the plain CI over seeds (:func:`mean_ci`); one seed: the CI over runs.
    """
    m = _matrix(scores)
    if np.isnan(m).any():
        m = m[:, ~np.isnan(m).any(axis=0)]  # keep the seeds every run has
        if m.size == 0:
            return float("nan"), float("nan")
    r, s = m.shape
    if r == 1:
        return mean_ci(m[0])
    if s == 1:
        return mean_ci(m[:, 0])
    va = m.mean(axis=1).var(ddof=1) / r
    vb = m.mean(axis=0).var(ddof=1) / s
    var = va + vb
    if var == 0:
        return float(m.mean()), 0.0
    df = var**2 / (va**2 / (r - 1) + vb**2 / (s - 1))
    return float(m.mean()), float(t_critical(df) * math.sqrt(var))


def paired_diff(a: ArrayLike, b: ArrayLike) -> tuple[float, float]:
    """Mean and 95 % CI of ``a - b`` paired by market seed: ``a`` is ``runs x seeds`` (or one
    row), ``b`` one row on the same seeds (a hand-coded controller) or the same shape."""
    ma, mb = _matrix(a), _matrix(b)
    if ma.shape[1] != mb.shape[1] or mb.shape[0] not in (1, ma.shape[0]):
        raise ValueError(f"paired scores need the same seeds: shapes {ma.shape} and {mb.shape}")
    return two_way_ci(ma - mb)


def normalised(policy: ArrayLike, low: ArrayLike, high: ArrayLike) -> NDArray[np.float64]:
    """Per-seed ``(policy - low) / (high - low)`` (NaN where ``high <= low``).

    ``low`` random and ``high`` the bound: the normalised score (0 random, 1 the bound);
    ``low`` the prototype: the share of the headroom captured.
    """
    p = _matrix(policy)
    lo, hi = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    span = hi - lo
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(span > 0, (p - lo) / span, np.nan)


def normalised_ci(policy: ArrayLike, low: ArrayLike, high: ArrayLike) -> tuple[float, float]:
    """Mean ± 95 % CI of :func:`normalised` over seeds (and runs)."""
    return two_way_ci(normalised(policy, low, high))
