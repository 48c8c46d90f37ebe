"""Market metrics, computed incrementally (notes ``market_rules.md`` §4).

Every ``on_*`` update costs O(1): running sums and Welford accumulators, never a pass over the
history, so metrics can run inside every environment step. Queries (``welfare``, ``hhi``,
``summary``) cost O(owners + slots).

Units: prices in currency/MWh, rates in kW, volume in kW·slot (a rate held over one slot; times
``slot_len / 3600`` gives kWh), energy in kWh, cash in currency. Undefined statistics (a VWAP
without trades, a spread without quotes) are ``nan``; :meth:`MarketMetrics.summary` turns them
into ``None`` so it stays strict JSON.

Definitions and their sources (notes §4):

* VWAP ``Σ p q / Σ q``; volatility = sample std (ddof=1) of successive trade-price changes.
* Spread = best ask - best bid when both sides quote; depth = kW at the best price per side
  ([S64]). Both as the mean over quote samples and weighted by the time each quote held.
* HHI = ``Σ (100 s_i)^2`` over shares of traded volume, 0..10000 ([S69]).
* Smith's alpha = ``100 sqrt(mean (p_i - p*)^2) / p*`` ([S74]).
* Allocative efficiency = realised surplus / competitive-equilibrium surplus ([S73][S77]).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from ..spec.scenario import Tariff
from .settlement import OwnerAccount, TariffLike

NAN = float("nan")


def _json(x: float) -> float | None:
    """A float for JSON: nan/inf become None."""
    return float(x) if math.isfinite(x) else None


class Welford:
    """Running mean and variance in O(1) per sample (Welford 1962), numerically stable."""

    __slots__ = ("n", "mean", "m2")

    def __init__(self) -> None:
        self.n = 0
        self.mean = 0.0
        self.m2 = 0.0

    def add(self, x: float) -> None:
        """Add one sample."""
        self.n += 1
        d = x - self.mean
        self.mean += d / self.n
        self.m2 += d * (x - self.mean)

    def var(self, ddof: int = 1) -> float:
        """Variance with ``ddof`` (nan with too few samples)."""
        return self.m2 / (self.n - ddof) if self.n > ddof else NAN

    def std(self, ddof: int = 1) -> float:
        """Standard deviation with ``ddof``."""
        return math.sqrt(self.var(ddof))

    def rms_from(self, ref: float) -> float:
        """``sqrt(mean((x - ref)^2))`` from the running moments (nan without samples)."""
        if self.n == 0:
            return NAN
        return math.sqrt(max(self.m2 / self.n + (self.mean - ref) ** 2, 0.0))


# -- free functions ------------------------------------------------------------------------


def herfindahl(volumes: Iterable[float]) -> float:
    """Herfindahl–Hirschman index of shares in percent: 10000 = monopoly, 10000/n = n equal.

    Returns nan when the total is zero (nobody traded: concentration is undefined).

    Raises:
        ValueError: a negative or non-finite volume.
    """
    v = np.asarray(list(volumes), dtype=float)
    if v.size and (not np.all(np.isfinite(v)) or np.any(v < 0)):
        raise ValueError(f"volumes must be finite and >= 0, got {v.tolist()}")
    total = float(v.sum())
    if total <= 0:
        return NAN
    shares = 100.0 * v / total
    return float(np.sum(shares * shares))


def smith_alpha(prices: npt.ArrayLike, p_star: float) -> float:
    """Smith's alpha (percent) of trade prices around the equilibrium price ``p_star``.

    Batch version of :meth:`SlotStats.smith_alpha`; nan without trades.

    Raises:
        ValueError: ``p_star`` is zero or not finite (alpha is relative to it).
    """
    _check_p_star(p_star)
    p = np.asarray(prices, dtype=float)
    if p.size == 0:
        return NAN
    return float(100.0 * np.sqrt(np.mean((p - p_star) ** 2)) / abs(p_star))


def _check_p_star(p_star: float) -> None:
    if not math.isfinite(p_star) or p_star == 0:
        raise ValueError(f"p_star must be finite and non-zero, got {p_star}")


class Equilibrium(NamedTuple):
    """Competitive equilibrium of a unit-demand / unit-supply market."""

    price_lo: float
    """Lowest market-clearing price (``-inf`` if unbounded)."""
    price_hi: float
    """Highest market-clearing price (``inf`` if unbounded)."""
    quantity: int
    """Units traded in equilibrium."""
    max_surplus: float
    """Sum of value - cost over the traded units: the maximum total surplus."""

    @property
    def price(self) -> float:
        """Midpoint of the price interval (the usual ``P0`` when it is a range)."""
        return 0.5 * (self.price_lo + self.price_hi)


def competitive_equilibrium(values: Sequence[float], costs: Sequence[float]) -> Equilibrium:
    """Equilibrium quantity, price interval and maximum surplus for unit traders.

    Each buyer wants one unit worth ``values[i]``, each seller sells one unit costing
    ``costs[j]`` (Gode–Sunder classroom markets, notes §5.1). Sorting values down and costs up,
    the ``q`` first pairs with value >= cost trade (a zero-surplus marginal pair counts). Any
    price in ``[max(c_q, v_{q+1}), min(v_q, c_{q+1})]`` clears the market: the q-th buyer and
    seller are willing, the (q+1)-th are not.

    Raises:
        ValueError: a non-finite value or cost.
    """
    v = sorted((float(x) for x in values), reverse=True)
    c = sorted(float(x) for x in costs)
    if not all(math.isfinite(x) for x in (*v, *c)):
        raise ValueError("values and costs must be finite")
    q = 0
    while q < min(len(v), len(c)) and v[q] >= c[q]:
        q += 1
    lo_terms = [c[q - 1]] if q > 0 else []
    hi_terms = [v[q - 1]] if q > 0 else []
    if q < len(v):
        lo_terms.append(v[q])
    if q < len(c):
        hi_terms.append(c[q])
    lo = max(lo_terms) if lo_terms else -math.inf
    hi = min(hi_terms) if hi_terms else math.inf
    surplus = math.fsum(v[k] - c[k] for k in range(q))
    return Equilibrium(lo, hi, q, surplus)


def allocative_efficiency(realised_surplus: float, max_surplus: float) -> float:
    """Realised / maximum surplus (1.0 = every gain from trade realised); nan if max is 0."""
    return realised_surplus / max_surplus if max_surplus != 0 else NAN


# -- per slot ------------------------------------------------------------------------------


class _VolumeStats:
    """VWAP and energy of an accumulated (turnover, volume, slot_len): one definition for a
    slot and for the whole market."""

    turnover: float
    volume: float
    slot_len: int

    @property
    def vwap(self) -> float:
        """Volume-weighted average price (nan without trades)."""
        return self.turnover / self.volume if self.volume > 0 else NAN

    @property
    def volume_kwh(self) -> float:
        """Traded energy, kWh."""
        return self.volume * self.slot_len / 3600.0


class SlotStats(_VolumeStats):
    """Trade and quote statistics of one delivery slot, updated per event in O(1).

    Args:
        slot: delivery slot index.
        slot_len: slot length in seconds, to express volume in kWh.
    """

    def __init__(self, slot: int, slot_len: int = 900) -> None:
        self.slot = slot
        self.slot_len = slot_len
        self.n_trades = 0
        self.volume = 0.0
        """Traded rate, kW·slot."""
        self.turnover = 0.0
        """Σ price * rate, currency/MWh * kW."""
        self.last_price = NAN
        self.high = NAN
        self.low = NAN
        self.first_trade_time = NAN
        self.last_trade_time = NAN
        self._prices = Welford()
        self._changes = Welford()
        # quotes: sample sums
        self.n_quotes = 0
        self._n_two_sided = 0
        self._spread_sum = 0.0
        self._bid_depth_sum = 0.0
        self._ask_depth_sum = 0.0
        # quotes: time integrals of the state in force since the previous quote
        self._t_quote = NAN
        self._spread = NAN
        self._bid_depth = 0.0
        self._ask_depth = 0.0
        self._spread_area = 0.0
        self._spread_time = 0.0
        self._bid_depth_area = 0.0
        self._ask_depth_area = 0.0
        self._depth_time = 0.0

    # -- updates ---------------------------------------------------------------------------
    def on_trade(self, time: float, price: float, rate: float) -> None:
        """Record one trade (price in currency/MWh, rate in kW > 0).

        Raises:
            ValueError: non-finite price or time, or a rate that is not > 0.
        """
        if not math.isfinite(price) or not math.isfinite(time):
            raise ValueError(f"trade price and time must be finite, got {price}, {time}")
        if not rate > 0 or not math.isfinite(rate):
            raise ValueError(f"trade rate must be > 0 kW, got {rate}")
        self._add_trade(time, price, rate)

    def _add_trade(self, time: float, price: float, rate: float) -> None:
        """:meth:`on_trade` without its checks, for numbers known to be valid (the market's
        own trades, :meth:`MarketMetrics.on_exchange_trades`)."""
        if self.n_trades:
            self._changes.add(price - self.last_price)
            if price > self.high:  # (max() and min() of two floats cost a builtin call each)
                self.high = price
            elif price < self.low:
                self.low = price
        else:
            self.high = self.low = price
            self.first_trade_time = time
        self.n_trades += 1
        self.volume += rate
        self.turnover += price * rate
        self.last_price = price
        self.last_trade_time = time
        self._prices.add(price)

    def on_quote(
        self,
        time: float,
        best_bid: float | None,
        best_ask: float | None,
        bid_depth: float,
        ask_depth: float,
    ) -> None:
        """Record the top of book after an event (prices nan/None for an empty side).

        The new state holds until the next quote (or :meth:`close`) for the time-weighted means.

        Raises:
            ValueError: time runs backwards, or a depth is negative or non-finite.
        """
        if not math.isfinite(time):
            raise ValueError(f"quote time must be finite, got {time}")
        for name, d in (("bid_depth", bid_depth), ("ask_depth", ask_depth)):
            if not math.isfinite(d) or d < 0:
                raise ValueError(f"{name} must be a finite rate >= 0 kW, got {d}")
        self._add_quote(time, best_bid, best_ask, bid_depth, ask_depth)

    def _add_quote(self, time: float, best_bid: float | None, best_ask: float | None,
                   bid_depth: float, ask_depth: float) -> None:
        """:meth:`on_quote` without its checks of the numbers (the market's own samples,
        :meth:`MarketMetrics.on_exchange_quotes`); time running backwards still raises."""
        self._advance(time)
        bid = NAN if best_bid is None else float(best_bid)
        ask = NAN if best_ask is None else float(best_ask)
        spread = ask - bid  # nan unless both sides quote
        self.n_quotes += 1
        if math.isfinite(spread):
            self._n_two_sided += 1
            self._spread_sum += spread
        self._bid_depth_sum += bid_depth
        self._ask_depth_sum += ask_depth
        self._t_quote = time
        self._spread = spread
        self._bid_depth = bid_depth
        self._ask_depth = ask_depth

    def close(self, time: float) -> None:
        """Let the last quote hold until ``time`` (e.g. gate closure) in the time-weighted means.

        Raises:
            ValueError: ``time`` is before the last quote.
        """
        self._advance(time)

    def _advance(self, time: float) -> None:
        if math.isnan(self._t_quote):
            return
        dt = time - self._t_quote
        if dt < 0:
            raise ValueError(f"slot {self.slot}: time {time} is before the last quote")
        if math.isfinite(self._spread):
            self._spread_area += self._spread * dt
            self._spread_time += dt
        self._bid_depth_area += self._bid_depth * dt
        self._ask_depth_area += self._ask_depth * dt
        self._depth_time += dt
        self._t_quote = time

    # -- queries ---------------------------------------------------------------------------
    @property
    def mean_price(self) -> float:
        """Unweighted mean trade price (nan without trades)."""
        return self._prices.mean if self._prices.n else NAN

    @property
    def volatility(self) -> float:
        """Sample std (ddof=1) of successive trade-price changes (nan with < 3 trades)."""
        return self._changes.std(ddof=1)

    def smith_alpha(self, p_star: float) -> float:
        """Smith's alpha (percent) of this slot's trades around ``p_star`` (nan if none)."""
        _check_p_star(p_star)
        return 100.0 * self._prices.rms_from(p_star) / abs(p_star)

    @property
    def two_sided_fraction(self) -> float:
        """Share of quote samples with both sides present."""
        return self._n_two_sided / self.n_quotes if self.n_quotes else NAN

    @property
    def mean_spread(self) -> float:
        """Mean spread over two-sided quote samples."""
        return self._spread_sum / self._n_two_sided if self._n_two_sided else NAN

    @property
    def mean_bid_depth(self) -> float:
        """Mean kW at the best bid over quote samples (0 counted for an empty side)."""
        return self._bid_depth_sum / self.n_quotes if self.n_quotes else NAN

    @property
    def mean_ask_depth(self) -> float:
        """Mean kW at the best ask over quote samples."""
        return self._ask_depth_sum / self.n_quotes if self.n_quotes else NAN

    @property
    def tw_spread(self) -> float:
        """Time-weighted spread over the time both sides quoted."""
        return self._spread_area / self._spread_time if self._spread_time > 0 else NAN

    @property
    def tw_bid_depth(self) -> float:
        """Time-weighted kW at the best bid."""
        return self._bid_depth_area / self._depth_time if self._depth_time > 0 else NAN

    @property
    def tw_ask_depth(self) -> float:
        """Time-weighted kW at the best ask."""
        return self._ask_depth_area / self._depth_time if self._depth_time > 0 else NAN

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe snapshot (None for undefined values)."""
        return {
            "slot": self.slot,
            "n_trades": self.n_trades,
            "volume_kw": self.volume,
            "volume_kwh": self.volume_kwh,
            "vwap": _json(self.vwap),
            "last_price": _json(self.last_price),
            "high": _json(self.high),
            "low": _json(self.low),
            "volatility": _json(self.volatility),
            "first_trade_time": _json(self.first_trade_time),
            "last_trade_time": _json(self.last_trade_time),
            "n_quotes": self.n_quotes,
            "two_sided_fraction": _json(self.two_sided_fraction),
            "mean_spread": _json(self.mean_spread),
            "tw_spread": _json(self.tw_spread),
            "mean_bid_depth": _json(self.mean_bid_depth),
            "mean_ask_depth": _json(self.mean_ask_depth),
            "tw_bid_depth": _json(self.tw_bid_depth),
            "tw_ask_depth": _json(self.tw_ask_depth),
        }


# -- the benefit benchmark -----------------------------------------------------------------


# -- market --------------------------------------------------------------------------------


class MarketMetrics(_VolumeStats):
    """All slots' statistics plus market-level aggregates over the owners' accounts.

    Feed it trades (:meth:`on_trade`) and top-of-book samples (:meth:`on_quote`); each call is
    O(1). Per-owner figures are not kept here: they live in one place, the owners'
    :class:`~rex_env.sim.settlement.OwnerAccount` (the market passes its ledger's accounts),
    and the aggregates (welfare, HHI, the owner table) read them.

    Args:
        tariff: the flat tariff the owners' benefit is measured against (for the summary).
        slot_len: slot length in seconds (volume in kWh).
        accounts: owner -> account (default: an empty mapping of its own).
    """

    def __init__(self, tariff: TariffLike | None = None, slot_len: int = 900,
                 accounts: dict[str, OwnerAccount] | None = None) -> None:
        if not isinstance(slot_len, int) or slot_len <= 0:
            raise ValueError(f"slot_len must be a positive int of seconds, got {slot_len}")
        self.slot_len = slot_len
        self.tariff: TariffLike = tariff if tariff is not None else Tariff()
        self.slots: dict[int, SlotStats] = {}
        self.owners: dict[str, OwnerAccount] = accounts if accounts is not None else {}
        """owner -> account, shared with the ledger that books them."""
        self.n_trades = 0
        self.volume = 0.0
        """Traded rate over all slots, kW·slot."""
        self.turnover = 0.0
        self._prices = Welford()

    def slot(self, slot: int) -> SlotStats:
        """The slot's statistics, created on first use."""
        s = self.slots.get(slot)
        if s is None:
            s = self.slots[slot] = SlotStats(slot, self.slot_len)
        return s

    def owner(self, owner: str) -> OwnerAccount:
        """The owner's account.

        Raises:
            KeyError: no account for that owner.
        """
        try:
            return self.owners[owner]
        except KeyError:
            raise KeyError(f"no account for owner {owner!r}; owners: {sorted(self.owners)}"
                           ) from None

    def on_trade(self, slot: int, time: float, price: float, rate: float) -> None:
        """Record a trade (price in currency/MWh, rate in kW > 0)."""
        self.slot(slot).on_trade(time, price, rate)
        self.n_trades += 1
        self.volume += rate
        self.turnover += price * rate
        self._prices.add(price)

    def on_quote(
        self,
        slot: int,
        time: float,
        best_bid: float | None,
        best_ask: float | None,
        bid_depth: float,
        ask_depth: float,
    ) -> None:
        """Record a top-of-book sample of a slot (see :meth:`SlotStats.on_quote`)."""
        self.slot(slot).on_quote(time, best_bid, best_ask, bid_depth, ask_depth)

    # -- the market's own numbers ----------------------------------------------------------
    # The exchange's prices and rates are whole ticks and lots: finite, and a trade's rate is
    # > 0, so the market's updates skip the checks that guard the public methods above (a
    # simulated day books ~40 k trades and ~15 k quote samples, issue 12)

    def on_exchange_trades(self, trades: Iterable[tuple[int, float, float, float]]) -> None:
        """Record the trades of one exchange report, ``(slot, time, price, rate)`` in order:
        the same updates as :meth:`on_trade` for each, without its checks."""
        prices = self._prices
        n, volume, turnover = self.n_trades, self.volume, self.turnover
        st: SlotStats | None = None
        for slot, time, price, rate in trades:
            if st is None or st.slot != slot:  # a report's trades are mostly in one slot
                st = self.slot(slot)
            st._add_trade(time, price, rate)
            n += 1
            volume += rate
            turnover += price * rate
            prices.add(price)
        self.n_trades, self.volume, self.turnover = n, volume, turnover

    def on_exchange_quotes(self, time: float, slots: Iterable[int],
                           best_bids: Iterable[float], best_asks: Iterable[float],
                           bid_depths: Iterable[float], ask_depths: Iterable[float]) -> None:
        """Record one top-of-book sample of each of ``slots`` (nan for an empty side): the
        same updates as :meth:`on_quote` for each, without its checks of the numbers."""
        slot = self.slot
        for k, bid, ask, bid_depth, ask_depth in zip(slots, best_bids, best_asks, bid_depths,
                                                     ask_depths, strict=True):
            slot(k)._add_quote(time, bid, ask, bid_depth, ask_depth)

    # -- aggregates ------------------------------------------------------------------------
    @property
    def welfare(self) -> float:
        """Total surplus of all owners (currency)."""
        return math.fsum(o.surplus for o in self.owners.values())

    def hhi(self) -> float:
        """HHI of the owners' gross traded volume (bought + sold); nan if nobody traded."""
        return herfindahl(o.filled_kw for o in self.owners.values())

    def smith_alpha(self, p_star: float) -> float:
        """Smith's alpha (percent) of all trades around ``p_star``."""
        _check_p_star(p_star)
        return 100.0 * self._prices.rms_from(p_star) / abs(p_star)

    def efficiency(self, max_surplus: float) -> float:
        """Welfare / maximum surplus (allocative efficiency)."""
        return allocative_efficiency(self.welfare, max_surplus)

    def summary(self) -> dict[str, Any]:
        """Market, slot and owner metrics as a strict-JSON dict (None for undefined)."""
        owners = self.owners.values()
        return {
            "n_slots": len(self.slots),
            "n_owners": len(self.owners),
            "n_trades": self.n_trades,
            "volume_kw": self.volume,
            "volume_kwh": self.volume_kwh,
            "vwap": _json(self.vwap),
            "welfare": self.welfare,
            "benefit": math.fsum(o.benefit for o in owners),
            "hhi": _json(self.hhi()),
            "imbalance_volume_kwh": math.fsum(o.imbalance_volume_kwh for o in owners),
            "imbalance_cost": math.fsum(o.imbalance_cost for o in owners),
            "unserved_kwh": math.fsum(o.unserved_kwh for o in owners),
            "spilled_kwh": math.fsum(o.spilled_kwh for o in owners),
            "tariff": {"retail": self.tariff.retail, "feed_in": self.tariff.feed_in},
            "slots": {str(k): self.slots[k].as_dict() for k in sorted(self.slots)},
            "owners": {k: self.owners[k].as_dict() for k in sorted(self.owners)},
        }

    def table_rows(self, kind: str = "owners") -> list[dict[str, Any]]:
        """Rows for printing: one per owner plus a ``(market)`` total, or one per slot.

        Raises:
            ValueError: ``kind`` is not ``"owners"`` or ``"slots"``.
        """
        if kind == "slots":
            return [self.slots[k].as_dict() for k in sorted(self.slots)]
        if kind != "owners":
            raise ValueError(f"kind must be 'owners' or 'slots', got {kind!r}")
        cols = ("surplus", "benefit", "imbalance_volume_kwh", "imbalance_cost", "unserved_kwh")
        rows: list[dict[str, Any]] = []
        for k in sorted(self.owners):
            o = self.owners[k]
            row: dict[str, Any] = {"owner": k, "traded_kw": o.filled_kw}
            row.update({c: getattr(o, c) for c in cols})
            rows.append(row)
        total: dict[str, Any] = {
            "owner": "(market)",
            "traded_kw": math.fsum(r["traded_kw"] for r in rows),
        }
        total.update({c: math.fsum(r[c] for r in rows) for c in cols})
        rows.append(total)
        return rows


def format_table(rows: Sequence[Mapping[str, Any]], digits: int = 2) -> str:
    """Plain-text table of :meth:`MarketMetrics.table_rows` (floats rounded, None as ``-``)."""
    if not rows:
        return ""
    cols = list(rows[0])

    def cell(x: Any) -> str:
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return "-"
        return f"{x:.{digits}f}" if isinstance(x, float) else str(x)

    body = [[cell(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(b[i]) for b in body)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(cols, widths, strict=True))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(b, widths, strict=True)) for b in body]
    return "\n".join(lines)
