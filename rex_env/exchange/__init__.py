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
=====================================  ==============================================
"""

from .auction import Clearing, clearing_price
from .book import Book, Level
from .exchange import Exchange
from .grid import Grid, parse_decimal
from .lob3d import LOB3D
from .orders import AgentId, Kind, Order, OrderId, Phase, Reason, Report, Side, Status, Tif, Trade

__all__ = [
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
    "Phase",
    "Reason",
    "Report",
    "Side",
    "Status",
    "Tif",
    "Trade",
    "clearing_price",
    "parse_decimal",
]
