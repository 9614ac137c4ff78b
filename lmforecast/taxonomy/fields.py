"""Fields of study (ISCED-F 2013) and the field -> occupation matrix that maps graduates to occupations.

Graduates and trainees are often published by field of study, not by occupation. The raw table
``supply_by_field`` (``data/raw/README.md``) is mapped to the panel's occupations with a matrix
``share[field, occupation]``: the share of a field's labour-market entrants who go to each
occupation, every field's shares summing to 1, so no graduate is created or lost. The default
matrix (``taxonomy/data/field_occupation.csv``, sources in ``taxonomy/data/SOURCES.md``) is an
expert-judgement default; a data set brings its own as ``field_occupation.csv`` in its folder.

Example
-------
>>> m = load_field_occupation()
>>> round(float(m.sel(field="061").sum()), 6)
1.0
>>> float(m.sel(field="061", occupation="2512"))
0.22
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from lmforecast.errors import DataContractError
from lmforecast.taxonomy._tables import check_rows, check_text_column, data_path, file_row, read_reference_csv

FIELD = "field"
FIELDS_FILE = "isced_f_fields.csv"
MATRIX_FILE = "field_occupation.csv"
#: tolerance on the sum of a field's shares
SUM_TOLERANCE = 1e-6


def load_fields() -> pd.DataFrame:
    """The ISCED-F 2013 narrow fields shipped with the package: ``field, name, name_fr`` (text)."""
    path = data_path(FIELDS_FILE)
    table = read_reference_csv(path, ("field", "name", "name_fr"))
    check_text_column(table, "field", path, unique=True)
    return table


def load_field_occupation(path: str | os.PathLike | None = None,
                          occupations: Sequence[str] | None = None) -> xr.DataArray:
    """Read and check a field -> occupation matrix (long CSV ``field, occupation, share``).

    Parameters
    ----------
    path : CSV file; None = the package default (``taxonomy/data/field_occupation.csv``).
    occupations : the panel's occupation codes; every ``occupation`` of the file must be one of
        them (default: the Moroccan panel leaves).

    Returns
    -------
    DataArray ``field_share`` with dims ``(field, occupation)``: unitless shares in [0, 1]; every
    field's row sums to 1. ``attrs["source"]`` = the file.

    Raises
    ------
    DataContractError naming the file, row, column and value: a missing column, an empty code, an
    unknown occupation, a share that is not a number in [0, 1], a repeated (field, occupation) or
    a field whose shares do not sum to 1 (the row is the field's first, the value their sum).
    """
    path = Path(path) if path is not None else data_path(MATRIX_FILE)
    table = read_reference_csv(path, ("field", "occupation", "share"))
    for column in ("field", "occupation"):
        check_text_column(table, column, path)
    if occupations is None:
        from lmforecast.taxonomy.occupations import load_occupations

        occupations = [c for c in load_occupations()["code"].astype(str) if c != "unclassified"]
    occupations = [str(c) for c in occupations]
    check_rows(table, "occupation", path, table["occupation"].isin(occupations).to_numpy(),
               "a panel occupation code", hint=f"known codes: {occupations[:6]} ...")
    share = pd.to_numeric(table["share"], errors="coerce").to_numpy(dtype=float)
    check_rows(table, "share", path, np.isfinite(share) & (share >= 0) & (share <= 1), "a number in [0, 1]")
    check_rows(table, "occupation", path, ~table.duplicated(["field", "occupation"]).to_numpy(),
               "one row per (field, occupation)")
    sums = pd.Series(share).groupby(table["field"].to_numpy(), sort=False).sum()
    off = sums[np.abs(sums - 1) > SUM_TOLERANCE]
    if len(off):
        first = int(np.flatnonzero((table["field"] == off.index[0]).to_numpy())[0])
        raise DataContractError(path, "share", file_row(first), round(float(off.iloc[0]), 9),
                                f"shares of field {off.index[0]!r} summing to 1",
                                hint="the value is their sum; the row is the field's first")
    fields = list(sums.index)
    values = np.zeros((len(fields), len(occupations)))
    values[pd.Index(fields).get_indexer(table["field"]), pd.Index(occupations).get_indexer(table["occupation"])] = share
    return xr.DataArray(values, dims=(FIELD, "occupation"), coords={FIELD: fields, "occupation": occupations},
                        name="field_share", attrs={"units": "1", "source": str(path)})


def map_fields_to_occupations(table: pd.DataFrame, matrix: xr.DataArray, source: str = "supply_by_field") -> pd.DataFrame:
    """Spread rows by field over occupations: ``value[o] = sum_f value[f] x share[f, o]``.

    Parameters
    ----------
    table : long rows with a ``field`` column and ``value`` (persons), other key columns kept
        (``period, freq, region, measure``; ``source`` and ``row`` are summarised).
    matrix : :func:`load_field_occupation`.
    source : name of the input for messages.

    Returns
    -------
    DataFrame with ``occupation`` in place of ``field``, one row per key and occupation (fields
    that feed the same occupation are summed; ``row`` = the first contributing row; ``source``
    gets ``" via field_occupation"``). Totals per key are kept exactly (shares sum to 1).

    Raises
    ------
    ValueError naming the first field that has no row in the matrix.
    """
    known = set(matrix[FIELD].values.tolist())
    unknown = sorted(set(table[FIELD]) - known)
    if unknown:
        raise ValueError(f"{source}: fields {unknown[:5]} have no row in the field -> occupation matrix "
                         f"{matrix.attrs.get('source', '')}")
    long = matrix.to_series().rename("share").reset_index()
    long = long[long["share"] > 0]
    merged = table.merge(long, on=FIELD, how="left")
    merged["value"] = merged["value"] * merged["share"]
    merged["source"] = merged["source"].astype(str) + " via field_occupation"
    keys = [c for c in table.columns if c not in (FIELD, "value", "source", "row")] + ["occupation"]
    out = merged.groupby(keys, sort=False, dropna=False).agg(value=("value", "sum"), source=("source", "first"),
                                                             row=("row", "min")).reset_index()
    return out
