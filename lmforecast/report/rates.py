"""Separation rates by occupation group: the replacement-demand rates of the report (package data).

``data/separation_rates.csv`` (sources and how approximate it is: ``data/README.md``) holds one
row per ISCO-08 group ``code`` with ``retirement_rate``, ``death_rate`` and ``emigration_rate``
(shares of employment per year). An occupation takes the row of the longest code that starts its
own code (``2512`` -> ``25`` -> ``2``), so a file can be as coarse (10 major groups) or as fine as
the data allow.

Example
-------
>>> rates = separation_rates(["2512", "61", "4222"])
>>> rates.round(3).tolist()
[0.019, 0.038, 0.024]
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from lmforecast.errors import DataContractError
from lmforecast.taxonomy._tables import check_rows, check_text_column, read_reference_csv

DATA_DIR = Path(__file__).resolve().parent / "data"
SEPARATION_FILE = DATA_DIR / "separation_rates.csv"
RATE_COLUMNS = ("retirement_rate", "death_rate", "emigration_rate")
#: a separation rate above this (share of employment per year) is a typing error (e.g. 3 for 3 %)
MAX_RATE = 0.5


def load_separation_rates(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Read and check a separation-rate file.

    Parameters
    ----------
    path : CSV with columns ``code, name, retirement_rate, death_rate, emigration_rate`` (and an
        optional ``basis``); None = the package default.

    Returns
    -------
    DataFrame indexed by ``code`` (text) with the three rates (floats, share of employment per
    year), ``separation_rate`` (their sum), ``name`` and ``basis``; ``attrs["source"]`` = the file.

    Raises
    ------
    DataContractError naming the file, row, column and value: a missing column, an empty or
    repeated code, a rate that is not a number in [0, 0.5] (shares, not percent), a total above 0.5.
    """
    path = Path(path) if path is not None else SEPARATION_FILE
    table = read_reference_csv(path, ("code", "name", *RATE_COLUMNS))
    check_text_column(table, "code", path, unique=True)
    for column in RATE_COLUMNS:
        values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
        check_rows(table, column, path, np.isfinite(values) & (values >= 0) & (values <= MAX_RATE),
                   f"a share of employment per year in [0, {MAX_RATE}] (e.g. 0.02 for 2 %)")
        table[column] = values
    total = table[list(RATE_COLUMNS)].sum(axis=1).to_numpy()
    check_rows(table, "retirement_rate", path, total <= MAX_RATE, f"rates summing to at most {MAX_RATE}",
               value=total, hint="the value is the sum of the three rates")
    table["separation_rate"] = total
    if "basis" not in table.columns:
        table["basis"] = ""
    out = table.set_index("code")[["name", *RATE_COLUMNS, "separation_rate", "basis"]]
    out.attrs["source"] = str(path)
    return out


def separation_rates(occupations: Sequence[str], table: pd.DataFrame | None = None,
                     component: str = "separation_rate") -> pd.Series:
    """Separation rate of each occupation (longest matching code of the rate table).

    Parameters
    ----------
    occupations : occupation codes (ISCO-08 based: ``2512``, ``21``, ``03`` ...).
    table : :func:`load_separation_rates` (default: the package file).
    component : ``separation_rate`` (total) or one of ``retirement_rate``, ``death_rate``,
        ``emigration_rate``.

    Returns
    -------
    Series indexed by occupation: share of employment leaving per year.

    Raises
    ------
    ValueError naming the occupations that no code of the table starts (e.g. a national code).
    """
    table = load_separation_rates() if table is None else table
    codes = sorted(table.index, key=len, reverse=True)
    out, missing = {}, []
    for occupation in map(str, occupations):
        match = next((c for c in codes if occupation.startswith(c)), None)
        if match is None:
            missing.append(occupation)
        else:
            out[occupation] = float(table.at[match, component])
    if missing:
        raise ValueError(f"no separation rate for occupations {missing[:8]}: no code of "
                         f"{table.attrs.get('source', 'the rate table')} starts them; add rows for them")
    return pd.Series(out, name=component, dtype=float)
