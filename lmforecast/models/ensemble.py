"""Combine forecasters: mean or median of the members' point forecasts, averaged quantiles.

Point forecast (the 0.5 quantile): the (weighted) mean, or the median, of the members' points.

Other quantiles: **Vincentization** (averaging the members' quantile functions level by level,
Ratcliff 1979; Lichtendahl, Grushka-Cockayne & Winkler 2013), applied to each member's offsets
from its own point forecast and re-centred on the ensemble point:

    q_ens(tau) = point_ens + sum_m w_m (q_m(tau) - point_m)

With ``method="mean"`` this is exactly the (weighted) average of the members' quantiles; with
``method="median"`` the interval keeps the members' average widths (and asymmetry) but is
centred on the median point, so the 0.5 quantile stays the point forecast. Averaging quantiles
(rather than mixing distributions) gives intervals as wide as the members' on average, not
wider, and preserves the shape of the members' distributions.

Members that forecast NaN for a series (e.g. nothing to fit) are left out for that series.
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

    Attributes
    ----------
    members_ : ``{name: fitted clone}``.
    weights_ : ndarray of normalised weights in member order.

    ``update(panel)`` updates every fitted member (``supports_update`` is True only when every
    member supports it); the weights are kept.
    """

    def __init__(self, members, method: str = "median", weights=None):
        self.members = members
        self.method = method
        self.weights = weights

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
        self.members_ = {name: clone(member).fit(context.panel, context.target)
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

    def _predict_series(self, horizon: int, quantiles: tuple[float, ...]) -> np.ndarray:
        stacked = np.stack([np.sort(np.asarray(m._predict_series(horizon, quantiles), dtype=float), axis=-1)
                            for m in self.members_.values()])          # (member, series, horizon, q)
        mid = quantiles.index(0.5)
        points = stacked[..., mid]                                      # (member, series, horizon)
        available = np.isfinite(points)
        weights = np.where(available, self.weights_[:, None, None], 0.0)
        total = weights.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            if self.method == "mean":
                point = np.where(total > 0, np.nansum(weights * np.nan_to_num(points), axis=0) / total, np.nan)
            else:
                point = np.where(available.any(axis=0), _nanmedian(points), np.nan)
            offsets = stacked - points[..., None]
            offset = np.nansum(weights[..., None] * np.nan_to_num(offsets), axis=0) / total[..., None]
        out = point[..., None] + offset
        out[total == 0] = np.nan
        out[..., mid] = point
        return out


def _nanmedian(points: np.ndarray) -> np.ndarray:
    """``np.nanmedian`` over members (axis 0), silent for series where every member is NaN."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(points, axis=0)
