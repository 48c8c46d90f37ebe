# The compiled decisions (included by _cexchange.pyx: they read CoreExchange's books and order
# records in C). Issue 12: the built-in agents and the env step as compiled code, with the
# Python code kept as the reference. SteeringCore holds what they share (the working order per
# slot, its steering, SlotTrader's make-take pricing, the hand-back); CurveCore adds the
# episode's price curve for the hand-coded agents: IntermittentCore is the intermittent
# prosumer's decision, ZICore the zero-intelligence trader's; DecoderCore is the env's box-mode
# decoding of a learner's action; execute_plain is Market.execute's loop. Each does exactly
# what the Python code would (the same float operations, the same random draws, in the same
# order) or hands back (None: "run the Python code") with everything it changed undone (the
# working orders, the round-robin cursor). tests/agents/test_compiled_agents.py,
# tests/envs/test_decoder_core.py and tests/sim/test_execute_plain.py compare both at every
# decision of whole days and episodes; tests/sim/test_fingerprints.py pins them.
#
# IntermittentCore.act is agents.intermittent.IntermittentProsumer.act after the open slots are
# read: the slot choice (SlotTrader.chosen_slots), positions, and for every chosen slot the
# target (minus the forecast in lots, Prosumer.forecast's table read in C), the working order's
# liveness, the deadband, the no-loss limit (SlotTrader bounds + IntermittentProsumer.limit),
# the make-take price (SlotTrader.make_take_price / _without_own / _fair) and the steering
# (SlotTrader.steer). The agent's parameters are read at every call (a caller may change them
# between wake-ups); the order records, books and phases are read in C. The only Python calls
# left per slot are the instruction constructors and, where a slot's limit or fair price
# needs it, the VWAP.
#
# It never raises for the agent's own inputs in a way the reference would not: where the
# reference would raise (a limit that is not finite, a slot outside the price curve) or a
# working order is not a live record of this exchange, ``act`` hands back and the caller
# runs the Python code, which then raises or decides as the reference does.

from libc.math cimport ceil, exp, fabs, floor, isfinite, log, nearbyint

cdef enum:
    SETTLE_SINGLE = 0
    SETTLE_DUAL = 1
    SETTLE_CURTAIL = 2
    ST_RESTING = 1     # STATUS[1]
    PH_CALL = 1        # PHASE[1]
    PH_CONTINUOUS = 2  # PHASE[2]

cdef object UNREADABLE = object()  # a working order that is not a live record of the core's

cdef dict SETTLE_CODES = {"single": SETTLE_SINGLE, "dual": SETTLE_DUAL,
                          "curtail": SETTLE_CURTAIL}


import random as _random

cdef extern from *:
    int __builtin_clzll(unsigned long long) nogil  # gcc and clang

cdef object PLAIN_RANDOM = _random.Random
cdef int64_t RAND_FAST = 1 << 62


cdef object rand_below(object rnd, int64_t n):
    """random.Random._randbelow_with_getrandbits(n), 0 < n < 2**62: the same getrandbits
    calls, so the same number and the same generator state after."""
    cdef int k = 64 - __builtin_clzll(<unsigned long long>n)  # n.bit_length()
    getrandbits = rnd.getrandbits
    r = getrandbits(k)
    while r >= n:
        r = getrandbits(k)
    return r


cdef object randrange(object rnd, object n):
    """``rnd.randrange(n)``, without its Python layer for a plain Random and an int below
    2**62 (anything else: the method itself, which then draws or raises)."""
    if type(rnd) is not PLAIN_RANDOM or type(n) is not int or not 0 < n < RAND_FAST:
        return rnd.randrange(n)
    return rand_below(rnd, n)


cdef object randint(object rnd, object a, object b):
    """``rnd.randint(a, b)`` (``randrange(a, b + 1)``: ``a + _randbelow(b + 1 - a)``), without
    its Python layer for a plain Random and ints a width below 2**62 apart."""
    if type(rnd) is not PLAIN_RANDOM or type(a) is not int or type(b) is not int:
        return rnd.randint(a, b)
    width = b + 1 - a
    if not 0 < width < RAND_FAST:
        return rnd.randint(a, b)
    return a + rand_below(rnd, width)


def _expovariate_is_ours():
    """Whether this Python's ``Random.expovariate(lambd)`` is ``-log(1.0 - random()) / lambd``
    (3.11's code) with C's ``log``: 64 draws compared; otherwise the method is called."""
    a, b = _random.Random(20261205), _random.Random(20261205)
    for i in range(64):
        lambd = 1.0 / (1 + 37 * i)
        if a.expovariate(lambd) != -log(1.0 - <double>b.random()) / lambd:
            return False
    return True


cdef bint EXPO_OURS = _expovariate_is_ours()


def _expovariate(rnd, double lambd):
    """:func:`expovariate` for the tests."""
    return expovariate(rnd, lambd)


cdef object expovariate(object rnd, double lambd):
    """``rnd.expovariate(lambd)`` without its Python frame for a plain Random (the same draw,
    the same float; any other generator, or another Python's formula: the method)."""
    if type(rnd) is not PLAIN_RANDOM or not EXPO_OURS:
        return rnd.expovariate(lambd)
    return -log(1.0 - <double>rnd.random()) / lambd


cdef inline int64_t revision_index(int64_t now, int64_t phase, int64_t slot, int64_t slot_len,
                                   int64_t update_s, int64_t revisions) except -1:
    """Prosumer's forecast index: the revisions still to come for ``slot`` at ``now``,
    ``-((now + phase - slot * slot_len) // update_s)`` with Python's floor division (cdivision
    is off), clipped to ``[0, revisions]`` (``revisions >= 0`` and ``update_s != 0``: the
    callers check). One rule for every compiled reader of a prosumer's forecast tables."""
    cdef int64_t m = -((now + phase - slot * slot_len) // update_s)
    if m < 0:
        return 0
    return revisions if m > revisions else m


cdef inline double urgency(int64_t left, double tau_s):
    """rex_env.sim.agent_api.make_take_urgency: 2 exp(-max(0, left) / tau_s)."""
    cdef double l = <double>left if left > 0 else 0.0
    return 2.0 * exp(-l / tau_s)


cdef list chosen_slots(object agent, object slots):
    """SlotTrader.chosen_slots: the nearest ``slots_per_wake // 2`` open slots, then the far
    ones round-robin (advances ``agent._cursor``); ``slots`` is a range of step 1."""
    cdef int64_t first = slots.start, m = len(slots), per_wake = agent.slots_per_wake
    cdef int64_t near = per_wake // 2, n = m - near, k, start, end, cursor, j
    if n <= 0:
        return list(slots)
    k = per_wake - near
    if n < k:
        k = n
    cursor = agent._cursor
    start = near + cursor % n
    end = start + k
    agent._cursor = cursor + k
    out = [first + j for j in range(near)]
    if end <= m:
        out += [first + j for j in range(start, end)]
    else:
        out += [first + j for j in range(start, m)]
        out += [first + j for j in range(near, end - n)]
    return out


def instruction_templates(submit, cancel, modify):
    """What the cores need to build the agent API's instruction records themselves (one
    allocation and no Python frame each, ≈ 4 % of a `community` env step through the
    functions): ``(class, cancel, modify and submit templates, the LIMIT and MARKET kinds)``
    read from what the functions return — so the records are the functions' own, field for
    field — when ``submit``, ``cancel`` and ``modify`` are the agent API's functions
    themselves (``rex_env.sim.agent_api``: a wrapped or replaced constructor is always called)
    and their records a plain NamedTuple of 10 fields; else None (the functions are called)."""
    for f, name in ((submit, "submit"), (cancel, "cancel"), (modify, "modify")):
        if (getattr(f, "__module__", None) != "rex_env.sim.agent_api"
                or getattr(f, "__qualname__", None) != name):
            return None
    c, m = cancel(0), modify(0, None, None)
    lim, mkt = submit(_BUY, 0, 0, 1), submit(_BUY, 0, None, 1)
    cls = type(c)
    if (cls.__bases__ != (tuple,) or cls.__basicsize__ != tuple.__basicsize__
            or cls.__itemsize__ != tuple.__itemsize__ or cls.__dictoffset__
            or cls.__weakrefoffset__):
        return None  # not a plain tuple subclass: record() could not allocate it
    for r in (c, m, lim, mkt):
        if type(r) is not cls or len(r) != 10:
            return None
    if not (c[0] == "cancel" and m[0] == "modify" and lim[0] == mkt[0] == "submit"
            and c[1] == 0 and m[1] == 0 and lim[1] is None
            and lim[2] is _BUY and lim[3] == 0 and lim[4] == 0 and lim[5] == 1
            and mkt[4] is None and m[4] is None and m[5] is None
            and lim[7] is submit(_BUY, 0, 0, 1, lim[7])[7]
            and submit(_BUY, 0, 0, 1, _IOC)[7] is _IOC
            and lim[6] is not mkt[6] and tuple(lim[8:]) == tuple(mkt[8:])):
        return None
    return cls, tuple(c), tuple(m), tuple(lim), lim[6], mkt[6]


cdef class SteeringCore:
    """What the compiled decisions share: the C exchange, the working order per slot (the
    caller's ``{slot: order record}``) and SlotTrader.steer / OrderSteer.steer, which keep,
    modify or cancel-and-replace it. A decision that hands back (``None``) after it changed
    the working orders restores them first (``begin`` / ``hand_back``), so the reference then
    starts from the same state."""

    cdef CoreExchange ex
    cdef object submit, cancel, modify
    cdef dict before  # the working orders before this call's first cancel, or None
    cdef int64_t ref_ticks  # the prior price (ticks) where a slot has no quotes or trades
    # the instruction records built here (see instruction_templates), or ins_cls None
    cdef object ins_cls, k_limit, k_market
    cdef tuple t_cancel, t_modify, t_submit

    def __init__(self, CoreExchange ex, submit, cancel, modify):
        """``submit``, ``cancel``, ``modify``: the instruction constructors of the agent API
        (:mod:`rex_env.sim.agent_api`; the core imports nothing above the exchange)."""
        self.ex = ex
        self.submit, self.cancel, self.modify = submit, cancel, modify
        got = instruction_templates(submit, cancel, modify)
        if got is not None:
            (self.ins_cls, self.t_cancel, self.t_modify, self.t_submit, self.k_limit,
             self.k_market) = got

    cdef object ins_cancel(self, object order_id):
        """``cancel(order_id)``."""
        cdef Py_ssize_t i
        if self.ins_cls is None:
            return self.cancel(order_id)
        rec = record(self.ins_cls, 10)
        for i in range(10):
            put(rec, i, order_id if i == 1 else self.t_cancel[i])
        return rec

    cdef object ins_modify(self, object order_id, object price, object rate):
        """``modify(order_id, price, rate)``."""
        cdef Py_ssize_t i
        if self.ins_cls is None:
            return self.modify(order_id, price, rate)
        rec = record(self.ins_cls, 10)
        for i in range(10):
            put(rec, i, order_id if i == 1 else price if i == 4 else rate if i == 5
                else self.t_modify[i])
        return rec

    cdef object ins_submit(self, object side, object slot, object price, object rate,
                           object tif=None):
        """``submit(side, slot, price, rate)`` (``tif`` given: ``submit(..., tif)``)."""
        cdef Py_ssize_t i
        if self.ins_cls is None:
            if tif is None:
                return self.submit(side, slot, price, rate)
            return self.submit(side, slot, price, rate, tif)
        rec = record(self.ins_cls, 10)
        t = self.t_submit
        put(rec, 0, t[0])
        put(rec, 1, t[1])
        put(rec, 2, side)
        put(rec, 3, slot)
        put(rec, 4, price)
        put(rec, 5, rate)
        put(rec, 6, self.k_market if price is None else self.k_limit)
        put(rec, 7, t[7] if tif is None else tif)
        for i in range(8, 10):
            put(rec, i, t[i])
        return rec

    cdef inline rex_order *record(self, object w):
        """The C record of a working order, NULL if it is not a live record of this
        exchange (the caller then falls back to the reference)."""
        cdef COrder o
        if type(w) is not COrder:
            return NULL
        o = <COrder>w
        if o.frozen is not None or o.exp is not <PyObject *>self.ex:
            return NULL
        return o.o()

    cdef inline int32_t quotes(self, int64_t slot, bint *has_bid, int64_t *bid, bint *has_ask,
                               int64_t *ask):
        """The best bid and ask of a slot (``has_*`` False for an empty side, left as they
        are without a book); returns the book's index, -1 without one."""
        cdef int32_t b = rex_book_index(self.ex.c, slot)
        cdef rex_side *s
        if b < 0:
            return b
        s = &self.ex.c.books[b].bids
        if s.n:
            has_bid[0] = True
            bid[0] = self.ex.c.levels[s.lv[s.n - 1]].price
        s = &self.ex.c.books[b].asks
        if s.n:
            has_ask[0] = True
            ask[0] = self.ex.c.levels[s.lv[s.n - 1]].price
        return b

    cdef inline void begin(self):
        self.before = None

    cdef object hand_back(self, dict working):
        """Undo this call's cancels in ``working`` (dead orders it dropped stay dropped: the
        reference drops them too) and return ``None``."""
        if self.before is not None:
            working.clear()
            working.update(self.before)
            self.before = None
        return None

    cdef int steer(self, list out, object slot_o, int64_t gap, int64_t price, object w,
                   rex_order *r, dict working, int64_t tolerance=0) except -1:
        """SlotTrader.steer with a limit price (``w``: the live working order of the slot or
        None, ``r`` its record; ``tolerance`` in lots, >= 0)."""
        cdef int side = 1 if gap > 0 else -1
        cdef int64_t size = gap if gap > 0 else -gap
        if w is not None:
            if size == 0 or r.side != side:
                out.append(self.ins_cancel(w.order_id))
                if self.before is None:
                    self.before = dict(working)
                del working[slot_o]
            elif r.has_price and r.price == price and (
                    r.rate - size if r.rate >= size else size - r.rate) <= tolerance:
                return 0
            else:
                out.append(self.ins_modify(w.order_id, price, size))
                return 0
        if size == 0:
            return 0
        out.append(self.ins_submit(_BUY if side == 1 else _SELL, slot_o, price, size))
        return 0

    cdef int steer_market(self, list out, object slot_o, int64_t gap, object w,
                          dict working) except -1:
        """SlotTrader.steer with no price: cancel the working order, take ``gap`` now (an
        ``ioc`` market order)."""
        cdef int64_t size = gap if gap > 0 else -gap
        if w is not None:
            out.append(self.ins_cancel(w.order_id))
            if self.before is None:
                self.before = dict(working)
            del working[slot_o]
        if size:
            out.append(self.ins_submit(_BUY if gap > 0 else _SELL, slot_o, None, size, _IOC))
        return 0

    cdef object live(self, object slot_o, dict working, rex_order **r):
        """The live working order of a slot (None if none, a dead one forgotten as
        SlotTrader.live does) with its record in ``r``; UNREADABLE if the core cannot read
        it."""
        w = working.get(slot_o)
        r[0] = NULL
        if w is None:
            return None
        r[0] = self.record(w)
        if r[0] == NULL:
            return UNREADABLE
        if r[0].status != ST_RESTING:
            del working[slot_o]
            r[0] = NULL
            return None
        return w

    # -- SlotTrader's pricing (the prior price ``ref_ticks`` set by the caller) -------------
    cdef int64_t make_take_price(self, int64_t slot, int side, rex_order *own, double weight,
                                 bint *ok) except? -1:
        """SlotTrader.make_take_price with the default spread (50 ticks) and ``weight`` the
        share of the way from the passive to the crossing price (``u ** make_take``, or the
        caller's ``weight``); ``ok`` False where the reference would not give an int."""
        cdef bint has_bid0 = False, has_ask0 = False, has_bid, has_ask
        cdef int64_t bid0 = 0, ask0 = 0, bid, ask
        cdef double fair = 0.0, passive, taking, x
        cdef int32_t b = self.quotes(slot, &has_bid0, &bid0, &has_ask0, &ask0)
        has_bid, bid, has_ask, ask = has_bid0, bid0, has_ask0, ask0
        if own != NULL and own.side == side:
            if side == 1:
                has_bid = self.without_own(b, side, own, has_bid0, bid0, &bid)
            else:
                has_ask = self.without_own(b, side, own, has_ask0, ask0, &ask)
        if not has_bid or not has_ask:
            fair = self.fair(slot, has_bid0, bid0, has_ask0, ask0)
        if side == 1:
            passive = <double>(bid + 1) if has_bid else fair - 25.0
            if has_ask and <double>(ask - 1) < passive:
                passive = <double>(ask - 1)
            taking = <double>ask if has_ask else fair + 25.0
            x = floor(passive + weight * (taking - passive))
        else:
            passive = <double>(ask - 1) if has_ask else fair + 25.0
            if has_bid and <double>(bid + 1) > passive:
                passive = <double>(bid + 1)
            taking = <double>bid if has_bid else fair - 25.0
            x = ceil(passive + weight * (taking - passive))
        if not isfinite(x) or fabs(x) > 9.0e15:
            ok[0] = False
            return 0
        return <int64_t>x

    cdef bint without_own(self, int32_t b, int side, rex_order *own, bint has_best,
                          int64_t best, int64_t *out):
        """SlotTrader._without_own: the others' best on ``side``; False when there is none."""
        cdef rex_side *s
        out[0] = best
        if (not has_best or own.side != side or not own.has_price or own.price != best
                or own.status != ST_RESTING):
            return has_best
        s = &self.ex.c.books[b].bids if side == 1 else &self.ex.c.books[b].asks
        if s.n >= 1 and self.ex.c.levels[s.lv[s.n - 1]].volume > own.rate:
            return True  # someone else at the same price
        if s.n > 1:
            out[0] = self.ex.c.levels[s.lv[s.n - 2]].price
            return True
        return False

    cdef double fair(self, int64_t slot, bint has_bid, int64_t bid, bint has_ask,
                     int64_t ask) except? -1:
        """SlotTrader._fair: mid, else one quote bounded by the VWAP, else VWAP, else prior."""
        if has_bid and has_ask:
            return <double>(bid + ask) / 2
        v = self.ex.vwap(slot)
        if has_bid:
            return <double>bid if v is None else max(<double>bid, <double>v)
        if has_ask:
            return <double>ask if v is None else min(<double>ask, <double>v)
        return <double>self.ref_ticks if v is None else <double>v


cdef class CurveCore(SteeringCore):
    """A hand-coded agent's compiled decision in one episode: the exchange and the episode's
    public price curve (``PublicCurve.tick_tables``: bid, ask and price in ticks per slot)."""

    cdef readonly object curve
    cdef int64_t slot_len, gate_lead, curve_first
    cdef Py_ssize_t curve_n
    cdef bint has_curve, flat
    cdef list bids, asks, prices

    def __init__(self, CoreExchange ex, int64_t slot_len, int64_t gate_lead, curve, tables,
                 submit, cancel, modify):
        """``curve`` (a ``PublicCurve`` or ``None``) with its ``tables``
        (``(first_slot, bid ticks, ask ticks, price ticks)``, lists)."""
        SteeringCore.__init__(self, ex, submit, cancel, modify)
        self.slot_len = slot_len
        self.gate_lead = gate_lead
        self.curve = curve
        self.has_curve = curve is not None
        self.flat = bool(curve.flat) if curve is not None else True
        if curve is not None:
            first, bids, asks, prices = tables
            self.curve_first = first
            self.bids, self.asks, self.prices = list(bids), list(asks), list(prices)
            self.curve_n = len(self.bids)
            if not (len(self.asks) == len(self.prices) == self.curve_n):
                raise ValueError("the curve's tables must have one value per slot")

    def uses(self, CoreExchange ex, curve):
        """Whether this core was built for ``ex`` and ``curve`` (a new episode builds anew)."""
        return self.ex is ex and self.curve is curve


cdef class IntermittentCore(CurveCore):
    """The compiled :meth:`IntermittentProsumer.act` of one episode; see the comment at the
    top of ``_agents_fast.pxi``."""

    # the agent's parameters of the current call
    cdef int settle
    cdef double cushion, premium, fee_ticks
    cdef object min_sell, max_buy
    # the prosumer whose forecast_tables() were read last, and what they were: a prosumer's
    # forecasts are drawn when it is built and never change (its episode's core reads them
    # at every wake-up: ≈ 1.4 % of a `community` env step through the method)
    cdef object seen_prosumer, seen_tables

    cdef tuple tables_of(self, object prosumer):
        """``prosumer.forecast_tables()``, read once per prosumer."""
        if prosumer is not self.seen_prosumer:
            self.seen_tables = tuple(prosumer.forecast_tables())
            self.seen_prosumer = prosumer
        return self.seen_tables

    def act(self, agent, open_slots, int64_t now, dict working, prosumer, owner):
        """The instructions for this wake-up (``open_slots``: the open slots, a non-empty
        range; ``prosumer``: the owner's, for the forecasts, or ``None``), or ``None``: run
        the reference instead (nothing changed)."""
        cdef Py_ssize_t i, n
        cdef int64_t slot, gap, wr, deadband, cursor = agent._cursor
        cdef int32_t o
        cdef double u, tau_s
        cdef bint has_u
        cdef object w
        cdef rex_order *r
        slots = chosen_slots(agent, open_slots)
        n = len(slots)
        wants = self.targets(slots, now, prosumer, agent.lot)
        if wants is None:
            agent._cursor = cursor
            return None
        o = self.ex._owner(owner, False)
        held = [self.ex._position(o, k) for k in slots]
        code = SETTLE_CODES.get(agent.settlement)
        if code is None:
            agent._cursor = cursor
            return None
        self.settle = code
        tau_s = agent.tau_s
        deadband = agent.deadband
        self.cushion = agent.cushion
        self.premium = agent.premium
        self.fee_ticks = agent.fee_ticks
        self.ref_ticks = agent.ref_ticks
        self.min_sell = agent.min_sell
        self.max_buy = agent.max_buy
        out = []
        self.begin()
        for i in range(n):
            slot_o = slots[i]
            slot = slot_o
            gap = <int64_t>wants[i] - <int64_t>held[i]
            w = self.live(slot_o, working, &r)
            if w is UNREADABLE:
                agent._cursor = cursor
                return self.hand_back(working)
            has_u = False
            u = 0.0
            if w is None:
                if gap == 0:
                    continue  # reserved as forecast, nothing working
            else:
                u = urgency(slot * self.slot_len - self.gate_lead - now, tau_s)
                has_u = True
                wr = r.rate if r.side == 1 else -r.rate
                if (gap - wr if gap >= wr else wr - gap) < deadband and u < 0.5:
                    continue  # a patient order of the right size keeps price and priority
            if not self.order_for(out, slot_o, slot, gap, has_u, u, tau_s, now, w, r, working):
                agent._cursor = cursor
                return self.hand_back(working)
        return out

    cdef list targets(self, list slots, int64_t now, object prosumer, double lot):
        """IntermittentProsumer.targets: ``round(-forecast / lot)`` per slot (the forecast as
        Prosumer.forecast reads it); ``None`` where the reference would not give an int."""
        cdef Py_ssize_t i, n = len(slots), k
        cdef int64_t first, phase, slot_len, update_s, revisions, slot, m
        cdef list rows
        cdef double x
        if prosumer is None:
            return [0] * n  # no assets: round(-0.0 / lot)
        first, phase, slot_len, update_s, revisions, rows = self.tables_of(prosumer)
        if update_s <= 0 or revisions < 0:
            return None
        out = []
        for i in range(n):
            slot = slots[i]
            m = revision_index(now, phase, slot, slot_len, update_s, revisions)
            k = slot - first
            if not 0 <= k < len(rows):
                return None
            row = rows[k]
            if not 0 <= m < len(row):
                return None
            x = -(<double>row[m]) / lot
            if not isfinite(x) or fabs(x) > 9.0e15:
                return None
            out.append(<int64_t>nearbyint(x))  # round half to even, as Python's round()
        return out

    cdef bint order_for(self, list out, object slot_o, int64_t slot, int64_t gap, bint has_u,
                        double u, double tau_s, int64_t now, object w, rex_order *r,
                        dict working) except -1:
        """IntermittentProsumer.order_for; False: the reference must decide."""
        cdef int side
        cdef int64_t lim, price, touch
        cdef double beyond
        cdef bint ok = True
        if gap == 0:
            self.steer(out, slot_o, 0, 0, w, r, working)
            return True
        side = 1 if gap > 0 else -1
        lim = self.limit(slot, side, &ok)
        if not ok:
            return False
        if not has_u:
            u = urgency(slot * self.slot_len - self.gate_lead - now, tau_s)
        if u <= 1.0 or rex_phase(self.ex.c, slot) != PH_CONTINUOUS:
            price = self.make_take_price(slot, side, r, u if u < 1.0 else 1.0, &ok)
        else:  # beyond the touch, toward the no-loss limit as the gate nears
            touch = self.make_take_price(slot, side, r, 1.0, &ok)
            beyond = touch + (u - 1.0) * <double>(lim - touch)
            if not isfinite(beyond):
                return False
            price = <int64_t>floor(beyond) if side == 1 else <int64_t>ceil(beyond)
        if not ok:
            return False
        if side == 1:
            price = price if price < lim else lim
        else:
            price = price if price > lim else lim
        self.steer(out, slot_o, gap, price, w, r, working)
        return True

    cdef int64_t limit(self, int64_t slot, int side, bint *ok) except? -1:
        """IntermittentProsumer.limit (with bounds): the no-loss limit in ticks."""
        cdef int64_t lo, hi, bid = 0, ask = 0
        cdef Py_ssize_t i = slot - self.curve_first
        cdef double ref, d, lim
        if self.min_sell is None or self.max_buy is None:
            if self.has_curve:
                if not 0 <= i < self.curve_n:
                    ok[0] = False  # the reference raises the curve's error
                    return 0
                bid = self.bids[i]
                ask = self.asks[i]
            else:
                bid = 0
                ask = self.ref_ticks * 3
        lo = (bid if bid < 0 else 0) if self.min_sell is None else <int64_t>self.min_sell
        hi = ask if self.max_buy is None else <int64_t>self.max_buy
        if hi < lo:
            hi = lo
        if self.settle == SETTLE_CURTAIL or (self.settle == SETTLE_SINGLE and self.has_curve
                                            and not self.flat):
            return hi if side == 1 else lo
        v = self.ex.vwap(slot)
        if v is not None:
            ref = v
        elif self.has_curve and not self.flat:
            if not 0 <= i < self.curve_n:
                ok[0] = False
                return 0
            ref = self.prices[i]
        else:
            ref = <double>self.ref_ticks
        if self.settle == SETTLE_SINGLE:
            d = self.cushion * fabs(ref)
            lim = ref + d if side == 1 else ref - d
        elif side == 1:
            lim = ((ref * (1 + self.premium) if ref >= 0 else ref / (1 + self.premium))
                   + self.fee_ticks)
        else:
            lim = ((ref / (1 + self.premium) if ref >= 0 else ref * (1 + self.premium))
                   - self.fee_ticks)
        if not isfinite(lim) or fabs(lim) > 9.0e15:
            ok[0] = False  # the reference's int() raises, or exceeds what C holds exactly
            return 0
        if side == 1:
            d = floor(lim)
            return hi if hi < <int64_t>d else <int64_t>d
        d = ceil(lim)
        return lo if lo > <int64_t>d else <int64_t>d


cdef class DecoderCore(SteeringCore):
    """The compiled slot loop of the env's box-mode decoding (``rex_env.envs.parallel``
    ``_decode``: :func:`~rex_env.envs.actions.make_take_aggressiveness`,
    :func:`~rex_env.envs.actions.price_for`, ``OrderSteer.steer`` per window slot), for one
    exchange; the Python loop stays the reference (``tests/envs/test_decoder_core.py``)."""

    cdef int64_t slot_len, gate_lead, lo, hi
    cdef double tau_s

    def __init__(self, CoreExchange ex, int64_t slot_len, int64_t gate_lead, int64_t ref_ticks,
                 bounds, double tau_s, submit, cancel, modify):
        """``bounds``: ``(lowest, highest)`` price in ticks; ``tau_s``: the make-take
        urgency's time constant (``URGENCY_TAU_S``)."""
        SteeringCore.__init__(self, ex, submit, cancel, modify)
        self.slot_len = slot_len
        self.gate_lead = gate_lead
        self.ref_ticks = ref_ticks
        self.lo, self.hi = bounds
        self.tau_s = tau_s

    def uses(self, CoreExchange ex):
        return self.ex is ex

    def decode(self, list window, list targets, list held, list aggressiveness,
               bint make_take, int64_t now, dict working):
        """The instructions that steer each window slot's working order to ``targets[j] -
        held[j]`` lots at the price of ``aggressiveness[j]``, or ``None``: run the
        reference instead."""
        cdef Py_ssize_t j, n = len(window)
        cdef int64_t slot, gap
        cdef int side
        cdef double a, x
        cdef rex_order *r
        cdef object w
        if not (len(targets) == len(held) == len(aggressiveness) == n):
            return None
        out = []
        self.begin()
        for j in range(n):
            slot_o = window[j]
            slot = slot_o
            gap = <int64_t>targets[j] - <int64_t>held[j]
            w = self.live(slot_o, working, &r)
            if w is UNREADABLE:
                return self.hand_back(working)
            if gap == 0:
                self.steer(out, slot_o, 0, 0, w, r, working)
                continue
            side = 1 if gap > 0 else -1
            a = aggressiveness[j]
            if make_take:  # make_take_aggressiveness
                x = urgency(slot * self.slot_len - self.gate_lead - now, self.tau_s) - 1.0 + a
                a = x if x > -1.0 else -1.0
                a = a if a < 1.0 else 1.0
            self.steer(out, slot_o, gap, self.price_for(slot, side, a), w, r, working)
        return out

    cdef int64_t price_for(self, int64_t slot, int side, double a):
        """rex_env.envs.actions.price_for: passive (a = -1), touch (0), deep (+1)."""
        cdef bint has_bid = False, has_ask = False
        cdef int64_t bid = 0, ask = 0, touch, passive, deep, margin, got
        cdef double p
        self.quotes(slot, &has_bid, &bid, &has_ask, &ask)
        margin = self.ref_ticks // 20  # Python's floor division (cdivision is off)
        if margin < 1:
            margin = 1
        if side == 1:
            touch = ask if has_ask else self.ref_ticks
            passive = bid + 1 if has_bid else self.ref_ticks - margin
            if touch - 1 < passive:
                passive = touch - 1
            deep = touch + margin
        else:
            touch = bid if has_bid else self.ref_ticks
            passive = ask - 1 if has_ask else self.ref_ticks + margin
            if touch + 1 > passive:
                passive = touch + 1
            deep = touch - margin
        if rex_phase(self.ex.c, slot) == PH_CALL:
            a = -1.0
        if a <= 0:
            p = touch + (-a) * <double>(passive - touch)
        else:
            p = touch + a * <double>(deep - touch)
        got = <int64_t>floor(p) if side == 1 else <int64_t>ceil(p)
        if got < self.lo:
            got = self.lo
        return got if got < self.hi else self.hi


cdef class ZICore(CurveCore):
    """The compiled :meth:`agents.zi.ZITrader.act` of one episode: unwind the slots near their
    gate (make-take, then a market order), one zero-intelligence quote in a far slot, and the
    wake-ups it must not miss. The random draws are the agent's own ``random.Random`` calls,
    in the reference's order, so both draw the same numbers; and since a draw cannot be taken
    back, every working order is checked readable before the first one (the only hand-back)."""

    def act(self, agent, slots, int64_t now, dict working, owner):
        """``(instructions, checkpoints)`` for the open ``slots`` (a non-empty range), or
        ``None``: run the reference instead (nothing was drawn or changed)."""
        cdef Py_ssize_t i, n = len(slots), n_far
        cdef int32_t o
        cdef int64_t slot, left, flat_within, take_within
        cdef double make_take
        for w in working.values():
            if self.record(w) == NULL:
                return None
        o = self.ex._owner(owner, False)
        flat_within = agent.flat_within
        take_within = agent.take_within
        make_take = agent.make_take
        self.ref_ticks = agent.ref_ticks
        self.begin()
        out = []
        n_far = n
        for i in range(n):
            slot_o = slots[i]
            slot = slot_o
            left = slot * self.slot_len - self.gate_lead - now
            if left > flat_within:
                n_far = i
                break
            self.unwind(out, slot_o, slot, left, o, flat_within, take_within, make_take,
                        working)
        if n_far < n:
            self.quote(out, agent, slots[n_far:], o, working)
        return out, self.plan(agent._touched, now, o, flat_within, take_within, working)

    cdef int unwind(self, list out, object slot_o, int64_t slot, int64_t left, int32_t o,
                    int64_t flat_within, int64_t take_within, double make_take,
                    dict working) except -1:
        """ZITrader._unwind: steer the slot's position to zero, a market order at the end."""
        cdef int64_t gap = -self.ex._position(o, slot_o)
        cdef double u
        cdef bint ok = True
        cdef rex_order *r
        w = self.live(slot_o, working, &r)
        if gap == 0:
            return self.steer(out, slot_o, 0, 0, w, r, working)
        if left <= take_within:
            return self.steer_market(out, slot_o, gap, w, working)
        side = 1 if gap > 0 else -1
        u = 1.0 - (<double>(left - take_within)) / (<double>(flat_within - take_within))
        price = self.make_take_price(slot, side, r, u ** make_take, &ok)
        if not ok:
            raise OverflowError(f"make-take price of slot {slot} is not a finite tick count")
        return self.steer(out, slot_o, gap, price, w, r, working)

    cdef int quote(self, list out, object agent, object far, int32_t o,
                   dict working) except -1:
        """ZITrader._quote with SlotTrader.random_intent: one ZI order in a random far
        slot."""
        cdef int64_t pos, room, size, limit = agent.max_position, lo, hi
        cdef Py_ssize_t i
        cdef double c, half
        cdef rex_order *r
        rnd = agent._py
        slot_o = far[randrange(rnd, len(far))]
        buy = rnd.random() < 0.5
        pos = self.ex._position(o, slot_o)
        room = limit - pos if buy else limit + pos
        size = randint(rnd, 1, agent.max_lots)
        if room < size:
            size = room
        w = self.live(slot_o, working, &r)
        if size <= 0:
            return self.steer(out, slot_o, 0, 0, w, r, working)
        lo, hi = agent.lo, agent.hi
        if self.has_curve and not self.flat:
            i = <int64_t>slot_o - self.curve_first
            c = self.prices[i] if 0 <= i < self.curve_n else self.curve.price_ticks(slot_o)
            half = agent.half
            lo, hi = <int64_t>(c - half), <int64_t>(c + half)  # int(): toward zero
        value = randint(rnd, lo, hi)
        if not agent.constrained:
            price = randint(rnd, lo, hi)
        elif buy:
            price = randint(rnd, lo, value)
        else:
            price = randint(rnd, value, hi)
        return self.steer(out, slot_o, size if buy else -size, price, w, r, working)

    cdef list plan(self, set touched, int64_t now, int32_t o, int64_t flat_within,
                   int64_t take_within, dict working):
        """ZITrader._plan: the unwind's wake-ups of every slot it may hold something in."""
        cdef int64_t k, held, close, take = take_within // 2
        cdef rex_order *r
        slots = list(touched)
        held_all = [self.ex._position(o, s) for s in slots]
        out = []
        for i in range(len(slots)):
            k = slots[i]
            held = held_all[i]
            close = k * self.slot_len - self.gate_lead
            if close <= now or (held == 0 and self.live(slots[i], working, &r) is None):
                touched.discard(slots[i])
                continue
            if close - flat_within > now:
                out.append(close - flat_within)
            elif close - take > now:
                out.append(close - take)
            elif close - 1 > now:
                out.append(close - 1)
        return out


def execute_plain(CoreExchange ex, list instructions, int64_t now, owner, int64_t next_id,
                  list ids, dict rejections, on_trades, ins_type, market=None, list defer=None):
    """``Market.execute`` for a list of plain instructions — ``submit`` (no ``match_zone``),
    ``cancel`` or ``modify`` with prices and rates that are ``int`` or ``None`` — in the same
    order with the same effects: order ids ``next_id + 1 ...`` for the submits, an accepted
    order's id appended to ``ids`` while it has an open rate, ``rejections[reason] += 1``,
    ``on_trades(trades)`` for every report with trades. Returns ``(reports, next_id)``, the
    ``(instruction, report)`` pairs and the last id used, or ``None`` before doing anything if
    one instruction is not a plain ``ins_type`` (the agent API's ``Instruction``; the caller
    then runs its Python loop). ``market``: the market whose ``execute`` this is; where its
    ``_on_trades`` is ``Market``'s own and its ``_trade_book`` a plain :class:`TradeBook`, the
    book is called directly, once for the trades of all the reports in order (nothing reads
    the accounts or metrics between them; the same figures as a call per report), and
    ``on_trades`` only where the book declines; with ``defer`` (a list), those trades are
    appended to it instead, for the caller to book before anything reads the accounts or
    metrics (:meth:`WakeLoop.run`). The exchange's own ``submit``, ``cancel`` and ``modify``
    are called without the method call (``plain_ops``)."""
    cdef Py_ssize_t i, n = len(instructions)
    cdef bint direct = ex.plain_ops
    cdef list pending = defer  # where the book's trades wait (ours: booked at the end)
    cdef bint ours = defer is None
    cdef TradeBook book = None
    if market is not None and market._plain_on_trades:
        got_book = market._trade_book
        if type(got_book) is TradeBook:
            book = <TradeBook>got_book
    for i in range(n):
        ins = instructions[i]
        if type(ins) is not ins_type:
            return None
        op = (<tuple>ins)[0]
        price = (<tuple>ins)[4]
        rate = (<tuple>ins)[5]
        if not ((price is None or type(price) is int) and (rate is None or type(rate) is int)):
            return None
        if not (op == "cancel" or op == "modify" or (op == "submit" and (<tuple>ins)[9] is None)):
            return None
    out = []
    for i in range(n):
        ins = instructions[i]
        op = (<tuple>ins)[0]
        if op == "submit":
            next_id += 1
            if direct:
                rep = ex._submit(now, next_id, owner, (<tuple>ins)[2], (<tuple>ins)[3],
                                 (<tuple>ins)[4], (<tuple>ins)[5], (<tuple>ins)[6],
                                 (<tuple>ins)[7], (<tuple>ins)[8])
            else:
                rep = ex.submit(now, next_id, owner, (<tuple>ins)[2], (<tuple>ins)[3],
                                (<tuple>ins)[4], (<tuple>ins)[5], (<tuple>ins)[6],
                                (<tuple>ins)[7], (<tuple>ins)[8])
            order = (<tuple>rep)[2]
            if order is not None and (
                    (<COrder>order).o().rate != 0
                    if type(order) is COrder and (<COrder>order).frozen is None else order.rate):
                ids.append(next_id)
        elif op == "cancel":
            if direct:
                rep = ex._cancel(now, (<tuple>ins)[1], owner)
            else:
                rep = ex.cancel(now, (<tuple>ins)[1], owner)
        elif direct:
            rep = ex._modify(now, (<tuple>ins)[1], owner, (<tuple>ins)[4], (<tuple>ins)[5])
        else:
            rep = ex.modify(now, (<tuple>ins)[1], owner, (<tuple>ins)[4], (<tuple>ins)[5])
        reason = (<tuple>rep)[1]
        if reason is not None:
            key = reason.value
            rejections[key] = rejections.get(key, 0) + 1
        trades = (<tuple>rep)[3]
        if trades:
            if book is None:
                on_trades(trades)
            elif pending is None:
                pending = list(trades)
            else:
                pending.extend(trades)
        out.append((ins, rep))
    if ours and pending is not None and not book.book_market(pending, market):
        on_trades(pending)
    return out, next_id
