"""The one uncertainty layer: rolling-origin residuals -> calibrated quantiles and joint sample paths.

Every forecaster gets its intervals and its sample paths from :class:`ResidualUncertainty`,
computed once, at ``fit`` time (``predict`` only reads it), in the manner of mlforecast's and
statsforecast's ``prediction_intervals``:

1. **Origins inside the training data** (:func:`calibration_origins`). The forecaster's point
   model is refitted on the first ``n`` periods for a few training lengths ``n`` (the origins,
   one year apart by default, the last one a year before the end) and forecasts ``horizon``
   steps (default: five years at the panel frequency, the planners' horizon,
   :func:`planning_horizon`). Windows may run past the end of the training data: their errors
   simply stop there, so short steps are calibrated on every origin and the five-year step on
   the origins at least five years back. Nothing after the training data is ever used.
2. **Scaled errors, pooled per horizon step.** ``error = actual - forecast`` is divided by the
   series' scale as seen at that origin (:func:`local_scale`: its recent volatility shrunk to
   its long-run one), so series of very different sizes, and calm and turbulent years, share a
   distribution; quantiles are rebuilt with the scale at the forecast origin, so intervals
   widen after a shock (locally adaptive conformal prediction);
   for every step the errors of similar series are pooled (scale tercile x occupation major
   group, then scale tercile, then all series, whichever first holds ``min_pool`` errors).
3. **Finite-sample conformal quantiles.** Lower and upper offsets are separate order statistics
   of the signed errors (rank ``ceil((n + 1) q)`` above the median, ``floor((n + 1) q)`` below),
   lower offsets <= 0 <= upper offsets, widths non-decreasing over the horizon. Errors of one
   origin are not independent (a shock hits many series at once), so each pool's offsets are
   widened by the Student-t correction for its effective number of independent draws
   (:meth:`ResidualUncertainty._small_sample_factor`).
4. **Honest widening where errors run out.** Steps beyond the last one with at least
   ``min_step_errors`` pooled errors (short histories, long horizons) reuse that step's pools,
   widened by ``(h / h0) ** alpha``, ``alpha`` fitted on the observed growth of the 80 % width
   with the horizon and kept in ``[0.5, 1]`` (0.5: random-walk growth; 1: trend-error growth).
   With no usable error at all, quantiles follow a Gaussian random walk on the series' scale
   (``sigma = 1.25 x scale`` per step), and a warning says so.
5. **Joint sample paths (a Gaussian copula on the residuals' normal scores).** Each error is
   turned into a normal score through its pool's empirical distribution. Dependence is kept
   at three levels:

   * across horizon steps within a series: ``corr(z_h, z_h') = lam (min/max) ** beta``
     (``lam = 1``: a time-changed Brownian motion, errors accumulating as for integrated
     series; ``lam < 1``: an independent part on top), ``(lam, beta)`` fitted by weighted least
     squares to the residuals' step-by-step correlation matrix;
   * across series: the correlation of the scores *at the same origin and step*, shrunk with
     the Ledoit-Wolf intensity (``sklearn.covariance.ledoit_wolf_shrinkage``) toward a constant
     correlation (which keeps the average correlation that aggregates depend on), sampled in
     low-rank form (no ``series x series`` matrix is ever built);
   * across measures: :func:`joint_sample_paths` stacks the scores of several fitted models
     (e.g. demand and supply) that share origins, so their paths are drawn together.

   A path's scores are mapped back through the same calibrated quantile function that
   :meth:`ResidualUncertainty.quantiles` uses, so the paths' marginal quantiles match
   ``predict`` and the quantiles of any aggregate (region total, skill, demand minus supply)
   come from the paths. Never subtract quantiles.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import ndtr, ndtri
from sklearn.base import BaseEstimator
from sklearn.covariance import ledoit_wolf_shrinkage

from lmforecast import panel as P
from lmforecast.errors import NotFittedError, PanelError

__all__ = ["ResidualUncertainty", "OriginForecasts", "calibration_origins", "planning_horizon",
           "series_scale", "joint_sample_paths", "PLANNING_YEARS"]

logger = logging.getLogger(__name__)

#: the planners' horizon in years (the report projects five years ahead)
PLANNING_YEARS = 5
#: levels of the quantile grid that sample paths are read through
_GRID = (np.arange(100) + 0.5) / 100
#: Gaussian random walk: sigma per step ~ 1.25 x mean absolute change
_RW_SIGMA = math.sqrt(math.pi / 2)


def planning_horizon(freq: str, years: int = PLANNING_YEARS) -> int:
    """Periods in ``years`` years at panel frequency ``freq``: 60 (``MS``), 20 (``QS``), 5 (``YS``).

    >>> planning_horizon("QS")
    20
    """
    return int(years) * P.season_length(freq)


def series_scale(y: np.ndarray, season_length: int) -> np.ndarray:
    """Scale of each series: mean absolute seasonal difference, never 0.

    Parameters
    ----------
    y : float array ``(series, time)`` in the target's units, NaN = missing.
    season_length : periods per season (12 monthly, 4 quarterly, 1 annual).

    Returns
    -------
    ndarray ``(series,)`` in the target's units: mean ``|y[t] - y[t - m]|`` over pairs that are
    both observed; where that is undefined or 0, the mean absolute first difference; then the
    mean absolute level; then 1.0.

    >>> series_scale(np.array([[1.0, 3.0, 2.0, np.nan]]), 1)
    array([1.5])
    """
    y = np.asarray(y, dtype=float)
    if y.ndim != 2:
        raise ValueError(f"y must be 2-D (series, time), got shape {y.shape}")
    scale = np.full(y.shape[0], np.nan)
    candidates = []
    m = int(season_length)
    if 1 < m < y.shape[1]:
        candidates.append(np.abs(y[:, m:] - y[:, :-m]))
    if y.shape[1] > 1:
        candidates.append(np.abs(np.diff(y, axis=1)))
    candidates.append(np.abs(y))
    for diffs in candidates:
        count = np.isfinite(diffs).sum(axis=1)
        total = np.nansum(diffs, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            value = np.where(count > 0, total / np.maximum(count, 1), np.nan)
        usable = ~(scale > 0) & np.isfinite(value) & (value > 0)
        scale[usable] = value[usable]
    scale[~(scale > 0)] = 1.0
    return scale


def local_scale(y: np.ndarray, season_length: int, lengths=None, years: int = 2) -> np.ndarray:
    """Scale of each series as seen at a forecast origin: recent volatility, shrunk to the long run.

    The geometric mean of :func:`series_scale` over the last ``years`` years before the origin
    and over the whole history before it. Errors scaled this way are comparable across calm and
    turbulent periods, and intervals widen after a shock (locally adaptive conformal
    prediction, Lei et al. 2018) without collapsing after a calm spell.

    Parameters
    ----------
    y : ``(series, time)`` training data, target units.
    season_length : periods per year.
    lengths : training lengths of the origins (``None``: the end of ``y`` only).
    years : length of the recent window, in years.

    Returns
    -------
    ``(series, len(lengths))`` (or ``(series,)`` when ``lengths`` is None), target units, > 0.
    """
    single = lengths is None
    lengths = [y.shape[1]] if single else [int(n) for n in lengths]
    recent = max(int(years) * max(int(season_length), 1), 8)
    out = np.empty((y.shape[0], len(lengths)))
    for w, n in enumerate(lengths):
        history = y[:, :n]
        out[:, w] = np.sqrt(series_scale(history[:, -recent:], season_length) * series_scale(history, season_length))
    return out[:, 0] if single else out


def calibration_origins(n_time: int, horizon: int, season_length: int, n_windows: int,
                        min_train: int = 2, step: int | None = None) -> np.ndarray:
    """Training lengths (periods) of the calibration origins, increasing.

    The last origin leaves ``min(season_length, horizon)`` periods of actuals after it (one
    year, or the horizon if shorter); the others go back ``step`` periods at a time (default:
    one year), so windows end in every recent year and, with enough history, several reach the
    full horizon. When fewer than two such origins leave ``min_train`` periods of training (a
    short history), up to ``n_windows`` origins are spread evenly over ``[min_train, n_time - 1]``.

    Parameters
    ----------
    n_time : periods of training data.
    horizon : steps forecast from each origin.
    season_length : periods per year.
    n_windows : number of origins wanted (>= 1).
    min_train : smallest training length a model can be fitted on.
    step : periods between origins (``None`` = ``season_length``).

    Returns
    -------
    int array of training lengths in ``[min_train, n_time - 1]`` (empty when ``n_time <=
    min_train``).

    >>> calibration_origins(132, 60, 12, 6, 24).tolist()
    [60, 72, 84, 96, 108, 120]
    >>> calibration_origins(6, 5, 1, 6, 2).tolist()
    [2, 3, 4, 5]
    >>> calibration_origins(24, 60, 12, 6, 3).tolist()
    [3, 7, 11, 15, 19, 23]
    """
    n_time, horizon, n_windows = int(n_time), int(horizon), int(n_windows)
    min_train = max(1, int(min_train))
    step = int(season_length) if step is None else int(step)
    if n_windows < 1 or horizon < 1 or step < 1:
        raise ValueError(f"n_windows, horizon and step must be >= 1, got {n_windows}, {horizon} and {step}")
    if n_time <= min_train:
        return np.array([], dtype=int)
    lead = max(1, min(int(season_length), horizon))
    origins = sorted(o for o in (n_time - lead - k * step for k in range(n_windows)) if o >= min_train)
    if len(origins) < min(2, n_windows):
        count = min(n_windows, n_time - min_train)
        origins = sorted(set(np.round(np.linspace(min_train, n_time - 1, count)).astype(int).tolist()))
    return np.asarray(origins, dtype=int)


@dataclass
class OriginForecasts:
    """Point forecasts made at calibration origins, beside what happened.

    Attributes
    ----------
    lengths : int array ``(window,)``: training periods at each origin.
    origin_times : ``pd.DatetimeIndex`` ``(window,)``: the last period seen at each origin.
    forecasts : ``(series, window, horizon)`` point forecasts, target units (NaN = none).
    actuals : ``(series, window, horizon)`` observed values at the forecast periods (NaN where
        missing or after the end of the training data).
    """

    lengths: np.ndarray
    origin_times: pd.DatetimeIndex
    forecasts: np.ndarray
    actuals: np.ndarray

    @classmethod
    def from_history(cls, y: np.ndarray, time_index: pd.DatetimeIndex, lengths: np.ndarray,
                     forecasts: np.ndarray) -> "OriginForecasts":
        """Attach the actuals of ``y (series, time)`` to ``forecasts (series, window, horizon)``."""
        n_series, n_time = y.shape
        horizon = forecasts.shape[2]
        actuals = np.full(forecasts.shape, np.nan)
        for w, length in enumerate(lengths):
            stop = min(int(length) + horizon, n_time)
            actuals[:, w, : stop - int(length)] = y[:, int(length):stop]
        times = pd.DatetimeIndex([time_index[int(n) - 1] for n in lengths])
        return cls(np.asarray(lengths, dtype=int), times, np.asarray(forecasts, dtype=float), actuals)

    @property
    def errors(self) -> np.ndarray:
        """``actual - forecast`` ``(series, window, horizon)``, target units."""
        return self.actuals - self.forecasts


class ResidualUncertainty(BaseEstimator):
    """Calibrated quantiles and joint sample paths from rolling-origin residuals.

    Parameters
    ----------
    n_windows : number of calibration origins (refits of the point model). More windows span
        more regimes and cost more fits. With yearly origins, 12 windows give eight that reach
        five years ahead when the history allows; fewer windows under-cover (on simulated
        correlated random walks, 6 windows covered 70 % at nominal 80 %, 12 windows 77 %,
        24 windows 80 %).
    step : periods between origins (``None`` = one year).
    horizon : steps calibrated; ``None`` = five years at the panel frequency
        (:func:`planning_horizon`). Longer forecasts are widened by the extrapolation rule.
    min_pool : minimum scaled errors in a pool before it is used on its own (smaller pools fall
        back to coarser groupings).
    min_step_errors : minimum errors at a horizon step (all series pooled) for that step to be
        calibrated from its own errors; later steps are extrapolated.
    group_by : ``"scale"`` pools by scale tercile (x occupation major group), ``None`` by group.

    Attributes
    ----------
    horizon_ : calibrated steps (set by ``fit``, as are the attributes below).
    scale_ : ``(series,)`` scales.
    origin_times_ : the calibration origins.
    pool_of_ : ``(series, horizon_)`` pool ids.
    pool_values_ : float16 sorted scaled errors of every pool, one after the other (pool ``p``
        at ``pool_starts_[p]``, ``pool_sizes_[p]`` long).
    calibrated_steps_ : last step with its own errors (0 = none).
    alpha_ : extrapolation exponent.
    lam_, beta_ : temporal dependence.
    scores_ : ``(samples, series)`` float16 normal scores for the cross-series copula.
    shrinkage_ : Ledoit-Wolf shrinkage.

    Examples
    --------
    >>> from lmforecast.datasets.example_country import example_panel
    >>> from lmforecast.models.baselines import SeasonalNaive
    >>> model = SeasonalNaive(uncertainty=ResidualUncertainty(n_windows=3)).fit(example_panel(), "vacancies")
    >>> forecast = model.predict(horizon=12, quantiles=(0.1, 0.5, 0.9))
    >>> bool((forecast.sel(quantile=0.1) <= forecast.sel(quantile=0.9)).all())
    True
    >>> model.sample_paths(horizon=12, n_paths=50, seed=0).sizes["path"]
    50
    """

    def __init__(self, n_windows: int = 12, step: int | None = None, horizon: int | None = None,
                 min_pool: int = 50, min_step_errors: int = 8, group_by: str | None = "scale"):
        self.n_windows = n_windows
        self.step = step
        self.horizon = horizon
        self.min_pool = min_pool
        self.min_step_errors = min_step_errors
        self.group_by = group_by

    # --- schedule -------------------------------------------------------------------------
    def horizon_for(self, freq: str) -> int:
        """Steps to calibrate for a panel of frequency ``freq`` (``horizon`` or five years)."""
        horizon = planning_horizon(freq) if self.horizon is None else int(self.horizon)
        if horizon < 1:
            raise ValueError(f"ResidualUncertainty: horizon must be >= 1 period, got {self.horizon}")
        return horizon

    def origins(self, n_time: int, freq: str, min_train: int = 2) -> np.ndarray:
        """Training lengths of the origins for ``n_time`` training periods (see :func:`calibration_origins`)."""
        if int(self.n_windows) < 1:
            raise ValueError(f"ResidualUncertainty: n_windows must be >= 1, got {self.n_windows}")
        return calibration_origins(n_time, self.horizon_for(freq), P.season_length(freq), int(self.n_windows),
                                   min_train, self.step)

    # --- fit --------------------------------------------------------------------------------
    def fit(self, origin_forecasts: OriginForecasts, scale: np.ndarray, groups: np.ndarray | None = None,
            series_index: pd.MultiIndex | None = None, origin_scale: np.ndarray | None = None):
        """Learn pooled error distributions and the copula; return ``self``.

        Parameters
        ----------
        origin_forecasts : forecasts and actuals at the calibration origins (target units).
        scale : ``(series,)`` positive scales in target units at the forecast origin (the end of
            the training data): quantiles are ``point + scale x offset``.
        groups : optional ``(series,)`` labels of similar series (occupation major group).
        series_index : optional ``(region, occupation)`` labels, for messages.
        origin_scale : optional ``(series, window)`` scales as seen at each calibration origin
            (:func:`local_scale`); each origin's errors are divided by them (default: ``scale``).
        """
        errors = np.asarray(origin_forecasts.errors, dtype=float)
        scale = np.asarray(scale, dtype=float)
        if errors.ndim != 3:
            raise ValueError(f"errors must be (series, window, horizon), got shape {errors.shape}")
        n_series, n_windows, horizon = errors.shape
        if scale.shape != (n_series,) or not np.all(np.isfinite(scale) & (scale > 0)):
            raise ValueError(f"scale must be {n_series} finite positive numbers")
        if self.group_by not in ("scale", None):
            raise ValueError(f"group_by must be 'scale' or None, got {self.group_by!r}")
        divisor = np.broadcast_to(scale[:, None], (n_series, n_windows)) if origin_scale is None else \
            np.asarray(origin_scale, dtype=float)
        if divisor.shape != (n_series, n_windows) or not np.all(np.isfinite(divisor) & (divisor > 0)):
            raise ValueError(f"origin_scale must be ({n_series}, {n_windows}) finite positive numbers")
        scaled = errors / divisor[:, :, None]
        per_step = np.isfinite(scaled).sum(axis=(0, 1))
        enough = per_step >= int(self.min_step_errors)
        # calibrated up to the last step with enough errors; steps inside without (a quarterly
        # series on a monthly panel has actuals every third step) borrow the nearest such step's pools
        calibrated = int(np.flatnonzero(enough)[-1]) + 1 if enough.any() else 0
        self.horizon_ = horizon
        self.scale_ = scale
        self.origin_times_ = origin_forecasts.origin_times
        self.n_errors_ = per_step
        self.calibrated_steps_ = calibrated
        if calibrated == 0:
            where = "" if series_index is None else f" ({n_series} series)"
            logger.warning("no horizon step has %d calibration errors%s: intervals follow a Gaussian random "
                           "walk on each series' scale (sigma = 1.25 x mean absolute change per step)",
                           int(self.min_step_errors), where)
            self.pool_labels_ = []
            self.pool_sizes_ = self.pool_starts_ = np.zeros(0, dtype=int)
            self.pool_values_ = np.zeros(0, dtype=np.float32)
            self.pool_windows_ = np.zeros(0, dtype=int)
            self.within_corr_ = 0.0
            self.pool_of_ = np.full((n_series, horizon), -1, dtype=np.int32)
            self.alpha_, self.lam_, self.beta_ = 0.5, 1.0, 0.5
            self.scores_ = np.zeros((0, n_series), dtype=np.float16)
            self.shrinkage_ = 1.0
            return self
        self._fit_pools(scaled[:, :, :calibrated], groups)
        ok_steps = np.flatnonzero(enough[:calibrated])
        for h in np.flatnonzero(~enough[:calibrated]):
            earlier = ok_steps[ok_steps < h]
            self.pool_of_[:, h] = self.pool_of_[:, earlier[-1] if earlier.size else ok_steps[0]]
        self.pool_of_ = np.concatenate([self.pool_of_, np.repeat(self.pool_of_[:, -1:], horizon - calibrated, 1)],
                                       axis=1)
        z = self._normal_scores(scaled[:, :, :calibrated])
        self.lam_, self.beta_ = _fit_temporal(z)
        # one score row per (origin, step) of the whole horizon, so that the rows of models
        # calibrated at the same origins line up (joint paths), whatever steps each one observed
        padded = np.concatenate([z, np.full((n_series, n_windows, horizon - calibrated), np.nan)], axis=2)
        # stored as float16: normal scores need no more than three digits
        self.scores_ = _copula_samples(padded, self.lam_, self.beta_).astype(np.float16)
        self.shrinkage_ = _shrinkage(self.scores_[np.abs(self.scores_).sum(axis=1) > 0])
        self.within_corr_ = _mean_correlation(self.scores_)
        self.alpha_ = self._fit_alpha()
        # stored as float16 once fitted (three significant digits of a scaled error: the
        # quantile offsets move by under 0.1 %); they dominate a fitted model's size
        self.pool_values_ = np.clip(self.pool_values_, -6.5e4, 6.5e4).astype(np.float16)
        return self

    def _fit_pools(self, scaled: np.ndarray, groups) -> None:
        n_series, _, horizon = scaled.shape
        partitions: list[tuple[str, np.ndarray]] = []
        tercile = np.zeros(n_series, dtype=int)
        if self.group_by == "scale" and n_series >= 3:
            log_scale = np.log(self.scale_)
            edges = np.quantile(log_scale, [1 / 3, 2 / 3])
            tercile = np.searchsorted(edges, log_scale, side="right")
        if groups is not None:
            groups = np.asarray(groups).astype(str)
            if groups.shape != (n_series,):
                raise ValueError(f"groups must have shape ({n_series},), got {groups.shape}")
            if self.group_by == "scale":
                partitions.append(("scale tercile x group", np.char.add(np.char.add(tercile.astype(str), "|"), groups)))
            else:
                partitions.append(("group", groups))
        if self.group_by == "scale":
            partitions.append(("scale tercile", tercile.astype(str)))
        partitions.append(("all series", np.full(n_series, "all")))
        pools, labels, windows = [], [], []
        pool_of = np.full((n_series, horizon), -1, dtype=int)
        for h in range(horizon):
            step_errors = scaled[:, :, h]
            for name, keys in partitions:
                unassigned = pool_of[:, h] < 0
                if not unassigned.any():
                    break
                last = name == "all series"
                for key in np.unique(keys[unassigned]):
                    members = unassigned & (keys == key)
                    block = step_errors[keys == key]
                    values = np.sort(block[np.isfinite(block)])
                    if values.size >= int(self.min_pool) or last:
                        pool_of[members, h] = len(pools)
                        pools.append(values)
                        windows.append(int(np.isfinite(block).any(axis=0).sum()))
                        labels.append(f"h={h + 1} {name} {key} (n={values.size})")
        # stored once, compactly: the errors dominate a fitted model's size
        self.pool_labels_, self.pool_of_ = labels, pool_of.astype(np.int32)
        self.pool_sizes_ = np.array([p.size for p in pools], dtype=int)
        self.pool_starts_ = np.concatenate([[0], np.cumsum(self.pool_sizes_)[:-1]]).astype(int)
        self.pool_values_ = (np.concatenate(pools) if pools else np.zeros(0)).astype(np.float32)
        self.pool_windows_ = np.array(windows, dtype=int)

    def _small_sample_factor(self, level: float) -> np.ndarray:
        """Per pool, Student-t over normal quantile ratio for the pool's effective sample size.

        Errors of one origin move together (a shock hits many series at once), so a pool of
        ``n`` errors from ``W`` origins, ``m = n / W`` series each, holds about
        ``n_eff = n / (1 + (m - 1) rho)`` independent draws (``rho``: the average correlation of
        the scores at one origin and step; the design effect of cluster sampling). The pool's
        offsets are widened by ``t_{n_eff - 1}(q) / z(q)``, the predictive correction of a
        spread estimated from ``n_eff`` draws (1.06 for ``n_eff = 12``; 1 for large pools).
        """
        from scipy.stats import t as student_t

        n = self.pool_sizes_.astype(float)
        per_window = n / np.maximum(self.pool_windows_, 1)
        n_eff = n / (1.0 + (per_window - 1.0) * max(float(self.within_corr_), 0.0))
        tail = max(level, 1 - level)
        with np.errstate(invalid="ignore", divide="ignore"):
            factor = student_t.ppf(tail, np.maximum(n_eff - 1.0, 1.0)) / ndtri(tail)
        return np.where(np.isfinite(factor), factor, 1.0)

    def _pool_offsets(self, level: float) -> np.ndarray:
        """Scaled conformal offset of quantile ``level`` per pool (0 for the median, NaN if empty)."""
        n = self.pool_sizes_
        if level == 0.5:
            return np.zeros(n.size)
        if level > 0.5:
            rank = np.minimum(np.ceil((n + 1) * level - 1e-9).astype(int), n)
        else:
            rank = np.maximum(np.floor((n + 1) * level + 1e-9).astype(int), 1)
        index = self.pool_starts_ + np.clip(rank - 1, 0, None)
        safe = np.minimum(index, max(self.pool_values_.size - 1, 0))
        value = self.pool_values_[safe] if self.pool_values_.size else np.zeros(n.size)
        value = np.maximum(value, 0.0) if level > 0.5 else np.minimum(value, 0.0)
        return np.where(n > 0, value * self._small_sample_factor(level), np.nan)

    def _fit_alpha(self) -> float:
        """Growth exponent of the 80 % width with the horizon, from the calibrated steps, in [0.5, 1]."""
        steps = self.calibrated_steps_
        if steps < 3:
            return 0.5
        width = np.array([np.nanmedian(self._pool_offsets(0.9)[self.pool_of_[:, h]]
                                       - self._pool_offsets(0.1)[self.pool_of_[:, h]]) for h in range(steps)])
        h = np.arange(1, steps + 1)
        ok = np.isfinite(width) & (width > 0) & (h >= max(1, steps // 3))
        if ok.sum() < 2:
            return 0.5
        slope = np.polyfit(np.log(h[ok]), np.log(width[ok]), 1)[0]
        return float(np.clip(slope, 0.5, 1.0))

    def _growth(self, horizon: int) -> np.ndarray:
        """Width multiplier per step (1 where calibrated, ``(h / h0) ** alpha`` beyond)."""
        h = np.arange(1, horizon + 1, dtype=float)
        h0 = max(self.calibrated_steps_, 1)
        return np.where(h > h0, (h / h0) ** self.alpha_, 1.0)

    def _normal_scores(self, scaled: np.ndarray) -> np.ndarray:
        """Normal scores ``(series, window, steps)`` of the errors within their pools (NaN kept)."""
        z = np.full(scaled.shape, np.nan)
        for h in range(scaled.shape[2]):
            for pool in np.unique(self.pool_of_[:, h]):
                members = self.pool_of_[:, h] == pool
                start = self.pool_starts_[pool]
                values = self.pool_values_[start:start + self.pool_sizes_[pool]]
                if values.size == 0:
                    continue
                block = scaled[members, :, h].astype(np.float32)
                ok = np.isfinite(block)
                rank = (np.searchsorted(values, block[ok], "left") + np.searchsorted(values, block[ok], "right")) / 2
                scores = np.full(block.shape, np.nan)
                scores[ok] = ndtri((rank + 0.5) / (values.size + 1))
                z[members, :, h] = scores
        return z

    # --- quantiles --------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "horizon_"):
            raise NotFittedError("ResidualUncertainty is not fitted; it is fitted by the forecaster's fit()")

    def offsets(self, levels: Sequence[float], horizon: int) -> np.ndarray:
        """Scaled offsets from the point forecast, ``(series, horizon, len(levels))``.

        Lower offsets are <= 0, upper >= 0, each side's width non-decreasing over the horizon;
        multiply by ``scale_`` to get target units.
        """
        self._check_fitted()
        horizon = int(horizon)
        n_series = len(self.scale_)
        out = np.empty((n_series, horizon, len(levels)))
        growth = self._growth(horizon)
        pool_of = self.pool_of_
        if horizon > pool_of.shape[1]:
            pool_of = np.concatenate([pool_of, np.repeat(pool_of[:, -1:], horizon - pool_of.shape[1], 1)], axis=1)
        pool_of = pool_of[:, :horizon]
        for j, level in enumerate(levels):
            level = float(level)
            if not 0.0 < level < 1.0:
                raise ValueError(f"quantile levels must lie strictly between 0 and 1, got {level}")
            if level == 0.5:
                out[:, :, j] = 0.0
                continue
            if self.calibrated_steps_ == 0:
                width = np.abs(ndtri(level)) * _RW_SIGMA * np.sqrt(np.arange(1, horizon + 1))
                width = np.broadcast_to(width, (n_series, horizon))
            else:
                width = np.abs(self._pool_offsets(level)[pool_of]) * growth[None, :]
                width = np.fmax.accumulate(np.nan_to_num(width, nan=0.0), axis=1)
            out[:, :, j] = width if level > 0.5 else -width
        return out

    def quantiles(self, point: np.ndarray, levels: Sequence[float]) -> np.ndarray:
        """Quantile forecasts ``(series, horizon, len(levels))`` around ``point`` ``(series, horizon)``.

        Target units; level 0.5 returns ``point``; NaN where ``point`` is NaN.
        """
        point = np.asarray(point, dtype=float)
        self._check_fitted()
        if point.shape[0] != len(self.scale_):
            raise ValueError(f"point has {point.shape[0]} series; calibrated for {len(self.scale_)}")
        return point[:, :, None] + self.scale_[:, None, None] * self.offsets(levels, point.shape[1])

    # --- sample paths -------------------------------------------------------------------------
    def _marginal(self, point: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Map normal scores ``z (series, horizon, path)`` to values through the quantile grid."""
        offsets = self.offsets(_GRID, point.shape[1])                        # (series, horizon, grid)
        position = np.clip(ndtr(z) * len(_GRID) - 0.5, 0, len(_GRID) - 1)
        low = np.floor(position).astype(int)
        high = np.minimum(low + 1, len(_GRID) - 1)
        frac = position - low
        value = (np.take_along_axis(offsets, low, axis=2) * (1 - frac)
                 + np.take_along_axis(offsets, high, axis=2) * frac)
        return point[:, :, None] + self.scale_[:, None, None] * value

    def sample(self, point: np.ndarray, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        """Joint sample paths ``(series, horizon, path)`` around ``point`` (target units)."""
        self._check_fitted()
        z = _draw_scores([self], point.shape[1], int(n_paths), rng)[0]
        return self._marginal(np.asarray(point, dtype=float), z)

    def describe(self) -> dict:
        """What the calibration rests on, for logs: origins, errors per step, extrapolation, dependence."""
        self._check_fitted()
        return {"origins": [f"{t:%Y-%m-%d}" for t in self.origin_times_], "horizon": int(self.horizon_),
                "calibrated_steps": int(self.calibrated_steps_), "errors_first_step": int(self.n_errors_[0]),
                "errors_last_step": int(self.n_errors_[-1]), "alpha": round(float(self.alpha_), 3),
                "lam": round(float(self.lam_), 3), "beta": round(float(self.beta_), 3),
                "shrinkage": round(float(self.shrinkage_), 3), "within_corr": round(float(self.within_corr_), 3),
                "n_pools": len(self.pool_sizes_)}


# --- dependence -----------------------------------------------------------------------------
def _fit_temporal(z: np.ndarray) -> tuple[float, float]:
    """``(lam, beta)`` of ``corr(z_h, z_h') = lam (min/max) ** beta`` by weighted least squares."""
    n_steps = z.shape[2]
    if n_steps < 2:
        return 1.0, 0.5
    flat = pd.DataFrame(z.reshape(-1, n_steps))
    corr = flat.corr(min_periods=20).to_numpy()
    counts = np.isfinite(flat.to_numpy()).astype(float)
    n_pairs = counts.T @ counts
    i, j = np.triu_indices(n_steps, 1)
    ok = np.isfinite(corr[i, j])
    if ok.sum() < 1:
        return 1.0, 0.5
    r, w = corr[i, j][ok], n_pairs[i, j][ok]
    ratio = ((i + 1) / (j + 1))[ok]
    best = (np.inf, 1.0, 0.5)
    for beta in np.geomspace(0.05, 3.0, 60):
        basis = ratio ** beta
        lam = float(np.clip((w * basis * r).sum() / max((w * basis * basis).sum(), 1e-12), 0.0, 1.0))
        loss = float((w * (r - lam * basis) ** 2).sum())
        if loss < best[0]:
            best = (loss, lam, float(beta))
    return best[1], best[2]


def _time_change(n_steps: int, beta: float) -> np.ndarray:
    """``tau_h = h ** (2 beta)`` for h = 0..n_steps (the Brownian part's clock)."""
    return np.arange(n_steps + 1, dtype=float) ** (2 * beta)


def _copula_samples(z: np.ndarray, lam: float, beta: float) -> np.ndarray:
    """Rows of (nearly) independent cross-series samples ``(samples, series)`` from scores ``z``.

    With a mostly accumulating error (``lam >= 0.5``) each window's scores are turned into the
    Brownian increments between consecutive observed steps (independent over steps under the
    model); otherwise the scores themselves are used. Missing scores are 0; there is one row per
    (origin, step), so the rows of models with the same origins and horizon are aligned.
    """
    n_series, n_windows, n_steps = z.shape
    if lam < 0.5:
        rows = np.nan_to_num(z, nan=0.0).transpose(1, 2, 0).reshape(-1, n_series)
    else:
        tau = _time_change(n_steps, beta)
        rows = np.zeros((n_windows, n_steps, n_series))
        for w in range(n_windows):
            level_prev = np.zeros(n_series)          # W(tau) at the previous observed step
            tau_prev = np.zeros(n_series)
            for h in range(n_steps):
                score = z[:, w, h]
                ok = np.isfinite(score)
                level = score * np.sqrt(tau[h + 1])
                dtau = tau[h + 1] - tau_prev
                rows[w, h, ok] = (level[ok] - level_prev[ok]) / np.sqrt(np.maximum(dtau[ok], 1e-12))
                level_prev[ok], tau_prev[ok] = level[ok], tau[h + 1]
        rows = rows.reshape(-1, n_series)
    return rows


def _mean_correlation(scores: np.ndarray) -> float:
    """Average off-diagonal correlation of the columns of ``scores`` ``(samples, series)``."""
    if scores.shape[0] < 2 or scores.shape[1] < 2:
        return 0.0
    x = scores.astype(float)
    power = np.sqrt(np.mean(x ** 2, axis=0))
    ok = power > 0
    if ok.sum() < 2:
        return 0.0
    unit = x[:, ok] / power[ok]
    m = unit.shape[1]
    total = float(np.mean(unit.sum(axis=1) ** 2))
    return float(np.clip((total - m) / (m * (m - 1)), -1.0, 1.0))


def _shrinkage(scores: np.ndarray) -> float:
    """Ledoit-Wolf shrinkage intensity of the cross-series score covariance (1 = independent)."""
    if scores.shape[0] < 2 or scores.shape[1] < 2:
        return 1.0
    return float(ledoit_wolf_shrinkage(scores.astype(float), assume_centered=True))


def _draw_scores(models: Sequence[ResidualUncertainty], horizon: int, n_paths: int,
                 rng: np.random.Generator) -> list[np.ndarray]:
    """Correlated normal scores ``(series, horizon, path)`` for each fitted component, jointly.

    Cross-series correlation: the sample correlation ``R`` of the components' score rows
    (aligned: same origins and steps, which :func:`joint_sample_paths` checks), shrunk with the
    Ledoit-Wolf intensity ``delta`` toward a block constant-correlation target ``F`` (one
    average correlation within each component and one between each pair, Ledoit & Wolf 2004),
    which keeps the average correlation that sums and differences depend on. Both parts are
    sampled in low-rank form: no ``series x series`` matrix is built.
    """
    scores = [m.scores_.astype(float) for m in models]
    sizes = [len(m.scale_) for m in models]
    n_total = sum(sizes)
    rows = scores[0].shape[0] if len({sc.shape[0] for sc in scores}) == 1 else 0
    stacked = np.concatenate(scores, axis=1) if rows else np.zeros((0, n_total))
    power = np.sqrt(np.mean(stacked ** 2, axis=0)) if rows else np.zeros(n_total)
    has_scores = power > 0
    unit = np.where(has_scores, stacked / np.where(has_scores, power, 1.0), 0.0)   # unit mean square
    informative = unit[np.abs(unit).sum(axis=1) > 0]          # rows of (origin, step) with data
    delta = 1.0 if informative.shape[0] < 2 else float(np.clip(_shrinkage(informative), 0.0, 1.0))
    # block constant-correlation target: average correlation within and between components
    bounds = np.cumsum([0] + sizes)
    n_blocks = len(sizes)
    block_sums = np.stack([unit[:, bounds[b]:bounds[b + 1]].sum(axis=1) for b in range(n_blocks)], axis=1)
    counts = np.array([has_scores[bounds[b]:bounds[b + 1]].sum() for b in range(n_blocks)], dtype=float)
    between = block_sums.T @ block_sums / max(rows, 1)                       # sums of R over block pairs
    with np.errstate(invalid="ignore", divide="ignore"):
        pairs = np.outer(counts, counts) - np.diag(counts)
        mean_corr = np.where(pairs > 0, (between - np.diag(counts)) / pairs, 0.0)
    mean_corr = np.clip(np.nan_to_num(mean_corr), -1.0, 1.0)
    values, vectors = np.linalg.eigh((mean_corr + mean_corr.T) / 2)
    factor = vectors * np.sqrt(np.clip(values, 0.0, None))                   # B = factor factor'
    member = np.repeat(np.arange(n_blocks), sizes)
    own = np.sqrt(np.clip(1.0 - np.diag(mean_corr)[member], 0.0, None))
    sd = np.sqrt(np.where(has_scores, 1.0, delta))

    def correlated(n_cols: int) -> np.ndarray:
        """(series, n_cols) standard normals, correlated across series like the scores."""
        target = (factor @ rng.standard_normal((n_blocks, n_cols)))[member] * has_scores[:, None]
        target = target + np.where(has_scores, own, 1.0)[:, None] * rng.standard_normal((n_total, n_cols))
        out = math.sqrt(delta) * target
        if rows and delta < 1:
            out += math.sqrt((1 - delta) / rows) * (unit.T @ rng.standard_normal((rows, n_cols)))
        return out / sd[:, None]

    increments = correlated(horizon * n_paths).reshape(n_total, horizon, n_paths)
    noise = correlated(horizon * n_paths).reshape(n_total, horizon, n_paths)
    out = []
    for b, model in enumerate(models):
        block = slice(bounds[b], bounds[b + 1])
        tau = _time_change(horizon, model.beta_)
        brownian = np.cumsum(increments[block] * np.sqrt(np.diff(tau))[None, :, None], axis=1)
        brownian = brownian / np.sqrt(tau[1:])[None, :, None]
        lam = float(model.lam_)
        out.append(math.sqrt(lam) * brownian + math.sqrt(1 - lam) * noise[block])
    return out


def joint_sample_paths(models: Mapping[str, object], horizon: int, n_paths: int = 200, seed: int = 0,
                       dtype=np.float32) -> xr.Dataset:
    """Sample paths of several fitted forecasters drawn jointly (e.g. demand and supply).

    The models must have been fitted on the same panel time index with the same uncertainty
    settings (so their calibration origins coincide); their residual scores at those origins
    give the dependence across series *and* across models.

    Parameters
    ----------
    models : ``{name: fitted Forecaster}``; the name becomes the Dataset variable.
    horizon : periods after the training data.
    n_paths : number of joint paths.
    seed : random seed (same seed, same paths).
    dtype : float dtype of the paths (float32 halves the size of stored paths).

    Returns
    -------
    Dataset with one variable per model, dims ``(time, region, occupation, path)``, in each
    target's units (non-negative targets clipped at 0).

    Raises
    ------
    PanelError if the models' calibration origins differ (their paths could not be joint).
    """
    if not models:
        raise ValueError("joint_sample_paths needs at least one fitted model")
    names = list(models)
    fitted = [models[n] for n in names]
    for name, model in zip(names, fitted):
        if not hasattr(model, "uncertainty_"):
            raise NotFittedError(f"model {name!r} is not fitted; call fit(panel, target) first")
    components = [m.uncertainty_ for m in fitted]
    first = components[0]
    for name, comp in zip(names[1:], components[1:]):
        if not comp.origin_times_.equals(first.origin_times_) or comp.scores_.shape[0] != first.scores_.shape[0]:
            raise PanelError(
                f"cannot draw joint paths: model {name!r} was calibrated at origins "
                f"{[f'{t:%Y-%m}' for t in comp.origin_times_]} ({comp.scores_.shape[0]} score rows), "
                f"model {names[0]!r} at {[f'{t:%Y-%m}' for t in first.origin_times_]} "
                f"({first.scores_.shape[0]} rows); fit them on the same panel with the same uncertainty settings")
    rng = np.random.default_rng(seed)
    scores = _draw_scores(components, int(horizon), int(n_paths), rng)
    out = {}
    for name, model, comp, z in zip(names, fitted, components, scores):
        point = model._predict_point_checked(int(horizon))
        paths = comp._marginal(point, z)
        out[name] = model._wrap_paths(paths, int(horizon), dtype=dtype)
    return xr.Dataset(out)
