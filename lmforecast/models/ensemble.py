"""Combine forecasters: mean or median of the members' point forecasts.

Point forecast: the (weighted) mean, or the median, of the members' points. Intervals and sample
paths come from the ensemble's own calibration (the shared uncertainty layer,
:class:`lmforecast.uncertainty.ResidualUncertainty`): at each calibration origin the members are
refitted and their forecasts combined by the same rule, so the errors calibrated are the
combination's own. Members are fitted for their point forecasts only (no member calibrates).

Members that forecast NaN for a series are left out for that series.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
from sklearn.base import clone

from lmforecast.models.base import FitContext, Forecaster

__all__ = ["Ensemble"]


class Ensemble(Forecaster):
    """Mean or median ensemble of forecasters.

    Parameters
    ----------
    members : list of forecasters (named ``"0"``, ``"1"`` ...) or ``{name: forecaster}``;
        each is cloned and fitted on the same panel.
    method : ``"median"`` or ``"mean"`` of the members' point forecasts.
    weights : optional member weights (list in member order or ``{name: weight}``), used by
        ``"mean"`` for the point and by both methods for the quantile offsets; ``None`` = equal.
        Not allowed with ``"median"`` (a weighted median of a few members is ill-defined).
    uncertainty : the ensemble's uncertainty layer (see
        :class:`~lmforecast.models.base.Forecaster`); the members' own settings are not used.

    Attributes
    ----------
    members_ : ``{name: fitted clone}``.
    weights_ : ndarray of normalised weights in member order.

    ``update(panel)`` updates every fitted member (``supports_update`` is True only when every
    member supports it); the weights and the calibration are kept.
    """

    def __init__(self, members, method: str = "median", weights=None, uncertainty=None):
        self.members = members
        self.method = method
        self.weights = weights
        self.uncertainty = uncertainty

    def _named_members(self) -> dict:
        if isinstance(self.members, dict):
            named = {str(k): v for k, v in self.members.items()}
        else:
            named = {str(i): m for i, m in enumerate(self.members)}
        if not named:
            raise ValueError("Ensemble needs at least one member")
        for name, member in named.items():
            if not isinstance(member, Forecaster):
                raise TypeError(f"Ensemble member {name!r} is a {type(member).__name__}, not a Forecaster")
        return named

    def _fit_series(self, y: np.ndarray, context: FitContext) -> None:
        if self.method not in ("median", "mean"):
            raise ValueError(f"method must be 'median' or 'mean', got {self.method!r}")
        named = self._named_members()
        if self.weights is None:
            weights = np.ones(len(named))
        else:
            if self.method == "median":
                raise ValueError("weights are only supported with method='mean'")
            if isinstance(self.weights, dict):
                missing = set(named) - {str(k) for k in self.weights}
                if missing:
                    raise ValueError(f"weights lack members {sorted(missing)}")
                weights = np.array([float({str(k): v for k, v in self.weights.items()}[n]) for n in named])
            else:
                weights = np.asarray(self.weights, dtype=float)
            if weights.shape != (len(named),) or not np.all(np.isfinite(weights)) or np.any(weights < 0) \
                    or weights.sum() <= 0:
                raise ValueError(f"weights must be {len(named)} finite non-negative numbers with a positive "
                                 f"sum, got {self.weights!r}")
        self.weights_ = weights / weights.sum()
        self.members_ = {name: clone(member)._fit_point(context.panel, context.target)
                         for name, member in named.items()}

    @property
    def supports_update(self) -> bool:
        """True when every member can be updated (then ``update`` updates each of them)."""
        try:
            named = self._named_members()
        except (TypeError, ValueError):
            return False
        return all(getattr(member, "supports_update", False) for member in named.values())

    def _update_series(self, y: np.ndarray, context: FitContext) -> None:
        # members are updated on copies first, so a failing member leaves the ensemble unchanged
        updated = {name: copy.deepcopy(member).update(context.panel) for name, member in self.members_.items()}
        self.members_ = updated

    def _combine(self, points: np.ndarray) -> np.ndarray:
        """Combine member points ``(member, ...)`` into the ensemble point (NaN members skipped)."""
        available = np.isfinite(points)
        shape = (-1,) + (1,) * (points.ndim - 1)
        weights = np.where(available, self.weights_.reshape(shape), 0.0)
        total = weights.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            if self.method == "mean":
                return np.where(total > 0, np.nansum(weights * np.nan_to_num(points), axis=0) / total, np.nan)
            return np.where(available.any(axis=0), _nanmedian(points), np.nan)

    def _predict_point(self, horizon: int) -> np.ndarray:
        return self._combine(np.stack([m._predict_point_checked(horizon) for m in self.members_.values()]))

    def _origin_forecasts(self, panel, target, lengths, horizon):
        return self._combine(np.stack([m._origin_forecasts(panel, target, lengths, horizon)
                                       for m in self.members_.values()]))

    def _min_train(self, season_length: int) -> int:
        return max(m._min_train(season_length) for m in self.members_.values())


def _nanmedian(points: np.ndarray) -> np.ndarray:
    """``np.nanmedian`` over members (axis 0), silent for series where every member is NaN."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(points, axis=0)
