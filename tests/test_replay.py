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
