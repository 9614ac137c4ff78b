"""Tests of lmforecast.backtest: splitter, point-in-time cut, backtest cube, persistence."""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from lmforecast import panel as P
from lmforecast.backtest import (
    RollingOriginSplitter,
    backtest,
    backtest_models,
    load_backtest,
    point_in_time,
    publication_lag_days,
    save_backtest,
    summarise,
)
from lmforecast.errors import PanelError
from lmforecast.metrics import evaluate
from lmforecast.models.base import Forecaster

REGIONS = ("MA-01", "MA-06")
OCCUPATIONS = ("2512", "2611", "7212")


def make_panel(n_time=36, freq="MS", seed=0):
    """Seeded panel: job_offers (1-day lag), employment (45 days), graduates (90 days)."""
    rng = np.random.default_rng(seed)
    time = pd.date_range("2020-01-01", periods=n_time, freq=freq)
    shape = (n_time, len(REGIONS), len(OCCUPATIONS))
    season = np.sin(2 * np.pi * np.arange(n_time) / P.season_length(freq))[:, None, None]
    job_offers = np.round(60 + 15 * season + rng.normal(0, 4, shape))
    employment = np.round(900 + 30 * season + np.cumsum(rng.normal(0, 5, shape), axis=0))
    graduates = rng.poisson(40, shape).astype(float)
    job_offers[min(5, n_time - 1), 1, 2] = np.nan
    return xr.Dataset(
        {name: (P.DIMS, values, P.measure_attrs(name))
         for name, values in [("job_offers", job_offers), ("employment", employment), ("graduates", graduates)]},
        coords={P.TIME: time, P.REGION: list(REGIONS), P.OCCUPATION: list(OCCUPATIONS),
                P.REGION_NAME: (P.REGION, ["Tanger-Tetouan-Al Hoceima", "Casablanca-Settat"]),
                P.OCCUPATION_NAME: (P.OCCUPATION, ["Software developers", "Lawyers", "Welders"]),
                P.OCCUPATION_MAJOR: (P.OCCUPATION, ["2", "2", "7"])},
        attrs={"freq": freq, "country": "MA"},
    )


class LastValue(Forecaster):
    """Last observed value; quantiles = value * (0.5 + q) so the levels are distinguishable."""

    def __init__(self, spread: float = 1.0, uncertainty="none"):
        self.spread = spread
        self.uncertainty = uncertainty

    def _fit_series(self, y, context):
        observed = np.isfinite(y)
        position = y.shape[1] - 1 - np.argmax(observed[:, ::-1], axis=1)
        self.last_ = np.where(observed.any(axis=1), y[np.arange(y.shape[0]), position], np.nan)

    def _predict_point(self, horizon):
        return np.repeat(self.last_[:, None], horizon, axis=1)

    def _native_quantiles(self, horizon, quantiles, point):
        factor = 1 + self.spread * (np.asarray(quantiles) - 0.5)
        return point[:, :, None] * factor


class UpdatingLastValue(LastValue):
    """LastValue with an ``update(panel)`` that re-anchors without a refit (counts its calls)."""

    supports_update = True

    def update(self, panel):
        y = P.stack_series(panel[self.target_]).values
        self._fit_series(y, self.context_)
        self.context_.time_index = panel.indexes[P.TIME]
        self.n_updates_ = getattr(self, "n_updates_", 0) + 1
        return self


# --- splitter --------------------------------------------------------------------------------
TIMES = pd.date_range("2020-01-01", periods=10, freq="MS")


def test_expanding_folds_count_back_from_last_cutoff():
    folds = RollingOriginSplitter(horizon=2, initial=5, step=2).split(TIMES)
    # last possible cutoff: position 7 (test 8, 9); spaced 2: 7, 5 (position 3 < initial - 1)
    assert [f.cutoff for f in folds] == [TIMES[5], TIMES[7]]
    assert [(f.train, f.test) for f in folds] == [(slice(0, 6), slice(6, 8)), (slice(0, 8), slice(8, 10))]
    assert folds[1].test_time.equals(TIMES[8:10])
    assert folds[1].train_time.equals(TIMES[:8])
    assert [f.index for f in folds] == [0, 1]


def test_sliding_window_keeps_initial_length():
    folds = RollingOriginSplitter(horizon=1, initial=4, window="sliding").split(TIMES)
    assert [f.train for f in folds] == [slice(c - 3, c + 1) for c in range(3, 9)]
    assert all(len(f.train_time) == 4 for f in folds)
    expanding = RollingOriginSplitter(horizon=1, initial=4).split(TIMES)
    assert [f.train.start for f in expanding] == [0] * 6


def test_n_windows_last_cutoff_and_gap():
    splitter = RollingOriginSplitter(horizon=2, n_windows=3, step=1, gap=1, last_cutoff="2020-06-01")
    folds = splitter.split(TIMES)
    assert [f.cutoff for f in folds] == list(TIMES[3:6])
    assert folds[-1].test == slice(7, 9)  # cutoff at 5, one period skipped
    assert folds[0].train == slice(0, 4)


def test_sliding_without_initial_uses_first_fold_length():
    folds = RollingOriginSplitter(horizon=1, n_windows=2, window="sliding").split(TIMES)
    assert [f.train for f in folds] == [slice(0, 8), slice(1, 9)]


def test_refit_every_flags():
    folds = RollingOriginSplitter(horizon=1, initial=3, refit_every=3).split(TIMES)
    assert [f.refit for f in folds] == [True, False, False, True, False, False, True]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"horizon": 3, "initial": 8}, "not enough data: initial=8 + gap=0 + horizon=3 = 11 periods needed, the time index has 10"),
        ({"horizon": 2, "initial": 7, "gap": 2}, "initial=7 + gap=2 + horizon=2 = 11 periods needed"),
        ({"horizon": 10, "n_windows": 1}, "not enough data: 1 training period + gap=0 + horizon=10 = 11 periods needed"),
        ({"horizon": 2, "initial": 2, "last_cutoff": "2020-09-01"},
         "last_cutoff 2020-09-01 leaves 1 periods after it; gap=0 + horizon=2 need 2"),
        ({"horizon": 2, "initial": 2, "last_cutoff": "2020-09-15"}, "last_cutoff 2020-09-15 is not a period of the time index"),
        ({"horizon": 2, "initial": 5, "last_cutoff": "2020-03-01"}, "leaves 3 training periods, fewer than initial=5"),
        ({"horizon": 2, "initial": 4, "n_windows": 4, "step": 2},
         "not enough data for n_windows=4 cutoffs spaced step=2: the first cutoff would have 2 training periods, fewer than initial=4"),
    ],
)
def test_split_errors(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        RollingOriginSplitter(**kwargs).split(TIMES)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"horizon": 0, "initial": 3}, "horizon must be an integer >= 1, got 0"),
        ({"horizon": 1.5, "initial": 3}, "horizon must be an integer >= 1, got 1.5"),
        ({"horizon": 1, "initial": 3, "gap": -1}, "gap must be an integer >= 0, got -1"),
        ({"horizon": 1, "initial": 3, "window": "rolling"}, "window must be 'expanding' or 'sliding', got 'rolling'"),
        ({"horizon": 1}, "give initial (minimum training periods) or n_windows"),
    ],
)
def test_splitter_parameter_errors(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        RollingOriginSplitter(**kwargs)


def test_split_rejects_unsorted_index():
    with pytest.raises(ValueError, match=re.escape("time index must be increasing")):
        RollingOriginSplitter(horizon=1, initial=2).split(TIMES[::-1])


# --- point in time ---------------------------------------------------------------------------
def test_point_in_time_masks_each_variable_by_its_lag():
    panel = make_panel()
    known = point_in_time(panel, "2021-06-01")
    assert known.indexes[P.TIME][-1] == pd.Timestamp("2021-06-01")
    assert known.sizes[P.TIME] == 18
    last_observed = {name: known[name].isel(region=0, occupation=0).dropna(P.TIME).indexes[P.TIME][-1]
                     for name in known.data_vars}
    # job ads (1 day): June itself (Jun 30 + 1 > Jun 30 -> May); LFS (45 days): Apr 30 + 45 = Jun 14;
    # graduates (90 days): Mar 31 + 90 = Jun 29
    assert last_observed == {"job_offers": pd.Timestamp("2021-05-01"), "employment": pd.Timestamp("2021-04-01"),
                             "graduates": pd.Timestamp("2021-03-01")}
    # earlier values are the panel's, untouched; the panel itself is not modified
    xr.testing.assert_identical(known["employment"].isel(time=slice(0, 16)), panel["employment"].isel(time=slice(0, 16)))
    assert np.isfinite(panel["employment"].sel(time="2021-06-01")).all()
    assert known.attrs["point_in_time_cutoff"] == "2021-06-01"
    assert known["employment"].attrs == panel["employment"].attrs


def test_point_in_time_quarterly_lag():
    panel = make_panel(n_time=12, freq="QS")
    known = point_in_time(panel, "2021-04-01")  # Q2 2021 ends Jun 30
    employment = known["employment"].isel(region=0, occupation=0)
    # Q1 ends Mar 31 + 45 days = May 15 <= Jun 30: known; Q2 not yet
    assert np.isfinite(employment.sel(time="2021-01-01"))
    assert np.isnan(employment.sel(time="2021-04-01"))
    # a 100-day lag (set in the attrs) also hides Q1
    panel["employment"].attrs["publication_lag_days"] = 100
    later = point_in_time(panel, "2021-04-01")["employment"].isel(region=0, occupation=0)
    assert np.isnan(later.sel(time="2021-01-01")) and np.isfinite(later.sel(time="2020-10-01"))


def test_publication_lag_sources_and_errors():
    panel = make_panel(n_time=4)
    assert publication_lag_days(panel, "employment") == 45
    panel["employment"].attrs.pop("publication_lag_days")
    assert publication_lag_days(panel, "employment") == 45  # from MEASURES
    panel["custom_index"] = panel["graduates"].copy(data=np.ones(panel["graduates"].shape))
    panel["custom_index"].attrs = {}
    assert publication_lag_days(panel, "custom_index") == 0
    panel["custom_index"].attrs["publication_lag_days"] = -3
    with pytest.raises(PanelError, match=re.escape("variable 'custom_index': attrs['publication_lag_days'] = -3, "
                                                   "expected a whole number of days >= 0")):
        point_in_time(panel, "2020-03-01")
    with pytest.raises(PanelError, match=re.escape("cutoff 2021-03-01 is not a period start of the panel")):
        point_in_time(make_panel(n_time=4), "2021-03-01")


# --- backtest --------------------------------------------------------------------------------
SPLITTER = RollingOriginSplitter(horizon=3, initial=24, step=2)


@pytest.fixture(scope="module")
def panel():
    return make_panel()


@pytest.fixture(scope="module")
def result(panel):
    return backtest(LastValue(), panel, "employment", SPLITTER, progress=False)


def test_backtest_dims_coords_and_attrs(result, panel):
    assert result["forecast"].dims == ("cutoff", "horizon", "region", "occupation", "quantile")
    assert result["actual"].dims == ("cutoff", "horizon", "region", "occupation")
    assert result["insample_scale"].dims == ("cutoff", "region", "occupation")
    assert result["target_time"].dims == ("cutoff", "horizon")
    assert result["last_year_level"].dims == ("cutoff", "region", "occupation")
    np.testing.assert_array_equal(result["horizon_year"].values, [1, 1, 1])
    np.testing.assert_array_equal(result["cutoff"].values, pd.date_range("2022-01-01", periods=5, freq="2MS"))
    np.testing.assert_array_equal(result["horizon"].values, [1, 2, 3])
    np.testing.assert_array_equal(result["quantile"].values, [0.1, 0.5, 0.9])
    np.testing.assert_array_equal(result["occupation_major"].values, ["2", "2", "7"])
    assert result.attrs["model"] == "LastValue"
    assert json.loads(result.attrs["model_params"]) == {"spread": 1.0, "uncertainty": "none"}
    assert json.loads(result.attrs["splitter_params"])["initial"] == 24
    assert result.attrs["target"] == "employment" and result.attrs["freq"] == "MS"
    assert result.attrs["wall_time_s"] >= result.attrs["fit_time_s"] >= 0
    assert result["forecast"].attrs["units"] == "persons"


def test_actual_is_the_final_panel_value_at_target_time(result, panel):
    for cutoff in result["cutoff"].values:
        for horizon in result["horizon"].values:
            when = result["target_time"].sel(cutoff=cutoff, horizon=horizon).values
            assert when == (pd.Timestamp(cutoff) + pd.DateOffset(months=int(horizon))).to_datetime64()
            np.testing.assert_array_equal(
                result["actual"].sel(cutoff=cutoff, horizon=horizon).transpose(P.REGION, P.OCCUPATION).values,
                panel["employment"].sel(time=when).transpose(P.REGION, P.OCCUPATION).values)


def test_forecast_comes_from_the_point_in_time_panel(result, panel):
    cutoff = pd.Timestamp("2022-05-01")
    # the 45-day LFS lag hides April and May 2022 at the end of May: the last value seen is March's
    march = panel["employment"].sel(time="2022-03-01", drop=True)
    median = result["forecast"].sel(cutoff=cutoff, quantile=0.5, drop=True)
    for horizon in (1, 2, 3):
        np.testing.assert_array_equal(median.sel(horizon=horizon).values, march.values)
    plain = backtest(LastValue(), panel, "employment", SPLITTER, point_in_time=False, progress=False)
    np.testing.assert_array_equal(plain["forecast"].sel(cutoff=cutoff, quantile=0.5, horizon=1).values,
                                  panel["employment"].sel(time=cutoff).values)
    assert plain.attrs["point_in_time"] == 0


def test_insample_scale_uses_only_the_fold_training_part(result, panel):
    cutoff = pd.Timestamp("2022-01-01")
    known = point_in_time(panel, cutoff)["employment"].isel(region=1, occupation=2).values
    seasonal = np.abs(known[12:] - known[:-12])
    assert float(result["insample_scale"].sel(cutoff=cutoff).isel(region=1, occupation=2)) == pytest.approx(
        np.nanmean(seasonal), rel=1e-12)
    assert (result["insample_scale_lag"] == 12).all()
    # changing every value after the cutoff leaves the scale of that cutoff unchanged
    changed = panel.copy(deep=True)
    after = changed.indexes[P.TIME] > cutoff
    changed["employment"][{P.TIME: np.flatnonzero(after)}] = 1e9
    other = backtest(LastValue(), changed, "employment", SPLITTER, progress=False)
    xr.testing.assert_identical(other["insample_scale"].sel(cutoff=cutoff), result["insample_scale"].sel(cutoff=cutoff))
    assert not other["insample_scale"].sel(cutoff="2022-09-01").equals(result["insample_scale"].sel(cutoff="2022-09-01"))


def test_backtest_is_reproducible_and_parallel_identical(result, panel):
    again = backtest(LastValue(), panel, "employment", SPLITTER, progress=False, n_jobs=2)
    timing = ["wall_time_s", "fit_time_s", "predict_time_s", "n_jobs"]
    xr.testing.assert_identical(again.assign_attrs({k: 0 for k in timing}),
                                result.assign_attrs({k: 0 for k in timing}))


def test_gap_shifts_horizon_labels(panel):
    splitter = RollingOriginSplitter(horizon=2, n_windows=2, gap=1)
    out = backtest(LastValue(), panel, "job_offers", splitter, progress=False)
    np.testing.assert_array_equal(out["horizon"].values, [2, 3])
    last = pd.Timestamp(out["cutoff"].values[-1])
    assert last == panel.indexes[P.TIME][-4]
    np.testing.assert_array_equal(out["target_time"].values[-1], panel.indexes[P.TIME][-2:].values)


def test_refit_every_needs_update(panel):
    splitter = RollingOriginSplitter(horizon=1, initial=30, refit_every=2)
    plain = backtest(LastValue(), panel, "job_offers", splitter, progress=False)
    assert plain["refit"].values.all()
    assert "does not support update(panel)" in plain.attrs["refit_policy"]
    updating = backtest(UpdatingLastValue(), panel, "job_offers", splitter, progress=False)
    np.testing.assert_array_equal(updating["refit"].values, [True, False, True, False, True, False])
    assert updating.attrs["refit_policy"] == "refit every 2 cutoffs, update(panel) in between"
    # for this model update == refit, so the forecasts must agree exactly
    xr.testing.assert_identical(updating["forecast"], plain["forecast"])


def test_reconcile_hook_is_applied(panel):
    def double(forecast, history):
        assert history.indexes[P.TIME][-1] < forecast.indexes[P.TIME][0]
        return forecast * 2

    base = backtest(LastValue(), panel, "job_offers", SPLITTER, progress=False)
    doubled = backtest(LastValue(), panel, "job_offers", SPLITTER, progress=False, reconcile=double)
    xr.testing.assert_allclose(doubled["forecast"], base["forecast"] * 2)
    assert doubled.attrs["reconcile"] == "double"


def test_forecaster_returning_wrong_periods_is_an_error(panel):
    class Stale(LastValue):
        def predict(self, horizon, quantiles=(0.1, 0.5, 0.9)):
            out = super().predict(horizon, quantiles)
            return out.assign_coords(time=out.indexes[P.TIME] - pd.DateOffset(months=1))

    with pytest.raises(RuntimeError, match=re.escape("Stale forecast periods ['2022-01-01'")):
        backtest(Stale(), panel, "job_offers", SPLITTER, progress=False)


def test_backtest_models_stacks_and_round_trips(panel, tmp_path):
    models = {"last": LastValue(), "wide": LastValue(spread=3.0)}
    stacked = backtest_models(models, panel, "employment", SPLITTER, progress=False)
    assert stacked["forecast"].dims == ("model", "cutoff", "horizon", "region", "occupation", "quantile")
    assert list(stacked["model"].values) == ["last", "wide"]
    assert stacked["refit"].dims == ("model", "cutoff")
    info = json.loads(stacked.attrs["models"])
    assert info["wide"]["model_params"] == json.dumps({"spread": 3.0, "uncertainty": "none"})
    xr.testing.assert_identical(stacked["forecast"].sel(model="last", quantile=0.5, drop=True),
                                stacked["forecast"].sel(model="wide", quantile=0.5, drop=True))
    path = save_backtest(stacked, tmp_path / "backtests" / "employment.nc")
    xr.testing.assert_identical(load_backtest(path), stacked)
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    single = backtest(LastValue(), panel, "employment", SPLITTER, progress=False)
    xr.testing.assert_identical(load_backtest(save_backtest(single, tmp_path / "single.nc")), single)
    with pytest.raises(ValueError, match=re.escape("model names must be unique")):
        backtest_models({"a": LastValue(), 1: LastValue(), "1": LastValue()}, panel, "employment", SPLITTER)


def test_load_backtest_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no backtest at"):
        load_backtest(tmp_path / "missing.nc")
    xr.Dataset({"x": ("a", [1.0])}).to_netcdf(tmp_path / "other.nc")
    with pytest.raises(ValueError, match=re.escape("not a backtest file (no 'forecast' variable)")):
        load_backtest(tmp_path / "other.nc")


def test_summarise_per_fold(panel):
    stacked = backtest_models({"last": LastValue(), "wide": LastValue(spread=3.0)}, panel, "employment",
                              SPLITTER, progress=False)
    table = summarise(stacked)
    assert list(table.columns) == ["model", "cutoff", "n_obs", "mae", "wape", "mase", "coverage_80", "width_80", "refit"]
    assert len(table) == 2 * 5
    by_cutoff = evaluate(stacked, metrics=("coverage_80",), by="cutoff")
    np.testing.assert_allclose(table["coverage_80"].to_numpy(), by_cutoff["value"].to_numpy())
    assert (table["n_obs"] == 3 * 2 * 3).all()
    # the wider interval covers at least as often
    wide = table.set_index(["model", "cutoff"])["coverage_80"]
    assert (wide["wide"] >= wide["last"]).all()
    assert table["refit"].all()


# --- real data -------------------------------------------------------------------------------
AU_IVI_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "au-ivi"


@pytest.mark.shared_data
def test_backtest_on_australian_vacancy_index():
    if not AU_IVI_DIR.is_dir():
        pytest.skip(f"shared data folder {AU_IVI_DIR} is absent")
    from lmforecast.datasets.au_ivi import load_au_ivi
    from lmforecast.models.baselines import Naive

    workbook = next(AU_IVI_DIR.glob("*.xlsx"))
    panel = load_au_ivi(workbook, sheet="Seasonally Adjusted", level=2)
    splitter = RollingOriginSplitter(horizon=12, n_windows=4, step=12)
    result = backtest(Naive(), panel, "job_offers", splitter, progress=False)
    assert result.sizes == {"cutoff": 4, "horizon": 12, "region": 8, "occupation": panel.sizes["occupation"],
                            "quantile": 3}
    assert result.indexes["cutoff"][-1] == panel.indexes[P.TIME][-13]
    np.testing.assert_array_equal(result["actual"].isel(cutoff=-1, horizon=-1).transpose(P.REGION, P.OCCUPATION).values,
                                  panel["job_offers"].isel(time=-1).transpose(P.REGION, P.OCCUPATION).values)
    assert (result["insample_scale"] > 0).all()
    mase = evaluate(result, metrics=("mase",), by="horizon").set_index("horizon")["value"]
    assert np.isfinite(mase).all()
    # a random walk's error grows with the horizon on real vacancy data
    assert mase[12] > mase[1]


# --- the planners' horizon: five years, partial windows, change metrics ------------------------
def test_default_horizon_is_five_years_and_steps_are_yearly():
    splitter = RollingOriginSplitter(n_windows=3, step=None, partial=True)
    folds = splitter.split(pd.date_range("2010-01-01", "2025-12-01", freq="MS"), freq="MS")
    assert [f.cutoff.strftime("%Y-%m") for f in folds] == ["2018-12", "2019-12", "2020-12"]
    assert all(len(f.test_time) == 60 for f in folds)
    annual = RollingOriginSplitter(n_windows=2, step=None, partial=True).split(pd.date_range("1991", "2023", freq="YS"), "YS")
    assert [f.cutoff.year for f in annual] == [2017, 2018] and len(annual[0].test_time) == 5


def test_a_short_history_still_gets_two_origins_with_windows_past_the_end():
    times = pd.date_range("2021-04-01", periods=57, freq="MS")
    folds = RollingOriginSplitter(n_windows=3, step=None, partial=True).split(times, freq="MS")
    assert [f.cutoff.strftime("%Y-%m") for f in folds] == ["2023-12", "2024-12"]
    for fold in folds:
        assert len(fold.test_time) == 60 and fold.test_time[-1] > times[-1]
        assert fold.test.stop == len(times)                      # actuals only up to the data end
    annual = RollingOriginSplitter(n_windows=3, step=None, partial=True).split(pd.date_range("2017", periods=7, freq="YS"), "YS")
    assert len(annual) >= 2 and all(len(f.test_time) == 5 for f in annual)


def test_too_short_for_any_origin_is_a_clear_error():
    with pytest.raises(ValueError, match="not enough data: initial=24 training periods"):
        RollingOriginSplitter(n_windows=3, step=None, partial=True).split(pd.date_range("2024-01-01", periods=30, freq="MS"), freq="MS")


def test_partial_windows_have_nan_actuals_after_the_data_and_metrics_skip_them():
    panel = make_panel(n_time=40)
    splitter = RollingOriginSplitter(horizon=24, n_windows=2, step=6, partial=True, initial=12)
    cube = backtest(LastValue(), panel, "employment", splitter, progress=False)
    last = cube.isel(cutoff=-1)
    after_end = last["target_time"] > panel.indexes["time"][-1]
    assert bool(after_end.any())
    assert last["actual"].where(after_end).isnull().all()
    assert np.isfinite(last["forecast"].where(after_end).values[after_end.values]).all()
    table = evaluate(cube, ["mae"])
    assert np.isfinite(table["value"]).all()
    assert table["n_obs"].iloc[0] == int(cube["actual"].notnull().sum())


def test_change_and_direction_metrics_follow_the_bls_definition():
    """One cutoff, two series: the true five-year change is +50 % and -20 %, the forecast +10 % and +10 %."""
    horizon = np.arange(1, 5)
    coords = {"cutoff": pd.DatetimeIndex(["2020-01-01"]), "horizon": horizon, "region": ["MA-01"],
              "occupation": ["11", "12"], "quantile": [0.5], "horizon_year": ("horizon", [1, 1, 2, 2])}
    actual = np.stack([[100, 100, 150, 150], [100, 100, 80, 80]], axis=1).astype(float)   # (horizon, occ)
    forecast = np.full((4, 2), 110.0)
    ds = xr.Dataset({"actual": (("cutoff", "horizon", "region", "occupation"), actual[None, :, None, :]),
                     "forecast": (("cutoff", "horizon", "region", "occupation", "quantile"),
                                  forecast[None, :, None, :, None]),
                     "insample_scale": (("cutoff", "region", "occupation"), np.ones((1, 1, 2))),
                     "last_year_level": (("cutoff", "region", "occupation"), np.full((1, 1, 2), 100.0))},
                    coords=coords)
    table = evaluate(ds, ["change_error", "direction"]).set_index("metric")["value"]
    assert table["change_error"] == pytest.approx((40 + 30) / 2)      # |10 - 50|, |10 - (-20)| pp
    assert table["direction"] == pytest.approx(0.5)                    # one of two moved series right
