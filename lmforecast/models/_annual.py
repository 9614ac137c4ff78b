"""Annual blocks of a series and the way back: what long-horizon models share.

Five-year projections are made at the grain of a year: a model forecasts the mean level of
each future year-long block, and :func:`paths_from_annual` turns those block means into a path
at the panel frequency, interpolating (in log space) between the centres of the blocks from the
last observed year's mean, and putting back each series' recent within-year pattern. Blocks
are counted back from the end of the data, so the last block is always the latest ``season``
periods, whatever month the panel ends in.
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["annual_blocks", "seasonal_index", "paths_from_annual"]


def annual_blocks(y: np.ndarray, season: int) -> np.ndarray:
    """Means of consecutive ``season``-period blocks ending at the last period.

    Parameters
    ----------
    y : ``(series, time)`` in target units, NaN = missing.
    season : periods per year (1 for annual data: blocks are the periods themselves).

    Returns
    -------
    ``(series, n_blocks)``, oldest block first, NaN where a block has no observation; a
    leading partial block is dropped.

    >>> annual_blocks(np.array([[1.0, 2, 3, 4, 5]]), 2).tolist()
    [[2.5, 4.5]]
    """
    season = max(1, int(season))
    n_blocks = y.shape[1] // season
    if n_blocks == 0:
        return np.full((y.shape[0], 0), np.nan)
    block = y[:, y.shape[1] - n_blocks * season:].reshape(y.shape[0], n_blocks, season)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(block, axis=2)


def seasonal_index(y: np.ndarray, season: int, years: int = 3) -> np.ndarray:
    """Within-year pattern of each series: ratio to the block mean by position, ``(series, season)``.

    Averaged over the last ``years`` blocks (positions counted back from the end, position
    ``season - 1`` = the last period); 1 where unknown, normalised to mean 1. The growth within
    a block (the average yearly log growth of the block means, spread evenly over the positions)
    is taken out first: otherwise a growing series' index would be low early in the year and
    high late in it, and the growth would be counted twice on a path that already grows.
    """
    season = max(1, int(season))
    if season == 1:
        return np.ones((y.shape[0], 1))
    n_blocks = min(int(years), y.shape[1] // season)
    if n_blocks == 0:
        return np.ones((y.shape[0], season))
    block = y[:, y.shape[1] - n_blocks * season:].reshape(y.shape[0], n_blocks, season)
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        means = np.nanmean(block, axis=2, keepdims=True)
        log_means = np.where(means[:, :, 0] > 0, np.log(means[:, :, 0]), np.nan)
        growth = np.nan_to_num(np.nanmean(np.diff(log_means, axis=1), axis=1)) if n_blocks > 1 else 0.0
        position = (np.arange(season) - (season - 1) / 2) / season
        trend = np.exp(np.asarray(growth).reshape(-1, 1, 1) * position[None, None, :])
        ratio = np.nanmean(np.where(means > 0, block / (means * trend), np.nan), axis=1)
    ratio = np.where(np.isfinite(ratio) & (ratio > 0), ratio, 1.0)
    return ratio / ratio.mean(axis=1, keepdims=True)


def paths_from_annual(last_block: np.ndarray, future_blocks: np.ndarray, season: int, horizon: int,
                      pattern: np.ndarray | None = None, log: bool = True) -> np.ndarray:
    """Paths ``(series, horizon)`` at the panel frequency from future block means.

    Parameters
    ----------
    last_block : ``(series,)`` mean of the latest ``season`` periods (target units, >= 0).
    future_blocks : ``(series, k)`` forecast means of the next ``k >= ceil(horizon / season)``
        blocks (target units, >= 0).
    season : periods per year.
    horizon : periods to return.
    pattern : optional ``(series, season)`` within-year pattern (:func:`seasonal_index`).
    log : interpolate ``log1p`` levels (for values >= 0); ``False`` interpolates the values.

    Returns
    -------
    ``(series, horizon)``: ``log1p`` of the level interpolated linearly between block centres
    (the last observed block's centre, then each future block's; constant after the last
    centre), times the pattern.
    """
    season = max(1, int(season))
    n_series = last_block.shape[0]
    # block k covers steps (k-1)s+1 .. ks, centred at (k-1)s + (s+1)/2; k = 0 is the last observed block
    centres = (np.arange(future_blocks.shape[1] + 1) - 1) * season + (season + 1) / 2
    steps = np.arange(1, horizon + 1, dtype=float)
    anchors = np.column_stack([last_block, future_blocks])
    anchors = np.log1p(np.maximum(anchors, 0.0)) if log else anchors
    out = np.empty((n_series, horizon))
    for s in range(n_series):
        out[s] = np.interp(steps, centres, anchors[s])
    out = np.expm1(out) if log else out
    if pattern is not None and season > 1:
        position = (np.arange(1, horizon + 1) - 1) % season               # step 1 = block position 0
        out = out * pattern[:, position]
    return out
