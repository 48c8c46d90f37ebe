"""The settlement-aware intermittent prosumer: reserve the cost-minimising quantile (SPEC §10).

A strong baseline for the intermittent role (issue 11, STYLE practice 17). It is the
intermittent prototype (:class:`~agents.intermittent.IntermittentProsumer`: same make-take
order management, same no-loss limits) with one rule changed: instead of the forecast (the
median of its forecast distribution) it reserves the quantile of that distribution that
minimises the expected cost of the imbalance it will be left with — the *newsvendor rule*.

Derivation. Let ``X`` be the slot's realised net rate (production > 0), ``r`` the net rate the
agent reserves (it sells ``r`` when ``r > 0``, buys ``-r`` otherwise) at the traded price
``p``. After delivery a surplus ``X - r > 0`` is credited at ``s`` per unit and a shortfall
``r - X > 0`` costs ``d`` per unit, so the expected surplus of the slot is::

    G(r) = p r + s E[(X - r)+] - d E[(r - X)+]
    G'(r) = p - s P(X > r) - d P(X < r)

and ``G'(r) = 0`` at ``F(r) = (p - s) / (d - s)``. In newsvendor terms reserving one unit too
little costs ``c_under = p - s`` (the unit is settled at ``s`` instead of sold at ``p``) and
one unit too much ``c_over = d - p`` (the unit is bought back at ``d``), and the optimal
reservation is the quantile of ``X`` at the **critical ratio** ``c_under / (c_under +
c_over)``. With the forecast ``mu`` and its standard deviation ``sigma`` (the agent's private
information, SPEC §11) and a Gaussian forecast error, ``r* = mu + sigma * Phi^-1(ratio)``,
clipped to the range the assets can realise (a wind farm never reserves below 0: ``X >= 0``).

The unit values ``s`` and ``d`` per settlement mode (SPEC §9; :func:`imbalance_values`):

* ``curtail``: a surplus is spilled unpaid, ``s = 0``; a shortfall is not served and costs
  the value of lost load, plus the value of the owner's own consumption that goes unserved
  (``consumption_value``, the retail price for a household; 0 for a wind farm):
  ``d = voll + consumption_value``. With ``p`` ≈ 100 and ``voll`` = 3000 the ratio is ≈ 0.03:
  reserve ≈ ``mu - 1.9 sigma``, i.e. a household buys its forecast load plus ≈ 2 sigma.
* ``dual``: ``s = p / (1 + premium) - fee``, ``d = p (1 + premium) + fee`` (the slot's low
  and high stand in for ``p``; negative prices flip the factors as settlement does). With
  premium 0.2 and fee 5 at ``p`` = 100 the ratio is 0.46: slightly below the median.
* ``single``: one price for both directions, in expectation the traded price plus what the
  agent expects a shortfall to pay above it (``short_premium``) and a surplus to receive
  below it (``surplus_discount``): ``d = p + short_premium``, ``s = p - surplus_discount``.
  Both default to 0 — the agent cannot see the system imbalance, and its own imbalance moves
  the scarcity adder symmetrically — so the ratio is 1/2 and it reserves the median (the
  prototype's rule). A reBAP-coupled price that is asymmetric in expectation is passed in
  through these two parameters.

The ratio is clipped to [``min_ratio``, 1 - ``min_ratio``]: the Gaussian tail is a poor model
far out, and a zero-width forecast (PV at night) makes any ratio the forecast itself.

A household with a battery: at delivery the battery fills the gap between reservation and
output (:mod:`rex_env.sim.prosumer`), up to ``D`` kW of discharge and ``C`` kW of charge (its
feasible range at the current state of charge, the best estimate the agent has for the
slot's). A shortfall is then only what exceeds ``D``: ``P(X < r - D) = ratio`` gives ``r = q +
D``, and a surplus only what exceeds ``C``: ``r = q - C``. The battery is a buffer, not a
position, so the reservation never goes beyond the median on the cheap side: ``r = min(mu, q +
D)`` when the ratio is below 1/2, ``max(mu, q - C)`` above it. (Without this the rule buys a
household's +2 sigma under curtailment although its battery would have covered the shortfall,
and loses to the prototype.)

Parameters and why:

* ``settlement``, ``premium``, ``fee``, ``voll``: the scenario's settlement
  (:func:`agents.make_agent` passes them in).
* ``consumption_value``: currency/MWh; what an unserved kWh of the owner's own load is
  worth (the factory passes the retail tariff when the prosumer has a load, else 0).
* ``short_premium``, ``surplus_discount``: currency/MWh >= 0; single mode only (above).
* ``net_min``, ``net_max``: kW; the range of the owner's net rate (``-inf`` without a load
  limit; 0 for pure generation; the generation capacity above).
* ``min_ratio`` 0.001: the clip of the critical ratio.
* ``battery``: the household's battery, if any (the factory passes it).
* the rest as :class:`~agents.intermittent.IntermittentProsumer`.

Cost: the prototype's plus one inverse normal CDF per managed slot (≈ 1 µs). On the C engine
the decision runs compiled (:class:`rex_env._core.NewsvendorCore`: the prototype's core with
this target; the same instructions, ``tests/agents/test_compiled_agents.py``); this module
stays the reference.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from statistics import NormalDist

from rex_env import _core
from rex_env.physics import Battery
from rex_env.sim.agent_api import Instruction, MarketView, OwnerView

from .base import check_number
from .intermittent import IntermittentProsumer

_STD = NormalDist()


def imbalance_values(mode: str, price: float, *, premium: float = 0.0, fee: float = 0.0,
                     voll: float = 3000.0, consumption_value: float = 0.0,
                     short_premium: float = 0.0, surplus_discount: float = 0.0
                     ) -> tuple[float, float]:
    """What a unit of imbalance is worth under a settlement mode (currency/MWh).

    Args:
        mode: ``single``, ``dual`` or ``curtail``.
        price: the slot's traded price ``p``.
        premium, fee: dual mode's penalty parameters.
        voll: curtail mode's value of lost load.
        consumption_value: curtail mode; value of the owner's unserved consumption.
        short_premium, surplus_discount: single mode; expected imbalance price above (for a
            shortfall) and below (for a surplus) the traded price.

    Returns:
        ``(d, s)``: the cost of a unit of shortfall and the credit of a unit of surplus.

    Raises:
        ValueError: an unknown mode.
    """
    if mode == "curtail":
        return voll + consumption_value, 0.0
    if mode == "dual":
        k = 1.0 + premium
        d = (price * k if price >= 0 else price / k) + fee
        s = (price / k if price >= 0 else price * k) - fee
        return d, s
    if mode == "single":
        return price + short_premium, price - surplus_discount
    raise ValueError(f"mode must be one of single, dual, curtail; got {mode!r}")


def critical_ratio(price: float, short_cost: float, surplus_value: float,
                   min_ratio: float = 0.0) -> float:
    """The newsvendor ratio ``(p - s) / (d - s)`` = c_under / (c_under + c_over).

    Clipped to [``min_ratio``, 1 - ``min_ratio``]; 1/2 when imbalance is priced like a trade
    (``d <= s``: no side is more costly than the other, the median is as good as any).
    """
    span = short_cost - surplus_value
    if span <= 0:
        return 0.5
    ratio = (price - surplus_value) / span
    return min(max(ratio, min_ratio), 1.0 - min_ratio)


def newsvendor_quantile(mu: float, sigma: float, ratio: float, lo: float = -math.inf,
                        hi: float = math.inf) -> float:
    """``mu + sigma * Phi^-1(ratio)``, clipped to ``[lo, hi]`` (Gaussian forecast error).

    Raises:
        ValueError: ``ratio`` outside (0, 1) or a negative ``sigma``.
    """
    if not 0.0 < ratio < 1.0:
        raise ValueError(f"ratio must be in (0, 1), got {ratio!r}")
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma!r}")
    q = mu if sigma == 0 else mu + sigma * _STD.inv_cdf(ratio)
    return min(max(q, lo), hi)


class NewsvendorProsumer(IntermittentProsumer):
    """Reserves the critical-ratio quantile of its forecast, with the prototype's order
    management.

    Args:
        owner: the participant it trades for.
        voll: curtail mode's value of lost load (currency/MWh, > 0).
        consumption_value: value of the owner's unserved consumption (currency/MWh, >= 0).
        short_premium, surplus_discount: single mode's expected imbalance price offsets
            (currency/MWh, >= 0).
        net_min, net_max: range of the owner's net rate in kW (``net_min <= net_max``).
        min_ratio: clip of the critical ratio, in (0, 0.5).
        battery: the owner's battery (a buffer at delivery), or None.
        **kw: :class:`~agents.intermittent.IntermittentProsumer` parameters (``settlement``,
            ``premium``, ``fee``, ...).

    Raises:
        ValueError: a parameter out of range, naming it and what is allowed.
    """

    COMPILED_CORE = _core.NewsvendorCore

    def __init__(self, owner: str, *, voll: float = 3000.0, consumption_value: float = 0.0,
                 short_premium: float = 0.0, surplus_discount: float = 0.0,
                 net_min: float = -math.inf, net_max: float = math.inf,
                 min_ratio: float = 0.001, battery: Battery | None = None,
                 **kw: float) -> None:
        super().__init__(owner, **kw)  # type: ignore[arg-type]
        check_number("voll", voll, 0, lo_open=True)
        check_number("consumption_value", consumption_value, 0)
        check_number("short_premium", short_premium, 0)
        check_number("surplus_discount", surplus_discount, 0)
        check_number("min_ratio", min_ratio, 0, 0.5, lo_open=True, hi_open=True)
        for name, v in (("net_min", net_min), ("net_max", net_max)):
            if not isinstance(v, (int, float)) or isinstance(v, bool) or math.isnan(v):
                raise ValueError(f"{name} must be a number (kW, may be infinite), got {v!r}")
        if net_min > net_max:
            raise ValueError(f"net_min ({net_min}) must be <= net_max ({net_max})")
        if battery is not None and not isinstance(battery, Battery):
            raise ValueError(f"battery must be a Battery or None, got {battery!r}")
        self.battery = battery
        self.voll = float(voll)
        self.consumption_value = float(consumption_value)
        self.short_premium = float(short_premium)
        self.surplus_discount = float(surplus_discount)
        self.net_min = float(net_min)
        self.net_max = float(net_max)
        self.min_ratio = float(min_ratio)
        self._market: MarketView | None = None

    def ratio(self, price: float) -> float:
        """The critical ratio at a traded price ``price`` (currency/MWh)."""
        d, s = imbalance_values(
            self.settlement, price, premium=self.premium, fee=self.fee_ticks * self.tick,
            voll=self.voll, consumption_value=self.consumption_value,
            short_premium=self.short_premium, surplus_discount=self.surplus_discount)
        return critical_ratio(price, d, s, self.min_ratio)

    def reservation_kw(self, mu: float, sigma: float, price: float,
                       buffer_kw: tuple[float, float] = (0.0, 0.0)) -> float:
        """The net rate to reserve (kW, production > 0) for a forecast ``mu`` ± ``sigma``.

        ``buffer_kw`` = (charge C, discharge D) the battery can add at delivery (kW, >= 0).
        """
        ratio = self.ratio(price)
        q = newsvendor_quantile(mu, sigma, ratio)
        c, d = buffer_kw
        if ratio < 0.5:
            q = min(mu, q + d)
        elif ratio > 0.5:
            q = max(mu, q - c)
        return min(max(q, self.net_min), self.net_max)

    def target(self, me: OwnerView, slot: int, now: int) -> int:
        """Target position in lots: minus the newsvendor reservation (bought > 0)."""
        mu, sigma = me.forecast(slot, now)
        m = self._market
        ticks = self.fair_price(m, slot) if m is not None else self.ref_ticks
        buffer = (0.0, 0.0)
        pro = me.prosumer
        if self.battery is not None and pro is not None:
            lo, hi = self.battery.feasible_rate_range(pro.soc_kwh, pro.schedule.slot_len)
            buffer = (-lo, hi)
        return round(-self.reservation_kw(mu, sigma, ticks * self.tick, buffer) / self.lot)

    def act(self, market: MarketView, me: OwnerView) -> Iterable[Instruction]:
        self._market = market  # the public price the ratio is read at (see target)
        return super().act(market, me)
