"""Per-series fallback: series a model cannot forecast get another model's forecasts.

:class:`WithFallback` wraps any forecaster. Series where the wrapped model fails get the
fallback's forecasts (default :class:`~lmforecast.models.baselines.SeasonalNaive`), with a logged
warning naming the series ``(region, occupation)`` and the reason. A series fails when

* the wrapped model reports it in ``failed_series_`` (a ``{position: reason}`` dict that
  per-series models such as Prophet fill in when one series raises), or
* ``fit`` of the wrapped model raises (then every series falls back; the reason is the error), or
* its point forecast contains a non-finite value although its history has an observation.

Calibration refits combine the same way: at each origin a series the model cannot forecast gets
the fallback's forecast, so the uncertainty layer sees the errors of what is actually used.

Series with no observation at all are not failures: every model forecasts NaN for them.

Per-series models that catch their own failures use :func:`apply_fallback` so that the
warnings and the ``fallback_series_`` / ``fallback_reasons_`` attributes look the same.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from sklearn.base import clone

from lmforecast.models.base import FitContext, Forecaster, fallback_level

__all__ = ["WithFallback", "apply_fallback", "nonfinite_series", "replace_failed"]

logger = logging.getLogger(__name__)


def nonfinite_series(values: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Positions of series with a non-finite forecast although their history has an observation.

    Parameters
    ----------
    values : forecasts ``(series, horizon, quantile)`` (or ``(series, horizon)``).
    y : training data ``(series, time)``.

    Returns
    -------
    int array of series positions.
    """
    values = np.asarray(values, dtype=float)
    bad = ~np.isfinite(values.reshape(values.shape[0], -1)).all(axis=1)
    has_history = np.isfinite(y).any(axis=1)
    return np.flatnonzero(bad & has_history)


def apply_fallback(values: np.ndarray, failed: dict[int, str], fallback_values: np.ndarray,
                   series_index: pd.MultiIndex, model_name: str, owner) -> np.ndarray:
    """Replace failed series' rows by the fallback's and record them on ``owner``.

    Parameters
    ----------
    values : model forecasts ``(series, horizon, quantile)`` in target units.
    failed : ``{series position: reason}``.
    fallback_values : the fallback model's forecasts, same shape as ``values``.
    series_index : ``(region, occupation)`` MultiIndex in row order.
    model_name : name of the failing model, for the warning.
    owner : the forecaster whose ``fallback_series_`` (list of ``(region, occupation)``) and
        ``fallback_reasons_`` (``{(region, occupation): reason}``) are updated (at ``fit``);
        ``None`` (at ``predict``, which has no side effects) only logs.

    Returns
    -------
    A new array with the failed rows replaced. Each failed series not yet recorded on ``owner``
    is logged (WARNING) with its reason.
    """
    out = np.array(values, dtype=float, copy=True)
    reasons = {} if owner is None else getattr(owner, "fallback_reasons_", None)
    if reasons is None:
        reasons = {}
    known = set() if owner is None else set(getattr(owner, "fallback_reasons_", None) or {})
    for position, reason in sorted(failed.items()):
        key = tuple(map(str, series_index[position]))
        out[position] = fallback_values[position]
        if key not in known:
            reasons[key] = reason
            logger.log(fallback_level(), "%s failed for series (region=%r, occupation=%r): %s; using the "
                       "fallback's forecasts", model_name, key[0], key[1], reason)
    if owner is not None:
        owner.fallback_reasons_ = reasons
        owner.fallback_series_ = list(reasons)
    return out


def replace_failed(values: np.ndarray, failed: dict[int, str], fallback_values: np.ndarray,
                   series_index: pd.MultiIndex, model_name: str, recorded: dict) -> np.ndarray:
    """Rows of ``failed`` series replaced by the fallback's, at predict time (no side effects).

    Failures already ``recorded`` at fit (``{(region, occupation): reason}``) are not logged
    again; new ones (e.g. a longer horizon than at fit) are logged as warnings.
    """
    if not failed:
        return values
    new = {i: r for i, r in failed.items() if tuple(map(str, series_index[i])) not in recorded}
    if new:
        apply_fallback(values, new, fallback_values, series_index, model_name, None)
    out = np.array(values, dtype=float, copy=True)
    rows = sorted(failed)
    out[rows] = fallback_values[rows]
    return out


class WithFallback(Forecaster):
    """A forecaster whose failed series get a fallback model's forecasts.

    Parameters
    ----------
    model : the forecaster to use (cloned at ``fit``).
    fallback : the forecaster for failed series (cloned at ``fit``, fitted on the whole panel);
        ``None`` = ``SeasonalNaive()``.
    uncertainty : the uncertainty layer (see :class:`~lmforecast.models.base.Forecaster`).

    Attributes
    ----------
    model_, fallback_ : the fitted clones (``model_`` is ``None`` if its ``fit`` raised).
    fallback_series_ : list of ``(region, occupation)`` that use the fallback: found at ``fit``
        (the model's fit failed for them, or its point forecast over the calibrated horizon
        is non-finite).
    fallback_reasons_ : ``{(region, occupation): reason}``.
    """

    def __init__(self, model: Forecaster, fallback: Forecaster | None = None, uncertainty=None):
        self.model = model
        self.fallback = fallback
        self.uncertainty = uncertainty

    def _fit_series(self, y: np.ndarray, context: FitContext) -> None:
        from lmforecast.models.baselines import SeasonalNaive

        self.y_ = y
        self.fallback_series_: list[tuple] = []
        self.fallback_reasons_: dict[tuple, str] = {}
        self.fit_failed_: dict[int, str] = {}
        fallback = self.fallback if self.fallback is not None else SeasonalNaive()
        self.fallback_ = clone(fallback)._fit_point(context.panel, context.target)
        self.model_ = clone(self.model)
        try:
            self.model_._fit_point(context.panel, context.target)
        except Exception as exc:  # noqa: BLE001 - any model failure is routed to the fallback
            self.model_ = None
            reason = f"fit raised {type(exc).__name__}: {exc}"
            self.fit_failed_ = {i: reason for i in range(y.shape[0])}
        else:
            self.fit_failed_ = dict(getattr(self.model_, "failed_series_", {}) or {})
        self._record_failures(context)

    def _record_failures(self, context) -> None:
        """Find (and log) at fit the series whose forecasts over the calibrated horizon need the fallback."""
        from lmforecast.uncertainty import planning_horizon

        component = self._uncertainty()
        horizon = component.horizon_for(context.freq) if component is not None else planning_horizon(context.freq)
        failed = dict(self.fit_failed_)
        if self.model_ is not None:
            try:
                values = np.asarray(self.model_._predict_point(horizon), dtype=float)
            except Exception as exc:  # noqa: BLE001
                failed = {i: f"predict raised {type(exc).__name__}: {exc}" for i in range(self.y_.shape[0])}
            else:
                for position in nonfinite_series(values, self.y_):
                    failed.setdefault(int(position), "non-finite forecast")
        if failed:
            apply_fallback(np.zeros((self.y_.shape[0], 1)), failed, np.zeros((self.y_.shape[0], 1)),
                           context.series_index, type(self.model).__name__, self)

    def _predict_point(self, horizon: int) -> np.ndarray:
        model_name = type(self.model).__name__
        shape = (len(self.series_index_), horizon)
        if self.model_ is None:
            values = np.full(shape, np.nan)
            failed = dict(self.fit_failed_)
        else:
            try:
                values = np.asarray(self.model_._predict_point(horizon), dtype=float)
            except Exception as exc:  # noqa: BLE001
                values = np.full(shape, np.nan)
                failed = {i: f"predict raised {type(exc).__name__}: {exc}" for i in range(shape[0])}
            else:
                failed = dict(self.fit_failed_)
                for position in nonfinite_series(values, self.y_):
                    failed.setdefault(int(position), "non-finite forecast")
        if not failed:
            return values
        fallback_values = self.fallback_._predict_point_checked(horizon)
        return replace_failed(values, failed, fallback_values, self.series_index_, model_name,
                              self.fallback_reasons_)

    def _origin_forecasts(self, panel, target, lengths, horizon):
        fallback = self.fallback_._origin_forecasts(panel, target, lengths, horizon)
        if self.model_ is None:
            return fallback
        try:
            model = np.asarray(self.model_._origin_forecasts(panel, target, lengths, horizon), dtype=float)
        except Exception:  # noqa: BLE001 - the fallback covers what the model cannot do
            return fallback
        return np.where(np.isfinite(model), model, fallback)
