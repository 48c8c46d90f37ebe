"""What the differential tests of the compiled decisions and bookkeeping share
(``rex_env._core``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class CountingCore:
    """Wraps a compiled core: each call of its decision method (``act``, ``decode``) is
    counted as ``decided``, or ``handed back`` when it returned ``None`` (the Python code then
    decides), so a test can assert the compiled path really ran."""

    def __init__(self, core: Any, tally: dict[str, int]) -> None:
        object.__setattr__(self, "core", core)
        object.__setattr__(self, "tally", tally)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.core, name, value)  # e.g. the plant core's plant_type

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.core, name)

        def counted(*args: Any) -> Any:
            out = method(*args)
            self.tally["decided" if out is not None else "handed back"] += 1
            return out

        return counted


class CountingAnswers:
    """Wraps a compiled bookkeeper (``TradeBook.book``, ``QuoteSampler.sample``): each call is
    counted as ``compiled`` when it answered True, ``python`` when it declined (the Python
    code then runs), so a test can assert the compiled path really ran."""

    def __init__(self, inner: Any, calls: dict[str, int]) -> None:
        self.inner, self.calls = inner, calls

    def __getattr__(self, name: str) -> Callable[..., bool]:
        method = getattr(self.inner, name)

        def counted(*args: Any) -> bool:
            done = bool(method(*args))
            self.calls["compiled" if done else "python"] += 1
            return done

        return counted


def figures(x: Any) -> Any:
    """Every attribute of accounts, slot statistics and Welford moments as comparable data,
    floats by ``repr`` (bit for bit: nan equals nan, -0.0 differs from 0.0)."""
    from rex_env.sim.metrics import SlotStats, Welford
    from rex_env.sim.settlement import OwnerAccount

    if isinstance(x, float):
        return repr(x)
    if isinstance(x, Welford):
        return ("welford", x.n, repr(x.mean), repr(x.m2))
    if isinstance(x, dict):
        return {k: figures(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(figures(v) for v in x)
    if isinstance(x, (OwnerAccount, SlotStats)):
        return (type(x).__name__, figures(vars(x)))
    return x
