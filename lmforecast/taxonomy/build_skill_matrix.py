"""Build the ESCO skill tables shipped in ``taxonomy/data`` from the ESCO v1.1.1 CSV files.

Usage::

    python -m lmforecast.taxonomy.build_skill_matrix --esco-dir ../shared/data/esco-skills

Reads the official ESCO v1.1.1 CSVs (European Commission, CC BY 4.0; see ``data/SOURCES.md``) and
writes, deterministically (sorted rows, gzip without name or timestamp):

* ``esco_isco_unit_skills.csv.gz`` -- the sparse ISCO-08 unit group x skill matrix: for every
  ``(isco_unit, skill)`` pair, how many of the unit group's ESCO occupations list the skill as
  ``essential`` and as ``optional``. Integer counts, so the weights derived from them
  (:func:`lmforecast.taxonomy.skills.load_skill_matrix`) are exact and their sums checkable.
* ``esco_isco_unit_coverage.csv`` -- every ISCO-08 unit group (436), with the number of ESCO
  occupations that have skill relations, essential and optional relations, distinct skills.
* ``esco_skills.csv.gz`` -- every skill used by a relation: English label, French label and its
  source, skill type, reuse level, the digital / transversal / green / language collection flags,
  and the skill groups it belongs to at hierarchy levels 1 and 2.
* ``esco_skill_groups.csv`` -- the skills hierarchy, levels 0-2, English and French labels.

Group membership follows ``broaderRelationsSkillPillar`` upward (a skill may sit under several
groups). At rollup level ``L`` a skill belongs to every level-``L`` group it reaches, and to every
group of a lower level it reaches that has no children (the language groups ``L1``/``L2`` have no
level 2 below them).
"""

from __future__ import annotations

import argparse
import gzip
import re
from pathlib import Path

import pandas as pd

from lmforecast.errors import DataContractError
from lmforecast.io import atomic_path, write_csv_atomic
from lmforecast.taxonomy._tables import check_rows, check_text_column, file_row, read_reference_csv

DATA_DIR = Path(__file__).resolve().parent / "data"
VERSION = "v1.1.1"
SKILL_URI = "http://data.europa.eu/esco/skill/"
OCCUPATION_URI = "http://data.europa.eu/esco/occupation/"
ISCED_URI = "http://data.europa.eu/esco/isced-f/"
RELATION_TYPES = ("essential", "optional")
ROLLUP_LEVELS = (1, 2)
COLLECTIONS = {  # flag column -> ESCO collection file stem
    "digital": "digitalSkillsCollection",
    "transversal": "transversalSkillsCollection",
    "green": "greenSkillsCollection",
    "language": "languageSkillsCollection",
}
# French skill labels, best first. No file covers every v1.1.1 skill (see SOURCES.md); a skill
# found in none of them keeps its English label, with name_fr_source = "en". The third French file
# of the ESCO folder, skills_fr_api_trimmed, labels no skill that these two leave unlabelled.
FRENCH_SKILL_LABELS = (
    ("esco-v1.1.1-collections", [f"{stem}_fr_{VERSION}.csv.gz" for stem in COLLECTIONS.values()]),
    ("esco-v1.0.x", ["skills_fr_v1.0.x_official.csv.gz"]),
)
OUTPUTS = ("esco_isco_unit_skills.csv.gz", "esco_isco_unit_coverage.csv", "esco_skills.csv.gz",
           "esco_skill_groups.csv")


# --------------------------------------------------------------------------- reading and checks

def _read(esco_dir: Path, name: str, columns: tuple[str, ...]) -> tuple[pd.DataFrame, Path]:
    path = esco_dir / name
    if not path.exists():
        raise DataContractError(path, None, None, "no such file",
                                f"the ESCO {VERSION} CSV {name} (see SOURCE.txt of the ESCO folder)")
    return read_reference_csv(path, columns), path


def _first_bad(frame: pd.DataFrame, column: str, path: Path, ok, expected: str) -> None:
    check_rows(frame, column, path, ok, expected, hint="row = CSV record number; quoted fields may span lines")


def _uuid(frame: pd.DataFrame, column: str, path: Path, prefix: str) -> pd.Series:
    values = frame[column]
    _first_bad(frame, column, path, values.str.startswith(prefix) & (values.str.len() > len(prefix)),
               f"a URI starting with {prefix}")
    return values.str.slice(len(prefix))


def _clean_label(labels: pd.Series) -> pd.Series:
    """Labels with runs of blanks (ESCO has non-breaking spaces) collapsed to one space, stripped."""
    return labels.str.split().str.join(" ")


def _read_occupations(esco_dir: Path, units: set[str]) -> pd.DataFrame:
    frame, path = _read(esco_dir, f"occupations_en_{VERSION}.csv.gz", ("conceptUri", "iscoGroup"))
    check_text_column(frame, "conceptUri", path, unique=True)
    _first_bad(frame, "iscoGroup", path, frame["iscoGroup"].isin(units), "an ISCO-08 unit group code")
    return pd.DataFrame({"occupation": _uuid(frame, "conceptUri", path, OCCUPATION_URI),
                         "isco_unit": frame["iscoGroup"]})


def _read_isco_units(esco_dir: Path) -> list[str]:
    frame, path = _read(esco_dir, f"ISCOGroups_en_{VERSION}.csv.gz", ("code",))
    check_text_column(frame, "code", path, unique=True)
    _first_bad(frame, "code", path, frame["code"].str.fullmatch(r"\d{1,4}"), "an ISCO-08 code of 1-4 digits")
    return sorted(frame.loc[frame["code"].str.len() == 4, "code"])


def _read_skills(esco_dir: Path) -> pd.DataFrame:
    columns = ("conceptUri", "preferredLabel", "skillType", "reuseLevel")
    frame, path = _read(esco_dir, f"skills_en_{VERSION}.csv.gz", columns)
    check_text_column(frame, "conceptUri", path, unique=True)
    names = _clean_label(frame["preferredLabel"])
    _first_bad(frame, "preferredLabel", path, names != "", "a non-empty label")
    return pd.DataFrame({"skill": _uuid(frame, "conceptUri", path, SKILL_URI), "name": names, "skill_type": frame["skillType"],
                         "reuse_level": frame["reuseLevel"]})


def _read_relations(esco_dir: Path, occupations: pd.DataFrame, skills: pd.DataFrame
                    ) -> tuple[pd.DataFrame, int]:
    """Relations of released occupations; also the number of rows dropped (unknown occupation)."""
    frame, path = _read(esco_dir, f"occupationSkillRelations_{VERSION}.csv.gz",
                        ("occupationUri", "relationType", "skillUri"))
    _first_bad(frame, "relationType", path, frame["relationType"].isin(RELATION_TYPES),
               f"one of {list(RELATION_TYPES)}")
    out = pd.DataFrame({"occupation": _uuid(frame, "occupationUri", path, OCCUPATION_URI),
                        "essential": (frame["relationType"] == "essential").astype("int64"),
                        "skill": _uuid(frame, "skillUri", path, SKILL_URI)})
    _first_bad(frame, "skillUri", path, out["skill"].isin(set(skills["skill"])),
               f"a skill of skills_en_{VERSION}.csv.gz")
    _first_bad(frame, "skillUri", path, ~out.duplicated(["occupation", "skill"]).to_numpy(),
               "one relation per occupation and skill")
    known = out["occupation"].isin(set(occupations["occupation"])).to_numpy()
    out = out[known].merge(occupations, on="occupation", how="left", validate="many_to_one")
    return out, int((~known).sum())


def _read_hierarchy(esco_dir: Path) -> pd.DataFrame:
    """Nodes of levels 0-3: ``uri, level, code, parent_uri, name, name_fr, pillar``."""
    columns = tuple(f"Level {k} {what}" for k in range(4) for what in ("URI", "preferred term", "code"))
    english, path = _read(esco_dir, f"skillsHierarchy_en_{VERSION}.csv.gz", columns)
    french, path_fr = _read(esco_dir, f"skillsHierarchy_fr_{VERSION}.csv.gz", columns)
    nodes = {}
    for k in range(4):
        rows = english[english[f"Level {k} URI"] != ""]
        if k < 3:
            rows = rows[rows[f"Level {k + 1} URI"] == ""]
        for i, row in rows.iterrows():
            uri = row[f"Level {k} URI"]
            code = row[f"Level {k} code"] or (uri[len(ISCED_URI):] if uri.startswith(ISCED_URI) else "")
            if code == "":
                raise DataContractError(path, f"Level {k} code", file_row(i), code,
                                        "a group code (or an ISCED-F URI)")
            if uri in nodes:
                raise DataContractError(path, f"Level {k} URI", file_row(i), uri, "one row per group")
            nodes[uri] = (uri, k, code, row[f"Level {k - 1} URI"] if k else "",
                          row[f"Level {k} preferred term"], row["Level 0 code"])
    table = pd.DataFrame(list(nodes.values()),
                         columns=["uri", "level", "code", "parent_uri", "name", "pillar"])
    french_names = {}
    for k in range(4):
        french_names.update(zip(french[f"Level {k} URI"], french[f"Level {k} preferred term"]))
    table["name"] = _clean_label(table["name"])
    table["name_fr"] = _clean_label(table["uri"].map(french_names).fillna(""))
    _first_bad(table, "name_fr", path_fr, table["name_fr"] != "", "a French label for every group")
    return table


def _group_membership(esco_dir: Path, hierarchy: pd.DataFrame, skills: list[str]) -> pd.DataFrame:
    """``skill`` and one column per rollup level: the ``|``-joined group codes it belongs to."""
    frame, path = _read(esco_dir, f"broaderRelationsSkillPillar_{VERSION}.csv.gz",
                        ("conceptUri", "broaderUri"))
    parents: dict[str, list[str]] = {}
    for child, parent in zip(frame["conceptUri"], frame["broaderUri"]):
        parents.setdefault(child, []).append(parent)
    level_of = dict(zip(hierarchy["uri"], hierarchy["level"]))
    code_of = dict(zip(hierarchy["uri"], hierarchy["code"]))
    has_children = set(hierarchy["parent_uri"])
    reached: dict[str, frozenset[str]] = {}

    def groups_above(uri: str, trail: tuple[str, ...] = ()) -> frozenset[str]:
        if uri not in reached:
            out = {uri} if uri in level_of else set()
            for parent in parents.get(uri, ()):
                if parent not in trail:
                    out |= groups_above(parent, trail + (uri,))
            reached[uri] = frozenset(out)
        return reached[uri]

    rows = []
    for skill in skills:
        groups = groups_above(SKILL_URI + skill)
        row = {"skill": skill}
        for level in ROLLUP_LEVELS:
            codes = sorted((code_of[g] for g in groups if level_of[g] == level
                            or (level_of[g] < level and g not in has_children)), key=_natural_key)
            if not codes:
                raise DataContractError(path, "broaderUri", None, SKILL_URI + skill,
                                        f"a chain of broader relations reaching a level-{level} group")
            row[f"groups_level{level}"] = "|".join(codes)
        rows.append(row)
    return pd.DataFrame(rows)


def _french_skill_labels(esco_dir: Path, skills: pd.DataFrame) -> pd.DataFrame:
    labels = pd.Series("", index=skills["skill"], dtype=object)
    source = pd.Series("en", index=skills["skill"], dtype=object)
    for name, files in FRENCH_SKILL_LABELS:
        for file in files:
            frame, path = _read(esco_dir, file, ("conceptUri", "preferredLabel"))
            frame = frame.assign(preferredLabel=_clean_label(frame["preferredLabel"]))
            frame = frame[frame["preferredLabel"] != ""]
            found = pd.Series(frame["preferredLabel"].to_numpy(),
                              index=_uuid(frame, "conceptUri", path, SKILL_URI).to_numpy())
            found = found[~found.index.duplicated()]
            fill = (labels == "") & labels.index.isin(found.index)
            labels[fill] = found.reindex(labels.index[fill]).to_numpy()
            source[fill] = name
    english = labels == ""
    labels[english] = skills.set_index("skill")["name"][english]
    return pd.DataFrame({"skill": labels.index, "name_fr": labels.to_numpy(),
                         "name_fr_source": source.to_numpy()})


def _collection_flags(esco_dir: Path, skills: pd.DataFrame) -> pd.DataFrame:
    flags = pd.DataFrame({"skill": skills["skill"]})
    for flag, stem in COLLECTIONS.items():
        frame, path = _read(esco_dir, f"{stem}_en_{VERSION}.csv.gz", ("conceptUri",))
        flags[flag] = flags["skill"].isin(set(_uuid(frame, "conceptUri", path, SKILL_URI)))
    return flags


def _natural_key(code: str) -> list:
    """Sort key for group codes: ``S1.2`` before ``S1.10``, ISCED-F ``06`` before ``061``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", code)]


# --------------------------------------------------------------------------- the tables

def build(esco_dir: str | Path) -> dict[str, pd.DataFrame]:
    """Derive the four shipped tables from an ESCO v1.1.1 folder.

    Parameters
    ----------
    esco_dir : folder with the ESCO v1.1.1 CSVs (gzipped, names as in its ``SOURCE.txt``).

    Returns
    -------
    dict file name -> DataFrame, keys :data:`OUTPUTS` (columns described in the module docstring).

    Raises
    ------
    DataContractError naming file, record, column and value for a missing file or column, a URI
    that is not an ESCO URI, an unknown relation type, ISCO code or skill, a duplicate relation.
    """
    esco_dir = Path(esco_dir)
    units = _read_isco_units(esco_dir)
    occupations = _read_occupations(esco_dir, set(units))
    skill_table = _read_skills(esco_dir)
    relations, dropped = _read_relations(esco_dir, occupations, skill_table)
    if dropped:
        print(f"{dropped} relations of occupations absent from occupations_en_{VERSION} dropped")

    unit_skills = (relations.assign(optional=1 - relations["essential"])
                   .groupby(["isco_unit", "skill"], sort=True)[["essential", "optional"]].sum()
                   .reset_index())
    by_unit = relations.groupby("isco_unit")
    coverage = pd.DataFrame({
        "esco_occupations": by_unit["occupation"].nunique(),
        "essential_relations": by_unit["essential"].sum(),
        "optional_relations": by_unit["essential"].size() - by_unit["essential"].sum(),
        "skills": by_unit["skill"].nunique(),
    }).reindex(units, fill_value=0).rename_axis("isco_unit").reset_index()

    used = sorted(set(unit_skills["skill"]))
    hierarchy = _read_hierarchy(esco_dir)
    skills = (skill_table[skill_table["skill"].isin(used)].sort_values("skill")
              .merge(_french_skill_labels(esco_dir, skill_table[skill_table["skill"].isin(used)]),
                     on="skill")
              .merge(_collection_flags(esco_dir, skill_table), on="skill")
              .merge(_group_membership(esco_dir, hierarchy, used), on="skill"))
    skills = skills[["skill", "name", "name_fr", "name_fr_source", "skill_type", "reuse_level",
                     *COLLECTIONS, *(f"groups_level{level}" for level in ROLLUP_LEVELS)]]

    code_of = dict(zip(hierarchy["uri"], hierarchy["code"]))
    groups = hierarchy[hierarchy["level"] <= max(ROLLUP_LEVELS)].assign(
        parent=lambda t: t["parent_uri"].map(code_of).fillna(""))
    groups = groups.iloc[sorted(range(len(groups)), key=lambda i: (groups["level"].iloc[i],
                                                                  _natural_key(groups["code"].iloc[i])))]
    groups = groups.rename(columns={"code": "skill_group"})[
        ["skill_group", "level", "pillar", "parent", "name", "name_fr", "uri"]]
    return {"esco_isco_unit_skills.csv.gz": unit_skills, "esco_isco_unit_coverage.csv": coverage,
            "esco_skills.csv.gz": skills, "esco_skill_groups.csv": groups.reset_index(drop=True)}


def write_tables(tables: dict[str, pd.DataFrame], out_dir: str | Path) -> list[Path]:
    """Write the tables to ``out_dir`` atomically; ``.gz`` files carry no name or timestamp.

    Returns the written paths, in the order of ``tables``.
    """
    out_dir = Path(out_dir)
    written = []
    for name, frame in tables.items():
        destination = out_dir / name
        if name.endswith(".gz"):
            payload = gzip.compress(frame.to_csv(index=False, lineterminator="\n").encode("utf-8"),
                                    compresslevel=9, mtime=0)
            with atomic_path(destination) as tmp:
                tmp.write_bytes(payload)
        else:
            write_csv_atomic(frame, destination, lineterminator="\n")
        written.append(destination)
    return written


def main(argv: list[str] | None = None) -> None:
    """Command line: build from ``--esco-dir`` into ``--out-dir`` (default: the package data)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--esco-dir", type=Path, required=True,
                        help="folder of the ESCO v1.1.1 CSVs, e.g. ../shared/data/esco-skills")
    parser.add_argument("--out-dir", type=Path, default=DATA_DIR, help="where to write (default: %(default)s)")
    args = parser.parse_args(argv)
    tables = build(args.esco_dir)
    for path in write_tables(tables, args.out_dir):
        print(f"{len(tables[path.name]):>7} rows  {path.stat().st_size:>9,} B  {path}")


if __name__ == "__main__":
    main()
