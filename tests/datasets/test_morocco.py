"""Tests for lmforecast.datasets.morocco: the synthetic Moroccan raw data set.

Two module-scoped data sets keep the file fast: ``recent`` (2024-2025 observed, truth 2026-2030,
5 % of the default number of ads, ~2 s) and ``history`` (2010-2023 observed, 10 % of the ads,
~3 s) for the calibration, old-region, Ramadan, COVID and trainee checks.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hijridate import Hijri

from lmforecast import contract
from lmforecast.datasets.morocco import (
    DATA_FILES,
    JOB_TITLES,
    MANIFEST,
    TRUTH_FILES,
    ensure_default_data,
    generate_morocco,
    verify_morocco,
)
from lmforecast.errors import DataContractError
from lmforecast.io import sha256_file
from lmforecast.taxonomy.occupations import load_occupations
from lmforecast.taxonomy.regions import RegionNormalizer, load_regions

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
RECENT = {"start": "2024-01", "end": "2025-12", "n_offers_scale": 0.05}  # truth_end default 2030-12
HISTORY = {"start": "2010-01", "end": "2023-12", "truth_end": "2024-12", "n_offers_scale": 0.1}


@pytest.fixture(scope="module")
def recent(tmp_path_factory):
    raw_dir = tmp_path_factory.mktemp("recent") / "morocco"
    return generate_morocco(raw_dir, **RECENT)


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    raw_dir = tmp_path_factory.mktemp("history") / "morocco"
    return generate_morocco(raw_dir, **HISTORY)


@pytest.fixture(scope="module")
def history_tables(history):
    """demand.csv and supply.csv of ``history``, read once."""
    return {name: _read_long(history["raw_dir"] / f"{name}.csv") for name in ("demand", "supply")}


def _read_long(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame["value"] = frame["value"].astype(float)
    frame["year"] = frame["period"].str[:4].astype(int)
    return frame


def _leaf_codes() -> list[str]:
    occupations = load_occupations()
    return [c for c in occupations["code"] if c != "unclassified"]


def _digital_codes() -> set[str]:
    occupations = load_occupations()
    return set(occupations.loc[occupations["digital"].astype(bool), "code"])


# --------------------------------------------------------------------------- determinism, files


def test_same_seed_gives_byte_identical_files_and_other_seed_differs(recent, tmp_path):
    again = generate_morocco(tmp_path / "again", **RECENT)
    assert again["generated"]
    assert again["sha256"] == recent["sha256"]
    for rel in (*DATA_FILES, *TRUTH_FILES):
        assert sha256_file(tmp_path / "again" / rel) == sha256_file(recent["raw_dir"] / rel)
    other = generate_morocco(tmp_path / "other", seed=7, **RECENT)
    for rel in (*DATA_FILES, *TRUTH_FILES):
        assert other["sha256"][rel] != recent["sha256"][rel], rel


def test_manifest_records_params_and_hashes(recent):
    manifest = json.loads((recent["raw_dir"] / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["params"]["seed"] == 20251
    assert manifest["params"]["start"] == "2024-01" and manifest["params"]["truth_end"] == "2030-12"
    assert manifest["files"] == {rel: sha256_file(recent["raw_dir"] / rel) for rel in manifest["files"]}
    assert set(manifest["files"]) == {*DATA_FILES, *TRUTH_FILES}
    assert verify_morocco(recent["raw_dir"])["files"] == manifest["files"]


def test_files_pass_the_raw_data_contract(recent):
    raw_dir = recent["raw_dir"]
    reference = contract.load_reference(raw_dir)
    demand = contract.load_demand(raw_dir, reference)
    supply = contract.load_supply(raw_dir, reference)
    offers = contract.load_offers(raw_dir, reference)
    assert set(demand["measure"]) == {"employment", "vacancies"}
    assert set(supply["measure"]) == {"jobseekers", "graduates", "trainees"}
    assert len(offers) == recent["summary"]["rows"]["offers.parquet"]
    freq = demand.groupby("measure")["freq"].unique().map(list).to_dict()
    assert freq == {"employment": ["QS"], "vacancies": ["MS"]}
    freq = supply.groupby("measure")["freq"].unique().map(list).to_dict()
    assert freq == {"jobseekers": ["MS"], "graduates": ["YS"], "trainees": ["MS"]}
    # pipeline tables are only the three top-level ones: truth/ is never picked up
    assert {p.name for p in contract.find_tables(raw_dir).values()} == set(DATA_FILES)


def test_history_passes_the_contract_with_old_regions(history):
    raw_dir = history["raw_dir"]
    reference = contract.load_reference(raw_dir)
    demand = contract.load_demand(raw_dir, reference)
    assert demand["region"].str.startswith("MA16-").any()


def test_every_leaf_occupation_has_titles():
    for code in _leaf_codes():
        french, english = JOB_TITLES[code]
        assert len(french) >= 5 and len(english) >= 1, code
        assert len(set(french)) == len(french) and len(set(english)) == len(english), code
    for code in _digital_codes():
        assert len(JOB_TITLES[code][0]) + len(JOB_TITLES[code][1]) >= 10, code


# --------------------------------------------------------------------------- regions, missing


def test_old_16_region_codes_only_before_2015(history_tables):
    for name, frame in history_tables.items():
        old = frame["region"].str.startswith("MA16-")
        assert (frame.loc[old, "year"] < 2015).all(), name
        assert (frame.loc[~old, "year"] >= 2015).all(), name
        assert set(frame.loc[old, "region"]) == {f"MA16-{i:02d}" for i in range(1, 17)}
        assert set(frame.loc[~old, "region"]) == {f"MA-{i:02d}" for i in range(1, 13)}


def test_region_change_preserves_national_employment(history_tables):
    """Aggregating to the old 16 regions keeps national totals: 2014-Q4 vs 2015-Q1 within 3 %."""
    demand = history_tables["demand"]
    employment = demand[demand["measure"] == "employment"].groupby("period")["value"].sum()
    assert employment["2015-Q1"] == pytest.approx(employment["2014-Q4"], rel=0.03)


def test_monthly_rows_have_gaps_but_truth_is_complete(recent):
    raw_dir = recent["raw_dir"]
    n_regions, n_occupations = 12, len(_leaf_codes())
    full = 24 * n_regions * n_occupations
    demand = _read_long(raw_dir / "demand.csv")
    supply = _read_long(raw_dir / "supply.csv")
    for frame, measure in ((demand, "vacancies"), (supply, "jobseekers")):
        rows = int((frame["measure"] == measure).sum())
        assert 0.80 * full < rows < 0.99 * full, measure  # ~3 % random + whole blocks
    jobseeker_months = supply.loc[supply["measure"] == "jobseekers", "period"].unique()
    assert len(jobseeker_months) == 24 - 2  # a 2-month block when the survey was not run
    employment = demand[demand["measure"] == "employment"]
    assert len(employment) == 8 * n_regions * n_occupations  # quarterly survey: no gaps
    truth = _read_long(raw_dir / "truth" / "demand_truth.csv")
    vacancies = truth[truth["measure"] == "vacancies"]
    assert len(vacancies) == 60 * n_regions * n_occupations


# --------------------------------------------------------------------------- calibration


@pytest.mark.shared_data
def test_unemployment_rate_matches_hcp_and_ilo(history_tables):
    """Implied rate jobseekers / (employment + jobseekers) per year vs real HCP and ILO figures.

    Measured (seed 20251): max |ours - HCP| = 0.14 pt over 2010-2020; max |ours - ILO| =
    0.83 pt over 2010-2020; 2021-2023 ours follows HCP (12.3, 11.8, 13.0 %), 1.8-3.8 pt above
    the ILO modelled estimates in the shared file.
    """
    hcp_path = SHARED / "ma-hcp-unemployment" / "data2.csv"
    ilo_path = SHARED / "ilo-country-panel" / "ilo_dynamic_panel.csv"
    if not (hcp_path.exists() and ilo_path.exists()):
        pytest.skip(f"shared data folder absent: {SHARED}")
    hcp = pd.read_csv(hcp_path, dtype=str, keep_default_na=False)
    row = hcp[(hcp["Milieu de résidence"] == "National") & (hcp["Diplôme"] == "Total")].iloc[0]
    hcp_rate = pd.Series({int(c): float(row[c].replace(",", ".")) for c in hcp.columns[3:] if row[c]})
    ilo = pd.read_csv(ilo_path, encoding="utf-8-sig")
    ilo_rate = ilo[ilo["iso3code"] == "MAR"].set_index("year")["UR_p_MF_T"].dropna()

    demand, supply = history_tables["demand"], history_tables["supply"]
    # mean over the available periods of each series, summed over series (gaps do not bias it)
    employed = (demand[demand["measure"] == "employment"].groupby(["year", "region", "occupation"])["value"]
                .mean().groupby("year").sum())
    jobseekers = (supply[supply["measure"] == "jobseekers"].groupby(["year", "region", "occupation"])["value"]
                  .mean().groupby("year").sum())
    rate = 100 * jobseekers / (jobseekers + employed)
    assert list(rate.index) == list(range(2010, 2024))
    years = list(range(2010, 2021))
    np.testing.assert_allclose(rate[years], hcp_rate[years], atol=0.3)
    np.testing.assert_allclose(rate[years], ilo_rate[years], atol=1.0)
    later = [2021, 2022, 2023]
    assert (rate[later] >= ilo_rate[later]).all() and (rate[later] <= ilo_rate[later] + 4.0).all()
    assert rate[2020] - rate[2019] > 2.0  # COVID-19 jump


def test_employment_level_and_agriculture_share(history_tables):
    demand = history_tables["demand"]
    employment = demand[demand["measure"] == "employment"]
    national = employment.groupby(["year", "period"])["value"].sum().groupby("year").mean()
    assert national[2019] == pytest.approx(10.98e6, rel=0.02)  # HCP ENE 2019, approx.
    agri = employment[employment["occupation"].isin(["61", "62", "63", "92"])].groupby("year")["value"].sum()
    share = agri / employment.groupby("year")["value"].sum()
    assert 0.30 < share[2019] < 0.37
    assert share[2010] - share[2023] > 0.07  # falling ~0.8 pt a year


def test_digital_occupations_grow_faster(history_tables):
    demand = history_tables["demand"]
    employment = demand[demand["measure"] == "employment"]
    digital = employment["occupation"].isin(_digital_codes())
    by_year = employment.groupby([digital.rename("digital"), "year"])["value"].sum()
    growth = np.log(by_year.xs(True)[2023] / by_year.xs(True)[2015]) / 8
    assert 0.07 < growth < 0.14
    assert np.log(by_year.xs(False)[2023] / by_year.xs(False)[2015]) / 8 < 0.01


def test_trainees_only_from_2023_and_only_digital(history, history_tables, recent):
    digital = _digital_codes()
    for data in (history, recent):
        supply = (history_tables["supply"] if data is history
                  else _read_long(data["raw_dir"] / "supply.csv"))
        trainees = supply[supply["measure"] == "trainees"]
        assert trainees["period"].min() == max("2023-01", data["params"]["start"])
        assert set(trainees["occupation"]) <= digital
        assert set(supply.loc[supply["occupation"].isin(digital) & (supply["measure"] != "trainees"),
                              "measure"]) == {"jobseekers", "graduates"}
    supply = history_tables["supply"]
    total_2023 = supply.loc[supply["measure"] == "trainees", "value"].sum()
    # JobInTech 2,500 + PES 1,500 expected in 2023; Poisson counts -> within 5 sd
    assert abs(total_2023 - 4000) < 5 * np.sqrt(4000)
    monthly = supply[supply["measure"] == "trainees"].groupby("period")["value"].sum()
    assert (monthly > 0).sum() == 4  # cohorts complete in March, June, July, December


# --------------------------------------------------------------------------- offers


def _monthly_ads(raw_dir: Path) -> pd.Series:
    offers = pd.read_parquet(raw_dir / "offers.parquet")
    return pd.to_datetime(offers["posted_on"]).dt.to_period("M").value_counts().sort_index()


def _ramadan_share(months: pd.PeriodIndex) -> pd.Series:
    days = pd.date_range(months[0].start_time, months[-1].end_time.normalize(), freq="D")
    ramadan: set[date] = set()
    for hijri_year in range(1430, 1446):
        first, after = Hijri(hijri_year, 9, 1).to_gregorian(), Hijri(hijri_year, 10, 1).to_gregorian()
        ramadan |= set(pd.date_range(str(first), str(after), inclusive="left").date)
    flags = pd.Series([d in ramadan for d in days.date], index=days)
    return flags.groupby(days.to_period("M")).mean()


def test_ads_are_lower_in_ramadan_than_same_month_other_years(history):
    """Detrended monthly ads: Ramadan months vs the same calendar month in Ramadan-free years.

    2010-2019 only (no COVID). Measured: mean log difference -0.30 (daily intensity 0.7 in
    Ramadan).
    """
    ads = _monthly_ads(history["raw_dir"])
    ads = ads[ads.index.year <= 2019]
    detrended = np.log(ads / ads.rolling(13, center=True, min_periods=7).mean())
    share = _ramadan_share(ads.index)
    frame = pd.DataFrame({"detrended": detrended, "ramadan": share, "month": ads.index.month})
    effects = []
    for _, group in frame.groupby("month"):
        during, outside = group[group["ramadan"] >= 0.5], group[group["ramadan"] == 0]
        if len(during) and len(outside):
            effects.append(during["detrended"].mean() - outside["detrended"].mean())
    assert len(effects) >= 4
    assert np.mean(effects) < -0.15
    assert sum(e < 0 for e in effects) >= len(effects) - 1


def test_covid_lockdown_cuts_ads(history):
    ads = _monthly_ads(history["raw_dir"])
    lockdown = ads[pd.period_range("2020-04", "2020-05", freq="M")].sum()
    year_before = ads[pd.period_range("2019-04", "2019-05", freq="M")].sum()
    assert lockdown < 0.65 * year_before


def test_offers_rows_look_like_scraped_ads(history):
    offers = pd.read_parquet(history["raw_dir"] / "offers.parquet")
    assert list(offers.columns) == ["offer_id", "posted_on", "region", "title", "occupation", "source",
                                    "company"]
    assert offers["company"].notna().all() and offers["company"].nunique() > 500
    assert offers["offer_id"].is_unique
    assert set(offers["source"]) == {"rekrute", "emploi.ma", "anapec", "marocannonces"}
    assert 0.02 <= (offers["region"] == "Tout le Maroc").mean() <= 0.05
    assert 0.30 <= offers["occupation"].notna().mean() <= 0.50
    assert set(offers["occupation"].dropna()) <= set(_leaf_codes())
    assert offers["title"].str.contains(r"\(H/F\)").mean() > 0.05
    # region labels are many free-text variants, all normalisable to the right kind of value
    assert offers["region"].nunique() > 150
    normalizer = RegionNormalizer()
    found = normalizer.normalize_many(pd.Series(offers["region"].unique(), dtype=object))
    assert found.notna().all()
    assert set(found) <= set(load_regions()["code"]) | {"unallocated"}
    # reposts: same title, label, source and company again 10-45 days later, new offer_id
    keyed = offers.assign(day=pd.to_datetime(offers["posted_on"]))
    groups = keyed.groupby(["title", "region", "source", "company"])["day"]
    gaps = groups.diff().dt.days.dropna()
    assert ((gaps >= 10) & (gaps <= 45)).sum() > 0.05 * len(offers)


def test_ads_size_scales_with_n_offers_scale(history):
    ads = history["summary"]["rows"]["offers.parquet"]
    # default scale 1.0 gives ~370k ads over 2010-2025; 0.1 over 2010-2023 -> ~28k
    assert 20_000 < ads < 40_000


# --------------------------------------------------------------------------- truth


def test_truth_covers_2026_2030_on_the_12_regions(recent):
    truth_dir = recent["raw_dir"] / "truth"
    demand = _read_long(truth_dir / "demand_truth.csv")
    supply = _read_long(truth_dir / "supply_truth.csv")
    assert list(demand.columns[:6]) == ["period", "region", "occupation", "measure", "value", "source"]
    for frame in (demand, supply):
        assert frame["year"].min() == 2026 and frame["year"].max() == 2030
        assert set(frame["region"]) == set(load_regions()["code"])
    employment = demand[demand["measure"] == "employment"]
    assert np.sort(employment["period"].unique())[[0, -1]].tolist() == ["2026-Q1", "2030-Q4"]
    vacancies = demand[demand["measure"] == "vacancies"]
    assert np.sort(vacancies["period"].unique())[[0, -1]].tolist() == ["2026-01", "2030-12"]
    assert set(supply["measure"]) == {"jobseekers", "graduates", "trainees"}
    observed = _read_long(recent["raw_dir"] / "demand.csv")
    assert observed["year"].max() == 2025


def test_gap_truth_is_annual_mean_vacancies_minus_jobseekers(recent):
    truth_dir = recent["raw_dir"] / "truth"
    gap = pd.read_csv(truth_dir / "gap_truth.csv", dtype={"occupation": str, "region": str})
    assert list(gap.columns) == ["year", "region", "occupation", "vacancies", "jobseekers", "gap"]
    assert sorted(gap["year"].unique()) == [2026, 2027, 2028, 2029, 2030]
    np.testing.assert_allclose(gap["gap"], gap["vacancies"] - gap["jobseekers"], atol=0.011)
    demand = _read_long(truth_dir / "demand_truth.csv")
    supply = _read_long(truth_dir / "supply_truth.csv")
    monthly = pd.concat([demand[demand["measure"] == "vacancies"], supply[supply["measure"] == "jobseekers"]])
    annual = monthly.groupby(["year", "region", "occupation", "measure"])["value"].mean().unstack("measure")
    merged = gap.set_index(["year", "region", "occupation"]).join(annual.add_suffix("_monthly"))
    np.testing.assert_allclose(merged["vacancies"], merged["vacancies_monthly"], atol=0.01)
    np.testing.assert_allclose(merged["jobseekers"], merged["jobseekers_monthly"], atol=0.01)
    # digital occupations are in shortage nationally, the rest in surplus (calibration story)
    national = gap[gap["year"] == 2030].groupby("occupation")["gap"].sum()
    digital = national.index.isin(sorted(_digital_codes()))
    assert (national[digital] > 0).mean() > 0.5
    assert (national[~digital] < 0).all()


def test_truth_continues_the_observed_process(recent):
    """No jump at the truth boundary: 2026 truth vs 2025 observed national vacancies within 15 %."""
    observed = _read_long(recent["raw_dir"] / "demand.csv")
    truth = _read_long(recent["raw_dir"] / "truth" / "demand_truth.csv")
    vac_2025 = (observed[(observed["measure"] == "vacancies") & (observed["year"] == 2025)]
                .groupby(["region", "occupation"])["value"].mean().sum())
    vac_2026 = (truth[(truth["measure"] == "vacancies") & (truth["year"] == 2026)]
                .groupby(["region", "occupation"])["value"].mean().sum())
    assert vac_2026 == pytest.approx(vac_2025, rel=0.15)


# --------------------------------------------------------------------------- never overwrite


def test_existing_data_with_same_params_are_verified_not_rewritten(recent):
    before = {rel: (recent["raw_dir"] / rel).stat().st_mtime_ns for rel in (*DATA_FILES, MANIFEST)}
    again = generate_morocco(recent["raw_dir"], **RECENT)
    assert again["generated"] is False
    assert again["sha256"] == recent["sha256"]
    assert {rel: (recent["raw_dir"] / rel).stat().st_mtime_ns for rel in before} == before


def test_different_params_refuse_to_overwrite(recent, tmp_path):
    raw_dir = tmp_path / "copy"
    shutil.copytree(recent["raw_dir"], raw_dir)
    with pytest.raises(FileExistsError, match=re.escape(f"{raw_dir} holds data generated with")):
        generate_morocco(raw_dir, seed=1, **RECENT)
    with pytest.raises(FileExistsError, match="pass overwrite=True"):
        ensure_default_data(raw_dir, seed=1, **RECENT)
    assert {rel: sha256_file(raw_dir / rel) for rel in recent["sha256"]} == recent["sha256"]


def test_modified_file_is_detected(recent, tmp_path):
    raw_dir = tmp_path / "copy"
    shutil.copytree(recent["raw_dir"], raw_dir)
    with open(raw_dir / "demand.csv", "a", encoding="utf-8") as handle:
        handle.write("2025-12,MA-01,2512,vacancies,1,hand edit\n")
    with pytest.raises(DataContractError, match=r"demand\.csv.*the file was modified after generation"):
        ensure_default_data(raw_dir, **RECENT)


def test_files_without_manifest_are_never_touched(tmp_path):
    raw_dir = tmp_path / "mine"
    raw_dir.mkdir()
    (raw_dir / "offers.csv").write_text("offer_id,posted_on,region,title,source\n", encoding="utf-8")
    with pytest.raises(FileExistsError, match=re.escape("already holds ['offers.csv'] but no generator.json")):
        generate_morocco(raw_dir, **RECENT)
    assert sorted(p.name for p in raw_dir.iterdir()) == ["offers.csv"]


def test_ensure_default_data_generates_when_absent(tmp_path):
    raw_dir = ensure_default_data(tmp_path / "fresh", start="2025-01", end="2025-06",
                                  truth_end="2025-12", n_offers_scale=0.02)
    assert (raw_dir / MANIFEST).exists()
    assert verify_morocco(raw_dir)["params"]["end"] == "2025-06"
    with pytest.raises(TypeError, match="never overwrites"):
        ensure_default_data(raw_dir, overwrite=True)


def test_overwrite_true_regenerates(recent, tmp_path):
    raw_dir = tmp_path / "copy"
    shutil.copytree(recent["raw_dir"], raw_dir)
    out = generate_morocco(raw_dir, seed=3, overwrite=True, **RECENT)
    assert out["generated"] and verify_morocco(raw_dir)["params"]["seed"] == 3


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"start": "2024-03", "end": "2024-01"}, "need start <= end < truth_end"),
    ({"end": "2031-01"}, "need start <= end < truth_end"),
    ({"start": "2024-01-15"}, "start must be a month 'YYYY-MM', got '2024-01-15'"),
    ({"start": "1990-01"}, "start must lie in 2005-2035"),
    ({"n_offers_scale": -1.0}, "n_offers_scale must be >= 0"),
])
def test_bad_parameters(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        generate_morocco(tmp_path / "x", **{**RECENT, **kwargs})
    assert not (tmp_path / "x").exists()


# --------------------------------------------------------------------------- end to end


def test_build_panel_reads_the_generated_data(recent):
    build = pytest.importorskip("lmforecast.build")
    from lmforecast import panel as P

    panel = build.build_panel(recent["raw_dir"], freq="MS", progress=False)
    P.validate(panel, require=("job_offers", "employment", "vacancies", "jobseekers", "graduates",
                               "trainees"))
    assert set(load_regions()["code"]) <= set(panel.region.values)
    assert "unallocated" in panel.region.values
    assert str(panel.time.values[0])[:7] == "2024-01" and str(panel.time.values[-1])[:7] == "2025-12"
    provenance = json.loads(panel.attrs["provenance_inputs"])
    assert provenance["demand.csv"] == recent["sha256"]["demand.csv"]
    assert not any(name.startswith("truth") for name in provenance)
    # the panel's vacancies are the raw monthly values (12 new regions after 2015)
    raw = _read_long(recent["raw_dir"] / "demand.csv")
    row = raw[raw["measure"] == "vacancies"].iloc[0]
    value = panel["vacancies"].sel(time=pd.Timestamp(row["period"]), region=row["region"],
                                   occupation=row["occupation"])
    xr.testing.assert_equal(value, xr.full_like(value, row["value"]))
