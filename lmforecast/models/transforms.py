"""Target transforms with exact inverses, usable by any model.

Each transform works on float arrays ``(series, time)`` (NaN = missing, kept as NaN), follows
scikit-learn's estimator rules (``clone`` works) and has

* ``fit(y) -> self``: learn what it needs from the TRAINING part only;
* ``transform(y) -> y'``: same shape (differencing leaves NaN in the first columns);
* ``inverse_transform(y_future, history=None) -> y``: map model-space values of the periods
  right after the training data back to the target's units. Only :class:`Difference` uses
  ``history`` (the untransformed series the future continues; default: the data seen in
  ``fit``); the other transforms are element-wise.

Round trip: ``t.fit(y_train)``; ``t.inverse_transform(t.transform(y_all)[:, n_train:])``
equals ``y_all[:, n_train:]`` (up to floating-point rounding).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator, clone

from lmforecast.uncertainty import series_scale

__all__ = ["Log1p", "Difference", "SeriesScaler", "Chain", "make_transform"]


def _as_2d(y, name: str = "y") -> np.ndarray:
    y = np.asarray(y, dtype=float)
    if y.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (series, time) array, got shape {y.shape}")
    return y


class Log1p(BaseEstimator):
    """``y -> log(1 + y)`` for counts and levels (>= 0); inverse ``expm1``.

    ``fit`` and ``transform`` raise ``ValueError`` naming the first negative value and its
    ``(series, time)`` position.
    """

    def fit(self, y):
        """Check ``y`` (series, time) is >= 0 where observed; return ``self``."""
        self._check(_as_2d(y))
        self.fitted_ = True
        return self

    @staticmethod
    def _check(y: np.ndarray) -> None:
        negative = np.argwhere(y < 0)
        if negative.size:
            s, t = negative[0]
            raise ValueError(f"Log1p needs values >= 0; got {float(y[s, t])!r} at series {s}, time {t} "
                             f"({len(negative)} negative values in all)")

    def transform(self, y):
        """Return ``log1p(y)`` (same shape; NaN stays NaN)."""
        y = _as_2d(y)
        self._check(y)
        return np.log1p(y)

    def inverse_transform(self, y_future, history=None):
        """Return ``expm1(y_future)`` in the target's units (``history`` is ignored)."""
        return np.expm1(_as_2d(y_future, "y_future"))


class Difference(BaseEstimator):
    """Differencing of order ``order`` at lag 1, or at lag ``season_length`` when ``seasonal``.

    ``transform(y)[:, t] = y[:, t] - y[:, t - lag]`` (applied ``order`` times; the first
    ``order * lag`` columns are NaN). ``inverse_transform`` integrates a continuation forward
    from the last ``order * lag`` values of ``history`` (default: the data seen in ``fit``);
    a NaN among those values makes the affected continuation NaN.
    """

    def __init__(self, order: int = 1, seasonal: bool = False, season_length: int = 1):
        self.order = order
        self.seasonal = seasonal
        self.season_length = season_length

    @property
    def lag(self) -> int:
        """Differencing lag in periods."""
        return int(self.season_length) if self.seasonal else 1

    def _check_params(self) -> None:
        if int(self.order) < 1:
            raise ValueError(f"Difference order must be >= 1, got {self.order}")
        if self.lag < 1:
            raise ValueError(f"Difference season_length must be >= 1, got {self.season_length}")

    def _levels(self, y: np.ndarray) -> list[np.ndarray]:
        """``[y, diff(y), diff(diff(y)), ...]`` (order + 1 arrays, same shape)."""
        levels = [y]
        lag = self.lag
        for _ in range(int(self.order)):
            prev = levels[-1]
            nxt = np.full_like(prev, np.nan)
            nxt[:, lag:] = prev[:, lag:] - prev[:, :-lag]
            levels.append(nxt)
        return levels

    def fit(self, y):
        """Remember the tails of ``y`` (series, time) needed to invert; return ``self``."""
        self._check_params()
        self.history_ = _as_2d(y).copy()
        return self

    def transform(self, y):
        """Return the differenced array (same shape, leading NaN columns)."""
        self._check_params()
        return self._levels(_as_2d(y))[-1]

    def inverse_transform(self, y_future, history=None):
        """Undo the differencing for the periods right after ``history``.

        Parameters
        ----------
        y_future : ``(series, horizon)`` differenced values of the future periods.
        history : ``(series, time)`` undifferenced values just before them (default: the
            data seen in ``fit``).

        Returns
        -------
        ``(series, horizon)`` values in the units of the untransformed series.
        """
        y_future = _as_2d(y_future, "y_future")
        history = self.history_ if history is None else _as_2d(history, "history")
        lag = self.lag
        need = int(self.order) * lag
        if history.shape[1] < need:
            raise ValueError(f"Difference(order={self.order}, lag={lag}) needs {need} past periods "
                             f"to invert, history has {history.shape[1]}")
        levels = self._levels(history)
        current = y_future
        for level in reversed(levels[:-1]):  # undo one differencing at a time
            tail = level[:, -lag:]
            extended = np.concatenate([tail, np.empty_like(current)], axis=1)
            for h in range(current.shape[1]):
                extended[:, lag + h] = current[:, h] + extended[:, h]
            current = extended[:, lag:]
        return current


class SeriesScaler(BaseEstimator):
    """Per-series scaling ``(y - center) / scale`` with statistics from the training part.

    Parameters
    ----------
    method : ``"mean"`` (scale = mean ``|y|``), ``"std"`` (standard deviation) or
        ``"seasonal_mae"`` (mean absolute seasonal difference, :func:`lmforecast.intervals.series_scale`).
    season_length : periods per season, for ``"seasonal_mae"``.
    center : subtract the series' training mean first.

    A scale that is 0 or undefined (constant, all-NaN or one-value series) becomes 1.0, so the
    transform is always invertible.
    """

    METHODS = ("mean", "std", "seasonal_mae")

    def __init__(self, method: str = "seasonal_mae", season_length: int = 1, center: bool = False):
        self.method = method
        self.season_length = season_length
        self.center = center

    def fit(self, y):
        """Learn ``center_`` and ``scale_`` (series,) from ``y`` (series, time); return ``self``."""
        y = _as_2d(y)
        if self.method not in self.METHODS:
            raise ValueError(f"SeriesScaler method must be one of {self.METHODS}, got {self.method!r}")
        observed = np.isfinite(y)
        count = observed.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(count > 0, np.where(observed, y, 0.0).sum(axis=1) / np.maximum(count, 1), np.nan)
            if self.method == "mean":
                scale = np.where(count > 0, np.where(observed, np.abs(y), 0.0).sum(axis=1) / np.maximum(count, 1),
                                 np.nan)
            elif self.method == "std":
                dev = np.where(observed, y - mean[:, None], 0.0)
                scale = np.where(count > 1, np.sqrt((dev ** 2).sum(axis=1) / np.maximum(count - 1, 1)), np.nan)
            else:
                scale = series_scale(y, int(self.season_length))
        scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
        self.center_ = np.where(np.isfinite(mean), mean, 0.0) if self.center else np.zeros(y.shape[0])
        self.scale_ = scale
        return self

    def _check_rows(self, y: np.ndarray) -> None:
        if y.shape[0] != self.scale_.shape[0]:
            raise ValueError(f"SeriesScaler was fitted on {self.scale_.shape[0]} series, got {y.shape[0]}")

    def transform(self, y):
        """Return ``(y - center_) / scale_`` (same shape, unitless)."""
        y = _as_2d(y)
        self._check_rows(y)
        return (y - self.center_[:, None]) / self.scale_[:, None]

    def inverse_transform(self, y_future, history=None):
        """Return ``y_future * scale_ + center_`` in the target's units (``history`` ignored)."""
        y_future = _as_2d(y_future, "y_future")
        self._check_rows(y_future)
        return y_future * self.scale_[:, None] + self.center_[:, None]


class Chain(BaseEstimator):
    """Apply transforms in order (fit each on the previous one's output); invert in reverse.

    Parameters
    ----------
    steps : sequence of transforms (each with fit / transform / inverse_transform). They are
        cloned on ``fit``; the fitted copies are in ``steps_``.
    """

    def __init__(self, steps: Sequence = ()):
        self.steps = steps

    def fit(self, y):
        """Fit every step on the output of the previous ones; return ``self``."""
        current = _as_2d(y)
        self.steps_ = []
        for step in self.steps:
            fitted = clone(step).fit(current)
            current = fitted.transform(current)
            self.steps_.append(fitted)
        return self

    def transform(self, y):
        """Apply every fitted step in order."""
        current = _as_2d(y)
        for step in self.steps_:
            current = step.transform(current)
        return current

    def inverse_transform(self, y_future, history=None):
        """Invert every step in reverse order.

        ``history`` (optional, in the original units) is passed to each step transformed by the
        steps before it, so differencing steps continue the right series.
        """
        histories = [None] * len(self.steps_)
        if history is not None:
            current = _as_2d(history, "history")
            for i, step in enumerate(self.steps_):
                histories[i] = current
                current = step.transform(current)
        current = _as_2d(y_future, "y_future")
        for step, past in zip(reversed(self.steps_), reversed(histories)):
            current = step.inverse_transform(current, history=past)
        return current


def make_transform(spec, season_length: int = 1):
    """Build a transform from a short name or return a transform object unchanged.

    Parameters
    ----------
    spec : ``None``/``"none"`` (identity), ``"log1p"``, ``"diff"``, ``"seasonal_diff"``,
        a :class:`SeriesScaler` method name (``"mean"``, ``"std"``, ``"seasonal_mae"``), or any
        object with ``fit``/``transform``/``inverse_transform``.
    season_length : periods per season, for seasonal differencing and scaling.

    Returns
    -------
    An unfitted transform, or ``None`` for the identity.
    """
    if spec is None or (isinstance(spec, str) and spec.lower() == "none"):
        return None
    if isinstance(spec, str):
        name = spec.lower()
        if name == "log1p":
            return Log1p()
        if name == "diff":
            return Difference()
        if name == "seasonal_diff":
            return Difference(seasonal=True, season_length=season_length)
        if name in SeriesScaler.METHODS:
            return SeriesScaler(name, season_length=season_length)
        raise ValueError(f"unknown transform {spec!r}; use None, 'log1p', 'diff', 'seasonal_diff', "
                         f"'mean', 'std', 'seasonal_mae' or a transform object")
    for method in ("fit", "transform", "inverse_transform"):
        if not callable(getattr(spec, method, None)):
            raise TypeError(f"transform {spec!r} lacks a {method}() method")
    return spec
