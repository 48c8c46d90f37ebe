"""Perfect-foresight bounds (agents/bounds.py) on cases small enough to check by hand."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from agents.bounds import intermittent_bound, plant_bound, storage_bound
from rex_env.physics import Battery, ProvisionPlant

HOUR = 3600


def _battery(**kw: float) -> Battery:
    base = dict(energy_kwh=10.0, power_kw=4.0, eta_charge=1.0, eta_discharge=0.5, soc_min=0.0,
                soc_max=1.0, initial_soc=0.0)
    return Battery(**(base | kw))


def test_storage_lp_buys_the_cheap_slot_and_sells_the_dear_one() -> None:
    # 1 h slots at 10, 100, 50 /MWh; 4 kW, empty, charge loss-free, discharge 50 %:
    # charge 4 kWh at 10 (-0.04), sell 2 kW in the 100 slot using the 4 kWh (+0.2): 0.16
    b = storage_bound([10.0, 100.0, 50.0], _battery(), HOUR)
    assert b.value == pytest.approx(0.16)
    np.testing.assert_allclose(b.rates, [-4.0, 2.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(b.energy, [4.0, 0.0, 0.0], atol=1e-9)


def test_storage_lp_values_leftover_energy_at_the_terminal_price() -> None:
    # worth 200 /MWh at the end, more than any price: fill the 10 kWh, cheapest slots first
    # (4 at 10, 4 at 50, 2 at 100) and keep it: -0.04 - 0.2 - 0.2 + 2.0
    b = storage_bound([10.0, 100.0, 50.0], _battery(), HOUR, terminal_price=200.0)
    assert b.value == pytest.approx(1.56)
    np.testing.assert_allclose(b.rates, [-4.0, -2.0, -4.0], atol=1e-9)
    assert b.energy[-1] == pytest.approx(10.0)


def test_storage_lp_respects_energy_limits_and_starting_charge() -> None:
    # 6 kWh at the start, a 7 kWh ceiling: charge 1 kWh at 10 (-0.01), then the 7 kWh give
    # 3.5 kW at 100 (+0.35; 4 kW would need 8 kWh): 0.34
    b = storage_bound([10.0, 100.0, 50.0], _battery(soc_max=0.7), HOUR, initial_kwh=6.0)
    assert b.value == pytest.approx(0.34)
    assert b.energy.max() <= 7.0 + 1e-9 and b.energy.min() >= -1e-9
    assert np.abs(b.rates).max() <= 4.0 + 1e-9


def test_storage_lp_is_idle_when_spreads_do_not_pay_the_loss() -> None:
    b = storage_bound([100.0, 150.0, 120.0], _battery(), HOUR)
    assert b.value == pytest.approx(0.0, abs=1e-12)


def test_storage_lp_matches_brute_force_on_a_grid() -> None:
    rng = np.random.default_rng(3)
    bat = _battery(eta_charge=0.9, eta_discharge=0.9, initial_soc=0.5)
    p = rng.uniform(20, 200, 4)
    best = -np.inf
    rates = np.linspace(-4, 4, 9)
    for plan in itertools.product(rates, repeat=4):
        e, ok, cash = bat.initial_energy_kwh, True, 0.0
        for r, price in zip(plan, p, strict=True):
            e -= bat.stored_change_kwh(r, HOUR)
            ok &= bat.min_energy_kwh - 1e-9 <= e <= bat.max_energy_kwh + 1e-9
            cash += price * r / 1000
        if ok:
            best = max(best, cash)
    lp = storage_bound(p, bat, HOUR).value
    assert lp >= best - 1e-9  # the grid is a subset of the LP's schedules
    assert lp <= best + 0.05  # ... and a fine one comes close


def test_plant_dp_trades_a_loss_slot_for_the_ramp_to_a_dear_one() -> None:
    # cost 50 /MWh flat, ramp 5 kW: (5, 5, 10) kW earns 0.25 - 0.05 + 0.5 = 0.70 > (5, 0, 5)
    plant = ProvisionPlant(capacity_kw=10.0, cost_a=50.0, cost_b=0.0, ramp_kw_per_slot=5.0)
    b = plant_bound([100.0, 40.0, 100.0], plant, HOUR, step_kw=0.5)
    assert b.value == pytest.approx(0.70)
    np.testing.assert_allclose(b.rates, [5.0, 5.0, 10.0])


def test_plant_dp_honours_min_stable_output_and_start_up() -> None:
    # min stable 8 kW: from off it starts at 8; (8, 8, 10) = 0.4 - 0.08 + 0.5 = 0.82
    plant = ProvisionPlant(capacity_kw=10.0, min_stable_kw=8.0, cost_a=50.0, cost_b=0.0,
                           ramp_kw_per_slot=5.0)
    b = plant_bound([100.0, 40.0, 100.0], plant, HOUR, step_kw=0.5)
    assert b.value == pytest.approx(0.82)
    np.testing.assert_allclose(b.rates, [8.0, 8.0, 10.0])
    prev = 0.0
    for q in b.rates:
        assert plant.is_feasible(float(q), prev)
        prev = float(q)


def test_plant_dp_stays_off_below_cost_and_uses_rising_marginal_cost() -> None:
    plant = ProvisionPlant(capacity_kw=10.0, cost_a=50.0, cost_b=5.0)
    assert plant_bound([40.0, 45.0], plant, HOUR).value == pytest.approx(0.0)
    # price 80: marginal cost 50 + 5 q = 80 at q = 6 kW: (80*6 - 50*6 - 2.5*36) / 1000
    b = plant_bound([80.0], plant, HOUR, step_kw=0.1)
    assert b.rates[0] == pytest.approx(6.0)
    assert b.value == pytest.approx(0.09)


def test_intermittent_bound_sells_the_realised_output_and_values_consumption() -> None:
    b = intermittent_bound([100.0, 50.0], [2.0, -1.0], 900, consumption_kw=[0.5, 1.0],
                           consumption_value=300.0)
    assert b.value == pytest.approx((200 - 50) * 0.25 / 1000 + 1.5 * 300 * 0.25 / 1000)
    # one consumption price per slot (the grid's retail ask under the wholesale curve)
    b = intermittent_bound([100.0, 50.0], [2.0, -1.0], 900, consumption_kw=[0.5, 1.0],
                           consumption_value=[200.0, 260.0])
    assert b.value == pytest.approx((200 - 50) * 0.25 / 1000 + (100 + 260) * 0.25 / 1000)


@pytest.mark.parametrize(("call", "word"), [
    (lambda: storage_bound([1.0, float("nan")], _battery(), HOUR), "prices"),
    (lambda: storage_bound([1.0], _battery(), 0), "slot_len"),
    (lambda: storage_bound([1.0], _battery(), HOUR, initial_kwh=11.0), "initial_kwh"),
    (lambda: plant_bound([1.0], ProvisionPlant(), HOUR, step_kw=0.0), "step_kw"),
    (lambda: intermittent_bound([1.0], [1.0, 2.0], HOUR), "same length"),
    (lambda: intermittent_bound([1.0], [1.0], HOUR, consumption_value=[1.0, 2.0]),
     "consumption_value"),
])
def test_bad_input_names_the_field(call: object, word: str) -> None:
    with pytest.raises(ValueError, match=word):
        call()  # type: ignore[operator]
