"""Reports and trades are freed when the caller drops them (both engines).

The C binding builds its report and trade records in place; a reference count off by one
there leaked every record (≈ 9 MB per `community` day, ≈ 5 GB over one training run) while
the pure-Python engine freed them. ``sys.getrefcount`` of a fresh record is 2 (the name
holding it and the call's argument) when nothing else keeps it.
"""

from __future__ import annotations

import gc
import sys

from rex_env.exchange import Exchange, Side


def _sum_of_live_records() -> int:
    """Reports and trades alive: the collector's tracked ones plus the trades they hold (the
    C engine's trade records hold only ints and strings and are not tracked, as CPython leaves
    such plain tuples: :func:`gc.get_objects` does not list them)."""
    gc.collect()
    found = {id(o): o for o in gc.get_objects() if type(o).__name__ in ("Report", "Trade")}
    for o in list(found.values()):
        if type(o).__name__ == "Report":
            found.update((id(t), t) for t in o.trades)
    return len(found)


def test_a_report_and_its_trades_are_owned_by_the_caller_alone() -> None:
    ex = Exchange(auto_open=True)
    ex.submit(0, "a", "s", Side.SELL, 3, 500, 10)
    rep = ex.submit(1, "b", "b", Side.BUY, 3, 500, 4)
    assert len(rep.trades) == 1
    assert sys.getrefcount(rep) == 2
    trade = rep.trades[0]
    assert sys.getrefcount(trade) == 3  # the name, the argument and the report's list


def test_many_orders_leave_no_records_behind_after_a_reset() -> None:
    ex = Exchange(auto_open=True)
    before = _sum_of_live_records()
    for day in range(3):
        for i in range(2000):
            side = Side.BUY if i % 2 else Side.SELL
            ex.submit(i, f"{day}-{i}", f"o{i % 7}", side, i % 5, 500 + i % 3, 2)
        ex.reset()
    assert _sum_of_live_records() - before < 50


def test_dropped_trades_are_freed_tracked_or_not() -> None:
    """Trades the collector does not track are freed by their reference counts: the memory
    blocks in use return to where they were after many trades and a reset."""
    ex = Exchange(auto_open=True)
    n_trades = 0
    for i in range(200):  # warm up the free lists and the order tables
        ex.submit(i, f"w{i}", f"o{i % 7}", Side.BUY if i % 2 else Side.SELL, i % 5, 500, 2)
    ex.reset()
    gc.collect()
    before = sys.getallocatedblocks()
    for day in range(3):
        for i in range(2000):
            side = Side.BUY if i % 2 else Side.SELL
            n_trades += len(ex.submit(i, f"{day}-{i}", f"o{i % 7}", side, i % 5, 500, 2).trades)
        ex.reset()
    gc.collect()
    assert n_trades > 2500
    assert sys.getallocatedblocks() - before < n_trades / 10


def test_c_trades_of_plain_fields_are_not_tracked(exchange_engine: str) -> None:
    """The C engine leaves the collector out of trades that hold only ints and exact strings
    (they can be in no reference cycle; an episode's trades were most of the objects its full
    collections visited); a trade holding a subclass instance, which may have attributes and so
    be part of a cycle, stays tracked. Either way the record reads the same."""

    class Name(str):
        pass

    ex = Exchange(auto_open=True)
    ex.submit(0, 7, "s", Side.SELL, 3, 500, 10)
    plain = ex.submit(1, "b-1", "b", Side.BUY, 3, 500, 4).trades[0]
    odd = ex.submit(2, 9, Name("n"), Side.BUY, 3, 500, 4).trades[0]
    assert tuple(plain)[1:] == (1, 3, 500, 4, "b-1", 7, "b", "s", "buy")
    assert tuple(odd)[7:9] == ("n", "s") and type(odd.buyer) is Name
    assert gc.is_tracked(odd)
    assert gc.is_tracked(plain) is (exchange_engine == "python")


def test_order_records_outlive_their_exchange(exchange_engine: str) -> None:
    """An order record someone holds reads the same fields after its exchange is reset,
    replaced by a pickled copy, or dropped — and holding records never keeps an exchange
    alive: it is freed when its last user lets go (the C engine's records reach it through a
    borrowed pointer and are frozen when it goes)."""
    import copy as copy_module
    import pickle
    import weakref

    def fields(o: object) -> tuple:
        return tuple(getattr(o, f) for f in (
            "order_id", "owner", "side", "first_slot", "last_slot", "price", "rate", "kind",
            "tif", "time", "seq", "filled", "status", "reason", "offered", "removed"))

    ex = Exchange(auto_open=True)
    resting = ex.submit(0, "a", "s", Side.SELL, 3, 500, 10).order
    filled = ex.submit(1, "b", "b", Side.BUY, 3, 500, 4).order
    live = ex.orders["a"]
    want = [fields(resting), fields(filled)]
    assert live is resting or fields(live) == want[0]
    copy = pickle.loads(pickle.dumps(resting))  # alone: a copy of its exchange comes along
    assert fields(copy) == want[0]
    ref = weakref.ref(ex)
    del ex
    assert ref() is None  # no cycle through the records: freed at once, not by the collector
    assert [fields(resting), fields(filled)] == want
    assert fields(pickle.loads(pickle.dumps(filled))) == want[1]
    if exchange_engine == "c":
        assert not gc.is_tracked(resting)
    ex2 = Exchange(auto_open=True)
    held = ex2.submit(0, 7, "s", Side.SELL, 2, 480, 3).order
    ex2.reset()
    ex2.submit(0, 7, "t", Side.BUY, 2, 490, 5)  # the same id and handle, another order
    assert (held.owner, held.price, held.rate, held.side) == ("s", 480, 3, Side.SELL)
    del ex2
    gc.collect()
    assert fields(copy) == want[0]  # the pickled copy still reads its own exchange
    ex3 = Exchange(auto_open=True)
    ex3.submit(0, 5, "s", Side.SELL, 2, 480, 3)
    twin = copy_module.deepcopy(ex3)
    rec = twin.orders[5]
    del ex3, twin
    gc.collect()
    assert (rec.owner, rec.price, rec.rate, rec.status.value) == ("s", 480, 3, "resting")
