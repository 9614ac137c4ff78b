"""Tests of lmforecast.models.fallback: failed series get the fallback's forecasts, logged."""

from __future__ import annotations

import logging

import numpy as np
import numpy.testing as npt
import pandas as pd
import pytest
import xarray as xr
from sklearn.base import clone

from lmforecast.models.base import Forecaster
from lmforecast.models.baselines import Naive, SeasonalNaive, naive_point
from lmforecast.models.fallback import WithFallback


def make_panel(n_time: int = 30) -> xr.Dataset:
    rng = np.random.default_rng(0)
    values = 100 + np.cumsum(rng.normal(size=(n_time, 2, 2)), axis=0)
    return xr.Dataset(
        {"job_offers": (("time", "region", "occupation"), values)},
        coords={"time": pd.date_range("2022-01-01", periods=n_time, freq="MS"), "region": ["MA-01", "MA-02"],
                "occupation": ["11", "21"], "occupation_major": ("occupation", ["1", "2"])},
        attrs={"freq": "MS", "country": "MA"})


class BreaksOnSpikes(Forecaster):
    """Test double: naive forecasts, but inf for any series whose history exceeds ``limit``."""

    def __init__(self, limit: float = 1e6):
        self.limit = limit

    def _fit_series(self, y, context):
        self.y_ = y

    def _predict_point(self, horizon):
        point = naive_point(self.y_, horizon)
        point[np.nanmax(self.y_, axis=1) > self.limit] = np.inf
        return point


class AlwaysRaises(Forecaster):
    def __init__(self, message: str = "singular matrix"):
        self.message = message

    def _fit_series(self, y, context):
        raise np.linalg.LinAlgError(self.message)


def test_series_with_non_finite_forecasts_get_the_fallback_and_a_warning(caplog):
    """A series the model forecasts inf for gets the fallback's point; the failure is logged once, at fit."""
    panel = make_panel()
    panel["job_offers"][10, 1, 0] = 1e9                     # series (MA-02, 11) breaks the model
    with caplog.at_level(logging.WARNING, logger="lmforecast.models.fallback"):
        model = WithFallback(BreaksOnSpikes(), fallback=SeasonalNaive()).fit(panel, "job_offers")
    assert model.fallback_series_ == [("MA-02", "11")]
    assert model.fallback_reasons_ == {("MA-02", "11"): "non-finite forecast"}
    assert "BreaksOnSpikes failed for series (region='MA-02', occupation='11')" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        forecast = model.predict(3)
    assert caplog.text == ""                                 # recorded at fit: predict stays quiet
    expected = SeasonalNaive().fit(panel, "job_offers").predict(3, (0.5,))
    xr.testing.assert_allclose(forecast.sel(region="MA-02", occupation="11", quantile=[0.5]),
                               expected.sel(region="MA-02", occupation="11"))
    own = BreaksOnSpikes().fit(panel, "job_offers").predict(3, (0.5,))
    xr.testing.assert_allclose(forecast.sel(region="MA-01", quantile=[0.5]), own.sel(region="MA-01"))
    values = forecast.transpose(..., "quantile").values
    assert np.isfinite(values).all() and (np.diff(values, axis=-1) > 0).all()   # the wrapper's own intervals


def test_calibration_refits_use_the_fallback_where_the_model_fails():
    """At an origin after the spike, the failing series' origin forecast is the fallback's, not the
    model's inf nor its last value: the intervals are calibrated on what is actually used."""
    panel = make_panel()
    panel["job_offers"][10, 1, 0] = 1e9
    model = WithFallback(BreaksOnSpikes(), fallback=SeasonalNaive()).fit(panel, "job_offers")
    lengths = np.array([6, 18])                               # before and after the spike at t=10
    forecasts = model._origin_forecasts(panel, "job_offers", lengths, 4)
    fallback = SeasonalNaive().fit(panel, "job_offers")._origin_forecasts(panel, "job_offers", lengths, 4)
    own = BreaksOnSpikes().fit(panel, "job_offers")._origin_forecasts(panel, "job_offers", lengths, 4)
    spiky = 2                                                  # (MA-02, 11) in series order
    npt.assert_array_equal(forecasts[spiky, 1], fallback[spiky, 1])
    assert np.isinf(own[spiky, 1]).all()
    npt.assert_array_equal(forecasts[spiky, 0], own[spiky, 0])  # no spike yet at the first origin
    npt.assert_array_equal(np.delete(forecasts, spiky, axis=0), np.delete(own, spiky, axis=0))


def test_a_model_whose_fit_raises_falls_back_everywhere_with_the_reason(caplog):
    panel = make_panel()
    with caplog.at_level(logging.WARNING, logger="lmforecast.models.fallback"):
        model = WithFallback(AlwaysRaises()).fit(panel, "job_offers")
        forecast = model.predict(2)
    assert len(model.fallback_series_) == 4
    assert set(model.fallback_reasons_.values()) == {"fit raised LinAlgError: singular matrix"}
    assert caplog.text.count("AlwaysRaises failed") == 4
    # every series uses the fallback, so the wrapper calibrates exactly the fallback's errors
    xr.testing.assert_allclose(forecast, SeasonalNaive().fit(panel, "job_offers").predict(2))


def test_all_nan_series_are_not_failures():
    panel = make_panel()
    panel["job_offers"][:, 0, 1] = np.nan
    model = WithFallback(Naive()).fit(panel, "job_offers")
    forecast = model.predict(2)
    assert model.fallback_series_ == []
    assert np.isnan(forecast.sel(region="MA-01", occupation="21")).all()


def test_get_params_and_clone():
    model = WithFallback(BreaksOnSpikes(limit=5.0), fallback=Naive())
    copy = clone(model)
    assert copy.model is not model.model and copy.model.limit == 5.0
    assert copy.get_params(deep=True)["model__limit"] == 5.0
    with pytest.raises(AttributeError):
        copy.fallback_series_
