"""Leak-free lag, rolling-window, growth and tension features for global forecasting models.

Every feature at time column ``t`` is computed from ``y[:, : t - min_lag + 1]`` only, i.e. from
data at least ``min_lag`` periods before ``t`` (``min_lag=1`` for one-step / recursive models,
``min_lag=h`` for the direct model of horizon step ``h``). Changing any value at or after column
``t - min_lag + 1`` therefore cannot change a feature at or before column ``t``: the features are
leak-free by construction, whatever the forecast cutoff.

Features are computed with vectorised NumPy over all series at once (no per-series loops).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr

from lmforecast import panel as P

__all__ = ["lag_features", "tension", "forward_fill", "panel_features", "normalize_exog_lags", "WINDOW_STATS"]

TENSION = "tension"
#: rolling statistics :func:`lag_features` can compute per window
WINDOW_STATS: tuple[str, ...] = ("mean", "std", "min", "max")


def _check_positive_ints(name: str, values) -> tuple[int, ...]:
    out = []
    for v in values:
        if int(v) != v or int(v) < 1:
            raise ValueError(f"{name} must be positive integers, got {v!r}")
        out.append(int(v))
    return tuple(sorted(set(out)))


def forward_fill(y: np.ndarray) -> np.ndarray:
    """Carry each series' last observed value forward over NaN (past values only).

    Parameters
    ----------
    y : float array ``(series, time)``, NaN = missing.

    Returns
    -------
    Array of the same shape and units; NaN remains only before a series' first observation.

    Examples
    --------
    >>> import numpy as np
    >>> forward_fill(np.array([[np.nan, 1.0, np.nan, 3.0, np.nan]])).tolist()
    [[nan, 1.0, 1.0, 3.0, 3.0]]
    """
    y = np.asarray(y, dtype=float)
    observed = np.isfinite(y)
    last_idx = np.where(observed, np.arange(y.shape[1])[None, :], 0)
    np.maximum.accumulate(last_idx, axis=1, out=last_idx)
    filled = np.take_along_axis(y, last_idx, axis=1)
    seen = np.maximum.accumulate(observed, axis=1)
    return np.where(seen, filled, np.nan)


def lag_features(y: np.ndarray, lags: Sequence[int] = (1, 2, 3, 6, 12),
                 windows: Sequence[int] = (3, 12), season_length: int = 12, *,
                 min_lag: int = 1, growth: bool = True,
                 columns: np.ndarray | None = None,
                 stats: Sequence[str] = WINDOW_STATS) -> dict[str, np.ndarray]:
    """Lag, rolling-window, seasonal-lag and growth features of a target matrix.

    Parameters
    ----------
    y : float array ``(series, time)`` in the target's units (NaN = missing).
    lags : lags in periods; lags shorter than ``min_lag`` are dropped (they would leak).
    windows : rolling-window lengths in periods; each window ends at ``t - min_lag``.
    season_length : periods per year (12 monthly, 4 quarterly, 1 annual).
    min_lag : the smallest lag allowed (1 for one-step-ahead models, ``h`` for the direct model
        of horizon step ``h``).
    growth : add ``growth_{w}`` features.
    columns : time columns at which to compute the features (default: all ``0..time-1``).
    stats : rolling statistics to compute per window, a subset of ``("mean", "std", "min",
        "max")`` (default all four; ``growth`` needs ``"mean"``'s computation but not its column).

    Returns
    -------
    dict ``name -> array (series, len(columns))``, NaN where the history is too short:

    * ``lag_{L}`` = ``y[:, t - L]`` (units of ``y``);
    * ``seasonal_lag`` = ``y[:, t - k * season_length]`` with the smallest ``k`` such that
      ``k * season_length >= min_lag`` (only when ``season_length > 1`` and that lag is not
      already in ``lags``);
    * ``roll_mean_{w}``, ``roll_std_{w}`` (ddof=1), ``roll_min_{w}``, ``roll_max_{w}`` over
      ``y[:, t - min_lag - w + 1 : t - min_lag + 1]``, ignoring NaN (units of ``y``);
    * ``growth_{w}`` = ``log(roll_mean_w[t] / roll_mean_w[t - season_length])``, the log
      growth of the rolling mean over one year (NaN unless both means are > 0; unitless).

    The value at column ``t`` only uses ``y[:, : t - min_lag + 1]``.

    Examples
    --------
    >>> y = np.array([[1.0, 2.0, 4.0, 8.0]])
    >>> feats = lag_features(y, lags=(1,), windows=(2,), season_length=1, growth=False)
    >>> feats["lag_1"].tolist(), feats["roll_mean_2"].tolist()
    ([[nan, 1.0, 2.0, 4.0]], [[nan, 1.0, 1.5, 3.0]])
    """
    y = np.asarray(y, dtype=float)
    if y.ndim != 2:
        raise ValueError(f"y must be a 2-D (series, time) array, got shape {y.shape}")
    min_lag = int(min_lag)
    if min_lag < 1:
        raise ValueError(f"min_lag must be >= 1, got {min_lag}")
    season_length = int(season_length)
    if season_length < 1:
        raise ValueError(f"season_length must be >= 1, got {season_length}")
    lags = tuple(L for L in _check_positive_ints("lags", lags) if L >= min_lag)
    windows = _check_positive_ints("windows", windows)
    stats = tuple(stats)
    unknown = sorted(set(stats) - set(WINDOW_STATS))
    if unknown:
        raise ValueError(f"stats must be among {WINDOW_STATS}, got {unknown}")
    n_series, n_time = y.shape
    cols = np.arange(n_time) if columns is None else np.asarray(columns, dtype=int)
    seasonal = None
    if season_length > 1:
        seasonal = season_length * int(np.ceil(min_lag / season_length))
        if seasonal in lags:
            seasonal = None
    reach = max(lags + ((seasonal,) if seasonal else ()) + (min_lag,))
    if windows:
        reach = max(reach, min_lag + max(windows) - 1 + (season_length if growth else 0))
    pad = reach + 1
    ypad = np.concatenate([np.full((n_series, pad), np.nan), y], axis=1)
    at = cols + pad  # positions of the requested columns in ypad
    out: dict[str, np.ndarray] = {}
    for L in lags:
        out[f"lag_{L}"] = ypad[:, at - L]
    if seasonal:
        out["seasonal_lag"] = ypad[:, at - seasonal]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows -> NaN, on purpose
        for w in windows:
            offsets = min_lag + np.arange(w)
            block = ypad[:, at[:, None] - offsets[None, :]]  # (series, cols, w)
            mean = np.nanmean(block, axis=2)
            if "mean" in stats:
                out[f"roll_mean_{w}"] = mean
            if "std" in stats:
                std = np.nanstd(block, axis=2, ddof=1) if w > 1 else np.full_like(mean, np.nan)
                std[~np.isfinite(std)] = np.nan  # fewer than 2 observations: NaN, never inf
                out[f"roll_std_{w}"] = std
            if "min" in stats:
                out[f"roll_min_{w}"] = np.nanmin(block, axis=2)
            if "max" in stats:
                out[f"roll_max_{w}"] = np.nanmax(block, axis=2)
            if growth:
                past = ypad[:, at[:, None] - season_length - offsets[None, :]]
                past_mean = np.nanmean(past, axis=2)
                ok = (mean > 0) & (past_mean > 0)
                out[f"growth_{w}"] = np.where(ok, np.log(np.where(ok, mean, 1.0) / np.where(ok, past_mean, 1.0)),
                                              np.nan)
    return out


def tension(job_offers: np.ndarray, jobseekers: np.ndarray, lag: int = 1) -> np.ndarray:
    """Labour-market tension: job offers per jobseeker, lagged.

    Parameters
    ----------
    job_offers : float array ``(series, time)``, job ads per period.
    jobseekers : float array ``(series, time)``, jobseekers (persons), same shape.
    lag : periods of lag (>= 1), so the value at ``t`` uses data at ``t - lag`` only.

    Returns
    -------
    Float array ``(series, time)``: ``job_offers[t - lag] / jobseekers[t - lag]`` (job ads per
    jobseeker); NaN where either is missing or ``jobseekers <= 0``.
    """
    job_offers = np.asarray(job_offers, dtype=float)
    jobseekers = np.asarray(jobseekers, dtype=float)
    if job_offers.shape != jobseekers.shape:
        raise ValueError(f"job_offers {job_offers.shape} and jobseekers {jobseekers.shape} differ in shape")
    lag = int(lag)
    if lag < 1:
        raise ValueError(f"lag must be >= 1, got {lag}")
    ok = np.isfinite(job_offers) & np.isfinite(jobseekers) & (jobseekers > 0)
    ratio = np.where(ok, job_offers / np.where(ok, jobseekers, 1.0), np.nan)
    out = np.full_like(ratio, np.nan)
    out[:, lag:] = ratio[:, :-lag]
    return out


def normalize_exog_lags(exog, min_lag: int = 1) -> dict[str, tuple[int, ...]]:
    """Normalise an exogenous-lag spec to ``{variable: (lag, ...)}``.

    Parameters
    ----------
    exog : a variable name, a sequence of names (each at lag ``min_lag``), or a mapping
        ``{name: lag or sequence of lags}``, e.g. ``{"jobseekers": 1}``.
    min_lag : smallest lag allowed; shorter lags raise ``ValueError``.

    Returns
    -------
    dict ``name -> sorted tuple of lags`` (periods).
    """
    if exog is None:
        return {}
    if isinstance(exog, str):
        exog = {exog: min_lag}
    elif not isinstance(exog, Mapping):
        exog = {name: min_lag for name in exog}
    out = {}
    for name, lags in exog.items():
        lags = (lags,) if np.isscalar(lags) else tuple(lags)
        lags = _check_positive_ints(f"lags of exogenous variable {name!r}", lags)
        if not lags:
            raise ValueError(f"exogenous variable {name!r} has no lags")
        if min(lags) < min_lag:
            raise ValueError(f"exogenous variable {name!r} lag {min(lags)} < min_lag={min_lag} would leak "
                             f"data from after the forecast origin")
        out[str(name)] = lags
    return out


def panel_features(panel: xr.Dataset, target: str, lags: Sequence[int] = (1, 2, 3, 6, 12),
                   windows: Sequence[int] = (3, 12), exog=(), *, min_lag: int = 1,
                   growth: bool = True) -> xr.Dataset:
    """Leak-free features of a panel variable, as a labelled Dataset for researchers.

    Parameters
    ----------
    panel : panel Dataset (see :mod:`lmforecast.panel`).
    target : variable whose lag / rolling / growth features are computed.
    lags, windows, min_lag, growth : as in :func:`lag_features`.
    exog : other panel variables to lag: a name, names (lag ``min_lag``) or
        ``{name: lags}``. The name ``"tension"`` means ``job_offers / jobseekers`` (needs both).
        When the panel has both ``job_offers`` and ``jobseekers``, ``tension_lag_{min_lag}`` is
        always added.

    Returns
    -------
    Dataset with dims ``(time, region, occupation)``: the target's features under the names of
    :func:`lag_features` (units of the target, growth unitless) and ``{variable}_lag_{L}`` for
    exogenous variables (their own units; tension in job ads per jobseeker). The value at each
    time uses only data at least ``min_lag`` periods earlier.

    Examples
    --------
    >>> from lmforecast.datasets.example_country import example_panel
    >>> features = panel_features(example_panel(), "vacancies", lags=(1, 12), windows=(3,), growth=False)
    >>> list(features.data_vars)
    ['lag_1', 'lag_12', 'roll_mean_3', 'roll_std_3', 'roll_min_3', 'roll_max_3']
    >>> bool(features["lag_12"].isel(time=slice(0, 12)).isnull().all())   # nothing before the data
    True
    """
    P.validate(panel, require=(target,))
    freq = panel.attrs["freq"]
    y = P.stack_series(panel[target]).values.astype(float)
    features = lag_features(y, lags, windows, P.season_length(freq), min_lag=min_lag, growth=growth)
    exog_spec = normalize_exog_lags(exog, min_lag)
    has_tension_inputs = "job_offers" in panel.data_vars and "jobseekers" in panel.data_vars
    if has_tension_inputs:
        exog_spec.setdefault(TENSION, (min_lag,))
    for name, name_lags in exog_spec.items():
        if name == TENSION:
            if not has_tension_inputs:
                raise ValueError("exogenous 'tension' needs both 'job_offers' and 'jobseekers' in the panel")
            offers = P.stack_series(panel["job_offers"]).values.astype(float)
            seekers = P.stack_series(panel["jobseekers"]).values.astype(float)
            for L in name_lags:
                features[f"{TENSION}_lag_{L}"] = tension(offers, seekers, L)
            continue
        if name not in panel.data_vars:
            raise ValueError(f"exogenous variable {name!r} is not in the panel; it has "
                             f"{sorted(map(str, panel.data_vars))}")
        values = P.stack_series(panel[name]).values.astype(float)
        for L in name_lags:
            lagged = np.full_like(values, np.nan)
            if L < values.shape[1]:
                lagged[:, L:] = values[:, :-L]
            features[f"{name}_lag_{L}"] = lagged
    template = P.stack_series(panel[target])
    data_vars = {}
    for name, values in features.items():
        stacked = template.copy(data=values)
        stacked.attrs = {"min_lag": min_lag}
        data_vars[name] = P.unstack_series(stacked, template=panel).transpose(*P.DIMS)
    out = xr.Dataset(data_vars)
    out.attrs = {"freq": freq, "target": target, "min_lag": min_lag}
    return out
