"""Put validated demand/supply long tables on the panel grid.

Two jobs, both on the long tables returned by :func:`lmforecast.contract.load_demand` /
:func:`~lmforecast.contract.load_supply`:

**Region harmonisation** (:func:`harmonise_regions`). Rows on the 16 regions used before the 2015
reform (``MA16-xx``) are allocated to the 12 current regions with the crosswalk's
``weight_old_to_new`` (share of the old region's population living in each new region) and summed
per new region. This is a *population-weighted approximation*: it assumes the measure is spread
like the population inside each old region, for stocks and flows alike. A new region's value is
produced only when every old region feeding it is present for that period, occupation and
measure; otherwise it would be silently too low, so it is left missing and listed in
``attrs["harmonise_incomplete"]`` (``build_panel`` records the count in the panel's
``harmonisation_report``; it is expected wherever the raw data have gaps, not a warning). Harmonised rows get ``" (harmonised from 16 regions)"``
appended to their source.

**Frequency alignment** (:func:`align_series`). Each series keeps its native frequency in the
raw table; the panel has one (``MS`` < ``QS`` < ``YS`` in fineness):

* same frequency: the value is placed as is;
* finer series in a coarser panel (monthly series, quarterly panel): **flows** are summed over
  the sub-periods and the coarse period is missing if any sub-period is missing; **stocks** are
  the mean of the available sub-periods if at least half of them are present, else missing;
* coarser series in a finer panel (quarterly series, monthly panel): the value is **not spread**
  over sub-periods (that would invent data). It is placed on the *last* sub-period of its native
  period -- the first panel period by whose end the whole native period has been observed --
  and the other sub-periods are missing. Levels keep their meaning (a quarterly average
  employment sits in the quarter's last month; a quarterly flow total sits there too, so a flow
  variable then holds a quarter's total in one month). The variable attr ``native_freq`` records
  the native frequencies (comma-separated when series differ).

Nothing is interpolated; missing stays ``NaN``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from lmforecast import panel as P
from lmforecast.errors import DataContractError

HARMONISED_SUFFIX = " (harmonised from 16 regions)"
PERIODS_PER_YEAR = {"MS": 12, "QS": 4, "YS": 1}
_KEY = ["period", "freq", "region", "occupation", "measure"]


def _file(table: pd.DataFrame) -> str:
    return table.attrs.get("source_file", "<long table>")


def _row(table: pd.DataFrame, pos: int) -> int | None:
    return int(table["row"].iloc[pos]) if "row" in table.columns else None


def harmonise_regions(table: pd.DataFrame, crosswalk: pd.DataFrame) -> pd.DataFrame:
    """Allocate rows on old 16-region codes to the 12 current regions.

    Parameters
    ----------
    table : validated long table (``period, freq, region, occupation, measure, value, source``,
        optional ``row``) as returned by ``load_demand`` / ``load_supply``.
    crosswalk : ``old_code, new_code, weight_old_to_new`` (weights of one old code sum to 1),
        e.g. :func:`lmforecast.taxonomy.regions.region_crosswalk`.

    Returns
    -------
    A new long table: rows on new codes unchanged, old-code rows replaced by one row per new
    region (value in the measure's units = sum over old regions of value x weight; source with
    ``" (harmonised from 16 regions)"`` appended; ``row`` = first contributing raw row). New
    regions not fully covered by the old regions present are left out and listed in
    ``attrs["harmonise_incomplete"]``. ``attrs`` of ``table`` are kept.

    Raises
    ------
    DataContractError when one (period, occupation, measure) has rows on both old and new codes.
    ValueError when the crosswalk weights of an old code do not sum to 1.
    """
    crosswalk = crosswalk[["old_code", "new_code", "weight_old_to_new"]].copy()
    crosswalk["old_code"] = crosswalk["old_code"].astype(str)
    crosswalk["new_code"] = crosswalk["new_code"].astype(str)
    sums = crosswalk.groupby("old_code")["weight_old_to_new"].sum()
    bad = sums[~np.isclose(sums.to_numpy(dtype=float), 1.0, atol=1e-6)]
    if len(bad):
        raise ValueError(f"crosswalk weight_old_to_new must sum to 1 per old_code; "
                         f"{bad.index[0]!r} sums to {bad.iloc[0]}")
    old_codes = set(crosswalk["old_code"])
    is_old = table["region"].astype(str).isin(old_codes).to_numpy()
    out_attrs = dict(table.attrs)
    if not is_old.any():
        result = table.copy()
        result.attrs = out_attrs
        return result

    # never mix: a (period, occupation, measure) is either on old or on new codes
    cell = pd.DataFrame({"period": table["period"], "occupation": table["occupation"], "measure": table["measure"]})
    cell_id = pd.MultiIndex.from_frame(cell).factorize()[0] if len(cell) else np.array([], dtype=np.int64)
    old_cells = np.unique(cell_id[is_old])
    mixed_new = (~is_old) & np.isin(cell_id, old_cells)
    if mixed_new.any():
        pos = int(np.flatnonzero(mixed_new)[0])
        other = int(np.flatnonzero(is_old & (cell_id == cell_id[pos]))[0])
        raise DataContractError(
            _file(table), "region", _row(table, pos), table["region"].iloc[pos],
            "one region system per (period, occupation, measure): old 16-region codes or new codes, not both",
            f"row {_row(table, other)} has old code {table['region'].iloc[other]!r} for period "
            f"{pd.Timestamp(table['period'].iloc[pos]).date()}, occupation {table['occupation'].iloc[pos]!r}, "
            f"measure {table['measure'].iloc[pos]!r}")

    old = table.loc[is_old].copy()
    if "row" not in old.columns:
        old["row"] = np.flatnonzero(is_old) + 1
    merged = old.merge(crosswalk, left_on="region", right_on="old_code", how="inner", validate="many_to_many")
    merged["value"] = merged["value"] * merged["weight_old_to_new"]
    group = ["period", "freq", "new_code", "occupation", "measure"]
    allocated = (merged.groupby(group, sort=True, dropna=False)
                 .agg(value=("value", "sum"), row=("row", "min"),
                      source=("source", lambda s: " + ".join(sorted(set(map(str, s))))),
                      n_old=("old_code", "nunique"))
                 .reset_index().rename(columns={"new_code": "region"}))
    # completeness: every old region with positive weight into the new one must be present
    needed = (crosswalk[crosswalk["weight_old_to_new"] > 0].groupby("new_code")["old_code"].nunique())
    complete = allocated["n_old"].to_numpy() == needed.reindex(allocated["region"]).to_numpy()
    incomplete = allocated.loc[~complete, ["period", "region", "occupation", "measure", "n_old"]]
    allocated = allocated.loc[complete].drop(columns="n_old")
    allocated["source"] = allocated["source"] + HARMONISED_SUFFIX
    columns = [c for c in table.columns]
    result = pd.concat([table.loc[~is_old], allocated[[c for c in columns if c in allocated.columns]]],
                       ignore_index=True)[columns]
    result = result.sort_values(["measure", "occupation", "region", "period"], kind="stable").reset_index(drop=True)
    out_attrs["harmonise_incomplete"] = [
        {"period": str(pd.Timestamp(r.period).date()), "region": r.region, "occupation": r.occupation,
         "measure": r.measure, "old_regions_present": int(r.n_old)}
        for r in incomplete.itertuples(index=False)]
    result.attrs = out_attrs
    return result


def _target_periods(period: np.ndarray, native: str, freq: str) -> np.ndarray:
    """Panel period of each row: floor (finer native) or last sub-period (coarser native)."""
    months = period.astype("datetime64[M]").astype(np.int64)
    native_months = 12 // PERIODS_PER_YEAR[native]
    panel_months = 12 // PERIODS_PER_YEAR[freq]
    if native_months > panel_months:  # coarser series: last sub-period of the native period
        target = months + native_months - panel_months
    else:  # same or finer: the panel period containing it
        target = months - months % panel_months
    return target.astype("datetime64[M]").astype("datetime64[ns]")


def align_series(table: pd.DataFrame, freq: str, regions: Sequence[str],
                 occupations: Sequence[str]) -> xr.Dataset:
    """Turn a validated demand or supply long table into panel variables.

    Parameters
    ----------
    table : long table with ``period`` (period start), ``freq`` (native frequency of each row),
        ``region`` (current codes only -- run :func:`harmonise_regions` first),
        ``occupation``, ``measure``, ``value`` (measure units).
    freq : panel frequency, ``"MS"``, ``"QS"`` or ``"YS"``.
    regions, occupations : panel coordinates, in order.

    Returns
    -------
    Dataset with dims ``(time, region, occupation)`` and one float variable per measure (NaN
    where missing), carrying :func:`lmforecast.panel.measure_attrs` plus ``native_freq``;
    ``time`` is regular at ``freq`` from the first to the last period holding a value; ``attrs``
    has ``freq``. Frequency rules are in the module docstring.

    Raises
    ------
    DataContractError for a region or occupation outside the panel coordinates (naming the
    row); ValueError for an unsupported frequency.
    """
    if freq not in PERIODS_PER_YEAR:
        raise ValueError(f"panel freq must be one of {list(PERIODS_PER_YEAR)}, got {freq!r}")
    regions = [str(r) for r in regions]
    occupations = [str(o) for o in occupations]
    region_axis, occ_axis = pd.Index(regions), pd.Index(occupations)
    for column, axis in (("region", region_axis), ("occupation", occ_axis)):
        idx = axis.get_indexer(table[column].astype(str))
        if (idx < 0).any():
            pos = int(np.flatnonzero(idx < 0)[0])
            hint = ("harmonise old 16-region codes first (harmonise_regions)"
                    if column == "region" and str(table[column].iloc[pos]).startswith("MA16-") else None)
            raise DataContractError(_file(table), column, _row(table, pos), table[column].iloc[pos],
                                    f"one of the panel's {column} codes", hint)
    if len(table) == 0:
        return xr.Dataset(attrs={"freq": freq})

    pieces = []
    for native, part in table.groupby("freq", sort=True):
        if native not in PERIODS_PER_YEAR:
            raise ValueError(f"unknown native frequency {native!r} in the long table")
        target = _target_periods(part["period"].to_numpy().astype("datetime64[ns]"), native, freq)
        frame = pd.DataFrame({"time": target, "region": part["region"].astype(str).to_numpy(),
                              "occupation": part["occupation"].astype(str).to_numpy(),
                              "measure": part["measure"].astype(str).to_numpy(),
                              "value": part["value"].to_numpy(dtype=np.float64), "native": native})
        n_sub = PERIODS_PER_YEAR[native] // PERIODS_PER_YEAR[freq]
        if n_sub > 1:  # finer native: aggregate sub-periods
            agg = (frame.groupby(["measure", "region", "occupation", "time"], sort=False)["value"]
                   .agg(["sum", "mean", "count"]).reset_index())
            flow = agg["measure"].map(lambda m: P.MEASURES[m].aggregation == "flow").to_numpy(dtype=bool)
            count = agg["count"].to_numpy()
            value = np.where(flow, np.where(count == n_sub, agg["sum"], np.nan),
                             np.where(count >= n_sub / 2, agg["mean"], np.nan))
            frame = agg[["measure", "region", "occupation", "time"]].assign(value=value, native=native)
        pieces.append(frame)
    long = pd.concat(pieces, ignore_index=True)

    present = long.dropna(subset=["value"])
    span = present if len(present) else long
    time = pd.date_range(span["time"].min(), span["time"].max(), freq=freq)
    t_idx = time.get_indexer(long["time"])
    r_idx = region_axis.get_indexer(long["region"])
    o_idx = occ_axis.get_indexer(long["occupation"])
    inside = t_idx >= 0
    data_vars = {}
    for measure in sorted(long["measure"].unique()):
        sel = (long["measure"] == measure).to_numpy() & inside
        grid = np.full((len(time), len(regions), len(occupations)), np.nan)
        grid[t_idx[sel], r_idx[sel], o_idx[sel]] = long["value"].to_numpy()[sel]
        attrs = P.measure_attrs(measure)
        attrs["native_freq"] = ",".join(sorted(long.loc[long["measure"] == measure, "native"].unique(),
                                               key=lambda f: -PERIODS_PER_YEAR[f]))
        data_vars[measure] = xr.Variable(P.DIMS, grid, attrs=attrs)
    return xr.Dataset(data_vars,
                      coords={P.TIME: time, P.REGION: np.array(regions, dtype=str),
                              P.OCCUPATION: np.array(occupations, dtype=str)},
                      attrs={"freq": freq})
