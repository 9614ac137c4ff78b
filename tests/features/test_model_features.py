"""Tests of lmforecast.features.model_features: hand-computed values and leak-freeness."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from lmforecast.features.model_features import (forward_fill, lag_features, normalize_exog_lags,
                                                panel_features, tension)

NAN = np.nan


def test_hand_computed_example():
    y = np.array([[1.0, 2.0, 4.0, NAN, 16.0, 32.0]])
    f = lag_features(y, lags=(1, 2), windows=(2,), season_length=2)
    np.testing.assert_array_equal(f["lag_1"], [[NAN, 1, 2, 4, NAN, 16]])
    np.testing.assert_array_equal(f["lag_2"], [[NAN, NAN, 1, 2, 4, NAN]])
    assert "seasonal_lag" not in f  # lag 2 = one season is already a lag
    # windows of 2 ending at t-1, NaN ignored
    np.testing.assert_array_equal(f["roll_mean_2"], [[NAN, 1, 1.5, 3, 4, 16]])
    np.testing.assert_array_equal(f["roll_min_2"], [[NAN, 1, 1, 2, 4, 16]])
    np.testing.assert_array_equal(f["roll_max_2"], [[NAN, 1, 2, 4, 4, 16]])
    np.testing.assert_allclose(f["roll_std_2"], [[NAN, NAN, np.sqrt(0.5), np.sqrt(2), NAN, NAN]])
    # growth_2 at t = log(mean(y[t-2:t]) / mean(y[t-4:t-2]))
    np.testing.assert_allclose(f["growth_2"], [[NAN, NAN, NAN, np.log(3 / 1), np.log(4 / 1.5), np.log(16 / 3)]])


def test_min_lag_drops_short_lags_and_shifts_windows():
    y = np.arange(1.0, 9.0)[None, :]
    f = lag_features(y, lags=(1, 2, 3), windows=(2,), season_length=4, min_lag=3, growth=False)
    assert sorted(f) == ["lag_3", "roll_max_2", "roll_mean_2", "roll_min_2", "roll_std_2", "seasonal_lag"]
    np.testing.assert_array_equal(f["lag_3"], [[NAN, NAN, NAN, 1, 2, 3, 4, 5]])
    np.testing.assert_array_equal(f["seasonal_lag"], [[NAN, NAN, NAN, NAN, 1, 2, 3, 4]])
    np.testing.assert_array_equal(f["roll_mean_2"], [[NAN, NAN, NAN, 1, 1.5, 2.5, 3.5, 4.5]])


@pytest.mark.parametrize("min_lag", [1, 3])
def test_changing_data_after_t_changes_no_feature_at_or_before_t(min_lag):
    rng = np.random.default_rng(42)
    y = rng.gamma(2.0, 50.0, size=(6, 60))
    y[rng.random(y.shape) < 0.1] = NAN
    base = lag_features(y, lags=(1, 2, 3, 6, 12), windows=(3, 12), season_length=12, min_lag=min_lag)
    for t in rng.integers(5, 59, size=8):
        first_changed = t - min_lag + 1
        changed = y.copy()
        changed[:, first_changed:] = 1e9
        after = lag_features(changed, lags=(1, 2, 3, 6, 12), windows=(3, 12), season_length=12, min_lag=min_lag)
        for name in base:
            np.testing.assert_array_equal(after[name][:, : t + 1], base[name][:, : t + 1], err_msg=name)
        # not vacuous: the data at first_changed does reach lag_{min_lag} one column later
        if t + 1 < y.shape[1]:
            moved = np.isfinite(y[:, first_changed])
            lag_name = f"lag_{min_lag}" if min_lag in (1, 2, 3) else "seasonal_lag"
            assert np.all(after[lag_name][moved, t + 1] == 1e9)


def test_columns_subset_equals_full_computation():
    rng = np.random.default_rng(1)
    y = rng.normal(100, 10, size=(4, 30))
    full = lag_features(y, season_length=4)
    cols = np.array([0, 13, 29])
    sub = lag_features(y, season_length=4, columns=cols)
    for name in full:
        np.testing.assert_array_equal(sub[name], full[name][:, cols])


def test_season_length_one_and_short_history():
    y = np.array([[5.0, 6.0, 7.0]])
    f = lag_features(y, lags=(1, 12), windows=(3, 12), season_length=1)
    np.testing.assert_array_equal(f["lag_12"], [[NAN, NAN, NAN]])
    assert "seasonal_lag" not in f
    np.testing.assert_allclose(f["growth_3"], [[NAN, NAN, np.log(5.5 / 5.0)]])


def test_forward_fill_uses_past_only():
    y = np.array([[NAN, 1.0, NAN, NAN, 4.0, NAN]])
    np.testing.assert_array_equal(forward_fill(y), [[NAN, 1, 1, 1, 4, 4]])


def test_tension_is_lagged_offers_per_jobseeker():
    offers = np.array([[10.0, 20.0, 30.0, NAN]])
    seekers = np.array([[5.0, 0.0, 10.0, 10.0]])
    np.testing.assert_array_equal(tension(offers, seekers, lag=1), [[NAN, 2.0, NAN, 3.0]])
    with pytest.raises(ValueError, match="lag must be >= 1, got 0"):
        tension(offers, seekers, lag=0)


def test_exog_spec_normalisation_and_leak_guard():
    assert normalize_exog_lags({"jobseekers": 1, "graduates": (12, 1)}) == {"jobseekers": (1,), "graduates": (1, 12)}
    assert normalize_exog_lags(["jobseekers"], min_lag=2) == {"jobseekers": (2,)}
    with pytest.raises(ValueError, match=r"exogenous variable 'jobseekers' lag 1 < min_lag=3 would leak"):
        normalize_exog_lags({"jobseekers": 1}, min_lag=3)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match=r"min_lag must be >= 1, got 0"):
        lag_features(np.ones((1, 5)), min_lag=0)
    with pytest.raises(ValueError, match=r"lags must be positive integers, got -1"):
        lag_features(np.ones((1, 5)), lags=(-1,))
    with pytest.raises(ValueError, match=r"y must be a 2-D \(series, time\) array, got shape \(5,\)"):
        lag_features(np.ones(5))


def small_panel() -> xr.Dataset:
    rng = np.random.default_rng(0)
    time = pd.date_range("2020-01-01", periods=24, freq="MS")
    shape = (24, 2, 3)
    ds = xr.Dataset(
        {"job_offers": (("time", "region", "occupation"), rng.gamma(3.0, 10.0, size=shape)),
         "jobseekers": (("time", "region", "occupation"), rng.gamma(5.0, 20.0, size=shape))},
        coords={"time": time, "region": ["MA-01", "MA-02"], "occupation": ["2512", "2411", "7212"],
                "occupation_major": ("occupation", ["2", "2", "7"])})
    ds.attrs["freq"] = "MS"
    return ds


def test_panel_features_labelled_and_consistent_with_arrays():
    panel = small_panel()
    feats = panel_features(panel, "job_offers", lags=(1, 12), windows=(3,), exog={"jobseekers": 2})
    assert set(feats.data_vars) >= {"lag_1", "lag_12", "roll_mean_3", "growth_3", "jobseekers_lag_2", "tension_lag_1"}
    for name in feats.data_vars:
        assert feats[name].dims == ("time", "region", "occupation")
    xr.testing.assert_equal(feats["lag_1"].isel(time=slice(1, None)).drop_vars("time"),
                            panel["job_offers"].isel(time=slice(0, -1)).drop_vars("time"))
    xr.testing.assert_equal(feats["jobseekers_lag_2"].isel(time=slice(2, None)).drop_vars("time"),
                            panel["jobseekers"].isel(time=slice(0, -2)).drop_vars("time"))
    expected = (panel["job_offers"] / panel["jobseekers"]).shift(time=1)
    xr.testing.assert_allclose(feats["tension_lag_1"], expected)
    assert "occupation_major" in feats.coords


def test_panel_features_unknown_exog_names_the_variable():
    with pytest.raises(ValueError, match=r"exogenous variable 'graduates' is not in the panel"):
        panel_features(small_panel(), "job_offers", exog=["graduates"])


def test_lag_features_stats_subset_matches_full_set():
    rng = np.random.default_rng(5)
    y = rng.uniform(1, 10, size=(3, 30))
    y[1, 4] = np.nan
    full = lag_features(y, lags=(1, 12), windows=(3, 12), season_length=12)
    means = lag_features(y, lags=(1, 12), windows=(3, 12), season_length=12, stats=("mean",))
    assert sorted(means) == ["growth_12", "growth_3", "lag_1", "lag_12", "roll_mean_12", "roll_mean_3"]
    for name, values in means.items():
        np.testing.assert_array_equal(values, full[name])
    no_growth = lag_features(y, lags=(1,), windows=(3,), season_length=12, stats=("std",), growth=False)
    assert sorted(no_growth) == ["lag_1", "roll_std_3", "seasonal_lag"]
    with pytest.raises(ValueError, match=r"stats must be among \('mean', 'std', 'min', 'max'\), got \['median'\]"):
        lag_features(y, stats=("mean", "median"))
