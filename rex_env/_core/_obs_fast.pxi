# The learners' private slot features compiled (included by _cexchange.pyx). Issue 12: the env
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
                    or (<COrder>w).ex is not ex:
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
        if update_s == 0 or mean.shape[0] != std.shape[0] or mean.shape[1] != std.shape[1]:
            return False
        for j in range(n):
            slot = first_slot + j
            m = -((now + phase - slot * slot_len) // update_s)
            if m < 0:
                m = 0
            if m > revisions:
                m = revisions
            row = slot - first
            if not (0 <= row < mean.shape[0] and 0 <= m < mean.shape[1]):
                return False
            fc[i, j] = mean[row, m]
            sd[i, j] = std[row, m]
    return True
