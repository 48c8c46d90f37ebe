"""Records of the exchange: sides, order kinds, statuses, reject reasons, orders and trades.

Everything inside the exchange is an integer: prices in ticks, rates in lots, time in seconds
(SPEC §1). Conversion to currency/MWh and kW happens only at the edge (:mod:`.grid`).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum, IntEnum
from typing import NamedTuple, Protocol, TypeAlias

# -- limits: what one instruction may ask for, so that no input can exhaust memory or time ----
# (a compiled engine mirrors these exactly; see README "Limits and hostile input")

MAX_BLOCK_SLOTS = 1024
"""Most delivery slots one block order may span: ``last_slot - first_slot + 1`` above this is
``bad_field`` (checked in the ``bad_field`` stage, before anything is allocated). 1024 slots of
15 min are more than ten days."""

MAX_SLOT = 2**31 - 1
"""Highest delivery slot index: a slot above it is ``unknown_slot``, like a negative one."""

MAX_LOTS = 10**12
"""Largest rate magnitude in lots (10^11 kW with the 0.1 kW lot): a submitted or modified rate
with ``abs(rate) > MAX_LOTS`` is ``bad_field`` (checked in the ``bad_field`` stage)."""

MAX_TIME = 2**62
"""Latest time in seconds: an instruction with ``time > MAX_TIME`` is ``bad_field``."""

OrderId: TypeAlias = str | int
"""Unique per accepted submission; chosen by the submitter (SPEC §4)."""
AgentId: TypeAlias = str
"""The owner of orders, positions and cash."""


class Side(IntEnum):
    """Buy or sell; the integer value is the sign of the position change (bought > 0)."""

    BUY = 1
    SELL = -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY

    def __str__(self) -> str:
        return "buy" if self is Side.BUY else "sell"


class Kind(str, Enum):
    """``limit`` orders carry a price; ``market`` orders sweep to the price bound, never rest."""

    LIMIT = "limit"
    MARKET = "market"

    def __str__(self) -> str:
        return self.value


class Tif(str, Enum):
    """Time in force: good till gate closure, immediate-or-cancel, fill-or-kill."""

    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"

    def __str__(self) -> str:
        return self.value


class Status(str, Enum):
    """Every submission ends in exactly one of these (SPEC §5)."""

    RESTING = "resting"
    FILLED = "filled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    KILLED = "killed"
    REJECTED = "rejected"

    def __str__(self) -> str:
        return self.value


class Reason(str, Enum):
    """Reject reason codes (SPEC §5) plus ``self_trade`` for self-trade-prevention cancels."""

    BAD_FIELD = "bad_field"
    DUPLICATE_ID = "duplicate_id"
    PRICE_OUT_OF_BOUNDS = "price_out_of_bounds"
    OFF_TICK = "off_tick"
    NON_POSITIVE_RATE = "non_positive_rate"
    OFF_LOT = "off_lot"
    UNKNOWN_SLOT = "unknown_slot"
    SLOT_CLOSED = "slot_closed"
    SLOT_NOT_OPEN = "slot_not_open"
    AUCTION_PHASE = "auction_phase"
    UNKNOWN_ORDER = "unknown_order"
    SELF_TRADE = "self_trade"
    UNKNOWN_ZONE = "unknown_zone"  # zonal exchange only (SPEC §13)
    NO_PATH = "no_path"  # zonal exchange only: an explicit cross-zonal order without a path

    def __str__(self) -> str:
        return self.value


class Phase(str, Enum):
    """The state of one delivery slot's book (SPEC §3)."""

    PENDING = "pending"  # not yet open
    CALL = "call"  # opening (or re-opened) call auction: collect, never match
    CONTINUOUS = "continuous"  # continuous double auction
    CLOSED = "closed"  # after gate closure

    def __str__(self) -> str:
        return self.value


_RESTING = Status.RESTING
_REJECTED = Status.REJECTED


class Order:
    """One accepted submission and its state; owned and mutated only by the exchange.

    ``rate`` is the *open* (unfilled, not removed) rate in lots. ``seq`` is the time-priority
    stamp: lower is earlier. For a block order (``first_slot < last_slot``) ``filled`` is the
    per-slot filled rate.
    """

    __slots__ = (
        "order_id",
        "owner",
        "side",
        "first_slot",
        "last_slot",
        "price",
        "rate",
        "kind",
        "tif",
        "time",
        "seq",
        "filled",
        "status",
        "reason",
        "offered",
        "removed",
        "prev",
        "next",
    )

    def __init__(
        self,
        order_id: OrderId,
        owner: AgentId,
        side: Side,
        first_slot: int,
        last_slot: int,
        price: int | None,
        rate: int,
        kind: Kind,
        tif: Tif,
        time: int,
        seq: int,
    ) -> None:
        self.order_id = order_id
        self.owner = owner
        self.side = side
        self.first_slot = first_slot
        self.last_slot = last_slot
        self.price = price
        self.rate = rate
        self.kind = kind
        self.tif = tif
        self.time = time
        self.seq = seq
        self.filled = 0
        self.status = _RESTING
        self.reason: Reason | None = None
        self.offered = rate  # every lot this order ever offered (grows on upward modify)
        self.removed = 0  # lots cancelled / expired / killed / modified away
        # neighbours in its price level's queue while it rests (see :class:`.book.Level`)
        self.prev: Order | None = None
        self.next: Order | None = None

    @property
    def is_block(self) -> bool:
        return self.first_slot != self.last_slot

    def __repr__(self) -> str:
        price = "mkt" if self.price is None else str(self.price)
        return (
            f"Order({self.order_id!r}, {self.owner!r}, {self.side}, slots={self.first_slot}"
            f"..{self.last_slot}, price={price}, open={self.rate}, filled={self.filled}, "
            f"{self.kind}/{self.tif}, {self.status})"
        )


class Trade(NamedTuple):
    """One execution; price in ticks, rate in lots, at the resting order's price (SPEC §4)."""

    trade_id: int
    time: int
    slot: int
    price: int
    rate: int
    buy_order_id: OrderId
    sell_order_id: OrderId
    buyer: AgentId
    seller: AgentId
    aggressor: str  # "buy", "sell" or "auction"


class OrderRecord(Protocol):
    """What a report's ``order`` offers to read: an :class:`Order`, or the record of an order
    that the zonal coupling filled in part across zones (:class:`~.zones.ZoneOrder`)."""

    @property
    def order_id(self) -> OrderId: ...
    @property
    def owner(self) -> AgentId: ...
    @property
    def side(self) -> Side: ...
    @property
    def first_slot(self) -> int: ...
    @property
    def last_slot(self) -> int: ...
    @property
    def price(self) -> int | None: ...
    @property
    def rate(self) -> int: ...
    @property
    def kind(self) -> Kind: ...
    @property
    def tif(self) -> Tif: ...
    @property
    def time(self) -> int: ...
    @property
    def seq(self) -> int: ...
    @property
    def filled(self) -> int: ...
    @property
    def status(self) -> Status: ...
    @property
    def reason(self) -> Reason | None: ...
    @property
    def offered(self) -> int: ...
    @property
    def removed(self) -> int: ...
    @property
    def is_block(self) -> bool: ...


class TradeRecord(Protocol):
    """What a report's trades offer to read: the fields of :class:`Trade` (a zonal exchange's
    :class:`~.zones.ZoneTrade` adds the zones)."""

    @property
    def trade_id(self) -> int: ...
    @property
    def time(self) -> int: ...
    @property
    def slot(self) -> int: ...
    @property
    def price(self) -> int: ...
    @property
    def rate(self) -> int: ...
    @property
    def buy_order_id(self) -> OrderId: ...
    @property
    def sell_order_id(self) -> OrderId: ...
    @property
    def buyer(self) -> AgentId: ...
    @property
    def seller(self) -> AgentId: ...
    @property
    def aggressor(self) -> str: ...


class Report(NamedTuple):
    """What one instruction did: the returned events, never sent anywhere by the engine.

    ``order`` is the live order record (``None`` for a rejection or a lifecycle instruction);
    ``self_trade_cancelled`` lists resting orders of the same owner removed by self-trade
    prevention; ``expired`` lists orders removed by gate closure. ``order`` and ``trades`` are
    typed by what they offer to read (:class:`OrderRecord`, :class:`TradeRecord`) because a
    zonal exchange reports a :class:`~.zones.ZoneOrder` and :class:`~.zones.ZoneTrade` there.
    """

    status: Status | None
    reason: Reason | None
    order: OrderRecord | None
    trades: Sequence[TradeRecord]
    self_trade_cancelled: list[Order]
    expired: list[Order]

    @property
    def ok(self) -> bool:
        """True unless the instruction was rejected (and so changed nothing)."""
        return self.status is not Status.REJECTED


EMPTY: list = []  # shared, never mutated: the empty event list of reports


def rejected(reason: Reason) -> Report:
    """A report for an instruction that changed nothing."""
    return Report(_REJECTED, reason, None, EMPTY, EMPTY, EMPTY)
