"""The event kernel: time, then :class:`Prio`, then a seeded shuffle of same-time agents.

Only agent events are shuffled (SPEC §4: agents acting "at once"); lifecycle and information
events at the same time and priority keep the order in which they were scheduled.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rex_env.sim.kernel import Kernel, Prio


def seeded_kernel(seed: int = 0) -> Kernel:
    return Kernel(np.random.default_rng(seed).random)


class Log:
    """A handler factory that records ``(time, label)`` in processing order."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, Any]] = []

    def __call__(self, t: int, payload: Any) -> None:
        self.seen.append((t, payload))

    @property
    def labels(self) -> list[Any]:
        return [p for _, p in self.seen]


def agent_order(seed: int, n: int = 12) -> list[int]:
    k = seeded_kernel(seed)
    log = Log()
    for i in range(n):
        k.schedule(100, Prio.AGENT, log, i)
    k.run()
    return log.labels


def test_events_run_in_time_order_whatever_the_scheduling_order() -> None:
    k = seeded_kernel()
    log = Log()
    for t in (50, 10, 30, 0, 20):
        k.schedule(t, Prio.INFO, log, t)
    assert k.run() == 5
    assert log.seen == [(0, 0), (10, 10), (20, 20), (30, 30), (50, 50)]
    assert k.now == 50 and len(k) == 0 and k.processed == 5


def test_same_time_events_run_by_priority() -> None:
    k = seeded_kernel()
    log = Log()
    for prio in reversed(Prio):
        k.schedule(7, prio, log, prio)
    k.run()
    assert log.labels == sorted(Prio)
    assert log.labels == [Prio.SETTLE, Prio.CLOSE, Prio.OPEN, Prio.UNCROSS, Prio.INFO,
                          Prio.EPOCH, Prio.AGENT]


def test_non_agent_ties_keep_scheduling_order() -> None:
    k = seeded_kernel()
    log = Log()
    for i in range(20):
        k.schedule(5, Prio.OPEN, log, i)
    k.run()
    assert log.labels == list(range(20))


def test_non_agent_events_draw_nothing_from_the_generator() -> None:
    draws = []

    def draw() -> float:
        draws.append(1)
        return 0.5

    k = Kernel(draw)
    for prio in Prio:
        if prio is not Prio.AGENT:
            k.schedule(0, prio, lambda t, p: None)
    assert draws == []
    k.schedule(0, Prio.AGENT, lambda t, p: None)
    assert draws == [1]


def test_same_time_agents_are_shuffled_by_the_seed() -> None:
    a = agent_order(1)
    assert sorted(a) == list(range(12))
    assert a == agent_order(1)  # reproducible
    orders = {tuple(agent_order(s)) for s in range(6)}
    assert len(orders) > 1  # the seed matters
    assert any(list(o) != list(range(12)) for o in orders)  # it is not scheduling order


def test_a_plain_int_agent_priority_is_shuffled_too() -> None:
    def order(prio: int) -> list[int]:
        k = seeded_kernel(1)
        log = Log()
        for i in range(12):
            k.schedule(100, prio, log, i)  # type: ignore[arg-type]
        k.run()
        return log.labels

    assert order(int(Prio.AGENT)) == order(Prio.AGENT) == agent_order(1)


def test_agent_shuffle_never_overtakes_time_or_priority() -> None:
    k = seeded_kernel(3)
    log = Log()
    for i in range(10):
        k.schedule(10, Prio.AGENT, log, ("agent", i))
    k.schedule(10, Prio.INFO, log, ("info", 0))
    k.schedule(9, Prio.AGENT, log, ("early", 0))
    k.schedule(11, Prio.SETTLE, log, ("late", 0))
    k.run()
    kinds = [p[0] for p in log.labels]
    assert kinds == ["early", "info"] + ["agent"] * 10 + ["late"]


def test_events_scheduled_while_running_are_processed_in_order() -> None:
    k = seeded_kernel()
    log = Log()

    def chain(t: int, n: int) -> None:
        log(t, n)
        if n < 5:
            k.schedule(t + 10, Prio.AGENT, chain, n + 1)
            k.schedule(t, Prio.AGENT, log, ("same-time", n))  # now is allowed

    k.schedule(0, Prio.AGENT, chain, 0)
    k.run()
    times = [t for t, _ in log.seen]
    assert times == sorted(times)
    assert [p for p in log.labels if isinstance(p, int)] == list(range(6))
    assert len(log.seen) == 11


def test_scheduling_in_the_past_raises() -> None:
    k = seeded_kernel()
    k.schedule(100, Prio.INFO, lambda t, p: None)
    k.run()
    assert k.now == 100
    with pytest.raises(ValueError, match="before now"):
        k.schedule(99, Prio.AGENT, lambda t, p: None)
    k.schedule(100, Prio.AGENT, lambda t, p: None)  # the present is fine


def test_run_until_stops_before_the_epoch_priority() -> None:
    k = seeded_kernel()
    log = Log()
    for prio in Prio:
        k.schedule(60, prio, log, prio)
    k.schedule(59, Prio.AGENT, log, "before")
    k.schedule(61, Prio.SETTLE, log, "after")
    n = k.run_until(60)
    assert log.labels == ["before", Prio.SETTLE, Prio.CLOSE, Prio.OPEN, Prio.UNCROSS,
                          Prio.INFO]
    assert n == 6 and k.now == 60
    # the learners act here; then the rest of the second, and on
    k.run_until(61)  # the rest of second 60, and second 61 up to its epoch
    assert log.labels[6:] == [Prio.EPOCH, Prio.AGENT, "after"]
    assert k.now == 61 and k.run() == 0
    assert k.processed == 9


def test_run_until_moves_the_clock_to_an_empty_epoch() -> None:
    k = seeded_kernel()
    k.schedule(500, Prio.INFO, lambda t, p: None)
    assert k.run_until(300) == 0
    assert k.now == 300
    with pytest.raises(ValueError):
        k.schedule(299, Prio.INFO, lambda t, p: None)
    assert k.peek_time() == 500
    assert k.run_until(300) == 0  # idempotent
    assert k.now == 300


def test_run_until_with_a_custom_priority() -> None:
    k = seeded_kernel()
    log = Log()
    for prio in (Prio.SETTLE, Prio.CLOSE, Prio.OPEN):
        k.schedule(5, prio, log, prio)
    k.run_until(5, Prio.OPEN)
    assert log.labels == [Prio.SETTLE, Prio.CLOSE]


def test_reset_empties_the_queue_and_can_swap_the_tie_break() -> None:
    k = seeded_kernel(0)
    k.schedule(10, Prio.INFO, lambda t, p: None)
    k.run()
    k.reset(np.random.default_rng(5).random)
    assert k.now == 0 and len(k) == 0 and k.processed == 0 and k.peek_time() is None
    log = Log()
    for i in range(12):
        k.schedule(100, Prio.AGENT, log, i)
    k.run()
    assert log.labels == agent_order(5)


# -- the heap kernel against a plain reference ---------------------------------------------


class ReferenceKernel:
    """The kernel's definition, written plainly: a list searched for its minimum
    ``(time, prio, tie, seq)``; agent ties drawn at scheduling time."""

    def __init__(self, draw: Any) -> None:
        self.draw = draw
        self.now = 0
        self.events: list[tuple[int, int, float, int, Any, Any]] = []
        self.seq = 0

    def schedule(self, time: int, prio: Prio, handler: Any, payload: Any = None) -> None:
        if time < self.now:
            raise ValueError("past")
        self.seq += 1
        tie = self.draw() if int(prio) == int(Prio.AGENT) else 0.0
        self.events.append((time, int(prio), tie, self.seq, handler, payload))

    def run_until(self, time: int, prio: Prio = Prio.EPOCH) -> int:
        n = 0
        while self.events:
            e = min(self.events, key=lambda e: e[:4])
            if e[:2] >= (time, int(prio)):
                break
            self.events.remove(e)
            self.now = e[0]
            e[4](e[0], e[5])
            n += 1
        self.now = max(self.now, time)
        return n


@given(
    seed=st.integers(0, 2**32 - 1),
    initial=st.lists(st.tuples(st.integers(0, 50), st.sampled_from(list(Prio))), min_size=1,
                     max_size=40),
    epochs=st.lists(st.integers(0, 120), max_size=6),
)
def test_heap_kernel_processes_events_exactly_like_the_reference(
    seed: int, initial: list[tuple[int, Prio]], epochs: list[int]
) -> None:
    """Same order, same clock, same generator use, including events scheduled on the way."""

    def program(kernel: Any) -> list[tuple[int, Any]]:
        log: list[tuple[int, Any]] = []

        def handler(t: int, payload: tuple[int, int]) -> None:
            ident, depth = payload
            log.append((t, ident))
            if depth < 3 and ident % 3 != 0:  # follow-ups: later, and at the same second
                kernel.schedule(t + ident % 7, Prio.AGENT, handler, (ident * 7 + 1, depth + 1))
                kernel.schedule(t, list(Prio)[ident % 7], handler, (ident * 5 + 2, depth + 1))

        for i, (t, prio) in enumerate(initial):
            kernel.schedule(t, prio, handler, (i, 0))
        for e in sorted(epochs):
            log.append((kernel.run_until(e), "epoch"))
            log.append((kernel.now, "now"))
        log.append((kernel.run_until(10**6), "end"))
        return log

    fast = program(Kernel(np.random.default_rng(seed).random))
    slow = program(ReferenceKernel(np.random.default_rng(seed).random))
    assert fast == slow


def test_restoring_a_snapshot_replays_the_events_as_scheduled() -> None:
    """A market queues the same lifecycle events every episode and restores them from the
    first episode's snapshot: the run must be that of scheduling them again."""
    def program(k: Kernel, log: Log, restore: tuple[Any, int] | None) -> tuple[Any, int]:
        k.reset()
        if restore is None:
            for t, prio, label in [(5, Prio.OPEN, "a"), (5, Prio.CLOSE, "b"), (0, Prio.INFO, "c"),
                                   (5, Prio.OPEN, "d"), (9, Prio.SETTLE, "e")]:
                k.schedule(t, prio, log, label)
        else:
            k.restore(restore)
        snap = k.snapshot()
        for i in range(4):
            k.schedule(5, Prio.AGENT, log, f"agent{i}")
        k.run()
        return snap

    fresh, restored = Log(), Log()
    k = seeded_kernel(3)
    snap = program(k, restored, None)  # the first episode, scheduled one by one
    restored.seen.clear()
    program(seeded_kernel(8), fresh, None)
    k.reset(np.random.default_rng(8).random)
    program(k, restored, snap)
    assert restored.seen == fresh.seen and len(fresh.seen) == 9


def test_restore_needs_a_freshly_reset_kernel() -> None:
    k = seeded_kernel()
    k.schedule(1, Prio.INFO, Log(), "x")
    snap = k.snapshot()
    with pytest.raises(RuntimeError, match="freshly reset kernel"):
        k.restore(snap)
