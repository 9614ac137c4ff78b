"""The recommended forecaster: what a user should start with on a new labour-market panel.

:func:`default_forecaster` returns a median :class:`~lmforecast.models.ensemble.Ensemble` of
three members:

* :class:`~lmforecast.models.baselines.Naive` (the last observed value: the bar every model
  must clear on real job-ad panels, and the anchor that keeps the median sane when the global
  models drift, e.g. after a shock);
* a Ridge global model (:class:`~lmforecast.models.sklearn.SklearnForecaster` with
  ``Ridge(alpha=1.0)``, relative target, ``log1p`` + seasonal-MAE scaling);
* a LightGBM global model (:class:`~lmforecast.models.lightgbm.LightGBMForecaster`, same
  features, ``num_threads=1``; it wraps the maintained ``lightgbm`` library).

The point forecast is the median of the three members' points; the intervals average the
members' own conformal offsets around it (see :mod:`lmforecast.models.ensemble`).

How it was chosen (``python benchmarks/bench_forecast.py --select``; results in
``benchmarks/results/bench_forecast_selection.{json,md}``): nine candidates (naive, Ridge,
Ridge alpha=10, LightGBM, mean / median ensembles of Naive, Ridge and LightGBM, with the
members' intervals or with :class:`ConformalForecaster` intervals on the ensemble's own errors)
were scored on validation panels that exclude the benchmark's target windows: the Australian
IVI seasonally adjusted and trend sheets at cutoffs 2016-01..2019-01 (test periods up to
2020-01) and the ILO annual unemployment rates of 189 countries (horizon 3, cutoffs 2014-2020).
Rule: lowest geometric-mean MASE relative to the naive forecast, with mean 80 % coverage in
75-85 %; ties (within 0.1 %) go to the coverage closest to 80 %. The median of Naive + Ridge +
LightGBM had the lowest score (0.905; Ridge alone 0.925, LightGBM 0.924); its two interval
variants tie on points and the members' averaged intervals covered 80.8 % on average against
76.7 % for ensemble-calibrated ones.

:class:`ConformalForecaster` (any forecaster's points + conformal intervals from its own
refits) is kept for users who want intervals calibrated on the combined forecast.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import Ridge
from tqdm.auto import tqdm

from lmforecast import panel as P
from lmforecast.errors import PanelError
from lmforecast.intervals import ConformalCalibrator, default_step
from lmforecast.models.base import FitContext, Forecaster
from lmforecast.models.baselines import Naive
from lmforecast.models.ensemble import Ensemble
from lmforecast.models.lightgbm import LightGBMForecaster
from lmforecast.models.sklearn import SklearnForecaster

__all__ = ["ConformalForecaster", "default_forecaster", "default_lags", "default_windows"]


class ConformalForecaster(Forecaster):
    """Any forecaster's point forecasts with conformal intervals from its own refits.

    At the first ``predict`` for a horizon, ``model`` is cloned and refitted (point forecasts
    only) on the training panel cut at ``n_windows`` origins ``step`` periods apart, the last one
    ``horizon`` periods before the end of the training data; its errors calibrate a
    :class:`~lmforecast.intervals.ConformalCalibrator` (scaled, pooled by scale tercile x
    occupation major group, per horizon step). Nothing after the training data is used.

    Parameters
    ----------
    model : the point forecaster (any :class:`~lmforecast.models.base.Forecaster`; cloned).
    n_windows : calibration origins (refits of ``model``).
    step : periods between origins; ``None`` = the horizon
        (:func:`lmforecast.intervals.default_step`).
    min_pool : minimum scaled errors per pool (see :class:`ConformalCalibrator`).
    progress : tqdm bar over the calibration refits (hidden when not a TTY).

    Attributes
    ----------
    model_ : the fitted clone of ``model``.
    calibrators_ : ``{horizon: ConformalCalibrator}`` computed so far.
    """

    def __init__(self, model: Forecaster, n_windows: int = 4, step: int | None = None, min_pool: int = 50,
                 progress: bool = True):
        self.model = model
        self.n_windows = n_windows
        self.step = step
        self.min_pool = min_pool
        self.progress = progress

    def _fit_series(self, y: np.ndarray, context: FitContext) -> None:
        if not isinstance(self.model, Forecaster):
            raise TypeError(f"ConformalForecaster model must be a Forecaster, got {type(self.model).__name__}")
        if int(self.n_windows) < 1:
            raise ValueError(f"n_windows must be >= 1, got {self.n_windows}")
        self.y_ = np.asarray(y, dtype=float)
        self.model_ = clone(self.model).fit(context.panel, context.target)
        self.calibrators_: dict[int, ConformalCalibrator] = {}

    def _refit_point(self, horizon: int, origin: int) -> np.ndarray:
        """Point forecasts ``(series, horizon)`` of ``model`` refitted on the first ``origin`` periods."""
        cut = self.context_.panel.isel({P.TIME: slice(0, origin)})
        refit = clone(self.model).fit(cut, self.context_.target)
        return np.asarray(refit._predict_series(horizon, (0.5,)), dtype=float)[:, :, 0]

    def calibrator(self, horizon: int) -> ConformalCalibrator:
        """The :class:`ConformalCalibrator` for ``horizon`` steps (computed once, then cached)."""
        self._check_fitted()
        if horizon not in self.calibrators_:
            season = self.context_.season_length
            step = self.step if self.step is not None else default_step(horizon, season)
            calibrator = ConformalCalibrator(n_windows=int(self.n_windows), step=step, min_pool=self.min_pool)
            bar = tqdm(total=int(self.n_windows), desc=f"{type(self.model).__name__} calibration refits",
                       disable=None if self.progress else True, leave=False)

            def fit_predict(y_train: np.ndarray) -> np.ndarray:
                try:
                    return self._refit_point(horizon, y_train.shape[1])
                except PanelError:  # an origin too early for the model (too little history)
                    return np.full((y_train.shape[0], horizon), np.nan)
                finally:
                    bar.update(1)

            calibrator.calibrate(fit_predict, self.y_, horizon, season,
                                 groups=self.context_.occupation_major, min_train=2)
            bar.close()
            if not np.isfinite(calibrator.errors_).any():
                raise PanelError(f"cannot calibrate intervals: with {self.y_.shape[1]} periods no refit at an "
                                 f"origin {horizon} or more periods before the end could be scored; request "
                                 f"quantiles=(0.5,) or use a shorter horizon")
            self.calibrators_[horizon] = calibrator
        return self.calibrators_[horizon]

    def _predict_series(self, horizon: int, quantiles: tuple[float, ...]) -> np.ndarray:
        point = np.asarray(self.model_._predict_series(horizon, (0.5,)), dtype=float)[:, :, 0]
        if tuple(quantiles) == (0.5,):
            return point[:, :, None]
        return self.calibrator(horizon).quantiles(point, quantiles)


def default_lags(freq: str) -> tuple[int, ...]:
    """Target lags (periods) of the recommended global models for a panel frequency.

    ``"MS"`` -> (1, 2, 3, 6, 12); ``"QS"`` -> (1, 2, 3, 4, 8); ``"YS"`` -> (1, 2, 3).
    """
    season = P.season_length(freq)
    return {12: (1, 2, 3, 6, 12), 4: (1, 2, 3, 4, 8), 1: (1, 2, 3)}[season]


def default_windows(freq: str) -> tuple[int, ...]:
    """Rolling-window lengths (periods) of the recommended global models: ``MS`` (3, 12), ``QS`` (2, 4), ``YS`` (3,)."""
    season = P.season_length(freq)
    return {12: (3, 12), 4: (2, 4), 1: (3,)}[season]


def default_forecaster(freq: str = "MS", *, num_threads: int = 1, random_state: int = 0) -> Ensemble:
    """The recommended forecaster for a panel of frequency ``freq`` (unfitted).

    Parameters
    ----------
    freq : panel frequency, ``"MS"`` (monthly), ``"QS"`` (quarterly) or ``"YS"`` (annual);
        sets the lags and rolling windows of the global members.
    num_threads : LightGBM / BLAS threads (1 is the safe default on small, busy machines).
    random_state : seed of the LightGBM member (the only random part).

    Returns
    -------
    Unfitted ``Ensemble({"naive", "ridge", "lightgbm"}, method="median")``; call
    ``fit(panel, target)`` then ``predict(horizon, quantiles)`` (forecasts in target units).

    Examples
    --------
    >>> model = default_forecaster("YS")
    >>> model.members["ridge"].lags
    (1, 2, 3)
    """
    lags, windows = default_lags(freq), default_windows(freq)
    members = {
        "naive": Naive(),
        "ridge": SklearnForecaster(Ridge(alpha=1.0), lags=lags, windows=windows, num_threads=num_threads,
                                   random_state=random_state),
        "lightgbm": LightGBMForecaster(lags=lags, windows=windows, num_threads=num_threads, seed=random_state),
    }
    return Ensemble(members, method="median")
