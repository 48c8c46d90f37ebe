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
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o).__name__ in ("Report", "Trade"))


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
