"""Build the panel of one data set folder: raw long tables -> validated ``xarray.Dataset``.

:func:`build_panel` is the only way raw data enter the modelling code:

1. hash every input file (``provenance_inputs``) -- the files are only read, never written;
2. load and validate ``demand``, ``supply`` and ``offers`` (:mod:`lmforecast.contract`);
3. harmonise rows on the pre-2015 16 regions to the 12 current ones
   (:func:`lmforecast.features.alignment.harmonise_regions`);
4. count job ads (:func:`lmforecast.features.offers.count_offers`: normalise, code, dedup);
5. align demand/supply series to the panel frequency
   (:func:`lmforecast.features.alignment.align_series`);
6. merge everything on the union of the time ranges, label the coordinates, validate.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from tqdm.auto import tqdm

from lmforecast import __version__
from lmforecast import panel as P
from lmforecast.contract import (CONTRACT_FILE, FIELD_TABLE, Limits, Reference, find_table, find_tables,
                                 load_demand, load_offers, load_reference, load_supply, load_supply_by_field,
                                 read_projections)
from lmforecast.errors import DataContractError
from lmforecast.features.alignment import align_series, harmonise_regions
from lmforecast.features.offers import UNALLOCATED, count_offers
from lmforecast.io import sha256_file

UNALLOCATED_NAME = "Unallocated (all Morocco or several regions)"
UNCLASSIFIED_NAME = "Unclassified (job title could not be coded)"
UNCLASSIFIED_MAJOR = "X"  # as lmforecast.taxonomy.occupations.UNCLASSIFIED_MAJOR

log = logging.getLogger(__name__)


def input_hashes(raw_dir: str | os.PathLike, reference: Reference | None = None) -> dict[str, str]:
    """SHA-256 of every input file of a data set folder.

    Parameters
    ----------
    raw_dir : data set folder.
    reference : its reference lists (their own CSV files are hashed too).

    Returns
    -------
    ``{file name relative to raw_dir: hex sha256}``, sorted by name.
    """
    raw_dir = Path(raw_dir)
    paths = list(find_tables(raw_dir).values())
    by_field = find_table(raw_dir, FIELD_TABLE)
    if by_field is not None:
        paths.append(by_field)
    if reference is not None:
        paths += list(reference.files.values())
    return {str(Path(p).relative_to(raw_dir)): sha256_file(p) for p in sorted(paths)}


def _text_coord(values, default: str = "") -> np.ndarray:
    return np.array([default if v is None or (isinstance(v, float) and np.isnan(v)) or pd.isna(v) else str(v)
                     for v in values], dtype=str)


def build_panel(raw_dir: str | os.PathLike, freq: str = "MS", country: str = "MA", progress: bool = True, *,
                reference: Reference | None = None, coder=None,
                dedup_window_days: int | None = 30, limits: Limits | None = None) -> xr.Dataset:
    """Build the panel of a data set folder.

    Parameters
    ----------
    raw_dir : data set folder (``data/raw/<name>``) with at least one of ``demand``,
        ``supply``, ``offers`` (CSV or Parquet) and optional ``regions.csv``,
        ``occupations.csv``, ``region_aliases.csv``. Nothing in it is modified.
    freq : panel frequency, ``"MS"`` (monthly), ``"QS"`` (quarterly) or ``"YS"`` (annual).
    country : ISO country code recorded in ``attrs["country"]``.
    progress : show a tqdm progress bar (hidden anyway when not on a terminal).
    reference : reference lists (default :func:`lmforecast.contract.load_reference`).
    coder : job-title coder with ``code_many`` (default
        ``TitleCoder(occupations=reference.occupations)``).
    dedup_window_days : repost window for job ads (see :mod:`lmforecast.features.offers`).
    limits : plausibility limits of the raw values (:class:`lmforecast.contract.Limits`; default:
        nothing dated after today + 31 days, values below each measure's bound).

    Returns
    -------
    Panel Dataset (dims ``time x region x occupation``): ``job_offers`` (job ads per period;
    0 = no ad, NaN outside the span of the ads) when there are offers, and one variable per
    demand/supply measure, NaN where missing.
    ``time`` spans the union of all tables' ranges at ``freq``; ``region`` = the regions (+
    ``"unallocated"`` when any ad is unallocated); ``occupation`` = the leaf occupations (+
    ``"unclassified"`` when there are offers). Coords ``region_name``, ``occupation_name``,
    ``occupation_major``, ``occupation_parent``; attrs ``freq``, ``country``,
    ``provenance_inputs`` (JSON ``{file: sha256}``), ``lmforecast_version``, ``built_at`` (UTC
    ISO 8601), ``offers_report`` (JSON, when there are offers), ``harmonisation_report`` (JSON:
    per table, the old-16-region values that could not be harmonised because an old region
    feeding the new one was missing; when there were old-region rows).

    Raises
    ------
    DataContractError for any raw input breaking the contract, or when ``contract.json``
    declares a table a projection (a panel holds observed history only); PanelError if the
    result breaks the panel contract.
    """
    raw_dir = Path(raw_dir)
    P.season_length(freq)
    projections = read_projections(raw_dir)
    if projections:
        raise DataContractError(str(raw_dir / CONTRACT_FILE), "projections", None, sorted(projections),
                                "no projection tables in a folder the panel is built from",
                                "a panel holds observed history only; keep projected tables in another folder "
                                "and load them with lmforecast.contract.load_demand/load_supply")
    steps = ["hash inputs", "load demand", "load supply", "count offers", "align", "merge"]
    with tqdm(total=len(steps), desc=f"build_panel {raw_dir.name}", unit="step",
              disable=None if progress else True) as bar:
        def step(name):
            bar.set_postfix_str(name)

        step(steps[0])
        find_tables(raw_dir)
        reference = reference if reference is not None else load_reference(raw_dir)
        hashes = input_hashes(raw_dir, reference)
        bar.update()

        long_tables = {}
        harmonisation = {}
        for kind, loader in (("demand", load_demand), ("supply", load_supply)):
            step(f"load {kind}")
            table = loader(raw_dir, reference, limits)
            if kind == "supply":
                table = _with_supply_by_field(raw_dir, table, reference, limits)
            has_old = table is not None and table["region"].isin(reference.old_region_codes).any()
            if has_old:
                table = harmonise_regions(table, reference.crosswalk)
                incomplete = table.attrs.get("harmonise_incomplete", [])
                harmonisation[kind] = {"n_incomplete": len(incomplete), "first": incomplete[:5]}
                if incomplete:
                    log.debug("%s: %d old-region values not harmonised (an old region feeding the new one is "
                             "missing); listed in the panel's harmonisation_report", kind, len(incomplete))
            if table is not None:
                long_tables[kind] = table
            bar.update()

        step("count offers")
        offers_report = None
        job_offers = None
        offers = load_offers(raw_dir, reference, limits)
        if offers is not None:
            if coder is None:
                from lmforecast.taxonomy.titles import TitleCoder

                coder = TitleCoder(occupations=reference.occupations)
            result = count_offers(offers, freq, normalizer=reference.normalizer, coder=coder,
                                  dedup_window_days=dedup_window_days, regions=reference.region_codes,
                                  occupations=reference.occupation_codes)
            job_offers, offers_report = result.counts, result.report
        bar.update()

        step("align")
        regions = reference.region_codes
        occupations = reference.occupation_codes
        aligned = [align_series(table, freq, regions, occupations) for table in long_tables.values()]
        bar.update()

        step("merge")
        region_coord = list(regions)
        occupation_coord = list(occupations)
        if job_offers is not None:
            if UNALLOCATED in job_offers.indexes[P.REGION]:
                region_coord.append(UNALLOCATED)
            occupation_coord.append(P.UNCLASSIFIED)
        starts, ends = [], []
        pieces = [ds for ds in aligned if ds.sizes.get(P.TIME, 0)]
        if job_offers is not None:
            pieces.append(job_offers.to_dataset())
        for ds in pieces:
            starts.append(ds.indexes[P.TIME][0])
            ends.append(ds.indexes[P.TIME][-1])
        time = pd.date_range(min(starts), max(ends), freq=freq)
        target = {P.TIME: time, P.REGION: np.array(region_coord, dtype=str),
                  P.OCCUPATION: np.array(occupation_coord, dtype=str)}
        data_vars = {}
        for ds in pieces:
            for name, var in ds.data_vars.items():
                data_vars[name] = var.reindex(target, fill_value=np.nan).astype(np.float64)
        order = sorted(data_vars, key=lambda v: (["offers", "demand", "supply"].index(
            P.MEASURES[v].kind) if v in P.MEASURES else 3, v))
        panel = xr.Dataset({name: data_vars[name] for name in order}, coords=target)
        panel = panel.assign_coords(_labels(reference, region_coord, occupation_coord))
        attrs = {
            "freq": freq,
            "country": country,
            "provenance_inputs": json.dumps(hashes, sort_keys=True),
            "lmforecast_version": __version__,
            "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        if offers_report is not None:
            attrs["offers_report"] = json.dumps(offers_report, sort_keys=True)
        if harmonisation:
            attrs["harmonisation_report"] = json.dumps(harmonisation, sort_keys=True, default=str)
        panel.attrs = attrs
        bar.update()
    return P.validate(panel)


def _with_supply_by_field(raw_dir: Path, supply: pd.DataFrame | None, reference: Reference,
                          limits: Limits | None) -> pd.DataFrame | None:
    """``supply`` plus the rows of ``supply_by_field`` mapped to occupations (a measure comes from one of them)."""
    by_field = load_supply_by_field(raw_dir, reference, limits)
    if by_field is None:
        return supply
    if supply is not None:
        both = sorted(set(supply["measure"]) & set(by_field["measure"]))
        if both:
            first = supply[supply["measure"] == both[0]].iloc[0]
            raise DataContractError(supply.attrs.get("source_file", "supply"), "measure", int(first["row"]), both[0],
                                    f"each measure in one table: {both[0]!r} is also in {by_field.attrs['source_file']}",
                                    "give a measure by occupation (supply) or by field (supply_by_field), not both")
        merged = pd.concat([supply, by_field[supply.columns]], ignore_index=True)
        merged.attrs = dict(supply.attrs)
        return merged
    return by_field


def _labels(reference: Reference, region_coord: list[str], occupation_coord: list[str]) -> dict:
    """Label coordinates (``region_name``, ``occupation_*``) for the panel's codes."""
    regions = reference.regions.set_index(reference.regions["code"].astype(str))
    occupations = reference.occupations.set_index(reference.occupations["code"].astype(str))
    if P.UNCLASSIFIED not in occupations.index:
        occupations.loc[P.UNCLASSIFIED, ["name", "parent", "major"]] = [
            UNCLASSIFIED_NAME, UNCLASSIFIED_MAJOR, UNCLASSIFIED_MAJOR]
    region_name = [UNALLOCATED_NAME if code == UNALLOCATED else regions.at[code, "name"] for code in region_coord]

    def occ(column: str) -> np.ndarray:
        if column not in occupations.columns:
            return _text_coord([""] * len(occupation_coord))
        return _text_coord([occupations.at[code, column] for code in occupation_coord])

    return {
        P.REGION_NAME: (P.REGION, _text_coord(region_name)),
        P.OCCUPATION_NAME: (P.OCCUPATION, occ("name")),
        P.OCCUPATION_MAJOR: (P.OCCUPATION, occ("major")),
        P.OCCUPATION_PARENT: (P.OCCUPATION, occ("parent")),
    }


def build_and_write_panel(raw_dir: str | os.PathLike, out_path: str | os.PathLike, freq: str = "MS",
                          **build_kw) -> Path:
    """Build the panel of ``raw_dir`` and write it atomically to NetCDF.

    Parameters
    ----------
    raw_dir : data set folder.
    out_path : destination ``.nc`` file (written via :func:`lmforecast.panel.write_panel`).
    freq : panel frequency (``"MS"``, ``"QS"``, ``"YS"``).
    **build_kw : passed to :func:`build_panel` (``country``, ``progress``, ...).

    Returns
    -------
    Path of the written panel.
    """
    panel = build_panel(raw_dir, freq=freq, **build_kw)
    return P.write_panel(panel, out_path)
