"""Tests of lmforecast.models.change.MultiYearChangeForecaster: a global model of the k-year change."""

from __future__ import annotations

import logging

import numpy as np
import numpy.testing as npt
from sklearn.linear_model import LinearRegression

from lmforecast.models.change import FEATURES, MultiYearChangeForecaster, change_features

TARGET = "job_offers"


def log_linear(levels, growth, n_years: int) -> np.ndarray:
    """``expm1(level + growth * t)`` per series (series, time): exact constant growth in log1p."""
    return np.expm1(np.asarray(levels, float)[:, None] + np.asarray(growth, float)[:, None] * np.arange(n_years))


def test_a_constant_growth_shared_by_every_series_is_learnt_exactly(make_series_panel, as_series):
    """Every series grows 5 % a year (log1p): each k-year model predicts k x 5 %, whatever the level."""
    levels = np.linspace(3.0, 7.0, 8)
    panel = make_series_panel(log_linear(levels, np.full(8, 0.05), 15), n_regions=2)
    model = MultiYearChangeForecaster(uncertainty="none").fit(panel, TARGET)
    assert sorted(model.models_) == [1, 2, 3, 4, 5]
    assert model.n_samples_ == {k: 8 * (15 - k) for k in range(1, 6)}     # every series at every origin
    forecast = as_series(model.predict(5, (0.5,)).sel(quantile=0.5))
    npt.assert_allclose(forecast, log_linear(levels, np.full(8, 0.05), 20)[:, 15:], rtol=1e-9)


def test_each_series_own_growth_is_learnt_from_its_growth_features(make_series_panel, as_series):
    """Growth rates from -4 % to +8 % a year: a linear regressor maps the growth features to the change."""
    levels, growth = np.linspace(4.0, 6.0, 6), np.linspace(-0.04, 0.08, 6)
    panel = make_series_panel(log_linear(levels, growth, 20), n_regions=2)
    model = MultiYearChangeForecaster(regressor=LinearRegression(), uncertainty="none").fit(panel, TARGET)
    forecast = as_series(model.predict(5, (0.5,)).sel(quantile=0.5))
    npt.assert_allclose(forecast, log_linear(levels, growth, 25)[:, 20:], rtol=1e-6)


def test_beyond_the_modelled_years_the_last_change_is_scaled_linearly(make_series_panel, as_series):
    """``years=3``: the 4th and 5th years extrapolate the 3-year change by k / 3."""
    levels = np.linspace(3.0, 5.0, 4)
    panel = make_series_panel(log_linear(levels, np.full(4, 0.1), 12), n_regions=2)
    model = MultiYearChangeForecaster(years=3, uncertainty="none").fit(panel, TARGET)
    assert sorted(model.models_) == [1, 2, 3]
    npt.assert_allclose(as_series(model.predict(5, (0.5,)).sel(quantile=0.5)),
                        log_linear(levels, np.full(4, 0.1), 17)[:, 12:], rtol=1e-9)


def test_features_are_computed_from_the_past_only():
    """Growth over 1, 3 and 5 years, deviation from the 10-year mean, region and occupation growth."""
    levels = np.log1p(log_linear([4.0, 5.0], [0.1, 0.2], 8))
    features = change_features(levels, np.array([0, 0]), np.array([0, 1]), 5)
    assert features.shape == (2, len(FEATURES))
    npt.assert_allclose(features[:, :3], [[0.1, 0.1, 0.1], [0.2, 0.2, 0.2]])
    npt.assert_allclose(features[:, 3], [0.1 * 2.5, 0.2 * 2.5])           # level - mean of blocks 0..5
    npt.assert_allclose(features[:, 5], [0.1, 0.2])                        # each occupation alone
    assert np.isnan(change_features(levels, np.array([0, 0]), np.array([0, 1]), 2)[:, 2]).all()   # no 5 years yet


def test_too_short_a_history_falls_back_to_naive_with_a_warning(make_series_panel, as_series, caplog):
    """Two years of monthly data (fewer than three annual blocks): nothing to learn, every series gets its
    last observed value and the warning names the series (this used to raise)."""
    values = np.exp(np.random.default_rng(0).normal(4, 0.1, (4, 24)))
    panel = make_series_panel(values, "MS", n_regions=2)
    with caplog.at_level(logging.WARNING, logger="lmforecast.models.change"):
        model = MultiYearChangeForecaster(uncertainty="none").fit(panel, TARGET)
    assert model.models_ == {}
    assert ("MultiYearChangeForecaster on 'job_offers': 2 year-long blocks of history (it needs 3); the 4 "
            "series with history get the naive forecast (last observed value): [('MA-01', '11'), ('MA-01', '12'),"
            in caplog.text)
    npt.assert_array_equal(as_series(model.predict(6, (0.5,)).sel(quantile=0.5)),
                           np.repeat(values[:, -1:], 6, axis=1))


def test_too_few_changes_to_learn_from_fall_back_to_naive(make_series_panel, as_series, caplog):
    """Three annual blocks but only 2 series x 2 origins of one-year changes (< 10): naive, with a warning."""
    values = log_linear([4.0, 5.0], [0.1, 0.1], 3)
    with caplog.at_level(logging.WARNING, logger="lmforecast.models.change"):
        model = MultiYearChangeForecaster(uncertainty="none").fit(make_series_panel(values), TARGET)
    assert "fewer than 10 (series, origin) pairs with a known one-year change" in caplog.text
    npt.assert_array_equal(as_series(model.predict(2, (0.5,)).sel(quantile=0.5)),
                           np.repeat(values[:, -1:], 2, axis=1))


def test_monthly_growth_is_continued_at_the_annual_grain(make_series_panel):
    """Monthly series growing 6 % a year: the forecast's annual means keep growing at 6 %."""
    months = np.arange(96)
    values = np.outer(np.linspace(200, 800, 6), np.exp(0.06 * months / 12))
    model = MultiYearChangeForecaster(uncertainty="none").fit(make_series_panel(values, "MS", n_regions=2), TARGET)
    yearly = model.predict(36, (0.5,)).sel(quantile=0.5).coarsen(time=12).mean()
    npt.assert_allclose(np.log(yearly).diff("time").values, 0.06, atol=2e-3)
