"""Tests of lmforecast.models.statsmodels: per-series damped-trend ETS and Theta (statsmodels)."""

from __future__ import annotations

import logging
import re

import numpy as np
import numpy.testing as npt
import pytest

from lmforecast.models import statsmodels as sm
from lmforecast.models.statsmodels import ETSForecaster, ThetaForecaster

TARGET = "job_offers"


def exponential(n_years: int, growth=(0.05, 0.10), level=(300.0, 80.0)) -> np.ndarray:
    """Noise-free exponential growth (series, time)."""
    return np.asarray(level)[:, None] * np.exp(np.asarray(growth)[:, None] * np.arange(n_years))



def test_undamped_ets_continues_an_exponential_trend(make_series_panel, point_of):
    """Holt's linear trend on log1p values of an exponential: the growth goes on (within 1 %)."""
    panel = make_series_panel(exponential(15))
    forecast = point_of(ETSForecaster(damped_trend=False, uncertainty="none"), panel, 5)
    truth = exponential(20)[:, 15:]
    npt.assert_allclose(forecast, truth, rtol=0.01)


def test_damping_and_simple_smoothing_grow_less(make_series_panel, point_of):
    """Damped trend grows less than the undamped one; no trend (simple smoothing) stays flat."""
    panel = make_series_panel(exponential(15))
    undamped = point_of(ETSForecaster(damped_trend=False, uncertainty="none"), panel, 5)
    damped = point_of(ETSForecaster(uncertainty="none"), panel, 5)
    flat = point_of(ETSForecaster(trend=None, uncertainty="none"), panel, 5)
    last = exponential(15)[:, -1:]
    assert (damped[:, -1] < undamped[:, -1]).all() and (damped[:, -1] > last[:, 0]).all()
    npt.assert_allclose(flat, np.repeat(flat[:, :1], 5, axis=1), rtol=1e-9)
    npt.assert_allclose(flat[:, 0], last[:, 0], rtol=0.02)


def test_theta_follows_the_trend_and_keeps_forecasts_positive(make_series_panel, point_of):
    """Theta (SES with half the linear trend): rising forecasts for rising series, >= 0."""
    forecast = point_of(ThetaForecaster(uncertainty="none"), make_series_panel(exponential(15)), 5)
    assert (np.diff(forecast, axis=1) > 0).all() and (forecast > exponential(15)[:, -1:]).all()


def test_monthly_fits_are_seasonally_adjusted_and_the_pattern_put_back(make_series_panel, point_of):
    """A monthly series with a strong within-year pattern: the forecast keeps the pattern's peaks."""
    months = np.arange(48)
    values = 500 * (1 + 0.4 * np.sin(2 * np.pi * months / 12))[None, :] * np.ones((2, 1))
    forecast = point_of(ETSForecaster(uncertainty="none"), make_series_panel(values, "MS"), 12)
    npt.assert_allclose(forecast, values[:, :12], rtol=0.02)   # same months of the year, same values


def test_trailing_gaps_are_covered_by_the_first_steps(make_series_panel, point_of):
    """Last two values missing: the forecast is the one made at the last observation, two steps on."""
    values = exponential(12) * np.exp(np.random.default_rng(0).normal(0, 0.03, (2, 12)))
    gappy = values.copy()
    gappy[0, -2:] = np.nan
    full = point_of(ThetaForecaster(uncertainty="none"), make_series_panel(gappy), 3)
    cut = point_of(ThetaForecaster(uncertainty="none"), make_series_panel(values[:, :-2]), 5)
    npt.assert_allclose(full[0], cut[0, 2:], rtol=1e-12)


def test_internal_gaps_are_interpolated(make_series_panel, point_of):
    """An internal gap is filled by linear interpolation before the fit."""
    values = exponential(10) * np.exp(np.random.default_rng(1).normal(0, 0.03, (2, 10)))
    gappy = values.copy()
    gappy[1, 4] = np.nan
    filled = values.copy()
    filled[1, 4] = (values[1, 3] + values[1, 5]) / 2
    npt.assert_allclose(point_of(ThetaForecaster(uncertainty="none"), make_series_panel(gappy), 3),
                        point_of(ThetaForecaster(uncertainty="none"), make_series_panel(filled), 3),
                        rtol=1e-12)


def test_short_and_failing_series_get_naive_with_a_warning_naming_them(make_series_panel, as_series, caplog,
                                                                       monkeypatch):
    """Fewer than min_observations values, or a fit that raises: the naive forecast, logged with the series."""
    values = np.vstack([exponential(10), exponential(10)[:1] * 2])
    values[1, :7] = np.nan                                               # 3 observations
    real_fit = sm._fit_forecast

    def fails_on_the_third(kind, z, steps, season, settings):
        if np.isclose(z[0], np.log1p(600.0)):
            raise np.linalg.LinAlgError("singular matrix")
        return real_fit(kind, z, steps, season, settings)

    monkeypatch.setattr(sm, "_fit_forecast", fails_on_the_third)
    with caplog.at_level(logging.WARNING, logger="lmforecast.models.fallback"):
        model = ThetaForecaster(uncertainty="none").fit(make_series_panel(values), TARGET)
    assert model.fallback_reasons_ == {("MA-01", "12"): "only 3 observed values < min_observations",
                                       ("MA-01", "13"): "LinAlgError: singular matrix"}
    assert "ThetaForecaster failed for series (region='MA-01', occupation='12')" in caplog.text
    forecast = as_series(model.predict(2, (0.5,)).sel(quantile=0.5))
    npt.assert_array_equal(forecast[1:], np.repeat(values[1:, -1:], 2, axis=1))
    assert (forecast[0] > values[0, -1]).all()


def test_forecasts_are_made_at_fit_for_max_horizon_steps(make_series_panel):
    """predict reads the table made at fit: it cannot go beyond max_horizon, and intervals come from
    the calibration."""
    values = exponential(12) * np.exp(np.random.default_rng(2).normal(0, 0.05, (2, 12)))
    model = ThetaForecaster(max_horizon=3).fit(make_series_panel(values), TARGET)
    assert model.forecasts_.shape == (2, 3)
    forecast = model.predict(3, (0.1, 0.5, 0.9))
    assert (forecast.diff("quantile") >= 0).all()
    assert (forecast.sel(quantile=0.9) > forecast.sel(quantile=0.5)).all()
    message = "ThetaForecaster was fitted for 3 steps (max_horizon); asked for 4"
    with pytest.raises(ValueError, match=re.escape(message)):
        model.predict(4)


def test_bad_settings_are_named(make_series_panel):
    """Unknown options and a log transform of a signed target fail at fit."""
    panel = make_series_panel(exponential(8))
    with pytest.raises(ValueError, match="trend must be 'add' or None, got 'mul'"):
        ETSForecaster(trend="mul").fit(panel, TARGET)
    with pytest.raises(ValueError, match="transform must be 'auto', 'log1p' or None, got 'sqrt'"):
        ThetaForecaster(transform="sqrt").fit(panel, TARGET)
    signed = make_series_panel(exponential(8) - 200)
    with pytest.raises(ValueError, match="ETSForecaster: transform='log1p' needs a target >= 0"):
        ETSForecaster(transform="log1p").fit(signed, TARGET)


@pytest.mark.slow
def test_parallel_fits_give_the_same_forecasts(make_series_panel):
    """n_jobs=2 (loky processes over batches of series) gives the in-process forecasts."""
    values = exponential(12, growth=np.linspace(0.0, 0.1, 8), level=np.linspace(50, 500, 8))
    panel = make_series_panel(values, n_regions=2)
    one = ETSForecaster(uncertainty="none").fit(panel, TARGET).predict(5, (0.5,))
    two = ETSForecaster(n_jobs=2, uncertainty="none").fit(panel, TARGET).predict(5, (0.5,))
    npt.assert_array_equal(one.values, two.values)
