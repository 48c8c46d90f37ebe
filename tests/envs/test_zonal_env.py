"""The environment in a scenario with zones (issue 17, items 3 and 4): the API, the zonal
observation block against the exchange, the per-zone state, the learned spatial arbitrager's
two-leg orders, and single-zone layouts left exactly as they were."""

from __future__ import annotations

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

from rex_env.envs import RexParallelEnv
from rex_env.envs.observation import PRIVATE_FEATURES, feature_names
from rex_env.envs.spatial import GAP_RANGE, learner_capacity, spatial_instructions
from rex_env.envs.zonal_obs import NEIGHBOUR_FEATURES, neighbour_count
from rex_env.exchange import Exchange, Side, Tif
from rex_env.exchange.zones import ZonalExchange
from rex_env.scenarios import make_scenario
from rex_env.spec import SlotSchedule

SHORT = SlotSchedule(n_slots=12, open_lead=3 * 3600, gate_lead=900, call_len=300,
                     day_of_year=100, start_hour=16.0)


def short_two_towns():  # type: ignore[no-untyped-def]
    return make_scenario("two_towns").replace(schedule=SHORT)


def test_parallel_api_on_two_towns() -> None:
    parallel_api_test(RexParallelEnv(short_two_towns()), num_cycles=40)
    parallel_api_test(RexParallelEnv(short_two_towns(), learners="spatial"), num_cycles=40)


def test_zonal_names_sit_between_the_slots_and_the_private_state() -> None:
    sc = short_two_towns()
    env = RexParallelEnv(sc)
    base = feature_names(env.window, env.k)
    names = env.feature_names()
    nb = neighbour_count(sc)
    assert nb == 1
    extra = env.window * (1 + nb * len(NEIGHBOUR_FEATURES))
    assert len(names) == len(base) + extra == env.observation_space("prosumer_0").shape[0]
    cut = len(base) - len(PRIVATE_FEATURES)
    assert names[:cut] == base[:cut] and names[-len(PRIVATE_FEATURES):] == list(PRIVATE_FEATURES)
    assert names[cut:cut + 7] == ["slot00.cross_open", *(f"slot00.nb0.{f}"
                                                          for f in NEIGHBOUR_FEATURES)]


def _price(ticks: int | None, ref: float) -> float:
    return 0.0 if ticks is None else (ticks - ref) / ref


def test_own_book_and_neighbour_quotes_and_capacity_match_the_exchange() -> None:
    # one learner per zone: each sees its own zone's book and the other zone as neighbour 0
    env = RexParallelEnv(short_two_towns(), learners=("house00", "farm00"))
    names = env.feature_names()
    ix = {n: i for i, n in enumerate(names)}
    ref = float(env.scenario.reference_ticks)
    obs, _ = env.reset(seed=4)
    checked = 0
    for _ in range(30):
        m = env.market
        zx = m.zonal
        assert zx is not None
        slots = m.view.open_slots()[: env.window]
        for agent, (home, other) in (("prosumer_0", ("town", "rural")),
                                     ("prosumer_1", ("rural", "town"))):
            assert m.zone_of[env.owner_of[agent]] == home
            v = obs[agent]
            for j, k in enumerate(slots):
                p = f"slot{j:02d}."
                assert v[ix[p + "best_bid"]] == pytest.approx(_price(zx.best_bid(k, home), ref),
                                                              abs=1e-6)
                assert v[ix[p + "best_ask"]] == pytest.approx(_price(zx.best_ask(k, home), ref),
                                                              abs=1e-6)
                assert v[ix[p + "nb0.best_bid"]] == pytest.approx(
                    _price(zx.best_bid(k, other), ref), abs=1e-6)
                assert v[ix[p + "nb0.best_ask"]] == pytest.approx(
                    _price(zx.best_ask(k, other), ref), abs=1e-6)
                assert v[ix[p + "nb0.has_bid"]] == (zx.best_bid(k, other) is not None)
                assert v[ix[p + "nb0.has_ask"]] == (zx.best_ask(k, other) is not None)
                rating = max(zx.capacity(other, home, k), zx.capacity(home, other, k))
                assert rating > 0
                assert v[ix[p + "nb0.import"]] == pytest.approx(
                    zx.capacity_left(other, home, k) / rating, abs=1e-6)
                assert v[ix[p + "nb0.export"]] == pytest.approx(
                    zx.capacity_left(home, other, k) / rating, abs=1e-6)
                assert v[ix[p + "cross_open"]] == float(zx.cross_open(k))
                checked += 1
            for j in range(len(slots), env.window):  # closed window slots are all zeros
                assert v[ix[f"slot{j:02d}.nb0.import"]] == 0.0
        obs, *_ = env.step({a: env.action_space(a).sample() for a in env.agents})
        if not env.agents:
            break
    assert checked > 100


def test_state_holds_each_zone_public_block_once_then_every_private_block() -> None:
    env = RexParallelEnv(short_two_towns(), learners=("house00", "farm00"))
    obs, _ = env.reset(seed=2)
    for _ in range(8):
        obs, *_ = env.step({a: env.action_space(a).sample() for a in env.agents})
    names = env.state_names()
    state = env.state()
    assert state.shape == env.state_space.shape == (len(names),)
    pub = [n for n in env.feature_names() if not n.startswith(("soc", "plant_output",
                                                               "last_imbalance", "has_"))]
    pub = [n for n in pub if n.rpartition(".")[2] not in
           ("position", "working_rate", "working_price", "forecast", "forecast_std")]
    for zone, agent in (("town", "prosumer_0"), ("rural", "prosumer_1")):
        at = names.index(f"{zone}.{pub[0]}")
        got = state[at:at + len(pub)]
        idx = [env.feature_names().index(n) for n in pub]
        np.testing.assert_array_equal(got, obs[agent][idx])
    assert names[0].startswith("rural.")  # the scenario's zone order
    assert names[-1].startswith("prosumer_1.")


def test_single_zone_layout_and_state_are_unchanged() -> None:
    env = RexParallelEnv("toy")
    assert env.feature_names() == feature_names(env.window, env.k)
    assert not any(".nb" in n or "cross_open" in n for n in env.feature_names())
    env.reset(seed=0)
    assert not any(n.startswith(("toy.", ".")) for n in env.state_names())
    assert env.state().shape[0] == len(env.state_names())


def test_a_spatial_learner_has_the_arbitrager_scale_and_needs_a_continuous_action() -> None:
    sc = short_two_towns()
    env = RexParallelEnv(sc, learners="spatial")
    assert env.owner_of == {"prosumer_0": "arbitrager"}
    assert learner_capacity(sc.spec("arbitrager")) == 50.0
    env.reset(seed=1)
    while env.agents:  # the zero action (no flow) never trades
        _, _, _, _, infos = env.step({"prosumer_0": np.zeros(2 * env.window, np.float32)})
        assert infos["prosumer_0"]["fills"] == 0
    with pytest.raises(ValueError, match="action_mode 'box' or 'offset'"):
        RexParallelEnv(sc, learners="spatial", action_mode="discrete")


# -- the decoder on a hand-built crossing --------------------------------------------------
def crossed(cap: int = 10) -> ZonalExchange:
    """Zone B sells at 100 (8 lots), zone A bids 120 (6 lots): buy in B, sell in A pays."""
    zx = ZonalExchange(["A", "B"], {("B", "A"): cap, ("A", "B"): cap}, auto_open=True,
                       engine=Exchange)
    assert zx.submit(0, "s", "seller", "sell", 0, 100, 8, zone="B").order is not None
    # a bid resting in A above B's ask: the coupled book is crossed (a capacity change or an
    # opening auction leaves such states; here the line was full when the bid arrived)
    zx.set_capacity("B", "A", 0)
    assert zx.submit(1, "b", "buyer", "buy", 0, 120, 6, zone="A").order is not None
    zx.set_capacity("B", "A", cap)
    return zx


def test_the_decoder_buys_the_cheap_zone_and_sells_the_dear_one_while_capacity_lasts() -> None:
    zx = crossed(cap=4)
    ins = spatial_instructions(zx, "arb", "A", [0], np.array([1.0, 0.0]), cap_lots=5,
                               ref_ticks=100)
    assert [(i.side, i.price, i.rate, i.tif, i.match_zone) for i in ins] == [
        (Side.BUY, 100, 4, Tif.IOC, "B"), (Side.SELL, 120, 4, Tif.IOC, None)]
    for t, i in enumerate(ins, start=2):
        zx.submit(t, f"x{t}", "arb", i.side, i.slot, i.price, i.rate, tif=i.tif, zone="A",
                  match_zone=i.match_zone)
    assert zx.position("arb", 0) == 0 and zx.cash("arb", 0) > 0
    assert zx.capacity_left("B", "A", 0) == 0
    # no capacity left: nothing; the wrong direction: nothing; a gap below min_gap: nothing
    assert spatial_instructions(zx, "arb", "A", [0], np.array([1.0, 0.0]), 5, 100) == []
    zx = crossed()
    assert spatial_instructions(zx, "arb", "A", [0], np.array([-1.0, 0.0]), 5, 100) == []
    under = 19.5 / (GAP_RANGE * 1000)  # min_gap just under the crossing's 20 ticks: it trades
    assert len(spatial_instructions(zx, "arb", "A", [0], np.array([1.0, under]), 5, 1000)) == 2
    above = 20.5 / (GAP_RANGE * 1000)
    assert spatial_instructions(zx, "arb", "A", [0], np.array([1.0, above]), 5, 1000) == []
    # a flow that rounds to no lot does nothing
    assert spatial_instructions(zx, "arb", "A", [0], np.array([0.05, -1.0]), 5, 100) == []


def test_the_decoder_unwinds_a_leftover_position_first() -> None:
    zx = crossed()
    zx.submit(2, "o", "arb", "buy", 0, 100, 2, tif="ioc", zone="A", match_zone="B")
    assert zx.position("arb", 0) == 2
    ins = spatial_instructions(zx, "arb", "A", [0], np.array([1.0, 0.0]), 5, 100)
    assert [(i.side, i.price, i.rate, i.match_zone) for i in ins] == [
        (Side.SELL, 120, 2, None)]
