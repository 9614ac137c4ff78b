"""LightGBM global forecaster: one gradient-boosted tree model across all series.

Same features, target space and strategies as :class:`lmforecast.models.sklearn.SklearnForecaster`
(read its module docstring), with LightGBM's parameters exposed and two interval methods:

* ``interval_method="conformal"`` (default): the shared uncertainty layer
  (:class:`lmforecast.uncertainty.ResidualUncertainty`), calibrated at ``fit`` on refits of this
  same model at origins inside the training data;
* ``interval_method="quantile"``: one LightGBM model per level of ``quantile_levels`` with
  ``objective="quantile"``, all fitted at ``fit``; in the recursive strategy each quantile model
  reads the point forecast's path for its lag features. The 0.5 level stays the point (L2)
  forecast. Each side's distance to the point is made non-decreasing over the horizon (a
  recursive quantile model is a one-step model: its spread does not grow by itself). Sample
  paths still come from the uncertainty layer.

Threads: ``num_threads=1`` by default. On a 2-core machine LightGBM with 2 threads ran 2.8x
(idle) to 4.5x (one core busy) slower than with 1 (thread contention on small data sets;
``benchmarks/bench_forecast.py --threads``).

Histogram layout: LightGBM builds histograms row-wise or column-wise; both give identical trees
(checked: identical predictions) but not the same speed. Measured on the AU IVI design matrices
(83k rows, 1 thread, 100-300 trees): row-wise was ~20 % faster with 9 features, column-wise ~13 %
faster with 24. Fits use row-wise up to :data:`ROW_WISE_MAX_FEATURES` features, column-wise above
(always forced, never LightGBM's timing-based auto choice, so runs stay deterministic).
"""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline

from lmforecast.models.sklearn import WINDOW_FEATURES, SklearnForecaster, _Core

__all__ = ["LightGBMForecaster", "ROW_WISE_MAX_FEATURES"]

#: widest design matrix (number of features) fitted with row-wise histograms
ROW_WISE_MAX_FEATURES = 16


class LightGBMForecaster(SklearnForecaster):
    """Global LightGBM forecaster (recursive or direct) with conformal or quantile intervals.

    Parameters
    ----------
    n_estimators, learning_rate, num_leaves, min_child_samples, subsample, subsample_freq,
    colsample_bytree, reg_lambda : LightGBM parameters (``subsample`` acts only when
        ``subsample_freq > 0``).
    num_threads : LightGBM threads (default 1: fastest on small panels and busy machines).
    deterministic : LightGBM's ``deterministic`` flag (same numbers run to run).
    seed : LightGBM seed (the only source of randomness).
    interval_method : ``"conformal"`` or ``"quantile"``.
    quantile_levels : levels of the quantile models (``interval_method="quantile"``); ``predict``
        accepts these levels (and 0.5) only.
    lags, windows, transform, scaler, calendar, exog_lags, strategy, max_horizon, relative,
    impute, window_stats, uncertainty : as in :class:`~lmforecast.models.sklearn.SklearnForecaster`
        (``impute`` defaults to off: LightGBM handles NaN).

    The region and occupation-major codes are passed to LightGBM as categorical features.
    """

    def __init__(self, lags=(1, 2, 3, 6, 12), windows=(3, 12), transform="log1p", scaler="seasonal_mae",
                 calendar=True, exog_lags=(), strategy="recursive", max_horizon=None,
                 relative=True, impute=False, n_estimators=300,
                 learning_rate=0.05, num_leaves=31, min_child_samples=20, subsample=1.0, subsample_freq=0,
                 colsample_bytree=1.0, reg_lambda=0.0, num_threads=1, verbose=-1, deterministic=True,
                 seed=0, interval_method="conformal", window_stats=WINDOW_FEATURES,
                 quantile_levels=(0.1, 0.9), uncertainty=None):
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
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.subsample_freq = subsample_freq
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.num_threads = num_threads
        self.verbose = verbose
        self.deterministic = deterministic
        self.seed = seed
        self.interval_method = interval_method
        self.quantile_levels = quantile_levels
        self.uncertainty = uncertainty

    def _check_params(self, n_time: int) -> None:
        super()._check_params(n_time)
        if self.interval_method not in ("conformal", "quantile"):
            raise ValueError(f"interval_method must be 'conformal' or 'quantile', got {self.interval_method!r}")

    def _impute_enabled(self) -> bool:
        return bool(self.impute)

    def _make_regressor(self, quantile: float | None = None):
        params = dict(n_estimators=self.n_estimators, learning_rate=self.learning_rate,
                      num_leaves=self.num_leaves, min_child_samples=self.min_child_samples,
                      subsample=self.subsample, subsample_freq=self.subsample_freq,
                      colsample_bytree=self.colsample_bytree, reg_lambda=self.reg_lambda,
                      n_jobs=self.num_threads, verbose=self.verbose, deterministic=self.deterministic,
                      random_state=self.seed)
        if quantile is not None:
            params.update(objective="quantile", alpha=float(quantile))
        est = lgb.LGBMRegressor(**params)
        if self._impute_enabled():
            est = make_pipeline(SimpleImputer(strategy="constant", fill_value=0.0, keep_empty_features=True), est)
        return est

    def _fit_regressor(self, est, X: np.ndarray, target: np.ndarray, categorical: list[int]):
        row_wise = X.shape[1] <= ROW_WISE_MAX_FEATURES
        booster = est[-1] if isinstance(est, Pipeline) else est
        booster.set_params(force_row_wise=row_wise, force_col_wise=not row_wise)
        if self._impute_enabled():
            # a Pipeline(imputer, LGBMRegressor): categorical codes are plain numbers then
            return est.fit(X, target)
        return est.fit(X, target, categorical_feature=categorical or "auto")

    def _fit_core(self, y, exog, calendar, horizon):
        core = super()._fit_core(y, exog, calendar, horizon)
        if self.interval_method == "quantile":
            steps = [1] if self.strategy == "recursive" else range(1, core.trained_steps + 1)
            for level in self.quantile_levels:
                if not 0.0 < float(level) < 1.0 or float(level) == 0.5:
                    raise ValueError(f"quantile_levels must lie in (0, 1) and differ from 0.5, got {level}")
                for h in steps:
                    self._fit_step(core, h, quantile=float(level))
        return core

    def _native_quantiles(self, horizon, levels, point):
        if self.interval_method == "conformal":
            return None
        fitted = {float(q) for q in self.quantile_levels}
        missing = [q for q in levels if q != 0.5 and q not in fitted]
        if missing:
            raise ValueError(f"LightGBMForecaster(interval_method='quantile') has quantile models for "
                             f"{sorted(fitted)} only, not {missing}; set quantile_levels")
        core = self.core_
        if self.calendar:
            core = _Core(**{**core.__dict__, "calendar": self._calendar_matrix(self.time_index_, horizon)})
        out = np.empty(point.shape + (len(levels),))
        for j, level in enumerate(levels):
            out[:, :, j] = point if level == 0.5 else self._predict_core(
                core, horizon, quantile=float(level), point_path=point if self.strategy == "recursive" else None)
        # offsets from the point never shrink further ahead (as in the uncertainty layer): the
        # recursive quantile models are one-step models, and small panels give noisy quantiles
        offsets = out - point[:, :, None]
        side = np.sign(np.asarray(levels, dtype=float) - 0.5)[None, None, :]
        spread = np.fmax.accumulate(np.nan_to_num(np.maximum(offsets * side, 0.0), nan=0.0), axis=1)
        return np.where(np.isfinite(out), point[:, :, None] + side * spread, np.nan)
