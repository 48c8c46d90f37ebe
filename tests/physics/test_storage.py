"""Battery: limits never violated and every kWh accounted for."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rex_env.physics import Battery, BatteryState

BAT = Battery(
    energy_kwh=10.0,
    power_kw=4.0,
    eta_charge=0.9,
    eta_discharge=0.8,
    soc_min=0.1,
    soc_max=0.9,
    initial_soc=0.5,
)


def test_feasible_range_hand_computed() -> None:
    # 1 h slots, 5 kWh stored: 4 kWh above the floor * 0.8 = 3.2 kW deliverable; 4 kWh below
    # the ceiling / 0.9 = 4.44 kW to fill, limited to 4 kW by power.
    lo, hi = BAT.feasible_rate_range(5.0, 3600)
    assert hi == pytest.approx(3.2)
    assert lo == pytest.approx(-4.0)
    assert BAT.feasible_rate_range(1.0, 900) == (pytest.approx(-4.0), 0.0)  # empty
    assert BAT.feasible_rate_range(9.0, 900) == (0.0, pytest.approx(4.0))  # full


def test_apply_discharge_and_charge_hand_computed() -> None:
    rate, soc = BAT.apply(5.0, 2.0, 3600)  # deliver 2 kWh, costs 2 / 0.8 = 2.5 kWh stored
    assert (rate, soc) == (2.0, pytest.approx(2.5))
    rate, soc = BAT.apply(5.0, -2.0, 3600)  # take 2 kWh, stores 1.8
    assert (rate, soc) == (-2.0, pytest.approx(6.8))
    rate, soc = BAT.apply(5.0, 10.0, 3600)  # clipped to 3.2 kW, lands on the floor
    assert rate == pytest.approx(3.2) and soc == pytest.approx(1.0)


def test_round_trip_returns_eta_c_times_eta_d() -> None:
    state = BatteryState(BAT, 1.0)
    charged = 0.0
    while state.soc_kwh < BAT.max_energy_kwh - 1e-12:
        charged -= state.step(-4.0, 900) * 0.25
    delivered = 0.0
    while state.soc_kwh > BAT.min_energy_kwh + 1e-12:
        delivered += state.step(4.0, 900) * 0.25
    assert delivered == pytest.approx(charged * 0.9 * 0.8, rel=1e-12)
    assert state.losses_kwh == pytest.approx(charged - delivered, rel=1e-12)


batteries = st.builds(
    Battery,
    energy_kwh=st.floats(0.5, 500.0),
    power_kw=st.floats(0.1, 200.0),
    eta_charge=st.floats(0.5, 1.0),
    eta_discharge=st.floats(0.5, 1.0),
    soc_min=st.floats(0.0, 0.4),
    soc_max=st.floats(0.6, 1.0),
    initial_soc=st.just(0.5),
)


@given(
    batteries,
    st.sampled_from([60, 300, 900, 3600]),
    st.lists(st.floats(-3.0, 3.0), min_size=1, max_size=60),
)
def test_random_rate_sequences_respect_limits_and_conserve_energy(
    bat: Battery, slot_len: int, rates: list[float]
) -> None:
    state = BatteryState.initial(bat)
    start = state.soc_kwh
    hours = slot_len / 3600
    grid_out = 0.0  # net energy delivered to the grid
    for fraction in rates:
        requested = fraction * bat.power_kw
        lo, hi = bat.feasible_rate_range(state.soc_kwh, slot_len)
        before = state.soc_kwh
        actual = state.step(requested, slot_len)
        assert lo <= 0.0 <= hi
        assert lo <= actual <= hi and abs(actual) <= bat.power_kw
        if lo <= requested <= hi:
            assert actual == requested
        assert bat.min_energy_kwh <= state.soc_kwh <= bat.max_energy_kwh
        # per slot: the stored energy changes exactly by the documented amount
        assert before - state.soc_kwh == pytest.approx(
            bat.stored_change_kwh(actual, slot_len), rel=1e-12, abs=1e-12 * bat.energy_kwh
        )
        grid_out += actual * hours
    # over the run: stored energy lost = energy delivered + conversion losses
    assert start - state.soc_kwh == pytest.approx(
        grid_out + state.losses_kwh, rel=1e-9, abs=1e-9 * bat.energy_kwh
    )
    assert state.losses_kwh >= -1e-12


def test_soc_outside_limits_is_rejected() -> None:
    with pytest.raises(ValueError, match="soc_kwh"):
        BAT.apply(0.5, 1.0, 900)
    with pytest.raises(ValueError, match="soc_kwh"):
        BatteryState(BAT, 9.5)
