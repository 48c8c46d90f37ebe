"""Battery storage with charge/discharge efficiencies and state-of-charge limits.

Sign convention (the project's): a rate > 0 is **discharge** to the grid (net production), a
rate < 0 is charging from the grid (net consumption). Rates in kW, energy in kWh, slot lengths
in integer seconds; a rate is held constant over the slot.

Energy bookkeeping over a slot of ``hours = slot_len / 3600`` at grid rate ``r``:

* discharge (r > 0): the grid receives r * hours; the state of charge falls by
  r * hours / eta_discharge; the loss is r * hours * (1 / eta_discharge - 1);
* charge (r < 0): the grid delivers -r * hours; the state of charge rises by
  -r * hours * eta_charge; the loss is -r * hours * (1 - eta_charge).

So for every slot: grid energy in - grid energy out = change of stored energy + losses
(:meth:`Battery.losses_kwh` gives the loss). The state of charge stays in
[soc_min * energy_kwh, soc_max * energy_kwh] and |rate| <= power_kw.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._validate import check_positive, check_range


@dataclass(frozen=True)
class Battery:
    """Parameters of a battery; its methods are pure functions of the state of charge.

    Attributes:
        energy_kwh: Usable nameplate energy capacity in kWh (> 0); default 13.5 (a home
            battery).
        power_kw: Largest charge and discharge rate at the grid connection, kW (> 0); default 5.
        eta_charge: Charging efficiency in (0, 1]; default 0.95.
        eta_discharge: Discharging efficiency in (0, 1]; default 0.95.
        soc_min: Lowest allowed state of charge, fraction of ``energy_kwh``, in [0, 1].
        soc_max: Highest allowed state of charge, fraction of ``energy_kwh``, in [soc_min, 1].
        initial_soc: State of charge at the start of an episode, fraction in [soc_min, soc_max].
    """

    energy_kwh: float = 13.5
    power_kw: float = 5.0
    eta_charge: float = 0.95
    eta_discharge: float = 0.95
    soc_min: float = 0.1
    soc_max: float = 0.9
    initial_soc: float = 0.5

    def __post_init__(self) -> None:
        owner = "Battery"
        check_positive(owner, "energy_kwh", self.energy_kwh)
        check_positive(owner, "power_kw", self.power_kw)
        for name in ("eta_charge", "eta_discharge"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0.0 < value <= 1.0):
                raise ValueError(f"Battery.{name} must be in (0, 1], got {value!r}")
        check_range(owner, "soc_min", self.soc_min, 0.0, 1.0)
        check_range(owner, "soc_max", self.soc_max, 0.0, 1.0)
        if self.soc_min > self.soc_max:
            raise ValueError(
                "Battery.soc_min must be <= soc_max, got "
                f"soc_min={self.soc_min}, soc_max={self.soc_max}"
            )
        check_range(owner, "initial_soc", self.initial_soc, self.soc_min, self.soc_max)

    @property
    def min_energy_kwh(self) -> float:
        """Lowest allowed stored energy, kWh."""
        return self.soc_min * self.energy_kwh

    @property
    def max_energy_kwh(self) -> float:
        """Highest allowed stored energy, kWh."""
        return self.soc_max * self.energy_kwh

    @property
    def initial_energy_kwh(self) -> float:
        """Stored energy at the start of an episode, kWh."""
        return self.initial_soc * self.energy_kwh

    def feasible_rate_range(self, soc_kwh: float, slot_len: int) -> tuple[float, float]:
        """Grid rates (min_rate <= 0 <= max_rate, kW) holdable for a whole slot from ``soc_kwh``.

        max_rate discharges down to the SoC floor at most; min_rate (charging) fills up to the
        SoC ceiling at most; both within the power limit.
        """
        self._check_soc(soc_kwh)
        hours = self._hours(slot_len)
        headroom = max(0.0, self.max_energy_kwh - soc_kwh)
        available = max(0.0, soc_kwh - self.min_energy_kwh)
        max_rate = min(self.power_kw, available * self.eta_discharge / hours)
        min_rate = -min(self.power_kw, headroom / (self.eta_charge * hours))
        return min_rate, max_rate

    def apply(self, soc_kwh: float, rate_kw: float, slot_len: int) -> tuple[float, float]:
        """Run the battery for one slot at (clipped) grid rate ``rate_kw``.

        Returns:
            (actual_rate_kw, new_soc_kwh): the requested rate clipped to
            :meth:`feasible_rate_range`, and the stored energy after the slot.
        """
        lo, hi = self.feasible_rate_range(soc_kwh, slot_len)
        rate = min(max(float(rate_kw), lo), hi)
        new_soc = soc_kwh - self.stored_change_kwh(rate, slot_len)
        # Rounding can leave new_soc an ulp outside the band; a bound that binds lands on it.
        new_soc = min(max(new_soc, self.min_energy_kwh), self.max_energy_kwh)
        return rate, new_soc

    def stored_change_kwh(self, rate_kw: float, slot_len: int) -> float:
        """Decrease of stored energy (kWh) when running at grid rate ``rate_kw`` for a slot."""
        hours = self._hours(slot_len)
        if rate_kw >= 0.0:
            return rate_kw * hours / self.eta_discharge
        return rate_kw * hours * self.eta_charge

    def rate_for_stored_change(self, change_kwh: float, slot_len: int) -> float:
        """The grid rate (kW) whose :meth:`stored_change_kwh` is ``change_kwh``: its inverse
        (piecewise linear and increasing), ignoring the power and SoC limits."""
        hours = self._hours(slot_len)
        if change_kwh >= 0.0:
            return change_kwh * self.eta_discharge / hours
        return change_kwh / (hours * self.eta_charge)

    def losses_kwh(self, rate_kw: float, slot_len: int) -> float:
        """Energy lost (kWh, >= 0) in conversion when running at ``rate_kw`` for a slot."""
        grid_out = rate_kw * self._hours(slot_len)  # > 0: delivered to the grid
        return self.stored_change_kwh(rate_kw, slot_len) - grid_out

    def _check_soc(self, soc_kwh: float) -> None:
        tol = 1e-9 * max(1.0, self.energy_kwh)
        if not self.min_energy_kwh - tol <= soc_kwh <= self.max_energy_kwh + tol:
            raise ValueError(
                f"soc_kwh must be in [{self.min_energy_kwh}, {self.max_energy_kwh}] kWh, "
                f"got {soc_kwh!r}"
            )

    @staticmethod
    def _hours(slot_len: int) -> float:
        if not slot_len > 0:
            raise ValueError(f"slot_len must be > 0 seconds, got {slot_len!r}")
        return slot_len / 3600.0


@dataclass
class BatteryState:
    """A battery's mutable state of charge, for callers that prefer an object to pure calls.

    Attributes:
        battery: The (frozen) parameters.
        soc_kwh: Stored energy in kWh.
        losses_kwh: Conversion losses accumulated by :meth:`step`, kWh.
    """

    battery: Battery
    soc_kwh: float
    losses_kwh: float = 0.0

    def __post_init__(self) -> None:
        self.battery._check_soc(self.soc_kwh)

    @classmethod
    def initial(cls, battery: Battery) -> BatteryState:
        """A state at the battery's ``initial_soc``."""
        return cls(battery, battery.initial_energy_kwh)

    def step(self, rate_kw: float, slot_len: int) -> float:
        """Run one slot at ``rate_kw`` (clipped); returns the actual grid rate in kW."""
        rate, self.soc_kwh = self.battery.apply(self.soc_kwh, rate_kw, slot_len)
        self.losses_kwh += self.battery.losses_kwh(rate, slot_len)
        return rate
