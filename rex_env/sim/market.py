"""One episode of Rex: the exchange, the event kernel, the slot lifecycle, the prosumers'
physics, the agents, settlement and metrics, wired together.

The same :class:`Market` runs ``python -m rex_env.simulate`` (``run()`` to the end) and the RL
environment (``run_until(epoch)``, then the learners' instructions through :meth:`execute`).
Every random draw comes from the generator seeded in :meth:`reset`.

Events (all in one place, :meth:`Market._schedule_lifecycle` and
:meth:`Market._schedule_episode`):

========  ===================================================  =========================
time      what                                                 handler
========  ===================================================  =========================
open      slot enters its opening call phase                   :meth:`_on_open`
uncross   call phase ends at one price, continuous trading     :meth:`_on_uncross`
close     gate closure: resting orders expire, positions final  :meth:`_on_close`
settle    end of delivery: actuals realised, slot settled       :meth:`_on_settle`
sample    market-quality sample (spread, depth) of open slots   :meth:`_on_sample`
wake      an agent acts (periodic or Poisson, its own choice)   :meth:`_on_wake`
========  ===================================================  =========================
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from fractions import Fraction
from typing import Any

import numpy as np

from .. import _core
from ..exchange import Exchange, Reason, Report, Trade, TradeRecord
from ..exchange.orders import rejected
from ..exchange.zones import ZonalExchange
from .agent_api import Agent, Instruction, MarketView, OwnerView, compiled_exchange
from .curve import PublicCurve
from .kernel import Event, Kernel, Prio
from .metrics import MarketMetrics, SlotStats, Welford
from .prosumer import Prosumer, Realized
from .settlement import (
    Delivery,
    Ledger,
    OwnerAccount,
    OwnerSettlement,
    SlotSettlement,
    imbalance_prices,
    settle_slot,
)

if False:  # pragma: no cover - typing only, avoids an import cycle at runtime
    from ..spec.scenario import Scenario


_BAD = object()
_AGENT = Prio.AGENT


def _number(x: object) -> object:
    """Ticks/lots from an agent as the exchange takes them: ints stay, numpy integers and
    whole floats become ints, other finite floats exact Fractions (rejected off the grid);
    NaN, infinities and non-numbers are ``_BAD`` (a ``bad_field`` rejection, never a crash)."""
    if x is None or type(x) is int:
        return x
    if isinstance(x, bool):
        return _BAD
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        f = float(x)
        if f != f or f in (float("inf"), float("-inf")):
            return _BAD
        return int(f) if f.is_integer() else Fraction(f)
    if isinstance(x, Fraction):
        return x
    return _BAD


class Market:
    """A seeded, resettable simulation of the Rex market.

    Args:
        scenario: who is in the market, their assets, the schedule, grid and settlement.
        agents: owner -> the agent that trades for it (owners absent here are passive: they
            only realise their physics and settle their imbalance, like a learner that the
            RL environment drives through :meth:`execute`).
        sample_every: seconds between market-quality samples (spread, depth).
    """

    def __init__(self, scenario: Scenario, agents: Mapping[str, Agent],
                 sample_every: int = 300) -> None:
        unknown = sorted(set(agents) - set(scenario.owners))
        if unknown:
            raise ValueError(f"agents for unknown owners {unknown}; the scenario has "
                             f"{sorted(scenario.owners)}")
        if sample_every <= 0:
            raise ValueError(f"sample_every must be > 0 seconds, got {sample_every}")
        self.scenario = scenario
        self.schedule = scenario.schedule
        self._last_close = self.schedule.last_close
        self.grid = scenario.grid
        self.agents = dict(agents)
        self.sample_every = sample_every
        self.rng = np.random.default_rng()
        self.kernel = Kernel(self.rng.random)
        self.zonal: ZonalExchange | None = None
        """The zonal exchange of a scenario with zones (README "Zones"), else ``None``."""
        self.views: dict[str, MarketView] = {}
        """zone -> the market view agents of that zone get (zonal scenarios only)."""
        self.zone_of: dict[str, str] = {p.owner: p.zone for p in scenario.prosumers}
        self.exchange: Exchange | ZonalExchange
        """The market's exchange: the zonal one (also :attr:`zonal`) or a single book set."""
        if scenario.zonal:
            self.zonal = zonal_exchange(scenario)
            self.exchange = self.zonal
            for z in scenario.zones:
                self.views[z] = MarketView(self.zonal.exchanges[z], self.schedule, self.kernel,
                                           k=scenario.depth_levels, zonal=self.zonal, zone=z)
            self.view = self.views[scenario.zones[0]]
        else:
            self.exchange = Exchange(self.grid, n_slots=self.schedule.end_slot)
            self.view = MarketView(self.exchange, self.schedule, self.kernel,
                                   k=scenario.depth_levels)
        self._next_id = 0
        self._compiled_ex = compiled_exchange(self.exchange, self.zonal)
        """The exchange the compiled paths read (the C engine's, no zones), else None."""
        compiled = self._compiled_ex is not None
        self._execute_plain = _core.execute_plain if compiled else None
        """The compiled loop of :meth:`execute` where it can run."""
        self._trade_book = (_core.TradeBook(self.grid, Trade, OwnerAccount, MarketMetrics,
                                            SlotStats, Welford) if compiled else None)
        """The compiled :meth:`_on_trades`, where the loop above runs."""
        self._plain_on_trades = type(self)._on_trades is Market._on_trades
        """Whether :meth:`_on_trades` is this class's: the compiled :meth:`execute` then calls
        :attr:`_trade_book` itself (a subclass's ``_on_trades`` is called;
        :func:`rex_env._core.execute_plain` holds the rule)."""
        self._quote_sampler = (
            _core.QuoteSampler(self.grid, scenario.depth_levels, MarketMetrics, SlotStats)
            if compiled else None)
        """The compiled metrics update of :meth:`_on_sample` (it reads the C engine's books)."""
        self._wake_loop = (
            _core.WakeLoop(self, self._compiled_ex, Instruction, _AGENT,
                           type(self).execute is Market.execute)
            if compiled and type(self)._on_wake is Market._on_wake else None)
        """The compiled :meth:`_on_wake` of the agents whose classes declare
        ``COMPILED_WAKE`` (:class:`rex_env._core.WakeLoop`; it hands the others to
        :meth:`_on_wake`), where the compiled paths run and no subclass changed the method."""
        self._wake: Callable[[int, str], None] = (
            self._on_wake if self._wake_loop is None else self._wake_loop)
        """The kernel handler of agent wake-ups."""
        self.prosumers: dict[str, Prosumer] = {}
        self._pv_clear_kw: float | None = None  # the community's clear-sky PV, one episode
        self._lifecycle: tuple[list[Event], int] | None = None
        """The kernel right after the first episode's lifecycle events (no draws among them)."""
        self.reset(None)

    # -- episode ------------------------------------------------------------------------------
    @property
    def compiled_exchange(self) -> Exchange | None:
        """The exchange where the compiled paths run — the C engine's, without zones, with
        :data:`rex_env._core.COMPILED_AGENTS` on — else ``None`` (the Python code runs).
        The env's compiled decoding and projection ask here too: one rule for all."""
        return self._compiled_ex if _core.COMPILED_AGENTS else None

    def _tie_draw(self, rng: np.random.Generator) -> Callable[[], float]:
        """The kernel's same-time tie-break draw: ``rng.random``, in C where the compiled
        paths run (:class:`rex_env._core.UniformDraw`: the same floats from the same state)."""
        if self.compiled_exchange is not None:
            return _core.UniformDraw(rng)
        return rng.random

    def reset(self, seed: int | None | np.random.Generator = None) -> None:
        """Start a new episode; ``None`` continues the current random stream."""
        if isinstance(seed, np.random.Generator):
            self.rng = seed
        elif seed is not None:
            self.rng = np.random.default_rng(seed)
        rng = self.rng
        sc = self.scenario
        self.exchange.reset()
        self.kernel.reset(self._tie_draw(rng))
        self._next_id = 0
        owners = sc.owners
        self.ledger = Ledger(self.grid, sc.settlement, sc.tariff, cash_at_fill=True)
        self.accounts: dict[str, OwnerAccount] = self.ledger.accounts
        """owner -> its one ledger account (SPEC §9): what rewards and reports read."""
        for o in owners:
            self.ledger.account(o)
        self._settle_core = (None if self._compiled_ex is None else _core.SettleCore(
            OwnerSettlement, SlotSettlement, OwnerAccount, imbalance_prices, self.grid,
            sc.settlement))
        """The compiled settlement and booking (``None``: Python)."""
        self.owner_views: dict[str, OwnerView] = {}
        # physics: one child generator per prosumer, in scenario order (stable under changes
        # of the population elsewhere)
        children = rng.spawn(len(sc.prosumers) + len(self.agents) + 1)
        # the previous episode's prosumers lend the tables that depend on no draw
        last = self.prosumers
        self.prosumers = {
            spec.owner: Prosumer(spec, self.schedule, children[i], sc.forecast_update_s,
                                 like=last.get(spec.owner), owned=True)
            for i, spec in enumerate(sc.prosumers)
        }
        self.curve = self._public_curve(children[-1])
        self.view.curve = self.curve
        for v in self.views.values():
            v.curve = self.curve
        ex = self.exchange
        for o in owners:
            access = ex.owner_access(self.zone_of[o]) if isinstance(ex, ZonalExchange) else ex
            self.owner_views[o] = OwnerView(o, access, self.prosumers.get(o), [])
        self.metrics = MarketMetrics(sc.tariff, slot_len=self.schedule.slot_len,
                                     accounts=self.accounts)
        self.settlements: dict[int, dict[str, OwnerSettlement]] = {}
        self.last_settled: int | None = None
        """The latest settled slot (``max(settlements)``, kept: the env reads it every step)."""
        self.trades: list[TradeRecord] = []
        self.events = 0
        if self._wake_loop is not None:
            self._wake_loop.bind()
        for j, (_, agent) in enumerate(sorted(self.agents.items())):
            agent.reset(children[len(sc.prosumers) + j])
        self._schedule_episode()

    def _public_curve(self, rng: np.random.Generator) -> PublicCurve:
        """The episode's public wholesale curve and grid quotes (flat without a model).

        The curve's solar dip follows the day's clearness, read from the community's PV: its
        realised energy over its clear-sky energy (a day-level figure a day-ahead forecast
        has); without PV it is drawn.
        """
        sc, s = self.scenario, self.schedule
        model = sc.wholesale
        if model is None:
            return PublicCurve.constant(s.first_slot, s.n_slots, sc.reference_price,
                                        sc.tariff.feed_in, sc.tariff.retail, self.grid)
        got = 0.0
        for spec in sc.prosumers:
            p = self.prosumers[spec.owner]
            if spec.pv is not None and p.pv_truth is not None:
                got += float(p.pv_truth.sum())
        clear = self._pv_clear_kw
        if clear is None:  # depends on no draw: once per market
            clear = 0.0
            for spec in sc.prosumers:
                if spec.pv is not None:
                    clear += float(spec.pv.clear_sky_kw(s.day_of_year, s.n_slots,
                                                        s.slot_len).sum())
            self._pv_clear_kw = clear
        pv_index = min(1.0, got / clear) if clear > 0 else None
        prices = model.sample(rng, s.day_of_year, s.n_slots, s.slot_len, pv_index)
        return PublicCurve(s.first_slot, prices, model.bid(prices), model.ask(prices),
                           self.grid)

    def _schedule_episode(self) -> None:
        s, k = self.schedule, self.kernel
        ex = self.exchange
        for slot in range(s.first_slot):  # gates of the warm-up slots closed before t=0
            ex.close(slot, 0)
        if self._lifecycle is None:
            self._schedule_lifecycle()
            self._lifecycle = k.snapshot()
        else:  # the same events every episode, queued first: restore the first episode's queue
            k.restore(self._lifecycle)
        for owner in sorted(self.agents):
            t = self.agents[owner].next_wake(-1, self.rng)
            if t is not None:
                k.schedule(max(0, t), Prio.AGENT, self._wake, owner)

    def _schedule_lifecycle(self) -> None:
        """Queue every slot's lifecycle events and the first sample (no draws)."""
        s, k = self.schedule, self.kernel
        for slot in s.slots:
            k.schedule(max(0, s.open_time(slot)), Prio.OPEN, self._on_open, slot)
            k.schedule(max(0, s.uncross_time(slot)), Prio.UNCROSS, self._on_uncross, slot)
            k.schedule(s.close_time(slot), Prio.CLOSE, self._on_close, slot)
            lead = self.scenario.cross_gate_lead
            if self.zonal is not None and lead > 0:
                k.schedule(max(0, s.close_time(slot) - lead), Prio.CLOSE, self._on_xclose, slot)
            k.schedule(s.settle_time(slot), Prio.SETTLE, self._on_settle, slot)
        k.schedule(0, Prio.INFO, self._on_sample, None)

    @property
    def now(self) -> int:
        return self.kernel.now

    @property
    def done(self) -> bool:
        return self.kernel.now >= self.schedule.horizon and len(self.kernel) == 0

    def run_until(self, time: int) -> int:
        """Process every event before the decision epoch ``time``; return how many."""
        loop = self._compiled_loop()
        n = (self.kernel.run_until(time, Prio.EPOCH) if loop is None
             else loop.run(self.kernel, time, Prio.EPOCH, True))
        self.events += n
        return n

    def run(self) -> int:
        """Run the episode to its end (every slot delivered and settled)."""
        loop = self._compiled_loop()
        n = self.kernel.run() if loop is None else loop.run(self.kernel, None, None, False)
        self.events += n
        return n

    def _compiled_loop(self) -> Any:
        """The kernel's loop compiled (:meth:`rex_env._core.WakeLoop.run`: the same events in
        the same order, the wake-ups' trades booked together before anything else reads the
        books' figures), or ``None``: the kernel's own loop."""
        if self._wake_loop is None or not _core.COMPILED_AGENTS or type(self.kernel) is not Kernel:
            return None
        return self._wake_loop

    @contextmanager
    def deferred_booking(self) -> Iterator[None]:
        """Within the block, the trades of :meth:`execute` may wait and are booked together,
        in order, when it ends (the same figures; fewer calls). For a caller that reads no
        account, metric or trade list of the market inside the block: the env's learners'
        orders. Where the compiled loop does not run, trades are booked at once as always."""
        loop = self._compiled_loop()
        if loop is None:
            yield
            return
        was = loop.defer_execute(True)
        try:
            yield
        finally:
            loop.defer_execute(was)

    # -- instructions -------------------------------------------------------------------------
    def execute(self, owner: str, instructions: Iterable[Instruction]
                ) -> list[tuple[Instruction, Report]]:
        """Carry out an owner's instructions now; invalid ones are rejected, never raised."""
        ex = self.exchange
        now = self.kernel.now
        acct = self.accounts[owner]
        ids = self.owner_views[owner].order_ids
        loop = self._wake_loop
        if (self._execute_plain is not None and _core.COMPILED_AGENTS
                and type(instructions) is list):
            # the loop below, compiled, for plain instructions (the C engine, no zones)
            got = self._execute_plain(ex, instructions, now, owner, self._next_id, ids,
                                      acct.rejections, self._on_trades, Instruction, self,
                                      None if loop is None else loop.execute_defers())
            if got is not None:
                reports, self._next_id = got
                return reports
        if loop is not None:
            loop.book_waiting()  # what waits is booked before these trades
        out: list[tuple[Instruction, Report]] = []
        for ins in instructions:
            op = ins.op
            price: object = ins.price
            rate: object = ins.rate
            if not ((price is None or type(price) is int) and (rate is None or type(rate) is int)):
                price, rate = _number(price), _number(rate)  # (ints and None pass unchanged)
            if price is _BAD or rate is _BAD:
                rep = rejected(Reason.BAD_FIELD)
            elif op == "submit" and ins.match_zone is not None:
                self._next_id += 1
                oid = self._next_id
                if self.zonal is None:
                    rep = rejected(Reason.UNKNOWN_ZONE)
                else:
                    rep = self.zonal.submit(now, oid, owner, ins.side, ins.slot,
                                            price, rate,  # type: ignore[arg-type]
                                            ins.kind, ins.tif, ins.last_slot,
                                            match_zone=ins.match_zone)
            elif op == "submit":
                self._next_id += 1
                oid = self._next_id
                rep = ex.submit(now, oid, owner, ins.side, ins.slot,
                                price, rate,  # type: ignore[arg-type]
                                ins.kind, ins.tif, ins.last_slot)
                if rep.order is not None and rep.order.rate:
                    ids.append(oid)
            elif op == "cancel":
                rep = ex.cancel(now, ins.order_id, owner)  # type: ignore[arg-type]
            elif op == "modify":
                rep = ex.modify(now, ins.order_id, owner, price, rate)  # type: ignore[arg-type]
            else:
                rep = rejected(Reason.BAD_FIELD)
            if rep.reason is not None:
                acct.rejections[rep.reason.value] = acct.rejections.get(rep.reason.value, 0) + 1
            if rep.trades:
                self._on_trades(rep.trades)
            out.append((ins, rep))
        return out

    def _on_trades(self, trades: Sequence[TradeRecord]) -> None:
        """Book a report's trades: both sides' accounts, the metrics, the trade list."""
        book = self._trade_book
        if (book is not None and _core.COMPILED_AGENTS
                and book.book(trades, self.accounts, self.metrics, self.trades)):
            return  # the loop below, compiled (the same figures)
        cash = self.grid.cash
        accts = self.accounts
        price_of = self.grid.price
        rate_of = self.grid.rate
        fills: list[tuple[int, int, float, float]] = []
        for t in trades:
            price, lots = t.price, t.rate
            value = cash(price * lots)
            kw = rate_of(lots)
            b = accts.get(t.buyer)
            s = accts.get(t.seller)
            if b is not None:
                b.on_fill(-value, kw, True)
            if s is not None:
                s.on_fill(value, kw, False)
            fills.append((t.slot, t.time, price_of(price), kw))
        self.metrics.on_exchange_trades(fills)
        self.trades.extend(trades)

    # -- handlers -----------------------------------------------------------------------------
    def _on_open(self, t: int, slot: int) -> None:
        if self.schedule.call_len > 0:
            self.exchange.open_auction(slot, t)
        else:
            self.exchange.open_continuous(slot, t)

    def _on_uncross(self, t: int, slot: int) -> None:
        if self.schedule.call_len > 0:
            c = self.curve  # the auction's reference: the slot's public wholesale price
            ref = self.scenario.reference_ticks if c.flat else round(c.price_ticks(slot))
            rep = self.exchange.uncross(slot, t, ref)
            if rep.trades:
                self._on_trades(rep.trades)

    def _on_close(self, t: int, slot: int) -> None:
        self.exchange.close(slot, t)

    def _on_xclose(self, t: int, slot: int) -> None:
        assert self.zonal is not None
        self.zonal.close_cross(slot, t)

    def _slot_book(self, slot: int) -> tuple[dict, dict, int, int, int | None, int | None]:
        """Positions, notional, volume, turnover, high and low of a slot over every zone."""
        zx = self.exchange
        if not isinstance(zx, ZonalExchange):
            bk = zx.books[slot]
            return dict(bk.positions), dict(bk.notional), bk.volume, bk.turnover, bk.high, bk.low
        pos: dict[str, int] = {}
        cash: dict[str, int] = {}
        volume = turnover = 0
        highs: list[int] = []
        lows: list[int] = []
        for z in zx.zones:
            for o, v in zx.positions(slot, z).items():
                pos[o] = pos.get(o, 0) + v
            for o, v in zx.notionals(slot, z).items():
                cash[o] = cash.get(o, 0) + v
            b = zx.exchanges[z].books.get(slot)
            if b is not None:
                volume += b.volume
                turnover += b.turnover
                if b.high is not None:
                    highs.append(b.high)
                if b.low is not None:
                    lows.append(b.low)
        return pos, cash, volume, turnover, max(highs, default=None), min(lows, default=None)

    def _on_settle(self, t: int, slot: int) -> None:
        """End of delivery: realise every prosumer's physics, settle trades and imbalances."""
        g = self.grid
        positions, notional, volume, turnover, hi, lo = self._slot_book(slot)
        actual: dict[str, float] = {}
        realized: dict[str, Realized] = {}
        for owner, p in self.prosumers.items():
            reserved_kw = -g.rate(positions.get(owner, 0))
            r = p.realize(slot, reserved_kw)
            realized[owner] = r
            actual[owner] = r.net_kw
        vwap = None if not volume else g.price(turnover / volume)
        high = None if hi is None else g.price(hi)
        low = None if lo is None else g.price(lo)
        # consumption is worth what the grid would have charged for it (its retail ask); the
        # no-market benchmark also sells production at its feed-in bid
        i = slot - self.curve.first_slot
        ledger = self.ledger
        core = self._settle_core if _core.COMPILED_AGENTS else None
        res = None
        if (core is not None and type(ledger) is Ledger and "add" not in vars(ledger)
                and 0 <= i < len(self.curve.asks)):  # (a wrapped or subclassed ledger: Python)
            # the same settlement and booking, compiled (None: the code below decides)
            res = core.settle(ledger, slot, positions, notional, realized, vwap, high, low,
                              float(self.curve.asks[i]), float(self.curve.bids[i]))
        if res is None:
            res = settle_slot(slot, g, positions, notional, actual, vwap,
                              high, low, self.scenario.settlement)
            hours = g.slot_len / 3600
            deliveries = {o: Delivery(r.consumption_kw * hours, r.production_kw * hours,
                                      r.production_cost) for o, r in realized.items()}
            ledger.add(res, deliveries, consumption_price=float(self.curve.asks[i]),
                       feed_in_price=float(self.curve.bids[i]))
        self.settlements[slot] = res.owners
        if self.last_settled is None or slot > self.last_settled:
            self.last_settled = slot
        if slot == self.schedule.end_slot - 1:
            self._value_storage()

    def _value_storage(self) -> None:
        """After the episode's last delivery: value every battery's change of stored energy
        at the day's VWAP (the reference price if nothing traded) times its discharge
        efficiency (SPEC §9, :func:`~rex_env.sim.settlement.terminal_energy_value`)."""
        price = self.day_price
        for owner, p in self.prosumers.items():
            b = p.spec.battery
            if b is not None:
                self.ledger.book_terminal_value(owner, p.soc_kwh, price, b)

    @property
    def day_price(self) -> float:
        """The episode's VWAP over every trade (the reference price if nothing traded): the
        price at which stored energy is valued at the end (SPEC §9)."""
        return self.metrics.vwap if self.metrics.volume > 0 else self.scenario.reference_price

    def _on_sample(self, t: int, _: object) -> None:
        sampler = self._quote_sampler
        if not (sampler is not None and _core.COMPILED_AGENTS
                and sampler.sample(self.exchange, self.view.open_slots(), t, self.metrics)):
            view = self.view.lob3d()
            g = self.grid
            # whole arrays converted at once, not cell by cell (the depths are whole lots: the
            # row sums are exact in any order)
            self.metrics.on_exchange_quotes(
                t, view.slots.tolist(), g.price(view.best_bid).tolist(),
                g.price(view.best_ask).tolist(), g.rate(view.bid_depth.sum(axis=1)).tolist(),
                g.rate(view.ask_depth.sum(axis=1)).tolist())
        nxt = t + self.sample_every
        if nxt < self.schedule.last_close:
            self.kernel.schedule(nxt, Prio.INFO, self._on_sample, None)

    def _on_wake(self, t: int, owner: str) -> None:
        """An agent wakes: it acts on the market as it is now, gets its reports and says when
        it wakes next. The reference of :class:`rex_env._core.WakeLoop` (the kernel's handler
        where the compiled paths run; it hands back here for agents it does not know)."""
        # ~100 k wake-ups a day: the schedule's last gate (a property) and the event priority
        # (an Enum attribute, ~0.5 us) are read from constants
        agent = self.agents[owner]
        last_close = self._last_close
        if t < last_close:
            view = self.views[self.zone_of[owner]] if self.views else self.view
            instructions = agent.act(view, self.owner_views[owner])
            if instructions:
                agent.on_reports(self.execute(owner, instructions))
        nxt = agent.next_wake(t, self.rng)
        if nxt is not None and nxt < last_close:
            self.kernel.schedule(max(nxt, t + 1), _AGENT, self._wake, owner)


def zonal_exchange(scenario: Scenario) -> ZonalExchange:
    """The zonal exchange of a scenario with zones: its lines' kW per slot in whole lots
    (rounded down), each slot's capacity from the local hour its delivery starts."""
    s, g = scenario.schedule, scenario.grid
    caps: dict[tuple[str, str], list[int]] = {}
    for line in scenario.lines:
        caps[(line.frm, line.to)] = [
            int(Fraction(repr(line.kw_at(s.local_seconds(k)))) / g.lot_q)
            for k in range(s.end_slot)]
    return ZonalExchange(list(scenario.zones), caps, g, n_slots=s.end_slot,
                         home={p.owner: p.zone for p in scenario.prosumers})
