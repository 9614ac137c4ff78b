"""Occupation x skill matrix derived from ESCO v1.1.1 (European Commission, CC BY 4.0).

Path from an occupation to its skills: occupation code -> the ISCO-08 unit groups it contains ->
the ESCO occupations of those unit groups -> their essential and optional skills. The package data
(built by :mod:`lmforecast.taxonomy.build_skill_matrix`, sources in ``data/SOURCES.md``) holds,
for every ISCO-08 unit group and skill, how many of the unit group's ESCO occupations list the
skill as essential and as optional.

Weights (:func:`load_skill_matrix`)
-----------------------------------
* An ESCO occupation's relation to a skill weighs :data:`ESSENTIAL_WEIGHT` (1.0) if essential,
  :data:`OPTIONAL_WEIGHT` (0.5) if optional, 0 if the skill is not listed.
* Unit group ``u``: ``need[u, s]`` = mean of those weights over the unit group's ESCO occupations
  = (1.0 x essential count + 0.5 x optional count) / ESCO occupations, in [0, 1]: the share of the
  unit group's ESCO occupations that need the skill, an optional relation counting half.
* Occupation ``o``: ``need[o, s]`` = mean of ``need[u, s]`` over the unit groups of ``o`` that have
  ESCO occupations, every unit group weighing the same (``unit_weights`` can give e.g.
  employment shares instead).
* ``normalise="share"`` (default): ``share[o, s] = need[o, s] / sum_s need[o, s]``, so the weights
  of every occupation with a profile sum to 1 and an occupation gap of N persons spreads N
  person-equivalents over its skills (skill totals add up to the occupation total).
  ``normalise="need"`` keeps ``need[o, s]``; an aggregate is then "persons who need the skill"
  (optional counted half) and does not add up over skills.
* Skill groups (``level=1`` or ``2`` of the ESCO skills hierarchy): the weight of a group is the
  sum of its skills' weights; a skill under ``n`` groups of the level gives ``1/n`` of its weight to
  each, so shares still sum to 1.

Which occupations
-----------------
Any list whose codes are ISCO-08 group codes (1-4 digits, any mix of levels): each ISCO-08 unit
group belongs to the longest code of the list that starts it, so a sub-major leaf that lost a
carved-out unit group (``21`` without ``2120`` and ``2166``) does not count that unit group's ESCO
occupations a second time. Other codes (``unclassified``, a national code that is not ISCO-08) and
codes whose unit groups have no ESCO occupation (``63`` subsistence farmers) get a row of zeros
and ``skill_profile = False``.

Coverage (:func:`skill_coverage`)
---------------------------------
ESCO describes some ISCO-08 groups with few occupations and relations (clerical support,
agriculture, elementary occupations). An occupation is flagged ``esco_thin`` when its skill
relations per ISCO-08 unit group fall below :data:`THIN_FRACTION` (one half) of the figure for
ISCO-08 as a whole (all relations / all 436 unit groups), or when it has no skill profile.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pandas as pd
import xarray as xr

from lmforecast.errors import DataContractError
from lmforecast.panel import OCCUPATION, OCCUPATION_NAME
from lmforecast.taxonomy._tables import (
    check_rows,
    check_text_column,
    data_path,
    file_row,
    parse_bool_column,
    parse_count_column,
    read_reference_csv,
)
from lmforecast.taxonomy.occupations import load_isco08, load_occupations

SKILL = "skill"
SKILL_GROUP = "skill_group"
SKILL_NAME = "skill_name"
SKILL_GROUP_NAME = "skill_group_name"
ESSENTIAL_WEIGHT = 1.0
OPTIONAL_WEIGHT = 0.5
THIN_FRACTION = 0.5
NORMALISATIONS = ("share", "need")
LEVELS = ("skill", 1, 2)
FLAGS = ("digital", "transversal", "green", "language")
SHARE_TOLERANCE = 1e-9
ATTRIBUTION = ("ESCO v1.1.1, European Commission, https://esco.ec.europa.eu, CC BY 4.0 "
               "(file mirror github.com/tabiya-tech/tabiya-esco-datasets-and-tools)")
UNIT_SKILLS_FILE = "esco_isco_unit_skills.csv.gz"
UNIT_COVERAGE_FILE = "esco_isco_unit_coverage.csv"
SKILLS_FILE = "esco_skills.csv.gz"
GROUPS_FILE = "esco_skill_groups.csv"
COUNT_COLUMNS = ("esco_occupations", "essential_relations", "optional_relations", "skills")


# --------------------------------------------------------------------------- shipped tables

def _counts(table: pd.DataFrame, column: str, path) -> np.ndarray:
    counts = parse_count_column(table, column, path)
    check_rows(table, column, path, counts.notna().to_numpy(), "a whole number >= 0")
    return counts.to_numpy(dtype=np.int64)


@lru_cache(maxsize=1)
def _unit_coverage() -> pd.DataFrame:
    path = data_path(UNIT_COVERAGE_FILE)
    table = read_reference_csv(path, ("isco_unit", *COUNT_COLUMNS))
    check_text_column(table, "isco_unit", path, unique=True)
    for column in COUNT_COLUMNS:
        table[column] = _counts(table, column, path)
    return table


@lru_cache(maxsize=1)
def _skills() -> pd.DataFrame:
    path = data_path(SKILLS_FILE)
    table = read_reference_csv(path, ("skill", "name", "name_fr", "name_fr_source", "skill_type",
                                      "reuse_level", *FLAGS, "groups_level1", "groups_level2"))
    check_text_column(table, "skill", path, unique=True)
    for column in ("name", "name_fr", "groups_level1", "groups_level2"):
        check_text_column(table, column, path)
    for flag in FLAGS:
        table[flag] = parse_bool_column(table, flag, path)
    known = set(_groups()["skill_group"])
    for level in (1, 2):
        column = f"groups_level{level}"
        check_rows(table, column, path, [set(codes) <= known for codes in table[column].str.split("|")],
                   f"codes of {GROUPS_FILE} separated by '|'")
    return table


@lru_cache(maxsize=1)
def _groups() -> pd.DataFrame:
    path = data_path(GROUPS_FILE)
    table = read_reference_csv(path, ("skill_group", "level", "pillar", "parent", "name", "name_fr", "uri"))
    check_text_column(table, "skill_group", path, unique=True)
    table["level"] = _counts(table, "level", path)
    return table


@lru_cache(maxsize=1)
def _unit_skills() -> pd.DataFrame:
    """The shipped unit group x skill counts, checked against the coverage and skill tables."""
    path = data_path(UNIT_SKILLS_FILE)
    table = read_reference_csv(path, ("isco_unit", "skill", "essential", "optional"))
    for column in ("essential", "optional"):
        table[column] = _counts(table, column, path)
    coverage = _unit_coverage().set_index("isco_unit")
    check_rows(table, "isco_unit", path, table["isco_unit"].isin(coverage.index),
               f"an ISCO-08 unit group of {UNIT_COVERAGE_FILE}")
    check_rows(table, "skill", path, table["skill"].isin(set(_skills()["skill"])), f"a skill of {SKILLS_FILE}")
    check_rows(table, "skill", path, ~table.duplicated(["isco_unit", "skill"]).to_numpy(),
               "one row per unit group and skill")
    listed = (table["essential"] + table["optional"]).to_numpy()
    occupations = coverage.loc[table["isco_unit"], "esco_occupations"].to_numpy()
    check_rows(table, "optional", path, (listed >= 1) & (listed <= occupations),
               "1 <= essential + optional <= the unit group's esco_occupations", value=listed,
               hint="the value is essential + optional")
    sums = table.groupby("isco_unit")[["essential", "optional"]].transform("sum")
    for column in ("essential", "optional"):
        expected_sum = coverage.loc[table["isco_unit"], f"{column}_relations"].to_numpy()
        check_rows(table, column, path, sums[column].to_numpy() == expected_sum,
                   f"{column} counts of the unit group summing to its {column}_relations of "
                   f"{UNIT_COVERAGE_FILE}", value=sums[column].to_numpy(),
                   hint="the value is the unit group's sum; the row is its first")
    return table


def load_skills() -> pd.DataFrame:
    """The ESCO skills linked to at least one ESCO occupation (13,123 in ESCO v1.1.1).

    Returns
    -------
    DataFrame with columns ``skill`` (ESCO skill id: the URI is
    ``http://data.europa.eu/esco/skill/<skill>``), ``name`` (ESCO preferred label, English),
    ``name_fr`` (French preferred label), ``name_fr_source`` (``esco-v1.1.1-collections``,
    ``esco-v1.0.x`` or ``en`` when no French label exists and ``name_fr`` repeats the English one),
    ``skill_type`` (``skill/competence`` or ``knowledge``), ``reuse_level``, the bool collection
    flags ``digital``, ``transversal``, ``green``, ``language``, and ``groups_level1``,
    ``groups_level2`` (``|``-joined codes of the skill groups it belongs to).

    Examples
    --------
    >>> skills = load_skills()
    >>> bool(skills.loc[skills["name"] == "computer programming", "digital"].item())
    True
    """
    return _skills().copy()


def load_skill_groups(level: int = 2) -> pd.DataFrame:
    """The skill groups of one rollup level of the ESCO skills hierarchy.

    Parameters
    ----------
    level : 1 (28 groups: S1-S8 skills, T1-T6 transversal, 12 ISCED-F broad fields of knowledge,
        L1-L2 languages) or 2 (159: 75 skill, 24 transversal, 58 knowledge groups, and the two
        language groups, which have no level 2 below them).

    Returns
    -------
    DataFrame with columns ``skill_group`` (ESCO code, e.g. ``S5.1``; knowledge groups carry
    their ISCED-F code, e.g. ``061``), ``level`` (0-2), ``pillar`` (``S`` skills, ``K`` knowledge,
    ``T`` transversal, ``L`` language), ``parent`` (code one level up), ``name``, ``name_fr``,
    ``uri``, in hierarchy order.

    Examples
    --------
    >>> load_skill_groups(1).set_index("skill_group").loc["S5", "name"]
    'working with computers'
    """
    if level not in (1, 2):
        raise ValueError(f"skill group level must be 1 or 2, got {level!r}")
    groups = _groups()
    childless = ~groups["skill_group"].isin(set(groups["parent"]))
    return groups[(groups["level"] == level) | ((groups["level"] < level) & childless)].reset_index(drop=True)


# --------------------------------------------------------------------------- occupations -> units

def _occupation_table(occupations) -> pd.DataFrame:
    """``code, name`` of the occupations: the panel leaves, a DataFrame with ``code`` or codes."""
    if occupations is None:
        table = load_occupations()[["code", "name"]]
    elif isinstance(occupations, pd.DataFrame):
        if "code" not in occupations.columns:
            raise ValueError(f"occupations table needs a 'code' column, has {list(occupations.columns)}")
        table = occupations.assign(name=occupations.get("name", ""))[["code", "name"]]
    else:
        codes = [str(code) for code in occupations]
        titles = load_isco08().set_index("code")["title_en"]
        table = pd.DataFrame({"code": codes, "name": [titles.get(code, "") for code in codes]})
    table = table.astype({"code": str}).reset_index(drop=True)
    repeated = table["code"][table["code"].duplicated()]
    if len(repeated):
        raise ValueError(f"occupation codes must be unique; repeated: {sorted(set(repeated))}")
    return table


def occupation_units(occupations=None) -> pd.DataFrame:
    """The ISCO-08 unit groups each occupation contains.

    Parameters
    ----------
    occupations : ``None`` (the panel leaves of :func:`~lmforecast.taxonomy.occupations.load_occupations`),
        a DataFrame with a ``code`` column (e.g. ``load_occupations(raw_dir)``) or a sequence of codes.

    Returns
    -------
    DataFrame ``occupation, isco_unit``, one row per unit group: each of the 436 ISCO-08 unit groups
    goes to the longest occupation code that starts it (none if no code does). Codes that are not
    ISCO-08 groups get no row.

    Examples
    --------
    >>> occupation_units(["21", "2120", "2166"]).groupby("occupation").size().to_dict()
    {'21': 22, '2120': 1, '2166': 1}
    """
    codes = _occupation_table(occupations)["code"]
    isco = codes[codes.isin(set(load_isco08()["code"]))].tolist()
    rows = []
    for unit in _unit_coverage()["isco_unit"]:
        owners = [code for code in isco if unit.startswith(code)]
        if owners:
            rows.append((max(owners, key=len), unit))
    return pd.DataFrame(rows, columns=[OCCUPATION, "isco_unit"])


def skill_coverage(occupations=None) -> pd.DataFrame:
    """How much ESCO evidence stands behind each occupation's skill profile.

    Parameters
    ----------
    occupations : as in :func:`occupation_units`.

    Returns
    -------
    DataFrame, one row per occupation in the given order: ``occupation``, ``isco_units``
    (``|``-joined unit group codes), ``n_isco_units``, ``n_isco_units_without_esco``,
    ``esco_occupations`` (ESCO occupations with skill relations in those unit groups),
    ``essential_relations``, ``optional_relations``, ``esco_relations`` (their sum),
    ``esco_occupations_per_unit`` and ``relations_per_unit`` (per unit group of the occupation,
    NaN without unit groups), ``skill_profile`` (bool: some unit group has ESCO occupations) and
    ``esco_thin`` (bool, see the module docstring). ``attrs["thin_relations_per_unit"]`` holds the
    threshold (relations per unit group).

    Examples
    --------
    >>> coverage = skill_coverage(["2512", "unclassified"]).set_index("occupation")
    >>> int(coverage.loc["unclassified", "n_isco_units"]), bool(coverage.loc["unclassified", "skill_profile"])
    (0, False)
    """
    table = _occupation_table(occupations)
    units = _unit_coverage()
    mapping = occupation_units(table).merge(units, on="isco_unit", how="left")
    grouped = mapping.groupby(OCCUPATION, sort=False)
    counts = pd.DataFrame({
        "isco_units": grouped["isco_unit"].agg("|".join),
        "n_isco_units": grouped.size(),
        "n_isco_units_without_esco": grouped["esco_occupations"].agg(lambda n: int((n == 0).sum())),
        **{column: grouped[column].sum() for column in COUNT_COLUMNS[:3]},
    }).reindex(table["code"])
    counts = counts.fillna({"isco_units": ""}).fillna(0)
    out = counts.rename_axis(OCCUPATION).reset_index()
    for column in ("n_isco_units", "n_isco_units_without_esco", *COUNT_COLUMNS[:3]):
        out[column] = out[column].astype("int64")
    out["esco_relations"] = out["essential_relations"] + out["optional_relations"]
    per_unit = out["n_isco_units"].where(out["n_isco_units"] > 0)
    out["esco_occupations_per_unit"] = out["esco_occupations"] / per_unit
    out["relations_per_unit"] = out["esco_relations"] / per_unit
    threshold = THIN_FRACTION * (units["essential_relations"] + units["optional_relations"]).sum() / len(units)
    out["skill_profile"] = out["esco_occupations"] > 0
    out["esco_thin"] = ~out["skill_profile"] | (out["relations_per_unit"] < threshold)
    out.attrs["thin_relations_per_unit"] = float(threshold)
    return out


# --------------------------------------------------------------------------- the matrix

def _leaf_unit_weights(mapping: pd.DataFrame, unit_weights: pd.Series | None) -> pd.DataFrame:
    """``occupation, isco_unit, weight``: how much each covered unit group counts in its occupation."""
    occupations = _unit_coverage().set_index("isco_unit")["esco_occupations"]
    covered = mapping[mapping["isco_unit"].map(occupations) > 0].copy()
    if unit_weights is None:
        covered["weight"] = 1.0
    else:
        weights = pd.Series(unit_weights, dtype=float)
        weights.index = weights.index.astype(str)
        missing = sorted(set(covered["isco_unit"]) - set(weights.index))
        if missing:
            raise ValueError(f"unit_weights has no weight for ISCO-08 unit groups {missing}")
        covered["weight"] = covered["isco_unit"].map(weights).to_numpy()
        bad = covered[~np.isfinite(covered["weight"]) | (covered["weight"] < 0)]
        if len(bad):
            raise ValueError(f"unit_weights must be finite and >= 0; unit group "
                             f"{bad['isco_unit'].iloc[0]} has {bad['weight'].iloc[0]!r}")
    totals = covered.groupby(OCCUPATION)["weight"].transform("sum")
    zero = covered.loc[totals <= 0, OCCUPATION].unique()
    if len(zero):
        raise ValueError(f"unit_weights give zero total weight to occupations {sorted(zero)}")
    covered["weight"] = covered["weight"] / totals
    return covered


def _membership(level: int, skills: pd.DataFrame, groups: pd.DataFrame) -> np.ndarray:
    """Skill x group matrix: 1/n where a skill belongs to n groups of the level."""
    column = {code: j for j, code in enumerate(groups[SKILL_GROUP])}
    out = np.zeros((len(skills), len(groups)))
    for i, codes in enumerate(skills[f"groups_level{level}"].str.split("|")):
        out[i, [column[code] for code in codes]] = 1.0 / len(codes)
    return out


def load_skill_matrix(occupations=None, *, level: str | int = "skill", normalise: str = "share",
                      unit_weights: pd.Series | None = None, essential_weight: float = ESSENTIAL_WEIGHT,
                      optional_weight: float = OPTIONAL_WEIGHT) -> xr.DataArray:
    """Skill weights of every occupation, from ESCO v1.1.1 (rules in the module docstring).

    Parameters
    ----------
    occupations : ``None`` (the panel's 59 leaves and ``unclassified``), a DataFrame with a ``code``
        column (optional ``name``), e.g. ``load_occupations(raw_dir)``, or a sequence of codes.
    level : ``"skill"`` (13,123 ESCO skills), ``1`` or ``2`` (ESCO skill groups, see
        :func:`load_skill_groups`).
    normalise : ``"share"`` (weights of an occupation sum to 1) or ``"need"`` (mean relation
        weight, see the module docstring).
    unit_weights : optional weight of each ISCO-08 unit group (index: 4-digit codes, e.g. the unit
        group's employment), normalised within each occupation; default: equal.
    essential_weight, optional_weight : weight of an essential / optional ESCO relation.

    Returns
    -------
    DataArray ``skill_weight`` with dims ``(occupation, skill)`` or ``(occupation, skill_group)``,
    occupations in the given order, skills sorted by id / groups in hierarchy order. Coords:
    ``occupation_name``, ``skill_profile``, ``esco_thin``, ``esco_occupations``,
    ``relations_per_unit`` (see :func:`skill_coverage`); for skills ``skill_name``,
    ``skill_name_fr`` and the bool flags ``digital``, ``transversal``, ``green``, ``language``;
    for groups ``skill_group_name``, ``skill_group_name_fr``, ``skill_group_pillar``,
    ``skill_group_parent`` and ``digital_share`` (share of the group's skills that are digital,
    each skill counted by its membership share). Occupations without a profile have a row of zeros.
    ``attrs``: ``units``, ``normalise``, ``level``, ``weighting``, ``source``.

    Raises
    ------
    ValueError for an unknown ``level`` or ``normalise``, repeated codes or bad ``unit_weights``;
    DataContractError if a shipped table is malformed or its counts do not add up.

    Examples
    --------
    >>> m = load_skill_matrix(["2512", "4222", "unclassified"], level=1)
    >>> [round(float(s), 6) for s in m.sum("skill_group")]
    [1.0, 1.0, 0.0]
    >>> str(m.sel(occupation="2512").idxmax().item())  # ISCED-F 06: ICT knowledge
    '06'
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    if normalise not in NORMALISATIONS:
        raise ValueError(f"normalise must be one of {NORMALISATIONS}, got {normalise!r}")
    table = _occupation_table(occupations)
    coverage = skill_coverage(table)
    skills = _skills()
    units = _unit_coverage().set_index("isco_unit")["esco_occupations"]
    unit_skills = _unit_skills()
    need = ((essential_weight * unit_skills["essential"] + optional_weight * unit_skills["optional"])
            / unit_skills["isco_unit"].map(units).to_numpy())
    leaf_units = _leaf_unit_weights(occupation_units(table), unit_weights)
    pairs = leaf_units.merge(unit_skills.assign(need=need), on="isco_unit")
    pairs = pairs.assign(value=pairs["weight"] * pairs["need"]).groupby([OCCUPATION, SKILL])["value"].sum()
    row = pd.Index(table["code"]).get_indexer(pairs.index.get_level_values(OCCUPATION))
    col = pd.Index(skills[SKILL]).get_indexer(pairs.index.get_level_values(SKILL))
    values = np.zeros((len(table), len(skills)))
    values[row, col] = pairs.to_numpy()

    coords = {OCCUPATION: table["code"].to_numpy(), OCCUPATION_NAME: (OCCUPATION, table["name"].to_numpy())}
    for column in ("skill_profile", "esco_thin", "esco_occupations", "relations_per_unit"):
        coords[column] = (OCCUPATION, coverage[column].to_numpy())
    if level == "skill":
        dim = SKILL
        coords.update({SKILL: skills[SKILL].to_numpy(), SKILL_NAME: (SKILL, skills["name"].to_numpy()),
                       "skill_name_fr": (SKILL, skills["name_fr"].to_numpy()),
                       **{flag: (SKILL, skills[flag].to_numpy()) for flag in FLAGS}})
    else:
        dim = SKILL_GROUP
        groups = load_skill_groups(level)
        membership = _membership(level, skills, groups)
        values = values @ membership
        members = membership.sum(axis=0)
        digital = np.divide(skills["digital"].to_numpy(dtype=float) @ membership, members,
                            out=np.zeros(len(groups)), where=members > 0)
        coords.update({SKILL_GROUP: groups[SKILL_GROUP].to_numpy(),
                       SKILL_GROUP_NAME: (SKILL_GROUP, groups["name"].to_numpy()),
                       "skill_group_name_fr": (SKILL_GROUP, groups["name_fr"].to_numpy()),
                       "skill_group_pillar": (SKILL_GROUP, groups["pillar"].to_numpy()),
                       "skill_group_parent": (SKILL_GROUP, groups["parent"].to_numpy()),
                       "digital_share": (SKILL_GROUP, digital)})
    if normalise == "share":
        totals = values.sum(axis=1, keepdims=True)
        values = np.divide(values, totals, out=np.zeros_like(values), where=totals > 0)
    matrix = xr.DataArray(values, dims=(OCCUPATION, dim), coords=coords, name="skill_weight", attrs={
        "units": _units(normalise, level), "normalise": normalise, "level": str(level),
        "weighting": (f"ESCO relation essential {essential_weight:g}, optional {optional_weight:g}; mean "
                      "over the ESCO occupations of each ISCO-08 unit group, then over the unit groups "
                      + ("of the occupation (equal weights)" if unit_weights is None else
                         "of the occupation (weighted by unit_weights)")),
        "source": ATTRIBUTION,
    })
    check_skill_weights(matrix, source=f"skill matrix from {UNIT_SKILLS_FILE}")
    return matrix


def _units(normalise: str, level: str | int) -> str:
    if normalise == "share":
        return "share of the occupation's skill profile (sums to 1 per occupation with a profile)"
    if level == "skill":
        return "share of the occupation's ESCO occupations that need the skill (optional counts half)"
    return "skills of the group needed per worker (essential 1, optional counts half)"


def check_skill_weights(weights: xr.DataArray, source: str = "skill weights") -> None:
    """Check a skill matrix against its documented normalisation (returns nothing).

    Parameters
    ----------
    weights : DataArray with dims ``(occupation, skill)`` or ``(occupation, skill_group)``.
        Every weight must be finite and >= 0; with ``attrs["normalise"] == "share"`` the weights of
        every occupation sum to 1 (to within 1e-9) or are all 0 (an occupation without profile);
        with ``"need"`` at skill level they are at most 1.
    source : what to call the matrix in the error message (e.g. a file name).

    Raises
    ------
    ValueError naming ``source``, the occupation and the offending value.

    Examples
    --------
    >>> w = xr.DataArray([[0.5, 0.4]], dims=("occupation", "skill"),
    ...                  coords={"occupation": ["2512"], "skill": ["a", "b"]}, attrs={"normalise": "share"})
    >>> check_skill_weights(w, "example")
    Traceback (most recent call last):
    ...
    ValueError: example: weights of occupation '2512' sum to 0.9, expected 1 (normalise='share') or 0 (no profile)
    """
    if weights.ndim != 2 or weights.dims[0] != OCCUPATION or weights.dims[1] not in (SKILL, SKILL_GROUP):
        raise ValueError(f"{source}: dims must be (occupation, skill) or (occupation, skill_group), "
                         f"got {weights.dims}")
    values = np.asarray(weights.values, dtype=float)
    occupations = weights[OCCUPATION].values
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ValueError(f"{source}: weight of occupation {str(occupations[i])!r} for "
                         f"{weights.dims[1]} {str(weights[weights.dims[1]].values[j])!r} is {float(values[i, j])!r}, "
                         "expected a finite number >= 0")
    normalise = weights.attrs.get("normalise")
    if normalise == "share":
        sums = values.sum(axis=1)
        bad = (np.abs(sums - 1) > SHARE_TOLERANCE) & (sums != 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{source}: weights of occupation {str(occupations[i])!r} sum to {sums[i]:.12g}, "
                             "expected 1 (normalise='share') or 0 (no profile)")
    elif normalise == "need" and weights.dims[1] == SKILL and (values > 1 + SHARE_TOLERANCE).any():
        i, j = np.argwhere(values > 1 + SHARE_TOLERANCE)[0]
        raise ValueError(f"{source}: need weight of occupation {str(occupations[i])!r} is {float(values[i, j])!r}, "
                         "expected at most 1 (normalise='need')")


def read_skill_matrix_csv(path, occupations: Sequence[str] | None = None) -> xr.DataArray:
    """Read a user-supplied occupation x skill matrix (long CSV, weights summing to 1).

    Parameters
    ----------
    path : CSV with columns ``occupation``, ``skill``, ``weight`` (>= 0; the weights of each
        occupation sum to 1) and optionally ``skill_name``, ``skill_name_fr``.
    occupations : optional codes to return rows for, in this order (absent ones get zeros).

    Returns
    -------
    DataArray ``skill_weight`` ``(occupation, skill)``, ``attrs["normalise"] = "share"``, usable in
    :func:`lmforecast.skill_gaps.aggregate_to_skills`.

    Raises
    ------
    DataContractError naming the file, row, column and value for a missing column, an empty code,
    a weight that is not a number >= 0, a repeated pair or an occupation whose weights do not sum
    to 1 (the row is the occupation's first).
    """
    table = read_reference_csv(path, ("occupation", "skill", "weight"))
    for column in ("occupation", "skill"):
        check_text_column(table, column, path)
    weight = pd.to_numeric(table["weight"], errors="coerce")
    check_rows(table, "weight", path, np.isfinite(weight.to_numpy()) & (weight.to_numpy() >= 0), "a number >= 0")
    check_rows(table, "skill", path, ~table.duplicated(["occupation", "skill"]).to_numpy(),
               "one row per occupation and skill")
    sums = weight.groupby(table["occupation"], sort=False).sum()
    off = sums[np.abs(sums - 1) > 1e-6]
    if len(off):
        first = int(np.flatnonzero((table["occupation"] == off.index[0]).to_numpy())[0])
        raise DataContractError(path, "weight", file_row(first), float(off.iloc[0]),
                                f"weights of occupation {off.index[0]!r} summing to 1",
                                hint="the value is their sum; the row is the occupation's first")
    codes = list(sums.index) if occupations is None else [str(c) for c in occupations]
    skill_ids = list(dict.fromkeys(table["skill"]))
    values = np.zeros((len(codes), len(skill_ids)))
    row = pd.Index(codes).get_indexer(table["occupation"])
    col = pd.Index(skill_ids).get_indexer(table["skill"])
    keep = row >= 0
    values[row[keep], col[keep]] = weight.to_numpy()[keep]
    names = table.drop_duplicates("skill").set_index("skill")
    coords = {OCCUPATION: codes, SKILL: skill_ids,
              "skill_profile": (OCCUPATION, values.sum(axis=1) > 0)}
    for column in (SKILL_NAME, "skill_name_fr"):
        coords[column] = (SKILL, (names[column] if column in names.columns else names.index.to_series())
                          .reindex(skill_ids).to_numpy())
    return xr.DataArray(values, dims=(OCCUPATION, SKILL), coords=coords, name="skill_weight",
                        attrs={"units": _units("share", "skill"), "normalise": "share", "level": "skill",
                               "source": str(path)})
