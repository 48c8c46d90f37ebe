"""The market's compiled trade bookkeeping (``rex_env._core.TradeBook``, issue 12) against
``Market._on_trades``'s Python loop, the reference: the same trades booked into two copies of
the same accounts and metrics must leave every figure bit-identical (accounts, each slot's
statistics and Welford moments, the market's counters, the trade list), on Hypothesis
streams, hostile values the compiled loop must leave to Python (ints past 2**53, bools,
foreign tuples, subclasses) and whole simulated days."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents import build_population
from rex_env import _core
from rex_env.exchange import Trade
from rex_env.scenarios import make_scenario
from rex_env.sim.market import Market
from rex_env.sim.metrics import MarketMetrics, SlotStats, Welford
from rex_env.sim.settlement import OwnerAccount
from tests.compiled import CountingAnswers, figures

pytestmark = pytest.mark.skipif(not _core.AVAILABLE, reason="C core not built")

OWNERS = ("a", "b", "c")


def _state(m: Any) -> Any:
    mt = m.metrics
    return figures({"accounts": m.accounts, "slots": mt.slots, "n": mt.n_trades,
                     "volume": mt.volume, "turnover": mt.turnover, "prices": mt._prices,
                     "trades": [tuple(t) for t in m.trades]})


@pytest.fixture(autouse=True)
def compiled_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_core, "COMPILED_AGENTS", True)


SCENARIO = make_scenario("toy")


class Books(SimpleNamespace):
    """What ``Market._on_trades`` reads and writes, without the rest of a market."""


def _books(compiled: bool) -> Books:
    sc = SCENARIO
    accounts = {o: OwnerAccount(o) for o in (*sc.owners, *OWNERS)}
    return Books(grid=sc.grid, accounts=accounts, trades=[],
                 metrics=MarketMetrics(sc.tariff, slot_len=sc.schedule.slot_len,
                                       accounts=accounts),
                 _trade_book=_core.TradeBook(sc.grid, Trade, OwnerAccount, MarketMetrics,
                                             SlotStats, Welford) if compiled else None)


def _book_both(batches: list[list[Any]]) -> tuple[Books, Books, list[bool]]:
    """Book each batch compiled in one set of books (the Python loop where the compiled one
    declines) and with the Python loop alone in another; what ``TradeBook.book`` answered."""
    a, b = _books(True), _books(False)
    answers = []
    for trades in batches:
        answers.append(a._trade_book.book(trades, a.accounts, a.metrics, a.trades))
        if not answers[-1]:  # the Python loop books it, as in a market
            book, a._trade_book = a._trade_book, None
            Market._on_trades(a, trades)
            a._trade_book = book
        Market._on_trades(b, trades)
    return a, b, answers


def _trade(i: int, time: int, slot: int, price: Any, rate: Any, buyer: str, seller: str
           ) -> Trade:
    return Trade(i, time, slot, price, rate, 2 * i, 2 * i + 1, buyer, seller, "buy")


trade_rows = st.tuples(st.integers(0, 5), st.integers(-3000, 3000), st.integers(1, 500),
                       st.sampled_from((*OWNERS, "nobody")), st.sampled_from((*OWNERS, "x")))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(trade_rows, min_size=0, max_size=6), min_size=1, max_size=12))
def test_streams_book_the_same_figures(batches: list[list[Any]]) -> None:
    """Accounts for a, b and c; "nobody" and "x" have none (their side is skipped)."""
    t = 0
    trades = []
    for rows in batches:
        batch = []
        for slot, price, rate, buyer, seller in rows:
            t += 7
            batch.append(_trade(t, t, slot, price, rate, buyer, seller))
        trades.append(batch)
    a, b, answers = _book_both(trades)
    assert all(answers)
    assert _state(a) == _state(b)
    if any(trades):
        assert a.metrics.n_trades == sum(map(len, trades)) > 0


@pytest.mark.parametrize("bad", [
    {"price": 2**53}, {"price": -(2**53)}, {"rate": 2**60}, {"slot": 2**70},
    {"price": True}, {"rate": 3.0}, {"price": None}, {"slot": -1.5},
])
def test_values_it_cannot_book_exactly_go_to_python(bad: dict[str, Any]) -> None:
    """Past 2**53 a double is no longer exact (Python's ints are): the compiled loop books
    nothing and answers False, and the Python loop then books (or raises) as it always did."""
    a = _books(True)
    row = {"i": 1, "time": 5, "slot": 2, "price": 900, "rate": 3, "buyer": "a", "seller": "b"}
    good = _trade(**row)
    bad_trade = _trade(**(row | bad))
    before = _state(a)
    assert a._trade_book.book([good, bad_trade], a.accounts, a.metrics, a.trades) is False
    assert _state(a) == before  # nothing booked, not even the good trade before it


def test_foreign_records_and_subclasses_go_to_python() -> None:
    a = _books(True)
    book = a._trade_book
    good = _trade(1, 5, 2, 900, 3, "a", "b")
    before = _state(a)
    assert book.book([tuple(good)], a.accounts, a.metrics, a.trades) is False  # plain tuple

    class Audited(OwnerAccount):
        pass

    owner = next(iter(a.accounts))
    accounts = dict(a.accounts)
    accounts[owner] = Audited(owner)
    trade = _trade(1, 5, 2, 900, 3, owner, "nobody")
    assert book.book([trade], accounts, a.metrics, a.trades) is False

    class Logged(MarketMetrics):
        pass

    logged = Logged(SCENARIO.tariff, slot_len=SCENARIO.schedule.slot_len, accounts=a.accounts)
    assert book.book([good], a.accounts, logged, a.trades) is False
    assert _state(a) == before


def test_empty_report_books_nothing() -> None:
    a = _books(True)
    before = _state(a)
    assert a._trade_book.book([], a.accounts, a.metrics, a.trades) is True
    assert _state(a) == before


def test_grid_terms_are_checked() -> None:
    class Odd:
        _tick_nd = (1, 10)
        _lot_nd = (2**60, 1)
        cash_per_unit = 0.1

    with pytest.raises(ValueError, match="2\\*\\*53"):
        _core.TradeBook(Odd(), Trade, OwnerAccount, MarketMetrics, SlotStats, Welford)


@pytest.mark.parametrize("name,seed", [("toy", 3), ("community", 0), ("town", 1)])
def test_whole_days_match(name: str, seed: int) -> None:
    """A whole day with the compiled bookkeeping (and it alone toggled) ends with the same
    figures as the reference, and the compiled path booked every report."""
    sc = make_scenario(name)
    states, calls = [], {"compiled": 0, "python": 0}
    for compiled in (True, False):
        m = Market(sc, build_population(sc))
        if compiled:
            m._trade_book = CountingAnswers(m._trade_book, calls)  # type: ignore[assignment]
        else:
            m._trade_book = None
        m.reset(seed)
        m.run()
        states.append(_state(m))
        assert m.metrics.n_trades > 0
    assert calls["compiled"] > 20 and calls["python"] == 0
    assert states[0] == states[1]


@pytest.mark.parametrize("name,seed", [("toy", 2), ("community", 1)])
def test_execute_books_directly_as_on_trades_would(name: str, seed: int) -> None:
    """The compiled ``execute`` calls the book itself for ``Market._on_trades`` (no method
    call); a subclass's ``_on_trades`` is called for every report with trades instead, and both
    days end with the figures of the Python bookkeeping."""
    sc = make_scenario(name)
    seen: list[int] = []

    class Audited(Market):
        def _on_trades(self, trades: Any) -> None:
            seen.append(len(trades))
            super()._on_trades(trades)

    states = []
    for cls, book in ((Market, True), (Audited, True), (Market, False)):
        m = cls(sc, build_population(sc))
        if not book:
            m._trade_book = None
        m.reset(seed)
        m.run()
        states.append(_state(m))
    assert Market(sc, build_population(sc))._plain_on_trades
    assert not Audited(sc, build_population(sc))._plain_on_trades
    assert sum(seen) == len(states[1]["trades"]) > 20  # every trade went through the override
    assert states[0] == states[1] == states[2]


@pytest.mark.parametrize("n_slots,n_owners", [(3, 5), (40, 8), (6, 150), (40, 150)])
def test_one_call_over_many_slots_and_accounts(n_slots: int, n_owners: int) -> None:
    """One call books its trades object by object, holding at most 16 slots' statistics and
    64 accounts at once: more of either in one call (written back and read again on the way)
    gives the same figures as the Python loop."""
    import random

    rnd = random.Random(n_slots * 1000 + n_owners)
    owners = [f"o{i}" for i in range(n_owners)]
    a, b = _books(True), _books(False)
    for books in (a, b):
        books.accounts.update({o: OwnerAccount(o) for o in owners})
    trades = [_trade(i, 3 * i, rnd.randrange(n_slots), rnd.randint(-2000, 4000),
                     rnd.randint(1, 300), rnd.choice(owners), rnd.choice([*owners, "nobody"]))
              for i in range(1, 900)]
    assert a._trade_book.book(trades, a.accounts, a.metrics, a.trades)
    Market._on_trades(b, trades)
    assert _state(a) == _state(b)
    assert len(a.metrics.slots) == n_slots
    assert list(a.metrics.slots) == list(b.metrics.slots)  # created in the same order
    assert sum(acct.fills for acct in a.accounts.values()) > len(trades)


def test_a_side_reads_only_its_own_figures() -> None:
    """As ``OwnerAccount.on_fill``, a buyer's booking reads ``bought_kw`` and never
    ``sold_kw``, a seller's the reverse: an account whose other figure is not a number books
    its trades on one side as the Python loop does, and reading it does raise as there."""
    a, b = _books(True), _books(False)
    for books in (a, b):
        books.accounts["a"].sold_kw = "not a number"  # a buys only
        books.accounts["b"].bought_kw = None  # b sells only
    trades = [_trade(i, 10 * i, i % 3, 900 + i, 2 + i, "a", "b") for i in range(1, 9)]
    assert a._trade_book.book(trades, a.accounts, a.metrics, a.trades)
    Market._on_trades(b, trades)
    for books in (a, b):
        books.accounts["a"].sold_kw = books.accounts["b"].bought_kw = 0.0
    assert _state(a) == _state(b)
    assert a.accounts["a"].fills == 8 and a.accounts["b"].sold_kw > 0
    a2, b2 = _books(True), _books(False)
    for books in (a2, b2):
        books.accounts["a"].bought_kw = "not a number"
    with pytest.raises(TypeError):
        Market._on_trades(b2, trades)
    with pytest.raises(TypeError):
        a2._trade_book.book(trades, a2.accounts, a2.metrics, a2.trades)
