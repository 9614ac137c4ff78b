"""Tests of lmforecast.models.shares: region totals, FixedShare, ShareForecaster (coherent shares)."""

from __future__ import annotations

import re

import numpy as np
import numpy.testing as npt
import pytest
import xarray as xr

from lmforecast.models.baselines import Drift
from lmforecast.models.shares import FixedShare, ShareForecaster, region_totals
from lmforecast.models.statsmodels import ETSForecaster

TARGET = "job_offers"


def growing_cells(n_time: int, freq: str = "YS", seed: int = 0) -> np.ndarray:
    """2 regions x 3 occupations (series, time): levels 100-500, growth -10 % to +10 % a year."""
    rng = np.random.default_rng(seed)
    season = {"YS": 1, "MS": 12}[freq]
    years = np.arange(n_time) / season
    pattern = 1 + 0.2 * np.sin(2 * np.pi * np.arange(n_time) / 12) if season > 1 else 1.0
    level = 100 * rng.uniform(1, 5, (6, 1)) * np.exp(rng.uniform(-0.1, 0.1, (6, 1)) * years)
    return level * pattern * np.exp(rng.normal(0, 0.02, (6, n_time)))


def test_region_totals_sum_the_observed_occupations(make_series_panel):
    """One occupation "total" per region; NaN only where no occupation of the region is observed."""
    values = growing_cells(4)
    values[0, 1] = np.nan
    values[:3, 2] = np.nan
    totals = region_totals(make_series_panel(values, n_regions=2), TARGET)
    assert totals[TARGET].dims == ("time", "region", "occupation")
    assert totals.indexes["occupation"].tolist() == ["total"] and totals.attrs["freq"] == "YS"
    expected = np.stack([np.nansum(values[:3], axis=0), values[3:].sum(axis=0)], axis=1)
    expected[2, 0] = np.nan
    npt.assert_allclose(totals[TARGET].isel(occupation=0).values, expected)


def test_fixed_share_is_the_latest_year_share_times_the_naive_region_total(make_series_panel, as_series):
    """Monthly: each cell = its region's last monthly total x its share of the region over the last 12 months."""
    values = growing_cells(36, "MS")
    forecast = as_series(FixedShare(uncertainty="none").fit(make_series_panel(values, "MS", n_regions=2), TARGET)
                         .predict(6, (0.5,)).sel(quantile=0.5))
    for region in (slice(0, 3), slice(3, 6)):
        cells = values[region]
        share = cells[:, -12:].mean(axis=1) / cells[:, -12:].mean(axis=1).sum()
        npt.assert_allclose(forecast[region], np.repeat((share * cells[:, -1].sum())[:, None], 6, axis=1),
                            rtol=1e-12)


def test_fixed_share_region_total_is_not_cut_by_a_missing_cell_in_the_last_month(make_series_panel, as_series):
    """A cell missing in the last month: the region total is the observed cells' sum over the share they hold."""
    values = growing_cells(36, "MS")
    values[2, -1] = np.nan                     # the smallest cell of region 1: the others hold 84 % of it
    forecast = as_series(FixedShare(uncertainty="none").fit(make_series_panel(values, "MS", n_regions=2), TARGET)
                         .predict(3, (0.5,)).sel(quantile=0.5))
    cells = values[:3]
    block = np.nanmean(cells[:, -12:], axis=1)
    share = block / block.sum()
    assert share[:2].sum() > 0.5
    total = cells[:2, -1].sum() / share[:2].sum()
    npt.assert_allclose(forecast[:3], np.repeat((share * total)[:, None], 3, axis=1), rtol=1e-12)
    assert total > cells[:2, -1].sum() * 1.1  # the old total (missing cell as zero) was 16 % low
    # a region with under half of its latest shares observed in the last month falls back to the month before
    values[0, -1] = np.nan
    forecast = as_series(FixedShare(uncertainty="none").fit(make_series_panel(values, "MS", n_regions=2), TARGET)
                         .predict(1, (0.5,)).sel(quantile=0.5))
    block = np.nanmean(values[:3, -12:], axis=1)
    npt.assert_allclose(forecast[:3, 0], block / block.sum() * values[:3, -2].sum(), rtol=1e-12)


def annual_share_path(cells: np.ndarray, trend_years: int, damping: float, horizon: int) -> np.ndarray:
    """Expected shares ``(occupation, horizon)`` of one region: the log share's OLS slope over the last
    ``trend_years`` years, damped geometrically from the latest share, renormalised every year."""
    shares = cells / cells.sum(axis=0)
    recent = np.log(shares[:, -trend_years:])
    slope = np.polyfit(np.arange(trend_years), recent.T, 1)[0]
    cumulative = np.cumsum(damping ** np.arange(1, horizon + 1))
    moved = shares[:, -1:] * np.exp(slope[:, None] * cumulative[None, :])
    return moved / moved.sum(axis=0)


def test_annual_cells_add_up_to_the_total_model_and_follow_damped_share_trends(make_series_panel, as_series):
    """Annual: every year the cells sum exactly to the total model's forecast of their region, split by
    the damped log-linear share trends."""
    values = growing_cells(12)
    panel = make_series_panel(values, n_regions=2)
    model = ShareForecaster(total_model=Drift(uncertainty="none"), trend_years=5, damping=0.8, uncertainty="none")
    cells = as_series(model.fit(panel, TARGET).predict(5, (0.5,)).sel(quantile=0.5))
    totals = as_series(Drift(uncertainty="none").fit(region_totals(panel, TARGET), TARGET)
                       .predict(5, (0.5,)).sel(quantile=0.5))
    npt.assert_allclose(np.stack([cells[:3].sum(axis=0), cells[3:].sum(axis=0)]), totals, rtol=1e-10)
    for r, region in enumerate((slice(0, 3), slice(3, 6))):
        npt.assert_allclose(cells[region], totals[r] * annual_share_path(values[region], 5, 0.8, 5), rtol=1e-9)


def test_without_share_trends_the_latest_shares_are_kept(make_series_panel, as_series):
    """``damping=0`` (or ``trend_years=None``): the latest annual shares, constant."""
    values = growing_cells(8)
    panel = make_series_panel(values, n_regions=2)
    for model in (ShareForecaster(total_model=Drift(uncertainty="none"), damping=0.0, uncertainty="none"),
                  ShareForecaster(total_model=Drift(uncertainty="none"), trend_years=None, uncertainty="none")):
        cells = as_series(model.fit(panel, TARGET).predict(3, (0.5,)).sel(quantile=0.5))
        latest = values[:3, -1] / values[:3, -1].sum()
        npt.assert_allclose(cells[:3] / cells[:3].sum(axis=0), np.repeat(latest[:, None], 3, axis=1), rtol=1e-10)


def test_monthly_cells_add_up_to_the_total_model_up_to_the_within_year_pattern(make_series_panel):
    """Monthly: the total model forecasts each region's annual level (it is fitted on the year-long
    block means of the totals) and the shares split it, so the cells' annual means add up to the
    total model's annual forecasts (within 3 %: the path is interpolated between year centres);
    each cell keeps its within-year pattern."""
    panel = make_series_panel(growing_cells(60, "MS"), "MS", n_regions=2)
    model = ShareForecaster(total_model=Drift(uncertainty="none"), uncertainty="none").fit(panel, TARGET)
    cells = model.predict(24, (0.5,)).sel(quantile=0.5, drop=True)
    yearly = cells.sum("occupation").coarsen(time=12).mean().transpose("time", "region").values
    annual_totals = model.total_model_._predict_point_checked(2)[model.total_rows_].T     # (year, region)
    npt.assert_allclose(yearly, annual_totals, rtol=0.03)
    peak = cells.isel(time=slice(0, 12)).argmax("time")           # the sine pattern peaks in spring
    assert set(np.unique(peak.values)) <= {2, 3, 4}


def test_default_total_model_is_damped_trend_ets(make_series_panel):
    """Without a total model the region totals are fitted by damped-trend ETS."""
    model = ShareForecaster(uncertainty="none").fit(make_series_panel(growing_cells(10), n_regions=2), TARGET)
    assert isinstance(model.total_model_, ETSForecaster) and model.total_model_.damped_trend
    assert model.total_model_.series_index_.get_level_values("occupation").tolist() == ["total", "total"]


def test_intervals_are_calibrated_on_the_cells(make_series_panel):
    """The default uncertainty layer gives ordered cell quantiles for five years."""
    panel = make_series_panel(growing_cells(12), n_regions=2)
    forecast = FixedShare().fit(panel, TARGET).predict(5, (0.1, 0.5, 0.9))
    assert (forecast.diff("quantile") > 0).all()
    assert isinstance(forecast, xr.DataArray) and forecast.sizes == {"time": 5, "region": 2, "occupation": 3,
                                                                     "quantile": 3}


def test_bad_parameters_are_named(make_series_panel):
    """Out-of-range damping and trend_years fail at fit, naming the value."""
    panel = make_series_panel(growing_cells(6), n_regions=2)
    with pytest.raises(ValueError, match=re.escape("damping must lie in [0, 1], got 2")):
        ShareForecaster(damping=2).fit(panel, TARGET)
    with pytest.raises(ValueError, match=re.escape("trend_years must be >= 0 (or None), got -1")):
        ShareForecaster(trend_years=-1).fit(panel, TARGET)
