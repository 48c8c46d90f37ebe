"""Small vectorised numerical helpers shared by the physics models (numpy only, no scipy).

Why here: the models need the normal distribution's tail, an AR(1) filter and Markov regime
paths over a whole episode at once, and numpy has none of them built in.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

# Numerical Recipes (Press et al., 2nd ed., 1992, §6.2, routine ``erfcc``): a Chebyshev fit
# erfc(x) = t * exp(-x^2 + P(t)), t = 1 / (1 + x/2), x >= 0, with *fractional* error
# < 1.2e-7 everywhere. Chosen over Abramowitz-Stegun 7.1.26 (absolute error 1.5e-7) because the
# Weibull mapping needs ln(1 - Phi(z)) accurately in the upper tail, where A-S 7.1.26 has a
# large relative error.
_ERFC_COEFFS = (
    -1.26551223,
    1.00002368,
    0.37409196,
    0.09678418,
    -0.18628806,
    0.27886807,
    -1.13520398,
    1.48851587,
    -0.82215223,
    0.17087277,
)
_SQRT_HALF = math.sqrt(0.5)


def log_erfc_nonneg(x: FloatArray) -> FloatArray:
    """Return ln erfc(x) for x >= 0 (Numerical Recipes ``erfcc``, relative error < 1.2e-7).

    Working in logs keeps the far tail finite: erfc(30) underflows, its logarithm does not.
    """
    t = 1.0 / (1.0 + 0.5 * x)
    poly = np.full_like(t, _ERFC_COEFFS[-1])
    for c in _ERFC_COEFFS[-2::-1]:
        poly = poly * t + c
    out: FloatArray = np.log(t) - x * x + poly
    return out


def norm_cdf(z: ArrayLike) -> FloatArray:
    """Standard normal CDF Phi(z), vectorised (relative error < 1.2e-7 in both tails)."""
    zz = np.asarray(z, dtype=np.float64)
    half_tail = 0.5 * np.exp(log_erfc_nonneg(np.abs(zz) * _SQRT_HALF))
    out: FloatArray = np.where(zz < 0.0, half_tail, 1.0 - half_tail)
    return out


def norm_log_sf(z: ArrayLike) -> FloatArray:
    """Return ln(1 - Phi(z)), accurate in the upper tail (no cancellation, no underflow)."""
    zz = np.asarray(z, dtype=np.float64)
    log_half_tail = math.log(0.5) + log_erfc_nonneg(np.abs(zz) * _SQRT_HALF)
    # z >= 0: 1 - Phi(z) is the half tail itself; z < 0: it is 1 - (half tail of |z|).
    out: FloatArray = np.where(zz >= 0.0, log_half_tail, np.log1p(-np.exp(log_half_tail)))
    return out


def ar1_scan(b: FloatArray, phi: float) -> FloatArray:
    """Solve x[0] = b[0], x[i] = phi * x[i-1] + b[i] along axis 0, without a Python loop per step.

    Why: the recursion is sequential but linear, so it has two loop-free forms, both checked
    against the plain loop in the tests:

    * fast path, x[i] = phi^i * cumsum(b[j] / phi^j), used while phi^-(n-1) <= 1e100 (any
      episode of a few days). Rounding stays at about eps / (1 - phi) because each partial sum
      is dominated by its latest terms;
    * otherwise a Hillis-Steele doubling scan, ceil(log2 n) numpy passes that only ever
      multiply by powers phi^s <= 1.
    """
    x = np.array(b, dtype=np.float64, copy=True)
    n = x.shape[0]
    if n <= 1 or phi == 0.0:
        return x
    if 0.0 < phi and (n - 1) * -math.log(phi) <= _MAX_LOG_GROWTH:
        pw = _powers(float(phi), n).reshape((n,) + (1,) * (x.ndim - 1))
        out: FloatArray = np.cumsum(x / pw, axis=0) * pw
        return out
    shift = 1
    p = float(phi)
    while shift < n and p != 0.0:
        x[shift:] = x[shift:] + p * x[:-shift]
        p *= p
        shift *= 2
    return x


_MAX_LOG_GROWTH = 100.0 * math.log(10.0)


@lru_cache(maxsize=64)
def _powers(phi: float, n: int) -> FloatArray:
    """phi ** arange(n), memoised (read-only): the same grid recurs at every reset."""
    out: FloatArray = phi ** np.arange(n, dtype=np.float64)
    out.setflags(write=False)
    return out


def ar1_standard_normal(
    rng: np.random.Generator, shape: int | tuple[int, ...], phi: float
) -> FloatArray:
    """Stationary Gaussian AR(1) paths with unit variance along axis 0.

    z[0] ~ N(0, 1) and z[i] = phi * z[i-1] + sqrt(1 - phi^2) * e[i], so every z[i] ~ N(0, 1)
    and corr(z[i], z[i+j]) = phi^j: the exact discretisation of an Ornstein-Uhlenbeck process
    started in its stationary law.
    """
    e = rng.standard_normal(shape)
    if e.shape[0] == 0 or phi == 0.0:
        return e  # independent draws: the filter below would multiply by 1.0 and copy twice
    b = e * math.sqrt(max(0.0, 1.0 - phi * phi))
    b[0] = e[0]
    return ar1_scan(b, phi)


def segments_to_slots(states: IntArray, durations: IntArray, n_slots: int) -> IntArray:
    """Expand consecutive segments (state, duration in slots >= 1) into a per-slot state path.

    There must be enough segments to cover ``n_slots`` (n_slots segments always suffice).
    """
    ends = np.cumsum(durations)
    idx = np.searchsorted(ends, np.arange(n_slots), side="right")
    out: IntArray = states[idx]
    return out


def geometric_durations(
    rng: np.random.Generator, states: IntArray, mean_slots: FloatArray
) -> IntArray:
    """Geometric segment lengths (>= 1 slot) with mean ``mean_slots[state]`` (floored at 1).

    Why geometric: it is the only memoryless law on 1, 2, ..., so the regime path is a Markov
    chain and a first segment drawn the same way is already stationary. Drawn by inversion,
    1 + floor(ln U / ln q) with q = 1 - 1/mean, U uniform on (0, 1]: one uniform per segment,
    and several times faster than ``Generator.geometric`` with an array of probabilities.
    """
    q = 1.0 - 1.0 / np.maximum(mean_slots[states], 1.0)
    u = 1.0 - rng.random(states.shape[0])  # (0, 1]
    with np.errstate(divide="ignore"):
        log_q = np.log(q)  # -inf when q == 0 (mean 1 slot): every segment lasts one slot
    out: IntArray = (1.0 + np.floor(np.log(u) / log_q)).astype(np.intp)
    return out


def categorical(rng: np.random.Generator, probs: FloatArray, size: int) -> IntArray:
    """Draw ``size`` indices with probabilities ``probs`` (summing to 1) by inversion.

    Why not ``Generator.choice``: with ``p=`` it costs about 60 us for 96 draws.
    """
    cdf = np.cumsum(probs)
    idx = np.searchsorted(cdf, rng.random(size) * cdf[-1], side="right")
    out: IntArray = np.minimum(idx, probs.shape[0] - 1).astype(np.intp)
    return out
