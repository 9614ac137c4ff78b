"""Panel-build benchmark: monthly job-ad counts from millions of noisy synthetic job ads.

What is measured
----------------
Two paths read the same Parquet file of synthetic job ads (written once, untimed) and produce
counts per month x region x occupation. Each run happens in a **fresh Python subprocess**, so
its peak resident memory (``VmHWM`` of ``/proc/self/status`` read inside the child; not
``ru_maxrss``, which Linux carries over ``execve`` from the parent's peak) is not contaminated by
the data generator or by the other path. Runs are interleaved
(lmforecast, baseline, lmforecast, baseline, ...) and ``os.getloadavg()`` is recorded before
each, because the machine may be shared.

* ``lmforecast`` -- the library's end-to-end path, exactly as :func:`lmforecast.build.build_panel`
  runs it: :func:`lmforecast.contract.load_reference` + :class:`~lmforecast.taxonomy.titles.
  TitleCoder` construction, :func:`lmforecast.contract.load_offers` (read the Parquet file,
  validate every column: unique ids, dates, non-empty titles/sources, occupation codes, every
  region label normalisable), then :func:`lmforecast.features.offers.count_offers` (region
  label normalisation, title coding of the ads without an occupation code, repost removal with
  the 30-day chain rule, counting).
* ``baseline`` -- what a naive analyst writes with plain pandas (:func:`baseline_counts`):
  read three columns, map each region label through an **exact-match** dict built from
  ``lmforecast/taxonomy/data/ma_region_aliases.csv``, and ``groupby(month, region,
  occupation).size()``. ``groupby`` drops rows with a missing key, so it counts only the rows
  that already carry an occupation code *and* whose label is spelt exactly like an alias. It
  does **not** normalise case/accents/typos/suffixes, code titles (~60 % of rows are silently
  dropped), remove reposts (~10 % of rows are double counted), or validate anything (duplicate
  ids, bad dates, unknown codes all pass), and it silently drops what it cannot map.

The timed window of each run starts after the imports and ends when the counts exist (the
import time is reported separately). Throughput = input rows / timed wall time.

Synthetic data (:func:`generate_job_ads`)
-----------------------------------------
Rows look like the raw ``offers`` contract (``offer_id, posted_on, region, title, occupation,
source, company``). Region labels come from the curated aliases
(``ma_region_aliases.csv``) with variants -- lower/upper case, accents stripped, ``" et région -
Maroc"`` / ``", Maroc"`` suffixes, three one-letter typos per alias -- and ~4 % "all Morocco"
labels (mostly ``"Tout le Maroc"``). Every variant is checked with the library's
``RegionNormalizer`` at generation time (untimed); a variant it maps to another region (or to
nothing) is replaced by the plain alias and counted in ``data.variants_replaced``, so the file
satisfies the raw-data contract. Titles: 80 % from the French/English title lists of
:mod:`lmforecast.datasets.morocco` (``JOB_TITLES``), 20 % from the embedded title dictionary
(``title_dictionary.csv.gz``; its ESCO English and curated labels, what it held when this
benchmark was written, so the data stay comparable) for the same occupation, decorated with ``Senior``/``Junior``/
``confirmé``, ``(H/F)``, ``" - <city>"`` and upper case. ~60 % of rows have no occupation code.
~10 % of rows are reposts: exact copies (new ``offer_id``) of another ad posted 1-28 days
later, i.e. inside the library's default 30-day repost window.

Run ``python benchmarks/bench_panel.py --rows 5000000 --seed 0 --out
benchmarks/results/bench_panel.json`` (see ``benchmarks/README.md``).
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import json
import os
import platform
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
ALIASES_CSV = REPO_ROOT / "lmforecast" / "taxonomy" / "data" / "ma_region_aliases.csv"
REGIONS_CSV = REPO_ROOT / "lmforecast" / "taxonomy" / "data" / "ma_regions.csv"
DEFAULT_OUT = REPO_ROOT / "benchmarks" / "results" / "bench_panel.json"
PATHS = ("lmforecast", "baseline")
TARGET_ROWS_PER_S = 500_000
TARGET_PEAK_BYTES = 3 * 1024**3
# Library files whose code is measured (their sha256 goes into the result: other engineers edit them).
MEASURED_FILES = ("lmforecast/features/offers.py", "lmforecast/contract.py",
                  "lmforecast/taxonomy/regions.py", "lmforecast/taxonomy/titles.py",
                  "lmforecast/taxonomy/title_keys.py", "lmforecast/taxonomy/title_model.py",
                  "lmforecast/taxonomy/_text.py",
                  "lmforecast/taxonomy/data/title_dictionary.csv.gz",
                  "lmforecast/taxonomy/data/title_dictionary_keys.json.gz",
                  "lmforecast/taxonomy/data/title_model.npz")

# --------------------------------------------------------------------------- generator settings
FIRST_DAY, LAST_DAY = "2015-01-01", "2025-12-31"
MISSING_CODE_SHARE = 0.60
REPOST_SHARE = 0.10
REPOST_LAG_DAYS = (1, 28)  # inside the default 30-day window of count_offers
UNALLOCATED_SHARE = 0.04
TOUT_LE_MAROC_WEIGHT = 0.6  # share of "all Morocco" ads labelled exactly "Tout le Maroc"
DICTIONARY_TITLE_SHARE = 0.20
ENGLISH_SHARE = 0.30
OCCUPATION_ZIPF = 1.1
# label styles: plain alias, lower, UPPER, accents stripped, " et région - Maroc", ", Maroc", 3 typos
LABEL_STYLES = ("alias", "lower", "upper", "no_accents", "et_region_maroc", "comma_maroc",
                "typo_1", "typo_2", "typo_3")
LABEL_STYLE_P = (0.56, 0.08, 0.05, 0.08, 0.10, 0.07, 0.02, 0.02, 0.02)
SENIORITY_P = (0.80, 0.10, 0.06, 0.04)  # none, Senior, Junior, confirmé (French only)
HF_SHARE = 0.30  # French titles with " (H/F)"
CITY_SUFFIX_SHARE = 0.35  # titles with " - <city>" (not for all-Morocco ads)
UPPER_TITLE_SHARE = 0.08


def _log(message: str) -> None:
    """Print one progress line (stage + wall clock) to stderr."""
    print(f"[bench_panel {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- data generator
@dataclass
class SyntheticJobAds:
    """Result of :func:`generate_job_ads`.

    Attributes
    ----------
    ads : DataFrame in the raw ``offers`` layout (all ``str``; ``occupation`` NA = to be coded).
    truth : DataFrame aligned with ``ads``: ``region`` (true region code or ``unallocated``),
        ``occupation`` (true panel leaf), ``is_repost`` (bool).
    stats : counts describing the noise actually generated.
    """

    ads: pd.DataFrame
    truth: pd.DataFrame
    stats: dict = field(default_factory=dict)


def _typo(label: str, kind: int, rng: np.random.Generator) -> str:
    """One-letter typo of ``label``: 0 drop, 1 double, 2 swap two neighbours (interior letter)."""
    letters = [i for i, ch in enumerate(label) if ch.isalpha()]
    if len(letters) < 5:
        return label.lower()
    i = letters[int(rng.integers(1, len(letters) - 1))]
    if kind == 0:
        return label[:i] + label[i + 1:]
    if kind == 1:
        return label[:i] + label[i] + label[i:]
    j = i + 1 if i + 1 < len(label) else i - 1
    a, b = sorted((i, j))
    return label[:a] + label[b] + label[a] + label[b + 1:]


def _strip_accents(text: str) -> str:
    import unicodedata

    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def region_label_pool(seed: int) -> tuple[pd.DataFrame, np.ndarray, int]:
    """Every region-label variant the generator may write, checked with ``RegionNormalizer``.

    Parameters
    ----------
    seed : seed of the typo positions.

    Returns
    -------
    aliases : DataFrame ``label, code`` of ``ma_region_aliases.csv`` (file order).
    pool : object array ``(n_aliases, len(LABEL_STYLES))`` of label strings.
    replaced : number of variants the normaliser did not map to the alias's code, replaced by
        the plain alias.
    """
    from lmforecast.taxonomy.regions import RegionNormalizer

    rng = np.random.default_rng([seed, 1])
    aliases = pd.read_csv(ALIASES_CSV, dtype=str, keep_default_na=False)
    normalizer = RegionNormalizer()
    pool = np.empty((len(aliases), len(LABEL_STYLES)), dtype=object)
    replaced = 0
    for a, (label, code) in enumerate(zip(aliases["label"], aliases["code"], strict=True)):
        nationwide = code == "unallocated"
        variants = [label, label.lower(), label.upper(), _strip_accents(label),
                    label if nationwide else f"{label} et région - Maroc",
                    label if nationwide else f"{label}, Maroc",
                    _typo(label, 0, rng), _typo(label, 1, rng), _typo(label, 2, rng)]
        for s, variant in enumerate(variants):
            if s and normalizer.normalize(variant) != code:
                variant = label
                replaced += 1
            pool[a, s] = variant
    return aliases, pool, replaced


def _title_lists() -> tuple[list[str], list[str], np.ndarray, np.ndarray, np.ndarray]:
    """``(leaves, titles, leaf index, is_english, from_dictionary)``: base titles of the panel leaves."""
    from lmforecast.datasets.morocco import JOB_TITLES
    from lmforecast.taxonomy.occupations import leaf_for_isco
    from lmforecast.taxonomy.titles import load_title_dictionary

    leaves = list(JOB_TITLES)
    titles, leaf_idx, english, from_dict = [], [], [], []
    for j, leaf in enumerate(leaves):
        french, english_titles = JOB_TITLES[leaf]
        for lang_en, names in ((False, french), (True, english_titles)):
            titles += list(names)
            leaf_idx += [j] * len(names)
            english += [lang_en] * len(names)
            from_dict += [False] * len(names)
    dictionary = load_title_dictionary()
    # the labels the dictionary held when this benchmark was written (ESCO English + curated), so
    # that the data -- and the number of distinct titles to code -- stay the same across dictionary versions
    dictionary = dictionary[(dictionary["origin"] == "curated")
                            | ((dictionary["origin"] == "esco") & (dictionary["lang"] == "en"))]
    position = {leaf: j for j, leaf in enumerate(leaves)}
    for label, isco, lang in zip(dictionary["label"], dictionary["isco_code"], dictionary["lang"], strict=True):
        try:
            leaf = leaf_for_isco(isco)
        except ValueError:
            continue
        if leaf in position:
            titles.append(label)
            leaf_idx.append(position[leaf])
            english.append(lang == "en")
            from_dict.append(True)
    return leaves, titles, np.asarray(leaf_idx), np.asarray(english), np.asarray(from_dict)


def _pick_within(groups: np.ndarray, n_groups: int, chosen_group: np.ndarray, rng: np.random.Generator,
                 mask: np.ndarray | None = None) -> np.ndarray:
    """For each row, a uniformly drawn item index among the items of its group (``-1`` if none).

    ``groups`` gives the group of every item; ``mask`` (per item) restricts the eligible items.
    """
    eligible = np.flatnonzero(mask) if mask is not None else np.arange(len(groups))
    order = eligible[np.argsort(groups[eligible], kind="stable")]
    sizes = np.bincount(groups[order], minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    size = sizes[chosen_group]
    offset = np.floor(rng.random(len(chosen_group)) * np.maximum(size, 1)).astype(np.int64)
    picked = order[np.minimum(starts[chosen_group] + offset, len(order) - 1)]
    return np.where(size > 0, picked, -1)


def generate_job_ads(n_rows: int, seed: int = 0) -> SyntheticJobAds:
    """Synthetic scraped job ads with realistic label noise, for the panel-build benchmark.

    Parameters
    ----------
    n_rows : number of ads (rows) to generate, reposts included (>= 10).
    seed : random seed; same ``(n_rows, seed)`` -> identical ads.

    Returns
    -------
    SyntheticJobAds : ``ads`` (raw offers layout: ``offer_id, posted_on`` as ``YYYY-MM-DD``,
    ``region`` free text, ``title`` free text, ``occupation`` code or NA, ``source``,
    ``company``; sorted by posting date), ``truth`` (true region, occupation, repost flag per row)
    and ``stats`` (rows, distinct labels/titles, missing-code and repost shares, ...).

    Notes
    -----
    See the module docstring for the noise model. Regions are drawn with the 2014 census
    population weights of the 12 regions (plus 4 % all-Morocco ads); occupations from a Zipf
    (exponent 1.1) over the 59 panel leaves in a seeded random order; posting days uniformly
    over 2015-01-01 .. 2025-12-31; employers from a Zipf-weighted pool of ~6,000 synthetic names.
    """
    from lmforecast.datasets.morocco import CITIES, COMPANY_FORMS, COMPANY_STEMS, COMPANY_TRADES, SOURCES

    if n_rows < 10:
        raise ValueError(f"n_rows must be >= 10, got {n_rows}")
    rng = np.random.default_rng(seed)
    n_reposts = int(round(REPOST_SHARE * n_rows))
    n_orig = n_rows - n_reposts

    # regions: population weights + all-Morocco share; label = alias (rank-weighted) x style
    aliases, pool, replaced = region_label_pool(seed)
    regions = pd.read_csv(REGIONS_CSV, dtype=str, keep_default_na=False)
    region_codes = list(regions["code"]) + ["unallocated"]
    population = regions["population"].astype(float).to_numpy()
    region_p = np.r_[(1 - UNALLOCATED_SHARE) * population / population.sum(), UNALLOCATED_SHARE]
    region_idx = rng.choice(len(region_codes), n_orig, p=region_p)
    alias_group = pd.Index(region_codes).get_indexer(aliases["code"])
    rank = aliases.groupby("code").cumcount().to_numpy()
    alias_w = 1.0 / (rank + 1.0)
    tout = (aliases["label"] == "Tout le Maroc").to_numpy()
    nationwide = alias_group == len(region_codes) - 1
    alias_w[nationwide] = (1 - TOUT_LE_MAROC_WEIGHT) / max(int(nationwide.sum()) - 1, 1)
    alias_w[tout] = TOUT_LE_MAROC_WEIGHT
    # alias per row: inverse-CDF draw within the row's region group
    order = np.argsort(alias_group, kind="stable")
    cum = np.zeros(len(order))
    for g in range(len(region_codes)):
        members = order[alias_group[order] == g]
        cum[members] = np.cumsum(alias_w[members]) / alias_w[members].sum()
    group_start = np.searchsorted(alias_group[order], np.arange(len(region_codes)), side="left")
    group_end = np.searchsorted(alias_group[order], np.arange(len(region_codes)), side="right")
    u = rng.random(n_orig)
    alias_idx = np.empty(n_orig, dtype=np.int64)
    for g in range(len(region_codes)):
        rows = np.flatnonzero(region_idx == g)
        members = order[group_start[g]:group_end[g]]
        k = np.searchsorted(cum[members], u[rows], side="right")
        alias_idx[rows] = members[np.minimum(k, len(members) - 1)]
    style_idx = rng.choice(len(LABEL_STYLES), n_orig, p=LABEL_STYLE_P)
    region_label = pool[alias_idx, style_idx]

    # occupations and titles
    leaves, titles, title_leaf, title_en, title_dict = _title_lists()
    occ_p = 1.0 / (np.arange(1, len(leaves) + 1) ** OCCUPATION_ZIPF)
    occ_p = occ_p[rng.permutation(len(leaves))]
    occ_idx = rng.choice(len(leaves), n_orig, p=occ_p / occ_p.sum())
    use_dict = rng.random(n_orig) < DICTIONARY_TITLE_SHARE
    want_en = rng.random(n_orig) < ENGLISH_SHARE
    base = np.full(n_orig, -1, dtype=np.int64)
    for from_dict in (False, True):
        for english in (False, True):
            rows = np.flatnonzero((use_dict == from_dict) & (want_en == english))
            mask = (title_dict == from_dict) & (title_en == english)
            base[rows] = _pick_within(title_leaf, len(leaves), occ_idx[rows], rng, mask)
    missing = base < 0  # no title of that kind for the occupation: any list title of it
    base[missing] = _pick_within(title_leaf, len(leaves), occ_idx[missing], rng, ~title_dict)
    is_en = title_en[base]
    seniority = rng.choice(4, n_orig, p=SENIORITY_P)
    seniority[is_en & (seniority == 3)] = 0
    hf = (~is_en) & (rng.random(n_orig) < HF_SHARE)
    city_lists = [CITIES.get(code, []) for code in region_codes]
    n_cities = np.array([len(c) for c in city_lists])
    with_city = (rng.random(n_orig) < CITY_SUFFIX_SHARE) & (n_cities[region_idx] > 0)
    city_pick = np.floor(rng.random(n_orig) * np.maximum(n_cities[region_idx], 1)).astype(np.int64)
    city_offsets = np.concatenate([[0], np.cumsum(n_cities)[:-1]])
    all_cities = [c for cities in city_lists for c in cities]
    city_idx = np.where(with_city, city_offsets[region_idx] + city_pick, -1)
    upper = rng.random(n_orig) < UPPER_TITLE_SHARE
    # build each distinct (base, seniority, hf, city, upper) title once
    n_city_codes = len(all_cities) + 1
    key = (((base * 4 + seniority) * 2 + hf) * n_city_codes + city_idx + 1) * 2 + upper
    combos, combo_of_row = np.unique(key, return_inverse=True)
    combo_titles = np.empty(len(combos), dtype=object)
    fr_senior = ("", " Senior", " Junior", " confirmé")
    en_senior = ("", "Senior ", "Junior ", "")
    for c, combo in enumerate(combos.tolist()):
        rest, up = divmod(combo, 2)
        rest, city = divmod(rest, n_city_codes)
        rest, h = divmod(rest, 2)
        b, s = divmod(rest, 4)
        text = titles[b]
        text = en_senior[s] + text if title_en[b] else text + fr_senior[s]
        if h:
            text += " (H/F)"
        if city:
            text += " - " + all_cities[city - 1]
        combo_titles[c] = text.upper() if up else text
    title = combo_titles[combo_of_row.reshape(-1)]

    # given occupation code on ~40 % of rows, source, employer, posting day
    leaf_codes = np.asarray(leaves, dtype=object)
    occupation = np.where(rng.random(n_orig) < MISSING_CODE_SHARE, None, leaf_codes[occ_idx])
    source_idx = rng.integers(0, len(SOURCES), n_orig)
    trades = sorted({t for ts in COMPANY_TRADES.values() for t in ts})
    companies = np.asarray(sorted({f"{s} {t} {f}".strip() for s in COMPANY_STEMS for t in trades
                                   for f in COMPANY_FORMS}), dtype=object)
    company_w = 1.0 / (np.arange(len(companies)) + 5.0)
    company_w = company_w[rng.permutation(len(companies))]
    company_idx = rng.choice(len(companies), n_orig, p=company_w / company_w.sum())
    first = np.datetime64(FIRST_DAY, "D")
    n_days = int((np.datetime64(LAST_DAY, "D") - first).astype(int)) + 1
    day = rng.integers(0, n_days, n_orig)

    # reposts: copies of random originals, 1-28 days later
    source_row = np.concatenate([np.arange(n_orig), rng.choice(n_orig, n_reposts, replace=True)])
    lag = np.concatenate([np.zeros(n_orig, dtype=np.int64),
                          rng.integers(REPOST_LAG_DAYS[0], REPOST_LAG_DAYS[1] + 1, n_reposts)])
    day_all = day[source_row] + lag
    order = np.lexsort((rng.random(n_rows), day_all))  # by day, random order within a day
    rows = source_row[order]
    posted = (first + day_all[order]).astype("datetime64[D]")
    prefix = np.asarray(["RK", "EM", "AN", "MA"] if len(SOURCES) == 4 else [s[:2].upper() for s in SOURCES],
                        dtype=object)
    offer_id = pd.Series(prefix[source_idx[rows]]) + "-" + pd.Series(np.arange(1, n_rows + 1)).astype(str).str.zfill(9)
    ads = pd.DataFrame({
        "offer_id": offer_id.to_numpy(dtype=object),
        "posted_on": pd.DatetimeIndex(posted).strftime("%Y-%m-%d").to_numpy(dtype=object),
        "region": region_label[rows],
        "title": title[rows],
        "occupation": occupation[rows],
        "source": np.asarray(SOURCES, dtype=object)[source_idx[rows]],
        "company": companies[company_idx[rows]],
    })
    truth = pd.DataFrame({
        "region": np.asarray(region_codes, dtype=object)[region_idx[rows]],
        "occupation": leaf_codes[occ_idx[rows]],
        "is_repost": lag[order] > 0,
    })
    stats = {
        "rows": int(n_rows),
        "reposts": int(n_reposts),
        "missing_occupation_share": float(ads["occupation"].isna().mean()),
        "distinct_region_labels": int(ads["region"].nunique()),
        "distinct_titles": int(ads["title"].nunique()),
        "distinct_companies": int(ads["company"].nunique()),
        "unallocated_share": float((truth["region"] == "unallocated").mean()),
        "tout_le_maroc_rows": int((ads["region"] == "Tout le Maroc").sum()),
        "label_style_shares": dict(zip(LABEL_STYLES, (np.bincount(style_idx, minlength=len(LABEL_STYLES))
                                                      / n_orig).tolist(), strict=True)),
        "variants_replaced": int(replaced),
        "dictionary_title_share": float(title_dict[base].mean()),
        "first_posting": str(posted.min()),
        "last_posting": str(posted.max()),
    }
    return SyntheticJobAds(ads=ads, truth=truth, stats=stats)


def write_ads(ads: pd.DataFrame, folder: str | os.PathLike) -> Path:
    """Write ``ads`` atomically to ``<folder>/offers.parquet`` (the raw-data file name); return it."""
    from lmforecast.io import write_parquet_atomic

    return write_parquet_atomic(ads, Path(folder) / "offers.parquet")


# --------------------------------------------------------------------------- the two measured paths
def lmforecast_counts(raw_dir: str | os.PathLike, freq: str = "MS", dedup_window_days: int | None = 30):
    """The library's end-to-end job-ad counting path, as ``build_panel`` runs it.

    Parameters
    ----------
    raw_dir : folder holding ``offers.parquet`` (or ``offers.csv``) in the raw-data contract.
    freq : panel frequency (``"MS"`` = monthly counts).
    dedup_window_days : repost window passed to ``count_offers`` (None keeps every ad).

    Returns
    -------
    lmforecast.features.offers.OfferCounts : ``counts`` DataArray ``(time, region, occupation)``
    in job ads per period (reposts removed, ``unclassified`` / ``unallocated`` included) and
    ``report``.
    """
    from lmforecast.contract import load_offers, load_reference
    from lmforecast.features.offers import count_offers
    from lmforecast.taxonomy.titles import TitleCoder

    reference = load_reference(raw_dir)
    coder = TitleCoder(occupations=reference.occupations)
    offers = load_offers(raw_dir, reference)
    return count_offers(offers, freq, normalizer=reference.normalizer, coder=coder,
                        dedup_window_days=dedup_window_days, regions=reference.region_codes,
                        occupations=reference.occupation_codes)


def baseline_counts(parquet_path: str | os.PathLike, aliases_csv: str | os.PathLike = ALIASES_CSV) -> pd.Series:
    """Naive pandas baseline: exact-match alias lookup + groupby month x region x occupation.

    Parameters
    ----------
    parquet_path : offers Parquet file (columns ``posted_on`` ``YYYY-MM-DD``, ``region``,
        ``occupation``).
    aliases_csv : ``label, code`` table used as an exact-match dict.

    Returns
    -------
    Series of int (job ads) indexed by ``(month`` Period[M], ``region`` code, ``occupation`` code);
    only non-empty cells.

    Notes
    -----
    Counts only rows whose label is spelt exactly like an alias *and* which carry an occupation
    code (``groupby`` silently drops missing keys). No case/accent/typo handling, no title
    coding, no repost removal, no validation: this is the lower bound of the work, not an
    equivalent of :func:`lmforecast_counts`.
    """
    ads = pd.read_parquet(parquet_path, columns=["posted_on", "region", "occupation"])
    aliases = pd.read_csv(aliases_csv, dtype=str, keep_default_na=False)
    region_of_label = dict(zip(aliases["label"], aliases["code"], strict=True))
    region = ads["region"].map(region_of_label)
    month = pd.to_datetime(ads["posted_on"], format="%Y-%m-%d").dt.to_period("M")
    return ads.groupby([month.rename("month"), region.rename("region"), "occupation"]).size()


# --------------------------------------------------------------------------- subprocess worker
def _peak_rss_bytes() -> int:
    """Peak resident set size of this process image so far (bytes).

    Linux: ``VmHWM`` of ``/proc/self/status``, the high-water mark of the current address space.
    ``ru_maxrss`` is *not* used there: it survives ``execve`` and so starts at the parent's peak
    (the 5-million-row generator), which would contaminate every child. Elsewhere: ``ru_maxrss``.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) * (1 if sys.platform == "darwin" else 1024)


def _worker(path_name: str, raw_dir: Path, out_json: Path, profile_out: Path | None) -> None:
    """Run one measured path in this (fresh) process and write its measurements to ``out_json``."""
    t_import = time.perf_counter()
    if path_name != "baseline":
        import lmforecast.contract  # noqa: F401  (imports are timed separately)
        import lmforecast.features.offers  # noqa: F401
        import lmforecast.taxonomy.titles  # noqa: F401
    import_s = time.perf_counter() - t_import
    rss_after_imports = _peak_rss_bytes()
    parquet = raw_dir / "offers.parquet"
    profiler = cProfile.Profile() if profile_out is not None else None
    start_cpu = time.process_time()
    start = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    result = baseline_counts(parquet) if path_name == "baseline" else lmforecast_counts(raw_dir)
    if profiler is not None:
        profiler.disable()
    wall_s = time.perf_counter() - start
    cpu_s = time.process_time() - start_cpu
    peak = _peak_rss_bytes()
    # untimed: what each path produced
    if path_name != "baseline":
        counts = result.counts
        output = {"report": {k: v for k, v in result.report.items() if k != "dedup_rule"},
                  "counted_total": int(counts.sum()), "shape": dict(counts.sizes),
                  "nonzero_cells": int((counts > 0).sum())}
    else:
        ads = pd.read_parquet(parquet, columns=["region", "occupation"])
        aliases = pd.read_csv(ALIASES_CSV, dtype=str, keep_default_na=False)
        exact = ads["region"].isin(set(aliases["label"]))
        has_code = ads["occupation"].notna()
        output = {"counted_total": int(result.sum()), "nonzero_cells": int(len(result)),
                  "rows_without_code": int((~has_code).sum()),
                  "rows_label_not_exact_alias": int((~exact).sum()),
                  "rows_dropped": int((~(has_code & exact)).sum())}
    record = {"path": path_name, "pid": os.getpid(), "import_s": import_s, "wall_s": wall_s, "cpu_s": cpu_s,
              "rss_after_imports_bytes": rss_after_imports, "peak_rss_bytes": peak, "output": output}
    if profiler is not None:
        buffer = io.StringIO()
        stats = pstats.Stats(profiler, stream=buffer).strip_dirs()
        for key in ("cumulative", "tottime"):
            buffer.write(f"\n### sorted by {key}\n")
            stats.sort_stats(key).print_stats(30)
        profile_out.write_text(buffer.getvalue(), encoding="utf-8")
    out_json.write_text(json.dumps(record), encoding="utf-8")


def measure(path_name: str, raw_dir: str | os.PathLike, profile_out: str | os.PathLike | None = None) -> dict:
    """Run one path in a fresh Python subprocess.

    Parameters
    ----------
    path_name : ``"lmforecast"`` or ``"baseline"``.
    raw_dir : folder holding ``offers.parquet``.
    profile_out : when given, the run is under cProfile and the text report is written there
        (its timings are then inflated by the profiler).

    Returns
    -------
    dict with ``wall_s`` (s, timed window), ``cpu_s`` (s, CPU of the child during that window),
    ``import_s`` (s), ``peak_rss_bytes`` / ``rss_after_imports_bytes`` (bytes, child's peak
    RSS, see :func:`_peak_rss_bytes`), ``loadavg_before`` (1/5/15-min), ``output`` (what the path produced).
    """
    if path_name not in PATHS:
        raise ValueError(f"path_name must be one of {PATHS}, got {path_name!r}")
    with tempfile.TemporaryDirectory(prefix="bench_panel_worker_") as tmp:
        out_json = Path(tmp) / "result.json"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", path_name, "--raw-dir", str(raw_dir),
               "--worker-out", str(out_json)]
        if profile_out is not None:
            cmd += ["--worker-profile", str(profile_out)]
        load = os.getloadavg()
        started = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - started
        if proc.returncode != 0:
            raise RuntimeError(f"{path_name} worker failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
        record = json.loads(out_json.read_text(encoding="utf-8"))
    record["loadavg_before"] = [round(x, 2) for x in load]
    record["process_s"] = elapsed
    return record


# --------------------------------------------------------------------------- machine / code info
def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def machine_info() -> dict:
    """Cores, CPU model, memory, Python and package versions, load average (1/5/15 min) now."""
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for pkg in ("lmforecast", "pandas", "numpy", "pyarrow", "xarray", "rapidfuzz", "scipy"):
        try:
            versions[pkg] = version(pkg)
        except PackageNotFoundError:
            versions[pkg] = None
    cpu_model = None
    with_cpuinfo = Path("/proc/cpuinfo")
    if with_cpuinfo.exists():
        for line in with_cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    mem_total = None
    if Path("/proc/meminfo").exists():
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_total = int(line.split()[1]) * 1024
    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": cpu_model,
        "mem_total_bytes": mem_total,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "packages": versions,
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        "thread_env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                                       "ARROW_NUM_THREADS")},
    }


def code_info() -> dict:
    """Git HEAD and the sha256 / uncommitted state of the library files being measured."""
    files = {}
    for rel in MEASURED_FILES:
        path = REPO_ROOT / rel
        files[rel] = {"sha256": hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None,
                      "uncommitted_changes": bool(_git("status", "--porcelain", "--", rel))}
    return {"git_head": _git("rev-parse", "HEAD"), "files": files}


# --------------------------------------------------------------------------- driver
def _summary(runs: list[dict], rows: int) -> dict:
    walls = [r["wall_s"] for r in runs]
    peaks = [r["peak_rss_bytes"] for r in runs]
    return {"wall_s": walls, "rows_per_s": [rows / w for w in walls], "peak_rss_bytes": peaks,
            "rows_per_cpu_s": [rows / r["cpu_s"] for r in runs],
            "best_rows_per_s": rows / min(walls), "worst_rows_per_s": rows / max(walls),
            "max_peak_rss_bytes": max(peaks)}


def run_benchmark(rows: int = 5_000_000, seed: int = 0, out: str | os.PathLike = DEFAULT_OUT, repeats: int = 2,
                  profile: bool = False, workdir: str | os.PathLike | None = None) -> dict:
    """Generate the ads, run both paths ``repeats`` times in fresh subprocesses, write the results.

    Parameters
    ----------
    rows : number of synthetic job ads.
    seed : generator seed.
    out : result JSON path; a Markdown table is written next to it (same stem, ``.md``), and
        with ``profile`` a cProfile report (``<stem>_profile.md``). All written atomically.
    repeats : measured runs per path (interleaved).
    profile : also run the lmforecast path once more under cProfile (not used for the figures).
    workdir : where the temporary Parquet file goes (default: system temp dir); removed after.

    Returns
    -------
    dict : the result written to ``out`` (see ``benchmarks/README.md``).
    """
    from lmforecast.io import write_text_atomic

    out = Path(out)
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    machine = machine_info()
    _log(f"start: {rows:,} rows, seed {seed}, load average {machine['loadavg_at_start']}, "
         f"{machine['cpus_usable']} usable cores")
    t0 = time.perf_counter()
    _log("generating synthetic job ads (untimed)")
    synthetic = generate_job_ads(rows, seed)
    generation_s = time.perf_counter() - t0
    truth_reposts = int(synthetic.truth["is_repost"].sum())
    with tempfile.TemporaryDirectory(prefix="bench_panel_", dir=workdir) as tmp:
        parquet = write_ads(synthetic.ads, tmp)
        data = {**synthetic.stats, "generation_s": generation_s, "parquet_bytes": parquet.stat().st_size}
        _log(f"wrote {parquet} ({data['parquet_bytes'] / 1e6:.1f} MB) in {time.perf_counter() - t0:.1f} s; "
             f"{data['distinct_region_labels']:,} distinct labels, {data['distinct_titles']:,} distinct titles")
        del synthetic
        names = PATHS
        runs: dict[str, list[dict]] = {p: [] for p in names}
        for i in range(repeats):
            for path_name in names:
                _log(f"run {i + 1}/{repeats}: {path_name} (fresh subprocess, load {os.getloadavg()[0]:.2f})")
                record = measure(path_name, tmp)
                runs[path_name].append(record)
                _log(f"  {path_name}: {record['wall_s']:.2f} s, {rows / record['wall_s']:,.0f} rows/s, "
                     f"peak {record['peak_rss_bytes'] / 2**20:,.0f} MiB")
        profile_text = None
        if profile:
            _log("profiling the lmforecast path under cProfile (not used for the figures)")
            with tempfile.NamedTemporaryFile(suffix=".txt", delete=False) as handle:
                prof_path = Path(handle.name)
            try:
                prof_record = measure("lmforecast", tmp, profile_out=prof_path)
                profile_text = prof_path.read_text(encoding="utf-8")
            finally:
                prof_path.unlink(missing_ok=True)
    summary = {p: _summary(runs[p], rows) for p in names}
    lm = summary["lmforecast"]
    lm_out = runs["lmforecast"][0]["output"]
    base_out = runs["baseline"][0]["output"]
    result = {
        "benchmark": "bench_panel",
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv else None,
        "started_at": started_at,
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "params": {"rows": rows, "seed": seed, "repeats": repeats, "freq": "MS", "dedup_window_days": 30},
        "machine": machine,
        "code": code_info(),
        "data": data,
        "paths": {
            "lmforecast": {"does": "load_reference + TitleCoder(); load_offers (read + validate every column, "
                                   "normalise every region label); count_offers (normalise labels, code titles "
                                   "of rows without a code, remove reposts, count per month x region x occupation)",
                           "runs": runs["lmforecast"], **summary["lmforecast"]},
            "baseline": {"does": "read_parquet(posted_on, region, occupation); exact-match dict lookup of the label "
                                 "in ma_region_aliases.csv; groupby(month, region, occupation).size()",
                         "does_not": "normalise case/accents/typos/suffixes, code titles, remove reposts, validate; "
                                     "rows with no code or a label not spelt like an alias are silently dropped",
                         "runs": runs["baseline"], **summary["baseline"]},
        },
        "targets": {
            "rows_per_s": TARGET_ROWS_PER_S, "peak_rss_bytes": TARGET_PEAK_BYTES,
            "lmforecast_rows_per_s_met_all_runs": lm["worst_rows_per_s"] >= TARGET_ROWS_PER_S,
            "lmforecast_rows_per_s_met_best_run": lm["best_rows_per_s"] >= TARGET_ROWS_PER_S,
            "lmforecast_peak_met": lm["max_peak_rss_bytes"] < TARGET_PEAK_BYTES,
        },
        "outputs": {
            "lmforecast": lm_out,
            "baseline": base_out,
            "true_reposts": truth_reposts,
            "same_outputs_across_runs": {p: all(r["output"] == runs[p][0]["output"] for r in runs[p]) for p in names},
            "slowdown_vs_baseline": [a["wall_s"] / b["wall_s"] for a, b in zip(runs["lmforecast"], runs["baseline"],
                                                                                strict=True)],
        },
    }
    if profile_text is not None:
        result["profile"] = {"file": out.with_name(out.stem + "_profile.md").name,
                             "wall_s_under_profiler": prof_record["wall_s"]}
    write_text_atomic(out, json.dumps(result, indent=2, default=str) + "\n")
    write_text_atomic(out.with_suffix(".md"), _markdown(result))
    if profile_text is not None:
        write_text_atomic(out.with_name(out.stem + "_profile.md"),
                          f"# bench_panel: cProfile of the lmforecast path ({rows:,} rows, seed {seed})\n\n"
                          f"Wall time under the profiler: {prof_record['wall_s']:.1f} s (inflated).\n\n"
                          f"```\n{profile_text}\n```\n")
    _log(f"wrote {out} and {out.with_suffix('.md').name}")
    return result


def _markdown(result: dict) -> str:
    """Short Markdown table of a result dict."""
    rows = result["params"]["rows"]
    m = result["machine"]
    lines = [
        f"# bench_panel: {rows:,} job ads -> monthly counts (seed {result['params']['seed']})",
        "",
        f"{result['started_at']}; {m['cpus_usable']} usable cores ({m['cpu_model']}); Python {m['python']}; "
        f"pandas {m['packages']['pandas']}, numpy {m['packages']['numpy']}, pyarrow {m['packages']['pyarrow']}; "
        f"load average at start {m['loadavg_at_start']}.",
        "",
        "| path | run | wall (s) | rows/s | CPU (s) | rows per CPU-s | peak RSS (MiB) | load avg before |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, path in result["paths"].items():
        for i, run in enumerate(path["runs"], start=1):
            lines.append(f"| {name} | {i} | {run['wall_s']:.2f} | {rows / run['wall_s']:,.0f} | {run['cpu_s']:.2f} | "
                         f"{rows / run['cpu_s']:,.0f} | {run['peak_rss_bytes'] / 2**20:,.0f} | "
                         f"{run['loadavg_before'][0]:.2f} |")
    t = result["targets"]
    lm, base = result["outputs"]["lmforecast"], result["outputs"]["baseline"]
    lines += [
        "",
        f"Targets (lmforecast): >= {t['rows_per_s']:,} rows/s -- "
        f"{'met' if t['lmforecast_rows_per_s_met_all_runs'] else 'NOT met'} in every run "
        f"({'met' if t['lmforecast_rows_per_s_met_best_run'] else 'not met'} in the best); "
        f"peak < {t['peak_rss_bytes'] / 2**30:.0f} GiB -- {'met' if t['lmforecast_peak_met'] else 'NOT met'}.",
        "",
        f"lmforecast counted {lm['counted_total']:,} ads ({lm['report']['reposts_removed']:,} reposts removed; "
        f"generator made {result['outputs']['true_reposts']:,}; {lm['report']['unclassified']:,} unclassified). "
        f"The baseline counted {base['counted_total']:,} rows and silently dropped {base['rows_dropped']:,} "
        f"({base['rows_without_code']:,} without a code, {base['rows_label_not_exact_alias']:,} with a label "
        f"not spelt exactly like an alias), without removing reposts.",
        "",
        "Timed window: after imports, until the counts exist (all paths read the same Parquet file); rows/s = rows / "
        "wall time; rows per CPU-s = rows / CPU time of the child in that window (less sensitive to a loaded machine). "
        "Each run is a fresh subprocess; peak RSS = the child's VmHWM (includes the interpreter and imports).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python benchmarks/bench_panel.py --rows 5000000 --seed 0 --out ...``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=5_000_000, help="synthetic job ads (default 5,000,000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="result JSON (a .md is written next to it)")
    parser.add_argument("--repeats", type=int, default=2, help="measured runs per path (default 2)")
    parser.add_argument("--profile", action="store_true", help="also cProfile the lmforecast path once")
    parser.add_argument("--workdir", type=Path, default=None, help="folder for the temporary Parquet file")
    parser.add_argument("--worker", choices=PATHS, help=argparse.SUPPRESS)
    parser.add_argument("--raw-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--worker-profile", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        _worker(args.worker, args.raw_dir, args.worker_out, args.worker_profile)
        return 0
    if args.rows < 10 or args.repeats < 1:
        parser.error("--rows must be >= 10 and --repeats >= 1")
    run_benchmark(args.rows, args.seed, args.out, args.repeats, args.profile, args.workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
