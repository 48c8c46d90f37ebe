# The env's feasibility projection for a battery compiled (included by _cexchange.pyx). Issue
# 12: the env step in C. battery_targets is rex_env.envs.feasible.battery_targets — the targets
# clipped so that the battery can follow any fill of every slot — with the same float
# operations in the same order (Battery.stored_change_kwh and rate_for_stored_change inlined,
# Python's min/max/ceil/floor kept to their tie and NaN rules), so the same lots. It returns
# None (the caller runs the Python code, which then decides or raises as it always did) for
# anything but a plain Battery, int positions below 2**53, float or int forecasts, a positive
# int slot length and an order of indices in range, or where a bound is not finite.
# tests/envs/test_feasible_fast.py compares both on Hypothesis cases and whole episodes.

from libc.math cimport ceil, floor, isfinite
from libc.stdlib cimport malloc


cdef double FEASIBLE_EPS = 1e-9  # rex_env.envs.feasible._EPS


cdef inline double stored_change(double rate_kw, double hours, double eta_c, double eta_d):
    """Battery.stored_change_kwh."""
    if rate_kw >= 0.0:
        return rate_kw * hours / eta_d
    return rate_kw * hours * eta_c


cdef inline double rate_for(double change_kwh, double hours, double eta_c, double eta_d):
    """Battery.rate_for_stored_change."""
    if change_kwh >= 0.0:
        return change_kwh * eta_d / hours
    return change_kwh / (hours * eta_c)


def battery_targets(battery, soc_kwh, slot_len, lot_kw, forecast_kw, current, target,
                    order=None, battery_type=None):
    """rex_env.envs.feasible.battery_targets, or None where the Python code must run (see the
    header); ``battery_type``: the physics' Battery class (a subclass may change the model)."""
    cdef Py_ssize_t n, k, j, i, m
    cdef int64_t c, t, p, lots
    cdef double hours, eta_c, eta_d, power, e_min, e_max, lot, soc, u, x, now, room, bound
    cdef double d, v
    cdef int64_t *cur = NULL
    cdef int64_t *tgt = NULL
    cdef double *fc = NULL
    cdef double *rate = NULL
    cdef double *lo = NULL
    cdef double *hi = NULL
    if battery_type is None or type(battery) is not battery_type:
        return None
    if type(slot_len) is not int or slot_len <= 0 or slot_len >= EXACT:
        return None
    if not (type(lot_kw) is float and type(soc_kwh) in (float, int)):
        return None
    if not (type(current) is list and type(target) is list and type(forecast_kw) is list):
        return None
    n = len(current)
    if len(target) != n or len(forecast_kw) != n:
        return None
    terms = (battery.eta_charge, battery.eta_discharge, battery.power_kw,
             battery.min_energy_kwh, battery.max_energy_kwh)
    for v_obj in terms:  # a Fraction or a numpy scalar would compute otherwise
        if type(v_obj) is not float and not (type(v_obj) is int and -EXACT < v_obj < EXACT):
            return None
    eta_c, eta_d, power, e_min, e_max = terms
    hours = <double>(<int64_t>slot_len) / 3600.0
    lot = lot_kw
    soc = soc_kwh
    m = n if n > 0 else 1
    cur = <int64_t *>malloc(m * sizeof(int64_t))
    tgt = <int64_t *>malloc(m * sizeof(int64_t))
    fc = <double *>malloc(m * sizeof(double))
    rate = <double *>malloc(m * sizeof(double))
    lo = <double *>malloc(m * sizeof(double))
    hi = <double *>malloc(m * sizeof(double))
    if not (cur and tgt and fc and rate and lo and hi):
        free(cur); free(tgt); free(fc); free(rate); free(lo); free(hi)
        raise MemoryError()
    try:
        for k in range(n):
            f = forecast_kw[k]
            if not (exact_int(current[k], &cur[k]) and exact_int(target[k], &tgt[k])
                    and (type(f) is float or (type(f) is int and -EXACT < f < EXACT))):
                return None
            fc[k] = f
        if order is None:
            idx = range(n)
        elif type(order) is list or type(order) is tuple:  # (an iterator runs once)
            idx = order
            for o in order:
                if type(o) is not int or not 0 <= o < n:
                    return None
        else:
            return None
        # the stored energy after each slot at the current positions
        v = soc
        for k in range(n):
            rate[k] = -lot * <double>cur[k] - fc[k]
            v -= stored_change(rate[k], hours, eta_c, eta_d)
            lo[k] = v
            hi[k] = v
        out = list(target)
        for i in idx:
            k = i
            c, t, u, x = cur[k], tgt[k], fc[k], rate[k]
            if t == c:
                continue
            now = stored_change(x, hours, eta_c, eta_d)
            if t < c:  # sell more: discharge more in slot k
                bound = lo[k]
                for j in range(k + 1, n):  # min(lo[k:])
                    if lo[j] < bound:
                        bound = lo[j]
                room = bound - e_min
                room = room if room > 0.0 else 0.0
                v = rate_for(now + room, hours, eta_c, eta_d)
                v = v if v < power else power  # min(power, v)
                v = (-v - u) / lot - FEASIBLE_EPS  # _lots_at_most
                if not isfinite(v) or not -EXACT < ceil(v) < EXACT:
                    return None
                lots = <int64_t>ceil(v)
                p = lots if lots > t else t  # max(t, lots)
                p = p if p < c else c  # min(c, p)
                d = stored_change(-lot * <double>p - u, hours, eta_c, eta_d) - now
                for j in range(k, n):
                    lo[j] -= d
            else:  # buy more: charge more in slot k
                bound = hi[k]
                for j in range(k + 1, n):  # max(hi[k:])
                    if hi[j] > bound:
                        bound = hi[j]
                room = e_max - bound
                room = room if room > 0.0 else 0.0
                v = rate_for(now - room, hours, eta_c, eta_d)
                v = v if v > -power else -power  # max(-power, v)
                v = (-v - u) / lot + FEASIBLE_EPS  # _lots_at_least
                if not isfinite(v) or not -EXACT < floor(v) < EXACT:
                    return None
                lots = <int64_t>floor(v)
                p = lots if lots < t else t  # min(t, lots)
                p = p if p > c else c  # max(c, p)
                d = now - stored_change(-lot * <double>p - u, hours, eta_c, eta_d)
                for j in range(k, n):
                    hi[j] += d
            out[k] = p
        return out
    finally:
        free(cur); free(tgt); free(fc); free(rate); free(lo); free(hi)
