"""Hypothesis streams over a three-zone exchange: per-zone and system-wide invariants.

After every instruction (``check_zonal``): no zone's continuous book is crossed; per zone and
slot the positions sum to the net import; positions and cash sum to zero system-wide; the net
flow of every path stays within ``[-cap(back), cap(forth)]`` (capacity never exceeded); flows
equal the cross-zonal trades; every order is accounted for. After every accepted order that
rests, no zone it could reach still holds another owner's order within its limit (the coupling
leaves nothing matchable behind). And the two engines give the same reports.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, note, settings
from hypothesis import strategies as st

from rex_env import _core
from rex_env.exchange import Exchange, Phase, PythonExchange, Side, Status
from rex_env.exchange.zones import ZonalExchange

from .zone_helpers import check_zonal

ZONES = ("A", "B", "C")
OWNERS = ("u", "v", "w", "x")
PATHS = [("A", "B"), ("B", "A"), ("B", "C"), ("C", "A")]
TYPES = [("limit", "gtc")] * 8 + [("limit", "ioc"), ("limit", "fok"), ("market", "ioc"),
                                  ("market", "fok")]


@st.composite
def capacities(draw: Any) -> dict:
    caps: dict = {}
    for p in PATHS:
        kind = draw(st.sampled_from(["none", "all", "all", "slot"]))
        if kind == "all":
            caps[p] = draw(st.integers(0, 12))
        elif kind == "slot":
            caps[p] = {0: draw(st.integers(0, 12)), 1: draw(st.integers(0, 12))}
    return caps


@st.composite
def events(draw: Any) -> list[tuple]:
    out: list[tuple] = []
    n = draw(st.integers(1, 60))
    for i in range(n):
        op = draw(st.sampled_from(["submit"] * 10 + ["cancel", "modify", "xclose", "cap",
                                                     "auction", "cross"]))
        slot = draw(st.integers(0, 1))
        zone = draw(st.sampled_from(ZONES))
        if op == "submit":
            kind, tif = draw(st.sampled_from(TYPES))
            price = None if kind == "market" else draw(st.integers(95, 105))
            last = slot + 1 if draw(st.integers(0, 15)) == 0 else slot
            out.append(("submit", i, f"o{i}", draw(st.sampled_from(OWNERS)),
                        draw(st.sampled_from(["buy", "sell"])), slot, price,
                        draw(st.integers(1, 8)), kind, tif, last, zone, None))
        elif op == "cross":
            out.append(("submit", i, f"o{i}", draw(st.sampled_from(OWNERS)),
                        draw(st.sampled_from(["buy", "sell"])), slot, draw(st.integers(95, 105)),
                        draw(st.integers(1, 8)), "limit", draw(st.sampled_from(["ioc", "fok"])),
                        slot, zone, draw(st.sampled_from(ZONES))))
        elif op in ("cancel", "modify"):
            j = draw(st.integers(0, max(0, i - 1)))
            out.append((op, i, f"o{j}", draw(st.sampled_from(OWNERS)), zone,
                        draw(st.integers(95, 105)), draw(st.integers(1, 8))))
        elif op == "xclose":
            out.append(("xclose", i, slot))
        elif op == "cap":
            a, b = draw(st.sampled_from([(x, y) for x in ZONES for y in ZONES]))
            out.append(("cap", a, b, draw(st.integers(-1, 12)),
                        draw(st.sampled_from([None, 0, 1]))))
        else:
            out.append(("auction", i, slot, zone))
    return out


def reachable_leftover(zx: ZonalExchange, rep: Any, zone: str) -> list[tuple]:
    """Other owners' orders a resting incoming order could still trade with across zones."""
    o = rep.order
    side = o.side
    opp = Side.SELL if side is Side.BUY else Side.BUY
    left = []
    if o.first_slot in zx._xclosed or zx.exchanges[zone].phase(o.first_slot) is not \
            Phase.CONTINUOUS:
        return left  # no coupling: cross-zonal gate closed, or the order rests in a call phase
    for y in zx._links[zone]:
        cap = zx._reach(zone, y, side, o.first_slot)
        if cap <= 0 or zx.exchanges[y].phase(o.first_slot) is not Phase.CONTINUOUS:
            continue
        head = zx._head(y, o.first_slot, opp, o.owner, o.price)
        if head is not None:
            left.append((y, head[0]))
    return left


def run(engine: type, caps: dict, stream: list[tuple], check: bool = True) -> list[tuple]:
    zx = ZonalExchange(list(ZONES), caps, auto_open=True, engine=engine)
    zx.keep_trades()
    out: list[tuple] = []
    for ev in stream:
        note(repr(ev))
        op = ev[0]
        coupled = False
        if op == "submit":
            _, t, oid, owner, side, slot, price, rate, kind, tif, last, zone, mz = ev
            coupled = last == slot and mz is None
            rep = zx.submit(t, oid, owner, side, slot, price, rate, kind, tif, last, zone=zone,
                            match_zone=mz)
        elif op == "cancel":
            rep = zx.cancel(ev[1], ev[2], ev[3], zone=ev[4])
        elif op == "modify":
            rep = zx.modify(ev[1], ev[2], ev[3], price=ev[5], rate=ev[6], zone=ev[4])
            coupled = True
        elif op == "xclose":
            rep = zx.close_cross(ev[2], ev[1])
        elif op == "cap":
            rep = zx.set_capacity(ev[1], ev[2], ev[3], ev[4])
        else:
            _, t, slot, zone = ev
            if zx.exchanges[zone].phase(slot) is Phase.CALL:
                rep = zx.uncross(slot, t, 100, zone=zone)
            else:
                rep = zx.open_auction(slot, t, zone=zone)
        o = rep.order
        out.append((rep.status, rep.reason,
                    None if o is None else (o.status, o.filled, o.rate, o.removed),
                    [tuple(x) for x in rep.trades],
                    [x.order_id for x in rep.self_trade_cancelled]))
        if check:
            check_zonal(zx)
            if coupled and rep.status is Status.RESTING and o.kind.value == "limit":
                home = ev[11] if op == "submit" else ev[4]
                assert reachable_leftover(zx, rep, home) == [], ev
            for tr in rep.trades:  # the opening auction applies no STP (SPEC §5)
                assert tr.buyer != tr.seller or tr.aggressor == "auction"
    if check:
        for z in ZONES:
            assert sum(zx.position(o, s, z) for o in OWNERS for s in (0, 1)) == sum(
                zx.net_import(z, s) for s in (0, 1))
    return out


@settings(max_examples=100, deadline=None)
@given(capacities(), events())
def test_zonal_streams_keep_every_invariant(caps: dict, stream: list[tuple]) -> None:
    run(Exchange, caps, stream)


@settings(max_examples=40, deadline=None)
@given(capacities(), events())
def test_both_engines_give_the_same_zonal_reports(caps: dict, stream: list[tuple]) -> None:
    if not _core.AVAILABLE:
        return
    assert run(PythonExchange, caps, stream, check=False) == run(_core.Exchange, caps, stream,
                                                                 check=False)
