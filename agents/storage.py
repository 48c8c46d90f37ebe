"""The storage dealer (SPEC §10.3): a battery-backed market maker and temporal arbitrager.

The battery is dispatched at delivery toward the dealer's position (:mod:`rex_env.sim.prosumer`:
bought > 0 charges, sold < 0 discharges, clipped to the power and state-of-charge limits), so
a position the battery cannot follow becomes imbalance. The dealer earns by buying energy in
cheap slots and selling it in dear ones; a kWh bought returns only ``eta = eta_charge *
eta_discharge`` kWh (≈ 0.90), so a round trip pays only if the selling price exceeds the buying
price by more than the loss. Its rules:

1. **Value band from public prices.** It keeps the VWAPs of the slots of the last day (the
   closed ones it has seen plus the open ones), and reads two quantiles: ``P_lo`` (``q_buy``)
   and ``P_hi`` (``q_sell``), where energy is usually cheap and dear. Until it has
   ``min_samples`` prices it does not trade.
2. **Bid below resale value and below holding value.** It bids at most ``P_hi * eta / (1 +
   margin)``: a kWh bought there and sold at a dear-slot price pays its loss and the margin.
   It also bids at most ``D * eta / (1 + margin)``, where ``D`` is the day's VWAP so far (the
   volume-weighted price of every trade of the episode it has seen: closed slots and the open
   ones): a kWh bought there that it never sells is still worth its price at the end, since
   the accounts value stored energy at the day's VWAP x discharge efficiency (SPEC §9,
   :func:`rex_env.sim.settlement.terminal_energy_value`), i.e. ``D * eta`` per MWh bought.
   (``cover_bids=False`` drops this cap: in ``community_flat``, where a few noise trades set
   ``P_hi`` ≈ 91 but nobody buys there, the dealer then bought at 80.1 from the grid's bid
   side, could not sell above its floor and lost 0.13 a day (8 days, seed 0); with the cap it
   stays idle there (surplus 0 instead of -0.25 a day over 20 days); in ``community`` it
   earns 9.50 a day instead of 9.74 (20 days, seed 0; paired daily difference -0.25 ± 0.18
   s.e., within the noise).)
3. **Never sell below cost.** It asks at least ``max(break-even, P_lo / eta) * (1 + margin)``.
   The break-even is the cash it has spent (net of sales) per kWh it can still deliver from
   its inventory, so selling the inventory at or above it can never leave the episode at a
   loss; ``P_lo / eta`` is what a kWh would cost to replace, so it does not dump energy
   cheaply when already in profit.
4. **Quote one tick better than the others; take only a good price.** It bids one tick over
   the other participants' best bid and asks one tick under their best ask (its own orders
   are left out of "the others' best", so it does not outbid itself; it never crosses them),
   within its limits: it is the best price for traders who need to trade and collects the
   spread they pay. It takes the other side only at the *usual* good price — it sells into a
   bid at or above ``P_hi`` and buys from an ask at or below ``P_lo``. A dealer has no
   obligation in any one slot: the urgent side is the trader who must balance before the
   gate. (A variant that moved to the other side's quote as each gate approached, as the
   other prototypes do, met the urgent households halfway: in a solar street under
   curtailment it sold its evening energy at ≈ 160 /MWh to households that would have paid
   300, and earned about 2.0 a day instead of 3.0-3.5.)
5. **Trade only what it owns; feasible whatever fills.** It sells only energy it has bought in the
   episode (the state of charge it started with is a reserve it returns): the accounts charge a
   battery that ends below its starting charge the day's VWAP per MWh it delivered from that charge,
   so selling the initial charge pays only above the day's VWAP, which is not known until the end;
   the dealer keeps it. Before each wake-up's quotes it projects the state of charge through every
   not-yet-delivered slot, in delivery order, twice: with every resting sell filled and no buy (it
   must stay above the SoC floor and end at or above the starting charge) and with every resting buy
   filled and no sell (below the SoC ceiling, inventory at most ``max_inventory_kwh``). Sizes are
   also limited by the battery's power. Any combination of fills lies between the two paths, so the
   battery can always follow the position: the dealer has no imbalance by construction.
6. **Where to quote.** The inventory it may sell is offered nearest slot first (the nearest
   are the surest to trade; the floor keeps it from selling cheap anywhere), the room to buy
   cheapest bid first (ties: nearest), so the battery fills where energy is cheapest.
7. **Wind down.** In the last ``wind_down`` seconds before the last gate of the episode it
   stops buying and moves its ask floor linearly to the day's VWAP so far ``D`` (or a fixed
   ``liquidation_floor``), selling into any bid above it. ``D`` is what the energy is worth
   if kept: a MWh delivered from the battery takes ``1 / eta_discharge`` MWh of charge,
   valued at the end at ``D * eta_discharge`` per MWh, so selling below ``D`` would lose
   money against holding (an earlier version, written when leftover charge was worth
   nothing, liquidated down to 0 /MWh).

Where prices barely vary over the day (``community_flat``: local supply exceeds demand
around the clock, so the grid's feed-in bid pins prices at ≈ 80 /MWh) the spread never pays
the ≈ 10 % round-trip loss and the dealer correctly stays idle: its bids rest below the
market and it holds no inventory (surplus 0). Where they vary (the default ``community``,
whose grid quotes follow the day's wholesale curve, or a solar street importing in the
evening, tests/agents/test_storage.py) it fills the battery in the cheap hours and sells in
the peaks (``community``: ≈ 9.5 a day, 20 days, seed 0).

Parameters and why:

* ``margin`` 2 %: the dealer's minimum return on a round trip, on top of the loss.
* ``q_buy`` 0.25, ``q_sell`` 0.75: "usually cheap" and "usually dear" without reacting to
  single outliers.
* ``memory`` 96 slots (one day) and ``min_samples`` 8.
* ``max_inventory_kwh``: default all headroom above the starting charge.
* ``wind_down`` 2 h and ``liquidation_floor`` None (the day's VWAP so far): eight slots are enough
  to sell a full battery at full power several times over; a longer wind-down gives the margin away
  (in the solar street, whose evening peak falls in the last 6 h, 6 h instead of 2 h halved the
  dealer's surplus: 1.4-1.9 a day instead of 3.0-3.5).
* ``period`` 300 s, the other prototypes' rhythm: refreshing every 120 s earned no more in
  the solar street (3.0-3.5 a day either way) at 2.5 times the cost.

Cost: one :meth:`act` scans the not-yet-delivered slots of the window (≈ 25 in the default
schedule: position, the others' best quotes), sorts ≤ 120 prices and allocates two greedy
plans that stop when the inventory or the headroom is used: ≈ 0.25 ms of CPU per act, 359
acts in a community day (5 % of its time).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any

from rex_env import _core
from rex_env.exchange import OrderRecord, Phase, Report, Side, Status
from rex_env.physics import Battery
from rex_env.sim.agent_api import Instruction, MarketView, OwnerView, cancel, modify, submit

from .base import SlotTrader, check_number

# Enum members as module constants: an attribute lookup on an Enum class costs ~70 ns, and
# the quoting loop compares sides, phases and statuses for every open slot
_BUY, _SELL, _RESTING, _CONTINUOUS = Side.BUY, Side.SELL, Status.RESTING, Phase.CONTINUOUS

_EPS = 1e-6  # kWh of slack against float rounding in the state-of-charge projection


class StorageDealer(SlotTrader):
    """Quotes both sides across slots within no-loss limits and its battery's limits.

    On the C engine it decides with its compiled twin (:data:`COMPILED_CORE`: the same
    instructions and bookkeeping; :meth:`SlotTrader._compiled`).

    Args:
        owner: the participant it trades for.
        battery: its battery (the owner should have no other assets).
        margin: fraction >= 0, the minimum return of a round trip beyond the loss.
        q_buy: quantile in [0, 1] of recent slot prices that counts as cheap.
        q_sell: quantile in [q_buy, 1] that counts as dear.
        memory: slots of price history kept (int >= 1).
        min_samples: prices needed before it trades (int >= 1).
        max_inventory_kwh: stored kWh above the starting charge it may hold (>= 0; default:
            all the headroom).
        wind_down: seconds before the episode's last gate in which it stops buying and
            liquidates (int >= 0).
        liquidation_floor: currency/MWh, the ask floor reached at the last gate (None: the
            day's VWAP so far, what the energy is worth if kept).
        cover_bids: also cap bids at the day's VWAP x round-trip efficiency / (1 + margin)
            (rule 2), so energy it cannot resell is still worth what it paid.
        period: seconds between wake-ups.
        **kw: :class:`~agents.base.SlotTrader` parameters.

    Raises:
        ValueError: a parameter out of range, naming it and what is allowed.
    """

    COMPILED_CORE = _core.StorageCore
    COMPILED_WAKE = "storage"

    TUNABLE = (("q_buy", 0.05, 0.45), ("q_sell", 0.55, 0.95), ("margin", 0.0, 0.12))
    """``action_mode="tune"``: where it finds energy cheap and dear (the value band's
    quantiles, never crossing) and the margin a round trip must earn."""

    def __init__(self, owner: str, battery: Battery, *, margin: float = 0.02,
                 q_buy: float = 0.25, q_sell: float = 0.75, memory: int = 96,
                 min_samples: int = 8, max_inventory_kwh: float | None = None,
                 wind_down: int = 7200, liquidation_floor: float | None = None,
                 cover_bids: bool = True, period: int = 300, **kw: float) -> None:
        super().__init__(owner, period=period, **kw)  # type: ignore[arg-type]
        if not isinstance(battery, Battery):
            raise ValueError(f"battery must be a Battery, got {battery!r}")
        check_number("margin", margin, 0)
        check_number("q_buy", q_buy, 0, 1)
        check_number("q_sell", q_sell, q_buy, 1)
        check_number("memory", memory, 1, integer=True)
        check_number("min_samples", min_samples, 1, integer=True)
        if max_inventory_kwh is not None:
            check_number("max_inventory_kwh", max_inventory_kwh, 0)
        check_number("wind_down", wind_down, 0, integer=True)
        if liquidation_floor is not None:
            check_number("liquidation_floor", liquidation_floor)
        self.battery = battery
        self.margin = float(margin)
        self.q_buy = float(q_buy)
        self.q_sell = float(q_sell)
        self.memory = int(memory)
        self.min_samples = int(min_samples)
        self.reserve_kwh = battery.initial_energy_kwh
        headroom = battery.max_energy_kwh - self.reserve_kwh
        self.max_inventory_kwh = (headroom if max_inventory_kwh is None
                                  else min(float(max_inventory_kwh), headroom))
        self.wind_down = int(wind_down)
        self.liq_ticks = None if liquidation_floor is None else liquidation_floor / self.tick
        self.cover_bids = bool(cover_bids)
        self.eta = battery.eta_charge * battery.eta_discharge
        self.quotes: dict[tuple[int, Side], OrderRecord] = {}
        self._prices: deque[float] = deque(maxlen=self.memory)
        self._next_closed = -1
        self._turnover = 0.0  # tick*lot of the closed slots' trades (the day's VWAP so far)
        self._volume = 0  # lots of the closed slots' trades
        self._cash = 0  # tick*lot units received from all its fills (sold +, bought -)
        self._fills: dict[int, list[Any]] = {}  # order id -> [order, lots accounted]

    def reset(self, rng):  # type: ignore[no-untyped-def]
        super().reset(rng)
        self.quotes = {}
        self._prices = deque(maxlen=self.memory)
        self._next_closed = -1
        self._turnover = 0.0
        self._volume = 0
        self._cash = 0
        self._fills = {}

    def on_reports(self, reports: list[tuple[Instruction, Report]]) -> None:
        """Record resting quotes, and the cash of fills on entry (at the other side's price)."""
        for _ins, rep in reports:
            o = rep.order
            if o is None:
                continue
            entry = self._fills.setdefault(o.order_id, [o, 0])  # type: ignore[arg-type]
            for t in rep.trades:
                if t.buyer == self.owner:
                    self._cash -= t.price * t.rate
                    entry[1] += t.rate
                elif t.seller == self.owner:
                    self._cash += t.price * t.rate
                    entry[1] += t.rate
            if o.status is _RESTING:
                self.quotes[(o.first_slot, o.side)] = o

    def cash_ticks_lots(self) -> int:
        """Its trade cash so far (tick*lot units), from its own orders only (SPEC §11): fills
        on entry are in the reports; later fills of a resting order are at its own price."""
        done = []
        for oid, entry in self._fills.items():
            o, seen = entry
            if o.filled > seen:
                d = o.filled - seen
                self._cash += d * o.price if o.side is _SELL else -d * o.price
                entry[1] = o.filled
            if o.status is not _RESTING:
                done.append(oid)
        for oid in done:
            del self._fills[oid]
        return self._cash

    # -- energy bookkeeping -------------------------------------------------------------------
    def stored(self, lots: int, hours: float) -> float:
        """Change of stored energy (kWh) when a slot's position is ``lots`` (bought > 0)."""
        b = self.battery
        kwh = lots * self.lot * hours
        return kwh * b.eta_charge if lots > 0 else kwh / b.eta_discharge

    def _max_lots(self, pos: int, room_kwh: float, sign: int, cap: int, hours: float) -> int:
        """Most lots (<= ``cap``) to add to position ``pos`` in direction ``sign`` (+1 buy,
        -1 sell) whose change of stored energy stays within ``room_kwh``."""
        if cap <= 0 or room_kwh <= _EPS:
            return 0
        b = self.battery
        per_lot = self.lot * hours
        base = self.stored(pos, hours)
        # first the lots that only undo the existing position in the other direction
        undo = min(cap, max(0, -sign * pos))
        rate_undo = per_lot / b.eta_discharge if sign > 0 else per_lot * b.eta_charge
        if undo and undo * rate_undo >= room_kwh:
            return int((room_kwh - _EPS) / rate_undo)
        used = abs(self.stored(pos + sign * undo, hours) - base)
        rate_more = per_lot * b.eta_charge if sign > 0 else per_lot / b.eta_discharge
        more = int((room_kwh - used - _EPS) / rate_more)
        return min(cap, undo + max(0, more))

    # -- the decision -------------------------------------------------------------------------
    def act(self, market: MarketView, me: OwnerView) -> Iterable[Instruction]:
        s = market.schedule
        open_ = market.open_slots()
        if not len(open_) or me.prosumer is None:
            return self._cancel_all()
        now = market.now
        core = self._compiled(market)
        if core is not None:  # the same decision, compiled (the books and sizes read in C)
            out = core.act(self, market, me, open_, now, s.first_slot, s.last_close,
                           s.slot_len)
            if out is not None:
                return out
        hours = s.slot_len / 3600
        b = self.battery
        if self._next_closed < 0:
            self._next_closed = s.first_slot
        while self._next_closed < open_[0]:  # rule 1: remember closed slots' prices
            v = market.vwap(self._next_closed)
            if v is not None:
                self._prices.append(v)
                n = market.traded_volume(self._next_closed)
                self._turnover += v * n
                self._volume += n
            self._next_closed += 1
        first = max(s.first_slot, now // s.slot_len)  # the slot in delivery or the next one
        slots = range(first, open_[-1] + 1)
        pos = me.positions(slots)
        cash = self.cash_ticks_lots()
        samples = list(self._prices)
        turnover, volume = self._turnover, self._volume
        for k in open_:
            v = market.vwap(k)
            if v is not None:
                samples.append(v)
                n = market.traded_volume(k)
                turnover += v * n
                volume += n
        if len(samples) < self.min_samples:
            return self._cancel_all()
        samples.sort()
        p_lo = samples[int(self.q_buy * (len(samples) - 1))]
        p_hi = samples[int(self.q_sell * (len(samples) - 1))]

        # state of charge after each slot at the current positions
        e = me.prosumer.soc_kwh
        path = []
        for p in pos:
            e += self.stored(p, hours)
            path.append(e)
        inventory = path[-1] - self.reserve_kwh

        # rules 2, 3 and 7: the limits (ticks)
        m = self.margin
        wind_down = self.wind_down
        left = s.last_close - now
        winding = left < wind_down
        # the day's VWAP so far: a kWh stored at the end is worth it x eta_discharge, i.e. a
        # MWh delivered from the battery is worth the day's VWAP if kept (rule 7)
        day = turnover / volume if volume else p_lo
        bid_cap = None if winding else p_hi * self.eta / (1 + m)
        if bid_cap is not None and self.cover_bids:
            bid_cap = min(bid_cap, day * self.eta / (1 + m))
        floor = p_lo / self.eta
        if inventory > _EPS and cash < 0:  # break-even per MWh delivered from inventory
            floor = max(floor, -cash * self.lot * hours / (inventory * b.eta_discharge))
        ask_floor = floor * (1 + m)
        if winding:
            f = max(0.0, left / wind_down) if wind_down > 0 else 0.0
            liq = day if self.liq_ticks is None else self.liq_ticks
            ask_floor = liq + f * (ask_floor - liq)

        # rule 4: prices per slot
        index = {k: i for i, k in enumerate(slots)}
        asks: list[tuple[int, int]] = []  # (price, slot)
        bids: list[tuple[int, int]] = []
        selling = inventory > _EPS
        if not selling and bid_cap is None:
            return self._orders({})
        ask_base = int(-(-ask_floor // 1))
        p_hi_up = int(-(-p_hi // 1))
        take_sell = ask_base if winding else max(ask_base, p_hi_up)
        take_buy = min(int(bid_cap), int(p_lo)) if bid_cap is not None else 0
        phase = market.phase
        for k in open_:
            if phase(k) is not _CONTINUOUS:
                continue
            ob = self.others_best(market, k, _BUY, self._live(k, _BUY))
            oa = self.others_best(market, k, _SELL, self._live(k, _SELL))
            ask = None
            if selling:  # one tick under the others' ask, above their bid ...
                ask = oa - 1 if oa is not None else max(ask_base, p_hi_up)
                if ob is not None:
                    ask = max(ask, ob + 1)
                    if ob >= take_sell:
                        ask = ob  # ... or into a bid that pays the usual dear price
                ask = max(ask, ask_base)
                asks.append((ask, k))
            if bid_cap is not None:  # one tick over the others' bid, below their ask ...
                bid = ob + 1 if ob is not None else take_buy
                if oa is not None:
                    bid = min(bid, oa - 1)
                    if oa <= take_buy:
                        bid = oa  # ... or from an ask at the usual cheap price
                bid = min(bid, int(bid_cap))
                if bid > 0 and (ask is None or bid < ask):
                    bids.append((bid, k))

        # rules 5 and 6: sizes, greedy over slots, feasible whatever fills
        power = int(b.power_kw / self.lot + 1e-9)
        lot_in = self.lot * hours * b.eta_charge  # stored kWh of one lot bought
        lot_out = self.lot * hours / b.eta_discharge  # ... of one lot sold
        plan: dict[tuple[int, Side], tuple[int, int]] = {}
        lo = list(path)
        if selling:
            for price, k in asks:
                i = index[k]
                if lo[-1] - self.reserve_kwh < lot_out:
                    break  # all the inventory is on offer
                room = min(min(lo[i:]) - b.min_energy_kwh, lo[-1] - self.reserve_kwh)
                n = self._max_lots(pos[i], room, -1, power + pos[i], hours)
                if n > 0:
                    plan[(k, _SELL)] = (price, n)
                    d = self.stored(pos[i], hours) - self.stored(pos[i] - n, hours)
                    for j in range(i, len(lo)):
                        lo[j] -= d
        hi = list(path)
        bids.sort()  # the cheapest first (ties: the nearest)
        for price, k in bids:
            i = index[k]
            if self.max_inventory_kwh - (hi[-1] - self.reserve_kwh) < lot_in:
                break  # the inventory limit is reached whatever else fills
            room = min(b.max_energy_kwh - max(hi[i:]),
                       self.max_inventory_kwh - (hi[-1] - self.reserve_kwh))
            n = self._max_lots(pos[i], room, 1, power - pos[i], hours)
            if n > 0:
                plan[(k, _BUY)] = (price, n)
                d = self.stored(pos[i] + n, hours) - self.stored(pos[i], hours)
                for j in range(i, len(hi)):
                    hi[j] += d
        return self._orders(plan)

    # -- order management ---------------------------------------------------------------------
    def _live(self, slot: int, side: Side) -> OrderRecord | None:
        o = self.quotes.get((slot, side))
        if o is None:
            return None
        if o.status is not _RESTING:
            del self.quotes[(slot, side)]
            return None
        return o

    def _cancel_all(self) -> list[Instruction]:
        out = [cancel(o.order_id) for o in self.quotes.values()  # type: ignore[arg-type]
               if o.status is _RESTING]
        self.quotes = {}
        return out

    def _orders(self, plan: dict[tuple[int, Side], tuple[int, int]]) -> list[Instruction]:
        """Instructions that turn the resting quotes into ``plan``: cancels and decreases
        first (so that no intermediate state is less feasible than the old or new quotes),
        then increases and new orders."""
        first: list[Instruction] = []
        then: list[Instruction] = []
        for key in list(self.quotes):
            o = self._live(*key)
            if o is None:
                continue
            want = plan.pop(key, None)
            if want is None:
                first.append(cancel(o.order_id))  # type: ignore[arg-type]
                del self.quotes[key]
                continue
            price, n = want
            if price == o.price and n >= o.rate and n - o.rate <= 2:
                continue  # close enough: keep the order and its priority
            if price == o.price and n < o.rate:
                first.append(modify(o.order_id, None, n))  # type: ignore[arg-type]
            elif n < o.rate:
                first.append(modify(o.order_id, price, n))  # type: ignore[arg-type]
            else:
                then.append(modify(o.order_id, price, n))  # type: ignore[arg-type]
        for (k, side), (price, n) in plan.items():
            then.append(submit(side, k, price, n))
        return first + then
