# A slot's settlement and its booking compiled (included by _cexchange.pyx). Issue 12: with the
# agents' wake-ups compiled, Market._on_settle was ≈ 11 % of a `community` env step (py-spy):
# after the physics, rex_env.sim.settlement.settle_slot (per owner: its position in kW, its
# imbalance, the price rule, one OwnerSettlement record), the deliveries and Ledger.add
# (OwnerAccount.on_settlement per owner: fifteen running sums).
#
# SettleCore.settle is settle_slot then Ledger.add for the market's realised slot: the same
# checks (any that fails hands back: ``None``, nothing changed, and the reference raises its
# error), the same IEEE operations in the same order (a rate as ``lots * n / d`` on integers a
# double holds exactly, the system imbalance by math.fsum itself, the prices by
# imbalance_prices itself, Python's max/min rules including a signed zero) and the same
# records, built by the record classes themselves; then each account's sums grow as
# on_settlement and Ledger.add grow them (the deliveries' energies computed as Market does:
# a rate times the slot's hours). tests/sim/test_settle_fast.py compares the settlements and
# accounts with the reference after every slot of whole days over the settlement modes;
# tests/sim/test_fingerprints.py pins them.

import math as _math

cdef object FSUM = _math.fsum


from cpython.object cimport PyObject_GenericSetAttr
import dataclasses


def frozen_slot_fields(cls):
    """The field names of ``cls`` when it is a frozen dataclass with ``__slots__`` whose
    ``__init__`` is the generated one (it only sets each field in order: ``new_frozen`` does
    the same without the Python frame), else None (the class is called)."""
    if not (dataclasses.is_dataclass(cls) and isinstance(cls, type)):
        return None
    params = cls.__dataclass_params__
    init = cls.__dict__.get("__init__")
    names = tuple(f.name for f in dataclasses.fields(cls))
    if (not params.frozen or not params.init or "__post_init__" in dir(cls)
            or tuple(cls.__dict__.get("__slots__", ())) != names
            or getattr(getattr(init, "__code__", None), "co_qualname", "")
            != "__create_fn__.<locals>.__init__"
            or cls.__new__ is not object.__new__):
        return None
    if any(f.init is False or f.kw_only for f in dataclasses.fields(cls)):
        return None
    return names


cdef object new_frozen(object cls, tuple names, tuple values):
    """``cls(*values)`` for a class ``frozen_slot_fields`` accepts: each slot set as the
    generated ``__init__`` sets it (``object.__setattr__``), in the same order."""
    obj = cls.__new__(cls)
    for i in range(len(names)):
        PyObject_GenericSetAttr(obj, names[i], values[i])
    return obj


cdef class SettleCore:
    """``settle_slot`` + ``Ledger.add`` of one market (see the comment at the top of
    ``_settle_fast.pxi``). Built with the record classes and the price rule (the core imports
    nothing above the exchange) and the market's grid and settlement config."""

    cdef object owner_cls, slot_cls, account_cls, prices, config
    cdef tuple owner_fields  # the record's slot names in __init__'s order, or None
    cdef int64_t lot_n, lot_d
    cdef double hours, cash_unit, voll
    cdef int mode
    cdef object mode_s

    def __init__(self, owner_cls, slot_cls, account_cls, prices, grid, config):
        """``owner_cls``, ``slot_cls``, ``account_cls``: ``OwnerSettlement``,
        ``SlotSettlement`` and ``OwnerAccount``; ``prices``: ``imbalance_prices``."""
        self.owner_cls, self.slot_cls, self.prices = owner_cls, slot_cls, prices
        self.account_cls = account_cls
        self.owner_fields = frozen_slot_fields(owner_cls)
        self.config = config
        self.lot_n, self.lot_d = grid._lot_nd
        self.hours = grid.slot_len / 3600.0
        self.cash_unit = grid.cash_per_unit
        self.mode_s = config.mode
        code = SETTLE_CODES.get(config.mode)
        self.mode = -1 if code is None else code  # -1: always the reference
        if not plain_number(config.voll, &self.voll) or self.lot_d >= <int64_t>EXACT:
            self.mode = -1

    cdef inline double rate(self, int64_t lots):
        """Grid.rate: ``lots * n / d`` (int true division, exact operands)."""
        return <double>(lots * self.lot_n) / <double>self.lot_d

    def settle(self, ledger, int64_t slot, dict positions, dict notional, dict realized, vwap,
               high, low, retail, feed_in):
        """Settle ``slot`` and book it in ``ledger`` (the market's ``Ledger``: its caller checks
        that it is a plain one; ``realized``: owner -> the physics' ``Realized``; ``retail``,
        ``feed_in``: the slot's grid prices, floats); the ``SlotSettlement``, or ``None``: run
        the reference (nothing changed)."""
        cdef int64_t total = 0, v, lots, cash_n
        cdef double tol, dv, dh, dl, hours = self.hours, e, price, unserved, spilled
        cdef double p_short, p_surplus, ref_p, pk, act, dretail, dfeed
        cdef Py_ssize_t i, n
        if self.mode < 0 or slot in ledger.slots:
            return None
        if not (type(retail) is float and type(feed_in) is float):
            return None
        dretail, dfeed = retail, feed_in
        for val in positions.values():
            if not exact_int(val, &v) or not -EXACT < <double>v * <double>self.lot_n < EXACT:
                return None
            total += v
        if total != 0:
            return None
        total = 0
        for val in notional.values():
            if not exact_int(val, &v):
                return None
            total += v
        if total != 0:
            return None
        if vwap is None or high is None or low is None:
            if not (vwap is None and high is None and low is None):
                return None
            for val in positions.values():
                if val:
                    return None
        else:
            if not (type(vwap) is float and type(high) is float and type(low) is float):
                return None
            dv, dh, dl = vwap, high, low
            if not (isfinite(dv) and isfinite(dh) and isfinite(dl)):
                return None
            tol = 1e-9 * max(1.0, fabs(dh), fabs(dl))
            if not (dl - tol <= dv <= dh + tol):
                return None
        owners = list(dict.fromkeys([*positions, *realized]))
        n = len(owners)
        accounts = ledger.accounts
        for o in owners:  # on_settlement is OwnerAccount's own (a subclass's: the reference)
            a = accounts.get(o)
            if a is not None and type(a) is not self.account_cls:
                return None
        pos_kw = []
        acts = []
        imb = []
        for i in range(n):
            o = owners[i]
            exact_int(positions.get(o, 0), &lots)
            pk = self.rate(lots)
            r = realized.get(o)
            act = 0.0
            if r is not None:
                # the physics' floats (another type would give other types in the sums)
                if not (type(r.net_kw) is float and type(r.consumption_kw) is float
                        and type(r.production_kw) is float
                        and type(r.production_cost) is float):
                    return None
                act = r.net_kw
                if not isfinite(act):
                    return None
            pos_kw.append(pk)
            acts.append(act)
            imb.append((act + pk) * hours)
        system = FSUM(imb)
        ref_o, short_o, surplus_o = self.prices(system, vwap, high, low, self.config)
        if not (type(short_o) is float and type(surplus_o) is float and type(ref_o) is float):
            return None
        p_short, p_surplus, ref_p = short_o, surplus_o, ref_o
        # the records, then the booking (nothing booked before every record is made)
        owner_cls = self.owner_cls
        records = {}
        for i in range(n):
            o = owners[i]
            e = imb[i]
            unserved = spilled = 0.0
            if self.mode == SETTLE_CURTAIL:
                price = 0.0
                unserved = 0.0 if 0.0 > -e else -e  # max(-e, 0.0)
                spilled = 0.0 if 0.0 > e else e     # max(e, 0.0)
            elif e < 0:
                price = p_short
            elif e > 0:
                price = p_surplus
            else:
                price = p_short if self.mode == SETTLE_SINGLE else ref_p
            exact_int(notional.get(o, 0), &cash_n)
            pk = pos_kw[i]
            values = (slot, o, pk, 0.0 - pk, <double>acts[i], e,
                      <double>cash_n * self.cash_unit, price * e / 1000.0,
                      unserved, self.voll * unserved / 1000.0, spilled, price, hours)
            records[o] = (owner_cls(*values) if self.owner_fields is None
                          else new_frozen(owner_cls, self.owner_fields, values))
        res = self.slot_cls(slot, self.mode_s, records, system, ref_o, short_o, surplus_o,
                            vwap, high, low)
        self.book(ledger, res, records, realized, dretail, dfeed)
        return res

    cdef int book(self, ledger, res, dict records, dict realized, double retail,
                  double feed_in) except -1:
        """Ledger.add: the settlement recorded, each record booked (on_settlement)."""
        cdef double hours = self.hours, cons, prod, unserved
        ledger.slots[res.slot] = res
        cash_at_fill = ledger.cash_at_fill
        for o, rec in records.items():
            acct = ledger.account(o)
            d = acct.__dict__
            d["n_slots"] = d["n_slots"] + 1
            d["imbalance_cash"] = d["imbalance_cash"] + rec.imbalance_cash
            d["unserved_cost"] = d["unserved_cost"] + rec.unserved_cost
            d["reserved_kwh"] = d["reserved_kwh"] + rec.reserved_kw * rec.hours
            d["actual_kwh"] = d["actual_kwh"] + rec.actual_kw * rec.hours
            d["imbalance_net_kwh"] = d["imbalance_net_kwh"] + rec.imbalance_kwh
            d["imbalance_volume_kwh"] = d["imbalance_volume_kwh"] + abs(rec.imbalance_kwh)
            d["position_kwh"] = d["position_kwh"] + abs(rec.position_kw) * rec.hours
            d["unserved_kwh"] = d["unserved_kwh"] + rec.unserved_kwh
            d["spilled_kwh"] = d["spilled_kwh"] + rec.spilled_kwh
            r = realized.get(o)
            if r is not None:
                cons = <double>r.consumption_kw * hours
                prod = <double>r.production_kw * hours
                d["consumption_kwh"] = d["consumption_kwh"] + cons
                d["production_kwh"] = d["production_kwh"] + prod
                unserved = rec.unserved_kwh
                # served_consumption_value: (cons - min(unserved, cons)) * retail / 1000
                d["consumption_value"] = d["consumption_value"] + (
                    cons - (cons if cons < unserved else unserved)) * retail / 1000
                d["production_cost"] = d["production_cost"] + r.production_cost
                d["no_market_cash"] = d["no_market_cash"] + (prod * feed_in
                                                             - cons * retail) / 1000
            if not cash_at_fill:
                d["trade_cash"] = d["trade_cash"] + rec.trade_cash
        return 0
