"""The grid connection: the supplier of last resort behind a community market.

A community is not an island: what its members cannot trade among themselves goes to (or
comes from) the wider grid at the flat tariff. This agent makes that outside option explicit
in the book: in every open slot it keeps a deep bid at the feed-in price and a deep offer at
the retail price. Local trades therefore happen between those two prices — the usual setting
of peer-to-peer community markets — and a prosumer can always reserve what it needs, at the
tariff. It delivers exactly what it reserved (``ProsumerSpec(external=True)``).
"""

from __future__ import annotations

from collections.abc import Iterable

from rex_env.exchange import Order, Side, Status
from rex_env.sim.agent_api import Instruction, MarketView, OwnerView, modify, submit

from .base import SlotTrader


class GridAgent(SlotTrader):
    """Standing two-sided quotes at the tariff prices, topped up every ``period`` seconds."""

    def __init__(self, owner: str, *, bid: float = 80.0, ask: float = 300.0,
                 depth_kw: float = 500.0, period: int = 300, **kw: float) -> None:
        super().__init__(owner, period=period, jitter=0.0, **kw)  # type: ignore[arg-type]
        if not bid < ask:
            raise ValueError(f"bid ({bid}) must be < ask ({ask})")
        if depth_kw <= 0:
            raise ValueError(f"depth_kw must be > 0, got {depth_kw}")
        self.bid_ticks = round(bid / self.tick)
        self.ask_ticks = round(ask / self.tick)
        self.depth = max(1, round(depth_kw / self.lot))
        self.quotes: dict[tuple[int, Side], Order] = {}

    def reset(self, rng):  # type: ignore[no-untyped-def]
        super().reset(rng)
        self.quotes = {}

    def next_wake(self, now: int, rng) -> int | None:  # type: ignore[no-untyped-def]
        return 0 if now < 0 else now + self.period

    def act(self, market: MarketView, me: OwnerView) -> Iterable[Instruction]:
        out: list[Instruction] = []
        for slot in market.open_slots():
            for side, price in ((Side.BUY, self.bid_ticks), (Side.SELL, self.ask_ticks)):
                o = self.quotes.get((slot, side))
                if o is None or o.status is not Status.RESTING:
                    out.append(submit(side, slot, price, self.depth))
                elif o.rate < self.depth // 2:
                    out.append(modify(o.order_id, None, self.depth))  # type: ignore[arg-type]
        return out

    def on_reports(self, reports) -> None:  # type: ignore[no-untyped-def]
        for ins, rep in reports:
            o = rep.order
            if ins.op == "submit" and o is not None and o.status is Status.RESTING:
                self.quotes[(o.first_slot, o.side)] = o
