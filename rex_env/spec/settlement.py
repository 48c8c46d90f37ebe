"""How imbalances are priced: the settlement rules' parameters (pure data, SPEC §9).

The rules themselves live in :mod:`rex_env.sim.settlement`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real
from typing import Literal

Mode = Literal["single", "dual", "curtail"]
MODES: tuple[str, ...] = ("single", "dual", "curtail")


def check_finite_number(name: str, value: float) -> None:
    # numbers.Real admits numpy scalars (float32 rates from physics code) but not bools; a
    # plain float or int (~100 per settled slot) skips the ABC check (~0.3 us each)
    tp = type(value)
    if tp is float or tp is int:
        if math.isfinite(value):
            return
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if not isinstance(value, Real) or isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")


@dataclass(frozen=True)
class SettlementConfig:
    """How imbalances are priced (SPEC §9). Validated on construction.

    Args:
        mode: ``"single"``, ``"dual"`` or ``"curtail"`` (see the module docstring).
        scarcity_adder: single mode; currency/MWh added per MWh the system is short (subtracted
            per MWh it is long). Default 50 is the brief's example. Note the scale: a market
            of households is short by kWh, not MWh, so 50 moves the price by cents; scenarios
            of small prosumers that want an incentive need a much larger value.
        min_gap: single mode; currency/MWh >= 0 by which the causing side's price is worse
            than the VWAP however small the system imbalance (reBAP's module 2 keeps such a
            distance to its intraday index; notes [S29b]). Default 0.
        price_cap: single mode; the imbalance price is clipped to ``[-price_cap, price_cap]``.
            Default 9999 = the exchange's price bound (SPEC §1).
        premium: dual mode; fraction >= 0 by which the extreme trade price is worsened.
            Default 0.2 (Power TAC's ``rmPremium`` is 1.1, i.e. 0.1; a bit stiffer here).
        fee: dual mode; currency/MWh >= 0 added to the shortfall price and taken off the
            surplus price. Default 5.
        voll: curtail mode; value of lost load in currency/MWh (> 0) charged on unserved
            energy. Default 3000, of the order of the EU intraday/day-ahead harmonised price
            limits (notes [S10]); real VoLL estimates are higher, this keeps penalties readable.
        reference_price: currency/MWh used as the slot reference when the slot did not trade.
            Default 100, a typical wholesale price level.
    """

    mode: str = "single"
    scarcity_adder: float = 50.0
    min_gap: float = 0.0
    price_cap: float = 9999.0
    premium: float = 0.2
    fee: float = 5.0
    voll: float = 3000.0
    reference_price: float = 100.0

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}; got {self.mode!r}")
        for name in ("scarcity_adder", "min_gap", "price_cap", "premium", "fee", "voll",
                     "reference_price"):
            check_finite_number(name, getattr(self, name))
        if self.scarcity_adder < 0:
            raise ValueError(
                f"scarcity_adder must be >= 0 currency/MWh per MWh, got {self.scarcity_adder}"
            )
        if self.min_gap < 0:
            raise ValueError(f"min_gap must be >= 0 currency/MWh, got {self.min_gap}")
        if self.price_cap <= 0:
            raise ValueError(f"price_cap must be > 0 currency/MWh, got {self.price_cap}")
        if self.premium < 0:
            raise ValueError(f"premium must be a fraction >= 0, got {self.premium}")
        if self.fee < 0:
            raise ValueError(f"fee must be >= 0 currency/MWh, got {self.fee}")
        if self.voll <= 0:
            raise ValueError(f"voll must be > 0 currency/MWh, got {self.voll}")
