"""The forecaster contract shared by every model.

A forecaster follows scikit-learn's estimator rules (``__init__`` only stores its arguments,
``fit`` returns ``self``, fitted attributes end in ``_``, so ``get_params``/``clone`` work) and
speaks the panel contract:

* ``fit(panel, target)`` learns from every time step in ``panel`` (the caller cuts the panel at
  the forecast origin, so nothing after the cutoff can reach the model);
* ``predict(horizon, quantiles)`` returns an ``xarray.DataArray`` with dims
  ``time x region x occupation x quantile`` for the ``horizon`` periods after the last time step
  seen in ``fit``. The ``0.5`` quantile is the point forecast used by point metrics.

Subclasses implement only the 2-D core on stacked series (``series x time`` NumPy arrays):
``_fit_series(y, context)`` and ``_predict_series(horizon, quantiles) -> (series, horizon, q)``.
Models that can be re-anchored at a later origin without re-estimating (``update(panel)``, used
by backtests with ``refit_every > 1``) also implement ``_update_series(y, context)`` and set
``supports_update = True``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from sklearn.base import BaseEstimator

from lmforecast import panel as P
from lmforecast.errors import NotFittedError, PanelError

DEFAULT_QUANTILES: tuple[float, ...] = (0.1, 0.5, 0.9)


class FitContext:
    """What a model may know besides the target matrix, all cut at the forecast origin.

    Attributes
    ----------
    panel : the full (already cut) panel, for lagged exogenous variables.
    target : name of the target variable.
    time_index : ``pd.DatetimeIndex`` of the training periods.
    freq : pandas frequency alias of the panel (``"MS"``, ``"QS"``, ``"YS"``).
    season_length : periods per year (12, 4, 1).
    series_index : ``pd.MultiIndex`` of ``(region, occupation)`` in row order of ``y``.
    occupation_major : per-series major group labels (array of str), for hierarchy features.
    nonnegative : whether the target is a count/level that cannot go below zero.
    """

    def __init__(self, panel, target, time_index, freq, series_index, occupation_major, nonnegative):
        self.panel = panel
        self.target = target
        self.time_index = time_index
        self.freq = freq
        self.season_length = P.season_length(freq)
        self.series_index = series_index
        self.occupation_major = occupation_major
        self.nonnegative = nonnegative

    def future_index(self, horizon: int) -> pd.DatetimeIndex:
        """The ``horizon`` period starts after the last training period."""
        return pd.date_range(self.time_index[-1], periods=horizon + 1, freq=self.freq)[1:]


def check_quantiles(quantiles) -> tuple[float, ...]:
    """Validate and sort quantile levels; 0.5 is always included (it is the point forecast)."""
    levels = sorted(set(float(q) for q in quantiles) | {0.5})
    for q in levels:
        if not 0.0 < q < 1.0:
            raise ValueError(f"quantile levels must lie strictly between 0 and 1, got {q}")
    return tuple(levels)


class Forecaster(BaseEstimator):
    """Base class: stacks ``region x occupation`` into series and wraps the 2-D core.

    Subclasses set ``_fit_series`` and ``_predict_series``; they may also override
    ``_sample_paths_series`` for joint sample paths (default: independent draws from the
    interpolated quantiles, comonotone across horizon steps).
    """

    def fit(self, panel: xr.Dataset, target: str):
        """Fit on every period of ``panel[target]``; return ``self``.

        Parameters
        ----------
        panel : panel Dataset (see :mod:`lmforecast.panel`), already cut at the forecast origin.
        target : name of the variable to forecast (any panel variable, in its own units).
        """
        P.validate(panel, require=(target,))
        if panel.sizes[P.TIME] < 2:
            raise PanelError(f"need at least 2 periods to fit, got {panel.sizes[P.TIME]}")
        y, context, aggregation = self._stack_target(panel, target)
        self.target_ = target
        self.freq_ = panel.attrs["freq"]
        self.time_index_ = context.time_index
        self.series_index_ = context.series_index
        self.aggregation_ = aggregation
        self.template_ = panel[[target]].isel({P.TIME: slice(0, 0)})
        self.nonnegative_ = context.nonnegative
        self.context_ = context
        self._fit_series(y, context)
        return self

    @staticmethod
    def _stack_target(panel: xr.Dataset, target: str) -> tuple[np.ndarray, FitContext, str | None]:
        """Target matrix ``(series, time)`` (target units), its :class:`FitContext`, its aggregation."""
        y = P.stack_series(panel[target]).values.astype(float)
        series_index = P.series_coords(panel)
        if P.OCCUPATION_MAJOR in panel.coords:
            major_by_occ = pd.Series(panel[P.OCCUPATION_MAJOR].values.astype(str),
                                     index=panel.indexes[P.OCCUPATION])
            occupation_major = major_by_occ.reindex(series_index.get_level_values(P.OCCUPATION)).to_numpy()
        else:
            occupation_major = np.asarray(series_index.get_level_values(P.OCCUPATION).astype(str))
        aggregation = panel[target].attrs.get("aggregation", P.MEASURES.get(target, None) and P.MEASURES[target].aggregation)
        finite = y[np.isfinite(y)]
        nonnegative = bool(finite.size == 0 or finite.min() >= 0)
        context = FitContext(panel, target, panel.indexes[P.TIME], panel.attrs["freq"], series_index,
                             occupation_major, nonnegative)
        return y, context, aggregation

    #: whether :meth:`update` is implemented (subclasses that implement ``_update_series`` set it)
    supports_update: bool = False

    def update(self, panel: xr.Dataset):
        """Re-anchor a fitted forecaster at the end of ``panel`` without re-estimating it; return ``self``.

        ``panel`` is the history up to a new forecast origin (e.g. the next backtest cutoff): same
        target variable, frequency, regions and occupations as in ``fit``, on the same time grid,
        ending no earlier than the fitted data (it may start later: rolling windows). The stored
        history, time index and context are replaced, so ``predict`` forecasts the periods after
        the new last period; what "without re-estimating" keeps is up to the subclass hook
        ``_update_series(y, context)`` (see each model's docstring). Only data in ``panel`` is
        used, so an update at a cutoff is as leak-free as a fit at that cutoff.

        Parameters
        ----------
        panel : panel Dataset (see :mod:`lmforecast.panel`) cut at the new forecast origin.

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
        fitted_end = self.time_index_[-1]
        if len(times) < 2:
            raise PanelError(f"need at least 2 periods to update, got {len(times)}")
        if times[-1] < fitted_end:
            raise PanelError(f"update panel ends at {times[-1]:%Y-%m-%d}, before the fitted data's end "
                             f"{fitted_end:%Y-%m-%d}; update only moves the forecast origin forward")
        # same freq + P.validate (regular, anchored period starts) = on the fitted time grid
        y, context, aggregation = self._stack_target(panel, target)
        if not np.array_equal(np.asarray(context.occupation_major, dtype=str),
                              np.asarray(self.context_.occupation_major, dtype=str)):
            raise PanelError("update panel occupation_major coordinate differs from the fitted panel's")
        backup = dict(self.__dict__)
        try:
            self.time_index_ = context.time_index
            self.aggregation_ = aggregation
            self.template_ = panel[[target]].isel({P.TIME: slice(0, 0)})
            self.nonnegative_ = context.nonnegative
            self.context_ = context
            self._update_series(y, context)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(backup)
            raise
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "target_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit(panel, target) first")

    def predict(self, horizon: int, quantiles=DEFAULT_QUANTILES) -> xr.DataArray:
        """Forecast ``horizon`` periods after the training data.

        Returns
        -------
        DataArray named after the target, dims ``(time, region, occupation, quantile)``, in the
        target's units; ``quantile`` always contains 0.5 (the point forecast).
        """
        self._check_fitted()
        if int(horizon) < 1:
            raise ValueError(f"horizon must be a positive number of periods, got {horizon}")
        levels = check_quantiles(quantiles)
        values = np.asarray(self._predict_series(int(horizon), levels), dtype=float)
        expected = (len(self.series_index_), int(horizon), len(levels))
        if values.shape != expected:
            raise RuntimeError(f"{type(self).__name__}._predict_series returned shape {values.shape}, expected {expected}")
        if self.nonnegative_:
            values = np.clip(values, 0.0, None)
        values = np.sort(values, axis=-1)  # no quantile crossing
        return self._wrap(values, int(horizon), levels)

    def _wrap(self, values: np.ndarray, horizon: int, levels) -> xr.DataArray:
        future = self.context_.future_index(horizon)
        stacked = xr.DataArray(
            values,
            dims=(P.SERIES, P.TIME, P.QUANTILE),
            coords={P.SERIES: self.series_index_, P.TIME: future, P.QUANTILE: list(levels)},
            name=self.target_,
        )
        out = P.unstack_series(stacked, template=self.template_)
        out.attrs = dict(self.template_[self.target_].attrs)
        out.attrs["model"] = type(self).__name__
        return out

    def sample_paths(self, horizon: int, n_paths: int = 200, seed: int = 0) -> xr.DataArray:
        """Joint sample paths over the horizon: dims ``(time, region, occupation, path)``.

        Default: each path draws one uniform level per series and reads every horizon step's
        predictive distribution at it (linear interpolation between predicted quantiles), so
        paths are comonotone over time. Models with a generative error model override this.
        """
        self._check_fitted()
        levels = check_quantiles(np.linspace(0.02, 0.98, 25))
        q = np.sort(np.asarray(self._predict_series(int(horizon), levels), dtype=float), axis=-1)
        rng = np.random.default_rng(seed)
        u = rng.uniform(levels[0], levels[-1], size=(q.shape[0], n_paths))
        paths = np.empty((q.shape[0], int(horizon), n_paths))
        for s in range(q.shape[0]):
            for h in range(int(horizon)):
                paths[s, h] = np.interp(u[s], levels, q[s, h])
        if self.nonnegative_:
            paths = np.clip(paths, 0.0, None)
        future = self.context_.future_index(int(horizon))
        stacked = xr.DataArray(paths, dims=(P.SERIES, P.TIME, "path"),
                               coords={P.SERIES: self.series_index_, P.TIME: future,
                                       "path": np.arange(n_paths)}, name=self.target_)
        return P.unstack_series(stacked, template=self.template_)

    # --- the 2-D core, implemented by subclasses -------------------------------------------
    def _fit_series(self, y: np.ndarray, context: FitContext) -> None:  # pragma: no cover
        raise NotImplementedError

    def _predict_series(self, horizon: int, quantiles: tuple[float, ...]) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _update_series(self, y: np.ndarray, context: FitContext) -> None:
        """Re-anchor on ``y (series, time)`` without re-estimating (models with ``supports_update``)."""
        raise NotImplementedError(f"{type(self).__name__} has no update(panel)")
