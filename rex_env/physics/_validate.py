"""Argument checks with messages that name the field, what was given and what is allowed."""

from __future__ import annotations

import math
import numbers

MAX_MAGNITUDE = 1e9
"""The largest magnitude of any physical parameter (1 TW, 1 TWh, 30 years of seconds): beyond
it power would overflow the exchange's rate limit (``MAX_LOTS``) and forecasts lose their
floating-point precision (a PV system of 1e300 kW made NaN rates mid-episode)."""

_LIMIT = f"{MAX_MAGNITUDE:g}"


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_finite(owner: str, name: str, value: float) -> None:
    """Raise ValueError unless ``value`` is a finite real number of magnitude <= MAX_MAGNITUDE."""
    if not (_is_real(value) and -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE):
        raise ValueError(f"{owner}.{name} must be a finite number in [-{_LIMIT}, {_LIMIT}], "
                         f"got {value!r}")


def check_positive(owner: str, name: str, value: float, *, allow_inf: bool = False) -> None:
    """Raise ValueError unless ``0 < value <= MAX_MAGNITUDE`` (or ``inf`` if ``allow_inf``)."""
    ok = _is_real(value) and 0 < value <= MAX_MAGNITUDE
    if not ok and allow_inf:
        ok = _is_real(value) and value == math.inf
    if not ok:
        what = (f"a number > 0 (math.inf allowed; finite ones <= {_LIMIT})" if allow_inf
                else f"a finite number > 0 and <= {_LIMIT}")
        raise ValueError(f"{owner}.{name} must be {what}, got {value!r}")


def check_nonnegative(owner: str, name: str, value: float) -> None:
    """Raise ValueError unless ``0 <= value <= MAX_MAGNITUDE``."""
    if not (_is_real(value) and 0 <= value <= MAX_MAGNITUDE):
        raise ValueError(f"{owner}.{name} must be a finite number >= 0 and <= {_LIMIT}, got "
                         f"{value!r}")


def check_range(owner: str, name: str, value: float, lo: float, hi: float) -> None:
    """Raise ValueError unless ``lo <= value <= hi``."""
    if not (_is_real(value) and lo <= value <= hi):
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
