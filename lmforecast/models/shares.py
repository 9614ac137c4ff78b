"""Share models: each region's total, split into occupation shares that move slowly.

Regional occupational projections are usually made top-down (a region's total, then the
occupation mix), because totals are smoother than cells and occupation mixes change slowly and
steadily (digital work rising, farm work falling). Two models do that here:

* :class:`ShareForecaster`: the region totals' annual levels are forecast by ``total_model``
  (default: damped trend exponential smoothing,
  :class:`~lmforecast.models.statsmodels.ETSForecaster`, fitted on the year-long block means of
  each region's total, so a few points per region however fine the panel); each
  occupation's share of its region moves along a **damped trend**: the slope of its log share
  over the last ``trend_years`` year-long blocks (ordinary least squares), damped by ``damping``
  per year (``share(t + k years) = share(t) * exp(slope * (phi + phi^2 + ... + phi^k))``), and
  the shares of a region are renormalised to sum to one, so the cells' annual levels add up to
  the region total's annual forecast (coherent; within a year the path is interpolated between
  year centres and carries each cell's own pattern, so monthly values add up only approximately). Within-year patterns come back from each cell's last three years.
* :class:`FixedShare`: the reference model of BLS-style share projections: each occupation
  keeps its share of its region over the latest year, and the region total follows the naive
  forecast. The long-horizon backtests report it next to naive.

Both work at the grain of a year (:mod:`lmforecast.models._annual`), whatever the panel
frequency: shares of annual means, blended back into a path at the panel's frequency.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import xarray as xr
from sklearn.base import clone

from lmforecast import panel as P
from lmforecast.models._annual import annual_blocks, paths_from_annual, seasonal_index
from lmforecast.models.base import FitContext, Forecaster

__all__ = ["ShareForecaster", "FixedShare", "region_totals", "region_totals_observed"]

TOTAL = "total"


def region_totals(panel: xr.Dataset, target: str) -> xr.Dataset:
    """Panel of each region's total of ``target`` over occupations (one occupation ``"total"``).

    A total is NaN where no occupation of the region is observed. Dims and attrs as the input
    panel (``time x region x occupation``).
    """
    values = panel[target]
    total = values.sum(P.OCCUPATION, min_count=1).expand_dims({P.OCCUPATION: [TOTAL]}, axis=-1)
    total = total.transpose(*P.DIMS)
    total.attrs = dict(values.attrs)
    out = xr.Dataset({target: total}, attrs=dict(panel.attrs))
    out = out.assign_coords({P.OCCUPATION_MAJOR: (P.OCCUPATION, [TOTAL])})
    for name in (P.REGION_NAME,):
        if name in panel.coords:
            out = out.assign_coords({name: panel[name]})
    return out


class ShareForecaster(Forecaster):
    """Region totals by ``total_model`` times occupation shares with damped trends (coherent).

    Parameters
    ----------
    total_model : forecaster of the region totals' annual block means (cloned; it sees an annual
        panel, one occupation ``"total"`` per region; default
        :class:`~lmforecast.models.statsmodels.ETSForecaster`, damped trend).
    trend_years : year-long blocks the share slopes are estimated on (0 or None: shares stay
        at their latest annual value).
    damping : yearly damping ``phi`` of the share trends, in [0, 1] (0: no trend, 1: the trend
        goes on undamped).
    seasonal : put back each cell's within-year pattern (monthly/quarterly panels).
    uncertainty : the uncertainty layer (see :class:`~lmforecast.models.base.Forecaster`).

    Attributes
    ----------
    total_model_ : the fitted total model; share_slope_ : ``(series,)`` yearly slope of the
    log share (after damping is applied at predict); region_of_ : region position of each series.
    """

    def __init__(self, total_model: Forecaster | None = None, trend_years: int | None = 5,
                 damping: float = 0.8, seasonal: bool = True, uncertainty=None):
        self.total_model = total_model
        self.trend_years = trend_years
        self.damping = damping
        self.seasonal = seasonal
        self.uncertainty = uncertainty

    def _default_total_model(self) -> Forecaster:
        from lmforecast.models.statsmodels import ETSForecaster

        return ETSForecaster()

    def _min_train(self, season_length: int) -> int:
        return max(2, season_length)

    def _fit_series(self, y: np.ndarray, context: FitContext) -> None:
        if not 0.0 <= float(self.damping) <= 1.0:
            raise ValueError(f"damping must lie in [0, 1], got {self.damping}")
        if self.trend_years is not None and int(self.trend_years) < 0:
            raise ValueError(f"trend_years must be >= 0 (or None), got {self.trend_years}")
        season = context.season_length
        self.season_length_ = season
        regions = context.series_index.get_level_values(P.REGION).astype(str)
        region_labels = list(dict.fromkeys(regions))
        self.region_of_ = np.asarray(pd.Index(region_labels).get_indexer(regions))
        self._fit_shares(y, season)
        totals = self._annual_totals(y, region_labels, context)
        model = self.total_model if self.total_model is not None else self._default_total_model()
        self.total_model_ = clone(model)._fit_point(totals, context.target)
        total_regions = self.total_model_.series_index_.get_level_values(P.REGION).astype(str)
        self.total_rows_ = np.asarray(pd.Index(total_regions).get_indexer(region_labels))

    def _annual_totals(self, y: np.ndarray, region_labels: list[str], context: FitContext) -> xr.Dataset:
        """Annual panel of each region's total (block means summed over occupations)."""
        blocks = annual_blocks(y, context.season_length)                    # (series, years)
        observed = np.isfinite(blocks)
        total = np.zeros((len(region_labels), blocks.shape[1]))
        count = np.zeros_like(total)
        np.add.at(total, self.region_of_, np.nan_to_num(blocks))
        np.add.at(count, self.region_of_, observed.astype(float))
        total = np.where(count > 0, total, np.nan)
        last_year = context.time_index[-1].year
        years = pd.date_range(end=pd.Timestamp(year=last_year, month=1, day=1), periods=blocks.shape[1], freq="YS")
        attrs = dict(context.panel[context.target].attrs) if context.panel is not None else {}
        return xr.Dataset({context.target: ((P.TIME, P.REGION, P.OCCUPATION), total.T[:, :, None], attrs)},
                          coords={P.TIME: years, P.REGION: region_labels, P.OCCUPATION: [TOTAL],
                                  P.OCCUPATION_MAJOR: (P.OCCUPATION, [TOTAL])},
                          attrs={"freq": "YS", "country": context.country})

    def _fit_shares(self, y: np.ndarray, season: int) -> None:
        blocks = annual_blocks(y, season)                                 # (series, years)
        self.last_block_ = blocks[:, -1] if blocks.shape[1] else np.full(y.shape[0], np.nan)
        region_sum = np.zeros((self.region_of_.max() + 1, blocks.shape[1]))
        np.add.at(region_sum, self.region_of_, np.nan_to_num(blocks))
        with np.errstate(invalid="ignore", divide="ignore"):
            shares = np.where(region_sum[self.region_of_] > 0, blocks / region_sum[self.region_of_], np.nan)
        self.last_share_ = _last_finite(shares)
        years = 0 if self.trend_years is None else int(self.trend_years)
        self.share_slope_ = _log_slope(shares[:, -years:], years) if years >= 2 else np.zeros(y.shape[0])
        self.pattern_ = seasonal_index(y, season) if (self.seasonal and season > 1) else None

    def _shares_ahead(self, n_years: int) -> np.ndarray:
        """Shares ``(series, n_years)`` of the next year-long blocks, renormalised per region."""
        phi = float(self.damping)
        k = np.arange(1, n_years + 1, dtype=float)
        cumulative = k if phi == 1.0 else phi * (1 - phi ** k) / (1 - phi) if phi > 0 else np.zeros_like(k)
        share = np.nan_to_num(self.last_share_)[:, None] * np.exp(self.share_slope_[:, None] * cumulative[None, :])
        total = np.zeros((self.region_of_.max() + 1, n_years))
        np.add.at(total, self.region_of_, share)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total[self.region_of_] > 0, share / total[self.region_of_], 0.0)

    def _predict_point(self, horizon: int) -> np.ndarray:
        season = self.season_length_
        n_years = int(np.ceil(horizon / season))
        total_blocks = self.total_model_._predict_point_checked(n_years)[self.total_rows_]   # (regions, years)
        blocks = total_blocks[self.region_of_] * self._shares_ahead(n_years)
        last = np.where(np.isfinite(self.last_block_), self.last_block_, 0.0)
        out = paths_from_annual(last, np.maximum(blocks, 0.0), season, horizon, self.pattern_)
        return np.where(np.isfinite(self.last_block_)[:, None], out, np.nan)


class FixedShare(ShareForecaster):
    """Reference model: latest shares of each region's total, region totals naive.

    Each occupation keeps its share of its region's total over the latest year (``season``
    periods); the region total is carried forward from its last observed value. Coherent by
    construction. The long-horizon backtests report it beside naive.

    A period where some of a region's cells are missing gives its total as the observed cells'
    sum divided by the share they hold (:func:`region_totals_observed`), not as if the missing
    cells were zero. (Before, on the default data, where 12 % of the vacancy cells are missing
    in any month, the carried-forward totals were 5 % low and so was every forecast.)

    Parameters
    ----------
    uncertainty : the uncertainty layer (see :class:`~lmforecast.models.base.Forecaster`).

    Examples
    --------
    >>> from lmforecast.datasets.example_country import example_panel
    >>> panel = example_panel()
    >>> forecast = FixedShare().fit(panel, "vacancies").predict(horizon=12)
    >>> forecast.sizes["time"], bool(forecast.notnull().all())
    (12, True)
    """

    def __init__(self, uncertainty=None):
        self.uncertainty = uncertainty

    # ShareForecaster reads these attributes; FixedShare fixes them
    total_model = None
    trend_years = None
    damping = 0.0
    seasonal = False

    def _fit_series(self, y: np.ndarray, context: FitContext) -> None:
        regions = context.series_index.get_level_values(P.REGION).astype(str)
        self.region_of_ = np.asarray(pd.Index(list(dict.fromkeys(regions))).get_indexer(regions))
        self.season_length_ = context.season_length
        self._fit_shares(y, context.season_length)
        from lmforecast.models.baselines import naive_point

        self.last_total_ = naive_point(region_totals_observed(y, self.region_of_, self.last_share_), 1)[:, 0]

    def _predict_point(self, horizon: int) -> np.ndarray:
        share = np.nan_to_num(self.last_share_)
        out = np.repeat((self.last_total_[self.region_of_] * share)[:, None], horizon, axis=1)
        return np.where(np.isfinite(self.last_block_)[:, None], out, np.nan)


def region_totals_observed(y: np.ndarray, region_of: np.ndarray, share: np.ndarray,
                           min_observed_share: float = 0.5) -> np.ndarray:
    """Each region's total, period by period, estimated from the cells observed in that period.

    A period where some of a region's cells are missing is not summed as if they were zero:
    the observed cells' sum is divided by the share of the region they hold (ratio estimator,
    with ``share`` the cells' shares of their region's total). A period whose observed cells
    hold less than ``min_observed_share`` of the region is NaN (too little to estimate from).

    Parameters
    ----------
    y : ``(series, time)`` in target units, NaN = missing.
    region_of : ``(series,)`` region index of each series (0..n_regions-1).
    share : ``(series,)`` each series' share of its region's total (NaN = unknown, read as 0).
    min_observed_share : smallest observed share of a region for a period to be estimated.

    Returns
    -------
    ``(n_regions, time)`` region totals in target units, NaN where not estimable.

    >>> y = np.array([[1.0, 2.0], [3.0, np.nan]])
    >>> region_totals_observed(y, np.array([0, 0]), np.array([0.25, 0.75])).tolist()
    [[4.0, nan]]
    >>> region_totals_observed(y, np.array([0, 0]), np.array([0.6, 0.4])).tolist()
    [[4.0, 3.3333333333333335]]
    """
    observed = np.isfinite(y)
    weight = np.nan_to_num(np.asarray(share, dtype=float))
    n_regions = int(region_of.max()) + 1
    total = np.zeros((n_regions, y.shape[1]))
    held = np.zeros_like(total)
    whole = np.zeros(n_regions)
    np.add.at(total, region_of, np.where(observed, y, 0.0))
    np.add.at(held, region_of, np.where(observed, weight[:, None], 0.0))
    np.add.at(whole, region_of, weight)
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = np.where(whole[:, None] > 0, held / whole[:, None], np.nan)
        scaled = np.where(fraction > 0, total / fraction, np.nan)
    # a region whose shares are all zero (every cell zero in its latest year) has total 0 where observed
    count = np.zeros_like(total)
    np.add.at(count, region_of, observed.astype(float))
    zero_region = (whole == 0)[:, None] & (count > 0)
    return np.where(zero_region, total, np.where(fraction >= min_observed_share, scaled, np.nan))


def _last_finite(values: np.ndarray) -> np.ndarray:
    """Last finite value along axis 1 (NaN when none)."""
    observed = np.isfinite(values)
    if values.shape[1] == 0:
        return np.full(values.shape[0], np.nan)
    position = values.shape[1] - 1 - np.argmax(observed[:, ::-1], axis=1)
    return np.where(observed.any(axis=1), values[np.arange(values.shape[0]), position], np.nan)


def _log_slope(shares: np.ndarray, years: int) -> np.ndarray:
    """Least-squares slope per row of ``log(shares)`` against the block number (0 if < 2 points)."""
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        log_share = np.where(shares > 0, np.log(shares), np.nan)
        x = np.arange(log_share.shape[1], dtype=float)[None, :]
        ok = np.isfinite(log_share)
        n = ok.sum(axis=1)
        xm = np.where(ok, x, np.nan)
        x_bar = np.nanmean(xm, axis=1, keepdims=True)
        y_bar = np.nanmean(log_share, axis=1, keepdims=True)
        cov = np.nansum((xm - x_bar) * (log_share - y_bar), axis=1)
        var = np.nansum((xm - x_bar) ** 2, axis=1)
        slope = np.where((n >= 2) & (var > 0), cov / var, 0.0)
    return np.nan_to_num(slope)
