"""Actions (clipping, invalid values, discrete masks), infos, rewards and episode ends.

The spec is the docstring of :class:`rex_env.envs.parallel.RexParallelEnv`.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pytest
from gymnasium import spaces

import rex_env
from rex_env.envs.parallel import INFO_KEYS
from rex_env.exchange import Reason, Side
from rex_env.sim.agent_api import cancel, submit

from .helpers import ActionStream, assert_same, make_par, step_record

PART_KEYS = {"trade_cash", "imbalance_cash", "consumption_value", "production_cost",
             "unserved_cost", "terminal_value"}
REASONS = {r.value for r in Reason}


def _toy(**kwargs: Any) -> Any:
    env = rex_env.parallel_env("toy", **kwargs)
    env.reset(seed=0)
    return env


def _zeros(env: Any) -> dict[str, Any]:
    return {a: np.zeros(env.action_space(a).shape, np.float32) for a in env.agents}


# -- box actions: clipping ------------------------------------------------------------------------
def test_out_of_range_box_actions_are_clipped_and_counted() -> None:
    env = _toy()
    ref = copy.deepcopy(env)
    for _ in range(3):  # a few steps so that orders are working
        acts = _zeros(env)
        step_record(env, acts)
        step_record(ref, acts)
    wild = np.zeros(env.action_space("prosumer_0").shape, np.float32)
    wild[[0, 1, 4]] = [3.0, -7.5, 1.0001]  # three values out of range
    wild[2] = -1.0  # the bounds themselves are in range
    wild[3] = 1.0
    rec = step_record(env, {"prosumer_0": wild, "prosumer_1": np.full_like(wild, 0.5)})
    infos = rec[4]
    assert infos["prosumer_0"]["clipped"] == 3
    assert infos["prosumer_1"]["clipped"] == 0
    # the clipped action is exactly what was executed
    rec_ref = step_record(ref, {"prosumer_0": np.clip(wild, -1, 1),
                                "prosumer_1": np.full_like(wild, 0.5)})
    rec_ref[4]["prosumer_0"]["clipped"] = 3
    assert_same(rec, rec_ref)


def test_clip_count_is_per_step() -> None:
    env = _toy()
    big = {a: np.full(env.action_space(a).shape, 2.0, np.float32) for a in env.agents}
    infos = env.step(big)[4]
    assert all(i["clipped"] == env.action_space("prosumer_0").shape[0] for i in infos.values())
    infos = env.step(_zeros(env))[4]
    assert all(i["clipped"] == 0 for i in infos.values())


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("agent", ["prosumer_0", "prosumer_1"])
def test_non_finite_box_action_raises_naming_the_agent(bad: float, agent: str) -> None:
    env = _toy()
    twin = copy.deepcopy(env)
    acts = _zeros(env)
    acts[agent] = acts[agent].copy()
    acts[agent][5] = bad
    with pytest.raises(ValueError, match=agent):
        env.step(acts)
    # the rejected call changed nothing: the env continues like its twin
    good = _zeros(env)
    assert_same(step_record(env, good), step_record(twin, good))


def test_wrong_shape_box_action_raises_naming_the_agent() -> None:
    env = _toy()
    acts = _zeros(env)
    acts["prosumer_1"] = np.zeros(3, np.float32)
    with pytest.raises(ValueError, match="prosumer_1"):
        env.step(acts)


# -- discrete actions ---------------------------------------------------------------------------
def test_discrete_space_size() -> None:
    env = rex_env.parallel_env("toy", action_mode="discrete", price_levels=4,
                               size_levels=(0.5, 1.0))
    space = env.action_space("prosumer_0")
    assert isinstance(space, spaces.Discrete)
    assert space.n == 1 + env.window * 2 * 4 * 2


@pytest.mark.parametrize("bad", [-1, 10**6], ids=["negative", "too-large"])
def test_discrete_out_of_range_is_a_counted_noop(bad: int) -> None:
    env = _toy(action_mode="discrete")
    twin = copy.deepcopy(env)
    rec = step_record(env, {"prosumer_0": bad, "prosumer_1": 3})
    ref = step_record(twin, {"prosumer_0": 0, "prosumer_1": 3})
    assert rec[4]["prosumer_0"]["clipped"] == 1
    assert rec[4]["prosumer_1"]["clipped"] == 0
    ref[4]["prosumer_0"]["clipped"] = 1
    assert_same(rec, ref)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, float("inf")],
                         ids=["nan", "inf", "-inf", "py-inf"])
def test_non_finite_discrete_action_raises_value_error_naming_the_agent(bad: float) -> None:
    env = _toy(action_mode="discrete")
    with pytest.raises(ValueError, match="prosumer_1"):
        env.step({"prosumer_0": 0, "prosumer_1": bad})


def test_action_masks_shape_dtype_and_closed_slots() -> None:
    env = rex_env.parallel_env("toy", action_mode="discrete")
    n = env.action_space("prosumer_0").n
    table = env._table
    env.reset(seed=1)
    acts = ActionStream(1, masked=True)
    saw_closed = False
    while env.agents:
        n_open = len(env.market.view.open_slots()[: env.window])
        for a in env.agents:
            mask = env.action_masks(a)
            assert isinstance(mask, np.ndarray)
            assert mask.shape == (n,) and mask.dtype == np.int8
            assert set(np.unique(mask)) <= {0, 1}
            assert mask[0] == 1  # doing nothing is always allowed
            closed = table[:, 0] >= n_open
            assert not mask[1:][closed].any(), "an action in a closed slot is not masked"
            saw_closed |= bool(closed.any())
        env.step(acts(env))
    assert saw_closed, "the toy day should have steps with fewer open slots than the window"
    assert env.action_masks().shape == (n,)  # default agent


def test_masked_out_actions_never_place_orders_in_closed_slots() -> None:
    """Take exactly the actions the mask forbids because their slot is not open: no order
    instruction reaches the market and no order rests in a slot that is not open."""
    env = rex_env.parallel_env("toy", action_mode="discrete")
    table = env._table
    env.reset(seed=2)
    sent: list[tuple[str, Any]] = []
    execute = env.market.execute

    def spy(owner: str, instructions: Any) -> Any:
        instructions = list(instructions)
        sent.extend((owner, ins) for ins in instructions)
        return execute(owner, instructions)

    env.market.execute = spy
    learners = set(env.owner_of.values())
    rng = np.random.default_rng(0)
    tried = 0
    while env.agents:
        open_slots = set(env.market.view.open_slots())
        n_open = len(env.market.view.open_slots()[: env.window])
        closed_actions = 1 + np.flatnonzero(table[:, 0] >= n_open)
        if len(closed_actions):
            acts = {a: int(rng.choice(closed_actions)) for a in env.agents}
            tried += 1
        else:
            acts = {a: 0 for a in env.agents}
        before = len(sent)
        infos = env.step(acts)[4]
        mine = [ins for owner, ins in sent[before:] if owner in learners]
        if len(closed_actions):
            assert mine == [], f"masked actions sent {mine}"
            assert all(i["rejected"] == 0 and i["masked"] == 1 for i in infos.values())
        for ins in mine:
            assert ins.op != "submit" or ins.slot in open_slots
    assert tried > 0


def test_masked_random_play_is_never_rejected() -> None:
    env = rex_env.parallel_env("toy", action_mode="discrete")
    env.reset(seed=3)
    acts = ActionStream(3, masked=True)
    while env.agents:
        infos = env.step(acts(env))[4]
        for a, info in infos.items():
            assert info["rejected"] == 0, (a, env.last_details()[a]["rejections"])
            assert env.last_details()[a]["rejections"] == {}
            assert info["clipped"] == 0 and info["masked"] == 0


def test_action_masks_needs_discrete_mode() -> None:
    env = _toy()
    with pytest.raises(ValueError, match="discrete"):
        env.action_masks("prosumer_0")


# -- infos ------------------------------------------------------------------------------------
def _check_info(env: Any, agent: str, info: dict[str, Any]) -> None:
    """The values of the keys present (the key set itself: ``test_infos_have_the_spec_keys``)
    and the nested detail of :meth:`last_details`."""
    detail = env.last_details()[agent]
    assert detail["owner"] == env.owner_of[agent]
    parts = detail["reward_parts"]
    assert set(parts) == PART_KEYS
    assert all(isinstance(v, float) and math.isfinite(v) for v in parts.values())
    assert isinstance(info["fills"], int) and info["fills"] >= 0
    if "filled_kw" in info:
        assert isinstance(info["filled_kw"], float) and math.isfinite(info["filled_kw"])
    rej = detail["rejections"]
    assert isinstance(rej, dict)
    for reason, count in rej.items():
        assert reason in REASONS and isinstance(count, int) and count > 0
    assert info["rejected"] == sum(rej.values())
    assert isinstance(info["clipped"], int) and info["clipped"] >= 0


def test_infos_have_the_spec_keys() -> None:
    """The docstring: ``infos[a]`` holds exactly :data:`INFO_KEYS`, at reset and at a step."""
    env = rex_env.parallel_env("toy")
    infos = env.reset(seed=0)[1]
    assert all(list(i) == list(INFO_KEYS) for i in infos.values()), infos
    infos = env.step(_zeros(env))[4]
    for a, info in infos.items():
        assert list(info) == list(INFO_KEYS), f"infos[{a}] has {sorted(info)}"


@pytest.mark.parametrize("mode", ["box", "discrete"])
def test_infos_carry_fills_rejections_and_reward_parts(mode: str) -> None:
    env = _toy(action_mode=mode)
    acts = ActionStream(0, spread=1.3)
    while env.agents:
        obs, rewards, terms, truncs, infos = env.step(acts(env))
        assert set(infos) == set(rewards) == set(obs)
        for a, info in infos.items():
            _check_info(env, a, info)


def test_fills_agree_with_the_trade_log() -> None:
    """``fills`` / ``filled_kw``: the learner's fills in this step (trades it was party to)."""
    env = _toy()
    acts = ActionStream(1, spread=1.2)
    total = 0
    seen = 0
    while env.agents:
        infos = env.step(acts(env))[4]
        new = env.market.trades[seen:]
        seen = len(env.market.trades)
        for a, info in infos.items():
            owner = env.owner_of[a]
            mine = [t for t in new if owner in (t.buyer, t.seller)]
            assert info["fills"] == len(mine)
            assert info["filled_kw"] == pytest.approx(sum(env.grid.rate(t.rate) for t in mine))
        total += sum(i["fills"] for i in infos.values())
    assert total > 0, "random actions should trade in a toy day"


def test_rejections_report_reasons_of_this_step() -> None:
    """Rejected instructions are counted by reason in the step's infos (and only there)."""
    env = _toy()
    closed_slot = 0  # a warm-up slot: its gate closed before t=0

    def decode(agent: str, action: Any) -> list[Any]:
        if agent != "prosumer_0":
            return []
        return [cancel(987_654), submit(Side.BUY, closed_slot, env._ref_ticks, 1),
                cancel(987_655)]

    env._decode = decode
    infos = env.step(_zeros(env))[4]
    details = env.last_details()
    assert details["prosumer_0"]["rejections"] == {"unknown_order": 2, "slot_closed": 1}
    assert infos["prosumer_0"]["rejected"] == 3
    assert details["prosumer_1"]["rejections"] == {}
    assert infos["prosumer_1"]["rejected"] == 0
    del env._decode
    infos = env.step(_zeros(env))[4]
    assert env.last_details()["prosumer_0"]["rejections"] == {}
    assert infos["prosumer_0"]["rejected"] == 0


@pytest.mark.parametrize("settlement", ["single", "dual", "curtail"])
def test_reward_parts_add_up_to_the_reward(settlement: str) -> None:
    """reward = (trade cash + imbalance cash + consumption value + production cost part)
    / reward_scale, at every step, in every settlement mode."""
    env = _toy(settlement=settlement)
    acts = ActionStream(0, spread=1.5)
    worst = 0.0
    while env.agents:
        rewards = env.step(acts(env))[1]
        for a, r in rewards.items():
            parts = env.last_details()[a]["reward_parts"]
            total = sum(parts.values()) / env._reward_scale[a]
            worst = max(worst, abs(total - r))
    assert worst < 1e-9, f"reward parts miss {worst:.6g} reward units somewhere"


def test_rewards_sum_to_the_surplus_of_the_day() -> None:
    env = _toy()
    acts = ActionStream(2)
    total = dict.fromkeys(env.agents, 0.0)
    while env.agents:
        rewards = env.step(acts(env))[1]
        assert all(isinstance(r, float) and math.isfinite(r) for r in rewards.values())
        for a, r in rewards.items():
            total[a] += r
    for a, t in total.items():
        surplus = env.market.accounts[env.owner_of[a]].surplus
        assert t * env._reward_scale[a] == pytest.approx(surplus, abs=1e-9)


def test_reward_scale_divides_the_reward() -> None:
    e1 = _toy()
    sc = e1.scenario
    for a, owner in e1.owner_of.items():  # default: one slot at capacity, reference price
        cap = max(sc.spec(owner).capacity_kw, 1.0)
        default = cap * sc.reference_price / 1000 * sc.schedule.slot_len / 3600
        assert e1._reward_scale[a] == pytest.approx(default)
    e2 = _toy(reward_scale=0.5)
    acts = ActionStream(4)
    while e1.agents:
        a = acts(e1)
        r1 = step_record(e1, a)[1]
        r2 = step_record(e2, a)[1]
        for k in r1:
            assert r2[k] == pytest.approx(r1[k] * e1._reward_scale[k] / 0.5, abs=1e-12)


# -- episode end -----------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["box", "discrete"])
def test_all_agents_terminate_together_when_the_day_is_settled(mode: str) -> None:
    env = rex_env.parallel_env("toy", action_mode=mode)
    env.reset(seed=5)
    acts = ActionStream(5)
    steps = 0
    while env.agents:
        live = list(env.agents)
        obs, rewards, terms, truncs, infos = env.step(acts(env))
        steps += 1
        for d in (obs, rewards, terms, truncs, infos):
            assert list(d) == live
        assert not any(truncs.values()), "a whole day is never a truncation"
        assert len(set(terms.values())) == 1, f"agents terminated apart: {terms}"
        assert all(terms.values()) == (not env.agents), "only the last step terminates"
    assert all(terms.values())
    assert steps == env.n_steps
    assert env.agents == []
    # the market ran to the end: every slot's reservations are settled inside the episode
    assert env.market.now >= env.schedule.last_close
    assert sorted(env.market.settlements) == list(env.schedule.slots)
    with pytest.raises(RuntimeError):
        env.step({})


@pytest.mark.parametrize(("preset", "max_cycles"), [("toy", 1), ("toy", 5), ("toy", 500),
                                                    ("community", 7)],
                         ids=["toy-1", "toy-5", "toy-beyond-day", "community-7"])
def test_max_cycles_is_honoured(preset: str, max_cycles: int) -> None:
    env = rex_env.parallel_env(preset, max_cycles=max_cycles)
    expected = min(max_cycles, env.n_steps)
    for episode in range(2):  # and again after a reset
        env.reset(seed=episode)
        steps = 0
        while env.agents:
            terms, truncs = env.step({a: env.action_space(a).sample() for a in env.agents})[2:4]
            steps += 1
            # a cut before the end of the day truncates; the settled day terminates
            assert all(truncs.values()) == (steps == expected and max_cycles < env.n_steps)
            assert all(terms.values()) == (steps == env.n_steps)
        assert steps == expected


def test_max_cycles_attribute_set_after_construction_is_honoured() -> None:
    """``parallel_api_test`` sets ``env.max_cycles``; the env must read it on every step."""
    env = make_par("toy")
    env.max_cycles = 3
    env.reset(seed=0)
    steps = 0
    while env.agents:
        env.step({})
        steps += 1
    assert steps == 3


@pytest.mark.parametrize("mode", ["box", "offset", "discrete"])
def test_a_missing_action_is_the_same_as_none_a_hold(mode: str) -> None:
    """An absent action and ``None`` are the same hold (no new orders), in every mode."""
    env = _toy(action_mode=mode)
    twin = copy.deepcopy(env)
    for _ in range(4):
        assert_same(step_record(env, {}), step_record(twin, dict.fromkeys(twin.agents)))


def test_make_take_pricing_follows_the_prototypes_path_and_takes_at_the_last_decision() -> None:
    import math

    from rex_env.envs.actions import make_take_aggressiveness
    from rex_env.scenarios import make_scenario
    from rex_env.sim.agent_api import make_take_urgency

    s = make_scenario("community").schedule
    k = s.first_slot + 30
    opened, gate = s.close_time(k) - (s.open_lead - s.gate_lead), s.close_time(k)
    # the one urgency function of the time to gate, shifted into price_for's scale
    for t in (opened, gate - 3 * 3600, gate - 3600, gate - 900, gate - 60):
        assert make_take_aggressiveness(0.0, s, k, t, 900) == pytest.approx(
            make_take_urgency(gate - t) - 1.0)
    assert make_take_aggressiveness(0.0, s, k, opened, 900) < -0.95  # passive when it opens
    touch = gate - round(3600 * math.log(2))
    assert make_take_aggressiveness(0.0, s, k, touch, 900) == pytest.approx(0.0, abs=1e-3)
    last = gate - 900
    a_last = make_take_aggressiveness(0.0, s, k, last, 900)
    assert 0.5 < a_last < 0.6  # the last decision: beyond the touch
    assert make_take_aggressiveness(-0.02, s, k, last, 900) > 0.5  # not a knife edge
    assert make_take_aggressiveness(-a_last, s, k, last, 900) == pytest.approx(0.0)  # touch
    assert make_take_aggressiveness(-1.0, s, k, opened, 900) == -1.0  # passive throughout
    # smooth: no step anywhere between opening and gate
    path = [make_take_aggressiveness(0.0, s, k, t, 900) for t in range(opened, gate + 1, 60)]
    assert max(b - a for a, b in zip(path, path[1:], strict=False)) < 0.05
    assert all(b >= a for a, b in zip(path, path[1:], strict=False))


def test_target_range_scales_how_far_the_target_goes_from_the_forecast() -> None:
    """The same action asks for a 10x smaller deviation with ``target_range=0.1``."""
    gaps = {}
    for tr in (1.0, 0.1):
        env = _toy(target_range=tr)
        a = env.agents[0]
        owner = env.owner_of[a]
        m = env.market
        slot = m.view.open_slots()[0]
        fc, _ = m.owner_views[owner].forecast(slot, m.now)
        act = _zeros(env)
        act[a][0] = 0.5  # buy half a range more than the forecast in the nearest slot
        ins = env._decode(a, act[a])
        lot_kw = env._lot_kw
        base = round(-fc / lot_kw)
        sub = [i for i in ins if i.op == "submit" and i.slot == slot]
        assert sub and sub[0].rate is not None, ins
        pos = m.exchange.position(owner, slot)
        gaps[tr] = pos + (sub[0].rate if sub[0].side is Side.BUY else -sub[0].rate) - base
    cap_lots = env._capacity[a] / env._lot_kw
    assert gaps[1.0] == pytest.approx(0.5 * cap_lots, abs=1)
    assert gaps[0.1] == pytest.approx(0.05 * cap_lots, abs=1)


def test_offset_mode_is_the_box_mode_with_one_pair_for_every_slot() -> None:
    """``action_mode="offset"``: Box(-1, 1, (2,)); the same market as box mode with that pair
    repeated in every window slot."""
    off, box = _toy(action_mode="offset"), _toy()
    assert off.action_space(off.agents[0]).shape == (2,)
    rng = np.random.default_rng(5)
    for _ in range(12):
        pairs = {a: rng.uniform(-0.3, 0.3, 2).astype(np.float32) for a in off.agents}
        r_off = step_record(off, pairs)
        r_box = step_record(box, {a: np.tile(p, box.window) for a, p in pairs.items()})
        assert_same(r_off, r_box)
        if not off.agents:
            break
    assert off.market.trades  # something happened
