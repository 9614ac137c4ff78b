"""Forecast accuracy metrics on labelled arrays, all with one signature.

Every metric is a pure function ``metric(actual, forecast, *, dim=None, **kw) -> xr.DataArray``
in the style of xskillscore: ``actual`` and ``forecast`` are aligned on their shared dims (they must
carry the same labels: a mismatch is an error, never an inner join), the error is computed
element-wise and averaged over ``dim`` (a name, a list of names, or ``None`` = every dim of the
error, ``quantile`` excepted where a metric keeps it).

Missing values:

* an entry whose **actual** is NaN is excluded (masked), never counted as an error of 0;
* an entry whose actual is observed but whose **forecast** is NaN makes the result NaN for its
  group: a model that failed to forecast is reported, not silently skipped;
* a group with no observed actual gives NaN.

Point metrics (MAE, RMSE, sMAPE, WAPE, bias, MASE) use the median as the point forecast: when
``forecast`` has a ``quantile`` dim, its 0.5 level is taken. Quantile metrics (pinball, coverage,
width) need the ``quantile`` dim.

:func:`evaluate` turns a backtest Dataset (see :mod:`lmforecast.backtest`) into a tidy table.

Examples
--------
>>> import xarray as xr
>>> actual = xr.DataArray([10.0, 20.0, float("nan")], dims="horizon")
>>> forecast = xr.DataArray([12.0, 17.0, 5.0], dims="horizon")
>>> float(mae(actual, forecast))
2.5
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from lmforecast import panel as P

Dims = str | Sequence[Hashable] | None

__all__ = [
    "mae", "rmse", "smape", "wape", "bias", "mase", "pinball", "coverage", "interval_width",
    "seasonal_naive_scale", "point_forecast", "evaluate", "METRICS", "DEFAULT_METRICS",
    "window_change", "change_error", "direction_accuracy",
]

DEFAULT_METRICS: tuple[str, ...] = ("mase", "wape", "smape", "mae", "rmse", "bias", "coverage_80", "pinball")


# --- helpers ---------------------------------------------------------------------------------
def point_forecast(forecast: xr.DataArray) -> xr.DataArray:
    """The point forecast: the 0.5 level of the ``quantile`` dim, or ``forecast`` unchanged.

    Parameters
    ----------
    forecast : forecasts in the target's units, with or without a ``quantile`` dim.

    Returns
    -------
    DataArray without the ``quantile`` dim (same units).
    """
    if P.QUANTILE not in forecast.dims:
        return forecast
    return _select_level(forecast, 0.5, "point forecast")


def _select_level(forecast: xr.DataArray, level: float, what: str) -> xr.DataArray:
    levels = np.asarray(forecast[P.QUANTILE].values, dtype=float)
    hits = np.flatnonzero(np.isclose(levels, level, rtol=0, atol=1e-9))
    if hits.size == 0:
        raise ValueError(f"{what} needs quantile level {level:g} in the forecast; "
                         f"its quantile dim has {[float(q) for q in levels]}")
    return forecast.isel({P.QUANTILE: int(hits[0])}, drop=True)


def _align(actual: xr.DataArray, forecast: xr.DataArray, metric: str) -> tuple[xr.DataArray, xr.DataArray]:
    if not isinstance(actual, xr.DataArray) or not isinstance(forecast, xr.DataArray):
        raise TypeError(f"{metric}: actual and forecast must be xarray.DataArray, got "
                        f"{type(actual).__name__} and {type(forecast).__name__}")
    if P.QUANTILE in actual.dims:
        raise ValueError(f"{metric}: actual must not have a {P.QUANTILE!r} dim")
    try:
        return xr.align(actual, forecast, join="exact")
    except ValueError as err:
        raise ValueError(f"{metric}: actual and forecast do not share the same coordinate labels ({err})") from None


def _reduce_dims(array: xr.DataArray, dim: Dims, metric: str, keep: tuple[str, ...] = ()) -> list[Hashable]:
    if dim is None:
        return [d for d in array.dims if d not in keep]
    dims = [dim] if isinstance(dim, str) else list(dim)
    for d in dims:
        if d not in array.dims:
            raise ValueError(f"{metric}: cannot reduce over dim {d!r}; the data have dims {tuple(array.dims)}")
        if d in keep:
            raise ValueError(f"{metric}: dim {d!r} is kept by this metric and cannot be reduced")
    return dims


def _observed_mean(values: xr.DataArray, observed: xr.DataArray, dims: list[Hashable]) -> xr.DataArray:
    """Mean of ``values`` over ``dims`` where ``observed``; NaN if a value is missing where observed."""
    observed = observed.broadcast_like(values)
    missing = (observed & values.isnull()).any(dims)
    return values.where(observed).mean(dims, skipna=True).where(~missing)


def _observed_sum(values: xr.DataArray, observed: xr.DataArray, dims: list[Hashable]) -> xr.DataArray:
    observed = observed.broadcast_like(values)
    missing = (observed & values.isnull()).any(dims)
    return values.where(observed).sum(dims, skipna=True, min_count=1).where(~missing)


def _point_error(actual, forecast, dim, metric):
    actual, forecast = _align(actual, forecast, metric)
    point = point_forecast(forecast)
    error = point - actual
    dims = _reduce_dims(error, dim, metric)
    return actual, point, error, actual.notnull(), dims


def _named(result: xr.DataArray, name: str, units: str | None = None) -> xr.DataArray:
    result = result.rename(name)
    result.attrs = {"metric": name} | ({"units": units} if units else {})
    return result


# --- point metrics ---------------------------------------------------------------------------
def mae(actual: xr.DataArray, forecast: xr.DataArray, *, dim: Dims = None) -> xr.DataArray:
    """Mean absolute error ``mean(|forecast - actual|)`` in the target's units.

    Parameters
    ----------
    actual : observed values (target units); NaN = not observed, excluded.
    forecast : forecasts on the same labels (a ``quantile`` dim is reduced to its 0.5 level).
    dim : dim(s) to average over; ``None`` = all.

    Returns
    -------
    DataArray over the remaining dims, in target units.
    """
    actual, point, error, observed, dims = _point_error(actual, forecast, dim, "mae")
    return _named(_observed_mean(abs(error), observed, dims), "mae", actual.attrs.get("units"))


def rmse(actual: xr.DataArray, forecast: xr.DataArray, *, dim: Dims = None) -> xr.DataArray:
    """Root mean squared error ``sqrt(mean((forecast - actual)^2))`` in the target's units.

    Parameters and returns as :func:`mae`.
    """
    actual, point, error, observed, dims = _point_error(actual, forecast, dim, "rmse")
    return _named(np.sqrt(_observed_mean(error**2, observed, dims)), "rmse", actual.attrs.get("units"))


def bias(actual: xr.DataArray, forecast: xr.DataArray, *, dim: Dims = None) -> xr.DataArray:
    """Mean error ``mean(forecast - actual)`` in target units: > 0 means over-forecasting.

    Parameters and returns as :func:`mae`.
    """
    actual, point, error, observed, dims = _point_error(actual, forecast, dim, "bias")
    return _named(_observed_mean(error, observed, dims), "bias", actual.attrs.get("units"))


def smape(actual: xr.DataArray, forecast: xr.DataArray, *, dim: Dims = None) -> xr.DataArray:
    """Symmetric mean absolute percentage error, in percent (0 to 200).

    ``mean(200 * |f - a| / (|a| + |f|))``; an entry with ``a = f = 0`` counts as 0 (a perfect
    forecast of zero), not as NaN.

    Parameters and returns as :func:`mae`; the result is in percent.
    """
    actual, point, error, observed, dims = _point_error(actual, forecast, dim, "smape")
    denominator = abs(actual) + abs(point)
    term = xr.where(denominator > 0, 200.0 * abs(error) / denominator.where(denominator > 0), 0.0)
    term = term.where(error.notnull())
    return _named(_observed_mean(term, observed, dims), "smape", "percent")


def wape(actual: xr.DataArray, forecast: xr.DataArray, *, dim: Dims = None) -> xr.DataArray:
    """Weighted absolute percentage error ``100 * sum|f - a| / sum|a|``, in percent.

    Large series weigh more (unlike sMAPE). NaN when ``sum|a| = 0``.

    Parameters and returns as :func:`mae`; the result is in percent.
    """
    actual, point, error, observed, dims = _point_error(actual, forecast, dim, "wape")
    numerator = _observed_sum(abs(error), observed, dims)
    denominator = _observed_sum(abs(actual).broadcast_like(error), observed, dims)
    return _named(100.0 * numerator / denominator.where(denominator > 0), "wape", "percent")


def mase(actual: xr.DataArray, forecast: xr.DataArray, *, dim: Dims = None,
         scale: xr.DataArray) -> xr.DataArray:
    """Mean absolute scaled error: ``mean(|f - a| / scale)`` (dimensionless).

    The MASE of a group is the mean over every (series, cutoff, horizon) entry of the group of
    the absolute error divided by that series' in-sample scale (the mean absolute
    seasonal-naive error on the fold's training part, :func:`seasonal_naive_scale`). 1 means "as
    good as the seasonal naive in-sample".

    Parameters
    ----------
    actual, forecast, dim : as :func:`mae`.
    scale : DataArray broadcastable to ``actual`` (in a backtest: ``insample_scale`` with dims
        ``cutoff x region x occupation``), target units. Entries with scale 0 or NaN (constant or
        too short training series) are excluded; their number is in
        ``result.attrs["n_scale_excluded"]`` out of ``result.attrs["n_scale"]``.

    Returns
    -------
    Dimensionless DataArray over the remaining dims.
    """
    actual, point, error, observed, dims = _point_error(actual, forecast, dim, "mase")
    if not isinstance(scale, xr.DataArray):
        raise TypeError(f"mase: scale must be an xarray.DataArray, got {type(scale).__name__}")
    extra = [d for d in scale.dims if d not in actual.dims]
    if extra:
        raise ValueError(f"mase: scale has dims {extra} that actual {tuple(actual.dims)} lacks")
    try:
        scale = xr.align(scale, actual, join="exact")[0] if scale.dims else scale
    except ValueError as err:
        raise ValueError(f"mase: scale and actual do not share the same coordinate labels ({err})") from None
    usable = np.isfinite(scale) & (scale > 0)
    scaled = abs(error) / scale.where(usable)
    result = _observed_mean(scaled, observed & usable, dims)
    result = _named(result, "mase")
    result.attrs["n_scale"] = int(usable.size)
    result.attrs["n_scale_excluded"] = int((~usable).sum())
    return result


# --- quantile metrics ------------------------------------------------------------------------
def pinball(actual: xr.DataArray, forecast: xr.DataArray, *, dim: Dims = None) -> xr.DataArray:
    """Pinball (quantile) loss per quantile level, in target units.

    For level ``q`` and error ``d = a - f_q``: ``q * d`` if ``d >= 0`` else ``(q - 1) * d``,
    averaged over ``dim`` (never over ``quantile``).

    Parameters
    ----------
    actual : observed values (NaN excluded).
    forecast : forecasts with a ``quantile`` dim.
    dim : dim(s) to average over, ``quantile`` excluded; ``None`` = all others.

    Returns
    -------
    DataArray with the ``quantile`` dim (plus any dim not reduced), target units.
    """
    actual, forecast = _align(actual, forecast, "pinball")
    if P.QUANTILE not in forecast.dims:
        raise ValueError(f"pinball: forecast needs a {P.QUANTILE!r} dim; it has {tuple(forecast.dims)}")
    diff = actual - forecast
    levels = forecast[P.QUANTILE]
    loss = xr.where(diff >= 0, levels * diff, (levels - 1) * diff).where(diff.notnull())
    dims = _reduce_dims(loss, dim, "pinball", keep=(P.QUANTILE,))
    return _named(_observed_mean(loss, actual.notnull(), dims), "pinball", actual.attrs.get("units"))


def _interval(forecast: xr.DataArray, level, lower, upper, metric) -> tuple[xr.DataArray, xr.DataArray, float]:
    if P.QUANTILE not in forecast.dims:
        raise ValueError(f"{metric}: forecast needs a {P.QUANTILE!r} dim; it has {tuple(forecast.dims)}")
    if level is not None:
        if lower is not None or upper is not None:
            raise ValueError(f"{metric}: give either level or lower/upper, not both")
        if not 0.0 < float(level) < 1.0:
            raise ValueError(f"{metric}: level must lie strictly between 0 and 1, got {level}")
        lower = (1.0 - float(level)) / 2.0
        upper = 1.0 - lower
    elif lower is None or upper is None:
        raise ValueError(f"{metric}: give level (e.g. 0.8) or both lower and upper quantile levels")
    if not float(lower) < float(upper):
        raise ValueError(f"{metric}: lower level {lower} must be below upper level {upper}")
    lo = _select_level(forecast, float(lower), metric)
    hi = _select_level(forecast, float(upper), metric)
    return lo, hi, float(upper) - float(lower)


def coverage(actual: xr.DataArray, forecast: xr.DataArray, *, dim: Dims = None, level: float | None = None,
             lower: float | None = None, upper: float | None = None) -> xr.DataArray:
    """Share of observed actuals inside the forecast interval ``[f_lower, f_upper]`` (0 to 1).

    Parameters
    ----------
    actual : observed values (NaN excluded).
    forecast : forecasts with a ``quantile`` dim holding the interval's levels.
    dim : dim(s) to average over; ``None`` = all.
    level : nominal central coverage, e.g. 0.8 uses quantiles 0.1 and 0.9.
    lower, upper : explicit quantile levels instead of ``level``.

    Returns
    -------
    DataArray of fractions; compare it with the nominal ``attrs["nominal"]``.
    """
    actual, forecast = _align(actual, forecast, "coverage")
    lo, hi, nominal = _interval(forecast, level, lower, upper, "coverage")
    inside = ((actual >= lo) & (actual <= hi)).astype(float).where(lo.notnull() & hi.notnull())
    dims = _reduce_dims(inside, dim, "coverage")
    result = _named(_observed_mean(inside, actual.notnull(), dims), "coverage", "fraction")
    result.attrs["nominal"] = nominal
    return result


def interval_width(actual: xr.DataArray, forecast: xr.DataArray, *, dim: Dims = None, level: float | None = None,
                   lower: float | None = None, upper: float | None = None) -> xr.DataArray:
    """Mean width ``f_upper - f_lower`` of the forecast interval, in target units.

    Averaged over the same entries as :func:`coverage` (those with an observed actual), so the
    two describe the same sample. Parameters as :func:`coverage`.
    """
    actual, forecast = _align(actual, forecast, "interval_width")
    lo, hi, nominal = _interval(forecast, level, lower, upper, "interval_width")
    width = hi - lo
    dims = _reduce_dims(width, dim, "interval_width")
    result = _named(_observed_mean(width, actual.notnull(), dims), "interval_width", actual.attrs.get("units"))
    result.attrs["nominal"] = nominal
    return result


# --- change over the window (long horizons) ------------------------------------------------
def window_change(actual: xr.DataArray, forecast: xr.DataArray, *, base: xr.DataArray,
                  year_of: xr.DataArray) -> tuple[xr.DataArray, xr.DataArray]:
    """Relative change from the last training year to the last horizon year, true and forecast.

    For each cutoff the end of the window is its last horizon year with any observed actual
    (the fifth year when the data reach it; earlier for a partial window). The change of a
    series is ``mean(values in that year) / base - 1``, the forecast's mean taken over the same
    observed periods as the actual's, ``base`` being the mean of the last training year.

    Parameters
    ----------
    actual, forecast : backtest ``actual`` and ``forecast`` (``cutoff x horizon x ...``).
    base : ``last_year_level`` of the backtest (``cutoff x region x occupation``), target units.
    year_of : horizon year of each step (the ``horizon_year`` coordinate, along ``horizon``).

    Returns
    -------
    ``(true_change, forecast_change)`` as fractions, without the ``horizon`` dim (NaN where
    ``base`` is not positive).
    """
    point = point_forecast(forecast)
    observed = actual.notnull()
    others = [d for d in actual.dims if d not in (P.CUTOFF, P.HORIZON)]
    year_has_data = observed.any(others) if others else observed
    end_year = year_of.where(year_has_data).max(P.HORIZON)                  # per cutoff
    in_end = (year_of == end_year) & observed
    true_end = actual.where(in_end).mean(P.HORIZON)
    forecast_end = point.where(in_end).sum(P.HORIZON, min_count=1) / in_end.sum(P.HORIZON)
    forecast_end = forecast_end.where(~(point.isnull() & in_end).any(P.HORIZON))
    usable = base.where(base > 0)
    return true_end / usable - 1.0, forecast_end / usable - 1.0


def _change_dims(change: xr.DataArray, dim: Dims) -> list[Hashable]:
    if dim is None:
        return list(change.dims)
    dims = [dim] if isinstance(dim, str) else list(dim)
    return [d for d in dims if d in change.dims]


def change_error(actual: xr.DataArray, forecast: xr.DataArray, *, dim: Dims = None, base: xr.DataArray,
                 year_of: xr.DataArray) -> xr.DataArray:
    """Mean absolute error of the change over the window, in percentage points.

    ``|forecast change - true change|`` per series and cutoff (:func:`window_change`: from the
    last training year to the last horizon year), averaged over ``dim`` (``horizon`` is
    already reduced). A forecast change that is NaN where the true one is known makes the
    result NaN (a failed forecast is reported).
    """
    true, forecast_change = window_change(actual, forecast, base=base, year_of=year_of)
    known = true.notnull()
    dims = _change_dims(true, dim)
    error = abs(forecast_change - true).where(known)
    failed = (forecast_change.isnull() & known).any(dims) if dims else (forecast_change.isnull() & known)
    result = (100.0 * error.mean(dims)).where(~failed)
    return _named(result, "change_error", "percentage points")


def direction_accuracy(actual: xr.DataArray, forecast: xr.DataArray, *, dim: Dims = None, base: xr.DataArray,
                       year_of: xr.DataArray, threshold: float = 0.10) -> xr.DataArray:
    """Share of the series that moved more than ``threshold`` whose direction was forecast right.

    As the US BLS grades its projections: among (series, cutoff) whose true change over the
    window (:func:`window_change`) exceeds ``threshold`` in absolute value, the fraction whose
    forecast change has the same sign. NaN when no series moved that much.
    """
    true, forecast_change = window_change(actual, forecast, base=base, year_of=year_of)
    moved = abs(true) > float(threshold)
    right = (np.sign(forecast_change) == np.sign(true)).where(moved)
    dims = _change_dims(true, dim)
    return _named(right.sum(dims) / moved.sum(dims).where(moved.sum(dims) > 0), "direction", "fraction")


# --- MASE scale ------------------------------------------------------------------------------
def seasonal_naive_scale(history: xr.DataArray, *, season: int, dim: str = P.TIME) -> xr.Dataset:
    """In-sample scale for MASE: mean absolute seasonal-naive error of each series.

    ``mean_t |y[t] - y[t - season]|`` over the pairs where both values are observed. A series with
    no such pair (shorter than ``season + 1`` observed periods, or a gap pattern that never pairs)
    falls back to lag 1; with no lag-1 pair either its scale is NaN.

    Parameters
    ----------
    history : training values of the target (target units), with a ``dim`` (time) dim.
    season : season length in periods (12 monthly, 4 quarterly, 1 annual).
    dim : the time dim.

    Returns
    -------
    Dataset with ``scale`` (target units) and ``lag`` (periods used: ``season``, 1, or NaN), on
    the other dims of ``history``.
    """
    if int(season) < 1:
        raise ValueError(f"season must be a positive number of periods, got {season}")
    if dim not in history.dims:
        raise ValueError(f"history has no dim {dim!r}; it has {tuple(history.dims)}")

    def mean_abs_diff(lag: int) -> xr.DataArray:
        if history.sizes[dim] <= lag:
            return xr.full_like(history.isel({dim: 0}, drop=True), np.nan, dtype=float)
        diff = abs(history - history.shift({dim: lag}))
        return diff.mean(dim, skipna=True)

    seasonal = mean_abs_diff(int(season))
    lag1 = mean_abs_diff(1)
    scale = seasonal.where(seasonal.notnull(), lag1)
    lag = xr.where(seasonal.notnull(), float(season), xr.where(lag1.notnull(), 1.0, np.nan))
    scale.attrs = {"units": history.attrs.get("units", ""),
                   "description": "mean absolute seasonal-naive error on the training part (MASE scale)"}
    lag.attrs = {"units": "periods", "description": "lag used for the MASE scale (season, or 1 as fallback)"}
    return xr.Dataset({"scale": scale, "lag": lag})


# --- evaluate --------------------------------------------------------------------------------
METRICS: dict[str, Callable[..., xr.DataArray]] = {
    "mae": mae, "rmse": rmse, "smape": smape, "wape": wape, "bias": bias, "mase": mase,
    "pinball": pinball, "coverage": coverage, "width": interval_width,
}
_LEVEL_METRIC = re.compile(r"^(coverage|width)_(\d{1,2})$")


def _metric_call(name: str, ds: xr.Dataset) -> Callable[[xr.Dataset, list], xr.DataArray]:
    """Return ``f(sub_dataset, dims) -> DataArray`` for a metric name used in :func:`evaluate`."""
    match = _LEVEL_METRIC.match(name)
    if match:
        kind, pct = match.group(1), int(match.group(2))
        func = METRICS[kind]
        return lambda sub, dims: func(sub["actual"], sub["forecast"], dim=dims, level=pct / 100.0)
    if name == "mase":
        if "insample_scale" not in ds:
            raise ValueError("evaluate: 'mase' needs the 'insample_scale' variable of a backtest Dataset")
        return lambda sub, dims: mase(sub["actual"], sub["forecast"], dim=dims, scale=sub["insample_scale"])
    if name in ("change_error", "direction"):
        for needed in ("last_year_level",):
            if needed not in ds:
                raise ValueError(f"evaluate: {name!r} needs the {needed!r} variable of a backtest Dataset")
        if "horizon_year" not in ds.coords:
            raise ValueError(f"evaluate: {name!r} needs the 'horizon_year' coordinate of a backtest Dataset")
        func = change_error if name == "change_error" else direction_accuracy
        return lambda sub, dims: func(sub["actual"], sub["forecast"], dim=[d for d in dims if d != P.HORIZON],
                                      base=sub["last_year_level"], year_of=sub["horizon_year"])
    if name == "pinball":
        return lambda sub, dims: pinball(sub["actual"], sub["forecast"], dim=dims).mean(P.QUANTILE)
    if name in METRICS and name not in ("coverage", "width"):
        func = METRICS[name]
        return lambda sub, dims: func(sub["actual"], sub["forecast"], dim=dims)
    known = sorted(set(METRICS) - {"coverage", "width"}) + ["coverage_<pct>", "width_<pct>", "change_error",
                                                            "direction"]
    raise ValueError(f"evaluate: unknown metric {name!r}; known: {known}")


def evaluate(backtest_ds: xr.Dataset, metrics: Iterable[str] = DEFAULT_METRICS, by: str | None = None) -> pd.DataFrame:
    """Tidy accuracy table of a backtest.

    Parameters
    ----------
    backtest_ds : Dataset from :func:`lmforecast.backtest.backtest` or ``backtest_models``
        (``actual``, ``forecast`` with a ``quantile`` dim, ``insample_scale``; optional ``model`` dim).
    metrics : names among ``mae, rmse, smape, wape, bias, mase, pinball``, ``coverage_<pct>`` /
        ``width_<pct>`` (central interval, e.g. ``coverage_80`` uses the 0.1 and 0.9 quantiles)
        and the window metrics ``change_error`` (percentage points) and ``direction``
        (fraction; see :func:`change_error`, :func:`direction_accuracy`). ``pinball`` is
        averaged over the quantile levels.
    by : ``None`` (one row per model and metric), a dim (``"horizon"``, ``"cutoff"``,
        ``"region"``, ``"occupation"``) or a coordinate along one (``"horizon_year"``,
        ``"occupation_major"``, ``"region_name"``...): one row per label. By ``horizon_year``
        the window metrics measure the change up to that year; by ``horizon`` they repeat the
        whole window's value.

    Returns
    -------
    DataFrame with columns ``[model], [by], metric, value, n_obs`` (``n_obs`` = observed actuals
    in the group, cutoff x horizon x series entries). Units: see each metric (percent for
    sMAPE/WAPE, fraction for coverage, target units for MAE/RMSE/bias/pinball/width).

    Examples
    --------
    >>> from lmforecast.backtest import RollingOriginSplitter, backtest_models
    >>> from lmforecast.datasets.example_country import example_panel
    >>> from lmforecast.models.baselines import Naive, SeasonalNaive
    >>> cube = backtest_models({"naive": Naive(), "seasonal_naive": SeasonalNaive()}, example_panel(), "vacancies",
    ...                        RollingOriginSplitter(horizon=24, n_windows=2, step=12))
    >>> table = evaluate(cube, ["mase", "coverage_80"], by="horizon_year")
    >>> list(table.columns), sorted(table["horizon_year"].unique().tolist())
    (['model', 'horizon_year', 'metric', 'value', 'n_obs'], [1, 2])
    """
    for name in ("actual", "forecast"):
        if name not in backtest_ds:
            raise ValueError(f"evaluate: the Dataset lacks {name!r}; pass a backtest Dataset")
    metrics = list(metrics)
    calls = {name: _metric_call(name, backtest_ds) for name in metrics}
    all_dims = list(backtest_ds["actual"].dims)

    if by is None:
        groups = [(None, backtest_ds, all_dims)]
    elif by in all_dims:
        groups = [(None, backtest_ds, [d for d in all_dims if d != by])]
    elif by in backtest_ds.coords and backtest_ds[by].ndim == 1 and backtest_ds[by].dims[0] in all_dims:
        along = backtest_ds[by].dims[0]
        labels = backtest_ds[by].values
        groups = []
        for label in pd.unique(labels):
            positions = np.flatnonzero(labels == label)
            groups.append((label, backtest_ds.isel({along: positions}), all_dims))
    else:
        raise ValueError(f"evaluate: cannot group by {by!r}; use None, a dim of 'actual' {all_dims} "
                         f"or a 1-D coordinate along one of them")

    frames = []
    for label, sub, dims in groups:
        n_obs = sub["actual"].notnull().sum(dims).rename("n_obs")
        for name, call in calls.items():
            value = call(sub, dims).rename("value")
            value, count = xr.broadcast(value, n_obs)
            if value.ndim == 0:
                frame = pd.DataFrame({"value": [float(value)], "n_obs": [int(count)]})
            else:
                keep = list(value.dims)
                frame = xr.Dataset({"value": value, "n_obs": count}).to_dataframe().reset_index()
                frame = frame[keep + ["value", "n_obs"]]
            if label is not None:
                frame.insert(0, by, label)
            frame.insert(len(frame.columns) - 2, "metric", name)
            frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    lead = [c for c in (P.MODEL, by) if c is not None and c in table.columns]
    table = table[lead + ["metric", "value", "n_obs"]]
    if lead:
        table = table.sort_values(lead, kind="stable", ignore_index=True)
    table["n_obs"] = table["n_obs"].astype("int64")
    return table
