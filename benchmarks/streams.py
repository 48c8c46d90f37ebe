"""Deterministic mixed message streams for the matching-engine benchmark.

A stream is a plain ``list`` of tuples, generated *before* any timing so that generation is
never measured::

    (op, time, order_id, owner, side, slot, price_ticks, rate_lots)

``op`` is one of :data:`LIMIT` (a gtc limit submit), :data:`CANCEL` (cancel ``order_id`` of
``owner``; ``side``/``slot``/``price``/``rate`` are ``None``/0) or :data:`MARKET` (an ioc market
order, ``price`` is ``None``). ``side`` is :data:`rex_env.exchange.Side` ``BUY``/``SELL`` (an
``IntEnum``; both engines receive the very same objects). ``time`` is the message index
(integer seconds, non-decreasing, as the exchange requires). Order ids are ints ``1, 2, ...``
(limit and market orders share the counter), owners are strings ``"o00" .. "o{n-1}"``.

The generator simulates nothing. Parameters (all defaults of :class:`StreamParams`):

* message mix: 60 % limit submits, 30 % cancels, 10 % market orders (ioc), drawn i.i.d.;
* side: buy or sell with probability 1/2 each (limit and market alike);
* slot: uniform over the ``S`` open slots ``0 .. S-1``;
* price of a limit order: ``mid[slot] + round(N(0, price_sd))`` ticks with ``price_sd = 20``;
  the per-slot mid is ``round(N(5000, mid_sd))`` ticks with ``mid_sd = 50`` (drawn once per
  slot). Buys and sells share the distribution, so an incoming order crosses the spread often
  (about half of the limit orders trade at least partly) while the tails build depth;
* rate: uniform integer in ``1 .. 50`` lots (limit and market alike);
* owner: uniform over ``n_owners`` owners (default 32; the brief allows 8-64);
* cancel target: a uniformly random limit order id submitted earlier and not yet named by a
  previous cancel (sampled without replacement from that pool with a swap-remove). The generator
  does not know whether the order is still resting: if it was filled meanwhile (or removed by
  self-trade prevention in Rex) the cancel is rejected ``unknown_order`` but still counts as a
  message. The fraction of cancels that hit a live order is *measured* by the benchmark. A
  cancel drawn before any limit order exists is turned into a limit submit.

The same ``seed`` gives the same stream on every machine (``numpy.random.default_rng``; all
draws are vectorised up front, then one Python pass assigns ids and cancel targets).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass

import numpy as np

from rex_env.exchange import Side

LIMIT = 0
CANCEL = 1
MARKET = 2
OP_NAMES = {LIMIT: "limit", CANCEL: "cancel", MARKET: "market"}

Message = tuple  # (op, time, order_id, owner, side, slot, price, rate)


@dataclass(frozen=True)
class StreamParams:
    """Everything that defines a stream (documented in the module docstring)."""

    n_messages: int = 200_000
    n_slots: int = 1
    seed: int = 20240601
    p_limit: float = 0.60
    p_cancel: float = 0.30
    p_market: float = 0.10
    n_owners: int = 32
    mid: int = 5000  # ticks (500.0 currency/MWh at the default 0.1 tick)
    mid_sd: float = 50.0  # ticks, spread of the per-slot mids
    price_sd: float = 20.0  # ticks, spread of limit prices around their slot's mid
    rate_min: int = 1  # lots
    rate_max: int = 50  # lots, inclusive

    def as_dict(self) -> dict:
        return asdict(self)


def generate(params: StreamParams) -> list[Message]:
    """The stream of ``params.n_messages`` messages (deterministic in ``params``)."""
    p = params
    if not 8 <= p.n_owners <= 64:
        # not a hard limit of the engines, only the brief's range; keep the stream comparable
        raise ValueError(f"n_owners must be in 8..64, got {p.n_owners}")
    if abs(p.p_limit + p.p_cancel + p.p_market - 1.0) > 1e-9:
        raise ValueError("message probabilities must sum to 1")
    n = p.n_messages
    rng = np.random.default_rng(p.seed)
    ops = rng.choice(3, size=n, p=[p.p_limit, p.p_cancel, p.p_market]).tolist()
    buys = (rng.random(n) < 0.5).tolist()
    slots = rng.integers(0, p.n_slots, size=n).tolist()
    mids = np.rint(rng.normal(p.mid, p.mid_sd, size=p.n_slots)).astype(np.int64)
    offsets = np.rint(rng.normal(0.0, p.price_sd, size=n)).astype(np.int64)
    slots_arr = np.asarray(slots, dtype=np.int64)
    prices = (mids[slots_arr] + offsets).tolist()
    rates = rng.integers(p.rate_min, p.rate_max + 1, size=n).tolist()
    owner_idx = rng.integers(0, p.n_owners, size=n).tolist()
    picks = rng.random(n).tolist()  # cancel target: floor(u * len(pool))
    owners = [f"o{i:02d}" for i in range(p.n_owners)]
    BUY, SELL = Side.BUY, Side.SELL

    out: list[Message] = []
    append = out.append
    pool: list[tuple[int, str]] = []  # (order_id, owner) of limit orders not yet cancelled
    next_id = 1
    for i in range(n):
        op = ops[i]
        if op == CANCEL and not pool:
            op = LIMIT
        if op == CANCEL:
            j = int(picks[i] * len(pool))
            target = pool[j]
            last = pool.pop()
            if j < len(pool):
                pool[j] = last
            append((CANCEL, i, target[0], target[1], None, None, None, 0))
            continue
        owner = owners[owner_idx[i]]
        side = BUY if buys[i] else SELL
        oid = next_id
        next_id += 1
        if op == LIMIT:
            append((LIMIT, i, oid, owner, side, slots[i], prices[i], rates[i]))
            pool.append((oid, owner))
        else:
            append((MARKET, i, oid, owner, side, slots[i], None, rates[i]))
    return out


def composition(stream: list[Message]) -> dict:
    """What the stream is made of, counted (not the nominal probabilities)."""
    n = len(stream)
    ops = Counter(m[0] for m in stream)
    orders = [m for m in stream if m[0] != CANCEL]
    n_buy = sum(1 for m in orders if m[4] is Side.BUY)
    limit_prices = [m[6] for m in stream if m[0] == LIMIT]
    return {
        "messages": n,
        "limit": ops.get(LIMIT, 0),
        "cancel": ops.get(CANCEL, 0),
        "market": ops.get(MARKET, 0),
        "limit_frac": ops.get(LIMIT, 0) / n if n else 0.0,
        "cancel_frac": ops.get(CANCEL, 0) / n if n else 0.0,
        "market_frac": ops.get(MARKET, 0) / n if n else 0.0,
        "buy_frac": n_buy / len(orders) if orders else 0.0,
        "mean_rate": sum(m[7] for m in orders) / len(orders) if orders else 0.0,
        "owners": len({m[3] for m in stream}),
        "slots": len({m[5] for m in orders}),
        "price_min": min(limit_prices) if limit_prices else None,
        "price_max": max(limit_prices) if limit_prices else None,
    }
