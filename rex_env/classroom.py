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
from .spec.kinds import NOISE_TRADERS

TRADERS = NOISE_TRADERS


def _number(x: object, where: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        raise ValueError(f"{where}: must be a finite number, got {x!r}")
    return float(x)


def _finite_or_none(x: float) -> float | None:
    return x if math.isfinite(x) else None


@dataclass(frozen=True)
class ClassroomMarket:
    """Unit values of buyers and unit costs of sellers (traded in list order).

    Raises:
        ValueError: naming the field and what is allowed (empty lists, non-numbers,
            price_min >= price_max, values outside the price range, a market in which no
            unit can trade at a gain).
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
        if not self.equilibrium().max_surplus > 0:
            raise ValueError("buyers, sellers: no unit can trade at a gain (every value is at or "
                             "below every cost), so efficiency is undefined; at least one "
                             "value must exceed one cost")

    @classmethod
    def from_dict(cls, d: Any) -> ClassroomMarket:
        if not isinstance(d, dict):
            raise ValueError("market: must be a JSON object with fields buyers, sellers and "
                             f"optionally price_min, price_max; got {type(d).__name__}")
        unknown = sorted(set(d) - {"buyers", "sellers", "price_min", "price_max"})
        if unknown:
            raise ValueError(f"unknown field(s) {unknown}; allowed: buyers, sellers, "
                             "price_min, price_max")
        for f in ("buyers", "sellers"):
            if f not in d:
                raise ValueError(f"{f}: missing; a list of lists of numbers is required")
        return cls(d["buyers"], d["sellers"], d.get("price_min", 1.0), d.get("price_max", 200.0))

    def to_dict(self) -> dict[str, Any]:
        """The JSON form :meth:`from_dict` reads."""
        def num(x: float) -> float | int:
            return int(x) if float(x).is_integer() else x

        return {"buyers": [[num(x) for x in u] for u in self.buyers],
                "sellers": [[num(x) for x in u] for u in self.sellers],
                "price_min": num(self.price_min), "price_max": num(self.price_max)}

    @classmethod
    def load(cls, path: str | Path) -> ClassroomMarket:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ValueError(f"{path}: cannot read the market file "
                             f"({exc.strerror or exc})") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not valid JSON ({exc})") from None
        try:
            return cls.from_dict(data)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None

    def equilibrium(self) -> Any:
        values = [v for u in self.buyers for v in u]
        costs = [c for u in self.sellers for c in u]
        return competitive_equilibrium(values, costs)


def smith_market() -> ClassroomMarket:
    """The default: a symmetric market of 6 buyers and 6 sellers with 3 units each (values
    60-190, costs 30-160, in steps of 10; equilibrium price 110, 12 units, two of them at
    zero gain; maximum surplus 860)."""
    buyers = [(190 - 10 * i, 150 - 10 * i, 110 - 10 * i) for i in range(6)]
    sellers = [(30 + 10 * i, 70 + 10 * i, 110 + 10 * i) for i in range(6)]
    return ClassroomMarket(tuple(buyers), tuple(sellers), 1.0, 200.0)


def example_markets() -> dict[str, ClassroomMarket]:
    """Four classroom markets of different shapes (the README's table; JSON copies in
    ``examples/classroom/``):

    * ``symmetric``: :func:`smith_market`;
    * ``flat_supply``: sellers' costs 95-105 (a nearly flat supply curve), buyers' values
      60-190; most of the surplus goes to the buyers;
    * ``asymmetric``: 3 buyers with 6 units each against 9 sellers with 2 units each;
    * ``thin_margin``: values and costs interleave in small steps around the equilibrium,
      so that many extramarginal units lie just beyond it: trading them destroys surplus.
    """
    flat = ClassroomMarket(
        tuple((190 - 10 * i, 150 - 10 * i, 110 - 10 * i) for i in range(6)),
        tuple((95 + 2 * i, 97 + 2 * i, 99 + 2 * i) for i in range(6)), 1.0, 200.0)
    asym = ClassroomMarket(
        tuple(tuple(190 - 20 * j - 5 * i for j in range(6)) for i in range(3)),
        tuple((30 + 15 * i, 100 + 12 * i) for i in range(9)), 1.0, 200.0)
    thin = ClassroomMarket(
        tuple((130 - 4 * i, 118 - 4 * i, 106 - 4 * i, 94 - 4 * i) for i in range(4)),
        tuple((70 + 4 * i, 82 + 4 * i, 94 + 4 * i, 106 + 4 * i) for i in range(4)), 1.0, 200.0)
    return {"symmetric": smith_market(), "flat_supply": flat, "asymmetric": asym,
            "thin_margin": thin}


@dataclass
class ClassroomResult:
    efficiency: list[float] = field(default_factory=list)
    trades: list[int] = field(default_factory=list)
    prices: list[list[float]] = field(default_factory=list)
    smith_alpha: list[float] = field(default_factory=list)

    def as_dict(self, market: ClassroomMarket, **config: Any) -> dict[str, Any]:
        """The results as strict JSON (an undefined statistic, e.g. Smith's alpha of a
        period without trades, is ``None``)."""
        eq = market.equilibrium()
        eff = [e for e in self.efficiency if not math.isnan(e)]
        return {
            "config": config,
            "efficiency": [_finite_or_none(e) for e in self.efficiency],
            "mean_efficiency": float(np.mean(eff)) if eff else None,
            "trades": self.trades,
            "prices": self.prices,
            "smith_alpha": [_finite_or_none(a) for a in self.smith_alpha],
            "equilibrium": {"price_lo": eq.price_lo, "price_hi": eq.price_hi,
                            "quantity": eq.quantity, "max_surplus": eq.max_surplus},
        }


def run_classroom(market: ClassroomMarket, trader: str = "zic", periods: int = 10,
                  shouts: int = 500, seed: int = 0, reset_book_after_trade: bool = False,
                  tick: float = 1.0) -> ClassroomResult:
    """Run ``periods`` trading periods of ZI traders on the exchange.

    Raises:
        ValueError: unknown trader, non-positive periods, negative shouts or seed, bad tick
            — naming the parameter and what is allowed.
    """
    if trader not in TRADERS:
        raise ValueError(f"trader must be one of {', '.join(TRADERS)}, got {trader!r}")
    if isinstance(periods, bool) or not isinstance(periods, int) or periods < 1:
        raise ValueError(f"periods must be an int >= 1 (trading periods), got {periods!r}")
    if isinstance(shouts, bool) or not isinstance(shouts, int) or shouts < 0:
        raise ValueError(f"shouts must be an int >= 0 (quotes per period), got {shouts!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be an int >= 0, got {seed!r}")
    if isinstance(tick, bool) or not isinstance(tick, (int, float)) or not tick > 0:
        raise ValueError(f"tick must be a number > 0, got {tick!r}")
    bound = f"{1e9 * tick:.0f}"  # wide bounds: the market's own range is enforced by the quotes
    grid = Grid(tick=str(tick), lot="1", price_min="-" + bound, price_max=bound)
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
