"""Tests of lmforecast.models.ensemble: median/mean points, Vincentized quantiles, clone."""

from __future__ import annotations

import re

import numpy as np
import numpy.testing as npt
import pandas as pd
import pytest
import xarray as xr
from sklearn.base import clone

from lmforecast.models.baselines import Drift, HistoricalMean, Naive, SeasonalNaive
from lmforecast.models.ensemble import Ensemble


def make_panel(seed: int = 0, n_series: int = 6, n_time: int = 40) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    values = 50 + np.cumsum(rng.normal(size=(n_time, 1, n_series)), axis=0) + np.arange(n_time)[:, None, None] * 0.3
    occupations = [f"{k + 11}" for k in range(n_series)]
    return xr.Dataset(
        {"job_offers": (("time", "region", "occupation"), values)},
        coords={"time": pd.date_range("2021-01-01", periods=n_time, freq="MS"), "region": ["MA-01"],
                "occupation": occupations, "occupation_major": ("occupation", [o[0] for o in occupations])},
        attrs={"freq": "MS", "country": "MA"})


MEMBERS = [Naive(), Drift(), HistoricalMean(window=12)]
LEVELS = (0.1, 0.5, 0.9)


def member_forecasts(panel):
    return [clone(m).fit(panel, "job_offers").predict(4, LEVELS) for m in MEMBERS]


def test_median_of_three_points_and_vincentized_offsets():
    panel = make_panel()
    members = member_forecasts(panel)
    ensemble = Ensemble(MEMBERS, method="median").fit(panel, "job_offers").predict(4, LEVELS)
    points = np.stack([m.sel(quantile=0.5).values for m in members])
    npt.assert_allclose(ensemble.sel(quantile=0.5).values, np.median(points, axis=0))
    for level in (0.1, 0.9):
        offsets = np.mean([m.sel(quantile=level).values - m.sel(quantile=0.5).values for m in members], axis=0)
        npt.assert_allclose(ensemble.sel(quantile=level).values, np.median(points, axis=0) + offsets)


def test_mean_ensemble_is_the_weighted_average_of_member_quantiles():
    panel = make_panel(1)
    members = member_forecasts(panel)
    weights = {"naive": 2.0, "drift": 1.0, "mean": 1.0}
    named = dict(zip(weights, MEMBERS))
    forecast = Ensemble(named, method="mean", weights=weights).fit(panel, "job_offers").predict(4, LEVELS)
    expected = (2 * members[0] + members[1] + members[2]) / 4
    npt.assert_allclose(forecast.transpose(*expected.dims).values, expected.values)


def test_members_that_cannot_forecast_a_series_are_left_out():
    panel = make_panel(2, n_series=2)
    panel["job_offers"][:, 0, 1] = np.nan
    forecast = Ensemble([Naive(), SeasonalNaive()]).fit(panel, "job_offers").predict(2)
    assert np.isnan(forecast.sel(occupation="12")).all()
    assert np.isfinite(forecast.sel(occupation="11")).all()


def test_bad_settings_are_named():
    panel = make_panel()
    with pytest.raises(ValueError, match=re.escape("method must be 'median' or 'mean', got 'mode'")):
        Ensemble(MEMBERS, method="mode").fit(panel, "job_offers")
    with pytest.raises(ValueError, match=re.escape("weights are only supported with method='mean'")):
        Ensemble(MEMBERS, weights=[1, 1, 1]).fit(panel, "job_offers")
    with pytest.raises(ValueError, match=re.escape("weights must be 3 finite non-negative numbers")):
        Ensemble(MEMBERS, method="mean", weights=[1, -1, 1]).fit(panel, "job_offers")
    with pytest.raises(TypeError, match=re.escape("Ensemble member '1' is a str, not a Forecaster")):
        Ensemble([Naive(), "drift"]).fit(panel, "job_offers")


def test_get_params_and_clone_copy_the_members():
    ensemble = Ensemble({"naive": Naive(), "snaive": SeasonalNaive(season_length=6)}, method="mean")
    copy = clone(ensemble)
    assert copy.get_params()["method"] == "mean"
    assert copy.members["snaive"] is not ensemble.members["snaive"]
    assert copy.members["snaive"].get_params() == {"season_length": 6, "n_windows_calibration": 6,
                                                   "calibration_step": None, "min_pool": 50}
    fitted = copy.fit(make_panel(), "job_offers")
    assert set(fitted.members_) == {"naive", "snaive"}
    assert not hasattr(ensemble, "members_")
