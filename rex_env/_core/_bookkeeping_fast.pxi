# The market's bookkeeping of trades and quote samples compiled (included by _cexchange.pyx).
# Issue 12: "the settlement arithmetic and ledger, the metric counters" in C, the Python code
# kept as the reference. QuoteSampler (at the end) is Market._on_sample's update of the slot
# statistics from the C books. TradeBook does what rex_env.sim.market.Market._on_trades does for a report's
# trades — each side's OwnerAccount.on_fill, MarketMetrics.on_exchange_trades (the market's
# counters and the slot's SlotStats._add_trade with its Welford moments), the market's trade
# list — with the same float operations in the same order, so every figure is bit-identical.
# The objects stay the Python ones (readable as before, picklable, no second state); only the
# per-trade Python calls are gone: each account's, slot's and the market's figures are read
# into C on first use in a call, updated there trade by trade and written back once at the end
# (an object's figures depend only on its own trades in order, so the floats are the
# reference's). The wake loop books the trades of many wake-ups in one call (WakeLoop.run).
#
# It does nothing and returns False (the caller runs the Python loop) unless every trade is an
# exchange Trade with int fields whose products stay exact in a double (|x| < 2**53, where
# Python's int * float and int / int round exactly as C's double arithmetic does), every
# account it would touch is a plain OwnerAccount and the metrics are a plain MarketMetrics of
# SlotStats and Welford (a subclass may override what it books). tests/sim/test_trade_book.py
# and tests/sim/test_quote_sampler.py compare both on hostile and whole-day streams;
# tests/sim/test_fingerprints.py pins them.

from libc.math cimport NAN, fabs, isfinite, isnan

cdef double EXACT = 9007199254740992.0  # 2**53: ints below it are exact doubles


cdef struct Moments:  # a Welford's state (rex_env.sim.metrics.Welford)
    int64_t n
    double mean
    double m2


cdef inline void moments_add(Moments* w, double x) noexcept:
    """Welford.add: the same three updates in the same order."""
    cdef double d
    w.n += 1
    d = x - w.mean
    w.mean += d / <double>w.n
    w.m2 += d * (x - w.mean)


cdef inline int moments_load(Moments* w, object o) except -1:
    w.n = o.n
    w.mean = o.mean
    w.m2 = o.m2
    return 0


cdef inline int moments_store(Moments* w, object o) except -1:
    o.n = w.n
    o.mean = w.mean
    o.m2 = w.m2
    return 0


cdef struct SlotCounters:  # the trade fields of a SlotStats
    int64_t n_trades
    double volume
    double turnover
    double last_price
    double high
    double low
    Moments prices
    Moments changes


cdef struct AccountSums:  # an OwnerAccount's trade figures while a call books them
    double trade_cash
    int64_t fills  # fills added in the call
    double bought_kw
    double sold_kw
    bint bought
    bint sold


cdef enum:
    BOOK_SLOTS = 16  # slots' statistics held at once while a call books
    BOOK_ACCOUNTS = 64  # accounts held at once


cdef inline bint exact_int(object x, int64_t* out):
    """``x`` as an int64 when it is an ``int`` (not a bool) below 2**53 in magnitude."""
    cdef int overflow = 0
    cdef long long v
    if type(x) is not int:
        return False
    v = PyLong_AsLongLongAndOverflow(x, &overflow)
    if overflow or v >= <long long>EXACT or v <= -<long long>EXACT:
        return False
    out[0] = v
    return True


cdef class TradeBook:
    """``Market._on_trades`` compiled: ``book(trades, accounts, metrics, sink)`` books a
    report's trades into the owners' accounts, the metrics and ``sink`` (the market's trade
    list) and returns True, or does nothing and returns False where the Python loop must run
    (see the header). ``grid`` gives the units (``Grid.cash`` / ``price`` / ``rate``); the
    types are the reference classes a plain market holds."""

    cdef double cash_per_unit
    cdef int64_t tick_n, tick_d, lot_n, lot_d
    cdef object trade_type, account_type, slot_type, welford_type, metrics_type

    def __init__(self, grid, trade_type, account_type, metrics_type, slot_type, welford_type):
        (tick_n, tick_d), (lot_n, lot_d) = grid._tick_nd, grid._lot_nd
        for v in (tick_n, tick_d, lot_n, lot_d):
            if type(v) is not int or not 0 < v < EXACT:
                raise ValueError(f"grid fraction term {v!r} is not an int in (0, 2**53)")
        self.cash_per_unit = grid.cash_per_unit
        self.tick_n, self.tick_d, self.lot_n, self.lot_d = tick_n, tick_d, lot_n, lot_d
        self.trade_type = trade_type
        self.account_type = account_type
        self.metrics_type = metrics_type
        self.slot_type = slot_type
        self.welford_type = welford_type

    cdef bint bookable(self, object trades, dict accounts):
        """Every trade and account is one the compiled loop books as the reference would."""
        cdef int64_t price = 0, lots = 0, slot = 0
        for t in trades:
            if type(t) is not self.trade_type:
                return False
            if not (exact_int((<tuple>t)[2], &slot) and exact_int((<tuple>t)[3], &price)
                    and exact_int((<tuple>t)[4], &lots)):
                return False
            if (fabs(<double>price) * fabs(<double>lots) >= EXACT
                    or fabs(<double>price) * <double>self.tick_n >= EXACT
                    or fabs(<double>lots) * <double>self.lot_n >= EXACT):
                return False
            for who in ((<tuple>t)[7], (<tuple>t)[8]):
                a = accounts.get(who)
                if a is not None and type(a) is not self.account_type:
                    return False
        return True

    def book(self, trades, dict accounts, metrics, list sink):
        """Book ``trades`` (one report's, or several reports' in order: the same figures);
        False: nothing done, run the Python."""
        return self._book(trades, accounts, metrics, sink)

    cdef bint book_market(self, trades, market) except -1:
        """:meth:`book` into a market's accounts, metrics and trade list."""
        return self._book(trades, market.accounts, market.metrics, market.trades)

    cdef bint _book(self, trades, dict accounts, metrics, list sink) except -1:
        """Each object's updates in the order of its trades, held in C for the whole call: an
        account's, a slot's and the market's figures depend only on their own trades, in
        order, so booking them object by object gives the reference's floats. The objects
        are read on first use and written back once, at the end (also when a broken slot
        statistics object raises on the way: what was booked before it is kept)."""
        cdef int64_t price, lots, slot
        cdef double value, kw, price_f, m_volume, m_turnover
        cdef int64_t m_n
        cdef Moments m_prices
        cdef SlotCounters sc[BOOK_SLOTS]
        cdef int64_t sc_slot[BOOK_SLOTS]
        cdef bint sc_first[BOOK_SLOTS]
        cdef AccountSums acc[BOOK_ACCOUNTS]
        cdef PyObject *acc_obj[BOOK_ACCOUNTS]
        cdef int n_sc = 0, n_acc = 0, i, j
        cdef SlotCounters *c
        if not trades:
            return True
        if type(metrics) is not self.metrics_type or type(metrics._prices) is not self.welford_type:
            return False
        if not self.bookable(trades, accounts):
            return False
        m_n = metrics.n_trades
        m_volume = metrics.volume
        m_turnover = metrics.turnover
        moments_load(&m_prices, metrics._prices)
        slots = metrics.slots
        st_objs = []  # the slot statistics held in sc (references for the call)
        times = []  # per held slot: [first trade time, last trade time]
        acc_objs = []  # the accounts held in acc
        try:
            for t in trades:
                slot = (<tuple>t)[2]
                price = (<tuple>t)[3]
                lots = (<tuple>t)[4]
                # the accounts: Grid.cash(price * lots), Grid.rate(lots), OwnerAccount.on_fill
                value = <double>(price * lots) * self.cash_per_unit
                kw = <double>(lots * self.lot_n) / <double>self.lot_d
                b = accounts.get((<tuple>t)[7])
                if b is not None:
                    i = self.account_ix(b, acc, acc_obj, &n_acc, acc_objs)
                    acc[i].trade_cash = acc[i].trade_cash + (-value)
                    acc[i].fills += 1
                    if not acc[i].bought:  # (read on first use, as on_fill reads it)
                        acc[i].bought_kw = <double>b.bought_kw
                        acc[i].bought = True
                    acc[i].bought_kw = acc[i].bought_kw + kw
                s = accounts.get((<tuple>t)[8])
                if s is not None:
                    i = self.account_ix(s, acc, acc_obj, &n_acc, acc_objs)
                    acc[i].trade_cash = acc[i].trade_cash + value
                    acc[i].fills += 1
                    if not acc[i].sold:
                        acc[i].sold_kw = <double>s.sold_kw
                        acc[i].sold = True
                    acc[i].sold_kw = acc[i].sold_kw + kw
                # the metrics: MarketMetrics.on_exchange_trades with Grid.price(price)
                price_f = <double>(price * self.tick_n) / <double>self.tick_d
                j = -1
                for i in range(n_sc):
                    if sc_slot[i] == slot:
                        j = i
                        break
                if j < 0:
                    if n_sc == BOOK_SLOTS:  # (more slots in one call than held: write back)
                        self.store_slots(sc, sc_first, n_sc, st_objs, times)
                        n_sc = 0
                        del st_objs[:], times[:]
                    st = slots.get(slot)
                    if st is None:
                        st = metrics.slot(slot)
                    if (type(st) is not self.slot_type
                            or type(st._prices) is not self.welford_type
                            or type(st._changes) is not self.welford_type):
                        raise TypeError(f"slot statistics of type {type(st).__name__} in a "
                                        "plain MarketMetrics")  # a caller broke the metrics
                    j = n_sc
                    self.load_slot(st, &sc[j])
                    sc_slot[j] = slot
                    sc_first[j] = False
                    st_objs.append(st)
                    times.append([None, None])
                    n_sc += 1
                c = &sc[j]
                # SlotStats._add_trade(time, price_f, kw)
                if c.n_trades:
                    moments_add(&c.changes, price_f - c.last_price)
                    if price_f > c.high:
                        c.high = price_f
                    elif price_f < c.low:
                        c.low = price_f
                else:
                    c.high = c.low = price_f
                    (<list>times[j])[0] = (<tuple>t)[1]
                    sc_first[j] = True
                c.n_trades += 1
                c.volume += kw
                c.turnover += price_f * kw
                c.last_price = price_f
                (<list>times[j])[1] = (<tuple>t)[1]
                moments_add(&c.prices, price_f)
                m_n += 1
                m_volume += kw
                m_turnover += price_f * kw
                moments_add(&m_prices, price_f)
        finally:
            self.store_slots(sc, sc_first, n_sc, st_objs, times)
            self.store_accounts(acc, n_acc, acc_objs)
            metrics.n_trades = m_n
            metrics.volume = m_volume
            metrics.turnover = m_turnover
            moments_store(&m_prices, metrics._prices)
        sink.extend(trades)
        return True

    cdef int account_ix(self, object a, AccountSums *acc, PyObject **acc_obj, int *n_acc,
                        list acc_objs) except -1:
        """The index of account ``a`` among those held (read on first use; with more than
        held, the held ones are written back first)."""
        cdef int i, n = n_acc[0]
        for i in range(n):
            if acc_obj[i] == <PyObject *>a:
                return i
        if n == BOOK_ACCOUNTS:
            self.store_accounts(acc, n, acc_objs)
            del acc_objs[:]
            n = 0
        acc[n].trade_cash = <double>a.trade_cash  # (bought_kw, sold_kw: on their first use)
        acc[n].bought_kw = acc[n].sold_kw = 0.0
        acc[n].fills = 0
        acc[n].bought = acc[n].sold = False
        acc_obj[n] = <PyObject *>a
        acc_objs.append(a)
        n_acc[0] = n + 1
        return n

    cdef int store_accounts(self, AccountSums *acc, int n, list acc_objs) except -1:
        """Write the held accounts' figures back (only those their trades changed)."""
        cdef int i
        for i in range(n):
            a = acc_objs[i]
            if acc[i].fills:
                a.trade_cash = acc[i].trade_cash
                fills = a.fills
                a.fills = fills + acc[i].fills if type(fills) is int else \
                    self.count_up(fills, acc[i].fills)
            if acc[i].bought:
                a.bought_kw = acc[i].bought_kw
            if acc[i].sold:
                a.sold_kw = acc[i].sold_kw
        return 0

    cdef object count_up(self, object x, int64_t k):
        """``x + 1``, ``k`` times (what the reference adds to a count that is not an int)."""
        cdef int64_t i
        for i in range(k):
            x = x + 1
        return x

    cdef int store_slots(self, SlotCounters *sc, bint *first, int n, list st_objs, list times
                         ) except -1:
        cdef int i
        for i in range(n):
            tm = <list>times[i]
            self.store_slot(st_objs[i], &sc[i], first[i], tm[0], tm[1])
        return 0

    cdef int load_slot(self, object st, SlotCounters* sc) except -1:
        sc.n_trades = st.n_trades
        sc.volume = st.volume
        sc.turnover = st.turnover
        sc.last_price = st.last_price
        sc.high = st.high
        sc.low = st.low
        moments_load(&sc.prices, st._prices)
        moments_load(&sc.changes, st._changes)
        return 0

    cdef int store_slot(self, object st, SlotCounters* sc, bint first_set, object first_time,
                        object last_time) except -1:
        st.n_trades = sc.n_trades
        st.volume = sc.volume
        st.turnover = sc.turnover
        st.last_price = sc.last_price
        st.high = sc.high
        st.low = sc.low
        if first_set:
            st.first_trade_time = first_time
        st.last_trade_time = last_time
        moments_store(&sc.prices, st._prices)
        moments_store(&sc.changes, st._changes)
        return 0


cdef enum:
    MAX_SAMPLE_LEVELS = 64  # a deeper view (depth_levels) samples in Python


cdef class QuoteSampler:
    """``Market._on_sample``'s metrics update compiled: ``sample(ex, slots, time, metrics)``
    reads each open slot's best quotes and top-``k`` depth from the C books (what the
    reference reads from ``lob3d``: ``Grid.price`` of the best bid and ask, ``Grid.rate`` of
    each side's depth summed over the ``k`` levels, whole lots, so exact in any order) and books
    them as ``MarketMetrics.on_exchange_quotes`` does (``SlotStats._add_quote`` and its
    ``_advance``, the same float operations, the same error for time running backwards).
    False: nothing done, run the Python (a subclass of the metrics or slot statistics, a view
    deeper than 64 levels)."""

    cdef int32_t k
    cdef int64_t tick_n, tick_d, lot_n, lot_d
    cdef object metrics_type, slot_type

    def __init__(self, grid, int k, metrics_type, slot_type):
        (tick_n, tick_d), (lot_n, lot_d) = grid._tick_nd, grid._lot_nd
        for v in (tick_n, tick_d, lot_n, lot_d):
            if type(v) is not int or not 0 < v < EXACT:
                raise ValueError(f"grid fraction term {v!r} is not an int in (0, 2**53)")
        if k < 1:
            raise ValueError(f"depth levels must be >= 1, got {k}")
        self.k = k
        self.tick_n, self.tick_d, self.lot_n, self.lot_d = tick_n, tick_d, lot_n, lot_d
        self.metrics_type = metrics_type
        self.slot_type = slot_type

    def sample(self, CoreExchange ex, slots, time, metrics):
        """Book one top-of-book sample of every slot in ``slots`` at ``time``; False: nothing
        done (see the class)."""
        cdef double price[MAX_SAMPLE_LEVELS]
        cdef double depth[MAX_SAMPLE_LEVELS]
        cdef double bid, ask, spread, bid_depth, ask_depth, dt
        cdef int32_t b, m, i
        if type(metrics) is not self.metrics_type or self.k > MAX_SAMPLE_LEVELS:
            return False
        stats = []
        for slot in slots:  # created in the reference's order (MarketMetrics.slot)
            st = metrics.slot(slot)
            if type(st) is not self.slot_type:
                return False
            stats.append(st)
        for j, slot in enumerate(slots):
            st = stats[j]
            bid = ask = NAN
            bid_depth = ask_depth = 0.0
            b = ex._book(slot)
            if b >= 0:
                m = rex_depth(ex.c, b, 1, self.k, price, depth)
                if m:
                    bid = price[0] * <double>self.tick_n / <double>self.tick_d
                for i in range(m):
                    bid_depth += depth[i]
                bid_depth = bid_depth * <double>self.lot_n / <double>self.lot_d
                m = rex_depth(ex.c, b, -1, self.k, price, depth)
                if m:
                    ask = price[0] * <double>self.tick_n / <double>self.tick_d
                for i in range(m):
                    ask_depth += depth[i]
                ask_depth = ask_depth * <double>self.lot_n / <double>self.lot_d
            # SlotStats._advance(time)
            tq = st._t_quote
            if not (type(tq) is float and isnan(<double>tq)):
                gap = time - tq
                if gap < 0:
                    raise ValueError(f"slot {st.slot}: time {time} is before the last quote")
                dt = <double>gap
                if isfinite(<double>st._spread):
                    st._spread_area = <double>st._spread_area + <double>st._spread * dt
                    st._spread_time = <double>st._spread_time + dt
                st._bid_depth_area = <double>st._bid_depth_area + <double>st._bid_depth * dt
                st._ask_depth_area = <double>st._ask_depth_area + <double>st._ask_depth * dt
                st._depth_time = <double>st._depth_time + dt
            # SlotStats._add_quote(time, bid, ask, bid_depth, ask_depth)
            spread = ask - bid
            st.n_quotes = st.n_quotes + 1
            if isfinite(spread):
                st._n_two_sided = st._n_two_sided + 1
                st._spread_sum = <double>st._spread_sum + spread
            st._bid_depth_sum = <double>st._bid_depth_sum + bid_depth
            st._ask_depth_sum = <double>st._ask_depth_sum + ask_depth
            st._t_quote = time
            st._spread = spread
            st._bid_depth = bid_depth
            st._ask_depth = ask_depth
        return True
