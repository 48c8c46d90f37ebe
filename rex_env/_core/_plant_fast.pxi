# The provision plant's and the grid connection's decisions compiled (included by
# _cexchange.pyx). Issue 12: with the intermittent prosumers', ZI traders' and storage dealer's
# decisions compiled, agents.plant.ProvisionPlantAgent.act (≈ 4 % of a `community` env step,
# py-spy) and agents.grid.GridAgent.act (≈ 2 %) were the hand-coded agents' Python left.
#
# PlantCore.act is ProvisionPlantAgent.act after the open slots are read, line by line: the
# slot choice (SlotTrader.chosen_slots), and per chosen slot ``manage`` — the output sold (the
# owner's position, read in C), the working order's liveness, the others' best ask, rule 3's
# buy-back (the units whose marginal cost exceeds the ask, down to ``floor_kw``: the
# neighbours' sold output plus their resting offers less the ramp), rule 4's ceiling, rule 1's
# floor (``floor_ticks``: the marginal cost times 1 + markup, up to the tick), rule 2's price
# (a paying bid, else one tick under the others' ask moving to the floor as
# ``urgency ** make_take``) and the steering (SlotTrader.steer, tolerance 1). The numbers are
# the same IEEE doubles and int64s with Python's min/max, int() and ceil rules; the agent's
# and plant's figures are read at every call and must be plain (``plain_number``), and the
# plant a ``ProvisionPlant`` itself (``plant_type``, set by the agent's ``_compiled``: the core
# computes that class's marginal cost), else it hands back before it changes anything. Where a
# C value would not be what Python computes (an int() or ceil of a value past 2**53 or not
# finite) or a working order is not a live record of this exchange, it hands back (``None``)
# with the working orders and the round-robin cursor as they were.
#
# GridCore.act is GridAgent.act: per open slot the position (C), the curve's bid and ask ticks
# (the episode's tables) and per side the connection's room, the standing quote's liveness
# (its record) and the submit or top-up; it changes nothing, so a hand-back (a quote it cannot
# read, a slot outside the curve, a depth that is not a plain int) just runs the reference.
# tests/agents/test_compiled_agents.py compares both with the reference at every wake-up of
# whole days; tests/sim/test_fingerprints.py pins them.

cdef double PLANT_TINY = 1e-9  # agents.plant's int(x + 1e-9) and agents.base.ceil_ticks


cdef inline bint exact_trunc(double x, int64_t *out):
    """Python's ``int(x)`` (or ``math.ceil``/``floor`` of an already whole ``x``) for a
    float whose integer part a double holds exactly (below 2**53); False otherwise."""
    if not (isfinite(x) and fabs(x) < EXACT):
        return False
    out[0] = <int64_t>x
    return True


cdef class PlantCore(CurveCore):
    """The compiled :meth:`ProvisionPlantAgent.act` of one episode; see the comment at the
    top of ``_plant_fast.pxi``."""

    cdef public object plant_type  # the plant class whose marginal cost the core computes
    # the figures of the current call
    cdef double capacity, cost_a, cost_b, ramp, lot, tick, markup, step_kw, make_take
    cdef double window
    cdef bint undercut
    cdef int64_t first_slot, end_slot, now
    cdef int32_t o

    def act(self, agent, open_slots, int64_t now, dict working, owner, plant,
            int64_t first_slot, int64_t end_slot, int64_t window):
        """The instructions for this wake-up (``open_slots``: a non-empty range; ``window``:
        the schedule's ``open_lead - gate_lead``), or ``None``: run the reference instead
        (nothing changed)."""
        cdef Py_ssize_t i
        cdef int64_t cursor = agent._cursor
        if self.plant_type is None or type(plant) is not self.plant_type or window == 0:
            return None
        if not (plain_number(plant.capacity_kw, &self.capacity)
                and plain_number(plant.cost_a, &self.cost_a)
                and plain_number(plant.cost_b, &self.cost_b)
                and plain_number(plant.ramp_kw_per_slot, &self.ramp)
                and plain_number(agent.lot, &self.lot)
                and plain_number(agent.tick, &self.tick)
                and plain_number(agent.markup, &self.markup)
                and plain_number(agent.step_kw, &self.step_kw)
                and plain_number(agent.make_take, &self.make_take)):
            return None
        if not (isfinite(self.make_take) and self.make_take > 0.0):
            return None  # u ** make_take: the reference raises or answers what C does not
        if self.lot == 0.0 or self.tick == 0.0 or self.cost_b < 0.0:
            return None  # the reference divides by them (or rule 3 reads a falling cost)
        self.undercut = agent.undercut
        self.first_slot, self.end_slot, self.now = first_slot, end_slot, now
        self.window = <double>window
        self.o = self.ex._owner(owner, False)
        slots = chosen_slots(agent, open_slots)
        out = []
        self.begin()
        for i in range(len(slots)):
            if not self.manage(out, slots[i], working):
                agent._cursor = cursor
                return self.hand_back(working)
        return out

    cdef inline double sold_kw(self, int64_t slot) except? -1:
        """ProvisionPlantAgent.sold_kw: ``-position * lot``."""
        return <double>(-self.ex._position(self.o, slot)) * self.lot

    cdef bint manage(self, list out, object slot_o, dict working) except -1:
        """ProvisionPlantAgent.manage; False: the reference must decide."""
        cdef int64_t slot = slot_o, ask = 0, bid = 0, ask0 = 0, lots, floor_t, price
        cdef bint has_ask = False, has_bid = False, continuous = False
        cdef double q, keep, lo, room, hi, x, w_u, u
        cdef int32_t b
        cdef rex_order *r
        cdef rex_order *rk
        q = self.sold_kw(slot)
        own = self.live(slot_o, working, &r)
        if own is UNREADABLE:
            return False
        continuous = rex_phase(self.ex.c, slot) == PH_CONTINUOUS
        if continuous:
            b = self.quotes(slot, &has_bid, &bid, &has_ask, &ask0)
            ask = ask0
            if r != NULL:  # SlotTrader.others_best: its own resting offer left out
                has_ask = self.without_own(b, -1, r, has_ask, ask0, &ask)
        if q > 0 and has_ask and <double>ask * self.tick < self.cost_a + self.cost_b * q:
            # rule 3: buy back the units whose marginal cost exceeds the ask
            x = <double>ask * self.tick
            keep = (x - self.cost_a) / self.cost_b if self.cost_b > 0 else 0.0
            keep = keep if keep > 0.0 else 0.0
            lo = 0.0
            for k in (slot - 1, slot + 1):
                if self.first_slot <= k < self.end_slot:
                    x = self.sold_kw(k)
                    wk = self.live(k, working, &rk)
                    if wk is UNREADABLE:
                        return False
                    if wk is not None and rk.side == -1:
                        x = x + <double>rk.rate * self.lot
                    else:
                        x = x + 0.0
                    x = x - self.ramp
                    lo = x if x > lo else lo
            keep = lo if lo > keep else keep
            if not exact_trunc((q - keep) / self.lot + PLANT_TINY, &lots):
                return False
            if lots >= 1:
                self.steer(out, slot_o, 0, 0, own, r, working)  # the offer goes first
                out.append(self.ins_submit(_BUY, slot_o, ask, lots, _IOC))
                return True
        # rule 4's ceiling
        hi = self.capacity
        if slot - 1 >= self.first_slot:
            x = self.sold_kw(slot - 1) + self.ramp
        else:
            x = self.ramp  # the plant starts the episode off
        hi = x if x < hi else hi
        if slot + 1 < self.end_slot:
            x = self.sold_kw(slot + 1) + self.ramp
            hi = x if x < hi else hi
        hi = hi if hi > 0.0 else 0.0
        room = hi - q
        x = self.step_kw if self.step_kw < room else room
        if not exact_trunc(x / self.lot + PLANT_TINY, &lots):
            return False
        if lots < 1:
            self.steer(out, slot_o, 0, 0, own, r, working)
            return True
        # rule 1's floor: marginal cost of the step's last unit x (1 + markup), up to the tick
        x = q + <double>lots * self.lot
        x = ceil((self.cost_a + self.cost_b * x) * (1 + self.markup) / self.tick - PLANT_TINY)
        if not exact_trunc(x, &floor_t):  # (math.ceil's int of a whole float)
            return False
        price = floor_t
        if continuous:
            if has_bid and bid >= floor_t:
                price = bid  # rule 2: a bid pays the floor: sell into it now
            elif self.undercut and has_ask and ask - 1 > floor_t:
                u = 1.0 - <double>(slot * self.slot_len - self.gate_lead - self.now) / self.window
                u = u if u > 0.0 else 0.0
                u = u if u < 1.0 else 1.0
                w_u = u ** self.make_take
                x = ceil(<double>(ask - 1) - w_u * <double>(ask - 1 - floor_t))
                if not exact_trunc(x, &price):
                    return False
        self.steer(out, slot_o, -lots, price, own, r, working, 1)
        return True


cdef class GridCore(CurveCore):
    """The compiled :meth:`GridAgent.act` of one episode; see the comment at the top of
    ``_plant_fast.pxi``."""

    def act(self, agent, open_slots, owner):
        """The instructions for this wake-up (``open_slots``: a range of step 1), or
        ``None``: run the reference (it changes nothing)."""
        cdef int64_t first = open_slots.start, n = len(open_slots), j, slot, pos, room
        cdef int64_t depth[2]
        cdef bint limited[2]
        cdef Py_ssize_t i
        cdef int32_t o = self.ex._owner(owner, False)
        cdef int s
        cdef rex_order *r
        if not self.has_curve:
            return None  # the reference raises its error
        quotes = agent.quotes
        depths, limits = agent.depth, agent.limited
        if not (type(quotes) is dict and exact_int(depths[_BUY], &depth[0])
                and exact_int(depths[_SELL], &depth[1])):
            return None
        limited[0], limited[1] = limits[_BUY], limits[_SELL]
        sides = (_BUY, _SELL)
        out = []
        for j in range(n):
            slot = first + j
            i = slot - self.curve_first
            if not 0 <= i < self.curve_n:
                return None  # the reference raises the curve's error
            pos = self.ex._position(o, slot)
            slot_o = slot
            for s in range(2):
                # what the connection has left: its capacity minus what it already traded
                room = depth[s]
                if limited[s]:
                    room = room - pos if s == 0 else room + pos
                side = sides[s]
                q = (<dict>quotes).get((slot_o, side))
                r = NULL
                if q is not None:
                    r = self.record(q)
                    if r == NULL:
                        return None
                if r == NULL or r.status != ST_RESTING:
                    if room > 0:
                        out.append(self.ins_submit(side, slot_o,
                                               self.bids[i] if s == 0 else self.asks[i], room))
                elif r.rate < room // 2:
                    out.append(self.ins_modify(q.order_id, None, room))
        return out
