"""Tests of lmforecast.models.lightgbm.LightGBMForecaster."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from sklearn.base import clone

from lmforecast.models.lightgbm import LightGBMForecaster
from lmforecast.uncertainty import ResidualUncertainty

TARGET = "job_offers"
SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def synthetic_panel(n_time=72, seed=0, n_regions=3, n_occupations=4, noise=0.05) -> xr.Dataset:
    """Seeded monthly trend x seasonality x lognormal-noise panel with a jobseekers variable."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_time)[:, None, None]
    shape = (n_regions, n_occupations)
    level = rng.uniform(20, 500, size=shape)[None]
    growth = rng.uniform(0.0, 0.01, size=shape)[None]
    amplitude = rng.uniform(0.1, 0.3, size=shape)[None]
    offers = (level * np.exp(growth * t) * (1 + amplitude * np.sin(2 * np.pi * t / 12))
              * np.exp(rng.normal(0, noise, (n_time,) + shape)))
    occupations = ["2512", "2411", "7212", "5223"][:n_occupations]
    panel = xr.Dataset(
        {TARGET: (("time", "region", "occupation"), offers),
         "jobseekers": (("time", "region", "occupation"), rng.uniform(100, 1000, size=(n_time,) + shape))},
        coords={"time": pd.date_range("2015-01-01", periods=n_time, freq="MS"),
                "region": [f"MA-{i + 1:02d}" for i in range(n_regions)], "occupation": occupations,
                "occupation_major": ("occupation", [o[0] for o in occupations])})
    panel.attrs = {"freq": "MS", "country": "MA"}
    return panel


@pytest.fixture
def panel() -> xr.Dataset:
    return synthetic_panel()


def small(**kw) -> LightGBMForecaster:
    """A few trees and small leaves (the tiny test panel has 12 series), two calibration origins."""
    kw.setdefault("n_estimators", 20)
    kw.setdefault("uncertainty", ResidualUncertainty(n_windows=2))
    kw.setdefault("min_child_samples", 5)
    return LightGBMForecaster(**kw)


def test_defaults_fit_returns_self_and_clone(panel):
    model = LightGBMForecaster()
    params = model.get_params()
    assert (params["n_estimators"], params["learning_rate"], params["num_leaves"]) == (300, 0.05, 31)
    assert (params["num_threads"], params["deterministic"], params["interval_method"]) == (1, True, "conformal")
    fitted = small(seed=4)
    assert fitted.fit(panel, TARGET) is fitted
    copy = clone(fitted)
    def settings(model):  # every parameter, the uncertainty layer's ones through "uncertainty__*"
        return {k: v for k, v in model.get_params().items() if k != "uncertainty"}

    assert settings(copy) == settings(fitted) and settings(copy)["uncertainty__n_windows"] == 2
    assert not hasattr(copy, "core_")
    booster_params = fitted.model_.get_params()
    assert (booster_params["n_jobs"], booster_params["random_state"]) == (1, 4)


def test_predict_dims_and_future_index(panel):
    forecast = small().fit(panel, TARGET).predict(3)
    assert forecast.dims == ("time", "region", "occupation", "quantile")
    assert forecast.indexes["time"].equals(pd.date_range("2021-01-01", periods=3, freq="MS"))
    assert forecast["quantile"].values.tolist() == [0.1, 0.5, 0.9]
    assert forecast.attrs["model"] == "LightGBMForecaster"


def test_deterministic_per_seed_and_seed_is_the_randomness(panel):
    kw = dict(subsample=0.6, subsample_freq=1, colsample_bytree=0.7)
    kw["uncertainty"] = "none"
    a = small(seed=1, **kw).fit(panel, TARGET).predict(6, (0.5,))
    b = small(seed=1, **kw).fit(panel, TARGET).predict(6, (0.5,))
    xr.testing.assert_identical(a, b)
    c = small(seed=2, **kw).fit(panel, TARGET).predict(6, (0.5,))
    assert not np.allclose(a.values, c.values)


def test_beats_seasonal_naive_on_trend_and_seasonality():
    full = synthetic_panel(n_time=84, seed=5)
    train, actual = full.isel(time=slice(0, 72)), full[TARGET].isel(time=slice(72, 84)).values
    model = LightGBMForecaster(n_estimators=100, min_child_samples=10, uncertainty="none")
    point = model.fit(train, TARGET).predict(12, (0.5,))
    naive = train[TARGET].isel(time=slice(60, 72)).values
    model_mae = np.abs(point.sel(quantile=0.5).values - actual).mean()
    naive_mae = np.abs(naive - actual).mean()
    assert model_mae < 0.9 * naive_mae, (model_mae, naive_mae)


def test_garbage_after_cutoff_gives_identical_forecasts(panel):
    spoiled = panel.copy(deep=True)
    spoiled[TARGET][60:] = 1e9
    clean = small(exog_lags={"jobseekers": 1}).fit(panel.isel(time=slice(0, 60)), TARGET).predict(6)
    dirty = small(exog_lags={"jobseekers": 1}).fit(spoiled.isel(time=slice(0, 60)), TARGET).predict(6)
    xr.testing.assert_identical(clean, dirty)


@pytest.mark.parametrize("strategy", ["recursive", "direct"])
@pytest.mark.parametrize("interval_method", ["conformal", "quantile"])
def test_strategies_and_interval_methods_give_monotone_quantiles(panel, strategy, interval_method):
    model = small(strategy=strategy, interval_method=interval_method, max_horizon=3,
                  quantile_levels=(0.1, 0.25, 0.75, 0.9)).fit(panel, TARGET)
    forecast = model.predict(3, quantiles=(0.1, 0.25, 0.75, 0.9))
    assert np.isfinite(forecast.values).all()
    assert (forecast.diff("quantile") >= 0).all()
    xr.testing.assert_equal(forecast.sel(quantile=[0.5]), model.predict(3, (0.5,)))


@pytest.mark.parametrize("strategy, keys", [("recursive", [(1, 0.1), (1, 0.9)]),
                                            ("direct", [(1, 0.1), (1, 0.9), (2, 0.1), (2, 0.9)])])
def test_quantile_method_fits_one_quantile_model_per_level_at_fit(panel, strategy, keys):
    """The quantile models (per level, and per step for the direct strategy) are all fitted by fit."""
    model = small(interval_method="quantile", strategy=strategy, max_horizon=2, uncertainty="none").fit(panel, TARGET)
    quantile_models = {k: v for k, v in model.core_.models.items() if isinstance(k, tuple)}
    assert sorted(quantile_models) == keys
    for (_, level), est in quantile_models.items():
        assert est.get_params()["objective"] == "quantile" and est.get_params()["alpha"] == level
    forecast = model.predict(2, quantiles=(0.1, 0.9))             # own quantiles: no calibration needed
    assert np.isfinite(forecast.values).all() and (forecast.diff("quantile") >= 0).all()
    with pytest.raises(ValueError, match=re.escape("has quantile models for [0.1, 0.9] only, not [0.25]")):
        model.predict(2, quantiles=(0.25,))


def test_quantile_intervals_never_narrow_further_ahead():
    """Recursive quantile models are one-step models; on a two-year panel their raw spreads go up and
    down with the horizon. Each side's distance to the point is kept non-decreasing."""
    short = synthetic_panel(n_time=24, n_regions=2, n_occupations=3)
    model = small(interval_method="quantile", uncertainty="none").fit(short, TARGET)
    forecast = model.predict(36, quantiles=(0.1, 0.9)).stack(series=("region", "occupation"))
    point = forecast.sel(quantile=0.5)
    assert ((forecast.sel(quantile=0.9) - point).diff("time") >= -1e-9).all()   # up to rounding
    assert ((point - forecast.sel(quantile=0.1)).diff("time") >= -1e-9).all()


def test_exog_lag_enters_the_model(panel):
    rng = np.random.default_rng(3)
    seekers = panel["jobseekers"].values
    offers = np.empty_like(seekers)
    offers[0] = 0.5 * seekers[0]
    offers[1:] = 0.5 * seekers[:-1] * np.exp(rng.normal(0, 0.02, size=seekers[1:].shape))
    panel[TARGET] = (panel[TARGET].dims, offers)
    model = small(exog_lags={"jobseekers": 1}, uncertainty="none").fit(panel, TARGET)
    importance = dict(zip(model.feature_names_, model.model_.feature_importances_))
    assert importance["jobseekers_lag_1"] == max(importance.values())


def test_bad_interval_method_raises(panel):
    with pytest.raises(ValueError, match=r"interval_method must be 'conformal' or 'quantile', got 'bootstrap'"):
        small(interval_method="bootstrap").fit(panel, TARGET)


@pytest.mark.shared_data
def test_au_ivi_trend_forecast_beats_seasonal_naive():
    folder = SHARED_DATA / "au-ivi"
    if not folder.is_dir():
        pytest.skip(f"shared data folder {folder} is absent (real AU IVI workbook needed)")
    from lmforecast.datasets.au_ivi import load_au_ivi

    panel = load_au_ivi(sheet="Trend", level=2)  # 8 states x 8 major groups, monthly
    cutoff = panel.sizes["time"] - 12
    train, actual = panel.isel(time=slice(0, cutoff)), panel[TARGET].isel(time=slice(cutoff, None)).values
    forecast = LightGBMForecaster(n_estimators=100, uncertainty="none").fit(train, TARGET).predict(12, (0.5,))
    naive = train[TARGET].isel(time=slice(cutoff - 12, cutoff)).values
    model_mae = np.nanmean(np.abs(forecast.sel(quantile=0.5).values - actual))
    naive_mae = np.nanmean(np.abs(naive - actual))
    assert model_mae < naive_mae, (model_mae, naive_mae)


def test_histogram_layout_follows_width_and_does_not_change_forecasts(monkeypatch):
    from lmforecast.models import lightgbm as lgbm_module

    panel = synthetic_panel()
    narrow = dict(lags=(1, 12), windows=(3,), window_stats=("mean",), calendar=False, relative=False,
                  n_estimators=20, uncertainty="none")
    model = LightGBMForecaster(**narrow).fit(panel, "job_offers")
    assert model.model_.get_params()["force_row_wise"] is True
    assert model.model_.get_params()["force_col_wise"] is False
    wide = LightGBMForecaster(n_estimators=20, uncertainty="none").fit(panel, "job_offers")
    assert len(wide.feature_names_) > lgbm_module.ROW_WISE_MAX_FEATURES
    assert wide.model_.get_params()["force_col_wise"] is True
    row_wise = model.predict(6, quantiles=(0.5,))
    monkeypatch.setattr(lgbm_module, "ROW_WISE_MAX_FEATURES", 0)
    col_model = LightGBMForecaster(**narrow).fit(panel, "job_offers")
    assert col_model.model_.get_params()["force_col_wise"] is True
    xr.testing.assert_identical(col_model.predict(6, quantiles=(0.5,)), row_wise)


def test_a_direct_step_with_a_single_training_row_is_held_not_fitted(caplog):
    """One series of 12 months: step 11 has one training row (LightGBM refuses to fit one sample). Steps
    11-12 hold step 10's forecast instead of failing the fit."""
    one = synthetic_panel(n_time=12, n_regions=1, n_occupations=1)
    with caplog.at_level("WARNING", logger="lmforecast.models.sklearn"):
        model = small(strategy="direct", max_horizon=12, lags=(1,), windows=(), uncertainty="none").fit(one, TARGET)
    assert max(model.core_.models) == 10 and "steps 11-12 hold step 10's forecast" in caplog.text
    point = model.predict(12, (0.5,)).sel(quantile=0.5).values.ravel()
    assert np.isfinite(point).all() and point[10] == point[9] and point[11] == point[9]
