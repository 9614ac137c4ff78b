"""The forecaster contract shared by every model.

A forecaster follows scikit-learn's estimator rules (``__init__`` only stores its arguments,
``fit`` returns ``self``, fitted attributes end in ``_``, so ``get_params``/``clone`` work) and
speaks the panel contract:

* ``fit(panel, target)`` learns from every time step in ``panel`` (the caller cuts the panel at
  the forecast origin, so nothing after the cutoff can reach the model). It fits the point model
  and then, once, the uncertainty layer (:class:`lmforecast.uncertainty.ResidualUncertainty`):
  the point model is refitted at calibration origins inside the training data and its errors
  there are kept (scaled, pooled) for intervals and joint sample paths;
* ``predict(horizon, quantiles)`` returns an ``xarray.DataArray`` with dims
  ``time x region x occupation x quantile`` for the ``horizon`` periods after the last time step
  seen in ``fit``. The ``0.5`` quantile is the point forecast. ``predict`` has no side effects:
  called twice it returns the same thing;
* ``sample_paths(horizon, n_paths, seed)`` returns joint sample paths
  ``time x region x occupation x path`` (dependent across steps and series); for paths of
  several targets drawn together use :func:`lmforecast.uncertainty.joint_sample_paths`.

Subclasses implement only the 2-D core on stacked series (``series x time`` NumPy arrays):
``_fit_series(y, context)`` and ``_predict_point(horizon) -> (series, horizon)``. They may
override ``_origin_forecasts`` when the calibration refits can be made faster than by refitting
a clone (baselines vectorise them; ensembles combine their members'), ``_native_quantiles``
when the model has its own quantile forecasts, and ``_min_train`` (shortest history a refit
needs). Models that can be re-anchored at a later origin without re-estimating (``update(panel)``,
used by backtests with ``refit_every > 1``) implement ``_update_series(y, context)`` and set
``supports_update = True``.

A fitted forecaster keeps what it needs to predict (its parameters, the recent history its
features read, the calibration), never the training panel: :class:`FitContext` carries the
panel during ``fit`` only.

A forecast is never silently NaN: a series with an observed history whose point forecast comes
out non-finite gets its last observed value (the naive forecast), and a warning names it.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging

import numpy as np
import pandas as pd
import xarray as xr
from sklearn.base import BaseEstimator, clone
from tqdm.auto import tqdm

from lmforecast import panel as P
from lmforecast.errors import NotFittedError, PanelError
from lmforecast.uncertainty import OriginForecasts, ResidualUncertainty, local_scale

DEFAULT_QUANTILES: tuple[float, ...] = (0.1, 0.5, 0.9)

logger = logging.getLogger("lmforecast.models")

#: set while calibration refits run (the models fitted at origins inside the training data)
_CALIBRATING = contextvars.ContextVar("lmforecast_calibrating", default=False)


@contextlib.contextmanager
def calibrating():
    """Mark the refits made inside this block as calibration refits (see :func:`fallback_level`)."""
    token = _CALIBRATING.set(True)
    try:
        yield
    finally:
        _CALIBRATING.reset(token)


def fallback_level() -> int:
    """Logging level of a model's fallback message: WARNING for a fit the user asked for, INFO
    for a calibration refit at an early origin (short histories there are expected, and the
    final fit reports its own fallbacks)."""
    return logging.INFO if _CALIBRATING.get() else logging.WARNING


class FitContext:
    """What a model may know besides the target matrix, all cut at the forecast origin.

    Attributes
    ----------
    panel : the full (already cut) panel, for lagged exogenous variables (``None`` once fitted).
    target : name of the target variable.
    time_index : ``pd.DatetimeIndex`` of the training periods.
    freq : pandas frequency alias of the panel (``"MS"``, ``"QS"``, ``"YS"``).
    season_length : periods per year (12, 4, 1).
    series_index : ``pd.MultiIndex`` of ``(region, occupation)`` in row order of ``y``.
    occupation_major : per-series major group labels (array of str), for hierarchy features.
    nonnegative : whether the target is a count/level that cannot go below zero.
    country : ISO code of the panel's country (calendar features), default ``"MA"``.
    """

    def __init__(self, panel, target, time_index, freq, series_index, occupation_major, nonnegative,
                 country: str = "MA"):
        self.panel = panel
        self.target = target
        self.time_index = time_index
        self.freq = freq
        self.season_length = P.season_length(freq)
        self.series_index = series_index
        self.occupation_major = occupation_major
        self.nonnegative = nonnegative
        self.country = country

    def future_index(self, horizon: int) -> pd.DatetimeIndex:
        """The ``horizon`` period starts after the last training period."""
        return pd.date_range(self.time_index[-1], periods=horizon + 1, freq=self.freq)[1:]

    def without_panel(self) -> "FitContext":
        """A copy that keeps the labels and drops the panel (what a fitted model stores)."""
        return FitContext(None, self.target, self.time_index, self.freq, self.series_index,
                          self.occupation_major, self.nonnegative, self.country)


def check_quantiles(quantiles) -> tuple[float, ...]:
    """Validate and sort quantile levels; 0.5 is always included (it is the point forecast)."""
    levels = sorted(set(float(q) for q in quantiles) | {0.5})
    for q in levels:
        if not 0.0 < q < 1.0:
            raise ValueError(f"quantile levels must lie strictly between 0 and 1, got {q}")
    return tuple(levels)


def stack_target(panel: xr.Dataset, target: str) -> tuple[np.ndarray, FitContext]:
    """Target matrix ``(series, time)`` in target units and its :class:`FitContext`."""
    y = P.stack_series(panel[target]).values.astype(float)
    series_index = P.series_coords(panel)
    if P.OCCUPATION_MAJOR in panel.coords:
        major_by_occ = pd.Series(panel[P.OCCUPATION_MAJOR].values.astype(str), index=panel.indexes[P.OCCUPATION])
        occupation_major = major_by_occ.reindex(series_index.get_level_values(P.OCCUPATION)).to_numpy()
    else:
        occupation_major = np.asarray(series_index.get_level_values(P.OCCUPATION).astype(str))
    finite = y[np.isfinite(y)]
    nonnegative = bool(finite.size == 0 or finite.min() >= 0)
    context = FitContext(panel, target, panel.indexes[P.TIME], panel.attrs["freq"], series_index,
                         occupation_major, nonnegative, str(panel.attrs.get("country", "MA") or "MA"))
    return y, context


class Forecaster(BaseEstimator):
    """Base class: stacks ``region x occupation`` into series, calibrates uncertainty at fit time.

    Every subclass takes an ``uncertainty`` argument: a
    :class:`~lmforecast.uncertainty.ResidualUncertainty` (cloned at ``fit``), ``None`` for the
    default one, or ``"none"`` for point forecasts only (no calibration refits; ``predict`` then
    accepts ``quantiles=(0.5,)`` only).

    Examples
    --------
    A forecaster of your own: the last observed value, doubled (a subclass implements the two
    methods on the stacked ``series x time`` array and inherits the rest).

    >>> import numpy as np
    >>> from lmforecast.datasets.example_country import example_panel
    >>> class Doubled(Forecaster):
    ...     def __init__(self, uncertainty=None):
    ...         self.uncertainty = uncertainty
    ...     def _fit_series(self, y, context):
    ...         self.last_ = y[:, -1]
    ...     def _predict_point(self, horizon):
    ...         return np.repeat(2 * self.last_[:, None], horizon, axis=1)
    >>> forecast = Doubled().fit(example_panel(), "vacancies").predict(horizon=6)
    >>> forecast.dims, forecast["quantile"].values.tolist()
    (('time', 'region', 'occupation', 'quantile'), [0.1, 0.5, 0.9])
    """

    #: whether :meth:`update` is implemented (subclasses that implement ``_update_series`` set it)
    supports_update: bool = False

    # --- fit -------------------------------------------------------------------------------------
    def fit(self, panel: xr.Dataset, target: str):
        """Fit the point model and its uncertainty on every period of ``panel[target]``; return ``self``.

        Parameters
        ----------
        panel : panel Dataset (see :mod:`lmforecast.panel`), already cut at the forecast origin.
        target : name of the variable to forecast (any panel variable, in its own units).
        """
        self._fit_point(panel, target)
        self._fit_uncertainty(panel, target)
        return self

    def _fit_point(self, panel: xr.Dataset, target: str):
        """Fit the point model only (no calibration); return ``self``."""
        P.validate(panel, require=(target,))
        if panel.sizes[P.TIME] < 2:
            raise PanelError(f"need at least 2 periods to fit, got {panel.sizes[P.TIME]}")
        y, context = stack_target(panel, target)
        self._set_fitted_labels(panel, target, y, context)
        self._fit_series(y, context)
        self.context_ = context.without_panel()
        return self

    def _set_fitted_labels(self, panel, target, y, context) -> None:
        self.target_ = target
        self.freq_ = panel.attrs["freq"]
        self.time_index_ = context.time_index
        self.series_index_ = context.series_index
        self.template_ = panel[[target]].isel({P.TIME: slice(0, 0)})
        self.nonnegative_ = context.nonnegative
        self.last_observed_ = _last_observed(y)
        self.has_history_ = np.isfinite(y).any(axis=1)

    def _uncertainty(self) -> ResidualUncertainty | None:
        spec = getattr(self, "uncertainty", None)
        if isinstance(spec, str):
            if spec != "none":
                raise ValueError(f"uncertainty must be a ResidualUncertainty, None or 'none', got {spec!r}")
            return None
        if spec is None:
            return ResidualUncertainty()
        if not isinstance(spec, ResidualUncertainty):
            raise TypeError(f"uncertainty must be a ResidualUncertainty, got {type(spec).__name__}")
        return clone(spec)

    def _fit_uncertainty(self, panel: xr.Dataset, target: str) -> None:
        component = self._uncertainty()
        if component is None:
            self.uncertainty_ = None
            return
        y = P.stack_series(panel[target]).values.astype(float)
        horizon = component.horizon_for(self.freq_)
        lengths = component.origins(y.shape[1], self.freq_, min_train=self._min_train(P.season_length(self.freq_)))
        if len(lengths):
            forecasts = np.asarray(self._origin_forecasts(panel, target, lengths, horizon), dtype=float)
            expected = (y.shape[0], len(lengths), horizon)
            if forecasts.shape != expected:
                raise RuntimeError(f"{type(self).__name__}._origin_forecasts returned {forecasts.shape}, "
                                   f"expected {expected}")
        else:
            forecasts = np.full((y.shape[0], 0, horizon), np.nan)
        origins = OriginForecasts.from_history(y, panel.indexes[P.TIME], lengths, forecasts)
        season = P.season_length(self.freq_)
        self.uncertainty_ = component.fit(origins, local_scale(y, season), groups=self.context_.occupation_major,
                                          series_index=self.series_index_,
                                          origin_scale=local_scale(y, season, lengths))

    def _min_train(self, season_length: int) -> int:
        """Shortest training length (periods) a refit of this model needs."""
        return 2

    def _origin_forecasts(self, panel: xr.Dataset, target: str, lengths: np.ndarray, horizon: int) -> np.ndarray:
        """Point forecasts ``(series, window, horizon)`` of refits on the first ``n`` periods, ``n`` in ``lengths``.

        Default: a clone of this model fitted (point only) on each cut panel. An origin where
        the model cannot be fitted (too little history) gives NaN forecasts: it is skipped. The
        refits' points are taken as the model makes them (``_predict_point``, clipped at 0 for a
        non-negative target), without the never-NaN patch of ``predict``: a non-finite forecast
        at an origin is no error to calibrate on (and a wrapper such as
        :class:`~lmforecast.models.fallback.WithFallback` must see it to replace it).
        """
        out = np.full((P.series_coords(panel).size, len(lengths), horizon), np.nan)
        bar = tqdm(lengths, desc=f"{type(self).__name__} calibration refits", leave=False, disable=None)
        with calibrating():
            self._refit_origins(panel, target, lengths, horizon, bar, out)
        bar.close()
        return out

    def _refit_origins(self, panel, target, lengths, horizon, bar, out) -> None:
        for w, length in enumerate(bar):
            cut = panel.isel({P.TIME: slice(0, int(length))})
            try:
                refit = clone(self)._fit_point(cut, target)
            except PanelError as exc:
                logger.info("%s: no calibration refit at origin %s (%s)", type(self).__name__,
                            f"{cut.indexes[P.TIME][-1]:%Y-%m}", exc)
                continue
            point = np.asarray(refit._predict_point(horizon), dtype=float)
            out[:, w, :] = np.clip(point, 0.0, None) if refit.nonnegative_ else point

    # --- update ----------------------------------------------------------------------------------
    def update(self, panel: xr.Dataset):
        """Re-anchor a fitted forecaster at the end of ``panel`` without re-estimating it; return ``self``.

        ``panel`` is the history up to a new forecast origin (e.g. the next backtest cutoff): same
        target variable, frequency, regions and occupations as in ``fit``, on the same time grid,
        ending no earlier than the fitted data (it may start later: rolling windows). The stored
        history, time index and labels are replaced, so ``predict`` forecasts the periods after
        the new last period; what "without re-estimating" keeps is up to the subclass hook
        ``_update_series(y, context)`` (see each model's docstring). The uncertainty layer stays
        as calibrated at the last ``fit``. Only data in ``panel`` is used, so an update at a
        cutoff is as leak-free as a fit at that cutoff.

        Raises
        ------
        NotImplementedError if the model has no update (``supports_update`` is False);
        NotFittedError before ``fit``; PanelError naming what differs from the fitted panel.
        On any error the forecaster is left as it was.
        """
        if not self.supports_update:
            raise NotImplementedError(f"{type(self).__name__} has no update(panel): refit it with fit(panel, target)")
        self._check_fitted()
        target = self.target_
        P.validate(panel)
        if target not in panel.data_vars:
            raise PanelError(f"update panel has no variable {target!r} (the fitted target); it has "
                             f"{sorted(map(str, panel.data_vars))}")
        freq = panel.attrs.get("freq")
        if freq != self.freq_:
            raise PanelError(f"update panel has freq {freq!r}, the model was fitted at freq {self.freq_!r}")
        for dim in (P.REGION, P.OCCUPATION):
            fitted = list(map(str, self.template_.indexes[dim]))
            new = list(map(str, panel.indexes[dim]))
            if new != fitted:
                added = sorted(set(new) - set(fitted))
                missing = sorted(set(fitted) - set(new))
                raise PanelError(f"update panel {dim} labels differ from the fitted ones: added {added}, "
                                 f"missing {missing}" + ("" if added or missing else " (order differs)"))
        times = panel.indexes[P.TIME]
        if len(times) < 2:
            raise PanelError(f"need at least 2 periods to update, got {len(times)}")
        if times[-1] < self.time_index_[-1]:
            raise PanelError(f"update panel ends at {times[-1]:%Y-%m-%d}, before the fitted data's end "
                             f"{self.time_index_[-1]:%Y-%m-%d}; update only moves the forecast origin forward")
        y, context = stack_target(panel, target)
        if not np.array_equal(np.asarray(context.occupation_major, dtype=str),
                              np.asarray(self.context_.occupation_major, dtype=str)):
            raise PanelError("update panel occupation_major coordinate differs from the fitted panel's")
        backup = dict(self.__dict__)
        try:
            self._set_fitted_labels(panel, target, y, context)
            self._update_series(y, context)
            self.context_ = context.without_panel()
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(backup)
            raise
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "target_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit(panel, target) first")

    # --- predict ---------------------------------------------------------------------------------
    def _predict_point_checked(self, horizon: int) -> np.ndarray:
        """``_predict_point`` with its shape checked and the never-NaN rule applied."""
        point = np.asarray(self._predict_point(int(horizon)), dtype=float)
        expected = (len(self.series_index_), int(horizon))
        if point.shape != expected:
            raise RuntimeError(f"{type(self).__name__}._predict_point returned shape {point.shape}, expected {expected}")
        bad = self.has_history_ & ~np.isfinite(point).all(axis=1)
        if bad.any():
            names = [tuple(map(str, self.series_index_[i])) for i in np.flatnonzero(bad)[:5]]
            logger.warning("%s forecast NaN for %d series with an observed history (first: %s); they get their "
                           "last observed value (naive)", type(self).__name__, int(bad.sum()), names)
            point = point.copy()
            point[bad] = np.where(np.isfinite(point[bad]), point[bad], self.last_observed_[bad, None])
        if self.nonnegative_:
            point = np.clip(point, 0.0, None)
        return point

    def predict(self, horizon: int, quantiles=DEFAULT_QUANTILES) -> xr.DataArray:
        """Forecast ``horizon`` periods after the training data.

        Returns
        -------
        DataArray named after the target, dims ``(time, region, occupation, quantile)``, in the
        target's units; ``quantile`` always contains 0.5 (the point forecast). Series with no
        observation at all are NaN.
        """
        self._check_fitted()
        if int(horizon) < 1:
            raise ValueError(f"horizon must be a positive number of periods, got {horizon}")
        horizon = int(horizon)
        levels = check_quantiles(quantiles)
        point = self._predict_point_checked(horizon)
        if levels == (0.5,):
            values = point[:, :, None]
        else:
            values = self._native_quantiles(horizon, levels, point)
            if values is None:
                if self.uncertainty_ is None:
                    raise ValueError(f"{type(self).__name__} was fitted with uncertainty='none': only "
                                     f"quantiles=(0.5,) can be predicted")
                values = self.uncertainty_.quantiles(point, levels)
            values = np.asarray(values, dtype=float).copy()
            values[:, :, levels.index(0.5)] = point
        if self.nonnegative_:
            values = np.clip(values, 0.0, None)
        values = np.sort(values, axis=-1)  # no quantile crossing
        return self._wrap(values, horizon, levels)

    def _native_quantiles(self, horizon: int, levels: tuple[float, ...], point: np.ndarray) -> np.ndarray | None:
        """The model's own quantiles ``(series, horizon, q)``, or None to use the uncertainty layer."""
        return None

    def _wrap(self, values: np.ndarray, horizon: int, levels) -> xr.DataArray:
        future = self.context_.future_index(horizon)
        stacked = xr.DataArray(values, dims=(P.SERIES, P.TIME, P.QUANTILE),
                               coords={P.SERIES: self.series_index_, P.TIME: future, P.QUANTILE: list(levels)},
                               name=self.target_)
        out = P.unstack_series(stacked, template=self.template_)
        out.attrs = dict(self.template_[self.target_].attrs)
        out.attrs["model"] = type(self).__name__
        return out

    def _wrap_paths(self, paths: np.ndarray, horizon: int, dtype=np.float64) -> xr.DataArray:
        if self.nonnegative_:
            paths = np.clip(paths, 0.0, None)
        paths = np.where(self.has_history_[:, None, None], paths, np.nan).astype(dtype)
        future = self.context_.future_index(horizon)
        stacked = xr.DataArray(paths, dims=(P.SERIES, P.TIME, "path"),
                               coords={P.SERIES: self.series_index_, P.TIME: future,
                                       "path": np.arange(paths.shape[2])}, name=self.target_)
        out = P.unstack_series(stacked, template=self.template_)
        out.attrs = dict(self.template_[self.target_].attrs)
        out.attrs["model"] = type(self).__name__
        return out

    def sample_paths(self, horizon: int, n_paths: int = 200, seed: int = 0) -> xr.DataArray:
        """Joint sample paths: dims ``(time, region, occupation, path)``, target units.

        Paths keep the calibrated dependence across horizon steps and across series (see
        :mod:`lmforecast.uncertainty`); their marginal quantiles match :meth:`predict`. Same
        seed, same paths.
        """
        self._check_fitted()
        if self.uncertainty_ is None:
            raise ValueError(f"{type(self).__name__} was fitted with uncertainty='none': no sample paths")
        point = self._predict_point_checked(int(horizon))
        paths = self.uncertainty_.sample(point, int(n_paths), np.random.default_rng(seed))
        return self._wrap_paths(paths, int(horizon))

    # --- the 2-D core, implemented by subclasses --------------------------------------------------
    def _fit_series(self, y: np.ndarray, context: FitContext) -> None:  # pragma: no cover
        raise NotImplementedError

    def _predict_point(self, horizon: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _update_series(self, y: np.ndarray, context: FitContext) -> None:
        """Re-anchor on ``y (series, time)`` without re-estimating (models with ``supports_update``)."""
        raise NotImplementedError(f"{type(self).__name__} has no update(panel)")


def _last_observed(y: np.ndarray) -> np.ndarray:
    """Last finite value of each series ``(series,)`` (NaN when none)."""
    observed = np.isfinite(y)
    any_obs = observed.any(axis=1)
    position = y.shape[1] - 1 - np.argmax(observed[:, ::-1], axis=1)
    return np.where(any_obs, y[np.arange(y.shape[0]), position], np.nan)
