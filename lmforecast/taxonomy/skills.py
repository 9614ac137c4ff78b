"""Occupation x skill matrix (curated levels 0-3 on DigComp 2.2 proficiency bands).

See ``data/SOURCES.md`` and :mod:`lmforecast.taxonomy.build_skill_matrix` for how levels were set.
"""

from __future__ import annotations

import pandas as pd
import xarray as xr

from lmforecast.panel import OCCUPATION, OCCUPATION_NAME
from lmforecast.taxonomy._tables import data_path
from lmforecast.taxonomy.occupations import load_occupations

SKILL = "skill"
SKILL_NAME = "skill_name"


def load_skills() -> pd.DataFrame:
    """The skills: columns ``skill`` (id), ``name``, ``name_fr``, ``group`` (ESCO skill group)."""
    return pd.read_csv(data_path("skills.csv"), dtype=str, keep_default_na=False)


def load_skill_matrix() -> xr.DataArray:
    """Required skill level of every panel leaf occupation.

    Returns
    -------
    DataArray ``skill_level`` of int levels 0-3 (0 none, 1 foundation, 2 intermediate,
    3 advanced; DigComp 2.2 bands) with dims ``(occupation, skill)`` in the order of
    :func:`~lmforecast.taxonomy.occupations.load_occupations` (without ``unclassified``) and
    :func:`load_skills`; coords ``occupation_name``, ``skill_name``, ``skill_name_fr``,
    ``skill_group``.
    """
    levels = pd.read_csv(data_path("occupation_skills.csv"), dtype={"occupation": str, "skill": str,
                                                                   "level": "int64"})
    skills = load_skills()
    occupations = load_occupations()
    occupations = occupations[occupations["code"].isin(set(levels["occupation"]))]
    table = (levels.pivot(index="occupation", columns="skill", values="level")
             .reindex(index=occupations["code"], columns=skills["skill"]).fillna(0).astype("int64"))
    return xr.DataArray(
        table.to_numpy(), dims=(OCCUPATION, SKILL), name="skill_level",
        coords={
            OCCUPATION: occupations["code"].to_numpy(),
            OCCUPATION_NAME: (OCCUPATION, occupations["name"].to_numpy()),
            SKILL: skills["skill"].to_numpy(),
            SKILL_NAME: (SKILL, skills["name"].to_numpy()),
            "skill_name_fr": (SKILL, skills["name_fr"].to_numpy()),
            "skill_group": (SKILL, skills["group"].to_numpy()),
        },
        attrs={"units": "proficiency level 0-3 (DigComp 2.2 bands)",
               "description": "Curated required skill level per occupation"},
    )
