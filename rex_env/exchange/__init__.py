"""Rex, the reservation exchange: one limit order book per delivery slot (the LOB-3D).

Pure Python + numpy; imports no RL library. Integers inside (ticks, lots, seconds), units at
the edge (:class:`Grid`). Where each rule of SPEC.md lives:

=====================================  ==============================================
rule                                   module
=====================================  ==============================================
§1 units and grids                     :mod:`.grid`
§2 LOB-3D view                         :mod:`.lob3d`
§3 slot lifecycle (open, close)        :class:`.exchange.Exchange`
§4 matching, priority, STP             :mod:`.book`; order types in :mod:`.exchange`
§5 validation, reasons, accounting     :meth:`.exchange.Exchange.submit` / ``modify``
§6 opening auction                     :mod:`.auction`
§7 replay CLI                          :mod:`rex_env.replay`
zones (README "Zones")                 :mod:`.zones` (:class:`.zones.ZonalExchange`)
=====================================  ==============================================

Two engines share this API: the pure-Python one here (the readable reference,
:class:`PythonExchange`) and the compiled one in :mod:`rex_env._core`. ``Exchange`` is the C
engine when the extension is built, else the Python one; ``REX_ENGINE=python`` or ``c``
chooses (without a built extension the default and ``c`` warn once and use Python).
``ENGINE`` names the choice.
"""

import importlib as _importlib
import os as _os
import warnings as _warnings
from typing import TYPE_CHECKING

from .auction import Clearing, clearing_price
from .book import Book, Level
from .exchange import Exchange as PythonExchange
from .grid import Grid, parse_decimal
from .lob3d import LOB3D
from .orders import (
    AgentId,
    Kind,
    Order,
    OrderId,
    OrderRecord,
    Phase,
    Reason,
    Report,
    Side,
    Status,
    Tif,
    Trade,
    TradeRecord,
)


def _select_engine() -> tuple[type, str]:
    want = _os.environ.get("REX_ENGINE", "").strip().lower()
    if want == "python":
        return PythonExchange, "python"
    if want not in ("", "c"):
        _warnings.warn(f"REX_ENGINE={want!r} is not 'python' or 'c'; using the default",
                       RuntimeWarning, stacklevel=3)
    try:
        # by module name: rex_env._core may itself be importing this package right now
        engine = _importlib.import_module("rex_env._core.engine")
    except ImportError as exc:
        # said once per process, whether asked for or the default: an install without a C
        # compiler succeeds quietly (pip hides the build's own warning)
        asked = "REX_ENGINE=c but the" if want == "c" else "The"
        _warnings.warn(f"{asked} rex_env C core is not built ({exc}); using the pure-Python "
                       "engine (the reference: same results, a 3-5x slower exchange). Install "
                       "with a C compiler to build it, or set REX_ENGINE=python to choose the "
                       "Python engine without this warning", RuntimeWarning, stacklevel=3)
        return PythonExchange, "python"
    return engine.Exchange, "c"


if TYPE_CHECKING:
    Exchange = PythonExchange
    ENGINE: str
else:
    Exchange, ENGINE = _select_engine()

__all__ = [
    "ENGINE",
    "LOB3D",
    "AgentId",
    "Book",
    "Clearing",
    "Exchange",
    "Grid",
    "Kind",
    "Level",
    "Order",
    "OrderId",
    "OrderRecord",
    "Phase",
    "PythonExchange",
    "Reason",
    "Report",
    "Side",
    "Status",
    "Tif",
    "Trade",
    "TradeRecord",
    "clearing_price",
    "parse_decimal",
]
