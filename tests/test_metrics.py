"""Tests of lmforecast.metrics: exact values on tiny hand-computed arrays."""

import math
import re

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from lmforecast import metrics as M

NAN = float("nan")


def horizon_array(values, name=None):
    return xr.DataArray(np.asarray(values, dtype=float), dims="horizon",
                        coords={"horizon": np.arange(1, len(values) + 1)}, name=name)


def quantile_forecast(rows, levels=(0.1, 0.5, 0.9)):
    """rows: per horizon, the forecast at each level."""
    return xr.DataArray(np.asarray(rows, dtype=float), dims=("horizon", "quantile"),
                        coords={"horizon": np.arange(1, len(rows) + 1), "quantile": list(levels)})


# actual 10, 20, NaN, 40 ; point forecast 12, 17, 5, 40 -> errors +2, -3, (masked), 0
ACTUAL = horizon_array([10, 20, NAN, 40])
POINT = horizon_array([12, 17, 5, 40])


def test_point_metrics_hand_computed():
    assert float(M.mae(ACTUAL, POINT)) == pytest.approx(5 / 3, rel=1e-12)
    assert float(M.rmse(ACTUAL, POINT)) == pytest.approx(math.sqrt(13 / 3), rel=1e-12)
    assert float(M.bias(ACTUAL, POINT)) == pytest.approx(-1 / 3, rel=1e-12)
    assert float(M.smape(ACTUAL, POINT)) == pytest.approx((200 * 2 / 22 + 200 * 3 / 37 + 0) / 3, rel=1e-12)
    assert float(M.wape(ACTUAL, POINT)) == pytest.approx(100 * 5 / 70, rel=1e-12)


def test_nan_actual_is_masked_not_zero():
    # if the NaN actual were counted as 0 the error 5 would enter the MAE
    assert float(M.mae(ACTUAL, POINT)) != pytest.approx(10 / 4)
    all_missing = horizon_array([NAN, NAN, NAN, NAN])
    assert np.isnan(float(M.mae(all_missing, POINT)))
    assert np.isnan(float(M.wape(all_missing, POINT)))


def test_missing_forecast_where_actual_observed_gives_nan():
    forecast = horizon_array([12, NAN, 5, 40])
    assert np.isnan(float(M.mae(ACTUAL, forecast)))
    # ...but a missing forecast where the actual is missing too is irrelevant
    forecast = horizon_array([12, 17, NAN, 40])
    assert float(M.mae(ACTUAL, forecast)) == pytest.approx(5 / 3)


def test_smape_zero_zero_is_perfect():
    actual = horizon_array([0, 10])
    forecast = horizon_array([0, 30])
    assert float(M.smape(actual, forecast)) == pytest.approx((0 + 200 * 20 / 40) / 2)


def test_point_forecast_is_median_level():
    forecast = quantile_forecast([[0, 12, 99], [0, 17, 99], [0, 5, 99], [0, 40, 99]])
    xr.testing.assert_equal(M.mae(ACTUAL, forecast), M.mae(ACTUAL, POINT))
    without_median = forecast.sel(quantile=[0.1, 0.9])
    with pytest.raises(ValueError, match=re.escape("point forecast needs quantile level 0.5")):
        M.mae(ACTUAL, without_median)


def test_dim_argument_keeps_other_dims():
    actual = xr.DataArray([[1.0, 2.0], [3.0, NAN]], dims=("region", "horizon"),
                          coords={"region": ["MA-01", "MA-06"], "horizon": [1, 2]})
    forecast = xr.DataArray([[2.0, 4.0], [3.0, 9.0]], dims=("region", "horizon"),
                            coords={"region": ["MA-01", "MA-06"], "horizon": [1, 2]})
    by_region = M.mae(actual, forecast, dim="horizon")
    np.testing.assert_allclose(by_region.values, [1.5, 0.0])
    assert by_region.dims == ("region",)
    by_horizon = M.mae(actual, forecast, dim=["region"])
    np.testing.assert_allclose(by_horizon.values, [0.5, 2.0])
    with pytest.raises(ValueError, match=re.escape("mae: cannot reduce over dim 'cutoff'")):
        M.mae(actual, forecast, dim="cutoff")


def test_misaligned_labels_are_an_error_not_an_inner_join():
    shifted = POINT.assign_coords(horizon=[2, 3, 4, 5])
    with pytest.raises(ValueError, match=re.escape("mae: actual and forecast do not share the same coordinate labels")):
        M.mae(ACTUAL, shifted)


def test_mase_excludes_zero_and_nan_scales_and_counts_them():
    actual = xr.DataArray([[10.0, 20.0], [5.0, 5.0], [1.0, 1.0]], dims=("series", "horizon"),
                          coords={"series": ["a", "b", "c"], "horizon": [1, 2]})
    forecast = xr.DataArray([[12.0, 16.0], [6.0, 7.0], [3.0, 3.0]], dims=("series", "horizon"),
                            coords={"series": ["a", "b", "c"], "horizon": [1, 2]})
    scale = xr.DataArray([2.0, 0.0, NAN], dims="series", coords={"series": ["a", "b", "c"]})
    result = M.mase(actual, forecast, scale=scale)
    # only series a: (2/2 + 4/2) / 2
    assert float(result) == pytest.approx(1.5)
    assert result.attrs["n_scale_excluded"] == 2
    assert result.attrs["n_scale"] == 3
    per_series = M.mase(actual, forecast, scale=scale, dim="horizon")
    np.testing.assert_allclose(per_series.values, [1.5, NAN, NAN])


def test_mase_is_mean_of_scaled_errors_over_series_and_horizons():
    actual = xr.DataArray([[10.0, 10.0], [100.0, 100.0]], dims=("series", "horizon"),
                          coords={"series": ["small", "large"], "horizon": [1, 2]})
    forecast = actual + xr.DataArray([[1.0, 3.0], [10.0, 10.0]], dims=("series", "horizon"),
                                     coords=actual.coords)
    scale = xr.DataArray([1.0, 20.0], dims="series", coords={"series": ["small", "large"]})
    assert float(M.mase(actual, forecast, scale=scale)) == pytest.approx((1 + 3 + 0.5 + 0.5) / 4)


def test_mase_scale_labels_must_match():
    scale = xr.DataArray([1.0], dims="region", coords={"region": ["MA-01"]})
    with pytest.raises(ValueError, match=re.escape("mase: scale has dims ['region'] that actual ('horizon',) lacks")):
        M.mase(ACTUAL, POINT, scale=scale)


def test_pinball_per_quantile_hand_computed():
    actual = horizon_array([10, NAN])
    forecast = quantile_forecast([[8, 10, 13], [0, 0, 0]])
    loss = M.pinball(actual, forecast)
    assert loss.dims == ("quantile",)
    # q=0.1: d=+2 -> 0.2 ; q=0.5: d=0 -> 0 ; q=0.9: d=-3 -> (0.9-1)(-3) = 0.3
    np.testing.assert_allclose(loss.values, [0.2, 0.0, 0.3], rtol=1e-12)
    with pytest.raises(ValueError, match=re.escape("pinball: forecast needs a 'quantile' dim")):
        M.pinball(actual, horizon_array([1, 2]))


def test_coverage_and_width_hand_computed():
    actual = horizon_array([10, 20, 30, NAN])
    forecast = quantile_forecast([[9, 10, 11], [21, 22, 25], [25, 30, 35], [0, 0.5, 1]])
    cover = M.coverage(actual, forecast, level=0.8)
    assert float(cover) == pytest.approx(2 / 3)
    assert cover.attrs["nominal"] == pytest.approx(0.8)
    assert float(M.interval_width(actual, forecast, level=0.8)) == pytest.approx((2 + 4 + 10) / 3)
    explicit = M.coverage(actual, forecast, lower=0.1, upper=0.9)
    xr.testing.assert_identical(explicit, cover)
    # boundaries count as inside
    assert float(M.coverage(horizon_array([9, 25]), quantile_forecast([[9, 10, 11], [21, 22, 25]]), level=0.8)) == 1.0


def test_coverage_errors_name_the_missing_level():
    forecast = quantile_forecast([[9, 10, 11]])
    with pytest.raises(ValueError, match=re.escape("coverage needs quantile level 0.05 in the forecast; "
                                                   "its quantile dim has [0.1, 0.5, 0.9]")):
        M.coverage(horizon_array([10]), forecast, level=0.9)
    with pytest.raises(ValueError, match=re.escape("give level (e.g. 0.8) or both lower and upper")):
        M.coverage(horizon_array([10]), forecast)
    with pytest.raises(ValueError, match=re.escape("give either level or lower/upper, not both")):
        M.coverage(horizon_array([10]), forecast, level=0.8, lower=0.1)


@pytest.mark.parametrize(
    "history, season, scale, lag",
    [
        ([1, 2, 4, 7, 11], 2, (3 + 5 + 7) / 3, 2),          # seasonal differences 3, 5, 7
        ([1, 2, 4, NAN, 11], 2, (3 + 7) / 2, 2),            # pairs with a NaN are skipped
        ([5, 8], 4, 3.0, 1),                                # shorter than a season -> lag 1
        ([5, NAN, 9, NAN, NAN], 2, 4.0, 2),
        ([NAN, NAN, NAN], 1, NAN, NAN),                     # nothing observed -> NaN
    ],
)
def test_seasonal_naive_scale_hand_computed(history, season, scale, lag):
    out = M.seasonal_naive_scale(xr.DataArray(np.asarray(history, dtype=float), dims="time"), season=season)
    np.testing.assert_allclose(float(out["scale"]), scale)
    np.testing.assert_allclose(float(out["lag"]), lag)


def test_seasonal_naive_scale_falls_back_per_series():
    history = xr.DataArray([[1.0, NAN, NAN, 4.0, 6.0], [1.0, 3.0, 2.0, 6.0, 4.0]], dims=("series", "time"))
    out = M.seasonal_naive_scale(history, season=3)
    # series 0: seasonal pairs (t=3,0): |4-1| = 3 ; series 1: |6-1|, |4-3| -> 3
    np.testing.assert_allclose(out["scale"].values, [3.0, 3.0])
    short = M.seasonal_naive_scale(history.isel(time=slice(0, 3)), season=3)
    # no seasonal pair at all: lag 1 (series 0 has no lag-1 pair either)
    np.testing.assert_allclose(short["scale"].values, [NAN, 1.5])
    np.testing.assert_allclose(short["lag"].values, [NAN, 1.0])


def tiny_backtest():
    """Two models x 2 cutoffs x 2 horizons x 1 region x 2 occupations x 3 quantiles, by hand."""
    actual = np.array([[[[10.0, 100.0]], [[12.0, NAN]]], [[[11.0, 90.0]], [[13.0, 95.0]]]])
    offsets = np.array([1.0, -10.0])  # model a over-forecasts by 1, model b under by 10
    point = actual[None] + offsets[:, None, None, None, None]
    point = np.nan_to_num(point, nan=50.0)
    forecast = np.stack([point - 5, point, point + 5], axis=-1)
    return xr.Dataset(
        {"forecast": (("model", "cutoff", "horizon", "region", "occupation", "quantile"), forecast),
         "actual": (("cutoff", "horizon", "region", "occupation"), actual),
         "insample_scale": (("cutoff", "region", "occupation"), np.array([[[2.0, 20.0]], [[2.0, 0.0]]]))},
        coords={"model": ["a", "b"], "cutoff": pd.to_datetime(["2022-01-01", "2022-02-01"]), "horizon": [1, 2],
                "region": ["MA-01"], "occupation": ["2512", "7212"], "quantile": [0.1, 0.5, 0.9],
                "occupation_major": ("occupation", ["2", "7"])},
    )


def test_evaluate_overall_table_matches_metric_functions():
    ds = tiny_backtest()
    table = M.evaluate(ds, metrics=("mae", "bias", "coverage_80", "mase", "pinball", "width_80"))
    assert list(table.columns) == ["model", "metric", "value", "n_obs"]
    assert (table["n_obs"] == 7).all()
    value = table.set_index(["model", "metric"])["value"]
    assert value["a", "mae"] == pytest.approx(1.0)
    assert value["b", "bias"] == pytest.approx(-10.0)
    assert value["a", "coverage_80"] == pytest.approx(1.0)
    assert value["b", "coverage_80"] == pytest.approx(0.0)
    assert value["a", "width_80"] == pytest.approx(10.0)
    # model a MASE: cutoff 1: 1/2, 1/2, 1/20 (h2 occ 7212 unobserved); cutoff 2: 1/2, 1/2 (7212 scale 0 excluded)
    assert value["a", "mase"] == pytest.approx((0.5 + 0.5 + 0.05 + 0.5 + 0.5) / 5)
    # model a pinball: errors d = a - f_q = -1 - (-5, 0, 5) -> q0.1: 4*0.1, q0.5: 0.5, q0.9: 0.6
    assert value["a", "pinball"] == pytest.approx((0.4 + 0.5 + 0.6) / 3)


def test_evaluate_by_dim_and_by_coordinate():
    ds = tiny_backtest()
    by_horizon = M.evaluate(ds, metrics=("mae",), by="horizon")
    assert list(by_horizon.columns) == ["model", "horizon", "metric", "value", "n_obs"]
    assert by_horizon.set_index(["model", "horizon"])["n_obs"].to_dict() == {("a", 1): 4, ("a", 2): 3,
                                                                             ("b", 1): 4, ("b", 2): 3}
    by_major = M.evaluate(ds, metrics=("wape",), by="occupation_major").set_index(["model", "occupation_major"])
    # occupation 7 (major '7'), model b: |-10| * 3 / (100 + 90 + 95)
    assert by_major.loc[("b", "7"), "value"] == pytest.approx(100 * 30 / 285)
    assert by_major.loc[("a", "2"), "n_obs"] == 4


def test_evaluate_without_model_dim_and_errors():
    ds = tiny_backtest().sel(model="a", drop=True)
    table = M.evaluate(ds, metrics=("mae", "rmse"))
    assert list(table.columns) == ["metric", "value", "n_obs"]
    np.testing.assert_allclose(table["value"].to_numpy(), [1.0, 1.0])
    with pytest.raises(ValueError, match=re.escape("evaluate: unknown metric 'mape'")):
        M.evaluate(ds, metrics=("mape",))
    with pytest.raises(ValueError, match=re.escape("evaluate: cannot group by 'quantile'")):
        M.evaluate(ds, metrics=("mae",), by="quantile")
    with pytest.raises(ValueError, match=re.escape("'mase' needs the 'insample_scale' variable")):
        M.evaluate(ds.drop_vars("insample_scale"), metrics=("mase",))
