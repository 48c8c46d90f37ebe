"""Zones and transmission lines of a scenario (README "Zones"; issue 17).

A scenario without zones is one zone, exactly as before. With zones, every prosumer names
its zone and each :class:`Line` is a directed path with a capacity in kW per delivery slot:
one number for every slot, or 24 numbers, one per local hour of the day of the slot's start
(a line that is derated at some hours).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_ZONES = 64
"""Most zones a scenario may have."""
MAX_LINE_KW = 1e7
"""Largest capacity of a line, kW per slot."""


@dataclass(frozen=True)
class Line:
    """A directed transmission path ``frm -> to`` (energy flows that way).

    Args:
        frm: the exporting zone.
        to: the importing zone.
        capacity_kw: kW per slot; a number, or 24 numbers (one per local hour of the day).
    """

    frm: str
    to: str
    capacity_kw: float | tuple[float, ...] = 0.0

    def __post_init__(self) -> None:
        for key in ("frm", "to"):
            v = getattr(self, key)
            if not isinstance(v, str) or not v:
                raise ValueError(f"line.{key} must be a non-empty zone name, got {v!r}")
        if self.frm == self.to:
            raise ValueError(f"line {self.frm}->{self.to} goes from a zone to itself")
        cap = self.capacity_kw
        if isinstance(cap, list):
            cap = tuple(cap)
            object.__setattr__(self, "capacity_kw", cap)
        values = cap if isinstance(cap, tuple) else (cap,)
        if isinstance(cap, tuple) and len(cap) != 24:
            raise ValueError(f"line {self.frm}->{self.to}: capacity_kw must be a number or 24 "
                             f"hourly numbers, got {len(cap)}")
        for v in values:
            if (not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v)
                    or not 0 <= v <= MAX_LINE_KW):
                raise ValueError(f"line {self.frm}->{self.to}: capacity_kw must be in "
                                 f"[0, {MAX_LINE_KW:g}] kW, got {v!r}")

    def kw_at(self, local_seconds: int) -> float:
        """The capacity of the slot that starts ``local_seconds`` after local midnight."""
        cap = self.capacity_kw
        if isinstance(cap, tuple):
            return float(cap[(local_seconds // 3600) % 24])
        return float(cap)


def check_zones(zones: tuple[str, ...], lines: tuple[Line, ...], prosumer_zones: dict[str, str],
                cross_gate_lead: int, open_lead: int, name: str) -> None:
    """A scenario's zones, lines and prosumer zones fit together (else ``ValueError``)."""
    if not isinstance(zones, tuple) or any(not isinstance(z, str) or not z for z in zones):
        raise ValueError(f"scenario {name!r}: zones must be a tuple of non-empty names, "
                         f"got {zones!r}")
    if len(set(zones)) != len(zones) or len(zones) > MAX_ZONES:
        raise ValueError(f"scenario {name!r}: zones must be unique and at most {MAX_ZONES}, "
                         f"got {list(zones)}")
    if not zones:
        if lines:
            raise ValueError(f"scenario {name!r}: lines need zones; declare zones first")
        zoned = sorted(o for o, z in prosumer_zones.items() if z)
        if zoned:
            raise ValueError(f"scenario {name!r}: prosumers {zoned[:5]} name a zone but the "
                             f"scenario declares none")
        return
    for owner, z in prosumer_zones.items():
        if z not in zones:
            raise ValueError(f"scenario {name!r}: prosumer {owner!r} is in zone {z!r}, which "
                             f"is not one of the zones {list(zones)}")
    seen: set[tuple[str, str]] = set()
    for line in lines:
        if not isinstance(line, Line):
            raise ValueError(f"scenario {name!r}: lines must be Line objects, got {line!r}")
        for z in (line.frm, line.to):
            if z not in zones:
                raise ValueError(f"scenario {name!r}: line {line.frm}->{line.to} names zone "
                                 f"{z!r}, which does not exist; zones: {list(zones)}")
        if (line.frm, line.to) in seen:
            raise ValueError(f"scenario {name!r}: line {line.frm}->{line.to} is declared twice")
        seen.add((line.frm, line.to))
    if (not isinstance(cross_gate_lead, int) or isinstance(cross_gate_lead, bool)
            or not 0 <= cross_gate_lead <= open_lead):
        raise ValueError(f"scenario {name!r}: cross_gate_lead must be an int of seconds in "
                         f"[0, {open_lead}] (before the local gate), got {cross_gate_lead!r}")
