"""Benchmark forecasters: naive, seasonal naive, drift, historical mean.

All four are vectorised over series (NumPy) and tolerate missing values (they use the last
*observed* values, so leading, trailing and internal NaN are fine; an all-NaN series gives NaN).
Their intervals and sample paths come from the shared uncertainty layer
(:class:`lmforecast.uncertainty.ResidualUncertainty`), calibrated at ``fit`` on their own
rolling-origin errors inside the training data; the refits at the origins are vectorised
(these models refit instantly). ``update(panel)`` (see
:meth:`lmforecast.models.base.Forecaster.update`) is a refit of the point model on the new
history; the calibration stays as of the last ``fit``.
"""

from __future__ import annotations

import numpy as np

from lmforecast.models.base import FitContext, Forecaster

__all__ = ["Naive", "SeasonalNaive", "Drift", "HistoricalMean",
           "last_observed", "naive_point", "seasonal_naive_point", "drift_point", "mean_point"]


def last_observed(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position and value of the last observed (finite) value of each series.

    Parameters
    ----------
    y : float array ``(series, time)``, NaN = missing.

    Returns
    -------
    (position, value): int array ``(series,)`` (-1 when nothing is observed) and float array
    ``(series,)`` (NaN when nothing is observed), in the units of ``y``.
    """
    observed = np.isfinite(y)
    any_obs = observed.any(axis=1)
    position = np.where(any_obs, y.shape[1] - 1 - np.argmax(observed[:, ::-1], axis=1), -1)
    value = np.where(any_obs, y[np.arange(y.shape[0]), np.maximum(position, 0)], np.nan)
    return position, value


def naive_point(y: np.ndarray, horizon: int) -> np.ndarray:
    """Last observed value repeated: ``(series, time)`` -> ``(series, horizon)``, same units."""
    _, value = last_observed(y)
    return np.repeat(value[:, None], horizon, axis=1)


def seasonal_naive_point(y: np.ndarray, horizon: int, season_length: int) -> np.ndarray:
    """Value observed one season earlier (the last observed value in that season position).

    Parameters
    ----------
    y : float ``(series, time)``, NaN = missing.
    horizon : steps ahead.
    season_length : periods per season ``m``.

    Returns
    -------
    ``(series, horizon)`` in the units of ``y``. Series whose observed span (first observation
    to the end) is shorter than a season, and season positions never observed, get the naive
    forecast.
    """
    m = int(season_length)
    naive = naive_point(y, horizon)
    if m <= 1:
        return naive
    n_series, n_time = y.shape
    pad = (-n_time) % m
    cycles = np.concatenate([np.full((n_series, pad), np.nan), y], axis=1).reshape(n_series, -1, m)
    observed = np.isfinite(cycles)
    # forward-fill along the cycle axis: index of the last observed cycle per season position
    idx = np.where(observed, np.arange(cycles.shape[1])[None, :, None], -1)
    last_idx = np.maximum.accumulate(idx, axis=1)[:, -1, :]                     # (series, m)
    last_in_position = np.take_along_axis(cycles, np.maximum(last_idx, 0)[:, None, :], axis=1)[:, 0, :]
    last_in_position = np.where(last_idx >= 0, last_in_position, np.nan)
    # future step h (1-based) falls in padded position (h - 1) % m
    forecast = last_in_position[:, (np.arange(horizon)) % m]
    first_obs = np.where(np.isfinite(y).any(axis=1), np.argmax(np.isfinite(y), axis=1), n_time)
    too_short = (n_time - first_obs) < m
    forecast = np.where(too_short[:, None] | np.isnan(forecast), naive, forecast)
    return forecast


def drift_point(y: np.ndarray, horizon: int) -> np.ndarray:
    """Random walk with drift: last value + slope between first and last observations.

    Returns ``(series, horizon)`` in the units of ``y``; slope 0 when only one value is observed.
    """
    observed = np.isfinite(y)
    any_obs = observed.any(axis=1)
    first_pos = np.argmax(observed, axis=1)
    first_val = np.where(any_obs, y[np.arange(y.shape[0]), first_pos], np.nan)
    last_pos, last_val = last_observed(y)
    span = last_pos - first_pos
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where(span > 0, (last_val - first_val) / np.maximum(span, 1), 0.0)
    # steps from the last observation to each target period (trailing NaN lengthen them)
    lead = (y.shape[1] - 1 - last_pos)[:, None] + np.arange(1, horizon + 1)[None, :]
    return last_val[:, None] + slope[:, None] * lead


def mean_point(y: np.ndarray, horizon: int, window: int | None = None) -> np.ndarray:
    """Mean of the last ``window`` observed values (all of them when ``None``), repeated.

    Returns ``(series, horizon)`` in the units of ``y``; NaN for an all-NaN series.
    """
    observed = np.isfinite(y)
    if window is not None:
        if int(window) < 1:
            raise ValueError(f"window must be >= 1 observed values, got {window}")
        from_end = np.cumsum(observed[:, ::-1], axis=1)[:, ::-1]  # observations at or after t
        observed = observed & (from_end <= int(window))
    count = observed.sum(axis=1)
    total = np.where(observed, y, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return np.repeat(mean[:, None], horizon, axis=1)


class _Baseline(Forecaster):
    """Shared machinery: keep the training matrix, vectorised calibration refits.

    ``update(panel)`` refits the point model on the new history: a baseline's only
    "parameters" are the data, so update and refit give identical point forecasts.
    """

    supports_update = True

    def _point(self, y: np.ndarray, horizon: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _fit_series(self, y: np.ndarray, context: FitContext) -> None:
        self.y_ = np.asarray(y, dtype=float)
        self.season_length_ = context.season_length

    def _update_series(self, y: np.ndarray, context: FitContext) -> None:
        self._fit_series(y, context)

    def _origin_forecasts(self, panel, target, lengths, horizon):
        y = self.y_
        return np.stack([self._point(y[:, : int(n)], horizon) for n in lengths], axis=1)

    def _predict_point(self, horizon: int) -> np.ndarray:
        return self._point(self.y_, horizon)


class Naive(_Baseline):
    """Last observed value carried forward.

    Parameters
    ----------
    uncertainty : the uncertainty layer (:class:`~lmforecast.uncertainty.ResidualUncertainty`;
        ``None`` = the default one, ``"none"`` = point forecasts only).

    Examples
    --------
    >>> from lmforecast.datasets.example_country import example_panel
    >>> panel = example_panel()
    >>> forecast = Naive().fit(panel, "vacancies").predict(horizon=3)
    >>> bool((forecast.sel(quantile=0.5) == panel["vacancies"].isel(time=-1)).all())
    True
    """

    def __init__(self, uncertainty=None):
        self.uncertainty = uncertainty

    def _point(self, y, horizon):
        return naive_point(y, horizon)


class SeasonalNaive(_Baseline):
    """Value one season earlier (last observed value in the same season position).

    Parameters
    ----------
    season_length : periods per season; ``None`` = from the panel frequency (12 for ``MS``,
        4 for ``QS``, 1 for ``YS``). Series shorter than a season get the naive forecast.
    uncertainty : see :class:`Naive`.

    Examples
    --------
    >>> from lmforecast.datasets.example_country import example_panel
    >>> panel = example_panel()
    >>> forecast = SeasonalNaive().fit(panel, "vacancies").predict(horizon=12, quantiles=(0.5,))
    >>> bool((forecast.sel(quantile=0.5).values == panel["vacancies"].isel(time=slice(-12, None)).values).all())
    True
    """

    def __init__(self, season_length: int | None = None, uncertainty=None):
        self.season_length = season_length
        self.uncertainty = uncertainty

    def _fit_series(self, y, context):
        super()._fit_series(y, context)
        if self.season_length is not None and int(self.season_length) < 1:
            raise ValueError(f"season_length must be >= 1 period, got {self.season_length}")
        self.period_ = int(self.season_length) if self.season_length is not None else context.season_length

    def _point(self, y, horizon):
        return seasonal_naive_point(y, horizon, self.period_)


class Drift(_Baseline):
    """Random walk with drift (slope between the first and last observed values).

    Parameters
    ----------
    uncertainty : see :class:`Naive`.
    """

    def __init__(self, uncertainty=None):
        self.uncertainty = uncertainty

    def _point(self, y, horizon):
        return drift_point(y, horizon)


class HistoricalMean(_Baseline):
    """Mean of the last ``window`` observed values (all history when ``None``).

    Parameters
    ----------
    window : number of most recent *observed* values averaged; ``None`` = all.
    uncertainty : see :class:`Naive`.
    """

    def __init__(self, window: int | None = None, uncertainty=None):
        self.window = window
        self.uncertainty = uncertainty

    def _point(self, y, horizon):
        return mean_point(y, horizon, self.window)
