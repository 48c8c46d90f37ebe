"""Invariants and state digests of a :class:`~rex_env.exchange.zones.ZonalExchange`."""

from __future__ import annotations

from typing import Any

from rex_env.exchange import Phase
from rex_env.exchange.zones import ZonalExchange


def _slots(zx: ZonalExchange) -> set[int]:
    out: set[int] = set()
    for ex in zx.exchanges.values():
        out.update(ex.books)
    out.update(k for (_, _, k) in zx._flow)
    return out


def check_zonal(zx: ZonalExchange) -> None:
    """Per-zone and system-wide invariants of README "Zones" rules 2 and 4 plus SPEC §5."""
    slots = _slots(zx)
    for z, ex in zx.exchanges.items():
        for slot, book in ex.books.items():
            if book.phase is Phase.CONTINUOUS:
                assert not book.is_crossed(), f"zone {z} slot {slot} crossed"
            book.check()
    for slot in slots:
        total_pos = total_cash = 0
        for z in zx.zones:
            pos = zx.positions(slot, z)
            assert sum(pos.values()) == zx.net_import(z, slot), (z, slot)
            total_pos += sum(pos.values())
            total_cash += sum(zx.notionals(slot, z).values())
        assert total_pos == 0 and total_cash == 0
        for a, b in zx.paths:
            net = zx.net_flow(a, b, slot)
            assert -zx.capacity(b, a, slot) <= net <= zx.capacity(a, b, slot), (a, b, slot)
            assert zx.capacity_left(a, b, slot) >= 0
    # flows equal the cross-zonal trades, direction by direction
    if zx.trade_log is not None:
        seen: dict[tuple[str, str, int], int] = {}
        for t in zx.trade_log:
            if t.buy_zone != t.sell_zone:
                key = (t.sell_zone, t.buy_zone, t.slot)
                seen[key] = seen.get(key, 0) + t.rate
        assert seen == {k: v for k, v in zx._flow.items() if v}
        assert [t.trade_id for t in zx.trade_log] == list(range(1, len(zx.trade_log) + 1))
    # every accepted order is accounted for
    for z in zx.zones:
        ex = zx.exchanges[z]
        for oid in list(ex.orders):
            rec = zx.status(oid, z)
            assert rec.offered == rec.filled + rec.rate + rec.removed, rec
        for oid in zx._parents[z]:
            rec = zx.status(oid, z)
            assert rec.offered == rec.filled + rec.rate + rec.removed, rec


def zonal_digest(zx: ZonalExchange, skip_orders: set[tuple[str, Any]] = frozenset()
                 ) -> tuple:
    """Everything observable: books, orders, positions, cash, flows, capacities, clocks."""
    out: list[Any] = [zx.n_trades, sorted(zx._xclosed), sorted(zx._flow.items()),
                      sorted((p, zx._cap_all[p], sorted(zx._cap_slot[p].items()))
                             for p in zx.paths)]
    for z in zx.zones:
        ex = zx.exchanges[z]
        for slot in sorted(ex.books):
            book = ex.books[slot]
            out.append((z, slot, book.phase, sorted(book.positions.items()),
                        sorted(book.notional.items()),
                        [(o.order_id, o.owner, o.side, o.price, o.rate) for o in book.resting()]))
        out.append((z, sorted((str(k), o.status, o.rate, o.filled) for k, o in
                              ex.orders.items() if (z, k) not in skip_orders
                              and not str(k).startswith("\x1f"))))
        out.append((z, sorted(str(k) for k in zx._parents[z])))
    out.append(sorted(zx._adj_pos.items()))
    return tuple(out)
