"""The agent interface hand-coded agents implement, and the order management they share.

An agent (see :class:`rex_env.sim.agent_api.Agent`) is woken by the simulation, reads the
public :class:`~rex_env.sim.agent_api.MarketView` and its private
:class:`~rex_env.sim.agent_api.OwnerView`, and returns instructions. :class:`SlotTrader` adds
what every prototype needs:

* periodic wake-ups with a seeded jitter, so that agents do not act in lockstep;
* one working order per slot, steered toward a target position (:meth:`SlotTrader.steer`):
  an unchanged intention keeps its order (and its time priority), a smaller one is a pure
  decrease (keeps priority), anything else a modify or a cancel-and-replace;
* *make-take* pricing (:meth:`SlotTrader.make_take_price`): passive inside the spread
  ("make": earn the spread) while gate closure is far, moving to the crossing price ("take":
  pay the spread) as it approaches — the urgency ``u`` goes from 0 when the slot opens to 1 at
  its gate, and the limit moves as ``u ** make_take``;
* :meth:`SlotTrader.others_best`: the best price of the *other* participants on one side (the
  agent's own resting order excluded), so that an agent that improves on the book does not
  keep improving on itself.

Cost: everything here is O(1) dictionary and list work per slot; the random draws of the
wake-up schedule use a ``random.Random`` seeded from the episode generator (a scalar numpy
draw costs ~1 µs, a ``random.Random`` draw ~0.1 µs).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

import numpy as np

from rex_env import _core
from rex_env.exchange import OrderRecord, Report, Side, Status, Tif
from rex_env.sim.agent_api import (
    Agent,
    Instruction,
    MarketView,
    OwnerView,
    cancel,
    modify,
    submit,
)

__all__ = ["Agent", "Instruction", "MarketView", "OwnerView", "SlotTrader", "cancel",
           "ceil_ticks", "check_number", "floor_ticks", "modify", "submit"]

# Enum members as module constants: an attribute lookup on an Enum class costs ~70 ns, and
# the hot paths compare sides and statuses for every slot of every wake-up
_BUY, _SELL, _RESTING = Side.BUY, Side.SELL, Status.RESTING


def check_number(name: str, value: object, lo: float | None = None, hi: float | None = None,
                 *, lo_open: bool = False, hi_open: bool = False,
                 integer: bool = False) -> float:
    """Validate one agent parameter; the ``ValueError`` names it and what is allowed."""
    kind = "an int" if integer else "a number"
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if integer:
        ok = ok and float(value).is_integer()  # type: ignore[arg-type]
    if ok and not math.isfinite(value):  # type: ignore[arg-type]
        ok = False
    if ok and lo is not None:
        ok = value > lo if lo_open else value >= lo  # type: ignore[operator]
    if ok and hi is not None:
        ok = value < hi if hi_open else value <= hi  # type: ignore[operator]
    if not ok:
        rng = ""
        if lo is not None and hi is not None:
            rng = f" in {'(' if lo_open else '['}{lo}, {hi}{')' if hi_open else ']'}"
        elif lo is not None:
            rng = f" {'>' if lo_open else '>='} {lo}"
        elif hi is not None:
            rng = f" {'<' if hi_open else '<='} {hi}"
        raise ValueError(f"{name} must be {kind}{rng}, got {value!r}")
    return float(value)  # type: ignore[arg-type]


def floor_ticks(price: float, tick: float) -> int:
    """A price in whole ticks, rounded down (a buyer's limit: never pays more than asked).

    Tolerates float noise: ``floor_ticks(300.0, 0.1)`` is 3000, not 2999.
    """
    return math.floor(price / tick + 1e-9)


def ceil_ticks(price: float, tick: float) -> int:
    """A price in whole ticks, rounded up (a seller's limit: never accepts less)."""
    return math.ceil(price / tick - 1e-9)


class SlotTrader(Agent):
    """Base of the prototypes: periodic wake-ups and a working order per slot.

    Args:
        owner: the participant it trades for.
        period: seconds between wake-ups (a uniform jitter of ±``jitter`` of it is drawn from
            the episode generator so that agents do not act in lockstep).
        jitter: fraction of ``period``, in [0, 1).
        reference_price: prior price (currency/MWh) when a slot has no quotes or trades.
        make_take: how urgency shapes the price: the limit moves from the passive to the
            crossing price as ``urgency ** make_take`` (1 = linear; larger = stay passive
            longer).
        take_within: seconds before gate closure in which what is left is taken at the
            agent's limit price.
        tick: price tick (currency/MWh) to convert prices to ticks.
        lot: rate lot (kW) to convert rates to lots.

    Raises:
        ValueError: a parameter out of range, naming it and what is allowed.
    """

    COMPILED_CORE: ClassVar[Any] = None
    """The compiled twin of this class's :meth:`act` (a class of :mod:`rex_env._core`), or
    ``None``. Only the class that sets it uses it: a subclass may override any step, so it
    runs the Python code unless it sets its own (see :meth:`_compiled`)."""

    COMPILED_WAKE: ClassVar[str | None] = None
    """``"intermittent"``, ``"plant"``, ``"zi"``, ``"grid"`` or ``"storage"``: the market may run
    this class's whole wake-up compiled (:class:`rex_env._core.WakeLoop`: the act wrapper around
    :data:`COMPILED_CORE`, the report hand-back and the next-wake draw of
    :class:`~agents.intermittent.IntermittentProsumer`,
    :class:`~agents.plant.ProvisionPlantAgent`, :class:`~agents.zi.ZITrader`,
    :class:`~agents.grid.GridAgent` or :class:`~agents.storage.StorageDealer`). Like
    :data:`COMPILED_CORE`, only the class that sets it: whoever overrides one of those methods
    in a subclass gets the Python wake-up."""

    TUNABLE: tuple[tuple[str, float, float], ...] = ()
    """Parameters a policy may set each step (``action_mode="tune"``): ``(name, lo, hi)``;
    action ``a`` in [-1, 1] maps piecewise-linearly to ``lo`` .. the agent's own value .. ``hi``
    (so ``a = 0`` is exactly the prototype). Empty: the agent cannot be tuned."""

    def tune(self, action: Sequence[float]) -> None:
        """Set the :data:`TUNABLE` parameters from ``action`` (one value in [-1, 1] each)
        until the next call; the values of the first call's time are the zero point."""
        base = self.__dict__.setdefault("_tune_base", {n: float(getattr(self, n))
                                                        for n, _, _ in self.TUNABLE})
        for (name, lo, hi), a in zip(self.TUNABLE, action, strict=True):
            b = base[name]
            a = min(1.0, max(-1.0, float(a)))
            setattr(self, name, b + a * (max(hi, b) - b) if a >= 0 else b + a * (b - min(lo, b)))

    def __init__(self, owner: str, *, period: int = 300, jitter: float = 0.2,
                 reference_price: float = 100.0, make_take: float = 2.0,
                 take_within: int = 600, tick: float = 0.1, lot: float = 0.1) -> None:
        check_number("period", period, 0, lo_open=True, integer=True)
        check_number("jitter", jitter, 0, 1, hi_open=True)
        check_number("reference_price", reference_price)
        check_number("make_take", make_take, 0, lo_open=True)
        check_number("take_within", take_within, 0, integer=True)
        check_number("tick", tick, 0, lo_open=True)
        check_number("lot", lot, 0, lo_open=True)
        self.owner = owner
        self.period = int(period)
        self.jitter = float(jitter)
        self.ref_ticks = int(round(reference_price / tick))
        self.make_take = float(make_take)
        self.take_within = int(take_within)
        self.tick = float(tick)
        self.lot = float(lot)
        self.working: dict[int, OrderRecord] = {}
        self._rng = np.random.default_rng(0)
        self._py = random.Random(0)
        self._cursor = 0

    # -- schedule -----------------------------------------------------------------------------
    def reset(self, rng: np.random.Generator) -> None:
        """Episode start: forget orders and round-robin position, reseed private randomness."""
        self._rng = rng
        self._py = random.Random(int(rng.integers(2**63)))
        self.working = {}
        self._cursor = 0
        self._core: Any = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_core"] = None  # the compiled twin holds the exchange's C state: rebuilt on use
        return state

    def _compiled(self, market: MarketView) -> Any:
        """The compiled twin of :meth:`act` for this market and episode, built on first use:
        the same instructions from the same state (the Python code stays the reference,
        ``tests/agents/test_compiled_agents.py``). ``None`` on the Python engine, in a zonal
        market, for a class without its own :data:`COMPILED_CORE`, or with
        :data:`rex_env._core.COMPILED_AGENTS` off."""
        cls = type(self).__dict__.get("COMPILED_CORE")
        if cls is None or not _core.COMPILED_AGENTS:
            return None
        core = self.__dict__.get("_core")
        if core is None or not market.serves(core):
            core = self._core = market.compiled(cls)
        return core

    def next_wake(self, now: int, rng: np.random.Generator) -> int | None:
        if now < 0:  # first wake: a random phase within one period
            return self._py.randrange(self.period)
        j = self.jitter * self.period
        return now + max(1, int(self.period + self._py.uniform(-j, j)))

    def on_reports(self, reports: list[tuple[Instruction, Report]]) -> None:
        for _ins, rep in reports:
            order = rep.order
            if order is not None and order.status is _RESTING:
                self.working[order.first_slot] = order

    def chosen_slots(self, slots: range) -> list[int]:
        """The nearest ``slots_per_wake // 2`` open slots (urgent), then the far ones
        round-robin, so every slot is revisited within a few wake-ups at O(1) cost each."""
        per_wake: int = getattr(self, "slots_per_wake", len(slots))
        near = per_wake // 2
        n = len(slots) - near  # the far slots
        if n <= 0:
            return list(slots)
        k = min(per_wake - near, n)
        start = near + self._cursor % n
        end = start + k  # k <= n: the round-robin wraps at most once
        self._cursor += k
        # one list display, no intermediate lists (deliberate: once per wake-up of every
        # intermittent and plant agent, ~23 k calls in 300 env steps)
        if end <= len(slots):
            return [*slots[:near], *slots[start:end]]
        return [*slots[:near], *slots[start:], *slots[near:end - n]]

    # -- helpers ------------------------------------------------------------------------------
    def random_intent(self, slots: range, me: OwnerView, max_lots: int, limit: int
                      ) -> tuple[int, Side, int]:
        """A random (slot, side, size) for the random and zero-intelligence traders: a uniform
        open slot and side, a size of 1..``max_lots`` lots cut to what keeps the position
        within ``±limit`` lots (size <= 0: no room on that side)."""
        r = self._py
        slot = slots[r.randrange(len(slots))]
        side = _BUY if r.random() < 0.5 else _SELL
        pos = me.position(slot)
        room = limit - pos if side is _BUY else limit + pos
        return slot, side, min(r.randint(1, max_lots), room)

    def live(self, slot: int) -> OrderRecord | None:
        """The agent's working order in a slot, if it is still resting."""
        o = self.working.get(slot)
        if o is None:
            return None
        if o.status is not _RESTING:
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
        bid, ask = market.quotes(slot)
        return self._fair(market, slot, bid, ask)

    def _fair(self, market: MarketView, slot: int, bid: int | None, ask: int | None) -> float:
        """:meth:`fair_price` given the slot's quotes (read once by the caller)."""
        if bid is not None and ask is not None:
            return (bid + ask) / 2
        vwap = market.vwap(slot)
        if bid is not None:
            return max(bid, vwap) if vwap is not None else bid
        if ask is not None:
            return min(ask, vwap) if vwap is not None else ask
        return vwap if vwap is not None else self.ref_ticks

    @staticmethod
    def others_best(market: MarketView, slot: int, side: Side, own: OrderRecord | None
                    ) -> int | None:
        """Best price on ``side`` of ``slot`` among the *other* participants' orders.

        The agent's own resting order ``own`` (if on that side and alone at the top level) is
        skipped: the next level is then the others' best. Public data plus the agent's own
        order only (SPEC §11).
        """
        best = market.best_bid(slot) if side is _BUY else market.best_ask(slot)
        return SlotTrader._without_own(market, slot, side, own, best)

    @staticmethod
    def _without_own(market: MarketView, slot: int, side: Side, own: OrderRecord | None,
                     best: int | None) -> int | None:
        """:meth:`others_best` given the side's best price ``best`` (read by the caller)."""
        if (best is None or own is None or own.side is not side or own.price != best
                or own.status is not _RESTING):
            return best
        levels = market.depth(slot, side, 2)
        if levels and levels[0][1] > own.rate:  # someone else at the same price
            return best
        return levels[1][0] if len(levels) > 1 else None

    def make_take_price(self, market: MarketView, slot: int, side: Side, u: float,
                        spread_ticks: int = 50, own: OrderRecord | None = None,
                        weight: float | None = None) -> int:
        """The limit price for an urgency ``u``: passive inside the spread -> crossing.

        ``u = 0``: one tick better than the others' best quote on the own side (never
        crossing); ``u = 1``: the best quote on the other side (crossing). Without quotes, the
        fair price -/+ half of ``spread_ticks``. ``own`` (the agent's working order in the
        slot) is left out of the own side's best, so a resting order does not undercut itself
        at every wake-up. ``weight`` (in [0, 1]) replaces ``u ** make_take`` as the share of
        the way from the passive to the crossing price.

        The quotes are read once; the fair price (a VWAP query) only when a side is empty.
        """
        bid0, ask0 = bid, ask = market.quotes(slot)
        if own is not None and own.side is side:
            if side is _BUY:
                bid = self._without_own(market, slot, side, own, bid0)
            else:
                ask = self._without_own(market, slot, side, own, ask0)
        w = u**self.make_take if weight is None else weight
        fair = 0.0
        if bid is None or ask is None:  # the fair price of the quotes as read
            fair = self._fair(market, slot, bid0, ask0)
        if side is _BUY:
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
        w = self.working.get(slot)  # self.live(slot) inlined: ~80 k steers in 300 env steps
        if w is not None and w.status is not _RESTING:
            del self.working[slot]
            w = None
        side = _BUY if gap > 0 else _SELL
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
