"""`lmforecast run` end to end on the morocco_quick preset in a temporary project folder.

The fast test runs the pipeline with tracking off and the cheapest models; the slow ones run the
preset as is (LightGBM + baseline, MLflow in a temp sqlite store), check the gap against the
generator's known truth, the failed-run path, a multirun sweep (and a failing one) and an Optuna
sweep.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from lmforecast import cli, pipeline
from lmforecast import tracking as T

REPO = Path(__file__).resolve().parents[1]
FAST = ["experiment=morocco_quick", "tracking=none", "model=seasonal_naive", "compare.seasonal_naive=null",
        "data.targets=[vacancies,jobseekers]", "backtest.n_windows=1", "report.n_paths=50"]
# Tolerance measured on the preset (seed 20251, 2026-2027): gap WAPE vs truth 8.4 %, 80 % interval
# coverage 0.996 (see the report); asserted with a margin.


def run_cli(args, cwd: Path) -> int:
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return cli.main(args)
    finally:
        os.chdir(old)


def latest_output(root: Path, stage: str = "run") -> Path:
    return sorted((root / "outputs" / stage / "runs").iterdir())[-1]


def test_fast_pipeline_writes_panel_backtests_forecast_and_skill_gap_report(tmp_path):
    assert run_cli(["run", *FAST], tmp_path) == 0
    out = latest_output(tmp_path)
    metrics = json.loads((out / "metrics.json").read_text())
    assert (tmp_path / "data" / "processed" / "morocco_quick_panel.nc").exists()
    assert {p.name for p in (out / "backtests").iterdir()} == {"vacancies", "jobseekers"}
    assert 0 < metrics["vacancies/seasonal_naive/mase"] < 5 and 0 < metrics["jobseekers/seasonal_naive/mase"] < 5
    reports = out / "reports"
    assert {p.name for p in reports.iterdir()} >= {f"skill_gap_morocco_quick.{ext}" for ext in ("csv", "parquet",
                                                                                              "xlsx", "html")}
    table = pd.read_csv(reports / "skill_gap_morocco_quick.csv", dtype={"region": str, "occupation": str})
    assert sorted(table["year"].unique()) == [2026, 2027]
    assert list(table.columns[:7]) == ["year", "region", "region_name", "region_name_fr", "occupation",
                                       "occupation_name", "occupation_name_fr"]
    # openings = expansion + replacement (cells are medians over paths, rounded: no exact sums here)
    assert (table[["expansion_demand", "replacement_demand", "job_openings"]] >= 0).all().all()
    parts = table[["expansion_demand", "replacement_demand"]].max(axis=1)
    assert (table["job_openings"] >= 0.9 * parts - 2).all()
    assert table["gap_q10"].le(table["gap_q90"]).all() and table["p_shortage"].between(0, 1).all()
    assert set(table["rating"]) <= {"shortage", "balance", "surplus"}
    assert not (tmp_path / "mlruns" / "mlflow.db").exists()  # tracking=none
    # data/raw is never modified by the pipeline: regenerate check via the generator's manifest
    assert (tmp_path / "data" / "raw" / "morocco_quick" / "generator.json").exists()


@pytest.fixture(scope="module")
def quick_project(tmp_path_factory):
    """The morocco_quick preset run once, as is, with MLflow in the project's sqlite store."""
    root = tmp_path_factory.mktemp("project")
    assert run_cli(["run", "experiment=morocco_quick"], root) == 0
    return root, json.loads((latest_output(root) / "metrics.json").read_text())


@pytest.mark.slow
def test_run_logs_pipeline_and_backtest_runs_to_mlflow(quick_project):
    root, metrics = quick_project
    uri = f"sqlite:///{root / 'mlruns' / 'mlflow.db'}"
    client = mlflow.MlflowClient(uri)
    experiment = client.get_experiment_by_name("lmforecast-morocco_quick")
    parent = client.get_run(metrics["run_id"])
    assert parent.info.status == "FINISHED"
    assert parent.data.tags[T.TAG_KIND] == "pipeline" and T.TAG_DATA_SHA in parent.data.tags
    assert parent.data.params["data.name"] == "morocco_quick"
    assert parent.data.metrics["vacancies/lightgbm_small/mase"] == pytest.approx(metrics["vacancies/lightgbm_small/mase"])
    children = client.search_runs([experiment.experiment_id],
                                  filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    assert sorted((c.data.tags[T.TAG_TARGET], c.data.tags[T.TAG_MODEL]) for c in children) == sorted(
        (t, m) for t in ("vacancies", "jobseekers", "job_offers") for m in ("lightgbm_small", "seasonal_naive"))
    artifacts = {f.path for f in client.list_artifacts(parent.info.run_id)}
    assert {"report", "hydra", "config", "rerun"} <= artifacts
    assert metrics["model_uri_vacancies"].startswith("models:/")
    # the CSV of the table stays in the run's folder; MLflow gets the same table as Parquet
    assert {f.path for f in client.list_artifacts(parent.info.run_id, "report")} == {
        f"report/skill_gap_morocco_quick{ext}" for ext in (".parquet", "_cumulative.csv", ".xlsx", ".html")}
    board = T.leaderboard("lmforecast-morocco_quick", uri)
    vacancies = board[board["target"] == "vacancies"]
    assert vacancies["mase"].is_monotonic_increasing and len(vacancies) == 2


@pytest.mark.slow
def test_logged_forecaster_reproduces_the_forecast_file(quick_project):
    root, metrics = quick_project
    import xarray as xr

    mlflow.set_tracking_uri(f"sqlite:///{root / 'mlruns' / 'mlflow.db'}")
    model = mlflow.pyfunc.load_model(metrics["model_uri_vacancies"])
    with xr.open_dataset(metrics["forecast_path"]) as forecast:
        expected = T.forecast_frame(forecast["vacancies"].load())
    got = model.predict(pd.DataFrame({"horizon": [24]}))
    # forecast.nc keeps 0.01 of a unit in float32 (pipeline.write_forecast); the model predicts float64
    pd.testing.assert_frame_equal(got.drop(columns="time"), expected.drop(columns="time"), check_dtype=False,
                                  check_exact=False, rtol=0, atol=10.0 ** -pipeline.CUBE_DECIMALS)
    assert (pd.to_datetime(got["time"]) == pd.to_datetime(expected["time"])).all()
    mlflow.set_tracking_uri(None)


@pytest.mark.slow
def test_the_report_is_scored_against_the_known_truth(quick_project):
    """The quick run scores its report against the generator's truth (the figures themselves are
    checked on the default data by tests/test_skill_gap_report.py)."""
    root, metrics = quick_project
    assert metrics["report_truth/n"] == 2 * 12 * 59  # years x regions x occupations with a truth value
    assert 0 <= metrics["report_truth/sign_accuracy"] <= 1 and 0 <= metrics["report_truth/coverage_80"] <= 1
    assert np.isfinite(metrics["report_truth/max_national_error"])


@pytest.mark.slow
def test_failed_run_is_marked_failed_and_leaves_no_partial_files(quick_project):
    root, _ = quick_project
    before = sorted(p.name for p in (root / "data" / "processed").iterdir())
    assert run_cli(["run", "experiment=morocco_quick", "data.targets=[vacancies,no_such_measure]"], root) == 2
    client = mlflow.MlflowClient(f"sqlite:///{root / 'mlruns' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("lmforecast-morocco_quick")
    (failed,) = client.search_runs([experiment.experiment_id], filter_string="attributes.status = 'FAILED'")
    assert "no_such_measure" in failed.data.tags["lmforecast.error"]
    text = mlflow.artifacts.load_text(f"{failed.info.artifact_uri}/error/traceback.txt")
    assert "PanelError: data.targets names 'no_such_measure'" in text
    assert sorted(p.name for p in (root / "data" / "processed").iterdir()) == before  # no temp files


@pytest.mark.slow
def test_multirun_sweep_gets_one_parent_run(tmp_path):
    args = ["backtest", "-m", *FAST[:-1], "tracking=mlflow", "model=naive,drift", "data.targets=[vacancies]"]
    assert run_cli(args, tmp_path) == 0
    assert len(list((tmp_path / "multirun" / "backtest").iterdir())) == 1  # not an earlier run's folder
    client = mlflow.MlflowClient(f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("lmforecast-morocco_quick")
    (parent,) = client.search_runs([experiment.experiment_id], filter_string=f"tags.`{T.TAG_KIND}` = 'sweep'")
    assert parent.info.status == "FINISHED"
    jobs = client.search_runs([experiment.experiment_id],
                              filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    assert sorted(j.data.params["model._target_"] for j in jobs) == ["lmforecast.models.baselines.Drift",
                                                                    "lmforecast.models.baselines.Naive"]
    assert all(j.info.status == "FINISHED" for j in jobs)
    assert parent.info.run_name == "sweep backtest: model=naive,drift on morocco_quick"
    assert sorted(j.info.run_name for j in jobs) == ["backtest: drift on morocco_quick",
                                                     "backtest: naive on morocco_quick"]


@pytest.mark.slow
def test_a_failed_sweep_marks_its_parent_failed(tmp_path):
    args = ["backtest", "-m", *FAST[:-1], "tracking=mlflow", "model=naive,drift", "data.targets=[no_such_measure]"]
    assert run_cli(args, tmp_path) == 2
    client = mlflow.MlflowClient(f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("lmforecast-morocco_quick")
    (parent,) = client.search_runs([experiment.experiment_id], filter_string=f"tags.`{T.TAG_KIND}` = 'sweep'")
    assert parent.info.status == "FAILED"
    assert "PanelError: data.targets names 'no_such_measure'" in parent.data.tags[T.TAG_ERROR]
    jobs = client.search_runs([experiment.experiment_id], f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    assert sorted((j.info.run_name, j.info.status) for j in jobs) == [  # in this project's store, not an earlier one
        ("backtest: drift on morocco_quick", "FAILED"), ("backtest: naive on morocco_quick", "FAILED")]
    assert not client.search_runs([experiment.experiment_id], filter_string="attributes.status = 'RUNNING'")


@pytest.mark.slow
def test_optuna_sweep_runs_trials(tmp_path):
    args = ["backtest", "experiment=tune_lightgbm", "data.name=morocco_quick",
            "data.raw_dir=${paths.raw}/morocco_quick", "data.source.start=2019-01",
            "data.source.n_offers_scale=0.02", "backtest.horizon=6", "backtest.n_windows=1",
            "tracking=none", "hydra.sweeper.n_trials=2", "hydra.launcher.n_jobs=1",
            "uncertainty=quick"]
    assert run_cli(args, tmp_path) == 0
    sweep = sorted((tmp_path / "multirun" / "backtest").iterdir())[-1]
    results = (sweep / "optimization_results.yaml").read_text()
    assert "best_value" in results and "model.learning_rate" in results


SHARED_AU_IVI = REPO / ".." / "shared" / "data" / "au-ivi"


@pytest.mark.shared_data
def test_au_ivi_preset_builds_and_backtests_the_real_panel(tmp_path):
    if not SHARED_AU_IVI.is_dir():
        pytest.skip(f"shared data folder {SHARED_AU_IVI.resolve()} is absent")
    (workbook,) = SHARED_AU_IVI.glob("*.xlsx")
    args = ["backtest", "experiment=au_ivi_lightgbm", f"data.source.path={workbook.resolve()}", "tracking=none",
            "model=seasonal_naive", "compare.seasonal_naive=null", "compare.naive=null", "compare.fixed_share=null",
            "backtest.n_windows=1"]
    assert run_cli(args, tmp_path) == 0
    metrics = json.loads((latest_output(tmp_path, "backtest") / "metrics.json").read_text())
    assert (tmp_path / "data" / "processed" / "au_ivi_panel.nc").exists()
    assert sorted(metrics) == sorted([f"job_offers/seasonal_naive/{m}" for m in
                                      ("mase", "wape", "smape", "mae", "rmse", "bias", "coverage_80", "pinball",
                                       "change_error", "direction")]
                                     + ["panel_path", "run_id"])
    assert 0 < metrics["job_offers/seasonal_naive/mase"] < 10
