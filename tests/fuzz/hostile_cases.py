"""Every hostile input of issue 15, each run with its wall time and memory measured.

Run as ``python -m tests.fuzz.hostile_cases [NAME ...]``: prints one JSON object per case
(``name``, ``seconds``, ``peak_mb`` = growth of the process's peak resident memory during the
case, ``outcome``). ``tests/fuzz/test_resources.py`` runs it in a subprocess with an address
space cap and asserts < 2 s and < 200 MB per case. A case that raises reports ``error: ...``;
one that runs past 20 s is stopped (``timeout``).
"""

from __future__ import annotations

import contextlib
import io
import json
import resource
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rex_env.exchange import Exchange, Status

# The cases' scratch directory (files of up to 100 MB): made by main() and removed when it
# returns, so neither importing this module nor a run leaves anything behind.
TMP = Path()
HEADER = b"time,op,order_id,owner,side,first_slot,last_slot,price,rate,kind,tif\n"
SELL = b"0,submit,s,amy,sell,0,,51,1,limit,gtc\n"
GOOD = b"5,submit,ok,bob,buy,0,,51,1,limit,gtc\n"
CASES: dict[str, Callable[[], str]] = {}


def case(fn: Callable[[], str]) -> Callable[[], str]:
    CASES[fn.__name__] = fn
    return fn


# -- the exchange API ----------------------------------------------------------------------------


@case
def api_block_of_a_billion_slots() -> str:
    ex = Exchange(auto_open=True)
    rep = ex.submit(0, "b", "a", "buy", 0, 1000, 1, last_slot=10**9)
    return f"{rep.reason}, books {len(ex.books)}"


@case
def api_rejected_block_over_1e8_slots() -> str:
    ex = Exchange(auto_open=True)
    ex.close(5, 0)
    rep = ex.submit(0, "b", "a", "buy", 0, 1000, 1, last_slot=10**8 + 5)
    return f"{rep.reason}, books {len(ex.books)}"


@case
def api_killed_blocks_leave_no_books() -> str:
    ex = Exchange(auto_open=True)
    for i in range(1000):
        ex.submit(0, i, "a", "buy", i * 1024, 1000, 1, last_slot=i * 1024 + 1023)
    return f"books {len(ex.books)}"


@case
def api_wrong_types() -> str:
    ex = Exchange(auto_open=True)
    out = [ex.submit(0, "x", "a", side, 0, 100, 1).reason for side in (True, 1, 1.0)]
    out += [ex.submit(0, "x", "a", "buy", 0, price, 1).reason for price in (1.0, "1", True)]
    out += [ex.submit(0, "x", "a", "buy", 0, 100, rate).reason for rate in (1.0, "1", False)]
    out += [ex.modify(0, "x", "a", 1.5, None).reason]
    return ",".join(map(str, out))


@case
def api_unfillable_fok_against_40k_own_orders() -> str:
    ex = Exchange(auto_open=True)
    for i in range(40_000):
        ex.submit(0, f"s{i}", "own", "sell", 0, 100, 1)
    killed = sum(ex.submit(1, f"f{i}", "own", "buy", 0, 100, 1, tif="fok").status
                 is Status.KILLED for i in range(40_000))
    return f"killed {killed}"


@case
def api_40k_priority_losing_modifies_in_one_level() -> str:
    ex = Exchange(auto_open=True)
    for i in range(40_000):
        ex.submit(0, i, "a", "buy", 0, 100, 2)
    n = sum(ex.modify(1, i, "a", None, 3).ok for i in reversed(range(40_000)))
    return f"modified {n}"


@case
def api_2000_call_phases_over_a_40k_order_book() -> str:
    ex = Exchange(auto_open=True)
    for i in range(20_000):
        ex.submit(0, f"s{i}", "a", "sell", 0, 100 + i, 1)
        ex.submit(0, f"b{i}", "b", "buy", 0, 99 - i % 50, 1)
    n = 0
    for _ in range(2_000):
        n += ex.open_auction(0, 1).ok and ex.uncross(0, 1).ok
    return f"auctions {n}"


# -- the replay command line ---------------------------------------------------------------------


def replay(body: bytes | None, out: Path | None = None) -> str:
    events = TMP / "events.csv"
    if body is not None:
        events.write_bytes(body)
    err = io.StringIO()
    from rex_env.replay import main

    with contextlib.redirect_stderr(err):
        code = main([str(events), "--out", str(out or TMP / "t.csv"), "--orders",
                     str(TMP / "o.csv")])
    last = err.getvalue().strip().splitlines()[-1] if err.getvalue().strip() else ""
    return f"exit {code}: {last.rsplit(': ', 1)[-1]}"


def write_big(path: Path, head: bytes, fill: bytes, size: int, tail: bytes) -> None:
    """Write a large file in 1 MB chunks, so that making it costs no memory of the case."""
    chunk = fill * (2**20 // len(fill))
    with open(path, "wb") as f:
        f.write(head)
        for _ in range(size // len(chunk)):
            f.write(chunk)
        f.write(tail)


@case
def replay_46_byte_row_with_a_billion_slot_block() -> str:
    return replay(HEADER + b"0,submit,b,a,buy,0,1000000000,100,1,limit,gtc\n")


@case
def replay_5000_digit_time_and_slot() -> str:
    big = b"9" * 5000
    return replay(HEADER + SELL + big + b",submit,x,b,buy,0,,51,1,limit,gtc\n"
                  + b"1,submit,y,b,buy," + big + b",,51,1,limit,gtc\n" + GOOD)


@case
def replay_field_over_131072_characters() -> str:
    return replay(HEADER + SELL + b'1,submit,"' + b"x" * 200_000 + b'",b,buy,0,,51,1,limit,gtc\n'
                  + GOOD)


@case
def replay_line_of_50_mb() -> str:
    write_big(TMP / "events.csv", HEADER + SELL + b"1,submit,x,", b"y", 50_000_000,
              b"\n" + GOOD)
    return replay(None)


@case
def replay_invalid_utf8() -> str:
    return replay(HEADER + SELL + b"1,submit,x\xff,b,buy,0,,51,1,limit,gtc\n" + GOOD)


@case
def replay_bom() -> str:
    return replay(b"\xef\xbb\xbf" + HEADER + SELL + GOOD)


@case
def replay_5000_digit_rate() -> str:
    return replay(HEADER + SELL + b"1,submit,x,b,sell,0,,51," + b"9" * 5000 + b",limit,gtc\n"
                  + GOOD)


@case
def replay_unwritable_out() -> str:
    return replay(HEADER + SELL * 1 + GOOD, out=TMP / "no" / "dir" / "t.csv")


@case
def replay_row_longer_than_the_header() -> str:
    return replay(HEADER + SELL + b"1,submit,x,b,buy,0,,51,1,limit,gtc,extra\n" + GOOD)


@case
def replay_forged_report_line() -> str:
    return replay(HEADER + SELL + b'1,"x\nfile: line 9: forged",x,b,buy,0,,51,1,limit,gtc\n'
                  + GOOD)


@case
def replay_non_ascii_digits() -> str:
    return replay(HEADER + SELL + "1,submit,x,b,buy,0,,١٢٣,1,limit,gtc\n".encode() + GOOD)


# -- scenario files and the env constructor ------------------------------------------------------


def scenario(changes: dict[str, Any] | None = None, text: str | None = None) -> str:
    from rex_env.scenarios import load_scenario

    data: dict[str, Any] = {
        "name": "x", "schedule": {"n_slots": 8},
        "prosumers": [{"owner": "house", "count": 3, "agent": "intermittent",
                       "load": {"annual_kwh": 3500}, "pv": {"peak_kw": 6}},
                      {"owner": "grid", "agent": "grid", "external": True}]}
    for path, value in (changes or {}).items():
        *parents, last = path.split(".")
        target: Any = data
        for p in parents:
            target = target[int(p)] if p.isdigit() else target.setdefault(p, {})
        target[last] = value
    f = TMP / "scenario.json"
    if text is not None or changes is not None:
        f.write_text(json.dumps(data) if text is None else text)
    try:
        sc = load_scenario(f)
    except ValueError as exc:
        return f"refused: {str(exc)[-70:]}"
    return f"loaded {len(sc.prosumers)} prosumers"


@case
def scenario_count_1e9() -> str:
    return scenario({"prosumers.0.count": 1e9})


@case
def scenario_count_10000_loads_linearly() -> str:
    return scenario({"prosumers.0.count": 9_999, "schedule.n_slots": 96})


@case
def scenario_json_nested_100000_deep() -> str:
    return scenario(text="[" * 100_000 + "]" * 100_000)


@case
def scenario_n_slots_1e9() -> str:
    return scenario({"schedule.n_slots": 10**9})


@case
def scenario_open_lead_1e9() -> str:
    return scenario({"schedule.open_lead": 10**9})


@case
def scenario_tariff_retail_1e308() -> str:
    return scenario({"tariff.retail": 1e308})


@case
def scenario_pv_peak_kw_1e300() -> str:
    return scenario({"prosumers.0.pv.peak_kw": 1e300})


@case
def scenario_file_of_100_mb() -> str:
    write_big(TMP / "scenario.json", b"", b" ", 100_000_000, b"{}")
    return scenario()


@case
def env_with_a_python_scenario_of_1e9_slots() -> str:
    import rex_env
    from rex_env.scenarios import make_scenario
    from rex_env.spec.schedule import SlotSchedule

    sc = make_scenario("toy")
    try:
        rex_env.parallel_env(scenario=sc.replace(schedule=SlotSchedule(n_slots=10**9)))
    except ValueError as exc:
        return f"refused: {str(exc)[-80:]}"
    return "constructed"


@case
def env_with_a_billion_price_levels() -> str:
    import rex_env

    try:
        rex_env.parallel_env(scenario="toy", action_mode="discrete", price_levels=10**9)
    except ValueError as exc:
        return f"refused: {str(exc)[-80:]}"
    return "constructed"


# -- the runner ----------------------------------------------------------------------------------


class Timeout(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise Timeout


def measure(name: str) -> dict[str, Any]:
    # warm imports and caches outside the measurement
    import rex_env  # noqa: F401
    import rex_env.replay  # noqa: F401
    from rex_env.scenarios import make_scenario

    make_scenario("toy")
    signal.signal(signal.SIGALRM, _alarm)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    signal.alarm(20)
    try:
        outcome = CASES[name]()
    except Timeout:
        outcome = "timeout"
    except BaseException as exc:  # noqa: BLE001 - a crash is the finding
        outcome = f"error: {type(exc).__name__}: {str(exc)[:80]}"
    finally:
        signal.alarm(0)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {"name": name, "seconds": round(seconds, 3), "peak_mb": round((peak - before) / 1024, 1),
            "outcome": outcome}


def main(argv: list[str]) -> int:
    global TMP
    with tempfile.TemporaryDirectory(prefix="rex-hostile-") as scratch:
        TMP = Path(scratch)
        for name in argv or list(CASES):
            print(json.dumps(measure(name)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
