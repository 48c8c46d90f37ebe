# The compiled decision of the hand-coded intermittent prosumer (included by _cexchange.pyx:
# it reads CoreExchange's books and order records in C). Issue 12, item 1: the built-in agents
# as compiled state machines with the Python agent kept as the reference.
#
# IntermittentCore.act is agents.intermittent.IntermittentProsumer.act after the slots are
# chosen and their positions read: for every chosen slot the target (minus the forecast in
# lots, Prosumer.forecast's table read in C), the working order's
# liveness, the deadband, the no-loss limit (SlotTrader bounds + IntermittentProsumer.limit),
# the make-take price (SlotTrader.make_take_price / _without_own / _fair) and the steering
# (SlotTrader.steer), in the same order and with the same float operations, so that every
# instruction is the one the Python code returns (tests/sim/test_fingerprints.py pins whole
# days and episodes; tests/agents/test_intermittent_core.py compares the two on every wake-up).
# The agent's parameters are read at every call (a caller may change them between wake-ups);
# the order records, books and phases are read in C. The only Python calls left per slot are
# the instruction constructors and, where a slot's limit or fair price needs it, the VWAP.
#
# It never raises for the agent's own inputs in a way the reference would not: where the
# reference would raise (a limit that is not finite, a slot outside the price curve) or a
# working order is not a live record of this exchange, ``act`` returns None and the caller
# runs the Python code, which then raises or decides as the reference does.

from libc.math cimport ceil, exp, fabs, floor, isfinite, nearbyint

cdef enum:
    SETTLE_SINGLE = 0
    SETTLE_DUAL = 1
    SETTLE_CURTAIL = 2
    ST_RESTING = 1     # STATUS[1]
    PH_CONTINUOUS = 2  # PHASE[2]

cdef dict SETTLE_CODES = {"single": SETTLE_SINGLE, "dual": SETTLE_DUAL,
                          "curtail": SETTLE_CURTAIL}


cdef inline double urgency(int64_t left, double tau_s):
    """rex_env.sim.agent_api.make_take_urgency: 2 exp(-max(0, left) / tau_s)."""
    cdef double l = <double>left if left > 0 else 0.0
    return 2.0 * exp(-l / tau_s)


cdef class IntermittentCore:
    """The compiled :meth:`IntermittentProsumer.act` of one episode (one exchange, one price
    curve); see the comment at the top of ``_agents_fast.pxi``."""

    cdef CoreExchange ex
    cdef readonly object curve
    cdef int64_t slot_len, gate_lead, curve_first
    cdef Py_ssize_t curve_n
    cdef bint has_curve, flat
    cdef list bids, asks, prices
    cdef object submit, cancel, modify
    # the agent's parameters of the current call
    cdef int settle
    cdef double cushion, premium, fee_ticks
    cdef int64_t ref_ticks
    cdef object min_sell, max_buy

    def __init__(self, CoreExchange ex, int64_t slot_len, int64_t gate_lead, curve, tables,
                 submit, cancel, modify):
        """``curve`` (a ``PublicCurve`` or ``None``) with its ``tables``
        (``(first_slot, bid ticks, ask ticks, price ticks)``, lists); ``submit``, ``cancel``,
        ``modify``: the instruction constructors of the agent API."""
        self.ex = ex
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
        self.submit, self.cancel, self.modify = submit, cancel, modify

    def uses(self, CoreExchange ex, curve):
        """Whether this core was built for ``ex`` and ``curve`` (a new episode builds anew)."""
        return self.ex is ex and self.curve is curve

    cdef inline rex_order *record(self, object w):
        """The C record of a working order, NULL if it is not a live record of this
        exchange (the caller then falls back to the reference)."""
        cdef COrder o
        if type(w) is not COrder:
            return NULL
        o = <COrder>w
        if o.frozen is not None or o.ex is not self.ex:
            return NULL
        return o.o()

    def act(self, agent, list slots, list held, int64_t now, dict working, prosumer):
        """The instructions for ``slots`` (``held``: their positions in lots; ``prosumer``:
        the owner's, for the forecasts, or ``None``), or ``None``: run the reference instead."""
        cdef Py_ssize_t i, n = len(slots)
        cdef int64_t slot, gap, wr, deadband
        cdef double u, tau_s
        cdef bint has_u
        cdef rex_order *r
        if len(held) != n:
            return None
        wants = self.targets(slots, now, prosumer, agent.lot)
        if wants is None:
            return None
        code = SETTLE_CODES.get(agent.settlement)
        if code is None:
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
        for i in range(n):
            slot_o = slots[i]
            slot = slot_o
            gap = <int64_t>wants[i] - <int64_t>held[i]
            w = working.get(slot_o)
            r = NULL
            if w is not None:
                r = self.record(w)
                if r == NULL:
                    return None
                if r.status != ST_RESTING:
                    del working[slot_o]
                    w = None
                    r = NULL
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
                return None
        return out

    cdef list targets(self, list slots, int64_t now, object prosumer, double lot):
        """IntermittentProsumer.targets: ``round(-forecast / lot)`` per slot (the forecast as
        Prosumer.forecast reads it); ``None`` where the reference would not give an int."""
        cdef Py_ssize_t i, n = len(slots), k
        cdef int64_t first, phase, slot_len, update_s, revisions, slot, a, m
        cdef list rows
        cdef double x
        if prosumer is None:
            return [0] * n  # no assets: round(-0.0 / lot)
        first, phase, slot_len, update_s, revisions, rows = prosumer.forecast_tables()
        if update_s <= 0:
            return None
        out = []
        for i in range(n):
            slot = slots[i]
            a = now + phase - slot * slot_len
            m = a // update_s  # Python's floor division (cdivision is off)
            m = -m
            if m < 0:
                m = 0
            elif m > revisions:
                m = revisions
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

    cdef int64_t make_take_price(self, int64_t slot, int side, rex_order *own, double weight,
                                 bint *ok) except? -1:
        """SlotTrader.make_take_price with u = 0, spread 50 ticks, ``weight`` given."""
        cdef int32_t b = rex_book_index(self.ex.c, slot)
        cdef rex_side *s
        cdef bint has_bid0 = False, has_ask0 = False, has_bid, has_ask
        cdef int64_t bid0 = 0, ask0 = 0, bid, ask
        cdef double fair = 0.0, passive, taking, x
        if b >= 0:
            s = &self.ex.c.books[b].bids
            if s.n:
                has_bid0 = True
                bid0 = self.ex.c.levels[s.lv[s.n - 1]].price
            s = &self.ex.c.books[b].asks
            if s.n:
                has_ask0 = True
                ask0 = self.ex.c.levels[s.lv[s.n - 1]].price
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

    cdef int steer(self, list out, object slot_o, int64_t gap, int64_t price, object w,
                   rex_order *r, dict working) except -1:
        """SlotTrader.steer with a limit price and tolerance 0 (``w``: the live working order
        of the slot or None, ``r`` its record)."""
        cdef int side = 1 if gap > 0 else -1
        cdef int64_t size = gap if gap > 0 else -gap
        if w is not None:
            if size == 0 or r.side != side:
                out.append(self.cancel(w.order_id))
                del working[slot_o]
            elif r.has_price and r.price == price and r.rate == size:
                return 0
            else:
                out.append(self.modify(w.order_id, price, size))
                return 0
        if size == 0:
            return 0
        out.append(self.submit(_BUY if side == 1 else _SELL, slot_o, price, size))
        return 0
