"""The spatial arbitrager: buys in the cheap zone and sells in the dear one while capacity
lasts (issue 17; README "Zones").

In a market whose zones are coupled order by order (:mod:`rex_env.exchange.zones`) an
incoming order already reaches the cheapest zone a line can serve, so a zone's quotes differ
from its neighbour's only when the line is full — or when the coupled book is *crossed*:
after the per-zone opening auctions, after a priority-losing modify (it re-enters its own
zone only), after a counter-flow frees capacity. The arbitrager lives off those crossings.
It owns no assets and trades from its home zone (``ProsumerSpec.zone``). Rules:

1. At every wake (``period``, 60 s: it is a fast trader), for each open slot in continuous
   trading whose cross-zonal gate is open:
2. if it holds a position in the slot (a leg that did not fill in full), it unwinds it first
   with an immediate order at its home zone's best opposite quote — it never carries energy
   into delivery;
3. otherwise, for each zone linked to its home: if that zone's best ask is at least
   ``margin`` below the home zone's best bid and the line into the home zone has capacity
   left, it buys there with an explicit cross-zonal ``ioc`` (README "Zones", rule 7) and sells
   at home with an ``ioc`` at the bid, for the smaller of the two best levels' volumes, the
   capacity left and ``max_kw``; and the mirror image (buy at home, sell into the neighbour)
   when the neighbour's best bid is above the home zone's best ask.

Both legs are immediate, so the arbitrager never rests an order and never holds a position
for long; it earns the spread it closes and pays nothing for the line (implicit allocation).

Cost: per wake, four best-level reads and one capacity read per open slot and neighbour.
"""

from __future__ import annotations

from collections.abc import Iterable

from rex_env.exchange import Phase, Side, Tif
from rex_env.exchange.zones import ZonalExchange
from rex_env.sim.agent_api import Instruction, MarketView, OwnerView, submit

from .base import SlotTrader, check_number

MAX_KW = 50.0
"""Default largest rate of one arbitrage, kW (also the learned arbitrager's capacity,
:func:`rex_env.envs.spatial.learner_capacity`)."""


class SpatialArbitrager(SlotTrader):
    """Closes cross-zonal crossings with two immediate legs (module docstring).

    Args:
        owner: the participant it trades for (no assets; its zone is its home).
        margin: smallest price gap worth taking, currency/MWh (>= 0).
        max_kw: largest rate of one arbitrage, kW (> 0).
        period: seconds between wakes.
        **kw: :class:`~agents.base.SlotTrader` parameters.
    """

    def __init__(self, owner: str, *, margin: float = 1.0, max_kw: float = MAX_KW,
                 period: int = 60, **kw: float) -> None:
        super().__init__(owner, period=period, **kw)  # type: ignore[arg-type]
        check_number("margin", margin, 0)
        check_number("max_kw", max_kw, 0, lo_open=True)
        self.margin = max(0, round(margin / self.tick))
        self.max_lots = max(1, round(max_kw / self.lot))

    def act(self, market: MarketView, me: OwnerView) -> Iterable[Instruction]:
        zx, home = market.zonal, market.zone
        if zx is None or home is None:
            raise RuntimeError("the spatial arbitrager needs a market with zones")
        out: list[Instruction] = []
        for slot in market.open_slots():
            if zx.phase(slot, home) is not Phase.CONTINUOUS or not zx.cross_open(slot):
                continue
            pos = me.position(slot)
            if pos:
                side = Side.SELL if pos > 0 else Side.BUY
                best = zx.best_level(slot, home, Side.BUY if pos > 0 else Side.SELL)
                if best is not None:
                    out.append(submit(side, slot, best[0], abs(pos), Tif.IOC))
                continue
            out.extend(self._arbitrage(zx, home, slot))
        return out

    def _arbitrage(self, zx: ZonalExchange, home: str, slot: int) -> list[Instruction]:
        for y in zx.neighbours(home):
            if zx.phase(slot, y) is not Phase.CONTINUOUS:
                continue
            # buy in y, sell at home
            ask, bid = zx.best_level(slot, y, Side.SELL), zx.best_level(slot, home, Side.BUY)
            cap = zx.capacity_left(y, home, slot)
            if ask and bid and cap > 0 and bid[0] - ask[0] >= max(1, self.margin):
                q = min(ask[1], bid[1], cap, self.max_lots)
                return [submit(Side.BUY, slot, ask[0], q, Tif.IOC, match_zone=y),
                        submit(Side.SELL, slot, bid[0], q, Tif.IOC)]
            # buy at home, sell in y
            ask, bid = zx.best_level(slot, home, Side.SELL), zx.best_level(slot, y, Side.BUY)
            cap = zx.capacity_left(home, y, slot)
            if ask and bid and cap > 0 and bid[0] - ask[0] >= max(1, self.margin):
                q = min(ask[1], bid[1], cap, self.max_lots)
                return [submit(Side.BUY, slot, ask[0], q, Tif.IOC),
                        submit(Side.SELL, slot, bid[0], q, Tif.IOC, match_zone=y)]
        return []
