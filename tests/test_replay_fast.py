"""The replay fast path against the per-row code, byte for byte (issue 12).

``python -m rex_env.replay`` on the C engine reads clean lines in C (``FastReplay``); every
other line goes through the per-row code. Each input here is replayed three ways in-process —
the fast path, the per-row code on the C engine (``replay.FAST = False``) and the per-row code
on the pure-Python engine — and TRADES.csv, ORDERS.csv, standard error and the exit code must
be equal byte for byte. Inputs: the hostile files of tests/test_replay.py and the hostile-case
suite, the benchmark's streams, the property tests' instruction streams, files larger than the
read buffer with hostile lines at its edges, and a Hypothesis strategy mixing clean and hostile
rows (quotes, line breaks in fields, non-UTF-8 bytes, non-ASCII digits, over-long fields and
numbers, extra and missing fields, blank lines, CR LF and lone CR, a BOM, odd grids).
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rex_env import _core, replay
from rex_env.exchange import PythonExchange

pytestmark = pytest.mark.skipif(not _core.AVAILABLE and os.environ.get("REX_ENGINE") != "c",
                                reason=f"C core not built: {_core.IMPORT_ERROR}")

CExchange = getattr(_core, "Exchange", None)
HEADER = b"time,op,order_id,owner,side,first_slot,last_slot,price,rate,kind,tif\n"
SELL = b"0,submit,s,amy,sell,0,,51,1,limit,gtc\n"
GOOD = b"5,submit,ok,bob,buy,0,,51,1,limit,gtc\n"


def replay_once(tmp: Path, events: Path, engine: Any, fast: bool, extra: tuple[str, ...]
                ) -> tuple[int, bytes | None, bytes | None, str, bool]:
    trades, orders = tmp / "t.csv", tmp / "o.csv"
    for p in (trades, orders):
        p.unlink(missing_ok=True)
    err = io.StringIO()
    used: list[bool] = []
    original = replay.fast_replay

    def spy(*args: Any) -> Any:
        got = original(*args)
        used.append(got is not None)
        return got

    with mock.patch.object(replay, "Exchange", engine), mock.patch.object(replay, "FAST", fast), \
            mock.patch.object(replay, "fast_replay", spy), contextlib.redirect_stderr(err):
        code = replay.main([str(events), "--out", str(trades), "--orders", str(orders), *extra])
    return (code, trades.read_bytes() if trades.exists() else None,
            orders.read_bytes() if orders.exists() else None, err.getvalue(), any(used))


def check(tmp: Path, data: bytes, *extra: str, python: bool = True, fast: bool | None = True,
          name: str = "events.csv") -> tuple:
    """Replay ``data`` on every path and assert equal outputs; ``fast``: whether the fast path
    must have been taken (None: either)."""
    events = tmp / name
    events.write_bytes(data)
    got = replay_once(tmp, events, CExchange, True, extra)
    ref = replay_once(tmp, events, CExchange, False, extra)
    assert got[:4] == ref[:4]
    assert not ref[4]
    if fast is not None:
        assert got[4] is fast
    if python:
        assert replay_once(tmp, events, PythonExchange, True, extra)[:4] == ref[:4]
    return got


# -- hostile files (tests/test_replay.py, tests/fuzz/hostile_cases.py) ------------------------
FORGED = "x\nevents.csv: line 99: submit rejected bad_field: forged\r\u2028"
HOSTILE = {
    "5000-digit time": HEADER + SELL + b"9" * 5000 + b",submit,x,b,buy,0,,51,1,limit,gtc\n" + GOOD,
    "5000-digit slot": HEADER + SELL + b"1,submit,x,b,buy," + b"9" * 5000 + b",,51,1,limit,gtc\n"
    + GOOD,
    "5000-digit rate": HEADER + SELL + b"1,submit,x,b,sell,0,,51," + b"9" * 5000
    + b",limit,gtc\n" + GOOD,
    "41-char price": HEADER + SELL + b"1,submit,x,bob,buy,0,," + b"0" * 39 + b"51,1,limit,gtc\n"
    + GOOD.replace(b",51,", b"," + b"0" * 38 + b"51,"),
    "arabic digits": HEADER + SELL + "1,submit,x,b,buy,0,,١٢٣,1,limit,gtc\n".encode() + GOOD,
    "fullwidth time": HEADER + SELL + "５,submit,x,b,buy,0,,51,1,limit,gtc\n".encode() + GOOD,
    "quoted field over the csv limit": HEADER + SELL + b'1,submit,"'
    + b"\n".join([b"y" * 70] * 2000) + b'",bob,buy,0,,51,1,limit,gtc\n' + GOOD,
    "line of 300k": HEADER + SELL + b"1,submit,x,bob,buy,0,,51,1,limit,gtc," + b"z" * 300_000
    + b"\n" + GOOD,
    "field of 1025": HEADER + SELL + b"1,submit,x," + b"b" * 1025 + b",buy,0,,51,1,limit,gtc\n"
    + GOOD,
    "invalid utf-8 owner": HEADER + SELL + b"1,submit,x,bob\xff\xfe,buy,0,,51,1,limit,gtc\n" + GOOD,
    "invalid utf-8 op": HEADER + SELL + b"1,submit\xff,x,bob,buy,0,,51,1,limit,gtc\n" + GOOD,
    "invalid utf-8 id": HEADER + SELL + b"1,submit,x\xff,bob,buy,0,,51,1,limit,gtc\n" + GOOD,
    "bom": b"\xef\xbb\xbf" + HEADER + SELL + GOOD,
    "extra field": HEADER + SELL + b"1,submit,x,bob,buy,0,,51,1,limit,gtc,surprise\n" + GOOD,
    "short rows": HEADER + SELL + b"1,cancel,s\n1,cancel\n1\n" + GOOD,
    "forged report": HEADER + SELL + f'1,"{FORGED}",x,bob,buy,0,,51,1,limit,gtc\n'.encode()
    + f'1,submit,x,bob,"buy{FORGED}",0,,51,1,limit,gtc\n'.encode() + GOOD,
    "huge valid rate": HEADER + b"0,submit,big,amy,sell,0,,51,100000000000,limit,gtc\n"
    + b"1,submit,over,amy,sell,0,,51,100000000000.1,limit,gtc\n" + GOOD,
    "billion-slot block": HEADER + b"0,submit,b,a,buy,0,1000000000,100,1,limit,gtc\n",
    "quoted ids trade with clean ones": HEADER + b'0,submit,"a,1",amy,sell,0,,51,1,limit,gtc\n'
    + b'0,submit,"q""x",\xc3\xa9ve,sell,0,,51,1,limit,gtc\n'
    + b"1,submit,b,bob,buy,0,,52,3,limit,gtc\n1,cancel,q\"x,\xc3\xa9ve,,,,,,,\n"
    + b'2,cancel,"a,1",amy,,,,,,,\n2,submit,"a,1",bob,buy,0,,40,1,limit,gtc\n',
    "ids and owners from the per-row code used by C rows": HEADER
    + b'0,submit,pid,zed,sell,0,,51,1,"limit",gtc\n0,submit,p2,zed,sell,0,,52,2,limit,"gtc"\n'
    + b"1,cancel,pid,zed,,,,,,,\n1,submit,pid,bob,buy,0,,60,1,limit,gtc\n"
    + b"1,modify,p2,zed,,,,52,1,,\n2,submit,b2,bob,buy,0,,60,5,limit,gtc\n"
    + b"3,submit,b3,zed,buy,0,,60,1,limit,gtc\n3,cancel,b2,bob,,,,,,,\n",
    "lifecycle rows": HEADER + b"0,uncross,,,,1,,50,,,\n0,open_auction,,,,1,,,,,\n"
    + b"1,submit,a,alice,sell,1,,51,1,limit,gtc\n1,submit,b,bob,buy,1,,52,1,limit,gtc\n"
    + b"2,uncross,,,,1,,51.5,,,\n3,modify,b,bob,,,,53,2,,\n4,submit,c,eve,sell,1,,50,5,limit,fok\n"
    + b"4,submit,c2,eve,sell,1,,50,1,limit,ioc\n5,close,,,,1,,,,,\n6,submit,d,bob,buy,1,,52,1,"
    + b"limit,gtc\n6,submit,e,bob,buy,-1,,52,1,limit,gtc\n",
    "odd values": HEADER + SELL + b"1,submit,a, bob,buy, 0 ,,+51.00,01.0,limit,gtc\n"
    + b"1,submit,b,bob,buy,0,,51.,.5,limit,gtc\n1,submit,c,bob,buy,0,,-0,1,limit,gtc\n"
    + b"1,submit,d,bob,buy,0,,51,0,limit,gtc\n1,submit,e,bob,buy,0,,51,-1,limit,gtc\n"
    + b"1,submit,f,bob,buy,0,,1e2,1,limit,gtc\n1,submit,g,bob,buy,0,,51.05,1,limit,gtc\n"
    + b"1,submit,h,bob,buy,0,,99999,1,limit,gtc\n1,submit,i,bob,buy,0,,51,0.01,limit,gtc\n"
    + b"1,submit,j,bob,buy,0,,51,1,limit,gtc\n1,submit,j,bob,buy,0,,51,1,limit,gtc\n"
    + b"0,submit,k,bob,buy,0,,51,1,limit,gtc\n1,submit,l,bob,buy,0,,,1,limit,gtc\n"
    + b"1,submit,m,bob,buy,0,,51,1,market,ioc\n1,submit,n,,buy,0,,51,1,limit,gtc\n"
    + b"1,submit,,bob,buy,0,,51,1,limit,gtc\n1,submit,o,bob,buy,0,,51,,limit,gtc\n"
    + b"1,cancel,nope,bob,,,,,,,\n1,cancel,j,eve,,,,,,,\n1,cancel,o'k,b\\b,,,,,,,\n"
    + b"1,modify,j,bob,,,,51.05,,,\n1,modify,j,bob,,,,,0,,\n1,modify,j,bob,,,,,,,\n"
    + b"1,modify,nope,bob,,,,52,,,\n1,modify,j,bob,,,,52,5,,\n1,modify,j,bob,,,,x,,,\n"
    + b"1,modify,j,bob,,,,,-3,,\n1,modify,j,bob,,,,99999,,,\n0,modify,j,bob,,,,50,,,\n"
    + b"1,modify,j,bob,,,,,1000000000001,,\n1,submit,sj,amy,sell,0,,52,9,limit,gtc\n"
    + b"2,modify,j,bob,,,,53,7,,\n"
    + b"-1,cancel,j,bob,,,,,,,\n1, cancel,j,bob,,,,,,,\n1,submit,p,bob,buy,9999999999999,,51,1,"
    + b"limit,gtc\n1,submit,q,bob,buy,0,,51,1000000000001,limit,gtc\n"
    + b"99999999999999999999,submit,r,bob,buy,0,,51,1,limit,gtc\n"
    + b"4611686018427387905,submit,s2,bob,buy,0,,51,1,limit,gtc\n"
    + b"1,submit,t,bob,buy,0,,51.000000000000000000000000000000000000,1,limit,gtc\n"
    + b"1,submit,u,bob,buy,0,,51,0.10000000000000000000000001,limit,gtc\n"
    + b"1,submit,v,bob,sell,0,,-9999,1,limit,gtc\n1,submit,w,bob,sell,0,,-10000,1,limit,gtc\n"
    + b"1,submit,x,bob,sell,0,,0.0000000000000000000000000000000000001,1,limit,gtc\n"
    + b"1,submit," + b"i" * 1024 + b",bob,sell,0,,51,1,limit,gtc\n"
    + b"1,cancel," + b"i" * 1024 + b"," + b"o" * 300 + b",,,,,,,\n" + GOOD,
    "blank lines and line ends": HEADER + b"\n\r\n" + SELL.replace(b"\n", b"\r\n") + b" \n,\n"
    + b"1,submit,x,bob,buy,0,,50,1,limit,gtc\r" + b"2,cancel,x,bob,,,,,,,\n" + b"\x00\n"
    + b"\x0c\n" + GOOD.rstrip(b"\n"),
    "no header row": b"",
    "header only": HEADER,
    "header without newline": HEADER.rstrip(b"\n"),
    "header with spaces and crlf": b" time , op ,order_id,owner,side,first_slot,last_slot,price,"
    b"rate,kind,tif\r\n" + SELL + GOOD,
    "header reordered": b"op,time,order_id,owner,side,first_slot,last_slot,price,rate,kind,tif\n"
    + b"submit,0,s,amy,sell,0,,51,1,limit,gtc\n",
    "header lacking op": b"time,order_id\n1,2\n",
    "quoted header": b'"time",op,order_id,owner,side,first_slot,last_slot,price,rate,kind,tif\n'
    + SELL + GOOD,
}
NOT_FAST = {"no header row", "header only", "header without newline", "header reordered",
            "header lacking op", "quoted header"}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_files_give_the_same_bytes(tmp_path: Path, name: str) -> None:
    check(tmp_path, HOSTILE[name], fast=None if name == "header only" else name not in NOT_FAST)


@pytest.mark.parametrize("grid", [("--tick", "0.25", "--lot", "0.25"), ("--tick", "5"),
                                  ("--tick", "0.05", "--lot", "0.001"), ("--lot", "3")])
def test_other_grids_give_the_same_bytes(tmp_path: Path, grid: tuple[str, ...]) -> None:
    check(tmp_path, HOSTILE["odd values"] + b"2,submit,y,amy,sell,0,,51.25,0.25,limit,gtc\n"
          b"2,submit,z,bob,buy,0,,55,0.75,limit,gtc\n3,submit,z2,bob,buy,0,,60,3,market,ioc\n"
          b"3,submit,z3,amy,sell,0,,-5,6,limit,gtc\n4,submit,z4,bob,buy,0,,0,0.003,limit,gtc\n",
          *grid)


def test_a_file_name_with_non_ascii_and_control_characters(tmp_path: Path) -> None:
    got = check(tmp_path, HOSTILE["odd values"], name="\u00e9v\u00e9nements\tx.csv")
    assert "\u00e9v\u00e9nements\\tx.csv: line 3" in got[3]


def test_a_fifo_is_replayed_by_the_per_row_code(tmp_path: Path) -> None:
    import threading

    fifo = tmp_path / "events.fifo"
    os.mkfifo(fifo)
    data = HOSTILE["odd values"]

    def feed() -> None:
        with open(fifo, "wb") as f:
            f.write(data)

    outputs = []
    for _ in range(2):
        writer = threading.Thread(target=feed)
        writer.start()
        outputs.append(replay_once(tmp_path, fifo, CExchange, True, ()))
        writer.join()
    assert not outputs[0][4]  # not a regular file: the per-row code
    events = tmp_path / "events.fifo.csv"
    events.write_bytes(data)
    ref = replay_once(tmp_path, events, CExchange, True, ())
    assert outputs[0][:3] == ref[:3] and outputs[1][:3] == ref[:3]


# -- streams ------------------------------------------------------------------------------------
@pytest.mark.parametrize("n_slots", [1, 24])
def test_benchmark_streams_give_the_same_bytes(tmp_path: Path, n_slots: int) -> None:
    from benchmarks import streams
    from benchmarks.bench_exchange import to_replay_csv

    stream = streams.generate(streams.StreamParams(n_messages=3000, n_slots=n_slots, seed=5))
    got = check(tmp_path, to_replay_csv(stream).encode())
    assert got[1].count(b"\n") > 100  # it traded


def test_a_file_larger_than_the_read_buffer_with_hostile_lines_at_its_edges(
        tmp_path: Path) -> None:
    from benchmarks import streams
    from benchmarks.bench_exchange import to_replay_csv

    stream = streams.generate(streams.StreamParams(n_messages=60_000, n_slots=4, seed=3))
    lines = to_replay_csv(stream).encode().splitlines(keepends=True)
    body = bytearray(lines[0])
    hostile = [b'7,submit,"multi\nline",amy,sell,0,,500,1,limit,gtc\n',
               b"7,submit,x\xff,amy,sell,0,,500,1,limit,gtc\n",
               b"7,submit,y,amy,sell,0,,500,1,limit,gtc," + b"z" * 70_000 + b"\n",
               b"7,open_auction,,,,3,,,,,\n"]
    edge = 1 << 20
    for i, line in enumerate(lines[1:]):
        # a hostile line across each multiple of the buffer size and of the line limit
        if len(body) // 65_536 != (len(body) + len(line)) // 65_536 and i % 3 == 0:
            body += hostile[(len(body) // 65_536) % len(hostile)].replace(
                b"7,", str(i).encode() + b",", 1)
        if len(body) < edge <= len(body) + len(line):
            body += b'1,"' + b"q" * 10 + b'\n",x\n'
        body += line
    assert len(body) > 2 * edge
    check(tmp_path, bytes(body), python=False)


def test_the_property_streams_give_the_same_bytes(tmp_path_factory) -> None:
    from tests.exchange.test_engines_differential import events_csv
    from tests.exchange.test_properties import scenarios

    @settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=40,
              deadline=None)
    @given(scenarios(max_events=80))
    def run(sc) -> None:
        check(tmp_path_factory.mktemp("props"), events_csv(sc.events).encode())

    run()


# -- mixed clean and hostile rows -----------------------------------------------------------
CLEAN_FIELD = {
    "op": ["submit"] * 6 + ["cancel"] * 3 + ["modify", "open_auction", "uncross", "close"],
    "order_id": [f"i{k}" for k in range(8)],
    "owner": ["A", "B", "C"],
    "side": ["buy", "sell"],
    "first_slot": ["0", "1", "2"],
    "last_slot": [""] * 6 + ["1", "2"],
    "price": ["9.6", "9.8", "10", "10.0", "10.2", "10.4", ""],
    "rate": ["0.1", "0.5", "1", "2.5", "3"],
    "kind": ["limit"] * 5 + ["market"],
    "tif": ["gtc"] * 5 + ["ioc", "fok"],
}
ODD_FIELD = ["", " ", "x", "+1", "-1", "-0", "0", "007", "1.", ".5", "1e1", "0x10", "1_0",
             "99999999999999999999", "12345678901234567890123456789012345678901", "١٢",
             "\xe9", "o'k", "a\\b", "\t1", "1 ", "SUBMIT", "buy ", "9.65", "0.05", "10.00000"]
RAW_FIELD = [b'"quoted"', b'"a,b"', b'"two\nlines"', b'"x""y"', b"\xff", b"\xc3\xa9",
             b"z" * 1025, b"\x00", b"a\rb", b'un"even']


@st.composite
def events_file(draw: st.DrawFn) -> tuple[bytes, tuple[str, ...]]:
    lines = []
    time = 0
    for _ in range(draw(st.integers(0, 40))):
        time += draw(st.sampled_from([0, 0, 1, 2]))
        fields = [str(time).encode()] + [draw(st.sampled_from(CLEAN_FIELD[c])).encode()
                                          for c in replay.COLUMNS[1:]]
        for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):
            i = draw(st.integers(0, len(fields) - 1))
            fields[i] = draw(st.one_of(st.sampled_from(ODD_FIELD).map(str.encode),
                                       st.sampled_from(RAW_FIELD)))
        shape = draw(st.sampled_from(["plain"] * 12 + ["extra", "short", "blank", "crlf", "cr"]))
        if shape == "extra":
            fields.append(b"more")
        elif shape == "short":
            fields = fields[:draw(st.integers(1, 10))]
        line = b"," .join(fields)
        ending = {"crlf": b"\r\n", "cr": b"\r"}.get(shape, b"\n")
        lines.append(b"\n" if shape == "blank" else line + ending)
    bom = draw(st.sampled_from([b"", b"", b"\xef\xbb\xbf"]))
    tail = draw(st.sampled_from([b"", b"", b"9,submit,last,A,buy,0,,10,1,limit,gtc"]))
    grid = draw(st.sampled_from([(), (), ("--tick", "0.2"), ("--tick", "0.05", "--lot", "0.5")]))
    return bom + HEADER + b"".join(lines) + tail, grid


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(events_file())
def test_mixed_clean_and_hostile_rows_give_the_same_bytes(tmp_path_factory, case) -> None:
    data, grid = case
    check(tmp_path_factory.mktemp("mixed"), data, *grid)


def test_clean_submit_cancel_and_modify_rows_never_reach_the_per_row_code(tmp_path: Path) -> None:
    from benchmarks import streams
    from benchmarks.bench_exchange import to_replay_csv

    stream = streams.generate(streams.StreamParams(n_messages=2000, n_slots=3, seed=2))
    body = to_replay_csv(stream) + "2000,modify,5,o01,,,,500.1,2,,\n2000,modify,6,o01,,,,,0.5,,\n"
    events = tmp_path / "events.csv"
    events.write_text(body)
    with mock.patch.object(replay, "Exchange", CExchange), mock.patch.object(replay, "FAST", True):
        replayer = replay.Replayer()
        with open(events, newline="", encoding="utf-8-sig", errors="surrogateescape") as f:
            out = replay.fast_replay(replayer, f, "events.csv")
    assert out is not None and out.rows == 2002
    assert replayer.result.rows == 0  # every row was replayed in C
    assert out.n_trades > 100
    # the exchange's Python tables know every id the C path accepted
    assert len(replayer.exchange.orders) == out.orders.count(b"\n") - out.orders.count(
        b",rejected,")
    first = next(m for m in stream if m[0] != streams.CANCEL)
    assert replayer.exchange.orders[str(first[2])].owner == first[3]


number_text = st.builds(
    lambda pad, sign, whole, dot, frac, pad2: f"{pad}{sign}{whole}{dot}{frac}{pad2}"[:40],
    st.sampled_from(["", "", " "]), st.sampled_from(["", "", "-", "+"]),
    st.text("0123456789", max_size=21), st.sampled_from(["", ".", "."]),
    st.text("0123456789", max_size=22), st.sampled_from(["", "", " "]))


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(st.lists(st.tuples(number_text, number_text), min_size=1, max_size=20),
       st.sampled_from([(), ("--tick", "0.25"), ("--tick", "0.001", "--lot", "0.001"),
                        ("--tick", "5", "--lot", "2.5"), ("--tick", "0.3")]))
def test_decimal_prices_and_rates_convert_and_print_alike(tmp_path_factory, numbers, grid
                                                          ) -> None:
    # each pair on its own slot: a resting sell at the price with the rate, then a market buy
    # that takes it, so TRADES.csv prints both as parsed (or the rows are rejected alike)
    rows = []
    for k, (price, rate) in enumerate(numbers):
        rows.append(f"{k},submit,s{k},A,sell,{k},,{price},{rate},limit,gtc\n")
        rows.append(f"{k},submit,b{k},B,buy,{k},,,{rate},market,ioc\n")
        rows.append(f"{k},submit,m{k},B,buy,{k},,{price},1000000000000,limit,ioc\n")
    check(tmp_path_factory.mktemp("numbers"), HEADER + "".join(rows).encode(), *grid,
          python=False)
