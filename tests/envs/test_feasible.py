"""Feasible by construction (rex_env.envs.feasible): decoded targets a battery or a plant can
follow whatever fills, checked on hand-computed cases, on random schedules and fills, and in
the env (any action, zero imbalance where there is no forecast error)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rex_env.envs import RexParallelEnv
from rex_env.envs.feasible import battery_targets, plant_targets
from rex_env.physics import Battery, ProvisionPlant

H = 3600  # one-hour slots: kW and kWh coincide
# 10 kWh, 4 kW, 50 % each way: 1 kW for an hour takes 2 kWh out or puts 0.5 kWh in
BAT = Battery(energy_kwh=10.0, power_kw=4.0, eta_charge=0.5, eta_discharge=0.5, soc_min=0.1,
              soc_max=0.9, initial_soc=0.5)
PLANT = ProvisionPlant(capacity_kw=10.0, cost_a=50.0, cost_b=1.0, ramp_kw_per_slot=3.0)


def bat(soc: float, current: list[int], target: list[int], fc: list[float] | None = None,
        order: list[int] | None = None) -> list[int]:
    return battery_targets(BAT, soc, H, 1.0, fc or [0.0] * len(current), current, target,
                           order)


def test_battery_sells_only_the_energy_above_the_floor() -> None:
    # 5 kWh stored, floor 1: 4 kWh to give = 2 kW for one hour, then nothing
    assert bat(5.0, [0, 0], [-4, -4]) == [-2, 0]


def test_battery_buys_up_to_the_power_and_then_the_ceiling() -> None:
    # ceiling 9: 4 kWh of room = 8 kW-hours of charging at 50 %; power 4 kW per slot
    assert bat(5.0, [0, 0, 0], [4, 4, 4]) == [4, 4, 0]
    assert bat(5.0, [0, 0], [3, 3]) == [3, 3]


def test_battery_keeps_room_for_a_later_sale_already_made() -> None:
    # slot 1 has sold 2 kW (4 kWh): the battery reaches its floor there, so slot 0 cannot sell
    assert bat(5.0, [0, -2], [-1, -2]) == [0, -2]
    # buying in slot 0 is fine (both paths stay within the limits)
    assert bat(5.0, [0, -2], [2, -2]) == [2, -2]


def test_battery_room_goes_in_the_given_order() -> None:
    # 4 kWh to give: delivery order gives it to slot 0, the order [1, 0] to slot 1
    assert bat(5.0, [0, 0], [-2, -2]) == [-2, 0]
    assert bat(5.0, [0, 0], [-2, -2], order=[1, 0]) == [0, -2]


def test_battery_of_a_household_buffers_its_forecast() -> None:
    # 3 kW of forecast PV surplus is charged at position 0 (1.5 kWh in); selling 2 kW leaves
    # the battery charging 1 kW; buying 4 more would charge 7 kW > 4 kW of power: 1 at most
    assert bat(5.0, [0], [-2], fc=[3.0]) == [-2]
    assert bat(5.0, [0], [4], fc=[3.0]) == [1]


def test_an_infeasible_position_can_only_be_traded_back() -> None:
    # 2 kWh stored, a sale of 4 kW (8 kWh) already made: no further sale, but buying back is
    assert bat(2.0, [-4], [-5]) == [-4]
    assert bat(2.0, [-4], [-1]) == [-1]


def plant(prev: float, current: list[int], target: list[int], next_kw: float | None
          ) -> list[int]:
    return plant_targets(PLANT, prev, 1.0, [0.0] * len(current), current, target, next_kw)


def test_plant_ramps_from_its_output_and_its_neighbours() -> None:
    # off, ramp 3 kW: every slot may sell 3 (any of them may stay unsold: 0 next to 3)
    assert plant(0.0, [0, 0, 0], [-10, -10, -10], 0.0) == [-3, -3, -3]
    # 3 kW sold everywhere: 6 at most (3 + ramp), also in the last slot of the episode
    assert plant(3.0, [-3, -3, -3], [-10, -10, -10], None) == [-6, -6, -6]
    # buy back from 6 kW: down to 3 (the neighbours may still produce 6); next slot unsold
    assert plant(6.0, [-6, -6, -6], [0, 0, 0], 0.0) == [-3, -3, -3]


def test_plant_cannot_buy() -> None:
    assert plant(0.0, [0], [5], None) == [0]


def follows(b: Battery, soc: float, rates: list[float], slot_len: int) -> bool:
    """Whether the battery can run at these grid rates slot after slot without clipping."""
    for x in rates:
        lo, hi = b.feasible_rate_range(soc, slot_len)
        if not lo - 1e-6 <= x <= hi + 1e-6:
            return False
        soc -= b.stored_change_kwh(x, slot_len)
        if not b.min_energy_kwh - 1e-6 <= soc <= b.max_energy_kwh + 1e-6:
            return False
        soc = min(max(soc, b.min_energy_kwh), b.max_energy_kwh)
    return True


@settings(max_examples=150, deadline=None)
@given(energy=st.floats(1.0, 500.0), power=st.floats(0.5, 200.0),
       eta_c=st.floats(0.6, 1.0), eta_d=st.floats(0.6, 1.0),
       soc=st.floats(0.0, 1.0), lot=st.sampled_from([0.1, 1.0, 5.0]),
       slot_len=st.sampled_from([900, 3600]), seed=st.integers(0, 2**32 - 1),
       n=st.integers(1, 12), pv=st.booleans())
def test_any_fill_of_projected_battery_targets_is_deliverable(
        energy: float, power: float, eta_c: float, eta_d: float, soc: float, lot: float,
        slot_len: int, seed: int, n: int, pv: bool) -> None:
    b = Battery(energy_kwh=energy, power_kw=power, eta_charge=eta_c, eta_discharge=eta_d)
    e = b.min_energy_kwh + soc * (b.max_energy_kwh - b.min_energy_kwh)
    rng = np.random.default_rng(seed)
    fc = list(rng.uniform(-0.5, 0.5, n) * power) if pv else [0.0] * n
    span = int(3 * power / lot) + 1
    # current positions: a projection from the battery (nearly) idle, when that is feasible
    idle = [round(-u / lot) for u in fc]
    assume(follows(b, e, [-lot * p - u for p, u in zip(idle, fc, strict=True)], slot_len))
    current = battery_targets(b, e, slot_len, lot, fc, idle,
                              list(rng.integers(-span, span + 1, n)))
    assert follows(b, e, [-lot * p - u for p, u in zip(current, fc, strict=True)], slot_len)
    target = list(rng.integers(-span, span + 1, n))
    out = battery_targets(b, e, slot_len, lot, fc, current, target)
    for c, t, o in zip(current, target, out, strict=True):
        assert min(c, t) <= o <= max(c, t)
    # every slot at either end of its interval (the extremes), and random fills in between
    ends = [(c, o) for c, o in zip(current, out, strict=True)]
    fills = list(itertools.islice(itertools.product(*ends), 256))
    fills += [[int(rng.integers(min(c, o), max(c, o) + 1)) for c, o in ends] for _ in range(32)]
    for pos in fills:
        assert follows(b, e, [-lot * p - u for p, u in zip(pos, fc, strict=True)], slot_len), pos


@settings(max_examples=150, deadline=None)
@given(cap=st.floats(1.0, 100.0), ramp=st.floats(0.1, 100.0), prev=st.floats(0.0, 1.0),
       lot=st.sampled_from([0.1, 1.0]), seed=st.integers(0, 2**32 - 1), n=st.integers(1, 12),
       end=st.booleans())
def test_any_fill_of_projected_plant_targets_is_rampable(
        cap: float, ramp: float, prev: float, lot: float, seed: int, n: int, end: bool) -> None:
    p = ProvisionPlant(capacity_kw=cap, cost_a=50.0, cost_b=0.0, ramp_kw_per_slot=ramp)
    rng = np.random.default_rng(seed)
    q0 = prev * min(cap, ramp)  # an output the plant can have (it starts off)
    span = int(1.5 * cap / lot) + 1
    zero = [0.0] * n
    nxt = None if end else 0.0
    current = plant_targets(p, q0, lot, zero, [0] * n, list(rng.integers(-span, span + 1, n)),
                            nxt)
    target = list(rng.integers(-span, span + 1, n))
    out = plant_targets(p, q0, lot, zero, current, target, nxt)
    ends = [(c, o) for c, o in zip(current, out, strict=True)]
    for pos in itertools.islice(itertools.product(*ends), 256):
        q_prev = q0
        for k in [-lot * x for x in pos] + ([] if end else [0.0]):
            # the ramp and capacity up to float rounding (is_feasible's switch-off test has
            # no tolerance: 1.9000000000000001 -> 0 with a 1.9 ramp would fail it)
            assert -1e-9 <= k <= cap + 1e-9 and abs(k - q_prev) <= ramp + 1e-9, (pos, k, q_prev)
            q_prev = k


@pytest.mark.parametrize("role", ["storage", "plant"])
@pytest.mark.parametrize("mode", ["box", "offset", "discrete"])
def test_any_action_leaves_no_imbalance_without_forecast_error(role: str, mode: str) -> None:
    """The storage dealer and the plant have no forecast: any imbalance would come from a
    schedule the asset cannot follow. Random actions: none with the projection, and the
    projection cut something (without it, random box actions leave plenty, so this test can
    fail)."""
    imbalance = {}
    for feasible in (True, False):
        env = RexParallelEnv(scenario="community", learners=role, action_mode=mode,
                             feasible=feasible)
        env.reset(seed=5001)
        env.action_space("prosumer_0").seed(3)
        projected = 0.0
        while env.agents:
            _, _, _, _, infos = env.step({a: env.action_space(a).sample() for a in env.agents})
            projected += infos["prosumer_0"]["projected_kw"]
        imbalance[feasible] = infos["prosumer_0"]["imbalance_kwh"]
        assert (projected > 0) == feasible
    assert imbalance[True] < 1e-9  # float rounding of the dispatch only
    if mode == "box":
        assert imbalance[False] > 1.0


def test_feasible_is_validated() -> None:
    with pytest.raises(ValueError, match="feasible must be True or False"):
        RexParallelEnv(scenario="toy", feasible="yes")


def test_price_scores_and_targets() -> None:
    from rex_env.envs.actions import price_scores, price_targets

    z = price_scores(np.array([10.0, 20.0, 30.0]), 1.0)
    assert np.allclose(z, [-1.2247449, 0.0, 1.2247449])
    assert np.allclose(price_scores(np.array([50.0, 50.2]), 1.0), [-0.1, 0.1])  # the floor
    assert np.allclose(price_targets(0.2, -0.5, z), [0.8123724, 0.2, -0.4123724])
    assert np.allclose(price_targets(0.0, -1.0, np.array([-3.0, 3.0])), [1.0, -1.0])


def test_price_mode_reserves_level_plus_slope_times_the_day_score() -> None:
    """Unprojected, each open slot's position plus working order is the target
    ``clip(level + slope * z)`` capacities of its wholesale price's day score z."""
    from rex_env.envs.actions import price_scores

    env = RexParallelEnv(scenario="community", learners="storage", action_mode="price",
                         feasible=False, pricing="touch")
    assert env.action_space("prosumer_0").shape == (3,)
    env.reset(seed=5002)
    for _ in range(8):
        obs, *_ = env.step({"prosumer_0": None})
    decided = list(env.market.view.open_slots()[: env.window])
    obs, *_ = env.step({"prosumer_0": np.array([0.1, -0.6, -1.0], np.float32)})
    names = env.feature_names()
    m = env.market
    curve = m.curve
    z = price_scores(curve.prices, 0.05 * env.scenario.reference_price)
    slots = m.view.open_slots()[: env.window]
    assert list(slots[: len(decided)]) == decided and len(decided) > 4
    v = obs["prosumer_0"]
    for j, k in enumerate(decided):
        held = v[names.index(f"slot{j:02d}.position")] + v[names.index(f"slot{j:02d}.working_rate")]
        want = np.clip(0.1 - 0.6 * z[k - curve.first_slot], -1, 1)
        assert abs(held - want) <= env.grid.lot_q / env._capacity["prosumer_0"] + 1e-6, (j, k)
