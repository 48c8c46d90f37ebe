"""The agent interface hand-coded agents implement, and the order management they share.

An agent (see :class:`rex_env.sim.agent_api.Agent`) is woken by the simulation, reads the
public :class:`~rex_env.sim.agent_api.MarketView` and its private
:class:`~rex_env.sim.agent_api.OwnerView`, and returns instructions. :class:`SlotTrader` adds
what every prototype needs: one working order per slot, steered toward a target position with
*make-take* management — passive (inside the spread, "make") while gate closure is far,
crossing the spread ("take") as it approaches, and a market order for what is left in the
last wake-up before the gate.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from rex_env.exchange import Order, Side, Status, Tif
from rex_env.sim.agent_api import (
    Agent,
    Instruction,
    MarketView,
    OwnerView,
    cancel,
    modify,
    submit,
)
from rex_env.exchange import Report

__all__ = ["Agent", "Instruction", "MarketView", "OwnerView", "SlotTrader", "cancel", "modify",
           "submit"]


class SlotTrader(Agent):
    """Base of the prototypes: periodic wake-ups and a working order per slot.

    Args:
        owner: the participant it trades for.
        period: seconds between wake-ups (a uniform jitter of ±``jitter`` of it is drawn from
            the episode generator so that agents do not act in lockstep).
        reference_price: prior price (currency/MWh) when a slot has no quotes or trades.
        grid_tick: price tick (currency/MWh) to convert prices.
        make_take: how urgency shapes the price: the limit moves from the passive to the
            crossing price as ``urgency ** make_take`` (1 = linear; larger = stay passive
            longer).
        take_within: seconds before gate closure in which the rest goes as a market order.
    """

    def __init__(self, owner: str, *, period: int = 300, jitter: float = 0.2,
                 reference_price: float = 100.0, make_take: float = 2.0,
                 take_within: int = 600, tick: float = 0.1, lot: float = 0.1) -> None:
        if period <= 0:
            raise ValueError(f"period must be > 0 seconds, got {period}")
        if not 0 <= jitter < 1:
            raise ValueError(f"jitter must be in [0, 1), got {jitter}")
        if make_take <= 0:
            raise ValueError(f"make_take must be > 0, got {make_take}")
        self.owner = owner
        self.period = period
        self.jitter = jitter
        self.ref_ticks = int(round(reference_price / tick))
        self.make_take = make_take
        self.take_within = take_within
        self.tick = tick
        self.lot = lot
        self.working: dict[int, Order] = {}
        self._rng = np.random.default_rng(0)

    # -- schedule -----------------------------------------------------------------------------
    def reset(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self.working = {}

    def next_wake(self, now: int, rng: np.random.Generator) -> int | None:
        if now < 0:  # first wake: a random phase within one period
            return int(self._rng.integers(0, self.period))
        j = self.jitter * self.period
        return now + max(1, int(self.period + self._rng.uniform(-j, j)))

    def on_reports(self, reports: list[tuple[Instruction, Report]]) -> None:
        for ins, rep in reports:
            order = rep.order
            if order is not None and order.status is Status.RESTING:
                self.working[order.first_slot] = order

    # -- helpers ------------------------------------------------------------------------------
    def live(self, slot: int) -> Order | None:
        """The agent's working order in a slot, if it is still resting."""
        o = self.working.get(slot)
        if o is None:
            return None
        if o.status is not Status.RESTING:
            del self.working[slot]
            return None
        return o

    def urgency(self, market: MarketView, slot: int) -> float:
        """0 when the slot has just opened, 1 at gate closure."""
        s = market.schedule
        left = s.close_time(slot) - market.now
        window = s.open_lead - s.gate_lead
        return min(1.0, max(0.0, 1.0 - left / window))

    def fair_price(self, market: MarketView, slot: int) -> float:
        """A public estimate of value in ticks: mid, else one quote, else VWAP, else prior."""
        bid, ask = market.best_bid(slot), market.best_ask(slot)
        if bid is not None and ask is not None:
            return (bid + ask) / 2
        vwap = market.vwap(slot)
        if bid is not None:
            return max(bid, vwap) if vwap is not None else bid
        if ask is not None:
            return min(ask, vwap) if vwap is not None else ask
        return vwap if vwap is not None else self.ref_ticks

    def make_take_price(self, market: MarketView, slot: int, side: Side, u: float,
                        spread_ticks: int = 50) -> int:
        """The limit price for an urgency ``u``: passive inside the spread -> crossing."""
        bid, ask = market.best_bid(slot), market.best_ask(slot)
        fair = self.fair_price(market, slot)
        w = u**self.make_take
        if side is Side.BUY:
            passive = (bid + 1) if bid is not None else fair - spread_ticks / 2
            if ask is not None:
                passive = min(passive, ask - 1)
            taking = ask if ask is not None else fair + spread_ticks / 2
            return int(math.floor(passive + w * (taking - passive)))
        passive = (ask - 1) if ask is not None else fair + spread_ticks / 2
        if bid is not None:
            passive = max(passive, bid + 1)
        taking = bid if bid is not None else fair - spread_ticks / 2
        return int(math.ceil(passive + w * (taking - passive)))

    def steer(self, market: MarketView, slot: int, gap: int, price: int | None,
              tolerance: int = 0) -> list[Instruction]:
        """Instructions that make the working order of ``slot`` trade ``gap`` lots
        (> 0 buy, < 0 sell) at ``price`` (``None``: a market order for the gap now).

        Keeps the working order when it already matches (same side, price, rate within
        ``tolerance``), so that unchanged intentions keep their time priority; otherwise it is
        modified (a pure decrease keeps priority) or cancelled and replaced.
        """
        out: list[Instruction] = []
        w = self.live(slot)
        side = Side.BUY if gap > 0 else Side.SELL
        size = abs(gap)
        if w is not None:
            if size == 0 or w.side is not side or price is None:
                out.append(cancel(w.order_id))  # type: ignore[arg-type]
                del self.working[slot]
            elif w.price == price and abs(w.rate - size) <= tolerance:
                return out
            else:
                out.append(modify(w.order_id, price, size))  # type: ignore[arg-type]
                return out
        if size == 0:
            return out
        if price is None:
            out.append(submit(side, slot, None, size, Tif.IOC))
        else:
            out.append(submit(side, slot, price, size))
        return out

    def act(self, market: MarketView, me: OwnerView) -> Iterable[Instruction]:
        raise NotImplementedError
