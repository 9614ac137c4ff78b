"""A log-linear trend of each series' annual level, optionally damped.

For a labour market under steady structural change (digital work growing 8-12 % a year, farm
work shrinking) the most reliable five-year signal is the long-run growth rate of each cell.
:class:`TrendForecaster` estimates it per series by ordinary least squares of ``log1p`` of the
annual (year-long block) means on time, over the last ``years`` blocks (all by default), and
projects it from the latest block, damped by ``damping`` per year
(``level(t + k) = level(t) * exp(slope * (phi + ... + phi^k))``; ``damping=1``: undamped).
Unlike a random walk with drift, the slope is read from every year, not from two noisy end
points. Non-negative targets only (counts, stocks, rates); the path at the panel frequency
follows :func:`lmforecast.models._annual.paths_from_annual`.
"""

from __future__ import annotations

import numpy as np

from lmforecast.errors import PanelError
from lmforecast.models._annual import annual_blocks, paths_from_annual, seasonal_index
from lmforecast.models.base import FitContext, Forecaster
from lmforecast.models.shares import _log_slope

__all__ = ["TrendForecaster"]


class TrendForecaster(Forecaster):
    """Log-linear trend of the annual level per series, damped by ``damping`` per year.

    Parameters
    ----------
    years : year-long blocks the slope is estimated on (``None`` = all; at least 2 observed).
    damping : yearly damping ``phi`` in [0, 1] (1 = undamped, 0 = no trend).
    seasonal : put back each series' within-year pattern (monthly/quarterly panels).
    uncertainty : the uncertainty layer (see :class:`~lmforecast.models.base.Forecaster`).

    Attributes
    ----------
    slope_ : ``(series,)`` yearly log growth.
    last_block_ : ``(series,)`` latest annual mean.

    Examples
    --------
    >>> TrendForecaster(damping=0.9).get_params()["years"] is None
    True
    """

    def __init__(self, years: int | None = None, damping: float = 1.0, seasonal: bool = True, uncertainty=None):
        self.years = years
        self.damping = damping
        self.seasonal = seasonal
        self.uncertainty = uncertainty

    def _min_train(self, season_length: int) -> int:
        return 2 * max(1, season_length)

    def _fit_series(self, y: np.ndarray, context: FitContext) -> None:
        if not 0.0 <= float(self.damping) <= 1.0:
            raise ValueError(f"damping must lie in [0, 1], got {self.damping}")
        if self.years is not None and int(self.years) < 2:
            raise ValueError(f"years must be >= 2 (or None), got {self.years}")
        if not context.nonnegative:
            raise PanelError(f"TrendForecaster needs a target >= 0; {context.target!r} has negative values")
        season = context.season_length
        self.season_length_ = season
        blocks = annual_blocks(y, season)
        if blocks.shape[1] < 2:
            raise PanelError(f"TrendForecaster needs 2 year-long blocks of history, got {blocks.shape[1]}")
        window = blocks if self.years is None else blocks[:, -int(self.years):]
        self.slope_ = _log_slope(window + 1.0, window.shape[1])   # log1p levels (shares code takes logs)
        self.last_block_ = blocks[:, -1]
        self.pattern_ = seasonal_index(y, season) if (self.seasonal and season > 1) else None

    def _predict_point(self, horizon: int) -> np.ndarray:
        season = self.season_length_
        n_years = int(np.ceil(horizon / season)) + 1
        phi = float(self.damping)
        k = np.arange(1, n_years + 1, dtype=float)
        cumulative = k if phi == 1.0 else (phi * (1 - phi ** k) / (1 - phi) if phi > 0 else np.zeros_like(k))
        last = np.where(np.isfinite(self.last_block_), self.last_block_, 0.0)
        future = np.expm1(np.log1p(last)[:, None] + self.slope_[:, None] * cumulative[None, :])
        out = paths_from_annual(last, future, season, horizon, self.pattern_)
        return np.where(np.isfinite(self.last_block_)[:, None], out, np.nan)
