"""A global model that learns the multi-year change directly.

Recursive lag models forecast five years by feeding one-step forecasts back 60 times, and lose
the trends on the way. :class:`MultiYearChangeForecaster` instead learns, across every series
and every past origin at once, how much a series' annual level changes ``k`` years ahead
(``k = 1 .. years``), from what was visible at the origin:

* the series' own growth over the last 1, 3 and 5 years (log points a year) and its deviation
  from its 10-year mean (mean reversion);
* the growth over the last 3 years of its region's total and of its occupation's national total
  (the hierarchy: digital work rising everywhere, a region in decline);

with one scikit-learn regressor per ``k`` (default: ``Ridge`` on standardised features, missing
features imputed at 0 with missing indicators; any regressor can be passed). Training origins
are the ends of year-long blocks counted back from the end of the data, so every feature and
every target is computed from data before the origin and at most ``k`` years after it, all
inside the training data. Forecasts are annual block means turned into a path at the panel
frequency (:func:`lmforecast.models._annual.paths_from_annual`).
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from lmforecast import panel as P
from lmforecast.models._annual import annual_blocks, paths_from_annual, seasonal_index
from lmforecast.models.base import FitContext, Forecaster, fallback_level

__all__ = ["MultiYearChangeForecaster", "change_features"]

logger = logging.getLogger(__name__)

FEATURES = ("growth_1y", "growth_3y", "growth_5y", "deviation_10y", "region_growth_3y", "occupation_growth_3y")


def _growth(levels: np.ndarray, b: int, years: int) -> np.ndarray:
    """Yearly log growth over ``years`` blocks ending at block ``b`` (NaN when unavailable)."""
    if b - years < 0:
        return np.full(levels.shape[0], np.nan)
    return (levels[:, b] - levels[:, b - years]) / years


def change_features(levels: np.ndarray, region_of: np.ndarray, occupation_of: np.ndarray, b: int) -> np.ndarray:
    """Features ``(series, len(FEATURES))`` at block ``b`` from ``log1p`` annual levels ``(series, blocks)``.

    ``region_of`` / ``occupation_of`` are integer group codes per series; group totals are
    summed in levels (``expm1``) and logged again.
    """
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        own = [_growth(levels, b, 1), _growth(levels, b, 3), _growth(levels, b, 5),
               levels[:, b] - np.nanmean(levels[:, max(0, b - 9): b + 1], axis=1)]
        raw = np.expm1(levels)
        groups = []
        for codes in (region_of, occupation_of):
            total = np.zeros((codes.max() + 1, levels.shape[1]))
            np.add.at(total, codes, np.nan_to_num(raw))
            groups.append(_growth(np.log1p(total), b, 3)[codes])
    return np.column_stack(own + groups)


class MultiYearChangeForecaster(Forecaster):
    """Global direct model of the change in annual level 1..``years`` years ahead.

    Parameters
    ----------
    regressor : unfitted scikit-learn regressor, cloned per horizon year (default
        ``Ridge(alpha=1.0)``); wrapped in ``SimpleImputer(fill 0, missing indicators)`` and
        ``StandardScaler``.
    years : horizon years with a model; ``None`` = five (beyond, the last model's change is
        scaled linearly with the horizon).
    seasonal : put back each series' within-year pattern (monthly/quarterly panels).
    uncertainty : the uncertainty layer (see :class:`~lmforecast.models.base.Forecaster`).

    With fewer than three year-long blocks of history, or fewer than ten ``(series, origin)``
    pairs with a known one-year change, nothing can be learnt: every series gets the naive
    forecast (its last observed value), and a warning says so.

    Attributes
    ----------
    models_ : ``{k: fitted pipeline}`` (empty when the naive fallback is used); n_samples_ :
    ``{k: training rows}``.
    """

    def __init__(self, regressor=None, years: int | None = None, seasonal: bool = True, uncertainty=None):
        self.regressor = regressor
        self.years = years
        self.seasonal = seasonal
        self.uncertainty = uncertainty

    def _min_train(self, season_length: int) -> int:
        return 3 * max(1, season_length)

    def _fit_series(self, y: np.ndarray, context: FitContext) -> None:
        season = context.season_length
        self.season_length_ = season
        self.years_ = 5 if self.years is None else int(self.years)
        if self.years_ < 1:
            raise ValueError(f"years must be >= 1, got {self.years}")
        self.log_ = bool(context.nonnegative)
        levels = self._levels(y, season)
        n_blocks = levels.shape[1]
        self.models_, self.n_samples_ = {}, {}
        if n_blocks < 3:
            self._fall_back(context, f"{n_blocks} year-long blocks of history (it needs 3)")
            return
        regions = context.series_index.get_level_values(P.REGION).astype(str)
        occupations = context.series_index.get_level_values(P.OCCUPATION).astype(str)
        self.region_of_ = pd.factorize(regions)[0]
        self.occupation_of_ = pd.factorize(occupations)[0]
        features = {b: change_features(levels, self.region_of_, self.occupation_of_, b) for b in range(n_blocks)}
        base = self.regressor if self.regressor is not None else Ridge(alpha=1.0)
        for k in range(1, self.years_ + 1):
            X = [features[b] for b in range(n_blocks - k)]
            Y = [levels[:, b + k] - levels[:, b] for b in range(n_blocks - k)]
            if not X:
                break
            X, Y = np.concatenate(X), np.concatenate(Y)
            rows = np.isfinite(Y)
            if rows.sum() < 10:
                break
            model = make_pipeline(SimpleImputer(strategy="constant", fill_value=0.0, add_indicator=True,
                                                keep_empty_features=True), StandardScaler(), clone(base))
            self.models_[k] = model.fit(X[rows], Y[rows])
            self.n_samples_[k] = int(rows.sum())
        if not self.models_:
            self._fall_back(context, "fewer than 10 (series, origin) pairs with a known one-year change")
            return
        self.features_now_ = features[n_blocks - 1]
        self.level_now_ = levels[:, -1]
        self.last_block_ = annual_blocks(y, season)[:, -1]
        self.pattern_ = seasonal_index(y, season) if (self.seasonal and season > 1) else None

    def _fall_back(self, context: FitContext, reason: str) -> None:
        """Too little history to learn a change: every series gets the naive forecast (logged)."""
        observed = [tuple(map(str, key)) for key, ok in zip(context.series_index, self.has_history_) if ok]
        logger.log(fallback_level(), "MultiYearChangeForecaster on %r: %s; the %d series with history get the "
                   "naive forecast (last observed value): %s", context.target, reason, len(observed),
                   observed[:5] + (["..."] if len(observed) > 5 else []))

    def _levels(self, y: np.ndarray, season: int) -> np.ndarray:
        blocks = annual_blocks(y, season)
        return np.log1p(np.maximum(blocks, 0.0)) if self.log_ else blocks

    def _predict_point(self, horizon: int) -> np.ndarray:
        if not self.models_:  # too little history at fit: naive
            return np.repeat(self.last_observed_[:, None], horizon, axis=1)
        season = self.season_length_
        n_years = int(np.ceil(horizon / season)) + 1
        fitted = max(self.models_)
        change = np.column_stack([self.models_[min(k, fitted)].predict(self.features_now_) *
                                  (1.0 if k <= fitted else k / fitted) for k in range(1, n_years + 1)])
        future = self.level_now_[:, None] + change
        future = np.expm1(future) if self.log_ else future
        last = np.where(np.isfinite(self.last_block_), self.last_block_, 0.0)
        out = paths_from_annual(last, np.maximum(future, 0.0) if self.log_ else future, season, horizon,
                                self.pattern_ if self.log_ else None, log=self.log_)
        return np.where(np.isfinite(self.level_now_)[:, None], out, np.nan)
