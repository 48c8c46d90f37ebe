"""Feasible by construction: clip a learner's per-slot target positions to what its
controllable asset can deliver *whatever fills* (``EnvConfig.feasible``, on by default).

The battery and the plant are dispatched at delivery toward the owner's position
(:meth:`rex_env.sim.prosumer.Prosumer.realize`); what they cannot follow is imbalance. A
learner steers one working order per slot toward its target, so each undelivered slot ``k``
ends somewhere in the interval between its current position ``c_k`` and its target ``t_k``
(partial fills, in any combination over slots). The projection walks the undelivered slots in
delivery order (nearest first, so the nearest slots get the room first, as the storage
prototype's sell side does) and moves each ``t_k`` toward ``c_k`` just enough that *every*
combination of fills stays deliverable:

* **battery** (:func:`battery_targets`): with every interval at its most-discharging end the
  state of charge stays above the SoC floor after every slot, with every interval at its
  most-charging end below the ceiling (any mix of fills lies between these two paths: the
  stored energy is monotone in each slot's rate), and every rate within the power limit. This
  is the storage prototype's rule 5 (``agents/storage.py``) in the decoder.
* **plant** (:func:`plant_targets`): outputs in ``[0, capacity]`` and, for any fills, within
  the ramp limit of the neighbouring slots: the slot before the first undelivered one is the
  plant's last output, the slot after the last open one its current position (nothing sold
  yet, so it may still be 0), as in the plant prototype's rule 4.

Positions are in lots (bought > 0). The asset must supply ``x_k = -lot_kw * p_k - u_k`` (kW,
export > 0), where ``u_k`` is the *forecast* net rate of the owner's uncontrollable assets
(PV, load, wind; 0 for a pure battery or plant). A PV + battery household's battery buffers
that forecast, as the prototypes assume: the projection is exact for a pure battery or plant,
and for a household it is exact up to its forecast error (the battery cannot cover an error
it does not know about; that remains imbalance and is the policy's hedging problem). The
projection only ever moves a target toward the current position, so a position that is
already infeasible (a forecast revision, an order placed before) can always be traded back
toward feasibility, never further away. A plant's minimum stable output (0 in every preset)
is not modelled: a position inside ``(0, min_stable_kw)`` is dispatched by the physics rule.

The physics (efficiencies, power, SoC limits, ramp, capacity) come from the asset objects
(:class:`rex_env.physics.Battery`, :class:`rex_env.physics.ProvisionPlant`): no constant is
repeated here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..physics import Battery, ProvisionPlant

_EPS = 1e-9


def _lots_at_most(x_kw: float, lot_kw: float, u_kw: float) -> int:
    """The lowest position (lots) whose asset rate is at most ``x_kw``."""
    return math.ceil((-x_kw - u_kw) / lot_kw - _EPS)


def _lots_at_least(x_kw: float, lot_kw: float, u_kw: float) -> int:
    """The highest position (lots) whose asset rate is at least ``x_kw``."""
    return math.floor((-x_kw - u_kw) / lot_kw + _EPS)


def battery_targets(battery: Battery, soc_kwh: float, slot_len: int, lot_kw: float,
                    forecast_kw: Sequence[float], current: Sequence[int],
                    target: Sequence[int], order: Sequence[int] | None = None) -> list[int]:
    """Targets (lots) clipped so that a battery can follow any fill of every slot.

    Args:
        battery: the owner's battery (power, efficiencies, SoC limits).
        soc_kwh: its stored energy now, before the first slot of the sequences.
        slot_len: seconds per slot.
        lot_kw: kW per lot.
        forecast_kw: forecast net rate of the owner's uncontrollable assets per slot (kW).
        current: the positions now (lots), every undelivered slot in delivery order.
        target: the wanted positions (lots); ``target[k] == current[k]`` for a slot whose
            position cannot change any more (closed, in delivery).

        order: the slots' indices in the order they get room (default: delivery order); the
            projection is feasible for any order, the order only decides who gets the room.

    Returns:
        The projected targets: each between ``current[k]`` and ``target[k]``.
    """
    n = len(current)
    rate = [-lot_kw * current[k] - forecast_kw[k] for k in range(n)]
    lo: list[float] = []  # stored energy after each slot, every interval at max discharge
    e = soc_kwh
    for x in rate:
        e -= battery.stored_change_kwh(x, slot_len)
        lo.append(e)
    hi = list(lo)  # ... at max charge (both start at the current positions)
    out = list(target)
    power = battery.power_kw
    for k in range(n) if order is None else order:
        c, t, u, x = current[k], target[k], forecast_kw[k], rate[k]
        if t == c:
            continue
        now = battery.stored_change_kwh(x, slot_len)
        if t < c:  # sell more: discharge more in slot k
            room = max(0.0, min(lo[k:]) - battery.min_energy_kwh)
            x_max = min(power, battery.rate_for_stored_change(now + room, slot_len))
            p = min(c, max(t, _lots_at_most(x_max, lot_kw, u)))
            d = battery.stored_change_kwh(-lot_kw * p - u, slot_len) - now
            for j in range(k, n):
                lo[j] -= d
        else:  # buy more: charge more in slot k
            room = max(0.0, battery.max_energy_kwh - max(hi[k:]))
            x_min = max(-power, battery.rate_for_stored_change(now - room, slot_len))
            p = max(c, min(t, _lots_at_least(x_min, lot_kw, u)))
            d = now - battery.stored_change_kwh(-lot_kw * p - u, slot_len)
            for j in range(k, n):
                hi[j] += d
        out[k] = p
    return out


def plant_targets(plant: ProvisionPlant, prev_kw: float, lot_kw: float,
                  forecast_kw: Sequence[float], current: Sequence[int], target: Sequence[int],
                  next_kw: float | None, order: Sequence[int] | None = None) -> list[int]:
    """Targets (lots) clipped so that a plant can follow any fill of every slot.

    Args:
        plant: the owner's plant (capacity, ramp limit).
        prev_kw: its output in the last delivered slot.
        lot_kw: kW per lot.
        forecast_kw: forecast net rate of the owner's uncontrollable assets per slot (kW).
        current: the positions now (lots), every undelivered slot in delivery order.
        target: the wanted positions (lots); equal to ``current`` where it cannot change.
        next_kw: the output the slot after the last one needs at its current position, or
            ``None`` when the last slot ends the episode.

        order: the slots' indices in the order they get room (default: delivery order); the
            projection is feasible for any order, the order only decides who gets the room.

    Returns:
        The projected targets: each between ``current[k]`` and ``target[k]``.
    """
    n = len(current)
    r = plant.ramp_kw_per_slot
    cap = plant.capacity_kw
    lo = [-lot_kw * current[k] - forecast_kw[k] for k in range(n)]
    hi = list(lo)
    out = list(target)
    for k in range(n) if order is None else order:
        c, t, u = current[k], target[k], forecast_kw[k]
        if t == c:
            continue
        before = (prev_kw, prev_kw) if k == 0 else (lo[k - 1], hi[k - 1])
        after = (lo[k + 1], hi[k + 1]) if k + 1 < n else (
            None if next_kw is None else (next_kw, next_kw))
        if t < c:  # sell more: a higher output
            x_max = min(cap, before[0] + r)
            if after is not None:
                x_max = min(x_max, after[0] + r)
            p = min(c, max(t, _lots_at_most(x_max, lot_kw, u)))
            hi[k] = max(hi[k], -lot_kw * p - u)
        else:  # buy back: a lower output
            x_min = max(0.0, before[1] - r)
            if after is not None:
                x_min = max(x_min, after[1] - r)
            p = max(c, min(t, _lots_at_least(x_min, lot_kw, u)))
            lo[k] = min(lo[k], -lot_kw * p - u)
        out[k] = p
    return out
