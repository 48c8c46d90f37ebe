"""Forecasts: zero error at delivery, the promised variance, unbiased independent revisions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rex_env.physics import ForecastErrorModel, ForecastPath

CAP = 100.0


def _paths(n_seeds: int, n_slots: int = 96, m: int = 96, **kw: object) -> list[ForecastPath]:
    truth = np.full(n_slots, 50.0)
    return [
        ForecastPath(np.random.default_rng(seed), truth, CAP, m, **kw)  # type: ignore[arg-type]
        for seed in range(n_seeds)
    ]


def test_error_model_values_and_growth() -> None:
    f = ForecastErrorModel()
    assert float(f.fraction(0)) == 0.0
    assert float(f.fraction(900)) == pytest.approx(0.03)
    assert 0.10 <= float(f.fraction(86400)) <= 0.15
    leads = np.arange(0, 2 * 86400, 300)
    assert np.all(np.diff(f.fraction(leads)) >= 0.0)


def test_zero_error_at_and_after_delivery() -> None:
    fp = _paths(1)[0]
    for k in (0, 10, 95):
        start = k * 900
        for t in (start, start + 1, start + 900, start + 5000):
            assert fp.forecast(k, t, clip=False) == fp.truth[k]
            assert fp.sigma(k, t) == 0.0
    mean, std = fp.forecast_window(np.arange(96), 96 * 900)
    np.testing.assert_array_equal(mean, fp.truth)
    np.testing.assert_array_equal(std, 0.0)


def test_sigma_grows_with_lead() -> None:
    fp = _paths(1)[0]
    assert np.all(np.diff(fp.sigma_by_revisions) > 0.0)
    sig = [fp.sigma(95, t) for t in range(0, 96 * 900, 900)]
    assert all(a >= b for a, b in zip(sig, sig[1:], strict=False))
    assert fp.sigma(95, 95 * 900 - 1) == pytest.approx(0.03 * CAP)


def test_error_variance_matches_sigma_squared() -> None:
    errors = np.concatenate([fp.errors for fp in _paths(300)])  # 28,800 slots
    sigma = _paths(1)[0].sigma_by_revisions
    var = errors.var(axis=0)
    # the sample variance of ~29k normals is within ~1.7 % (2 sd); allow 5 %
    np.testing.assert_allclose(var[1:], sigma[1:] ** 2, rtol=0.05)
    assert np.all(errors[:, 0] == 0.0)


def test_revisions_are_unbiased_and_uncorrelated() -> None:
    errors = np.concatenate([fp.errors for fp in _paths(300)])
    revisions = errors[:, :-1] - errors[:, 1:]  # f_{m-1} - f_m for m = 1..M
    n = revisions.shape[0]
    se = revisions.std(axis=0) / math.sqrt(n)
    assert np.all(np.abs(revisions.mean(axis=0)) < 4.5 * se)
    corr = np.corrcoef(revisions[:, :20].T)
    off_diagonal = corr[~np.eye(20, dtype=bool)]
    assert np.max(np.abs(off_diagonal)) < 0.04  # 4.5 / sqrt(n)
    # a revision is independent of the error that remains after it
    c = [np.corrcoef(revisions[:, m - 1], errors[:, m - 1])[0, 1] for m in range(2, 40)]
    assert np.max(np.abs(c)) < 0.04


def test_window_equals_scalar_calls_and_the_ceil_definition() -> None:
    for update_s in (900, 300, 600):  # 600 takes the general (non-multiple) branch
        fp = ForecastPath(
            np.random.default_rng(update_s), np.linspace(0, 80, 96), CAP, 40, update_s=update_s
        )
        slots = np.arange(96)
        for t in (0, 1, 899, 900, 4321, 30000, 86399):
            mean, std = fp.forecast_window(slots, t, clip=False)
            for k in range(96):
                m = min(max(math.ceil((k * 900 - t) / update_s), 0), 40)
                assert fp.revisions_left(k, t) == m
                assert mean[k] == fp.truth[k] + fp.errors[k, m] == fp.forecast(k, t, clip=False)
                assert std[k] == fp.sigma_by_revisions[m] == fp.sigma(k, t)


def test_leads_beyond_max_revisions_use_the_last_one() -> None:
    fp = ForecastPath(np.random.default_rng(0), np.ones(96), CAP, 8)
    assert fp.revisions_left(95, 0) == 8
    assert fp.sigma(95, 0) == fp.sigma(95, 95 * 900 - 8 * 900)


def test_clipped_means_stay_in_bounds_unclipped_do_not() -> None:
    truth = np.r_[np.zeros(48), np.full(48, CAP)]
    fp = ForecastPath(np.random.default_rng(1), truth, CAP, 96, bounds=(0.0, CAP))
    clipped, _ = fp.forecast_window(np.arange(96), 0)
    raw, _ = fp.forecast_window(np.arange(96), 0, clip=False)
    assert clipped.min() >= 0.0 and clipped.max() <= CAP
    assert raw.min() < 0.0 and raw.max() > CAP
    np.testing.assert_array_equal(clipped, np.clip(raw, 0.0, CAP))


def test_slot_correlation_keeps_marginals_and_correlates_neighbours() -> None:
    paths = _paths(200, slot_corr_s=4 * 3600.0)
    errors = np.concatenate([fp.errors for fp in paths])
    sigma = paths[0].sigma_by_revisions
    np.testing.assert_allclose(errors.var(axis=0)[1:], sigma[1:] ** 2, rtol=0.1)
    a = np.stack([fp.errors[:-1, 20] for fp in paths]).ravel()
    b = np.stack([fp.errors[1:, 20] for fp in paths]).ravel()
    assert np.corrcoef(a, b)[0, 1] == pytest.approx(math.exp(-900 / (4 * 3600)), abs=0.03)


def test_arrays_are_read_only_and_window_results_fresh() -> None:
    fp = _paths(1)[0]
    with pytest.raises(ValueError):
        fp.errors[0, 1] = 1.0
    mean, _ = fp.forecast_window(np.arange(4), 0)
    mean[:] = -1.0
    assert fp.forecast(0, 0) != -1.0


def test_a_slot_with_zero_scale_is_forecast_exactly_and_the_rest_scale_their_error() -> None:
    truth = np.full(96, 50.0)
    truth[:20] = 0.0  # e.g. PV at night: the outcome is certain
    scale = np.ones(96)
    scale[:20] = 0.0
    scale[20:40] = 0.5
    fp = ForecastPath(np.random.default_rng(3), truth, CAP, 96, scale=scale)
    plain = ForecastPath(np.random.default_rng(3), truth, CAP, 96)
    for t in (0, 3600, 40_000):
        mean, std = fp.forecast_window(np.arange(96), t)
        np.testing.assert_array_equal(mean[:20], 0.0)  # no clipped noise: no bias
        np.testing.assert_array_equal(std[:20], 0.0)
        m = fp.revisions_left(np.arange(96), t)
        np.testing.assert_allclose(std[20:40], 0.5 * fp.sigma_by_revisions[m[20:40]])
        np.testing.assert_allclose(std[40:], fp.sigma_by_revisions[m[40:]])
        assert fp.sigma(30, t) == pytest.approx(0.5 * plain.sigma(30, t))
    # the same draws, scaled per slot: scale 1 slots are the unscaled path
    np.testing.assert_array_equal(fp.errors[40:], plain.errors[40:])
    np.testing.assert_allclose(fp.errors[20:40], 0.5 * plain.errors[20:40])


@pytest.mark.parametrize("scale", [np.ones(5), -np.ones(96), np.full(96, np.nan)],
                         ids=["shape", "negative", "nan"])
def test_bad_scale_is_refused(scale: np.ndarray) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError, match="scale must be finite, >= 0 and of shape"):
        ForecastPath(np.random.default_rng(0), np.full(96, 50.0), CAP, 96, scale=scale)


def test_no_scale_is_a_unit_scale_to_the_last_bit() -> None:
    """Without ``scale`` the multiplication by one is skipped and sigma's rows are shared
    (a reset builds dozens of paths): the numbers must be those of an explicit unit scale."""
    truth = np.linspace(0.0, 80.0, 96)
    ones = ForecastPath(np.random.default_rng(5), truth, CAP, 24, scale=np.ones(96))
    none = ForecastPath(np.random.default_rng(5), truth, CAP, 24)
    assert none.errors.tobytes() == ones.errors.tobytes()
    assert none.means.tobytes() == ones.means.tobytes()
    assert np.asarray(none.sigma_table).tobytes() == np.asarray(ones.sigma_table).tobytes()
    with pytest.raises(ValueError):
        none.sigma_table[0, 1] = 1.0  # shared rows are read-only


def test_means_are_the_clipped_truth_plus_errors() -> None:
    fp = _paths(1, m=24)[0]
    np.testing.assert_array_equal(fp.means, np.clip(fp.truth[:, None] + fp.errors, 0.0, None))
    assert not fp.means.flags.writeable
