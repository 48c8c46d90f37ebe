"""Replay with zones (README "Zones"): a ``zone`` column, ``zone``/``capacity``/``xclose`` rows.

A file without a ``zone`` column replays exactly as before (``tests/test_replay.py``); these
files run the zonal exchange in process on both engines, and once through the command line.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

from rex_env import _core
from rex_env.exchange import PythonExchange
from rex_env.exchange.zones import ZonalExchange
from rex_env.replay import Replayer, read_rows, write_orders, write_trades

HEADER = "time,op,order_id,owner,side,first_slot,last_slot,price,rate,kind,tif,zone,to_zone\n"
DECLARE = ("0,zone,,,,,,,,,,rural,\n"
           "0,zone,,,,,,,,,,town,\n"
           "0,capacity,,,,,,,0.5,,,rural,town\n")


def replay(body: str, engine: type, header: str = HEADER) -> tuple[str, str, list]:
    rp = Replayer(zonal=True)
    rp.exchange = ZonalExchange([], {}, rp.grid, auto_open=True, engine=engine)
    rp.result.trades = rp.exchange.keep_trades()
    res = rp.run(read_rows(io.StringIO(header + body)))
    t, o = io.StringIO(), io.StringIO()
    write_trades(res.trades, res.grid, t, zonal=True)
    write_orders(res.submits, res.grid, o, zonal=True)
    return t.getvalue(), o.getvalue(), [(r.line, r.op, str(r.reason)) for r in res.rejections]


ENGINES = [PythonExchange] + ([_core.Exchange] if _core.AVAILABLE else [])


@pytest.mark.parametrize("engine", ENGINES)
def test_a_capacity_limited_cross_zonal_match(engine: type) -> None:
    t, o, rej = replay(DECLARE + "1,submit,s1,wind,sell,0,,30,1,limit,gtc,rural,\n"
                                 "2,submit,b1,home,buy,0,,80,0.8,limit,gtc,town,\n", engine)
    assert rej == []
    assert t.splitlines() == [
        "trade_id,time,slot,price,rate,buy_order_id,sell_order_id,buyer,seller,aggressor,zone,"
        "buy_zone,sell_zone",
        "1,2,0,30.0,0.5,b1,s1,home,wind,buy,rural,town,rural"]
    assert o.splitlines()[1:] == ["s1,resting,0.5,0.5,,rural", "b1,resting,0.5,0.3,,town"]


@pytest.mark.parametrize("engine", ENGINES)
def test_per_slot_capacity_and_cross_zonal_gate_rows(engine: type) -> None:
    body = ("0,zone,,,,,,,,,,a,\n0,zone,,,,,,,,,,b,\n"
            "0,capacity,,,,1,2,,0.2,,,a,b\n"
            "1,submit,s1,x,sell,1,,30,1,limit,gtc,a,\n"
            "1,submit,s2,x,sell,3,,30,1,limit,gtc,a,\n"
            "2,xclose,,,,2,,,,,,,\n"
            "3,submit,b1,y,buy,1,,40,1,limit,ioc,b,\n"
            "3,submit,b3,y,buy,3,,40,1,limit,ioc,b,\n")
    t, o, rej = replay(body, engine)
    assert rej == []
    assert [r.split(",")[4] for r in t.splitlines()[1:]] == ["0.2"]  # slot 3: no capacity


@pytest.mark.parametrize("engine", ENGINES)
def test_bad_zone_rows_are_rejected_and_the_replay_goes_on(engine: type) -> None:
    body = (DECLARE
            + "1,zone,,,,,,,,,,rural,\n"                          # already declared
            + "1,capacity,,,,,,,0.5,,,rural,nowhere\n"            # path to a missing zone
            + "1,capacity,,,,,,,-0.5,,,rural,town\n"              # negative
            + "1,capacity,,,,,,,0.05,,,rural,town\n"              # off the lot grid
            + "1,capacity,,,,,,,0.5,,,town,town\n"                # to itself
            + "1,submit,o1,a,buy,0,,30,1,limit,gtc,mars,\n"        # unknown zone
            + "1,submit,o2,a,buy,0,,30,1,limit,gtc,,\n"            # no zone
            + "1,submit,o3,a,buy,0,,30,1,limit,gtc,town,\n"
            + "1,capacity,,,,,,,0,,,town,rural\n")                # fine: a reverse path
    t, o, rej = replay(body, engine)
    assert rej == [(5, "zone", "bad_field"), (6, "capacity", "unknown_zone"),
                   (7, "capacity", "bad_field"), (8, "capacity", "bad_field"),
                   (9, "capacity", "bad_field"), (10, "submit", "unknown_zone"),
                   (11, "submit", "unknown_zone")]
    assert o.splitlines()[1:] == ["o1,rejected,0.0,0.0,unknown_zone,mars",
                                  "o2,rejected,0.0,0.0,unknown_zone,",
                                  "o3,resting,0.0,1.0,,town"]


def test_the_command_line_detects_the_zone_column(tmp_path: Path) -> None:
    events = tmp_path / "events.csv"
    events.write_text(HEADER + DECLARE + "1,submit,s1,wind,sell,0,,30,1,limit,gtc,rural,\n"
                      "2,submit,b1,home,buy,0,,80,0.8,limit,gtc,town,\n")
    out = tmp_path / "trades.csv"
    proc = subprocess.run([sys.executable, "-m", "rex_env.replay", str(events), "--out",
                           str(out)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    with open(out) as f:
        rows = list(csv.DictReader(f))
    assert [(r["zone"], r["buy_zone"], r["sell_zone"], r["rate"]) for r in rows] == [
        ("rural", "town", "rural", "0.5")]
