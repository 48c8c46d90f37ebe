"""Provision plant: costs by hand, and limits never violated whatever it is asked to do."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rex_env.physics import ProvisionPlant


def test_cost_hand_computed() -> None:
    plant = ProvisionPlant(capacity_kw=500.0, cost_a=50.0, cost_b=0.1)
    # 200 kW for 15 min = 50 kWh = 0.05 MWh; marginal cost runs from 50 to 70 /MWh, average 60
    assert plant.cost(200.0, 900) == pytest.approx(3.0)
    assert plant.cost(200.0, 3600) == pytest.approx(12.0)
    assert plant.cost(0.0, 900) == 0.0
    assert plant.marginal_cost(200.0) == pytest.approx(70.0)
    assert plant.marginal_cost(0.0) == 50.0


def test_cost_is_the_integral_of_marginal_cost() -> None:
    plant = ProvisionPlant(cost_a=40.0, cost_b=0.05)
    q, dq = 300.0, 1e-3
    numeric = (plant.cost(q + dq, 3600) - plant.cost(q, 3600)) / dq * 1000.0  # per MWh
    assert numeric == pytest.approx(plant.marginal_cost(q), rel=1e-5)


def test_cost_rejects_negative_output() -> None:
    with pytest.raises(ValueError, match="output_kw"):
        ProvisionPlant().cost(-1.0, 900)


def test_feasible_range_without_min_stable() -> None:
    plant = ProvisionPlant(capacity_kw=100.0, ramp_kw_per_slot=30.0)
    assert plant.feasible_range(0.0) == (0.0, 30.0)
    assert plant.feasible_range(50.0) == (20.0, 80.0)
    assert plant.feasible_range(90.0) == (60.0, 100.0)


def test_feasible_range_with_min_stable() -> None:
    plant = ProvisionPlant(capacity_kw=100.0, min_stable_kw=40.0, ramp_kw_per_slot=20.0)
    assert plant.feasible_range(0.0) == (0.0, 40.0)  # start-up straight to min stable
    assert plant.feasible_range(40.0) == (0.0, 60.0)  # may shut down from min stable
    assert plant.feasible_range(70.0) == (50.0, 90.0)  # too high to shut down
    assert not plant.can_switch_off(70.0)
    assert not plant.is_feasible(20.0, 40.0)  # inside the band but in the gap
    assert plant.is_feasible(0.0, 40.0) and plant.is_feasible(55.0, 40.0)


def test_dispatch_produces_what_it_sold_when_feasible() -> None:
    plant = ProvisionPlant(capacity_kw=100.0, min_stable_kw=20.0, ramp_kw_per_slot=25.0)
    assert plant.dispatch(45.0, 30.0) == 45.0
    assert plant.dispatch(100.0, 30.0) == 55.0  # ramp-limited
    assert plant.dispatch(8.0, 30.0) == 20.0  # 30 > max(min stable, ramp): cannot shut down
    assert plant.dispatch(8.0, 25.0) == 0.0  # can shut down; nearer off than min stable
    assert plant.dispatch(12.0, 25.0) == 20.0
    assert plant.dispatch(12.0, 0.0) == 20.0  # start-up
    assert plant.dispatch(-5.0, 25.0) == 0.0


def test_rejects_previous_output_outside_capacity() -> None:
    with pytest.raises(ValueError, match="prev_output_kw"):
        ProvisionPlant(capacity_kw=10.0).feasible_range(11.0)


plants = st.builds(
    ProvisionPlant,
    capacity_kw=st.floats(1.0, 1000.0),
    min_stable_kw=st.floats(0.0, 1.0),  # as a fraction of capacity, rescaled below
    cost_a=st.floats(-50.0, 200.0),
    cost_b=st.floats(0.0, 1.0),
    ramp_kw_per_slot=st.one_of(st.just(math.inf), st.floats(0.5, 500.0)),
)


@given(plants, st.lists(st.floats(-100.0, 2000.0), min_size=1, max_size=40))
def test_dispatch_never_violates_limits(plant: ProvisionPlant, targets: list[float]) -> None:
    plant = ProvisionPlant(
        capacity_kw=plant.capacity_kw,
        min_stable_kw=plant.min_stable_kw * plant.capacity_kw,
        cost_a=plant.cost_a,
        cost_b=plant.cost_b,
        ramp_kw_per_slot=plant.ramp_kw_per_slot,
    )
    m, r = plant.min_stable_kw, plant.ramp_kw_per_slot
    prev = 0.0
    for target in targets:
        q = plant.dispatch(target, prev)
        assert 0.0 <= q <= plant.capacity_kw
        assert q == 0.0 or q >= m  # never in the gap below min stable
        if prev > 0.0 and q > 0.0:
            assert abs(q - prev) <= r + 1e-9  # running: ramp limit
        else:
            assert abs(q - prev) <= max(r, m) + 1e-9  # start-up / shut-down
        assert plant.is_feasible(q, prev)
        assert plant.cost(q, 900) >= min(0.0, plant.cost_a) * q  # finite, sign-consistent
        prev = q
