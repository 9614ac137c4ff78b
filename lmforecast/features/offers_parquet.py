"""Job-ad counts from many Parquet files, out of core (DuckDB), identical to the in-memory path.

:func:`count_offers_parquet` gives exactly what :func:`lmforecast.contract.load_offers` +
:func:`lmforecast.features.offers.count_offers` give on the same ads concatenated in file order
(same counts, same report), without holding the ads in memory. The engine is DuckDB: it scans
the Parquet files in a streaming, spill-to-disk way under a memory limit, and it measured
fastest of the three candidates on this job (DuckDB, Polars streaming, Dask DataFrame;
``benchmarks/bench_scale.py``, section *engines*).

Steps
-----
1. **Validate, per distinct value.** Every check of the offers contract runs in DuckDB queries
   over the files (non-empty ``offer_id`` unique across all files, ``posted_on`` a
   ``YYYY-MM-DD`` date and not in the future (:class:`lmforecast.contract.Limits`), non-empty
   ``title``/``source``, ``occupation`` empty or a panel code, every region label normalisable);
   the first offending row is named with its file, column, 1-based record number and value.
2. **Code distinct values in Python** with the same public functions as the in-memory path:
   ``RegionNormalizer.normalize_many`` on the distinct region labels, ``TitleCoder.code_many``
   on the distinct titles of ads without an occupation code, :func:`normalise_titles` on the
   distinct titles (repost keys). The codes go back to DuckDB as small lookup tables.
3. **Encode and partition.** One streaming DuckDB query joins each ad with the lookups and writes
   integer columns (file, record, day, region, occupation, repost-key parts) to temporary
   Parquet files partitioned by a hash of the repost key: all ads of one key land in one bucket.
4. **Per bucket** (about ``rows_per_bucket`` ads in memory at a time): the ads, in file order,
   go through :func:`chain_heads` (the 30-day chain rule) and are counted per period x region x
   occupation with ``numpy.bincount``; counts add up over buckets.

Memory: DuckDB's own limit (``memory_limit``) plus one bucket of integer columns plus the title
coder. Disk: the encoded ads (about 20 bytes a row, compressed) in ``temp_dir`` while it runs.
"""

from __future__ import annotations

import glob
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from lmforecast import panel as P
from lmforecast.contract import OFFER_COLUMNS, OFFER_OPTIONAL_COLUMNS, Limits
from lmforecast.errors import DataContractError
from lmforecast.features.offers import DEDUP_RULE, OfferCounts, chain_heads, normalise_titles, period_starts
from lmforecast.taxonomy.regions import UNALLOCATED

__all__ = ["offer_files", "count_offers_parquet"]

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EPOCH = np.datetime64("1970-01-01", "D")


def offer_files(source: str | os.PathLike | Sequence[str | os.PathLike]) -> list[Path]:
    """The Parquet files of ``source``, in the order that defines "file order".

    Parameters
    ----------
    source : a folder (its ``*.parquet`` files, recursively), a glob pattern
        (``"ads/2024-*.parquet"``) or a list of files.

    Returns
    -------
    Sorted list of paths (a list is kept in the order given).

    Raises
    ------
    FileNotFoundError when nothing matches.
    """
    if isinstance(source, (list, tuple)):
        files = [Path(p) for p in source]
        missing = [str(p) for p in files if not p.is_file()]
        if missing:
            raise FileNotFoundError(f"job-ad Parquet files not found: {missing[:5]}")
    elif Path(source).is_dir():
        files = sorted(Path(source).rglob("*.parquet"))
    else:
        files = sorted(Path(p) for p in glob.glob(str(source)))
    if not files:
        raise FileNotFoundError(f"no job-ad Parquet file in {source} (expected *.parquet files)")
    return files


def _sql_text(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


class _Ads:
    """The ads of every file as one DuckDB view ``ads(fi, rec, <columns>)``; locates offending rows."""

    def __init__(self, con, files: list[Path]):
        import pyarrow.parquet as pq

        self.con = con
        self.files = files
        schemas = [pq.read_schema(f) for f in files]
        first = schemas[0]
        self.columns = [c for c in first.names if not c.startswith("__index_level_")]
        missing = [c for c in OFFER_COLUMNS if c not in self.columns]
        if missing:
            raise DataContractError(str(files[0]), missing[0], None, None, f"columns {list(OFFER_COLUMNS)}",
                                    f"missing {missing}; found {self.columns}")
        extra = [c for c in self.columns if c not in OFFER_COLUMNS + OFFER_OPTIONAL_COLUMNS]
        if extra:
            raise DataContractError(str(files[0]), extra[0], None, None,
                                    f"only the columns {list(OFFER_COLUMNS + OFFER_OPTIONAL_COLUMNS)}")
        for f, schema in zip(files[1:], schemas[1:]):
            names = [c for c in schema.names if not c.startswith("__index_level_")]
            if names != self.columns or [schema.field(c).type for c in names] != \
                    [first.field(c).type for c in self.columns]:
                raise DataContractError(str(f), None, None, str(schema), f"the columns and types of {files[0]}",
                                        "every file of one data set must have the same schema")
        con.register("lmf_files", pd.DataFrame({"fi": np.arange(len(files), dtype=np.int64),
                                                "path": [str(f) for f in files]}))
        paths = "[" + ", ".join(_sql_text(f) for f in files) + "]"
        con.execute(f"""CREATE TEMP VIEW ads AS
            SELECT f.fi, s.file_row_number + 1 AS rec, {', '.join(f's."{c}"' for c in self.columns)}
            FROM read_parquet({paths}, filename = true, file_row_number = true) s
            JOIN lmf_files f ON s.filename = f.path""")
        self.text = {c: str(first.field(c).type) in ("string", "large_string") for c in self.columns}

    def first_row(self, where: str, column: str) -> tuple[str, int, object]:
        """``(file, record, value of column)`` of the first ad in file order matching ``where``."""
        found = self.con.execute(f'SELECT fi, rec, "{column}" FROM ads WHERE {where} ORDER BY fi, rec LIMIT 1').fetchone()
        fi, rec, value = found
        return str(self.files[int(fi)]), int(rec), value

    def fail(self, where: str, column: str, expected: str, hint: str | None = None):
        file, rec, value = self.first_row(where, column)
        raise DataContractError(file, column, rec, value, expected, hint)

    def distinct(self, column: str) -> pd.DataFrame:
        """Distinct values of a column with their row counts (``value``, ``n``); a null is ``None``."""
        frame = self.con.execute(f'SELECT "{column}" AS value, count(*) AS n FROM ads GROUP BY 1').df()
        frame["value"] = frame["value"].astype(object).where(frame["value"].notna(), None)
        return frame

    def lookup(self, name: str, values, **codes) -> None:
        """Register a lookup table ``name(value, <codes>)`` (values as text)."""
        table = pd.DataFrame({"value": pd.Series(list(values), dtype=object), **{k: np.asarray(v, dtype=np.int64)
                                                                                for k, v in codes.items()}})
        self.con.register(name, table)


def _blank(values) -> np.ndarray:
    """True for a null, empty or whitespace-only value (Python's ``str.strip``, as the in-memory path)."""
    return np.array([v is None or (isinstance(v, float) and v != v) or str(v).strip() == "" for v in values],
                    dtype=bool)


def _in(values) -> str:
    return "(" + ", ".join(_sql_text(v) for v in values) + ")"


def count_offers_parquet(source, freq: str = "MS", normalizer=None, coder=None, dedup_window_days: int | None = 30,
                         *, regions: Sequence[str] | None = None, occupations: Sequence[str] | None = None,
                         limits: Limits | None = None, memory_limit: str = "1GB", threads: int | None = 2,
                         temp_dir: str | os.PathLike | None = None, rows_per_bucket: int = 2_000_000) -> OfferCounts:
    """Count job ads of many Parquet files per period x region x occupation, reposts removed, out of core.

    Parameters
    ----------
    source : folder, glob or list of Parquet files (:func:`offer_files`), each with the columns of
        the raw ``offers`` contract (``offer_id, posted_on, region, title, source``, optional
        ``occupation``, ``company``) and the same schema. File order = sorted paths.
    freq, normalizer, coder, dedup_window_days, regions, occupations : as
        :func:`lmforecast.features.offers.count_offers`.
    limits : plausibility limits (default :class:`lmforecast.contract.Limits`: no ad dated after
        today + 31 days).
    memory_limit : DuckDB's memory limit (``"1GB"``); past it DuckDB spills to ``temp_dir``.
    threads : DuckDB threads (None = all cores).
    temp_dir : folder for DuckDB's spill files and the encoded ads (default: a temporary folder,
        removed at the end).
    rows_per_bucket : ads handled in memory at a time by the repost rule (about 60 bytes each).

    Returns
    -------
    :class:`lmforecast.features.offers.OfferCounts`, identical to ``count_offers`` on the
    concatenated files (``report`` has the same keys, plus ``files``).

    Raises
    ------
    DataContractError naming file, column, record (1-based) and value of the first bad row;
    ValueError for a bad ``freq`` or when there is no ad.
    """
    import duckdb

    P.season_length(freq)
    if freq not in ("MS", "QS", "YS"):
        raise ValueError(f"freq must be 'MS', 'QS' or 'YS', got {freq!r}")
    if dedup_window_days is not None and dedup_window_days < 0:
        raise ValueError(f"dedup_window_days must be >= 0 or None, got {dedup_window_days}")
    files = offer_files(source)
    limits = limits or Limits()
    if regions is None or normalizer is None:
        from lmforecast.taxonomy import regions as reg_mod
        regions = regions if regions is not None else [str(c) for c in reg_mod.load_regions()["code"]]
        normalizer = normalizer if normalizer is not None else reg_mod.RegionNormalizer()
    if occupations is None or coder is None:
        from lmforecast.taxonomy import occupations as occ_mod
        from lmforecast.taxonomy import titles as titles_mod
        occupations = occupations if occupations is not None else [str(c) for c in occ_mod.load_occupations()["code"]]
        coder = coder if coder is not None else titles_mod.TitleCoder()
    regions = [str(r) for r in regions]
    occupations = [str(o) for o in occupations if str(o) != P.UNCLASSIFIED] + [P.UNCLASSIFIED]

    with tempfile.TemporaryDirectory(prefix="lmforecast-offers-", dir=temp_dir) as work:
        config = {"memory_limit": str(memory_limit), "temp_directory": str(Path(work) / "spill"),
                  "preserve_insertion_order": False}
        if threads is not None:
            config["threads"] = int(threads)
        con = duckdb.connect(config=config)
        try:
            return _count(con, _Ads(con, files), Path(work), freq, normalizer, coder, dedup_window_days, regions,
                          occupations, limits, int(rows_per_bucket))
        finally:
            con.close()


def _count(con, ads: _Ads, work: Path, freq, normalizer, coder, window, regions, occupations, limits,
           rows_per_bucket) -> OfferCounts:
    n = int(con.execute("SELECT count(*) FROM ads").fetchone()[0])
    if n == 0:
        raise ValueError(f"count_offers_parquet got no job ads (0 rows in {len(ads.files)} files)")

    # 1. validation -------------------------------------------------------------------------
    blank_id = "offer_id IS NULL OR trim(CAST(offer_id AS VARCHAR)) = ''"
    if con.execute(f"SELECT count(*) FROM ads WHERE {blank_id}").fetchone()[0]:
        ads.fail(blank_id, "offer_id", "a non-empty offer_id")
    dup = con.execute("SELECT CAST(offer_id AS VARCHAR) FROM ads GROUP BY 1 HAVING count(*) > 1 LIMIT 1").fetchone()
    if dup is not None:
        where = f"CAST(offer_id AS VARCHAR) = {_sql_text(dup[0])}"
        hits = con.execute(f"SELECT fi, rec FROM ads WHERE {where} ORDER BY fi, rec LIMIT 2").fetchall()
        (fi0, rec0), (fi1, rec1) = hits
        raise DataContractError(str(ads.files[int(fi1)]), "offer_id", int(rec1), dup[0], "a unique offer_id",
                                f"same offer_id as row {int(rec0)} of {ads.files[int(fi0)]}")

    latest = limits.latest_date()
    latest_day = int((latest.to_datetime64().astype("datetime64[D]") - _EPOCH).astype(np.int64))
    if ads.text["posted_on"]:
        dates = ads.distinct("posted_on")
        texts = dates["value"].tolist()
        ok = np.array([v is not None and bool(_DATE.match(str(v))) for v in texts], dtype=bool)
        parsed = pd.to_datetime(pd.Series(texts, dtype=object).where(ok), format="%Y-%m-%d", errors="coerce")
        bad = np.isnat(parsed.to_numpy().astype("datetime64[ns]"))
        if bad.any():
            wrong = [v for v, b in zip(texts, bad) if b and v is not None]
            where = "posted_on IS NULL" + (f" OR posted_on IN {_in(wrong)}" if wrong else "")
            ads.fail(where, "posted_on", "a date YYYY-MM-DD")
        days = (parsed.to_numpy().astype("datetime64[D]") - _EPOCH).astype(np.int64)
        ads.lookup("lmf_day", texts, day=days)
        day_sql, day_join = "d.day", "JOIN lmf_day d ON a.posted_on = d.value"
    else:
        if con.execute("SELECT count(*) FROM ads WHERE posted_on IS NULL").fetchone()[0]:
            ads.fail("posted_on IS NULL", "posted_on", "a date YYYY-MM-DD (empty cell)")
        day_sql, day_join = "date_diff('day', DATE '1970-01-01', CAST(a.posted_on AS DATE))", ""
    late = con.execute(f"SELECT count(*) FROM ads a {day_join} WHERE {day_sql} > {latest_day}").fetchone()[0]
    if late:
        file, rec, value = con.execute(f"SELECT a.fi, a.rec, a.posted_on FROM ads a {day_join} WHERE {day_sql} > "
                                       f"{latest_day} ORDER BY a.fi, a.rec LIMIT 1").fetchone()
        raise DataContractError(str(ads.files[int(file)]), "posted_on", int(rec), str(value)[:10],
                                f"a date on or before {latest:%Y-%m-%d} (build date + "
                                f"{int(limits.future_grace_days)} days)", f"{int(late)} row(s) lie in the future")

    def text_codes(column: str, allow_empty: bool) -> tuple[list, np.ndarray]:
        frame = ads.distinct(column)
        values = frame["value"].tolist()
        blank = _blank(values)
        if blank.any() and not allow_empty:
            bad = [v for v, b in zip(values, blank) if b and v is not None]
            where = f'"{column}" IS NULL' + (f' OR "{column}" IN {_in(bad)}' if bad else "")
            ads.fail(where, column, f"a non-empty {column}")
        codes = np.where(blank, -1, np.cumsum(~blank) - 1)
        return values, codes

    titles, title_codes = text_codes("title", False)
    sources, source_codes = text_codes("source", False)

    occ_axis = pd.Index(occupations)
    if "occupation" in ads.columns:
        occ_values, _ = text_codes("occupation", True)
        blank = _blank(occ_values)
        given = np.where(blank, -1, occ_axis.get_indexer(pd.Index([str(v) if v is not None else None
                                                                   for v in occ_values], dtype=object)))
        bad = [v for v, b, g in zip(occ_values, blank, given) if not b and g < 0]
        if bad:
            ads.fail(f'"occupation" IN {_in(bad)}', "occupation",
                     "empty (code from the title), 'unclassified' or a panel occupation code")
        ads.lookup("lmf_occ", [v for v, b in zip(occ_values, blank) if not b], occ=given[~blank])
        occ_join, occ_sql = 'LEFT JOIN lmf_occ o ON a."occupation" = o.value', "o.occ"
    else:
        occ_join, occ_sql = "", "CAST(NULL AS BIGINT)"

    regions_frame = ads.distinct("region")
    labels = regions_frame["value"].tolist()
    blank = _blank(labels)
    non_blank = [str(v) for v, b in zip(labels, blank) if not b]
    normalised = normalizer.normalize_many(pd.Series(non_blank, dtype=object)) if non_blank else pd.Series([], dtype=object)
    normalised = np.asarray([None if pd.isna(v) else str(v) for v in normalised], dtype=object)
    region_axis = pd.Index(regions + [UNALLOCATED])
    bad_labels = [lab for lab, v in zip(non_blank, normalised) if v is None]
    if blank.any() or bad_labels:
        counts = dict(zip(regions_frame["value"], regions_frame["n"]))
        listed = "; ".join(f"{lab!r} x{int(counts[lab])}" for lab in bad_labels[:10])
        empty = [v for v, b in zip(labels, blank) if b and v is not None]
        where = " OR ".join(filter(None, ["region IS NULL" if blank.any() else "",
                                          f"region IN {_in(empty + bad_labels)}" if empty or bad_labels else ""]))
        ads.fail(where, "region", "a region label the RegionNormalizer recognises (code, region or city name, "
                                  "'Tout le Maroc')",
                 f"{len(bad_labels) + int(blank.any())} region label(s) cannot be normalised: {listed or 'empty'}; "
                 f"add them to region_aliases.csv (label, code)")
    region_of_label = region_axis.get_indexer(pd.Index(normalised, dtype=object))
    if (region_of_label < 0).any():
        raise ValueError(f"the region normalizer returned {normalised[region_of_label < 0][0]!r}, which is not one of "
                         f"the panel regions {regions}")
    ads.lookup("lmf_region", non_blank, region=region_of_label)

    # 2. titles: repost-key part and, for ads without a code, the occupation from the title -----
    titles_nb = [str(v) for v, c in zip(titles, title_codes) if c >= 0]
    ntitle = pd.factorize(normalise_titles(pd.Series(titles_nb, dtype=object)))[0]
    title_occ = np.full(len(titles_nb), -1, dtype=np.int64)
    if "occupation" in ads.columns:
        need_sql = ('SELECT DISTINCT a.title FROM ads a LEFT JOIN lmf_occ o ON a."occupation" = o.value '
                    "WHERE o.occ IS NULL")
    else:
        need_sql = "SELECT DISTINCT title FROM ads"
    needed = {str(v) for (v,) in con.execute(need_sql).fetchall()}
    if needed:
        position = {t: i for i, t in enumerate(titles_nb)}
        needed_list = [t for t in titles_nb if t in needed]       # the in-memory path's order
        coded = coder.code_many(pd.Series(needed_list, dtype=object))
        coded_idx = occ_axis.get_indexer(pd.Index([None if pd.isna(c) else str(c) for c in coded], dtype=object))
        if (coded_idx < 0).any():
            bad = list(coded)[int(np.flatnonzero(coded_idx < 0)[0])]
            raise ValueError(f"the title coder returned {bad!r}, which is not a panel occupation code nor "
                             f"'unclassified'")
        title_occ[[position[t] for t in needed_list]] = coded_idx
    ads.lookup("lmf_title", titles_nb, ntitle=ntitle, title_occ=title_occ)
    sources_nb = [str(v) for v, c in zip(sources, source_codes) if c >= 0]
    ads.lookup("lmf_source", sources_nb, source=np.arange(len(sources_nb)))
    if "company" in ads.columns:
        companies, company_codes = text_codes("company", True)
        keep = company_codes >= 0
        ads.lookup("lmf_company", [str(v) for v, k in zip(companies, keep) if k], company=company_codes[keep])
        company_join, company_sql = 'LEFT JOIN lmf_company c ON a."company" = c.value', "coalesce(c.company, -1)"
    else:
        company_join, company_sql = "", "CAST(-1 AS BIGINT)"

    # 3. encode every ad as integers, partitioned by repost key ----------------------------------
    n_buckets = max(1, -(-n // max(1, rows_per_bucket)))
    encoded = work / "encoded"
    con.execute(f"""COPY (
        SELECT a.fi, a.rec, {day_sql} AS day, r.region, t.ntitle, s.source, {company_sql} AS company,
               coalesce({occ_sql}, t.title_occ) AS occ, ({occ_sql} IS NULL) AS from_title,
               CAST(hash(t.ntitle, r.region, s.source, {company_sql}) % {n_buckets} AS BIGINT) AS bucket
        FROM ads a {day_join}
        JOIN lmf_region r ON a.region = r.value
        JOIN lmf_title t ON a.title = t.value
        JOIN lmf_source s ON a.source = s.value
        {occ_join} {company_join}
    ) TO '{encoded}' (FORMAT parquet, PARTITION_BY (bucket))""")

    # 4. the repost rule and the counts, bucket by bucket ----------------------------------------
    first_day, last_day = con.execute(f"SELECT min(day), max(day) FROM read_parquet('{encoded}/*/*.parquet')").fetchone()
    span = pd.date_range(period_starts(np.array([first_day], "datetime64[D]"), freq)[0],
                         period_starts(np.array([last_day], "datetime64[D]"), freq)[0], freq=freq)
    n_regions, n_occ = len(regions) + 1, len(occupations)
    counts = np.zeros(len(span) * n_regions * n_occ, dtype=np.int64)
    unclassified_idx = n_occ - 1
    stats = dict(counted=0, unclassified=0, unallocated=0, given=0, from_title=0, title_unclassified=0,
                 normalised=0)
    radix = [int(v) + 2 for v in con.execute(
        f"SELECT max(ntitle), max(region), max(source), max(company) FROM read_parquet('{encoded}/*/*.parquet')"
    ).fetchone()]
    for folder in sorted(encoded.glob("bucket=*")):
        cols = con.execute(f"SELECT day, region, ntitle, source, company, occ, from_title FROM "
                           f"read_parquet('{folder}/*.parquet') ORDER BY fi, rec").fetchnumpy()
        day = np.asarray(cols["day"], dtype=np.int64)
        region = np.asarray(cols["region"], dtype=np.int64)
        occ = np.asarray(cols["occ"], dtype=np.int64)
        from_title = np.asarray(cols["from_title"], dtype=bool)
        parts = [np.asarray(cols[c], dtype=np.int64) + 1 for c in ("ntitle", "region", "source", "company")]
        if float(np.prod([float(r) for r in radix])) < 2.0**62:
            key = np.zeros(len(day), dtype=np.int64)
            for part, r in zip(parts, radix):
                key = key * r + part
        else:  # too many distinct values for one int64: number the distinct tuples
            key = np.unique(np.stack(parts, axis=1), axis=0, return_inverse=True)[1].ravel().astype(np.int64)
        del cols, parts
        heads = chain_heads(key, day, window)
        starts = period_starts((day[heads] + _EPOCH.astype(np.int64)).astype("datetime64[D]"), freq)
        t_idx = span.get_indexer(starts)
        flat = (t_idx * n_regions + region[heads]) * n_occ + occ[heads]
        counts += np.bincount(flat, minlength=counts.size)
        stats["counted"] += int(heads.sum())
        stats["unclassified"] += int((occ[heads] == unclassified_idx).sum())
        stats["unallocated"] += int((region[heads] == len(regions)).sum())
        stats["from_title"] += int(from_title.sum())
        stats["title_unclassified"] += int((from_title & (occ == unclassified_idx)).sum())
        stats["normalised"] += int((region < len(regions)).sum())
        del key, heads, day, region, occ, from_title

    counts = counts.reshape(len(span), n_regions, n_occ).astype(np.float64)
    used = np.flatnonzero(counts.sum(axis=(1, 2)) > 0)
    counts = counts[: used[-1] + 1]
    has_unallocated = bool(region_of_label[np.asarray(regions_frame["value"].notna())].max(initial=-1) == len(regions))
    if not has_unallocated:
        counts = counts[:, : len(regions)]
    region_coord = regions + ([UNALLOCATED] if has_unallocated else [])
    array = xr.DataArray(counts, dims=P.DIMS, name="job_offers",
                         coords={P.TIME: span[: used[-1] + 1], P.REGION: np.array(region_coord, dtype=str),
                                 P.OCCUPATION: np.array(occupations, dtype=str)},
                         attrs=P.measure_attrs("job_offers"))
    counted = stats["counted"]
    report = {
        "rows_in": n,
        "reposts_removed": n - counted,
        "offers_counted": counted,
        "unclassified": stats["unclassified"],
        "unclassified_share": stats["unclassified"] / counted,
        "unallocated": stats["unallocated"],
        "unallocated_share": stats["unallocated"] / counted,
        "region_labels_distinct": len(non_blank),
        "region_labels_normalised_share": stats["normalised"] / n,
        "coding_methods": {"given": n - stats["from_title"],
                           "title": stats["from_title"] - stats["title_unclassified"],
                           "unclassified": stats["title_unclassified"]},
        "dedup_rule": DEDUP_RULE if window is not None else "none",
        "dedup_window_days": window,
        "first_posting": str(np.datetime_as_string(_EPOCH + np.timedelta64(int(first_day), "D"), unit="D")),
        "last_posting": str(np.datetime_as_string(_EPOCH + np.timedelta64(int(last_day), "D"), unit="D")),
        "freq": freq,
        "files": [str(f) for f in ads.files],
    }
    return OfferCounts(counts=array, report=report)
