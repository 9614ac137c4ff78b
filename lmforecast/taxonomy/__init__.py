"""Reference taxonomies shipped as package data (sources in ``taxonomy/data/SOURCES.md``).

* :mod:`~lmforecast.taxonomy.regions` -- 12 Moroccan regions (2015), 16 old regions, crosswalk,
  :class:`~lmforecast.taxonomy.regions.RegionNormalizer`;
* :mod:`~lmforecast.taxonomy.occupations` -- ISCO-08 groups and the panel's leaf occupations;
* :mod:`~lmforecast.taxonomy.titles` -- :class:`~lmforecast.taxonomy.titles.TitleCoder`;
* :mod:`~lmforecast.taxonomy.skills` -- occupation x skill matrix from ESCO v1.1.1, skill groups,
  ESCO coverage per occupation.
"""

from lmforecast.taxonomy.occupations import leaf_for_isco, load_isco08, load_occupations
from lmforecast.taxonomy.regions import (
    UNALLOCATED,
    RegionNormalizer,
    load_old_regions,
    load_region_aliases,
    load_regions,
    region_crosswalk,
)
from lmforecast.taxonomy.skills import load_skill_groups, load_skill_matrix, load_skills, skill_coverage
from lmforecast.taxonomy.titles import TitleCoder

__all__ = [
    "UNALLOCATED", "RegionNormalizer", "TitleCoder", "leaf_for_isco", "load_isco08",
    "load_occupations", "load_old_regions", "load_region_aliases", "load_regions",
    "load_skill_groups", "load_skill_matrix", "load_skills", "region_crosswalk", "skill_coverage",
]
