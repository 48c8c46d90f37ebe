"""Who a market participant is and what it owns (pure data, SPEC §8 and §10)."""

from __future__ import annotations

from dataclasses import dataclass

from ..physics import Battery, Household, ProvisionPlant, PVSystem, WindFarm


@dataclass(frozen=True)
class ProsumerSpec:
    """Who a market participant is and what it owns; ``agent`` names what trades for it.

    Args:
        owner: the participant's id (orders, positions and cash are keyed by it).
        agent: the hand-coded agent that trades for it (``"intermittent"``, ``"plant"``,
            ``"storage"``, ``"zic"``, ``"ziu"``) or ``"learner"`` (an RL policy).
        params: agent parameters that override the agent's defaults.
        external: the wider grid behind the community (supplier of last resort): it owns no
            assets and delivers exactly what it reserved, so it never has an imbalance.
        zone: the zone it trades and delivers in (``""``: the scenario's single zone).
    """

    owner: str
    agent: str
    wind: WindFarm | None = None
    pv: PVSystem | None = None
    load: Household | None = None
    plant: ProvisionPlant | None = None
    battery: Battery | None = None
    params: tuple[tuple[str, float], ...] = ()
    external: bool = False
    zone: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.owner, str) or not self.owner:
            raise ValueError(f"owner must be a non-empty string, got {self.owner!r}")
        if not isinstance(self.zone, str):
            raise ValueError(f"{self.owner!r}: zone must be a string, got {self.zone!r}")
        if self.external and (self.has_uncontrollable or self.plant or self.battery):
            raise ValueError(f"{self.owner!r}: an external (grid) participant owns no assets")

    @property
    def capacity_kw(self) -> float:
        """The largest rate the prosumer can export or import (scale of its actions)."""
        cap = 0.0
        if self.wind is not None:
            cap += self.wind.capacity_kw
        if self.pv is not None:
            cap += self.pv.capacity_kw
        if self.plant is not None:
            cap += self.plant.capacity_kw
        if self.battery is not None:
            cap += self.battery.power_kw
        if self.load is not None:
            cap = max(cap, load_peak_kw(self.load))
        return cap

    @property
    def has_uncontrollable(self) -> bool:
        return self.wind is not None or self.pv is not None or self.load is not None


def load_peak_kw(load: Household) -> float:
    """A household's forecast-error scale: a high quantile of its mean profile (≈ 2x mean),
    plus its evening load (EV or heat pump) at full height."""
    return 2.0 * load.annual_kwh / 8760.0 + load.evening_kw
