"""Tests of lmforecast.models.trend.TrendForecaster: log-linear trend of the annual level, damped."""

from __future__ import annotations

import re

import numpy as np
import numpy.testing as npt
import pytest

from lmforecast.errors import PanelError
from lmforecast.models.trend import TrendForecaster

TARGET = "job_offers"



def test_an_exact_exponential_trend_is_recovered(make_series_panel, point_of):
    """log1p levels on a straight line (growth 3 % and 8 % a year): the forecast continues the line exactly."""
    t = np.arange(12)
    log_level = np.array([[4.0], [6.0]]) + np.array([[0.03], [0.08]]) * t
    panel = make_series_panel(np.expm1(log_level))
    model = TrendForecaster(uncertainty="none")
    future = np.arange(12, 17)
    npt.assert_allclose(point_of(model, panel, 5),
                        np.expm1(np.array([[4.0], [6.0]]) + np.array([[0.03], [0.08]]) * future), rtol=1e-10)
    npt.assert_allclose(model.slope_, [0.03, 0.08])


def test_damping_shrinks_the_yearly_growth_geometrically(make_series_panel, point_of):
    """``level(t + k) = level(t) exp(slope (phi + ... + phi^k))`` in log1p; damping 0 keeps the last level."""
    t = np.arange(10)
    panel = make_series_panel(np.expm1(5.0 + 0.1 * t)[None, :])
    phi = 0.5
    cumulative = np.cumsum(phi ** np.arange(1, 4))
    npt.assert_allclose(point_of(TrendForecaster(damping=phi, uncertainty="none"), panel, 3),
                        np.expm1(5.9 + 0.1 * cumulative)[None, :], rtol=1e-10)
    npt.assert_allclose(point_of(TrendForecaster(damping=0.0, uncertainty="none"), panel, 3),
                        np.full((1, 3), np.expm1(5.9)), rtol=1e-10)


def test_years_restricts_the_slope_to_the_recent_blocks(make_series_panel):
    """Flat for eight years, then growing 10 % a year: ``years=4`` reads the recent growth only."""
    log_level = np.concatenate([np.full(8, 5.0), 5.0 + 0.1 * np.arange(1, 5)])
    panel = make_series_panel(np.expm1(log_level)[None, :])
    npt.assert_allclose(TrendForecaster(years=4, uncertainty="none").fit(panel, TARGET).slope_, [0.1])
    assert TrendForecaster(uncertainty="none").fit(panel, TARGET).slope_[0] < 0.05


def test_monthly_exponential_growth_with_a_seasonal_pattern(make_series_panel, point_of):
    """Monthly: the yearly growth of the annual means is continued and the within-year pattern put back
    (detrended within the year: before, 6 % growth made the index 2.7 % low in January, 2.8 % high in
    December)."""
    months = np.arange(72)
    pattern = 1 + 0.3 * np.sin(2 * np.pi * (months % 12) / 12)
    level = 1000 * np.exp(0.06 * months / 12)
    panel = make_series_panel((level * pattern)[None, :], freq="MS")
    forecast = point_of(TrendForecaster(uncertainty="none"), panel, 24)[0]
    future = np.arange(72, 96)
    truth = 1000 * np.exp(0.06 * future / 12) * (1 + 0.3 * np.sin(2 * np.pi * (future % 12) / 12))
    npt.assert_allclose(forecast, truth, rtol=5e-3)


def test_intervals_come_from_the_calibration_and_widen(make_series_panel):
    """Default uncertainty: ordered quantiles whose width grows over the five years."""
    rng = np.random.default_rng(0)
    values = 100 * np.exp(0.05 * np.arange(15) + rng.normal(0, 0.05, (6, 15)))
    forecast = TrendForecaster().fit(make_series_panel(values, n_regions=2), TARGET).predict(5, (0.1, 0.5, 0.9))
    assert (forecast.diff("quantile") > 0).all()
    width = (forecast.sel(quantile=0.9) - forecast.sel(quantile=0.1)).stack(series=("region", "occupation"))
    assert (width.isel(time=-1) > width.isel(time=0)).all()


def test_bad_inputs_are_named(make_series_panel):
    """Negative targets, less than two years of history and bad parameters fail with clear messages."""
    with pytest.raises(PanelError, match="TrendForecaster needs a target >= 0; 'job_offers' has negative values"):
        TrendForecaster().fit(make_series_panel([[1.0, -2.0, 3.0]]), TARGET)
    with pytest.raises(PanelError, match="TrendForecaster needs 2 year-long blocks of history, got 1"):
        TrendForecaster().fit(make_series_panel([np.arange(1.0, 19.0)], freq="MS"), TARGET)
    with pytest.raises(ValueError, match=re.escape("damping must lie in [0, 1], got 1.5")):
        TrendForecaster(damping=1.5).fit(make_series_panel([[1.0, 2.0, 3.0]]), TARGET)
    with pytest.raises(ValueError, match=re.escape("years must be >= 2 (or None), got 1")):
        TrendForecaster(years=1).fit(make_series_panel([[1.0, 2.0, 3.0]]), TARGET)
