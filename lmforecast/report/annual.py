"""Panel-frequency series -> calendar years, for forecasts, sample paths and observed data.

A measure whose native frequency is coarser than the panel's (quarterly employment or annual
graduates on a monthly panel) sits on the last month of each native period
(``data/raw/README.md``, "How tables become panel variables"); its annual value is read at those
positions only (:func:`annual_values`), so a forecast and the observed history are aggregated the
same way.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from lmforecast import panel as P

YEAR = "year"


def annual(array: xr.DataArray, aggregation: str, freq: str, years: Sequence[int] | None = None,
           role: str = "forecast") -> xr.DataArray:
    """Aggregate a ``time``-indexed array to calendar years (dim ``year``).

    Parameters
    ----------
    array : DataArray with a ``time`` dim of period starts (other dims kept).
    aggregation : ``"flow"`` (sum of the periods, e.g. job ads per year) or ``"stock"``
        (mean of the periods, e.g. average jobseekers), in the array's units.
    freq : pandas frequency of ``time`` (``"MS"``, ``"QS"``, ``"YS"``).
    years : calendar years to keep; each must be fully covered (all its periods present).
        None = every fully covered year.

    Returns
    -------
    DataArray with ``year`` (int) in place of ``time``. A series with a missing period in a year
    gets NaN for that year (never a partial sum).

    Raises
    ------
    ValueError naming the year and the periods available when a requested year is incomplete.
    """
    per_year = P.season_length(freq)
    time = array.indexes[P.TIME]
    counts = pd.Series(1, index=time.year).groupby(level=0).size()
    complete = [int(y) for y, n in counts.items() if n == per_year]
    if years is None:
        years = complete
    for year in years:
        if int(year) not in complete:
            raise ValueError(
                f"the {role} covers {time[0]:%Y-%m} to {time[-1]:%Y-%m} at freq {freq!r}: year {year} "
                f"has {int(counts.get(int(year), 0))} of its {per_year} periods; forecast further ahead "
                f"or choose years among {complete}")
    keep = array.sel({P.TIME: time[np.isin(time.year, list(years))]})
    return _by_year(keep, array.attrs, aggregation)



def annual_values(array: xr.DataArray, freq: str, years: Sequence[int] | None = None, *,
                  aggregation: str | None = None, native_freq: str | None = None,
                  role: str = "series") -> xr.DataArray:
    """Annual values of a measure, reading a coarse native series only where its values sit.

    Parameters
    ----------
    array : DataArray with a ``time`` dim at the panel frequency (other dims kept), in the
        measure's units.
    freq : panel frequency (``"MS"``, ``"QS"``, ``"YS"``).
    years : calendar years wanted (each fully covered); None = every fully covered year.
    aggregation : ``"flow"`` (summed) or ``"stock"`` (averaged); default ``attrs["aggregation"]``.
    native_freq : the measure's own frequency (default ``attrs["native_freq"]``); when coarser
        than ``freq`` only the last period of each native period is used (quarterly stocks: the
        mean of the four quarter values; annual flows: the December value).
    role : what to call the array in error messages.

    Returns
    -------
    DataArray with ``year`` (int) in place of ``time``, NaN for a year with a missing value.

    Raises
    ------
    ValueError when the aggregation is unknown or a requested year is not fully covered.
    """
    aggregation = aggregation or array.attrs.get("aggregation")
    if aggregation not in ("flow", "stock"):
        raise ValueError(f"{role}: cannot tell how to aggregate to years: aggregation is {aggregation!r}, "
                         "expected 'flow' or 'stock'")
    native_freq = native_freq or array.attrs.get("native_freq")
    per_year = P.season_length(freq)
    native_per_year = P.season_length(native_freq) if native_freq else per_year
    if native_per_year >= per_year:
        return annual(array, aggregation, freq, years, role)
    time = array.indexes[P.TIME]
    step = per_year // native_per_year
    position = (time.month - 1) // (12 // per_year)          # period index within its year
    at_native = (position % step) == step - 1
    counts = pd.Series(1, index=time.year).groupby(level=0).size()
    complete = [int(y) for y, n in counts.items() if n == per_year]
    years = complete if years is None else [int(y) for y in years]
    for year in years:
        if year not in complete:
            raise ValueError(f"the {role} covers {time[0]:%Y-%m} to {time[-1]:%Y-%m}: year {year} is not fully "
                             f"covered; choose years among {complete}")
    keep = array.isel({P.TIME: np.flatnonzero(at_native & np.isin(time.year, years))})
    return _by_year(keep, array.attrs, aggregation)


def _by_year(keep: xr.DataArray, attrs: dict, aggregation: str) -> xr.DataArray:
    """Periods of ``keep`` summed (``flow``) or averaged (stock) into calendar years (``year`` dim)."""
    grouped = keep.groupby(keep[P.TIME].dt.year.rename(YEAR))
    out = grouped.sum(P.TIME, skipna=False) if aggregation == "flow" else grouped.mean(P.TIME, skipna=False)
    out = out.assign_coords({YEAR: out[YEAR].astype(int)})
    out.attrs = dict(attrs)
    out.attrs["annual_aggregation"] = aggregation
    return out
