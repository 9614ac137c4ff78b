"""Tests of lmforecast.models.recommended: ConformalForecaster and default_forecaster."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from sklearn.base import clone

from lmforecast.backtest import assert_no_leakage
from lmforecast.models.baselines import Naive
from lmforecast.models.ensemble import Ensemble
from lmforecast.models.recommended import (ConformalForecaster, default_forecaster, default_lags,
                                           default_windows)

TARGET = "job_offers"


def job_ads_panel(n_time=72, freq="MS", seed=0, n_regions=2, n_occupations=3) -> xr.Dataset:
    """Seeded trend x season x lognormal-noise job-ad counts."""
    rng = np.random.default_rng(seed)
    season = {"MS": 12, "QS": 4, "YS": 1}[freq]
    t = np.arange(n_time)[:, None, None]
    shape = (n_regions, n_occupations)
    level = rng.uniform(20, 400, size=shape)[None]
    seasonal = 0.2 * np.sin(2 * np.pi * t / season) if season > 1 else 0.0
    offers = level * np.exp(0.005 * t + seasonal + rng.normal(0, 0.08, (n_time,) + shape))
    occupations = ["2512", "2411", "7212"][:n_occupations]
    panel = xr.Dataset(
        {TARGET: (("time", "region", "occupation"), offers)},
        coords={"time": pd.date_range("2012-01-01", periods=n_time, freq=freq),
                "region": [f"MA-{i + 1:02d}" for i in range(n_regions)], "occupation": occupations,
                "occupation_major": ("occupation", [o[0] for o in occupations])})
    panel.attrs = {"freq": freq, "country": "MA"}
    return panel


@pytest.fixture(scope="module")
def panel() -> xr.Dataset:
    return job_ads_panel()


@pytest.mark.parametrize(("freq", "lags", "windows"), [("MS", (1, 2, 3, 6, 12), (3, 12)),
                                                        ("QS", (1, 2, 3, 4, 8), (2, 4)), ("YS", (1, 2, 3), (3,))])
def test_default_lags_and_windows_follow_the_frequency(freq, lags, windows):
    assert default_lags(freq) == lags
    assert default_windows(freq) == windows
    model = default_forecaster(freq)
    assert model.members["ridge"].lags == lags
    assert model.members["lightgbm"].windows == windows
    assert model.members["lightgbm"].num_threads == 1


def test_default_forecaster_is_a_clonable_median_ensemble():
    model = default_forecaster("MS", random_state=3)
    assert isinstance(model, Ensemble) and model.method == "median"
    assert sorted(model.members) == ["lightgbm", "naive", "ridge"]
    copy = clone(model)
    assert copy.members["lightgbm"].seed == 3 and not hasattr(copy, "members_")


def test_point_is_the_median_of_the_members(panel):
    model = default_forecaster("MS").fit(panel, TARGET)
    forecast = model.predict(6, quantiles=(0.1, 0.9))
    assert forecast.dims == ("time", "region", "occupation", "quantile")
    assert forecast["quantile"].values.tolist() == [0.1, 0.5, 0.9]
    members = np.stack([m.predict(6, quantiles=(0.5,)).sel(quantile=0.5).values
                        for m in model.members_.values()])
    np.testing.assert_allclose(forecast.sel(quantile=0.5).values, np.median(members, axis=0))
    lower, point, upper = (forecast.sel(quantile=q).values for q in (0.1, 0.5, 0.9))
    assert np.all(lower <= point) and np.all(point <= upper) and np.all(upper > lower)


def test_same_seed_same_numbers(panel):
    a = default_forecaster("MS").fit(panel, TARGET).predict(4)
    b = default_forecaster("MS").fit(panel, TARGET).predict(4)
    xr.testing.assert_identical(a, b)


def test_conformal_wrapper_of_naive_matches_naive_own_calibration(panel):
    # same refits (naive at the same origins), same calibrator settings -> same quantiles
    wrapped = ConformalForecaster(Naive(), n_windows=4, step=6, min_pool=5).fit(panel, TARGET)
    own = Naive(n_windows_calibration=4, calibration_step=6, min_pool=5).fit(panel, TARGET)
    xr.testing.assert_allclose(wrapped.predict(6, quantiles=(0.1, 0.9)), own.predict(6, quantiles=(0.1, 0.9)))
    assert wrapped.calibrator(6).errors_.shape == (6, 4, 6)


def test_recommended_forecaster_does_not_leak(panel):
    assert_no_leakage(lambda: ConformalForecaster(default_forecaster("MS"), n_windows=2), panel, TARGET,
                      cutoff="2016-12-01", horizon=6, point_in_time=False)


def test_annual_panel_gets_forecasts_and_intervals():
    annual = job_ads_panel(n_time=25, freq="YS")
    forecast = default_forecaster("YS").fit(annual, TARGET).predict(3)
    assert forecast.sizes["time"] == 3
    assert np.isfinite(forecast.values).all()


def test_conformal_forecaster_rejects_bad_arguments(panel):
    with pytest.raises(TypeError, match="ConformalForecaster model must be a Forecaster, got Ridge"):
        from sklearn.linear_model import Ridge

        ConformalForecaster(Ridge()).fit(panel, TARGET)
    with pytest.raises(ValueError, match="n_windows must be >= 1, got 0"):
        ConformalForecaster(Naive(), n_windows=0).fit(panel, TARGET)


def test_default_forecaster_with_member_intervals_does_not_leak(panel):
    assert_no_leakage(lambda: default_forecaster("MS"), panel, TARGET, cutoff="2016-12-01", horizon=6,
                      point_in_time=False)
