"""Per-series exponential smoothing (damped trend) and Theta, wrapped from statsmodels.

Both are long-horizon workhorses of official projection systems and forecasting competitions
(damped trend: Gardner & McKenzie 1985; Theta: Assimakopoulos & Nikolopoulos 2000, the M3
winner). Nothing is re-implemented here: each series is fitted by
``statsmodels.tsa.exponential_smoothing.ets.ETSModel`` or
``statsmodels.tsa.forecasting.theta.ThetaModel``; this module only feeds them series and reads
their forecasts back. (statsforecast would be faster but requires pandas < 3; statsmodels runs
on pandas 3. Measured on this machine: 12-22 ms per series for a damped-trend fit, 13-15 ms for
Theta, so a 720-series panel takes ~10 s per fit on one core; ``n_jobs`` spreads batches of series
over joblib's active backend: loky processes by default, the cluster's workers inside
:class:`lmforecast.distributed.DaskBackend` (``n_jobs=None`` = one process unless such a backend
is active, scikit-learn's convention).)

Per series:

* the series from its first to its last observed value, internal gaps linearly interpolated
  (statsmodels needs complete data; the interpolation is logged at DEBUG level);
* ``transform="auto"`` (default): a target >= 0 is fitted on ``log1p`` values, so trends are
  growth rates and forecasts stay >= 0;
* seasonality (``seasonal="auto"``): monthly and quarterly series with at least two full years
  are fitted on seasonally adjusted values (an additive seasonal index on the transformed
  scale, from the last three years, added back to the forecast); annual series are not;
* a series whose last observations are missing (publication lags) is forecast from its last
  observation: the first steps cover the gap;
* a series with too few observations (``min_observations``), or whose fit raises or gives a
  non-finite forecast, gets the naive forecast, and a warning names it.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs

from lmforecast.models.base import FitContext, Forecaster, calibrating
from lmforecast.models.fallback import apply_fallback

__all__ = ["ETSForecaster", "ThetaForecaster"]

logger = logging.getLogger(__name__)


def _prepare(y: np.ndarray) -> tuple[np.ndarray, int]:
    """Observed span of ``y`` with internal gaps interpolated, and the trailing gap length."""
    observed = np.flatnonzero(np.isfinite(y))
    first, last = observed[0], observed[-1]
    span = y[first:last + 1].copy()
    gaps = ~np.isfinite(span)
    if gaps.any():
        positions = np.arange(span.size)
        span[gaps] = np.interp(positions[gaps], positions[~gaps], span[~gaps])
    return span, y.size - 1 - last


def _fit_forecast(kind: str, values: np.ndarray, steps: int, season: int, settings: dict) -> np.ndarray:
    """Fit one statsmodels model on ``values`` (transformed scale) and forecast ``steps``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter of the optimiser, per series
        if kind == "ets":
            from statsmodels.tsa.exponential_smoothing.ets import ETSModel

            trend = settings["trend"]
            damped = bool(settings["damped_trend"]) and trend is not None
            result = ETSModel(values, error="add", trend=trend, damped_trend=damped).fit(disp=False)
            return np.asarray(result.forecast(steps), dtype=float)
        from statsmodels.tsa.forecasting.theta import ThetaModel

        result = ThetaModel(values, period=1, deseasonalize=False).fit()
        return np.asarray(result.forecast(steps), dtype=float)


def _batch(kind: str, rows: list[tuple[int, np.ndarray]], horizon: int, season: int, settings: dict):
    """Forecast a batch of ``(position, series)``; returns ``[(position, forecast or None, reason)]``."""
    out = []
    for position, y in rows:
        try:
            span, lag = _prepare(y)
            z = np.log1p(np.maximum(span, 0.0)) if settings["log"] else span
            pattern = None
            if settings["seasonal"] and season > 1 and z.size >= 2 * season:
                n_blocks = min(3, z.size // season)             # additive index on the fitted scale
                block = z[z.size - n_blocks * season:].reshape(n_blocks, season)
                pattern = (block - block.mean(axis=1, keepdims=True)).mean(axis=0)
                position_of = (np.arange(z.size) - z.size) % season            # last value: season - 1
                z = z - pattern[position_of]
            forecast = _fit_forecast(kind, z, horizon + lag, season, settings)[lag:]
            if pattern is not None:
                forecast = forecast + pattern[(np.arange(lag, lag + horizon)) % season]
            value = np.expm1(forecast) if settings["log"] else forecast
            if not np.isfinite(value).all():
                out.append((position, None, "non-finite forecast"))
            else:
                out.append((position, value, ""))
        except Exception as exc:  # noqa: BLE001 - one series failing must not stop the panel
            out.append((position, None, f"{type(exc).__name__}: {exc}"))
    return out


class _PerSeriesStatsmodels(Forecaster):
    """Shared machinery: fit each series with statsmodels at ``fit`` and keep its forecasts.

    ``fit`` forecasts ``max_horizon`` steps (default five years at the panel frequency) and keeps
    that table; ``predict`` reads it (so it is cheap and has no side effects) and cannot go
    further.
    """

    _kind = "ets"

    def _settings(self) -> dict:  # pragma: no cover
        raise NotImplementedError

    def _min_train(self, season_length: int) -> int:
        return self._min_obs(season_length)

    def _min_obs(self, season_length: int) -> int:
        return int(self.min_observations) if self.min_observations is not None else 4

    def _fit_series(self, y: np.ndarray, context: FitContext) -> None:
        if self.transform not in ("auto", "log1p", None):
            raise ValueError(f"transform must be 'auto', 'log1p' or None, got {self.transform!r}")
        self.log_ = self.transform == "log1p" or (self.transform == "auto" and context.nonnegative)
        if self.transform == "log1p" and not context.nonnegative:
            raise ValueError(f"{type(self).__name__}: transform='log1p' needs a target >= 0; {context.target!r} "
                             f"has negative values (use transform=None)")
        from lmforecast.uncertainty import planning_horizon

        self.y_ = np.asarray(y, dtype=float)
        self.season_length_ = context.season_length
        self.max_horizon_ = planning_horizon(context.freq) if self.max_horizon is None else int(self.max_horizon)
        if self.max_horizon_ < 1:
            raise ValueError(f"max_horizon must be >= 1 period, got {self.max_horizon}")
        self.fallback_reasons_: dict[tuple, str] = {}
        self.fallback_series_: list[tuple] = []
        self.forecasts_ = self._forecast(self.y_, self.max_horizon_, context.series_index, owner=self)

    def _forecast(self, y: np.ndarray, horizon: int, series_index, owner=None) -> np.ndarray:
        """Forecasts ``(series, horizon)`` of every series of ``y``; failures get the naive forecast.

        Failures are logged with their series; with ``owner`` they are also recorded on it
        (``fallback_series_``, ``fallback_reasons_``).
        """
        from lmforecast.models.baselines import naive_point

        settings = dict(self._settings(), log=self.log_)
        counts = np.isfinite(y).sum(axis=1)
        todo = [(i, y[i]) for i in np.flatnonzero(counts >= self._min_obs(self.season_length_))]
        workers = effective_n_jobs(self.n_jobs)   # None: 1, or the active joblib backend's (Dask: its threads)
        chunks = max(1, min(len(todo), workers * 4))
        batches = [todo[k::chunks] for k in range(chunks)] if todo else []
        if workers == 1 or len(batches) <= 1:
            results = [r for b in batches for r in _batch(self._kind, b, horizon, self.season_length_, settings)]
        else:  # joblib's active backend: loky processes by default, a Dask cluster under DaskBackend
            runs = Parallel(n_jobs=self.n_jobs)(
                delayed(_batch)(self._kind, b, horizon, self.season_length_, settings) for b in batches)
            results = [r for run in runs for r in run]
        out = naive_point(y, horizon)
        failed = {i: f"only {int(counts[i])} observed values < min_observations" for i in
                  np.flatnonzero((counts > 0) & (counts < self._min_obs(self.season_length_)))}
        for position, value, reason in results:
            if value is None:
                failed[position] = reason
            else:
                out[position] = value
        if failed and owner is not None:
            apply_fallback(out, failed, out, series_index, type(self).__name__, owner)
        elif failed:
            logger.info("%s: %d series forecast naive at a calibration origin (first: %s)", type(self).__name__,
                        len(failed), tuple(map(str, series_index[min(failed)])))
        return out

    def _predict_point(self, horizon: int) -> np.ndarray:
        if horizon > self.max_horizon_:
            raise ValueError(f"{type(self).__name__} was fitted for {self.max_horizon_} steps (max_horizon); "
                             f"asked for {horizon}")
        return self.forecasts_[:, :horizon]

    def _origin_forecasts(self, panel, target, lengths, horizon):
        with calibrating():
            return np.stack([self._forecast(self.y_[:, : int(n)], horizon, self.series_index_)
                             for n in lengths], axis=1)


class ETSForecaster(_PerSeriesStatsmodels):
    """Exponential smoothing per series (statsmodels ``ETSModel``), additive damped trend by default.

    Parameters
    ----------
    trend : ``"add"`` (default) or ``None`` (simple exponential smoothing).
    damped_trend : damp the trend (the default: undamped trends over-shoot at five years).
    seasonal : ``"auto"`` fits seasonally adjusted values for monthly/quarterly series with two
        full years or more (see the module docstring); ``None`` never adjusts.
    transform : ``"auto"`` (default: ``"log1p"`` for a target >= 0, else none), ``"log1p"`` or ``None``.
    min_observations : fewest observed values to fit (default 4); shorter series are naive.
    max_horizon : steps forecast at ``fit`` (``None`` = five years at the panel frequency).
    n_jobs : joblib workers over batches of series: ``None`` (default) = in-process unless a
        joblib backend is active (``DaskBackend`` sends the batches to its cluster), 1 = always
        in-process, ``k``/-1 = that many / all workers of joblib's active backend (loky processes
        by default).
    uncertainty : the uncertainty layer (see :class:`~lmforecast.models.base.Forecaster`).

    Examples
    --------
    >>> ETSForecaster().get_params()["damped_trend"]
    True
    """

    _kind = "ets"

    def __init__(self, trend: str | None = "add", damped_trend: bool = True, seasonal: str | None = "auto",
                 transform: str | None = "auto", min_observations: int | None = None,
                 max_horizon: int | None = None, n_jobs: int | None = None, uncertainty=None):
        self.trend = trend
        self.damped_trend = damped_trend
        self.seasonal = seasonal
        self.transform = transform
        self.min_observations = min_observations
        self.max_horizon = max_horizon
        self.n_jobs = n_jobs
        self.uncertainty = uncertainty

    def _settings(self) -> dict:
        if self.trend not in ("add", None):
            raise ValueError(f"trend must be 'add' or None, got {self.trend!r}")
        if self.seasonal not in ("auto", None):
            raise ValueError(f"seasonal must be 'auto' or None, got {self.seasonal!r}")
        return {"trend": self.trend, "damped_trend": self.damped_trend, "seasonal": self.seasonal == "auto"}


class ThetaForecaster(_PerSeriesStatsmodels):
    """The Theta method per series (statsmodels ``ThetaModel``: SES with half the linear trend).

    Parameters
    ----------
    seasonal : ``"auto"`` (seasonally adjusted fits, as :class:`ETSForecaster`) or ``None``.
    transform, min_observations, max_horizon, n_jobs, uncertainty : as :class:`ETSForecaster`.
    """

    _kind = "theta"

    def __init__(self, seasonal: str | None = "auto", transform: str | None = "auto",
                 min_observations: int | None = None, max_horizon: int | None = None,
                 n_jobs: int | None = None, uncertainty=None):
        self.seasonal = seasonal
        self.transform = transform
        self.min_observations = min_observations
        self.max_horizon = max_horizon
        self.n_jobs = n_jobs
        self.uncertainty = uncertainty

    def _settings(self) -> dict:
        if self.seasonal not in ("auto", None):
            raise ValueError(f"seasonal must be 'auto' or None, got {self.seasonal!r}")
        return {"seasonal": self.seasonal == "auto"}
