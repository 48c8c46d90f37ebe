"""A slot's settlement and booking compiled (``rex_env._core.SettleCore``, issue 12) against
``settle_slot`` + ``Ledger.add``, the reference: at every slot of whole days the compiled
settlement is made, its result and the accounts it booked are kept, the accounts are put back
and the reference settles the same slot; the settlements (every field, bit for bit, types
included) and every account figure must be equal — over the settlement modes, flat and
wholesale-indexed grids. Where the core cannot replicate the reference (an input that is not
the plain type, an inconsistent slot) it hands back with nothing changed and the reference
decides or raises its error."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

import rex_env.sim.market as market_module
from agents import build_population
from rex_env import _core
from rex_env.scenarios import make_scenario
from rex_env.sim.market import Market
from rex_env.sim.prosumer import Realized
from rex_env.sim.settlement import OwnerAccount, SlotSettlement, settle_slot
from rex_env.spec import Scenario, SettlementConfig
from tests.compiled import CountingCore, figures

pytestmark = pytest.mark.skipif(not _core.AVAILABLE, reason="C core not built")


def bits(res: SlotSettlement) -> Any:
    """Every field of a settlement, floats by ``repr`` (a numpy float or -0.0 differs)."""
    def one(x: Any) -> Any:
        return repr(x) if isinstance(x, float) else (type(x).__name__, x)
    return ([one(getattr(res, f.name)) for f in dataclasses.fields(res) if f.name != "owners"],
            {o: [one(getattr(r, f.name)) for f in dataclasses.fields(r)]
             for o, r in res.owners.items()})


class Compared:
    """Stands in for the market's settle core: settles compiled, keeps what it made and
    booked, puts the accounts back and hands back, so the market's reference settles the same
    slot; ``check`` compares both."""

    def __init__(self, market: Market, tally: dict[str, int]) -> None:
        self.m, self.core, self.tally = market, market._settle_core, tally
        self.made: tuple[int, Any, Any] | None = None

    def settle(self, ledger: Any, slot: int, *args: Any) -> None:
        assert ledger is self.m.ledger
        kept = {o: dict(vars(a)) for o, a in ledger.accounts.items()}
        res = self.core.settle(ledger, slot, *args)
        if res is None:
            self.tally["handed back"] += 1
            assert {o: vars(a) for o, a in ledger.accounts.items()} == kept
            return None
        self.tally["compiled"] += 1
        self.made = (slot, bits(res), figures(dict(ledger.accounts)))
        del ledger.slots[slot]
        for o, a in ledger.accounts.items():
            vars(a).clear()
            vars(a).update(kept[o])
        return None  # the reference settles the slot now

    def check(self, slot: int) -> None:
        if self.made is None:
            return
        made, self.made = self.made, None
        assert made[0] == slot
        assert made[1] == bits(self.m.ledger.slots[slot]), f"slot {slot}"
        assert made[2] == figures(dict(self.m.ledger.accounts)), f"slot {slot}"


def _compare_every_slot(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    tally = {"compiled": 0, "handed back": 0}
    on_settle, reset = Market._on_settle, Market.reset

    def wrapped_reset(self: Market, *a: Any, **k: Any) -> None:
        reset(self, *a, **k)
        assert self._settle_core is not None
        self._settle_core = Compared(self, tally)  # type: ignore[assignment]
        # the batteries' terminal value is booked after the last slot's settlement, by the
        # same code on both paths: after the comparison here
        self._value_storage = lambda: None  # type: ignore[method-assign]

    def checked(self: Market, t: int, slot: int) -> None:
        on_settle(self, t, slot)
        self._settle_core.check(slot)  # type: ignore[union-attr]
        if slot == self.schedule.end_slot - 1:
            Market._value_storage(self)

    monkeypatch.setattr(market_module, "Exchange", _core.Exchange)
    monkeypatch.setattr(_core, "COMPILED_AGENTS", True)
    monkeypatch.setattr(Market, "reset", wrapped_reset)
    monkeypatch.setattr(Market, "_on_settle", checked)
    return tally


def _with_mode(name: str, mode: str) -> Scenario:
    return make_scenario(name).replace(settlement=SettlementConfig(
        mode=mode, premium=0.3, fee=7.0, scarcity_adder=2000.0))


@pytest.mark.parametrize("scenario,mode,seed", [
    ("community", None, 1),
    ("community", "dual", 2),
    ("community", "curtail", 3),
    ("toy", None, 0),
    ("toy", "dual", 4),
    ("town", None, 5),
])
def test_every_slot_settles_and_books_as_the_reference(
        monkeypatch: pytest.MonkeyPatch, scenario: str, mode: str | None, seed: int) -> None:
    tally = _compare_every_slot(monkeypatch)
    sc = make_scenario(scenario) if mode is None else _with_mode(scenario, mode)
    m = Market(sc, build_population(sc))
    m.reset(seed)
    m.run()
    assert tally["handed back"] == 0
    assert tally["compiled"] == sc.schedule.n_slots == len(m.settlements)
    assert any(r.imbalance_kwh for s in m.settlements.values() for r in s.values())


def test_a_physics_figure_of_another_type_goes_to_the_reference(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A ``Realized`` with a numpy float (its sums would be numpy floats): the core hands
    back and the reference books it."""
    tally = _compare_every_slot(monkeypatch)
    sc = make_scenario("community")
    m = Market(sc, build_population(sc))
    m.reset(6)
    owner, p = next(iter(m.prosumers.items()))
    realize = p.realize

    def numpy_realize(slot: int, reserved_kw: float) -> Realized:
        r = realize(slot, reserved_kw)
        return r._replace(consumption_kw=np.float64(r.consumption_kw))

    p.realize = numpy_realize  # type: ignore[method-assign]
    m.run()
    assert tally["compiled"] == 0
    assert tally["handed back"] == sc.schedule.n_slots
    assert type(m.accounts[owner].consumption_kwh) is np.float64


def test_an_inconsistent_slot_changes_nothing_and_the_reference_raises(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(market_module, "Exchange", _core.Exchange)
    sc = make_scenario("toy")
    m = Market(sc, build_population(sc))
    m.reset(0)
    core, ledger = m._settle_core, m.ledger
    kept = {o: dict(vars(a)) for o, a in ledger.accounts.items()}
    slot = sc.schedule.first_slot
    owners = list(m.prosumers)
    zero = Realized(0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    bad = [
        ({owners[0]: 2, owners[1]: -1}, {}, None, None, None),     # positions not zero-sum
        ({}, {owners[0]: 5}, None, None, None),                   # notional not zero-sum
        ({owners[0]: 1, owners[1]: -1}, {}, None, None, None),     # positions, no prices
        ({owners[0]: 1, owners[1]: -1}, {}, 70.0, 60.0, 40.0),     # vwap above high
        ({}, {}, 50.0, None, None),                                 # prices partly missing
    ]
    every = {o: zero for o in owners}

    def settle(positions: Any, notional: Any, realized: Any, vwap: Any, high: Any,
               low: Any) -> Any:
        return core.settle(ledger, slot, positions, notional, realized, vwap, high, low,
                           300.0, 80.0)

    for positions, notional, vwap, high, low in bad:
        assert settle(positions, notional, every, vwap, high, low) is None
        assert slot not in ledger.slots
        assert {o: vars(a) for o, a in ledger.accounts.items()} == kept
        with pytest.raises(ValueError):  # the reference's error
            settle_slot(slot, m.grid, positions, notional, dict.fromkeys(owners, 0.0), vwap,
                        high, low, sc.settlement)
    nan = {owners[0]: zero._replace(net_kw=float("nan"))}
    assert settle({}, {}, nan, None, None, None) is None
    # a slot already settled is refused (the reference raises that it settles once)
    assert settle({}, {}, every, None, None, None) is not None
    assert settle({}, {}, every, None, None, None) is None
    with pytest.raises(ValueError, match="already settled"):
        ledger.add(ledger.slots[slot])


def test_a_wrapped_ledger_or_an_account_subclass_settles_in_python(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Whoever wraps ``Ledger.add`` (as ``tests/sim/test_market.py`` counts settlements) or
    books into an account subclass sees every slot go through the Python code."""
    monkeypatch.setattr(market_module, "Exchange", _core.Exchange)
    monkeypatch.setattr(_core, "COMPILED_AGENTS", True)
    sc = make_scenario("toy")
    tally = {"decided": 0, "handed back": 0}

    m = Market(sc, build_population(sc))
    m.reset(0)
    m._settle_core = CountingCore(m._settle_core, tally)  # type: ignore[assignment]
    added = []
    add = m.ledger.add
    m.ledger.add = lambda s, *a, **k: (added.append(s.slot), add(s, *a, **k))[1]  # type: ignore
    m.run()
    assert tally == {"decided": 0, "handed back": 0}
    assert sorted(added) == list(sc.schedule.slots)

    class Mine(OwnerAccount):
        pass

    m = Market(sc, build_population(sc))
    m.reset(0)
    m._settle_core = CountingCore(m._settle_core, tally)  # type: ignore[assignment]
    owner = next(iter(m.accounts))
    m.accounts[owner].__class__ = Mine
    m.run()
    assert tally["decided"] == 0 and tally["handed back"] == sc.schedule.n_slots
    assert m.accounts[owner].n_slots == sc.schedule.n_slots


def test_records_are_built_without_init_only_for_the_plain_frozen_slots_dataclass() -> None:
    """The core sets a record's slots itself (what the generated ``__init__`` does, minus its
    Python frame) only for a frozen dataclass with slots and no hooks; any other record class
    is called. The record it builds is the class's own: equal, hashable, picklable."""
    import pickle

    from rex_env._core import _cexchange
    from rex_env.sim.settlement import OwnerSettlement

    accept = _cexchange.frozen_slot_fields
    names = tuple(f.name for f in dataclasses.fields(OwnerSettlement))
    assert accept(OwnerSettlement) == names

    @dataclasses.dataclass(frozen=True, slots=True)
    class Hooked:
        a: int
        b: float

        def __post_init__(self) -> None:
            pass

    @dataclasses.dataclass(frozen=True, slots=True)
    class Plain:
        a: int
        b: float

    @dataclasses.dataclass(frozen=True, slots=True)
    class KwOnly:
        a: int
        b: float = dataclasses.field(kw_only=True)

    @dataclasses.dataclass(frozen=True, slots=True)
    class OwnInit:
        a: int
        b: float

        def __init__(self, a: int, b: float) -> None:  # e.g. converts its arguments
            object.__setattr__(self, "a", int(a))
            object.__setattr__(self, "b", float(b))

    @dataclasses.dataclass(slots=True)
    class Mutable:
        a: int
        b: float

    @dataclasses.dataclass(frozen=True)
    class NoSlots:
        a: int
        b: float

    assert accept(Plain) == ("a", "b")
    for cls in (Hooked, KwOnly, OwnInit, Mutable, NoSlots, tuple, int):
        assert accept(cls) is None, cls
    m = Market(make_scenario("toy"), build_population(make_scenario("toy")))
    m.reset(3)
    m.run()  # the C engine's market: the core made the records
    assert m._settle_core is not None
    rec = next(iter(m.ledger.slots[max(m.ledger.slots)].owners.values()))
    assert type(rec) is OwnerSettlement
    clone = OwnerSettlement(*(getattr(rec, n) for n in names))
    assert rec == clone and hash(rec) == hash(clone) and repr(rec) == repr(clone)
    assert pickle.loads(pickle.dumps(rec)) == rec
    with pytest.raises(dataclasses.FrozenInstanceError):
        rec.slot = 0  # type: ignore[misc]
