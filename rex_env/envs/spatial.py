"""The learned spatial arbitrager's actions (issue 17; README "Zones", "Learning spatial
arbitrage").

A spatial arbitrager owns no asset: it earns by buying in the cheap zone and selling in the
dear one while the line between them has capacity left. Its positions and cash stay in its
home zone (README "Zones", rule 4): a buy it makes *from* a neighbour's book with an explicit
cross-zonal order (``match_zone``, rule 7) is delivered to the home zone, so an arbitrage is
two immediate legs that leave it flat at home — a position target per slot cannot express it.

So a learner of agent kind ``spatial`` (role ``spatial``, :mod:`rex_env.spec.roles`) reads the
env's box action (``Box(-1, 1, (2*W,))``; ``offset`` mode: one pair for every slot) as, per
window slot ``j``:

=====  ==========  ============================================================================
index  name        meaning
=====  ==========  ============================================================================
2j     flow        signed size, a fraction of its capacity (:func:`learner_capacity`): > 0
                   *import* (buy in a neighbour's book across the line, sell at home), < 0
                   *export* (buy at home, sell into a neighbour's book); rounded to whole lots,
                   0 lots does nothing
2j+1   min_gap     the smallest price gap it accepts between the two legs, ``min_gap *``
                   :data:`GAP_RANGE` ``* reference price`` (negative: it accepts a loss)
=====  ==========  ============================================================================

Each step, for each open slot whose home book is in continuous trading, the decoder (like the
hand-coded :class:`agents.spatial.SpatialArbitrager`, whose rules it shares):

1. unwinds a position left by a leg that did not fill in full, with an ``ioc`` at the home
   zone's best opposite quote (so the learner never carries energy into delivery, and nothing
   it cannot express is left to the imbalance settlement);
2. otherwise, while the cross-zonal gate is open, picks the neighbour with the widest gap in the
   chosen direction (home best bid - neighbour best ask for an import, neighbour best bid -
   home best ask for an export) among those in continuous trading with capacity left; if the
   gap is at least ``min_gap`` it sends both legs as ``ioc`` orders at the two best prices, for
   the smallest of the size, the two best levels' volumes and the capacity left.

The hand-coded arbitrager is this rule with ``min_gap`` fixed at its margin and the size at its
``max_kw``, run every 60 s; the learner decides, per slot and decision epoch, whether and how
much to arbitrage.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..exchange import Phase, Side, Tif
from ..sim.agent_api import Instruction, submit

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from ..exchange.zones import ZonalExchange
    from ..spec.prosumer import ProsumerSpec

GAP_RANGE = 0.1
"""``min_gap`` = action x this share of the reference price (+-10 %: about +-7 currency/MWh at
the community's reference)."""


def is_spatial(spec: ProsumerSpec) -> bool:
    """Whether a learner's prosumer trades as a spatial arbitrager (agent kind ``spatial``)."""
    return spec.agent == "spatial"


def learner_capacity(spec: ProsumerSpec) -> float:
    """The kW that scale a learner's actions and rewards: its assets' capacity, or for a
    spatial arbitrager its largest arbitrage (``max_kw`` in its params, else the hand-coded
    agent's default)."""
    if not is_spatial(spec):
        return spec.capacity_kw
    from agents.spatial import MAX_KW

    return float(dict(spec.params).get("max_kw", MAX_KW))


def spatial_instructions(zx: ZonalExchange, owner: str, home: str, slots: Sequence[int],
                         action: NDArray, cap_lots: float, ref_ticks: int
                         ) -> list[Instruction]:
    """The orders of one step of a learned spatial arbitrager (module docstring)."""
    out: list[Instruction] = []
    for j, slot in enumerate(slots):
        if zx.phase(slot, home) is not Phase.CONTINUOUS:
            continue
        pos = zx.position(owner, slot)
        if pos:
            best = zx.best_level(slot, home, Side.BUY if pos > 0 else Side.SELL)
            if best is not None:
                out.append(submit(Side.SELL if pos > 0 else Side.BUY, slot, best[0], abs(pos),
                                  Tif.IOC))
            continue
        size = round(abs(float(action[2 * j])) * cap_lots)
        if size == 0 or not zx.cross_open(slot):
            continue
        importing = float(action[2 * j]) > 0
        min_gap = float(action[2 * j + 1]) * GAP_RANGE * ref_ticks
        best_gap, legs = None, None
        for y in zx.neighbours(home):
            if zx.phase(slot, y) is not Phase.CONTINUOUS:
                continue
            if importing:  # buy in y, sell at home
                src, dst = y, home
            else:  # buy at home, sell in y
                src, dst = home, y
            ask = zx.best_level(slot, src, Side.SELL)
            bid = zx.best_level(slot, dst, Side.BUY)
            cap = zx.capacity_left(src, dst, slot)
            if ask is None or bid is None or cap <= 0:
                continue
            gap = bid[0] - ask[0]
            if gap < min_gap or (best_gap is not None and gap <= best_gap):
                continue
            q = min(size, ask[1], bid[1], cap)
            best_gap = gap
            legs = (submit(Side.BUY, slot, ask[0], q, Tif.IOC,
                           match_zone=y if importing else None),
                    submit(Side.SELL, slot, bid[0], q, Tif.IOC,
                           match_zone=None if importing else y))
        if legs is not None:
            out.extend(legs)
    return out
