"""The fuzz harness in the test suite: a short run finds nothing, and planted bugs are found."""

from __future__ import annotations

import io

import pytest

from rex_env.exchange import PythonExchange
from rex_env.exchange.book import Book

from .fuzz import ENGINES, main, run


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_a_short_fuzz_run_against_the_independent_model_finds_no_violation(engine):
    out = io.StringIO()
    result = run(60_000, seed=15, out=out, engine=ENGINES[engine])
    assert result["violations"] == 0, out.getvalue()
    assert result["instructions"] == 60_000
    # the stream really exercises the engine: trades, rejections of every kind
    assert result["trades"] > 2_000 and 10_000 < result["rejected"] < 40_000

@pytest.mark.parametrize("bug", ["fok-counts-own-orders", "float-price-raises",
                                 "block-rests-in-books"])
def test_the_harness_reports_a_planted_bug(monkeypatch, bug):
    """Bugs planted in the Python reference (the C core's are caught by the differential
    tests, which compare it with the reference on every report)."""
    if bug == "fok-counts-own-orders":
        real = Book.fillable
        monkeypatch.setattr(Book, "fillable",
                            lambda self, side, limit, owner, need: real(self, side, limit,
                                                                        "\0", need))
    elif bug == "float-price-raises":
        real_submit = PythonExchange.submit

        def submit(self, time, order_id, owner, side, first_slot, price, *rest, **kw):
            if isinstance(price, float):
                raise TypeError("price must be int")
            return real_submit(self, time, order_id, owner, side, first_slot, price, *rest,
                               **kw)
        monkeypatch.setattr(PythonExchange, "submit", submit)
    else:
        real_book = PythonExchange._book
        real_block = PythonExchange._block

        def block(self, order):
            for s in range(order.first_slot, order.last_slot + 1):
                real_book(self, s)
            return real_block(self, order)
        monkeypatch.setattr(PythonExchange, "_block", block)
    out = io.StringIO()
    assert run(20_000, seed=3, out=out, engine=PythonExchange)["violations"] > 0
    assert "violation 1" in out.getvalue()

def test_the_command_line_prints_the_figure(capsys):
    assert main(["--instructions", "3000", "--seed", "2"]) == 0
    assert "3000 instructions, 0 violations" in capsys.readouterr().out
