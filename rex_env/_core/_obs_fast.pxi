# The observation's per-slot features compiled (included by _cexchange.pyx): the learners'
# private ones (private_slots) and the public block (public_block, at the end). Issue 12: the env
# step's observation was ≈ 14 % of a `community` env step (py-spy), half of it the private
# part of the per-slot block, built per learner and slot in Python: the position
# (OwnerView.positions), the working order's signed rate and price (OrderSteer.signed_rate,
# which forgets a dead order) and the forecast mean and standard deviation
# (Prosumer.forecast_window: the revision index per slot, clipped, then a gather from the
# prosumer's tables).
#
# private_slots writes those five figures of every learner and window slot into the env's
# float64 arrays: the same IEEE operations on the same inputs (a position times the lot, a
# signed rate times the lot, ``(price - ref) / ref`` on integers a double holds exactly, the
# forecast tables' own doubles), so the same numbers; what the env then computes from them
# (scaling by capacity, clipping, float32) stays its numpy code. It hands back (False: the env
# runs its Python loop, which recomputes every figure) where it cannot replicate the reference:
# a working order that is not a live record of this exchange or has no price, a slot outside a
# prosumer's tables (numpy would wrap a negative index), figures that are not plain ints.
# tests/envs/test_obs_fast.py compares both at every step of whole episodes;
# tests/sim/test_fingerprints.py pins the observations end to end.


def private_slots(CoreExchange ex, list owners, list workings, list forecasts, slots,
                  int64_t now, double lot_kw, int64_t ref, double[:, ::1] pos,
                  double[:, ::1] wr, double[:, ::1] wp, double[:, ::1] fc, double[:, ::1] sd):
    """Fill row ``i`` of ``pos``, ``wr``, ``wp``, ``fc``, ``sd`` (kW, kW, price feature, kW,
    kW) for learner ``i``: ``owners[i]``'s position, its ``OrderSteer.working`` dict
    ``workings[i]``'s order per slot, and its prosumer's forecast tables ``forecasts[i]``
    (``Prosumer.forecast_arrays()``, or ``None`` without assets: zeros) over ``slots`` (a range
    of step 1) at time ``now``. True when every figure is written; False: run the reference."""
    cdef Py_ssize_t i, j, n = len(slots), nl = len(owners)
    cdef int64_t first_slot = slots.start, slot, p, m, row
    cdef int64_t first, phase, slot_len, update_s, revisions
    cdef int32_t o
    cdef const double[:, :] mean
    cdef const double[:, :] std
    cdef rex_order *r
    cdef double dref = <double>ref
    if len(workings) != nl or len(forecasts) != nl or ref == 0 or not -EXACT < ref < EXACT:
        return False
    if (min(pos.shape[0], wr.shape[0], wp.shape[0], fc.shape[0], sd.shape[0]) < nl
            or min(pos.shape[1], wr.shape[1], wp.shape[1], fc.shape[1], sd.shape[1]) < n):
        return False
    for i in range(nl):
        o = ex._owner(owners[i], False)
        working = workings[i]
        if type(working) is not dict:
            return False
        for j in range(n):
            slot = first_slot + j
            pos[i, j] = <double>ex._position(o, slot) * lot_kw
            wr[i, j] = 0.0
            wp[i, j] = 0.0
            slot_o = slot
            w = (<dict>working).get(slot_o)
            if w is None:
                continue
            if type(w) is not COrder or (<COrder>w).frozen is not None \
                    or (<COrder>w).exp is not <PyObject *>ex:
                return False
            r = (<COrder>w).o()
            if r.status != ST_RESTING:
                del (<dict>working)[slot_o]  # OrderSteer.live forgets a dead order
                continue
            if not r.has_price or not -EXACT < r.price - ref < EXACT:
                return False
            wr[i, j] = <double>(r.rate if r.side == 1 else -r.rate) * lot_kw
            wp[i, j] = <double>(r.price - ref) / dref
        tables = forecasts[i]
        if tables is None:
            for j in range(n):
                fc[i, j] = 0.0
                sd[i, j] = 0.0
            continue
        first, phase, slot_len, update_s, revisions, mean, std = tables
        if (update_s == 0 or revisions < 0 or mean.shape[0] != std.shape[0]
                or mean.shape[1] != std.shape[1]):
            return False
        for j in range(n):
            slot = first_slot + j
            m = revision_index(now, phase, slot, slot_len, update_s, revisions)
            row = slot - first
            if not (0 <= row < mean.shape[0] and 0 <= m < mean.shape[1]):
                return False
            fc[i, j] = mean[row, m]
            sd[i, j] = std[row, m]
    return True


# The public per-slot block (rex_env.envs.observation.PublicBlock.fill, the reference): the
# same float64 operations per element as its numpy expressions — ``(x - ref) / ref`` with NaN
# made 0 and ±inf the largest double (np.nan_to_num), ``log1p(depth * lot) / log1p(1000)``,
# the phase code — each rounded once to float32 on the store, as numpy's assignment into the
# float32 array rounds. One call replaces ≈ 20 numpy calls on arrays of a few dozen numbers
# (≈ 75 µs of a `community` step; the C loop takes ≈ 1 µs). log1p is the C library's, which
# is numpy's own on x86-64 builds without AVX-512 (with AVX-512 numpy may use SVML's, at most
# an ulp apart in float64: a float32 feature could differ in its last bit).

from libc.float cimport DBL_MAX
from libc.math cimport isinf, log1p


cdef inline double finite_or_zero(double v) noexcept:
    """np.nan_to_num(v, nan=0.0) for one element."""
    if isnan(v):
        return 0.0
    if isinf(v):
        return DBL_MAX if v > 0 else -DBL_MAX
    return v


cdef inline double price_feature(double x, double ref) noexcept:
    """np.nan_to_num((x - ref) / ref, nan=0.0) for one element."""
    return finite_or_zero((x - ref) / ref)


def public_block(float[:, ::1] values, lob, const double[::1] gate, double ref, double lot_kw,
                 double depth_scale, wholesale=None):
    """``PublicBlock.fill(lob, codes, gate, ref, lot_kw, wholesale)`` into ``values`` (its
    ``(window, per)`` float32 array), the open codes taken from ``lob.phase`` as the env
    computes them (2 -> 1.0, 1 -> 0.5, else 0.0). ``wholesale``: the slots' curve prices in
    ticks (float64), or ``None``. Raises ValueError on arrays of inconsistent sizes."""
    cdef const int8_t[::1] phase = lob.phase
    cdef const double[::1] bb = lob.best_bid
    cdef const double[::1] ba = lob.best_ask
    cdef const double[:, ::1] bd = lob.bid_depth
    cdef const double[:, ::1] ad = lob.ask_depth
    cdef const double[::1] last = lob.last_price
    cdef const double[::1] vwap = lob.vwap
    cdef const double[::1] vol = lob.volume
    cdef const double[::1] whole
    cdef Py_ssize_t n = phase.shape[0], k = bd.shape[1], i, j, per = values.shape[1]
    cdef bint has_whole = wholesale is not None
    cdef int8_t ph
    if has_whole:
        whole = wholesale
        if whole.shape[0] != n:
            raise ValueError(f"wholesale has {whole.shape[0]} prices for {n} slots")
    if (n > values.shape[0] or per < 11 + 2 * k or gate.shape[0] != n
            or bb.shape[0] != n or ba.shape[0] != n or last.shape[0] != n
            or vwap.shape[0] != n or vol.shape[0] != n or bd.shape[0] != n
            or ad.shape[0] != n or ad.shape[1] != k):
        raise ValueError("public_block: the LOB3D, gate and values arrays do not match")
    for i in range(values.shape[0]):
        for j in range(per):
            values[i, j] = 0.0
    for i in range(n):
        ph = phase[i]
        values[i, 0] = <float>(1.0 if ph == 2 else (0.5 if ph == 1 else 0.0))
        values[i, 1] = <float>gate[i]
        values[i, 2] = <float>price_feature(bb[i], ref)
        values[i, 3] = <float>price_feature(ba[i], ref)
        values[i, 4] = 0.0 if isnan(bb[i]) else 1.0
        values[i, 5] = 0.0 if isnan(ba[i]) else 1.0
        values[i, 6] = <float>finite_or_zero((ba[i] - bb[i]) / ref)
        for j in range(k):
            values[i, 7 + j] = <float>(log1p(bd[i, j] * lot_kw) / depth_scale)
            values[i, 7 + k + j] = <float>(log1p(ad[i, j] * lot_kw) / depth_scale)
        values[i, 7 + 2 * k] = <float>price_feature(last[i], ref)
        values[i, 8 + 2 * k] = <float>price_feature(vwap[i], ref)
        values[i, 9 + 2 * k] = <float>(log1p(vol[i] * lot_kw) / depth_scale)
        if has_whole:
            values[i, 10 + 2 * k] = <float>price_feature(whole[i], ref)


def forecast_means(tables, slots, int64_t now):
    """``[float(x) for x in Prosumer.forecast_window(slots, now)[0]]`` from the prosumer's
    ``forecast_arrays()`` (``slots``: a range of step 1), or None where a slot is outside the
    tables (the reference's numpy indexing decides). The env's feasibility projection reads
    the forecasts of every undelivered slot this way."""
    cdef int64_t first, phase, slot_len, update_s, revisions, slot, m, row
    cdef const double[:, :] mean
    cdef Py_ssize_t j, n = len(slots)
    cdef int64_t first_slot = slots.start
    if slots.step != 1:
        return None
    first, phase, slot_len, update_s, revisions, mean, _ = tables
    if update_s == 0 or revisions < 0:
        return None
    out = []
    for j in range(n):
        slot = first_slot + j
        m = revision_index(now, phase, slot, slot_len, update_s, revisions)
        row = slot - first
        if not (0 <= row < mean.shape[0] and 0 <= m < mean.shape[1]):
            return None
        out.append(mean[row, m])
    return out
