"""A prosumer's physics in an episode (SPEC §8): forecast lookups and delivery.

The forecast tables the prosumer precomputes must agree with the
:class:`~rex_env.physics.ForecastPath` of each asset, whose local slot ``i`` is the episode's
slot ``first_slot + i`` and whose clock starts ``first_slot * slot_len`` earlier.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from rex_env.physics import Battery, Household, ProvisionPlant, PVSystem, WindFarm
from rex_env.scenarios import make_scenario
from rex_env.sim.prosumer import Prosumer
from rex_env.spec.prosumer import ProsumerSpec, load_peak_kw
from rex_env.spec.schedule import SlotSchedule

SCHED = SlotSchedule(n_slots=96, open_lead=6 * 3600, gate_lead=900, call_len=300,
                     day_of_year=172)
L = SCHED.slot_len
FULL = ProsumerSpec("full", "intermittent", wind=WindFarm(rated_kw=50.0),
                    pv=PVSystem(peak_kw=6.0), load=Household(annual_kwh=4000.0))


def make(spec: ProsumerSpec, seed: int = 0, schedule: SlotSchedule = SCHED) -> Prosumer:
    return Prosumer(spec, schedule, np.random.default_rng(seed))


def path_forecast(p: Prosumer, slot: int, t: int) -> tuple[float, float]:
    """The net forecast summed from the assets' own ForecastPath objects."""
    s = p.schedule
    i, t_local = slot - s.first_slot, t - s.first_slot * s.slot_len
    mean = sum(sign * path.forecast(i, t_local) for path, sign in p.paths)
    var = sum(path.sigma(i, t_local) ** 2 for path, _ in p.paths)
    return mean, math.sqrt(var)


# -- forecasts ------------------------------------------------------------------------------


def test_one_path_per_uncontrollable_asset_with_the_right_sign_and_truth() -> None:
    p = make(FULL)
    assert [sign for _, sign in p.paths] == [1.0, 1.0, -1.0]  # wind, pv, load
    wind, pv, load = (path for path, _ in p.paths)
    np.testing.assert_array_equal(p.generation, wind.truth + pv.truth)
    np.testing.assert_array_equal(p.consumption, load.truth)
    assert wind.capacity_kw == 50.0 and pv.capacity_kw == FULL.pv.capacity_kw  # type: ignore
    assert load.capacity_kw == load_peak_kw(FULL.load)  # type: ignore[arg-type]
    assert wind.max_revisions == SCHED.open_lead // L  # one revision per slot up to opening
    assert make(ProsumerSpec("g", "grid", external=True)).paths == ()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_forecast_agrees_with_the_assets_forecast_paths(seed: int) -> None:
    p = make(FULL, seed)
    s = p.schedule
    for slot in (s.first_slot, s.first_slot + 17, s.end_slot - 1):
        for t in range(s.open_time(slot) - 2 * L, s.settle_time(slot) + L, 137):
            mean, std = p.forecast(slot, t)
            want_mean, want_std = path_forecast(p, slot, t)
            assert mean == pytest.approx(want_mean, rel=1e-12, abs=1e-12)
            assert std == pytest.approx(want_std, rel=1e-12, abs=1e-12)


def test_fast_forecast_lookup_equals_the_table_at_revisions_left() -> None:
    """forecast() inlines _m(); both must pick the same table cell at every second."""
    p = make(FULL, 5)
    s = p.schedule
    for slot in (s.first_slot, s.first_slot + 50, s.end_slot - 1):
        for t in range(-L, s.horizon + L, 61):
            m = p._m(slot, t)
            assert 0 <= m <= p._revisions
            i = slot - s.first_slot
            assert p.forecast(slot, t) == (p.fc_mean[i, m], p.fc_std[i, m])


def test_forecast_window_agrees_with_single_lookups() -> None:
    p = make(FULL, 4)
    s = p.schedule
    for t in (0, 5000, 40000, s.last_close - 1):
        slots = s.open_at(t)
        mean, std = p.forecast_window(slots, t)
        assert mean.shape == std.shape == (len(slots),)
        for j, k in enumerate(slots):
            assert (mean[j], std[j]) == p.forecast(k, t)


def test_forecasts_are_exact_at_and_after_delivery() -> None:
    p = make(FULL, 7)
    s = p.schedule
    for k in s.slots:
        for t in (s.delivery_start(k), s.delivery_start(k) + 1, s.settle_time(k)):
            mean, std = p.forecast(k, t)
            assert mean == pytest.approx(p.uncontrollable_kw(k), abs=1e-12)
            assert std == 0.0


def test_forecast_error_shrinks_toward_delivery_and_is_positive_before() -> None:
    p = make(FULL, 1)
    k = SCHED.first_slot + 40
    stds = [p.forecast(k, t)[1] for t in range(SCHED.open_time(k), SCHED.delivery_start(k), L)]
    assert all(a >= b for a, b in zip(stds, stds[1:], strict=False))
    assert stds[-1] > 0.0


def test_same_seed_same_physics_other_seed_other_physics() -> None:
    a, b, c = make(FULL, 11), make(FULL, 11), make(FULL, 12)
    np.testing.assert_array_equal(a.fc_mean, b.fc_mean)
    np.testing.assert_array_equal(a.generation, b.generation)
    assert not np.array_equal(a.fc_mean, c.fc_mean)


def test_forecast_of_an_owner_without_uncontrollable_assets_is_zero() -> None:
    p = make(ProsumerSpec("plant", "plant", plant=ProvisionPlant(capacity_kw=20.0)))
    assert p.forecast(SCHED.first_slot + 3, 0) == (0.0, 0.0)
    assert p.uncontrollable_kw(SCHED.first_slot + 3) == 0.0


# -- delivery -------------------------------------------------------------------------------


def test_intermittent_owner_realises_its_true_net_rate_whatever_it_reserved() -> None:
    p = make(FULL, 3)
    for k in list(SCHED.slots)[:10]:
        r = p.realize(k, reserved_net_kw=123.0)
        assert r.net_kw == pytest.approx(p.uncontrollable_kw(k))
        assert r.consumption_kw == p.consumption[k - SCHED.first_slot]
        assert r.production_kw == p.generation[k - SCHED.first_slot]
        assert r.plant_kw == r.battery_kw == r.production_cost == 0.0


def test_plant_follows_its_sold_position_within_its_ramp() -> None:
    plant = ProvisionPlant(capacity_kw=20.0, cost_a=60.0, cost_b=0.5, ramp_kw_per_slot=6.0)
    p = make(ProsumerSpec("plant", "plant", plant=plant))
    reserved = [5.0, 20.0, 20.0, 20.0, 20.0, 3.0, 0.0, 0.0, -4.0, 12.0, 25.0, 25.0, 25.0]
    prev = 0.0
    outputs = []
    for k, res in zip(SCHED.slots, reserved, strict=False):
        lo, hi = plant.feasible_range(prev)
        r = p.realize(k, res)
        want = min(max(max(res, 0.0), lo), hi)
        assert r.plant_kw == pytest.approx(want)
        assert abs(r.plant_kw - prev) <= 6.0 + 1e-9 or (r.plant_kw == 0.0
                                                         and plant.can_switch_off(prev))
        assert 0.0 <= r.plant_kw <= 20.0
        assert r.net_kw == r.plant_kw == r.production_kw
        assert r.production_cost == pytest.approx(plant.cost(r.plant_kw, L))
        prev = r.plant_kw
        outputs.append(r.plant_kw)
    assert outputs[:5] == pytest.approx([5.0, 11.0, 17.0, 20.0, 20.0])  # ramps up
    assert outputs[5] == pytest.approx(14.0)  # ramps down, cannot follow 3 kW at once
    assert outputs[-1] == pytest.approx(20.0)  # never above capacity


def test_plant_produces_exactly_what_it_sold_when_feasible() -> None:
    plant = ProvisionPlant(capacity_kw=50.0, ramp_kw_per_slot=50.0)
    p = make(ProsumerSpec("plant", "plant", plant=plant))
    for k, res in zip(SCHED.slots, [10.0, 30.0, 45.5, 0.0], strict=False):
        assert p.realize(k, res).net_kw == pytest.approx(res)


def test_battery_fills_its_reservation_within_power_and_state_of_charge() -> None:
    bat = Battery(energy_kwh=10.0, power_kw=5.0)
    p = make(ProsumerSpec("bat", "storage", battery=bat))
    soc = bat.initial_energy_kwh
    # discharge 5 kW (sell) until empty, then charge 8 kW (buy, above power) until full
    plan = [5.0] * 6 + [-8.0] * 12
    rates = []
    for k, res in zip(SCHED.slots, plan, strict=False):
        lo, hi = bat.feasible_rate_range(soc, L)
        r = p.realize(k, res)
        assert r.battery_kw == pytest.approx(min(max(res, lo), hi))
        assert -bat.power_kw - 1e-9 <= r.battery_kw <= bat.power_kw + 1e-9
        assert r.net_kw == r.battery_kw
        soc = p.soc_kwh
        assert bat.min_energy_kwh - 1e-9 <= soc <= bat.max_energy_kwh + 1e-9
        rates.append(r.battery_kw)
    assert rates[0] == pytest.approx(5.0)  # what it sold, while it can
    assert min(rates[:6]) < 5.0  # ... then it runs out: the floor binds
    assert p.soc_kwh == pytest.approx(bat.max_energy_kwh)  # charging stops at the ceiling
    assert rates[-1] == pytest.approx(0.0)


def test_home_battery_covers_the_gap_between_reservation_and_household() -> None:
    spec = ProsumerSpec("h", "intermittent", load=Household(annual_kwh=3500.0),
                        pv=PVSystem(peak_kw=6.0), battery=Battery(energy_kwh=10.0, power_kw=5.0))
    p = make(spec, 2)
    k = SCHED.first_slot + 48  # noon
    gap = -1.0 - p.uncontrollable_kw(k)  # reserve a 1 kW import
    r = p.realize(k, -1.0)
    assert r.battery_kw == pytest.approx(max(min(gap, 5.0), -5.0))
    assert r.net_kw == pytest.approx(p.uncontrollable_kw(k) + r.battery_kw)


def test_external_participant_delivers_exactly_its_reservation() -> None:
    p = make(ProsumerSpec("grid", "grid", external=True))
    for k, res in zip(SCHED.slots, [0.0, 12.3, -500.0, 7.0], strict=False):
        r = p.realize(k, res)
        assert r.net_kw == res
        assert r.production_cost == 0.0


def test_flexible_range_reports_plant_and_battery_limits() -> None:
    plant = ProvisionPlant(capacity_kw=20.0, ramp_kw_per_slot=6.0)
    bat = Battery(energy_kwh=10.0, power_kw=5.0)
    p = make(ProsumerSpec("x", "plant", plant=plant, battery=bat))
    lo, hi = p.flexible_range()
    b_lo, b_hi = bat.feasible_rate_range(bat.initial_energy_kwh, L)
    assert (lo, hi) == pytest.approx((0.0 + b_lo, 6.0 + b_hi))


@pytest.mark.parametrize("name", ["toy", "community", "town"])
def test_every_preset_prosumer_builds_and_reads_forecasts(name: str) -> None:
    sc = make_scenario(name)
    rng = np.random.default_rng(0)
    for spec in sc.prosumers[:12]:
        p = Prosumer(spec, sc.schedule, rng)
        k = sc.schedule.first_slot
        mean, std = p.forecast(k, 0)
        assert math.isfinite(mean) and std >= 0.0
        assert p.forecast(k, sc.schedule.delivery_start(k))[0] == pytest.approx(
            p.uncontrollable_kw(k))


def test_prosumer_spec_validation_messages() -> None:
    with pytest.raises(ValueError, match="owner must be a non-empty string"):
        ProsumerSpec("", "zic")
    with pytest.raises(ValueError, match="external .* owns no assets"):
        ProsumerSpec("grid", "grid", external=True, load=Household())


def test_pv_at_night_is_forecast_exactly_zero_with_zero_uncertainty() -> None:
    """A clipped error on a certain zero would be a biased forecast (the intermittent
    prototype would sell night PV it never produces)."""
    p = make(ProsumerSpec("pv", "intermittent", pv=PVSystem(peak_kw=5.0)), seed=4)
    night = [k for k in SCHED.slots if p.generation[k - SCHED.first_slot] == 0.0]
    day = [k for k in SCHED.slots if p.generation[k - SCHED.first_slot] > 0.5]
    assert len(night) > 20 and len(day) > 20
    for t in (0, 4 * 3600, 12 * 3600):
        for k in night:
            assert p.forecast(k, t) == (0.0, 0.0)
        assert any(p.forecast(k, t)[1] > 0.0 for k in day if k * L > t)


def test_continuous_revisions_arrive_at_a_phase_of_their_own_and_end_exact() -> None:
    """``update_s`` < slot length: a prosumer's forecast of a slot changes every ``update_s``
    seconds at its own phase (not at slot boundaries), and equals the truth from ``phase``
    seconds before delivery on."""
    s = SlotSchedule(n_slots=8, open_lead=2 * 3600, gate_lead=900, call_len=0)
    spec = ProsumerSpec("w", "intermittent", wind=WindFarm(rated_kw=50.0),
                        load=Household())
    phases = set()
    for seed in range(6):
        p = Prosumer(spec, s, np.random.default_rng(seed), update_s=300)
        phases.add(p._phase)
        k = s.first_slot + 4
        T = k * s.slot_len
        times = range(T - 2 * 3600, T + 1)
        f = [p.forecast(k, t)[0] for t in times]
        changes = [t for t, a, b in zip(times[1:], f, f[1:], strict=False) if a != b]
        assert changes and all((T - t - p._phase) % 300 == 0 for t in changes)
        assert p.forecast(k, T - p._phase)[0] == pytest.approx(p.uncontrollable_kw(k))
        assert p.forecast_window(range(k, k + 1), T - 1000)[0][0] == p.forecast(k, T - 1000)[0]
    assert len(phases) > 1 and any(x % 900 for x in phases)
    with pytest.raises(ValueError, match="divisor of the slot length"):
        Prosumer(spec, s, np.random.default_rng(0), update_s=400)
