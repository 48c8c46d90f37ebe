"""The intermittent prosumer (SPEC §10.1): reserve the forecast, manage make-take to the gate.

It owns uncontrollable generation and/or load (wind, PV, household) and needs no clever
forecasting. Its rules:

1. **Target = minus the forecast.** For every open slot it targets the position (bought > 0)
   ``round(-forecast net rate / lot)``: it sells forecast surplus and buys forecast deficit,
   and revises as the forecast updates. Under a symmetric imbalance price the expected
   imbalance cost is smallest at the forecast (it is unbiased, SPEC §8); rounding to the lot
   is the best a lot-granular order can do.
2. **Make-take.** The working order of a slot is priced passively early — one tick better than
   the other participants' best quote, so it *earns* the spread from impatient traders — and
   moves with the urgency ``u = 2 exp(-time to gate / tau)``
   (:func:`rex_env.sim.agent_api.make_take_urgency`, the one function the env's make-take
   decoder shares): ``u`` from 0 to 1 moves the price from passive to the touch, from 1 to 2
   on from the touch to its no-loss limit. Its patience ``tau`` is drawn per episode
   uniformly from ``patience`` (30 min - 2 h; the env's decoder uses 1 h): with 1 h it stays
   patient for most of the 6 h window (``u`` = 0.10 three hours before the gate), reaches
   the touch 42 min before the gate and its limit at the gate — a smooth function of the
   time to the gate, not a step; the spread of patience across prosumers spreads their
   crossing over the last hours instead of one burst.
3. **Re-trade on revisions.** Forecasts are revised continuously (every
   ``Scenario.forecast_update_s``, at the prosumer's own phase); every wake-up re-targets, so
   each revision is traded as it arrives, more urgently the nearer the gate: trading volume
   rises smoothly toward the gate. What is left at the gate is imbalance.
4. **No-loss limits: never pay more than the imbalance would cost.** Staying in imbalance is
   the alternative to trading, so it never buys above (sells below) what the imbalance is
   expected to settle at, read from the settlement rule (SPEC §9) and the slot's public VWAP
   ``v`` (the slot's wholesale price, or with flat tariffs the reference price, before the
   first trade): ``single`` with flat tariffs: ``v (1 ± cushion)`` (the scarcity adder moves
   the price with the system imbalance, which it cannot see; the cushion is its risk margin);
   ``single`` against a wholesale-indexed grid: the grid's quotes below (where prices swing
   between the grid's bid and ask within a slot, a band around the VWAP left a 60 kW wind
   farm in 160 kWh/day of imbalance and a negative surplus under the scarcity adder; with the
   grid's quotes as limits: 30-40 kWh/day and a positive surplus); ``dual``: ``v (1 +
   premium) + fee`` and ``v / (1 + premium) - fee`` (the penalty prices, with ``v`` standing
   for the slot's high and low);
   ``curtail``: unserved load loses its value, spilled output earns nothing, so only the
   absolute limits apply. Always within ``[min_sell, max_buy]``: by default the grid's
   retail ask of the slot (``market.curve``: it never buys for more than the grid charges)
   and the lower of zero and the grid's feed-in bid (renewable output has no marginal cost;
   when the grid's bid is negative it sells there rather than stay long; when the community's
   export capacity is used up it sells below the grid's bid, down to zero); with flat tariffs
   the retail tariff and zero.

What is left is imbalance it cannot avoid: in the community preset the tracking error at the
gate (final position minus the last forecast it could see) is zero; the imbalance is the
error of that forecast (lead 30 min: forecasts are revised every slot, and the revision of
lead 15 min is published at the second the gate closes) plus the rounding to the 0.1 kW lot,
which is most of it for a 0.4 kW household.

Parameters and why:

* ``period`` 300 s: forecasts are revised every slot (900 s); three looks per revision let it
  follow the book without flooding it.
* ``slots_per_wake`` 6: the nearest half of them at every wake-up (they are urgent), the rest
  round-robin over the far slots (each far slot is revisited every ~40 min; far forecasts move
  slowly).
* ``deadband`` 1 lot: a change of the gap smaller than this does not move a patient order
  (keeps its priority, avoids churn).
* the urgency's time constant 1 h (:data:`rex_env.sim.agent_api.URGENCY_TAU_S`): the old
  path (passive to the touch as the square of the elapsed share of the window, then the limit
  in the last 600 s) reached 68 % of the way to the touch 1 h before the gate; this one 74 %.
* ``cushion`` 0.2: in single pricing a short (long) owner pays (receives) the VWAP moved by
  the scarcity adder; 20 % covers a system imbalance of the size of the community's load in
  the community preset.
* ``settlement`` (mode, premium, fee): taken from the scenario by
  :func:`agents.make_agent`.

Cost: one :meth:`act` handles ``slots_per_wake`` slots with O(1) work each (a forecast lookup,
the positions of all its slots in one query, the best quotes in one query; a slot already
reserved as forecast costs ~1 µs): ≈ 17 µs on average in a community day (8,870 acts; 30 µs
before the agents' queries went to the exchange directly, issue 12). On the C engine the same
decision runs compiled (:data:`rex_env._core.COMPILED_AGENTS`,
:class:`rex_env._core.IntermittentCore`: the slot choice, positions, targets, liveness,
limits, make-take prices and steering in C, only the instruction records in Python): ≈ 5.4 µs;
the Python code here stays the reference it is tested against at every wake-up
(``tests/agents/test_compiled_agents.py``).
"""

from __future__ import annotations

from collections.abc import Iterable

from rex_env import _core
from rex_env.exchange import Phase, Side, Status
from rex_env.sim.agent_api import (
    URGENCY_TAU_S,
    Instruction,
    MarketView,
    OwnerView,
    make_take_urgency,
)
from rex_env.spec.kinds import SETTLEMENT_MODES

from .base import SlotTrader, ceil_ticks, check_number, floor_ticks

# Enum members as module constants: an attribute lookup on an Enum class costs ~70 ns, and
# the hot paths compare sides and statuses for every slot of every wake-up
_BUY, _SELL, _CONTINUOUS, _RESTING = Side.BUY, Side.SELL, Phase.CONTINUOUS, Status.RESTING



class IntermittentProsumer(SlotTrader):
    """Reserves its forecast net rate in every open slot with make-take management.

    On the C engine it decides with its compiled twin (:data:`COMPILED_CORE`, ≈ 3x faster,
    the same instructions; :meth:`SlotTrader._compiled`).

    Args:
        owner: the participant it trades for.
        period: seconds between wake-ups.
        deadband: lots; smaller changes of a patient order's size are ignored (int >= 0).
        max_buy: currency/MWh, the highest price it pays (``None``: the grid's ask in the
            slot).
        min_sell: currency/MWh, the lowest price it accepts (<= ``max_buy``; ``None``: the
            lower of 0 and the grid's bid in the slot).
        slots_per_wake: slots it manages per wake-up (int >= 1).
        settlement: imbalance mode of the market, ``single``, ``dual`` or ``curtail``.
        premium, fee: the dual mode's penalty parameters (fraction, currency/MWh; >= 0).
        cushion: fraction >= 0; single mode's margin around the VWAP.
        patience: ``(low, high)`` seconds (60 <= low <= high): the range of the urgency's time
            constant, drawn per episode.
        **kw: :class:`~agents.base.SlotTrader` parameters.

    Raises:
        ValueError: a parameter out of range, naming it and what is allowed.
    """

    COMPILED_CORE = _core.IntermittentCore
    COMPILED_WAKE = "intermittent"

    def __init__(self, owner: str, *, period: int = 300, deadband: int = 1,
                 max_buy: float | None = None, min_sell: float | None = None,
                 slots_per_wake: int = 6,
                 settlement: str = "single", premium: float = 0.2, fee: float = 5.0,
                 cushion: float = 0.2, patience: tuple[float, float] = (1800.0, 7200.0),
                 **kw: float) -> None:
        super().__init__(owner, period=period, **kw)  # type: ignore[arg-type]
        check_number("deadband", deadband, 0, integer=True)
        if max_buy is not None:
            check_number("max_buy", max_buy)
        if min_sell is not None:
            check_number("min_sell", min_sell)
        check_number("slots_per_wake", slots_per_wake, 1, integer=True)
        if max_buy is not None and min_sell is not None and max_buy < min_sell:
            raise ValueError(f"max_buy ({max_buy}) must be >= min_sell ({min_sell})")
        if settlement not in SETTLEMENT_MODES:
            raise ValueError(f"settlement must be one of {', '.join(SETTLEMENT_MODES)}; got "
                             f"{settlement!r}")
        check_number("premium", premium, 0)
        check_number("fee", fee, 0)
        check_number("cushion", cushion, 0)
        if not (isinstance(patience, tuple) and len(patience) == 2):
            raise ValueError(f"patience must be a (low, high) pair of seconds, got {patience!r}")
        check_number("patience[0]", patience[0], 60)
        check_number("patience[1]", patience[1], patience[0])
        self.patience = (float(patience[0]), float(patience[1]))
        self.tau_s = URGENCY_TAU_S
        self.settlement = settlement
        self.premium = float(premium)
        self.fee_ticks = fee / self.tick
        self.cushion = float(cushion)
        self.deadband = int(deadband)
        self.max_buy = None if max_buy is None else floor_ticks(max_buy, self.tick)
        self.min_sell = None if min_sell is None else ceil_ticks(min_sell, self.tick)
        self.slots_per_wake = int(slots_per_wake)

    def reset(self, rng):  # type: ignore[no-untyped-def]
        """Episode start; draws this episode's patience (the urgency's time constant)."""
        super().reset(rng)
        lo, hi = self.patience
        self.tau_s = lo if hi <= lo else self._py.uniform(lo, hi)

    def target(self, me: OwnerView, slot: int, now: int) -> int:
        """Target position in lots: minus the forecast net rate (bought > 0)."""
        return round(-me.forecast(slot, now)[0] / self.lot)

    def targets(self, me: OwnerView, slots: list[int], now: int) -> list[int]:
        """:meth:`target` of each of ``slots``.

        Deliberate micro-optimisation: unless a subclass has its own :meth:`target`, the
        forecast is read from the prosumer in one comprehension (two Python calls a slot fewer;
        this runs for ~130 k slots in 300 env steps)."""
        if type(self).target is not IntermittentProsumer.target or me.prosumer is None:
            return [self.target(me, k, now) for k in slots]
        forecast, lot = me.prosumer.forecast, self.lot
        return [round(-forecast(k, now)[0] / lot) for k in slots]

    def act(self, market: MarketView, me: OwnerView) -> Iterable[Instruction]:
        slots = market.open_slots()
        if not len(slots):
            return []
        now = market.now
        core = self._compiled(market)
        if core is not None:  # the same decision, compiled (the slot choice and targets too)
            out = core.act(self, slots, now, self.working, me.prosumer, self.owner)
            if out is not None:
                return out
        chosen = self.chosen_slots(slots)
        held = me.positions(chosen)
        wants = self.targets(me, chosen, now)
        # bound once per wake-up: this loop runs for ~90 k slots a simulated day
        close_time, working = market.schedule.close_time, self.working
        tau_s, deadband = self.tau_s, self.deadband
        out = []
        for slot, held_k, want in zip(chosen, held, wants, strict=True):
            gap = want - held_k
            w = working.get(slot)  # self.live(slot) inlined (deliberate: the hottest loop)
            if w is not None and w.status is not _RESTING:
                del working[slot]
                w = None
            if w is None:
                if gap == 0:
                    continue  # reserved as forecast, nothing working: nothing to do
                u = None
            else:
                u = make_take_urgency(close_time(slot) - now, tau_s)
                if abs(gap - (w.rate if w.side is _BUY else -w.rate)) < deadband and u < 0.5:
                    continue  # a patient order of the right size keeps its price and priority
            out += self.order_for(market, slot, gap, u)
        return out

    def bounds(self, market: MarketView, slot: int) -> tuple[int, int]:
        """``(min_sell, max_buy)`` in ticks: the configured ones, else the grid's quotes."""
        curve = market.curve
        lo, hi = self.min_sell, self.max_buy
        if lo is None or hi is None:
            bid, ask = curve.quotes_ticks(slot) if curve is not None else (0, self.ref_ticks * 3)
            if lo is None:  # the grid's bid, or 0 when that is higher: renewable output has no
                # marginal cost, and the grid's bid may be taken (its export capacity is limited)
                lo = min(bid, 0)
            if hi is None:
                hi = ask
        return lo, max(lo, hi)

    def limit(self, market: MarketView, slot: int, side: Side) -> int:
        """Rule 4: the highest price it pays (BUY) or lowest it accepts (SELL), in ticks."""
        min_sell, max_buy = self.bounds(market, slot)
        curve = market.curve
        if self.settlement == "curtail" or (
                self.settlement == "single" and curve is not None and not curve.flat):
            return max_buy if side is _BUY else min_sell
        v = market.vwap(slot)
        if v is not None:
            ref = v
        elif curve is not None and not curve.flat:
            ref = curve.price_ticks(slot)
        else:
            ref = float(self.ref_ticks)
        if self.settlement == "single":
            d = self.cushion * abs(ref)
            lim = ref + d if side is _BUY else ref - d
        elif side is _BUY:
            lim = (ref * (1 + self.premium) if ref >= 0 else ref / (1 + self.premium)) \
                + self.fee_ticks
        else:
            lim = (ref / (1 + self.premium) if ref >= 0 else ref * (1 + self.premium)) \
                - self.fee_ticks
        if side is _BUY:
            return min(max_buy, int(lim // 1))
        return max(min_sell, int(-(-lim // 1)))

    def order_for(self, market: MarketView, slot: int, gap: int, u: float | None = None
                  ) -> list[Instruction]:
        """The instructions that steer the slot's working order to trade ``gap`` lots;
        ``u``: the slot's urgency now if the caller has it already."""
        if gap == 0:
            return self.steer(market, slot, 0, 0)
        side = _BUY if gap > 0 else _SELL
        lim = self.limit(market, slot, side)
        if u is None:
            u = make_take_urgency(market.schedule.close_time(slot) - market.now, self.tau_s)
        own = self.working.get(slot)
        if u <= 1.0 or market.phase(slot) is not _CONTINUOUS:
            price = self.make_take_price(market, slot, side, 0.0, own=own, weight=min(u, 1.0))
        else:  # beyond the touch, toward the no-loss limit as the gate nears
            touch = self.make_take_price(market, slot, side, 0.0, own=own, weight=1.0)
            beyond = touch + (u - 1.0) * (lim - touch)
            price = int(beyond // 1) if side is _BUY else int(-(-beyond // 1))
        price = min(price, lim) if side is _BUY else max(price, lim)
        return self.steer(market, slot, gap, price)
