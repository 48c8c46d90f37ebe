"""The grid connection: the supplier of last resort behind a community market.

A community is not an island: what its members cannot trade among themselves goes to (or
comes from) the wider grid. This agent makes that outside option explicit in the book: in
every open slot it keeps a bid at the feed-in price and an offer at the retail price of that
slot, read from the public curve (``market.curve``, :mod:`rex_env.sim.curve`):

* with a wholesale model (the default ``community``) the bid is the slot's wholesale price
  minus ``feed_in_spread`` (a direct-marketing fee) and the ask the wholesale price plus
  ``retail_spread`` (network charges, levies and taxes on imported energy)
  (:class:`~rex_env.physics.wholesale.WholesaleModel`), so both follow the day's curve;
* with flat tariffs (``community_flat``) they are ``tariff.feed_in`` and ``tariff.retail``.

Local trades therefore happen between those two prices — the usual setting of peer-to-peer
community markets. The depth of each side is the connection's capacity (``bid_kw`` for export,
``ask_kw`` for import): where the community wants to export more than the connection takes,
the local price falls below the grid's bid (real scarcity of buyers, as at a congested
feed-in point), and where it imports more than ``ask_kw`` it must pay more than the retail
price or stay short. It delivers exactly what it reserved (``ProsumerSpec(external=True)``).

Cost: one :meth:`act` checks two orders per open slot (≈ 25 slots): ≈ 12 µs. On the C
engine it runs compiled (:class:`rex_env._core.GridCore`, with the whole wake-up:
:class:`rex_env._core.WakeLoop`); this code stays the reference.
"""

from __future__ import annotations

from collections.abc import Iterable

from rex_env import _core
from rex_env.exchange import Order, Side, Status
from rex_env.sim.agent_api import Instruction, MarketView, OwnerView, modify, submit

from .base import SlotTrader, check_number

_BUY, _SELL, _RESTING = Side.BUY, Side.SELL, Status.RESTING


class GridAgent(SlotTrader):
    """Standing two-sided quotes at the slot's feed-in and retail prices, topped up every
    ``period`` seconds.

    Args:
        owner: the participant it trades for.
        depth_kw: resting depth of a side without a capacity, kW (> 0): it is topped up
            whatever has traded (an unlimited connection, the first version's grid).
        bid_kw, ask_kw: capacity of the feed-in bid (export) and of the retail ask (import)
            per slot, kW (> 0): what has traded on a side is no longer offered. ``None``:
            unlimited (``depth_kw`` resting).
        period: seconds between top-ups.
        **kw: :class:`~agents.base.SlotTrader` parameters.

    Raises:
        ValueError: a parameter out of range, naming it and what is allowed.
    """

    COMPILED_CORE = _core.GridCore
    COMPILED_WAKE = "grid"

    def __init__(self, owner: str, *, depth_kw: float = 500.0, bid_kw: float | None = None,
                 ask_kw: float | None = None, period: int = 300, **kw: float) -> None:
        super().__init__(owner, period=period, jitter=0.0, **kw)  # type: ignore[arg-type]
        check_number("depth_kw", depth_kw, 0, lo_open=True)
        self.limited = {Side.BUY: bid_kw is not None, Side.SELL: ask_kw is not None}
        bid_kw = depth_kw if bid_kw is None else bid_kw
        ask_kw = depth_kw if ask_kw is None else ask_kw
        check_number("bid_kw", bid_kw, 0, lo_open=True)
        check_number("ask_kw", ask_kw, 0, lo_open=True)
        self.depth = {Side.BUY: max(1, round(bid_kw / self.lot)),
                      Side.SELL: max(1, round(ask_kw / self.lot))}
        self.quotes: dict[tuple[int, Side], Order] = {}

    def reset(self, rng):  # type: ignore[no-untyped-def]
        super().reset(rng)
        self.quotes = {}

    def next_wake(self, now: int, rng) -> int | None:  # type: ignore[no-untyped-def]
        return 0 if now < 0 else now + self.period

    def act(self, market: MarketView, me: OwnerView) -> Iterable[Instruction]:
        curve = market.curve
        if curve is None:
            raise RuntimeError("the grid agent needs the market's public curve (market.curve)")
        slots = market.open_slots()
        core = self._compiled(market)
        if core is not None:  # the same decision, compiled
            got = core.act(self, slots, self.owner)
            if got is not None:
                return got
        out: list[Instruction] = []
        quotes = self.quotes
        # per side: (side, depth, capacity-limited), read once a wake-up (deliberate: this
        # loop runs for ~25 slots x 2 sides, and an Enum attribute read costs ~70 ns)
        buy = (_BUY, self.depth[_BUY], self.limited[_BUY])
        sell = (_SELL, self.depth[_SELL], self.limited[_SELL])
        for slot, pos in zip(slots, me.positions(slots), strict=True):
            bid, ask = curve.quotes_ticks(slot)
            # what the connection has left: its capacity minus what it already traded
            for (side, room, limited), price, bought in ((buy, bid, pos), (sell, ask, -pos)):
                if limited:
                    room -= bought
                o = quotes.get((slot, side))
                if o is None or o.status is not _RESTING:
                    if room > 0:
                        out.append(submit(side, slot, price, room))
                elif o.rate < room // 2:
                    out.append(modify(o.order_id, None, room))  # type: ignore[arg-type]
        return out

    def on_reports(self, reports) -> None:  # type: ignore[no-untyped-def]
        for ins, rep in reports:
            o = rep.order
            if ins.op == "submit" and o is not None and o.status is Status.RESTING:
                self.quotes[(o.first_slot, o.side)] = o
