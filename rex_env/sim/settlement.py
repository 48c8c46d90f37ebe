"""Settlement: trades at their prices, imbalances at the imbalance price, and every owner's
accounts over an episode. All of SPEC §9 lives here:

* per slot — :func:`settle_slot` / :func:`settle_book` and the per-owner report
  :class:`OwnerSettlement` (position, actual, imbalance, trade cash, imbalance cash), with the
  imbalance rules below (:func:`imbalance_prices`);
* per episode — :class:`Ledger` (each slot settled once) and its one account per owner,
  :class:`OwnerAccount`: the surplus rewards and reports are made of, with the value of
  consumption served (:func:`served_consumption_value`) and the value of the energy left in a
  battery at the end (:func:`terminal_energy_value`).

SPEC §3.5 and §9, "no reservation, no service". An owner's *position* in a slot is the signed
sum of the rates it traded (bought > 0); what it reserved is the opposite, as a net rate
(positive = production / export): ``reserved_kw = -position_kw``. After delivery::

    imbalance_kwh = (actual_kw - reserved_kw) * slot_len / 3600

positive when the owner delivered more (or consumed less) than it reserved. Trade cash comes
from the book's integer notional (seller +, buyer -); imbalance cash is ``price * kWh / 1000``
(surplus receives, shortfall pays, for a positive price).

Three imbalance rules (``SettlementConfig.mode``; sources in
``/work/shared/notes/market_rules.md`` §2):

* ``single`` — the EU target model (ACER Decision 18/2020, EB GL Art. 52; notes [S26][S27]):
  one price for both directions, so an owner that helps the system is paid and one that hurts
  it pays. Coupled to the traded price as Germany's reBAP is (notes §2.2 [S29b]: module 2
  keeps the imbalance price at a minimum distance from an intraday price index, module 3 adds
  a scarcity component): for the side that *caused* the system imbalance the price is never
  better than the slot's VWAP — a short system pays at least the VWAP, a long system receives
  at most the VWAP — worsened by ``min_gap`` plus a scarcity adder proportional to the system
  imbalance (design option A)::

      price = VWAP - sign(SI) * min_gap - scarcity_adder * SI / 1000     (SI in kWh)

  ``SI`` = the system imbalance (> 0 long). Without trades the reference is
  ``reference_price``. Clipped to ``±price_cap`` but never across the VWAP (the coupling
  wins). Owners on the helping side get the same price, so they do better than the VWAP: the
  single-price incentive to help the system. The sign of ``SI`` must not be predictable,
  or the price is (issue 11: asset-less noise traders that ended slots as net buyers made the
  system long in 90 % of slots, and selling more than one had paid ≈ 21 /MWh); the ZI
  traders therefore end every slot flat (:mod:`agents.zi`).
* ``dual`` — Power TAC's balancing market (notes [S32], design option B): shortfalls pay
  ``max trade price * (1 + premium) + fee``, surpluses receive
  ``min trade price / (1 + premium) - fee``. Both sides are worse off than trading.
* ``curtail`` — hard "no reservation, no service" (design option C): a shortfall is not served
  and costs the value of lost load; a surplus is spilled unpaid. No imbalance cash.

The module imports the standard library and the exchange's :class:`Grid` and :class:`Book`
only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, NamedTuple, Protocol

from rex_env.exchange.book import Book
from rex_env.exchange.grid import Grid
from rex_env.spec.settlement import SettlementConfig, check_finite_number


@dataclass(frozen=True, slots=True)
class OwnerSettlement:
    """One owner's settlement in one slot (the per-owner report of SPEC §9).

    Rates in kW, energy in kWh, prices in currency/MWh, cash in currency (received > 0).
    Always ``imbalance_cash == imbalance_price * imbalance_kwh / 1000`` (0 in curtail mode).
    """

    slot: int
    owner: str
    position_kw: float
    """Signed rate traded, bought > 0."""
    reserved_kw: float
    """Reserved net rate, production > 0: ``-position_kw``."""
    actual_kw: float
    """Realised net rate, production > 0."""
    imbalance_kwh: float
    """``(actual_kw - reserved_kw) * hours``; > 0 = delivered more / consumed less."""
    trade_cash: float
    imbalance_cash: float
    unserved_kwh: float
    """Curtail mode: shortfall energy that was not served (>= 0)."""
    unserved_cost: float
    """Curtail mode: ``voll * unserved_kwh / 1000`` (a cost, >= 0)."""
    spilled_kwh: float
    """Curtail mode: surplus energy spilled unpaid (>= 0)."""
    imbalance_price: float
    """The price this owner's imbalance settled at (0 in curtail mode)."""
    hours: float
    """Slot length in hours, so the kW fields convert to kWh."""

    @property
    def reserved_kwh(self) -> float:
        """Reserved net energy (production > 0)."""
        return self.reserved_kw * self.hours

    @property
    def actual_kwh(self) -> float:
        """Realised net energy (production > 0)."""
        return self.actual_kw * self.hours

    @property
    def traded_kwh(self) -> float:
        """Absolute energy of the net position."""
        return abs(self.position_kw) * self.hours

    @property
    def net_cash(self) -> float:
        """Everything the owner receives for the slot: trades + imbalance - unserved cost."""
        return self.trade_cash + self.imbalance_cash - self.unserved_cost

    def as_dict(self) -> dict[str, Any]:
        """Plain dict of the fields (for CSV / JSON reports)."""
        return asdict(self)


@dataclass(frozen=True)
class SlotSettlement:
    """All owners' settlements of one slot, with the prices and statistics used.

    Attributes:
        slot: delivery slot index.
        mode: the settlement mode.
        owners: owner -> record; every owner that traded or has a realised rate, once.
        system_imbalance_kwh: sum of all owners' imbalances (> 0 = system long).
        reference_price: the slot reference (VWAP, or the configured price without trades).
        price_short: price a shortfall settled at (0 in curtail mode).
        price_surplus: price a surplus settled at (= ``price_short`` in single mode).
        vwap, high, low: the slot's trade statistics (None when it did not trade).
    """

    slot: int
    mode: str
    owners: dict[str, OwnerSettlement]
    system_imbalance_kwh: float
    reference_price: float
    price_short: float
    price_surplus: float
    vwap: float | None
    high: float | None
    low: float | None

    @property
    def traded(self) -> bool:
        """Whether the slot had any trade."""
        return self.vwap is not None

    def total(self, name: str) -> float:
        """Sum of one numeric field over owners (e.g. ``"trade_cash"``)."""
        return math.fsum(getattr(r, name) for r in self.owners.values())


def imbalance_prices(
    system_imbalance_kwh: float,
    vwap: float | None,
    high: float | None,
    low: float | None,
    config: SettlementConfig,
) -> tuple[float, float, float]:
    """Reference, shortfall and surplus prices of a slot (currency/MWh).

    Kept separate from :func:`settle_slot` so agents and tests can query the rule directly.

    Returns:
        ``(reference, price_short, price_surplus)``.
    """
    ref = config.reference_price if vwap is None else vwap
    if config.mode == "single":
        si = system_imbalance_kwh
        if abs(si) < 1e-9:  # balanced up to float rounding of the owners' sum
            si = 0.0
        step = config.min_gap if si > 0 else (-config.min_gap if si < 0 else 0.0)
        p = ref - step - config.scarcity_adder * si / 1000.0
        p = min(max(p, -config.price_cap), config.price_cap)
        # the coupling wins over the cap: never better than the reference for the cause
        p = min(p, ref) if si > 0 else (max(p, ref) if si < 0 else ref)
        return ref, p, p
    if config.mode == "dual":
        hi = ref if high is None else high
        lo = ref if low is None else low
        # Power TAC multiplies by the premium; for negative prices that would *lower* the
        # shortfall price, so the factor is applied in the direction that always penalises.
        k = 1.0 + config.premium
        short = (hi * k if hi >= 0 else hi / k) + config.fee
        surplus = (lo / k if lo >= 0 else lo * k) - config.fee
        return ref, short, surplus
    return ref, 0.0, 0.0


def settle_slot(
    slot: int,
    grid: Grid,
    positions: Mapping[str, int],
    notional: Mapping[str, int],
    actual_kw: Mapping[str, float],
    vwap: float | None,
    high: float | None,
    low: float | None,
    config: SettlementConfig | None = None,
) -> SlotSettlement:
    """Settle one closed slot.

    Args:
        slot: delivery slot index.
        grid: the exchange grid (lot, tick, slot length).
        positions: owner -> signed lots bought (the book's ``positions``); must sum to zero.
        notional: owner -> tick*lot cash units received (the book's ``notional``, seller +).
        actual_kw: owner -> realised net rate in kW (production > 0). An owner missing here
            realised 0 (it traded without physical assets).
        vwap, high, low: the slot's trade prices in currency/MWh, all None if it did not trade.
        config: imbalance rule; the defaults of :class:`SettlementConfig` if None.

    Returns:
        The settlement, one record per owner in ``positions`` or ``actual_kw``.

    Raises:
        ValueError: inconsistent input (positions or notional not zero-sum, a non-finite
            rate, trade statistics partly missing or out of order).
    """
    cfg = config if config is not None else SettlementConfig()
    if sum(positions.values()) != 0:
        raise ValueError(f"slot {slot}: positions must sum to zero lots, got {dict(positions)}")
    if sum(notional.values()) != 0:
        raise ValueError(f"slot {slot}: notional must sum to zero, got {dict(notional)}")
    stats = (vwap, high, low)
    if any(s is None for s in stats) and not all(s is None for s in stats):
        raise ValueError(f"slot {slot}: vwap, high, low must all be set or all None, got {stats}")
    if vwap is not None and high is not None and low is not None:
        for name, value in zip(("vwap", "high", "low"), (vwap, high, low), strict=True):
            check_finite_number(name, value)
        tol = 1e-9 * max(1.0, abs(high), abs(low))
        if not low - tol <= vwap <= high + tol:
            raise ValueError(f"slot {slot}: need low <= vwap <= high, got {low}, {vwap}, {high}")
    elif any(positions.values()):
        raise ValueError(f"slot {slot}: non-zero positions but no trade statistics")
    for owner, rate in actual_kw.items():
        check_finite_number(f"actual_kw[{owner!r}]", rate)

    hours = grid.slot_len / 3600.0
    owners = list(dict.fromkeys([*positions, *actual_kw]))
    pos_kw = {o: grid.rate(positions.get(o, 0)) for o in owners}
    imb = {o: (float(actual_kw.get(o, 0.0)) + pos_kw[o]) * hours for o in owners}
    system = math.fsum(imb.values())
    ref, p_short, p_surplus = imbalance_prices(system, vwap, high, low, cfg)

    records: dict[str, OwnerSettlement] = {}
    for o in owners:
        e = imb[o]
        unserved = spilled = 0.0
        if cfg.mode == "curtail":
            price = 0.0
            unserved, spilled = max(-e, 0.0), max(e, 0.0)
        elif e < 0:
            price = p_short
        elif e > 0:
            price = p_surplus
        else:
            price = p_short if cfg.mode == "single" else ref
        records[o] = OwnerSettlement(
            slot=slot,
            owner=o,
            position_kw=pos_kw[o],
            reserved_kw=0.0 - pos_kw[o],  # 0.0, not -0.0, for an owner without trades
            actual_kw=float(actual_kw.get(o, 0.0)),
            imbalance_kwh=e,
            trade_cash=grid.cash(notional.get(o, 0)),
            imbalance_cash=price * e / 1000.0,
            unserved_kwh=unserved,
            unserved_cost=cfg.voll * unserved / 1000.0,
            spilled_kwh=spilled,
            imbalance_price=price,
            hours=hours,
        )
    return SlotSettlement(
        slot=slot,
        mode=cfg.mode,
        owners=records,
        system_imbalance_kwh=system,
        reference_price=ref,
        price_short=p_short,
        price_surplus=p_surplus,
        vwap=vwap,
        high=high,
        low=low,
    )


def book_prices(book: Book, grid: Grid) -> tuple[float | None, float | None, float | None]:
    """A book's ``(vwap, high, low)`` in currency/MWh, all None if it never traded."""
    if book.volume == 0 or book.high is None or book.low is None:
        return None, None, None
    return grid.price(book.turnover / book.volume), grid.price(book.high), grid.price(book.low)


def settle_book(
    book: Book,
    grid: Grid,
    actual_kw: Mapping[str, float],
    config: SettlementConfig | None = None,
) -> SlotSettlement:
    """:func:`settle_slot` fed from a closed :class:`Book` (positions, notional, prices)."""
    vwap, high, low = book_prices(book, grid)
    return settle_slot(
        book.slot, grid, book.positions, book.notional, actual_kw, vwap, high, low, config
    )


class TariffLike(Protocol):
    """Anything with a retail and a feed-in price in currency/MWh (e.g. the scenario's tariff)."""

    @property
    def retail(self) -> float: ...

    @property
    def feed_in(self) -> float: ...


class Delivery(NamedTuple):
    """What an owner's assets did in one delivered slot, for its surplus (SPEC §9).

    The market knows positions and prices; only the physics knows these.
    """

    consumption_kwh: float
    """Energy its load used (>= 0), whether or not it was served."""
    production_kwh: float
    """Energy its generation and plant produced (>= 0)."""
    production_cost: float
    """Currency, the plant's fuel cost of that production (>= 0)."""


def served_consumption_value(consumption_kwh: float, unserved_kwh: float,
                             retail: float) -> float:
    """Value of the consumption that was served, at the retail price (currency).

    A household values its consumption at least at what it would pay the grid for it (SPEC §9,
    the tariff); energy not served under ``curtail`` has no value (its cost is the VoLL).
    """
    return (consumption_kwh - min(unserved_kwh, consumption_kwh)) * retail / 1000


@dataclass(eq=False)
class OwnerAccount:
    """One owner's ledger over an episode: every figure its surplus and reports are made of.

    This is the only per-owner accumulator (the market's rewards, ``simulate``'s owners.csv,
    the metrics' welfare and HHI all read it). Each name has one meaning:

    Money, currency, received > 0:

    * ``trade_cash`` — cash of the owner's trades (seller +, buyer -). In the market it is
      booked *at each fill* (:meth:`on_fill`), so during an episode it includes slots not yet
      delivered; after the last settlement it equals the sum of the slots'
      :attr:`OwnerSettlement.trade_cash` (see :class:`Ledger`'s ``cash_at_fill``).
    * ``imbalance_cash`` — imbalance settlements, booked at each slot's settlement.
    * ``unserved_cost`` — ``curtail``: value of lost load of energy not served (a cost >= 0).
    * ``consumption_value`` — consumption served, valued at the retail tariff
      (:func:`served_consumption_value`).
    * ``production_cost`` — the plant's cost of what it produced (a cost >= 0).
    * ``terminal_value`` — the battery's change of stored energy over the episode, valued at
      the end at the day's VWAP x discharge efficiency (:func:`terminal_energy_value`; 0 for
      owners without a battery, and until the episode's last slot has settled).

    Energy, kWh, summed over settled slots: ``consumption_kwh`` and ``production_kwh``
    (>= 0); ``reserved_kwh`` and ``actual_kwh`` (signed net energy, production > 0);
    ``imbalance_net_kwh`` (signed sum of imbalances, > 0 = delivered more than reserved) and
    ``imbalance_volume_kwh`` (sum of ``|imbalance|``, the imbalance volume of notes §4);
    ``position_kwh`` (sum of ``|net position|``); ``unserved_kwh`` and ``spilled_kwh``
    (``curtail``).

    Trading, counted at each fill: ``fills`` (trades the owner was part of), ``bought_kw`` and
    ``sold_kw`` (gross rate, kW·slot), ``rejections`` (reason -> count of rejected
    instructions). ``n_slots`` counts settled slots.

    Args:
        owner: the participant's id.
        tariff: the flat tariff for :attr:`benefit` (None: benefit is undefined, nan).
    """

    owner: str = ""
    tariff: TariffLike | None = None
    trade_cash: float = 0.0
    imbalance_cash: float = 0.0
    unserved_cost: float = 0.0
    consumption_value: float = 0.0
    production_cost: float = 0.0
    terminal_value: float = 0.0
    consumption_kwh: float = 0.0
    production_kwh: float = 0.0
    reserved_kwh: float = 0.0
    actual_kwh: float = 0.0
    imbalance_net_kwh: float = 0.0
    imbalance_volume_kwh: float = 0.0
    position_kwh: float = 0.0
    unserved_kwh: float = 0.0
    spilled_kwh: float = 0.0
    fills: int = 0
    bought_kw: float = 0.0
    sold_kw: float = 0.0
    rejections: dict[str, int] = field(default_factory=dict)
    n_slots: int = 0

    def on_fill(self, cash: float, rate_kw: float, bought: bool) -> None:
        """Book one side of a trade: ``cash`` received (< 0 when buying), ``rate_kw`` > 0."""
        self.trade_cash += cash
        self.fills += 1
        if bought:
            self.bought_kw += rate_kw
        else:
            self.sold_kw += rate_kw

    def on_settlement(self, rec: OwnerSettlement, delivery: Delivery | None = None,
                      retail: float = 0.0) -> None:
        """Book one slot's settlement and what the owner's assets did in it.

        Trade cash is not booked here (:meth:`on_fill`, or the :class:`Ledger`, does it).

        Raises:
            ValueError: the record belongs to another owner.
        """
        if rec.owner != self.owner:
            raise ValueError(f"record of {rec.owner!r} given to the account of {self.owner!r}")
        self.n_slots += 1
        self.imbalance_cash += rec.imbalance_cash
        self.unserved_cost += rec.unserved_cost
        self.reserved_kwh += rec.reserved_kwh
        self.actual_kwh += rec.actual_kwh
        self.imbalance_net_kwh += rec.imbalance_kwh
        self.imbalance_volume_kwh += abs(rec.imbalance_kwh)
        self.position_kwh += rec.traded_kwh
        self.unserved_kwh += rec.unserved_kwh
        self.spilled_kwh += rec.spilled_kwh
        if delivery is not None:
            cons = delivery.consumption_kwh
            self.consumption_kwh += cons
            self.production_kwh += delivery.production_kwh
            self.consumption_value += served_consumption_value(cons, rec.unserved_kwh, retail)
            self.production_cost += delivery.production_cost

    @property
    def filled_kw(self) -> float:
        """Gross traded rate (bought + sold), kW·slot."""
        return self.bought_kw + self.sold_kw

    @property
    def net_cash(self) -> float:
        """Market cash: trade cash + imbalance cash - unserved cost."""
        return self.trade_cash + self.imbalance_cash - self.unserved_cost

    @property
    def surplus(self) -> float:
        """The owner's economic surplus (SPEC §9): market cash + value of consumption served
        - production cost + terminal value of stored energy. What rewards are made of."""
        return (self.trade_cash + self.imbalance_cash + self.consumption_value
                - self.production_cost - self.unserved_cost + self.terminal_value)

    @property
    def imbalance_cost(self) -> float:
        """Net imbalance payments + unserved cost (negative = net imbalance revenue)."""
        return self.unserved_cost - self.imbalance_cash

    @property
    def tariff_surplus(self) -> float:
        """Surplus the owner would have had on the flat tariff (nan without a tariff)."""
        t = self.tariff
        if t is None:
            return math.nan
        return (self.consumption_value - self.production_cost
                - self.consumption_kwh * t.retail / 1000.0
                + self.production_kwh * t.feed_in / 1000.0)

    @property
    def benefit(self) -> float:
        """Surplus gained by trading on Rex instead of the flat tariff (nan without one)."""
        return self.surplus - self.tariff_surplus

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready snapshot of every figure (nan where undefined)."""
        out: dict[str, Any] = {"owner": self.owner}
        for f in fields(self):
            if f.name not in ("owner", "tariff"):
                v = getattr(self, f.name)
                out[f.name] = dict(v) if isinstance(v, dict) else v
        for name in ("filled_kw", "net_cash", "surplus", "imbalance_cost", "tariff_surplus",
                     "benefit"):
            out[name] = getattr(self, name)
        return out


class BatteryLike(Protocol):
    """What the terminal valuation needs of a battery (e.g. :class:`rex_env.physics.Battery`)."""

    @property
    def eta_discharge(self) -> float: ...

    @property
    def initial_energy_kwh(self) -> float: ...


def terminal_energy_value(soc_kwh_left: float, day_vwap: float, battery: BatteryLike,
                          soc_kwh_start: float | None = None) -> float:
    """Value (currency) of the change of a battery's stored energy over an episode (SPEC §9).

    ``value = (soc_kwh_left - soc_kwh_start) * day_vwap / 1000 * battery.eta_discharge``

    ``soc_kwh_start`` defaults to the battery's initial charge, so an idle battery's surplus
    stays 0 and an owner is credited (or debited) for what it added to (or took from) the
    store. This one function is the rule: the market's ledger, the environment's reward and
    the perfect-foresight bounds all call it.

    * ``day_vwap`` is the volume-weighted price of all the episode's trades (the caller falls
      back to the scenario's reference price when nothing traded): what energy was worth that
      day, public, and not in one owner's control.
    * ``eta_discharge``: a stored kWh reaches the grid as ``eta_discharge`` kWh, so this is
      what the charge would fetch at the day's average price. Taking energy out of the store
      and selling it therefore pays only at a price above the day's average (arbitrage, not
      depletion), and hoarding loses: a grid kWh bought at price ``a`` is credited
      ``eta_charge * eta_discharge * day_vwap``, less than ``a`` unless ``a`` was well below
      the average.

    Why not the round-trip efficiency (``eta_charge * eta_discharge``, issue 11's example):
    that values a stored kWh below what it sells for, so draining the battery at the average
    price still gains ``(1 - eta_charge)`` of its value. Measured on ``community`` (3 seeds): a
    battery that only sells 2 kW at the bid earned +0.15 a day with it against the storage
    dealer's 0, and -0.04 with ``eta_discharge``. Before, stored energy was worth nothing and a
    learner that only sold earned the battery's initial charge (≈ +6.4 a day, issue 11).

    Raises:
        ValueError: a non-finite input or a negative state of charge.
    """
    start = battery.initial_energy_kwh if soc_kwh_start is None else soc_kwh_start
    for name, v in (("soc_kwh_left", soc_kwh_left), ("day_vwap", day_vwap),
                    ("soc_kwh_start", start)):
        check_finite_number(name, v)
    if soc_kwh_left < 0 or start < 0:
        raise ValueError(f"soc_kwh_left and soc_kwh_start must be >= 0 kWh, got "
                         f"{soc_kwh_left}, {start}")
    return (soc_kwh_left - start) * day_vwap / 1000 * battery.eta_discharge


@dataclass
class Ledger:
    """An episode's settlements and accounts: each slot settles exactly once, nothing is left
    unsettled (SPEC §3.5), and every owner's figures add up in one :class:`OwnerAccount`.

    Args:
        grid: the exchange grid.
        config: the imbalance rule used by :meth:`settle`.
        tariff: the flat tariff: values consumption served (retail) and gives each account's
            benefit. None: consumption is not valued and benefit is undefined.
        cash_at_fill: True when the caller books every trade with :meth:`on_fill` as it
            happens (the market does: rewards need trade cash at each fill); False (default)
            books each slot's trade cash from its settlement record instead. Either way an
            account's ``trade_cash`` is the cash of its trades, counted once.
    """

    grid: Grid = field(default_factory=Grid)
    config: SettlementConfig = field(default_factory=SettlementConfig)
    tariff: TariffLike | None = None
    cash_at_fill: bool = False
    slots: dict[int, SlotSettlement] = field(default_factory=dict, init=False)
    accounts: dict[str, OwnerAccount] = field(default_factory=dict, init=False)
    _valued: set[str] = field(default_factory=set, init=False, repr=False)

    def account(self, owner: str) -> OwnerAccount:
        """The owner's account, opened on first use."""
        a = self.accounts.get(owner)
        if a is None:
            a = self.accounts[owner] = OwnerAccount(owner, self.tariff)
        return a

    def settle(
        self,
        slot: int,
        positions: Mapping[str, int],
        notional: Mapping[str, int],
        actual_kw: Mapping[str, float],
        vwap: float | None,
        high: float | None,
        low: float | None,
        deliveries: Mapping[str, Delivery] | None = None,
    ) -> SlotSettlement:
        """Settle a slot with this ledger's grid and config and record it.

        Raises:
            ValueError: the slot was already settled, or the input is inconsistent.
        """
        self._check_new(slot)
        s = settle_slot(
            slot, self.grid, positions, notional, actual_kw, vwap, high, low, self.config
        )
        self.add(s, deliveries)
        return s

    def settle_book(self, book: Book, actual_kw: Mapping[str, float],
                    deliveries: Mapping[str, Delivery] | None = None) -> SlotSettlement:
        """Settle a closed book and record it (see :func:`settle_book`)."""
        self._check_new(book.slot)
        s = settle_book(book, self.grid, actual_kw, self.config)
        self.add(s, deliveries)
        return s

    def add(self, settlement: SlotSettlement,
            deliveries: Mapping[str, Delivery] | None = None,
            consumption_price: float | None = None) -> None:
        """Add a settlement computed elsewhere and book it in the owners' accounts.

        Args:
            settlement: the slot's settlement.
            deliveries: owner -> what its assets did in the slot (consumption, production
                cost); owners missing here had none.
            consumption_price: currency/MWh that served consumption is worth in this slot
                (what the grid would have charged for it: its retail ask); ``None``: the
                tariff's flat retail price.

        Raises:
            ValueError: its slot was already settled (nothing is settled twice).
        """
        self._check_new(settlement.slot)
        self.slots[settlement.slot] = settlement
        if consumption_price is not None:
            retail = consumption_price
        else:
            retail = 0.0 if self.tariff is None else self.tariff.retail
        got = deliveries or {}
        for owner, rec in settlement.owners.items():
            acct = self.account(owner)
            acct.on_settlement(rec, got.get(owner), retail)
            if not self.cash_at_fill:
                acct.trade_cash += rec.trade_cash

    def on_fill(self, buyer: str, seller: str, cash: float, rate_kw: float) -> None:
        """Book a trade in both accounts: the buyer pays ``cash``, the seller receives it."""
        self.account(buyer).on_fill(-cash, rate_kw, True)
        self.account(seller).on_fill(cash, rate_kw, False)

    def book_terminal_value(self, owner: str, soc_kwh_left: float, day_vwap: float,
                            battery: BatteryLike) -> float:
        """Value an owner's battery at the end of the episode (:func:`terminal_energy_value`)
        and book it as the account's ``terminal_value``; returns it.

        Raises:
            ValueError: it was already booked this episode, or an input is out of range.
        """
        acct = self.account(owner)
        if owner in self._valued:
            raise ValueError(f"the terminal value of {owner!r} is already booked")
        v = terminal_energy_value(soc_kwh_left, day_vwap, battery)
        acct.terminal_value = v
        self._valued.add(owner)
        return v

    def _check_new(self, slot: int) -> None:
        if slot in self.slots:
            raise ValueError(f"slot {slot} is already settled; a slot settles exactly once")

    def __contains__(self, slot: object) -> bool:
        return slot in self.slots

    def __len__(self) -> int:
        return len(self.slots)

    def unsettled(self, expected_slots: Iterable[int]) -> list[int]:
        """Expected slots that were never settled, ascending (should be empty at episode end)."""
        return sorted(set(expected_slots) - self.slots.keys())

    def records(self) -> list[OwnerSettlement]:
        """All per-owner records, by slot then first appearance of the owner."""
        return [r for k in sorted(self.slots) for r in self.slots[k].owners.values()]

    def reset(self) -> None:
        """Forget everything (start a new episode)."""
        self.slots.clear()
        self.accounts.clear()
        self._valued.clear()
