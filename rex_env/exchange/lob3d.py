"""The LOB-3D view: numpy arrays over a window of delivery slots (SPEC §2).

Reads only the top ``k`` levels of each book (never copies a whole book) and can fill a
preallocated :class:`LOB3D` in place, which is what observations and plots use every step.
Prices are in ticks and rates in lots (float arrays, ``nan`` where there is no quote or trade);
convert with :class:`~.grid.Grid` at the edge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .book import Book
from .orders import Phase

MAX_LOB3D_LEVELS = 1024
"""Most depth levels ``k`` per side a snapshot may ask for."""
MAX_LOB3D_CELLS = 2**20
"""Most ``slots * k`` cells of one snapshot (8 MB per depth array): a view never allocates more."""

PHASE_CODE = {Phase.PENDING: 0, Phase.CALL: 1, Phase.CONTINUOUS: 2, Phase.CLOSED: 3}


@dataclass
class LOB3D:
    """Public state of ``n`` slots; the depth arrays are ``(n, k)``, best level first."""

    slots: NDArray[np.int64]
    phase: NDArray[np.int8]  # PHASE_CODE; 0 also for slots that have no book yet
    best_bid: NDArray[np.float64]
    best_ask: NDArray[np.float64]
    bid_price: NDArray[np.float64]
    bid_depth: NDArray[np.float64]
    ask_price: NDArray[np.float64]
    ask_depth: NDArray[np.float64]
    last_price: NDArray[np.float64]
    vwap: NDArray[np.float64]
    volume: NDArray[np.float64]
    n_trades: NDArray[np.int64]

    @classmethod
    def empty(cls, n: int, k: int) -> LOB3D:
        nan = np.nan
        return cls(
            slots=np.zeros(n, np.int64),
            phase=np.zeros(n, np.int8),
            best_bid=np.full(n, nan),
            best_ask=np.full(n, nan),
            bid_price=np.full((n, k), nan),
            bid_depth=np.zeros((n, k)),
            ask_price=np.full((n, k), nan),
            ask_depth=np.zeros((n, k)),
            last_price=np.full(n, nan),
            vwap=np.full(n, nan),
            volume=np.zeros(n),
            n_trades=np.zeros(n, np.int64),
        )

    @property
    def k(self) -> int:
        return int(self.bid_price.shape[1])

    @property
    def spread(self) -> NDArray[np.float64]:
        return self.best_ask - self.best_bid

    @property
    def mid(self) -> NDArray[np.float64]:
        return (self.best_ask + self.best_bid) / 2


def prepare(slots: list[int], k: int, out: LOB3D | None = None) -> LOB3D:
    """Check the size of a snapshot and return ``out`` cleared (or a new :class:`LOB3D`) with
    its ``slots`` set: the part both engines share, before each fills in its books.

    Raises:
        ValueError: ``k`` is not in 1..:data:`MAX_LOB3D_LEVELS`, or the snapshot would hold
            more than :data:`MAX_LOB3D_CELLS` cells.
    """
    n = len(slots)
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_LOB3D_LEVELS:
        raise ValueError(f"k must be a positive number of levels in 1..{MAX_LOB3D_LEVELS}, "
                         f"got {k!r}")
    if n * k > MAX_LOB3D_CELLS:
        raise ValueError(f"a LOB-3D snapshot holds at most {MAX_LOB3D_CELLS} slots * k cells, "
                         f"got {n} slots * k={k}")
    if out is None or out.slots.shape[0] != n or out.k != k:
        out = LOB3D.empty(n, k)
    else:
        nan = np.nan
        out.phase[:] = 0
        out.best_bid[:] = nan
        out.best_ask[:] = nan
        out.bid_price[:] = nan
        out.bid_depth[:] = 0
        out.ask_price[:] = nan
        out.ask_depth[:] = 0
        out.last_price[:] = nan
        out.vwap[:] = nan
        out.volume[:] = 0
        out.n_trades[:] = 0
    out.slots[:] = slots
    return out


def snapshot(books: dict[int, Book], slots: list[int], k: int, out: LOB3D | None = None,
             default_phase: Phase = Phase.PENDING) -> LOB3D:
    """Fill (or create) a :class:`LOB3D` for ``slots`` from the live books.

    ``default_phase`` is the phase of a slot that has no book yet.
    """
    out = prepare(slots, k, out)
    untouched = PHASE_CODE[default_phase]
    for i, s in enumerate(slots):
        book = books.get(s)
        if book is None:
            out.phase[i] = untouched
            continue
        out.phase[i] = PHASE_CODE[book.phase]
        if book.bid_keys:
            keys = book.bid_keys[-k:]
            keys.reverse()
            out.best_bid[i] = keys[0]
            m = len(keys)
            out.bid_price[i, :m] = keys
            levels = book.bids
            out.bid_depth[i, :m] = [levels[p].volume for p in keys]
        if book.ask_keys:
            keys = book.ask_keys[-k:]
            keys.reverse()
            prices = [-x for x in keys]
            out.best_ask[i] = prices[0]
            m = len(prices)
            out.ask_price[i, :m] = prices
            levels = book.asks
            out.ask_depth[i, :m] = [levels[p].volume for p in prices]
        if book.n_trades:
            out.last_price[i] = book.last_price
            out.vwap[i] = book.turnover / book.volume
            out.volume[i] = book.volume
            out.n_trades[i] = book.n_trades
    return out
