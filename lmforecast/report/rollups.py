"""Roll-ups (nation, region, occupation group, skill group) and rankings, from sample paths.

A roll-up sums the cells' paths first and recomputes the ratio and P(shortage) on the summed
paths; its interval therefore reflects the dependence between cells that the joint paths carry.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from lmforecast import panel as P
from lmforecast.report.gap import PATH, gap_paths, summarise

FLOWS = ("employment", "expansion_demand", "replacement_demand", "job_openings", "graduate_supply",
         "jobseeker_supply", "trainee_supply", "mobility", "new_supply")
LEVELS = ("national", "region", "occupation", "occupation_group")


def rollup(paths: xr.Dataset, level: str) -> xr.Dataset:
    """Sum the cells' paths to ``level`` and recompute gap, ratio and P(shortage).

    Parameters
    ----------
    paths : cell paths (``region, occupation[, year], path``) with the :data:`FLOWS` variables
        (persons / persons per year) and an ``occupation_major`` coordinate.
    level : ``national``, ``region``, ``occupation`` (all regions) or ``occupation_group`` (ISCO-08 major group).

    Returns
    -------
    Summary Dataset (:func:`~lmforecast.report.gap.summarise`) over ``[year,]`` and the level's
    dim (none for ``national``; ``region``; ``occupation_group``).
    """
    flows = paths[[v for v in FLOWS if v in paths]]
    if level == "national":
        summed = flows.sum([P.REGION, P.OCCUPATION], min_count=1)
    elif level == "region":
        summed = flows.sum(P.OCCUPATION, min_count=1)
    elif level == "occupation":
        summed = flows.sum(P.REGION, min_count=1)
    elif level == "occupation_group":
        groups = paths[P.OCCUPATION_MAJOR].values
        summed = flows.groupby(xr.DataArray(groups, dims=P.OCCUPATION, name="occupation_group")).sum(
            [P.OCCUPATION, P.REGION], min_count=1)
    else:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    summed = summed.merge(gap_paths(summed["job_openings"], summed["new_supply"]))
    return summarise(summed)


def rank(frame: pd.DataFrame, by: str, column: str, k: int = 5, largest: bool = True,
         group: str | None = P.REGION) -> pd.DataFrame:
    """The ``k`` rows with the largest (or smallest) ``column`` within each ``group``, with a ``rank`` column."""
    keyed = frame.dropna(subset=[column])
    ordered = keyed.sort_values(column, ascending=not largest, kind="stable")
    out = ordered.groupby(group, sort=True).head(k) if group else ordered.head(k)
    out = out.copy()
    out.insert(0, "rank", out.groupby(group).cumcount() + 1 if group else np.arange(1, len(out) + 1))
    out.insert(0, "ranked_on", by)
    return out.sort_values([group, "rank"] if group else ["rank"], kind="stable").reset_index(drop=True)
