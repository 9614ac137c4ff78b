"""Job ads -> counts per period x region x occupation (the panel's ``job_offers`` variable).

:func:`count_offers` runs four vectorised steps on a validated offers table
(:func:`lmforecast.contract.load_offers`):

1. **Regions.** Each distinct free-text region label is normalised once
   (``RegionNormalizer.normalize_many``) to a region code or ``"unallocated"`` (ads for all
   Morocco / several regions). A label that cannot be normalised is an error listing every such
   label; nothing is dropped.
2. **Occupations.** A given ``occupation`` code is kept. Ads without one are coded from their
   title (``TitleCoder.code_many`` on the distinct titles); ads the coder cannot place go to
   ``"unclassified"``, which is counted like any occupation and reported as a share.
3. **Reposts.** Ads are grouped by a *repost key*: the normalised title (accents removed,
   case-folded, punctuation collapsed), the normalised region, the source and, if the table has a
   ``company`` column, the company (an empty company is a value of its own). Within a key, ads
   are taken in date order; the first ad opens a *chain*, every later ad posted at most
   ``dedup_window_days`` days after the chain's first ad is a repost of it, and the first ad
   after that window opens the next chain. Each chain is counted once, in the period of its
   first ad, with that ad's occupation. The rule is causal: whether an ad counts depends only on
   ads posted on or before it, so counts up to a forecast cutoff never use later ads.
4. **Counting.** Chains are counted per period (``freq``) x region x occupation with
   ``numpy.bincount`` on integer codes. Within the span of the ads every cell is a count (0 = no
   ad); the time axis runs from the first to the last period holding an ad.

All string work happens on distinct values (the categorical codes of
:func:`~lmforecast.contract.load_offers`, else ``pandas.factorize``); rows are handled as integer
arrays, so millions of ads take seconds.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from lmforecast import panel as P
from lmforecast.contract import check_region_labels
from lmforecast.errors import DataContractError
from lmforecast.taxonomy._text import strip_combining
from lmforecast.taxonomy.regions import UNALLOCATED

_NON_WORD = re.compile(r"[\W_]+")
DEDUP_RULE = (
    "same normalised title + region + source (+ company when present); an ad posted at most "
    "dedup_window_days after the first ad of its chain is a repost, counted once at the chain's "
    "first posting date")


@dataclass
class OfferCounts:
    """Result of :func:`count_offers`.

    Attributes
    ----------
    counts : DataArray ``(time, region, occupation)`` of job ads first posted in each period
        (float, units "job ads"), named ``job_offers``.
    report : what happened to the rows: ``rows_in``, ``reposts_removed``, ``offers_counted``,
        ``unclassified`` / ``unclassified_share`` (of counted ads), ``unallocated`` /
        ``unallocated_share``, ``region_labels_distinct``, ``region_labels_normalised_share``
        (share of input rows whose label was mapped to a specific region), ``coding_methods``
        (input rows per method: ``given``, ``title``, ``unclassified``), ``title_coding`` (counted
        ads coded from their title: ``ads``, ``coded_share``, and for a
        :class:`~lmforecast.taxonomy.titles.TitleCoder` the share per coding step, the abstention
        threshold, quantiles of the confidence of coded ads and a histogram of the confidence of
        all of them; see :func:`~lmforecast.taxonomy.titles.confidence_summary`), ``dedup_rule``,
        ``dedup_window_days``, ``first_posting``, ``last_posting``, ``freq``.
    """

    counts: xr.DataArray
    report: dict = field(default_factory=dict)


def normalise_titles(titles: pd.Series) -> pd.Series:
    """Normalise job titles for repost matching.

    Parameters
    ----------
    titles : Series of free-text titles (object, string or categorical dtype).

    Returns
    -------
    Series of str: Unicode NFKD with combining accents removed, case-folded, every run of
    non-alphanumeric characters replaced by one space, stripped
    (``"Développeur  JAVA (H/F)"`` -> ``"developpeur java h f"``). Arabic letters are kept.
    Each distinct title is folded once.
    """
    titles = pd.Series(titles)
    codes, uniques = pd.factorize(titles, use_na_sentinel=True)
    folded = np.asarray([_fold_title(str(t)) for t in np.asarray(uniques, dtype=object)] + [""], dtype=object)
    out = folded[codes]
    missing = np.flatnonzero(codes < 0)
    if missing.size:  # missing titles fold as their text ("None", "nan", "<NA>")
        out[missing] = [_fold_title(str(t)) for t in titles.to_numpy(dtype=object)[missing]]
    return pd.Series(out, index=titles.index, dtype=object)


def _fold_title(title: str) -> str:
    """One title of :func:`normalise_titles` (ASCII titles skip the Unicode decomposition)."""
    if not title.isascii():  # NFKD of ASCII is the identity and it has no combining marks
        title = strip_combining(unicodedata.normalize("NFKD", title))
    return _NON_WORD.sub(" ", title.casefold()).strip()


def _factorize_text(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes and distinct str values; NA and blank cells get code -1.

    A categorical column (as :func:`lmforecast.contract.load_offers` returns) reuses its codes
    and categories (unused categories may appear among the values); other columns are factorised.
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy()
        uniques = series.cat.categories
    else:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
    uniques = np.asarray([str(u) for u in uniques], dtype=object)
    if len(uniques):
        blank = np.fromiter((u.strip() == "" for u in uniques), dtype=bool, count=len(uniques))
        if blank.any():
            codes = np.where((codes >= 0) & blank[np.maximum(codes, 0)], -1, codes)
    return np.asarray(codes, dtype=np.int64), uniques


def _combine(*codes: np.ndarray) -> np.ndarray:
    """One int64 code per distinct tuple of integer code arrays (-1 allowed), same order.

    Mixed-radix arithmetic; re-factorizes only when the next radix would overflow int64.
    """
    key = np.zeros(len(codes[0]), dtype=np.int64)
    span = 1
    for c in codes:
        c = np.asarray(c, dtype=np.int64) + 1
        radix = int(c.max(initial=0)) + 1
        if span * radix >= 2**62:
            key = pd.factorize(key)[0].astype(np.int64)
            span = int(key.max(initial=0)) + 1
        key = key * radix + c
        span *= radix
    return key


def chain_heads(key: np.ndarray, day: np.ndarray, window_days: int | None) -> np.ndarray:
    """Mark the first ad of each repost chain.

    Parameters
    ----------
    key : int array, the repost key of each ad.
    day : int array, posting date of each ad in days (any origin).
    window_days : an ad posted at most this many days after the first ad of its chain (same
        key) is a repost; None keeps every ad.

    Returns
    -------
    Boolean array, True for ads that are counted (first ad of a chain).

    Notes
    -----
    Vectorised: ads are sorted by (key, day) once (ties in file order); each pass takes, per key, the earliest ad not
    yet assigned as a chain head and assigns every ad within ``window_days`` of it, using
    ``diff`` on the sorted keys to find group starts. The number of passes is the largest number
    of chains of one key.
    """
    n = len(key)
    if window_days is None:
        return np.ones(n, dtype=bool)
    if window_days < 0:
        raise ValueError(f"dedup_window_days must be >= 0 or None, got {window_days}")
    day = np.asarray(day, dtype=np.int64)
    key = np.asarray(key, dtype=np.int64)
    if n == 0:
        return np.zeros(0, dtype=bool)
    day_min = int(day.min())
    day_span = int(day.max()) - day_min + 1
    if int(key.max()) < 2**62 // day_span and key.min() >= 0:
        key_day = key * day_span + (day - day_min)
        order = np.argsort(key_day)  # unstable but vectorised (~3x faster than kind="stable") ...
        key_day = key_day[order]
        tie = key_day[1:] == key_day[:-1]
        if tie.any():  # ... so equal (key, day) runs are put back in file order
            in_tie = np.zeros(n, dtype=bool)
            in_tie[1:] |= tie
            in_tie[:-1] |= tie
            pos = np.flatnonzero(in_tie)
            rows = order[pos]
            order[pos] = rows[np.lexsort((rows, key_day[pos]))]
        k, d = key_day // day_span, key_day % day_span + day_min
        del key_day, tie
    else:
        order = np.lexsort((day, key))
        k, d = key[order], day[order]
    head_sorted = np.zeros(n, dtype=bool)
    remaining = np.arange(n)
    while remaining.size:
        kr, dr = k[remaining], d[remaining]
        starts = np.empty(kr.size, dtype=bool)
        starts[0] = True
        np.not_equal(kr[1:], kr[:-1], out=starts[1:])
        group = np.cumsum(starts) - 1
        first_day = dr[starts][group]
        head_sorted[remaining[starts]] = True
        remaining = remaining[dr - first_day > window_days]
    heads = np.empty(n, dtype=bool)
    heads[order] = head_sorted
    return heads


def _title_coding_report(ad_titles: np.ndarray, ad_occupations: np.ndarray, unclassified_idx: int,
                         needed: np.ndarray | None, details: pd.DataFrame | None,
                         min_confidence: float | None) -> dict:
    """Coded share and confidence distribution of the counted ads coded from their title.

    Parameters
    ----------
    ad_titles, ad_occupations : title index and occupation index of each such ad.
    unclassified_idx : occupation index of ``unclassified``.
    needed, details : the distinct title indices the coder coded (sorted) and its
        :meth:`~lmforecast.taxonomy.titles.TitleCoder.code_details` of them, row by row; None for
        a coder with ``code_many`` only.
    min_confidence : the coder's threshold (None if it has none).

    Returns
    -------
    dict ``ads``, ``coded_share`` (None without ads) and, with ``details``,
    :func:`~lmforecast.taxonomy.titles.confidence_summary` of the ads (``by_step``,
    ``min_confidence``, ``coded_confidence_quantiles``, ``confidence_histogram``).
    """
    ads = int(len(ad_titles))
    out = {"ads": ads, "coded_share": float((ad_occupations != unclassified_idx).mean()) if ads else None}
    if details is None or needed is None:
        return out
    from lmforecast.taxonomy.titles import confidence_summary

    weights = np.bincount(ad_titles, minlength=int(needed.max()) + 1)[needed]
    summary = confidence_summary(details.reset_index(drop=True), min_confidence, weights)
    return {**out, **{k: v for k, v in summary.items() if k not in ("n", "coded_share")}}


def period_starts(days: np.ndarray, freq: str) -> np.ndarray:
    """Period start (``datetime64[ns]``) of each ``datetime64`` date for ``freq`` MS, QS or YS."""
    months = np.asarray(days).astype("datetime64[M]")
    if freq == "MS":
        out = months
    elif freq == "QS":
        m = months.astype(np.int64)
        out = (m - m % 3).astype("datetime64[M]")
    elif freq == "YS":
        out = months.astype("datetime64[Y]").astype("datetime64[M]")
    else:
        raise ValueError(f"freq must be 'MS', 'QS' or 'YS', got {freq!r}")
    return out.astype("datetime64[ns]")


def count_offers(offers: pd.DataFrame, freq: str = "MS", normalizer=None, coder=None,
                 dedup_window_days: int | None = 30, *, regions: Sequence[str] | None = None,
                 occupations: Sequence[str] | None = None) -> OfferCounts:
    """Count job ads per period x region x occupation, reposts removed.

    Parameters
    ----------
    offers : offers table as returned by :func:`lmforecast.contract.load_offers` (columns
        ``posted_on``, ``region``, ``title``, ``source``, optional ``occupation`` (NA = code
        from title), ``company``, ``row``).
    freq : panel frequency, ``"MS"``, ``"QS"`` or ``"YS"``.
    normalizer : ``RegionNormalizer`` (default: Moroccan regions).
    coder : ``TitleCoder`` (default: Moroccan panel occupations).
    dedup_window_days : repost window in days (see module docstring); None keeps every ad.
    regions : region codes of the panel, in order (default: codes of ``load_regions()``).
    occupations : leaf occupation codes, in order, without ``unclassified`` (default: codes of
        ``load_occupations()``).

    Returns
    -------
    OfferCounts with ``counts`` (job ads per period; regions = ``regions`` plus
    ``"unallocated"`` when any ad is unallocated; occupations = ``occupations`` plus
    ``"unclassified"``) and ``report``.

    Raises
    ------
    DataContractError when a region label cannot be normalised or a given occupation code is
    unknown; ValueError when there is no ad or the coder/normalizer returns a code outside
    ``regions``/``occupations``.
    """
    P.season_length(freq)
    if freq not in ("MS", "QS", "YS"):
        raise ValueError(f"freq must be 'MS', 'QS' or 'YS', got {freq!r}")
    n = len(offers)
    if n == 0:
        raise ValueError("count_offers got no job ads (0 rows)")
    if regions is None or normalizer is None:
        from lmforecast.taxonomy import regions as reg_mod
        if regions is None:
            regions = [str(c) for c in reg_mod.load_regions()["code"]]
        if normalizer is None:
            normalizer = reg_mod.RegionNormalizer()
    if occupations is None or coder is None:
        from lmforecast.taxonomy import occupations as occ_mod
        from lmforecast.taxonomy import titles as titles_mod
        if occupations is None:
            occupations = [str(c) for c in occ_mod.load_occupations()["code"]]
        if coder is None:
            coder = titles_mod.TitleCoder()
    regions = [str(r) for r in regions]
    occupations = [str(o) for o in occupations if str(o) != P.UNCLASSIFIED] + [P.UNCLASSIFIED]
    file = offers.attrs.get("source_file", "<offers DataFrame>")
    rows = offers["row"].to_numpy() if "row" in offers.columns else np.arange(n) + 1

    # 1. regions: distinct labels -> code / unallocated
    label_codes, labels = _factorize_text(offers["region"])
    normalised = check_region_labels(label_codes, labels, normalizer, file=file, rows=rows)
    region_axis = pd.Index(regions + [UNALLOCATED])
    region_of_label = region_axis.get_indexer(pd.Index(normalised, dtype=object))
    if (region_of_label < 0).any():
        bad = normalised[region_of_label < 0][0]
        raise ValueError(f"the region normalizer returned {bad!r}, which is not one of the panel regions {regions}")
    region_idx = region_of_label[label_codes]

    # 2. occupations: given code kept, else coded from the title
    occ_axis = pd.Index(occupations)
    title_codes, titles = _factorize_text(offers["title"])
    if (title_codes < 0).any():
        pos = int(np.flatnonzero(title_codes < 0)[0])
        raise DataContractError(file, "title", int(rows[pos]), offers["title"].iloc[pos], "a non-empty title")
    if "occupation" in offers.columns:
        given_codes, given_u = _factorize_text(offers["occupation"])
        given_of_u = occ_axis.get_indexer(pd.Index(given_u, dtype=object))
        if (given_of_u < 0).any():
            bad_u = int(np.flatnonzero(given_of_u < 0)[0])
            pos = int(np.flatnonzero(given_codes == bad_u)[0])
            raise DataContractError(file, "occupation", int(rows[pos]), given_u[bad_u],
                                    "empty, 'unclassified' or a panel occupation code")
        occ_idx = np.where(given_codes >= 0, given_of_u[np.maximum(given_codes, 0)] if len(given_u) else -1, -1)
    else:
        occ_idx = np.full(n, -1, dtype=np.int64)
    from_title = occ_idx < 0
    details = needed = None
    if from_title.any():
        needed = np.unique(title_codes[from_title])
        needed_titles = pd.Series(titles[needed], dtype=object)
        if hasattr(coder, "code_details"):  # TitleCoder: codes with step and confidence
            details = coder.code_details(needed_titles)
            coded = details["code"]
        else:  # any object with code_many
            coded = coder.code_many(needed_titles)
        coded = pd.Series(coded)
        coded_text = coded.astype(str).to_numpy(dtype=object)  # vectorised str(); missing -> None
        coded_text[coded.isna().to_numpy()] = None
        coded_idx = occ_axis.get_indexer(pd.Index(coded_text, dtype=object))
        if (coded_idx < 0).any():
            bad = list(coded)[int(np.flatnonzero(coded_idx < 0)[0])]
            raise ValueError(f"the title coder returned {bad!r}, which is not a panel occupation "
                             f"code nor 'unclassified'")
        per_title = np.full(len(titles), -1, dtype=np.int64)
        per_title[needed] = coded_idx
        occ_idx = np.where(from_title, per_title[title_codes], occ_idx)
    unclassified_idx = len(occupations) - 1

    # 3. reposts
    norm_title_codes = pd.factorize(normalise_titles(pd.Series(titles, dtype=object)))[0][title_codes]
    source_codes, _ = _factorize_text(offers["source"])
    parts = [norm_title_codes, region_idx, source_codes]
    if "company" in offers.columns:
        parts.append(_factorize_text(offers["company"])[0])
    key = _combine(*parts)
    posted = offers["posted_on"].to_numpy().astype("datetime64[D]")
    heads = chain_heads(key, posted.astype(np.int64), dedup_window_days)

    # 4. count chains per period x region x occupation
    starts = period_starts(posted[heads], freq)
    time = pd.date_range(starts.min(), starts.max(), freq=freq)
    t_idx = time.get_indexer(starts)
    has_unallocated = bool((region_idx == len(regions)).any())
    n_regions = len(regions) + int(has_unallocated)
    flat = (t_idx * n_regions + region_idx[heads]) * len(occupations) + occ_idx[heads]
    counts = np.bincount(flat, minlength=len(time) * n_regions * len(occupations)).astype(np.float64)
    counts = counts.reshape(len(time), n_regions, len(occupations))
    region_coord = regions + ([UNALLOCATED] if has_unallocated else [])
    array = xr.DataArray(counts, dims=P.DIMS, name="job_offers",
                         coords={P.TIME: time, P.REGION: np.array(region_coord, dtype=str),
                                 P.OCCUPATION: np.array(occupations, dtype=str)},
                         attrs=P.measure_attrs("job_offers"))

    counted = int(heads.sum())
    n_unclassified = int((occ_idx[heads] == unclassified_idx).sum())
    n_unallocated = int((region_idx[heads] == len(regions)).sum())
    given_rows = int((~from_title).sum())
    title_unclassified = int((from_title & (occ_idx == unclassified_idx)).sum())
    report = {
        "rows_in": int(n),
        "reposts_removed": int(n - counted),
        "offers_counted": counted,
        "unclassified": n_unclassified,
        "unclassified_share": n_unclassified / counted,
        "unallocated": n_unallocated,
        "unallocated_share": n_unallocated / counted,
        "region_labels_distinct": int(len(labels)),
        "region_labels_normalised_share": float((region_idx < len(regions)).mean()),
        "coding_methods": {"given": given_rows,
                           "title": int(from_title.sum()) - title_unclassified,
                           "unclassified": title_unclassified},
        "title_coding": _title_coding_report(title_codes[heads & from_title], occ_idx[heads & from_title],
                                             unclassified_idx, needed, details,
                                             getattr(coder, "min_confidence", None)),
        "dedup_rule": DEDUP_RULE if dedup_window_days is not None else "none",
        "dedup_window_days": dedup_window_days,
        "first_posting": str(np.datetime_as_string(posted.min(), unit="D")),
        "last_posting": str(np.datetime_as_string(posted.max(), unit="D")),
        "freq": freq,
    }
    return OfferCounts(counts=array, report=report)
