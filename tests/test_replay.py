"""The replay command line, SPEC §7: file formats, lifecycle rows, malformed input."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from rex_env.replay import main

HEADER = "time,op,order_id,owner,side,first_slot,last_slot,price,rate,kind,tif\n"


def run(tmp_path: Path, body: str, *extra: str) -> tuple[list[dict[str, str]],
                                                          list[dict[str, str]], str]:
    events = tmp_path / "events.csv"
    events.write_text(HEADER + body)
    trades, orders = tmp_path / "trades.csv", tmp_path / "orders.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "rex_env.replay", str(events), "--out", str(trades), "--orders",
         str(orders), *extra], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    with open(trades) as f:
        t = list(csv.DictReader(f))
    with open(orders) as f:
        o = list(csv.DictReader(f))
    return t, o, proc.stderr


def test_trades_and_orders_files_have_the_spec_columns_and_grid_decimals(tmp_path: Path):
    t, o, _ = run(tmp_path, "0,submit,s1,alice,sell,0,,51,1.5,limit,gtc\n"
                            "1,submit,b1,bob,buy,0,,52.5,2,limit,gtc\n")
    assert list(t[0]) == ["trade_id", "time", "slot", "price", "rate", "buy_order_id",
                          "sell_order_id", "buyer", "seller", "aggressor"]
    assert t == [{"trade_id": "1", "time": "1", "slot": "0", "price": "51.0", "rate": "1.5",
                  "buy_order_id": "b1", "sell_order_id": "s1", "buyer": "bob",
                  "seller": "alice", "aggressor": "buy"}]
    assert list(o[0]) == ["order_id", "status", "filled_rate", "remaining_rate", "reason"]
    assert o == [
        {"order_id": "s1", "status": "filled", "filled_rate": "1.5", "remaining_rate": "0.0",
         "reason": ""},
        {"order_id": "b1", "status": "resting", "filled_rate": "1.5", "remaining_rate": "0.5",
         "reason": ""},
    ]


def test_duplicate_id_gives_a_second_orders_row_and_keeps_the_first_order(tmp_path: Path):
    _, o, err = run(tmp_path, "0,submit,x,alice,sell,0,,51,1,limit,gtc\n"
                              "1,submit,x,bob,sell,0,,52,1,limit,gtc\n")
    assert [(r["order_id"], r["status"], r["reason"]) for r in o] == [
        ("x", "resting", ""), ("x", "rejected", "duplicate_id")]
    assert "line 3" in err and "duplicate_id" in err


def test_malformed_rows_are_reported_with_line_number_counted_and_the_replay_goes_on(
        tmp_path: Path):
    t, o, err = run(tmp_path, "0,submit,a,alice,sell,0,,51,1,limit,gtc\n"
                              "x,submit,b,bob,buy,0,,52,1,limit,gtc\n"
                              "1,submit,c,bob,buy,0,,abc,1,limit,gtc\n"
                              "1,submit,d,bob,BUY,0,,52,1,limit,gtc\n"
                              "1,frobnicate,,,,,,,,,\n"
                              "1,submit,e,bob,buy,0,,1e2,1,limit,gtc\n"
                              "2,submit,f,bob,buy,0,,52,1,limit,gtc\n")
    assert [r["status"] for r in o] == ["filled", "rejected", "rejected", "rejected",
                                        "rejected", "filled"]
    assert [r["reason"] for r in o][1:5] == ["bad_field"] * 4
    for line in (3, 4, 5, 6, 7):
        assert f"line {line}:" in err
    assert "5 rejected" in err
    assert len(t) == 1 and t[0]["buy_order_id"] == "f"


def test_time_going_backwards_is_bad_field_and_rejected_rows_do_not_move_the_clock(
        tmp_path: Path):
    _, o, _ = run(tmp_path, "5,submit,a,alice,sell,0,,51,1,limit,gtc\n"
                            "9,submit,b,bob,buy,0,,52,0,limit,gtc\n"
                            "6,submit,c,bob,buy,0,,40,1,limit,gtc\n"
                            "4,submit,d,bob,buy,0,,40,1,limit,gtc\n")
    assert [(r["status"], r["reason"]) for r in o] == [
        ("resting", ""), ("rejected", "non_positive_rate"), ("resting", ""),
        ("rejected", "bad_field")]


def test_off_grid_values_follow_the_tick_and_lot_options(tmp_path: Path):
    body = ("0,submit,a,alice,sell,0,,51.05,1,limit,gtc\n"
            "0,submit,b,alice,sell,0,,51.25,0.25,limit,gtc\n")
    _, o, _ = run(tmp_path, body)
    assert [r["reason"] for r in o] == ["off_tick", "off_tick"]
    _, o, _ = run(tmp_path, body, "--tick", "0.05")
    assert [r["reason"] for r in o] == ["", "off_lot"]
    t, o, _ = run(tmp_path, "0,submit,a,alice,sell,0,,51.25,0.25,limit,gtc\n"
                            "0,submit,b,bob,buy,0,,51.25,0.25,limit,gtc\n",
                  "--tick", "0.25", "--lot", "0.25")
    assert t[0]["price"] == "51.25" and t[0]["rate"] == "0.25"


def test_opening_auction_rows_uncross_at_one_price_with_the_reference(tmp_path: Path):
    t, _, _ = run(tmp_path, "0,open_auction,,,,3,,,,,\n"
                            "1,submit,b,bob,buy,3,,55,2,limit,gtc\n"
                            "2,submit,s,sam,sell,3,,45,2,limit,gtc\n"
                            "3,submit,m,sam,sell,3,,,1,market,ioc\n"
                            "10,uncross,,,,3,,49.95,,,\n")
    # both prices execute 2 with zero surplus: no pressure, closest to the reference 49.95
    assert [(r["price"], r["rate"], r["aggressor"], r["time"]) for r in t] == [
        ("45.0", "2.0", "auction", "10")]


def test_lifecycle_rows_that_do_not_fit_the_state_are_rejected_and_change_nothing(
        tmp_path: Path):
    t, o, err = run(tmp_path, "0,uncross,,,,1,,50,,,\n"
                              "0,open_auction,,,,1,,,,,\n"
                              "0,open_auction,,,,1,,,,,\n"
                              "1,submit,a,alice,sell,1,,51,1,limit,gtc\n"
                              "1,submit,b,bob,buy,1,,52,1,limit,gtc\n"
                              "2,close,,,,1,,,,,\n"
                              "3,close,,,,1,,,,,\n"
                              "3,open_auction,,,,1,,,,,\n"
                              "4,submit,c,bob,buy,1,,52,1,limit,gtc\n"
                              "4,submit,d,bob,buy,-1,,52,1,limit,gtc\n")
    assert t == []  # close during a call phase expires without an auction
    assert [(r["status"], r["reason"]) for r in o] == [
        ("expired", ""), ("expired", ""), ("rejected", "slot_closed"),
        ("rejected", "unknown_slot")]
    for line in (2, 4, 8, 9):
        assert f"line {line}:" in err


def test_block_and_self_trade_rows(tmp_path: Path):
    t, o, _ = run(tmp_path, "0,submit,a0,alice,sell,0,,50,1,limit,gtc\n"
                            "0,submit,a1,alice,sell,1,,50,1,limit,gtc\n"
                            "0,submit,own,bob,sell,0,,49,1,limit,gtc\n"
                            "1,submit,blk,bob,buy,0,1,50,1,limit,ioc\n")
    assert [(r["order_id"], r["status"], r["reason"]) for r in o] == [
        ("a0", "filled", ""), ("a1", "filled", ""), ("own", "cancelled", "self_trade"),
        ("blk", "filled", "")]
    assert [(r["slot"], r["sell_order_id"]) for r in t] == [("0", "a0"), ("1", "a1")]


def test_replay_is_deterministic(tmp_path: Path):
    body = "".join(f"{i},submit,o{i},p{i % 3},{'buy' if i % 2 else 'sell'},{i % 2},,"
                   f"{50 + (i * 7) % 5},{1 + i % 4},limit,gtc\n" for i in range(60))
    first = run(tmp_path, body)
    assert run(tmp_path, body) == first


def test_a_file_without_the_required_columns_exits_2(tmp_path: Path, capsys):
    events = tmp_path / "e.csv"
    events.write_text("when,what\n1,2\n")
    assert main([str(events), "--out", str(tmp_path / "t.csv")]) == 2
    assert "lacks the column" in capsys.readouterr().err


def test_bad_grid_options_are_refused(tmp_path: Path):
    events = tmp_path / "e.csv"
    events.write_text(HEADER)
    with pytest.raises(SystemExit):
        main([str(events), "--out", str(tmp_path / "t.csv"), "--tick", "0"])
    with pytest.raises(SystemExit):
        main([str(events), "--out", str(tmp_path / "t.csv"), "--lot", "abc"])


# -- hostile input (issue 15): per-row rejections, bounded memory, nothing aborts -------------


def replay_bytes(tmp_path: Path, data: bytes, capsys, *extra: str
                 ) -> tuple[list[dict[str, str]], list[dict[str, str]], list[str]]:
    """Replay raw bytes in-process; return trades, orders and the stderr lines."""
    events = tmp_path / "hostile.csv"
    events.write_bytes(data)
    trades, orders = tmp_path / "trades.csv", tmp_path / "orders.csv"
    code = main([str(events), "--out", str(trades), "--orders", str(orders), *extra])
    err = capsys.readouterr().err
    assert code == 0, err
    with open(trades, encoding="utf-8") as f:
        t = list(csv.DictReader(f))
    with open(orders, encoding="utf-8") as f:
        o = list(csv.DictReader(f))
    return t, o, err.splitlines()


GOOD = b"5,submit,ok,bob,buy,0,,51,1,limit,gtc\n"  # trades with the resting ask "s"
SELL = b"0,submit,s,amy,sell,0,,51,1,limit,gtc\n"


def rejected_lines(err: list[str]) -> list[int]:
    return [int(x.split("line ")[1].split(":")[0]) for x in err if " rejected " in x]


def assert_rejected_then_goes_on(t, o, err, line: int, why: str) -> None:
    assert rejected_lines(err) == [line], err
    assert why in err[0], err[0]
    assert err[-1].endswith("1 trades, 1 rejected"), err[-1]
    assert len(t) == 1 and t[0]["buy_order_id"] == "ok"
    assert o[-1] == {"order_id": "ok", "status": "filled", "filled_rate": "1.0",
                     "remaining_rate": "0.0", "reason": ""}


@pytest.mark.parametrize("column", ["time", "first_slot", "last_slot"])
def test_an_integer_of_5000_digits_is_a_rejected_row_not_an_abort(tmp_path, capsys, column):
    fields = {"time": "1", "first_slot": "0", "last_slot": ""}
    fields[column] = "9" * 5000
    bad = (f"{fields['time']},submit,x,bob,buy,{fields['first_slot']},{fields['last_slot']},"
           "51,1,limit,gtc\n").encode()
    t, o, err = replay_bytes(tmp_path, HEADER.encode() + SELL + bad + GOOD, capsys)
    assert_rejected_then_goes_on(t, o, err, 3, f"{column} has 5000 characters")
    assert o[1] == {"order_id": "x", "status": "rejected", "filled_rate": "0.0",
                    "remaining_rate": "0.0", "reason": "bad_field"}


def test_a_number_longer_than_40_characters_is_bad_field(tmp_path, capsys):
    long_price = "0" * 39 + "51"  # 41 characters, a valid value
    ok_price = "0" * 38 + "51"  # 40 characters
    t, o, err = replay_bytes(tmp_path, HEADER.encode() + SELL
                             + f"1,submit,x,bob,buy,0,,{long_price},1,limit,gtc\n".encode()
                             + GOOD.replace(b",51,", f",{ok_price},".encode()), capsys)
    assert_rejected_then_goes_on(t, o, err, 3, "at most 40")


@pytest.mark.parametrize("field", ["\u0661\u0662\u0663", "\uff15\uff11", "5\u0661"],
                         ids=["arabic-indic", "fullwidth", "mixed"])
@pytest.mark.parametrize("column", ["price", "rate", "time"])
def test_non_ascii_digits_are_bad_field(tmp_path, capsys, field, column):
    row = {"time": "1", "price": "51", "rate": "1"}
    row[column] = field
    bad = f"{row['time']},submit,x,bob,buy,0,,{row['price']},{row['rate']},limit,gtc\n"
    t, o, err = replay_bytes(tmp_path, HEADER.encode() + SELL + bad.encode() + GOOD, capsys)
    assert_rejected_then_goes_on(t, o, err, 3, "ASCII digits")


def test_a_quoted_field_over_the_csv_field_limit_is_a_rejected_row(tmp_path, capsys):
    # 140,000 characters spread over short lines: the csv module's 131,072 limit trips
    body = "\n".join(["y" * 70] * 2000)
    bad = f'1,submit,"{body}",bob,buy,0,,51,1,limit,gtc\n'.encode()
    t, o, err = replay_bytes(tmp_path, HEADER.encode() + SELL + bad + GOOD, capsys)
    rejected = rejected_lines(err)
    assert rejected and rejected[0] == 3, err[:3]
    assert "cannot be read as CSV" in err[0]
    assert t[-1]["buy_order_id"] == "ok" and o[-1]["status"] == "filled"


def test_a_line_longer_than_the_limit_is_dropped_in_chunks_and_rejected(tmp_path, capsys):
    bad = b"1,submit,x,bob,buy,0,,51,1,limit,gtc," + b"z" * 300_000 + b"\n"
    t, o, err = replay_bytes(tmp_path, HEADER.encode() + SELL + bad + GOOD, capsys)
    assert_rejected_then_goes_on(t, o, err, 3, "line 3 is longer than 65536 characters")


def test_a_field_longer_than_1024_characters_is_bad_field(tmp_path, capsys):
    bad = f"1,submit,x,{'b' * 1025},buy,0,,51,1,limit,gtc\n".encode()
    t, o, err = replay_bytes(tmp_path, HEADER.encode() + SELL + bad + GOOD, capsys)
    assert_rejected_then_goes_on(t, o, err, 3, "owner has 1025 characters")


@pytest.mark.parametrize("where", ["owner", "price", "op"])
def test_invalid_utf8_is_a_rejected_row_with_its_line_number(tmp_path, capsys, where):
    row = {"op": b"submit", "owner": b"bob", "price": b"51"}
    row[where] = row[where] + b"\xff\xfe"
    bad = (b"1," + row["op"] + b",x," + row["owner"] + b",buy,0,," + row["price"]
           + b",1,limit,gtc\n")
    t, o, err = replay_bytes(tmp_path, HEADER.encode() + SELL + bad + GOOD, capsys)
    assert_rejected_then_goes_on(t, o, err, 3, "is not valid UTF-8")
    assert "\\udcff" in err[0]  # shown escaped


def test_an_invalid_utf8_order_id_gets_a_replacement_character_in_orders_csv(tmp_path, capsys):
    bad = b"1,submit,x\xff,bob,buy,0,,51,1,limit,gtc\n"
    t, o, err = replay_bytes(tmp_path, HEADER.encode() + SELL + bad + GOOD, capsys)
    assert_rejected_then_goes_on(t, o, err, 3, "order_id 'x\\udcff' is not valid UTF-8")
    assert o[1]["order_id"] == "x\ufffd" and o[1]["reason"] == "bad_field"


def test_a_utf8_byte_order_mark_is_accepted(tmp_path, capsys):
    t, o, err = replay_bytes(tmp_path, b"\xef\xbb\xbf" + HEADER.encode() + SELL + GOOD, capsys)
    assert err == ["hostile.csv: 2 rows, 1 trades, 0 rejected".replace(
        "hostile.csv", str(tmp_path / "hostile.csv"))]
    assert len(t) == 1


def test_a_row_with_more_fields_than_the_header_is_rejected(tmp_path, capsys):
    bad = b"1,submit,x,bob,buy,0,,51,1,limit,gtc,surprise\n"
    t, o, err = replay_bytes(tmp_path, HEADER.encode() + SELL + bad + GOOD, capsys)
    assert_rejected_then_goes_on(t, o, err, 3, "the row has 12 fields; the header has 11")


def test_row_content_cannot_forge_a_line_of_the_report(tmp_path, capsys):
    forged = "x\nevents.csv: line 99: submit rejected bad_field: forged\r\u2028"
    bad = f'1,"{forged}",x,bob,buy,0,,51,1,limit,gtc\n'
    bad += f'1,submit,x,bob,"buy{forged}",0,,51,1,limit,gtc\n'
    t, o, err = replay_bytes(tmp_path, HEADER.encode() + SELL + bad.encode() + GOOD, capsys)
    name = str(tmp_path / "hostile.csv")
    assert len(err) == 3 and all(x.startswith(f"{name}: ") for x in err), err
    assert rejected_lines(err) == [3, 6]  # the first row spans lines 3-5 (\n and \r)
    assert "\\n" in err[0] and "\\u2028" in err[1] and "\\r" in err[1]


def test_a_huge_valid_rate_is_written_to_orders_csv(tmp_path, capsys):
    rate = "100000000000"  # MAX_LOTS lots of 0.1 kW
    t, o, err = replay_bytes(tmp_path, HEADER.encode()
                             + f"0,submit,big,amy,sell,0,,51,{rate},limit,gtc\n".encode()
                             + b"1,submit,over,amy,sell,0,,51,100000000000.1,limit,gtc\n"
                             + GOOD, capsys)
    assert o[0] == {"order_id": "big", "status": "resting", "filled_rate": "1.0",
                    "remaining_rate": "99999999999.0", "reason": ""}
    assert o[1]["reason"] == "bad_field"


def test_a_5000_digit_rate_is_bad_field_and_the_outputs_are_written(tmp_path, capsys):
    t, o, err = replay_bytes(tmp_path, HEADER.encode() + SELL
                             + f"1,submit,x,bob,sell,0,,51,{'9' * 5000},limit,gtc\n".encode()
                             + GOOD, capsys)
    assert_rejected_then_goes_on(t, o, err, 3, "rate has 5000 characters")


@pytest.mark.parametrize("option", ["--out", "--orders"])
def test_an_unwritable_output_fails_before_the_replay_starts(tmp_path, capsys, option):
    events = tmp_path / "e.csv"
    events.write_text(HEADER + "0,submit,s,amy,sell,0,,51,1,limit,gtc\n")
    missing = tmp_path / "no" / "such" / "dir" / "x.csv"
    outs = {"--out": str(tmp_path / "t.csv"), "--orders": str(tmp_path / "o.csv")}
    outs[option] = str(missing)
    code = main([str(events), "--out", outs["--out"], "--orders", outs["--orders"]])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{option} {missing}: cannot be written" in err
    assert "rows" not in err  # nothing was replayed


@pytest.mark.parametrize("option", ["--out", "--orders"])
def test_an_output_that_names_the_input_is_refused_and_the_input_kept(tmp_path, capsys, option):
    events = tmp_path / "e.csv"
    text = HEADER + "0,submit,s,amy,sell,0,,51,1,limit,gtc\n"
    events.write_text(text)
    outs = {"--out": str(tmp_path / "t.csv"), "--orders": str(tmp_path / "o.csv")}
    outs[option] = str(events)
    assert main([str(events), "--out", outs["--out"], "--orders", outs["--orders"]]) == 2
    assert "is the same file as the input" in capsys.readouterr().err
    assert events.read_text() == text


def test_overlong_grid_options_are_refused(tmp_path: Path):
    events = tmp_path / "e.csv"
    events.write_text(HEADER)
    with pytest.raises(SystemExit):
        main([str(events), "--out", str(tmp_path / "t.csv"), "--lot", "9" * 5000])
