"""Tests of ``Forecaster.update(panel)``: re-anchoring a fitted model at a later forecast origin.

Covers the base-class contract (validation, state left unchanged on error), the baselines
(update == refit, exactly), the global ML models (fitted regressors kept, origin moves), the
ensemble, and backtests with ``refit_every=2`` (fits counted, leak-free).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from sklearn.linear_model import Ridge

from lmforecast import panel as P
from lmforecast.backtest import RollingOriginSplitter, _can_update, assert_no_leakage, backtest
from lmforecast.errors import NotFittedError, PanelError
from lmforecast.models.base import Forecaster
from lmforecast.models.baselines import Drift, HistoricalMean, Naive, SeasonalNaive
from lmforecast.models.ensemble import Ensemble
from lmforecast.models.lightgbm import LightGBMForecaster
from lmforecast.models.sklearn import SklearnForecaster
from lmforecast.uncertainty import ResidualUncertainty

TARGET = "job_offers"
QUANTILES = (0.1, 0.5, 0.9)


def synthetic_panel(n_time=60, seed=0, n_regions=2, n_occupations=3) -> xr.Dataset:
    """Seeded monthly job-offer panel (trend x seasonality x noise, counts) plus jobseekers."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_time)[:, None, None]
    shape = (n_regions, n_occupations)
    level = rng.uniform(30, 300, size=shape)[None]
    seasonal = 1 + 0.2 * np.sin(2 * np.pi * t / 12)
    offers = np.round(level * np.exp(0.005 * t) * seasonal * np.exp(rng.normal(0, 0.05, (n_time,) + shape)))
    seekers = np.round(rng.uniform(100, 1000, size=(n_time,) + shape))
    occupations = ["2512", "2411", "7212"][:n_occupations]
    return xr.Dataset(
        {TARGET: (P.DIMS, offers.astype(float)), "jobseekers": (P.DIMS, seekers.astype(float))},
        coords={P.TIME: pd.date_range("2018-01-01", periods=n_time, freq="MS"),
                P.REGION: [f"MA-{i + 1:02d}" for i in range(n_regions)], P.OCCUPATION: occupations,
                P.OCCUPATION_MAJOR: (P.OCCUPATION, [o[0] for o in occupations])},
        attrs={"freq": "MS", "country": "MA"},
    )


@pytest.fixture(scope="module")
def panel() -> xr.Dataset:
    return synthetic_panel()


def head(panel: xr.Dataset, stop: int, start: int = 0) -> xr.Dataset:
    return panel.isel({P.TIME: slice(start, stop)})


def small_lgbm(**kw) -> LightGBMForecaster:
    """A small LightGBM, two calibration origins, direct models for 3 steps."""
    return LightGBMForecaster(lags=(1, 2, 12), windows=(3,), n_estimators=20, num_leaves=7, min_child_samples=5,
                              max_horizon=3, uncertainty=ResidualUncertainty(n_windows=2), **kw)


def ridge(**kw) -> SklearnForecaster:
    """Ridge lag model, two calibration origins, direct models for 3 steps."""
    return SklearnForecaster(Ridge(alpha=1.0), lags=(1, 2, 12), windows=(3,), max_horizon=3,
                             uncertainty=ResidualUncertainty(n_windows=2), **kw)


def widths(forecast: xr.DataArray) -> np.ndarray:
    """0.9 - 0.1 interval widths as a bare array (time labels dropped)."""
    return (forecast.sel(quantile=0.9) - forecast.sel(quantile=0.1)).values


class NoUpdate(Forecaster):
    """Last observed value; implements no update (like Prophet)."""

    def _fit_series(self, y, context):
        self.last_ = y[:, -1]

    def _predict_point(self, horizon):
        return np.repeat(self.last_[:, None], horizon, axis=1)


# --- baselines: update == refit on the new history ----------------------------------------------
@pytest.mark.parametrize("model", [Naive(), SeasonalNaive(), Drift(), HistoricalMean(window=6)],
                         ids=lambda m: type(m).__name__)
@pytest.mark.parametrize("start", [0, 6], ids=["expanding", "rolling"])
def test_baseline_update_equals_fresh_fit(panel, model, start):
    """Update = refit of the point model on the new history; the calibration stays the last fit's."""
    fitted_at_40 = type(model)(**model.get_params()).fit(head(panel, 40), TARGET)
    updated = type(model)(**model.get_params()).fit(head(panel, 40), TARGET)
    calibration = updated.uncertainty_
    assert updated.update(head(panel, 46, start)) is updated
    fresh = type(model)(**model.get_params()).fit(head(panel, 46, start), TARGET)
    xr.testing.assert_identical(updated.predict(3, quantiles=(0.5,)), fresh.predict(3, quantiles=(0.5,)))
    assert updated.uncertainty_ is calibration
    # baselines' widths are scale x offsets: the same as the fit at 40 gives, whatever the point
    np.testing.assert_allclose(widths(updated.predict(3, quantiles=QUANTILES)),
                               widths(fitted_at_40.predict(3, quantiles=QUANTILES)))
    assert updated.predict(3).indexes[P.TIME][0] == panel.indexes[P.TIME][46]


# --- global ML models: fitted regressors kept, origin moves ---------------------------------------
@pytest.mark.parametrize("factory", [ridge, small_lgbm], ids=["ridge", "lightgbm"])
@pytest.mark.parametrize("strategy", ["recursive", "direct"])
def test_ml_update_keeps_models_and_moves_origin(panel, factory, strategy):
    model = factory(strategy=strategy).fit(head(panel, 40), TARGET)
    before = model.predict(3, quantiles=QUANTILES)
    models, keys = model.models_, sorted(model.models_, key=str)
    ids = {k: id(v) for k, v in models.items()}
    regressor, names = model.model_, list(model.feature_names_)
    design = np.random.default_rng(1).normal(size=(7, len(names)))
    design_pred = regressor.predict(design)
    calibration = model.uncertainty_

    model.update(head(panel, 46))
    after = model.predict(3, quantiles=QUANTILES)
    # nothing re-estimated: same model objects, same predictions on a fixed design, same calibration
    assert model.models_ is models and model.model_ is regressor and model.feature_names_ == names
    assert sorted(model.models_, key=str) == keys and {k: id(v) for k, v in model.models_.items()} == ids
    np.testing.assert_array_equal(model.model_.predict(design), design_pred)
    assert model.uncertainty_ is calibration
    # ... while the forecast origin moved to the new panel's end
    np.testing.assert_array_equal(after.indexes[P.TIME], panel.indexes[P.TIME][46:49])
    np.testing.assert_array_equal(before.indexes[P.TIME], panel.indexes[P.TIME][40:43])
    assert not np.allclose(after.sel(quantile=0.5).values, before.sel(quantile=0.5).values)
    # the history is the new panel's: a fresh fit at 46 uses the same inputs, other parameters
    assert model.y_.shape[1] == 46 and model.core_.fit_core.n_time == 40

    # update is pure re-anchoring: the path of updates does not matter, only the last history
    stepwise = factory(strategy=strategy).fit(head(panel, 40), TARGET).update(head(panel, 43))
    xr.testing.assert_identical(stepwise.update(head(panel, 46)).predict(3, quantiles=QUANTILES), after)
    with pytest.raises(PanelError, match="update panel ends at 2021-04-01, before the fitted data's end 2021-10-01"):
        model.update(head(panel, 40))


def test_ml_update_reads_new_exogenous_history(panel):
    model = ridge(exog_lags={"jobseekers": 1}).fit(head(panel, 40), TARGET)
    model.update(head(panel, 46))
    base = model.predict(2, quantiles=(0.5,))
    changed = panel.copy(deep=True)
    changed["jobseekers"][45] = changed["jobseekers"][45] * 3
    model.update(head(changed, 46))
    moved = model.predict(2, quantiles=(0.5,))
    # lag-1 jobseekers at the first forecast step is period 45: the update must read it
    assert not np.allclose(moved.isel(time=0).values, base.isel(time=0).values)


def test_lightgbm_quantile_models_are_fitted_at_fit_and_kept_by_update(panel):
    """The quantile models come from the fit at 40 (fitted there, not after the update) and update keeps them."""
    updated = small_lgbm(interval_method="quantile").fit(head(panel, 40), TARGET)
    quantile_models = {key: updated.models_[key] for key in [(1, 0.1), (1, 0.9)]}
    updated.update(head(panel, 46))
    forecast = updated.predict(2, quantiles=QUANTILES)
    np.testing.assert_array_equal(forecast.indexes[P.TIME], panel.indexes[P.TIME][46:48])
    fitted_first = small_lgbm(interval_method="quantile").fit(head(panel, 40), TARGET)
    design = np.zeros((1, len(updated.feature_names_)))
    for key, est in quantile_models.items():
        assert updated.models_[key] is est
        np.testing.assert_array_equal(est.booster_.predict(design), fitted_first.models_[key].booster_.predict(design))


# --- ensemble --------------------------------------------------------------------------------
def test_ensemble_updates_every_member_and_equals_fresh_fit(panel):
    """Updated members give the points of a fresh fit; the ensemble keeps its calibration of the fit at 40."""
    def members():
        return Ensemble([Naive(), Drift(), SeasonalNaive()], method="mean")

    ensemble = members()
    assert ensemble.supports_update and _can_update(ensemble)
    ensemble.fit(head(panel, 40), TARGET).update(head(panel, 46))
    expected = members().fit(head(panel, 46), TARGET)
    xr.testing.assert_identical(ensemble.predict(3, quantiles=(0.5,)), expected.predict(3, quantiles=(0.5,)))
    np.testing.assert_allclose(widths(ensemble.predict(3, quantiles=QUANTILES)),
                               widths(members().fit(head(panel, 40), TARGET).predict(3, quantiles=QUANTILES)))


def test_ensemble_with_a_member_without_update_does_not_update(panel):
    ensemble = Ensemble([Naive(), NoUpdate()])
    assert not ensemble.supports_update and not _can_update(ensemble)
    ensemble.fit(head(panel, 40), TARGET)
    with pytest.raises(NotImplementedError, match="Ensemble has no update"):
        ensemble.update(head(panel, 46))


def test_can_update_needs_the_flag():
    class UpdateWithoutFlag(NoUpdate):
        def update(self, panel):
            return self

    assert not _can_update(NoUpdate()) and not _can_update(UpdateWithoutFlag())
    assert _can_update(Naive()) and _can_update(ridge()) and _can_update(small_lgbm())


# --- validation ------------------------------------------------------------------------------
def test_update_before_fit_raises(panel):
    with pytest.raises(NotFittedError, match="Naive is not fitted"):
        Naive().update(panel)


def test_update_without_support_raises(panel):
    model = NoUpdate().fit(head(panel, 40), TARGET)
    with pytest.raises(NotImplementedError, match=r"NoUpdate has no update\(panel\)"):
        model.update(head(panel, 46))


@pytest.mark.parametrize("mutate, message", [
    (lambda p: p.drop_vars(TARGET), r"update panel has no variable 'job_offers' \(the fitted target\)"),
    (lambda p: p.isel({P.REGION: [0]}), r"region labels differ from the fitted ones: added \[\], missing \['MA-02'\]"),
    (lambda p: p.assign_coords({P.OCCUPATION: ["2512", "2411", "9999"]}),
     r"occupation labels differ from the fitted ones: added \['9999'\], missing \['7212'\]"),
    (lambda p: p.isel({P.REGION: [1, 0]}), r"region labels differ .* \(order differs\)"),
    (lambda p: p.isel({P.TIME: slice(0, 30)}), "update panel ends at 2020-06-01, before the fitted data's end 2021-04-01"),
    (lambda p: p.isel({P.TIME: slice(None, None, 3)}).assign_attrs(freq="QS"),
     "update panel has freq 'QS', the model was fitted at freq 'MS'"),
    (lambda p: p.assign_coords({P.TIME: p.indexes[P.TIME] + pd.Timedelta(days=1)}),
     "coordinate 'time' is not regular at freq 'MS'"),
    (lambda p: p.assign_coords({P.OCCUPATION_MAJOR: (P.OCCUPATION, ["2", "2", "9"])}),
     "occupation_major coordinate differs"),
])
def test_update_with_a_different_panel_raises_and_changes_nothing(panel, mutate, message):
    model = ridge().fit(head(panel, 40), TARGET)
    before = model.predict(2, quantiles=(0.5,))
    with pytest.raises(PanelError, match=message):
        model.update(mutate(head(panel, 46)))
    xr.testing.assert_identical(model.predict(2, quantiles=(0.5,)), before)


def test_failing_hook_leaves_the_model_as_it_was(panel):
    model = ridge().fit(head(panel, 40), TARGET)
    before = model.predict(2, quantiles=(0.5,))
    negative = head(panel, 46).copy(deep=True)
    negative[TARGET][44, 0, 1] = -3.0
    with pytest.raises(PanelError, match=r"negative value -3.0 at region='MA-01', occupation='2411', time=2021-09-01"):
        model.update(negative)
    assert model.time_index_[-1] == panel.indexes[P.TIME][39] and model.y_.shape[1] == 40
    xr.testing.assert_identical(model.predict(2, quantiles=(0.5,)), before)


# --- backtests with refit_every --------------------------------------------------------------
class CountingNaive(Naive):
    """Naive that records every fit and update (class-level, since backtests clone)."""

    calls: list[str] = []

    def fit(self, panel, target):
        CountingNaive.calls.append(f"fit {panel.indexes[P.TIME][-1]:%Y-%m}")
        return super().fit(panel, target)

    def update(self, panel):
        CountingNaive.calls.append(f"update {panel.indexes[P.TIME][-1]:%Y-%m}")
        return super().update(panel)


def test_backtest_refit_every_2_fits_every_second_fold(panel):
    splitter = RollingOriginSplitter(horizon=3, n_windows=6, refit_every=2)
    CountingNaive.calls = []
    every_2 = backtest(CountingNaive(), panel, TARGET, splitter, quantiles=QUANTILES, progress=False)
    cutoffs = [f"{c:%Y-%m}" for c in every_2.indexes["cutoff"]]
    assert CountingNaive.calls == [f"{'fit' if i % 2 == 0 else 'update'} {c}" for i, c in enumerate(cutoffs)]
    np.testing.assert_array_equal(every_2["refit"].values, [True, False] * 3)
    assert every_2.attrs["refit_policy"] == "refit every 2 cutoffs, update(panel) in between"
    # a baseline's update is a refit of its point: same points as refitting at every cutoff ...
    every_1 = backtest(Naive(), panel, TARGET, RollingOriginSplitter(horizon=3, n_windows=6),
                       quantiles=QUANTILES, progress=False)
    xr.testing.assert_identical(every_2["forecast"].sel(quantile=0.5), every_1["forecast"].sel(quantile=0.5))
    # ... while an updated fold keeps the intervals calibrated at the previous refit
    for fold in (1, 3, 5):
        np.testing.assert_allclose(widths(every_2["forecast"].isel(cutoff=fold)),
                                   widths(every_2["forecast"].isel(cutoff=fold - 1)))


def test_backtest_ml_refit_every_2_updates_between_refits(panel):
    kw = dict(horizon=2, n_windows=4, step=3)
    every_2 = backtest(ridge(), panel, TARGET, RollingOriginSplitter(refit_every=2, **kw), progress=False,
                       point_in_time=False)
    every_1 = backtest(ridge(), panel, TARGET, RollingOriginSplitter(**kw), progress=False, point_in_time=False)
    np.testing.assert_array_equal(every_2["refit"].values, [True, False, True, False])
    refit_folds = every_2["refit"].values
    xr.testing.assert_identical(every_2["forecast"][refit_folds], every_1["forecast"][refit_folds])
    # updated folds forecast from their own cutoff with the previous fold's regressor: not a refit
    assert not np.allclose(every_2["forecast"][~refit_folds].values, every_1["forecast"][~refit_folds].values)
    # and they equal fit at the previous cutoff + update at theirs, done by hand
    cutoffs = list(every_2.indexes["cutoff"])
    position = {c: int(panel.indexes[P.TIME].get_loc(c)) for c in cutoffs}
    manual = (ridge().fit(head(panel, position[cutoffs[0]] + 1), TARGET)
              .update(head(panel, position[cutoffs[1]] + 1)).predict(2, quantiles=QUANTILES))
    np.testing.assert_array_equal(every_2["forecast"].isel(cutoff=1).values,
                                  manual.transpose(P.TIME, P.REGION, P.OCCUPATION, P.QUANTILE).values)


def test_updated_folds_see_nothing_after_their_cutoff(panel):
    splitter = RollingOriginSplitter(horizon=2, n_windows=4, step=2, refit_every=2)
    clean = backtest(small_lgbm(), panel, TARGET, splitter, progress=False, point_in_time=False)
    second = pd.Timestamp(clean.indexes["cutoff"][1])  # an update fold
    garbled = panel.copy(deep=True)
    after = (panel.indexes[P.TIME] > second)
    garbled[TARGET][after] = 1e12
    garbled["jobseekers"][after] = np.nan
    dirty = backtest(small_lgbm(), garbled, TARGET, splitter, progress=False, point_in_time=False)
    assert not bool(clean["refit"].values[1])
    xr.testing.assert_identical(clean["forecast"].isel(cutoff=slice(0, 2)), dirty["forecast"].isel(cutoff=slice(0, 2)))


@pytest.mark.parametrize("factory", [Naive, ridge, small_lgbm], ids=["naive", "ridge", "lightgbm"])
def test_leakage_harness_still_passes(panel, factory):
    forecast = assert_no_leakage(factory, panel, TARGET, cutoff=panel.indexes[P.TIME][50], horizon=3,
                                 point_in_time=False)
    assert np.isfinite(forecast.values).all()
