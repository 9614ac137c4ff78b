"""A small raw folder of a country of your own: its regions, its occupation hierarchy, its series.

:func:`write_example_country` writes a folder that follows the raw data contract
(``data/raw/README.md``) with its own reference lists, the way a researcher brings a country
that is not Morocco: ``regions.csv`` (5 regions), ``occupations.csv`` (an ISCO-08 style tree of
13 groups, 6 of them leaves) and the long tables ``demand.csv`` (quarterly employment, monthly
vacancies) and ``supply.csv`` (monthly jobseekers, annual graduates). The values are synthetic
(seeded): each cell grows at its occupation's rate, vacancies follow a yearly pattern, and every
value carries noise; they illustrate the format, not a real labour market.

>>> import tempfile
>>> from lmforecast.datasets import RawFolder
>>> folder = write_example_country(tempfile.mkdtemp())
>>> panel = RawFolder(folder, country="XX").load_panel()
>>> dict(panel.sizes)
{'time': 120, 'region': 5, 'occupation': 6}

:func:`example_panel` and :func:`example_report` build that panel and a small skill-gap report of
it once per process: the docstring examples of the package use them.
"""

from __future__ import annotations

import copy
import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from lmforecast.io import write_csv_atomic

#: the example's regions (code, name, population)
REGIONS = pd.DataFrame({
    "code": ["XX-CAP", "XX-NOR", "XX-SOU", "XX-EAS", "XX-WES"],
    "name": ["Capital", "North", "South", "East", "West coast"],
    "population": [4_200_000, 2_100_000, 1_600_000, 1_100_000, 2_600_000],
})

#: the example's occupation tree (code, name, parent); leaves are the rows that are nobody's parent
OCCUPATIONS = pd.DataFrame([
    ("2", "Professionals", ""),
    ("22", "Health professionals", "2"),
    ("221", "Medical doctors", "22"),
    ("222", "Nursing and midwifery professionals", "22"),
    ("25", "ICT professionals", "2"),
    ("251", "Software and applications developers", "25"),
    ("252", "Database and network professionals", "25"),
    ("4", "Clerical support workers", ""),
    ("42", "Customer services clerks", "4"),
    ("422", "Client information workers", "42"),
    ("7", "Craft and related trades workers", ""),
    ("71", "Building and related trades workers", "7"),
    ("711", "Building frame and related trades workers", "71"),
], columns=["code", "name", "parent"])

#: employment of each leaf in the first year (persons, all regions) and its yearly growth
_LEAF_START = {"221": (21_000, 0.02), "222": (48_000, 0.03), "251": (26_000, 0.09), "252": (9_000, 0.06),
               "422": (62_000, 0.01), "711": (140_000, -0.01)}


def _region_shares() -> np.ndarray:
    population = REGIONS["population"].to_numpy(dtype=float)
    return population / population.sum()


def write_example_country(raw_dir: str | os.PathLike, seed: int = 0, start: int = 2016, end: int = 2025) -> Path:
    """Write the example country's raw folder (reference lists and long tables); return the folder.

    Parameters
    ----------
    raw_dir : destination folder (created; the five files in it are replaced).
    seed : seed of the noise; same seed, same files.
    start, end : first and last calendar year of the series.

    Returns
    -------
    Path of the folder, ready for :class:`lmforecast.datasets.RawFolder`.

    Examples
    --------
    >>> import tempfile
    >>> folder = write_example_country(tempfile.mkdtemp(), start=2020, end=2021)
    >>> sorted(p.name for p in folder.iterdir())
    ['demand.csv', 'occupations.csv', 'regions.csv', 'supply.csv']
    """
    if int(end) < int(start):
        raise ValueError(f"end ({end}) must not be before start ({start})")
    rng = np.random.default_rng(seed)
    raw_dir = Path(raw_dir)
    raw_dir.mkdir(parents=True, exist_ok=True)
    months = pd.date_range(f"{int(start)}-01-01", f"{int(end)}-12-01", freq="MS")
    shares = _region_shares()
    demand, supply = [], []
    for r, region in enumerate(REGIONS["code"]):
        for leaf, (first_year, growth) in _LEAF_START.items():
            years = ((months.year - int(start)) + (months.month - 1) / 12).to_numpy(dtype=float)
            level = first_year * shares[r] * np.exp(growth * years)
            employment = level * rng.lognormal(0.0, 0.01, len(months))
            season = 1 + 0.15 * np.sin(2 * np.pi * (months.month.to_numpy() - 3) / 12)
            vacancies = 0.03 * level * season * rng.lognormal(0.0, 0.12, len(months))
            jobseekers = 0.08 * level * (1 - 2 * growth) * rng.lognormal(0.0, 0.05, len(months))
            for i, month in enumerate(months):
                demand.append((f"{month:%Y-%m}", region, leaf, "vacancies", round(vacancies[i]), "example PES"))
                supply.append((f"{month:%Y-%m}", region, leaf, "jobseekers", round(jobseekers[i]), "example PES"))
                if month.month % 3 == 2:  # quarterly survey: the mid-quarter month's level
                    demand.append((f"{month.year}-Q{(month.month + 2) // 3}", region, leaf, "employment",
                                   round(employment[i]), "example LFS"))
            for year in range(int(start), int(end) + 1):
                graduates = 0.05 * level[np.asarray(months.year == year)].mean() * (1 + growth) * rng.lognormal(0.0, 0.08)
                supply.append((str(year), region, leaf, "graduates", round(graduates), "example ministry"))
    columns = ["period", "region", "occupation", "measure", "value", "source"]
    write_csv_atomic(REGIONS, raw_dir / "regions.csv", index=False)
    write_csv_atomic(OCCUPATIONS, raw_dir / "occupations.csv", index=False)
    write_csv_atomic(pd.DataFrame(demand, columns=columns), raw_dir / "demand.csv", index=False)
    write_csv_atomic(pd.DataFrame(supply, columns=columns), raw_dir / "supply.csv", index=False)
    return raw_dir


def example_panel(seed: int = 0, start: int = 2016, end: int = 2025):
    """The example country's panel (5 regions x 6 occupations, monthly), built in a temporary folder.

    A small, quick panel with employment, vacancies, graduates and jobseekers, for examples and
    experiments; the same arguments give the same panel (it is built once per process).

    Examples
    --------
    >>> panel = example_panel()
    >>> dict(panel.sizes), sorted(panel.data_vars)
    ({'time': 120, 'region': 5, 'occupation': 6}, ['employment', 'graduates', 'jobseekers', 'vacancies'])
    """
    return _example_panel(int(seed), int(start), int(end)).copy(deep=True)


@lru_cache(maxsize=4)
def _example_panel(seed: int, start: int, end: int):
    import tempfile

    from lmforecast.datasets.sources import RawFolder

    with tempfile.TemporaryDirectory() as tmp:
        folder = write_example_country(Path(tmp) / "example_country", seed=seed, start=start, end=end)
        return RawFolder(folder, country="XX").load_panel()


#: the training programme of :func:`example_report`'s scenario ``programme``
EXAMPLE_SCENARIO = {
    "label": "100 trainees a year in software development (Capital), 2026-2027, 70 % placed",
    "programmes": [{"name": "programme", "trainees_per_year": 100, "from_year": 2026, "to_year": 2027,
                    "placement_rate": 0.7, "regions": {"XX-CAP": 1.0}, "occupations": {"251": 1.0}}],
}


def example_report(seed: int = 0):
    """A small skill-gap report of :func:`example_panel`: 2026-2027, 20 sample paths, one scenario.

    The seasonal naive forecaster projects employment, graduates and jobseekers, and
    :func:`lmforecast.pipeline.report` turns them into the report, with the scenario
    ``programme`` (:data:`EXAMPLE_SCENARIO`) beside the baseline. It takes a few seconds and is
    built once per process (each call returns a copy); the examples of :mod:`lmforecast.plotting`
    and :mod:`lmforecast.report.write` draw and read it.

    Parameters
    ----------
    seed : seed of the example data and of the sample paths.

    Returns
    -------
    :class:`lmforecast.report.core.SkillGapReport`.

    Examples
    --------
    >>> report = example_report()
    >>> report.years, sorted(report.scenarios)
    ([2026, 2027], ['programme'])
    """
    return copy.deepcopy(_example_report(int(seed)))


@lru_cache(maxsize=2)
def _example_report(seed: int):
    import tempfile

    from lmforecast import pipeline
    from lmforecast.models.baselines import SeasonalNaive
    from lmforecast.report.scenarios import scenario_from_mapping

    panel = example_panel(seed)
    plan = pipeline.ReportPlan(years=(2026, 2027), n_paths=20, formats=("csv",),
                               scenarios=(scenario_from_mapping("programme", EXAMPLE_SCENARIO),))
    projection = pipeline.project(SeasonalNaive(), panel, ["employment", "graduates", "jobseekers"], plan, seed=seed)
    with tempfile.TemporaryDirectory() as tmp:
        return pipeline.report(projection.forecast, plan, out_dir=tmp, name="example", panel=panel).skill_gap
