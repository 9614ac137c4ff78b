"""Global forecaster around any scikit-learn regressor: one model across all series.

How a forecast is made (all in vectorised NumPy over every series at once):

1. **Target space.** The target matrix ``y (series, time)`` goes through ``transform``
   (default ``log1p``) and a per-series ``scaler`` (default: divide by the mean absolute
   seasonal difference), both fitted on the training data only. Call the result ``u``.
2. **Relative target** (``relative=True``, default). The model learns
   ``u[t] - anchor[t]`` where ``anchor[t]`` is the mean of the last ``min(windows)`` values
   before the origin (the series forward-filled with its last observed value, past only), and
   lag / rolling mean / min / max features are expressed relative to the same anchor. Trees
   cannot extrapolate levels; differences to a recent level they can, so trends carry on.
3. **Features** for every (series, t): lags and rolling statistics of ``u`` from
   :func:`lmforecast.features.model_features.lag_features` (leak-free by construction),
   calendar features of the TARGET period (:func:`lmforecast.features.calendar.calendar_features`,
   known in advance), integer codes of the region and occupation major group, and optional
   lagged exogenous panel variables (``exog_lags``; ``"tension"`` = job_offers / jobseekers).
   Rows whose target is NaN are not training rows.
4. **Strategies.** ``"recursive"``: one one-step model, predictions fed back step by step (the
   loop runs over horizon steps only). ``"direct"``: one model per horizon step ``h`` using only
   data at least ``h`` periods old (lags >= h), all fitted at ``fit`` for steps up to
   ``max_horizon`` (default five years: 60 models on a monthly panel, so mind the cost). Steps
   with no training row (a history shorter than the step) hold the forecast of the last step
   that has a model, with a warning.
5. **Intervals.** From the shared uncertainty layer
   (:class:`lmforecast.uncertainty.ResidualUncertainty`), calibrated at ``fit`` on errors of
   refits of this same model at origins inside the training data (the training data cut at each
   origin; transforms and scaler refitted too).

Exogenous variables in the recursive strategy: a lag reaching past the training data uses
the variable's last observed value (persistence); the direct strategy never needs to.

``update(panel)`` (backtests with ``refit_every > 1``) re-anchors a fitted model at a later
origin without re-estimating anything: the fitted regressor(s) (``models_``), the lags/windows
used and the per-series target transform and scaler fitted at the last refit are all kept
(the scaler's statistics are treated as part of the fitted model, so the regressor keeps
seeing inputs in the space it was trained in); the history that lag/rolling features, the
anchor, calendar and exogenous features are built from is replaced by the new panel, so
recursive and direct forecasts start right after its last period. The calibration stays
as of the last refit, so the same refit gives the same interval widths whatever updates follow.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from threadpoolctl import threadpool_limits

from lmforecast import panel as P
from lmforecast.errors import PanelError
from lmforecast.features.calendar import calendar_features
from lmforecast.features.model_features import (TENSION, forward_fill, lag_features,
                                                normalize_exog_lags, tension)
from lmforecast.uncertainty import planning_horizon
from lmforecast.models.base import FitContext, Forecaster, fallback_level
from lmforecast.models.transforms import Chain, SeriesScaler, make_transform

__all__ = ["SklearnForecaster", "WINDOW_FEATURES"]

logger = logging.getLogger(__name__)

_CALENDAR_COLUMNS = {
    12: ["month", "month_sin", "month_cos", "days", "holidays", "working_days", "ramadan_share", "eid_days"],
    4: ["quarter", "quarter_sin", "quarter_cos", "days", "holidays", "working_days", "ramadan_share",
        "eid_days"],
    1: ["days", "holidays", "working_days", "ramadan_share", "eid_days"],
}
_RELATIVE_PREFIXES = ("lag_", "seasonal_lag", "roll_mean_", "roll_min_", "roll_max_")
#: rolling features per window a global model can use (``window_stats``)
WINDOW_FEATURES: tuple[str, ...] = ("mean", "std", "min", "max", "growth")


class _NoTrainingRows(PanelError):
    """Raised when a fit finds no (series, period) row to train on."""


class _Core:
    """One fitted model state for training data ending at some origin (arrays only).

    Pickled without ``u`` (the transformed history, ``chain.transform(y)``): it is recomputed,
    bit for bit, on loading, which keeps a logged model about a quarter smaller.
    """

    def __init__(self, **kw):
        self.__dict__.update(kw)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        if state.get("chain") is not None and state.get("y") is not None:
            state.pop("u", None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if "u" not in state and state.get("chain") is not None and state.get("y") is not None:
            self.u = self.chain.transform(self.y)


class SklearnForecaster(Forecaster):
    """Global point forecaster around a scikit-learn regressor, with conformal quantiles.

    Parameters
    ----------
    regressor : unfitted scikit-learn regressor; default
        ``HistGradientBoostingRegressor(random_state=random_state)``. Cloned for every fit; a
        ``random_state`` param left at ``None`` is set to ``random_state``.
    lags : target lags in periods. Lags not shorter than the training history are dropped.
    windows : rolling-window lengths (mean, std, min, max, growth). Windows not shorter than
        the history are dropped.
    window_stats : which rolling features to build per window, a subset of ``("mean", "std",
        "min", "max", "growth")`` (default all five); e.g. ``("mean",)`` gives the rolling means
        only (the feature set of a plain mlforecast ``RollingMean`` setup).
    transform : target transform before scaling: ``"log1p"`` (needs values >= 0), ``None``,
        or any transform of :mod:`lmforecast.models.transforms`.
    scaler : per-series scaling: ``"seasonal_mae"``, ``"mean"``, ``"std"``, ``None`` or a
        :class:`~lmforecast.models.transforms.SeriesScaler`.
    calendar : add calendar features of the target period (country from ``panel.attrs``,
        default ``"MA"``).
    exog_lags : lagged exogenous panel variables, e.g. ``{"jobseekers": 1}`` or
        ``{"jobseekers": (1, 12), "tension": 1}``. Nonnegative variables enter as ``log1p``.
    strategy : ``"recursive"`` or ``"direct"``.
    max_horizon : direct strategy only: steps with a model of their own, all fitted at ``fit``
        (``None`` = five years at the panel frequency); ``predict`` cannot go further.
    relative : model the target relative to the recent level (see module docstring).
    impute : ``True`` builds lag features from each series forward-filled with its last
        observed value and wraps the regressor in
        ``make_pipeline(SimpleImputer(strategy="constant", fill_value=0), regressor)`` for what
        stays missing (before a series' first observation; with ``relative=True`` 0 means "at
        the recent level"). ``None`` (default): only for regressors that do not accept NaN
        (e.g. ``Ridge``).
    num_threads : cap on OpenMP/BLAS threads while fitting and predicting (threadpoolctl);
        default 1, since threads fight over a busy machine's cores (``None``: no cap).
    random_state : seed for the regressor (the only source of randomness).
    uncertainty : the uncertainty layer (:class:`~lmforecast.uncertainty.ResidualUncertainty`;
        ``None`` = default, ``"none"`` = point forecasts only).

    Attributes
    ----------
    lags_, windows_ : lags and windows actually used (after dropping too long ones).
    feature_names_ : names of the input columns of ``model_`` (the direct models of later steps
        read only the lags at least as long as their step, so they have fewer).
    models_ : fitted regressors by key: ``0`` the recursive one-step model, ``h`` the direct
        model of step ``h``, ``(h, level)`` quantile models.
    model_ : the one-step model (``models_[0]``, or ``models_[1]`` for the direct strategy).
    y_, exog_raw_ : the current history (target and exogenous arrays the features read).

    ``update(panel)`` re-anchors at a later origin keeping every fitted model (see the module
    docstring).
    """

    def __init__(self, regressor=None, lags=(1, 2, 3, 6, 12), windows=(3, 12), transform="log1p",
                 scaler="seasonal_mae", calendar=True, exog_lags=(), strategy="recursive",
                 max_horizon=None, relative=True, impute=None, num_threads=1, random_state=0,
                 window_stats=WINDOW_FEATURES, uncertainty=None):
        self.regressor = regressor
        self.lags = lags
        self.windows = windows
        self.window_stats = window_stats
        self.transform = transform
        self.scaler = scaler
        self.calendar = calendar
        self.exog_lags = exog_lags
        self.strategy = strategy
        self.max_horizon = max_horizon
        self.relative = relative
        self.impute = impute
        self.num_threads = num_threads
        self.random_state = random_state
        self.uncertainty = uncertainty

    # --- regressor hooks (LightGBMForecaster overrides them) --------------------------------
    def _base_regressor(self):
        if self.regressor is None:
            return HistGradientBoostingRegressor(random_state=self.random_state)
        return self.regressor

    def _make_regressor(self, quantile: float | None = None):
        """A fresh unfitted regressor (``quantile`` is for quantile-loss models)."""
        if quantile is not None:
            raise ValueError(f"{type(self).__name__} has no quantile models; use conformal intervals")
        est = clone(self._base_regressor())
        params = est.get_params(deep=False)
        if "random_state" in params and params["random_state"] is None:
            est.set_params(random_state=self.random_state)
        if self._impute_enabled():
            est = make_pipeline(SimpleImputer(strategy="constant", fill_value=0.0, keep_empty_features=True), est)
        return est

    def _impute_enabled(self) -> bool:
        if self.impute is not None:
            return bool(self.impute)
        est = self._base_regressor()
        try:
            return not est.__sklearn_tags__().input_tags.allow_nan
        except AttributeError:  # not a scikit-learn estimator: assume it copes with NaN
            return False

    def _fit_regressor(self, est, X: np.ndarray, target: np.ndarray, categorical: list[int]):
        empty = ~np.isfinite(X).any(axis=0)
        if empty.any() and not self._impute_enabled():
            # a feature never observed in training (short histories) carries no information, and
            # some NaN-aware regressors (HistGradientBoosting) cannot bin an all-NaN column
            X = X.copy()
            X[:, empty] = 0.0
        est.fit(X, target)
        return est

    # --- fit ---------------------------------------------------------------------------------
    def _check_params(self, n_time: int) -> None:
        if self.strategy not in ("recursive", "direct"):
            raise ValueError(f"strategy must be 'recursive' or 'direct', got {self.strategy!r}")
        if self.max_horizon is not None and int(self.max_horizon) < 1:
            raise ValueError(f"max_horizon must be >= 1 period, got {self.max_horizon}")
        if isinstance(self.window_stats, str) or not set(self.window_stats) <= set(WINDOW_FEATURES):
            raise ValueError(f"window_stats must be a subset of {WINDOW_FEATURES}, got {self.window_stats!r}")

    def _fit_series(self, y: np.ndarray, context: FitContext) -> None:
        with threadpool_limits(self.num_threads):
            self._fit_series_unlimited(y, context)

    def _fit_series_unlimited(self, y: np.ndarray, context: FitContext) -> None:
        self._check_params(y.shape[1])
        season = context.season_length
        lags = tuple(sorted({int(L) for L in self.lags}))
        windows = tuple(sorted({int(w) for w in self.windows}))
        if any(L < 1 for L in lags) or any(w < 1 for w in windows):
            raise ValueError(f"lags and windows must be >= 1, got lags={self.lags}, windows={self.windows}")
        self.lags_ = tuple(L for L in lags if L < y.shape[1])
        self.windows_ = tuple(w for w in windows if w < y.shape[1])
        self._check_target(y, context)
        # series-level codes and exogenous inputs, fixed for this fit
        regions = np.asarray(context.series_index.get_level_values(P.REGION).astype(str))
        self.region_code_ = pd.factorize(regions, sort=True)[0].astype(float)
        self.major_code_ = pd.factorize(np.asarray(context.occupation_major).astype(str), sort=True)[0].astype(float)
        self.exog_spec_ = normalize_exog_lags(self.exog_lags or None, 1)
        self.exog_raw_ = self._exog_arrays(context)
        self.country_ = context.country
        self.y_ = y
        calendar = self._calendar_matrix(context.time_index, 0)
        self.core_ = self._fit_core(y, dict(self.exog_raw_), calendar, horizon=self._max_horizon())
        self.feature_names_ = self.core_.feature_names
        self.models_ = self.core_.models
        self.model_ = self.models_[0 if self.strategy == "recursive" else 1]

    def _check_target(self, y: np.ndarray, context: FitContext) -> None:
        """Raise PanelError naming the first negative value when the transform is ``log1p``."""
        if self.transform is not None and str(self.transform).lower() == "log1p":
            negative = np.argwhere(y < 0)
            if negative.size:
                s, t = negative[0]
                region, occupation = map(str, context.series_index[s])
                raise PanelError(
                    f"target {context.target!r} has a negative value {float(y[s, t])!r} at region={region!r}, "
                    f"occupation={occupation!r}, time={context.time_index[t].date()}; transform='log1p' "
                    f"needs values >= 0 (use transform=None)")

    # --- update ------------------------------------------------------------------------------
    supports_update = True

    def _update_series(self, y: np.ndarray, context: FitContext) -> None:
        """Keep the fitted regressors and transforms; rebuild the feature history from ``y``.

        ``y`` is the new target matrix ``(series, time)`` in target units; ``context`` the new
        :class:`FitContext` (its panel supplies the exogenous variables).
        """
        with threadpool_limits(self.num_threads):
            self._check_target(y, context)
            refit = self.core_.fit_core or self.core_
            self.exog_raw_ = self._exog_arrays(context)
            self.y_ = y
            self.core_ = _Core(chain=refit.chain, u=refit.chain.transform(y), y=y, n_time=y.shape[1],
                               exog=dict(self.exog_raw_), calendar=self._calendar_matrix(context.time_index, 0),
                               season=refit.season, lags=refit.lags, windows=refit.windows,
                               models=refit.models, feature_names=refit.feature_names, fit_core=refit,
                               trained_steps=refit.trained_steps)

    def _exog_arrays(self, context: FitContext) -> dict[str, np.ndarray]:
        """Exogenous variables as (series, time) arrays in model space (log1p when >= 0)."""
        panel = context.panel
        out = {}
        for name in self.exog_spec_:
            if name == TENSION:
                missing = [v for v in ("job_offers", "jobseekers") if v not in panel.data_vars]
                if missing:
                    raise PanelError(f"exogenous 'tension' needs panel variables job_offers and jobseekers; "
                                     f"missing {missing}")
                offers = P.stack_series(panel["job_offers"]).values.astype(float)
                seekers = P.stack_series(panel["jobseekers"]).values.astype(float)
                pad = np.full((offers.shape[0], 1), np.nan)  # lag-1 tension of a padded copy = the ratio at t
                values = tension(np.concatenate([offers, pad], axis=1), np.concatenate([seekers, pad], axis=1),
                                 1)[:, 1:]
            else:
                if name not in panel.data_vars:
                    raise PanelError(f"exogenous variable {name!r} (exog_lags) is not in the panel; it has "
                                     f"{sorted(map(str, panel.data_vars))}")
                values = P.stack_series(panel[name]).values.astype(float)
            finite = values[np.isfinite(values)]
            if finite.size and finite.min() >= 0:
                values = np.log1p(values)
            out[name] = values
        return out

    def _calendar_matrix(self, time_index: pd.DatetimeIndex, horizon: int) -> tuple[list[str], np.ndarray]:
        """Calendar features for the training periods plus ``horizon`` future periods."""
        if not self.calendar:
            return [], np.empty((len(time_index) + horizon, 0))
        full = pd.date_range(time_index[0], periods=len(time_index) + horizon, freq=self.freq_)
        frame = calendar_features(full, self.freq_, self.country_)
        columns = [c for c in _CALENDAR_COLUMNS[P.season_length(self.freq_)] if c in frame.columns]
        return columns, frame[columns].to_numpy(dtype=float)

    def _target_transform(self, season: int):
        steps = []
        transform = make_transform(self.transform, season)
        if transform is not None:
            steps.append(transform)
        if self.scaler is not None:
            scaler = self.scaler if not isinstance(self.scaler, str) else SeriesScaler(self.scaler, season)
            steps.append(make_transform(scaler, season))
        return Chain(steps)

    def _max_horizon(self) -> int:
        """Steps with their own model in the direct strategy (``max_horizon`` or five years)."""
        return planning_horizon(self.freq_) if self.max_horizon is None else int(self.max_horizon)

    def _min_train(self, season_length: int) -> int:
        return 3

    def _origin_forecasts(self, panel, target, lengths, horizon):
        """Calibration refits; the direct strategy forecasts its ``max_horizon`` steps (NaN beyond)."""
        steps = horizon if self.strategy != "direct" else min(int(horizon), self._max_horizon())
        if steps == horizon:
            return super()._origin_forecasts(panel, target, lengths, horizon)
        out = np.full((P.series_coords(panel).size, len(lengths), int(horizon)), np.nan)
        out[:, :, :steps] = super()._origin_forecasts(panel, target, lengths, steps)
        return out

    def _fit_core(self, y, exog, calendar, horizon):
        """Fit transform + model(s) on ``y`` (series, time); ``horizon`` = direct models 1..h."""
        season = P.season_length(self.freq_)
        n_time = y.shape[1]
        chain = self._target_transform(season).fit(y)
        u = chain.transform(y)
        core = _Core(chain=chain, u=u, y=y, n_time=n_time, exog=exog, calendar=calendar, season=season,
                     lags=tuple(L for L in self.lags_ if L < n_time),
                     windows=tuple(w for w in self.windows_ if w < n_time),
                     models={}, feature_names=None, fit_core=None, trained_steps=1)
        steps = [1] if self.strategy == "recursive" else list(range(1, (horizon or 1) + 1))
        for h in steps:
            try:
                self._fit_step(core, h)
            except _NoTrainingRows:
                if h == 1:
                    raise
                logger.log(fallback_level(), "%s (direct): with %d periods no step beyond %d has training rows; "
                           "the forecasts of steps %d-%d hold step %d's forecast", type(self).__name__, n_time,
                           h - 1, h, steps[-1], h - 1)
                break
            core.trained_steps = h
        return core

    def _fit_step(self, core: _Core, h: int, quantile: float | None = None):
        """Fit the model for min_lag ``h`` (0 = the recursive one-step model) on ``core``."""
        min_lag = h
        columns = np.arange(core.n_time)
        names, X, anchor = self._design(core, core.u, columns, min_lag)
        target = core.u - anchor if self.relative else core.u
        target = target.reshape(-1)
        rows = np.isfinite(target)
        if rows.sum() < 2:  # one row is no model (and LightGBM refuses it)
            raise _NoTrainingRows(
                f"nothing to train on for target {self.target_!r}: {core.u.shape[0]} series x {core.n_time} "
                f"periods leave {int(rows.sum())} (series, period) with an observed target and observed history "
                f"{min_lag} period(s) before it (2 needed); give more periods or fewer/shorter lags")
        categorical = [i for i, n in enumerate(names) if n in ("region_code", "occupation_major_code")]
        est = self._fit_regressor(self._make_regressor(quantile), X[rows], target[rows], categorical)
        key = (0 if self.strategy == "recursive" else h) if quantile is None else (h, quantile)
        core.models[key] = est
        if core.feature_names is None:  # the first model fitted: model_ (step 1)
            core.feature_names = names
        return est

    def _design(self, core: _Core, u: np.ndarray, columns: np.ndarray, min_lag: int,
                filled: np.ndarray | None = None):
        """Feature matrix (series * len(columns), features) and anchor (series, len(columns)).

        ``filled`` is ``u`` forward-filled (computed when not given; the recursive forecast keeps
        it up to date instead of refilling the whole history at every step).
        """
        n_series = u.shape[0]
        ncol = len(columns)
        impute = self._impute_enabled()
        filled = forward_fill(u) if filled is None else filled
        stats = tuple(s for s in WINDOW_FEATURES[:-1] if s in self.window_stats)
        feats = lag_features(filled if impute else u, core.lags, core.windows, core.season,
                             min_lag=min_lag, growth="growth" in self.window_stats, columns=columns,
                             stats=stats)
        w0 = min(core.windows) if core.windows else 1
        anchor = lag_features(filled, (), (w0,), core.season, min_lag=min_lag, growth=False,
                              columns=columns, stats=("mean",))[f"roll_mean_{w0}"]
        names, blocks = [], []
        for name, values in feats.items():
            if self.relative and name.startswith(_RELATIVE_PREFIXES):
                values = values - anchor
            names.append(name)
            blocks.append(values)
        if self.relative:
            names.append("anchor")
            blocks.append(anchor)
        cal_names, cal = core.calendar
        for j, name in enumerate(cal_names):
            names.append(name)
            blocks.append(np.broadcast_to(cal[columns, j], (n_series, ncol)))
        names += ["region_code", "occupation_major_code"]
        blocks.append(np.broadcast_to(self.region_code_[:, None], (n_series, ncol)))
        blocks.append(np.broadcast_to(self.major_code_[:, None], (n_series, ncol)))
        for name, name_lags in self.exog_spec_.items():
            values = core.exog[name]
            n_have = values.shape[1]
            persisted = forward_fill(values)[:, -1:] if n_have else np.full((n_series, 1), np.nan)
            for L in name_lags:
                src = columns - max(L, min_lag)
                got = np.full((n_series, ncol), np.nan)
                inside = (src >= 0) & (src < n_have)
                got[:, inside] = values[:, src[inside]]
                future = src >= n_have  # recursive strategy past the training data: persistence
                if future.any():
                    got[:, future] = persisted
                names.append(f"{name}_lag_{L}")
                blocks.append(got)
        X = np.stack(blocks, axis=-1).reshape(n_series * ncol, len(names))
        return names, X, anchor

    # --- predict -----------------------------------------------------------------------------
    def _predict_core(self, core: _Core, horizon: int, quantile: float | None = None,
                      point_path: np.ndarray | None = None) -> np.ndarray:
        """Point (or quantile-model) forecasts ``(series, horizon)`` in target units."""
        n_series, n_time = core.u.shape
        u_ext = np.concatenate([core.u, np.full((n_series, horizon), np.nan)], axis=1)
        if point_path is not None:  # quantile models read the point forecast's path
            u_ext[:, n_time:] = core.chain.transform(np.concatenate([self._y_of(core), point_path], axis=1))[:, n_time:]
        out = np.full((n_series, horizon), np.nan)
        filled = forward_fill(u_ext)     # future columns are only read once predicted (kept in step below)
        for h in range(1, horizon + 1):
            col = np.array([n_time - 1 + h])
            if self.strategy == "recursive":
                key = 0 if quantile is None else (1, quantile)
                min_lag = 1
            else:
                if core.trained_steps < h <= self._max_horizon():   # no training rows that far ahead
                    out[:, h - 1] = out[:, h - 2]
                    continue
                key = h if quantile is None else (h, quantile)
                min_lag = h
            if key not in core.models:
                raise ValueError(f"{type(self).__name__} has no model for step {h}"
                                 + ("" if quantile is None else f" and quantile {quantile}")
                                 + f": fitted for {self._max_horizon()} steps (max_horizon)")
            if self.strategy == "recursive":
                _, X, anchor = self._design(core, u_ext, col, min_lag, filled=filled)
            else:
                _, X, anchor = self._design(core, u_ext[:, : n_time + h], col, min_lag, filled=filled[:, : n_time + h])
            pred = core.models[key].predict(X).reshape(n_series)
            value = pred + anchor[:, 0] if self.relative else pred
            out[:, h - 1] = value
            if self.strategy == "recursive" and point_path is None:
                u_ext[:, n_time - 1 + h] = value
                filled[:, n_time - 1 + h] = np.where(np.isfinite(value), value, filled[:, n_time - 2 + h])
        # an updated core continues its own history (differencing transforms need it)
        return core.chain.inverse_transform(out, history=core.y if core.fit_core is not None else None)

    def _y_of(self, core: _Core) -> np.ndarray:
        return core.y

    def _predict_point(self, horizon: int) -> np.ndarray:
        with threadpool_limits(self.num_threads):
            core = self.core_
            if self.calendar:  # a copy with calendar rows for the forecast periods (no side effect)
                core = _Core(**{**core.__dict__, "calendar": self._calendar_matrix(self.time_index_, horizon)})
            return self._predict_core(core, horizon)
