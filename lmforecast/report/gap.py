"""Gap = job openings - new supply, its ratio and P(shortage), summarised from sample paths.

Every derived quantity is computed on each sample path first; only then are paths summarised
into a central value (the median over paths) and interval bounds (quantiles over paths), never
by subtracting or adding quantiles. A roll-up (region, occupation group, nation, skill) sums the
paths first, then summarises (:mod:`lmforecast.report.rollups`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import xarray as xr

PATH = "path"
INTERVAL = (0.1, 0.9)
#: gap_ratio is NaN where openings are below this (persons per year): a ratio would amplify noise
MIN_OPENINGS_FOR_RATIO = 1.0


def gap_paths(openings: xr.DataArray, supply: xr.DataArray) -> xr.Dataset:
    """Gap and gap ratio on every path.

    Parameters
    ----------
    openings : job openings (persons per year), any dims incl. ``path``.
    supply : new supply, same dims (persons per year).

    Returns
    -------
    Dataset: ``gap`` = openings - supply (persons per year; > 0 = shortage) and ``gap_ratio`` =
    gap / openings (unitless; NaN where openings < :data:`MIN_OPENINGS_FOR_RATIO`).
    """
    gap = (openings - supply).assign_attrs(units="persons per year",
                                           description="job openings - new supply; > 0 = shortage")
    ratio = (gap / openings.where(openings >= MIN_OPENINGS_FOR_RATIO)).assign_attrs(
        units="1", description="gap / job openings")
    return xr.Dataset({"gap": gap, "gap_ratio": ratio})


def p_shortage(gap: xr.DataArray) -> xr.DataArray:
    """P(gap > 0): the share of sample paths in shortage (unitless, NaN where the gap is NaN)."""
    share = (gap > 0).mean(PATH).where(gap.notnull().all(PATH))
    return share.assign_attrs(units="1", description="P(gap > 0) over the sample paths")


def summarise(paths: xr.Dataset, levels: Sequence[float] = INTERVAL) -> xr.Dataset:
    """Central value (median over paths) and interval bounds of every variable with a ``path`` dim.

    Parameters
    ----------
    paths : Dataset of path quantities; variables without ``path`` are passed through.
    levels : quantile levels of the interval bounds (default the 80 % interval, 0.1 and 0.9).

    Returns
    -------
    Dataset with, per variable ``v``: ``v`` (median), ``v_q10``, ``v_q90`` (one per level), and
    ``p_shortage`` when ``gap`` is present.
    """
    out = {}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "All-NaN slice", RuntimeWarning)
        for name, var in paths.data_vars.items():
            if PATH not in var.dims:
                out[name] = var
                continue
            out[name] = var.median(PATH).assign_attrs(var.attrs)
            bounds = var.quantile(list(levels), dim=PATH)
            for level in levels:
                out[f"{name}_q{round(100 * level):02d}"] = bounds.sel(quantile=level, drop=True).assign_attrs(var.attrs)
    if "gap" in paths and PATH in paths["gap"].dims:
        out["p_shortage"] = p_shortage(paths["gap"])
    return xr.Dataset(out)
