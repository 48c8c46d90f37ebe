"""The discrete-event kernel: an integer clock and a priority queue of events.

Events at the same second run in a defined order: first by their :class:`Prio` (lifecycle
before information before agents), then — for agents that act "at once" — in an order drawn
from the episode's seeded generator (SPEC §4), then in scheduling order. The kernel knows
nothing about markets: a handler is any callable taking ``(time, payload)``.

The kernel can stop at *external decision epochs* (:meth:`Kernel.run_until`), which is how the
RL environment drives it: run to the epoch, let the learners act, run to the next epoch.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from enum import IntEnum
from typing import Any

Handler = Callable[[int, Any], None]
Event = tuple[int, int, float, int, Handler, Any]
"""A queued event: (time, prio, agent tie-break, scheduling order, handler, payload)."""

_heappush = heapq.heappush
_heappop = heapq.heappop


class Prio(IntEnum):
    """Processing order of events that fall on the same second (lower first).

    Deliveries settle before gates close, gates close before new slots open and auctions
    uncross, so that an agent waking at that second sees the market as it is *after* the
    lifecycle changes; forecast revisions arrive before anyone decides on them.
    """

    SETTLE = 0
    CLOSE = 1
    OPEN = 2
    UNCROSS = 3
    INFO = 4
    EPOCH = 5  # external decision epoch (the RL learners act here)
    AGENT = 6


# attribute access on an Enum class costs ~0.5 us on 3.11 (EnumType.__getattr__); schedule()
# runs once per agent wake-up, so it compares against a module constant (by value: a
# plain int 6 is an agent event too)
_AGENT = Prio.AGENT


class Kernel:
    """An event queue with a clock.

    Args:
        rng_draw: a zero-argument callable returning a float in [0, 1); used to order
            same-time agent events at random (pass the episode generator's ``random``).
    """

    __slots__ = ("now", "_queue", "_seq", "_draw", "processed")

    def __init__(self, rng_draw: Callable[[], float]) -> None:
        self._draw = rng_draw
        self.reset()

    def reset(self, rng_draw: Callable[[], float] | None = None) -> None:
        """Empty queue, clock at 0 (optionally a new tie-break source)."""
        if rng_draw is not None:
            self._draw = rng_draw
        self.now = 0
        self._queue: list[Event] = []
        self._seq = 0
        self.processed = 0

    def __len__(self) -> int:
        return len(self._queue)

    def schedule(self, time: int, prio: Prio, handler: Handler, payload: Any = None) -> None:
        """Queue ``handler(time, payload)``; agent events get a random same-time tie-break."""
        if time < self.now:
            raise ValueError(f"cannot schedule an event at {time} before now ({self.now})")
        self._seq += 1
        tie = self._draw() if prio == _AGENT else 0.0
        _heappush(self._queue, (time, prio, tie, self._seq, handler, payload))

    def snapshot(self) -> tuple[list[Event], int]:
        """The queue and the scheduling counter as they are now (a copy), for :meth:`restore`.

        Why: a market queues the same lifecycle events at the start of every episode (about
        400 for a day of 96 slots); restoring them is one list copy.
        """
        return list(self._queue), self._seq

    def restore(self, state: tuple[list[Event], int]) -> None:
        """Set the queue and counter of a :meth:`snapshot` taken right after a reset.

        Only valid on a freshly reset kernel (empty, clock 0): anything queued since would be
        lost, so that is an error. The events and their order are exactly those of the
        snapshot, as if scheduled again one by one.
        """
        if self._queue or self._seq or self.now:
            raise RuntimeError("restore() needs a freshly reset kernel (empty queue, clock 0), "
                               f"got {len(self._queue)} queued events at t={self.now}")
        queue, seq = state
        self._queue = list(queue)
        self._seq = seq

    def peek_time(self) -> int | None:
        return self._queue[0][0] if self._queue else None

    def run_until(self, time: int, prio: Prio = Prio.EPOCH) -> int:
        """Process every event strictly before ``(time, prio)``; the clock then reads ``time``.

        Returns the number of events processed.
        """
        q = self._queue
        pop = _heappop
        n = 0
        while q and (q[0][0] < time or (q[0][0] == time and q[0][1] < prio)):
            t, _, _, _, handler, payload = pop(q)
            self.now = t
            handler(t, payload)
            n += 1
        if time > self.now:
            self.now = time
        self.processed += n
        return n

    def run(self) -> int:
        """Process every queued event (including ones scheduled on the way)."""
        q = self._queue
        pop = _heappop
        n = 0
        while q:
            t, _, _, _, handler, payload = pop(q)
            self.now = t
            handler(t, payload)
            n += 1
        self.processed += n
        return n
