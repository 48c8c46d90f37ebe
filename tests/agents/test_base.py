"""The shared machinery of the hand-coded agents (agents/base.py): make-take pricing, the
others' best quote, steering one working order, parameter validation, registration and
reset."""

from __future__ import annotations

import pytest

from agents import HAND_CODED, build_population, make_agent
from agents.base import SlotTrader, ceil_ticks, check_number, floor_ticks
from rex_env.exchange import Side, Status
from rex_env.scenarios import AGENT_KINDS, make_scenario
from rex_env.sim.market import Market
from rex_env.spec.prosumer import ProsumerSpec

from .helpers import Desk


class Probe(SlotTrader):
    def act(self, market, me):  # type: ignore[no-untyped-def]
        return []


def test_ticks_round_toward_the_safe_side_despite_float_noise() -> None:
    assert floor_ticks(300.0, 0.1) == 3000  # 300 / 0.1 = 2999.9999999999995
    assert ceil_ticks(80.0, 0.1) == 800
    assert floor_ticks(80.05, 0.1) == 800 and ceil_ticks(80.05, 0.1) == 801


@pytest.mark.parametrize(("kw", "field"), [
    ({"period": 0}, "period"), ({"period": 1.5}, "period"), ({"jitter": 1.0}, "jitter"),
    ({"make_take": 0}, "make_take"), ({"take_within": -1}, "take_within"),
    ({"tick": 0}, "tick"), ({"lot": -0.1}, "lot"), ({"reference_price": float("nan")},
                                                     "reference_price"),
    ({"period": True}, "period"),
])
def test_bad_base_parameters_are_refused_naming_the_field(kw: dict, field: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError, match=field):
        Probe("x", **kw)


def test_check_number_says_what_is_allowed() -> None:
    with pytest.raises(ValueError, match=r"q must be a number in \[0, 1\], got 2"):
        check_number("q", 2, 0, 1)
    with pytest.raises(ValueError, match=r"n must be an int >= 1, got 0"):
        check_number("n", 0, 1, integer=True)
    assert check_number("x", 3, 0, lo_open=True) == 3.0


def test_urgency_runs_from_zero_at_opening_to_one_at_the_gate() -> None:
    d = Desk()
    s = d.schedule
    k = 12
    a = Probe("me")
    d.clock.now = s.open_time(k)
    assert a.urgency(d.view, k) == pytest.approx(0.0)
    d.clock.now = (s.open_time(k) + s.close_time(k)) // 2
    assert a.urgency(d.view, k) == pytest.approx(0.5, abs=0.01)
    d.clock.now = s.close_time(k)
    assert a.urgency(d.view, k) == pytest.approx(1.0)


@pytest.mark.parametrize("side", [Side.BUY, Side.SELL])
def test_make_take_moves_from_passive_to_crossing_as_the_gate_approaches(side: Side) -> None:
    d = Desk()
    k = d.slots[0]
    d.order("b", Side.BUY, k, 800, 10)
    d.order("s", Side.SELL, k, 900, 10)
    a = Probe("me")
    prices = [a.make_take_price(d.view, k, side, u / 10) for u in range(11)]
    if side is Side.BUY:
        assert prices[0] == 801  # one tick better than the best bid: passive
        assert prices[-1] == 900  # the best ask: crossing
        assert prices == sorted(prices)  # never less aggressive when more urgent
    else:
        assert prices[0] == 899 and prices[-1] == 800
        assert prices == sorted(prices, reverse=True)
    assert len(set(prices)) > 5  # it really moves


def test_make_take_does_not_undercut_the_agents_own_order() -> None:
    d = Desk()
    k = d.slots[0]
    d.order("b", Side.BUY, k, 800, 10)
    d.order("s", Side.SELL, k, 900, 10)
    a = Probe("me")
    a.on_reports(d.execute("me", a.steer(d.view, k, -5, 899)))  # rests at 899: best ask
    own = a.live(k)
    assert own is not None and d.view.best_ask(k) == 899
    assert a.others_best(d.view, k, Side.SELL, own) == 900
    assert a.make_take_price(d.view, k, Side.SELL, 0.0, own=own) == 899  # stays, not 898
    # another owner at the same price: the level is not only its own
    d.order("s2", Side.SELL, k, 899, 3)
    assert a.others_best(d.view, k, Side.SELL, own) == 899


def test_steer_keeps_modifies_replaces_and_cancels_the_working_order() -> None:
    d = Desk()
    k = d.slots[0]
    a = Probe("me")
    reps = d.execute("me", a.steer(d.view, k, 10, 500))
    a.on_reports(reps)
    w = a.live(k)
    assert w is not None and w.rate == 10 and w.price == 500
    assert a.steer(d.view, k, 10, 500) == []  # unchanged: keeps priority
    ins = a.steer(d.view, k, 6, 500)
    assert [i.op for i in ins] == ["modify"] and ins[0].rate == 6
    ins = a.steer(d.view, k, -4, 600)  # other side: cancel and a new order
    assert [i.op for i in ins] == ["cancel", "submit"] and ins[1].side is Side.SELL
    d.execute("me", ins)
    assert w.status is Status.CANCELLED
    assert a.steer(d.view, k, 0, 0) == [] or a.live(k) is None


def test_every_hand_coded_kind_is_registered_and_allowed_in_scenarios() -> None:
    assert set(HAND_CODED) <= set(AGENT_KINDS)
    assert "random" in AGENT_KINDS


def test_make_agent_refuses_a_kind_that_does_not_fit_the_assets() -> None:
    sc = make_scenario("toy")
    house = sc.spec("house00")
    with pytest.raises(ValueError, match="'plant' needs a plant"):
        make_agent(house, sc, "plant")
    with pytest.raises(ValueError, match="'storage' needs a battery"):
        make_agent(house, sc, "storage")
    with pytest.raises(ValueError, match="unknown agent kind 'wizard'"):
        make_agent(house, sc, "wizard")
    bad = ProsumerSpec("b", "storage", battery=sc.spec("battery").battery,
                       params=(("margin", -1.0),))
    with pytest.raises(ValueError, match="'b'.*margin must be"):
        make_agent(bad, sc)
    bad = ProsumerSpec("b", "storage", battery=sc.spec("battery").battery,
                       params=(("colour", 1.0),))
    with pytest.raises(ValueError, match="unknown parameter.*colour"):
        make_agent(bad, sc)
    assert make_agent(house, sc, "learner") is None


def test_a_seeded_reset_replays_the_day_whatever_came_before() -> None:
    """Round-robin cursors and private generators are reset with the episode."""
    sc = make_scenario("toy")
    fresh = Market(sc, build_population(sc))
    fresh.reset(11)
    fresh.run()
    reused = Market(sc, build_population(sc))
    reused.reset(3)
    reused.run()
    reused.reset(11)
    reused.run()
    assert reused.trades == fresh.trades


def test_the_owner_view_reads_many_positions_in_one_query_or_slot_by_slot() -> None:
    """``positions`` (what the prototypes read per wake-up) is ``position`` slot by slot, on
    an engine (one query) and on an exchange without the batch query (a zonal owner access)."""
    from rex_env.sim.agent_api import OwnerView

    d = Desk()
    k = d.slots[0]
    d.order("a", Side.BUY, k, 1000, 3)
    d.order("b", Side.SELL, k, 1000, 2)

    class OneByOne:
        def position(self, owner: str, slot: int) -> int:
            return d.ex.position(owner, slot)

    slots = [k, k + 1, k]
    for me in (d.me("a"), OwnerView("a", OneByOne(), None, [])):  # type: ignore[arg-type]
        assert me.positions(slots) == [me.position(s) for s in slots] == [2, 0, 2]


def test_instruction_builders_equal_the_named_tuple_with_its_defaults() -> None:
    """The builders make plain tuples for speed; they must be the NamedTuple's own values."""
    from rex_env.exchange import Kind, Tif
    from rex_env.sim.agent_api import Instruction, cancel, modify, submit

    assert submit(Side.SELL, 4, None, 3, Tif.IOC) == Instruction(
        "submit", None, Side.SELL, 4, None, 3, Kind.MARKET, Tif.IOC)
    assert submit(Side.BUY, 4, 5, 3, last_slot=6, match_zone="z") == Instruction(
        "submit", None, Side.BUY, 4, 5, 3, Kind.LIMIT, Tif.GTC, 6, "z")
    assert cancel(7) == Instruction("cancel", 7) and type(cancel(7)) is Instruction
    assert modify(7, rate=2) == Instruction("modify", 7, price=None, rate=2)
    assert repr(modify(7, 3)) == repr(Instruction("modify", 7, price=3))
