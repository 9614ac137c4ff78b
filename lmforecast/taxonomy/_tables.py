"""Reading and checking small reference CSV files (private helpers for the taxonomy loaders)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from lmforecast.errors import DataContractError

DATA_DIR = Path(__file__).resolve().parent / "data"


def data_path(name: str) -> Path:
    """Path of a file shipped in ``lmforecast/taxonomy/data``."""
    return DATA_DIR / name


def read_reference_csv(path: str | os.PathLike, required: tuple[str, ...]) -> pd.DataFrame:
    """Read a CSV as text columns (no NA guessing) and check the required columns exist.

    Parameters
    ----------
    path : CSV file (UTF-8, header on line 1).
    required : column names that must be present.

    Returns
    -------
    DataFrame of ``str`` columns; empty cells are ``""``; leading/trailing blanks stripped from
    headers only (cells are checked by :func:`check_text_column`).

    Raises
    ------
    DataContractError naming the file, header row 1 and the missing column.
    """
    path = Path(path)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8")
    frame.columns = [str(c).strip() for c in frame.columns]
    for column in required:
        if column not in frame.columns:
            raise DataContractError(path, column, 1, list(frame.columns),
                                    f"a header with columns {list(required)}",
                                    hint=f"column {column!r} is missing")
    return frame


def file_row(position: int) -> int:
    """1-based line number in the file of the ``position``-th data row (header = line 1)."""
    return int(position) + 2


def check_rows(frame: pd.DataFrame, column: str, path: str | os.PathLike, ok, expected: str, *,
               value=None, hint: str | None = None) -> None:
    """Raise on the first row where ``ok`` is False (returns nothing).

    Parameters
    ----------
    frame, column, path : the table, the column at fault and the file it came from.
    ok : bool per row. expected : what a good value is.
    value : values to report instead of ``frame[column]`` (e.g. a computed sum); hint : extra text.

    Raises
    ------
    DataContractError naming ``path``, ``column``, the file row (header = 1) and the value.
    """
    bad = np.flatnonzero(~np.asarray(ok, dtype=bool))
    if bad.size:
        i = int(bad[0])
        shown = frame[column].iloc[i] if value is None else np.asarray(value)[i]
        raise DataContractError(path, column, file_row(i), shown, expected, hint=hint)


def check_text_column(frame: pd.DataFrame, column: str, path: str | os.PathLike, *,
                      unique: bool = False, allow_empty: bool = False,
                      forbidden: tuple[str, ...] = ()) -> None:
    """Check a text column cell by cell; raise on the first bad cell (returns nothing).

    Rejects empty cells (unless ``allow_empty``), cells with leading/trailing blanks, values in
    ``forbidden`` and, with ``unique``, repeated values (the second occurrence is reported).
    """
    values = frame[column].to_numpy(dtype=object)
    seen: dict[str, int] = {}
    for i, value in enumerate(values):
        if value == "":
            if allow_empty:
                continue
            raise DataContractError(path, column, file_row(i), value, "a non-empty value")
        if value != value.strip():
            raise DataContractError(path, column, file_row(i), value,
                                    "a value without leading or trailing blanks")
        if value in forbidden:
            raise DataContractError(path, column, file_row(i), value,
                                    f"a value other than the reserved {forbidden}")
        if unique:
            if value in seen:
                raise DataContractError(path, column, file_row(i), value, "a unique value",
                                        hint=f"already used on row {file_row(seen[value])}")
            seen[value] = i


def parse_count_column(frame: pd.DataFrame, column: str, path: str | os.PathLike) -> pd.Series:
    """Parse a column of non-negative whole numbers (empty = unknown) to nullable ``Int64``.

    Raises DataContractError on the first cell that is not a whole number >= 0.
    """
    out = np.zeros(len(frame), dtype=np.int64)
    missing = np.zeros(len(frame), dtype=bool)
    for i, value in enumerate(frame[column].to_numpy(dtype=object)):
        text = value.strip()
        if text == "":
            missing[i] = True
            continue
        try:
            number = float(text)
        except ValueError:
            number = float("nan")
        if not np.isfinite(number) or number < 0 or number != int(number):
            raise DataContractError(path, column, file_row(i), value, "a whole number >= 0")
        out[i] = int(number)
    return pd.Series(pd.arrays.IntegerArray(out, missing), index=frame.index, name=column)


def parse_bool_column(frame: pd.DataFrame, column: str, path: str | os.PathLike) -> pd.Series:
    """Parse ``true/false/1/0/yes/no`` (case-insensitive; empty = False) to ``bool``."""
    truth = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False, "": False}
    out = np.zeros(len(frame), dtype=bool)
    for i, value in enumerate(frame[column].to_numpy(dtype=object)):
        key = value.strip().lower()
        if key not in truth:
            raise DataContractError(path, column, file_row(i), value, "true or false")
        out[i] = truth[key]
    return pd.Series(out, index=frame.index, name=column)
