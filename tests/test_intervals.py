"""Tests of lmforecast.intervals: scales, rolling-origin errors, pooled conformal quantiles."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import numpy.testing as npt
import pandas as pd
import pytest
import xarray as xr

from lmforecast.intervals import ConformalCalibrator, default_step, rolling_origin_errors, series_scale
from lmforecast.metrics import coverage
from lmforecast.models.baselines import Naive, SeasonalNaive, naive_point

SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def make_panel(values: np.ndarray, freq: str = "MS", occupations=None) -> xr.Dataset:
    """Panel (time, region, occupation) of ``job_offers`` from a 3-D array."""
    n_time, n_region, n_occ = values.shape
    occupations = occupations or [f"{k + 11}" for k in range(n_occ)]
    return xr.Dataset(
        {"job_offers": (("time", "region", "occupation"), values.astype(float))},
        coords={"time": pd.date_range("2015-01-01", periods=n_time, freq=freq),
                "region": [f"MA-{r + 1:02d}" for r in range(n_region)],
                "occupation": occupations,
                "occupation_major": ("occupation", [o[0] for o in occupations])},
        attrs={"freq": freq, "country": "MA"})


def simulate_panel(seed: int, n_time: int = 96, horizon: int = 6) -> xr.Dataset:
    """300 random-walk + seasonal series (10 regions x 30 occupations in 3 majors), monthly.

    Levels 20-2000 (log-uniform), random-walk sd 2-6 % of the level, seasonal amplitude 0-30 %,
    white noise half the walk's sd. ``n_time + horizon`` periods.
    """
    rng = np.random.default_rng(seed)
    n_series = 300
    level = np.exp(rng.uniform(np.log(20), np.log(2000), n_series))
    sigma = level * rng.uniform(0.02, 0.06, n_series)
    amplitude = level * rng.uniform(0.0, 0.3, n_series)
    phase = rng.uniform(0, 2 * np.pi, n_series)
    t = np.arange(n_time + horizon)
    walk = np.cumsum(rng.normal(size=(n_series, t.size)), axis=1) * sigma[:, None]
    noise = rng.normal(size=(n_series, t.size)) * sigma[:, None] * 0.5
    y = level[:, None] + walk + amplitude[:, None] * np.sin(2 * np.pi * t / 12 + phase[:, None]) + noise
    occupations = [f"{major}{k}" for major in range(1, 4) for k in range(10)]
    return make_panel(y.T.reshape(t.size, 10, 30), occupations=occupations)


# --------------------------------------------------------------------------- series_scale
def test_series_scale_uses_seasonal_then_first_difference_then_level_then_one():
    y = np.array([
        [1.0, 2.0, 4.0, 7.0, 11.0],      # m=2: |4-1|, |7-2|, |11-4| -> mean 5
        [3.0, 3.0, 3.0, 3.0, 3.0],       # constant: every difference 0 -> mean level 3
        [0.0, 0.0, 0.0, 0.0, 0.0],       # all zero -> 1.0
        [np.nan, 2.0, np.nan, 5.0, np.nan],  # one seasonal pair (t=1, t=3) -> 3
        [np.nan, 2.0, np.nan, np.nan, 5.0],  # no seasonal nor consecutive pair -> level 3.5
        [np.nan] * 5,                    # nothing observed -> 1.0
    ])
    npt.assert_allclose(series_scale(y, 2), [5.0, 3.0, 1.0, 3.0, 3.5, 1.0])


def test_series_scale_falls_back_to_first_difference_when_no_seasonal_pair():
    y = np.array([[1.0, 3.0, 2.0]])   # m=12 > length: first differences 2, 1
    npt.assert_allclose(series_scale(y, 12), [1.5])


def test_series_scale_rejects_one_dimensional_input():
    with pytest.raises(ValueError, match=re.escape("y must be 2-D (series, time), got shape (3,)")):
        series_scale(np.ones(3), 1)


# --------------------------------------------------------------------------- rolling origins
def test_rolling_origin_errors_origins_errors_and_no_peeking():
    y = np.arange(20, dtype=float)[None, :].repeat(2, axis=0)
    y[1, 15] = np.nan
    seen = []

    def fit_predict(y_train):
        seen.append(y_train.shape[1])
        return naive_point(y_train, 3)

    errors = rolling_origin_errors(fit_predict, y, horizon=3, n_windows=3, step=4)
    assert seen == [9, 13, 17]                      # last origin = 20 - 3, spaced 4 apart
    assert errors.shape == (2, 3, 3)
    npt.assert_array_equal(errors[0], [[1, 2, 3]] * 3)   # naive misses a slope-1 line by h
    assert np.isnan(errors[1, 1, 2])                # actual at t=15 missing -> NaN error
    npt.assert_array_equal(errors[1, 1, :2], [1, 2])


def test_rolling_origin_errors_skips_origins_before_min_train():
    y = np.ones((1, 10))
    errors = rolling_origin_errors(lambda y_train: naive_point(y_train, 2), y, 2, 5, 3, min_train=3)
    assert errors.shape == (1, 2, 2)                # origins 8, 5 kept; 2, -1, -4 dropped


def test_rolling_origin_errors_rejects_wrong_forecast_shape():
    with pytest.raises(ValueError, match=re.escape("fit_predict returned shape (1, 1), expected (1, 2)")):
        rolling_origin_errors(lambda y_train: np.zeros((1, 1)), np.ones((1, 10)), 2, 1, 1)


def test_default_step_is_the_horizon():
    assert default_step(12, 12) == 12
    assert default_step(3, 12) == 3


# --------------------------------------------------------------------------- calibrator
def test_conformal_quantiles_use_finite_sample_ranks_of_signed_scaled_errors():
    errors = np.arange(-49.0, 50.0).reshape(1, 99, 1) * 2.0    # one series, 99 windows, 1 step
    calibrator = ConformalCalibrator(min_pool=10).fit(errors, scale=np.array([2.0]))
    q = calibrator.quantiles(np.array([[100.0]]), (0.1, 0.5, 0.9, 0.95))
    # scaled errors -49..49; n=99: upper rank ceil(100*0.9)=90 -> 40, lower rank floor(100*0.1)=10 -> -40,
    # rank ceil(100*0.95)=95 -> 45; multiplied back by the scale 2
    npt.assert_allclose(q[0, 0], [100 - 80, 100, 100 + 80, 100 + 90])


def test_conformal_quantiles_are_asymmetric_for_skewed_errors_and_symmetric_on_request():
    rng = np.random.default_rng(0)
    errors = rng.exponential(1.0, size=(1, 400, 1)) - 0.5       # right-skewed
    asym = ConformalCalibrator(min_pool=10).fit(errors, np.ones(1)).quantiles(np.zeros((1, 1)), (0.1, 0.9))
    sym = ConformalCalibrator(min_pool=10, symmetric=True).fit(errors, np.ones(1)).quantiles(
        np.zeros((1, 1)), (0.1, 0.9))
    assert asym[0, 0, 1] > -asym[0, 0, 0] * 2                  # upper side much wider
    npt.assert_allclose(sym[0, 0, 0], -sym[0, 0, 1])


def test_widths_never_shrink_over_the_horizon_and_median_is_the_point():
    rng = np.random.default_rng(1)
    errors = rng.normal(size=(50, 6, 4)) * np.array([3.0, 1.0, 2.0, 0.5])   # step 2 and 4 narrower
    calibrator = ConformalCalibrator(min_pool=20).fit(errors, np.ones(50))
    point = np.full((50, 4), 10.0)
    q = calibrator.quantiles(point, (0.1, 0.5, 0.9))
    assert np.all(np.diff(q[:, :, 2], axis=1) >= 0)
    assert np.all(np.diff(q[:, :, 0], axis=1) <= 0)
    npt.assert_array_equal(q[:, :, 1], point)


def test_pools_fall_back_from_group_to_tercile_to_all_series():
    n = 30
    errors = np.random.default_rng(2).normal(size=(n, 4, 1))
    scale = np.exp(np.linspace(0, 3, n))
    groups = np.array(["1"] * 27 + ["2"] * 3)
    calibrator = ConformalCalibrator(min_pool=12).fit(errors * scale[:, None, None], scale, groups)
    labels = [calibrator.pool_labels_[i] for i in calibrator.pool_of_[:, 0]]
    # 10 series per tercile; tercile x group "1" holds 9-10 series x 4 windows >= 12 errors
    assert labels[0].startswith("h=1 scale tercile x group t0|1")
    # group "2" (3 series in the top tercile, 12 errors) is big enough too; with min_pool=13 it is not
    calibrator = ConformalCalibrator(min_pool=13).fit(errors * scale[:, None, None], scale, groups)
    labels = [calibrator.pool_labels_[i] for i in calibrator.pool_of_[:, 0]]
    assert labels[-1].startswith("h=1 scale tercile t2 ")
    calibrator = ConformalCalibrator(min_pool=1000).fit(errors, np.ones(n), groups)
    assert {calibrator.pool_labels_[i] for i in calibrator.pool_of_[:, 0]} == {"h=1 all series all (n=120)"}


def test_calibrator_rejects_bad_scale_and_unfitted_use():
    with pytest.raises(ValueError, match=re.escape("scale must be finite and > 0; series 1 has 0.0")):
        ConformalCalibrator().fit(np.zeros((2, 3, 1)), np.array([1.0, 0.0]))
    with pytest.raises(RuntimeError, match="ConformalCalibrator is not fitted"):
        ConformalCalibrator().quantiles(np.zeros((1, 1)), (0.9,))
    calibrator = ConformalCalibrator(min_pool=1).fit(np.zeros((2, 3, 2)), np.ones(2))
    with pytest.raises(ValueError, match=re.escape("calibrated for 2 series and up to 2 steps")):
        calibrator.quantiles(np.zeros((2, 3)), (0.9,))


def test_empty_pool_gives_nan_bounds_but_keeps_the_point():
    calibrator = ConformalCalibrator().fit(np.full((2, 0, 3), np.nan), np.ones(2))
    q = calibrator.quantiles(np.ones((2, 3)), (0.1, 0.5, 0.9))
    assert np.isnan(q[..., [0, 2]]).all()
    npt.assert_array_equal(q[..., 1], 1.0)


# --------------------------------------------------------------------------- coverage
def test_calibrated_80pct_intervals_cover_about_80pct_on_a_simulated_panel():
    """300 random-walk + seasonal series, horizon 6, seasonal naive with 6 calibration windows.

    Measured over seeds 0-29 (one hold-out of 6 months each): mean coverage 0.808, range
    0.772-0.847; the band [0.75, 0.87] holds every seed with a margin. A single hold-out is
    noisy because each series' 6 errors are correlated (random walk).
    """
    for seed in (0, 1):
        panel = simulate_panel(seed)
        train = panel.isel(time=slice(0, -6))
        actual = panel["job_offers"].isel(time=slice(-6, None))
        forecast = SeasonalNaive().fit(train, "job_offers").predict(6, (0.1, 0.5, 0.9))
        measured = float(coverage(actual, forecast, level=0.8))
        assert 0.75 <= measured <= 0.87, f"seed {seed}: coverage {measured:.3f}"


def test_two_unscaled_windows_per_series_under_cover_where_pooled_scaled_windows_do_not():
    """The peer library's recipe (per-series errors, two windows) is the reason for 58 %."""
    panel = simulate_panel(3)
    train, actual = panel.isel(time=slice(0, -6)), panel["job_offers"].isel(time=slice(-6, None))
    model = SeasonalNaive().fit(train, "job_offers")
    y = model.y_
    errors = rolling_origin_errors(lambda y_train: model._point(y_train, 6), y, 6, 2, 6)
    point = model._point(y, 6)
    # per-series quantiles of two windows: each series its own pool of 2 errors per step
    lower = point + np.nanmin(errors, axis=1)
    upper = point + np.nanmax(errors, axis=1)
    stacked_actual = actual.stack(series=("region", "occupation")).transpose("series", "time").values
    naive_coverage = np.mean((stacked_actual >= lower) & (stacked_actual <= upper))
    pooled = float(coverage(actual, model.predict(6, (0.1, 0.5, 0.9)), level=0.8))
    assert naive_coverage < 0.7 < 0.75 <= pooled


@pytest.mark.slow
@pytest.mark.shared_data
def test_au_ivi_80pct_coverage_of_calibrated_baselines_is_near_nominal():
    """Real Australian IVI panel: 384 monthly series, horizon 12, 13 yearly cutoffs 2012-2024.

    Measured (6 windows, step = horizon): Naive 0.795, SeasonalNaive 0.823. Cutoffs 2020-02
    (COVID collapse) and 2021-02 (rebound) cover only 0.3-0.6, the others 0.75-0.95: the average
    over cutoffs is what the team target (75-85 %) is about.
    """
    folder = SHARED_DATA / "au-ivi"
    if not folder.is_dir():
        pytest.skip(f"shared data folder {folder} is absent")
    from lmforecast.datasets.au_ivi import load_au_ivi

    panel = load_au_ivi(sheet="Seasonally Adjusted")
    horizon, n_time = 12, panel.sizes["time"]
    cutoffs = range(n_time - horizon - 144, n_time - horizon + 1, 12)
    for model in (Naive(), SeasonalNaive()):
        per_cutoff = []
        for cut in cutoffs:
            forecast = model.fit(panel.isel(time=slice(0, cut)), "job_offers").predict(horizon, (0.1, 0.5, 0.9))
            actual = panel["job_offers"].isel(time=slice(cut, cut + horizon))
            per_cutoff.append(float(coverage(actual, forecast, level=0.8)))
        assert 0.75 <= np.mean(per_cutoff) <= 0.85, (type(model).__name__, np.round(per_cutoff, 2))
