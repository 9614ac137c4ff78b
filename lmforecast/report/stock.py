"""The stock comparison: annual-mean demand stock minus supply stock (e.g. vacancies - jobseekers).

Kept as a method for data sets that have only those two series by region x occupation, as many
employment services publish; the openings-based report is :mod:`lmforecast.report.core`.

Inputs are forecasts in panel shape (``time x region x occupation``, optionally with a
``quantile`` dim, or joint sample paths with a ``path`` dim) of a demand measure (e.g.
``vacancies``, positions) and a supply measure (e.g. ``jobseekers``, persons). Each is first
aggregated to calendar years according to its ``aggregation`` attr: ``flow`` measures are summed
over the periods of the year, ``stock`` measures averaged. Then

* ``gap = demand - supply`` (positive: more openings than candidates, a shortage),
* ``gap_ratio = gap / demand`` (unitless; NaN where demand is missing or below
  ``min_demand_for_ratio``, default 1 unit, where a ratio would only amplify noise),
* when both sides come as sample paths, the gap quantiles are taken path by path
  (``gap_q10``, ``gap_q50``, ``gap_q90``), so the interval reflects joint uncertainty.

Example
-------
>>> import numpy as np, pandas as pd, xarray as xr
>>> time = pd.date_range("2026-01-01", periods=12, freq="MS")
>>> coords = {"time": time, "region": ["MA-01"], "occupation": ["2512"]}
>>> demand = xr.DataArray(np.full((12, 1, 1), 120.0), coords=coords, dims=("time", "region", "occupation"),
...                       attrs={"aggregation": "stock"})
>>> supply = xr.DataArray(np.full((12, 1, 1), 100.0), coords=coords, dims=("time", "region", "occupation"),
...                       attrs={"aggregation": "stock"})
>>> table = gap_table(projected_gap(demand, supply, freq="MS", years=[2026]))
>>> table[["year", "region", "occupation", "demand", "supply", "gap"]].to_dict("records")
[{'year': 2026, 'region': 'MA-01', 'occupation': '2512', 'demand': 120.0, 'supply': 100.0, 'gap': 20.0}]
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from lmforecast import panel as P
from lmforecast.io import write_csv_atomic
from lmforecast.report.annual import YEAR, annual

PATH = "path"
GAP_QUANTILES = (0.1, 0.5, 0.9)
SUPPORTED_FORMATS = ("csv",)
TABLE_COLUMNS = [YEAR, P.REGION, P.REGION_NAME, P.OCCUPATION, P.OCCUPATION_NAME,
                 "demand", "supply", "gap", "gap_ratio"]


def _aggregation(array: xr.DataArray, given: str | None, role: str) -> str:
    aggregation = given or array.attrs.get("aggregation")
    if aggregation is None and array.name in P.MEASURES:
        aggregation = P.MEASURES[str(array.name)].aggregation
    if aggregation not in ("flow", "stock"):
        raise ValueError(f"projected_gap: cannot tell how to aggregate the {role} forecast "
                         f"{array.name!r} to years: attrs['aggregation'] is {aggregation!r}, "
                         f"expected 'flow' (summed) or 'stock' (averaged); pass {role}_aggregation=")
    return aggregation


def _point(array: xr.DataArray) -> xr.DataArray:
    if P.QUANTILE in array.dims:
        return array.sel({P.QUANTILE: 0.5}, drop=True)
    return array


def projected_gap(demand: xr.DataArray, supply: xr.DataArray, freq: str | None = None,
                  years: Sequence[int] | None = None, *, demand_paths: xr.DataArray | None = None,
                  supply_paths: xr.DataArray | None = None, quantiles: Iterable[float] = GAP_QUANTILES,
                  demand_aggregation: str | None = None, supply_aggregation: str | None = None,
                  min_demand_for_ratio: float = 1.0) -> xr.Dataset:
    """Annual projected gap between a demand and a supply forecast.

    Parameters
    ----------
    demand, supply : forecasts ``(time, region, occupation[, quantile])`` (the 0.5 quantile is
        the point forecast) or sample paths ``(time, region, occupation, path)``, in their own
        units (e.g. positions and persons). Region/occupation labels must match.
    freq : panel frequency of ``time``; default ``attrs["freq"]`` or inferred from ``time``.
    years : calendar years to report (each fully covered); None = every fully covered year.
    demand_paths, supply_paths : joint sample paths (``Forecaster.sample_paths``) used for the gap
        quantiles when ``demand``/``supply`` are point forecasts.
    quantiles : gap quantile levels computed from the paths.
    demand_aggregation, supply_aggregation : ``"flow"``/``"stock"``, overriding the attrs.
    min_demand_for_ratio : ``gap_ratio`` is NaN where annual demand is below this (demand units).

    Returns
    -------
    Dataset with dims ``(year, region, occupation)``: ``demand``, ``supply``, ``gap`` (demand -
    supply) and ``gap_ratio`` (gap / demand, unitless), plus ``gap_quantiles`` ``(year, region,
    occupation, quantile)`` when paths are available for both sides. With paths only, the point
    values are the path medians. Region/occupation label coordinates are kept.
    """
    d_agg = _aggregation(demand, demand_aggregation, "demand")
    s_agg = _aggregation(supply, supply_aggregation, "supply")
    if PATH in demand.dims:
        demand_paths, demand = demand, None
    if PATH in supply.dims:
        supply_paths, supply = supply, None
    reference = demand if demand is not None else demand_paths
    freq = freq or reference.attrs.get("freq") or pd.DatetimeIndex(reference.indexes[P.TIME], freq="infer").freqstr
    if freq is None:
        raise ValueError("projected_gap: cannot infer the frequency of 'time'; pass freq='MS', 'QS' or 'YS'")
    for dim in (P.REGION, P.OCCUPATION):
        other = supply if supply is not None else supply_paths
        if not reference.indexes[dim].equals(other.indexes[dim]):
            missing = sorted(set(reference.indexes[dim]).symmetric_difference(other.indexes[dim]))[:5]
            raise ValueError(f"projected_gap: demand and supply disagree on {dim!r} labels "
                             f"(e.g. {missing}); forecast both from the same panel")

    def yearly(point, paths, aggregation, role):
        paths_y = annual(paths, aggregation, freq, years, role) if paths is not None else None
        if point is not None:
            point_y = annual(_point(point), aggregation, freq, years, role)
        else:
            point_y = paths_y.median(PATH)
        return point_y, paths_y

    demand_y, demand_paths_y = yearly(demand, demand_paths, d_agg, "demand forecast")
    supply_y, supply_paths_y = yearly(supply, supply_paths, s_agg, "supply forecast")
    demand_y, supply_y = xr.align(demand_y, supply_y, join="exact")
    gap = demand_y - supply_y
    out = xr.Dataset({
        "demand": demand_y.reset_coords(drop=True),
        "supply": supply_y.reset_coords(drop=True),
        "gap": gap.reset_coords(drop=True),
        "gap_ratio": (gap / demand_y.where(demand_y >= max(float(min_demand_for_ratio), 1e-12))).reset_coords(drop=True),
    })
    if demand_paths_y is not None and supply_paths_y is not None:
        levels = sorted(float(q) for q in quantiles)
        gap_paths = demand_paths_y - supply_paths_y
        with warnings.catch_warnings():  # cells with no paths at all (e.g. unclassified) stay NaN
            warnings.filterwarnings("ignore", "All-NaN slice", RuntimeWarning)
            gap_quantiles = gap_paths.quantile(levels, dim=PATH)
        out["gap_quantiles"] = gap_quantiles.reset_coords(drop=True).transpose(
            YEAR, P.REGION, P.OCCUPATION, P.QUANTILE)
    for name in (P.REGION_NAME, P.OCCUPATION_NAME, P.OCCUPATION_MAJOR):
        if name in reference.coords:
            out = out.assign_coords({name: reference.coords[name]})
    out["demand"].attrs = {"units": demand_y.attrs.get("units", ""), "measure": str(reference.name),
                           "annual_aggregation": d_agg}
    supply_ref = supply_y
    out["supply"].attrs = {"units": supply_ref.attrs.get("units", ""),
                           "measure": str((supply if supply is not None else supply_paths).name),
                           "annual_aggregation": s_agg}
    out["gap"].attrs = {"units": f"{out['demand'].attrs['units']} minus {out['supply'].attrs['units']}",
                        "description": "demand - supply; positive = shortage of candidates"}
    out["gap_ratio"].attrs = {"units": "1", "description": "gap / demand"}
    out.attrs = {"freq": freq, "demand_measure": out["demand"].attrs["measure"],
                 "supply_measure": out["supply"].attrs["measure"]}
    return out


def gap_table(gap: xr.Dataset, dropna: bool = True) -> pd.DataFrame:
    """Flatten a :func:`projected_gap` Dataset into the planners' table.

    Parameters
    ----------
    gap : Dataset from :func:`projected_gap`.
    dropna : drop the region x occupation cells where both demand and supply are NaN for the
        year (e.g. occupation ``unclassified``, which only job ads have). Cells with one side
        present are kept (their gap is NaN).

    Returns
    -------
    DataFrame with columns ``year, region, region_name, occupation, occupation_name, demand,
    supply, gap, gap_ratio`` and ``gap_q10, gap_q50, gap_q90`` (one per quantile level) when the
    Dataset has ``gap_quantiles``; sorted by year, region, occupation. ``demand``/``supply`` in
    their measures' units per year (flows summed, stocks averaged).
    """
    frame = gap[["demand", "supply", "gap", "gap_ratio"]].reset_coords(drop=True).to_dataframe().reset_index()
    if "gap_quantiles" in gap:
        wide = gap["gap_quantiles"].reset_coords(drop=True).to_series().unstack(P.QUANTILE)
        wide.columns = [f"gap_q{round(float(q) * 100):02d}" for q in wide.columns]
        frame = frame.merge(wide.reset_index(), on=[YEAR, P.REGION, P.OCCUPATION], how="left")
    for name, dim in ((P.REGION_NAME, P.REGION), (P.OCCUPATION_NAME, P.OCCUPATION)):
        if name in gap.coords:
            labels = gap[name].to_series()
            frame[name] = frame[dim].map(labels).astype(str)
        else:
            frame[name] = frame[dim].astype(str)
    if dropna:
        frame = frame[frame["demand"].notna() | frame["supply"].notna()]
    columns = TABLE_COLUMNS + [c for c in frame.columns if c.startswith("gap_q")]
    frame = frame[columns].sort_values([YEAR, P.REGION, P.OCCUPATION], kind="stable").reset_index(drop=True)
    frame[YEAR] = frame[YEAR].astype("int64")
    return frame


def write_gap_report(table: pd.DataFrame, out_dir: str | os.PathLike, name: str = "gap_table",
                     formats: Iterable[str] = ("csv",)) -> list[Path]:
    """Write a :func:`gap_table` to ``out_dir/<name>.<format>`` atomically; return the paths.

    Only ``csv`` is supported today (Excel and HTML are planned); other formats raise
    ``ValueError`` before anything is written.
    """
    formats = list(formats)
    unknown = [f for f in formats if f not in SUPPORTED_FORMATS]
    if unknown:
        raise ValueError(f"report formats {unknown} are not supported yet; supported: {list(SUPPORTED_FORMATS)}")
    paths = []
    for fmt in formats:
        paths.append(write_csv_atomic(table, Path(out_dir) / f"{name}.{fmt}"))
    return paths


def compare_with_truth(table: pd.DataFrame, truth: pd.DataFrame,
                       keys: Sequence[str] = (YEAR, P.REGION, P.OCCUPATION)) -> pd.DataFrame:
    """Join a gap table with a known truth gap table and report the errors.

    Parameters
    ----------
    table : :func:`gap_table` output.
    truth : DataFrame with ``keys`` and a ``gap`` column (same units), e.g. the synthetic
        generator's ``truth/gap_truth.csv``.

    Returns
    -------
    DataFrame of the matched rows with ``gap``, ``gap_truth``, ``error`` (= gap - gap_truth) and,
    when the table has them, ``inside_80`` (truth within ``gap_q10..gap_q90``).

    Raises
    ------
    ValueError when no row matches (keys disagree).
    """
    keys = list(keys)
    missing = [k for k in keys + ["gap"] if k not in truth.columns]
    if missing:
        raise ValueError(f"truth table lacks columns {missing}; it has {list(truth.columns)}")
    right = truth[keys + ["gap"]].rename(columns={"gap": "gap_truth"}).copy()
    left = table.copy()
    for key in keys:
        if key == YEAR:
            right[key] = right[key].astype("int64")
        else:
            right[key] = right[key].astype(str)
            left[key] = left[key].astype(str)
    merged = left.merge(right, on=keys, how="inner")
    if merged.empty:
        raise ValueError(f"no (year, region, occupation) of the gap table matches the truth table; "
                         f"table years {sorted(table[YEAR].unique())}, truth years {sorted(right[YEAR].unique())}")
    merged["error"] = merged["gap"] - merged["gap_truth"]
    if {"gap_q10", "gap_q90"} <= set(merged.columns):
        merged["inside_80"] = (merged["gap_truth"] >= merged["gap_q10"]) & (merged["gap_truth"] <= merged["gap_q90"])
    return merged
