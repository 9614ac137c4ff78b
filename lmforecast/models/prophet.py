"""Prophet per series, with Moroccan public holidays and a Ramadan regressor, fitted in parallel.

One ``prophet.Prophet`` model per ``(region, occupation)`` series, fitted in parallel with
joblib behind a tqdm progress bar (joblib's active backend: loky processes by default, the
cluster's workers inside :class:`lmforecast.distributed.DaskBackend`). Per series:

* target transform ``log1p`` (default; counts become multiplicative effects and forecasts stay
  >= 0 after ``expm1``) or none;
* **holidays**: public holidays from the ``holidays`` package
  (``holidays.country_holidays(country, years=...)``, no download), each moved to the start of
  the period that contains it (monthly/quarterly data have no daily rows). Only holidays whose
  period of the year moves between years are kept (Eid al-Fitr, Eid al-Adha, Islamic New Year,
  the Prophet's birthday): a fixed-date holiday always falls in the same month, so yearly
  seasonality already holds its effect and the indicator would be collinear with it;
* **Ramadan**: extra regressor ``ramadan_share`` = share of the period's days inside Ramadan,
  from :func:`lmforecast.features.calendar.calendar_features` (known in advance: no leak);
* annual data (``YS``): no yearly seasonality, holidays or Ramadan (every year holds each
  holiday once and about the same Ramadan share, so they cannot be told from the level).

**Quantiles come from the shared uncertainty layer by default** (``intervals="conformal"``:
:class:`lmforecast.uncertainty.ResidualUncertainty` on refits of Prophet at origins inside the
training data, computed at ``fit``). Prophet's own predictive
samples (``intervals="samples"``: trend-changepoint simulation + observation noise) are
available but under-cover badly on real vacancy data. Measured on the Australian IVI panel
(seasonally adjusted, 384 monthly series, horizon 12, nominal 80 %), cutoffs 2013-02 / 2017-02 /
2023-02:

==========================  =====================  ===================
intervals                   coverage               time (384 series)
==========================  =====================  ===================
``"samples"`` (500 draws)   0.48 / 0.58 / 0.70     46-123 s
``"conformal"`` (4 windows) 0.96 / 0.85 / 0.81     199-410 s
SeasonalNaive (conformal)   0.94 / 0.91 / 0.83     < 1 s
==========================  =====================  ===================

(2 cores shared with other jobs, so times are rough; measured with an earlier calibration
schedule.) Calibration costs ``uncertainty.n_windows`` extra fits per series, paid at ``fit``.
The 0.5 quantile is Prophet's point forecast ``yhat`` (back-transformed); sample paths always
come from the uncertainty layer.

Series with fewer than ``min_observations`` observed values, and series whose fit or forecast
raises or is non-finite, get the ``fallback`` model's forecasts through
:func:`lmforecast.models.fallback.apply_fallback` (logged warning naming the series).
Randomness: only Prophet's sampling, seeded per series from ``random_state``.
"""

from __future__ import annotations

import logging
import re
import warnings

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone
from tqdm.auto import tqdm

from lmforecast.models.base import FitContext, Forecaster
from lmforecast.models.fallback import apply_fallback, nonfinite_series, replace_failed

__all__ = ["ProphetForecaster", "holidays_frame"]

_QUIET_LOGGERS = ("cmdstanpy", "prophet", "prophet.plot", "prophet.models")
_PERIOD = {"MS": "M", "M": "M", "QS": "Q", "QS-JAN": "Q", "Q": "Q", "YS": "Y", "YS-JAN": "Y", "Y": "Y", "A": "Y"}
_HOLIDAY_YEARS_AHEAD = 30


def _silence() -> None:
    """Silence cmdstanpy/prophet INFO chatter (called in the parent and in every worker).

    ``prophet.plot`` logs an ERROR when plotly is missing (irrelevant here) and cmdstanpy
    configures its logger lazily, so it is configured first and then quietened.
    """
    logging.getLogger("prophet.plot").setLevel(logging.CRITICAL)
    import prophet  # noqa: F401
    from cmdstanpy.utils import get_logger

    get_logger()  # cmdstanpy configures its logger (level DEBUG + INFO handler) on first call

    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("prophet.plot").setLevel(logging.CRITICAL)


def holidays_frame(first_year: int, last_year: int, freq: str, country: str = "MA") -> pd.DataFrame:
    """Prophet holidays frame of moving public holidays, one row per holiday and period.

    Parameters
    ----------
    first_year, last_year : calendar years covered (inclusive).
    freq : panel frequency (``"MS"``, ``"QS"``, ``"YS"``); each holiday date is moved to the
        start of its period.
    country : ISO 3166 code known to the ``holidays`` package.

    Returns
    -------
    DataFrame with columns ``holiday`` (name without "(estimated)"), ``ds`` (period start),
    ``lower_window`` = ``upper_window`` = 0; only holidays whose period of the year is not the
    same in every year (fixed-date holidays are left to yearly seasonality). Empty for ``YS``.
    """
    import holidays as holidays_lib

    period = _PERIOD.get(freq)
    if period is None:
        raise ValueError(f"unsupported freq {freq!r}; use 'MS', 'QS' or 'YS'")
    calendar = holidays_lib.country_holidays(country, years=range(int(first_year), int(last_year) + 1))
    rows = []
    for day, names in sorted(calendar.items()):
        for name in str(names).split("; "):
            clean = re.sub(r"\s*\((estimated|observed)[^)]*\)", "", name).strip()
            rows.append((clean, pd.Timestamp(day)))
    frame = pd.DataFrame(rows, columns=["holiday", "date"])
    frame["ds"] = frame["date"].dt.to_period(period).dt.start_time
    frame["slot"] = frame["ds"].dt.month if period != "Y" else 1
    moving = frame.groupby("holiday")["slot"].nunique()
    frame = frame[frame["holiday"].isin(moving[moving > 1].index)]
    out = frame[["holiday", "ds"]].drop_duplicates().sort_values(["holiday", "ds"]).reset_index(drop=True)
    out["lower_window"] = 0
    out["upper_window"] = 0
    return out


def _fit_one(position: int, ds: pd.DatetimeIndex, y: np.ndarray, regressors: pd.DataFrame | None,
             settings: dict):
    """Fit one Prophet model (runs in a worker); return (position, model or None, reason)."""
    _silence()
    from prophet import Prophet

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = Prophet(
                yearly_seasonality=settings["yearly_seasonality"], weekly_seasonality=False,
                daily_seasonality=False, seasonality_mode=settings["seasonality_mode"],
                changepoint_prior_scale=settings["changepoint_prior_scale"],
                holidays=settings["holidays"], uncertainty_samples=settings["uncertainty_samples"])
            frame = pd.DataFrame({"ds": ds, "y": y})
            if regressors is not None:
                for name in regressors.columns:
                    model.add_regressor(name)
                    frame[name] = regressors[name].to_numpy()
            model.fit(frame, algorithm="LBFGS")
        return position, model, None
    except Exception as exc:  # noqa: BLE001 - one bad series must not stop the others
        return position, None, f"Prophet fit raised {type(exc).__name__}: {exc}"


def _predict_one(position: int, model, future: pd.DataFrame, levels: tuple[float, ...], seed: int):
    """Point forecast and predictive-sample quantiles of one model in the transformed scale.

    Returns (position, array (horizon, len(levels)) or None, reason).
    """
    _silence()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            samples_wanted = any(level != 0.5 for level in levels)
            n_samples = model.uncertainty_samples
            model.uncertainty_samples = 0
            point = model.predict(future)["yhat"].to_numpy()
            model.uncertainty_samples = n_samples
            out = np.empty((len(future), len(levels)))
            if samples_wanted:
                if not n_samples:
                    raise ValueError("uncertainty_samples=0 gives no predictive samples for quantiles")
                state = np.random.get_state()
                np.random.seed(seed)
                try:
                    draws = model.predictive_samples(future)["yhat"]   # (horizon, samples)
                finally:
                    np.random.set_state(state)
            for j, level in enumerate(levels):
                out[:, j] = point if level == 0.5 else np.quantile(draws, level, axis=1)
        return position, out, None
    except Exception as exc:  # noqa: BLE001
        return position, None, f"Prophet predict raised {type(exc).__name__}: {exc}"


class ProphetForecaster(Forecaster):
    """One Prophet model per series (holidays + Ramadan regressor), fitted in parallel.

    Parameters
    ----------
    yearly_seasonality : Prophet's ``yearly_seasonality`` (``"auto"``, bool or Fourier order);
        forced off for annual data.
    seasonality_mode : ``"additive"`` or ``"multiplicative"`` (on the transformed scale).
    changepoint_prior_scale : trend flexibility (Prophet's default 0.05).
    holidays : add the country's moving public holidays (:func:`holidays_frame`).
    ramadan : add ``ramadan_share`` as an extra regressor (monthly and quarterly data).
    intervals : ``"conformal"`` (default; the uncertainty layer) or ``"samples"`` (Prophet's own
        predictive samples for ``predict``'s quantiles).
    uncertainty_samples : predictive draws per series for ``intervals="samples"``.
    transform : ``"log1p"`` (needs values >= 0) or ``None``.
    min_observations : fewest observed values to fit Prophet; ``None`` = ``2 x season + 2``
        (26 monthly, 10 quarterly, 4 annual). Shorter series use ``fallback``.
    fallback : forecaster for short or failed series; ``None`` = ``SeasonalNaive()``.
    country : ISO code for the holidays and the Ramadan calendar.
    n_jobs : joblib workers (``-1`` = all cores, or all of a Dask backend's workers; 1 = in-process).
    progress : show a tqdm bar over series (hidden when not a TTY).
    random_state : seed of the predictive sampling (series ``i`` uses ``random_state + i``).
    uncertainty : the uncertainty layer (see :class:`~lmforecast.models.base.Forecaster`); each
        calibration origin refits every series.

    Attributes
    ----------
    models_ : list of fitted ``Prophet`` objects (``None`` for fallback or empty series).
    failed_series_ : ``{position: reason}`` of series that use the fallback.
    fallback_series_, fallback_reasons_ : as in :class:`~lmforecast.models.fallback.WithFallback`.
    fallback_ : the fitted fallback model (point forecasts).
    """

    def __init__(self, yearly_seasonality="auto", seasonality_mode: str = "additive",
                 changepoint_prior_scale: float = 0.05, holidays: bool = True, ramadan: bool = True,
                 intervals: str = "conformal", uncertainty_samples: int = 500,
                 transform: str | None = "log1p", min_observations: int | None = None,
                 fallback: Forecaster | None = None, country: str = "MA", n_jobs: int = -1,
                 progress: bool = True, random_state: int = 0, uncertainty=None):
        self.yearly_seasonality = yearly_seasonality
        self.seasonality_mode = seasonality_mode
        self.changepoint_prior_scale = changepoint_prior_scale
        self.holidays = holidays
        self.ramadan = ramadan
        self.intervals = intervals
        self.uncertainty_samples = uncertainty_samples
        self.transform = transform
        self.min_observations = min_observations
        self.fallback = fallback
        self.country = country
        self.n_jobs = n_jobs
        self.progress = progress
        self.random_state = random_state
        self.uncertainty = uncertainty

    # --- helpers ------------------------------------------------------------------------------
    def _forward(self, y: np.ndarray) -> np.ndarray:
        return np.log1p(y) if self.transform == "log1p" else y

    def _inverse(self, z: np.ndarray) -> np.ndarray:
        return np.expm1(z) if self.transform == "log1p" else z

    def _regressors(self, index: pd.DatetimeIndex) -> pd.DataFrame | None:
        if not self.use_ramadan_:
            return None
        from lmforecast.features.calendar import calendar_features

        feats = calendar_features(index, self.freq_, country=self.country, ramadan=True)
        return feats[["ramadan_share"]].reset_index(drop=True)

    def _parallel(self, tasks, total: int, desc: str):
        _silence()
        # joblib's active backend: loky processes by default, a Dask cluster under DaskBackend
        runner = Parallel(n_jobs=self.n_jobs, return_as="generator")
        disable = None if self.progress else True
        return list(tqdm(runner(tasks), total=total, desc=desc, disable=disable, leave=False))

    def _fit_models(self, y: np.ndarray, time_index: pd.DatetimeIndex, desc: str):
        """Fit one Prophet per series of ``y`` (series, time); return (models, failed)."""
        regressors = self._regressors(time_index)
        failed: dict[int, str] = {}
        tasks = []
        for i in range(y.shape[0]):
            observed = np.isfinite(y[i])
            n_obs = int(observed.sum())
            if n_obs == 0:
                continue  # nothing to fit: NaN forecast, not a failure
            if n_obs < self.min_observations_:
                failed[i] = f"only {n_obs} observed values < min_observations={self.min_observations_}"
                continue
            series_regs = None if regressors is None else regressors[observed].reset_index(drop=True)
            tasks.append(delayed(_fit_one)(i, time_index[observed], self._forward(y[i, observed]),
                                           series_regs, self.settings_))
        models: list = [None] * y.shape[0]
        for position, model, reason in self._parallel(tasks, len(tasks), desc):
            if model is None:
                failed[position] = reason
            models[position] = model
        return models, failed

    def _forecast(self, models, last_time: pd.Timestamp, horizon: int, levels, desc: str):
        """Forecast ``horizon`` periods after ``last_time``; return (values (series, h, q), failed)."""
        future_index = pd.date_range(last_time, periods=horizon + 1, freq=self.freq_)[1:]
        future = pd.DataFrame({"ds": future_index})
        regressors = self._regressors(future_index)
        if regressors is not None:
            future = pd.concat([future, regressors], axis=1)
        values = np.full((len(models), horizon, len(levels)), np.nan)
        tasks = [delayed(_predict_one)(i, model, future, tuple(levels), int(self.random_state) + i)
                 for i, model in enumerate(models) if model is not None]
        failed: dict[int, str] = {}
        for position, out, reason in self._parallel(tasks, len(tasks), desc):
            if out is None:
                failed[position] = reason
            else:
                values[position] = self._inverse(out)
        return values, failed

    # --- the 2-D core -------------------------------------------------------------------------
    def _fit_series(self, y: np.ndarray, context: FitContext) -> None:
        if self.transform not in ("log1p", None):
            raise ValueError(f"transform must be 'log1p' or None, got {self.transform!r}")
        if self.intervals not in ("conformal", "samples"):
            raise ValueError(f"intervals must be 'conformal' or 'samples', got {self.intervals!r}")
        if self.transform == "log1p":
            negative = np.argwhere(y < 0)
            if negative.size:
                s, t = negative[0]
                region, occupation = context.series_index[s]
                raise ValueError(
                    f"{context.target} is {float(y[s, t])!r} < 0 for series (region={region!r}, "
                    f"occupation={occupation!r}) at {context.time_index[t].date()}; "
                    f"transform='log1p' needs values >= 0 (use transform=None)")
        annual = context.season_length == 1
        self.use_ramadan_ = bool(self.ramadan) and not annual
        self.y_ = y
        first_year = context.time_index[0].year
        last_year = context.time_index[-1].year + _HOLIDAY_YEARS_AHEAD
        holiday_df = (holidays_frame(first_year, last_year, context.freq, self.country)
                      if self.holidays and not annual else None)
        if holiday_df is not None and holiday_df.empty:
            holiday_df = None
        self.settings_ = {
            "yearly_seasonality": False if annual else self.yearly_seasonality,
            "seasonality_mode": self.seasonality_mode,
            "changepoint_prior_scale": self.changepoint_prior_scale,
            "holidays": holiday_df,
            "uncertainty_samples": int(self.uncertainty_samples) if self.intervals == "samples" else 0,
        }
        self.min_observations_ = (int(self.min_observations) if self.min_observations is not None
                                  else 2 * context.season_length + 2)
        self.models_, self.failed_series_ = self._fit_models(y, context.time_index, "Prophet fit")
        self.fallback_series_: list[tuple] = []
        self.fallback_reasons_: dict[tuple, str] = {}
        from lmforecast.models.baselines import SeasonalNaive

        fallback = self.fallback if self.fallback is not None else SeasonalNaive()
        self.fallback_ = clone(fallback)._fit_point(context.panel, context.target)
        if self.failed_series_:
            apply_fallback(np.zeros((y.shape[0], 1)), self.failed_series_, np.zeros((y.shape[0], 1)),
                           context.series_index, "Prophet", self)

    def _min_train(self, season_length: int) -> int:
        return 2 * season_length + 2

    def _forecast_checked(self, horizon: int, levels):
        last_holiday_year = self.time_index_[-1].year + _HOLIDAY_YEARS_AHEAD
        future_end = self.context_.future_index(horizon)[-1]
        if self.settings_["holidays"] is not None and future_end.year > last_holiday_year:
            raise ValueError(f"horizon {horizon} reaches {future_end.year}; holidays are prepared "
                             f"up to {last_holiday_year}")
        values, failed_now = self._forecast(self.models_, self.time_index_[-1], horizon, levels, "Prophet predict")
        failed = {**self.failed_series_, **failed_now}
        for position in nonfinite_series(values, self.y_):
            failed.setdefault(int(position), "non-finite Prophet forecast")
        return values, failed

    def _predict_point(self, horizon: int) -> np.ndarray:
        values, failed = self._forecast_checked(horizon, (0.5,))
        if not failed:
            return values[:, :, 0]
        return replace_failed(values[:, :, 0], failed, self.fallback_._predict_point_checked(horizon),
                              self.series_index_, "Prophet", self.fallback_reasons_)

    def _native_quantiles(self, horizon, levels, point):
        if self.intervals != "samples":
            return None
        values, failed = self._forecast_checked(horizon, levels)
        if failed and self.uncertainty_ is not None:
            rows = list(failed)
            values[rows] = self.uncertainty_.quantiles(point, levels)[rows]
        return values
