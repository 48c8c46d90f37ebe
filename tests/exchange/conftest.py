"""Run every exchange test on both engines: the pure-Python reference and the C core.

Test modules that build exchanges (``Exchange`` or the ``make_book`` helper) are parametrised
with ``exchange_engine`` in ``("python", "c")``; the fixture points the module's and the
helpers' ``Exchange`` at the engine's class, so the tests themselves stay unchanged. Without a
built C core the ``c`` cases are skipped (``make test`` builds it).
"""

from __future__ import annotations

import pytest

from rex_env import _core
from rex_env.exchange import PythonExchange

from . import helpers

ENGINES = ("python", "c")


def engine_class(name: str) -> type:
    """The exchange class of an engine name (skips the test if the C core is not built)."""
    if name == "python":
        return PythonExchange
    if not _core.AVAILABLE:
        pytest.skip(f"C core not built: {_core.IMPORT_ERROR}")
    return _core.Exchange


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    module = metafunc.module
    if hasattr(module, "Exchange") or hasattr(module, "make_book"):
        metafunc.parametrize("exchange_engine", ENGINES, indirect=True)


@pytest.fixture(autouse=True)
def exchange_engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    name = getattr(request, "param", "python")
    cls = engine_class(name)
    for module in (request.module, helpers):
        if hasattr(module, "Exchange"):
            monkeypatch.setattr(module, "Exchange", cls)
    return name
