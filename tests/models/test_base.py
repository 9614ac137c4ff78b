"""Tests of the contract of lmforecast.models.base.Forecaster that no single model owns."""

from __future__ import annotations

import logging

import numpy as np
import numpy.testing as npt
import pandas as pd
import xarray as xr

from lmforecast.models.base import Forecaster


class NaNForSecondSeries(Forecaster):
    """Test double: forecasts 1.0 for the first series, NaN for the others."""

    def __init__(self, uncertainty=None):
        self.uncertainty = uncertainty

    def _fit_series(self, y, context):
        self.n_series_ = y.shape[0]

    def _predict_point(self, horizon):
        point = np.ones((self.n_series_, horizon))
        point[1:] = np.nan
        return point


def make_panel() -> xr.Dataset:
    values = np.array([[5.0, 6.0, 7.0, 8.0], [3.0, 4.0, 9.0, np.nan], [np.nan] * 4]).T[:, None, :]
    return xr.Dataset({"job_offers": (("time", "region", "occupation"), values)},
                      coords={"time": pd.date_range("2020-01-01", periods=4, freq="YS"), "region": ["MA-01"],
                              "occupation": ["11", "12", "13"], "occupation_major": ("occupation", ["1", "1", "1"])},
                      attrs={"freq": "YS", "country": "MA"})


def test_a_nan_point_forecast_gets_the_last_observed_value_and_a_warning(caplog):
    """Never silently NaN: a series with history gets its last observed value, and the warning names it;
    a series without any observation stays NaN."""
    model = NaNForSecondSeries(uncertainty="none").fit(make_panel(), "job_offers")
    with caplog.at_level(logging.WARNING, logger="lmforecast.models"):
        point = model.predict(2, (0.5,)).isel(region=0, quantile=0).transpose("occupation", "time").values
    npt.assert_array_equal(point, [[1.0, 1.0], [9.0, 9.0], [np.nan, np.nan]])
    assert ("NaNForSecondSeries forecast NaN for 1 series with an observed history (first: [('MA-01', '12')])"
            in caplog.text)
