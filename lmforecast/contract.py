"""The raw data contract: load and validate the long tables of one data set folder.

A data set folder (``data/raw/<name>/``) holds up to three long tables, each as CSV *or* Parquet
(see ``data/raw/README.md`` for the user-facing description):

* ``demand``  -- ``period, region, occupation, measure, value, source``; ``measure`` of kind
  ``"demand"`` (:data:`lmforecast.panel.MEASURES`);
* ``supply``  -- same columns; measures of kind ``"supply"``;
* ``offers``  -- ``offer_id, posted_on, region, title, source`` plus optional ``occupation``
  (a panel occupation code, empty = code it from the title) and ``company``.

plus optional reference lists (``regions.csv``, ``occupations.csv``, ``region_aliases.csv``) that
replace the Moroccan defaults of :mod:`lmforecast.taxonomy`.

Every loader validates the whole table before returning it and raises
:class:`~lmforecast.errors.DataContractError` naming the file, the 1-based row (header = row 1
for CSV; for Parquet the 1-based record number, which the message says), the column, the value
and what was expected. Validation is vectorised: distinct values are checked once
(``pandas.factorize``; for ``offers``, ``pyarrow.compute.dictionary_encode`` on the Arrow table,
without one Python string per cell) and the first offending row is located with NumPy, so
millions of rows cost seconds, not minutes. Nothing is dropped, trimmed or coerced: a value either follows the
contract or the load fails.

Plausibility (:class:`Limits`, checked on every load):

* **No future.** A ``period`` starting, or a ``posted_on`` date falling, after the build date
  (``Limits.as_of``, default today in UTC) plus ``Limits.future_grace_days`` (default 31) is an
  error naming the row and the value -- a mistyped ``2099-03`` would otherwise stretch the panel
  to 2099. A table that *is* a projection declares itself in the folder's ``contract.json``
  (``{"projections": ["supply"]}``); its periods may then lie in the future.
* **No absurd values.** A ``value`` above its measure's bound (:data:`DEFAULT_MAX_VALUES`,
  overridden per measure by ``Limits.max_values``) is an error, never a warning: the defaults lie
  far above any real region x occupation cell (1e9 persons is more than any country's labour
  force), so a value beyond them is a typing or unit error (``1e15``). Tighten them for your
  country with ``max_values``.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from lmforecast.errors import DataContractError
from lmforecast.panel import MEASURES, UNCLASSIFIED

TABLES = ("demand", "supply", "offers")
#: optional table of graduates / trainees by field of study, mapped to occupations on load
FIELD_TABLE = "supply_by_field"
FIELD_COLUMNS = ("period", "region", "field", "measure", "value", "source")
LONG_COLUMNS = ("period", "region", "occupation", "measure", "value", "source")
OFFER_COLUMNS = ("offer_id", "posted_on", "region", "title", "source")
OFFER_OPTIONAL_COLUMNS = ("occupation", "company")
REFERENCE_FILES = ("regions.csv", "occupations.csv", "region_aliases.csv", "field_occupation.csv")
#: first day on which the 12 regions of the 2015 reform apply; old 16-region codes end before it
REGION_REFORM_DATE = pd.Timestamp("2015-01-01")
#: optional file of a data set folder declaring which tables are projections
CONTRACT_FILE = "contract.json"
#: days after the build date a period start or an ad date may still fall (clock skew, early releases)
DEFAULT_FUTURE_GRACE_DAYS = 31
#: plausibility bound of one value (one region x occupation x period) per measure, in its units
DEFAULT_MAX_VALUES = {"employment": 1e9, "jobseekers": 1e9, "vacancies": 1e8, "hires": 1e8,
                      "graduates": 1e8, "trainees": 1e8}
#: bound of a measure without its own entry in DEFAULT_MAX_VALUES
DEFAULT_MAX_VALUE = 1e9
_PERIOD_RE = r"^((?:19|20|21)\d\d)(?:-(0[1-9]|1[0-2])|-Q([1-4]))?$"
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MAX_LISTED = 8


@dataclass(frozen=True)
class Limits:
    """Plausibility limits applied by every loader (see the module docstring).

    Attributes
    ----------
    as_of : the build date (``"YYYY-MM-DD"`` or Timestamp); None = today (UTC).
    future_grace_days : days after ``as_of`` that a period start or an ad date may still fall.
    max_values : per-measure bound on ``value`` (in the measure's units), overriding
        :data:`DEFAULT_MAX_VALUES`; e.g. ``{"vacancies": 2e6}``.
    """

    as_of: object = None
    future_grace_days: int = DEFAULT_FUTURE_GRACE_DAYS
    max_values: Mapping[str, float] = field(default_factory=dict)

    def latest_date(self) -> pd.Timestamp:
        """Latest period start / ad date accepted outside projections (a day, no time)."""
        as_of = pd.Timestamp.now(tz="UTC").tz_localize(None) if self.as_of is None else pd.Timestamp(self.as_of)
        if int(self.future_grace_days) < 0:
            raise ValueError(f"future_grace_days must be >= 0, got {self.future_grace_days}")
        return as_of.normalize() + pd.Timedelta(days=int(self.future_grace_days))

    def max_value(self, measure: str) -> float:
        """Largest plausible value of ``measure`` (its units)."""
        if measure in self.max_values:
            return float(self.max_values[measure])
        return float(DEFAULT_MAX_VALUES.get(measure, DEFAULT_MAX_VALUE))


def read_projections(raw_dir: str | os.PathLike) -> frozenset[str]:
    """Tables that the folder's ``contract.json`` declares projections (empty when no file).

    The file is a JSON object ``{"projections": ["demand" | "supply", ...]}``; anything else in
    it is an error (DataContractError naming the file and the key), so a misspelt key is not
    silently ignored.
    """
    path = Path(raw_dir) / CONTRACT_FILE
    if not path.exists():
        return frozenset()
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataContractError(str(path), None, getattr(exc, "lineno", None), type(exc).__name__,
                                'a UTF-8 JSON object like {"projections": ["supply"]}', str(exc)[:200]) from exc
    if not isinstance(content, dict):
        raise DataContractError(str(path), None, None, type(content).__name__,
                                'a JSON object like {"projections": ["supply"]}')
    extra = sorted(set(content) - {"projections"})
    if extra:
        raise DataContractError(str(path), extra[0], None, extra, 'only the key "projections"')
    tables = content.get("projections", [])
    if not isinstance(tables, list) or any(t not in ("demand", "supply") for t in tables):
        raise DataContractError(str(path), "projections", None, tables,
                                'a list of table names among "demand", "supply"')
    return frozenset(tables)


@dataclass
class Reference:
    """The reference lists a raw table is checked against.

    Attributes
    ----------
    regions : DataFrame with at least ``code`` and ``name`` (one row per current region).
    occupations : DataFrame with at least ``code``, ``name``, ``parent``, ``major``: the panel's
        leaf occupations (a row ``unclassified`` may be present; it is not a valid code for
        demand/supply rows).
    normalizer : object with ``normalize_many(pd.Series) -> pd.Series`` (code, ``"unallocated"``
        or None/NA) and ``suggest(label, n) -> list[str]`` (a
        :class:`lmforecast.taxonomy.regions.RegionNormalizer`).
    old_region_codes : codes of the pre-2015 16 regions (``MA16-01`` ...), allowed only for
        periods before 2015; empty for a data set that brings its own ``regions.csv``.
    crosswalk : old -> new region crosswalk (``old_code, new_code, weight_old_to_new``) or None.
    leaf_for_isco : callable mapping an ISCO-08 code to its panel leaf (for hints), or None.
    files : reference files read from the data set folder, ``{name: Path}`` (for provenance).
    """

    regions: pd.DataFrame
    occupations: pd.DataFrame
    normalizer: object
    old_region_codes: frozenset = frozenset()
    crosswalk: pd.DataFrame | None = None
    leaf_for_isco: Callable[[str], str] | None = None
    files: dict = field(default_factory=dict)

    @property
    def region_codes(self) -> list[str]:
        """Current region codes in reference order."""
        return [str(c) for c in self.regions["code"]]

    @property
    def occupation_codes(self) -> list[str]:
        """Panel leaf occupation codes in reference order, without ``unclassified``."""
        return [str(c) for c in self.occupations["code"] if str(c) != UNCLASSIFIED]


def load_reference(raw_dir: str | os.PathLike | None = None) -> Reference:
    """Reference lists for a data set folder: its own CSV lists where present, else Morocco's.

    Parameters
    ----------
    raw_dir : data set folder; ``regions.csv``, ``occupations.csv`` and ``region_aliases.csv``
        found there replace the defaults shipped in :mod:`lmforecast.taxonomy`.

    Returns
    -------
    Reference
    """
    from lmforecast.taxonomy import occupations as occ_mod
    from lmforecast.taxonomy import regions as reg_mod

    raw_dir = Path(raw_dir) if raw_dir is not None else None
    files = {}
    if raw_dir is not None:
        files = {name: raw_dir / name for name in REFERENCE_FILES if (raw_dir / name).exists()}
    own_regions = "regions.csv" in files
    regions = reg_mod.load_regions(raw_dir if own_regions else None)
    occupations = occ_mod.load_occupations(raw_dir if "occupations.csv" in files else None)
    aliases = reg_mod.load_region_aliases(raw_dir) if "region_aliases.csv" in files else None
    normalizer = reg_mod.RegionNormalizer(regions=regions, aliases=aliases)
    crosswalk = None if own_regions else reg_mod.region_crosswalk()
    old_codes = frozenset() if crosswalk is None else frozenset(map(str, crosswalk["old_code"]))
    return Reference(regions=regions, occupations=occupations, normalizer=normalizer,
                     old_region_codes=old_codes, crosswalk=crosswalk,
                     leaf_for_isco=None if "occupations.csv" in files else occ_mod.leaf_for_isco,
                     files=files)


# --------------------------------------------------------------------------- files


def find_table(raw_dir: str | os.PathLike, name: str, required: bool = False) -> Path | None:
    """Path of table ``name`` (``demand``, ``supply``, ``offers``) in ``raw_dir``.

    Parameters
    ----------
    raw_dir : data set folder.
    name : table name without extension.
    required : raise when the table is absent instead of returning None.

    Returns
    -------
    Path to ``<name>.csv`` or ``<name>.parquet``, or None when neither exists (and not required).

    Raises
    ------
    DataContractError when both a CSV and a Parquet version exist (ambiguous), or when
    ``required`` and neither exists.
    """
    if name not in TABLES and name != FIELD_TABLE:
        raise ValueError(f"unknown table {name!r}; expected one of {TABLES + (FIELD_TABLE,)}")
    raw_dir = Path(raw_dir)
    found = [raw_dir / f"{name}.{ext}" for ext in ("csv", "parquet") if (raw_dir / f"{name}.{ext}").exists()]
    if len(found) == 2:
        raise DataContractError(str(raw_dir), None, None, [p.name for p in found],
                                f"one version of table {name!r}, CSV or Parquet",
                                "delete or move one of them")
    if not found:
        if required:
            raise DataContractError(str(raw_dir), None, None, None,
                                    f"a table {name}.csv or {name}.parquet")
        return None
    return found[0]


def find_tables(raw_dir: str | os.PathLike) -> dict[str, Path]:
    """All tables present in ``raw_dir`` as ``{name: path}``; at least one must exist.

    Raises
    ------
    DataContractError when the folder does not exist or holds none of demand, supply, offers.
    """
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise DataContractError(str(raw_dir), None, None, None, "an existing data set folder")
    tables = {name: find_table(raw_dir, name) for name in TABLES}
    tables = {name: path for name, path in tables.items() if path is not None}
    if not tables:
        raise DataContractError(str(raw_dir), None, None, sorted(p.name for p in raw_dir.iterdir()),
                                "at least one of demand, supply, offers (.csv or .parquet)")
    return tables


@dataclass(frozen=True)
class _Table:
    """A raw table being validated: where it came from, so errors can point into it."""

    path: Path
    frame: pd.DataFrame

    @property
    def is_csv(self) -> bool:
        return self.path.suffix.lower() == ".csv"

    @property
    def columns(self) -> list[str]:
        return list(self.frame.columns)

    @property
    def n_rows(self) -> int:
        return len(self.frame)

    def row(self, position: int) -> int:
        """1-based row of a 0-based record position (CSV: header is row 1)."""
        return int(position) + (2 if self.is_csv else 1)

    def rows(self, positions) -> np.ndarray:
        return np.asarray(positions, dtype=np.int64) + (2 if self.is_csv else 1)

    def error(self, column, position, value, expected, hint=None) -> DataContractError:
        if not self.is_csv and position is not None:
            note = "row = 1-based record number in the Parquet file"
            hint = f"{hint}; {note}" if hint else note
        row = None if position is None else self.row(position)
        return DataContractError(str(self.path), column, row, value, expected, hint)


def _read_csv_as_text(path: Path) -> pd.DataFrame:
    """Every cell of a CSV as the exact text in the file (no type guessing, no NA values).

    pyarrow's multithreaded reader is used with every column typed as string (pandas'
    ``engine="pyarrow"`` would infer numbers first and turn ``"007"`` into ``"7"``).
    """
    import pyarrow as pa
    from pyarrow import csv as pa_csv

    with open(path, encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle), [])
    types = {name: pa.string() for name in header}
    table = pa_csv.read_csv(
        path,
        convert_options=pa_csv.ConvertOptions(column_types=types, null_values=[], strings_can_be_null=False,
                                              quoted_strings_can_be_null=False),
    )
    return table.to_pandas()


def _not_utf8(path: Path, exc: Exception) -> DataContractError | None:
    """The error naming the first line of a CSV that is not UTF-8, or None if every line is.

    Called only after a read failed: scans the file line by line (bytes), decodes each, and
    reports the line (header = line 1), the byte column and the offending bytes, with the text
    those bytes give in Windows-1252 (the usual culprit: a file saved from Excel).
    """
    if path.suffix.lower() != ".csv" or not (isinstance(exc, UnicodeDecodeError) or "utf" in str(exc).lower()):
        return None
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            if number == 1 and line.startswith(b"\xef\xbb\xbf"):
                line = line[3:]
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as bad:
                snippet = line[bad.start:bad.end + 8].rstrip(b"\r\n")
                guess = line[max(0, bad.start - 12):bad.end + 12].decode("cp1252", errors="replace").strip()
                return DataContractError(
                    str(path), None, number, snippet, "UTF-8 text",
                    f"line {number}, byte {bad.start + 1}: not UTF-8; read as Windows-1252 it says {guess!r}; "
                    "save the file as UTF-8 (e.g. Excel: 'CSV UTF-8')")
    return None


def _read(path: Path) -> _Table:
    """Read a CSV (every cell as text, nothing parsed or set to NA) or a Parquet file."""
    try:
        if path.suffix.lower() == ".csv":
            frame = _read_csv_as_text(path)
        else:
            frame = pd.read_parquet(path)
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        located = _not_utf8(path, exc)
        if located is not None:
            raise located from exc
        raise DataContractError(str(path), None, None, type(exc).__name__,
                                "a readable UTF-8 CSV with a header row, or a Parquet file",
                                str(exc)[:300]) from exc
    frame.columns = [str(c) for c in frame.columns]
    return _Table(path, frame.reset_index(drop=True))


def _check_columns(table: _Table, required: Sequence[str], optional: Sequence[str] = ()) -> None:
    """Exact header check, then at least one data row."""
    columns = table.columns
    header_row = 1 if table.is_csv else None
    wanted = f"columns {list(required)}" + (f" (optional: {list(optional)})" if optional else "")
    missing = [c for c in required if c not in columns]
    if missing:
        raise DataContractError(str(table.path), missing[0], header_row, columns, wanted,
                                f"missing column(s) {missing}")
    extra = [c for c in columns if c not in required and c not in optional]
    if extra:
        raise DataContractError(str(table.path), extra[0], header_row, columns, f"only {wanted}",
                                f"unexpected column(s) {extra}")
    dup = [c for c in set(columns) if columns.count(c) > 1]
    if dup:
        raise DataContractError(str(table.path), dup[0], header_row, columns, "each column once")
    if table.n_rows == 0:
        raise DataContractError(str(table.path), None, None, "0 data rows",
                                "at least one data row (remove the file if the table has no data)")


# --------------------------------------------------------------------------- vectorised helpers


def _first(mask: np.ndarray) -> int | None:
    """Position of the first True in a boolean array, or None."""
    if mask.size == 0:
        return None
    pos = int(np.argmax(mask))
    return pos if mask[pos] else None


def _text(table: _Table, column: str, allow_empty: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Factorize a text column: (codes, uniques as str array); -1 = empty/null.

    Raises on an empty cell unless ``allow_empty``. Parquet numbers become their text.
    """
    series = table.frame[column]
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    uniques = np.asarray([str(u) for u in uniques], dtype=object)
    blank = np.array([u.strip() == "" for u in uniques], dtype=bool)
    if blank.any():
        codes = np.where((codes >= 0) & blank[np.maximum(codes, 0)], -1, codes)
    if not allow_empty:
        pos = _first(codes < 0)
        if pos is not None:
            raise table.error(column, pos, _cell(table, column, pos), f"a non-empty {column}")
    return codes, uniques


def _cell(table: _Table, column: str, pos: int):
    value = table.frame[column].iloc[pos]
    return None if pd.isna(value) else value


def _closest(value: str, choices: Sequence[str], n: int = 3) -> list[str]:
    from rapidfuzz import process

    return [match for match, _score, _i in process.extract(str(value), list(choices), limit=n)]


def _fmt_rows(rows: np.ndarray, n: int = 3) -> str:
    shown = ", ".join(str(r) for r in rows[:n])
    return shown + (", ..." if len(rows) > n else "")


# --------------------------------------------------------------------------- long tables


def parse_periods(periods: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Parse period labels ``YYYY-MM``, ``YYYY-Qn`` or ``YYYY``.

    Parameters
    ----------
    periods : Series of period labels (text).

    Returns
    -------
    (starts, freqs): ``datetime64[ns]`` period starts and pandas aliases (``"MS"``, ``"QS"``,
    ``"YS"``; object array). Unparseable labels give ``NaT`` and ``None``.
    """
    codes, uniques = pd.factorize(periods.astype(object), use_na_sentinel=True)
    text = pd.Series([str(u) for u in uniques], dtype=object)
    parts = text.str.extract(_PERIOD_RE)
    year = pd.to_numeric(parts[0], errors="coerce")
    month = pd.to_numeric(parts[1], errors="coerce")
    quarter = pd.to_numeric(parts[2], errors="coerce")
    start_month = month.fillna((quarter - 1) * 3 + 1).fillna(1.0)
    ok = year.notna().to_numpy()
    starts_u = np.full(len(uniques), np.datetime64("NaT"), dtype="datetime64[ns]")
    if ok.any():
        starts_u[ok] = pd.to_datetime(pd.DataFrame({"year": year[ok].astype(int), "month": start_month[ok].astype(int),
                                                    "day": 1})).to_numpy()
    freq_u = np.where(month.notna(), "MS", np.where(quarter.notna(), "QS", "YS")).astype(object)
    freq_u[~ok] = None
    starts = np.where(codes >= 0, starts_u[np.maximum(codes, 0)], np.datetime64("NaT"))
    freqs = np.where(codes >= 0, freq_u[np.maximum(codes, 0)] if len(freq_u) else None, None)
    return starts.astype("datetime64[ns]"), freqs


def _region_label(code: str, reference: Reference) -> str:
    """``"MA-04 (Rabat-Sale-Kenitra)"`` for a region code (the code alone if it has no name)."""
    names = dict(zip(reference.regions["code"].astype(str), reference.regions["name"].astype(str)))
    return f"{code} ({names[code]})" if code in names else code


def _region_code_hint(value: str, reference: Reference) -> str:
    """Hint for a value that is not a region code: the code it names, else the closest codes.

    Suggestions are always region codes (with their names), whatever the script of the value
    (a label in Arabic gets ``MA-04 (Rabat-Sale-Kenitra)``, not other Arabic labels).
    """
    normalizer = reference.normalizer
    known = set(reference.region_codes)
    codes: list[str] = []
    if not any(ch.isdigit() for ch in value):  # a name, not a mistyped code: ask the normaliser
        try:
            code = normalizer.normalize(value)
            if code in known:
                return f"{value!r} is region {_region_label(code, reference)}; write its code {code!r}"
            for label in normalizer.suggest(value, n=6):
                found = normalizer.normalize(label)
                if found in known and found not in codes:
                    codes.append(found)
        except Exception:  # suggestions are a courtesy; never mask the real error
            codes = []
    if not codes:
        codes = _closest(value, reference.region_codes)
    return "closest regions: " + ", ".join(_region_label(c, reference) for c in codes[:3])


def _check_not_future(table: _Table, column: str, dates: np.ndarray, limits: Limits, what: str) -> None:
    """Raise naming the first row whose date (period start or ad date) is after the build date + grace."""
    latest = limits.latest_date()
    late = dates > latest.to_datetime64()
    pos = _first(late)
    if pos is None:
        return
    n_late = int(late.sum())
    raise table.error(column, pos, _cell(table, column, pos) if isinstance(table, _Table) else table.cell(column, pos),
                      f"{what} on or before {latest:%Y-%m-%d} (build date + {int(limits.future_grace_days)} days)",
                      f"{n_late} row(s) lie in the future; fix the typo, or if this table is a projection, "
                      f"declare it in {CONTRACT_FILE} ({{\"projections\": [...]}})")


def _check_bounds(table: _Table, values: np.ndarray, measures: np.ndarray, limits: Limits) -> None:
    """Raise naming the first row whose value exceeds its measure's plausibility bound."""
    bounds = np.array([limits.max_value(m) for m in measures], dtype=float)
    over = values > bounds
    pos = _first(over)
    if pos is None:
        return
    measure = measures[pos]
    units = MEASURES[measure].units if measure in MEASURES else "units"
    raise table.error("value", pos, _cell(table, "value", pos),
                      f"a {measure} value <= {bounds[pos]:.3g} {units} per cell (plausibility bound)",
                      f"{int(over.sum())} row(s) above it; a typing or unit error? If the value is real, raise "
                      f"the bound: build_panel(..., limits=Limits(max_values={{{measure!r}: ...}})) or "
                      f"data.source.max_values.{measure}=...")


def _load_long(path: Path, kind: str, reference: Reference, limits: Limits, projection: bool,
               fields: Sequence[str] | None = None) -> pd.DataFrame:
    """Validate a long table; with ``fields`` (the field codes of a field -> occupation matrix) the
    table has a ``field`` column in place of ``occupation`` (``supply_by_field``)."""
    table = _read(path)
    code_column = "occupation" if fields is None else "field"
    _check_columns(table, LONG_COLUMNS if fields is None else FIELD_COLUMNS)
    frame = table.frame
    n = len(frame)

    # period
    _text(table, "period")  # empty cells
    starts, freqs = parse_periods(frame["period"])
    pos = _first(pd.isna(starts))
    if pos is not None:
        raise table.error("period", pos, _cell(table, "period", pos),
                          "a period 'YYYY-MM' (monthly), 'YYYY-Qn' (quarterly) or 'YYYY' (annual)")
    if not projection:
        _check_not_future(table, "period", starts, limits, "a period starting")

    # region: new codes, old 16-region codes (before 2015 only)
    region_codes, region_u = _text(table, "region")
    new_codes = set(reference.region_codes)
    known = np.array([u in new_codes or u in reference.old_region_codes for u in region_u], dtype=bool)
    pos = _first(~known[region_codes]) if n else None
    if pos is not None:
        value = region_u[region_codes[pos]]
        expected = "a region code (" + ", ".join(reference.region_codes[:2]) + ", ...)"
        if reference.old_region_codes:
            expected += " or an old 16-region code (MA16-01 ...) for periods before 2015"
        raise table.error("region", pos, value, expected, _region_code_hint(value, reference))
    is_old_u = np.array([u in reference.old_region_codes and u not in new_codes for u in region_u], dtype=bool)
    late_old = is_old_u[region_codes] & (starts >= REGION_REFORM_DATE.to_datetime64())
    pos = _first(late_old)
    if pos is not None:
        raise table.error("region", pos, region_u[region_codes[pos]],
                          "a new region code (MA-01 ... MA-12) for periods from 2015 on",
                          f"period {frame['period'].iloc[pos]!r}: old 16-region codes are only allowed "
                          "for periods before 2015 (the 2015 regional reform)")

    # occupation: a panel leaf code (or field: a field of the field -> occupation matrix)
    occ_codes, occ_u = _text(table, code_column)
    leaves = reference.occupation_codes if fields is None else [str(f) for f in fields]
    leaf_set = set(leaves)
    known = np.array([u in leaf_set for u in occ_u], dtype=bool)
    pos = _first(~known[occ_codes]) if n else None
    if pos is not None:
        value = occ_u[occ_codes[pos]]
        if fields is not None:
            raise table.error("field", pos, value, "a field of the field -> occupation matrix (ISCED-F 2013 "
                              "narrow field, e.g. '061')", f"closest known: {_closest(value, leaves)}")
        raise table.error("occupation", pos, value, "a panel occupation code (see occupations list)",
                          _occupation_hint(value, reference))

    # measure: registered, of this table's kind
    meas_codes, meas_u = _text(table, "measure")
    right = [m for m, spec in MEASURES.items() if spec.kind == kind]
    ok = np.array([u in MEASURES and MEASURES[u].kind == kind for u in meas_u], dtype=bool)
    pos = _first(~ok[meas_codes]) if n else None
    if pos is not None:
        value = meas_u[meas_codes[pos]]
        if value in MEASURES:
            other = MEASURES[value].kind
            hint = f"{value!r} is a {other} measure; it belongs in the {other} table"
        else:
            hint = (f"closest registered: {_closest(value, right)}; "
                    "register new ones with lmforecast.panel.register_measure")
        raise table.error("measure", pos, value, f"a {kind} measure, one of {right}", hint)

    # value: finite number >= 0, below its measure's plausibility bound
    values = _numeric(table, "value")
    _check_bounds(table, values, meas_u[meas_codes].astype(str), limits)

    # source
    source_codes, source_u = _text(table, "source")

    # one frequency per series (region, occupation, measure)
    series_id = (region_codes.astype(np.int64) * (len(occ_u) + 1) + occ_codes) * (len(meas_u) + 1) + meas_codes
    _, first_idx, inverse = np.unique(series_id, return_index=True, return_inverse=True)
    freq_arr = np.asarray(freqs, dtype=object)
    mixed = freq_arr != freq_arr[first_idx[inverse]]
    pos = _first(mixed)
    if pos is not None:
        other = int(first_idx[inverse[pos]])
        raise table.error("period", pos, frame["period"].iloc[pos],
                          f"the frequency of this series' first row {table.row(other)} "
                          f"({frame['period'].iloc[other]!r}, {freq_arr[other]})",
                          f"series region={region_u[region_codes[pos]]!r}, {code_column}={occ_u[occ_codes[pos]]!r}, "
                          f"measure={meas_u[meas_codes[pos]]!r} mixes frequencies; one series keeps one frequency")

    # duplicate keys (period, region, occupation, measure)
    key = pd.DataFrame({"series": series_id, "start": starts.view("int64")})
    dup = key.duplicated(keep="first").to_numpy()
    pos = _first(dup)
    if pos is not None:
        start = key["start"].to_numpy()
        other = int(np.flatnonzero((series_id == series_id[pos]) & (start == start[pos]))[0])
        raise table.error("period", pos, frame["period"].iloc[pos],
                          f"one row per (period, region, {code_column}, measure)",
                          f"duplicate of row {table.row(other)} (region={region_u[region_codes[pos]]!r}, "
                          f"{code_column}={occ_u[occ_codes[pos]]!r}, measure={meas_u[meas_codes[pos]]!r})")

    out = pd.DataFrame({
        "period": pd.DatetimeIndex(starts),
        "freq": pd.Series(freq_arr, dtype=object).astype(str).to_numpy(),
        "region": region_u[region_codes].astype(str),
        code_column: occ_u[occ_codes].astype(str),
        "measure": meas_u[meas_codes].astype(str),
        "value": values,
        "source": source_u[source_codes].astype(str),
        "row": table.rows(np.arange(n)),
    })
    out.attrs["source_file"] = str(path)
    out.attrs["row_is"] = "line number (header = 1)" if table.is_csv else "1-based Parquet record number"
    return out


def _occupation_hint(value: str, reference: Reference) -> str:
    leaves = reference.occupation_codes
    if value == UNCLASSIFIED:
        return "'unclassified' is only for job ads that could not be coded"
    if reference.leaf_for_isco is not None:
        try:
            leaf = reference.leaf_for_isco(value)
        except Exception:
            leaf = None
        if leaf is not None and str(leaf) in set(leaves) and str(leaf) != value:
            return f"ISCO-08 code {value!r} belongs to panel occupation {str(leaf)!r}; use that code"
    return f"closest known: {_closest(value, leaves)}"


def _numeric(table: _Table, column: str) -> np.ndarray:
    """A column of finite numbers >= 0 as float64; raises on empty, text, inf or negative."""
    raw = table.frame[column]
    if pd.api.types.is_bool_dtype(raw.dtype):
        raise table.error(column, 0, raw.iloc[0] if len(raw) else None, "a number (got a boolean column)")
    if pd.api.types.is_numeric_dtype(raw.dtype):
        values = raw.to_numpy(dtype=np.float64, na_value=np.nan)
        pos = _first(np.isnan(values))
        if pos is not None:
            raise table.error(column, pos, None, "a finite number >= 0 (empty cell)")
    else:
        _text(table, column)  # empty cells
        values = pd.to_numeric(raw.astype(object), errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        pos = _first(np.isnan(values))
        if pos is not None:
            value = raw.iloc[pos]
            hint = "use '.' as the decimal separator and no thousands separator" if "," in str(value) else None
            raise table.error(column, pos, value, "a finite number >= 0", hint)
    pos = _first(np.isinf(values))
    if pos is not None:
        raise table.error(column, pos, raw.iloc[pos], "a finite number >= 0 (not infinite)")
    pos = _first(values < 0)
    if pos is not None:
        raise table.error(column, pos, raw.iloc[pos], "a finite number >= 0 (not negative)")
    return values


def load_demand(raw_dir: str | os.PathLike, reference: Reference | None = None,
                limits: Limits | None = None) -> pd.DataFrame | None:
    """Load and validate ``demand.{csv,parquet}`` of a data set folder.

    Parameters
    ----------
    raw_dir : data set folder.
    reference : reference lists to check against (default :func:`load_reference` of ``raw_dir``).
    limits : plausibility limits (default :class:`Limits`: no period after today + 31 days
        unless ``contract.json`` declares the table a projection; values below the measure's bound).

    Returns
    -------
    DataFrame with columns ``period`` (datetime64, period start), ``freq`` (``"MS"``, ``"QS"``,
    ``"YS"``), ``region``, ``occupation``, ``measure`` (str), ``value`` (float64, in the
    measure's units, e.g. persons), ``source`` (str) and ``row`` (row in the file), in file
    order; ``attrs["source_file"]`` holds the path. None when the folder has no demand table.

    Raises
    ------
    DataContractError on the first violation of the contract (see module docstring).
    """
    return _load_optional(raw_dir, "demand", reference, limits)


def load_supply(raw_dir: str | os.PathLike, reference: Reference | None = None,
                limits: Limits | None = None) -> pd.DataFrame | None:
    """Load and validate ``supply.{csv,parquet}``; same columns and rules as :func:`load_demand`.

    Measures must be of kind ``"supply"`` (``jobseekers``, ``graduates``, ``trainees`` ...).
    Returns None when the folder has no supply table.
    """
    return _load_optional(raw_dir, "supply", reference, limits)


def load_supply_by_field(raw_dir: str | os.PathLike, reference: Reference | None = None,
                         limits: Limits | None = None) -> pd.DataFrame | None:
    """Load ``supply_by_field.{csv,parquet}`` and map it to occupations with the field matrix.

    Columns ``period, region, field, measure, value, source`` (``field``: a field code of the
    matrix, e.g. ISCED-F 2013 ``061``; ``measure``: a supply flow, ``graduates`` or
    ``trainees``). The matrix is the folder's ``field_occupation.csv`` if present, else the
    package default (:func:`lmforecast.taxonomy.fields.load_field_occupation`, checked on load:
    each field's shares sum to 1). Values are spread over occupations, ``value[o] = sum_f
    value[f] x share[f, o]``, so totals are kept.

    Returns
    -------
    DataFrame with the columns of :func:`load_supply` (``occupation`` from the matrix), or None
    when the folder has no such table.

    Raises
    ------
    DataContractError naming file, row, column and value for any bad cell (as :func:`load_supply`),
    an unknown field, a stock measure (``jobseekers`` cannot be split by field), or a bad matrix.
    """
    from lmforecast.taxonomy.fields import load_field_occupation, map_fields_to_occupations

    path = find_table(raw_dir, FIELD_TABLE)
    if path is None:
        return None
    reference = reference if reference is not None else load_reference(raw_dir)
    own = Path(raw_dir) / "field_occupation.csv"
    matrix = load_field_occupation(own if own.exists() else None, occupations=reference.occupation_codes)
    table = _load_long(path, "supply", reference, limits or Limits(), projection="supply" in read_projections(raw_dir),
                       fields=matrix["field"].values.tolist())
    stock = table["measure"].map(lambda m: MEASURES[m].aggregation != "flow").to_numpy()
    pos = _first(stock)
    if pos is not None:
        raise DataContractError(str(path), "measure", int(table["row"].iloc[pos]), table["measure"].iloc[pos],
                                "a supply flow measure (graduates, trainees)",
                                "a stock such as jobseekers is given by occupation in the supply table")
    out = map_fields_to_occupations(table, matrix, source=str(path))
    out.attrs["source_file"] = str(path)
    out.attrs["row_is"] = table.attrs["row_is"]
    out.attrs["field_occupation"] = matrix.attrs["source"]
    return out


def _load_optional(raw_dir, kind: str, reference: Reference | None, limits: Limits | None) -> pd.DataFrame | None:
    path = find_table(raw_dir, kind)
    if path is None:
        return None
    reference = reference if reference is not None else load_reference(raw_dir)
    table = _load_long(path, kind, reference, limits or Limits(), projection=kind in read_projections(raw_dir))
    return table


# --------------------------------------------------------------------------- offers


def load_offers(raw_dir: str | os.PathLike, reference: Reference | None = None,
                limits: Limits | None = None) -> pd.DataFrame | None:
    """Load and validate ``offers.{csv,parquet}`` (one row per job ad as scraped / received).

    The table is read with pyarrow and every text column is dictionary-encoded in Arrow
    (``pyarrow.compute.dictionary_encode``): checks run once per distinct value and the first
    offending row is the first index pointing to a bad dictionary entry, so millions of ads are
    validated without creating one Python string per cell.

    Parameters
    ----------
    raw_dir : data set folder.
    reference : reference lists (default :func:`load_reference` of ``raw_dir``).
    limits : plausibility limits (default :class:`Limits`: no ad dated after today + 31 days).

    Returns
    -------
    DataFrame, one row per ad in file order, with ``offer_id`` (Arrow-backed ``string``),
    ``posted_on`` (datetime64[ns], day), ``region`` (the free-text label as in the file),
    ``title``, ``source`` (``category``: integer codes + distinct values), ``occupation``
    (``category``: panel code, ``"unclassified"``, or NA = to be coded from the title),
    ``company`` (``category``, NA when empty; only when the file has it) and ``row`` (int64,
    row in the file); None when the folder has no offers table. ``attrs["source_file"]`` holds
    the path.

    Raises
    ------
    DataContractError for missing/extra columns, empty or duplicate ``offer_id`` (both rows
    named), a ``posted_on`` that is not a ``YYYY-MM-DD`` date, an empty title or source, an
    ``occupation`` that is given but not a panel code, and region labels that cannot be
    normalised at all (every such label is listed with its row count, first rows and closest
    known labels), and a ``posted_on`` after the build date + grace (:class:`Limits`).
    """
    path = find_table(raw_dir, "offers")
    if path is None:
        return None
    reference = reference if reference is not None else load_reference(raw_dir)
    return _validate_offers(_read_arrow(path), reference, limits or Limits())


@dataclass(frozen=True)
class _ArrowTable:
    """A raw table held as a ``pyarrow.Table`` while it is validated (same row rules as ``_Table``)."""

    path: Path
    table: object  # pyarrow.Table

    is_csv = _Table.is_csv
    row = _Table.row
    rows = _Table.rows
    error = _Table.error

    @property
    def columns(self) -> list[str]:
        return list(self.table.column_names)

    @property
    def n_rows(self) -> int:
        return self.table.num_rows

    def cell(self, column: str, pos: int):
        """The cell as read (None for a null or NaN)."""
        value = self.table.column(column)[int(pos)].as_py()
        return None if value is None or (isinstance(value, float) and value != value) else value


def _read_arrow(path: Path) -> _ArrowTable:
    """Read a CSV (every cell as text, nothing parsed or set to null) or a Parquet file into Arrow."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from pyarrow import csv as pa_csv

    try:
        if path.suffix.lower() == ".csv":
            with open(path, encoding="utf-8-sig", newline="") as handle:
                header = next(csv.reader(handle), [])
            types = {name: pa.string() for name in header}
            table = pa_csv.read_csv(path, convert_options=pa_csv.ConvertOptions(
                column_types=types, null_values=[], strings_can_be_null=False, quoted_strings_can_be_null=False))
        else:
            # text columns other than the id arrive as Arrow dictionaries (Parquet dictionary pages)
            schema = pq.read_schema(path)
            as_dictionary = [f.name for f in schema if f.name != "offer_id"
                             and (pa.types.is_string(f.type) or pa.types.is_large_string(f.type))]
            table = pq.read_table(path, read_dictionary=as_dictionary).unify_dictionaries()
            meta = table.schema.pandas_metadata or {}
            stored_index = [c for c in meta.get("index_columns", []) if isinstance(c, str)]
            if stored_index:  # a pandas index written as a column: not data (read_parquet restores it)
                table = table.drop_columns(stored_index)
    except (ValueError, OSError, UnicodeDecodeError, pa.ArrowException) as exc:
        located = _not_utf8(path, exc)
        if located is not None:
            raise located from exc
        raise DataContractError(str(path), None, None, type(exc).__name__,
                                "a readable UTF-8 CSV with a header row, or a Parquet file",
                                str(exc)[:300]) from exc
    table = table.rename_columns([str(c) for c in table.column_names])
    return _ArrowTable(path, table)


@lru_cache(maxsize=1)
def _blank_pattern() -> str:
    """RE2 pattern of a cell that Python's ``str.strip()`` empties (exactly Python's whitespace set)."""
    spaces = "".join(f"\\x{{{ord(c):04x}}}" for c in map(chr, range(0x110000)) if c.isspace())
    return f"^[{spaces}]*$"


@dataclass
class _Encoded:
    """A dictionary-encoded column: ``codes`` (int32, -1 = null or blank) into ``dictionary``."""

    codes: np.ndarray
    dictionary: object  # pyarrow string Array of distinct values (blank entries kept, never referenced)
    blank: np.ndarray  # bool per dictionary entry: empty or whitespace only

    def values(self) -> np.ndarray:
        """Distinct values as an object array of ``str`` (one Python string per distinct value)."""
        return np.asarray(self.dictionary.to_pylist(), dtype=object)


def _encode(table: _ArrowTable, column: str, allow_empty: bool = False) -> _Encoded:
    """Dictionary-encode a text column in Arrow; raise on an empty cell unless ``allow_empty``.

    Non-text Parquet columns (numbers, dates) become the text of their values (``str``), as the
    CSV reader would give them; null and NaN cells are empty.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    chunked = table.table.column(column)
    dictionary = None
    if pa.types.is_dictionary(chunked.type):
        value_type = chunked.type.value_type
        text_type = pa.types.is_string(value_type) or pa.types.is_large_string(value_type)
        dictionaries = [ch.dictionary for ch in chunked.chunks]
        shared = all(d is dictionaries[0] or d.equals(dictionaries[0]) for d in dictionaries[1:])
        if text_type and chunked.num_chunks and shared and dictionaries[0].null_count == 0 \
                and pc.count_distinct(dictionaries[0]).as_py() == len(dictionaries[0]):
            dictionary = dictionaries[0]  # unified distinct values: the indices are the codes
            indices = pa.chunked_array([ch.indices for ch in chunked.chunks], type=chunked.type.index_type)
            codes = indices.fill_null(-1).to_numpy().astype(np.int32, copy=False)
        else:
            chunked = chunked.cast(value_type)
    if dictionary is None:
        text_type = pa.types.is_string(chunked.type) or pa.types.is_large_string(chunked.type)
        if pa.types.is_string(chunked.type) and chunked.nbytes >= 2**31 - 2**20:
            chunked = chunked.cast(pa.large_string())  # 32-bit offsets cannot hold it in one array
        encoded = pc.dictionary_encode(chunked.combine_chunks() if chunked.num_chunks else pa.array([], pa.string()))
        dictionary = encoded.dictionary
        codes = encoded.indices.fill_null(-1).to_numpy().astype(np.int32, copy=False)
    if not text_type:  # values -> their text; NaN -> null; re-encode (two values may share a text)
        texts = pa.array([None if v is None or (isinstance(v, float) and v != v) else str(v)
                          for v in dictionary.to_pylist()], type=pa.string())
        re_encoded = pc.dictionary_encode(texts)
        remap = re_encoded.indices.fill_null(-1).to_numpy().astype(np.int32)
        dictionary = re_encoded.dictionary
        codes = np.where(codes >= 0, remap[np.maximum(codes, 0)] if len(remap) else -1, -1).astype(np.int32)
    blank = pc.match_substring_regex(dictionary, _blank_pattern()).to_numpy(zero_copy_only=False).astype(bool)
    if blank.any():
        codes = np.where((codes >= 0) & blank[np.maximum(codes, 0)], -1, codes).astype(np.int32)
    if not allow_empty:
        pos = _first(codes < 0)
        if pos is not None:
            raise table.error(column, pos, table.cell(column, pos), f"a non-empty {column}")
    return _Encoded(codes, dictionary, blank)


def _categorical(encoded: _Encoded) -> pd.Categorical:
    """Categorical of an encoded column: codes reused, blank dictionary entries dropped (-> NA)."""
    values = encoded.values()
    keep = ~encoded.blank
    codes = encoded.codes
    if not keep.all():
        new_code = (np.cumsum(keep) - 1).astype(np.int32)
        codes = np.where(codes >= 0, new_code[np.maximum(codes, 0)], -1).astype(np.int32)
        values = values[keep]
    return pd.Categorical.from_codes(codes, categories=pd.Index(list(values)), validate=False)


def _validate_offers(table: _ArrowTable, reference: Reference, limits: Limits) -> pd.DataFrame:
    """Validate a read offers table (see :func:`load_offers`) and return its typed frame."""
    import pyarrow as pa

    _check_columns(table, OFFER_COLUMNS, OFFER_OPTIONAL_COLUMNS)
    n = table.n_rows
    columns = table.columns

    ids = _encode(table, "offer_id")
    if len(ids.dictionary) < n:  # some id repeats: locate its first repetition
        dup = pd.Series(ids.codes).duplicated(keep="first").to_numpy()
        pos = _first(dup)
        other = int(np.flatnonzero(ids.codes == ids.codes[pos])[0])
        raise table.error("offer_id", pos, ids.dictionary[int(ids.codes[pos])].as_py(), "a unique offer_id",
                          f"same offer_id as row {table.row(other)}")
    raw_ids = table.table.column("offer_id")
    if pa.types.is_string(raw_ids.type) or pa.types.is_large_string(raw_ids.type):
        offer_id = pd.arrays.ArrowStringArray(raw_ids)
    else:  # numbers in Parquet: their text, as validated
        offer_id = pd.arrays.ArrowStringArray(pa.chunked_array([ids.dictionary.take(pa.array(ids.codes))]))
    del ids

    raw_dates = table.table.column("posted_on")
    if pa.types.is_timestamp(raw_dates.type):
        posted = pd.DatetimeIndex(raw_dates.to_pandas())
        if posted.tz is not None:
            posted = posted.tz_localize(None)
        pos = _first(np.asarray(posted.isna()))
        if pos is not None:
            raise table.error("posted_on", pos, None, "a date YYYY-MM-DD (empty cell)")
        posted = posted.to_numpy().astype("datetime64[ns]")
    else:
        dates = _encode(table, "posted_on")
        date_u = dates.values()
        well_formed = np.array([bool(_DATE_RE.match(u)) for u in date_u], dtype=bool)
        parsed_u = pd.to_datetime(pd.Series(date_u, dtype=object).where(well_formed), format="%Y-%m-%d",
                                  errors="coerce").to_numpy().astype("datetime64[ns]")
        pos = _first(np.isnat(parsed_u)[dates.codes]) if n else None
        if pos is not None:
            raise table.error("posted_on", pos, date_u[dates.codes[pos]], "a date YYYY-MM-DD")
        posted = parsed_u[dates.codes]
    _check_not_future(table, "posted_on", posted, limits, "a date")

    title = _categorical(_encode(table, "title"))
    source = _categorical(_encode(table, "source"))

    occupation = pd.Categorical.from_codes(np.full(n, -1, dtype=np.int32), categories=pd.Index([], dtype=object))
    if "occupation" in columns:
        occ = _encode(table, "occupation", allow_empty=True)
        occ_u = occ.values()
        allowed = set(reference.occupation_codes) | {UNCLASSIFIED}
        ok = np.array([bool(b) or u in allowed for u, b in zip(occ_u, occ.blank)] + [True], dtype=bool)
        pos = _first(~ok[occ.codes]) if n else None  # last slot: empty (-1)
        if pos is not None:
            value = occ_u[occ.codes[pos]]
            raise table.error("occupation", pos, value,
                              "empty (code from the title), 'unclassified' or a panel occupation code",
                              _occupation_hint(value, reference))
        occupation = _categorical(occ)

    region = _encode(table, "region", allow_empty=True)
    check_region_labels(region.codes, region.values(), reference.normalizer, table)

    out = pd.DataFrame({
        "offer_id": offer_id,
        "posted_on": pd.DatetimeIndex(posted),
        "region": _categorical(region),
        "title": title,
        "occupation": occupation,
        "source": source,
    })
    if "company" in columns:
        out["company"] = _categorical(_encode(table, "company", allow_empty=True))
    out["row"] = table.rows(np.arange(n))
    out.attrs["source_file"] = str(table.path)
    out.attrs["row_is"] = "line number (header = 1)" if table.is_csv else "1-based Parquet record number"
    return out


def check_region_labels(codes: np.ndarray, uniques: np.ndarray, normalizer, table: _Table | None = None,
                        file: str = "<offers>", rows: np.ndarray | None = None) -> np.ndarray:
    """Normalise distinct region labels; raise listing every label that cannot be normalised.

    Parameters
    ----------
    codes : per-row integer codes into ``uniques`` (-1 = empty label).
    uniques : distinct labels (str).
    normalizer : ``RegionNormalizer``-like object.
    table, file, rows : where the labels come from, for the error message (``table`` wins;
        otherwise ``file`` and the 1-based ``rows`` of each position).

    Returns
    -------
    Array (object) of the normalised value of each distinct label (region code or
    ``"unallocated"``).

    Raises
    ------
    DataContractError naming the first bad row, with every bad label's row count, first rows
    and closest known labels in the hint.
    """
    normalised = (normalizer.normalize_many(pd.Series(uniques, dtype=object)) if len(uniques)
                  else pd.Series([], dtype=object))
    normalised = np.asarray([None if pd.isna(v) else str(v) for v in normalised], dtype=object)
    bad_u = np.array([v is None for v in normalised] + [True], dtype=bool)  # last slot: empty label
    bad_rows = bad_u[codes]
    pos = _first(bad_rows)
    if pos is None:
        return normalised
    positions = np.flatnonzero(bad_rows)
    row_of = (table.rows if table is not None else
              (lambda p: np.asarray(rows)[p] if rows is not None else np.asarray(p) + 1))
    bad_codes, counts = np.unique(codes[positions], return_counts=True)
    order = np.argsort(-counts, kind="stable")
    parts = []
    for k in order[:_MAX_LISTED]:
        c = bad_codes[k]
        label = "" if c < 0 else uniques[c]
        these = row_of(positions[codes[positions] == c])
        try:
            near = [f"{s!r} -> {normalizer.normalize(s)}" for s in normalizer.suggest(label, n=3)] if label else []
        except Exception:
            near = []
        parts.append(f"{label!r} x{counts[k]} (rows {_fmt_rows(these)}; closest: {', '.join(near) or 'none'})")
    more = f"; and {len(bad_codes) - _MAX_LISTED} more labels" if len(bad_codes) > _MAX_LISTED else ""
    hint = (f"{len(bad_codes)} region label(s) in {len(positions)} rows cannot be normalised: "
            + "; ".join(parts) + more + "; add them to region_aliases.csv (label, code)")
    value = "" if codes[pos] < 0 else uniques[codes[pos]]
    expected = "a region label the RegionNormalizer recognises (code, region or city name, 'Tout le Maroc')"
    if table is not None:
        raise table.error("region", pos, value, expected, hint)
    raise DataContractError(file, "region", int(row_of(np.array([pos]))[0]), value, expected, hint)
