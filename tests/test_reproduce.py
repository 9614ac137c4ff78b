"""Reproducibility: the same command twice gives identical numbers, and so does a re-run from the
config a run saved (``lmforecast run --config-dir <run>/rerun``, the README's command), from its
output folder or downloaded from MLflow."""

from __future__ import annotations

import json
import os
from pathlib import Path

import mlflow
import pytest

from lmforecast import cli

# the morocco_quick preset, trimmed (2 targets, 1 fold, no plots/models) to keep three runs short
ARGS = ["experiment=morocco_quick", "compare.seasonal_naive=null", "data.targets=[vacancies,jobseekers]",
        "backtest.n_windows=1", "tracking.log_plots=false", "tracking.log_model=false", "report.n_paths=50"]


def run(args, cwd: Path) -> dict:
    """Run the CLI in ``cwd``; return the newest metrics.json it wrote."""
    old = Path.cwd()
    os.chdir(cwd)
    try:
        assert cli.main(args) == 0
    finally:
        os.chdir(old)
    newest = max((cwd / "outputs").rglob("metrics.json"), key=lambda p: p.stat().st_mtime_ns)
    return json.loads(newest.read_text())


def numbers(metrics: dict) -> dict:
    """The reproducible part: every ``<target>/<model>/<metric>`` and ``gap_truth/*`` value."""
    return {k: v for k, v in metrics.items() if "/" in k}


def gap_csv(metrics: dict) -> bytes:
    return Path(metrics["gap_table"]).read_bytes()


@pytest.mark.slow
def test_same_command_twice_and_rerun_from_saved_config(tmp_path):
    first = run(["run", *ARGS], tmp_path)
    second = run(["run", *ARGS], tmp_path)
    groups = {}
    for key in numbers(first):
        groups.setdefault(key.rsplit("/", 1)[0], set()).add(key.rsplit("/", 1)[1])
    # both targets' backtest metrics, the report against the generator's truth, the gap track record
    assert set(groups) == {"vacancies/lightgbm_small", "jobseekers/lightgbm_small", "report_truth", "gap_backtest"}
    assert groups["vacancies/lightgbm_small"] == groups["jobseekers/lightgbm_small"] >= {"mase", "coverage_80",
                                                                                           "change_error", "direction"}
    assert {"sign_accuracy", "coverage_80"} <= groups["report_truth"] & groups["gap_backtest"]
    assert numbers(second) == numbers(first)
    assert gap_csv(second) == gap_csv(first)
    assert second["run_id"] != first["run_id"]

    saved = tmp_path / "saved"
    local = mlflow.artifacts.download_artifacts(run_id=first["run_id"], artifact_path="rerun/config.yaml",
                                        dst_path=str(saved),
                                        tracking_uri=f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}")
    assert Path(local).name == "config.yaml"
    third = run(["run", "--config-dir", str(Path(local).parent)], tmp_path)
    assert numbers(third) == numbers(first)
    assert gap_csv(third) == gap_csv(first)
    fourth = run(["run", "--config-dir", str(Path(first["gap_table"]).parents[1] / "rerun")], tmp_path)
    assert numbers(fourth) == numbers(first)
