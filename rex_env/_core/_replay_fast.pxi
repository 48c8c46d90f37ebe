# The replay fast path (included by _cexchange.pyx: it needs CoreExchange's C state and
# interning tables). The driver and the contract are in rex_env/replay.py ("fast path").
#
# FastReplay reads the events file with pread in large blocks and handles, in C, every *clean*
# line: plain printable ASCII without quotes, at most LINE_MAX bytes, exactly 11 fields, op
# ``submit``, ``cancel`` or ``modify`` and every field that the Python path would accept
# (numbers it can convert to 64-bit ticks/lots exactly). It calls the C exchange directly,
# exactly as CoreExchange.submit/cancel/modify do for those values, and writes TRADES.csv rows,
# ORDERS.csv rows (at the end, from the final order states) and the stderr rejection lines into
# byte buffers.
# Any other line goes back to Python (``run`` returns), which replays it with the reference
# per-row code and hands its outputs back (``add_*``), so that the order of everything is kept.

cimport cython
from libc.errno cimport errno
from libc.string cimport memchr, memcmp, memcpy, memmove, strerror, strlen
from libc.stdlib cimport malloc, realloc
from cpython.unicode cimport PyUnicode_DecodeASCII
from posix.unistd cimport pread

cdef extern from "rex_core.h":
    ctypedef long long rex_i128  # __int128 in C

cdef enum:
    LINE_MAX = 65536         # a longer line goes to the reference reader (it drops it)
    BLOCK = 1 << 20          # read size; at least 2 * LINE_MAX
    N_COLS = 11
    MAX_NUMBER = 40          # replay.MAX_NUMBER_CHARS
    MAX_FIELD = 1024         # replay.MAX_FIELD_CHARS
    REPORT_CHARS = 200       # replay.REPORT_CHARS
    RUN_EOF = 0
    RUN_ROW = 1              # a clean line the C path does not take: Python replays it
    RUN_SLOW = 2             # a line that is not clean: the reference reader takes over
    OP_SUBMIT = 0
    OP_CANCEL = 1
    OP_MODIFY = 2

cdef int64_t I64_MAX = 9223372036854775807LL
cdef int64_t FAST_SLOT = 1LL << 40  # as SLOT_FAST in CoreExchange.submit

# byte classes of a clean line: 0 plain, 1 comma, 2 anything else (control, quote, non-ASCII)
cdef unsigned char CLS[256]
cdef int _i
for _i in range(256):
    CLS[_i] = 0 if 0x20 <= _i <= 0x7E and _i != 0x22 else 2
CLS[0x2C] = 1

cdef const char *REASON_TEXT[13]
REASON_TEXT[:] = [b"", b"bad_field", b"duplicate_id", b"price_out_of_bounds", b"off_tick",
                  b"non_positive_rate", b"off_lot", b"unknown_slot", b"slot_closed",
                  b"slot_not_open", b"auction_phase", b"unknown_order", b"self_trade"]
cdef const char *STATUS_TEXT[7]
STATUS_TEXT[:] = [b"", b"resting", b"filled", b"cancelled", b"expired", b"killed",
                  b"rejected"]


cdef struct rbuf:
    char *p
    Py_ssize_t n, cap


cdef int rb_grow(rbuf *b, Py_ssize_t extra) except -1:
    cdef Py_ssize_t cap = b.cap if b.cap else 4096
    cdef char *q
    while cap < b.n + extra:
        cap *= 2
    q = <char *>realloc(b.p, cap)
    if q == NULL:
        raise MemoryError("replay output buffer")
    b.p = q
    b.cap = cap
    return 0


cdef inline int rb_put(rbuf *b, const char *s, Py_ssize_t n) except -1:
    if b.n + n > b.cap:
        rb_grow(b, n)
    memcpy(b.p + b.n, s, n)
    b.n += n
    return 0


cdef inline int rb_ch(rbuf *b, char c) except -1:
    if b.n + 1 > b.cap:
        rb_grow(b, 1)
    b.p[b.n] = c
    b.n += 1
    return 0


@cython.cdivision(True)
cdef int rb_u128(rbuf *b, rex_i128 v) except -1:
    """Decimal digits of a non-negative integer."""
    cdef char tmp[48]
    cdef int i = 48
    cdef uint64_t u
    if v < I64_MAX:
        u = <uint64_t>v
        while True:
            i -= 1
            tmp[i] = <char>(48 + u % 10)
            u //= 10
            if u == 0:
                break
    else:
        while True:
            i -= 1
            tmp[i] = <char>(48 + <int>(v % 10))
            v //= 10
            if v == 0:
                break
    return rb_put(b, &tmp[i], 48 - i)


cdef int rb_int(rbuf *b, int64_t v) except -1:
    if v < 0:
        rb_ch(b, 45)
        return rb_u128(b, -<rex_i128>v)
    return rb_u128(b, v)


cdef inline int rb_str(rbuf *b, const char *s) except -1:
    return rb_put(b, s, <Py_ssize_t>strlen(s))


cdef bint strip_span(const char *s, Py_ssize_t n, Py_ssize_t *a, Py_ssize_t *z):
    """The span of s without leading/trailing spaces (a clean line has no tabs)."""
    cdef Py_ssize_t i = 0, j = n
    while i < j and s[i] == 32:
        i += 1
    while j > i and s[j - 1] == 32:
        j -= 1
    a[0] = i
    z[0] = j
    return True


cdef bint parse_int(const char *s, Py_ssize_t n, int64_t *out):
    """replay._int for a value that fits 64 bits: ``[+-]?[0-9]+`` between spaces."""
    cdef Py_ssize_t i, z
    cdef bint neg = False
    cdef uint64_t v = 0
    cdef int d
    strip_span(s, n, &i, &z)
    if i < z and (s[i] == 43 or s[i] == 45):
        neg = s[i] == 45
        i += 1
    if i >= z:
        return False
    while i < z:
        d = s[i] - 48
        if d < 0 or d > 9:
            return False
        if v > (<uint64_t>I64_MAX - <uint64_t>d) // 10:
            return False  # the Python path takes values beyond 64 bits
        v = v * 10 + <uint64_t>d
        i += 1
    out[0] = -<int64_t>v if neg else <int64_t>v
    return True


cdef inline bint push_digit(int64_t *v, int *sig, int d):
    """v = 10 v + d, keeping at most 18 significant digits (False beyond)."""
    if v[0] == 0 and d == 0:
        return True
    if sig[0] >= 18:
        return False
    v[0] = v[0] * 10 + d
    sig[0] += 1
    return True


@cython.cdivision(True)
cdef bint parse_units(const char *s, Py_ssize_t n, int64_t num, int64_t den, int64_t *out):
    """replay._value when the result is a whole number of grid steps that fits 64 bits.

    The text is a plain decimal ``[+-]?(digits[.digits]|.digits)``; its value D / 10**k over
    a step num/den is D * den / (10**k * num) steps. False: anything else (not a plain
    decimal, not a whole number of steps, too many digits): the Python path decides.
    """
    cdef Py_ssize_t i, z
    cdef bint neg = False, dot = False, any_digit = False
    cdef int64_t d_val = 0
    cdef int k = 0, sig = 0, d, zeros = 0, j
    cdef rex_i128 top, bottom, q
    strip_span(s, n, &i, &z)
    if i < z and (s[i] == 43 or s[i] == 45):
        neg = s[i] == 45
        i += 1
    while i < z:
        if s[i] == 46:
            if dot:
                return False
            dot = True
            i += 1
            continue
        d = s[i] - 48
        if d < 0 or d > 9:
            return False
        any_digit = True
        i += 1
        if not dot:
            if not push_digit(&d_val, &sig, d):
                return False
        elif d == 0:
            zeros += 1  # zeros of the fraction count only if a nonzero digit follows
        else:
            for j in range(zeros):
                if not push_digit(&d_val, &sig, 0):
                    return False
            if not push_digit(&d_val, &sig, d):
                return False
            k += zeros + 1
            zeros = 0
    if not any_digit:
        return False
    if d_val == 0:
        out[0] = 0
        return True
    if k > 18:
        return False
    bottom = <rex_i128>num
    for j in range(k):
        bottom *= 10
    top = <rex_i128>d_val * den
    if top % bottom:
        return False  # off the grid: a Fraction in the Python path
    q = top // bottom
    if q > I64_MAX:
        return False
    out[0] = -<int64_t>q if neg else <int64_t>q
    return True


@cython.cdivision(True)
cdef int put_units(rbuf *b, int64_t v, int64_t step, int decimals) except -1:
    """grid.format_price / format_rate: v steps of step / 10**decimals, printed."""
    cdef rex_i128 n = <rex_i128>v * step, p = 1, whole, frac
    cdef uint64_t u, pu
    cdef int i
    cdef char digits[20]
    if n < 0:
        rb_ch(b, 45)
        n = -n
    if decimals == 0:
        return rb_u128(b, n)
    for i in range(decimals):
        p *= 10
    if n < I64_MAX:  # the common case in 64-bit arithmetic
        u = <uint64_t>n
        pu = <uint64_t>p
        rb_u128(b, u // pu)
        u = u % pu
        for i in range(decimals - 1, -1, -1):
            digits[i] = <char>(48 + u % 10)
            u //= 10
    else:
        whole = n // p
        frac = n % p
        rb_u128(b, whole)
        for i in range(decimals - 1, -1, -1):
            digits[i] = <char>(48 + <int>(frac % 10))
            frac //= 10
    rb_ch(b, 46)
    return rb_put(b, digits, decimals)


cdef int put_repr(rbuf *b, const char *s, Py_ssize_t n) except -1:
    """repr() of a str of printable ASCII without double quotes."""
    cdef Py_ssize_t i
    cdef char q = 39
    if memchr(s, 39, n) != NULL:
        q = 34
    rb_ch(b, q)
    for i in range(n):
        if s[i] == 92:
            rb_ch(b, 92)
        elif s[i] == 39 and q == 39:
            rb_ch(b, 92)
        rb_ch(b, s[i])
    return rb_ch(b, q)


cdef struct bmap:
    # byte string -> int64, open addressing over entry indices (the keys in an arena)
    int32_t *slots   # -1: empty
    int64_t cap      # a power of two, at least twice the entries
    int64_t *off
    int32_t *len
    int64_t *val
    uint64_t *hash
    int64_t n, ecap
    rbuf keys


cdef inline uint64_t hash_bytes(const char *s, Py_ssize_t n):
    """FNV-1a, then a final mix so that the low bits spread."""
    cdef uint64_t h = 14695981039346656037ULL
    cdef Py_ssize_t i
    for i in range(n):
        h = (h ^ <unsigned char>s[i]) * 1099511628211ULL
    h ^= h >> 33
    h *= 0xff51afd7ed558ccdULL
    h ^= h >> 33
    return h


cdef int64_t bmap_get(bmap *m, const char *s, Py_ssize_t n):
    """The value of a key, -1 if absent."""
    cdef uint64_t h
    cdef int64_t i
    cdef int32_t e
    if m.n == 0:
        return -1
    h = hash_bytes(s, n)
    i = <int64_t>(h & <uint64_t>(m.cap - 1))
    while True:
        e = m.slots[i]
        if e < 0:
            return -1
        if m.hash[e] == h and m.len[e] == n and memcmp(m.keys.p + m.off[e], s, n) == 0:
            return m.val[e]
        i = (i + 1) & (m.cap - 1)


cdef int bmap_put(bmap *m, const char *s, Py_ssize_t n, int64_t val) except -1:
    """Add a key that is not there."""
    cdef uint64_t h = hash_bytes(s, n)
    cdef int64_t i, j, cap
    cdef int32_t *slots
    if m.n == m.ecap:
        m.ecap = m.ecap * 2 if m.ecap else 1024
        m.off = <int64_t *>grow(m.off, m.ecap * sizeof(int64_t))
        m.len = <int32_t *>grow(m.len, m.ecap * sizeof(int32_t))
        m.val = <int64_t *>grow(m.val, m.ecap * sizeof(int64_t))
        m.hash = <uint64_t *>grow(m.hash, m.ecap * sizeof(uint64_t))
    if 2 * (m.n + 1) > m.cap:
        cap = m.cap * 2 if m.cap else 2048
        slots = <int32_t *>malloc(cap * sizeof(int32_t))
        if slots == NULL:
            raise MemoryError("replay id map")
        for i in range(cap):
            slots[i] = -1
        for j in range(m.n):
            i = <int64_t>(m.hash[j] & <uint64_t>(cap - 1))
            while slots[i] >= 0:
                i = (i + 1) & (cap - 1)
            slots[i] = <int32_t>j
        free(m.slots)
        m.slots = slots
        m.cap = cap
    m.off[m.n] = m.keys.n
    m.len[m.n] = <int32_t>n
    m.val[m.n] = val
    m.hash[m.n] = h
    rb_put(&m.keys, s, n)
    i = <int64_t>(h & <uint64_t>(m.cap - 1))
    while m.slots[i] >= 0:
        i = (i + 1) & (m.cap - 1)
    m.slots[i] = <int32_t>m.n
    m.n += 1
    return 0


cdef void bmap_free(bmap *m):
    free(m.slots)
    free(m.off)
    free(m.len)
    free(m.val)
    free(m.hash)
    free(m.keys.p)


cdef void *grow(void *p, size_t size) except NULL:
    cdef void *q = realloc(p, size)
    if q == NULL:
        raise MemoryError("replay table")
    return q


cdef class FastReplay:
    """The C side of the replay fast path over one file (see the module comment)."""

    cdef CoreExchange ex
    cdef rex_exchange *c
    cdef int fd
    cdef char *buf
    cdef Py_ssize_t blen, pos        # bytes in buf; start of the current line in buf
    cdef int64_t base                # file offset of buf[0]
    cdef bint eof
    cdef public int64_t line         # file line number of the current line
    cdef public int64_t rows, n_trades, n_rejected
    cdef int64_t tick_num, tick_den, lot_num, lot_den, price_step, rate_step
    cdef int price_dec, rate_dec
    cdef bytes name                  # the report prefix "NAME: line "
    cdef rbuf trades, orders_lit, errors, ids, owners, tmp
    cdef int64_t *id_off             # handle -> offset of its CSV field in ids
    cdef int32_t *id_len
    cdef Py_ssize_t n_ids, cap_ids
    cdef int64_t *own_off            # owner index -> offset of its CSV field in owners
    cdef int32_t *own_len
    cdef Py_ssize_t n_own, cap_own
    cdef int64_t *subs               # ORDERS.csv rows: handle >= 0, or -(length + 1) of a
    cdef Py_ssize_t n_subs, cap_subs  # literal row in orders_lit
    cdef Py_ssize_t fs[N_COLS]
    cdef Py_ssize_t fl[N_COLS]
    cdef bmap idmap                  # accepted order id (UTF-8) -> its key in the core
    cdef bmap ownmap                 # owner (UTF-8) -> owner index
    cdef int64_t next_key            # the key of the next fresh order id
    cdef public object row_text      # the line a RUN_ROW hands to Python
    cdef object field_of             # str -> its CSV field as csv.writer writes it, UTF-8

    def __cinit__(self):
        self.buf = NULL

    def __init__(self, CoreExchange ex, int fd, int64_t offset, int64_t line, bytes name,
                 tuple price_grid, tuple rate_grid, field_of):
        """``name``: the prefix of a report line (``NAME: line ``). ``price_grid`` /
        ``rate_grid``: (step numerator, denominator, printing step, decimals) of the tick and
        the lot: v steps print as v * printing step with that many decimals
        (grid.format_price / format_rate). ``field_of``: str -> its CSV field (UTF-8 bytes)
        for ids and owners that the Python path accepted."""
        self.ex = ex
        self.field_of = field_of
        self.c = ex.c
        self.fd = fd
        self.name = name
        self.tick_num, self.tick_den, self.price_step, self.price_dec = price_grid
        self.lot_num, self.lot_den, self.rate_step, self.rate_dec = rate_grid
        self.buf = <char *>malloc(BLOCK)
        if self.buf == NULL:
            raise MemoryError("replay read buffer")
        self.seek(offset, line)
        self.sync()

    def __dealloc__(self):
        free(self.buf)
        free(self.trades.p)
        free(self.orders_lit.p)
        free(self.errors.p)
        free(self.ids.p)
        free(self.owners.p)
        free(self.tmp.p)
        bmap_free(&self.idmap)
        bmap_free(&self.ownmap)
        free(self.id_off)
        free(self.id_len)
        free(self.own_off)
        free(self.own_len)
        free(self.subs)

    def seek(self, int64_t offset, int64_t line):
        """Go on reading at a file offset (the start of a physical line)."""
        self.base = offset
        self.blen = 0
        self.pos = 0
        self.eof = False
        self.line = line

    @property
    def offset(self):
        """File offset of the current line."""
        return self.base + self.pos

    # -- reading ------------------------------------------------------------------------
    cdef int refill(self) except -1:
        """Move the current line to the front of the buffer and read more after it."""
        cdef Py_ssize_t keep = self.blen - self.pos
        cdef ssize_t got
        cdef int err
        if self.pos:
            memmove(self.buf, self.buf + self.pos, keep)
            self.base += self.pos
            self.pos = 0
            self.blen = keep
        while self.blen < BLOCK:
            with nogil:
                got = pread(self.fd, self.buf + self.blen, BLOCK - self.blen,
                            self.base + self.blen)
                err = errno
            if got < 0:
                raise OSError(err, strerror(err).decode("utf-8", "replace"))
            if got == 0:
                self.eof = True
                break
            self.blen += got
        return 0

    def clean_at(self, bytes data, bint at_eof):
        """Is the first line of ``data`` (bytes from a line start) a clean line?"""
        cdef Py_ssize_t used, nf
        return self.split(data, len(data), at_eof, &used, &nf) >= 0

    cdef int split(self, const char *p, Py_ssize_t avail, bint at_eof, Py_ssize_t *used,
                   Py_ssize_t *nf) except -2:
        """Split the line at p into fields: its length in ``used``, the field spans in
        fs/fl (nf fields; nf > N_COLS: more, not recorded). Returns 1 for a clean line, 0
        for a blank one, -1 for a line that is not clean or may be longer than ``avail``."""
        cdef Py_ssize_t lim = avail if avail < LINE_MAX else LINE_MAX, i, start = 0, end, k = 0
        cdef const char *nl = <const char *>memchr(p, 10, lim)
        cdef unsigned char cl
        if nl == NULL:
            if not at_eof or avail > LINE_MAX or avail == 0:
                return -1
            end = avail
            used[0] = avail
        else:
            end = nl - p
            used[0] = end + 1
            if end and p[end - 1] == 13:
                end -= 1
        if end == 0:
            nf[0] = 0
            return 0
        for i in range(end):
            cl = CLS[<unsigned char>p[i]]
            if cl == 0:
                continue
            if cl == 2:
                return -1
            if k < N_COLS:
                self.fs[k] = start
                self.fl[k] = i - start
            k += 1
            start = i + 1
        if k < N_COLS:
            self.fs[k] = start
            self.fl[k] = end - start
        nf[0] = k + 1
        return 1

    def run(self):
        """Replay clean rows until the end of the file (RUN_EOF), a clean row that Python must
        replay (RUN_ROW: ``row_text``, ``line``), or a line that is not clean (RUN_SLOW)."""
        cdef Py_ssize_t used, nf
        cdef int kind
        cdef const char *p
        while True:
            if self.blen - self.pos < LINE_MAX and not self.eof:
                self.refill()
            if self.pos >= self.blen and self.eof:
                self.flush()
                return RUN_EOF
            p = self.buf + self.pos
            kind = self.split(p, self.blen - self.pos, self.eof, &used, &nf)
            if kind < 0:
                self.flush()
                return RUN_SLOW
            if kind == 1:
                if nf != N_COLS or not self.row(p):
                    self.row_text = PyUnicode_DecodeASCII(p, used, NULL)
                    self.pos += used
                    self.line += 1
                    self.flush()
                    return RUN_ROW
                self.rows += 1
            self.pos += used
            self.line += 1

    # -- one clean row --------------------------------------------------------------------
    cdef bint row(self, const char *p) except -1:
        """Replay one clean 11-field row in C; False: the Python path must replay it."""
        cdef Py_ssize_t *fs = self.fs
        cdef Py_ssize_t *fl = self.fl
        cdef Py_ssize_t i
        cdef int64_t time = 0, first = 0, last = 0, price = 0, rate = 0, key
        cdef int side, kind, tif, has_price, has_rate, st
        cdef int32_t own
        cdef const char *f
        for i in range(N_COLS):  # replay._check_fields: over-long fields
            if fl[i] > (MAX_NUMBER if i in (0, 5, 6, 7, 8) else MAX_FIELD):
                return False
        if not parse_int(p + fs[0], fl[0], &time) or time < 0:
            return False
        f = p + fs[1]
        if fl[1] != 6:
            return False
        if memcmp(f, b"cancel", 6) == 0:
            key = self.lookup_key(p + fs[2], fl[2])
            own = self.owner_ix(p + fs[3], fl[3], False)
            st = rex_cancel(self.c, time, key, own)
            return self.after(p, st, OP_CANCEL)
        if memcmp(f, b"modify", 6) == 0:
            has_price = fl[7] != 0
            if has_price and not parse_units(p + fs[7], fl[7], self.tick_num, self.tick_den,
                                             &price):
                return False
            has_rate = fl[8] != 0
            if has_rate and not parse_units(p + fs[8], fl[8], self.lot_num, self.lot_den,
                                            &rate):
                return False
            key = self.lookup_key(p + fs[2], fl[2])
            own = self.owner_ix(p + fs[3], fl[3], False)
            st = rex_modify(self.c, time, key, own, has_price, price, has_rate, rate, 0)
            return self.after(p, st, OP_MODIFY)
        if memcmp(f, b"submit", 6) != 0:
            return False
        side = choose(p + fs[4], fl[4], b"buy", b"sell", NULL)
        side = 1 if side == 0 else (-1 if side == 1 else -9)
        kind = choose(p + fs[9], fl[9], b"limit", b"market", NULL)
        tif = choose(p + fs[10], fl[10], b"gtc", b"ioc", b"fok")
        if side == -9 or kind < 0 or tif < 0:
            return False
        if not parse_int(p + fs[5], fl[5], &first):
            return False
        if fl[6] == 0:
            last = first
        elif not parse_int(p + fs[6], fl[6], &last):
            return False
        has_price = fl[7] != 0
        if has_price and not parse_units(p + fs[7], fl[7], self.tick_num, self.tick_den,
                                         &price):
            return False
        if fl[8] == 0 or not parse_units(p + fs[8], fl[8], self.lot_num, self.lot_den, &rate):
            return False
        if not (-FAST_SLOT < first < FAST_SLOT and -FAST_SLOT < last < FAST_SLOT):
            return False
        if fl[2] == 0 or fl[3] == 0:
            return False  # bad_field in CoreExchange.submit: left to it
        return self.submit(p, time, side, first, last, has_price, price, rate, kind, tif)

    cdef int64_t lookup_key(self, const char *s, Py_ssize_t n) except -2:
        """CoreExchange._lookup_key of a str id (-1: never accepted)."""
        return bmap_get(&self.idmap, s, n)

    cdef int32_t owner_ix(self, const char *s, Py_ssize_t n, bint create) except -2:
        """CoreExchange._owner of a str owner (a new owner's CSV field is recorded)."""
        cdef int32_t ix = <int32_t>bmap_get(&self.ownmap, s, n)
        if ix >= 0 or not create:
            return ix
        self.sync_owners()
        ix = self.ex._owner(PyUnicode_DecodeASCII(s, n, NULL), True)
        if ix != self.n_own:
            raise AssertionError(f"replay: owner index {ix} out of step ({self.n_own})")
        self.add_owner_field(s, n)
        bmap_put(&self.ownmap, s, n, ix)
        return ix

    cdef bint submit(self, const char *p, int64_t time, int side, int64_t first, int64_t last,
                     int has_price, int64_t price, int64_t rate, int kind, int tif) except -1:
        """CoreExchange.submit for str ids and owners and 64-bit values. An accepted id enters
        the exchange's Python tables later (``flush``), before Python sees the exchange."""
        cdef const char *oid = p + self.fs[2]
        cdef Py_ssize_t n = self.fl[2]
        cdef int64_t key = bmap_get(&self.idmap, oid, n)
        cdef int32_t own, h
        cdef int st
        if key < 0:
            key = self.next_key
        own = self.owner_ix(p + self.fs[3], self.fl[3], True)
        st = rex_submit(self.c, time, key, own, side, first, last, has_price, price, rate,
                        kind, tif, 0)
        if st >= 0 and st != 6:
            h = self.c.n_orders - 1
            if key != self.next_key or h != self.n_ids:
                raise AssertionError(f"replay: order {h} key {key} out of step")
            self.next_key += 1
            self.add_id_field(h, oid, n)
            bmap_put(&self.idmap, oid, n, key)
        return self.after(p, st, OP_SUBMIT)

    cdef flush(self):
        """Enter the ids accepted in C into the exchange's Python tables (CoreExchange.
        _accepted, in order of acceptance), so that Python code sees the same exchange."""
        cdef CoreExchange ex = self.ex
        cdef Py_ssize_t h
        cdef int64_t key
        for h in range(len(ex._id_objs), self.c.n_orders):
            key = self.c.orders[h].key
            if key != KEY_SPLIT + len(ex._interned_ids):
                raise AssertionError(f"replay: order {h} key {key} out of step")
            ex._accepted(PyUnicode_DecodeASCII(self.ids.p + self.id_off[h], self.id_len[h],
                                               NULL), key, True)

    cdef bint after(self, const char *p, int st, int op) except -1:
        """The outputs of one instruction: trades, the ORDERS.csv entry, a rejection."""
        cdef rex_report *r = &self.c.rep
        cdef int32_t i
        if st < 0:
            raise MemoryError("the C exchange ran out of memory")
        if r.status == 6:
            self.reject(p, r.reason, op)
            if op == OP_SUBMIT:
                self.literal_rejected(p + self.fs[2], self.fl[2], r.reason)
            return True
        for i in range(r.n_trades):
            self.put_trade(&r.trades[i])
        if op == OP_SUBMIT:
            self.add_sub(r.order)
        return True

    # -- outputs ------------------------------------------------------------------------
    cdef int put_trade(self, rex_trade *t) except -1:
        cdef rbuf *b = &self.trades
        cdef rex_order *buy = &self.c.orders[t.buy]
        cdef rex_order *sell = &self.c.orders[t.sell]
        rb_int(b, t.trade_id)
        rb_ch(b, 44)
        rb_int(b, t.time)
        rb_ch(b, 44)
        rb_int(b, t.slot)
        rb_ch(b, 44)
        put_units(b, t.price, self.price_step, self.price_dec)
        rb_ch(b, 44)
        put_units(b, t.rate, self.rate_step, self.rate_dec)
        rb_ch(b, 44)
        rb_put(b, self.ids.p + self.id_off[t.buy], self.id_len[t.buy])
        rb_ch(b, 44)
        rb_put(b, self.ids.p + self.id_off[t.sell], self.id_len[t.sell])
        rb_ch(b, 44)
        rb_put(b, self.owners.p + self.own_off[buy.owner], self.own_len[buy.owner])
        rb_ch(b, 44)
        rb_put(b, self.owners.p + self.own_off[sell.owner], self.own_len[sell.owner])
        if t.aggressor == 0:
            rb_put(b, b",buy\n", 5)
        elif t.aggressor == 1:
            rb_put(b, b",sell\n", 6)
        else:
            rb_put(b, b",auction\n", 9)
        self.n_trades += 1
        return 0

    cdef int reject(self, const char *p, int reason, int op) except -1:
        """One stderr line, as replay.main prints a Rejection with replay._explain's detail."""
        cdef rbuf *d = &self.tmp
        cdef rbuf *b = &self.errors
        cdef Py_ssize_t *fs = self.fs
        cdef Py_ssize_t *fl = self.fl
        d.n = 0
        if reason == 1:
            rb_str(d, b"a field is missing or inconsistent (ids, owner, slots, price vs kind, "
                      b"time order)")
        elif reason == 2:
            rb_str(d, b"order_id ")
            put_repr(d, p + fs[2], fl[2])
            rb_str(d, b" was already used")
        elif reason in (3, 4):
            rb_str(d, b"price ")
            rb_put(d, p + fs[7], fl[7])
            rb_str(d, b" is outside the price bounds" if reason == 3 else
                   " is not on the tick grid")
        elif reason in (5, 6):
            rb_str(d, b"rate ")
            rb_put(d, p + fs[8], fl[8])
            rb_str(d, b" is not positive" if reason == 5 else b" is not a multiple of the lot")
        elif reason in (7, 8, 9):
            rb_str(d, b"slot ")
            rb_put(d, p + fs[5], fl[5])
            rb_str(d, b" does not exist" if reason == 7 else
                   (b" is closed" if reason == 8 else b" is not open"))
        elif reason == 10:
            rb_str(d, b"not allowed in the slot's current phase")
        elif reason == 11:
            rb_str(d, b"no resting order ")
            put_repr(d, p + fs[2], fl[2])
            rb_str(d, b" of owner ")
            put_repr(d, p + fs[3], fl[3])
        else:
            rb_str(d, REASON_TEXT[reason])
        rb_put(b, self.name, len(self.name))
        rb_int(b, self.line)
        rb_str(b, b": submit rejected " if op == OP_SUBMIT else (
            b": cancel rejected " if op == OP_CANCEL else b": modify rejected "))
        rb_str(b, REASON_TEXT[reason])
        rb_put(b, b": ", 2)
        if d.n <= REPORT_CHARS:
            rb_put(b, d.p, d.n)
        else:
            rb_put(b, d.p, REPORT_CHARS - 3)
            rb_put(b, b"...", 3)
        rb_ch(b, 10)
        self.n_rejected += 1
        return 0

    cdef int literal_rejected(self, const char *oid, Py_ssize_t n, int reason) except -1:
        """The ORDERS.csv row of a rejected submit (its final form at once)."""
        cdef rbuf *b = &self.orders_lit
        cdef Py_ssize_t start = b.n
        rb_put(b, oid, n)
        rb_str(b, b",rejected,")
        put_units(b, 0, self.rate_step, self.rate_dec)
        rb_ch(b, 44)
        put_units(b, 0, self.rate_step, self.rate_dec)
        rb_ch(b, 44)
        rb_str(b, REASON_TEXT[reason])
        rb_ch(b, 10)
        return self.add_sub(-(b.n - start) - 1)

    cdef int add_sub(self, int64_t entry) except -1:
        cdef int64_t *q
        if self.n_subs == self.cap_subs:
            self.cap_subs = self.cap_subs * 2 if self.cap_subs else 1024
            q = <int64_t *>realloc(self.subs, self.cap_subs * sizeof(int64_t))
            if q == NULL:
                raise MemoryError("replay order table")
            self.subs = q
        self.subs[self.n_subs] = entry
        self.n_subs += 1
        return 0

    cdef int add_id_field(self, int32_t h, const char *s, Py_ssize_t n) except -1:
        cdef int64_t *o
        cdef int32_t *ln
        if h != self.n_ids:
            raise AssertionError(f"replay: order handle {h} out of step ({self.n_ids})")
        if self.n_ids == self.cap_ids:
            self.cap_ids = self.cap_ids * 2 if self.cap_ids else 1024
            o = <int64_t *>realloc(self.id_off, self.cap_ids * sizeof(int64_t))
            if o == NULL:
                raise MemoryError("replay id table")
            self.id_off = o
            ln = <int32_t *>realloc(self.id_len, self.cap_ids * sizeof(int32_t))
            if ln == NULL:
                raise MemoryError("replay id table")
            self.id_len = ln
        self.id_off[self.n_ids] = self.ids.n
        self.id_len[self.n_ids] = <int32_t>n
        rb_put(&self.ids, s, n)
        self.n_ids += 1
        return 0

    cdef int add_owner_field(self, const char *s, Py_ssize_t n) except -1:
        cdef int64_t *o
        cdef int32_t *ln
        if self.n_own == self.cap_own:
            self.cap_own = self.cap_own * 2 if self.cap_own else 64
            o = <int64_t *>realloc(self.own_off, self.cap_own * sizeof(int64_t))
            if o == NULL:
                raise MemoryError("replay owner table")
            self.own_off = o
            ln = <int32_t *>realloc(self.own_len, self.cap_own * sizeof(int32_t))
            if ln == NULL:
                raise MemoryError("replay owner table")
            self.own_len = ln
        self.own_off[self.n_own] = self.owners.n
        self.own_len[self.n_own] = <int32_t>n
        rb_put(&self.owners, s, n)
        self.n_own += 1
        return 0

    # -- what the Python path adds --------------------------------------------------------
    cdef sync_ids(self, Py_ssize_t upto):
        """The orders before handle ``upto`` that the Python path accepted: their CSV fields
        and their ids in the id map."""
        cdef int32_t h
        while self.n_ids < upto:
            h = <int32_t>self.n_ids
            oid = self.ex.id_obj(h)
            field = self.field_of(oid)
            self.add_id_field(h, field, len(field))
            raw = str(oid).encode("utf-8", "surrogateescape")
            bmap_put(&self.idmap, raw, len(raw), self.c.orders[h].key)

    cdef sync_owners(self):
        cdef list owners = self.ex._owners
        while self.n_own < len(owners):
            owner = owners[self.n_own]
            raw = str(owner).encode("utf-8", "surrogateescape")
            bmap_put(&self.ownmap, raw, len(raw), self.n_own)
            field = self.field_of(owner)
            self.add_owner_field(field, len(field))

    def sync(self):
        """Take over the orders and owners that the Python path created."""
        self.sync_owners()
        self.sync_ids(self.c.n_orders)
        self.next_key = KEY_SPLIT + len(self.ex._interned_ids)

    def add_trades(self, bytes rows, int64_t n):
        """TRADES.csv rows the Python path wrote (n trades)."""
        rb_put(&self.trades, rows, len(rows))
        self.n_trades += n

    def add_errors(self, bytes lines, int64_t n):
        """stderr lines of the Python path (n rejections)."""
        rb_put(&self.errors, lines, len(lines))
        self.n_rejected += n

    def add_order_row(self, bytes row):
        """The final ORDERS.csv row of a rejected submit of the Python path."""
        rb_put(&self.orders_lit, row, len(row))
        self.add_sub(-len(row) - 1)

    def add_order(self, COrder order):
        """An accepted submit of the Python path (its row is written at the end)."""
        self.add_sub(order.h)

    def trades_csv(self):
        return (<char *>self.trades.p)[:self.trades.n] if self.trades.n else b""

    def errors_text(self):
        return (<char *>self.errors.p)[:self.errors.n].decode("utf-8") if self.errors.n else ""

    def orders_csv(self):
        """ORDERS.csv without its header, from the final state of every accepted order."""
        cdef rbuf out
        cdef Py_ssize_t i, lit = 0, n
        cdef int64_t e
        cdef rex_order *o
        out.p = NULL
        out.n = out.cap = 0
        try:
            for i in range(self.n_subs):
                e = self.subs[i]
                if e < 0:
                    n = -e - 1
                    rb_put(&out, self.orders_lit.p + lit, n)
                    lit += n
                    continue
                o = &self.c.orders[e]
                rb_put(&out, self.ids.p + self.id_off[e], self.id_len[e])
                rb_ch(&out, 44)
                rb_str(&out, STATUS_TEXT[o.status])
                rb_ch(&out, 44)
                put_units(&out, o.filled, self.rate_step, self.rate_dec)
                rb_ch(&out, 44)
                put_units(&out, o.rate if o.status == 1 else 0, self.rate_step, self.rate_dec)
                rb_ch(&out, 44)
                if o.reason == 12:
                    rb_str(&out, b"self_trade")
                rb_ch(&out, 10)
            return (<char *>out.p)[:out.n] if out.n else b""
        finally:
            free(out.p)


cdef int choose(const char *s, Py_ssize_t n, const char *a, const char *b,
                const char *c):
    """Index of the exact match among a, b, c (NULL: none), -1 if none (replay._choice)."""
    if n == <Py_ssize_t>strlen(a) and memcmp(s, a, n) == 0:
        return 0
    if n == <Py_ssize_t>strlen(b) and memcmp(s, b, n) == 0:
        return 1
    if c != NULL and n == <Py_ssize_t>strlen(c) and memcmp(s, c, n) == 0:
        return 2
    return -1
