"""Decoding actions into order instructions (actions -> orders, the env's only market logic).

**Box mode** (default): ``W x 2`` values in ``[-1, 1]``, one pair per window slot (nearest
delivery first):

* ``target``: the position to hold, *relative to the forecast reservation*: target position
  = ``-forecast_net_rate + target * capacity`` (kW, bought > 0). ``0`` reserves exactly the
  forecast (what the intermittent prototype does); ``±1`` buys / sells one full capacity more.
* ``aggressiveness``: the limit price: ``0`` takes at the touch (the best opposite quote),
  ``-1`` is passive (one tick inside the spread on its own side), ``+1`` reaches 5 % of the
  reference price beyond the touch (sweeping deeper levels); in between, linear. With
  ``pricing="make_take"`` the value is relative to the prototypes' make-take path
  (:func:`make_take_aggressiveness`): ``0`` is passive far from the gate, the touch 42 min
  before it and beyond the touch in the last half hour, a smooth function of the time to the
  gate shared with the intermittent prototype, so the zero action trades like it.

The decoder steers one working order per slot to the gap ``target - position``: it keeps an
unchanged order (time priority), modifies it, or cancels and replaces it. In a call phase
the price is capped at the passive level (the book does not match until it uncrosses).

**Price mode**: ``Box(-1, 1, (3,))`` = ``(level, slope, aggressiveness)``, one shared rule for
every open slot as a function of the slot's public wholesale price (:func:`price_scores`):
``target_j = clip(level + slope * z_j, -1, 1)`` (then as in box mode), where ``z_j`` is the
slot's price standardised over the open window. ``slope < 0`` buys the slots cheaper than the
window's mean and sells the dearer ones (a battery's arbitrage, a plant selling the dear
slots), ``level`` shifts every slot (from the state of charge the policy sees, say); a
3-dimensional action instead of ``2 W``. With ``feasible=True`` the most extreme prices get
the asset's room first (the storage prototype's rule 6: the cheapest bid, the dearest ask).
Under a flat tariff (no wholesale curve) every ``z_j`` is 0 and the mode is ``offset``.

**Discrete mode**: ``Discrete(1 + W * 2 * P * Q)``: action 0 does nothing; action
``1 + ((j * 2 + side) * P + p) * Q + q`` places (replacing the slot's working order) a limit
order in window slot ``j`` on ``side`` (0 buy, 1 sell) at price level ``p`` (passive ->
touch -> deep) for ``size_levels[q]`` of capacity (:func:`order_lots`, at least one lot).
:func:`discrete_mask` marks the actions that name an open slot and keep the position within
``±2`` capacities even if the order fills completely; the env enforces the mask (a masked
action is a counted no-op).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from ..exchange import OrderRecord, Phase, Side, Status, Tif
from ..sim.agent_api import Instruction, MarketView, cancel, make_take_urgency, modify, submit
from ..spec.schedule import SlotSchedule

# Enum members as module constants: an attribute lookup on an Enum class costs ~70 ns, and the
# decoders run for every window slot of every learner at every step
_BUY, _SELL, _RESTING, _CALL = Side.BUY, Side.SELL, Status.RESTING, Phase.CALL


def price_for(market: MarketView, slot: int, side: Side, a: float, ref: int,
              bounds: tuple[int, int]) -> int:
    """Limit price (ticks) for aggressiveness ``a`` in [-1, 1].

    ``a = 0`` is the *touch*: the best opposite quote (takes what is offered there);
    ``a -> -1`` moves to the passive price (one tick inside the spread on its own side);
    ``a -> +1`` goes beyond the touch by up to 5 % of the reference price (sweeps deeper
    levels). Without quotes, the reference price stands in. In a call phase the price is
    capped at the passive level: nothing matches before the uncross anyway.
    """
    bid, ask = market.quotes(slot)
    margin = max(1, ref // 20)
    if side is _BUY:
        touch = ask if ask is not None else ref
        passive = bid + 1 if bid is not None else ref - margin
        passive = min(passive, touch - 1)
        deep = touch + margin
    else:
        touch = bid if bid is not None else ref
        passive = ask - 1 if ask is not None else ref + margin
        passive = max(passive, touch + 1)
        deep = touch - margin
    if market.phase(slot) is _CALL:
        a = -1.0
    p = touch + (-a) * (passive - touch) if a <= 0 else touch + a * (deep - touch)
    p = math.floor(p) if side is _BUY else math.ceil(p)
    return min(max(p, bounds[0]), bounds[1])


def make_take_aggressiveness(a: float, schedule: SlotSchedule, slot: int, now: int,
                             step_s: int = 0) -> float:
    """Aggressiveness ``a`` relative to the make-take path (``pricing="make_take"``).

    The prototypes' price follows :func:`~rex_env.sim.agent_api.make_take_urgency` ``u`` of
    the time to the slot's gate (0 passive far from the gate, 1 the touch 42 min before it, 2
    the limit at the gate); in :func:`price_for`'s scale that is ``u - 1`` (-1 passive, 0 the
    touch, +1 the deep price 5 % of the reference beyond it). The policy's ``a`` shifts that
    path: ``0`` follows it, ``-1`` is one whole scale more patient, ``+1`` more aggressive.
    At a slot's last decision (the gate 1 step away) the path is already beyond the touch
    (``u - 1`` = 0.56 with 15-minute steps), so what is left fills without a knife edge at
    the touch. ``step_s`` is accepted for callers of the first version; the path no longer
    needs it (it is smooth, with no last-decision rule).
    """
    left = schedule.close_time(slot) - now
    return min(1.0, max(-1.0, make_take_urgency(left) - 1.0 + a))


class OrderSteer:
    """One working order per slot for one learner; turns a desired (gap, price) into
    instructions with as little churn as possible."""

    __slots__ = ("working",)

    def __init__(self) -> None:
        self.working: dict[int, OrderRecord] = {}

    def reset(self) -> None:
        self.working = {}

    def live(self, slot: int) -> OrderRecord | None:
        o = self.working.get(slot)
        if o is not None and o.status is not _RESTING:
            del self.working[slot]
            return None
        return o

    def steer(self, slot: int, gap: int, price: int, out: list[Instruction]) -> None:
        w = self.live(slot)
        side = _BUY if gap > 0 else _SELL
        size = abs(gap)
        if w is not None:
            if size == 0 or w.side is not side:
                out.append(cancel(w.order_id))  # type: ignore[arg-type]
                del self.working[slot]
            elif w.price == price and w.rate == size:
                return
            else:
                out.append(modify(w.order_id, price, size))  # type: ignore[arg-type]
                return
        if size:
            out.append(submit(side, slot, price, size, Tif.GTC))

    def note(self, ins: Instruction, order: OrderRecord | None) -> None:
        """Remember a newly resting order placed by ``ins``."""
        if order is not None and order.status is _RESTING and ins.op == "submit":
            self.working[order.first_slot] = order

    def signed_rate(self, slot: int) -> tuple[int, int | None]:
        """(signed open lots, price) of the slot's working order, (0, None) if none."""
        w = self.live(slot)
        if w is None:
            return 0, None
        return (w.rate if w.side is _BUY else -w.rate), w.price


def price_scores(prices: NDArray[np.float64], floor: float) -> NDArray[np.float64]:
    """Each slot's price standardised over the slots given: ``(p - mean) / max(std, floor)``
    (``floor`` > 0, currency/MWh, keeps a nearly flat window from amplifying noise)."""
    if not len(prices):
        return np.zeros(0)
    return (prices - prices.mean()) / max(float(prices.std()), floor)


def price_targets(level: float, slope: float, z: NDArray[np.float64]) -> NDArray[np.float64]:
    """Price mode's per-slot targets in ``[-1, 1]``: ``clip(level + slope * z, -1, 1)``."""
    return np.clip(level + slope * z, -1.0, 1.0)


def discrete_table(window: int, price_levels: int, size_levels: tuple[float, ...]
                   ) -> NDArray[np.int64]:
    """Rows ``(slot j, side 0/1, price level, size level)`` of actions ``1..n``."""
    rows = [(j, s, p, q) for j in range(window) for s in range(2)
            for p in range(price_levels) for q in range(len(size_levels))]
    return np.array(rows, dtype=np.int64).reshape(-1, 4)


def order_lots(size_level: float, cap_lots: float) -> int:
    """Lots of a discrete order of ``size_level`` capacities (at least one lot)."""
    return max(1, round(size_level * cap_lots))


def discrete_mask(n_open: int, position_frac: NDArray[np.float64], table: NDArray[np.int64],
                  size_levels: tuple[float, ...], limit: float = 2.0) -> NDArray[np.int8]:
    """1 for valid actions: no-op always; an order only in an open slot and only if it keeps
    the position within ``±limit`` capacities.

    ``size_levels`` are the orders' true sizes in capacities (after rounding to lots, see
    :func:`order_lots`), so a valid order can never carry the position beyond the limit.
    """
    mask = np.zeros(1 + len(table), np.int8)
    mask[0] = 1
    j, side, q = table[:, 0], table[:, 1], table[:, 3]
    sizes = np.asarray(size_levels)[q]
    pos = np.zeros(len(table))
    ok = j < n_open
    pos[ok] = position_frac[j[ok]]
    after = np.where(side == 0, pos + sizes, pos - sizes)
    mask[1:] = ok & (np.abs(after) <= limit + 1e-9)  # lots / capacity: float rounding only
    return mask
