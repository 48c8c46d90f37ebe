"""The C engine against the pure-Python reference, report by report (issue 12, STYLE 12/16).

Every instruction goes to both engines; the reports must be equal field by field (status,
reason, the order record, trades, self-trade cancels, expiries) and so must everything
observable afterwards (books level by level with their queues, positions and notional per
owner and slot in the same order, statistics, every order record, the trade log, the LOB-3D
arrays). Streams come from the property tests' generator, from a hostile generator that
throws wrong types and sizes at every argument, from the bulk entry point, and from replay
files (``python -m rex_env.replay`` output byte for byte).
"""

from __future__ import annotations

import contextlib
import copy
import csv
import io
import os
import pickle
import subprocess
import sys
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from rex_env import _core, replay
from rex_env.exchange import Grid, Kind, PythonExchange, Side, Tif
from rex_env.exchange.orders import MAX_LOTS, MAX_SLOT

from .helpers import check_invariants, state_digest
from .test_properties import Scenario, apply, scenarios

# skipped without a built C core, unless the C engine was asked for (then that is an error)
pytestmark = pytest.mark.skipif(not _core.AVAILABLE and os.environ.get("REX_ENGINE") != "c",
                                reason=f"C core not built: {_core.IMPORT_ERROR}")

CExchange = getattr(_core, "Exchange", None)  # None without a built core (skipped above)
REPO = Path(__file__).resolve().parents[2]


# -- comparing the two engines ----------------------------------------------------------------
def order_key(o: Any) -> tuple | None:
    if o is None:
        return None
    return (repr(o.order_id), o.owner, o.side, o.first_slot, o.last_slot, o.price, o.rate,
            o.kind, o.tif, o.time, o.seq, o.filled, o.status, o.reason, o.offered, o.removed)


def report_key(rep: Any) -> tuple:
    return (rep.status, rep.reason, order_key(rep.order),
            [(tuple(t), repr(t.buy_order_id), repr(t.sell_order_id)) for t in rep.trades],
            [order_key(o) for o in rep.self_trade_cancelled],
            [order_key(o) for o in rep.expired], rep.ok)


def lob_key(ex: Any, slots: list[int]) -> tuple:
    lob = ex.lob3d(slots, 3)
    return tuple(np.nan_to_num(getattr(lob, f), nan=-1e300).tobytes() for f in (
        "slots", "phase", "best_bid", "best_ask", "bid_price", "bid_depth", "ask_price",
        "ask_depth", "last_price", "vwap", "volume", "n_trades"))


def observable(ex: Any, slots: list[int]) -> tuple:
    """Everything a caller can see, beyond the reports."""
    owners = sorted(ex.owners())
    books = []
    for slot, book in ex.books.items():
        books.append((slot, list(book.positions.items()), list(book.notional.items()),
                      book.high, book.low, book.best_bid(), book.best_ask(), book.bid_keys,
                      book.ask_keys,
                      # the price -> level dicts: by price (their order is not a contract)
                      sorted((p, lv.volume) for p, lv in book.bids.items()),
                      sorted((p, lv.volume) for p, lv in book.asks.items())))
    per_slot = [(ex.phase(s), [(o, ex.position(o, s), ex.notional(o, s), ex.cash(o, s))
                               for o in owners]) for s in slots]
    # numpy integers find a slot's book as the reference's dict lookup does
    per_np_slot = [(np.int64(s) in ex.books, [ex.position(o, np.int64(s)) for o in owners])
                   for s in slots]
    many = [ex.positions(o, slots) for o in owners]
    # the one-call queries agents read on their hot paths (MarketView), also by numpy slot
    quotes = [(ex.best_bid(s), ex.best_ask(s), ex.quotes(s), ex.vwap(s), ex.traded_volume(s),
               ex.quotes(np.int64(s)),
               ex.depth(s, Side.BUY, 2), ex.depth(s, Side.SELL, 3), ex.depth(s, Side.BUY, 0))
              for s in slots]
    return (state_digest(ex), books, owners, ex.open_slots(), per_slot, per_np_slot, quotes, many,
            lob_key(ex, slots), lob_key(ex, np.array(slots)),
            [order_key(o) for o in ex.orders.values()])


def pair(auto_open: bool, n_slots: int | None, grid: Grid | None = None) -> tuple[Any, Any]:
    engines = (PythonExchange(grid, auto_open=auto_open, n_slots=n_slots),
               CExchange(grid, auto_open=auto_open, n_slots=n_slots))
    for ex in engines:
        ex.keep_trades()
    return engines


def run_both(sc: Scenario) -> tuple[Any, Any]:
    py, c = pair(sc.auto_open, None if sc.auto_open else sc.n_slots)
    slots = list(range(-1, sc.n_slots + 3))
    for i, event in enumerate(sc.events):
        note(f"event {i}: {event}")
        want = report_key(apply(py, event))
        got = report_key(apply(c, event))
        assert got == want, f"event {i} {event}:\n c      {got}\n python {want}"
        assert observable(c, slots) == observable(py, slots), f"state differs after {event}"
    check_invariants(c)
    return py, c


@given(scenarios())
def test_every_report_and_all_state_agree_on_random_streams(sc):
    run_both(sc)


@given(scenarios(max_events=150, lo=99, hi=100, cancel_weight=5))
def test_long_two_level_streams_agree(sc):
    run_both(sc)


@given(scenarios(block_pct=50, min_slots=2))
def test_block_heavy_streams_agree(sc):
    run_both(sc)


@given(scenarios())
def test_copies_and_pickles_of_the_c_engine_continue_identically(sc):
    half = len(sc.events) // 2
    c = CExchange(auto_open=sc.auto_open, n_slots=None if sc.auto_open else sc.n_slots)
    c.keep_trades()
    for event in sc.events[:half]:
        apply(c, event)
    twins = [copy.deepcopy(c), pickle.loads(pickle.dumps(c))]
    slots = list(range(-1, sc.n_slots + 3))
    for event in sc.events[half:]:
        want = report_key(apply(c, event))
        for twin in twins:
            assert report_key(apply(twin, event)) == want
    for twin in twins:
        assert observable(twin, slots) == observable(c, slots)


def test_order_records_outlive_a_reset_with_their_last_state():
    for ex in pair(True, None):
        rep = ex.submit(0, "a", "alice", "sell", 0, 510, 10)
        ex.submit(1, "b", "bob", "buy", 0, 520, 4)
        ex.reset()
        assert (rep.order.rate, rep.order.filled, rep.order.status) == (6, 4, "resting")
        assert len(ex.orders) == 0 and ex.now == 0 and not ex.books


def test_records_held_only_inside_containers_outlive_a_reset_too():
    """The C engine freezes at reset only the records someone else still holds (the rest are
    freed unread): a record kept only in a list, a dict or a report counts as held."""
    for ex in pair(True, None):
        reps = [ex.submit(0, "a", "alice", "sell", 0, 510, 10)]
        held = {"bob": ex.submit(1, "b", "bob", "buy", 0, 505, 3).order}
        for i in range(50):  # records nobody keeps
            ex.submit(2, f"x{i}", "carol", "buy", 0, 500, 1)
        ex.submit(3, "d", "dave", "buy", 0, 520, 4)  # fills 4 of alice's 10
        ex.reset()
        assert (reps[0].order.rate, reps[0].order.filled, reps[0].order.status) == (
            6, 4, "resting")
        bob = held["bob"]
        assert (bob.order_id, bob.owner, bob.rate, bob.filled, bob.status) == (
            "b", "bob", 3, 0, "resting")
        ex.submit(0, "b", "erin", "sell", 0, 400, 1)  # ids are free again: a new record
        assert bob.owner == "bob" and bob.rate == 3


def test_grids_with_fractional_bounds_agree():
    grid = Grid(tick="0.25", lot="0.5", price_min="-10.1", price_max="10.1")
    py, c = pair(True, None, grid)
    lo, hi = grid.min_ticks, grid.max_ticks
    for i, price in enumerate([lo, hi, -40, 40, -41, 41, Fraction(81, 2), Fraction(-81, 2), 0]):
        for ex in (py, c):
            ex.submit(i, f"s{i}", "a", "sell", 0, price, 1)
        assert report_key(py.submit(i, f"b{i}", "b", "buy", 0, price, 1)) == report_key(
            c.submit(i, f"b{i}", "b", "buy", 0, price, 1))
    assert observable(c, [0]) == observable(py, [0])


# -- hostile input ------------------------------------------------------------------------------
WILD = st.one_of(
    st.none(), st.booleans(), st.integers(-2**70, 2**70), st.integers(-3, 3),
    st.floats(allow_nan=True), st.text(max_size=2), st.fractions(max_denominator=7),
    st.sampled_from([Side.BUY, Side.SELL, "buy", "sell", Kind.MARKET, "market", "limit", "ioc",
                     "fok", Tif.GTC, 2**62, 2**62 + 1, 2**63, -2**63, 2**64, MAX_LOTS,
                     MAX_LOTS + 1, MAX_SLOT, MAX_SLOT + 1, 1024, 1025, Fraction(10**30, 3),
                     Fraction(1, 10**30), Decimal("1.5"), b"x", (), [1], {"a": 1}, 1.0]),
    st.integers(-5, 5).map(np.int64),
)


@st.composite
def hostile_streams(draw) -> tuple[Scenario, list[int]]:
    """A valid stream with wild values put into some instructions' arguments."""
    sc = draw(scenarios(max_events=25))
    events = list(sc.events)
    marked = []
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(events) - 1))
        event = list(events[i])
        j = draw(st.integers(1, len(event) - 1))
        event[j] = draw(WILD)
        events[i] = tuple(event)
        marked.append(i)
    return Scenario(sc.auto_open, sc.n_slots, events), marked


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(hostile_streams())
def test_hostile_types_and_sizes_never_crash_and_agree_with_the_reference(stream):
    sc, _ = stream
    py, c = pair(sc.auto_open, None if sc.auto_open else sc.n_slots)
    slots = list(range(-1, sc.n_slots + 3))
    for i, event in enumerate(sc.events):
        note(f"event {i}: {event!r}")
        want = report_key(apply(py, event))
        got = report_key(apply(c, event))
        assert got == want, f"event {i} {event!r}:\n c      {got}\n python {want}"
        assert observable(c, slots) == observable(py, slots), f"state differs after {event!r}"


@pytest.mark.parametrize("value", [2**63, -2**63 - 1, 2**200, Fraction(2**200, 3), "1", 1.0,
                                   None, True, b"1", [1], MAX_LOTS + 1])
def test_wild_values_are_rejected_by_the_c_engine_without_raising_or_changing_state(value):
    c = CExchange(auto_open=True)
    c.submit(0, "r", "bob", "buy", 0, 100, 5)
    before = state_digest(c)
    reports = [c.submit(0, "x", "alice", "sell", 0, value, 1),
               c.submit(0, "y", "alice", "sell", 0, 100, value),
               c.modify(0, "r", "bob", value, None), c.modify(0, "r", "bob", None, value)]
    if value != MAX_LOTS + 1:  # that one is a valid time and slot
        reports += [c.uncross(0, value, None), c.cancel(value, "r", "bob"),
                    c.submit(value, "z", "alice", "sell", 0, 100, 1),
                    c.submit(0, "w", "alice", "sell", value, 100, 1, last_slot=value),
                    c.close(value, 0), c.open_auction(0, value)]
    assert [r.ok for r in reports] == [False] * len(reports)
    assert all(r.trades == [] and r.order is None for r in reports)
    assert state_digest(c) == before


# -- the bulk entry point -----------------------------------------------------------------------
@pytest.mark.parametrize("n_slots", [1, 5])
def test_run_many_inside_c_matches_one_call_per_message(n_slots):
    from benchmarks import streams
    from benchmarks.bench_exchange import bulk_arrays

    stream = streams.generate(streams.StreamParams(n_messages=4000, n_slots=n_slots, seed=3))
    arrays, owners = bulk_arrays(stream)
    bulk = CExchange(auto_open=True)
    status, reason, n_trades = bulk.run_many(*arrays, owners=owners)
    py, c = pair(True, None)
    for ex in (py, c):
        for k, (op, t, oid, owner, side, slot, price, rate) in enumerate(stream):
            if op == 1:
                rep = ex.cancel(t, oid, owner)
            elif op == 0:
                rep = ex.submit(t, oid, owner, side, slot, price, rate)
            else:
                rep = ex.submit(t, oid, owner, side, slot, None, rate, "market", "ioc")
            if ex is c:
                assert _core.STATUS_CODES[status[k]] == str(rep.status)
                assert _core.REASON_CODES[reason[k]] == ("" if rep.reason is None
                                                         else str(rep.reason))
    assert n_trades == py.n_trades == c.n_trades
    bulk.keep_trades()
    slots = list(range(n_slots))
    digest = state_digest(bulk)[:4]  # no trade log in bulk
    assert digest == state_digest(py)[:4]
    assert lob_key(bulk, slots) == lob_key(py, slots)


def test_run_many_refuses_bad_arrays_without_touching_the_book():
    c = CExchange(auto_open=True)
    z = np.zeros(2, np.int64)
    with pytest.raises(ValueError, match="owner index"):
        c.run_many(z, z, z, z + 5, z + 1, z, z + 100, z + 1, z, z, owners=["a"])
    with pytest.raises(ValueError, match="length"):
        c.run_many(z, z, z[:1], z, z + 1, z, z, z + 1, z, z, owners=["a"])
    with pytest.raises(ValueError, match="order_id"):
        c.run_many(z, z, z - 1, z, z + 1, z, z, z + 1, z, z, owners=["a"])
    assert len(c.orders) == 0


# -- replay: byte-identical output --------------------------------------------------------------
def dec(q: Fraction) -> str:
    """An exact plain decimal of a fraction whose denominator is 2**a * 5**b."""
    sign = "-" if q < 0 else ""
    q = abs(q)
    d = 0
    while (q * 10**d).denominator != 1:
        d += 1
    n = int(q * 10**d)
    if d == 0:
        return f"{sign}{n}"
    return f"{sign}{n // 10**d}.{n % 10**d:0{d}d}"


def events_csv(events: list[tuple]) -> str:
    """Scenario events as a replay file (tick 0.1, lot 0.1); ``open_continuous`` is dropped."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(replay.COLUMNS)
    tenth = Fraction(1, 10)
    for op, time, *args in events:
        row = dict.fromkeys(replay.COLUMNS, "")
        row["time"], row["op"] = time, op
        if op == "submit":
            oid, owner, side, first, price, rate, kind, tif, last = args
            row.update(order_id=oid, owner=owner, side=side, first_slot=first,
                       last_slot="" if last is None else last, kind=kind, tif=tif,
                       price="" if price is None else dec(Fraction(price) * tenth),
                       rate=dec(Fraction(rate) * tenth))
        elif op in ("cancel", "modify"):
            oid, owner, *rest = args
            row.update(order_id=oid, owner=owner)
            if rest:
                price, rate = rest
                row.update(price="" if price is None else dec(Fraction(price) * tenth),
                           rate="" if rate is None else dec(Fraction(rate) * tenth))
        elif op == "open_continuous":
            continue
        else:
            slot, *rest = args
            row["first_slot"] = slot
            if rest and rest[0] is not None:
                row["price"] = dec(Fraction(rest[0]) * tenth)
        w.writerow([row[c] for c in replay.COLUMNS])
    return out.getvalue()


def replay_in_process(tmp: Path, body: str, engine: type) -> tuple[bytes, bytes, str, int]:
    events, trades, orders = tmp / "e.csv", tmp / "t.csv", tmp / "o.csv"
    events.write_text(body)
    err = io.StringIO()
    with mock.patch.object(replay, "Exchange", engine), contextlib.redirect_stderr(err):
        code = replay.main([str(events), "--out", str(trades), "--orders", str(orders)])
    return trades.read_bytes(), orders.read_bytes(), err.getvalue(), code


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenarios(max_events=60))
def test_replay_files_from_random_streams_are_byte_identical(tmp_path_factory, sc):
    tmp = tmp_path_factory.mktemp("replay")
    body = events_csv(sc.events)
    assert replay_in_process(tmp, body, CExchange) == replay_in_process(tmp, body,
                                                                        PythonExchange)


@pytest.mark.parametrize("n_slots", [1, 24])
def test_replay_cli_of_a_benchmark_stream_is_byte_identical_on_both_engines(tmp_path, n_slots):
    from benchmarks import streams
    from benchmarks.bench_exchange import to_replay_csv

    stream = streams.generate(streams.StreamParams(n_messages=3000, n_slots=n_slots, seed=11))
    events = tmp_path / "events.csv"
    to_replay_csv(stream, events)
    outputs = []
    for engine in ("python", "c"):
        trades, orders = tmp_path / f"t_{engine}.csv", tmp_path / f"o_{engine}.csv"
        env = {**os.environ, "REX_ENGINE": engine, "PYTHONPATH": str(REPO)}
        proc = subprocess.run([sys.executable, "-m", "rex_env.replay", str(events), "--out",
                               str(trades), "--orders", str(orders)], capture_output=True,
                              env=env, cwd=REPO, check=True, timeout=120)
        outputs.append((trades.read_bytes(), orders.read_bytes(), proc.stdout, proc.stderr))
    assert outputs[0] == outputs[1]
    assert outputs[0][0].count(b"\n") > 100  # it really traded


# -- engine selection ---------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "engine", "warns"), [
    ("python", "python", False), ("c", "c", False), ("", "c", False), ("fortran", "c", True)])
def test_rex_engine_selects_the_engine(value, engine, warns):
    probe = ("import warnings; warnings.simplefilter('always')\n"
             "import rex_env.exchange as e; print(e.ENGINE, e.Exchange.__module__)")
    env = {**os.environ, "REX_ENGINE": value, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env=env, cwd=REPO, check=True, timeout=60)
    assert proc.stdout.split()[0] == engine
    assert ("RuntimeWarning" in proc.stderr) == warns


# -- rare paths, named ----------------------------------------------------------------------------
def test_forgetting_a_closed_slot_agrees_and_an_open_one_is_refused_by_both():
    py, c = pair(False, 3)
    for ex in (py, c):
        ex.open_continuous(0, 0)
        ex.submit(0, "s", "alice", "sell", 0, 500, 3)
        ex.submit(1, "b", "bob", "buy", 0, 510, 2)
        ex.close(0, 2)
        ex.forget(0)
        with pytest.raises(ValueError, match="not closed"):
            ex.forget(1)
    assert observable(c, [0, 1, 2]) == observable(py, [0, 1, 2])


@pytest.mark.parametrize(("reference", "price"), [
    (Fraction(1, 10**30), 99), (Fraction(10**25 + 1, 10**22), 101),
    (Fraction(10**40 + 1, 10**38), 101), (Fraction(10**40 - 1, 10**38), 99), (-2**70, 99),
    (2**70, 101)])
def test_uncross_references_beyond_64_bits_pick_the_closest_price(reference, price):
    py, c = pair(True, None)
    for ex in (py, c):  # zero surplus at 99 and at 101: the reference decides (SPEC §6 (4))
        ex.open_auction(0, 0)
        ex.submit(0, "b", "bob", "buy", 0, 101, 2)
        ex.submit(0, "s", "sam", "sell", 0, 99, 2)
    got = c.uncross(0, 1, reference)
    assert report_key(got) == report_key(py.uncross(0, 1, reference))
    assert [t.price for t in got.trades] == [price]
    assert observable(c, [0]) == observable(py, [0])


# -- edge rules of the hostile-input work, on both engines -----------------------------------
def test_non_side_values_and_huge_negative_rates_are_bad_field():
    py, c = pair(True, None)
    for side in (1, 1.0, True, np.int64(1), -1):
        got = c.submit(0, "x", "a", side, 0, 100, 1)
        assert got.reason == "bad_field" and report_key(got) == report_key(
            py.submit(0, "x", "a", side, 0, 100, 1))
    for kind, tif in ((1, "gtc"), (b"limit", "gtc"), ("limit", 0), ("limit", b"gtc")):
        got = c.submit(0, "x", "a", "buy", 0, 100, 1, kind, tif)
        assert got.reason == "bad_field" and report_key(got) == report_key(
            py.submit(0, "x", "a", "buy", 0, 100, 1, kind, tif))
    for ex in (py, c):
        assert ex.submit(0, "x", "a", "buy", 0, 100, -(MAX_LOTS + 1)).reason == "bad_field"
        assert ex.submit(0, "y", "a", "buy", 0, 100, -MAX_LOTS).reason == "non_positive_rate"
        assert ex.submit(0, "r", "a", "buy", 0, 100, 1).ok
        assert ex.modify(0, "r", "a", None, -(MAX_LOTS + 1)).reason == "bad_field"
        assert ex.modify(0, "r", "a", None, -MAX_LOTS).reason == "non_positive_rate"
        assert ex.close(0, 1).ok
        assert ex.uncross(0, 1, "49").reason == "bad_field"  # before slot_closed
        assert ex.uncross(0, 1, 49).reason == "slot_closed"
        assert ex.uncross(2, 1, "49").reason == "bad_field"  # before auction_phase
        assert ex.uncross(2, 1, 49).reason == "auction_phase"
    assert observable(c, [0, 1, 2]) == observable(py, [0, 1, 2])


def test_a_slot_gets_a_book_only_when_an_order_rests():
    py, c = pair(True, None)
    for ex in (py, c):
        assert str(ex.submit(0, "i", "a", "buy", 5, 100, 1, "limit", "ioc").status) == "cancelled"
        assert str(ex.submit(0, "f", "a", "buy", 5, 100, 1, "limit", "fok").status) == "killed"
        assert str(ex.submit(0, "m", "a", "buy", 5, None, 1, "market", "gtc").status) == (
            "cancelled")
        assert 5 not in ex.books
        assert str(ex.submit(0, "g", "a", "sell", 7, 100, 1).status) == "resting"
        assert list(ex.books) == [7]
        block = ex.submit(0, "b", "b", "buy", 7, 100, 1, last_slot=8)
        assert str(block.status) == "killed" and list(ex.books) == [7]
        check_invariants(ex)
    assert observable(c, [5, 7, 8]) == observable(py, [5, 7, 8])
    twin = pickle.loads(pickle.dumps(c))
    assert str(twin.submit(1, "j", "a", "buy", 9, 100, 1, "limit", "ioc").status) == "cancelled"
    assert 9 not in twin.books


def test_the_agents_quote_queries_read_the_books() -> None:
    """``best_bid``/``best_ask``/``quotes``/``depth``/``vwap``/``traded_volume`` of either
    engine say what the book views say (the differential tests above then pin the C engine to
    the reference)."""
    for ex in pair(False, 4):
        ex.open_continuous(1, 0)
        assert ex.quotes(1) == (None, None) and ex.quotes(3) == (None, None)
        assert ex.vwap(1) is None and ex.depth(1, Side.BUY, 2) == []
        for i, (side, price, rate) in enumerate([(Side.BUY, 100, 5), (Side.BUY, 102, 1),
                                                  (Side.BUY, 101, 2), (Side.SELL, 110, 3),
                                                  (Side.SELL, 108, 4), (Side.SELL, 102, 1)]):
            ex.submit(0, i, f"o{i}", side, 1, price, rate)
        book = ex.books[1]
        assert ex.quotes(1) == (book.best_bid(), book.best_ask()) == (101, 108)
        assert ex.best_bid(1) == 101 and ex.best_ask(1) == 108
        assert ex.depth(1, Side.BUY, 2) == [(101, 2), (100, 5)]
        assert ex.depth(1, Side.SELL, 5) == [(108, 4), (110, 3)]
        assert ex.vwap(1) == book.turnover / book.volume == 102
        assert ex.traded_volume(1) == book.volume == 1 and ex.traded_volume(2) == 0
        assert ex.position("o5", 1) == -1 and ex.position("o1", 1) == 1
        assert ex.position("nobody", 1) == 0 and ex.position("o5", 2) == 0
        assert ex.positions("o5", [1, 2, np.int64(1), 9]) == [-1, 0, -1, 0]
        assert ex.positions("nobody", range(4)) == [0] * 4 and ex.positions("o1", []) == []
