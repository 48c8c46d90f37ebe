"""Argument checks with messages that name the field, what was given and what is allowed."""

from __future__ import annotations

import math
import numbers


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_finite(owner: str, name: str, value: float) -> None:
    """Raise ValueError unless ``value`` is a finite real number."""
    if not (_is_real(value) and math.isfinite(float(value))):
        raise ValueError(f"{owner}.{name} must be a finite number, got {value!r}")


def check_positive(owner: str, name: str, value: float, *, allow_inf: bool = False) -> None:
    """Raise ValueError unless ``value`` is a real number > 0 (finite unless ``allow_inf``)."""
    ok = _is_real(value) and float(value) > 0.0
    if ok and not allow_inf:
        ok = math.isfinite(float(value))
    if not ok:
        what = "a number > 0 (math.inf allowed)" if allow_inf else "a finite number > 0"
        raise ValueError(f"{owner}.{name} must be {what}, got {value!r}")


def check_nonnegative(owner: str, name: str, value: float) -> None:
    """Raise ValueError unless ``value`` is a finite real number >= 0."""
    if not (_is_real(value) and math.isfinite(float(value)) and float(value) >= 0.0):
        raise ValueError(f"{owner}.{name} must be a finite number >= 0, got {value!r}")


def check_range(owner: str, name: str, value: float, lo: float, hi: float) -> None:
    """Raise ValueError unless ``lo <= value <= hi``."""
    if not (_is_real(value) and lo <= float(value) <= hi):
        raise ValueError(f"{owner}.{name} must be in [{lo}, {hi}], got {value!r}")


def check_grid(n_slots: int, slot_len: int) -> None:
    """Check an episode grid: ``n_slots`` an int >= 0, ``slot_len`` an int number of seconds > 0."""
    if not isinstance(n_slots, numbers.Integral) or isinstance(n_slots, bool) or n_slots < 0:
        raise ValueError(f"n_slots must be an int >= 0, got {n_slots!r}")
    if not isinstance(slot_len, numbers.Integral) or isinstance(slot_len, bool) or slot_len <= 0:
        raise ValueError(f"slot_len must be an int number of seconds > 0, got {slot_len!r}")


def check_day_of_year(day_of_year: int) -> None:
    """Check a day of year: an int in 1..366 (1 = 1 January)."""
    if (
        not isinstance(day_of_year, numbers.Integral)
        or isinstance(day_of_year, bool)
        or not 1 <= day_of_year <= 366
    ):
        raise ValueError(
            f"day_of_year must be an int in 1..366 (1 = 1 January), got {day_of_year!r}"
        )
