"""Tests of lmforecast.models.sklearn.SklearnForecaster (global model around a sklearn regressor)."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Ridge

from lmforecast.errors import PanelError
from lmforecast.models.sklearn import SklearnForecaster
from lmforecast.uncertainty import ResidualUncertainty

TARGET = "job_offers"


def synthetic_panel(n_time=72, freq="MS", seed=0, n_regions=3, n_occupations=4, noise=0.05) -> xr.Dataset:
    """Seeded trend x seasonality x lognormal-noise job-offer panel, plus a jobseekers variable."""
    rng = np.random.default_rng(seed)
    season = {"MS": 12, "QS": 4, "YS": 1}[freq]
    t = np.arange(n_time)[:, None, None]
    shape = (n_regions, n_occupations)
    level = rng.uniform(20, 500, size=shape)[None]
    growth = rng.uniform(0.0, 0.01, size=shape)[None]
    amplitude = rng.uniform(0.1, 0.3, size=shape)[None]
    seasonal = np.sin(2 * np.pi * t / season) if season > 1 else 0.0
    offers = level * np.exp(growth * t) * (1 + amplitude * seasonal) * np.exp(rng.normal(0, noise, (n_time,) + shape))
    seekers = rng.uniform(100, 1000, size=(n_time,) + shape)
    occupations = ["2512", "2411", "7212", "5223"][:n_occupations]
    panel = xr.Dataset(
        {TARGET: (("time", "region", "occupation"), offers),
         "jobseekers": (("time", "region", "occupation"), seekers)},
        coords={"time": pd.date_range("2015-01-01", periods=n_time, freq=freq),
                "region": [f"MA-{i + 1:02d}" for i in range(n_regions)], "occupation": occupations,
                "occupation_major": ("occupation", [o[0] for o in occupations])})
    panel.attrs = {"freq": freq, "country": "MA"}
    return panel


@pytest.fixture
def panel() -> xr.Dataset:
    return synthetic_panel()


def ridge(**kw) -> SklearnForecaster:
    return SklearnForecaster(Ridge(alpha=1.0), **kw)


def test_fit_returns_self_and_clone_keeps_params(panel):
    model = ridge(lags=(1, 12), windows=(3,))
    assert model.fit(panel, TARGET) is model
    copy = clone(model)
    assert copy.get_params()["lags"] == (1, 12) and not hasattr(copy, "core_")
    assert model.feature_names_[:2] == ["lag_1", "lag_12"]


def test_predict_dims_coords_and_future_index(panel):
    forecast = ridge().fit(panel, TARGET).predict(6, quantiles=(0.1, 0.9))
    assert forecast.dims == ("time", "region", "occupation", "quantile")
    assert forecast["quantile"].values.tolist() == [0.1, 0.5, 0.9]
    expected = pd.date_range("2021-01-01", periods=6, freq="MS")
    assert forecast.indexes["time"].equals(expected)
    assert forecast.indexes["region"].equals(panel.indexes["region"])
    assert forecast["occupation_major"].values.tolist() == ["2", "2", "7", "5"]
    assert np.isfinite(forecast.values).all()


def test_deterministic_per_random_state(panel):
    """Same data and seed, same forecasts and intervals (the calibration refits included)."""
    def model():
        return SklearnForecaster(HistGradientBoostingRegressor(max_iter=30), random_state=3,
                                 uncertainty=ResidualUncertainty(n_windows=2))

    a = model().fit(panel, TARGET)
    assert a.model_.get_params()["random_state"] == 3
    forecast = a.predict(4)
    xr.testing.assert_identical(model().fit(panel, TARGET).predict(4), forecast)


def mae(forecast: xr.DataArray, actual: xr.DataArray) -> float:
    return float(np.abs(forecast.values - actual.values).mean())


@pytest.mark.parametrize("model", [SklearnForecaster(uncertainty="none"), ridge(uncertainty="none")],
                         ids=["hist_gbm", "ridge"])
def test_beats_seasonal_naive_on_trend_and_seasonality(model):
    full = synthetic_panel(n_time=84, seed=5)
    train, test = full.isel(time=slice(0, 72)), full[TARGET].isel(time=slice(72, 84))
    point = model.fit(train, TARGET).predict(12, quantiles=(0.5,)).sel(quantile=0.5, drop=True)
    seasonal_naive = train[TARGET].isel(time=slice(60, 72))
    model_mae, naive_mae = mae(point, test), mae(seasonal_naive, test)
    assert model_mae < 0.9 * naive_mae, (model_mae, naive_mae)


def test_garbage_after_cutoff_cannot_reach_the_forecast(panel):
    cutoff = 60
    spoiled = panel.copy(deep=True)
    spoiled[TARGET][cutoff:] = 1e9
    spoiled["jobseekers"][cutoff:] = 1e9
    kw = dict(exog_lags={"jobseekers": 1})
    clean = ridge(**kw).fit(panel.isel(time=slice(0, cutoff)), TARGET).predict(6, (0.1, 0.9))
    dirty_model = ridge(**kw).fit(spoiled.isel(time=slice(0, cutoff)), TARGET)
    xr.testing.assert_identical(dirty_model.predict(6, (0.1, 0.9)), clean)

    # The model's features are leak-free by construction: features built from the UNCUT spoiled
    # panel (with the fitted transforms) at every time index <= cutoff equal those the model used.
    core = copy.copy(dirty_model.core_)  # a private view: the fitted core stays as it is
    y_uncut = np.asarray(spoiled[TARGET].stack(series=("region", "occupation")).transpose("series", "time"))
    exog_uncut = np.log1p(np.asarray(spoiled["jobseekers"].stack(series=("region", "occupation"))
                                     .transpose("series", "time")))
    core.exog = {"jobseekers": exog_uncut}
    core.calendar = dirty_model._calendar_matrix(dirty_model.time_index_, panel.sizes["time"] - cutoff)
    u_uncut = core.chain.transform(y_uncut)
    columns = np.arange(cutoff + 1)  # the training periods and the first forecast period
    names, X_uncut, anchor_uncut = dirty_model._design(core, u_uncut, columns, 1)
    u_cut = np.concatenate([core.u, np.full((core.u.shape[0], 1), np.nan)], axis=1)
    core.exog = {"jobseekers": exog_uncut[:, :cutoff]}
    _, X_cut, anchor_cut = dirty_model._design(core, u_cut, columns, 1)
    assert "jobseekers_lag_1" in names
    np.testing.assert_array_equal(X_uncut, X_cut)
    np.testing.assert_array_equal(anchor_uncut, anchor_cut)
    # ... and the uncut data really are garbage from the cutoff on (the check is not vacuous)
    assert np.all(y_uncut[:, cutoff:] == 1e9)


def test_quantiles_monotone_and_median_is_point(panel):
    model = ridge().fit(panel, TARGET)
    forecast = model.predict(12, quantiles=(0.05, 0.25, 0.75, 0.95))
    assert (forecast.diff("quantile") >= 0).all()
    point = model.predict(12, quantiles=(0.5,))
    xr.testing.assert_equal(forecast.sel(quantile=[0.5]), point)
    width = forecast.sel(quantile=0.95) - forecast.sel(quantile=0.05)
    assert (width > 0).all()
    # calibrated at fit, five years ahead, on yearly origins that leave 3+ periods of training
    assert model.uncertainty_.horizon_ == 60
    assert [f"{t:%Y-%m}" for t in model.uncertainty_.origin_times_] == [f"{y}-12" for y in range(2015, 2020)]


@pytest.mark.parametrize("strategy", ["recursive", "direct"])
def test_both_strategies_forecast_all_steps(panel, strategy):
    """Both strategies give finite, ordered quantiles; the direct one has one model per step up to max_horizon."""
    model = ridge(strategy=strategy, max_horizon=5).fit(panel, TARGET)
    forecast = model.predict(5, quantiles=(0.1, 0.9))
    assert np.isfinite(forecast.values).all() and (forecast.diff("quantile") > 0).all()
    if strategy == "direct":
        assert sorted(model.core_.models) == [1, 2, 3, 4, 5]


def test_direct_models_are_fitted_at_fit_for_five_years_by_default(panel):
    """Default max_horizon: five years of steps (60 monthly models), all fitted at fit; no further."""
    model = ridge(strategy="direct", uncertainty="none").fit(panel, TARGET)
    assert sorted(model.core_.models) == list(range(1, 61))
    before = dict(model.core_.models)
    model.predict(60, (0.5,))
    assert model.core_.models == before                    # predict fits nothing
    with pytest.raises(ValueError, match=r"SklearnForecaster has no model for step 61: fitted for 60 steps"):
        model.predict(61, (0.5,))


def test_direct_strategy_with_a_short_max_horizon_is_calibrated_on_its_own_steps(panel):
    """max_horizon below the five-year calibration horizon: the refits forecast max_horizon steps and
    the intervals of those steps come from their own errors (this used to fail at fit)."""
    model = ridge(strategy="direct", max_horizon=6).fit(panel, TARGET)
    assert model.uncertainty_.calibrated_steps_ == 6
    forecast = model.predict(6, quantiles=(0.1, 0.9))
    width = (forecast.sel(quantile=0.9) - forecast.sel(quantile=0.1)).stack(series=("region", "occupation"))
    assert np.isfinite(width.values).all() and (width.diff("time") >= -1e-9).all()
    with pytest.raises(ValueError, match="has no model for step 7: fitted for 6 steps"):
        model.predict(7)


def test_direct_steps_beyond_the_history_hold_the_last_trainable_step(caplog):
    """24 periods: steps 24+ have no training row; they hold step 23's forecast, with a warning."""
    short = synthetic_panel(n_time=24, n_regions=1, n_occupations=2)
    with caplog.at_level("WARNING", logger="lmforecast.models.sklearn"):
        model = ridge(strategy="direct", max_horizon=30, uncertainty="none").fit(short, TARGET)
    assert "with 24 periods no step beyond 23 has training rows; the forecasts of steps 24-30 hold step 23's" \
        in caplog.text
    assert max(model.core_.models) == 23
    point = model.predict(30, (0.5,)).sel(quantile=0.5)
    assert np.isfinite(point.values).all()
    for step in range(23, 30):
        xr.testing.assert_identical(point.isel(time=step, drop=True), point.isel(time=22, drop=True))


def test_hist_gradient_boosting_fits_a_one_year_history():
    """HistGradientBoosting cannot bin an all-NaN feature; on 12 monthly periods some features are
    never observed. They are filled with a constant for training, so the fit works."""
    year = synthetic_panel(n_time=12, n_regions=2, n_occupations=2)
    model = SklearnForecaster(HistGradientBoostingRegressor(max_iter=10), uncertainty="none").fit(year, TARGET)
    assert np.isfinite(model.predict(12, (0.5,)).values).all()


def test_direct_and_recursive_differ(panel):
    recursive = ridge(uncertainty="none").fit(panel, TARGET).predict(4, (0.5,))
    direct = ridge(strategy="direct", max_horizon=4, uncertainty="none").fit(panel, TARGET).predict(4, (0.5,))
    np.testing.assert_array_equal(recursive.isel(time=0).values, direct.isel(time=0).values)  # h=1: same model
    assert not np.allclose(recursive.isel(time=3).values, direct.isel(time=3).values)


def test_exog_lag_is_used():
    rng = np.random.default_rng(11)
    panel = synthetic_panel(n_time=60, seed=11)
    seekers = panel["jobseekers"].values
    offers = np.full_like(seekers, np.nan)
    offers[1:] = 0.5 * seekers[:-1] * np.exp(rng.normal(0, 0.02, size=seekers[1:].shape))
    offers[0] = 0.5 * seekers[0]
    panel[TARGET] = (panel[TARGET].dims, offers)
    train, actual = panel.isel(time=slice(0, 59)), panel[TARGET].isel(time=59)
    without = ridge(uncertainty="none").fit(train, TARGET).predict(1, (0.5,)).isel(time=0, quantile=0)
    with_exog = (ridge(exog_lags={"jobseekers": 1}, uncertainty="none").fit(train, TARGET)
                 .predict(1, (0.5,)).isel(time=0, quantile=0))
    assert mae(with_exog, actual) < 0.5 * mae(without, actual)


def test_ridge_gets_an_imputer_and_copes_with_missing_values(panel):
    values = panel[TARGET].values.copy()
    values[:, 0, 0] = np.nan  # all-NaN series
    values[:10, 0, 1] = np.nan  # leading gap
    values[30:33, 1, 1] = np.nan  # internal gap
    values[-3:, 2, 2] = np.nan  # trailing gap
    values[:, 2, 3] = 0.0  # all zeros
    panel[TARGET] = (panel[TARGET].dims, values)
    model = ridge().fit(panel, TARGET)
    assert isinstance(model.model_.steps[0][1], SimpleImputer)
    forecast = model.predict(6, (0.1, 0.9))
    assert np.isnan(forecast.isel(region=0, occupation=0)).all()
    by_series = forecast.stack(series=("region", "occupation")).transpose("series", "time", "quantile")
    assert np.isfinite(by_series.values[1:]).all()
    # a global model does not forecast exact zeros for an all-zero series, but stays near 0
    zeros = forecast.sel(quantile=0.5).isel(region=2, occupation=3)
    typical = float(np.nanmedian(by_series.sel(quantile=0.5).values[1:]))
    assert float(zeros.max()) < 0.02 * typical, (zeros.values, typical)


@pytest.mark.parametrize("freq, n_time", [("YS", 12), ("QS", 16), ("MS", 20)])
def test_defaults_work_for_annual_quarterly_and_short_series(freq, n_time):
    panel = synthetic_panel(n_time=n_time, freq=freq, n_regions=2, n_occupations=2)
    model = SklearnForecaster(regressor=Ridge()).fit(panel, TARGET)
    assert max(model.lags_) < n_time and max(model.windows_, default=0) < n_time
    assert np.isfinite(model.predict(3, (0.1, 0.9)).values).all()


def test_nothing_to_train_on_is_a_clear_error():
    panel = synthetic_panel(n_time=6, n_regions=1, n_occupations=2)
    values = np.full(panel[TARGET].shape, np.nan)
    values[2, 0, 0] = 5.0  # one observation per series: no target with history before it
    values[4, 0, 1] = 7.0
    panel[TARGET] = (panel[TARGET].dims, values)
    with pytest.raises(PanelError, match=r"nothing to train on for target 'job_offers': 2 series x 6 periods"):
        ridge().fit(panel, TARGET)


def test_negative_target_with_log1p_names_the_cell(panel):
    panel[TARGET][5, 1, 2] = -3.0
    with pytest.raises(PanelError, match=r"negative value -3\.0 at region='MA-02', occupation='7212', "
                                         r"time=2015-06-01; transform='log1p' needs values >= 0"):
        ridge().fit(panel, TARGET)
    # signed targets work without the log transform
    assert np.isfinite(ridge(transform=None).fit(panel, TARGET).predict(2, (0.5,)).values).all()


def test_bad_parameters_raise(panel):
    with pytest.raises(ValueError, match=r"strategy must be 'recursive' or 'direct', got 'dirrect'"):
        ridge(strategy="dirrect").fit(panel, TARGET)
    with pytest.raises(PanelError, match=r"exogenous variable 'graduates' \(exog_lags\) is not in the panel"):
        ridge(exog_lags={"graduates": 1}).fit(panel, TARGET)


def test_window_stats_selects_rolling_features(panel):
    model = ridge(lags=(1, 12), windows=(3, 12), window_stats=("mean",), calendar=False).fit(panel, TARGET)
    rolling = [n for n in model.feature_names_ if n.startswith(("roll_", "growth_"))]
    assert rolling == ["roll_mean_3", "roll_mean_12"]
    full = ridge(lags=(1, 12), windows=(3,), calendar=False).fit(panel, TARGET)
    assert [n for n in full.feature_names_ if n.startswith(("roll_", "growth_"))] == [
        "roll_mean_3", "roll_std_3", "roll_min_3", "roll_max_3", "growth_3"]
    with pytest.raises(ValueError, match=r"window_stats must be a subset of .*got \('median',\)"):
        ridge(window_stats=("median",)).fit(panel, TARGET)


@pytest.mark.parametrize("strategy", ["recursive", "direct"])
def test_feature_names_are_those_of_the_one_step_model(panel, strategy):
    """``feature_names_`` names the columns of ``model_`` also when later direct steps (fewer lags) are fitted."""
    model = ridge(lags=(1, 2, 12), strategy=strategy, max_horizon=3, uncertainty="none").fit(panel, TARGET)
    assert model.model_.n_features_in_ == len(model.feature_names_)
    assert model.feature_names_[:3] == ["lag_1", "lag_2", "lag_12"]


@pytest.mark.parametrize("strategy", ["recursive", "direct"])
def test_pickle_leaves_out_the_transformed_history_and_predicts_the_same(panel, strategy):
    """The transformed history is recomputed on loading (a smaller logged model, the same forecasts)."""
    import pickle

    model = SklearnForecaster(Ridge(), lags=(1, 2, 12), windows=(3,), strategy=strategy, max_horizon=6,
                              calendar=False).fit(panel, TARGET)
    blob = pickle.dumps(model)
    assert "u" not in model.core_.__getstate__() and hasattr(model.core_, "u")  # in memory it stays
    loaded = pickle.loads(blob)
    np.testing.assert_array_equal(loaded.core_.u, model.core_.u)
    xr.testing.assert_identical(loaded.predict(horizon=6, quantiles=(0.1, 0.5, 0.9)),
                                model.predict(horizon=6, quantiles=(0.1, 0.5, 0.9)))
