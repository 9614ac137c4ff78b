"""Tests of lmforecast.tracking against a real MLflow sqlite store (and a real server, slow)."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import mlflow
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from lmforecast import panel as P
from lmforecast import tracking as T
from lmforecast.errors import TrackingError
from lmforecast.backtest import RollingOriginSplitter, backtest, save_backtest
from lmforecast.metrics import evaluate
from lmforecast.models.baselines import Naive, SeasonalNaive
from lmforecast.uncertainty import ResidualUncertainty

METRICS = ["mase", "wape", "coverage_80"]


def small_panel(seed: int = 0) -> xr.Dataset:
    """2 regions x 3 occupations x 48 months of seasonal vacancies (seeded)."""
    rng = np.random.default_rng(seed)
    time_index = pd.date_range("2019-01-01", periods=48, freq="MS")
    season = 10 * np.sin(2 * np.pi * np.arange(48) / 12)[:, None, None]
    values = 100 + season + rng.normal(0, 3, (48, 2, 3))
    return xr.Dataset(
        {"vacancies": (P.DIMS, values, P.measure_attrs("vacancies"))},
        coords={"time": time_index, "region": ["MA-01", "MA-06"], "occupation": ["2512", "21", "24"],
                "region_name": ("region", ["Tanger-Tetouan-Al Hoceima", "Casablanca-Settat"]),
                "occupation_name": ("occupation", ["Software developers", "Science", "Business"]),
                "occupation_major": ("occupation", ["2", "2", "2"])},
        attrs={"freq": "MS", "country": "MA", "provenance_inputs": '{"demand.csv": "ab12"}'})


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A sqlite tracking store shared by the module (creating its tables takes seconds)."""
    root = tmp_path_factory.mktemp("mlruns")
    yield f"sqlite:///{root / 'mlflow.db'}", str(root / "artifacts")
    mlflow.set_tracking_uri(None)


@pytest.fixture(scope="module")
def panel():
    return small_panel()


def run_backtest(model, panel):
    return backtest(model, panel, "vacancies", RollingOriginSplitter(horizon=6, n_windows=2, step=6),
                    quantiles=[0.1, 0.5, 0.9], progress=False)


def log_one(store, experiment, name, model, panel):
    ds = run_backtest(model, panel)
    overall = evaluate(ds, METRICS).set_index("metric")["value"]
    by_horizon = evaluate(ds, METRICS, by="horizon").pivot(index="horizon", columns="metric", values="value")
    tags = {T.TAG_KIND: "backtest", T.TAG_MODEL: name, T.TAG_TARGET: "vacancies"}
    with T.tracking_session(*store, experiment, run_name=name, tags=tags) as run:
        mlflow.log_params({f"model.{k}": str(v) for k, v in model.get_params().items()})
        T.log_backtest(ds, METRICS, overall, by_horizon, {"by_region": by_horizon}, plots=True,
                       save_netcdf=save_backtest)
    return run.info.run_id, overall


# --------------------------------------------------------------------------- params
def test_config_params_flatten_and_respect_mlflow_limits():
    config = {"model": {"_target_": "x.Y", "lags": [1, 2, 12]}, "data": {"name": "morocco"},
              "long": "v" * 7000, "k" * 300: 1, "members": [{"a": 1}, {"a": 2}]}
    params = T.config_params(config)
    assert params["model.lags"] == "[1, 2, 12]"
    assert params["data.name"] == "morocco"
    assert params["members.1.a"] == "2"
    assert len(params["long"]) == T.MAX_PARAM_VALUE_LENGTH and params["long"].endswith(T.TRUNCATION_MARK)
    (long_key,) = [k for k in params if k.endswith("kkk")]
    assert len(long_key) <= T.MAX_KEY_LENGTH


def test_data_sha256_depends_on_inputs_only(panel):
    other = panel.copy()
    other.attrs["provenance_inputs"] = '{"demand.csv": "ff00"}'
    assert T.data_sha256(panel) == T.data_sha256(panel.copy())
    assert T.data_sha256(panel) != T.data_sha256(other)
    assert T.data_sha256(panel.assign_attrs(provenance_inputs="{}")) is None


# --------------------------------------------------------------------------- sessions
def test_session_logs_config_tags_and_finishes(store, tmp_path):
    config = {"model": {"_target_": "lmforecast.models.baselines.Naive"}, "backtest": {"horizon": 6}}
    tags = T.run_tags(small_panel(), overrides=["model=naive"], project_root=tmp_path, custom="yes")
    with T.tracking_session(*store, "sessions", run_name="ok", tags=tags) as run:
        T.log_config(config)
    got = mlflow.MlflowClient(store[0]).get_run(run.info.run_id)
    assert got.info.status == "FINISHED"
    assert got.data.params["backtest.horizon"] == "6"
    assert got.data.tags[T.TAG_OVERRIDES] == "model=naive"
    assert got.data.tags[T.TAG_DATA_SHA] == T.data_sha256(small_panel())
    assert got.data.tags["custom"] == "yes"
    assert "wall_time_s" in got.data.metrics
    assert mlflow.active_run() is None


def test_failed_run_is_marked_failed_with_traceback(store):
    with pytest.raises(ZeroDivisionError):
        with T.tracking_session(*store, "sessions", run_name="boom") as run:
            1 / 0
    client = mlflow.MlflowClient(store[0])
    got = client.get_run(run.info.run_id)
    assert got.info.status == "FAILED"
    assert got.data.tags["lmforecast.error"].startswith("ZeroDivisionError")
    text = mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/error/traceback.txt")
    assert "ZeroDivisionError: division by zero" in text
    assert mlflow.active_run() is None


def test_nested_session_becomes_child(store):
    with T.tracking_session(*store, "sessions", run_name="parent") as parent:
        with T.tracking_session(*store, "sessions", run_name="child") as child:
            pass
    got = mlflow.MlflowClient(store[0]).get_run(child.info.run_id)
    assert got.data.tags["mlflow.parentRunId"] == parent.info.run_id


def test_sweep_parent_is_created_once_and_closed(store, tmp_path):
    first = T.find_or_create_sweep_parent(store[0], "sweeps", "/sweeps/2026-01-01", store[1])
    again = T.find_or_create_sweep_parent(store[0], "sweeps", "/sweeps/2026-01-01", store[1])
    other = T.find_or_create_sweep_parent(store[0], "sweeps", "/sweeps/2026-01-02", store[1])
    assert first == again != other
    with T.tracking_session(*store, "sweeps", run_name="job 0", parent_run_id=first):
        pass
    with pytest.raises(RuntimeError):
        with T.tracking_session(*store, "sweeps", run_name="job 1", parent_run_id=first):
            raise RuntimeError("trial failed")
    assert T.close_sweep_parent(store[0], first) == "FAILED"
    assert T.close_sweep_parent(store[0], other) == "FINISHED"


def test_sweep_parent_is_created_once_when_many_jobs_ask_at_once(store):
    """No lock file: the store's unique experiment names decide which job creates the parent."""
    import threading

    barrier = threading.Barrier(4)
    found, errors = [], []

    def job():
        try:
            barrier.wait()
            found.append(T.find_or_create_sweep_parent(store[0], "race", "/sweeps/race", store[1]))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=job) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(found) == 4 and len(set(found)) == 1
    client = mlflow.MlflowClient(store[0])
    experiment = client.get_experiment_by_name("race")
    parents = client.search_runs([experiment.experiment_id], filter_string=f"tags.`{T.TAG_KIND}` = 'sweep'")
    assert [p.info.run_id for p in parents] == found[:1]
    assert not any(e.name.startswith(T.SWEEP_CLAIM_PREFIX) for e in client.search_experiments())


def test_a_claimed_sweep_whose_parent_never_appears_fails_clearly(store):
    client = mlflow.MlflowClient(store[0])
    experiment_id = T.get_or_create_experiment(store[0], "orphan", store[1])
    assert T._claim_sweep(client, experiment_id, "/sweeps/orphan") is True
    assert T._claim_sweep(client, experiment_id, "/sweeps/orphan") is False
    with pytest.raises(TrackingError, match="was claimed by another process but did not appear within 0.5 s"):
        T.find_or_create_sweep_parent(store[0], "orphan", "/sweeps/orphan", store[1], timeout_s=0.5)


def test_interrupted_run_is_marked_killed(store):
    with pytest.raises(KeyboardInterrupt):
        with T.tracking_session(*store, "sessions", run_name="ctrl-c") as run:
            raise KeyboardInterrupt
    got = mlflow.MlflowClient(store[0]).get_run(run.info.run_id)
    assert got.info.status == "KILLED"
    assert got.data.tags[T.TAG_PID] == str(__import__("os").getpid())


def test_sweep_parent_left_open_is_closed_by_its_owner(store, tmp_path):
    run_id = T.find_or_create_sweep_parent(store[0], "sweeps", "/sweeps/crashed", store[1],
                                           run_name="sweep backtest: model=a,b on x", owner=True)
    assert T.close_open_sweeps("FAILED", "ValueError: boom") == [run_id]
    got = mlflow.MlflowClient(store[0]).get_run(run_id)
    assert (got.info.status, got.info.run_name, got.data.tags[T.TAG_ERROR]) == (
        "FAILED", "sweep backtest: model=a,b on x", "ValueError: boom")
    assert T.close_open_sweeps() == []  # nothing left open
    assert T.close_sweep_parent(store[0], run_id) == "FAILED"  # an ended parent is left as it is


def test_pipeline_track_names_the_run_closes_dead_runs_and_attaches_files(store, tmp_path):
    from lmforecast import pipeline

    uri = store[0]
    tracker = T.MlflowTracker(uri, "tracked", store[1], tags={"preset": "x"})
    client = mlflow.MlflowClient(uri)
    experiment_id = T.get_or_create_experiment(uri, "tracked", store[1])
    dead = client.create_run(experiment_id, run_name="killed -9", tags={**T.process_tags(), T.TAG_PID: "999999999"})
    note = tmp_path / "job.log"
    note.write_text("log\n")
    with pytest.raises(ValueError, match="stage failed"):
        with pipeline.track(tracker, "backtest", model="ridge", data="morocco", config={"seed": 1},
                            files={"hydra": [note]}) as run_id:
            raise ValueError("stage failed")
    assert client.get_run(dead.info.run_id).info.status == "KILLED"
    run = client.get_run(run_id)
    assert (run.info.run_name, run.info.status) == ("backtest: ridge on morocco", "FAILED")
    assert run.data.tags[T.TAG_STAGE] == "backtest" and run.data.tags["preset"] == "x"
    assert run.data.params["seed"] == "1"
    assert [f.path for f in client.list_artifacts(run_id, "hydra")] == ["hydra/job.log"]


# --------------------------------------------------------------------------- backtest logging
def test_log_backtest_metrics_by_horizon_tables_plots_and_netcdf(store, panel):
    run_id, overall = log_one(store, "logging", "seasonal_naive", SeasonalNaive(), panel)
    client = mlflow.MlflowClient(store[0])
    got = client.get_run(run_id)
    assert got.data.metrics["mase"] == pytest.approx(overall["mase"])
    history = client.get_metric_history(run_id, "horizon/mase")
    assert sorted(m.step for m in history) == [1, 2, 3, 4, 5, 6]
    artifacts = {f.path for d in ("metrics", "plots", "backtest") for f in client.list_artifacts(run_id, d)}
    assert artifacts == {"metrics/by_horizon.csv", "metrics/by_region.csv", "plots/error_by_horizon.png",
                         "plots/best_series.png", "plots/worst_series.png", "backtest/backtest.nc"}


def test_best_and_worst_series(panel):
    ds = run_backtest(SeasonalNaive(), panel)
    scores = T.series_mase(ds)
    best, worst = T.best_and_worst_series(ds)
    assert scores[best] == scores.min() and scores[worst] == scores.max()


# --------------------------------------------------------------------------- pyfunc
def test_pyfunc_round_trip_predicts_the_same(store, panel):
    model = SeasonalNaive().fit(panel, "vacancies")
    expected = T.forecast_frame(model.predict(5, quantiles=[0.1, 0.5, 0.9]))
    with T.tracking_session(*store, "models", run_name="pyfunc"):
        info = T.log_forecaster(model, name="forecaster", quantiles=[0.1, 0.5, 0.9])
    loaded = mlflow.pyfunc.load_model(info.model_uri)
    pd.testing.assert_frame_equal(loaded.predict(pd.DataFrame({"horizon": [5]})), expected)
    only_median = loaded.predict(pd.DataFrame({"horizon": [2], "quantiles": ["0.5"]}))
    assert only_median["quantile"].unique().tolist() == [0.5] and len(only_median) == 2 * 2 * 3
    assert list(expected.columns) == ["time", "region", "occupation", "quantile", "value"]
    with pytest.raises(mlflow.exceptions.MlflowException, match=re.escape("Model is missing inputs ['horizon']")):
        loaded.predict(pd.DataFrame({"steps": [3]}))
    assert loaded.metadata.get_input_schema() == T.pyfunc_signature().inputs


def test_models_are_logged_from_code_without_warnings(store, panel, recwarn, caplog, tmp_path):
    model = SeasonalNaive().fit(panel, "vacancies")
    with T.tracking_session(*store, "models", run_name="quiet"):
        info = T.log_forecaster(model, name="forecaster")
    assert [str(w.message)[:80] for w in recwarn if not issubclass(w.category, DeprecationWarning)] == []
    assert [r.getMessage()[:80] for r in caplog.records if r.levelno >= 30] == []
    local = mlflow.artifacts.download_artifacts(info.model_uri, dst_path=str(tmp_path))
    files = {p.relative_to(local).as_posix() for p in __import__("pathlib").Path(local).rglob("*") if p.is_file()}
    assert "mlflow_model.py" in files and "artifacts/forecaster.joblib.xz" in files  # the model code, copied
    assert not any(name.endswith(".pkl") for name in files)  # no CloudPickle of a Python object


def test_forecaster_file_round_trip(tmp_path, panel):
    model = SeasonalNaive().fit(panel, "vacancies")
    path = T.dump_forecaster(model, tmp_path / "f.joblib.xz")
    assert path.read_bytes()[:6] == b"\xfd7zXZ\x00"  # an xz stream
    xr.testing.assert_identical(T.load_forecaster(path).predict(4), model.predict(4))


# --------------------------------------------------------------------------- leaderboard
def test_leaderboard_ranks_runs(store, panel):
    scores = {}
    six = ResidualUncertainty(n_windows=6)
    for name, model in {"naive": Naive(uncertainty=six), "seasonal_naive": SeasonalNaive(uncertainty=six)}.items():
        _, overall = log_one(store, "board", name, model, panel)
        scores[name] = overall
    with pytest.raises(RuntimeError):  # a failed run is not ranked
        with T.tracking_session(*store, "board", tags={T.TAG_KIND: "backtest", T.TAG_MODEL: "broken"}):
            raise RuntimeError("no")
    board = T.leaderboard("board", store[0])
    assert list(board.columns) == T.LEADERBOARD_COLUMNS
    assert sorted(board["model"]) == ["naive", "seasonal_naive"]
    assert board["mase"].is_monotonic_increasing
    assert board.loc[0, "model"] == min(scores, key=lambda n: scores[n]["mase"])
    assert "uncertainty__n_windows=6" in board.loc[0, "params"]      # the model's params, as logged
    by_coverage = T.leaderboard("board", store[0], metric="coverage_80", top=1)
    assert len(by_coverage) == 1
    assert by_coverage.loc[0, "model"] == min(scores, key=lambda n: abs(scores[n]["coverage_80"] - 0.8))
    with pytest.raises(ValueError, match=re.escape("no MLflow experiment 'nope'")):
        T.leaderboard("nope", store[0])
    with pytest.raises(ValueError, match=re.escape("has metric 'nosuch'")):
        T.leaderboard("board", store[0], metric="nosuch")


# --------------------------------------------------------------------------- real server
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_logs_to_a_real_mlflow_server(tmp_path, panel):
    port = _free_port()
    mlflow_bin = shutil.which("mlflow", path=str(__import__("pathlib").Path(sys.executable).parent))
    assert mlflow_bin, "the mlflow CLI is installed with the mlflow package"
    log = open(tmp_path / "server.log", "w")
    server = subprocess.Popen(
        [mlflow_bin, "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
         "--backend-store-uri", f"sqlite:///{tmp_path / 'server.db'}",
         "--default-artifact-root", str(tmp_path / "server-artifacts")],
        stdout=log, stderr=subprocess.STDOUT)
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{uri}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"mlflow server did not come up: {(tmp_path / 'server.log').read_text()[-2000:]}")
            time.sleep(0.5)
        run_id, overall = log_one((uri, None), "server", "seasonal_naive", SeasonalNaive(), panel)
        got = mlflow.MlflowClient(uri).get_run(run_id)
        assert got.info.status == "FINISHED"
        assert got.data.metrics["mase"] == pytest.approx(overall["mase"])
        board = T.leaderboard("server", uri)
        assert board["run_id"].tolist() == [run_id]
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
        mlflow.set_tracking_uri(None)
