"""The episode's public price curve and the grid's quotes around it (SPEC §10, §11).

:class:`PublicCurve` is what every participant may read about the wider market: per delivery
slot, the wholesale price (currency/MWh) and the grid's feed-in bid and retail ask. The market
builds one per episode (:meth:`rex_env.sim.market.Market.reset`) and puts it on the public
:class:`~rex_env.sim.agent_api.MarketView` as ``view.curve``; the RL observation shows it as
the ``wholesale`` feature of each window slot.

Without a wholesale model (the flat-tariff presets, e.g. ``community_flat``) the curve is flat:
the wholesale price is the scenario's reference price, the bid the feed-in tariff and the ask
the retail tariff, which reproduces the first version's market exactly.

Reading it (ticks for orders, currency for accounts):

* ``curve.price(slot)`` currency/MWh, ``curve.price_ticks(slot)`` float ticks;
* ``curve.bid_ticks(slot)``, ``curve.ask_ticks(slot)`` int ticks (on the exchange's grid);
* ``curve.prices``, ``curve.bids``, ``curve.asks``: numpy arrays over the episode's slots
  (index ``slot - curve.first_slot``), currency/MWh, for baselines and bounds.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from ..exchange import Grid


class PublicCurve:
    """Per-slot wholesale price and the grid's quotes of one episode (read-only arrays)."""

    __slots__ = ("first_slot", "prices", "bids", "asks", "_price_ticks", "_bid", "_ask",
                 "_tick", "flat")

    def __init__(self, first_slot: int, prices: NDArray[np.float64], bids: NDArray[np.float64],
                 asks: NDArray[np.float64], grid: Grid, flat: bool = False) -> None:
        n = len(prices)
        if not (len(bids) == len(asks) == n):
            raise ValueError(f"prices, bids and asks must have one value per slot, got "
                             f"{n}, {len(bids)}, {len(asks)}")
        tick = float(grid.tick_q)
        self.first_slot = int(first_slot)
        self.flat = flat
        self.prices = np.array(prices, dtype=np.float64)
        self.bids = np.array(bids, dtype=np.float64)
        self.asks = np.array(asks, dtype=np.float64)
        for a in (self.prices, self.bids, self.asks):
            a.setflags(write=False)
        lo, hi = math.ceil(grid.min_ticks), math.floor(grid.max_ticks)
        # the bid rounds down and the ask up: the grid never quotes better than its tariff
        self._bid = [min(max(math.floor(b / tick + 1e-9), lo), hi) for b in self.bids]
        self._ask = [min(max(math.ceil(a / tick - 1e-9), lo), hi) for a in self.asks]
        self._price_ticks = (self.prices / tick).tolist()
        self._tick = tick

    @classmethod
    def constant(cls, first_slot: int, n_slots: int, price: float, bid: float, ask: float,
                 grid: Grid) -> PublicCurve:
        """A flat curve (the flat-tariff market)."""
        return cls(first_slot, np.full(n_slots, float(price)), np.full(n_slots, float(bid)),
                   np.full(n_slots, float(ask)), grid, flat=True)

    def _i(self, slot: int) -> int:
        i = slot - self.first_slot
        if not 0 <= i < len(self._bid):
            raise IndexError(f"slot {slot} is outside the episode's slots "
                             f"{self.first_slot}..{self.first_slot + len(self._bid) - 1}")
        return i

    def price(self, slot: int) -> float:
        """The wholesale price of ``slot``, currency/MWh."""
        return float(self.prices[self._i(slot)])

    def price_ticks(self, slot: int) -> float:
        """The wholesale price of ``slot`` in (fractional) ticks."""
        return self._price_ticks[self._i(slot)]

    def bid_ticks(self, slot: int) -> int:
        """The grid's feed-in bid in ``slot``, ticks (rounded down onto the tick grid)."""
        return self._bid[self._i(slot)]

    def ask_ticks(self, slot: int) -> int:
        """The grid's retail ask in ``slot``, ticks (rounded up onto the tick grid)."""
        return self._ask[self._i(slot)]

    def quotes_ticks(self, slot: int) -> tuple[int, int]:
        """``(bid_ticks, ask_ticks)`` of ``slot`` in one lookup (agents read both per order)."""
        i = self._i(slot)
        return self._bid[i], self._ask[i]

    def tick_tables(self) -> tuple[int, list[int], list[int], list[float]]:
        """``(first_slot, bid ticks, ask ticks, price ticks)`` per slot, the lists the
        quote accessors read (copies): what a compiled agent reads instead of one call per
        slot (:class:`rex_env._core.IntermittentCore`)."""
        return self.first_slot, list(self._bid), list(self._ask), list(self._price_ticks)

    def window(self, slots: range | NDArray[np.int64]) -> NDArray[np.float64]:
        """Wholesale prices (currency/MWh) of many slots (fresh array)."""
        k = np.asarray(slots, dtype=np.intp) - self.first_slot
        return self.prices[k]
