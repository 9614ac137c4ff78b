"""Tests of lmforecast.models.prophet on three tiny series (in-process, n_jobs=1)."""

from __future__ import annotations

import logging
import re

import numpy as np
import numpy.testing as npt
import pandas as pd
import pytest
import xarray as xr
from sklearn.base import clone

from lmforecast.models.baselines import Naive, SeasonalNaive
from lmforecast.models.prophet import ProphetForecaster, holidays_frame
from lmforecast.uncertainty import ResidualUncertainty


def make_panel(n_time: int = 48, freq: str = "MS", seed: int = 0) -> xr.Dataset:
    """3 series (1 region x 3 occupations): seasonal counts with a Ramadan dip, log-normal noise."""
    rng = np.random.default_rng(seed)
    time = pd.date_range("2018-01-01", periods=n_time, freq=freq)
    month = time.month.to_numpy()
    base = np.array([40.0, 150.0, 600.0])
    season = 1 + 0.2 * np.sin(2 * np.pi * month / 12)
    values = base[None, :] * season[:, None] * np.exp(rng.normal(0, 0.05, (n_time, 3)))
    return xr.Dataset(
        {"job_offers": (("time", "region", "occupation"), values[:, None, :])},
        coords={"time": time, "region": ["MA-06"], "occupation": ["2512", "2411", "5223"],
                "occupation_major": ("occupation", ["2", "2", "5"])},
        attrs={"freq": freq, "country": "MA"})


def fast(**kwargs) -> ProphetForecaster:
    params = dict(n_jobs=1, progress=False, uncertainty=ResidualUncertainty(n_windows=2, min_pool=5))
    params.update(kwargs)
    return ProphetForecaster(**params)


def test_holidays_frame_keeps_moving_holidays_at_period_starts():
    frame = holidays_frame(2015, 2025, "MS")
    assert set(frame["holiday"]) == {"Eid al-Fitr", "Eid al-Adha", "Islamic New Year", "Prophet's Birthday"}
    assert (frame["ds"].dt.day == 1).all()
    fitr = frame.loc[frame["holiday"] == "Eid al-Fitr", "ds"]
    assert pd.Timestamp("2024-04-01") in set(fitr)            # Eid al-Fitr 2024: 10-11 April
    assert holidays_frame(2015, 2025, "YS").empty             # every year holds every holiday


def test_fit_predict_with_holidays_and_ramadan_is_finite_and_reproducible():
    panel = make_panel()
    model = fast().fit(panel, "job_offers")
    assert model.failed_series_ == {}
    fitted = model.models_[0]
    assert "ramadan_share" in fitted.extra_regressors
    assert fitted.holidays is not None and "Eid al-Fitr" in set(fitted.holidays["holiday"])
    forecast = model.predict(6, (0.1, 0.5, 0.9))
    assert forecast.dims == ("time", "region", "occupation", "quantile")
    values = forecast.values
    assert np.isfinite(values).all() and (values >= 0).all()
    assert (forecast.sel(quantile=0.1) < forecast.sel(quantile=0.9)).all()
    # levels are about right: within 30 % of each series' last-year mean
    last_year = panel["job_offers"].isel(time=slice(-12, None)).mean("time")
    ratio = forecast.sel(quantile=0.5).mean("time") / last_year
    npt.assert_array_less(np.abs(ratio.values - 1), 0.3)
    xr.testing.assert_identical(forecast, fast().fit(panel, "job_offers").predict(6, (0.1, 0.5, 0.9)))


def test_predictive_sample_intervals_are_seeded():
    panel = make_panel()
    first = fast(intervals="samples", uncertainty_samples=200, random_state=1).fit(panel, "job_offers")
    again = fast(intervals="samples", uncertainty_samples=200, random_state=1).fit(panel, "job_offers")
    xr.testing.assert_identical(first.predict(3), again.predict(3))


def test_short_series_fall_back_with_a_warning_naming_the_series(caplog):
    panel = make_panel()
    panel["job_offers"][:-10, 0, 1] = np.nan                  # occupation 2411: 10 observations
    with caplog.at_level(logging.WARNING, logger="lmforecast.models.fallback"):
        model = fast(fallback=Naive()).fit(panel, "job_offers")
        forecast = model.predict(3, (0.1, 0.5, 0.9))
    assert model.fallback_series_ == [("MA-06", "2411")]
    assert "only 10 observed values < min_observations=26" in model.fallback_reasons_[("MA-06", "2411")]
    assert "occupation='2411'" in caplog.text and "Prophet failed" in caplog.text
    naive = Naive().fit(panel, "job_offers").predict(3, (0.5,))
    xr.testing.assert_allclose(forecast.sel(occupation="2411", quantile=[0.5]), naive.sel(occupation="2411"))
    assert (forecast.sel(occupation="2411").diff("quantile") > 0).all()   # intervals of Prophet's calibration


def test_annual_data_without_seasonality_holidays_or_ramadan():
    panel = make_panel(n_time=12, freq="YS")
    model = fast().fit(panel, "job_offers")
    assert model.settings_["holidays"] is None and not model.use_ramadan_
    assert model.settings_["yearly_seasonality"] is False
    assert np.isfinite(model.predict(2).values).all()


def test_log1p_refuses_negative_values_naming_the_series():
    panel = make_panel()
    panel["job_offers"][5, 0, 2] = -1.0
    with pytest.raises(ValueError, match=re.escape(
            "job_offers is -1.0 < 0 for series (region='MA-06', occupation='5223') at 2018-06-01")):
        fast().fit(panel, "job_offers")


def test_get_params_and_clone():
    model = ProphetForecaster(changepoint_prior_scale=0.1, fallback=SeasonalNaive(season_length=4))
    copy = clone(model)
    assert copy.get_params()["changepoint_prior_scale"] == 0.1
    assert copy.fallback is not model.fallback and copy.fallback.season_length == 4
