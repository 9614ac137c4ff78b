"""The skill-gap report: forecast sample paths + observed panel -> openings, supply, gap, ratings.

:func:`compute_paths` turns the joint sample paths of employment, graduates and jobseekers
(:func:`lmforecast.pipeline.forecast_targets`) into per-path openings, supply and gap by year x
region x occupation; :func:`skill_gap_report` summarises them into the tables planners read
(cells, cumulated, roll-ups, rankings, skills, scenarios, tension indicators). Which step follows
which national system is in ``lmforecast/report/README.md``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from lmforecast import panel as P
from lmforecast.errors import ConfigError
from lmforecast.report import rollups as RU
from lmforecast.report.annual import YEAR, annual_values
from lmforecast.report.gap import INTERVAL, PATH, gap_paths, summarise
from lmforecast.report.openings import job_openings
from lmforecast.report.rates import load_separation_rates, separation_rates
from lmforecast.report.ratings import (Thresholds, future_demand_class, openings_rate, shortage_driver,
                                       shortage_rating)
from lmforecast.report.scenarios import Scenario, extra_supply, scenario_effect, total_trainees
from lmforecast.report.supply import SupplyAssumptions, mobility_supply, new_supply, trainee_supply

log = logging.getLogger("lmforecast")


@dataclass(frozen=True)
class Measures:
    """Panel variables the report reads (rename for a data set with other names)."""

    employment: str = "employment"
    graduates: str = "graduates"
    jobseekers: str = "jobseekers"
    trainees: str = "trainees"
    vacancies: str = "vacancies"
    job_ads: str = "job_offers"

    @property
    def path_targets(self) -> tuple[str, str, str]:
        """The measures that need joint sample paths (demand and supply of the gap)."""
        return (self.employment, self.graduates, self.jobseekers)


@dataclass
class SkillGapReport:
    """Everything the report computed (tables are tidy DataFrames, numbers unrounded).

    Attributes
    ----------
    paths : per-path Dataset ``(year, region, occupation, path)`` (persons / persons per year).
    cells, cumulative : summary Datasets (median, ``_q10``/``_q90``, ``p_shortage``, ratings).
    national, regions, occupations, groups : roll-up tables (rows per year and ``cumulative``).
    skills : top skills in shortage per region (cumulated horizon, shortage-only, with intervals).
    skill_groups : ESCO skill groups (level 1) per region and nationally, from the paths.
    scenarios : ``{name: DataFrame}`` of cumulated effects per region x occupation.
    scenario_summary : national effect of each scenario (one row each).
    tension : vacancies and job ads of the last observed year (indicators, not in openings).
    years : horizon years; base_year : the year before; notes : caveats shown in the read-me.
    """

    paths: xr.Dataset
    cells: xr.Dataset
    cumulative: xr.Dataset
    national: pd.DataFrame
    regions: pd.DataFrame
    occupations: pd.DataFrame
    groups: pd.DataFrame
    skills: pd.DataFrame
    skill_groups: pd.DataFrame
    scenarios: dict[str, pd.DataFrame]
    scenario_summary: pd.DataFrame
    tension: pd.DataFrame
    years: list[int]
    base_year: int
    assumptions: SupplyAssumptions
    thresholds: Thresholds
    rates: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    track_record: object | None = None


def _complete_years(panel: xr.Dataset) -> list[int]:
    time = panel.indexes[P.TIME]
    per_year = P.season_length(panel.attrs["freq"])
    counts = pd.Series(1, index=time.year).groupby(level=0).size()
    return [int(y) for y, n in counts.items() if n == per_year]


def report_cells(panel: xr.Dataset, measure: str) -> tuple[list[str], list[str]]:
    """Regions and occupations with any observed ``measure`` (drops ``unallocated``/``unclassified``)."""
    seen = panel[measure].notnull()
    regions = [str(r) for r, ok in zip(panel[P.REGION].values, seen.any((P.TIME, P.OCCUPATION)).values) if ok]
    occupations = [str(o) for o, ok in zip(panel[P.OCCUPATION].values, seen.any((P.TIME, P.REGION)).values) if ok]
    return regions, occupations


def _paths(forecast: xr.Dataset, panel: xr.Dataset, measure: str, years, regions, occupations) -> xr.DataArray:
    name = f"{measure}_paths"
    if name not in forecast:
        raise ConfigError(f"the skill-gap report needs sample paths of {measure!r}; the forecast has "
                          f"{sorted(map(str, forecast.data_vars))}: add {measure!r} to data.targets and keep "
                          "report.n_paths > 0")
    paths = forecast[name]
    attrs = {**P.measure_attrs(measure), **panel[measure].attrs, **paths.attrs}
    paths = paths.assign_attrs(attrs).sel({P.REGION: regions, P.OCCUPATION: occupations})
    return annual_values(paths, forecast.attrs.get("freq", panel.attrs["freq"]), years,
                         role=f"{measure} forecast").astype(float)


def _observed(panel: xr.Dataset, measure: str, years, regions, occupations) -> xr.DataArray:
    array = panel[measure].sel({P.REGION: regions, P.OCCUPATION: occupations})
    return annual_values(array, panel.attrs["freq"], years, role=f"observed {measure}")


def compute_paths(forecast: xr.Dataset, panel: xr.Dataset, years: Sequence[int], *,
                  assumptions: SupplyAssumptions = SupplyAssumptions(), rates: pd.DataFrame | None = None,
                  measures: Measures = Measures(), expansion: str = "horizon") -> xr.Dataset:
    """Openings, supply and gap on every sample path, per year x region x occupation.

    Parameters
    ----------
    forecast : Dataset with ``<measure>_paths`` ``(time, region, occupation, path)`` for the
        employment, graduates and jobseekers measures, drawn jointly
        (:func:`lmforecast.pipeline.forecast_targets`), at least to the end of ``max(years)``.
    panel : the observed panel the forecast was fitted on (base-year employment, last year's
        trainees, labels).
    years : horizon years (consecutive), e.g. 2026-2030.
    assumptions : :class:`~lmforecast.report.supply.SupplyAssumptions`.
    rates : separation rates (:func:`~lmforecast.report.rates.load_separation_rates`; default
        the package file).
    measures : :class:`Measures`.
    expansion : expansion-demand method (:func:`lmforecast.report.openings.job_openings`).

    Returns
    -------
    Dataset ``(year, region, occupation, path)``: ``employment`` (persons), ``expansion_demand``,
    ``replacement_demand``, ``job_openings``, ``graduate_supply``, ``jobseeker_supply``,
    ``trainee_supply``, ``mobility``, ``new_supply``, ``gap`` (persons per year), ``gap_ratio`` (1)
    and ``employment_change`` (persons); coords ``region_name``, ``occupation_name``,
    ``occupation_major``; attrs ``base_year``, ``base_from`` (``observed`` or ``forecast``).
    """
    years = [int(y) for y in years]
    if years != list(range(years[0], years[0] + len(years))):
        raise ConfigError(f"report.years must be consecutive calendar years, got {years}")
    for measure in (measures.employment, measures.graduates, measures.jobseekers):
        if measure not in panel:
            raise ConfigError(f"the skill-gap report needs the measure {measure!r} in the panel; it has "
                              f"{sorted(map(str, panel.data_vars))} (use report.method=stock for data with only "
                              "vacancies and jobseekers)")
    regions, occupations = report_cells(panel, measures.employment)
    rates = load_separation_rates() if rates is None else rates
    rate = xr.DataArray(separation_rates(occupations, rates).reindex(occupations).to_numpy(), dims=P.OCCUPATION,
                        coords={P.OCCUPATION: occupations})
    base_year = years[0] - 1
    observed_years = _complete_years(panel)
    employment = _paths(forecast, panel, measures.employment, years, regions, occupations)
    if base_year in observed_years:
        base = _observed(panel, measures.employment, [base_year], regions, occupations)
        base_from = "observed"
    else:  # the base year ends after the data: its observed months, then the forecast's, path by path
        name = f"{measures.employment}_paths"
        paths = forecast[name].sel({P.REGION: regions, P.OCCUPATION: occupations})
        seen = panel[measures.employment].sel({P.REGION: regions, P.OCCUPATION: occupations})
        seen = seen.sel({P.TIME: slice(pd.Timestamp(year=base_year, month=1, day=1), paths.indexes[P.TIME][0]
                                       - pd.Timedelta(days=1))})
        joined = xr.concat([seen.broadcast_like(paths.isel({P.TIME: 0}, drop=True)).transpose(*paths.dims), paths],
                           P.TIME)
        joined.attrs = {**P.measure_attrs(measures.employment), **panel[measures.employment].attrs}
        base = annual_values(joined, panel.attrs["freq"], [base_year], role="employment of the base year").astype(float)
        base_from = "forecast"
    base = base.isel({YEAR: 0}, drop=True).broadcast_like(employment.isel({YEAR: 0}, drop=True))
    base = base.expand_dims({YEAR: [base_year]}).transpose(*employment.dims)
    with_base = xr.concat([base, employment], dim=YEAR)
    demand = job_openings(with_base, rate, expansion)
    change = with_base.diff(YEAR, label="upper").rename("employment_change").assign_attrs(units="persons")

    graduates = _paths(forecast, panel, measures.graduates, years, regions, occupations)
    jobseekers = _paths(forecast, panel, measures.jobseekers, years, regions, occupations)
    last = max(observed_years) if observed_years else None
    observed_trainees = None
    if measures.trainees in panel and last is not None:
        observed_trainees = _observed(panel, measures.trainees, [last], regions, occupations).isel({YEAR: 0}, drop=True)
        observed_trainees = observed_trainees.fillna(0)
        if not float(observed_trainees.sum()) > 0:
            observed_trainees = None
    trainees = trainee_supply(observed_trainees, last, years, regions, occupations, assumptions)
    base_emp = base.isel({YEAR: 0, PATH: 0}, drop=True) if PATH in base.dims else base.isel({YEAR: 0}, drop=True)
    mobility = mobility_supply(assumptions.mobility, base_emp.fillna(0), years)
    supply = new_supply(graduates, jobseekers, trainees, mobility, assumptions)
    out = xr.merge([demand, supply, gap_paths(demand["job_openings"], supply["new_supply"]), change,
                    trainees[["trainees_recurring", "trainees_programmes"]]], compat="override", join="exact")
    labels = {name: (dim, panel[name].sel({dim: values}).values)
              for name, dim, values in ((P.REGION_NAME, P.REGION, regions), (P.OCCUPATION_NAME, P.OCCUPATION, occupations),
                                        (P.OCCUPATION_MAJOR, P.OCCUPATION, occupations)) if name in panel.coords}
    out = out.assign_coords(labels).transpose(YEAR, P.REGION, P.OCCUPATION, PATH)
    out.attrs = {"base_year": base_year, "base_from": base_from, "last_observed_year": last,
                 "observed_trainees": observed_trainees is not None}
    if observed_trainees is not None:
        out["observed_trainees_last_year"] = observed_trainees
    return out


def cumulate(paths: xr.Dataset) -> xr.Dataset:
    """The horizon as one period: flows summed over years, employment of the last year, ratio recomputed."""
    flows = [v for v in paths.data_vars if YEAR in paths[v].dims and v not in ("employment", "gap_ratio")]
    out = paths[flows].sum(YEAR, min_count=1)
    out["employment"] = paths["employment"].isel({YEAR: -1}, drop=True)
    out["gap_ratio"] = gap_paths(out["job_openings"], out["new_supply"])["gap_ratio"]
    for name in paths.data_vars:
        if YEAR not in paths[name].dims:
            out[name] = paths[name]
    return out


def rate_cells(summary: xr.Dataset, thresholds: Thresholds) -> xr.Dataset:
    """Add ``rating``, ``future_demand`` and ``shortage_driver`` to a summary (cells or cumulated)."""
    reference_openings = float(summary["job_openings"].sum() / summary["employment"].sum())
    reference_supply = float(summary["new_supply"].sum() / summary["employment"].sum())
    rating = shortage_rating(summary["gap_ratio"], summary["p_shortage"], thresholds)
    summary = summary.assign(
        rating=rating,
        openings_rate=openings_rate(summary["job_openings"], summary["employment"]),
        future_demand=future_demand_class(summary["job_openings"], summary["employment"], reference_openings,
                                          thresholds),
        shortage_driver=shortage_driver(rating, summary["expansion_demand"], summary["job_openings"],
                                        summary["new_supply"], summary["employment"], summary["employment_change"],
                                        reference_supply, thresholds))
    return summary


def _frame(summary: xr.Dataset) -> pd.DataFrame:
    """A summary Dataset as a tidy DataFrame (one row for a 0-d national summary)."""
    summary = summary.reset_coords(drop=True)
    if all(summary[v].ndim == 0 for v in summary.data_vars):
        return pd.DataFrame([{str(k): summary[k].item() for k in summary.data_vars}])
    return summary.to_dataframe().reset_index()


def _rollup_frames(paths: xr.Dataset, cum: xr.Dataset, level: str) -> pd.DataFrame:
    yearly = _frame(RU.rollup(paths, level))
    total = _frame(RU.rollup(cum, level))
    total.insert(0, YEAR, "cumulative")
    yearly[YEAR] = yearly[YEAR].astype(int).astype(str)
    return pd.concat([yearly, total], ignore_index=True)


def skill_tables(cum: xr.Dataset, k: int = 10) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Top ESCO skills in shortage per region and ESCO skill groups (level 1), from cumulated paths.

    Returns
    -------
    ``(skills, groups)``: ``skills`` = :func:`lmforecast.skill_gaps.top_skills_in_shortage` per
    region and nationally (``region = "national"``), shortage-only, persons over the horizon,
    with ``q10``/``q90``; ``groups`` = net gap per skill group and region (median, q10, q90,
    P(shortage)) from the paths (person-equivalents over the horizon).
    """
    from lmforecast.skill_gaps import aggregate_to_skills, top_skills_in_shortage
    from lmforecast.taxonomy.skills import load_skill_matrix

    gap = cum["gap"].reset_coords(drop=True)
    occupations = [str(o) for o in gap[P.OCCUPATION].values]
    weights = load_skill_matrix(occupations, level="skill")
    by_region = top_skills_in_shortage(gap.fillna(0), weights, k=k, by=P.REGION)
    national = top_skills_in_shortage(gap.fillna(0).sum(P.REGION), weights, k=k, by=None)
    national.insert(0, P.REGION, "national")
    skills = pd.concat([national, by_region], ignore_index=True)
    groups_w = load_skill_matrix(occupations, level=1)
    group_paths = aggregate_to_skills(gap.fillna(0), groups_w)
    group_paths = xr.concat([group_paths.sum(P.REGION).expand_dims({P.REGION: ["national"]}), group_paths], P.REGION)
    summary = summarise(xr.Dataset({"gap": group_paths}))
    groups = summary.reset_coords(drop=True).to_dataframe().reset_index()
    names = groups_w["skill_group_name"].to_series()
    names_fr = groups_w["skill_group_name_fr"].to_series()
    groups["name"] = groups["skill_group"].map(names)
    groups["name_fr"] = groups["skill_group"].map(names_fr)
    return skills, groups


def scenario_tables(paths: xr.Dataset, scenarios: Sequence[Scenario], years: Sequence[int]
                    ) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Baseline vs each scenario over the horizon, per cell and nationally, with intervals from the paths."""
    regions = [str(r) for r in paths[P.REGION].values]
    occupations = [str(o) for o in paths[P.OCCUPATION].values]
    observed = paths.get("observed_trainees_last_year")
    tables, rows = {}, []
    gap_cum = paths["gap"].sum(YEAR)
    for scenario in scenarios:
        extra = extra_supply(scenario, years, regions, occupations, observed)
        extra_cum = extra.sum(YEAR)
        effect = scenario_effect(gap_cum, extra_cum)
        cell = summarise(xr.Dataset({"gap": gap_cum, "gap_scenario": effect["gap_scenario"],
                                     "shortage_closed": effect["shortage_closed"]}))
        cell["extra_supply"] = extra_cum
        cell["p_shortage_scenario"] = (effect["gap_scenario"] > 0).mean(PATH)
        frame = cell.reset_coords(drop=True).to_dataframe().reset_index()
        frame = frame[frame["extra_supply"] > 0].reset_index(drop=True)
        frame.insert(0, "scenario", scenario.name)
        tables[scenario.name] = frame
        national_gap = gap_cum.sum([P.REGION, P.OCCUPATION])
        shortage = gap_cum.clip(min=0).sum([P.REGION, P.OCCUPATION])
        closed = effect["shortage_closed"].sum([P.REGION, P.OCCUPATION])
        share = closed / shortage.where(shortage > 0)
        q = INTERVAL
        rows.append({"scenario": scenario.name, "label": scenario.label, "label_fr": scenario.label_fr,
                     "trainees": total_trainees(scenario, years), "extra_supply": float(extra_cum.sum()),
                     "gap_baseline": float(national_gap.median()),
                     "gap_scenario": float((national_gap - extra_cum.sum()).median()),
                     "shortage_closed": float(closed.median()),
                     "shortage_closed_q10": float(closed.quantile(q[0])),
                     "shortage_closed_q90": float(closed.quantile(q[1])),
                     "share_of_shortage_closed": float(share.median()),
                     "share_of_shortage_closed_q10": float(share.quantile(q[0])),
                     "share_of_shortage_closed_q90": float(share.quantile(q[1]))})
    return tables, pd.DataFrame(rows)


def tension_table(panel: xr.Dataset, regions, occupations, measures: Measures = Measures()) -> pd.DataFrame:
    """Vacancies and job ads of the last complete observed year (current-tension indicators).

    Returns a DataFrame ``region, occupation, year, vacancies`` (annual mean stock, positions),
    ``job_ads`` (ads in the year), ``jobseekers`` (annual mean stock) and
    ``vacancies_per_jobseeker``; they are shown beside the projection, never added to openings.
    """
    years = _complete_years(panel)
    if not years:
        return pd.DataFrame()
    last = max(years)
    columns = {}
    for label, measure in (("vacancies", measures.vacancies), ("job_ads", measures.job_ads),
                           ("jobseekers", measures.jobseekers)):
        if measure in panel:
            columns[label] = _observed(panel, measure, [last], regions, occupations).isel({YEAR: 0}, drop=True)
    if not columns:
        return pd.DataFrame()
    frame = xr.Dataset(columns).reset_coords(drop=True).to_dataframe().reset_index()
    frame.insert(2, YEAR, last)
    if {"vacancies", "jobseekers"} <= set(frame.columns):
        frame["vacancies_per_jobseeker"] = frame["vacancies"] / frame["jobseekers"].where(frame["jobseekers"] > 0)
    return frame


def skill_gap_report(forecast: xr.Dataset, panel: xr.Dataset, years: Sequence[int], *,
                     assumptions: SupplyAssumptions = SupplyAssumptions(), rates: pd.DataFrame | None = None,
                     thresholds: Thresholds = Thresholds(), scenarios: Sequence[Scenario] = (),
                     measures: Measures = Measures(), expansion: str = "horizon", top_skills: int = 10,
                     skills: bool = True) -> SkillGapReport:
    """The whole report from a forecast with joint sample paths.

    Parameters
    ----------
    forecast, panel, years, assumptions, rates, measures, expansion : as :func:`compute_paths`.
    thresholds : :class:`~lmforecast.report.ratings.Thresholds` of the ratings.
    scenarios : :class:`~lmforecast.report.scenarios.Scenario` entries shown beside the baseline.
    top_skills : skills listed per region.
    skills : compute the skill tables (ESCO matrix; about 2 s).

    Returns
    -------
    :class:`SkillGapReport`.
    """
    rates = load_separation_rates() if rates is None else rates
    paths = compute_paths(forecast, panel, years, assumptions=assumptions, rates=rates, measures=measures,
                          expansion=expansion)
    cum = cumulate(paths)
    cells = rate_cells(summarise(paths), thresholds)
    cumulative = rate_cells(summarise(cum), thresholds)
    skills_t, groups_t = skill_tables(cum, top_skills) if skills else (pd.DataFrame(), pd.DataFrame())
    scen_tables, scen_summary = scenario_tables(paths, scenarios, years)
    regions = [str(r) for r in paths[P.REGION].values]
    occupations = [str(o) for o in paths[P.OCCUPATION].values]
    notes = []
    if paths.attrs.get("base_from") == "forecast":
        notes.append(f"the base year {paths.attrs['base_year']} is not fully observed: its employment is forecast")
    joint = forecast.attrs.get("paths_joint", "")
    if joint and joint != "all":
        notes.append(f"sample paths drawn jointly within groups only ({joint}): the calibration origins of the "
                     "measures differ, so demand and supply paths of different groups are independent")
    return SkillGapReport(
        paths=paths, cells=cells, cumulative=cumulative,
        national=_rollup_frames(paths, cum, "national"), regions=_rollup_frames(paths, cum, "region"),
        occupations=_rollup_frames(paths, cum, "occupation"),
        groups=_rollup_frames(paths, cum, "occupation_group"), skills=skills_t, skill_groups=groups_t,
        scenarios=scen_tables, scenario_summary=scen_summary,
        tension=tension_table(panel, regions, occupations, measures), years=[int(y) for y in years],
        base_year=int(paths.attrs["base_year"]), assumptions=assumptions, thresholds=thresholds, rates=rates,
        notes=notes)
