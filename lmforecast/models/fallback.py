"""Per-series fallback: series a model cannot forecast get another model's forecasts.

:class:`WithFallback` wraps any forecaster. Series where the wrapped model fails get the
fallback's forecasts (default :class:`~lmforecast.models.baselines.SeasonalNaive`), with a logged
warning naming the series ``(region, occupation)`` and the reason. A series fails when

* the wrapped model reports it in ``failed_series_`` (a ``{position: reason}`` dict that
  per-series models such as Prophet fill in when one series raises), or
* ``fit`` of the wrapped model raises (then every series falls back; the reason is the error), or
* its forecast contains a non-finite value although its history has an observation (found at
  ``predict`` time, so ``fallback_series_`` can grow when ``predict`` is called).

Series with no observation at all are not failures: every model forecasts NaN for them.

Per-series models that catch their own failures use :func:`apply_fallback` so that the
warnings and the ``fallback_series_`` / ``fallback_reasons_`` attributes look the same.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from sklearn.base import clone

from lmforecast.models.base import FitContext, Forecaster

__all__ = ["WithFallback", "apply_fallback", "nonfinite_series"]

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
        ``fallback_reasons_`` (``{(region, occupation): reason}``) are updated.

    Returns
    -------
    A new array with the failed rows replaced. Each newly failed series is logged once (WARNING).
    """
    out = np.array(values, dtype=float, copy=True)
    reasons = getattr(owner, "fallback_reasons_", None)
    if reasons is None:
        reasons = {}
        owner.fallback_reasons_ = reasons
    for position, reason in sorted(failed.items()):
        key = tuple(series_index[position])
        out[position] = fallback_values[position]
        if key not in reasons:
            reasons[key] = reason
            logger.warning("%s failed for series (region=%r, occupation=%r): %s; using the fallback's "
                           "forecasts", model_name, key[0], key[1], reason)
    owner.fallback_series_ = list(reasons)
    return out


class WithFallback(Forecaster):
    """A forecaster whose failed series get a fallback model's forecasts.

    Parameters
    ----------
    model : the forecaster to use (cloned at ``fit``).
    fallback : the forecaster for failed series (cloned at ``fit``, fitted on the whole panel);
        ``None`` = ``SeasonalNaive()``.

    Attributes
    ----------
    model_, fallback_ : the fitted clones (``model_`` is ``None`` if its ``fit`` raised).
    fallback_series_ : list of ``(region, occupation)`` that used the fallback so far.
    fallback_reasons_ : ``{(region, occupation): reason}``.
    """

    def __init__(self, model: Forecaster, fallback: Forecaster | None = None):
        self.model = model
        self.fallback = fallback

    def _fit_series(self, y: np.ndarray, context: FitContext) -> None:
        from lmforecast.models.baselines import SeasonalNaive

        self.y_ = y
        self.fallback_series_: list[tuple] = []
        self.fallback_reasons_: dict[tuple, str] = {}
        self.fit_failed_: dict[int, str] = {}
        fallback = self.fallback if self.fallback is not None else SeasonalNaive()
        self.fallback_ = clone(fallback).fit(context.panel, context.target)
        self.model_ = clone(self.model)
        try:
            self.model_.fit(context.panel, context.target)
        except Exception as exc:  # noqa: BLE001 - any model failure is routed to the fallback
            self.model_ = None
            reason = f"fit raised {type(exc).__name__}: {exc}"
            self.fit_failed_ = {i: reason for i in range(y.shape[0])}
            return
        self.fit_failed_ = dict(getattr(self.model_, "failed_series_", {}) or {})

    def _predict_series(self, horizon: int, quantiles: tuple[float, ...]) -> np.ndarray:
        model_name = type(self.model).__name__
        shape = (len(self.series_index_), horizon, len(quantiles))
        if self.model_ is None:
            values = np.full(shape, np.nan)
            failed = dict(self.fit_failed_)
        else:
            try:
                values = np.asarray(self.model_._predict_series(horizon, quantiles), dtype=float)
            except Exception as exc:  # noqa: BLE001
                values = np.full(shape, np.nan)
                failed = {i: f"predict raised {type(exc).__name__}: {exc}" for i in range(shape[0])}
            else:
                failed = dict(self.fit_failed_)
                for position in nonfinite_series(values, self.y_):
                    failed.setdefault(int(position), "non-finite forecast")
        if not failed:
            return values
        fallback_values = self.fallback_._predict_series(horizon, quantiles)
        return apply_fallback(values, failed, fallback_values, self.series_index_, model_name, self)
