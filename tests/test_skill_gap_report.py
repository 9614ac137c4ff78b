"""The skill-gap report: rules on small arrays, bad rate / matrix / scenario files, the offline
page in headless Chromium, and (slow) truth recovery and gap backtest on the default data."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from lmforecast.errors import ConfigError, DataContractError
from lmforecast.report.gap import gap_paths, p_shortage
from lmforecast.report.openings import job_openings
from lmforecast.report.rates import load_separation_rates, separation_rates
from lmforecast.report.scenarios import scenario_effect, scenario_from_mapping
from lmforecast.taxonomy.fields import load_field_occupation

REPO = Path(__file__).resolve().parents[1]


def test_openings_floor_expansion_at_zero_and_apply_rates_to_start_of_year_employment():
    e = xr.DataArray([[100.0, 50.0], [120.0, 40.0]], dims=("year", "occupation"),
                     coords={"year": [2025, 2026], "occupation": ["2512", "61"]})
    rates = xr.DataArray([0.02, 0.04], dims="occupation", coords={"occupation": ["2512", "61"]})
    d = job_openings(e, rates, "annual")
    assert d["expansion_demand"].values.ravel().tolist() == [20.0, 0.0]
    np.testing.assert_allclose(d["job_openings"].values.ravel(), [22.0, 2.0])


def test_gap_ratio_and_p_shortage_come_from_paths():
    openings = xr.DataArray([[10.0, 10.0, 10.0, 10.0]], dims=("cell", "path"))
    supply = xr.DataArray([[5.0, 8.0, 12.0, 20.0]], dims=("cell", "path"))
    g = gap_paths(openings, supply)
    assert g["gap_ratio"].values.ravel().tolist() == [0.5, 0.2, -0.2, -1.0]
    assert p_shortage(g["gap"]).values.tolist() == [0.5]
    closed = scenario_effect(g["gap"], xr.DataArray([3.0], dims="cell"))
    assert closed["shortage_closed"].values.ravel().tolist() == [3.0, 2.0, 0.0, 0.0]


def test_separation_rates_use_the_longest_code(tmp_path):
    rates = separation_rates(["2512", "2511", "61"])
    table = load_separation_rates()
    assert rates["2512"] == pytest.approx(table.loc["25", "separation_rate"])
    assert rates["61"] == pytest.approx(table.loc["6", "separation_rate"])
    bad = tmp_path / "rates.csv"
    bad.write_text("code,name,retirement_rate,death_rate,emigration_rate\n2,Professionals,3,0.002,0.01\n")
    with pytest.raises(DataContractError, match=r"rates.csv, row 2, column 'retirement_rate': got '3'"):
        load_separation_rates(bad)


def test_a_matrix_whose_rows_do_not_sum_to_one_is_an_error(tmp_path):
    bad = tmp_path / "field_occupation.csv"
    bad.write_text("field,occupation,share\n061,2512,0.5\n061,2513,0.4\n")
    with pytest.raises(DataContractError, match=r"row 2, column 'share': got 0.9, expected shares of field '061'"):
        load_field_occupation(bad)
    assert float(load_field_occupation().sum()) == pytest.approx(load_field_occupation().sizes["field"])


def test_bad_scenario_names_file_key_value_and_expectation():
    spec = {"label": "x", "programmes": [{"trainees_per_year": 100, "from_year": 2027, "placement_rate": 1.3}]}
    with pytest.raises(ConfigError, match=r"conf/scenario/s.yaml, key 's.programmes\[0\].placement_rate': got 1.3"):
        scenario_from_mapping("s", spec)
    spec["programmes"][0].update(placement_rate=0.5, regions={"MA-06": 0.5})
    with pytest.raises(ConfigError, match="shares summing to 1"):
        scenario_from_mapping("s", spec)


def test_supply_by_field_is_mapped_to_occupations_keeping_totals(tmp_path):
    from lmforecast.contract import load_supply_by_field

    (tmp_path / "supply_by_field.csv").write_text(
        "period,region,field,measure,value,source\n2024,MA-06,061,graduates,1000,tracer\n2024,MA-06,071,graduates,500,x\n")
    out = load_supply_by_field(tmp_path)
    assert out["value"].sum() == pytest.approx(1500)
    assert out.loc[out["occupation"] == "2512", "value"].item() == pytest.approx(220)
    (tmp_path / "supply_by_field.csv").write_text(
        "period,region,field,measure,value,source\n2024,MA-06,999,graduates,1000,tracer\n")
    with pytest.raises(DataContractError, match=r"row 2, column 'field': got '999'"):
        load_supply_by_field(tmp_path)


@pytest.fixture(scope="module")
def small_report(tmp_path_factory):
    """A report of a small synthetic panel (2019-2025) with the trend model, written in French."""
    from lmforecast import pipeline
    from lmforecast.datasets import SyntheticMorocco
    from lmforecast.models.trend import TrendForecaster

    raw = tmp_path_factory.mktemp("raw") / "small"
    panel = pipeline.build(SyntheticMorocco(raw, start="2019-01", n_offers_scale=0.01))
    scenario = scenario_from_mapping("boot", {"label": "boot", "programmes": [
        {"trainees_per_year": 1000, "from_year": 2027, "placement_rate": 0.6, "regions": {"MA-06": 1.0},
         "occupations": {"2512": 1.0}}]})
    plan = pipeline.ReportPlan(years=(2026, 2027), n_paths=40, language="fr", scenarios=(scenario,), cutoffs=(2023,))
    projection = pipeline.project(TrendForecaster(), panel, ["vacancies"], plan, seed=1)
    out = tmp_path_factory.mktemp("report")
    result = pipeline.report(projection.forecast, plan, out_dir=out, name="r", panel=panel, model=TrendForecaster(),
                             truth_path=raw / "truth" / "report_truth.csv")
    return result, out


def test_report_files_tables_and_scenario(small_report):
    from openpyxl import load_workbook

    result, out = small_report
    names = sorted(p.name for p in result.paths)
    assert names == ["r.csv", "r.html", "r.parquet", "r.xlsx", "r_cumulative.csv"]
    table = pd.read_parquet(out / "r.parquet")
    assert len(table) == len(table.drop_duplicates(["year", "region", "occupation"]))
    assert {"region_name_fr", "occupation_name_fr", "gap_q10", "p_shortage", "rating"} <= set(table.columns)
    assert (table["gap_q10"] <= table["gap"]).all() and (table["gap"] <= table["gap_q90"]).all()
    book = load_workbook(out / "r.xlsx")
    assert "Lisez-moi" in book.sheetnames and book["Synthèse"].freeze_panes == "A2"
    summary = result.skill_gap.scenario_summary.iloc[0]
    assert summary["extra_supply"] == pytest.approx(600) and summary["shortage_closed"] <= 600
    assert "report_truth/sign_accuracy" in result.truth and "gap_backtest/sign_accuracy" in result.truth


def test_a_failed_report_leaves_no_file(small_report, tmp_path):
    from lmforecast.report.write import write_report

    result, _ = small_report
    with pytest.raises(ValueError, match="report.language"):
        write_report(result.skill_gap, tmp_path, "x", language="de")
    assert not list(tmp_path.iterdir())


def test_page_renders_in_headless_chromium(small_report):
    from lmforecast.report.render_check import find_chromium, render

    if find_chromium() is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium; .ci/run installs it)")
    result, out = small_report
    page = out / "r.html"
    text = page.read_text(encoding="utf-8")
    before, blob_and_after = text.split('<script id="plotly-gz" type="application/octet-stream">')
    after = blob_and_after.split("</script>", 1)[1]
    assert "cdn" not in (before + after).lower().split("<body>")[1] and 'src="http' not in text
    rendered = render(page)
    assert rendered["console_errors"] == []
    assert rendered["non_white_share"] > 0.05 and rendered["distinct_colours"] > 50


def test_page_embeds_the_installed_plotlyjs_compressed(small_report):
    """The page carries plotly.js gzip+base64 (not 4.8 MB raw) and every figure script waits for it."""
    import base64
    import gzip
    import re

    from plotly.offline import get_plotlyjs

    _, out = small_report
    text = (out / "r.html").read_text(encoding="utf-8")
    blob = re.search(r'<script id="plotly-gz" type="application/octet-stream">([^<]+)</script>', text).group(1)
    assert gzip.decompress(base64.b64decode(blob)).decode("utf-8") == get_plotlyjs()
    assert len(text) < 0.6 * len(get_plotlyjs())
    assert "Plotly.newPlot" in text and "<script>                window.PLOTLYENV" not in text
    held = text.count('<script type="text/x-plotly-figure">')
    assert held == text.count("Plotly.newPlot(") and held > 0


@pytest.mark.slow
@pytest.mark.xfail(reason="measured with the default (recommended) model, seed 20251: sign 92.8 %, 80 % coverage "
                          "90.9 %, national openings -5.4..-7.2 % and new supply +2.3..+17.9 % off the truth: the "
                          "jobseekers forecast keeps rising while the truth falls (issue 7's forecasts are the "
                          "limiting factor)", strict=False)
def test_report_recovers_the_true_gap_on_the_default_data(tmp_path):
    """Sign >= 90 % (|true ratio| > 10 %), 80 % coverage 70-90 %, national totals within 5 % (default model)."""
    from lmforecast import pipeline
    from lmforecast.datasets import SyntheticMorocco
    from lmforecast.datasets.morocco import jobintech_programme
    from lmforecast.models.recommended import default_forecaster
    from lmforecast.report.supply import SupplyAssumptions

    raw = Path(os.environ.get("LMFORECAST_DEFAULT_DATA", REPO / "data" / "raw" / "morocco"))
    panel = pipeline.build(SyntheticMorocco(raw))
    plan = pipeline.ReportPlan(assumptions=SupplyAssumptions(programmes=(jitp := jobintech_programme(),)),
                               track_record=False, formats=("csv",))
    model = default_forecaster("MS", n_jobs=1, num_threads=1, random_state=20251)
    projection = pipeline.project(model, panel, [], plan, seed=20251)
    result = pipeline.report(projection.forecast, plan, out_dir=tmp_path, name="truth", panel=panel,
                             truth_path=raw / "truth" / "report_truth.csv")
    scores = result.truth
    (tmp_path / "scores.json").write_text(json.dumps(scores, indent=1))
    print(json.dumps(scores, indent=1), jitp.name)
    assert scores["report_truth/sign_accuracy"] >= 0.90
    assert 0.70 <= scores["report_truth/coverage_80"] <= 0.90
    assert scores["report_truth/max_national_error"] <= 5.0


RAW_NAME = re.compile(r"[a-z0-9_]+")


def test_workbook_and_page_show_labels_not_column_names(small_report):
    """Planners read headers, not code: every header of the French workbook and page is a label."""
    from openpyxl import load_workbook

    _, out = small_report
    book = load_workbook(out / "r.xlsx", read_only=True)
    for sheet in book.worksheets:
        header = next(sheet.iter_rows(min_row=1, max_row=1, values_only=True), ())
        raw = [h for h in header if isinstance(h, str) and RAW_NAME.fullmatch(h)]
        assert not raw, f"sheet {sheet.title!r} has raw column names {raw}"
    page = (out / "r.html").read_text(encoding="utf-8")
    headers = re.findall(r"<th>([^<]*)</th>", page)
    assert headers and not [h for h in headers if RAW_NAME.fullmatch(h)]
    assert "Pénurie ou excédent" in headers and "Cellules" in headers  # rankings and backtest tables
    # counts are whole numbers on the page (a mixed-type row must not turn them into floats)
    backtest = page[page.index("Cellules notées (signe)"):]
    first_row = re.search(r"</tr><tr>(.*?)</tr>", backtest).group(1)
    assert not re.search(r"<td>\d+\.0</td>", first_row), first_row
    assert "separation_rates.csv" in page and str(Path(__file__).resolve().parents[1]) not in page  # no local paths
    by_year = page[page.index("<th>Années après la coupure</th>"):]
    assert re.search(r"</tr><tr><td>1</td>", by_year), by_year[:300]  # years ahead: 1, not 1.0


def test_accuracy_sheet_names_each_block_and_keeps_model_scores_long(small_report):
    from lmforecast.report.write import accuracy_table

    result, _ = small_report
    scores = pd.DataFrame({"vacancies": [1.37, 1.58]}, index=pd.Index(["recommended", "naive"], name="model"))
    table = accuracy_table(result.skill_gap, scores, "en")
    assert table.columns[0] == "table"
    assert table["table"].unique().tolist() == ["Model accuracy at the backtest horizon", "Gap backtest by cutoff",
                                                "Gap backtest by years ahead", "Reliability of P(shortage)"]
    models = table[table["table"] == "Model accuracy at the backtest horizon"]
    assert models[["model", "measure", "mase"]].values.tolist() == [["recommended", "vacancies", 1.37],
                                                                   ["naive", "vacancies", 1.58]]
    assert "vacancies" not in table.columns  # a measure's name as a column would read as its level


def test_scenario_sentence_says_when_trainees_only_add_to_a_surplus(small_report):
    from lmforecast.report.scenarios import scenario_sentence

    cells = pd.DataFrame({"gap": [-500.0, -20.0, 300.0], "extra_supply": [100.0, 50.0, 0.0]})
    row = {"label": "Bootcamp", "label_fr": "Formation", "extra_supply": 150.0, "shortage_closed": 0.0,
           "share_of_shortage_closed": 0.0}
    assert scenario_sentence(row, cells, "en") == ("Bootcamp: 150 placed trainees in 2 region x occupation cells; none "
                                                    "is in shortage in the baseline, so the trainees add to a projected "
                                                    "surplus.")
    assert scenario_sentence(row, cells, "fr").startswith("Formation : 150 stagiaires insérés dans 2 cellules")
    _, out = small_report
    page = (out / "r.html").read_text(encoding="utf-8")
    assert "600 stagiaires insérés dans" in page  # the report's own scenario, in its language


def test_every_unit_has_a_french_translation():
    from lmforecast.report.labels import COLUMNS, UNITS_FR, units

    missing = sorted({u for _, _, u in COLUMNS.values() if u and u not in UNITS_FR})
    assert not missing, f"units without a French translation in UNITS_FR: {missing}"
    assert units("gap_q90", "fr") == "personnes par an" and units("gap_q90") == "persons per year"
