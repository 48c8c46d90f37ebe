# The env's box-action handling compiled (included by _cexchange.pyx). Issue 12: checking an
# action (RexParallelEnv._validate: float64, finite, counted and clipped to [-1, 1]) and turning
# it into target positions (RexParallelEnv._decode: ``rint(-forecast / lot + target * reach)``)
# were ≈ 10 numpy calls per learner and step on arrays of a few dozen numbers (≈ 5 % of a
# `community` env step). box_action and box_targets do the same float64 operations per element
# in C. Anything they cannot replicate exactly they hand back (None: the env runs its numpy
# code, which also raises the errors with their messages): an action that is not a 1-D
# float32/float64 array of the right size, a value that is not finite, a target that does not
# fit an int64. tests/envs/test_actions_fast.py compares both on whole episodes and hostile
# values; tests/sim/test_fingerprints.py pins the env's trajectories. note_reports is the step's
# loop over a learner's reports (OrderSteer.note and the rejection count; ≈ 150 a step).


def box_action(action, Py_ssize_t n):
    """``(the action as float64 clipped to [-1, 1], the number of entries clipped)`` for a 1-D
    float32 or float64 ndarray of ``n`` finite numbers, else None (the env's checks decide)."""
    cdef const float[:] a32
    cdef const double[:] a64
    cdef double[::1] dst
    cdef Py_ssize_t i, clipped = 0
    cdef double x
    cdef bint single
    if type(action) is not np.ndarray or action.ndim != 1 or action.shape[0] != n:
        return None
    dt = action.dtype
    if dt == np.float64:
        single = False
        a64 = action
    elif dt == np.float32:
        single = True
        a32 = action
    else:
        return None
    out = np.empty(n)
    dst = out
    for i in range(n):
        x = <double>a32[i] if single else a64[i]
        if not isfinite(x):
            return None
        if x < -1.0:
            x = -1.0
            clipped += 1
        elif x > 1.0:
            x = 1.0
            clipped += 1
        dst[i] = x
    return out, clipped


def box_targets(fc, act, double lot_kw, double reach):
    """``np.rint(-fc / lot_kw + act[0:2n:2] * reach).astype(np.int64).tolist()`` for the ``n``
    forecasts ``fc`` (1-D float64 arrays; ``act`` of ``2 n`` or more entries), or None where
    the arrays are of another kind (numpy's type promotion decides) or a target is not finite
    or beyond 2**62 in magnitude (numpy's cast would not be an exact int)."""
    cdef const double[:] forecast
    cdef const double[:] action
    cdef Py_ssize_t j, n
    cdef double x
    for a in (fc, act):
        if type(a) is not np.ndarray or a.ndim != 1 or a.dtype != np.float64:
            return None
    forecast = fc
    action = act
    n = forecast.shape[0]
    if action.shape[0] < 2 * n:
        return None
    out = []
    for j in range(n):
        x = nearbyint((-forecast[j]) / lot_kw + action[2 * j] * reach)
        if not (-4.611686018427388e18 < x < 4.611686018427388e18):  # also NaN
            return None
        out.append(<int64_t>x)
    return out


def note_reports(list pairs, dict working, dict rejections, resting):
    """``RexParallelEnv.step``'s loop over one learner's ``(instruction, report)`` pairs:
    ``OrderSteer.note(ins, rep.order)`` (a submit whose order rests becomes its slot's working
    order, ``working``) and ``rejections[reason] += 1``, in order, with the C engine's order
    records read in C. ``resting``: ``Status.RESTING``."""
    for pair in pairs:
        ins, rep = pair
        if type(rep) is _Report:
            order = (<tuple>rep)[2]
            reason = (<tuple>rep)[1]
        else:
            order = rep.order
            reason = rep.reason
        slot = resting_slot(order, resting)
        if slot is not None and ins.op == "submit":
            working[slot] = order
        if reason is not None:
            key = reason.value
            rejections[key] = rejections.get(key, 0) + 1
