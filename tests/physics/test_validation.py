"""Invalid parameters fail at construction, naming the field and what is allowed."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from rex_env.physics import (
    Battery,
    ForecastErrorModel,
    ForecastPath,
    Household,
    ProvisionPlant,
    PVSystem,
    WindFarm,
)

CASES: list[tuple[str, Callable[[], object], str]] = [
    (
        "wind-negative-rating",
        lambda: WindFarm(rated_kw=-1.0),
        r"rated_kw must be a finite number > 0",
    ),
    ("wind-cut-in-above-rated", lambda: WindFarm(cut_in=14.0), r"cut_in < rated_speed < cut_out"),
    ("wind-rated-above-cut-out", lambda: WindFarm(rated_speed=26.0), r"rated_speed < cut_out"),
    ("wind-unknown-model", lambda: WindFarm(model="gust"), r"model must be one of .*weibull_ar1"),
    ("wind-zero-shape", lambda: WindFarm(weibull_k=0.0), r"weibull_k must be"),
    ("wind-nan-scale", lambda: WindFarm(weibull_c=math.nan), r"weibull_c must be"),
    ("wind-regime-lengths", lambda: WindFarm(regime_scale=(1.0,)), r"equal length"),
    ("wind-regime-weights", lambda: WindFarm(regime_weight=(0.0, 0.0, 0.0)), r"not all zero"),
    ("pv-zero-peak", lambda: PVSystem(peak_kw=0.0), r"peak_kw must be a finite number > 0"),
    ("pv-pr-above-one", lambda: PVSystem(performance_ratio=1.2), r"performance_ratio must be in"),
    ("pv-latitude", lambda: PVSystem(latitude=95.0), r"latitude must be in \[-90.0, 90.0\]"),
    ("pv-kc-order", lambda: PVSystem(kc_min=0.9, kc_max=0.5), r"kc_min < kc_max"),
    ("pv-substeps", lambda: PVSystem(substeps=0), r"substeps must be an int in 1..60"),
    ("load-negative-annual", lambda: Household(annual_kwh=-5.0), r"annual_kwh must be"),
    ("load-negative-noise", lambda: Household(noise_sigma=-0.1), r"noise_sigma must be .*>= 0"),
    ("load-flex-share", lambda: Household(flexible_share=1.5), r"flexible_share must be in"),
    ("plant-negative-capacity", lambda: ProvisionPlant(capacity_kw=-1.0), r"capacity_kw must be"),
    (
        "plant-min-stable-above-capacity",
        lambda: ProvisionPlant(capacity_kw=10.0, min_stable_kw=20.0),
        r"min_stable_kw must be <= capacity_kw",
    ),
    ("plant-zero-ramp", lambda: ProvisionPlant(ramp_kw_per_slot=0.0), r"ramp_kw_per_slot must"),
    ("plant-negative-slope", lambda: ProvisionPlant(cost_b=-1.0), r"cost_b must be"),
    ("battery-eta-above-one", lambda: Battery(eta_charge=1.1), r"eta_charge must be in \(0, 1\]"),
    ("battery-eta-zero", lambda: Battery(eta_discharge=0.0), r"eta_discharge must be in"),
    ("battery-soc-order", lambda: Battery(soc_min=0.8, soc_max=0.2), r"soc_min must be <= soc_max"),
    ("battery-initial-soc", lambda: Battery(initial_soc=0.95), r"initial_soc must be in"),
    ("battery-zero-energy", lambda: Battery(energy_kwh=0.0), r"energy_kwh must be"),
    ("error-model-shrinks", lambda: ForecastErrorModel(sigma_inf=0.01), r"sigma_inf must be >="),
    (
        "forecast-2d-truth",
        lambda: ForecastPath(np.random.default_rng(0), np.ones((2, 2)), 1.0),
        r"truth must be one-dimensional",
    ),
    (
        "forecast-negative-capacity",
        lambda: ForecastPath(np.random.default_rng(0), np.ones(4), -1.0),
        r"capacity_kw must be",
    ),
    (
        "forecast-update",
        lambda: ForecastPath(np.random.default_rng(0), np.ones(4), 1.0, update_s=0),
        r"update_s must be an int",
    ),
]


@pytest.mark.parametrize("factory,message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_invalid_parameters_raise_value_error(factory: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        factory()


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda: WindFarm().sample(np.random.default_rng(0), -1, 900), r"n_slots must be"),
        (lambda: WindFarm().sample(np.random.default_rng(0), 96, 0), r"slot_len must be"),
        (lambda: PVSystem().clear_sky_kw(0, 96), r"day_of_year must be an int in 1..366"),
        (lambda: Household().expected(366, 96), r"day_of_year must be <= 365"),
    ],
    ids=["negative-slots", "zero-slot-len", "day-zero", "day-366-in-2025"],
)
def test_invalid_call_arguments_raise_value_error(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_defaults_are_valid() -> None:
    for cls in (WindFarm, PVSystem, Household, ProvisionPlant, Battery, ForecastErrorModel):
        cls()
