"""Tests of the `lmforecast` command line (lmforecast.cli)."""

from __future__ import annotations

import importlib
import re
import socket
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest

from lmforecast import cli
from lmforecast import tracking as T
from lmforecast.errors import DataContractError

REPO = Path(__file__).resolve().parents[1]


def test_no_argument_prints_usage(capsys):
    assert cli.main([]) == 2
    assert "usage: lmforecast <stage>" in capsys.readouterr().out
    assert cli.main(["--help"]) == 0


def test_unknown_stage_lists_the_stages(capsys):
    assert cli.main(["trian"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == ("lmforecast: unknown stage 'trian'; choose one of: build_panel, backtest, forecast, "
                           "report, run, leaderboard, runs, generate-data, team-server")


def test_console_script_is_installed():
    exe = Path(sys.executable).parent / "lmforecast"
    done = subprocess.run([str(exe), "nosuchstage"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "unknown stage 'nosuchstage'" in done.stderr


@pytest.mark.parametrize("stage", cli.HYDRA_STAGES)
def test_stages_are_imported_from_the_experiments_package(stage):
    module = cli._stage_module(stage)
    assert module is importlib.import_module(f"experiments.{stage}")
    assert Path(module.__file__) == REPO / "experiments" / f"{stage}.py"
    assert callable(getattr(module, stage)) and callable(module.main)  # plain task function + Hydra wrapper


def test_bad_override_is_one_message_exit_2_before_reading_any_data(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    assert cli.main(["run", "backtest.horizn=3"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lmforecast run: error: Could not override 'backtest.horizn'")
    assert "Traceback" not in err
    assert cli.main(["backtest", "model=no_such_model"]) == 2
    assert "Could not find 'model/no_such_model'" in capsys.readouterr().err
    assert not (tmp_path / "data").exists() and not (tmp_path / "mlruns").exists()


def bad_raw_folder(tmp_path, tiny_demand, write_table) -> Path:
    demand = tiny_demand.copy()
    demand.loc[6, "period"] = "2099-03"
    return write_table(tmp_path / "raw" / "bad", "demand", demand).parent


def test_a_data_error_is_one_message_exit_2(tmp_path, monkeypatch, capsys, tiny_demand, write_table):
    raw = bad_raw_folder(tmp_path, tiny_demand, write_table)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    assert cli.main(["build_panel", "data=custom", f"data.raw_dir={raw}", "tracking=none"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"Error executing job with overrides: ['data=custom', 'data.raw_dir={raw}', 'tracking=none']"
    assert err[1].startswith(f"lmforecast build_panel: error: file {raw / 'demand.csv'}, row 8, column 'period': "
                             f"got '2099-03', expected a period starting on or before ")
    assert err[2:] == ["(run with --debug, or HYDRA_FULL_ERROR=1, for the traceback)"]


def test_debug_or_hydra_full_error_shows_the_traceback(tmp_path, monkeypatch, tiny_demand, write_table):
    raw = bad_raw_folder(tmp_path, tiny_demand, write_table)
    monkeypatch.chdir(tmp_path)
    args = ["build_panel", "data=custom", f"data.raw_dir={raw}", "tracking=none"]
    with pytest.raises(DataContractError, match="2099-03"):
        cli.main([*args, "--debug"])
    monkeypatch.setenv("HYDRA_FULL_ERROR", "1")
    with pytest.raises(DataContractError, match="2099-03"):
        cli.main(args)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once the socket is closed


def test_unreachable_tracking_server_is_one_line_naming_the_uri(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    uri = f"http://127.0.0.1:{_closed_port()}"
    assert cli.main(["run", "experiment=morocco_quick", f"tracking.uri={uri}"]) == 2
    (first,) = [line for line in capsys.readouterr().err.splitlines() if line.startswith("lmforecast run: error:")]
    assert re.fullmatch(rf"lmforecast run: error: the MLflow tracking server {re.escape(uri)} does not answer "
                        r"within 5 s \([^()]+\); start it, fix tracking.uri, or run without tracking: tracking=none",
                        first), first
    assert not (tmp_path / "data").exists()  # failed before generating or reading any data


def test_cfg_job_prints_the_composed_config(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["run", "experiment=morocco_quick", "--cfg", "job", "--resolve"]) == 0
    out = capsys.readouterr().out
    assert "name: morocco_quick" in out and "_target_: lmforecast.datasets.SyntheticMorocco" in out
    assert f"uri: sqlite:///{tmp_path}/mlruns/mlflow.db" in out


def test_config_dir_of_a_saved_run_selects_its_config(tmp_path):
    assert cli._with_saved_config(["--config-dir", str(tmp_path)]) == ["--config-dir", str(tmp_path)]
    (tmp_path / "config.yaml").write_text("seed: 1\n")
    assert cli._with_saved_config(["--config-dir", str(tmp_path), "seed=2"]) == [
        "--config-dir", str(tmp_path), "seed=2", "--config-name", "config"]
    assert cli._with_saved_config([f"--config-dir={tmp_path}", "-cn", "run"]) == [f"--config-dir={tmp_path}", "-cn",
                                                                                   "run"]


def test_generate_data(tmp_path, capsys):
    raw = tmp_path / "raw"
    args = ["generate-data", "--raw-dir", str(raw), "--start", "2024-01", "--end", "2025-06",
            "--truth-end", "2025-12", "--n-offers-scale", "0.01"]
    assert cli.main(args) == 0
    assert f"synthetic Moroccan data written to {raw}" in capsys.readouterr().out
    assert {"demand.csv", "supply.csv", "offers.parquet"} <= {p.name for p in raw.iterdir()}
    assert (raw / "truth" / "gap_truth.csv").exists()
    assert cli.main([*args, "--seed", "7"]) == 2  # other parameters: refused, one message
    err = capsys.readouterr().err
    assert err.startswith(f"lmforecast generate-data: error: {raw} holds data generated with ") and "Traceback" not in err


@pytest.fixture(scope="module")
def store_uri(tmp_path_factory):
    """One sqlite tracking store for the module (creating its tables takes seconds)."""
    yield f"sqlite:///{tmp_path_factory.mktemp('mlruns') / 'mlflow.db'}"
    mlflow.set_tracking_uri(None)


def test_leaderboard_command(tmp_path, capsys, store_uri):
    uri = store_uri
    experiment_id = T.get_or_create_experiment(uri, "cli-board", str(tmp_path / "artifacts"))
    client = mlflow.MlflowClient(uri)
    for model, mase in (("naive", 1.3), ("lightgbm", 0.8), ("drift", 1.1)):
        run = client.create_run(experiment_id, tags={T.TAG_KIND: "backtest", T.TAG_MODEL: model,
                                                     T.TAG_TARGET: "vacancies"})
        client.log_metric(run.info.run_id, "mase", mase)
        client.log_param(run.info.run_id, "model.n_windows_calibration", "6")
        client.set_terminated(run.info.run_id, "FINISHED")
    assert cli.main(["leaderboard", "--experiment", "cli-board", "--tracking-uri", uri, "--top", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert re.split(r"\s+", lines[0].strip())[:4] == ["target", "model", "params", "mase"]
    assert [line.split()[1] for line in lines[1:]] == ["lightgbm", "drift"]
    assert cli.main(["leaderboard", "--experiment", "missing", "--tracking-uri", uri]) == 2
    assert "error: no MLflow experiment 'missing'" in capsys.readouterr().err


def test_runs_clean_marks_runs_of_dead_processes_killed(tmp_path, capsys, store_uri):
    uri = store_uri
    experiment_id = T.get_or_create_experiment(uri, "cli-runs", str(tmp_path / "artifacts"))
    client = mlflow.MlflowClient(uri)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()
    killed = client.create_run(experiment_id, run_name="killed", tags={**T.process_tags(), T.TAG_PID: dead})
    alive = client.create_run(experiment_id, run_name="alive", tags=T.process_tags())
    assert cli.main(["runs", "--experiment", "cli-runs", "--tracking-uri", uri]) == 0
    assert capsys.readouterr().out.count("RUNNING ") == 2
    assert cli.main(["runs", "--clean", "--experiment", "cli-runs", "--tracking-uri", uri]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"marked 1 run(s) KILLED: {killed.info.run_id}")
    assert client.get_run(killed.info.run_id).info.status == "KILLED"
    assert f"process {dead} on " in client.get_run(killed.info.run_id).data.tags[T.TAG_ERROR]
    assert client.get_run(alive.info.run_id).info.status == "RUNNING"


def test_a_missing_optional_extra_is_named():
    from hydra.errors import MissingConfigException

    exc = MissingConfigException("In 'experiment/tune_lightgbm': Could not find 'hydra/sweeper/optuna'")
    assert cli.error_message(exc).splitlines()[-1] == ('the Optuna sweeper comes with the `tune` extra: '
                                                       'pip install -e ".[tune]"')


def test_report_from_a_forecast_without_sample_paths_says_how_to_keep_them(tmp_path, monkeypatch, capsys):
    """forecast.nc keeps no sample paths by default; the report stage names the file and the fix."""
    from lmforecast import pipeline
    from lmforecast.datasets.example_country import example_panel
    from lmforecast.models.baselines import SeasonalNaive

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    plan = pipeline.ReportPlan(years=(2026,), n_paths=10)
    projection = pipeline.project(SeasonalNaive(), example_panel(), [], plan, out_dir=tmp_path)
    assert cli.main(["report", f"forecast_path={projection.path}", "tracking=none"]) == 2
    err = capsys.readouterr().err
    assert f"{projection.path} holds no sample paths" in err and "report.keep_paths=true" in err
    assert "Traceback" not in err
