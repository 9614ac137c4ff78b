"""Labelled job titles read from ESCO v1.1.1 and ISCO-08 (build time only; private to the title coder).

Every reader returns a table with columns :data:`LABEL_COLUMNS`:

* ``label`` -- a title as written; ``isco_code`` -- ISCO-08 group (4 digits for ESCO labels);
* ``lang`` -- ``fr`` or ``en``;
* ``origin`` -- ``esco`` (ESCO occupation labels), ``isco`` (ISCO-08 group titles),
  ``isco_example`` (ISCO-08 "examples of the occupations classified here") or ``curated``;
* ``concept`` -- what the label names: ``esco:<ESCO code>`` (e.g. ``esco:2654.1.7``, one ESCO
  occupation), ``isco:<code>`` or ``curated:<code>``. Held-out evaluation splits on it.

Bad input raises :class:`~lmforecast.errors.DataContractError` naming file, column, row and value.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from lmforecast.errors import DataContractError
from lmforecast.taxonomy._tables import data_path, file_row
from lmforecast.taxonomy.occupations import leaf_for_isco, load_isco08

LABEL_COLUMNS = ["label", "isco_code", "lang", "origin", "concept"]
ESCO_OCCUPATIONS = "occupations_{lang}_v1.1.1.csv.gz"
ISCO_GROUPS = "ISCOGroups_{lang}_v1.1.1.csv.gz"
# The panel files data work under 2120 and inbound contact-centre agents under 4222
# (ESCO: 2511 and 5244); applied to every label (both languages) of these ESCO occupations,
# identified by their English preferred label.
ESCO_OVERRIDES = {"data scientist": "2120", "data analyst": "2120", "call centre agent": "4222"}
_EXAMPLES = re.compile(r"Examples of the occupations classified here:(.*?)(?:\n\s*Some related occupations|"
                       r"\n\s*Notes?\b|$)", re.S)


def _read(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found (expected the ESCO v1.1.1 CSV export, see taxonomy/data/SOURCES.md)")
    table = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)
    for column in columns:
        if column not in table.columns:
            raise DataContractError(path, column, 1, list(table.columns), f"a header with columns {list(columns)}",
                                    hint=f"column {column!r} is missing")
    return table


def split_gender_forms(label: str) -> list[str]:
    """Split an ESCO French label into its masculine and feminine forms.

    ``"directeur technique/directrice technique"`` -> ``["directeur technique", "directrice
    technique"]``. A label with an odd number of ``/`` parts is split at every ``/``; with an even
    number (a form that itself holds a ``/``), into its two halves.

    Parameters
    ----------
    label : str.

    Returns
    -------
    list of non-empty stripped forms (the label itself when it holds no ``/``).
    """
    parts = label.split("/")
    if len(parts) > 2 and len(parts) % 2 == 0:
        half = len(parts) // 2
        parts = ["/".join(parts[:half]), "/".join(parts[half:])]
    return [p.strip() for p in parts if p.strip()]


def esco_labels(esco_dir: str | Path) -> pd.DataFrame:
    """Preferred and alternative labels of the 3,007 ESCO v1.1.1 occupations, French and English.

    Parameters
    ----------
    esco_dir : folder holding ``occupations_en_v1.1.1.csv.gz`` and ``occupations_fr_v1.1.1.csv.gz``
        (columns ``conceptUri, code, iscoGroup, preferredLabel, altLabels``; alternative labels
        one per line).

    Returns
    -------
    DataFrame (:data:`LABEL_COLUMNS`), ``origin='esco'``; French labels split into their gender
    forms (:func:`split_gender_forms`); duplicates within an occupation and language dropped.

    Raises
    ------
    DataContractError for a missing column, a ``code`` that is empty or repeated, an
    ``iscoGroup`` that is not an ISCO-08 unit group, or a French file whose occupations
    (``conceptUri``) differ from the English file's.
    """
    esco_dir = Path(esco_dir)
    units = set(load_isco08().query("level == 4")["code"])
    columns = ("conceptUri", "code", "iscoGroup", "preferredLabel", "altLabels")
    tables = {lang: _read(esco_dir / ESCO_OCCUPATIONS.format(lang=lang), columns) for lang in ("en", "fr")}
    english = tables["en"]
    path_en = esco_dir / ESCO_OCCUPATIONS.format(lang="en")
    isco_of: dict[str, str] = {}
    concept_of: dict[str, str] = {}
    seen_codes: set[str] = set()
    for i, (uri, code, isco, preferred) in enumerate(zip(english["conceptUri"], english["code"],
                                                         english["iscoGroup"], english["preferredLabel"])):
        if isco not in units:
            raise DataContractError(path_en, "iscoGroup", file_row(i), isco, "an ISCO-08 unit group (4 digits)")
        if not code or code in seen_codes:
            raise DataContractError(path_en, "code", file_row(i), code, "a non-empty, unique ESCO code")
        seen_codes.add(code)
        isco_of[uri] = ESCO_OVERRIDES.get(preferred.strip(), isco)
        concept_of[uri] = code
    rows = []
    for lang, table in tables.items():
        path = esco_dir / ESCO_OCCUPATIONS.format(lang=lang)
        for i, (uri, preferred, alternatives) in enumerate(zip(table["conceptUri"], table["preferredLabel"],
                                                                table["altLabels"])):
            if uri not in isco_of:
                raise DataContractError(path, "conceptUri", file_row(i), uri,
                                        f"an occupation of {path_en.name}")
            labels = [preferred, *alternatives.split("\n")]
            forms = [f for label in labels for f in (split_gender_forms(label) if lang == "fr" else [label.strip()])]
            for form in dict.fromkeys(f for f in forms if f):
                rows.append((form, isco_of[uri], lang, "esco", f"esco:{concept_of[uri]}"))
    return pd.DataFrame(rows, columns=LABEL_COLUMNS)


def _panel_leaf(code: str) -> str | None:
    try:
        return leaf_for_isco(code)
    except ValueError:
        return None


def isco_titles(esco_dir: str | Path) -> pd.DataFrame:
    """French and English titles of the ISCO-08 groups that fall in one panel leaf.

    Parameters
    ----------
    esco_dir : folder holding ``ISCOGroups_{en,fr}_v1.1.1.csv.gz`` (columns ``code, preferredLabel``).

    Returns
    -------
    DataFrame (:data:`LABEL_COLUMNS`), ``origin='isco'``: unit, minor and sub-major groups whose
    units all map to one panel leaf (e.g. ``'2512'``, ``'721'``, ``'72'``; not ``'25'``).
    """
    rows = []
    for lang in ("fr", "en"):
        path = Path(esco_dir) / ISCO_GROUPS.format(lang=lang)
        table = _read(path, ("code", "preferredLabel"))
        for i, (code, title) in enumerate(zip(table["code"], table["preferredLabel"])):
            if not title.strip():
                raise DataContractError(path, "preferredLabel", file_row(i), title, "a non-empty title")
            if len(code) >= 2 and _panel_leaf(code) is not None:
                rows.append((title.strip(), code, lang, "isco", f"isco:{code}"))
    return pd.DataFrame(rows, columns=LABEL_COLUMNS)


def isco_examples(esco_dir: str | Path) -> pd.DataFrame:
    """Example occupation titles of the ISCO-08 unit groups (English, from the ILO group descriptions).

    Parameters
    ----------
    esco_dir : folder holding ``ISCOGroups_en_v1.1.1.csv.gz`` (its ``description`` column lists
        "Examples of the occupations classified here:", one title per ``-`` line).

    Returns
    -------
    DataFrame (:data:`LABEL_COLUMNS`), ``origin='isco_example'``, for unit groups only.
    """
    path = Path(esco_dir) / ISCO_GROUPS.format(lang="en")
    table = _read(path, ("code", "description"))
    rows = []
    for code, description in zip(table["code"], table["description"]):
        match = _EXAMPLES.search(description) if len(code) == 4 else None
        if match is None or _panel_leaf(code) is None:
            continue
        for line in match.group(1).split("\n"):
            title = line.strip().lstrip("-").strip()
            if title:
                rows.append((title, code, "en", "isco_example", f"isco:{code}"))
    return pd.DataFrame(rows, columns=LABEL_COLUMNS).drop_duplicates(ignore_index=True)


def curated_labels(path: str | Path | None = None) -> pd.DataFrame:
    """Curated Moroccan titles (``curated_titles.csv``: ``isco_code, lang, labels``, labels ``;``-separated).

    Returns
    -------
    DataFrame (:data:`LABEL_COLUMNS`), ``origin='curated'``, ``concept='curated:<isco_code>'``.

    Raises
    ------
    DataContractError for an ISCO code that is not a unit group or a language other than fr/en.
    """
    path = data_path("curated_titles.csv") if path is None else Path(path)
    table = _read(path, ("isco_code", "lang", "labels"))
    units = set(load_isco08().query("level == 4")["code"])
    rows = []
    for i, (code, lang, labels) in enumerate(zip(table["isco_code"], table["lang"], table["labels"])):
        if code not in units:
            raise DataContractError(path, "isco_code", file_row(i), code, "an ISCO-08 unit group (4 digits)")
        if lang not in ("fr", "en"):
            raise DataContractError(path, "lang", file_row(i), lang, "'fr' or 'en'")
        rows += [(label.strip(), code, lang, "curated", f"curated:{code}") for label in labels.split(";")
                 if label.strip()]
    return pd.DataFrame(rows, columns=LABEL_COLUMNS)


def all_labels(esco_dir: str | Path) -> pd.DataFrame:
    """Every labelled title the coder is built from: curated first, then ESCO, ISCO titles, ISCO examples.

    Parameters
    ----------
    esco_dir : the ESCO v1.1.1 folder (``../shared/data/esco-skills``).

    Returns
    -------
    DataFrame (:data:`LABEL_COLUMNS`) with a fresh RangeIndex.
    """
    return pd.concat([curated_labels(), esco_labels(esco_dir), isco_titles(esco_dir), isco_examples(esco_dir)],
                     ignore_index=True)
