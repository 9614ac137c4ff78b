"""Australia's Internet Vacancy Index (IVI) -> panel.

Jobs and Skills Australia publishes monthly counts of online job ads by state/territory and
ANZSCO occupation group. The release workbook ("internet_vacancies_anzsco2_occupations_states_and_
territories_-_<month>.xlsx") has four sheets (``Trend``, ``Trend Index``, ``Seasonally Adjusted``,
``Seasonally Adjusted Index``), each with one row per state (``AUST`` + 8 states and territories)
x ANZSCO code (level 1 = all occupations ``0``, level 2 = 8 major groups ``1``..``8``,
level 3 = 48 sub-major groups such as ``26`` or ``2A``) and one column per month.

:func:`load_au_ivi` turns one sheet into a panel that follows :mod:`lmforecast.panel`
(``time x region x occupation``) with the 8 states as regions; the national ``AUST`` rows are
returned separately (``return_national=True``) so totals can be checked against the states.
The data are (c) Jobs and Skills Australia, published under CC BY 4.0 (attribute JSA).
"""

from __future__ import annotations

import json
import os
import warnings
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from lmforecast import __version__
from lmforecast import panel as P
from lmforecast.errors import DataContractError
from lmforecast.io import sha256_file

DEFAULT_FILENAME = "internet_vacancies_anzsco2_occupations_states_and_territories_-_january_2025.xlsx"
NATIONAL_CODE = "AUST"
STATES: dict[str, str] = {
    "NSW": "New South Wales",
    "VIC": "Victoria",
    "QLD": "Queensland",
    "SA": "South Australia",
    "WA": "Western Australia",
    "TAS": "Tasmania",
    "NT": "Northern Territory",
    "ACT": "Australian Capital Territory",
}
SHEETS: dict[str, dict] = {
    "Trend": {"variable": "job_offers", "series_type": "trend"},
    "Seasonally Adjusted": {"variable": "job_offers", "series_type": "seasonally adjusted"},
    "Trend Index": {"variable": "job_offers_index", "series_type": "trend"},
    "Seasonally Adjusted Index": {"variable": "job_offers_index", "series_type": "seasonally adjusted"},
}
ID_COLUMNS = ("Level", "ANZSCO_CODE", "Title", "State")
LEVELS = (1, 2, 3)

_INDEX_ATTRS = {
    "units": "index (January 2006 = 100)",
    "description": "Internet Vacancy Index: online job ads relative to January 2006",
    "kind": "offers",
    "aggregation": "stock",  # an index is averaged, never summed, when coarsened
    "publication_lag_days": 30,
}


def default_au_ivi_path() -> Path:
    """Where the IVI workbook lives in a checkout: ``<repo>/../shared/data/au-ivi/<file>.xlsx``.

    Returns
    -------
    Path (not checked for existence).
    """
    repo_root = Path(__file__).resolve().parents[2]
    return (repo_root / ".." / "shared" / "data" / "au-ivi" / DEFAULT_FILENAME).resolve()


def _read_sheet(path: Path, sheet: str) -> pd.DataFrame:
    """Read one IVI sheet as a frame with string id columns and float month columns."""
    with warnings.catch_warnings():
        # the JSA workbook has print headers openpyxl cannot parse; they carry no data
        warnings.filterwarnings("ignore", message="Cannot parse header or footer",
                                category=UserWarning)
        try:
            # keep_default_na=False: a cell reading 'n/a' or '-' is an error, not a silent NaN;
            # only truly empty cells are missing
            frame = pd.read_excel(path, sheet_name=sheet, engine="openpyxl",
                                  dtype={c: str for c in ID_COLUMNS}, keep_default_na=False,
                                  na_values=[""])
        except ValueError as exc:
            if "not found" in str(exc):
                raise DataContractError(path, None, None, sheet,
                                        f"one of the sheets {sorted(SHEETS)}") from exc
            raise
    columns = list(frame.columns)
    if tuple(columns[:4]) != ID_COLUMNS:
        raise DataContractError(f"{path} [{sheet}]", None, 1, columns[:4],
                                f"the first four columns {list(ID_COLUMNS)}")
    for position, column in enumerate(columns[4:], start=5):
        if not isinstance(column, (datetime, pd.Timestamp)):
            raise DataContractError(f"{path} [{sheet}]", f"column {position}", 1, column,
                                    "a month (date cell) in the header row")
    for column in ID_COLUMNS:
        frame[column] = frame[column].astype("string").str.strip()
    return frame


def _check_values(frame: pd.DataFrame, path: Path, sheet: str) -> np.ndarray:
    """Return the month columns as float64; raise on a non-numeric or negative cell."""
    values = frame.iloc[:, 4:]
    numeric = values.apply(pd.to_numeric, errors="coerce")
    bad = numeric.isna() & values.notna()
    bad |= numeric < 0
    if bad.to_numpy().any():
        row_pos, col_pos = np.argwhere(bad.to_numpy())[0]
        value = values.iat[row_pos, col_pos]
        raise DataContractError(
            f"{path} [{sheet}]", str(values.columns[col_pos].date()), int(row_pos) + 2,
            value.item() if isinstance(value, np.generic) else value,
            "a job-ad count: a finite number >= 0 or an empty cell")
    return numeric.to_numpy(dtype=np.float64)


def _major(code: str) -> str:
    """ANZSCO major group (1 digit) of a level-2/3 IVI code; the total ``0`` is its own major."""
    return code[0]


def load_au_ivi(
    path: str | os.PathLike | None = None,
    sheet: str = "Seasonally Adjusted",
    level: int = 3,
    return_national: bool = False,
) -> xr.Dataset | tuple[xr.Dataset, xr.Dataset]:
    """Load one sheet of the Australian Internet Vacancy Index workbook as a panel.

    Parameters
    ----------
    path : the IVI ``.xlsx`` release file; default :func:`default_au_ivi_path`
        (``<repo>/../shared/data/au-ivi/...january_2025.xlsx``).
    sheet : ``"Seasonally Adjusted"`` (default), ``"Trend"`` (variable ``job_offers``, job ads
        per month) or their ``" Index"`` versions (variable ``job_offers_index``,
        January 2006 = 100).
    level : ANZSCO level of the occupation dim: 3 = 48 sub-major groups (default),
        2 = 8 major groups, 1 = all occupations (code ``"0"``).
    return_national : also return the national (``AUST``) rows.

    Returns
    -------
    panel : ``xarray.Dataset`` with dims ``time`` (monthly period starts, ``freq="MS"``) x
        ``region`` (8 states and territories: NSW, VIC, QLD, SA, WA, TAS, NT, ACT) x
        ``occupation`` (ANZSCO codes of ``level``), one float variable (job ads; missing = NaN),
        coords ``region_name``, ``occupation_name``, ``occupation_parent`` and
        ``occupation_major`` (the 1-digit ANZSCO major group), attrs ``freq``, ``country="AU"``,
        ``provenance_inputs`` (JSON ``{file name: sha256}``), ``sheet``, ``source``.
    national : only with ``return_national=True``: the same layout with one region ``AUST``
        (the published national series, which need not equal the sum of the states for
        seasonally adjusted and trend data).

    Raises
    ------
    FileNotFoundError if the workbook is absent; ValueError for an unknown sheet or level;
    DataContractError naming the sheet, row and column of a malformed cell.
    """
    if sheet not in SHEETS:
        raise ValueError(f"unknown IVI sheet {sheet!r}; choose one of {sorted(SHEETS)}")
    if level not in LEVELS:
        raise ValueError(f"level must be 1 (total), 2 (major groups) or 3 (sub-major groups), got {level!r}")
    path = Path(path) if path is not None else default_au_ivi_path()
    if not path.is_file():
        raise FileNotFoundError(
            f"Australian IVI workbook not found at {path}; download "
            f"'{DEFAULT_FILENAME}' from Jobs and Skills Australia (Internet Vacancy Index) "
            "or pass path=")
    frame = _read_sheet(path, sheet)
    values = _check_values(frame, path, sheet)
    source_name = f"{path} [{sheet}]"

    levels = pd.to_numeric(frame["Level"], errors="coerce")
    if levels.isna().any() or not levels.isin(LEVELS).all():
        row = int(np.flatnonzero(levels.isna() | ~levels.isin(LEVELS))[0])
        raise DataContractError(source_name, "Level", row + 2, frame["Level"].iat[row], "1, 2 or 3")
    states = frame["State"]
    known = set(STATES) | {NATIONAL_CODE}
    unknown = ~states.isin(known)
    if unknown.any():
        row = int(np.flatnonzero(unknown)[0])
        raise DataContractError(source_name, "State", row + 2, states.iat[row],
                                f"one of {sorted(known)}")
    keys = frame[["State", "ANZSCO_CODE"]]
    duplicated = keys.duplicated()
    if duplicated.any():
        row = int(np.flatnonzero(duplicated)[0])
        raise DataContractError(source_name, "ANZSCO_CODE", row + 2, frame["ANZSCO_CODE"].iat[row],
                                f"one row per (State, ANZSCO_CODE); duplicate for state {states.iat[row]}")

    time = pd.DatetimeIndex(frame.columns[4:]).as_unit("ns")
    time.name = None
    expected_time = pd.date_range(time[0], periods=len(time), freq="MS")
    if not time.equals(expected_time):
        raise DataContractError(source_name, None, 1, [str(t.date()) for t in time[:3]],
                                "consecutive month starts in the header row")

    # occupation list of the requested level, in the file's order (AUST block)
    at_level = frame[levels == level]
    codes = list(dict.fromkeys(at_level["ANZSCO_CODE"]))
    titles = dict(zip(at_level["ANZSCO_CODE"], at_level["Title"], strict=False))
    for state in known:
        have = set(at_level.loc[at_level["State"] == state, "ANZSCO_CODE"])
        if have != set(codes):
            missing = sorted(set(codes) - have) or sorted(have - set(codes))
            raise DataContractError(source_name, "ANZSCO_CODE", None, missing,
                                    f"the same level-{level} codes for every state (state {state})")

    row_of = {(s, c): i for i, (s, c) in enumerate(zip(states, frame["ANZSCO_CODE"], strict=True))}
    region_codes = list(STATES)

    def cube(region_list: list[str]) -> np.ndarray:
        rows = np.array([[row_of[(r, c)] for c in codes] for r in region_list])  # region x occ
        return np.transpose(values[rows], (2, 0, 1))  # time x region x occupation

    info = SHEETS[sheet]
    variable = info["variable"]
    attrs_var = P.measure_attrs(variable) if variable in P.MEASURES else dict(_INDEX_ATTRS)
    if variable == "job_offers":
        attrs_var = {**attrs_var, "units": "job ads per month",
                     "description": f"Online job ads (IVI, {info['series_type']}), monthly"}
    if level == 1:
        parents = ["" for _ in codes]  # the total has no parent
    elif level == 2:
        parents = ["0" for _ in codes]  # major groups sit under the all-occupations total
    else:
        parents = [_major(c) for c in codes]
    occupation_coords = {
        P.OCCUPATION_NAME: (P.OCCUPATION, [str(titles[c]).strip() for c in codes]),
        P.OCCUPATION_PARENT: (P.OCCUPATION, parents),
        P.OCCUPATION_MAJOR: (P.OCCUPATION, [_major(c) for c in codes]),
    }
    attrs = {
        "freq": "MS",
        "country": "AU",
        "provenance_inputs": json.dumps({path.name: sha256_file(path)}, sort_keys=True),
        "lmforecast_version": __version__,
        "built_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "sheet": sheet,
        "anzsco_level": level,
        "source": "Jobs and Skills Australia, Internet Vacancy Index (CC BY 4.0)",
    }

    def dataset(region_list: list[str], region_names: list[str]) -> xr.Dataset:
        ds = xr.Dataset(
            {variable: ((P.TIME, P.REGION, P.OCCUPATION), cube(region_list), attrs_var)},
            coords={
                P.TIME: time,
                P.REGION: np.array(region_list, dtype=str),
                P.OCCUPATION: np.array(codes, dtype=str),
                P.REGION_NAME: (P.REGION, np.array(region_names, dtype=str)),
                **{k: (d, np.array(v, dtype=str)) for k, (d, v) in occupation_coords.items()},
            },
            attrs=dict(attrs),
        )
        return P.validate(ds)

    panel = dataset(region_codes, [STATES[r] for r in region_codes])
    if not return_national:
        return panel
    national = dataset([NATIONAL_CODE], ["Australia"])
    return panel, national
