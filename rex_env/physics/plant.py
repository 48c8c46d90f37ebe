"""Continuous provision plant: a dispatchable producer with costs and operating limits.

Units: output q in kW (>= 0, the plant only produces); marginal cost in currency/MWh;
``cost_b`` in currency/MWh per kW; cost of a slot in currency.

Operating limits (market_rules.md §3.6 `[design]`): the feasible outputs in a slot, given the
previous slot's output ``prev``, are

* 0 (off), if ``prev <= max(min_stable_kw, ramp_kw_per_slot)``: a shut-down is a ramp to zero
  that may cross the gap below the minimum stable output in one slot;
* any q in [max(min_stable_kw, prev - ramp), min(capacity, max(prev + ramp, min_stable_kw))];
  the ``max(..., min_stable_kw)`` lets a plant that is off start up to its minimum stable
  output in one slot even if that is more than one ramp.

With ``min_stable_kw = 0`` this is just the ramp band [max(0, prev - ramp), min(cap, prev + ramp)].
With ``min_stable_kw > 0`` outputs strictly between 0 and ``min_stable_kw`` are never feasible,
even when they lie inside the band :meth:`ProvisionPlant.feasible_range` returns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ._validate import check_nonnegative, check_positive


@dataclass(frozen=True)
class ProvisionPlant:
    """A dispatchable plant: it produces what it sold, within its limits.

    Attributes:
        capacity_kw: Maximum output in kW (> 0).
        min_stable_kw: Minimum output in kW while running, in [0, capacity_kw]; 0 means the
            plant can run at any level down to off.
        cost_a: Marginal cost at zero output, currency/MWh (may be negative, e.g. subsidies).
        cost_b: Slope of the marginal cost, currency/MWh per kW (>= 0: rising marginal cost).
        ramp_kw_per_slot: Largest change of output between consecutive slots, kW (> 0);
            ``math.inf`` = no ramp limit (default).
    """

    capacity_kw: float = 500.0
    min_stable_kw: float = 0.0
    cost_a: float = 60.0
    cost_b: float = 0.04
    ramp_kw_per_slot: float = math.inf

    def __post_init__(self) -> None:
        owner = "ProvisionPlant"
        check_positive(owner, "capacity_kw", self.capacity_kw)
        check_nonnegative(owner, "min_stable_kw", self.min_stable_kw)
        if self.min_stable_kw > self.capacity_kw:
            raise ValueError(
                "ProvisionPlant.min_stable_kw must be <= capacity_kw, got "
                f"min_stable_kw={self.min_stable_kw}, capacity_kw={self.capacity_kw}"
            )
        if not math.isfinite(self.cost_a):
            raise ValueError(f"ProvisionPlant.cost_a must be a finite number, got {self.cost_a!r}")
        check_nonnegative(owner, "cost_b", self.cost_b)
        check_positive(owner, "ramp_kw_per_slot", self.ramp_kw_per_slot, allow_inf=True)

    def marginal_cost(self, q_kw: float) -> float:
        """Marginal cost a + b q at output ``q_kw`` kW, in currency/MWh."""
        return self.cost_a + self.cost_b * q_kw

    def cost(self, output_kw: float, slot_len: int) -> float:
        """Cost in currency of producing ``output_kw`` for ``slot_len`` seconds.

        The integral of the marginal cost from 0 to q: (a q + b q^2 / 2) * hours / 1000
        (q in kW, a and b q in currency/MWh, /1000 converts kWh to MWh). Zero output costs 0.
        """
        if not output_kw >= 0.0:
            raise ValueError(f"output_kw must be >= 0, got {output_kw!r}")
        hours = slot_len / 3600.0
        return (self.cost_a * output_kw + 0.5 * self.cost_b * output_kw**2) * hours / 1000.0

    def can_switch_off(self, prev_output_kw: float) -> bool:
        """Whether output 0 is feasible in the slot after one with ``prev_output_kw``."""
        self._check_prev(prev_output_kw)
        return prev_output_kw <= max(self.min_stable_kw, self.ramp_kw_per_slot)

    def feasible_range(self, prev_output_kw: float) -> tuple[float, float]:
        """Band (lo, hi) of outputs reachable from ``prev_output_kw`` in one slot.

        lo == 0 means the plant may switch off; with ``min_stable_kw > 0`` the open gap
        (0, min_stable_kw) inside the band is still infeasible (see :meth:`is_feasible`).
        """
        self._check_prev(prev_output_kw)
        m, r = self.min_stable_kw, self.ramp_kw_per_slot
        hi = min(self.capacity_kw, max(prev_output_kw + r, m))
        lo = 0.0 if self.can_switch_off(prev_output_kw) else max(m, prev_output_kw - r)
        return lo, hi

    def is_feasible(self, output_kw: float, prev_output_kw: float, tol: float = 1e-9) -> bool:
        """Whether ``output_kw`` is reachable from ``prev_output_kw`` in one slot."""
        lo, hi = self.feasible_range(prev_output_kw)
        if output_kw == 0.0:
            return lo == 0.0
        return lo - tol <= output_kw <= hi + tol and output_kw >= self.min_stable_kw - tol

    def dispatch(self, target_kw: float, prev_output_kw: float) -> float:
        """Actual output (kW) when the plant tries to produce ``target_kw``.

        The target is clipped to the feasible band; a result in the gap (0, min_stable_kw)
        goes to 0 if switching off is allowed and it is below min_stable_kw / 2, else up to
        min_stable_kw (always within the band).
        """
        lo, hi = self.feasible_range(prev_output_kw)
        q = min(max(float(target_kw), lo), hi)
        m = self.min_stable_kw
        if 0.0 < q < m:
            q = 0.0 if (lo == 0.0 and q < 0.5 * m) else m
        return q

    def _check_prev(self, prev_output_kw: float) -> None:
        if not 0.0 <= prev_output_kw <= self.capacity_kw * (1.0 + 1e-12):
            raise ValueError(
                f"prev_output_kw must be in [0, capacity_kw={self.capacity_kw}], "
                f"got {prev_output_kw!r}"
            )
