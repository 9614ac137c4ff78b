"""Tests of the `lmforecast` command line (lmforecast.cli)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest

from lmforecast import cli
from lmforecast import tracking as T

REPO = Path(__file__).resolve().parents[1]


def test_no_argument_prints_usage(capsys):
    assert cli.main([]) == 2
    assert "usage: lmforecast <stage>" in capsys.readouterr().out
    assert cli.main(["--help"]) == 0


def test_unknown_stage_lists_the_stages(capsys):
    assert cli.main(["trian"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == ("lmforecast: unknown stage 'trian'; choose one of: build_panel, backtest, forecast, "
                           "report, run, leaderboard, generate-data")


def test_console_script_is_installed():
    exe = Path(sys.executable).parent / "lmforecast"
    done = subprocess.run([str(exe), "nosuchstage"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "unknown stage 'nosuchstage'" in done.stderr


def test_experiments_dir_found_from_cwd_then_source_checkout(tmp_path, monkeypatch):
    monkeypatch.delenv(cli.ENV_EXPERIMENTS, raising=False)
    assert cli.find_experiments_dir(REPO) == REPO / "experiments"
    assert cli.find_experiments_dir(tmp_path) == REPO / "experiments"  # falls back to the checkout
    own = tmp_path / "experiments"
    own.mkdir()
    (own / "run.py").write_text("")
    assert cli.find_experiments_dir(tmp_path) == own
    monkeypatch.setenv(cli.ENV_EXPERIMENTS, str(tmp_path / "nowhere"))
    assert cli.find_experiments_dir(tmp_path) == own


def test_bad_override_fails_before_reading_any_data(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["run", "backtest.horizn=3"]) == 1
    assert "Could not override 'backtest.horizn'" in capsys.readouterr().err
    assert cli.main(["backtest", "model=no_such_model"]) == 1
    assert "Could not find 'model/no_such_model'" in capsys.readouterr().err
    assert not (tmp_path / "data").exists() and not (tmp_path / "mlruns").exists()


def test_cfg_job_prints_the_composed_config(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["run", "experiment=morocco_quick", "--cfg", "job", "--resolve"]) == 0
    out = capsys.readouterr().out
    assert "name: morocco_quick" in out
    assert f"uri: sqlite:///{tmp_path}/mlruns/mlflow.db" in out


def test_generate_data(tmp_path, capsys):
    raw = tmp_path / "raw"
    assert cli.main(["generate-data", "--raw-dir", str(raw), "--start", "2024-01", "--end", "2025-06",
                     "--truth-end", "2025-12", "--n-offers-scale", "0.01"]) == 0
    assert f"synthetic Moroccan data written to {raw}" in capsys.readouterr().out
    assert {"demand.csv", "supply.csv", "offers.parquet"} <= {p.name for p in raw.iterdir()}
    assert (raw / "truth" / "gap_truth.csv").exists()


def test_leaderboard_command(tmp_path, capsys):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
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
    with pytest.raises(ValueError, match=re.escape("no MLflow experiment 'missing'")):
        cli.main(["leaderboard", "--experiment", "missing", "--tracking-uri", uri])
