"""The zonal part of the observation (issue 17; README "Zones"): neighbours' quotes and lines.

In a scenario with zones, a learner trades in its own zone (``ProsumerSpec.zone``): its
LOB-3D features (:mod:`.observation`) are its zone's book. This module adds, after the
per-slot blocks and before the private state, for each window slot ``j`` (nearest delivery
first; all zeros when the slot is not open):

* ``slotJJ.cross_open``: 1 while the slot's cross-zonal gate is open (cross-zonal trading of
  a slot may end before its local gate, ``Scenario.cross_gate_lead``), else 0;
* for each neighbour ``i`` of the learner's zone (a zone linked to it by a path in either
  direction, in the scenario's zone order; ``nb_count`` is the largest number of neighbours
  any zone has, and the features of a missing neighbour are zeros):

  ======================  =====================================================================
  ``slotJJ.nbI.best_bid``  the neighbour's best bid (price feature, as the own book's: (price -
                           reference) / reference; 0 when absent)
  ``slotJJ.nbI.best_ask``  the neighbour's best ask (price feature)
  ``slotJJ.nbI.has_bid``   1 if the neighbour's book has a bid
  ``slotJJ.nbI.has_ask``   1 if it has an ask
  ``slotJJ.nbI.import``    capacity left on the path neighbour -> own zone
                           (:meth:`~rex_env.exchange.zones.ZonalExchange.capacity_left`)
  ``slotJJ.nbI.export``    capacity left on the path own zone -> neighbour
  ======================  =====================================================================

Capacities left are divided by the **line's rating** in that slot: the larger of the two
directions' declared capacities (0 when both are 0). So 1 is an idle line, 0 a full one, and a
counter-flow can free more than the rating (up to 2 on a symmetric line). The rating, not the
learner's capacity, because the feature is public (the same for every learner of the zone, so
:meth:`~rex_env.envs.parallel.RexParallelEnv.state` holds it once per zone) and because a
learner without assets has no capacity to speak of.

Every feature here is public. Single-zone scenarios have no zonal block at all: their layout
and values are exactly those of :mod:`.observation`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from ..exchange.zones import ZonalExchange
from ..scenarios import Scenario

NEIGHBOUR_FEATURES = ("best_bid", "best_ask", "has_bid", "has_ask", "import", "export")
"""Features of one neighbour in one slot (module docstring)."""


def zonal_feature_names(window: int, nb_count: int) -> list[str]:
    """Names of the zonal block: per slot ``cross_open`` then each neighbour's features."""
    names: list[str] = []
    for j in range(window):
        names.append(f"slot{j:02d}.cross_open")
        for i in range(nb_count):
            names.extend(f"slot{j:02d}.nb{i}.{f}" for f in NEIGHBOUR_FEATURES)
    return names


def neighbour_count(scenario: Scenario) -> int:
    """The largest number of neighbours of any zone of a scenario (the block's neighbour
    slots): zones linked by a line in either direction."""
    links: dict[str, set[str]] = {z: set() for z in scenario.zones}
    for line in scenario.lines:
        links[line.frm].add(line.to)
        links[line.to].add(line.frm)
    return max((len(v) for v in links.values()), default=0)


class ZonalBlock:
    """The zonal features of one zone, recomputed each step (one buffer per zone)."""

    def __init__(self, window: int, nb_count: int) -> None:
        self.window = window
        self.nb_count = nb_count
        self.per = 1 + nb_count * len(NEIGHBOUR_FEATURES)
        self.values: NDArray[np.float32] = np.zeros((window, self.per), np.float32)

    def fill(self, zx: ZonalExchange, zone: str, slots: Sequence[int], ref_ticks: float) -> None:
        """Write the features of ``zone`` for the open ``slots`` (at most ``window``)."""
        v = self.values
        v[:] = 0.0
        nf = len(NEIGHBOUR_FEATURES)
        neighbours = zx.neighbours(zone)
        for j, k in enumerate(slots[: self.window]):
            v[j, 0] = 1.0 if zx.cross_open(k) else 0.0
            for i, y in enumerate(neighbours):
                c = 1 + i * nf
                bid, ask = zx.best_bid(k, y), zx.best_ask(k, y)
                if bid is not None:
                    v[j, c] = (bid - ref_ticks) / ref_ticks
                    v[j, c + 2] = 1.0
                if ask is not None:
                    v[j, c + 1] = (ask - ref_ticks) / ref_ticks
                    v[j, c + 3] = 1.0
                rating = max(zx.capacity(y, zone, k), zx.capacity(zone, y, k))
                if rating > 0:
                    v[j, c + 4] = zx.capacity_left(y, zone, k) / rating
                    v[j, c + 5] = zx.capacity_left(zone, y, k) / rating

