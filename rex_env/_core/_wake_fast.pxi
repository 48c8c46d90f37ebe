# The market's wake-up of a hand-coded agent compiled (included by _cexchange.pyx). Issue 12:
# after the decisions, the trade and quote bookkeeping and the tie-break draw were compiled,
# the Python *around* a wake-up was the largest share of a simulated day (py-spy, `community`:
# the kernel's loop, Market._on_wake, the agent's act wrapper, Market.execute, the report
# hand-back, the next-wake draw and the rescheduling ≈ 27 %). WakeLoop is Market._on_wake for
# the agents whose whole wake-up the core knows — classes that declare COMPILED_WAKE beside a
# COMPILED_CORE of IntermittentCore (agents.intermittent.IntermittentProsumer: act, then
# SlotTrader.on_reports and SlotTrader.next_wake), PlantCore (agents.plant.ProvisionPlantAgent:
# the same around its act), ZICore (agents.zi.ZITrader: act, on_reports, next_wake), GridCore
# (agents.grid.GridAgent: act, on_reports, next_wake) or StorageCore (agents.storage.
# StorageDealer: its act's first checks, then StorageDealer.on_reports and SlotTrader.next_wake)
# — and hands every other agent to the Python handler.
#
# For those it does what the Python code does, in the same order with the same draws: the open
# slots (SlotSchedule.open_at), the agent's core (SlotTrader._compiled: built by the agent's own
# method when it is missing or from another episode), the decision (the core's act; where it
# hands back, the agent's Python act), the market's instruction loop (execute_plain, else
# Market.execute), the hand-back of the reports, the next wake-up (SlotTrader.next_wake's
# jittered period: ``uniform(-j, j)`` is ``-j + 2j * random()``; ZITrader.next_wake's
# exponential draw through the generator's own method and its checkpoints) and the rescheduling
# (Kernel.schedule: the sequence number, the tie-break draw, the heap push). Where an input is
# not the plain one it replicates (a subclass's generator, a non-int period), it calls the
# Python method before drawing anything. tests/sim/test_wake_loop.py compares every event,
# trade, draw and settlement of whole days with the Python handler; tests/sim/
# test_fingerprints.py pins them.
#
# WakeLoop.run is also the kernel's loop (Kernel.run_until / Kernel.run, the reference, for
# Market.run_until / run): the same events in the same order, its own events called in C. The
# trades of the compiled wake-ups wait in a list while only compiled wake-ups run (they read
# the books, never the accounts, metrics or trade list) and are booked in one TradeBook call,
# in order, before any other handler or Python code of an agent runs and when the loop ends or
# raises — so whatever Python reads the bookkeeping finds it as the reference leaves it.

import heapq as _heapq

from cpython.long cimport PyLong_FromDouble

cdef object HEAPPUSH = _heapq.heappush
cdef object HEAPPOP = _heapq.heappop
cdef object FLAGS = None  # rex_env._core (its COMPILED_AGENTS), read on first use: it imports us


cdef inline bint compiled_on():
    global FLAGS
    if FLAGS is None:
        import rex_env._core
        FLAGS = rex_env._core
    return FLAGS.COMPILED_AGENTS

cdef enum:
    WAKE_PYTHON = 0
    WAKE_INTERMITTENT = 1
    WAKE_ZI = 2
    WAKE_PLANT = 3
    WAKE_GRID = 4
    WAKE_STORAGE = 5

# COMPILED_WAKE name -> (its kind, the COMPILED_CORE it needs)
cdef dict WAKE_KINDS = {"intermittent": (WAKE_INTERMITTENT, IntermittentCore),
                        "zi": (WAKE_ZI, ZICore), "plant": (WAKE_PLANT, PlantCore),
                        "grid": (WAKE_GRID, GridCore),
                        "storage": (WAKE_STORAGE, StorageCore)}


cdef int wake_kind(cls) except -1:
    """How a class's wake-up runs: compiled where it declares ``COMPILED_WAKE`` in its own body
    (a subclass inherits none: it may have changed what the core replicates) beside the
    matching ``COMPILED_CORE``; a declaration that matches no core is an error."""
    kind = cls.__dict__.get("COMPILED_WAKE")
    if kind is None:
        return WAKE_PYTHON
    core = cls.__dict__.get("COMPILED_CORE")
    known = WAKE_KINDS.get(kind) if isinstance(kind, str) else None
    if known is None:
        raise ValueError(f"{cls.__name__}: unknown COMPILED_WAKE {kind!r} "
                         f"(known: {', '.join(map(repr, WAKE_KINDS))})")
    if core is known[1]:
        return known[0]
    raise ValueError(f"{cls.__name__}: COMPILED_WAKE={kind!r} needs COMPILED_CORE = "
                     f"{known[1].__name__} in the same class body, got {core!r}")


cdef class WakeLoop:
    """``Market._on_wake`` as a kernel handler: ``loop(t, owner)``; compiled for the owners
    whose agent's class has a compiled wake-up (:func:`wake_kind`, asked per class, so an
    agent replaced in ``market.agents`` is handled as what it is now), the market's own
    (Python) handler for every other owner and whenever ``rex_env._core.COMPILED_AGENTS`` is
    off. :meth:`bind` after every ``Market.reset``.
    Copies and pickles with its market."""

    cdef object market, kernel, view, python_wake, on_trades, ins_type
    cdef object agent_prio, resting
    cdef CoreExchange ex
    cdef dict agents, kinds, owner_views, accounts
    cdef bint plain_execute
    cdef bint deferring  # inside run(): the wake-ups' trades wait in ``pending``
    cdef bint execute_deferring  # inside Market.deferred_booking: Market.execute's trades too
    cdef list pending
    cdef int64_t last_close, gate_lead, open_lead, slot_len, first_slot, end_slot

    def __init__(self, market, CoreExchange ex, ins_type, agent_prio, bint plain_execute):
        """``ins_type``: the agent API's ``Instruction``; ``agent_prio``: the kernel's priority of
        agent events; ``plain_execute``: whether the market's ``execute`` is ``Market``'s own
        (a subclass's is called instead of the compiled loop). A class that declares a
        compiled wake-up without its core raises here (``ValueError``)."""
        self.market = market
        self.ex = ex
        self.kinds = {}  # agent class -> its wake_kind (memo)
        for agent in market.agents.values():
            self.kind_of(type(agent))
        self.ins_type = ins_type
        self.agent_prio = agent_prio
        self.plain_execute = plain_execute
        self.deferring = self.execute_deferring = False
        self.pending = []
        self.resting = STATUS[1]
        self.kernel = market.kernel
        self.view = market.view
        self.agents = market.agents
        self.python_wake = market._on_wake
        self.on_trades = market._on_trades
        s = market.schedule
        self.last_close = market._last_close
        self.gate_lead, self.open_lead, self.slot_len = s.gate_lead, s.open_lead, s.slot_len
        self.first_slot = s.first_slot
        self.end_slot = s.first_slot + s.n_slots

    def bind(self):
        """Read the episode's owner views and accounts (``Market.reset`` builds them anew)."""
        self.owner_views = self.market.owner_views
        self.accounts = self.market.accounts

    @property
    def __name__(self):
        """The name of the handler it stands for (event listings read handlers' names)."""
        return "_on_wake"

    cdef int kind_of(self, cls) except -1:
        kind = self.kinds.get(cls)
        if kind is None:
            kind = self.kinds[cls] = wake_kind(cls)
        return kind

    @property
    def compiled_owners(self):
        """The owners whose wake-ups run compiled now (sorted)."""
        return sorted(o for o, a in self.agents.items() if self.kind_of(type(a)) != WAKE_PYTHON)

    def __call__(self, t, owner):
        self.wake(t, owner)

    def run(self, kernel, time, prio, bint until):
        """``kernel.run_until(time, prio)`` (``until``) or ``kernel.run()`` — the same events in
        the same order, the clock and the count as they set them — with this loop's own
        events called in C, and their trades booked together: they wait while only compiled
        wake-ups run (which read no account or metric) and are booked, in order, before any
        other handler or Python code of an agent runs and at the end (:meth:`flush`). Returns
        the number of events processed."""
        cdef Py_ssize_t n = 0
        cdef bint was = self.deferring, was_execute = self.execute_deferring
        q = kernel._queue
        if type(q) is not list:
            self.flush()
            return kernel.run_until(time, prio) if until else kernel.run()
        self.deferring = True
        self.execute_deferring = False  # (an agent's Python reads its fills at once)
        try:
            while q:
                if until:
                    top = (<list>q)[0]
                    if not (top[0] < time or (top[0] == time and top[1] < prio)):
                        break
                t, _, _, _, handler, payload = HEAPPOP(q)
                kernel.now = t
                if handler is self:
                    self.wake(t, payload)
                else:
                    self.flush()
                    handler(t, payload)
                n += 1
        finally:
            self.deferring = was
            self.execute_deferring = was_execute
            self.flush()
        if until and time > kernel.now:
            kernel.now = time
        kernel.processed += n
        return n

    cdef int flush(self) except -1:
        """Book the trades waiting in ``pending`` (in order) as ``Market._on_trades`` would."""
        if not self.pending:
            return 0
        trades = self.pending
        self.pending = []
        market = self.market
        book = market._trade_book
        if not (type(book) is TradeBook and compiled_on()
                and (<TradeBook>book).book_market(trades, market)):
            self.on_trades(trades)
        return 0

    def defer_execute(self, bint on):
        """``Market.deferred_booking``: let ``Market.execute``'s trades wait (``on``) or book
        what waits and stop; returns the previous setting (blocks nest)."""
        was = self.execute_deferring
        self.execute_deferring = on
        if not on:
            self.flush()
        return was

    def execute_defers(self):
        """Where ``Market.execute``'s compiled loop leaves its trades (``None``: it books)."""
        return self.defer_to(self.execute_deferring)

    def book_waiting(self):
        """Book the trades that wait (``Market.execute`` calls it before its Python loop)."""
        self.flush()

    cdef object defer_to(self, bint wanted):
        """Where ``execute_plain`` leaves its trades: ``pending`` where trades may wait
        (``wanted``) and the market books with a plain :class:`TradeBook`, else ``None``
        (booked at once, after what waits)."""
        if not wanted:
            self.flush()
            return None
        market = self.market
        if market._plain_on_trades and type(market._trade_book) is TradeBook:
            return self.pending
        self.flush()
        return None

    cdef int wake(self, t, owner) except -1:
        """An agent event: its wake-up (``Market._on_wake``)."""
        cdef int64_t now
        cdef int kind
        if not compiled_on():
            self.flush()
            self.python_wake(t, owner)
            return 0
        agent = self.agents[owner]
        kind = self.kind_of(type(agent))
        if kind == WAKE_PYTHON:
            self.flush()
            self.python_wake(t, owner)
            return 0
        now = t
        if now < self.last_close:
            instructions = self.decide(kind, agent, self.owner_views[owner], now)
            if instructions:
                reports = self.execute(owner, instructions, now)
                self.hand_back(kind, agent, reports)
        nxt = self.next_wake(kind, agent, t)
        if nxt is not None and nxt < self.last_close:
            self.schedule_at(nxt if nxt > t + 1 else t + 1, owner)
        return 0

    cdef object decide(self, int kind, agent, me, int64_t now):
        """The agent's act: its core's decision, else the method (the reference)."""
        # SlotSchedule.open_at (floor divisions: Python's, as Cython's default)
        cdef int64_t lo = (now + self.gate_lead) // self.slot_len + 1
        cdef int64_t hi = (now + self.open_lead) // self.slot_len + 1
        if lo < self.first_slot:
            lo = self.first_slot
        if hi > self.end_slot:
            hi = self.end_slot
        if hi <= lo:
            if (kind == WAKE_GRID and self.view.curve is None) or kind == WAKE_STORAGE:
                # the reference raises its error / cancels every quote it still has
                self.flush()
                return agent.act(self.view, me)
            return None
        if kind == WAKE_STORAGE and me.prosumer is None:
            self.flush()
            return agent.act(self.view, me)  # the reference cancels every quote
        slots = range(lo, hi)
        # SlotTrader._compiled: the agent's core of this exchange and episode
        core = agent.__dict__.get("_core")
        if core is None or not (type(core) is agent.COMPILED_CORE
                                and (<CurveCore>core).ex is self.ex
                                and (<CurveCore>core).curve is self.view.curve):
            self.flush()
            core = agent._compiled(self.view)
        if core is not None:
            if kind == WAKE_INTERMITTENT:
                got = core.act(agent, slots, now, agent.working, me.prosumer, agent.owner)
                if got is not None:
                    return got
            elif kind == WAKE_ZI:
                got = core.act(agent, slots, now, agent.working, agent.owner)
                if got is not None:
                    out, agent._checkpoints = got
                    return out
            elif kind == WAKE_PLANT:
                got = core.act(agent, slots, now, agent.working, agent.owner, agent.plant,
                               self.first_slot, self.end_slot, self.open_lead - self.gate_lead)
                if got is not None:
                    return got
            elif kind == WAKE_STORAGE:
                got = core.act(agent, self.view, me, slots, now, self.first_slot,
                               self.last_close, self.slot_len)
                if got is not None:
                    return got
            else:
                got = core.act(agent, slots, agent.owner)
                if got is not None:
                    return got
        self.flush()
        return agent.act(self.view, me)  # the reference (its core hands back again)

    cdef object execute(self, owner, instructions, int64_t now):
        """Market.execute: the compiled loop for a plain list, else the market's method."""
        if self.plain_execute and type(instructions) is list:
            got = execute_plain(self.ex, instructions, now, owner, self.market._next_id,
                                self.owner_views[owner].order_ids,
                                self.accounts[owner].rejections, self.on_trades, self.ins_type,
                                self.market, self.defer_to(self.deferring))
            if got is not None:
                reports, self.market._next_id = got
                return reports
        self.flush()
        return self.market.execute(owner, instructions)

    cdef int hand_back(self, int kind, agent, reports) except -1:
        """SlotTrader.on_reports (resting orders become the slots' working orders); ZITrader's
        also remembers the slots it submitted to; GridAgent's keeps its resting submits as the
        slots' quotes per side."""
        resting = self.resting
        if kind == WAKE_STORAGE:
            return self.storage_hand_back(agent, reports)
        if kind == WAKE_GRID:
            quotes = agent.quotes
            for ins, rep in reports:
                order = rep.order
                if ins.op == "submit" and order is not None and order.status is resting:
                    quotes[(order.first_slot, order.side)] = order
            return 0
        working = agent.working
        for ins, rep in reports:
            order = (<tuple>rep)[2] if type(rep) is _Report else rep.order
            slot = resting_slot(order, resting)
            if slot is not None:
                working[slot] = order
        if kind == WAKE_ZI:
            touched = agent._touched
            for ins, rep in reports:
                if ins.op == "submit" and ins.slot is not None:
                    touched.add(ins.slot)
        return 0

    cdef int storage_hand_back(self, agent, reports) except -1:
        """StorageDealer.on_reports: the cash of fills on entry (at the trades' prices) and the
        lots accounted per order, the resting quotes per (slot, side)."""
        resting = self.resting
        owner = agent.owner
        for ins, rep in reports:
            order = (<tuple>rep)[2] if type(rep) is _Report else rep.order
            if order is None:
                continue
            entry = agent._fills.setdefault(order.order_id, [order, 0])
            for tr in ((<tuple>rep)[3] if type(rep) is _Report else rep.trades):
                if tr.buyer == owner:
                    agent._cash -= tr.price * tr.rate
                    entry[1] += tr.rate
                elif tr.seller == owner:
                    agent._cash += tr.price * tr.rate
                    entry[1] += tr.rate
            if order.status is resting:
                agent.quotes[(order.first_slot, order.side)] = order
        return 0

    cdef object next_wake(self, int kind, agent, t):
        """SlotTrader.next_wake (also the storage dealer's) / ZITrader.next_wake /
        GridAgent.next_wake for ``now >= 0``."""
        rnd = agent._py
        period = agent.period
        if type(rnd) is not PLAIN_RANDOM or type(period) is not int:
            self.flush()
            return agent.next_wake(t, self.market.rng)
        cdef double j, u
        if kind == WAKE_GRID:
            return t + period
        if kind == WAKE_INTERMITTENT or kind == WAKE_PLANT or kind == WAKE_STORAGE:
            jitter = agent.jitter
            if type(jitter) is not float:
                self.flush()
                return agent.next_wake(t, self.market.rng)
            j = <double>jitter * <double>period  # (exact: |period| < 2**53 as a checked int)
            u = -j + (j - -j) * <double>rnd.random()  # Random.uniform(-j, j)
            step = PyLong_FromDouble(<double>period + u)  # int(period + u)
            return t + (step if step > 1 else 1)
        nxt = (t if t > 0 else 0) + 1 + PyLong_FromDouble(expovariate(rnd, 1.0 / period))
        for c in agent._checkpoints:
            if c > t and c < nxt:
                nxt = c
        return nxt

    cdef int schedule_at(self, time, owner) except -1:
        """Kernel.schedule(time, Prio.AGENT, self, owner): the next sequence number, the
        tie-break draw, the heap push (``time`` is after the clock)."""
        kernel = self.kernel
        seq = kernel._seq + 1
        kernel._seq = seq
        draw = kernel._draw
        tie = (<UniformDraw>draw)._bitgen.next_double((<UniformDraw>draw)._bitgen.state) \
            if type(draw) is UniformDraw else draw()
        HEAPPUSH(kernel._queue, (time, self.agent_prio, tie, seq, self, owner))
        return 0
