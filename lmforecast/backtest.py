"""Honest rolling-origin backtests: splitter, point-in-time cut, backtest cube, leakage check.

A backtest replays history: for each forecast origin (``cutoff``) the panel is cut to what was
*published* by the end of the cutoff period (:func:`point_in_time`), a fresh clone of the
forecaster is fitted on it, and its forecasts for the following periods are stored beside the
final (revised, fully published) actual values. The result is one labelled cube
(:func:`backtest`, :func:`backtest_models`) from which any metric of :mod:`lmforecast.metrics`
can be computed afterwards (:func:`lmforecast.metrics.evaluate`, :func:`summarise`).

Conventions
-----------
* ``cutoff`` is the last period the model may see. ``horizon`` ``h`` is the number of periods
  after the cutoff: ``target_time = cutoff + h`` periods. With ``gap = g`` the forecaster
  predicts ``g + horizon`` steps and the first ``g`` are dropped, so ``horizon`` runs
  ``g + 1 .. g + horizon``.
* Point in time: a period ``p`` of a variable with publication lag ``L`` days is known at cutoff
  ``c`` only if ``end_of(p) + L days <= end_of(c)``. The target is no exception: with the 45-day
  lag of a monthly labour-force survey the last one or two training periods are NaN at the
  cutoff, and the forecasts are *still* for ``cutoff + 1 .. cutoff + h`` (a forecaster must cope
  with NaN at the end of its training data; the first horizons are then partly nowcasts).
* :func:`assert_no_leakage` is the test harness every model's tests can call.
"""

from __future__ import annotations

import inspect
import json
import warnings
import os
import time as _time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import xarray as xr
from sklearn.base import BaseEstimator, clone
from tqdm.auto import tqdm

from lmforecast import panel as P
from lmforecast.errors import PanelError
from lmforecast.io import read_netcdf, write_netcdf_atomic
from lmforecast.metrics import evaluate, seasonal_naive_scale
from lmforecast.models.base import DEFAULT_QUANTILES, check_quantiles

__all__ = [
    "Fold", "RollingOriginSplitter", "publication_lag_days", "point_in_time", "backtest",
    "backtest_models", "without_run_attrs", "save_backtest", "load_backtest", "summarise", "assert_no_leakage",
]

TARGET_TIME = "target_time"
HORIZON_YEAR = "horizon_year"


# --- splitter --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Fold:
    """One forecast origin of a rolling-origin backtest.

    Attributes
    ----------
    index : fold number, 0 = earliest cutoff.
    cutoff : period start of the last period the model may see.
    train : positional slice of the time index used for training (ends at the cutoff).
    test : positional slice of the ``horizon`` periods after ``cutoff + gap``.
    refit : whether the splitter schedules a refit at this fold (``refit_every``).
    train_time, test_time : the period starts of ``train`` and ``test``.
    """

    index: int
    cutoff: pd.Timestamp
    train: slice
    test: slice
    refit: bool
    train_time: pd.DatetimeIndex = field(compare=False, repr=False)
    test_time: pd.DatetimeIndex = field(compare=False, repr=False)


class RollingOriginSplitter:
    """Rolling-origin (time-series cross-validation) folds, the latest cutoff first in priority.

    Cutoffs are counted back from the last possible cutoff (the one whose test window ends at the
    last period, or ``last_cutoff``), spaced ``step`` periods: ``n_windows`` of them, or as many as
    fit with at least ``initial`` training periods. Modelled on skforecast's ``TimeSeriesFold``
    and sktime's ``ExpandingWindowSplitter``.

    **Long horizons on short histories** (``partial=True``): when ``n_windows`` cutoffs with a
    full ``horizon`` of actuals do not fit after ``initial`` training periods (five years ahead
    on a panel with a few years of history, the normal case for Moroccan regional series), the
    cutoffs move later, as far as leaving ``min_test`` periods of actuals after the last one, so
    that at least two origins remain; their test windows run past the end of the data (those
    periods are forecast, and have NaN actuals). Full windows are always preferred.

    Parameters
    ----------
    horizon : periods forecast after ``cutoff + gap`` (>= 1); ``None`` = ``years`` years at the
        panel frequency (five years: 60 monthly, 20 quarterly, 5 annual periods, the planners'
        horizon).
    years : the horizon in years when ``horizon`` is None (1 gives the short horizon).
    initial : minimum number of training periods of the first fold (and the window length when
        ``window="sliding"``). ``None`` needs ``n_windows`` (then the first fold trains on
        everything before its cutoff).
    step : periods between consecutive cutoffs (>= 1); ``None`` = one year at the panel frequency.
    n_windows : number of folds; ``None`` = as many as fit.
    window : ``"expanding"`` (train from the first period) or ``"sliding"`` (the last
        ``initial`` periods, or the first fold's length when ``initial`` is None).
    gap : periods skipped between the cutoff and the first test period (>= 0).
    refit_every : refit the model every ``refit_every`` folds (see :func:`backtest` for what
        happens in between).
    last_cutoff : period start of the latest cutoff; ``None`` = the last possible one.
    partial : allow test windows that run past the end of the data (see above).
    min_test : periods of actuals the latest partial window must keep (``None`` = one year).

    Examples
    --------
    >>> import pandas as pd
    >>> times = pd.date_range("2020-01-01", periods=10, freq="MS")
    >>> folds = RollingOriginSplitter(horizon=2, initial=6).split(times)
    >>> [(f.cutoff.strftime("%Y-%m"), f.train.stop, f.test.start) for f in folds]
    [('2020-06', 6, 6), ('2020-07', 7, 7), ('2020-08', 8, 8)]
    """

    def __init__(self, horizon: int | None = None, initial: int | None = None, step: int | None = 1,
                 n_windows: int | None = None, window: str = "expanding", gap: int = 0, refit_every: int = 1,
                 last_cutoff=None, partial: bool = False, min_test: int | None = None, years: int = 5):
        self.horizon = horizon
        self.years = years
        self.initial = initial
        self.step = step
        self.n_windows = n_windows
        self.window = window
        self.gap = gap
        self.refit_every = refit_every
        self.last_cutoff = last_cutoff
        self.partial = partial
        self.min_test = min_test
        self._check_params()

    def _check_params(self) -> None:
        def whole(name, value, minimum, optional=False):
            if value is None and optional:
                return
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
                raise ValueError(f"RollingOriginSplitter: {name} must be an integer >= {minimum}, got {value!r}")

        whole("horizon", self.horizon, 1, optional=True)
        whole("min_test", self.min_test, 1, optional=True)
        whole("initial", self.initial, 1, optional=True)
        whole("step", self.step, 1, optional=True)
        whole("years", self.years, 1)
        whole("n_windows", self.n_windows, 1, optional=True)
        whole("gap", self.gap, 0)
        whole("refit_every", self.refit_every, 1)
        if self.window not in ("expanding", "sliding"):
            raise ValueError(f"RollingOriginSplitter: window must be 'expanding' or 'sliding', got {self.window!r}")
        if self.initial is None and self.n_windows is None:
            raise ValueError("RollingOriginSplitter: give initial (minimum training periods) or n_windows (number of folds)")

    def get_params(self) -> dict:
        """The constructor arguments as a dict (``last_cutoff`` as an ISO date string or None)."""
        last = None if self.last_cutoff is None else pd.Timestamp(self.last_cutoff).strftime("%Y-%m-%d")
        return {"horizon": None if self.horizon is None else int(self.horizon),
                "initial": None if self.initial is None else int(self.initial),
                "step": None if self.step is None else int(self.step), "years": int(self.years), "n_windows": None if self.n_windows is None else int(self.n_windows),
                "window": self.window, "gap": int(self.gap), "refit_every": int(self.refit_every),
                "last_cutoff": last, "partial": bool(self.partial),
                "min_test": None if self.min_test is None else int(self.min_test)}

    def resolved_horizon(self, freq: str | None) -> int:
        """``horizon`` in periods (five years at ``freq`` when ``horizon`` is None)."""
        if self.horizon is not None:
            return int(self.horizon)
        if freq is None:
            raise ValueError("RollingOriginSplitter(horizon=None) needs the panel frequency to mean five years")
        from lmforecast.uncertainty import planning_horizon

        return planning_horizon(freq, int(self.years))

    def resolved_step(self, freq: str | None) -> int:
        """``step`` in periods (one year at ``freq`` when ``step`` is None)."""
        if self.step is not None:
            return int(self.step)
        if freq is None:
            raise ValueError("RollingOriginSplitter(step=None) needs the panel frequency to mean one year")
        return P.season_length(freq)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"RollingOriginSplitter({args})"

    def split(self, time_index, freq: str | None = None) -> list[Fold]:
        """Folds over ``time_index``, earliest cutoff first.

        Parameters
        ----------
        time_index : ``pd.DatetimeIndex`` of period starts (or a panel / DataArray with a
            ``time`` dim), increasing and without duplicates.
        freq : panel frequency (``"MS"``, ``"QS"``, ``"YS"``); default: the panel's ``freq``
            attribute or the index's frequency. Needed for ``horizon=None`` and partial windows.

        Returns
        -------
        list of :class:`Fold`.

        Raises
        ------
        ValueError when the index is too short for ``initial + gap + horizon``, when
        ``last_cutoff`` is not a period of the index or leaves too few periods after it, or when
        ``n_windows`` folds do not fit.
        """
        if freq is None and isinstance(time_index, (xr.Dataset, xr.DataArray)):
            freq = time_index.attrs.get("freq")
        times = _as_time_index(time_index)
        if freq is None:
            freq = times.freqstr or (pd.DatetimeIndex(times, freq="infer").freqstr if len(times) > 2 else None)
        n = len(times)
        horizon, gap, step = self.resolved_horizon(freq), int(self.gap), self.resolved_step(freq)
        if self.partial:
            return self._split_partial(times, freq, horizon, gap, step)
        after = gap + horizon
        if self.initial is not None and self.initial + after > n:
            raise ValueError(f"not enough data: initial={self.initial} + gap={gap} + horizon={horizon} = "
                             f"{self.initial + after} periods needed, the time index has {n}")
        if after + 1 > n:
            raise ValueError(f"not enough data: 1 training period + gap={gap} + horizon={horizon} = "
                             f"{after + 1} periods needed, the time index has {n}")
        last_possible = n - 1 - after
        if self.last_cutoff is None:
            last = last_possible
        else:
            stamp = pd.Timestamp(self.last_cutoff)
            if stamp not in times:
                raise ValueError(f"last_cutoff {stamp:%Y-%m-%d} is not a period of the time index "
                                 f"({times[0]:%Y-%m-%d} .. {times[-1]:%Y-%m-%d})")
            last = int(times.get_loc(stamp))
            if last > last_possible:
                raise ValueError(f"last_cutoff {stamp:%Y-%m-%d} leaves {n - 1 - last} periods after it; "
                                 f"gap={gap} + horizon={horizon} need {after}")
        first_allowed = 0 if self.initial is None else int(self.initial) - 1
        if last < first_allowed:
            raise ValueError(f"last_cutoff {times[last]:%Y-%m-%d} leaves {last + 1} training periods, "
                             f"fewer than initial={self.initial}")
        if self.n_windows is not None:
            first = last - (int(self.n_windows) - 1) * step
            if first < first_allowed:
                raise ValueError(
                    f"not enough data for n_windows={self.n_windows} cutoffs spaced step={step}: the first "
                    f"cutoff would have {first + 1} training periods, "
                    + (f"fewer than initial={self.initial}" if self.initial is not None else "fewer than 1"))
        else:
            first = last - ((last - first_allowed) // step) * step
        return self._folds(times, range(first, last + 1, step), first, gap, horizon, freq)

    def _folds(self, times, cutoffs, first, gap, horizon, freq) -> list[Fold]:
        length = int(self.initial) if self.initial is not None else first + 1
        folds = []
        for i, c in enumerate(cutoffs):
            start = 0 if self.window == "expanding" else c + 1 - length
            train = slice(start, c + 1)
            stop = c + 1 + gap + horizon
            test = slice(c + 1 + gap, min(stop, len(times)))
            test_time = times[test]
            if stop > len(times):  # a partial window: its last periods lie after the data
                test_time = pd.date_range(times[c], periods=gap + horizon + 1, freq=freq)[1 + gap:]
            folds.append(Fold(index=i, cutoff=times[c], train=train, test=test,
                              refit=(i % int(self.refit_every) == 0),
                              train_time=times[train], test_time=pd.DatetimeIndex(test_time)))
        return folds

    def _split_partial(self, times, freq, horizon, gap, step) -> list[Fold]:
        """Cutoffs for long horizons: full windows when they fit, else windows past the data end."""
        n = len(times)
        if freq is None:
            raise ValueError("partial windows need the panel frequency (pass freq=)")
        season = P.season_length(freq)
        min_test = int(self.min_test) if self.min_test is not None else min(season, horizon)
        initial = int(self.initial) if self.initial is not None else 2 * season
        wanted = int(self.n_windows) if self.n_windows is not None else 3
        first_allowed = initial - 1
        latest = n - 1 - gap - min_test                  # the latest cutoff keeping min_test actuals
        if latest < first_allowed:
            raise ValueError(f"not enough data: initial={initial} training periods + gap={gap} + "
                             f"min_test={min_test} periods of actuals = {initial + gap + min_test} "
                             f"periods needed, the time index has {n}")
        full_last = n - 1 - gap - horizon
        last = full_last if full_last - (wanted - 1) * step >= first_allowed else \
            min(latest, max(full_last, first_allowed + (wanted - 1) * step))
        if self.last_cutoff is not None:
            stamp = pd.Timestamp(self.last_cutoff)
            if stamp not in times:
                raise ValueError(f"last_cutoff {stamp:%Y-%m-%d} is not a period of the time index")
            last = min(int(times.get_loc(stamp)), latest)
        count = min(wanted, (last - first_allowed) // step + 1)
        if count < min(2, wanted) and step > 1:        # two origins at least: tighten the spacing
            step = max(1, (last - first_allowed) // max(min(2, wanted) - 1, 1))
            count = min(wanted, (last - first_allowed) // step + 1)
        first = last - (count - 1) * step
        return self._folds(times, range(first, last + 1, step), first, gap, horizon, freq)


def _as_time_index(time_index) -> pd.DatetimeIndex:
    if isinstance(time_index, (xr.Dataset, xr.DataArray)):
        if P.TIME not in time_index.dims:
            raise PanelError(f"no {P.TIME!r} dim to split; dims are {tuple(time_index.dims)}")
        time_index = time_index.indexes[P.TIME]
    times = pd.DatetimeIndex(time_index)
    if len(times) == 0:
        raise ValueError("cannot split an empty time index")
    if times.has_duplicates:
        raise ValueError(f"time index has duplicate periods: {list(times[times.duplicated()].strftime('%Y-%m-%d'))[:5]}")
    if not times.is_monotonic_increasing:
        raise ValueError("time index must be increasing")
    return times


# --- point in time ---------------------------------------------------------------------------
def publication_lag_days(panel: xr.Dataset, name: str) -> int:
    """Publication lag (days after the period's end) of panel variable ``name``.

    Taken from the variable's ``publication_lag_days`` attr, else the :data:`lmforecast.panel.MEASURES`
    registry, else 0.

    Raises
    ------
    PanelError if the attr is not a whole number of days >= 0.
    """
    lag = panel[name].attrs.get("publication_lag_days")
    if lag is None:
        measure = P.MEASURES.get(str(name))
        lag = measure.publication_lag_days if measure is not None else 0
    try:
        ok = float(lag) == int(lag) and int(lag) >= 0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise PanelError(f"variable {name!r}: attrs['publication_lag_days'] = {lag!r}, "
                         f"expected a whole number of days >= 0")
    return int(lag)


def _period_ends(times: pd.DatetimeIndex, freq: str) -> pd.DatetimeIndex:
    """Last day of each period (period starts at ``freq``)."""
    starts = pd.date_range(times[0], periods=len(times) + 1, freq=freq)
    return starts[1:] - pd.Timedelta(days=1)


def _cutoff_position(panel: xr.Dataset, cutoff) -> int:
    times = panel.indexes[P.TIME]
    stamp = pd.Timestamp(cutoff)
    if stamp not in times:
        raise PanelError(f"cutoff {stamp:%Y-%m-%d} is not a period start of the panel "
                         f"({times[0]:%Y-%m-%d} .. {times[-1]:%Y-%m-%d}, freq {panel.attrs.get('freq')!r})")
    return int(times.get_loc(stamp))


def point_in_time(panel: xr.Dataset, cutoff) -> xr.Dataset:
    """The panel as it was known at the end of the ``cutoff`` period.

    Time steps after ``cutoff`` are removed, and each variable is masked (NaN) at the periods not
    yet published: period ``p`` of a variable with publication lag ``L`` days
    (:func:`publication_lag_days`) is kept only if ``end_of(p) + L days <= end_of(cutoff)``.
    The target is masked like any variable, so its last periods may be NaN; forecasts made from
    this panel are still for ``cutoff + 1 ..``.

    Parameters
    ----------
    panel : panel Dataset (:mod:`lmforecast.panel` contract), final values.
    cutoff : period start (anything ``pd.Timestamp`` accepts) of a period in the panel.

    Returns
    -------
    New Dataset ending at ``cutoff``, same variables/attrs, with ``attrs["point_in_time_cutoff"]``.

    Examples
    --------
    >>> from lmforecast.datasets.example_country import example_panel
    >>> panel = example_panel()
    >>> known = point_in_time(panel, "2021-12-01")
    >>> str(known.indexes["time"][-1].date()), int(known["employment"].sel(time="2021-12-01").notnull().sum())
    ('2021-12-01', 0)
    """
    P.validate(panel)
    position = _cutoff_position(panel, cutoff)
    cut = panel.isel({P.TIME: slice(0, position + 1)})
    ends = _period_ends(cut.indexes[P.TIME], panel.attrs["freq"])
    for name in list(cut.data_vars):
        var = cut[name]
        lag = publication_lag_days(panel, name)
        known = np.asarray(ends + pd.Timedelta(days=lag) <= ends[-1])
        if not known.all():
            mask = xr.DataArray(known, dims=P.TIME, coords={P.TIME: cut[P.TIME]})
            masked = var.where(mask)
            masked.attrs = dict(var.attrs)
            cut[name] = masked
    cut.attrs = dict(panel.attrs) | {"point_in_time_cutoff": f"{cut.indexes[P.TIME][-1]:%Y-%m-%d}"}
    return cut


def _training_panel(panel: xr.Dataset, fold: Fold, use_point_in_time: bool) -> xr.Dataset:
    if use_point_in_time:
        cut = point_in_time(panel, fold.cutoff)
    else:
        cut = panel.isel({P.TIME: slice(0, fold.train.stop)})
    return cut.isel({P.TIME: fold.train})


# --- backtest --------------------------------------------------------------------------------
def _jsonable(value):
    try:
        json.dumps(value)
        return value
    except TypeError:
        return repr(value)


def _model_info(forecaster) -> dict:
    params = forecaster.get_params(deep=False) if hasattr(forecaster, "get_params") else {}
    return {"model": type(forecaster).__name__,
            "model_params": json.dumps({k: _jsonable(v) for k, v in params.items()}, sort_keys=True),
            "model_repr": repr(forecaster)}


def _can_update(forecaster) -> bool:
    """Whether ``forecaster`` can be re-anchored with ``update(panel)`` instead of a refit.

    True only when it declares ``supports_update = True`` and has a callable ``update`` (every
    :class:`~lmforecast.models.base.Forecaster` has the method; most do not implement it).
    """
    return bool(getattr(forecaster, "supports_update", False)) and callable(getattr(forecaster, "update", None))


def _run_chain(forecaster, target: str, chain: list[tuple[Fold, xr.Dataset]], quantiles, gap: int,
               horizon: int, reconcile, season: int) -> list[dict]:
    """Fit/update and predict a chain of folds (the first one refits); runs in a worker."""
    out = []
    model = None
    for fold, train_panel in chain:
        t0 = _time.perf_counter()
        if model is None or fold.refit or not _can_update(model):
            model = clone(forecaster).fit(train_panel, target)
            refitted = True
        else:
            model.update(train_panel)
            refitted = False
        t1 = _time.perf_counter()
        prediction = model.predict(gap + horizon, quantiles=quantiles)
        t2 = _time.perf_counter()
        prediction = prediction.isel({P.TIME: slice(gap, gap + horizon)})
        if reconcile is not None:
            prediction = reconcile(prediction, train_panel)
        if not prediction.indexes[P.TIME].equals(fold.test_time):
            raise RuntimeError(
                f"{type(model).__name__} forecast periods {list(prediction.indexes[P.TIME].strftime('%Y-%m-%d'))} "
                f"at cutoff {fold.cutoff:%Y-%m-%d}, expected {list(fold.test_time.strftime('%Y-%m-%d'))}")
        prediction = prediction.transpose(P.TIME, P.REGION, P.OCCUPATION, P.QUANTILE)
        for dim in (P.REGION, P.OCCUPATION):
            if not prediction.indexes[dim].equals(train_panel.indexes[dim]):
                raise RuntimeError(f"{type(model).__name__} returned {dim} labels that differ from the panel's")
        scale = seasonal_naive_scale(train_panel[target], season=season)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            last_year = train_panel[target].isel({P.TIME: slice(-season, None)}).mean(P.TIME, skipna=True)
        out.append({"forecast": np.asarray(prediction.values, dtype=float),
                    "last_year": last_year.transpose(P.REGION, P.OCCUPATION).values,
                    "quantiles": np.asarray(prediction[P.QUANTILE].values, dtype=float),
                    "scale": scale["scale"].transpose(P.REGION, P.OCCUPATION).values,
                    "lag": scale["lag"].transpose(P.REGION, P.OCCUPATION).values,
                    "refit": refitted, "fit_seconds": t1 - t0, "predict_seconds": t2 - t1})
    return out


def _run_chain_at(chain: list[Fold], *, forecaster, target: str, panel: xr.Dataset, use_point_in_time: bool,
                  quantiles, gap: int, horizon: int, reconcile, season: int) -> list[dict]:
    """:func:`_run_chain` on folds cut from ``panel`` where it runs (a backend task: the panel is shared once)."""
    inputs = [(fold, _training_panel(panel, fold, use_point_in_time)) for fold in chain]
    return _run_chain(forecaster, target, inputs, quantiles, gap, horizon, reconcile, season)


def _chains(folds: list[Fold], updatable: bool) -> list[list[Fold]]:
    """Group folds into chains that start with a refit (one fold per chain without ``update``)."""
    chains: list[list[Fold]] = []
    for fold in folds:
        if fold.refit or not updatable or not chains:
            chains.append([fold])
        else:
            chains[-1].append(fold)
    return chains


def backtest(forecaster, panel: xr.Dataset, target: str, splitter: RollingOriginSplitter,
             quantiles: Sequence[float] = DEFAULT_QUANTILES, point_in_time: bool = True,
             progress: bool = True, reconcile: Callable | None = None, n_jobs: int = 1,
             backend=None) -> xr.Dataset:
    """Rolling-origin backtest of one forecaster.

    For each fold: cut the panel at the cutoff (point in time by default), ``sklearn.base.clone``
    the forecaster, fit it on the training part, predict ``gap + horizon`` periods and keep the
    last ``horizon``. ``refit_every = k > 1`` is honoured only by forecasters with an
    ``update(panel)`` method and ``supports_update = True`` (re-anchor at the new cutoff's data
    without re-estimating); a
    forecaster without it is refitted at every cutoff -- forecasting from a stale origin would
    not be an honest backtest -- and ``attrs["refit_policy"]`` says so. The ``refit`` variable
    records what happened at each cutoff.

    Parameters
    ----------
    forecaster : unfitted :class:`lmforecast.models.base.Forecaster` (any scikit-learn-style
        estimator with ``fit(panel, target)`` and ``predict(horizon, quantiles)``).
    panel : panel Dataset with final values.
    target : variable to forecast.
    splitter : :class:`RollingOriginSplitter`.
    quantiles : levels to forecast (0.5 is always added).
    point_in_time : cut with :func:`point_in_time` (publication lags); ``False`` = plain cut at the
        cutoff (everything up to the cutoff known).
    progress : show a tqdm bar over folds (hidden when not a TTY).
    reconcile : optional ``f(forecast, training_panel) -> forecast`` applied to each fold's forecast
        (a DataArray ``time x region x occupation x quantile``; labels must be kept).
    n_jobs : folds run in parallel with joblib (loky), each worker limited to one thread
        (local backend only).
    backend : where folds run: None or :class:`lmforecast.distributed.LocalBackend` (this
        process, or ``n_jobs`` processes), or a started :class:`lmforecast.distributed.DaskBackend`
        (each chain of folds is a task; the panel is scattered once and cut on the worker). The
        cube does not depend on the backend (only the timing attrs differ).

    Returns
    -------
    Dataset with dims ``cutoff x horizon x region x occupation x quantile``:
    ``forecast`` (all dims, target units), ``actual`` (no quantile; final values from ``panel``,
    NaN after its end for partial windows), ``insample_scale`` and ``insample_scale_lag``
    (``cutoff x region x occupation``; seasonal-naive MAE of each fold's training part, see
    :func:`lmforecast.metrics.seasonal_naive_scale`), ``last_year_level`` (same dims: the mean of
    the last year of training, the base of the change metrics), ``refit`` (``cutoff``, bool);
    coordinates ``target_time`` (``cutoff x horizon``) and ``horizon_year`` (``horizon``); attrs with the
    model (name, params JSON, repr), target, freq, splitter params, quantiles, refit policy and
    timings in seconds (``wall_time_s``, ``fit_time_s``, ``predict_time_s``; not reproducible).
    """
    start = _time.perf_counter()
    P.validate(panel, require=(target,))
    if not isinstance(splitter, RollingOriginSplitter):
        raise TypeError(f"splitter must be a RollingOriginSplitter, got {type(splitter).__name__}")
    if int(n_jobs) == 0:
        raise ValueError("n_jobs must be a non-zero integer (-1 = all cores)")
    levels = check_quantiles(quantiles)
    folds = splitter.split(panel.indexes[P.TIME], freq=panel.attrs["freq"])
    gap, horizon = int(splitter.gap), splitter.resolved_horizon(panel.attrs["freq"])
    season = P.season_length(panel.attrs["freq"])
    updatable = _can_update(forecaster)
    chains = _chains(folds, updatable)

    def task_inputs(chain):
        return [(fold, _training_panel(panel, fold, point_in_time)) for fold in chain]

    results: list[dict] = []
    distributed = backend is not None and getattr(backend, "name", "local") != "local"
    with tqdm(total=len(folds), desc=f"backtest {type(forecaster).__name__}", unit="fold",
              disable=None if progress else True) as bar:
        if distributed:
            shared = {"forecaster": forecaster, "target": target, "panel": panel,
                      "use_point_in_time": point_in_time, "quantiles": levels, "gap": gap, "horizon": horizon,
                      "reconcile": reconcile, "season": season}
            chunks = backend.map(_run_chain_at, chains, shared=shared, name="fold",
                                 progress=lambda done: bar.update(done))
            results = [r for chunk in chunks for r in chunk]
        elif int(n_jobs) == 1:
            for chain in chains:
                chunk = _run_chain(forecaster, target, task_inputs(chain), levels, gap, horizon, reconcile, season)
                results.extend(chunk)
                bar.update(len(chunk))
        else:
            with joblib.parallel_config(backend="loky", inner_max_num_threads=1):
                runner = joblib.Parallel(n_jobs=int(n_jobs), return_as="generator")
                jobs = (joblib.delayed(_run_chain)(forecaster, target, task_inputs(chain), levels, gap, horizon,
                                                   reconcile, season) for chain in chains)
                for chunk in runner(jobs):
                    results.extend(chunk)
                    bar.update(len(chunk))

    for result in results:
        if not np.allclose(result["quantiles"], levels, rtol=0, atol=1e-12):
            raise RuntimeError(f"{type(forecaster).__name__} returned quantiles {list(result['quantiles'])}, "
                               f"expected {list(levels)}")
    cutoffs = pd.DatetimeIndex([f.cutoff for f in folds], name=P.CUTOFF)
    horizons = np.arange(gap + 1, gap + horizon + 1, dtype="int64")
    target_time = np.stack([f.test_time.values for f in folds]).astype("datetime64[ns]")
    actual_values = np.stack([panel[target].reindex({P.TIME: f.test_time}).transpose(*P.DIMS).values
                              for f in folds])                     # NaN after the end of the data
    target_attrs = {k: v for k, v in panel[target].attrs.items() if k in ("units", "description", "kind", "aggregation")}

    coords = {P.CUTOFF: cutoffs, P.HORIZON: horizons, P.REGION: panel[P.REGION].values,
              P.OCCUPATION: panel[P.OCCUPATION].values, P.QUANTILE: np.asarray(levels, dtype=float),
              TARGET_TIME: ((P.CUTOFF, P.HORIZON), target_time),
              HORIZON_YEAR: (P.HORIZON, (horizons - 1) // season + 1)}
    for name, coord in panel.coords.items():
        if name not in P.DIMS and coord.dims and set(coord.dims) <= {P.REGION, P.OCCUPATION}:
            coords[name] = coord.variable
    ds = xr.Dataset(
        {
            "forecast": ((P.CUTOFF, P.HORIZON, P.REGION, P.OCCUPATION, P.QUANTILE),
                         np.stack([r["forecast"] for r in results]), target_attrs),
            "actual": ((P.CUTOFF, P.HORIZON, P.REGION, P.OCCUPATION), actual_values.astype(float), target_attrs),
            "insample_scale": ((P.CUTOFF, P.REGION, P.OCCUPATION), np.stack([r["scale"] for r in results]),
                               {"units": target_attrs.get("units", ""),
                                "description": "mean absolute seasonal-naive error on the fold's training part"}),
            "insample_scale_lag": ((P.CUTOFF, P.REGION, P.OCCUPATION), np.stack([r["lag"] for r in results]),
                                   {"units": "periods", "description": "lag of the MASE scale (season, or 1)"}),
            "last_year_level": ((P.CUTOFF, P.REGION, P.OCCUPATION), np.stack([r["last_year"] for r in results]),
                                {"units": target_attrs.get("units", ""),
                                 "description": "mean of the target over the last year of the fold's training "
                                                "part (the base of the change metrics)"}),
            "refit": ((P.CUTOFF,), np.array([r["refit"] for r in results], dtype=bool),
                      {"description": "whether the model was re-fitted at this cutoff"}),
        },
        coords=coords,
    )
    ds[TARGET_TIME].attrs = {"description": "period start forecast at (cutoff, horizon)"}
    ds[HORIZON_YEAR].attrs = {"units": "years after cutoff", "description": "horizon year of each step"}
    ds[P.HORIZON].attrs = {"units": "periods after cutoff"}
    if int(splitter.refit_every) > 1:
        policy = (f"refit every {splitter.refit_every} cutoffs, update(panel) in between" if updatable else
                  f"refit at every cutoff: {type(forecaster).__name__} does not support update(panel), so "
                  f"refit_every={splitter.refit_every} would mean forecasting from a stale origin")
    else:
        policy = "refit at every cutoff"
    ds.attrs = {
        **_model_info(forecaster),
        "target": target,
        "freq": panel.attrs["freq"],
        "season_length": season,
        "splitter": type(splitter).__name__,
        "splitter_params": json.dumps(splitter.get_params(), sort_keys=True),
        "quantiles": json.dumps([float(q) for q in levels]),
        "point_in_time": int(bool(point_in_time)),
        "refit_policy": policy,
        "reconcile": "" if reconcile is None else getattr(reconcile, "__name__", repr(reconcile)),
        "n_jobs": int(n_jobs),
        "backend": "local" if backend is None else str(getattr(backend, "name", type(backend).__name__)),
        "panel_provenance_inputs": _jsonable_str(panel.attrs.get("provenance_inputs", "{}")),
        "fit_time_s": float(sum(r["fit_seconds"] for r in results)),
        "predict_time_s": float(sum(r["predict_seconds"] for r in results)),
        "wall_time_s": float(_time.perf_counter() - start),
    }
    return ds


def _jsonable_str(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=repr)


_MODEL_ATTRS = ("model", "model_params", "model_repr", "refit_policy", "fit_time_s", "predict_time_s", "wall_time_s")
#: attrs of a backtest cube that depend on where and how fast it ran, not on what it holds
RUN_ATTRS = ("fit_time_s", "predict_time_s", "wall_time_s", "n_jobs", "backend")


def without_run_attrs(ds: xr.Dataset) -> xr.Dataset:
    """A copy of a backtest cube without the attrs that record where and how fast it ran.

    Drops :data:`RUN_ATTRS` (timings in seconds, ``n_jobs``, ``backend``), also inside the
    per-model JSON of :func:`backtest_models`, so that cubes computed on different backends
    can be compared with ``xarray.testing.assert_identical``.
    """
    out = ds.copy()
    out.attrs = {k: v for k, v in ds.attrs.items() if k not in RUN_ATTRS}
    if "models" in out.attrs:
        models = json.loads(out.attrs["models"])
        out.attrs["models"] = json.dumps({name: {k: v for k, v in info.items() if k not in RUN_ATTRS}
                                          for name, info in models.items()}, sort_keys=True)
    return out


def backtest_models(models: Mapping[str, object], panel: xr.Dataset, target: str, splitter: RollingOriginSplitter,
                    **kwargs) -> xr.Dataset:
    """Backtest several forecasters on the same folds and stack them along a ``model`` dim.

    Parameters
    ----------
    models : ``{name: forecaster}``; names become the ``model`` coordinate.
    panel, target, splitter, **kwargs : as :func:`backtest`.

    Returns
    -------
    Dataset as :func:`backtest` with ``forecast``
    ``model x cutoff x horizon x region x occupation x quantile`` and ``refit`` ``model x cutoff``; ``actual`` and ``insample_scale`` are shared (no
    model dim). Per-model attrs (params, repr, refit policy, timings) are in ``attrs["models"]``
    as JSON ``{name: {...}}``.

    Examples
    --------
    >>> from lmforecast.datasets.example_country import example_panel
    >>> from lmforecast.models.baselines import Naive, SeasonalNaive
    >>> cube = backtest_models({"naive": Naive(), "seasonal_naive": SeasonalNaive()}, example_panel(), "vacancies",
    ...                        RollingOriginSplitter(horizon=12, n_windows=2, step=12))
    >>> cube["forecast"].dims
    ('model', 'cutoff', 'horizon', 'region', 'occupation', 'quantile')
    """
    if not models:
        raise ValueError("backtest_models needs at least one model")
    names = [str(name) for name in models]
    if len(set(names)) != len(names):
        raise ValueError(f"model names must be unique, got {names}")
    runs = {name: backtest(model, panel, target, splitter, **kwargs) for name, model in zip(names, models.values())}
    first = runs[names[0]]
    model_index = pd.Index(names, name=P.MODEL)
    forecast = xr.concat([runs[n]["forecast"] for n in names], dim=model_index)
    refit = xr.concat([runs[n]["refit"] for n in names], dim=model_index)
    ds = first.drop_vars(["forecast", "refit"]).assign(forecast=forecast, refit=refit)
    ds = ds[["forecast", "actual", "insample_scale", "insample_scale_lag", "last_year_level", "refit"]]
    ds.attrs = {k: v for k, v in first.attrs.items() if k not in _MODEL_ATTRS}
    ds.attrs["models"] = json.dumps({n: {k: runs[n].attrs[k] for k in _MODEL_ATTRS} for n in names})
    ds.attrs["wall_time_s"] = float(sum(runs[n].attrs["wall_time_s"] for n in names))
    return ds


# --- persistence -----------------------------------------------------------------------------
def save_backtest(ds: xr.Dataset, path: str | os.PathLike) -> Path:
    """Write a backtest Dataset to NetCDF atomically; return the path.

    :func:`load_backtest` gives back an identical Dataset (``xarray.testing.assert_identical``).
    Attrs that are dicts or lists are stored as JSON strings.
    """
    for name in ("forecast", "actual"):
        if name not in ds:
            raise ValueError(f"save_backtest: the Dataset lacks {name!r}; pass a backtest Dataset")
    return write_netcdf_atomic(ds, path)


def load_backtest(path: str | os.PathLike) -> xr.Dataset:
    """Read a backtest written by :func:`save_backtest` fully into memory."""
    loaded = read_netcdf(path, "backtest")
    for name in ("forecast", "actual"):
        if name not in loaded:
            raise ValueError(f"{path}: not a backtest file (no {name!r} variable)")
    return loaded


# --- summaries -------------------------------------------------------------------------------
def summarise(ds: xr.Dataset, level: float = 0.8) -> pd.DataFrame:
    """Per-fold summary of a backtest: accuracy and interval coverage at each cutoff.

    Parameters
    ----------
    ds : Dataset from :func:`backtest` or :func:`backtest_models`.
    level : central interval level for coverage and width (0.8 -> quantiles 0.1 and 0.9).

    Returns
    -------
    DataFrame, one row per (model,) cutoff: ``n_obs``, ``mae`` (target units), ``wape`` (%),
    ``mase``, ``coverage_<pct>`` (fraction, nominal ``level``), ``width_<pct>`` (target units),
    ``refit`` (bool).
    """
    pct = int(round(level * 100))
    if abs(pct / 100 - level) > 1e-9:
        raise ValueError(f"summarise: level must be a whole percentage, got {level}")
    names = ["mae", "wape", "mase", f"coverage_{pct}", f"width_{pct}"]
    table = evaluate(ds, metrics=names, by=P.CUTOFF)
    index = [c for c in (P.MODEL, P.CUTOFF) if c in table.columns]
    wide = table.pivot(index=index + ["n_obs"], columns="metric", values="value")
    wide = wide.reset_index()[index + ["n_obs"] + names]
    wide.columns.name = None
    refit = ds["refit"].to_dataframe().reset_index()[index + ["refit"]]
    return wide.merge(refit, on=index, how="left", validate="one_to_one")


# --- leakage harness -------------------------------------------------------------------------
def _make_forecaster(factory, panel: xr.Dataset):
    if isinstance(factory, BaseEstimator):
        return clone(factory)
    params = [p for p in inspect.signature(factory).parameters.values()
              if p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return factory(panel) if params else factory()


def _garbage(panel: xr.Dataset, cutoff: pd.Timestamp, use_point_in_time: bool) -> xr.Dataset:
    """Overwrite everything not known at ``cutoff`` (after it, and unpublished if point in time)."""
    known = point_in_time(panel, cutoff) if use_point_in_time else panel.sel({P.TIME: slice(None, cutoff)})
    garbled = panel.copy(deep=True)
    rng = np.random.default_rng(20240229)
    for name in panel.data_vars:
        values = garbled[name].values.copy()
        known_values = known[name].reindex({P.TIME: panel[P.TIME]}).values
        unknown = np.isnan(known_values) & ~(np.isnan(values) & (panel.indexes[P.TIME] <= cutoff)[:, None, None])
        noise = rng.choice([1e12, np.nan, 7.0e9], size=values.shape)
        values[unknown] = noise[unknown]
        garbled[name] = garbled[name].copy(data=values)
    return garbled


def assert_no_leakage(forecaster_factory, panel: xr.Dataset, target: str, cutoff, horizon: int,
                      quantiles: Sequence[float] = DEFAULT_QUANTILES, point_in_time: bool = True) -> xr.DataArray:
    """Check that nothing unknown at ``cutoff`` reaches a forecaster's forecasts from that cutoff.

    Runs a one-fold :func:`backtest` (point in time + clone + fit + predict) at ``cutoff`` twice:
    on ``panel``, and on a copy where every value not known at the cutoff -- every time step after
    it in every variable, and (with ``point_in_time``) the not-yet-published periods before it --
    is overwritten with garbage (1e12, 7e9, NaN). The forecasts and MASE scales must be identical.

    Parameters
    ----------
    forecaster_factory : a Forecaster instance (cloned), a no-argument callable returning one, or
        a one-argument callable ``f(panel)`` called with the panel of each run (so models that
        capture data at construction, e.g. a scaler fitted on a panel, are exercised too).
    panel : panel Dataset; ``cutoff`` must leave ``horizon`` periods after it.
    target : variable to forecast.
    cutoff : period start of the forecast origin.
    horizon : periods to forecast.
    quantiles, point_in_time : as :func:`backtest`.

    Returns
    -------
    The clean run's ``forecast`` DataArray (``cutoff x horizon x region x occupation x quantile``).

    Raises
    ------
    AssertionError naming the cutoff, the largest change and where it happened, if the forecasts
    (or the in-sample scale) depend on data unknown at the cutoff.

    Examples
    --------
    >>> from lmforecast.datasets.example_country import example_panel
    >>> from lmforecast.models.baselines import SeasonalNaive
    >>> forecast = assert_no_leakage(SeasonalNaive(), example_panel(), "vacancies", cutoff="2023-12-01", horizon=12)
    >>> forecast.sizes["horizon"]
    12
    """
    cutoff = pd.Timestamp(cutoff)
    _cutoff_position(panel, cutoff)
    splitter = RollingOriginSplitter(horizon=int(horizon), n_windows=1, last_cutoff=cutoff)
    runs = []
    for data in (panel, _garbage(panel, cutoff, point_in_time)):
        model = _make_forecaster(forecaster_factory, data)
        runs.append(backtest(model, data, target, splitter, quantiles=quantiles,
                             point_in_time=point_in_time, progress=False))
    clean, garbled = runs
    for name in ("forecast", "insample_scale"):
        a, b = clean[name].values, garbled[name].values
        same = (a == b) | (np.isnan(a) & np.isnan(b))
        if not same.all():
            where = np.argwhere(~same)[0]
            labels = {d: clean[name][d].values[i] for d, i in zip(clean[name].dims, where)}
            with np.errstate(invalid="ignore"):
                change = np.nanmax(np.abs(a - b)) if np.isfinite(a - b).any() else float("nan")
            raise AssertionError(
                f"{clean.attrs['model']} leaks: its {name} at cutoff {cutoff:%Y-%m-%d} changed when data unknown at "
                f"the cutoff were overwritten ({int((~same).sum())} of {same.size} values differ, largest change "
                f"{change:.6g}; first at {labels}: {a[tuple(where)]!r} -> {b[tuple(where)]!r})")
    return clean["forecast"]
