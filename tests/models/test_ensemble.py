"""Tests of lmforecast.models.ensemble: median/mean points, the ensemble's own calibration, clone."""

from __future__ import annotations

import re

import numpy as np
import numpy.testing as npt
import pandas as pd
import pytest
import xarray as xr
from sklearn.base import clone

from lmforecast import panel as P
from lmforecast.models.baselines import Drift, HistoricalMean, Naive, SeasonalNaive
from lmforecast.models.ensemble import Ensemble
from lmforecast.uncertainty import OriginForecasts, ResidualUncertainty, local_scale


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
SMALL = ResidualUncertainty(n_windows=4)


def member_points(panel, horizon=4):
    """Point forecasts ``(member, time, region, occupation)`` of each member fitted alone."""
    return np.stack([clone(m).set_params(uncertainty="none").fit(panel, "job_offers").predict(horizon, (0.5,))
                     .sel(quantile=0.5).values for m in MEMBERS])


def test_median_ensemble_point_is_the_median_of_the_members():
    """The point is the median of the members' points; 0.1 / 0.9 bracket it."""
    panel = make_panel()
    forecast = Ensemble(MEMBERS, method="median", uncertainty=SMALL).fit(panel, "job_offers").predict(4, LEVELS)
    npt.assert_allclose(forecast.sel(quantile=0.5).values, np.median(member_points(panel), axis=0))
    assert (forecast.sel(quantile=0.1) < forecast.sel(quantile=0.5)).all()
    assert (forecast.sel(quantile=0.5) < forecast.sel(quantile=0.9)).all()


def test_mean_ensemble_point_is_the_weighted_average_of_member_points():
    """``method="mean"`` with weights: the point is the weighted mean of the members' points."""
    panel = make_panel(1)
    weights = {"naive": 2.0, "drift": 1.0, "mean": 1.0}
    named = dict(zip(weights, MEMBERS))
    forecast = Ensemble(named, method="mean", weights=weights, uncertainty=SMALL).fit(panel, "job_offers")
    points = member_points(panel)
    npt.assert_allclose(forecast.predict(4, (0.5,)).sel(quantile=0.5).values,
                        (2 * points[0] + points[1] + points[2]) / 4)


def test_intervals_come_from_the_ensembles_own_calibration():
    """The ensemble calibrates the errors of the combination at the origins (not the members' offsets):
    its quantiles are the uncertainty layer fitted on the combined origin forecasts."""
    panel = make_panel(3)
    ensemble = Ensemble(MEMBERS, method="median", uncertainty=SMALL).fit(panel, "job_offers")
    assert not any(hasattr(member, "uncertainty_") for member in ensemble.members_.values())  # members: points only
    lengths = SMALL.origins(panel.sizes["time"], "MS", min_train=2)
    refits = [clone(m)._fit_point(panel, "job_offers") for m in MEMBERS]
    combined = np.median(np.stack([m._origin_forecasts(panel, "job_offers", lengths, 60) for m in refits]), axis=0)
    y = P.stack_series(panel["job_offers"]).values
    expected = clone(SMALL).fit(OriginForecasts.from_history(y, panel.indexes["time"], lengths, combined),
                                local_scale(y, 12), origin_scale=local_scale(y, 12, lengths))
    point = ensemble._predict_point_checked(4)
    stacked = ensemble.predict(4, LEVELS).stack(series=("region", "occupation")).transpose("series", "time", "quantile")
    npt.assert_allclose(stacked.values, expected.quantiles(point, LEVELS))


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
    assert copy.members["snaive"].get_params() == {"season_length": 6, "uncertainty": None}
    fitted = copy.fit(make_panel(), "job_offers")
    assert set(fitted.members_) == {"naive", "snaive"}
    assert not hasattr(ensemble, "members_")
