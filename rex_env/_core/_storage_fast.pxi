# The storage dealer's decision compiled (included by _cexchange.pyx). Issue 12: with the
# intermittent prosumers' and ZI traders' wake-ups compiled, agents.storage.StorageDealer.act
# was the largest Python left in a simulated day (≈ 13 % of `community`, py-spy): a loop over
# the open slots reading the books (the others' best quotes beside its own quotes) and, for
# its sizes, projections of the state of charge over every slot to the end of the window.
#
# StorageCore.act is StorageDealer.act after its first check (open slots and the prosumer),
# line by line: the closed slots' prices (rule 1), the positions and cash, the price samples
# and their quantiles, the state-of-charge path, the limits (rules 2, 3 and 7), the prices per
# slot (rule 4) and the greedy sizes (rules 5 and 6); the plan becomes instructions as the
# agent's ``_orders`` (and the early exits its ``_cancel_all``) make them, in C. What runs once
# a call is the reference's own Python arithmetic on Python objects (Cython keeps Python's
# semantics for untyped values: the same floats, the same exceptions); the per-slot loops run
# in C on the same IEEE doubles and int64s with Python's min/max and int() rules. Before it
# changes anything it checks that the agent's numbers are plain (int or float), and in the
# loops it hands back (``None``: the caller runs the reference) where a C value would not be
# what Python computes (a price past 2**53, a ratio that is not finite). What it changed before
# a hand-back is what the reference does itself and finds done when it runs (the closed slots'
# prices, the cash of fills, forgetting dead quotes), so the reference then decides from the
# same state. tests/agents/test_compiled_agents.py compares both at every wake-up of whole
# days; tests/sim/test_fingerprints.py pins them.

from cpython.mem cimport PyMem_Free, PyMem_Malloc

cdef double STORE_EPS = 1e-6  # agents.storage._EPS
cdef object NP_FLOAT64 = np.float64  # a float subclass with the same IEEE arithmetic


cdef inline bint plain_number(object x, double *out):
    """``x`` as a double when Python's arithmetic on it is IEEE double arithmetic (a float or
    numpy float64, or an int a double holds exactly: ``exact_int``)."""
    cdef int64_t i
    if type(x) is float or type(x) is NP_FLOAT64:
        out[0] = <double>x
        return True
    if exact_int(x, &i):
        out[0] = <double>i
        return True
    return False


cdef class StorageCore(CurveCore):
    """The compiled :meth:`StorageDealer.act` of one episode; see the comment at the top of
    ``_storage_fast.pxi``."""

    # the battery and agent figures of the current call
    cdef double lot, hours, eta_c, eta_d

    cdef list cancel_all(self, agent):
        """StorageDealer._cancel_all: cancel every resting quote, forget them all."""
        quotes = agent.quotes
        resting = STATUS[ST_RESTING]
        out = [self.ins_cancel(o.order_id) for o in quotes.values() if o.status is resting]
        agent.quotes = {}
        return out

    cdef list orders(self, agent, dict plan):
        """StorageDealer._orders: the instructions that turn the resting quotes into
        ``plan`` — cancels and decreases first, then increases and new orders — with the
        reference's own comparisons on the same objects (its ``_live`` inlined: a dead quote
        is forgotten)."""
        quotes = agent.quotes
        if type(quotes) is not dict:
            return self.orders(agent, plan)
        resting = STATUS[ST_RESTING]
        first = []
        then = []
        for key in list(quotes):
            o = (<dict>quotes).get(key)
            if o is None:
                continue
            if o.status is not resting:
                del (<dict>quotes)[key]
                continue
            want = plan.pop(key, None)
            if want is None:
                first.append(self.ins_cancel(o.order_id))
                del (<dict>quotes)[key]
                continue
            price, n = want
            if price == o.price and n >= o.rate and n - o.rate <= 2:
                continue  # close enough: keep the order and its priority
            if price == o.price and n < o.rate:
                first.append(self.ins_modify(o.order_id, None, n))
            elif n < o.rate:
                first.append(self.ins_modify(o.order_id, price, n))
            else:
                then.append(self.ins_modify(o.order_id, price, n))
        for (k, side), (price, n) in plan.items():
            then.append(self.ins_submit(side, k, price, n))
        return first + then

    cdef inline double stored(self, int64_t lots):
        """StorageDealer.stored: ``lots * lot * hours``, charged or discharged."""
        cdef double kwh = <double>lots * self.lot * self.hours
        return kwh * self.eta_c if lots > 0 else kwh / self.eta_d

    cdef int64_t max_lots(self, int64_t pos, double room_kwh, int sign, int64_t cap,
                          bint *ok):
        """StorageDealer._max_lots; ``ok`` False where Python's int() would raise or the
        C value would differ."""
        cdef double per_lot, base, rate_undo, rate_more, used, x
        cdef int64_t undo, more
        if cap <= 0 or room_kwh <= STORE_EPS:
            return 0
        per_lot = self.lot * self.hours
        base = self.stored(pos)
        undo = -sign * pos
        if undo < 0:
            undo = 0
        if cap < undo:
            undo = cap
        rate_undo = per_lot / self.eta_d if sign > 0 else per_lot * self.eta_c
        if undo and <double>undo * rate_undo >= room_kwh:
            x = (room_kwh - STORE_EPS) / rate_undo
            if not (isfinite(x) and fabs(x) < 4.0e18):
                ok[0] = False
                return 0
            return <int64_t>x
        used = fabs(self.stored(pos + sign * undo) - base)
        rate_more = per_lot * self.eta_c if sign > 0 else per_lot / self.eta_d
        x = (room_kwh - used - STORE_EPS) / rate_more
        if not isfinite(x):
            ok[0] = False
            return 0
        if x >= <double>cap:  # int(x) >= cap: the cap
            return cap
        more = <int64_t>x if x > 0.0 else 0
        return cap if undo + more > cap else undo + more

    cdef object own_quote(self, dict quotes, object key):
        """StorageDealer._live: the resting quote of a (slot, side), a dead one forgotten."""
        o = quotes.get(key)
        if o is None:
            return None
        if o.status is not STATUS[ST_RESTING]:
            del quotes[key]
            return None
        return o

    cdef bint others_best(self, object agent, object view, int64_t k, int side, object own,
                          int32_t b, bint has_best, int64_t best, int64_t *out,
                          bint *ok) except -1:
        """SlotTrader.others_best (the side's best read by the caller): False for none;
        ``ok`` False where the answer is not an int the core holds exactly."""
        cdef rex_order *r
        if own is None:
            out[0] = best
            return has_best
        r = self.record(own)
        if r == NULL:  # not a record the core reads: the reference's method
            got = agent.others_best(view, k, _BUY if side == 1 else _SELL, own)
            if got is None:
                return False
            if not exact_int(got, out):
                ok[0] = False
                return False
            return True
        return self.without_own(b, side, r, has_best, best, out)

    def act(self, agent, view, me, open_, now_o, first_slot_o, last_close_o, slot_len_o):
        """The instructions of this wake-up (``open_``: the open slots, a non-empty range of
        step 1; ``me.prosumer`` not ``None``), or ``None``: run the reference instead."""
        cdef double eta_o, reserve, min_e, max_e, max_inv, lot_in, lot_out, room, d, e, m_
        cdef int64_t ask_base, p_hi_up, take_sell, take_buy, bid_cap_i = 0, power, first
        cdef int64_t k, ob, oa, ask, bid, n
        cdef Py_ssize_t i, j, n_slots
        cdef bint has_bid, has_ask, has_ob, has_oa, has_ask_price, ok = True, selling
        cdef int64_t bid0, ask0
        cdef int32_t b
        cdef int64_t *pos = NULL
        cdef double *path = NULL
        cdef double *lo = NULL
        cdef double *hi = NULL
        bat = agent.battery
        # plain numbers only (checked before anything changes)
        if not (plain_number(agent.lot, &self.lot) and plain_number(bat.eta_charge, &self.eta_c)
                and plain_number(bat.eta_discharge, &self.eta_d)
                and plain_number(agent.reserve_kwh, &reserve)
                and plain_number(bat.min_energy_kwh, &min_e)
                and plain_number(bat.max_energy_kwh, &max_e)
                and plain_number(agent.max_inventory_kwh, &max_inv)
                and plain_number(agent.eta, &eta_o) and type(slot_len_o) is int
                and type(now_o) is int and type(first_slot_o) is int
                and type(open_) is range and open_.step == 1):
            return None
        hours = slot_len_o / 3600
        self.hours = <double>hours
        # rule 1: remember closed slots' prices
        if agent._next_closed < 0:
            agent._next_closed = first_slot_o
        while agent._next_closed < open_.start:
            v = self.ex.vwap(agent._next_closed)
            if v is not None:
                agent._prices.append(v)
                nv = self.ex.traded_volume(agent._next_closed)
                agent._turnover += v * nv
                agent._volume += nv
            agent._next_closed += 1
        first_o = max(first_slot_o, now_o // slot_len_o)
        slots = range(first_o, open_[-1] + 1)
        pos_l = me.positions(slots)
        cash = agent.cash_ticks_lots()
        samples = list(agent._prices)
        turnover, volume = agent._turnover, agent._volume
        for ko in open_:
            v = self.ex.vwap(ko)
            if v is not None:
                samples.append(v)
                nv = self.ex.traded_volume(ko)
                turnover += v * nv
                volume += nv
        if len(samples) < agent.min_samples:
            return self.cancel_all(agent)
        samples.sort()
        p_lo = samples[int(agent.q_buy * (len(samples) - 1))]
        p_hi = samples[int(agent.q_sell * (len(samples) - 1))]

        n_slots = len(pos_l)
        if n_slots == 0 or not exact_int(first_o, &first):
            return None
        pos = <int64_t *>PyMem_Malloc(n_slots * sizeof(int64_t))
        path = <double *>PyMem_Malloc(n_slots * sizeof(double))
        lo = <double *>PyMem_Malloc(n_slots * sizeof(double))
        hi = <double *>PyMem_Malloc(n_slots * sizeof(double))
        try:
            if pos == NULL or path == NULL or lo == NULL or hi == NULL:
                raise MemoryError()
            for i in range(n_slots):
                if not exact_int(pos_l[i], &pos[i]) or not -(1 << 40) < pos[i] < (1 << 40):
                    return None
            # state of charge after each slot at the current positions
            if not plain_number(me.prosumer.soc_kwh, &e):
                return None
            for i in range(n_slots):
                e += self.stored(pos[i])
                path[i] = e
            inventory = path[n_slots - 1] - reserve

            # rules 2, 3 and 7: the limits (ticks), the reference's own arithmetic
            m = agent.margin
            wind_down = agent.wind_down
            left = last_close_o - now_o
            winding = left < wind_down
            day = turnover / volume if volume else p_lo
            bid_cap = None if winding else p_hi * agent.eta / (1 + m)
            if bid_cap is not None and agent.cover_bids:
                bid_cap = min(bid_cap, day * agent.eta / (1 + m))
            floor_ = p_lo / agent.eta
            if inventory > STORE_EPS and cash < 0:
                floor_ = max(floor_, -cash * agent.lot * hours / (inventory * bat.eta_discharge))
            ask_floor = floor_ * (1 + m)
            if winding:
                f = max(0.0, left / wind_down) if wind_down > 0 else 0.0
                liq = day if agent.liq_ticks is None else agent.liq_ticks
                ask_floor = liq + f * (ask_floor - liq)

            selling = inventory > STORE_EPS
            if not selling and bid_cap is None:
                return self.orders(agent, {})
            ask_base_o = int(-(-ask_floor // 1))
            p_hi_up_o = int(-(-p_hi // 1))
            take_sell_o = ask_base_o if winding else max(ask_base_o, p_hi_up_o)
            take_buy_o = min(int(bid_cap), int(p_lo)) if bid_cap is not None else 0
            if not (exact_int(ask_base_o, &ask_base) and exact_int(p_hi_up_o, &p_hi_up)
                    and exact_int(take_sell_o, &take_sell) and exact_int(take_buy_o, &take_buy)
                    and (bid_cap is None or exact_int(int(bid_cap), &bid_cap_i))):
                return None

            # rule 4: prices per slot
            quotes = agent.quotes
            asks = []  # (price, slot)
            bids = []
            for k in range(open_.start, open_.stop):
                if rex_phase(self.ex.c, k) != PH_CONTINUOUS:
                    continue
                ko = k
                own_b = self.own_quote(quotes, (ko, _BUY))
                has_bid = has_ask = False
                bid0 = ask0 = 0
                b = self.quotes(k, &has_bid, &bid0, &has_ask, &ask0)
                has_ob = self.others_best(agent, view, k, 1, own_b, b, has_bid, bid0, &ob, &ok)
                own_s = self.own_quote(quotes, (ko, _SELL))
                has_oa = self.others_best(agent, view, k, -1, own_s, b, has_ask, ask0, &oa, &ok)
                if not ok:
                    return None
                has_ask_price = False
                ask = 0
                if selling:  # one tick under the others' ask, above their bid ...
                    if has_oa:
                        ask = oa - 1
                    else:
                        ask = ask_base if ask_base >= p_hi_up else p_hi_up
                    if has_ob:
                        if ob + 1 > ask:
                            ask = ob + 1
                        if ob >= take_sell:
                            ask = ob  # ... or into a bid that pays the usual dear price
                    if ask_base > ask:
                        ask = ask_base
                    has_ask_price = True
                    asks.append((ask, ko))
                if bid_cap is not None:  # one tick over the others' bid, below their ask ...
                    bid = ob + 1 if has_ob else take_buy
                    if has_oa:
                        if oa - 1 < bid:
                            bid = oa - 1
                        if oa <= take_buy:
                            bid = oa  # ... or from an ask at the usual cheap price
                    if bid_cap_i < bid:
                        bid = bid_cap_i
                    if bid > 0 and (not has_ask_price or bid < ask):
                        bids.append((bid, ko))

            # rules 5 and 6: sizes, greedy over slots, feasible whatever fills
            power_o = int(bat.power_kw / agent.lot + 1e-9)
            if not exact_int(power_o, &power) or not -(1 << 40) < power < (1 << 40):
                return None
            lot_in = <double>(agent.lot * hours * bat.eta_charge)
            lot_out = <double>(agent.lot * hours / bat.eta_discharge)
            plan = {}
            for i in range(n_slots):
                lo[i] = path[i]
                hi[i] = path[i]
            if selling:
                for price, ko in asks:
                    i = <int64_t>ko - first
                    if lo[n_slots - 1] - reserve < lot_out:
                        break  # all the inventory is on offer
                    m_ = lo[i]
                    for j in range(i + 1, n_slots):
                        if lo[j] < m_:
                            m_ = lo[j]
                    room = m_ - min_e
                    if lo[n_slots - 1] - reserve < room:
                        room = lo[n_slots - 1] - reserve
                    n = self.max_lots(pos[i], room, -1, power + pos[i], &ok)
                    if not ok:
                        return None
                    if n > 0:
                        plan[(ko, _SELL)] = (price, n)
                        d = self.stored(pos[i]) - self.stored(pos[i] - n)
                        for j in range(i, n_slots):
                            lo[j] -= d
            bids.sort()  # the cheapest first (ties: the nearest)
            for price, ko in bids:
                i = <int64_t>ko - first
                if max_inv - (hi[n_slots - 1] - reserve) < lot_in:
                    break  # the inventory limit is reached whatever else fills
                m_ = hi[i]
                for j in range(i + 1, n_slots):
                    if hi[j] > m_:
                        m_ = hi[j]
                room = max_e - m_
                if max_inv - (hi[n_slots - 1] - reserve) < room:
                    room = max_inv - (hi[n_slots - 1] - reserve)
                n = self.max_lots(pos[i], room, 1, power - pos[i], &ok)
                if not ok:
                    return None
                if n > 0:
                    plan[(ko, _BUY)] = (price, n)
                    d = self.stored(pos[i] + n) - self.stored(pos[i])
                    for j in range(i, n_slots):
                        hi[j] += d
            return self.orders(agent, plan)
        finally:
            PyMem_Free(pos)
            PyMem_Free(path)
            PyMem_Free(lo)
            PyMem_Free(hi)
