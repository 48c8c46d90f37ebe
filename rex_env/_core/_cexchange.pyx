# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""The thin Cython layer over the C exchange (rex_core.c): owns the C state, interns order ids
and owners, turns Python values into C integers and C reports into the Python records of
:mod:`rex_env.exchange.orders`.

Fast path: exact ``int`` / ``str`` / enum arguments are converted here. Anything else (a
``Fraction``, an ``int`` subclass, a value beyond 64 bits, a wrong type) goes through the pure
Python prologue (:mod:`rex_env._core.prologue`), which decides ``bad_field`` or clamps the value
to one the C core judges the same way.
"""

from libc.stdlib cimport free
from libc.stdint cimport int8_t, int32_t, int64_t, uint64_t
from cpython.long cimport PyLong_AsLongLongAndOverflow
from cpython.object cimport PyObject, PyTypeObject
from cpython.list cimport PyList_GET_ITEM
from cpython.ref cimport Py_DECREF, Py_INCREF, _Py_REFCNT

cdef extern from "Python.h":
    PyObject *PyType_GenericAlloc(PyTypeObject *type, Py_ssize_t nitems) except NULL
    void PyTuple_SET_ITEM(PyObject *p, Py_ssize_t pos, PyObject *o)
    void PyObject_GC_UnTrack(void *op)

cimport cython

from itertools import islice

import numpy as np

from rex_env.exchange.orders import (
    EMPTY, Kind, Phase, Reason, Report, Side, Status, Tif, Trade,
)
from rex_env.exchange.lob3d import prepare as prepare_lob3d

from . import prologue

cdef extern from "rex_core.h":
    int64_t REX_MAX_SLOT, REX_MAX_LOTS, REX_MAX_TIME
    ctypedef struct rex_order:
        int64_t key, price, rate, filled, offered, removed, time, seq, first_slot, last_slot
        int32_t owner, prev, next, level, book
        int8_t side, kind, tif, status, reason, has_price
    ctypedef struct rex_level:
        int64_t price, volume
        int32_t head, tail
    ctypedef struct rex_side:
        int32_t *lv
        int32_t n
    ctypedef struct rex_book:
        int64_t slot
        int32_t phase
        rex_side bids, asks
        int32_t *own
        int64_t *pos
        int32_t n_own
        int32_t *own_ix
        int32_t cap_ix
        int64_t last_price, volume, n_trades, high, low
    ctypedef struct rex_trade:
        int64_t trade_id, time, slot, price, rate
        int32_t buy, sell, aggressor
    ctypedef struct rex_report:
        int32_t status, reason, order
        rex_trade *trades
        int32_t n_trades
        int32_t *stp
        int32_t n_stp
        int32_t *expired
        int32_t n_expired
    ctypedef struct rex_exchange:
        int64_t min_ticks, max_ticks, now, seq, n_trades
        rex_order *orders
        int32_t n_orders
        rex_level *levels
        rex_book *books
        int32_t n_books
        rex_report rep
        int oom
    rex_exchange *rex_new(int64_t, int64_t, int, int64_t)
    void rex_free(rex_exchange *)
    int rex_reset(rex_exchange *)
    int rex_submit(rex_exchange *, int64_t, int64_t, int32_t, int, int64_t, int64_t, int,
                   int64_t, int64_t, int, int, int) nogil
    int rex_cancel(rex_exchange *, int64_t, int64_t, int32_t) nogil
    int rex_modify(rex_exchange *, int64_t, int64_t, int32_t, int, int64_t, int, int64_t, int)
    int rex_open_auction(rex_exchange *, int64_t, int64_t)
    int rex_open_continuous(rex_exchange *, int64_t, int64_t)
    int rex_uncross(rex_exchange *, int64_t, int64_t, int, int64_t, int64_t)
    int rex_close(rex_exchange *, int64_t, int64_t)
    int rex_forget(rex_exchange *, int64_t)
    int64_t rex_run_many(rex_exchange *, int64_t, const int8_t *, const int64_t *,
                         const int64_t *, const int32_t *, const int8_t *, const int64_t *,
                         const int64_t *, const int64_t *, const int8_t *, const int8_t *,
                         int8_t *, int8_t *) nogil
    int rex_phase(const rex_exchange *, int64_t)
    int32_t rex_book_index(const rex_exchange *, int64_t)
    int32_t rex_order_handle(const rex_exchange *, int64_t)
    int rex_book_check(const rex_exchange *, int32_t)
    void rex_turnover(const rex_exchange *, int32_t, int64_t *, uint64_t *)
    void rex_cash(const rex_exchange *, int32_t, int32_t, int64_t *, uint64_t *)
    int32_t rex_depth(const rex_exchange *, int32_t, int, int32_t, double *, double *)
    int rex_dump(const rex_exchange *, unsigned char **, size_t *)
    rex_exchange *rex_load(const unsigned char *, size_t)

cdef int64_t KEY_SPLIT = 1LL << 62  # plain int ids below this are their own key
cdef int64_t SLOT_FAST = 1LL << 40  # slots beyond this go through the prologue

_tuple_new = tuple.__new__
cdef object _BUY = Side.BUY
cdef object _SELL = Side.SELL
cdef object _LIMIT = Kind.LIMIT
cdef object _MARKET = Kind.MARKET
cdef object _GTC = Tif.GTC
cdef object _IOC = Tif.IOC
cdef object _FOK = Tif.FOK
cdef object _Report = Report
cdef object _Trade = Trade
cdef object _EMPTY = EMPTY
cdef tuple STATUS = (None, Status.RESTING, Status.FILLED, Status.CANCELLED, Status.EXPIRED,
                     Status.KILLED, Status.REJECTED)
cdef tuple REASON = (None, Reason.BAD_FIELD, Reason.DUPLICATE_ID, Reason.PRICE_OUT_OF_BOUNDS,
                     Reason.OFF_TICK, Reason.NON_POSITIVE_RATE, Reason.OFF_LOT,
                     Reason.UNKNOWN_SLOT, Reason.SLOT_CLOSED, Reason.SLOT_NOT_OPEN,
                     Reason.AUCTION_PHASE, Reason.UNKNOWN_ORDER, Reason.SELF_TRADE)
cdef tuple PHASE = (Phase.PENDING, Phase.CALL, Phase.CONTINUOUS, Phase.CLOSED)
cdef tuple KIND = (Kind.LIMIT, Kind.MARKET)
cdef tuple TIF = (Tif.GTC, Tif.IOC, Tif.FOK)
cdef tuple AGGRESSOR = ("buy", "sell", "auction")
cdef tuple REJECTED = tuple(
    None if r is None else _tuple_new(Report, (Status.REJECTED, r, None, EMPTY, EMPTY, EMPTY))
    for r in REASON)
cdef object LIFECYCLE_OK = _tuple_new(Report, (None, None, None, EMPTY, EMPTY, EMPTY))
cdef int R_BAD_FIELD = 1

# side / kind / tif as the reference accepts them (dict lookup, so equal values count)
cdef dict SIDES = {_BUY: 1, _SELL: -1, "buy": 1, "sell": -1}
cdef dict KINDS = {_LIMIT: 0, _MARKET: 1, "limit": 0, "market": 1}
cdef dict TIFS = {_GTC: 0, _IOC: 1, _FOK: 2, "gtc": 0, "ioc": 1, "fok": 2}


cdef inline object record(object cls, Py_ssize_t n):
    """A new, empty instance of a tuple subclass (NamedTuple) of length n: fill it with
    ``put``. One allocation, where ``tuple.__new__(cls, items)`` makes two."""
    cdef PyObject *p = PyType_GenericAlloc(<PyTypeObject *>cls, n)
    cdef object rec = <object>p  # the cast takes a second reference ...
    Py_DECREF(rec)  # ... so drop the allocation's own (else every record leaks)
    return rec


cdef inline void put(object rec, Py_ssize_t i, object value):
    Py_INCREF(value)
    PyTuple_SET_ITEM(<PyObject *>rec, i, <PyObject *>value)


cdef inline bint exact_i64(object x, int64_t *out):
    """True (and the value) for an exact ``int`` that fits 64 bits."""
    cdef int overflow = 0
    cdef long long v
    if type(x) is not int:
        return False
    v = PyLong_AsLongLongAndOverflow(x, &overflow)
    if overflow:
        return False
    out[0] = v
    return True


cdef int choice(dict table, object x):
    """The code of a side/kind/tif, or -9 for anything the reference would not accept."""
    if type(x) is bool:
        return -9
    try:
        v = table.get(x)
    except TypeError:  # unhashable
        return -9
    return -9 if v is None else v


cdef class COrder:
    """The live record of one order of the C engine (the same fields as ``Order``).

    It reads its exchange through a borrowed pointer and is not tracked by the collector: an
    exchange keeps every record it made (a day makes ≈ 16 k) and a record that owned its
    exchange made a reference cycle of each, which every full collection walked. The exchange
    freezes the records someone else still holds (:attr:`frozen`) and clears their pointer when
    it resets and when it is freed, so a record never reads an exchange that is gone. (A live
    record rebuilt from a pickle owns its exchange instead: :func:`_rebuild_order`.)"""

    cdef PyObject *exp  # the exchange (borrowed), NULL once frozen by its exchange
    cdef object keep  # the exchange, owned, for a record rebuilt from a pickle (_rebuild_order)
    cdef int32_t h
    cdef tuple frozen  # the fields after the exchange was reset (the record stays readable)

    def __reduce__(self):
        return _rebuild_order, (self.exchange(), self.h, self.frozen)

    cdef inline object exchange(self):
        """The exchange, or None once the record is frozen by its exchange."""
        return None if self.exp is NULL else <object>self.exp

    cdef inline CoreExchange ex(self):
        return <CoreExchange>self.exp

    cdef inline rex_order *o(self):
        return &(<CoreExchange>self.exp).c.orders[self.h]

    cdef tuple snapshot(self):
        return (self.order_id, self.owner, self.side, self.first_slot, self.last_slot,
                self.price, self.rate, self.kind, self.tif, self.time, self.seq, self.filled,
                self.status, self.reason, self.offered, self.removed)

    @property
    def order_id(self):
        return self.frozen[0] if self.frozen is not None else self.ex().id_obj(self.h)

    @property
    def owner(self):
        return self.frozen[1] if self.frozen is not None else self.ex()._owners[self.o().owner]

    @property
    def side(self):
        if self.frozen is not None:
            return self.frozen[2]
        return _BUY if self.o().side == 1 else _SELL

    @property
    def first_slot(self):
        return self.frozen[3] if self.frozen is not None else self.o().first_slot

    @property
    def last_slot(self):
        return self.frozen[4] if self.frozen is not None else self.o().last_slot

    @property
    def price(self):
        if self.frozen is not None:
            return self.frozen[5]
        return self.o().price if self.o().has_price else None

    @property
    def rate(self):
        return self.frozen[6] if self.frozen is not None else self.o().rate

    @property
    def kind(self):
        return self.frozen[7] if self.frozen is not None else KIND[self.o().kind]

    @property
    def tif(self):
        return self.frozen[8] if self.frozen is not None else TIF[self.o().tif]

    @property
    def time(self):
        return self.frozen[9] if self.frozen is not None else self.o().time

    @property
    def seq(self):
        return self.frozen[10] if self.frozen is not None else self.o().seq

    @property
    def filled(self):
        return self.frozen[11] if self.frozen is not None else self.o().filled

    @property
    def status(self):
        return self.frozen[12] if self.frozen is not None else STATUS[self.o().status]

    @property
    def reason(self):
        return self.frozen[13] if self.frozen is not None else REASON[self.o().reason]

    @property
    def offered(self):
        return self.frozen[14] if self.frozen is not None else self.o().offered

    @property
    def removed(self):
        return self.frozen[15] if self.frozen is not None else self.o().removed

    @property
    def is_block(self):
        return self.first_slot != self.last_slot

    def __repr__(self):
        price = "mkt" if self.price is None else str(self.price)
        return (
            f"Order({self.order_id!r}, {self.owner!r}, {self.side}, slots={self.first_slot}"
            f"..{self.last_slot}, price={price}, open={self.rate}, filled={self.filled}, "
            f"{self.kind}/{self.tif}, {self.status})"
        )


cdef inline object resting_slot(object order, object resting):
    """``order.first_slot`` if ``order`` rests (``order.status is resting``), else None; the C
    engine's live records are read in C."""
    cdef COrder rec
    if order is None:
        return None
    if type(order) is COrder and (<COrder>order).frozen is None:
        rec = <COrder>order
        return rec.o().first_slot if rec.o().status == 1 else None
    return order.first_slot if order.status is resting else None


@cython.no_gc_clear  # __dealloc__ reads its order records (see _release_records)
cdef class CoreExchange:
    """The C exchange behind the reference's API (see :class:`rex_env._core.Exchange`)."""

    cdef rex_exchange *c
    cdef public object grid
    cdef public object auto_open
    cdef public object n_slots
    cdef public object trade_log
    cdef dict _owner_ix
    cdef list _owners
    cdef dict _interned      # order ids that are not plain small ints -> key
    cdef list _interned_ids  # key - KEY_SPLIT -> id
    cdef list _id_objs       # handle -> id object (None: the plain int key)
    cdef list _order_objs    # handle -> COrder (None until asked for)
    cdef object _min_q, _max_q  # the exact (maybe fractional) price bounds in ticks
    cdef readonly bint plain_ops
    """Whether ``submit``, ``cancel`` and ``modify`` are this class's own (not overridden by a
    subclass): then :func:`execute_plain` calls their compiled bodies without the method call."""

    def __cinit__(self, grid=None, *, auto_open=False, n_slots=None):
        self.c = NULL
        cls = type(self)
        own = CoreExchange.__dict__
        self.plain_ops = (cls.submit is own["submit"] and cls.cancel is own["cancel"]
                          and cls.modify is own["modify"])

    def __init__(self, grid=None, *, auto_open=False, n_slots=None):
        from rex_env.exchange.grid import Grid
        if n_slots is not None and (type(n_slots) is bool or not isinstance(n_slots, int)
                                    or n_slots <= 0):
            raise ValueError(f"n_slots must be a positive int or None, got {n_slots!r}")
        self.grid = grid if grid is not None else Grid()
        self.auto_open = auto_open
        self.n_slots = n_slots
        self._min_q = self.grid.min_ticks
        self._max_q = self.grid.max_ticks
        lo, hi = prologue.int_bounds(self._min_q, self._max_q)
        n = -1 if n_slots is None else min(int(n_slots), REX_MAX_SLOT + 1)
        if self.c is not NULL:
            self._release_records()
            rex_free(self.c)
        self.c = rex_new(lo, hi, 1 if auto_open else 0, n)
        if self.c is NULL:
            raise MemoryError("cannot allocate the C exchange")
        self._clear()

    def __dealloc__(self):
        if self.c is not NULL:
            self._release_records()
            rex_free(self.c)
            self.c = NULL

    cdef int _release_records(self) except -1:
        """Before the orders' C state goes (a reset, a new state, the end of the exchange):
        each order record someone else still holds keeps its fields (frozen) and forgets this
        exchange; one held by this exchange alone is only freed with its list, as nobody can
        read it again (a day leaves ~16k records, and freezing them all took longer than
        building the next episode)."""
        cdef list objs = self._order_objs
        cdef Py_ssize_t i
        cdef PyObject *p
        cdef COrder rec
        if objs is None:
            return 0
        for i in range(len(objs)):
            p = PyList_GET_ITEM(objs, i)  # borrowed: a count of 1 is this list's reference
            if _Py_REFCNT(p) > 1:
                obj = <object>p
                if obj is not None:
                    rec = <COrder>obj
                    if rec.frozen is None:
                        rec.frozen = rec.snapshot()
                    rec.exp = NULL
                    rec.keep = None
        return 0

    # -- pickling and deep copies: the C state as bytes plus the Python tables ------------
    def __reduce__(self):
        return _rebuild_exchange, (type(self),), self.__getstate__()

    def __getstate__(self):
        cdef unsigned char *buf = NULL
        cdef size_t n = 0
        if rex_dump(self.c, &buf, &n) < 0:
            raise MemoryError("cannot serialise the C exchange")
        try:
            data = (<char *>buf)[:n]
        finally:
            free(buf)
        return (data, self.grid, self.auto_open, self.n_slots, self.trade_log, self._owner_ix,
                self._owners, self._interned, self._interned_ids, self._id_objs,
                list(self._order_objs), self._min_q, self._max_q)  # (records: see COrder)

    def __setstate__(self, state):
        cdef bytes data = state[0]
        cdef rex_exchange *c = rex_load(<const unsigned char *><char *>data, len(data))
        if c is NULL:
            raise ValueError("malformed C exchange state")
        if self.c is not NULL:
            self._release_records()
            rex_free(self.c)
        self.c = c
        (_, self.grid, self.auto_open, self.n_slots, self.trade_log, self._owner_ix,
         self._owners, self._interned, self._interned_ids, self._id_objs, self._order_objs,
         self._min_q, self._max_q) = state

    cdef _clear(self):
        self._owner_ix = {}
        self._owners = []
        self._interned = {}
        self._interned_ids = []
        self._id_objs = []
        self._order_objs = []
        self.trade_log = None

    def reset(self):
        """Forget everything: no books, orders, trades; the clock at 0; ids free again.

        A record someone still holds keeps its fields (frozen); one held by this exchange
        alone is only freed, as nobody can read it again (:meth:`_release_records`).
        """
        self._release_records()
        rex_reset(self.c)
        self._clear()

    def keep_trades(self):
        """Start keeping every trade in execution order; return the (live) list."""
        if self.trade_log is None:
            self.trade_log = []
        return self.trade_log

    @property
    def now(self):
        return self.c.now

    @property
    def n_trades(self):
        return self.c.n_trades

    @property
    def _seq(self):
        """The last time-priority stamp handed out (the reference's counter)."""
        return self.c.seq

    # -- interning ------------------------------------------------------------------------
    cdef int32_t _owner(self, object owner, bint create) except -2:
        """The owner's index (-1: unknown and not created)."""
        try:
            ix = self._owner_ix.get(owner)
        except TypeError:
            return -1
        if ix is not None:
            return ix
        if not create:
            return -1
        ix = len(self._owners)
        self._owners.append(owner)
        self._owner_ix[owner] = ix
        return ix

    cdef int64_t _key(self, object order_id, bint *fresh) except -2:
        """The key of an order id; a fresh (not yet accepted) key is flagged, -1: unhashable."""
        cdef int64_t v = 0
        fresh[0] = False
        if exact_i64(order_id, &v) and 0 <= v < KEY_SPLIT:
            return v
        if isinstance(order_id, int) and not isinstance(order_id, bool) and \
                0 <= order_id < KEY_SPLIT:
            return int(order_id)
        try:
            k = self._interned.get(order_id)
        except TypeError:
            return -1
        if k is not None:
            return k
        fresh[0] = True
        return KEY_SPLIT + len(self._interned_ids)

    cdef _accepted(self, object order_id, int64_t key, bint fresh):
        if fresh:
            self._interned[order_id] = key
            self._interned_ids.append(order_id)
        self._id_objs.append(order_id)

    def _id_obj(self, int32_t h):
        return self.id_obj(h)

    cdef object id_obj(self, int32_t h):
        cdef int64_t key
        obj = self._id_objs[h] if h < len(self._id_objs) else None
        if obj is None:
            key = self.c.orders[h].key
            return key if key < KEY_SPLIT else self._interned_ids[key - KEY_SPLIT]
        return obj

    def _order(self, int32_t h):
        return self.order(h)

    cdef COrder order(self, int32_t h):
        cdef COrder rec
        cdef list objs = self._order_objs
        cdef Py_ssize_t n = len(objs)
        if h < n:
            rec = objs[h]
            if rec is not None:
                return rec
        rec = COrder.__new__(COrder)
        rec.exp = <PyObject *>self
        rec.h = h
        PyObject_GC_UnTrack(<PyObject *>rec)  # (see COrder)
        if h == n:
            objs.append(rec)
        else:
            if h > n:
                objs.extend([None] * (h + 1 - n))
            objs[h] = rec
        return rec

    def _handle_of(self, order_id):
        """The handle of an accepted order id, -1 if none; as a dict lookup, equal values
        find it (``True`` finds ``1``) and an unhashable id raises ``TypeError``."""
        cdef bint fresh
        k = self._interned.get(order_id)
        if k is not None:
            return rex_order_handle(self.c, k)
        if isinstance(order_id, str):
            return -1
        if isinstance(order_id, int):
            key = self._key(order_id, &fresh)
            return -1 if fresh else rex_order_handle(self.c, key)
        try:
            as_int = int(order_id)
            same = as_int == order_id
        except (TypeError, ValueError, OverflowError, ArithmeticError):
            return -1
        return self._handle_of(as_int) if same else -1

    # -- reports --------------------------------------------------------------------------
    cdef object _report(self):
        cdef rex_report *r = &self.c.rep
        cdef rex_trade *t
        cdef int32_t i
        if r.status == 6:
            return REJECTED[r.reason]
        order = None if r.order < 0 else self.order(r.order)
        trades = _EMPTY
        if r.n_trades:
            trades = []
            owners = self._owners
            for i in range(r.n_trades):
                t = &r.trades[i]
                tr = record(_Trade, 10)
                put(tr, 0, t.trade_id)
                put(tr, 1, t.time)
                put(tr, 2, t.slot)
                put(tr, 3, t.price)
                put(tr, 4, t.rate)
                buy_id = self.id_obj(t.buy)
                sell_id = self.id_obj(t.sell)
                buyer = owners[self.c.orders[t.buy].owner]
                seller = owners[self.c.orders[t.sell].owner]
                put(tr, 5, buy_id)
                put(tr, 6, sell_id)
                put(tr, 7, buyer)
                put(tr, 8, seller)
                put(tr, 9, AGGRESSOR[t.aggressor])
                if (type(buyer) is str and type(seller) is str
                        and (type(buy_id) is int or type(buy_id) is str)
                        and (type(sell_id) is int or type(sell_id) is str)):
                    # Only ints and strs inside an immutable record: it can be in no reference
                    # cycle, so the collector need not visit it (what CPython does for such a
                    # plain tuple). An episode's trades are most of its long-lived objects.
                    PyObject_GC_UnTrack(<PyObject *>tr)
                trades.append(tr)
            if self.trade_log is not None:
                self.trade_log.extend(trades)
        stp = _EMPTY
        if r.n_stp:
            stp = [self.order(r.stp[i]) for i in range(r.n_stp)]
        expired = _EMPTY
        if r.n_expired:
            expired = [self.order(r.expired[i]) for i in range(r.n_expired)]
        rep = record(_Report, 6)
        put(rep, 0, STATUS[r.status])
        put(rep, 1, None)
        put(rep, 2, order)
        put(rep, 3, trades)
        put(rep, 4, stp)
        put(rep, 5, expired)
        return rep

    cdef int _check(self, int st) except -1:
        if st < 0:
            raise MemoryError("the C exchange ran out of memory")
        return st

    # -- orders (SPEC §4, §5) -------------------------------------------------------------
    def submit(self, time, order_id, owner, side, first_slot, price, rate, kind=_LIMIT,
               tif=_GTC, last_slot=None):
        """Submit an order; prices in ticks, rates in lots (see the reference engine)."""
        return self._submit(time, order_id, owner, side, first_slot, price, rate, kind, tif,
                            last_slot)

    cdef object _submit(self, time, order_id, owner, side, first_slot, price, rate, kind, tif,
                        last_slot):
        cdef int64_t c_time = 0, c_first = 0, c_last = 0, c_price = 0, c_rate = 0, key
        cdef int s, k, t, flags = 0, has_price = price is not None, st
        cdef int32_t own
        cdef bint fresh = False, fast = True
        if side is _BUY:
            s = 1
        elif side is _SELL:
            s = -1
        elif not isinstance(side, (Side, str)):
            s = -9
        else:
            s = choice(SIDES, side)
        if kind is _LIMIT:
            k = 0
        elif not isinstance(kind, str):
            k = -9
        else:
            k = choice(KINDS, kind)
        if tif is _GTC:
            t = 0
        elif not isinstance(tif, str):
            t = -9
        else:
            t = choice(TIFS, tif)
        if s == -9 or k == -9 or t == -9:
            return REJECTED[R_BAD_FIELD]
        if type(owner) is not str and not isinstance(owner, str):
            return REJECTED[R_BAD_FIELD]
        if not owner:
            return REJECTED[R_BAD_FIELD]
        if type(order_id) is str:
            if not order_id:
                return REJECTED[R_BAD_FIELD]
        elif type(order_id) is not int:
            if type(order_id) is bool or not isinstance(order_id, (int, str)) or order_id == "":
                return REJECTED[R_BAD_FIELD]
        if not exact_i64(time, &c_time) or c_time < 0:
            fast = False
        elif not exact_i64(first_slot, &c_first) or not -SLOT_FAST < c_first < SLOT_FAST:
            fast = False
        elif last_slot is None:
            c_last = c_first
        elif not exact_i64(last_slot, &c_last) or not -SLOT_FAST < c_last < SLOT_FAST:
            fast = False
        if fast and has_price and not exact_i64(price, &c_price):
            fast = False
        if fast and not exact_i64(rate, &c_rate):
            fast = False
        if not fast:
            args = prologue.submit_values(time, first_slot, last_slot, price, rate,
                                          self._min_q, self._max_q)
            if args is None:
                return REJECTED[R_BAD_FIELD]
            c_time, c_first, c_last, c_price, c_rate, flags = args
        key = self._key(order_id, &fresh)
        if key < 0:
            return REJECTED[R_BAD_FIELD]
        own = self._owner(owner, True)
        st = self._check(rex_submit(self.c, c_time, key, own, s, c_first, c_last, has_price,
                                    c_price, c_rate, k, t, flags))
        if st == 6:
            return REJECTED[self.c.rep.reason]
        self._accepted(order_id, key, fresh)
        return self._report()

    def cancel(self, time, order_id, owner):
        """Remove the open rate of the owner's resting order (status ``cancelled``)."""
        return self._cancel(time, order_id, owner)

    cdef object _cancel(self, time, order_id, owner):
        cdef int64_t c_time = 0, key
        cdef bint fresh
        if not exact_i64(time, &c_time):
            c_time = prologue.time_value(time)
            if c_time == -1:
                return REJECTED[R_BAD_FIELD]
        if c_time < self.c.now:
            return REJECTED[R_BAD_FIELD]
        key = self._lookup_key(order_id)
        self._check(rex_cancel(self.c, c_time, key, self._owner(owner, False)))
        return self._report()

    cdef int64_t _lookup_key(self, object order_id) except -2:
        """The key of an accepted order id for cancel/modify, -1 if none (never raises)."""
        cdef int64_t v = 0
        cdef int32_t h
        if exact_i64(order_id, &v) and 0 <= v < KEY_SPLIT:
            return v
        if type(order_id) is str:
            k = self._interned.get(order_id)
            return -1 if k is None else k
        try:
            h = self._handle_of(order_id)
        except TypeError:
            return -1
        return -1 if h < 0 else self.c.orders[h].key

    def modify(self, time, order_id, owner, price=None, rate=None):
        """Change a resting order's price and/or open rate (SPEC §4)."""
        return self._modify(time, order_id, owner, price, rate)

    cdef object _modify(self, time, order_id, owner, price, rate):
        cdef int64_t c_time = 0, c_price = 0, c_rate = 0, key
        cdef int flags = 0, has_price = price is not None, has_rate = rate is not None
        if has_price and not exact_i64(price, &c_price):
            got = prologue.price_value(price, self._min_q, self._max_q)
            if got is None:
                return REJECTED[R_BAD_FIELD]
            c_price, f = got
            flags |= f
        if has_rate and not exact_i64(rate, &c_rate):
            got = prologue.rate_value(rate)
            if got is None:
                return REJECTED[R_BAD_FIELD]
            c_rate, f = got
            flags |= f
        if not exact_i64(time, &c_time):
            c_time = prologue.time_value(time)
            if c_time == -1:
                return REJECTED[R_BAD_FIELD]
        if c_time < self.c.now:
            return REJECTED[R_BAD_FIELD]
        key = self._lookup_key(order_id)
        self._check(rex_modify(self.c, c_time, key, self._owner(owner, False), has_price,
                               c_price, has_rate, c_rate, flags))
        return self._report()

    # -- slot lifecycle (SPEC §3) ---------------------------------------------------------
    cdef int _lifecycle_args(self, object slot, object time, int64_t *c_slot,
                             int64_t *c_time) except -1:
        if not exact_i64(time, c_time):
            c_time[0] = prologue.time_value(time)
            if c_time[0] == -1:
                return 0
        if not exact_i64(slot, c_slot):
            got = prologue.slot_value(slot)
            if got is None:
                return 0
            c_slot[0] = got
        return 1

    def open_auction(self, slot, time):
        """Put a pending or continuously trading slot into a call phase (SPEC §3, §7)."""
        cdef int64_t c_slot = 0, c_time = 0
        if not self._lifecycle_args(slot, time, &c_slot, &c_time):
            return REJECTED[R_BAD_FIELD]
        self._check(rex_open_auction(self.c, c_slot, c_time))
        return self._lifecycle_report()

    def open_continuous(self, slot, time):
        """Open a pending slot straight into continuous trading (no opening auction)."""
        cdef int64_t c_slot = 0, c_time = 0
        if not self._lifecycle_args(slot, time, &c_slot, &c_time):
            return REJECTED[R_BAD_FIELD]
        self._check(rex_open_continuous(self.c, c_slot, c_time))
        return self._lifecycle_report()

    def uncross(self, slot, time, reference=None):
        """End the slot's call phase at one price (SPEC §6); then it trades continuously."""
        cdef int64_t c_slot = 0, c_time = 0, num = 0, den = 1
        cdef int mode
        mode, num, den = prologue.reference_value(reference, self._min_q, self._max_q)
        if mode < 0:  # a reference that is not a number is bad_field before any other check
            return REJECTED[R_BAD_FIELD]
        if not self._lifecycle_args(slot, time, &c_slot, &c_time):
            return REJECTED[R_BAD_FIELD]
        if mode == 2:  # a reference C cannot compare exactly: the reference rule picks p
            if rex_phase(self.c, c_slot) == 1 and c_time >= self.c.now:
                picked = prologue.clearing_price_of(self._levels(c_slot, 1),
                                                    self._levels(c_slot, -1), reference)
                if picked is None:
                    mode, num = 0, 0
                else:
                    num = picked
            else:
                mode = 0
        self._check(rex_uncross(self.c, c_slot, c_time, mode, num, den))
        return self._lifecycle_report()

    def close(self, slot, time):
        """Gate closure: every resting order of the slot expires; positions are final."""
        cdef int64_t c_slot = 0, c_time = 0
        if not self._lifecycle_args(slot, time, &c_slot, &c_time):
            return REJECTED[R_BAD_FIELD]
        self._check(rex_close(self.c, c_slot, c_time))
        return self._lifecycle_report()

    cdef object _lifecycle_report(self):
        cdef rex_report *r = &self.c.rep
        if r.status == 6:
            return REJECTED[r.reason]
        if r.n_trades == 0 and r.n_expired == 0:
            return LIFECYCLE_OK
        return self._report()

    def forget(self, slot):
        """Drop a closed slot's book after settlement to bound memory on long runs."""
        cdef int64_t c_slot = 0
        if not exact_i64(slot, &c_slot) or rex_forget(self.c, c_slot) != 0:
            raise ValueError(f"slot {slot} is not closed; only closed slots can be forgotten")

    # -- bulk -----------------------------------------------------------------------------
    def run_many(self, op, time, order_id, owner, side, slot, price, rate, kind, tif,
                 owners=None):
        """Process a whole message stream inside C (no report objects): the bulk entry point.

        Args (numpy arrays of equal length): ``op`` int8 (0 submit, 1 cancel); ``time``,
        ``order_id`` (ints in ``[0, 2**62)``), ``slot``, ``price`` (ignored for market
        orders), ``rate`` int64; ``owner`` int32 indices into ``owners`` (a list of names);
        ``side`` int8 (+1 buy, -1 sell); ``kind`` int8 (0 limit, 1 market); ``tif`` int8 (0
        gtc, 1 ioc, 2 fok). Single-slot orders only.

        Returns:
            ``(status, reason, n_trades)``: int8 arrays of the status and reason codes per
            message (``rex_env._core.STATUS_CODES`` / ``REASON_CODES``) and the trade count.
            Trades are not kept in ``trade_log``; positions, books and orders are updated.
        """
        cdef Py_ssize_t n = len(op), i
        arrays = [np.ascontiguousarray(a, dtype=dt) for a, dt in (
            (op, np.int8), (time, np.int64), (order_id, np.int64), (owner, np.int32),
            (side, np.int8), (slot, np.int64), (price, np.int64), (rate, np.int64),
            (kind, np.int8), (tif, np.int8))]
        for a in arrays:
            if a.ndim != 1 or a.shape[0] != n:
                raise ValueError(f"every array must be 1-d of length {n}, got shape {a.shape}")
        cdef int8_t[::1] c_op = arrays[0], c_side = arrays[4], c_kind = arrays[8]
        cdef int8_t[::1] c_tif = arrays[9]
        cdef int64_t[::1] c_time = arrays[1], c_key = arrays[2], c_slot = arrays[5]
        cdef int64_t[::1] c_price = arrays[6], c_rate = arrays[7]
        cdef int32_t[::1] c_owner = arrays[3]
        names = list(owners) if owners is not None else []
        for nm in names:
            if not isinstance(nm, str) or not nm:
                raise ValueError(f"owner names must be non-empty strings, got {nm!r}")
        ix = np.array([self._owner(nm, True) for nm in names] or [0], dtype=np.int32)
        cdef Py_ssize_t n_names = len(names)
        for i in range(n):
            if not 0 <= c_owner[i] < n_names:
                raise ValueError(f"owner index {c_owner[i]} at {i} is not in 0..{len(names) - 1}")
            if not 0 <= c_key[i] < KEY_SPLIT:
                raise ValueError(f"order_id {c_key[i]} at {i} is not in [0, 2**62)")
        cdef int32_t[::1] c_ix = ix
        mapped = np.empty(n, dtype=np.int32)
        cdef int32_t[::1] c_mapped = mapped
        for i in range(n):
            c_mapped[i] = c_ix[c_owner[i]]
        status = np.zeros(n, dtype=np.int8)
        reason = np.zeros(n, dtype=np.int8)
        cdef int8_t[::1] c_status = status, c_reason = reason
        cdef int64_t got
        cdef int32_t before = self.c.n_orders
        if n:
            with nogil:
                got = rex_run_many(self.c, n, &c_op[0], &c_time[0], &c_key[0], &c_mapped[0],
                                   &c_side[0], &c_slot[0], &c_price[0], &c_rate[0],
                                   &c_kind[0], &c_tif[0], &c_status[0], &c_reason[0])
        else:
            got = 0
        self._id_objs.extend([None] * (self.c.n_orders - before))
        if got < 0:
            raise MemoryError("the C exchange ran out of memory")
        return status, reason, got

    # -- views ----------------------------------------------------------------------------
    def phase(self, slot):
        """The slot's phase; ``None`` for an unknown slot."""
        cdef int64_t c_slot = 0
        if not exact_i64(slot, &c_slot):
            got = prologue.slot_value(slot)
            if got is None:
                return None
            c_slot = got
        p = rex_phase(self.c, c_slot)
        return None if p < 0 else PHASE[p]

    def _book_slots(self):
        return [self.c.books[i].slot for i in range(self.c.n_books)]

    cdef int32_t _book(self, object slot) except -2:
        """The book of a slot, -1 if none; like the reference's ``books.get(slot)``, any
        value equal to an int finds it (a numpy integer, ``3.0``)."""
        cdef int64_t c_slot = 0
        if not exact_i64(slot, &c_slot):
            got = prologue.slot_key(slot)
            if got is None:
                return -1
            c_slot = got
        return rex_book_index(self.c, c_slot)

    def _has_book(self, slot):
        return self._book(slot) >= 0

    def _book_info(self, slot):
        """``(phase, last_price, volume, turnover, n_trades, high, low)`` or ``None``."""
        cdef int32_t b = self._book(slot)
        cdef rex_book *bk
        if b < 0:
            return None
        bk = &self.c.books[b]
        traded = bk.n_trades > 0
        return (PHASE[bk.phase], bk.last_price if traded else None, bk.volume,
                turnover(self.c, b), bk.n_trades, bk.high if traded else None,
                bk.low if traded else None)

    def _levels(self, slot, int side):
        """``[(price, volume, [order records])]`` of one side, best first."""
        cdef int32_t b = self._book(slot), i, q
        cdef rex_side *s
        cdef rex_level *lv
        if b < 0:
            return []
        s = &self.c.books[b].bids if side == 1 else &self.c.books[b].asks
        out = []
        for i in range(s.n - 1, -1, -1):
            lv = &self.c.levels[s.lv[i]]
            recs = []
            q = lv.head
            while q >= 0:
                recs.append(self.order(q))
                q = self.c.orders[q].next
            out.append((lv.price, lv.volume, recs))
        return out

    def _prices(self, slot, int side):
        """Level prices of one side, best first (cheap: no order records)."""
        cdef int32_t b = self._book(slot), i
        cdef rex_side *s
        if b < 0:
            return []
        s = &self.c.books[b].bids if side == 1 else &self.c.books[b].asks
        return [self.c.levels[s.lv[i]].price for i in range(s.n - 1, -1, -1)]

    def _level_volume(self, slot, int side, price):
        cdef int32_t b = self._book(slot), i
        cdef rex_side *s
        if b < 0:
            return None
        s = &self.c.books[b].bids if side == 1 else &self.c.books[b].asks
        for i in range(s.n - 1, -1, -1):
            if self.c.levels[s.lv[i]].price == price:
                return self.c.levels[s.lv[i]].volume
        return None

    # -- the agents' queries: one call each, no view objects ---------------------------------
    # Hand-coded agents ask these ~100 k times a simulated day (issue 12); through the
    # Mapping views each answer built a book view and a list of every level.
    cdef inline rex_side *_side(self, object slot, int side):
        """One side of a slot's book, NULL without a book."""
        cdef int32_t b = self._book(slot)
        if b < 0:
            return NULL
        return &self.c.books[b].bids if side == 1 else &self.c.books[b].asks

    def best_bid(self, slot):
        """The best bid of a slot (ticks), ``None`` without bids."""
        cdef rex_side *s = self._side(slot, 1)
        return None if s == NULL or s.n == 0 else self.c.levels[s.lv[s.n - 1]].price

    def best_ask(self, slot):
        """The best ask of a slot (ticks), ``None`` without asks."""
        cdef rex_side *s = self._side(slot, -1)
        return None if s == NULL or s.n == 0 else self.c.levels[s.lv[s.n - 1]].price

    def quotes(self, slot):
        """``(best bid, best ask)`` of a slot, each ``None`` when that side is empty."""
        cdef int32_t b = self._book(slot)
        cdef rex_side *s
        if b < 0:
            return None, None
        s = &self.c.books[b].bids
        bid = None if s.n == 0 else self.c.levels[s.lv[s.n - 1]].price
        s = &self.c.books[b].asks
        ask = None if s.n == 0 else self.c.levels[s.lv[s.n - 1]].price
        return bid, ask

    def depth(self, slot, side, int k):
        """The top ``k`` levels of one side as ``[(price ticks, volume lots)]``, best first."""
        cdef rex_side *s = self._side(slot, 1 if side is _BUY else -1)
        cdef int32_t i, stop
        cdef rex_level *lv
        if s == NULL or k <= 0:
            return []
        stop = s.n - k if s.n > k else 0
        out = []
        for i in range(s.n - 1, stop - 1, -1):
            lv = &self.c.levels[s.lv[i]]
            out.append((lv.price, lv.volume))
        return out

    def vwap(self, slot):
        """Turnover / volume of a slot's trades (ticks), ``None`` before its first trade."""
        cdef int32_t b = self._book(slot)
        if b < 0 or self.c.books[b].volume == 0:
            return None
        volume = self.c.books[b].volume
        return turnover(self.c, b) / volume

    def traded_volume(self, slot):
        """Lots traded in a slot so far."""
        cdef int32_t b = self._book(slot)
        return 0 if b < 0 else self.c.books[b].volume

    cdef int64_t _position(self, int32_t o, object slot) except? -1:
        """Owner index ``o``'s position in a slot (0 without a book or a trade there)."""
        cdef int32_t b = self._book(slot), i
        cdef rex_book *bk
        if b < 0 or o < 0:
            return 0
        bk = &self.c.books[b]
        if o >= bk.cap_ix:
            return 0
        i = bk.own_ix[o]  # the book's owner -> index + 1 map (0: no trade there)
        return bk.pos[i - 1] if i else 0

    def position(self, owner, slot):
        """Signed traded lots of an owner in a slot (bought > 0)."""
        return self._position(self._owner(owner, False), slot)

    def positions(self, owner, slots):
        """:meth:`position` of an owner in each of ``slots``, in one call."""
        cdef int32_t o = self._owner(owner, False)
        return [self._position(o, slot) for slot in slots]

    def _accounts(self, slot):
        """``[(owner, position lots, notional tick*lots)]`` in order of first trade."""
        cdef int32_t b = self._book(slot), i
        cdef rex_book *bk
        if b < 0:
            return []
        bk = &self.c.books[b]
        return [(self._owners[bk.own[i]], bk.pos[i], cash(self.c, b, i)) for i in range(bk.n_own)]

    def _account(self, owner, slot):
        """``(position, notional)`` of one owner in one slot."""
        cdef int32_t b = self._book(slot), i, o
        cdef rex_book *bk
        if b < 0:
            return 0, 0
        o = self._owner(owner, False)
        if o < 0:
            return 0, 0
        bk = &self.c.books[b]
        if o < bk.cap_ix and bk.own_ix[o]:
            i = bk.own_ix[o] - 1
            return bk.pos[i], cash(self.c, b, i)
        return 0, 0

    def _check_book(self, slot):
        cdef int32_t b = self._book(slot)
        return 0 if b < 0 else rex_book_check(self.c, b)

    def _n_orders(self):
        return self.c.n_orders

    def lob3d(self, slots, k=5, out=None):
        """A numpy snapshot of the given slots' books: best quotes, top-k depth, statistics."""
        cdef Py_ssize_t n, i
        cdef int32_t b, m
        cdef rex_book *bk
        cdef double[:, ::1] bp, bd, ap, ad
        cells = prologue.MAX_LOB3D_CELLS
        slots = list(islice(slots, cells + 1))
        n = len(slots)
        out = prepare_lob3d(slots, k, out)  # the reference's size checks and clearing
        cdef int32_t kk = k
        untouched = 2 if self.auto_open else 0
        bp, bd, ap, ad = out.bid_price, out.bid_depth, out.ask_price, out.ask_depth
        phase, best_bid, best_ask = out.phase, out.best_bid, out.best_ask
        for i in range(n):
            b = self._book(slots[i])
            if b < 0:
                phase[i] = untouched
                continue
            bk = &self.c.books[b]
            phase[i] = bk.phase
            m = rex_depth(self.c, b, 1, kk, &bp[i, 0], &bd[i, 0])
            if m:
                best_bid[i] = bp[i, 0]
            m = rex_depth(self.c, b, -1, kk, &ap[i, 0], &ad[i, 0])
            if m:
                best_ask[i] = ap[i, 0]
            if bk.n_trades:
                out.last_price[i] = bk.last_price
                out.vwap[i] = turnover(self.c, b) / bk.volume
                out.volume[i] = bk.volume
                out.n_trades[i] = bk.n_trades
        return out


def _rebuild_exchange(cls):
    return cls.__new__(cls)


def _rebuild_order(CoreExchange ex, int32_t h, frozen):
    cdef COrder rec = COrder.__new__(COrder)
    if frozen is None:
        if ex is None:
            raise ValueError("a live order record needs its exchange")
        # A rebuilt live record owns its exchange and stays tracked: the unpickler may hand it
        # out as another object than the one in the exchange's records (which the exchange
        # would freeze), so it must keep the exchange alive itself; copies only.
        rec.exp = <PyObject *>ex
        rec.keep = ex
    else:
        PyObject_GC_UnTrack(<PyObject *>rec)
    rec.h = h
    rec.frozen = frozen
    return rec


cdef object turnover(rex_exchange *c, int32_t b):
    cdef int64_t hi
    cdef uint64_t lo
    rex_turnover(c, b, &hi, &lo)
    return (<object>hi << 64) + <object>lo


cdef object cash(rex_exchange *c, int32_t b, int32_t i):
    cdef int64_t hi
    cdef uint64_t lo
    rex_cash(c, b, i, &hi, &lo)
    return (<object>hi << 64) + <object>lo


include "_replay_fast.pxi"
include "_bookkeeping_fast.pxi"
include "_agents_fast.pxi"
include "_newsvendor_fast.pxi"
include "_draws_fast.pxi"
include "_feasible_fast.pxi"
include "_wake_fast.pxi"
include "_storage_fast.pxi"
include "_plant_fast.pxi"
include "_obs_fast.pxi"
include "_settle_fast.pxi"
include "_actions_fast.pxi"
