"""Tests of lmforecast.models.baselines on hand-made arrays (exact values)."""

from __future__ import annotations

import re

import numpy as np
import numpy.testing as npt
import pandas as pd
import pytest
import xarray as xr
from sklearn.base import clone

from lmforecast.errors import NotFittedError
from lmforecast.uncertainty import ResidualUncertainty
from lmforecast.models.baselines import (
    Drift, HistoricalMean, Naive, SeasonalNaive, drift_point, mean_point, naive_point, seasonal_naive_point)

NAN = np.nan


def make_panel(series: np.ndarray, freq: str = "MS") -> xr.Dataset:
    """One region, one occupation per row of ``series`` (series, time)."""
    series = np.asarray(series, dtype=float)
    occupations = [f"{k + 11}" for k in range(series.shape[0])]
    return xr.Dataset(
        {"job_offers": (("time", "region", "occupation"), series.T[:, None, :])},
        coords={"time": pd.date_range("2020-01-01", periods=series.shape[1], freq=freq),
                "region": ["MA-01"], "occupation": occupations,
                "occupation_major": ("occupation", [o[0] for o in occupations])},
        attrs={"freq": freq, "country": "MA"})


def point(model, series, horizon, freq="MS") -> np.ndarray:
    forecast = model.fit(make_panel(series, freq), "job_offers").predict(horizon, (0.1, 0.5, 0.9))
    return forecast.sel(quantile=0.5).isel(region=0).transpose("occupation", "time").values


Y = np.array([
    [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
    [NAN, 2.0, NAN, 4.0, 8.0, NAN],     # internal + trailing NaN
    [NAN, NAN, NAN, NAN, NAN, NAN],     # nothing observed
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],     # all zeros
])


def test_naive_uses_the_last_observed_value():
    npt.assert_array_equal(naive_point(Y, 2), [[6, 6], [8, 8], [NAN, NAN], [0, 0]])
    npt.assert_array_equal(point(Naive(), Y, 2), [[6, 6], [8, 8], [NAN, NAN], [0, 0]])


def test_seasonal_naive_takes_the_last_observed_value_of_the_same_season_position():
    y = np.array([
        [1.0, 2.0, 3.0, 10.0, 20.0, 30.0, 11.0],   # m=3, last full cycle ends at t=6
        [1.0, 2.0, 3.0, 10.0, NAN, 30.0, 11.0],    # position of t=4 missing: use t=1 (2.0)
        [NAN, NAN, NAN, NAN, NAN, 5.0, 7.0],       # shorter than a season -> naive
    ])
    # future t=7,8,9 share positions with t=4,5,6
    npt.assert_array_equal(seasonal_naive_point(y, 4, 3), [[20, 30, 11, 20], [2, 30, 11, 2], [7, 7, 7, 7]])


def test_seasonal_naive_season_length_comes_from_the_panel_frequency():
    y = np.arange(1.0, 9.0)[None, :]                                  # 8 quarters
    npt.assert_array_equal(point(SeasonalNaive(), y, 5, freq="QS"), [[5, 6, 7, 8, 5]])
    npt.assert_array_equal(point(SeasonalNaive(season_length=2), y, 3, freq="QS"), [[7, 8, 7]])
    npt.assert_array_equal(point(SeasonalNaive(), y, 2, freq="YS"), [[8, 8]])   # season 1 = naive


def test_drift_extends_the_line_through_first_and_last_observations():
    # row 1: first obs 2.0 at t=1, last 8.0 at t=4 -> slope 2; t=6 is 2 steps after t=4
    npt.assert_allclose(drift_point(Y, 2), [[7, 8], [12, 14], [NAN, NAN], [0, 0]])
    single = np.array([[NAN, 5.0, NAN]])
    npt.assert_array_equal(drift_point(single, 2), [[5, 5]])


def test_historical_mean_over_all_or_the_last_observed_values():
    npt.assert_allclose(mean_point(Y, 1), [[3.5], [14 / 3], [NAN], [0]])
    npt.assert_allclose(mean_point(Y, 1, window=2), [[5.5], [6.0], [NAN], [0]])
    npt.assert_allclose(point(HistoricalMean(window=2), Y, 1), [[5.5], [6.0], [NAN], [0]])
    with pytest.raises(ValueError, match="window must be >= 1 observed values, got 0"):
        mean_point(Y, 1, window=0)


@pytest.mark.parametrize("model", [Naive(), SeasonalNaive(), Drift(), HistoricalMean()])
def test_quantiles_are_ordered_around_the_point_and_nan_only_without_history(model):
    rng = np.random.default_rng(0)
    y = 100 + np.cumsum(rng.normal(size=(20, 48)), axis=1)
    y[0] = NAN
    y[1, :40] = NAN                                         # short: pooled intervals still apply
    forecast = model.fit(make_panel(y), "job_offers").predict(6, (0.05, 0.1, 0.5, 0.9, 0.95))
    values = forecast.isel(region=0).transpose("occupation", "time", "quantile").values
    assert np.isnan(values[0]).all()
    assert np.isfinite(values[1:]).all()
    assert np.all(np.diff(values[1:], axis=-1) >= 0)
    assert np.all(values[1:, :, 1] < values[1:, :, 2]) and np.all(values[1:, :, 2] < values[1:, :, 3])
    width = values[1:, :, 3] - values[1:, :, 1]
    assert np.all(np.diff(width, axis=1) >= -1e-9)           # never narrower further ahead


def test_same_inputs_same_numbers_and_calibration_is_made_at_fit():
    """The calibration is fitted once, at fit, for five years; predict reads it and changes nothing."""
    rng = np.random.default_rng(3)
    panel = make_panel(50 + np.cumsum(rng.normal(size=(5, 36)), axis=1))
    model = SeasonalNaive().fit(panel, "job_offers")
    calibration = model.uncertainty_
    assert calibration.horizon_ == 60                      # five years of monthly steps
    first = model.predict(4)
    assert model.uncertainty_ is calibration
    xr.testing.assert_identical(first, model.predict(4))
    xr.testing.assert_identical(first, SeasonalNaive().fit(panel, "job_offers").predict(4))


@pytest.mark.parametrize("model", [Naive(uncertainty=ResidualUncertainty(n_windows=4)), SeasonalNaive(season_length=4),
                                   Drift(uncertainty="none"),
                                   HistoricalMean(window=6, uncertainty=ResidualUncertainty(min_pool=30))])
def test_get_params_and_clone(model):
    """Clones copy every parameter, the uncertainty settings included, and are not fitted."""
    params = model.get_params()
    copy = clone(model)
    assert copy is not model
    assert {k: v for k, v in copy.get_params().items() if k != "uncertainty"} == \
        {k: v for k, v in params.items() if k != "uncertainty"}
    if isinstance(model.uncertainty, ResidualUncertainty):
        assert copy.uncertainty is not model.uncertainty
        assert copy.uncertainty.get_params() == model.uncertainty.get_params()
    with pytest.raises(NotFittedError, match=f"{type(model).__name__} is not fitted"):
        copy.predict(3)


def test_point_only_models_refuse_quantiles_and_paths():
    """``uncertainty="none"``: no calibration refits, point forecasts only, clear errors otherwise."""
    model = Naive(uncertainty="none").fit(make_panel(Y[:2]), "job_offers")
    assert model.uncertainty_ is None
    npt.assert_array_equal(model.predict(2, (0.5,)).isel(region=0, quantile=0).transpose("occupation", "time"),
                           [[6, 6], [8, 8]])
    with pytest.raises(ValueError, match=r"Naive was fitted with uncertainty='none': only quantiles=\(0\.5,\) "):
        model.predict(2, (0.1, 0.9))
    with pytest.raises(ValueError, match="Naive was fitted with uncertainty='none': no sample paths"):
        model.sample_paths(2)


@pytest.mark.parametrize("spec, error, message", [
    ("conformal", ValueError, "uncertainty must be a ResidualUncertainty, None or 'none', got 'conformal'"),
    (12, TypeError, "uncertainty must be a ResidualUncertainty, got int"),
])
def test_bad_uncertainty_settings_are_named(spec, error, message):
    """An unknown uncertainty setting fails at fit, naming what was given."""
    with pytest.raises(error, match=re.escape(message)):
        Naive(uncertainty=spec).fit(make_panel(Y[:2]), "job_offers")


def test_uncertainty_settings_set_the_calibration_origins():
    """``ResidualUncertainty(n_windows, step)`` sets the origins of the refits the intervals come from."""
    y = 50 + np.cumsum(np.random.default_rng(5).normal(size=(4, 48)), axis=1)
    model = Naive(uncertainty=ResidualUncertainty(n_windows=3, step=6)).fit(make_panel(y), "job_offers")
    # data end 2023-12: the last origin leaves a year of actuals, the others go back 6 months at a time
    assert [f"{t:%Y-%m}" for t in model.uncertainty_.origin_times_] == ["2021-12", "2022-06", "2022-12"]
