"""Same seed, same arrays; different seeds, different arrays; nothing else is random."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from rex_env.physics import ForecastPath, Household, PVSystem, WindFarm

Sampler = Callable[[np.random.Generator], np.ndarray]

SAMPLERS: dict[str, Sampler] = {
    "wind-weibull_ar1": lambda rng: WindFarm().sample(rng, 96, 900),
    "wind-markov_regime": lambda rng: WindFarm(model="markov_regime").sample(rng, 96, 900),
    "pv": lambda rng: PVSystem().sample(rng, 172, 96, 900),
    "household": lambda rng: Household().sample(rng, 100, 96, 900),
    "forecast": lambda rng: ForecastPath(rng, np.ones(96), 10.0, 96).errors,
}


@pytest.mark.parametrize("name", SAMPLERS)
def test_same_seed_gives_identical_arrays(name: str) -> None:
    a = SAMPLERS[name](np.random.default_rng(123))
    b = SAMPLERS[name](np.random.default_rng(123))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", SAMPLERS)
def test_different_seeds_give_different_arrays(name: str) -> None:
    a = SAMPLERS[name](np.random.default_rng(1))
    b = SAMPLERS[name](np.random.default_rng(2))
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("name", SAMPLERS)
def test_unseeded_global_state_is_not_used(name: str) -> None:
    np.random.seed(0)
    a = SAMPLERS[name](np.random.default_rng(7))
    np.random.seed(99)
    b = SAMPLERS[name](np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
