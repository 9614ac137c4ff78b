"""Tests of the panel build (lmforecast.build): raw folder -> validated panel."""

import csv
import json
import re
from collections import Counter

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from lmforecast import panel as P
from lmforecast.build import build_and_write_panel, build_panel
from lmforecast.errors import DataContractError
from lmforecast.features.offers import normalise_titles
from lmforecast.io import sha256_file


@pytest.fixture
def build(tiny_reference, keyword_coder):
    """build_panel with the tiny reference lists and the keyword title coder, no progress bar."""
    def run(raw_dir, **kw):
        return build_panel(raw_dir, reference=tiny_reference, coder=keyword_coder, progress=False, **kw)
    return run


def folder_hashes(folder):
    return {p.name: (sha256_file(p), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def naive_national_offers(offers: pd.DataFrame, normalizer, freq="MS", window=30) -> pd.Series:
    """Job ads per period counted row by row (independent of the vectorised implementation)."""
    chain_start, counts = {}, Counter()
    company = offers["company"] if "company" in offers.columns else pd.Series("", index=offers.index)
    titles = normalise_titles(offers["title"])
    dates = pd.to_datetime(offers["posted_on"])
    for i in sorted(range(len(offers)), key=lambda i: (dates.iloc[i], i)):
        key = (titles.iloc[i], normalizer.normalize(offers["region"].iloc[i]), offers["source"].iloc[i],
               company.iloc[i])
        start = chain_start.get(key)
        if start is None or (dates.iloc[i] - start).days > window:
            chain_start[key] = dates.iloc[i]
            counts[dates.iloc[i].to_period(freq[0]).start_time] += 1
    out = pd.Series(counts, dtype=float).sort_index()
    out.index = pd.DatetimeIndex(out.index).as_unit("ns")  # the panel's time unit on pandas 2 and 3
    return out


def test_panel_contract_coords_and_attrs(tiny_raw_dir, tiny_reference, build):
    panel = build(tiny_raw_dir)
    assert P.validate(panel) is panel
    assert list(panel.data_vars) == ["job_offers", "employment", "hires", "vacancies", "graduates", "jobseekers"]
    assert panel.indexes["time"].equals(pd.date_range("2022-12-01", "2023-06-01", freq="MS"))
    assert list(panel.region.values) == tiny_reference.region_codes + ["unallocated"]
    assert list(panel.occupation.values) == ["2512", "21", "24", "unclassified"]
    assert panel.region_name.sel(region="MA-06").item() == "Casablanca-Settat"
    assert panel.occupation_major.sel(occupation="unclassified").item() == "X"
    assert panel.occupation_parent.sel(occupation="2512").item() == "251"
    assert panel.attrs["freq"] == "MS" and panel.attrs["country"] == "MA"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", panel.attrs["built_at"])
    inputs = json.loads(panel.attrs["provenance_inputs"])
    assert inputs == {name: sha256_file(tiny_raw_dir / name) for name in ("demand.csv", "offers.csv", "supply.csv")}
    for name in ("employment", "jobseekers"):  # demand/supply never have values for the pseudo-labels
        assert np.isnan(panel[name].sel(occupation="unclassified")).all()
        assert np.isnan(panel[name].sel(region="unallocated")).all()
    assert panel["hires"].attrs["kind"] == "demand" and panel["hires"].attrs["native_freq"] == "MS"


def test_write_read_round_trip_is_identical(tiny_raw_dir, tiny_reference, tmp_path, build, keyword_coder):
    out = build_and_write_panel(tiny_raw_dir, tmp_path / "processed" / "tiny.nc", reference=tiny_reference,
                                coder=keyword_coder, progress=False)
    panel = build(tiny_raw_dir)
    written = P.read_panel(out)
    panel.attrs["built_at"] = written.attrs["built_at"]
    xr.testing.assert_identical(written, panel)
    xr.testing.assert_identical(P.read_panel(P.write_panel(written, tmp_path / "again.nc")), written)


def test_raw_files_are_never_modified(tiny_raw_dir, tiny_reference, tmp_path, keyword_coder):
    before = folder_hashes(tiny_raw_dir)
    build_and_write_panel(tiny_raw_dir, tmp_path / "out.nc", reference=tiny_reference, coder=keyword_coder,
                          progress=False)
    assert folder_hashes(tiny_raw_dir) == before


def test_regional_sums_equal_national_totals_from_raw_tables(tiny_raw_dir, tiny_reference, build):
    panel = build(tiny_raw_dir)
    national = P.national_total(panel)
    demand = pd.read_csv(tiny_raw_dir / "demand.csv", dtype=str)
    supply = pd.read_csv(tiny_raw_dir / "supply.csv", dtype=str)
    for table, measure, place in [(demand, "hires", lambda p: p), (demand, "vacancies", lambda p: p),
                                  (demand, "employment", lambda p: pd.Period(p, "Q").end_time.normalize()
                                   .replace(day=1)),
                                  (supply, "jobseekers", lambda p: p), (supply, "graduates", lambda p: f"{p}-12")]:
        rows = table[table["measure"] == measure]
        raw_total = rows.assign(value=rows["value"].astype(float),
                                time=[pd.Timestamp(place(p)) for p in rows["period"]]
                                ).groupby(["time", "occupation"])["value"].sum()
        raw_total.index = raw_total.index.set_levels(raw_total.index.levels[0].as_unit("ns"), level=0)
        got = national[measure].to_series().dropna().sort_index()
        pd.testing.assert_series_equal(got, raw_total.rename(measure), check_names=False)
    offers_total = national["job_offers"].sum("occupation", min_count=1).to_series()
    expected = naive_national_offers(pd.read_csv(tiny_raw_dir / "offers.csv", dtype=str, keep_default_na=False),
                                     tiny_reference.normalizer)
    pd.testing.assert_series_equal(offers_total.dropna(), expected, check_names=False, check_freq=False)


def test_offers_report_dedup_and_unclassified_share(tiny_raw_dir, build):
    report = json.loads(build(tiny_raw_dir).attrs["offers_report"])
    assert report["rows_in"] == 10 and report["reposts_removed"] == 2
    assert report["unclassified_share"] == pytest.approx(1 / 8)
    assert report["dedup_window_days"] == 30
    no_dedup = json.loads(build(tiny_raw_dir, dedup_window_days=None).attrs["offers_report"])
    assert no_dedup["reposts_removed"] == 0


def test_quarterly_panel_frequency_rules(tiny_raw_dir, build):
    monthly = build(tiny_raw_dir)
    quarterly = build(tiny_raw_dir, freq="QS")
    assert quarterly.indexes["time"].equals(pd.date_range("2022-10-01", "2023-04-01", freq="QS"))
    sel = dict(time=slice("2023-01-01", None))
    xr.testing.assert_allclose(quarterly["hires"].sel(**sel), monthly["hires"].resample(time="QS").sum(min_count=3)
                               .sel(**sel))
    xr.testing.assert_allclose(quarterly["vacancies"].sel(**sel), monthly["vacancies"].resample(time="QS").mean()
                               .sel(**sel))
    xr.testing.assert_equal(quarterly["job_offers"].sel(**sel), monthly["job_offers"].resample(time="QS").sum()
                            .sel(**sel).where(quarterly["job_offers"].sel(**sel).notnull()))
    # quarterly employment placed as is in a quarterly panel, on the last month in a monthly one
    np.testing.assert_array_equal(quarterly["employment"].sel(time="2023-04-01").values,
                                  monthly["employment"].sel(time="2023-06-01").values)
    # annual graduates of 2022 sit on 2022-Q4, nowhere else
    graduates = quarterly["graduates"].sum(["region", "occupation"], min_count=1)
    assert np.isfinite(graduates.values).tolist() == [True, False, False]


def test_old_region_rows_are_harmonised(tiny_raw_dir, tiny_reference, tiny_demand, write_table, build):
    crosswalk = tiny_reference.crosswalk
    old = pd.DataFrame({"period": "2013", "region": sorted(crosswalk["old_code"].unique()), "occupation": "21",
                        "measure": "employment", "value": [str(100 * (i + 1)) for i in range(16)],
                        "source": "HCP RGPH"})
    write_table(tiny_raw_dir, "demand", pd.concat([tiny_demand.copy(), old], ignore_index=True))
    panel = build(tiny_raw_dir)
    december = panel["employment"].sel(time="2013-12-01", occupation="21")
    assert december.sel(region=tiny_reference.region_codes).notnull().all()
    assert float(december.sum()) == pytest.approx(sum(100 * (i + 1) for i in range(16)))


def test_same_inputs_same_panel(tiny_raw_dir, build):
    a, b = build(tiny_raw_dir), build(tiny_raw_dir)
    b.attrs["built_at"] = a.attrs["built_at"]
    xr.testing.assert_identical(a, b)


def test_only_offers_table(tmp_path, tiny_offers, write_table, build):
    write_table(tmp_path, "offers", tiny_offers.copy())
    panel = build(tmp_path)
    assert list(panel.data_vars) == ["job_offers"]
    assert panel.indexes["time"].equals(pd.date_range("2023-01-01", "2023-03-01", freq="MS"))


@pytest.mark.parametrize("table, position, column, value, message", [
    ("demand", 2, "value", "-3", r"demand\.csv, row 4, column 'value': got '-3'"),
    ("supply", 0, "measure", "hires", r"supply\.csv, row 2, column 'measure': got 'hires'.*demand measure"),
    ("supply", 5, "region", "MA16-04", r"supply\.csv, row 7, column 'region'.*before 2015"),
    ("offers", 6, "region", "Atlantis", r"offers\.csv, row 8, column 'region': got 'Atlantis'"),
    ("offers", 1, "offer_id", "o1", r"offers\.csv, row 3, column 'offer_id'.*same offer_id as row 2"),
])
def test_bad_inputs_stop_the_build(tiny_raw_dir, table, position, column, value, message, tiny_demand, tiny_supply,
                                   tiny_offers, write_table, build):
    frame = {"demand": tiny_demand, "supply": tiny_supply, "offers": tiny_offers}[table].copy()
    frame.loc[position, column] = value
    write_table(tiny_raw_dir, table, frame)
    with pytest.raises(DataContractError, match=message):
        build(tiny_raw_dir)


def test_csv_and_parquet_of_one_table_is_an_error(tiny_raw_dir, tiny_supply, write_table, build):
    write_table(tiny_raw_dir, "supply", tiny_supply.copy(), fmt="parquet")
    with pytest.raises(DataContractError, match=re.escape("expected one version of table 'supply'")):
        build(tiny_raw_dir)


# --------------------------------------------------------------------------- real data


def read_rekrute(path):
    """Rows of a ReKrute ARFF file as a DataFrame (id, poste, region, entreprise, ...)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    names = [line.split()[1] for line in lines if line.lower().startswith("@attribute")]
    start = next(i for i, line in enumerate(lines) if line.lower().startswith("@data")) + 1
    rows = list(csv.reader([line for line in lines[start:] if line.strip()], quotechar="'", escapechar="\\"))
    return pd.DataFrame(rows, columns=names)


@pytest.mark.shared_data
def test_real_moroccan_job_ads_build_with_default_taxonomy(tmp_path, write_table, shared_data_dir):
    folder = shared_data_dir / "ma-rekrute-sample"
    if not folder.is_dir():
        pytest.skip(f"shared data folder {folder} is absent")
    ads = pd.concat([read_rekrute(folder / "offre3.arff").assign(file="offre3"),
                     read_rekrute(folder / "offre1_arf.arff").assign(file="offre1")], ignore_index=True)
    rng = np.random.default_rng(0)  # the scrape has no dates: seeded dates over 2022
    offers = pd.DataFrame({
        "offer_id": ads["file"] + ":" + ads["id"],
        "posted_on": (np.datetime64("2022-01-01") + rng.integers(0, 365, len(ads)).astype("timedelta64[D]"))
        .astype(str),
        "region": ads["region"], "title": ads["poste"], "occupation": "", "source": "rekrute",
        "company": ads["entreprise"],
    })
    raw = tmp_path / "rekrute"
    write_table(raw, "offers", offers)
    panel = build_panel(raw, progress=False)
    report = json.loads(panel.attrs["offers_report"])
    assert report["rows_in"] == len(ads) == 865
    from lmforecast.contract import load_reference

    reference = load_reference(raw)
    expected = naive_national_offers(offers, reference.normalizer)
    national = panel["job_offers"].sum(["region", "occupation"]).to_series()
    pd.testing.assert_series_equal(national, expected, check_names=False, check_freq=False)
    share = float(panel["job_offers"].sel(occupation="unclassified").sum() / panel["job_offers"].sum())
    assert share == pytest.approx(report["unclassified_share"])
    tout_le_maroc = offers["region"].str.startswith("Tout le Maroc")
    assert tout_le_maroc.any() and "unallocated" in panel.region.values
