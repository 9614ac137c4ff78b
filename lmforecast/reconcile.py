"""Forecast reconciliation over the region x occupation hierarchy (bottom-up, OLS, MinT-shrink).

Hierarchy (built by :func:`summing_matrix` from the panel coordinates):

======================  =========================  ==========================================
level                   region label               occupation label
======================  =========================  ==========================================
``total``               ``national``               ``total``
``region``              each region                ``total``
``major``               ``national``               ``major:<g>`` for each major group ``g``
``region_major``        each region                ``major:<g>``
``occupation``          ``national``               each occupation
``bottom``              each region                each occupation
======================  =========================  ==========================================

These are exactly the cells of the cross product ``(regions + national) x (occupations +
major groups + total)``, so the aggregated series form an ordinary panel
(:func:`aggregate_panel`) that any forecaster can fit.

Reconciliation (Wickramasuriya, Athanasopoulos & Hyndman 2019, "Optimal forecast reconciliation
for hierarchical and grouped time series through trace minimization", JASA 114:804-819):
``bottom = G yhat`` with ``G = (S' W^-1 S)^-1 S' W^-1``,

* ``ols``: ``W = I``;
* ``mint_shrink`` (default): ``W`` = Schaefer-Strimmer shrinkage of the residual covariance
  towards its diagonal (:func:`shrink_covariance`). ``sklearn.covariance.ledoit_wolf`` shrinks
  towards a *scaled identity*, which would treat the grand total and a small bottom series as
  equally noisy; the diagonal target of the MinT paper keeps each series' own variance, so it
  is written out here (ten lines, following ``hts::shrink.estim`` in R);
* ``bottom_up``: the base bottom-level forecasts.

Non-negativity (``nonnegative=True``): negative reconciled bottom values are set to zero and the
aggregates are re-derived bottom-up (``S @ bottom``), so the result stays coherent; totals can
then exceed the unconstrained MinT totals by the clipped amounts.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
import scipy.linalg
import scipy.sparse
import xarray as xr
from sklearn.base import clone

from lmforecast import panel as P
from lmforecast.errors import PanelError
from lmforecast.models.base import FitContext, Forecaster

__all__ = ["summing_matrix", "reconcile", "shrink_covariance", "aggregate_panel", "Reconciled",
           "LEVELS", "TOTAL", "MAJOR_PREFIX"]

logger = logging.getLogger(__name__)

LEVELS = ("total", "region", "major", "region_major", "occupation", "bottom")
TOTAL = "total"
MAJOR_PREFIX = "major:"
METHODS = ("mint_shrink", "ols", "bottom_up")


def summing_matrix(series_index: pd.MultiIndex, occupation_major) -> tuple[scipy.sparse.csr_array, pd.MultiIndex]:
    """Summing matrix ``S`` of the region x occupation hierarchy.

    Parameters
    ----------
    series_index : ``(region, occupation)`` MultiIndex of the bottom series (row order of the
        bottom-level arrays).
    occupation_major : per-series major-group labels, same length.

    Returns
    -------
    (S, labels): ``S`` is a sparse 0/1 matrix ``(n_total, n_bottom)`` whose rows are every level
    of :data:`LEVELS` in that order (the last ``n_bottom`` rows are the identity, in
    ``series_index`` order); ``labels`` is a ``(level, region, occupation)`` MultiIndex of the
    rows (see the module docstring for the aggregate labels).
    """
    regions_of = np.array([str(v) for v in series_index.get_level_values(0)], dtype=object)
    occupations_of = np.array([str(v) for v in series_index.get_level_values(1)], dtype=object)
    majors_of = np.array([str(v) for v in np.asarray(occupation_major)], dtype=object)
    if majors_of.shape != regions_of.shape:
        raise ValueError(f"occupation_major has {majors_of.size} labels for {regions_of.size} series")
    regions = list(dict.fromkeys(regions_of))
    occupations = list(dict.fromkeys(occupations_of))
    majors = list(dict.fromkeys(majors_of))
    n_bottom = len(series_index)
    rows: list[tuple[str, str, str]] = []
    masks: list[np.ndarray] = []

    def add(level, region, occupation, mask):
        rows.append((level, region, occupation))
        masks.append(np.flatnonzero(mask))

    everything = np.ones(n_bottom, dtype=bool)
    add("total", P.NATIONAL, TOTAL, everything)
    for r in regions:
        add("region", r, TOTAL, regions_of == r)
    for g in majors:
        add("major", P.NATIONAL, MAJOR_PREFIX + g, majors_of == g)
    for r in regions:
        for g in majors:
            mask = (regions_of == r) & (majors_of == g)
            if mask.any():
                add("region_major", r, MAJOR_PREFIX + g, mask)
    for o in occupations:
        add("occupation", P.NATIONAL, o, occupations_of == o)
    for i in range(n_bottom):
        rows.append(("bottom", regions_of[i], occupations_of[i]))
        masks.append(np.array([i]))
    indptr = np.concatenate([[0], np.cumsum([m.size for m in masks])])
    indices = np.concatenate(masks)
    S = scipy.sparse.csr_array((np.ones(indices.size), indices, indptr), shape=(len(rows), n_bottom))
    labels = pd.MultiIndex.from_tuples(rows, names=["level", P.REGION, P.OCCUPATION])
    return S, labels


def shrink_covariance(residuals: np.ndarray) -> tuple[np.ndarray, float]:
    """Schaefer-Strimmer shrinkage of a residual covariance towards its diagonal.

    Parameters
    ----------
    residuals : ``(series, time)`` residuals (target units), assumed mean zero (not centred, as
        in the MinT paper); only time columns where every series is finite are used.

    Returns
    -------
    (W, lambda): ``W`` ``(series, series)`` in squared target units, ``lambda`` in [0, 1] the
    shrinkage intensity (1 = diagonal only). With fewer than 2 complete columns, ``W`` is the
    diagonal of per-series mean squared residuals (NaN-aware) and ``lambda = 1``.
    """
    residuals = np.asarray(residuals, dtype=float)
    complete = np.isfinite(residuals).all(axis=0)
    x = residuals[:, complete].T                                 # (time, series)
    n = x.shape[0]
    if n < 2:
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)   # rows without residuals: floored below
            var = np.nanmean(residuals ** 2, axis=1)
        var = _floor_variance(var)
        return np.diag(var), 1.0
    cov = x.T @ x / n
    var = _floor_variance(np.diag(cov).copy())
    sd = np.sqrt(var)
    xs = x / sd
    corr = cov / np.outer(sd, sd)
    # variance of the sample correlations (Schaefer & Strimmer 2005, eq. for target D)
    v = (xs ** 2).T @ (xs ** 2) - (xs.T @ xs) ** 2 / n
    v *= 1.0 / (n * (n - 1))
    np.fill_diagonal(v, 0.0)
    off = corr.copy()
    np.fill_diagonal(off, 0.0)
    denom = float((off ** 2).sum())
    lam = 1.0 if denom <= 0 else float(np.clip(v.sum() / denom, 0.0, 1.0))
    W = lam * np.diag(var) + (1.0 - lam) * cov
    np.fill_diagonal(W, var)
    return W, lam


def _floor_variance(var: np.ndarray) -> np.ndarray:
    """Replace zero/NaN variances (constant or empty residual series) by a tiny positive value."""
    var = np.asarray(var, dtype=float)
    positive = var[np.isfinite(var) & (var > 0)]
    floor = 1e-8 * (positive.max() if positive.size else 1.0)
    return np.where(np.isfinite(var) & (var > floor), var, floor)


def _stack_levels(base_forecasts, labels: pd.MultiIndex | None, n_total: int) -> np.ndarray:
    if isinstance(base_forecasts, Mapping):
        if labels is None:
            raise ValueError("base_forecasts given per level need labels (from summing_matrix)")
        level_of = labels.get_level_values("level")
        parts = []
        for level in dict.fromkeys(level_of):
            if level not in base_forecasts:
                raise ValueError(f"base_forecasts lack level {level!r}; got {sorted(base_forecasts)}")
            part = np.asarray(base_forecasts[level], dtype=float)
            expected = int((level_of == level).sum())
            if part.shape[0] != expected:
                raise ValueError(f"base_forecasts[{level!r}] has {part.shape[0]} rows, expected {expected}")
            parts.append(part)
        values = np.concatenate(parts, axis=0)
    else:
        values = np.asarray(base_forecasts, dtype=float)
    if values.shape[0] != n_total:
        raise ValueError(f"base_forecasts have {values.shape[0]} rows, S has {n_total}")
    return values


def reconcile(base_forecasts, S, method: str = "mint_shrink", residuals: np.ndarray | None = None,
              nonnegative: bool = True, labels: pd.MultiIndex | None = None) -> np.ndarray:
    """Reconcile base forecasts of every level into coherent bottom-level forecasts.

    Parameters
    ----------
    base_forecasts : array ``(n_total,)`` or ``(n_total, k)`` (e.g. ``k`` horizon steps) in the
        row order of ``S``, or ``{level: array (n_level, ...)}`` with ``labels``.
    S : summing matrix ``(n_total, n_bottom)`` from :func:`summing_matrix` (sparse or dense).
    method : ``"mint_shrink"`` (needs ``residuals``), ``"ols"`` or ``"bottom_up"``.
    residuals : ``(n_total, time)`` in-sample or calibration residuals (actual - forecast) of
        the base forecasts, for ``mint_shrink``.
    nonnegative : clip reconciled bottom values at 0 (see the module docstring).
    labels : row labels of ``S`` (needed for dict input and for error messages).

    Returns
    -------
    ndarray ``(n_bottom,)`` or ``(n_bottom, k)`` in target units; ``S @ result`` gives the
    coherent forecasts of every level.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    S = scipy.sparse.csr_array(S) if scipy.sparse.issparse(S) else scipy.sparse.csr_array(np.asarray(S))
    n_total, n_bottom = S.shape
    values = _stack_levels(base_forecasts, labels, n_total)
    vector = values.ndim == 1
    yhat = values.reshape(n_total, -1)
    bad = np.flatnonzero(~np.isfinite(yhat).all(axis=1))
    if method == "bottom_up":
        bad = bad[bad >= n_total - n_bottom]
    if bad.size:
        where = labels[bad[0]] if labels is not None else f"row {bad[0]}"
        raise ValueError(f"base forecast of {where} is not finite ({yhat[bad[0]]}); reconcile needs "
                         f"finite forecasts for every series of the hierarchy")
    if method == "bottom_up":
        bottom = yhat[n_total - n_bottom:].copy()
    else:
        if method == "ols":
            W = np.eye(n_total)
        else:
            if residuals is None:
                raise ValueError("method='mint_shrink' needs residuals (n_total, time)")
            residuals = np.asarray(residuals, dtype=float)
            if residuals.ndim != 2 or residuals.shape[0] != n_total:
                raise ValueError(f"residuals must be ({n_total}, time), got {residuals.shape}")
            W, lam = shrink_covariance(residuals)
            logger.debug("MinT shrinkage intensity lambda=%.3f", lam)
        S_dense = S.toarray()
        factor = scipy.linalg.cho_factor(W)
        winv_s = scipy.linalg.cho_solve(factor, S_dense)                 # W^-1 S
        normal = S_dense.T @ winv_s                                      # S' W^-1 S
        bottom = scipy.linalg.solve(normal, winv_s.T @ yhat, assume_a="pos")
    if nonnegative:
        bottom = np.maximum(bottom, 0.0)
    return bottom[:, 0] if vector else bottom


def aggregate_panel(panel: xr.Dataset, target: str) -> tuple[xr.Dataset, scipy.sparse.csr_array, pd.MultiIndex]:
    """Panel of every hierarchy level for ``target`` (sums of the bottom series).

    Parameters
    ----------
    panel : panel Dataset with an ``occupation_major`` coordinate.
    target : variable to aggregate (summed, NaN-aware: an aggregate is NaN only when all its
        bottom series are).

    Returns
    -------
    (aggregated, S, labels): ``aggregated`` has regions ``+ ["national"]`` and occupations
    ``+ ["major:<g>" ...] + ["total"]`` (dims time x region x occupation), ``S`` and ``labels``
    as in :func:`summing_matrix` for the panel's series.
    """
    P.validate(panel, require=(target,))
    if P.OCCUPATION_MAJOR not in panel.coords:
        raise PanelError("reconciliation needs the 'occupation_major' coordinate on the panel")
    series_index = P.series_coords(panel)
    major_by_occ = pd.Series(panel[P.OCCUPATION_MAJOR].values.astype(str), index=panel.indexes[P.OCCUPATION])
    majors = major_by_occ.reindex(series_index.get_level_values(P.OCCUPATION)).to_numpy()
    S, labels = summing_matrix(series_index, majors)
    y = P.stack_series(panel[target]).values.astype(float)            # (bottom, time)
    observed = np.isfinite(y)
    sums = S @ np.where(observed, y, 0.0)
    counts = S @ observed.astype(float)
    aggregated = np.where(counts > 0, sums, np.nan)                   # (n_total, time)
    regions = [str(r) for r in panel.indexes[P.REGION]] + [P.NATIONAL]
    occupations = ([str(o) for o in panel.indexes[P.OCCUPATION]]
                   + [MAJOR_PREFIX + g for g in dict.fromkeys(majors)] + [TOTAL])
    if len(set(regions)) != len(regions) or len(set(occupations)) != len(occupations):
        raise PanelError(f"panel labels collide with the aggregate labels {P.NATIONAL!r}, {TOTAL!r} or "
                         f"'{MAJOR_PREFIX}*'; rename those regions/occupations")
    cube = np.full((panel.sizes[P.TIME], len(regions), len(occupations)), np.nan)
    r_pos = {r: i for i, r in enumerate(regions)}
    o_pos = {o: i for i, o in enumerate(occupations)}
    for row, (_, region, occupation) in enumerate(labels):
        cube[:, r_pos[region], o_pos[occupation]] = aggregated[row]
    occ_major = [str(major_by_occ[o]) for o in panel.indexes[P.OCCUPATION]] + \
        [g for g in dict.fromkeys(majors)] + [TOTAL]
    out = xr.Dataset(
        {target: ((P.TIME, P.REGION, P.OCCUPATION), cube, dict(panel[target].attrs))},
        coords={P.TIME: panel.indexes[P.TIME], P.REGION: regions, P.OCCUPATION: occupations,
                P.OCCUPATION_MAJOR: (P.OCCUPATION, occ_major)},
        attrs=dict(panel.attrs))
    return out, S, labels


class Reconciled(Forecaster):
    """Forecast every hierarchy level with ``model`` and reconcile to coherent bottom forecasts.

    ``fit`` builds :func:`aggregate_panel`, fits a clone of ``model`` (point forecasts) on it and,
    for ``mint_shrink``, collects one-step-ahead residuals of every level from
    ``residual_windows`` refits at the last origins of the training data (``residual_windows``
    extra fits of ``model``: cheap for baselines, costly for Prophet). The point forecast is the
    reconciled bottom level. Intervals and sample paths come from the uncertainty layer,
    calibrated on the reconciled forecasts' own errors; :meth:`predict_all_levels` gives every
    level, its quantiles computed from the bottom series' joint sample paths summed up the
    hierarchy (so an aggregate's interval is the interval of the sum). Bottom series with no
    observation are left out of the hierarchy and forecast NaN.

    Parameters
    ----------
    model : forecaster for every level (cloned).
    method : ``"mint_shrink"``, ``"ols"`` or ``"bottom_up"``.
    residual_windows : one-step residuals per series for ``W`` (``mint_shrink`` only).
    uncertainty : the uncertainty layer (see :class:`~lmforecast.models.base.Forecaster`).

    Attributes
    ----------
    model_ : the fitted clone; ``S_``, ``labels_`` : hierarchy of the observed series;
    residuals_ : ``(n_total, residual_windows)``; levels_template_ : labels of every level.
    """

    def __init__(self, model: Forecaster, method: str = "mint_shrink", residual_windows: int = 12,
                 uncertainty=None):
        self.model = model
        self.method = method
        self.residual_windows = residual_windows
        self.uncertainty = uncertainty

    def _fit_series(self, y: np.ndarray, context: FitContext) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        self.active_ = np.isfinite(y).any(axis=1)
        if not self.active_.any():
            raise PanelError(f"{context.target} has no observation to reconcile")
        aggregated, self.S_, self.labels_ = aggregate_panel(context.panel, context.target)
        self.levels_template_ = aggregated[[context.target]].isel({P.TIME: slice(0, 0)})
        self.model_ = clone(self.model)._fit_point(aggregated, context.target)
        self.residuals_ = None
        if self.method == "mint_shrink":
            self.residuals_ = self._one_step_residuals(aggregated, context.target)

    def _one_step_residuals(self, aggregated: xr.Dataset, target: str) -> np.ndarray:
        """One-step errors ``(n_total, windows)`` of refits at the last ``residual_windows`` origins."""
        y_all = self._stack(aggregated[target])
        n_time = y_all.shape[1]
        origins = [n for n in range(n_time - int(self.residual_windows), n_time) if n >= 2]
        out = np.full((y_all.shape[0], len(origins)), np.nan)
        for w, origin in enumerate(origins):
            refit = clone(self.model)._fit_point(aggregated.isel({P.TIME: slice(0, origin)}), target)
            forecast = refit._predict_point_checked(1)[:, 0]
            out[:, w] = y_all[:, origin] - self._rows_of(refit, forecast)
        return out

    def _rows_of(self, model: Forecaster, values: np.ndarray) -> np.ndarray:
        """Rows of a per-series array of ``model`` (aggregated panel order) in ``labels_`` order."""
        keys = pd.MultiIndex.from_arrays([self.labels_.get_level_values(1), self.labels_.get_level_values(2)])
        return np.asarray(values)[model.series_index_.get_indexer(keys)]

    def _stack(self, array: xr.DataArray) -> np.ndarray:
        """Values of an aggregated-panel array in ``labels_`` row order: ``(n_total, time)``."""
        stacked = P.stack_series(array)
        keys = pd.MultiIndex.from_arrays([self.labels_.get_level_values(1), self.labels_.get_level_values(2)])
        positions = stacked.indexes[P.SERIES].get_indexer(keys)
        return stacked.values[positions]

    def _hierarchy(self):
        """(row mask over ``labels_``, summing matrix of the used rows over active bottom series)."""
        n_bottom = self.S_.shape[1]
        S = self.S_[:, self.active_]
        rows = np.ones(S.shape[0], dtype=bool)
        rows[-n_bottom:] = self.active_
        rows &= np.asarray(S.sum(axis=1)).ravel() > 0                       # aggregates of nothing
        return rows, S[rows]

    def _predict_point(self, horizon: int) -> np.ndarray:
        base = self._rows_of(self.model_, self.model_._predict_point_checked(horizon))   # (n_total, h)
        rows, S = self._hierarchy()
        residuals = self.residuals_[rows] if self.residuals_ is not None else None
        bottom = reconcile(base[rows], S, self.method, residuals=residuals, nonnegative=self.nonnegative_,
                           labels=self.labels_[rows])
        out = np.full((self.S_.shape[1], horizon), np.nan)
        out[self.active_] = bottom
        return out

    def predict_all_levels(self, horizon: int, quantiles=(0.1, 0.5, 0.9), n_paths: int = 500,
                           seed: int = 0) -> xr.DataArray:
        """Coherent forecasts of every level on the aggregated panel's labels.

        Returns
        -------
        DataArray ``(time, region, occupation, quantile)`` with regions ``+ national`` and
        occupations ``+ major:<g> + total`` (see :func:`aggregate_panel`), target units. The 0.5
        quantile of each aggregate is the sum of its bottom series' points; the other quantiles
        are those of the sums of ``n_paths`` joint sample paths of the bottom series, clamped to
        the point sum where they fall on its wrong side (lower levels never above it, upper
        levels never below it).
        """
        from lmforecast.models.base import check_quantiles

        self._check_fitted()
        levels_q = check_quantiles(quantiles)
        horizon = int(horizon)
        point = self._predict_point_checked(horizon)[self.active_]               # (bottom, h)
        rows, S = self._hierarchy()
        full = np.full((len(self.labels_), horizon, len(levels_q)), np.nan)
        sums = S @ point
        if levels_q != (0.5,):
            paths = self.uncertainty_.sample(self._predict_point_checked(horizon), int(n_paths),
                                             np.random.default_rng(seed))[self.active_]
            if self.nonnegative_:
                paths = np.clip(paths, 0.0, None)
            summed = (S @ paths.reshape(paths.shape[0], -1)).reshape(S.shape[0], horizon, -1)
            full[rows] = np.quantile(summed, levels_q, axis=-1).transpose(1, 2, 0)
        mid = levels_q.index(0.5)
        full[rows, :, mid] = sums
        # the sum of medians is not the median of the sum (skewed or one-sided errors): a path
        # quantile on the wrong side of the point sum is clamped to it, never sorted past it
        full[..., :mid] = np.fmin(full[..., :mid], full[..., mid:mid + 1])
        full[..., mid + 1:] = np.fmax(full[..., mid + 1:], full[..., mid:mid + 1])
        keys = pd.MultiIndex.from_arrays([self.labels_.get_level_values(1), self.labels_.get_level_values(2)],
                                         names=[P.REGION, P.OCCUPATION])
        stacked = xr.DataArray(full, dims=(P.SERIES, P.TIME, P.QUANTILE),
                               coords={P.SERIES: keys, P.TIME: self.context_.future_index(horizon),
                                       P.QUANTILE: list(levels_q)}, name=self.target_)
        out = P.unstack_series(stacked, template=self.levels_template_)
        out.attrs = dict(self.levels_template_[self.target_].attrs)
        return out
