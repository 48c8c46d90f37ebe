"""The Python prologue of the C engine: Python values the fast path does not take.

The Cython layer converts exact ``int`` / ``str`` / enum arguments itself. Everything else (a
``Fraction``, an ``int`` subclass, an integer beyond 64 bits, a value of the wrong type) comes
here and is either refused (``None``: the caller reports ``bad_field``) or turned into 64-bit
integers plus ``PF_*`` flags that the C core judges exactly as the reference judges the
original value: an out-of-range integer is clamped to one just beyond the same limit, a
fraction becomes a flag (``off_tick`` / ``off_lot``) with an in-range stand-in.
"""

from __future__ import annotations

import math
import operator
from fractions import Fraction
from typing import TypeGuard

from rex_env.exchange import lob3d as _lob3d
from rex_env.exchange import orders as _orders
from rex_env.exchange.auction import clearing_price

MAX_BLOCK_SLOTS: int = _orders.MAX_BLOCK_SLOTS
MAX_SLOT: int = _orders.MAX_SLOT
MAX_LOTS: int = _orders.MAX_LOTS
MAX_TIME: int = _orders.MAX_TIME
MAX_LOB3D_LEVELS: int = _lob3d.MAX_LOB3D_LEVELS
MAX_LOB3D_CELLS: int = _lob3d.MAX_LOB3D_CELLS

PF_PRICE_OOB = 1
PF_PRICE_OFFTICK = 2
PF_RATE_OFFLOT = 4
_I64 = 2**63 - 1


def _is_int(x: object) -> TypeGuard[int]:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_number(x: object) -> TypeGuard[int | Fraction]:
    return isinstance(x, (int, Fraction)) and not isinstance(x, bool)


def int_bounds(lo: int | Fraction, hi: int | Fraction) -> tuple[int, int]:
    """The inclusive integer price bounds in ticks (the grid's may be fractional)."""
    return max(math.ceil(lo), -_I64), min(math.floor(hi), _I64)


def time_value(time: object) -> int:
    """Seconds for the C core; -1 for a value that is not an int or is negative."""
    if not _is_int(time) or time < 0:
        return -1
    return min(int(time), MAX_TIME + 1)


def slot_value(slot: object) -> int | None:
    """A slot index for the C core (clamped just beyond the valid range); None: not an int."""
    if not _is_int(slot):
        return None
    return max(-1, min(int(slot), MAX_SLOT + 1))


def slot_key(slot: object) -> int | None:
    """The int a slot value stands for as a dict key (``np.int64(3)``, ``3.0`` -> 3, clamped
    just beyond the valid range); None: no int."""
    try:
        value = operator.index(slot)  # type: ignore[arg-type]
    except TypeError:
        if not isinstance(slot, float) or not slot.is_integer():
            return None
        value = int(slot)
    return max(-1, min(value, MAX_SLOT + 1))


def price_value(price: object, lo: int | Fraction, hi: int | Fraction
                ) -> tuple[int, int] | None:
    """``(ticks, flags)`` of a limit price; None: not an int or Fraction."""
    if not _is_number(price):
        return None
    if price < lo or price > hi:
        return 0, PF_PRICE_OOB
    if isinstance(price, Fraction) and price.denominator != 1:
        return int_bounds(lo, hi)[0], PF_PRICE_OFFTICK
    return int(price), 0


def rate_value(rate: object) -> tuple[int, int] | None:
    """``(lots, flags)`` of a rate; None: not an int or Fraction."""
    if not _is_number(rate):
        return None
    if rate > MAX_LOTS:
        return MAX_LOTS + 1, 0  # bad_field in the core
    if rate < -MAX_LOTS:
        return -MAX_LOTS - 1, 0  # bad_field in the core
    if rate <= 0:
        return 0, 0
    if isinstance(rate, Fraction) and rate.denominator != 1:
        return 1, PF_RATE_OFFLOT
    return int(rate), 0


def submit_values(time: object, first_slot: object, last_slot: object, price: object,
                  rate: object, lo: int | Fraction, hi: int | Fraction
                  ) -> tuple[int, int, int, int, int, int] | None:
    """The numeric arguments of a submission for the C core, or None for ``bad_field``.

    Block span and slot order are decided here on the exact values, so the clamped slots the
    core receives cannot change them.
    """
    if last_slot is None:
        last_slot = first_slot
    if not (_is_int(time) and _is_int(first_slot) and _is_int(last_slot)):
        return None
    t, f, last = int(time), int(first_slot), int(last_slot)
    if t < 0 or t > MAX_TIME or last < f or last - f >= MAX_BLOCK_SLOTS:
        return None
    c_price, pflags = 0, 0
    if price is not None:
        got = price_value(price, lo, hi)
        if got is None:
            return None
        c_price, pflags = got
    got = rate_value(rate)
    if got is None:
        return None
    c_rate, rflags = got
    return (t, max(-1, min(f, MAX_SLOT + 1)), max(-1, min(last, MAX_SLOT + 1)), c_price,
            c_rate, pflags | rflags)


def reference_value(reference: object, lo: int | Fraction, hi: int | Fraction
                    ) -> tuple[int, int, int]:
    """``(mode, num, den)`` of an uncross reference price (see ``rex_uncross``).

    Mode 0: none; 1: ``num/den``; 2: the caller picks the price with the reference rule
    (a fraction too large for 64-bit arithmetic); -1: not a number (``bad_field``).
    A reference beyond the price bounds orders the prices as one just beyond them does.
    """
    if reference is None:
        return 0, 0, 1
    if not _is_number(reference):
        return -1, 0, 1
    ilo, ihi = int_bounds(lo, hi)
    if reference > ihi:
        return 1, ihi + 1, 1
    if reference < ilo:
        return 1, ilo - 1, 1
    q = Fraction(reference)
    if abs(q.numerator) <= _I64 and q.denominator <= _I64:
        return 1, q.numerator, q.denominator
    return 2, 0, 1


def clearing_price_of(bids: list, asks: list, reference: object) -> int | None:
    """The reference's clearing price over exported levels ``(price, volume, records)``."""
    ref = reference if _is_number(reference) else None
    got = clearing_price([(p, v) for p, v, _ in bids], [(p, v) for p, v, _ in asks], ref)
    return got.price
