"""Tidy tables of the report: codes and names in both languages, units, numbers rounded to what they mean.

Rounding: persons and persons per year to the nearest 10 (a projection is not exact to the
person; values under 100 to the nearest 1), ratios and openings rates to 3 decimals (0.123 =
12.3 %), probabilities to 2 decimals. Sums of rounded cells can differ from rounded totals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from lmforecast import panel as P
from lmforecast.report.annual import YEAR

ID_COLUMNS = [YEAR, P.REGION, "region_name", "region_name_fr", P.OCCUPATION, "occupation_name",
              "occupation_name_fr", "occupation_group"]
VALUE_COLUMNS = ["employment", "expansion_demand", "replacement_demand", "job_openings", "job_openings_q10",
                 "job_openings_q90", "graduate_supply", "trainee_supply", "jobseeker_supply", "mobility", "new_supply",
                 "new_supply_q10", "new_supply_q90", "gap", "gap_q10", "gap_q90", "gap_ratio", "gap_ratio_q10",
                 "gap_ratio_q90", "p_shortage", "openings_rate", "rating", "future_demand", "shortage_driver"]
RATIO_WORDS = ("ratio", "rate", "share", "per_jobseeker")


def round_meaningfully(frame: pd.DataFrame) -> pd.DataFrame:
    """Round every numeric column by what it holds (module docstring); returns a copy."""
    out = frame.copy()
    for name in out.columns:
        if not pd.api.types.is_float_dtype(out[name]):
            continue
        if name.startswith("p_shortage"):
            out[name] = out[name].round(2)
        elif any(w in name for w in RATIO_WORDS):
            out[name] = out[name].round(3)
        else:
            values = out[name].to_numpy(dtype=float)
            out[name] = np.where(np.abs(values) >= 100, np.round(values, -1), np.round(values, 0))
    return out


def names(panel: xr.Dataset | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Region and occupation names in English and French (``code, name, name_fr``)."""
    from lmforecast.taxonomy.occupations import load_occupations
    from lmforecast.taxonomy.regions import load_regions

    regions = load_regions()
    region = pd.DataFrame({P.REGION: regions["code"].astype(str),
                           "region_name": regions.get("name_en", regions["name"]).astype(str),
                           "region_name_fr": regions["name_fr"].astype(str)})
    occ = load_occupations()
    occupation = pd.DataFrame({P.OCCUPATION: occ["code"].astype(str), "occupation_name": occ["name"].astype(str),
                               "occupation_name_fr": occ.get("name_fr", occ["name"]).astype(str),
                               "occupation_group": occ["major"].astype(str)})
    return region, occupation


def label(frame: pd.DataFrame) -> pd.DataFrame:
    """Add bilingual region / occupation names (for the columns present) and order the id columns first.

    A code missing from the package's reference lists (a country of your own) is its own name.
    """
    region, occupation = names()
    out = frame
    if P.REGION in out.columns:
        out = out.drop(columns=[c for c in ("region_name", "region_name_fr") if c in out.columns]).merge(
            region, on=P.REGION, how="left")
        for column in ("region_name", "region_name_fr"):
            out[column] = out[column].fillna(out[P.REGION])
    if P.OCCUPATION in out.columns:
        out = out.drop(columns=[c for c in ("occupation_name", "occupation_name_fr", "occupation_group")
                                if c in out.columns]).merge(occupation, on=P.OCCUPATION, how="left")
        for column in ("occupation_name", "occupation_name_fr"):  # a code outside the list: named by its code
            out[column] = out[column].fillna(out[P.OCCUPATION])
    first = [c for c in ID_COLUMNS if c in out.columns]
    return out[first + [c for c in out.columns if c not in first]]


def cell_table(summary: xr.Dataset) -> pd.DataFrame:
    """One row per [year x] region x occupation: the tidy table of :data:`VALUE_COLUMNS`, labelled, rounded."""
    keep = [c for c in VALUE_COLUMNS if c in summary]
    frame = summary[keep].reset_coords(drop=True).to_dataframe().reset_index()
    frame = frame[frame["job_openings"].notna()]
    sort = [c for c in (YEAR, P.REGION, P.OCCUPATION) if c in frame.columns]
    frame = label(frame).sort_values(sort, kind="stable").reset_index(drop=True)
    if YEAR in frame.columns:
        frame[YEAR] = frame[YEAR].astype("int64")
    return round_meaningfully(frame)
