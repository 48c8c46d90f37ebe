# The newsvendor prosumer's decision compiled (included by _cexchange.pyx after
# _agents_fast.pxi). Issue 12 asks for the strong baselines as compiled state machines too:
# agents.newsvendor.NewsvendorProsumer is the intermittent prototype with one rule changed — the
# target of a slot is the critical-ratio quantile of its forecast instead of the forecast — so
# its core is IntermittentCore with that target (NewsvendorProsumer.target / reservation_kw /
# ratio and the functions imbalance_values, critical_ratio, newsvendor_quantile: the
# reference): the slot's fair price (SlotTrader._fair, the core's own), the settlement's unit
# values of a shortfall and a surplus, the ratio clipped to [min_ratio, 1 - min_ratio], the
# quantile mu + sigma * Phi^-1(ratio) by the same NormalDist().inv_cdf the reference calls, the
# battery's buffer (Battery.feasible_rate_range, called once per wake-up: the state of charge
# does not change while the agent decides), the clip to the net range — every float operation
# in the reference's order, Python's min/max on floats kept (the first argument wins a tie).
# It hands back (the reference decides, and raises where it raises) where a parameter is not
# a plain float (a numpy float32 would change the arithmetic), a forecast row is missing, the
# ratio or sigma is outside what newsvendor_quantile accepts, or a target is not a finite
# number an int64 holds. tests/agents/test_compiled_agents.py compares both at every wake-up of
# whole days over the settlement modes.

from statistics import NormalDist

from libc.math cimport INFINITY

cdef object STD_INV_CDF = NormalDist().inv_cdf  # what agents.newsvendor's _STD computes


cdef inline double py_min(double a, double b) noexcept:
    """Python's ``min(a, b)`` on floats: ``b`` only when ``b < a``."""
    return b if b < a else a


cdef inline double py_max(double a, double b) noexcept:
    """Python's ``max(a, b)`` on floats: ``b`` only when ``b > a``."""
    return b if b > a else a


cdef class NewsvendorCore(IntermittentCore):
    """The compiled :meth:`NewsvendorProsumer.act` of one episode; see the comment at the top
    of ``_newsvendor_fast.pxi``."""

    cdef double tick, voll, consumption_value, short_premium, surplus_discount
    cdef double net_min, net_max, min_ratio, buf_charge, buf_discharge, nv_premium, nv_fee
    cdef int nv_settle
    cdef bint ready

    def act(self, agent, open_slots, int64_t now, dict working, prosumer, owner):
        """As :meth:`IntermittentCore.act`, with the newsvendor's targets; ``None``: run the
        reference (nothing changed)."""
        self.ready = False
        code = SETTLE_CODES.get(agent.settlement)
        values = (agent.tick, agent.voll, agent.consumption_value, agent.short_premium,
                  agent.surplus_discount, agent.net_min, agent.net_max, agent.min_ratio,
                  agent.premium, agent.fee_ticks)
        if code is None or prosumer is None or any(type(v) is not float for v in values):
            return None
        if type(agent.ref_ticks) is not int:
            return None
        (self.tick, self.voll, self.consumption_value, self.short_premium,
         self.surplus_discount, self.net_min, self.net_max, self.min_ratio,
         self.nv_premium, fee_ticks) = values
        self.nv_fee = <double>fee_ticks * self.tick  # fee=self.fee_ticks * self.tick
        self.nv_settle = code
        self.ref_ticks = agent.ref_ticks  # the fair price's prior (IntermittentCore sets it later)
        self.buf_charge = self.buf_discharge = 0.0
        battery = agent.battery
        if battery is not None:
            lo, hi = battery.feasible_rate_range(prosumer.soc_kwh, prosumer.schedule.slot_len)
            if type(lo) is not float or type(hi) is not float:
                return None
            self.buf_charge, self.buf_discharge = -lo, hi  # buffer = (-lo, hi)
        self.ready = True
        return IntermittentCore.act(self, agent, open_slots, now, working, prosumer, owner)

    cdef list targets(self, list slots, int64_t now, object prosumer, double lot):
        """NewsvendorProsumer.target of each slot, or ``None`` where the reference decides."""
        cdef Py_ssize_t i, n = len(slots), k
        cdef int64_t first, phase, slot_len, update_s, revisions, slot, m
        cdef list rows, std_rows
        cdef double mu, sigma, price, d, s, span, ratio, q, x
        cdef bint has_bid, has_ask
        cdef int64_t bid, ask
        if not self.ready:
            return None
        first, phase, slot_len, update_s, revisions, rows = self.tables_of(prosumer)
        std_rows = prosumer.forecast_std_rows()
        if update_s <= 0 or revisions < 0 or len(std_rows) != len(rows):
            return None
        out = []
        for i in range(n):
            slot = slots[i]
            # Prosumer.forecast(slot, now)
            m = revision_index(now, phase, slot, slot_len, update_s, revisions)
            k = slot - first
            if not 0 <= k < len(rows):
                return None
            row, srow = rows[k], std_rows[k]
            if not (0 <= m < len(row) and m < len(srow)):
                return None
            mu_o, sigma_o = row[m], srow[m]
            if type(mu_o) is not float or type(sigma_o) is not float:
                return None
            mu, sigma = mu_o, sigma_o
            # the fair price in ticks, times the tick (SlotTrader.fair_price)
            has_bid = has_ask = False
            bid = ask = 0
            self.quotes(slot, &has_bid, &bid, &has_ask, &ask)
            price = self.fair(slot, has_bid, bid, has_ask, ask) * self.tick
            # imbalance_values(settlement, price, ...)
            if self.nv_settle == SETTLE_CURTAIL:
                d = self.voll + self.consumption_value
                s = 0.0
            elif self.nv_settle == SETTLE_DUAL:
                x = 1.0 + self.nv_premium
                d = (price * x if price >= 0 else price / x) + self.nv_fee
                s = (price / x if price >= 0 else price * x) - self.nv_fee
            else:
                d = price + self.short_premium
                s = price - self.surplus_discount
            # critical_ratio(price, d, s, min_ratio)
            span = d - s
            if span <= 0:
                ratio = 0.5
            else:
                ratio = py_min(py_max((price - s) / span, self.min_ratio), 1.0 - self.min_ratio)
            # newsvendor_quantile(mu, sigma, ratio): its checks raise in the reference
            if not 0.0 < ratio < 1.0 or sigma < 0:
                return None
            if sigma == 0:
                q = mu
            else:
                q = mu + sigma * <double>STD_INV_CDF(ratio)
            q = py_min(py_max(q, -INFINITY), INFINITY)
            # reservation_kw's battery buffer and net range
            if ratio < 0.5:
                q = py_min(mu, q + self.buf_discharge)
            elif ratio > 0.5:
                q = py_max(mu, q - self.buf_charge)
            q = py_min(py_max(q, self.net_min), self.net_max)
            x = -q / lot
            if not isfinite(x) or fabs(x) > 9.0e15:
                return None
            out.append(<int64_t>nearbyint(x))  # round half to even, as Python's round()
        return out
