"""Occupations: the ISCO-08 structure and the leaf occupations of the Moroccan panel.

The panel codes occupations at ISCO-08 sub-major level (2 digits), except the ICT groups 25 and 35,
split into their unit groups, and three unit groups carved out of their sub-major group for
the digital/offshoring economy (2120 data work, 2166 UX/design, 4222 contact centres). A leaf
that lost a carved-out unit keeps its 2-digit code and says so in its name ("(excl. 2120, 2166)").
Job ads whose title cannot be coded go to the pseudo-occupation ``unclassified`` (major ``"X"``).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from lmforecast.errors import DataContractError
from lmforecast.panel import UNCLASSIFIED
from lmforecast.taxonomy._tables import (
    check_text_column,
    data_path,
    file_row,
    parse_bool_column,
    read_reference_csv,
)

OCCUPATION_COLUMNS = ["code", "name", "name_fr", "parent", "major", "level", "digital", "offshoring"]
UNCLASSIFIED_MAJOR = "X"


@lru_cache(maxsize=1)
def _isco08() -> pd.DataFrame:
    table = pd.read_csv(data_path("isco08_groups.csv"), dtype=str, keep_default_na=False)
    table["level"] = table["level"].astype("int64")
    return table


def load_isco08() -> pd.DataFrame:
    """All 619 ISCO-08 groups (10 major, 43 sub-major, 130 minor, 436 unit).

    Returns
    -------
    DataFrame with columns ``code`` (str, 1-4 digits), ``title_en``, ``title_fr`` (CITP-08 title
    for major and sub-major groups and the unit groups used by the panel, else ``""``),
    ``level`` (1 = major .. 4 = unit, int) and ``parent`` (code one level up, ``""`` for majors).
    """
    return _isco08().copy()


@lru_cache(maxsize=1)
def _panel_leaves() -> pd.DataFrame:
    table = pd.read_csv(data_path("ma_panel_occupations.csv"), dtype=str, keep_default_na=False)
    for column in ("digital", "offshoring"):
        table[column] = table[column].map({"True": True, "False": False}).astype(bool)
    table["level"] = np.where(table["code"] == UNCLASSIFIED, 0, table["code"].str.len())
    return table[OCCUPATION_COLUMNS]


def load_occupations(raw_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """The panel's leaf occupations.

    Parameters
    ----------
    raw_dir : optional raw-data folder. If it holds ``occupations.csv`` (columns
        ``code, name, parent``; optional ``name_fr, digital, offshoring``) that hierarchy is used: the panel
        leaves are its rows that are nobody's parent, ``major`` is the top ancestor reached by
        following ``parent`` within the file (a parent code absent from the file is itself the
        top; an empty parent makes the row its own top), ``level`` is the depth (top = 1).
        Otherwise the Moroccan panel leaves shipped with the package (59 ISCO-08 based leaves).

    Returns
    -------
    DataFrame with columns ``code, name, name_fr, parent, major, level, digital, offshoring``
    (``level`` int: number of ISCO digits for the default list; ``digital``/``offshoring`` bool),
    ending with the pseudo-occupation ``unclassified`` (major ``"X"``, level 0).

    Raises
    ------
    DataContractError naming file, row, column and value for a missing column, an empty or
    duplicate code, an empty name, a bad boolean or a cycle in ``parent``.

    Examples
    --------
    >>> occupations = load_occupations()
    >>> len(occupations), occupations["code"].iloc[-1]
    (60, 'unclassified')
    >>> import tempfile
    >>> from lmforecast.datasets.example_country import write_example_country
    >>> custom = load_occupations(write_example_country(tempfile.mkdtemp(), start=2020, end=2020))
    >>> custom[["code", "major", "level"]].head(3).values.tolist()
    [['221', '2', 3], ['222', '2', 3], ['251', '2', 3]]
    """
    if raw_dir is not None:
        custom = Path(raw_dir) / "occupations.csv"
        if custom.exists():
            return _read_custom_occupations(custom)
    return _panel_leaves().copy()


def _read_custom_occupations(path: Path) -> pd.DataFrame:
    table = read_reference_csv(path, ("code", "name", "parent"))
    check_text_column(table, "code", path, unique=True)
    check_text_column(table, "name", path)
    check_text_column(table, "parent", path, allow_empty=True)
    codes = table["code"].tolist()
    parent_of = dict(zip(codes, table["parent"]))
    row_of = {code: i for i, code in enumerate(codes)}
    majors, levels = [], []
    for i, code in enumerate(codes):
        if parent_of[code] == code:
            raise DataContractError(path, "parent", file_row(i), code,
                                    "a parent different from the row's own code")
        chain = [code]
        while parent_of.get(chain[-1], "") != "" and parent_of[chain[-1]] in parent_of:
            nxt = parent_of[chain[-1]]
            if nxt in chain:
                raise DataContractError(path, "parent", file_row(row_of[chain[-1]]), nxt,
                                        "a parent chain without cycles",
                                        hint=" -> ".join(chain + [nxt]))
            chain.append(nxt)
        top_parent = parent_of.get(chain[-1], "")
        top = top_parent if top_parent else chain[-1]
        majors.append(top)
        levels.append(len(chain) + (1 if top_parent else 0))
    parents = set(table["parent"]) - {""}
    out = pd.DataFrame({
        "code": table["code"], "name": table["name"],
        "name_fr": (table["name_fr"].where(table["name_fr"] != "", table["name"])
                    if "name_fr" in table.columns else table["name"]),
        "parent": table["parent"], "major": majors, "level": np.asarray(levels, dtype="int64"),
    })
    for column in ("digital", "offshoring"):
        out[column] = (parse_bool_column(table, column, path) if column in table.columns
                       else np.zeros(len(table), dtype=bool))
    out = out[~out["code"].isin(parents)]
    if UNCLASSIFIED not in set(out["code"]):
        out = pd.concat([out, _panel_leaves().iloc[[-1]]], ignore_index=True)
    return out[OCCUPATION_COLUMNS].reset_index(drop=True)


@lru_cache(maxsize=1)
def _leaf_index() -> dict[str, str]:
    """ISCO code (any level) -> panel leaf, for every code that maps to exactly one leaf."""
    leaves = set(_panel_leaves()["code"]) - {UNCLASSIFIED}
    groups = _isco08()
    out: dict[str, str] = {}
    units = groups.loc[groups["level"] == 4, "code"]
    for unit in units:
        out[unit] = unit if unit in leaves else unit[:2]
    for code in groups.loc[groups["level"].isin([2, 3]), "code"]:
        targets = {leaf for unit, leaf in out.items() if unit.startswith(code)}
        if len(targets) == 1:
            out[code] = targets.pop()
    return out


def leaf_for_isco(code: str) -> str:
    """Panel leaf code of an ISCO-08 group.

    Parameters
    ----------
    code : ISCO-08 unit (4-digit), minor (3) or sub-major (2) group code, e.g. ``"2512"``.

    Returns
    -------
    str : the leaf containing it -- ``'2512'`` -> ``'2512'``, ``'2166'`` -> ``'2166'``,
    ``'2161'`` -> ``'21'``, ``'3341'`` -> ``'33'``, ``'212'`` -> ``'2120'``.

    Raises
    ------
    ValueError if the code is not an ISCO-08 group, or is a group split between several leaves
    (e.g. ``'25'``, ``'251'``, ``'216'``), naming those leaves.

    Examples
    --------
    >>> leaf_for_isco("3341")
    '33'
    """
    code = str(code).strip()
    index = _leaf_index()
    if code in index:
        return index[code]
    groups = _isco08()
    if code not in set(groups["code"]):
        raise ValueError(f"{code!r} is not an ISCO-08 group code (1-4 digits, e.g. '2512')")
    targets = sorted({leaf for unit, leaf in index.items() if len(unit) == 4 and unit.startswith(code)})
    raise ValueError(f"ISCO-08 group {code!r} is split between panel leaves {targets}; "
                     "give a unit group (4-digit) code")
