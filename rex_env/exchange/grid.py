"""Units at the edge: currency/MWh and kW outside, integer ticks and lots inside (SPEC §1).

Conversion is exact (``fractions.Fraction``): a price that is not on the tick grid becomes a
non-integral number of ticks, which the exchange rejects as ``off_tick`` — never rounded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import TYPE_CHECKING, Any, overload

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

Number = int | str | Decimal | Fraction


def parse_decimal(text: str) -> Fraction:
    """Parse a *plain* decimal (``-12.5``, ``3``, ``.5``): ASCII digits, no exponent, no inf/nan.

    Raises:
        ValueError: the text is not a plain decimal.
    """
    t = text.strip()
    if not t or not t.isascii() or any(c in t for c in "eEnNiI_ ") or t in {
            "+", "-", ".", "+.", "-."}:
        raise ValueError(f"{text!r} is not a plain decimal")
    try:
        return Fraction(Decimal(t))
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"{text!r} is not a plain decimal") from exc


def _exact(value: Number | float, what: str) -> Fraction:
    if isinstance(value, bool):
        raise TypeError(f"{what} must be a number, not bool")
    if isinstance(value, (int, Fraction)):
        return Fraction(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{what} {value} is not finite")
        return Fraction(value)
    if isinstance(value, str):
        return parse_decimal(value)
    if isinstance(value, float):
        # floats reach here from numeric code (agents); their decimal repr is the intent
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"{what} {value} is not finite")
        return Fraction(Decimal(repr(value)))
    raise TypeError(f"{what} must be int, float, str, Decimal or Fraction, not {type(value)}")


def _decimals(step: Fraction) -> int:
    """How many decimals print a multiple of ``step`` exactly (0.1 -> 1, 0.25 -> 2, 5 -> 0)."""
    d = 0
    while (step * 10**d).denominator != 1:
        d += 1
        if d > 12:
            raise ValueError(f"grid step {step} has no finite decimal expansion")
    return d


@dataclass(frozen=True)
class Grid:
    """Tick, lot, price bounds and slot length (SPEC §1 defaults).

    Args:
        tick: price step in currency/MWh.
        lot: rate step in kW.
        price_min: lowest allowed limit price (inclusive), currency/MWh.
        price_max: highest allowed limit price (inclusive), currency/MWh.
        slot_len: delivery slot length in seconds (cash = price * kW * hours / 1000).
    """

    tick: Number = "0.1"
    lot: Number = "0.1"
    price_min: Number = -9999
    price_max: Number = 9999
    slot_len: int = 900
    # derived, exact
    tick_q: Fraction = field(init=False, repr=False)
    lot_q: Fraction = field(init=False, repr=False)
    min_ticks: int | Fraction = field(init=False, repr=False)  # exact, inclusive
    max_ticks: int | Fraction = field(init=False, repr=False)
    price_decimals: int = field(init=False, repr=False)
    rate_decimals: int = field(init=False, repr=False)
    cash_per_unit: float = field(init=False, repr=False)
    # (numerator, denominator) of tick_q and lot_q: Fraction's properties cost ~0.2 us a read,
    # and price()/rate() run for every trade and every quote sample
    _tick_nd: tuple[int, int] = field(init=False, repr=False, compare=False)
    _lot_nd: tuple[int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        tick = _exact(self.tick, "tick")
        lot = _exact(self.lot, "lot")
        if tick <= 0:
            raise ValueError(f"tick must be > 0 currency/MWh, got {self.tick}")
        if lot <= 0:
            raise ValueError(f"lot must be > 0 kW, got {self.lot}")
        lo = _exact(self.price_min, "price_min") / tick
        hi = _exact(self.price_max, "price_max") / tick
        if lo >= hi:
            raise ValueError(f"price_min {self.price_min} must be < price_max {self.price_max}")
        if not isinstance(self.slot_len, int) or self.slot_len <= 0:
            raise ValueError(f"slot_len must be a positive int of seconds, got {self.slot_len}")
        object.__setattr__(self, "tick_q", tick)
        object.__setattr__(self, "lot_q", lot)
        object.__setattr__(self, "_tick_nd", (tick.numerator, tick.denominator))
        object.__setattr__(self, "_lot_nd", (lot.numerator, lot.denominator))
        # bounds stay exact: with a tick that does not divide them they are fractional ticks
        object.__setattr__(self, "min_ticks", lo.numerator if lo.denominator == 1 else lo)
        object.__setattr__(self, "max_ticks", hi.numerator if hi.denominator == 1 else hi)
        object.__setattr__(self, "price_decimals", _decimals(tick))
        object.__setattr__(self, "rate_decimals", _decimals(lot))
        # currency of one tick*lot over one slot: price[cur/MWh] * rate[kW] * h / 1000
        unit = tick * lot * Fraction(self.slot_len, 3600) / 1000
        object.__setattr__(self, "cash_per_unit", float(unit))

    # -- edge conversions -------------------------------------------------------------------
    def price_ticks(self, price: Number | float) -> int | Fraction:
        """Exact ticks of a price; an ``int`` when on the grid, else a ``Fraction`` (off_tick)."""
        q = _exact(price, "price") / self.tick_q
        return q.numerator if q.denominator == 1 else q

    def rate_lots(self, rate: Number | float) -> int | Fraction:
        """Exact lots of a rate; an ``int`` when on the grid, else a ``Fraction`` (off_lot)."""
        q = _exact(rate, "rate") / self.lot_q
        return q.numerator if q.denominator == 1 else q

    @overload
    def price(self, ticks: float) -> float: ...
    @overload
    def price(self, ticks: NDArray[Any]) -> NDArray[np.float64]: ...

    def price(self, ticks: float | NDArray[Any]) -> float | NDArray[np.float64]:
        """Currency/MWh of a tick count (correctly rounded for whole ticks), or of each
        element of an array (the same two float operations: equal values)."""
        n, d = self._tick_nd
        return ticks * n / d

    @overload
    def rate(self, lots: float) -> float: ...
    @overload
    def rate(self, lots: NDArray[Any]) -> NDArray[np.float64]: ...

    def rate(self, lots: float | NDArray[Any]) -> float | NDArray[np.float64]:
        """kW of a lot count (correctly rounded for whole lots), or of each element of an
        array."""
        n, d = self._lot_nd
        return lots * n / d

    def cash(self, notional: int) -> float:
        """Currency of a signed notional in tick*lot units over one slot."""
        return notional * self.cash_per_unit

    def format_price(self, ticks: int) -> str:
        """Print a price with the decimals of its grid (tick 0.1 -> ``51.0``)."""
        return _format(Fraction(ticks) * self.tick_q, self.price_decimals)

    def format_rate(self, lots: int) -> str:
        """Print a rate with the decimals of its grid (lot 0.1 -> ``2.5``)."""
        return _format(Fraction(lots) * self.lot_q, self.rate_decimals)


def _format(value: Fraction, decimals: int) -> str:
    scaled = value * 10**decimals
    assert scaled.denominator == 1, "value is on its grid by construction"
    n = scaled.numerator
    sign = "-" if n < 0 else ""
    n = abs(n)
    if decimals == 0:
        return f"{sign}{n}"
    whole, frac = divmod(n, 10**decimals)
    return f"{sign}{whole}.{frac:0{decimals}d}"
