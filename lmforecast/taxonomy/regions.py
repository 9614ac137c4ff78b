"""Moroccan regions: the 12 regions of 2015, the 16 regions of 1997, a crosswalk, and a normaliser.

* :func:`load_regions` -- the 12 regions (``MA-01`` .. ``MA-12``, official order) with French,
  English and Arabic names and the 2014 census (RGPH 2014) legal population; or a country's own
  ``regions.csv`` from a raw-data folder.
* :func:`load_old_regions`, :func:`load_provinces`, :func:`region_crosswalk` -- the 16 regions of
  the 1997 division (``MA16-01`` .. ``MA16-16``) and population weights old <-> new built from the
  75 provinces/prefectures (RGPH 2014). Sources and approximations: ``data/SOURCES.md``.
* :class:`RegionNormalizer` -- free-text location labels from job boards (French, English, Arabic,
  misspelt) -> region code, :data:`UNALLOCATED` (all Morocco / several regions) or ``None``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from lmforecast.errors import DataContractError
from lmforecast.taxonomy._tables import (
    check_text_column,
    data_path,
    file_row,
    parse_count_column,
    read_reference_csv,
)
from lmforecast.taxonomy._text import fold

UNALLOCATED = "unallocated"
"""Pseudo-region of job ads posted for all of Morocco or for several regions at once."""

REGION_COLUMNS = ["code", "name", "name_fr", "name_en", "name_ar", "population"]

# Words that carry no location: dropped before looking a label up ("Fès et région - Maroc").
_NOISE_TOKENS = frozenset({
    "et", "and", "region", "regions", "de", "du", "des", "la", "le", "les", "l", "d", "a",
    "province", "prefecture", "ville", "city", "wilaya", "commune", "zone", "environs", "alentours",
    "جهه", "مدينه", "عماله", "اقليم", "و",
})
_MOROCCO_TOKENS = frozenset({"maroc", "morocco", "marruecos", "المغرب", "ma"})
# A label ending in one of these names a place outside Morocco -> None (unknown), never a region.
_FOREIGN_TOKENS = frozenset({
    "france", "belgique", "belgium", "espagne", "spain", "canada", "tunisie", "tunisia", "algerie",
    "algeria", "senegal", "mauritanie", "egypte", "egypt", "usa", "uk", "allemagne", "germany",
    "italie", "italy", "portugal", "suisse", "switzerland", "luxembourg", "qatar", "emirats",
    "uae", "dubai", "arabie", "ivoire", "gabon", "cameroun", "mali",
})
_MAX_NGRAM = 5


def load_regions(raw_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """The regions of the panel.

    Parameters
    ----------
    raw_dir : optional raw-data folder. If it holds ``regions.csv`` (columns ``code, name`` and
        optionally ``name_fr, name_en, name_ar, population``) that list is used; otherwise the
        12 Moroccan regions of 2015 shipped with the package.

    Returns
    -------
    DataFrame with columns ``code, name, name_fr, name_en, name_ar, population`` in file order;
    ``name`` = English name; ``population`` in persons (``Int64``, RGPH 2014 legal population for
    Morocco; missing allowed in a custom file).

    Raises
    ------
    DataContractError naming file, row, column and value for a missing column, empty or
    duplicate code, the reserved code ``unallocated``, empty name or a bad population.

    Examples
    --------
    >>> regions = load_regions()
    >>> len(regions), regions.loc[regions["code"] == "MA-06", "name"].item()
    (12, 'Casablanca-Settat')
    >>> import tempfile
    >>> from lmforecast.datasets.example_country import write_example_country
    >>> load_regions(write_example_country(tempfile.mkdtemp(), start=2020, end=2020))["code"].tolist()
    ['XX-CAP', 'XX-NOR', 'XX-SOU', 'XX-EAS', 'XX-WES']
    """
    if raw_dir is not None:
        custom = Path(raw_dir) / "regions.csv"
        if custom.exists():
            return _read_custom_regions(custom)
    table = pd.read_csv(data_path("ma_regions.csv"), dtype=str, keep_default_na=False)
    out = pd.DataFrame({
        "code": table["code"],
        "name": table["name_en"],
        "name_fr": table["name_fr"],
        "name_en": table["name_en"],
        "name_ar": table["name_ar"],
        "population": table["population"].astype("int64").astype("Int64"),
    })
    return out[REGION_COLUMNS]


def _read_custom_regions(path: Path) -> pd.DataFrame:
    table = read_reference_csv(path, ("code", "name"))
    check_text_column(table, "code", path, unique=True, forbidden=(UNALLOCATED,))
    check_text_column(table, "name", path)
    out = pd.DataFrame({"code": table["code"], "name": table["name"]})
    for column in ("name_fr", "name_en"):
        if column in table.columns:
            check_text_column(table, column, path, allow_empty=True)
            out[column] = table[column].where(table[column] != "", table["name"])
        else:
            out[column] = table["name"]
    out["name_ar"] = table["name_ar"] if "name_ar" in table.columns else ""
    if "population" in table.columns:
        out["population"] = parse_count_column(table, "population", path)
    else:
        out["population"] = pd.array([pd.NA] * len(table), dtype="Int64")
    return out[REGION_COLUMNS].reset_index(drop=True)


def load_old_regions() -> pd.DataFrame:
    """The 16 regions of the 1997 division (used in statistics before 2015).

    Returns
    -------
    DataFrame with columns ``code`` (``MA16-01`` .. ``MA16-16``, official order), ``name``
    (= French name), ``name_fr``, ``name_ar``.
    """
    table = pd.read_csv(data_path("ma_regions_1997.csv"), dtype=str, keep_default_na=False)
    table.insert(1, "name", table["name_fr"])
    return table


def load_provinces() -> pd.DataFrame:
    """The 75 provinces and prefectures with their 2014 population and their old and new region.

    Returns
    -------
    DataFrame with columns ``province`` (French name), ``population`` (persons, RGPH 2014 legal
    population, int64), ``old_code`` (``MA16-xx``), ``new_code`` (``MA-xx``), ``note``.
    """
    table = pd.read_csv(data_path("ma_provinces_2014.csv"), dtype=str, keep_default_na=False)
    table["population"] = table["population"].astype("int64")
    return table


def region_crosswalk() -> pd.DataFrame:
    """Population-weighted crosswalk from the 16 regions of 1997 to the 12 regions of 2015.

    Built by summing the 2014 population of the provinces that each (old, new) pair shares.

    Returns
    -------
    DataFrame with columns ``old_code, new_code, population, weight_old_to_new,
    weight_new_to_old``: ``population`` (persons, 2014) living in both; ``weight_old_to_new`` =
    share of the old region's population living in the new region (sums to 1 per ``old_code``);
    ``weight_new_to_old`` = share of the new region's population coming from the old region
    (sums to 1 per ``new_code``). Split a stock of an old region with ``weight_old_to_new``.
    """
    provinces = load_provinces()
    pairs = (provinces.groupby(["old_code", "new_code"], sort=True)["population"].sum()
             .reset_index())
    old_total = pairs.groupby("old_code")["population"].transform("sum")
    new_total = pairs.groupby("new_code")["population"].transform("sum")
    pairs["weight_old_to_new"] = pairs["population"] / old_total
    pairs["weight_new_to_old"] = pairs["population"] / new_total
    return pairs


def load_region_aliases(raw_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """Curated location labels and the region code each stands for.

    Parameters
    ----------
    raw_dir : optional raw-data folder; its ``region_aliases.csv`` (``label, code``) is used when
        present, else the Moroccan table ``taxonomy/data/ma_region_aliases.csv``.

    Returns
    -------
    DataFrame with columns ``label, code`` (code may be :data:`UNALLOCATED`).
    """
    path = data_path("ma_region_aliases.csv")
    if raw_dir is not None and (Path(raw_dir) / "region_aliases.csv").exists():
        path = Path(raw_dir) / "region_aliases.csv"
    table = read_reference_csv(path, ("label", "code"))
    check_text_column(table, "label", path)
    check_text_column(table, "code", path)
    out = table[["label", "code"]].copy()
    out.attrs["source"] = str(path)
    return out


class RegionNormalizer:
    """Map free-text location labels to region codes.

    Parameters
    ----------
    regions : region table as returned by :func:`load_regions` (default: the 12 Moroccan regions).
    aliases : ``label, code`` table of extra labels (codes must be region codes or
        :data:`UNALLOCATED`). When ``regions`` is the Moroccan list, the curated Moroccan aliases
        are always loaded first and ``aliases`` add to / override them; for any other list
        only the region names, codes and ``aliases`` are known.
    fuzzy_cutoff : minimal :func:`rapidfuzz.fuzz.ratio` (0-100) for the last-resort typo match;
        ``None`` disables fuzzy matching.
    split_old_regions : how a pre-2015 region name split between new regions is mapped:
        ``"dominant"`` (the new region holding most of its 2014 population) or ``"unallocated"``.

    Matching, in order (all on accent/case/punctuation-folded text): exact label; label without
    a trailing ``Maroc``/``Morocco`` (a trailing foreign country gives ``None``); label without
    filler words (``et région``, ``province`` ...); every known place name inside the label
    (one region -> its code; several regions, e.g. ``"Rabat / Casablanca"``, -> ``UNALLOCATED``);
    finally a fuzzy match above ``fuzzy_cutoff``. Anything else -> ``None`` (unknown, never guessed).

    Examples
    --------
    >>> norm = RegionNormalizer()
    >>> norm.normalize("Fès et région - Maroc"), norm.normalize("Tout le Maroc - Maroc")
    ('MA-03', 'unallocated')
    """

    def __init__(self, regions: pd.DataFrame | None = None, aliases: pd.DataFrame | None = None,
                 *, fuzzy_cutoff: float | None = 88.0, split_old_regions: str = "dominant") -> None:
        if split_old_regions not in {"dominant", "unallocated"}:
            raise ValueError(
                f"split_old_regions must be 'dominant' or 'unallocated', got {split_old_regions!r}")
        self.regions = regions
        self.aliases = aliases
        self.fuzzy_cutoff = fuzzy_cutoff
        self.split_old_regions = split_old_regions
        table = load_regions() if regions is None else regions
        self.codes_ = [str(c) for c in table["code"]]
        moroccan = set(self.codes_) == set(load_regions()["code"])
        self._lookup: dict[str, str] = {}
        self._display: dict[str, str] = {}
        if moroccan:
            self._add_old_regions()
            for row in load_provinces().itertuples(index=False):
                self._add(row.province, row.new_code)
        for column in ("name_fr", "name_ar", "name_en", "name", "code"):
            if column in table.columns:
                for label, code in zip(table[column], table["code"]):
                    if isinstance(label, str) and label:
                        self._add(label, str(code))
        if moroccan:
            self._add_aliases(load_region_aliases())
        if aliases is not None:
            self._add_aliases(aliases)
        self._keys = list(self._lookup)
        self._cache: dict[str, str | None] = {}

    # -- construction ---------------------------------------------------------------------------
    def _add(self, label: str, code: str) -> None:
        key = fold(label)
        if key:
            self._lookup[key] = code
            self._display.setdefault(key, label)

    def _add_old_regions(self) -> None:
        crosswalk = region_crosswalk()
        for old in load_old_regions().itertuples(index=False):
            parts = crosswalk[crosswalk["old_code"] == old.code]
            if len(parts) > 1 and self.split_old_regions == "unallocated":
                code = UNALLOCATED
            else:
                code = str(parts.sort_values("population").iloc[-1]["new_code"])
            for label in (old.name_fr, old.name_fr.replace(" (1997)", ""), old.name_ar, old.code):
                self._add(label, code)

    def _add_aliases(self, aliases: pd.DataFrame) -> None:
        source = aliases.attrs.get("source", "aliases table")
        allowed = set(self.codes_) | {UNALLOCATED}
        for column in ("label", "code"):
            if column not in aliases.columns:
                raise DataContractError(source, column, 1, list(aliases.columns),
                                        "columns ['label', 'code']")
        seen: dict[str, tuple[int, str]] = {}
        for i, (label, code) in enumerate(zip(aliases["label"], aliases["code"])):
            if code not in allowed:
                raise DataContractError(source, "code", file_row(i), code,
                                        f"one of the region codes {sorted(allowed)}")
            key = fold(str(label))
            if not key:
                raise DataContractError(source, "label", file_row(i), label,
                                        "a label with at least one letter or digit")
            if key in seen and seen[key][1] != code:
                raise DataContractError(source, "label", file_row(i), label,
                                        f"a label not already mapped to {seen[key][1]!r}",
                                        hint=f"same folded label as row {file_row(seen[key][0])}")
            seen[key] = (i, code)
            self._lookup[key] = code
            self._display[key] = str(label)

    # -- matching -------------------------------------------------------------------------------
    def normalize(self, label: str) -> str | None:
        """Region code for one free-text location label.

        Parameters
        ----------
        label : location text, e.g. ``"Casablanca et région - Maroc"``, ``"الرباط"``, ``"Fes"``.

        Returns
        -------
        str or None : a region code, :data:`UNALLOCATED` (all Morocco or several regions), or
        ``None`` when the label is missing, outside Morocco, or not recognised.
        """
        if not isinstance(label, str):
            return None
        if label in self._cache:
            return self._cache[label]
        code = self._match(fold(label))
        self._cache[label] = code
        return code

    def _match(self, key: str) -> str | None:
        if not key:
            return None
        hit = self._lookup.get(key)
        if hit is not None:
            return hit
        tokens = key.split()
        if tokens[-1] in _FOREIGN_TOKENS:
            return None
        while len(tokens) > 1 and tokens[-1] in _MOROCCO_TOKENS:
            tokens.pop()
            hit = self._lookup.get(" ".join(tokens))
            if hit is not None:
                return hit
        core = [t for t in tokens if t not in _NOISE_TOKENS] or tokens
        core_key = " ".join(core)
        hit = self._lookup.get(core_key)
        if hit is not None:
            return hit
        found = self._scan(core)
        regions = found - {UNALLOCATED}
        if len(regions) == 1:
            return regions.pop()
        if regions or found:
            return UNALLOCATED
        if self.fuzzy_cutoff is not None and len(core_key) >= 4:
            best = process.extractOne(core_key, self._keys, scorer=fuzz.ratio,
                                      score_cutoff=self.fuzzy_cutoff)
            if best is not None:
                return self._lookup[best[0]]
        return None

    def _scan(self, tokens: list[str]) -> set[str]:
        """Codes of every known place name found in ``tokens`` (longest match first)."""
        found: set[str] = set()
        i = 0
        while i < len(tokens):
            for n in range(min(_MAX_NGRAM, len(tokens) - i), 0, -1):
                hit = self._lookup.get(" ".join(tokens[i:i + n]))
                if hit is not None:
                    found.add(hit)
                    i += n
                    break
            else:
                i += 1
        return found

    def normalize_many(self, labels: pd.Series) -> pd.Series:
        """Vectorised :meth:`normalize`: each distinct label is matched once.

        Parameters
        ----------
        labels : Series of location labels (missing values allowed).

        Returns
        -------
        Series of region codes (``str`` dtype; missing where the label is missing or unknown),
        same index and name as ``labels``.
        """
        codes, uniques = pd.factorize(labels, use_na_sentinel=True)
        mapped = np.array([self.normalize(u) for u in np.asarray(uniques, dtype=object)] + [None],
                          dtype=object)
        return pd.Series(mapped[codes], index=labels.index, name=labels.name, dtype="str")

    def suggest(self, label: str, n: int = 3) -> list[str]:
        """The ``n`` known labels closest to ``label`` (rapidfuzz WRatio), best first.

        Returns a list of curated labels (as written in the alias/region tables), without
        duplicates; useful to extend ``region_aliases.csv`` for labels :meth:`normalize` rejects.
        """
        key = " ".join(t for t in fold(label).split() if t not in _NOISE_TOKENS) or fold(label)
        matches = process.extract(key, self._keys, scorer=fuzz.WRatio, limit=max(4 * n, 10))
        out: list[str] = []
        for match_key, _score, _ in matches:
            shown = self._display[match_key]
            if shown not in out:
                out.append(shown)
            if len(out) == n:
                break
        return out

    def coverage_report(self, labels: pd.Series) -> dict:
        """Share of labels recognised, and the most frequent unknown labels.

        Returns
        -------
        dict with ``n`` (rows), ``share_normalised`` (0-1, rows with a code or UNALLOCATED),
        ``share_unallocated`` (0-1) and ``unknown`` ({label: rows}, 20 most frequent).
        """
        codes = self.normalize_many(labels)
        unknown = labels[codes.isna() & labels.notna()].value_counts().head(20)
        n = len(labels)
        return {
            "n": n,
            "share_normalised": float(codes.notna().sum() / n) if n else float("nan"),
            "share_unallocated": float((codes == UNALLOCATED).sum() / n) if n else float("nan"),
            "unknown": {str(k): int(v) for k, v in unknown.items()},
        }
