"""The classroom market (Gode & Sunder 1993) on the Rex exchange: one delivery slot,
unit-demand buyers, unit-supply sellers, zero-intelligence traders.

Protocol per period: fresh endowments and an empty book; then ``shouts`` times a trader is
drawn uniformly among those with units left, and quotes one lot for its next unit (the i-th
unit before the (i+1)-th) at a ZI price (:func:`agents.zi.zi_quote`), replacing its previous
quote. The quote is a limit gtc order on the continuous book: it trades at once if it crosses
(at the resting price, SPEC §4) or rests. ``reset_book_after_trade`` switches to the original
protocol in which all unaccepted quotes are cancelled after each trade.

Efficiency of a period = realised surplus (value - cost of every traded unit pair) / maximum
surplus (the competitive equilibrium's, :func:`rex_env.sim.metrics.competitive_equilibrium`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from agents.zi import zi_quote

from .exchange import Exchange, Grid, Side, Status
from .sim.metrics import competitive_equilibrium, smith_alpha

TRADERS = ("zic", "ziu")


def _number(x: object, where: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        raise ValueError(f"{where}: {x!r} is not a finite number")
    return float(x)


@dataclass(frozen=True)
class ClassroomMarket:
    """Unit values of buyers and unit costs of sellers (traded in list order).

    Raises:
        ValueError: naming the field and what is allowed (empty lists, non-numbers,
            price_min >= price_max, values outside the price range).
    """

    buyers: tuple[tuple[float, ...], ...]
    sellers: tuple[tuple[float, ...], ...]
    price_min: float = 1.0
    price_max: float = 200.0

    def __post_init__(self) -> None:
        lo = _number(self.price_min, "price_min")
        hi = _number(self.price_max, "price_max")
        if lo >= hi:
            raise ValueError(f"price_min ({lo}) must be < price_max ({hi})")
        for name in ("buyers", "sellers"):
            traders = getattr(self, name)
            if not isinstance(traders, (list, tuple)) or not traders:
                raise ValueError(f"{name}: needs a non-empty list of traders, each a non-empty "
                                 f"list of unit {'values' if name == 'buyers' else 'costs'}")
            for i, units in enumerate(traders):
                if not isinstance(units, (list, tuple)) or not units:
                    raise ValueError(f"{name}[{i}]: needs a non-empty list of numbers")
                for j, x in enumerate(units):
                    v = _number(x, f"{name}[{i}][{j}]")
                    if not lo <= v <= hi:
                        raise ValueError(f"{name}[{i}][{j}]: {v} lies outside "
                                         f"[price_min, price_max] = [{lo}, {hi}]")
        object.__setattr__(self, "buyers", tuple(tuple(float(x) for x in u) for u in self.buyers))
        object.__setattr__(self, "sellers",
                           tuple(tuple(float(x) for x in u) for u in self.sellers))

    @classmethod
    def from_dict(cls, d: Any) -> ClassroomMarket:
        if not isinstance(d, dict):
            raise ValueError("the market file must hold a JSON object with buyers, sellers, "
                             "price_min, price_max")
        unknown = sorted(set(d) - {"buyers", "sellers", "price_min", "price_max"})
        if unknown:
            raise ValueError(f"unknown field(s) {unknown}; allowed: buyers, sellers, "
                             "price_min, price_max")
        for f in ("buyers", "sellers"):
            if f not in d:
                raise ValueError(f"{f}: missing; a list of lists of numbers is required")
        return cls(d["buyers"], d["sellers"], d.get("price_min", 1.0), d.get("price_max", 200.0))

    @classmethod
    def load(cls, path: str | Path) -> ClassroomMarket:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not valid JSON ({exc})") from exc
        return cls.from_dict(data)

    def equilibrium(self) -> Any:
        values = [v for u in self.buyers for v in u]
        costs = [c for u in self.sellers for c in u]
        return competitive_equilibrium(values, costs)


def smith_market() -> ClassroomMarket:
    """The default: a symmetric market of 6 buyers and 6 sellers with 3 units each
    (values 200-40, costs 20-180 in steps; equilibrium ≈ 110, 9 units)."""
    buyers = [(190 - 10 * i, 150 - 10 * i, 110 - 10 * i) for i in range(6)]
    sellers = [(30 + 10 * i, 70 + 10 * i, 110 + 10 * i) for i in range(6)]
    return ClassroomMarket(tuple(buyers), tuple(sellers), 1.0, 200.0)


@dataclass
class ClassroomResult:
    efficiency: list[float] = field(default_factory=list)
    trades: list[int] = field(default_factory=list)
    prices: list[list[float]] = field(default_factory=list)
    smith_alpha: list[float] = field(default_factory=list)

    def as_dict(self, market: ClassroomMarket, **config: Any) -> dict[str, Any]:
        eq = market.equilibrium()
        eff = [e for e in self.efficiency if not math.isnan(e)]
        return {
            "config": config,
            "efficiency": self.efficiency,
            "mean_efficiency": float(np.mean(eff)) if eff else float("nan"),
            "trades": self.trades,
            "prices": self.prices,
            "smith_alpha": self.smith_alpha,
            "equilibrium": {"price_lo": eq.price_lo, "price_hi": eq.price_hi,
                            "quantity": eq.quantity, "max_surplus": eq.max_surplus},
        }


def run_classroom(market: ClassroomMarket, trader: str = "zic", periods: int = 10,
                  shouts: int = 500, seed: int = 0, reset_book_after_trade: bool = False,
                  tick: float = 1.0) -> ClassroomResult:
    """Run ``periods`` trading periods of ZI traders on the exchange.

    Raises:
        ValueError: unknown trader, non-positive periods, negative shouts, bad tick.
    """
    if trader not in TRADERS:
        raise ValueError(f"trader must be one of {', '.join(TRADERS)}, got {trader!r}")
    if not isinstance(periods, int) or periods < 1:
        raise ValueError(f"periods must be an int >= 1, got {periods!r}")
    if not isinstance(shouts, int) or shouts < 0:
        raise ValueError(f"shouts must be an int >= 0, got {shouts!r}")
    if not tick > 0:
        raise ValueError(f"tick must be > 0, got {tick}")
    grid = Grid(tick=str(tick), lot="1", price_min=-1e9 * tick, price_max=1e9 * tick)
    rng = np.random.default_rng(seed)
    lo = math.ceil(market.price_min / tick)
    hi = math.floor(market.price_max / tick)
    constrained = trader == "zic"
    eq = market.equilibrium()
    p_star = eq.price
    # trader table: (owner, side, unit limits in ticks rounded to the no-loss side, raw units)
    traders: list[tuple[str, Side, list[int], tuple[float, ...]]] = []
    for i, u in enumerate(market.buyers):
        traders.append((f"b{i}", Side.BUY, [math.floor(v / tick) for v in u], u))
    for i, u in enumerate(market.sellers):
        traders.append((f"s{i}", Side.SELL, [math.ceil(c / tick) for c in u], u))
    index = {t[0]: n for n, t in enumerate(traders)}
    result = ClassroomResult()
    for _ in range(periods):
        ex = Exchange(grid, auto_open=True)
        next_unit = [0] * len(traders)
        quote: list[int | None] = [None] * len(traders)
        surplus = 0.0
        prices: list[float] = []
        oid = 0
        for _shout in range(shouts):
            active = [n for n in range(len(traders)) if next_unit[n] < len(traders[n][2])]
            if not active:
                break
            n = active[int(rng.integers(len(active)))]
            owner, side, limits, _ = traders[n]
            q = quote[n]
            if q is not None:
                ex.cancel(0, q, owner)
            price = zi_quote(rng, side, limits[next_unit[n]], lo, hi, constrained)
            oid += 1
            rep = ex.submit(0, oid, owner, side, 0, price, 1)
            quote[n] = oid if rep.status is Status.RESTING else None
            for t in rep.trades:
                b, s = index[t.buyer], index[t.seller]
                value = traders[b][3][next_unit[b]]
                cost = traders[s][3][next_unit[s]]
                surplus += value - cost
                next_unit[b] += 1
                next_unit[s] += 1
                quote[b] = quote[s] = None  # a traded quote is gone
                prices.append(float(t.price * tick))
            if rep.trades and reset_book_after_trade:
                for m, q2 in enumerate(quote):
                    if q2 is not None:
                        ex.cancel(0, q2, traders[m][0])
                        quote[m] = None
        result.efficiency.append(surplus / eq.max_surplus if eq.max_surplus > 0
                                 else float("nan"))
        result.trades.append(len(prices))
        result.prices.append(prices)
        result.smith_alpha.append(smith_alpha(prices, p_star) if prices and p_star
                                  else float("nan"))
    return result
