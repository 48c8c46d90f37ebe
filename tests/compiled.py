"""What the differential tests of the compiled decisions share (``rex_env._core``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class CountingCore:
    """Wraps a compiled core: each call of its decision method (``act``, ``decode``) is
    counted as ``decided``, or ``handed back`` when it returned ``None`` (the Python code then
    decides), so a test can assert the compiled path really ran."""

    def __init__(self, core: Any, tally: dict[str, int]) -> None:
        self.core, self.tally = core, tally

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.core, name)

        def counted(*args: Any) -> Any:
            out = method(*args)
            self.tally["decided" if out is not None else "handed back"] += 1
            return out

        return counted
