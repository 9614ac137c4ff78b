"""MLflow helpers: runs, parameters, tags, backtest metrics, plots, forecaster models, leaderboard.

The default store is an embedded sqlite database (``sqlite:///<project>/mlruns/mlflow.db``; MLflow 3
no longer accepts a plain ``./mlruns`` file store for new work), artifacts under
``<project>/mlruns/artifacts``; any ``http://`` server URI works too.

Everything here takes plain Python arguments; ``experiments/`` turns a Hydra config into them.

Run layout written by ``lmforecast run``: one run per pipeline invocation (``lmforecast.kind =
pipeline``, named ``"<stage>: <model> on <data>"``) with one child run per backtested (model,
target) (``lmforecast.kind = backtest``), which is what :func:`leaderboard` ranks. A Hydra
multirun gets one parent run per sweep (``lmforecast.sweep_id`` tag), created before the jobs
start by a Hydra callback (``experiments/_common.py``) or, failing that, by the first job that
asks :func:`find_or_create_sweep_parent` (safe across processes and machines: the tracking
store arbitrates, no local lock); :func:`close_sweep_parent` ends it.

Honest run states: a run ends ``FINISHED``, ``FAILED`` (an exception) or ``KILLED`` (Ctrl-C,
SIGTERM). Every run records its process id and host (``lmforecast.pid``, ``lmforecast.host``),
so a run whose process died without closing it (``kill -9``, power loss) is found and marked
``KILLED`` by :func:`close_stale_runs`, which each new tracked run calls (and
``lmforecast runs --clean``). A sweep parent still open when its process exits is closed
``FAILED``.

The pipeline talks to a tracker object, :class:`MlflowTracker` or :class:`NoTracking` (same
methods, no-ops), so library code never branches on whether tracking is on.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import lzma
import os
import re
import socket
import subprocess
import tempfile
import time
import traceback
from collections.abc import Iterator, Mapping
from importlib.metadata import PackageNotFoundError, version as _pkg_version
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from lmforecast import __version__
from lmforecast import panel as P
from lmforecast.errors import TrackingError

TAG_KIND = "lmforecast.kind"
TAG_MODEL = "lmforecast.model"
TAG_TARGET = "lmforecast.target"
TAG_SWEEP_ID = "lmforecast.sweep_id"
TAG_DATA_SHA = "lmforecast.data_sha256"
TAG_GIT = "lmforecast.git_commit"
TAG_VERSION = "lmforecast.version"
TAG_OVERRIDES = "lmforecast.overrides"
TAG_DATASET = "lmforecast.dataset"
TAG_STAGE = "lmforecast.stage"
TAG_PID = "lmforecast.pid"
TAG_HOST = "lmforecast.host"
TAG_ERROR = "lmforecast.error"

#: MLflow limits (mlflow.utils.validation): params per batch, param value length, key length.
MAX_PARAMS_PER_BATCH = 100
MAX_PARAM_VALUE_LENGTH = 6000
MAX_KEY_LENGTH = 250
TRUNCATION_MARK = "...[truncated]"


def _mlflow():
    import mlflow  # imported lazily: ~1 s, not needed by notebooks that never track

    return mlflow


# --------------------------------------------------------------------------- experiments / runs
def get_or_create_experiment(tracking_uri: str, experiment_name: str,
                             artifact_location: str | None = None) -> str:
    """Return the id of experiment ``experiment_name`` at ``tracking_uri``, creating it if absent.

    ``artifact_location`` (a folder path or URI) is used only when the experiment is created.
    """
    mlflow = _mlflow()
    client = mlflow.MlflowClient(tracking_uri=tracking_uri)
    experiment = client.get_experiment_by_name(experiment_name)
    if experiment is not None:
        return experiment.experiment_id
    location = None
    if artifact_location:
        location = artifact_location if "://" in artifact_location else Path(artifact_location).resolve().as_uri()
        if location.startswith("file:"):
            Path(artifact_location).mkdir(parents=True, exist_ok=True)
    try:
        return client.create_experiment(experiment_name, artifact_location=location)
    except mlflow.exceptions.MlflowException:  # created concurrently by another job
        experiment = client.get_experiment_by_name(experiment_name)
        if experiment is None:
            raise
        return experiment.experiment_id


def _prepare_store(tracking_uri: str) -> None:
    if tracking_uri.startswith("sqlite:///"):
        Path(tracking_uri[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)


@contextlib.contextmanager
def tracking_session(uri: str, artifact_location: str | None, experiment_name: str,
                     run_name: str | None = None, tags: Mapping[str, object] | None = None,
                     parent_run_id: str | None = None) -> Iterator[object]:
    """Open an MLflow run for the duration of a ``with`` block; yield the ``mlflow.ActiveRun``.

    Parameters
    ----------
    uri : tracking URI (``sqlite:////abs/path/mlflow.db`` or ``http://127.0.0.1:5000``).
    artifact_location : artifact folder/URI used if the experiment has to be created.
    experiment_name : MLflow experiment (created if absent).
    run_name : display name of the run.
    tags : extra run tags (values are turned into strings).
    parent_run_id : make this run a child of that run (e.g. a sweep's parent). When another run
        is already active, the new run is nested under it instead.

    On an exception inside the block, the traceback is logged as ``error/traceback.txt``, the
    run is ended with status ``FAILED`` (``KILLED`` for KeyboardInterrupt / SystemExit) and the
    exception propagates. Otherwise the run ends ``FINISHED``. The run is tagged with this
    process's id and host so that :func:`close_stale_runs` can tell a dead run from a live one.
    """
    mlflow = _mlflow()
    _prepare_store(uri)
    mlflow.set_tracking_uri(uri)
    experiment_id = get_or_create_experiment(uri, experiment_name, artifact_location)
    active = mlflow.active_run()
    str_tags = {**process_tags(), **{str(k): str(v) for k, v in (tags or {}).items() if v is not None}}
    if active is not None and parent_run_id is None:
        run = mlflow.start_run(experiment_id=experiment_id, run_name=run_name, tags=str_tags, nested=True)
    elif active is not None:
        # a sweep parent while a run is active: nest under the active run and remember the sweep
        str_tags.setdefault("lmforecast.sweep_parent_run_id", parent_run_id)
        run = mlflow.start_run(experiment_id=experiment_id, run_name=run_name, tags=str_tags, nested=True)
    else:
        run = mlflow.start_run(experiment_id=experiment_id, run_name=run_name, tags=str_tags,
                               parent_run_id=parent_run_id)
    started = time.perf_counter()
    try:
        yield run
    except BaseException as exc:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        with contextlib.suppress(Exception):
            mlflow.log_text(text, "error/traceback.txt")
            mlflow.set_tag(TAG_ERROR, f"{type(exc).__name__}: {exc}"[:5000])
        mlflow.end_run(status="KILLED" if isinstance(exc, (KeyboardInterrupt, SystemExit)) else "FAILED")
        raise
    else:
        mlflow.log_metric("wall_time_s", time.perf_counter() - started)
        mlflow.end_run(status="FINISHED")


def process_tags() -> dict[str, str]:
    """``{lmforecast.pid, lmforecast.host}`` of this process (how a dead run is recognised)."""
    return {TAG_PID: str(os.getpid()), TAG_HOST: socket.gethostname()}


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def close_stale_runs(tracking_uri: str, experiment_names: list[str] | None = None) -> list[str]:
    """Mark ``KILLED`` every RUNNING run whose process on this host no longer exists.

    Parameters
    ----------
    tracking_uri : the store to clean.
    experiment_names : experiments to look in; None = every experiment of the store.

    Returns
    -------
    Ids of the runs marked ``KILLED`` (tag ``lmforecast.error`` says which process ended without
    closing them). Runs from other hosts, runs without a recorded process and runs whose process
    is alive are left alone.
    """
    client = _mlflow().MlflowClient(tracking_uri=tracking_uri)
    if experiment_names is None:
        experiments = client.search_experiments()
    else:
        experiments = [e for e in (client.get_experiment_by_name(n) for n in experiment_names) if e is not None]
    if not experiments:
        return []
    host = socket.gethostname()
    running = client.search_runs([e.experiment_id for e in experiments],
                                 filter_string="attributes.status = 'RUNNING'", max_results=50000)
    closed = []
    for run in running:
        tags = run.data.tags
        pid = tags.get(TAG_PID, "")
        if tags.get(TAG_HOST) != host or not pid.isdigit() or _process_alive(int(pid)):
            continue
        client.set_tag(run.info.run_id, TAG_ERROR, f"process {pid} on {host} ended without closing the run "
                                                   f"(killed?); marked KILLED by close_stale_runs")
        client.set_terminated(run.info.run_id, status="KILLED")
        closed.append(run.info.run_id)
    return closed


def check_tracking_uri(tracking_uri: str, timeout_s: int = 5) -> None:
    """Fail fast when an ``http(s)://`` tracking server does not answer.

    One request with no retry and a ``timeout_s`` timeout (MLflow's own client, configured with
    ``MLFLOW_HTTP_REQUEST_MAX_RETRIES=0`` and ``MLFLOW_HTTP_REQUEST_TIMEOUT``); a database or
    file URI is not checked. Raises :class:`lmforecast.errors.TrackingError`, one line naming the
    URI and the ``tracking=none`` option.
    """
    if not tracking_uri.startswith(("http://", "https://")):
        return
    try:
        with _env(MLFLOW_HTTP_REQUEST_MAX_RETRIES="0", MLFLOW_HTTP_REQUEST_TIMEOUT=str(int(timeout_s))):
            _mlflow().MlflowClient(tracking_uri=tracking_uri).search_experiments(max_results=1)
    except Exception as exc:
        if re.search(r"\b401\b|Unauthorized|\b403\b|PERMISSION_DENIED|UNAUTHENTICATED", str(exc)):
            given = "no credentials were given" if not os.environ.get("MLFLOW_TRACKING_USERNAME") else \
                f"user {os.environ['MLFLOW_TRACKING_USERNAME']!r} was refused"
            raise TrackingError(f"the MLflow tracking server {tracking_uri} requires a login and {given}: set "
                                f"MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (ask the server's admin "
                                f"for an account), or run without tracking: tracking=none") from None
        found = re.search(r"\[Errno -?\d+\] [^'\")]+|timed out|Read timed out|status code \d+|error code \d+", str(exc))
        reason = found.group(0).strip() if found else type(exc).__name__
        raise TrackingError(f"the MLflow tracking server {tracking_uri} does not answer within {timeout_s} s "
                            f"({reason}); start it, fix tracking.uri, or run without tracking: tracking=none") from None


# --------------------------------------------------------------------------- params and tags
def flatten_config(config: Mapping, prefix: str = "", sep: str = ".") -> dict[str, object]:
    """Flatten nested dicts/lists to ``{"a.b.0": value}``; leaves are kept as they are."""
    flat: dict[str, object] = {}
    items = config.items() if isinstance(config, Mapping) else enumerate(config)
    for key, value in items:
        name = f"{prefix}{sep}{key}" if prefix else str(key)
        if isinstance(value, Mapping) and value:
            flat.update(flatten_config(value, name, sep))
        elif isinstance(value, (list, tuple)) and value and any(isinstance(v, (Mapping, list, tuple)) for v in value):
            flat.update(flatten_config(list(value), name, sep))
        else:
            flat[name] = value
    return flat


def param_value(value: object) -> str:
    """One MLflow param value: JSON for lists/dicts, ``str`` otherwise, cut to 6000 characters."""
    text = json.dumps(value) if isinstance(value, (list, tuple, dict)) else str(value)
    if len(text) > MAX_PARAM_VALUE_LENGTH:
        text = text[: MAX_PARAM_VALUE_LENGTH - len(TRUNCATION_MARK)] + TRUNCATION_MARK
    return text


def config_params(config: Mapping) -> dict[str, str]:
    """MLflow-safe params from a nested config dict: flattened, keys <= 250 chars, values <= 6000.

    Over-long values are cut and end with ``...[truncated]`` (the full config is logged as an
    artifact by :func:`log_config`); over-long keys keep their tail and a hash prefix.
    """
    params = {}
    for key, value in flatten_config(config).items():
        if len(key) > MAX_KEY_LENGTH:
            digest = hashlib.sha1(key.encode()).hexdigest()[:8]
            key = f"{digest}~{key[-(MAX_KEY_LENGTH - 9):]}"
        params[key] = param_value(value)
    return params


def log_config(cfg_dict: Mapping, artifact_file: str = "config/resolved_config.json") -> dict[str, str]:
    """Log a resolved config (plain nested dict) to the active run; return the params logged.

    Params are flattened (see :func:`config_params`) and sent in batches of 100; the whole
    config is also logged as a JSON artifact so nothing is lost to truncation.
    """
    mlflow = _mlflow()
    params = config_params(cfg_dict)
    items = sorted(params.items())
    for start in range(0, len(items), MAX_PARAMS_PER_BATCH):
        mlflow.log_params(dict(items[start:start + MAX_PARAMS_PER_BATCH]))
    mlflow.log_text(json.dumps(cfg_dict, indent=2, sort_keys=True, default=str), artifact_file)
    return params


def git_commit(path: str | os.PathLike = ".") -> str | None:
    """The ``HEAD`` commit of the git checkout containing ``path`` (``+dirty`` if modified), or None."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=path, capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=path,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "") if commit else None


def data_sha256(panel: xr.Dataset) -> str | None:
    """One SHA-256 over a panel's provenance inputs (``{file: sha256}``), or None if it has none."""
    inputs = P.provenance(panel)["inputs"]
    if not inputs:
        return None
    canonical = json.dumps({Path(k).name: v for k, v in sorted(inputs.items())}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def run_tags(panel: xr.Dataset | None = None, overrides: list[str] | None = None,
             project_root: str | os.PathLike = ".", **extra: object) -> dict[str, str]:
    """Standard tags: git commit, data sha256 (from panel provenance), package version, overrides."""
    tags = {TAG_VERSION: __version__}
    commit = git_commit(project_root)
    if commit:
        tags[TAG_GIT] = commit
    if panel is not None:
        sha = data_sha256(panel)
        if sha:
            tags[TAG_DATA_SHA] = sha
    if overrides is not None:
        tags[TAG_OVERRIDES] = " ".join(overrides) if overrides else "(none)"
    tags.update({k: str(v) for k, v in extra.items() if v is not None})
    return tags


# --------------------------------------------------------------------------- backtest logging
def log_metrics_by_horizon(by_horizon: pd.DataFrame, prefix: str = "horizon/") -> None:
    """Log one metric series per column of ``by_horizon`` (index = horizon step, 1-based).

    MLflow ``step`` is the horizon step, so the UI draws error-vs-horizon curves.
    """
    mlflow = _mlflow()
    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    metrics = [Metric(f"{prefix}{name}", float(value), now, int(step))
               for name in by_horizon.columns for step, value in by_horizon[name].items()
               if np.isfinite(value)]
    client = mlflow.MlflowClient()
    run_id = mlflow.active_run().info.run_id
    for start in range(0, len(metrics), 1000):
        client.log_batch(run_id, metrics=metrics[start:start + 1000])


def _log_frame(frame: pd.DataFrame, artifact_file: str) -> None:
    mlflow = _mlflow()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(artifact_file).name
        frame.to_csv(path, index=True)
        mlflow.log_artifact(str(path), artifact_path=str(Path(artifact_file).parent))


def log_file(path: str | os.PathLike, artifact_path: str | None = None) -> None:
    """Log one existing file as an artifact of the active run (no-op if it does not exist)."""
    if Path(path).exists():
        _mlflow().log_artifact(str(path), artifact_path=artifact_path)


def log_backtest(backtest_ds: xr.Dataset, metrics: list[str], overall: pd.Series,
                 by_horizon: pd.DataFrame, tables: Mapping[str, pd.DataFrame] | None = None,
                 plots: bool = True, save_netcdf=None) -> None:
    """Log one model's backtest to the active run.

    Parameters
    ----------
    backtest_ds : backtest Dataset (``cutoff x horizon x region x occupation x quantile``).
    metrics : metric names (column order of the tables).
    overall : metric -> value over every fold, horizon and series (logged as metrics).
    by_horizon : DataFrame indexed by horizon step (1..H), one column per metric.
    tables : name -> DataFrame (e.g. ``{"by_region": ..., "by_occupation": ...}``), logged as
        CSV artifacts under ``metrics/``.
    plots : also log ``plots/error_by_horizon.png`` and ``plots/best_series.png`` /
        ``plots/worst_series.png``.
    save_netcdf : callable ``(ds, path)`` writing the backtest NetCDF (``backtest.save_backtest``);
        None skips the artifact.
    """
    mlflow = _mlflow()
    mlflow.log_metrics({name: float(overall[name]) for name in overall.index if np.isfinite(overall[name])})
    log_metrics_by_horizon(by_horizon)
    _log_frame(by_horizon, "metrics/by_horizon.csv")
    for name, table in (tables or {}).items():
        _log_frame(table, f"metrics/{name}.csv")
    if save_netcdf is not None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "backtest.nc"
            save_netcdf(backtest_ds, path)
            mlflow.log_artifact(str(path), artifact_path="backtest")
    if plots:
        mlflow.log_figure(plot_error_by_horizon(by_horizon), "plots/error_by_horizon.png")
        best, worst = best_and_worst_series(backtest_ds)
        if best is not None:
            mlflow.log_figure(plot_series_backtest(backtest_ds, *best, label="best"), "plots/best_series.png")
            mlflow.log_figure(plot_series_backtest(backtest_ds, *worst, label="worst"), "plots/worst_series.png")
        import matplotlib.pyplot as plt

        plt.close("all")


def series_mase(backtest_ds: xr.Dataset) -> pd.Series:
    """Per-series MASE over all folds and horizons: mean |actual - median| / insample_scale.

    Returns a Series indexed by ``(region, occupation)`` (NaN where undefined).
    """
    point = backtest_ds["forecast"].sel({P.QUANTILE: 0.5})
    abs_err = np.abs(backtest_ds["actual"] - point)
    scaled = abs_err / backtest_ds["insample_scale"].where(backtest_ds["insample_scale"] > 0)
    value = scaled.mean([d for d in scaled.dims if d not in (P.REGION, P.OCCUPATION)], skipna=True)
    return value.to_series()


def best_and_worst_series(backtest_ds: xr.Dataset):
    """``((region, occupation), (region, occupation))`` with the lowest and highest MASE, or (None, None)."""
    scores = series_mase(backtest_ds).dropna()
    if scores.empty:
        return None, None
    return scores.idxmin(), scores.idxmax()


def plot_error_by_horizon(by_horizon: pd.DataFrame, columns=("mase", "wape", "smape")):
    """Matplotlib figure of the scale-free errors (``mase``, ``wape``, ``smape``) against horizon step."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    for name in columns:
        if name in by_horizon.columns:
            ax.plot(by_horizon.index, by_horizon[name], marker="o", label=name)
    ax.set_xlabel("horizon step (periods ahead)")
    ax.set_ylabel("error")
    ax.set_title("Backtest error by horizon")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_series_backtest(backtest_ds: xr.Dataset, region: str, occupation: str, label: str = ""):
    """Figure: actuals and every fold's median forecast with its outermost interval for one series."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    one = backtest_ds.sel({P.REGION: region, P.OCCUPATION: occupation})
    quantiles = one[P.QUANTILE].values
    lo, hi = quantiles.min(), quantiles.max()
    fig, ax = plt.subplots(figsize=(7, 3.5))
    time_name = "target_time" if "target_time" in one.coords else P.TIME
    actual = pd.Series(one["actual"].values.ravel(), index=pd.to_datetime(one[time_name].values.ravel()))
    actual = actual[~actual.index.duplicated()].sort_index()
    ax.plot(actual.index, actual.values, color="black", lw=1.2, label="actual")
    for i, cutoff in enumerate(one[P.CUTOFF].values):
        fold = one.sel({P.CUTOFF: cutoff})
        times = pd.to_datetime(fold[time_name].values)
        ax.plot(times, fold["forecast"].sel({P.QUANTILE: 0.5}).values, color="C0",
                label="median forecast" if i == 0 else None)
        if hi > lo:
            ax.fill_between(times, fold["forecast"].sel({P.QUANTILE: lo}).values,
                            fold["forecast"].sel({P.QUANTILE: hi}).values, color="C0", alpha=0.2,
                            label=f"{lo:g}-{hi:g} interval" if i == 0 else None)
    ax.set_title(f"{label} series: {region} x {occupation}".strip())
    ax.legend(fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- pyfunc model
def forecast_frame(forecast: xr.DataArray) -> pd.DataFrame:
    """Tidy a forecast DataArray ``(time, region, occupation, quantile)`` into a DataFrame.

    Columns: ``time, region, occupation, quantile, value`` (value in the target's units),
    sorted by time, region, occupation, quantile.
    """
    keep = [d for d in (P.TIME, P.REGION, P.OCCUPATION, P.QUANTILE, "path") if d in forecast.dims]
    da = forecast.reset_coords(drop=True).rename("value").transpose(*keep)
    frame = da.to_dataframe().reset_index()
    return frame.sort_values(keep, kind="stable").reset_index(drop=True)


#: the models-from-code file MLflow logs as the pyfunc's definition (no CloudPickle)
MODEL_CODE = Path(__file__).with_name("mlflow_model.py")
#: xz with a 32 MiB window: the copies of the training data inside a fitted forecaster are
#: tens of MB apart, so a large window shrinks a recommended forecaster ~5x at preset 1 speed
XZ_FILTERS = [{"id": lzma.FILTER_LZMA2, "preset": 1, "dict_size": 32 << 20}]


def dump_forecaster(forecaster, path: str | os.PathLike) -> Path:
    """Write a fitted forecaster to ``path`` (joblib pickle inside an xz stream); return the path."""
    import joblib

    with lzma.open(path, "wb", format=lzma.FORMAT_XZ, filters=XZ_FILTERS) as handle:
        joblib.dump(forecaster, handle)
    return Path(path)


def load_forecaster(path: str | os.PathLike):
    """Read a forecaster written by :func:`dump_forecaster` (only load files you trust: it is a pickle)."""
    import joblib

    with lzma.open(path, "rb") as handle:
        return joblib.load(handle)


def parse_pyfunc_input(model_input, default_quantiles) -> tuple[int, tuple[float, ...]]:
    """``(horizon, quantiles)`` from a pyfunc input.

    ``model_input`` is a DataFrame with a ``horizon`` column (first row used) and an optional
    ``quantiles`` column (comma-separated levels, e.g. ``"0.1,0.5,0.9"``), a mapping with a
    ``horizon`` key, or an int horizon (periods ahead).
    """
    quantiles = tuple(float(q) for q in default_quantiles)
    if isinstance(model_input, (int, np.integer)):
        return int(model_input), quantiles
    if isinstance(model_input, pd.DataFrame):
        if "horizon" not in model_input.columns or model_input.empty:
            raise ValueError(f"pyfunc input must have a 'horizon' column with one row, got columns "
                             f"{list(model_input.columns)}")
        if "quantiles" in model_input.columns:
            quantiles = tuple(float(q) for q in str(model_input["quantiles"].iloc[0]).split(","))
        return int(model_input["horizon"].iloc[0]), quantiles
    if isinstance(model_input, Mapping) and "horizon" in model_input:
        return int(np.ravel(model_input["horizon"])[0]), quantiles
    raise ValueError(f"pyfunc input must be an int horizon or a DataFrame with a 'horizon' column, "
                     f"got {type(model_input).__name__}")


def _requirements() -> list[str]:
    reqs = []
    for name in ("numpy", "pandas", "xarray", "scikit-learn", "lightgbm", "joblib", "mlflow"):
        with contextlib.suppress(PackageNotFoundError):
            reqs.append(f"{name}=={_pkg_version(name)}")
    return reqs


@contextlib.contextmanager
def _env(**values: str) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def pyfunc_signature():
    """The MLflow signature of a logged forecaster.

    Input: ``horizon`` (long, periods ahead) and optional ``quantiles`` (string, comma-separated
    levels). Output: ``time, region, occupation, quantile, value`` (:func:`forecast_frame`).
    """
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    inputs = Schema([ColSpec("long", "horizon"), ColSpec("string", "quantiles", required=False)])
    outputs = Schema([ColSpec("datetime", P.TIME), ColSpec("string", P.REGION), ColSpec("string", P.OCCUPATION),
                      ColSpec("double", P.QUANTILE), ColSpec("double", "value")])
    return ModelSignature(inputs=inputs, outputs=outputs)


def log_forecaster(forecaster, name: str = "forecaster", quantiles=(0.1, 0.5, 0.9)):
    """Log a fitted forecaster to the active run as an MLflow pyfunc model; return its model info.

    The model is logged "from code" (:data:`MODEL_CODE`, MLflow's models-from-code: no
    CloudPickle of a Python object) with the forecaster as an xz-compressed joblib artifact.
    ``mlflow.pyfunc.load_model(info.model_uri).predict(pd.DataFrame({"horizon": [12]}))`` gives
    the tidy forecast DataFrame (``time, region, occupation, quantile, value``) of
    ``forecaster.predict(12, quantiles)`` (signature: :func:`pyfunc_signature`).
    """
    mlflow = _mlflow()
    with tempfile.TemporaryDirectory() as tmp:
        path = dump_forecaster(forecaster, Path(tmp) / "forecaster.joblib.xz")
        # MLflow copies the local artifact with a "Downloading artifacts" bar: a copy, not progress
        with _env(MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR="false"):
            return mlflow.pyfunc.log_model(
                name=name, python_model=str(MODEL_CODE), artifacts={"forecaster": str(path)},
                model_config={"quantiles": [float(q) for q in quantiles]}, signature=pyfunc_signature(),
                input_example=pd.DataFrame({"horizon": [1]}), pip_requirements=_requirements())


# --------------------------------------------------------------------------- sweeps
#: sweep parents this process opened and must close: {run_id: tracking_uri}
_OPEN_SWEEPS: dict[str, str] = {}


#: experiments named ``<prefix><experiment id>/<sha256 of the sweep id>`` are sweep claims (created then deleted)
SWEEP_CLAIM_PREFIX = ".lmforecast-sweep-claim/"


def _sweep_parent(client, experiment_id: str, sweep_id: str) -> str | None:
    found = client.search_runs([experiment_id], filter_string=f"tags.`{TAG_SWEEP_ID}` = '{sweep_id}' "
                               f"and tags.`{TAG_KIND}` = 'sweep'", max_results=1,
                               order_by=["attributes.start_time ASC"])
    return found[0].info.run_id if found else None


def _claim_sweep(client, experiment_id: str, sweep_id: str) -> bool:
    """Claim the right to create a sweep's parent: True for exactly one caller, on any machine.

    The claim is an experiment with a name derived from the sweep: the tracking store (its SQL
    database's unique constraint on experiment names) lets one ``create_experiment`` succeed and
    answers ``RESOURCE_ALREADY_EXISTS`` to every other, whatever host they run on. The winner
    deletes the claim at once (a deleted experiment keeps its name reserved, and is hidden).
    """
    from mlflow.exceptions import MlflowException

    name = f"{SWEEP_CLAIM_PREFIX}{experiment_id}/{hashlib.sha256(sweep_id.encode()).hexdigest()[:40]}"
    try:
        claim_id = client.create_experiment(name)
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_ALREADY_EXISTS" or "already exists" in str(exc):
            return False
        raise
    with contextlib.suppress(Exception):
        client.delete_experiment(claim_id)
    return True


def find_or_create_sweep_parent(tracking_uri: str, experiment_name: str, sweep_id: str,
                                artifact_location: str | None = None, run_name: str | None = None,
                                owner: bool = False, timeout_s: float = 60.0) -> str:
    """Run id of the parent run tagged ``lmforecast.sweep_id = sweep_id``; created if absent.

    Safe when many processes on many machines ask at once (the jobs of a sweep, or two hosts
    sharing a tracking server): exactly one of them creates the parent, through a claim that
    the tracking store itself arbitrates (:func:`_claim_sweep`: a unique experiment name; no
    local lock file), and the others wait for that parent to appear (up to ``timeout_s``
    seconds, then :class:`lmforecast.errors.TrackingError`).

    ``run_name`` names a new parent (default ``"sweep <folder name>"``). With ``owner`` (the
    process that runs the sweep), the parent is closed by :func:`close_open_sweeps` -- called
    when the process exits, if nothing closed it before -- so a sweep that crashes does not
    leave its parent RUNNING.
    """
    mlflow = _mlflow()
    _prepare_store(tracking_uri)
    experiment_id = get_or_create_experiment(tracking_uri, experiment_name, artifact_location)
    client = mlflow.MlflowClient(tracking_uri=tracking_uri)
    run_id = _sweep_parent(client, experiment_id, sweep_id)
    if run_id is None and _claim_sweep(client, experiment_id, sweep_id):
        run_id = client.create_run(experiment_id, run_name=run_name or f"sweep {Path(sweep_id).name}",
                                   tags={TAG_SWEEP_ID: sweep_id, TAG_KIND: "sweep", TAG_VERSION: __version__,
                                         **process_tags()}).info.run_id
    deadline = time.monotonic() + float(timeout_s)
    while run_id is None:
        if time.monotonic() > deadline:
            raise TrackingError(f"the parent run of sweep {sweep_id!r} in experiment {experiment_name!r} at "
                                f"{tracking_uri} was claimed by another process but did not appear within "
                                f"{timeout_s:g} s (did that process die?); delete the experiment "
                                f"'{SWEEP_CLAIM_PREFIX}{experiment_id}/...' for this sweep, or start a new sweep")
        time.sleep(0.2)
        run_id = _sweep_parent(client, experiment_id, sweep_id)
    if owner:
        _OPEN_SWEEPS[run_id] = tracking_uri
    return run_id


def close_sweep_parent(tracking_uri: str, run_id: str, status: str | None = None) -> str:
    """End a sweep's parent run; return the status set.

    ``status`` None: FAILED if any child run failed or was killed, else FINISHED. A parent that
    is no longer RUNNING is left as it is.
    """
    _OPEN_SWEEPS.pop(run_id, None)
    client = _mlflow().MlflowClient(tracking_uri=tracking_uri)
    parent = client.get_run(run_id)
    if parent.info.status != "RUNNING":
        return parent.info.status
    if status is None:
        children = client.search_runs([parent.info.experiment_id],
                                      filter_string=f"tags.mlflow.parentRunId = '{run_id}'")
        status = "FAILED" if any(c.info.status in ("FAILED", "KILLED") for c in children) else "FINISHED"
    client.set_terminated(run_id, status=status)
    return status


def close_open_sweeps(status: str = "FAILED", reason: str = "the sweep stopped before its end") -> list[str]:
    """Close every sweep parent this process opened (``owner=True``) and has not closed; return their ids.

    Called by the CLI when a sweep raises, and at interpreter exit. Each is set to ``status``
    with ``reason`` in its ``lmforecast.error`` tag.
    """
    closed = []
    for run_id, uri in list(_OPEN_SWEEPS.items()):
        with contextlib.suppress(Exception):
            _mlflow().MlflowClient(tracking_uri=uri).set_tag(run_id, TAG_ERROR, reason)
            close_sweep_parent(uri, run_id, status=status)
            closed.append(run_id)
        _OPEN_SWEEPS.pop(run_id, None)
    return closed


atexit.register(close_open_sweeps)


# --------------------------------------------------------------------------- leaderboard
LEADERBOARD_COLUMNS = ["target", "model", "params", "mase", "wape", "coverage_80", "wall_time_s", "run_id"]


def leaderboard(experiment_name: str, tracking_uri: str, metric: str = "mase",
                top: int | None = None) -> pd.DataFrame:
    """Rank the backtest runs of an experiment.

    Parameters
    ----------
    experiment_name : MLflow experiment (e.g. ``lmforecast-morocco``).
    tracking_uri : tracking URI of the store.
    metric : ranking metric; lower is better, except ``coverage_80`` (closest to 0.8) and
        ``bias`` (closest to 0).
    top : keep the best ``top`` runs per target (None = all).

    Returns
    -------
    DataFrame with columns
    ``target, model, params, mase, wape, coverage_80, wall_time_s, run_id`` (plus ``metric`` if it is another one), one row per finished backtest run,
    sorted by target then rank; empty (with those columns) when there is nothing to rank.

    Examples
    --------
    >>> import tempfile, mlflow
    >>> uri = f"sqlite:///{tempfile.mkdtemp()}/mlflow.db"
    >>> client = mlflow.MlflowClient(tracking_uri=uri)
    >>> experiment = client.create_experiment("demo")
    >>> for model, mase in (("naive", 1.1), ("trend", 0.8)):
    ...     run = client.create_run(experiment, tags={TAG_KIND: "backtest", TAG_MODEL: model,
    ...                                               TAG_TARGET: "vacancies"})
    ...     client.log_metric(run.info.run_id, "mase", mase)
    ...     client.set_terminated(run.info.run_id, "FINISHED")
    >>> leaderboard("demo", uri)[["target", "model", "mase"]].to_dict("records")
    [{'target': 'vacancies', 'model': 'trend', 'mase': 0.8}, {'target': 'vacancies', 'model': 'naive', 'mase': 1.1}]
    """
    mlflow = _mlflow()
    client = mlflow.MlflowClient(tracking_uri=tracking_uri)
    experiment = client.get_experiment_by_name(experiment_name)
    if experiment is None:
        names = sorted(e.name for e in client.search_experiments())
        raise ValueError(f"no MLflow experiment {experiment_name!r} at {tracking_uri}; "
                         f"experiments there: {names}")
    runs = client.search_runs([experiment.experiment_id],
                              filter_string=f"tags.`{TAG_KIND}` = 'backtest' and attributes.status = 'FINISHED'",
                              max_results=50000)
    columns = LEADERBOARD_COLUMNS + ([metric] if metric not in LEADERBOARD_COLUMNS else [])
    rows = []
    for run in runs:
        m, params, tags = run.data.metrics, run.data.params, run.data.tags
        key_params = ", ".join(f"{k[len('model.'):]}={v}" for k, v in sorted(params.items())
                               if k.startswith("model.") and k != "model._target_")
        row = {"target": tags.get(TAG_TARGET), "model": tags.get(TAG_MODEL), "params": key_params,
               "run_id": run.info.run_id}
        for name in set(columns) - set(row):
            row[name] = m.get(name, np.nan)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=columns)
    if frame.empty:
        return frame
    if metric not in frame.columns or frame[metric].isna().all():
        raise ValueError(f"no backtest run in {experiment_name!r} has metric {metric!r}")
    target_value = {"coverage_80": 0.8, "bias": 0.0}.get(metric)
    score = frame[metric] if target_value is None else (frame[metric] - target_value).abs()
    frame = frame.assign(_score=score).sort_values(["target", "_score", "run_id"], na_position="last")
    if top is not None:
        frame = frame.groupby("target", sort=False).head(int(top))
    return frame.drop(columns="_score").reset_index(drop=True)


def metrics_by_horizon(tracking_uri: str, run_ids, metric: str = "mase") -> pd.DataFrame:
    """Per-horizon scores of logged backtest runs, as one tidy table.

    Every backtest run logs each metric against the horizon step as ``horizon/<metric>``
    (MLflow ``step`` = periods after the cutoff, :func:`log_metrics_by_horizon`).

    Parameters
    ----------
    tracking_uri : tracking URI of the store.
    run_ids : ids of backtest runs (e.g. the ``run_id`` column of :func:`leaderboard`).
    metric : metric name (``mase``, ``wape``, ``coverage_80`` ...).

    Returns
    -------
    DataFrame ``model, target, horizon, metric, value, run_id`` (model and target from the run's
    tags), sorted by model, target and horizon; a run without that metric adds no row. Plot it
    with :func:`lmforecast.plotting.metric_by_horizon` (``by="horizon"``).

    Examples
    --------
    >>> import tempfile, mlflow
    >>> uri = f"sqlite:///{tempfile.mkdtemp()}/mlflow.db"
    >>> client = mlflow.MlflowClient(tracking_uri=uri)
    >>> run = client.create_run(client.create_experiment("demo"), tags={TAG_MODEL: "naive", TAG_TARGET: "vacancies"})
    >>> for step, value in ((1, 0.8), (2, 1.1)):
    ...     client.log_metric(run.info.run_id, "horizon/mase", value, step=step)
    >>> metrics_by_horizon(uri, [run.info.run_id])[["model", "horizon", "value"]].to_dict("records")
    [{'model': 'naive', 'horizon': 1, 'value': 0.8}, {'model': 'naive', 'horizon': 2, 'value': 1.1}]
    """
    mlflow = _mlflow()
    client = mlflow.MlflowClient(tracking_uri=tracking_uri)
    rows = []
    for run_id in run_ids:
        tags = client.get_run(run_id).data.tags
        for point in client.get_metric_history(run_id, f"horizon/{metric}"):
            rows.append({"model": tags.get(TAG_MODEL), "target": tags.get(TAG_TARGET), "horizon": int(point.step),
                         "metric": metric, "value": float(point.value), "run_id": run_id})
    frame = pd.DataFrame(rows, columns=["model", "target", "horizon", "metric", "value", "run_id"])
    return frame.sort_values(["model", "target", "horizon"], kind="stable", ignore_index=True)


# --------------------------------------------------------------------------- trackers
class NoTracking:
    """The tracker of a run with tracking off: the same methods as :class:`MlflowTracker`, doing nothing."""

    enabled = False

    def check(self) -> None:
        """Nothing to check."""

    def close_stale_runs(self) -> list[str]:
        """Nothing to close; returns ``[]``."""
        return []

    @contextlib.contextmanager
    def run(self, name: str, tags: Mapping[str, object] | None = None) -> Iterator[None]:
        """A no-op ``with`` block; yields None (no run id)."""
        yield None

    def set_tags(self, tags: Mapping[str, object]) -> None:
        """Ignored."""

    def log_params(self, params: Mapping[str, object]) -> None:
        """Ignored."""

    def log_metrics(self, metrics: Mapping[str, float]) -> None:
        """Ignored."""

    def log_config(self, config: Mapping) -> None:
        """Ignored."""

    def log_file(self, path: str | os.PathLike, artifact_path: str | None = None) -> None:
        """Ignored."""

    def log_backtest(self, backtest_ds: xr.Dataset, metrics: list[str], overall: pd.Series,
                     by_horizon: pd.DataFrame, tables: Mapping[str, pd.DataFrame] | None = None) -> None:
        """Ignored."""

    def log_forecaster(self, forecaster, name: str, quantiles) -> str | None:
        """Nothing logged; returns None (no model URI)."""
        return None

    def where(self, run_id: str | None) -> str:
        """One line saying that nothing was tracked."""
        return "MLflow: tracking off (tracking=none)"


class MlflowTracker:
    """Records a job's runs in MLflow: where (store, experiment) and how (tags, parent, what to log).

    Parameters
    ----------
    uri : tracking URI (``sqlite:////abs/mlruns/mlflow.db`` or ``http://host:5000``).
    experiment_name : MLflow experiment (created if absent).
    artifact_location : artifact folder/URI used when the experiment is created.
    log_model : log fitted forecasters as MLflow pyfunc models (:func:`log_forecaster`).
    log_plots : log error-by-horizon and best/worst series plots with each backtest.
    tags : tags added to every top-level run of this tracker (e.g. overrides, preset).
    parent_run_id : make top-level runs children of this run (a sweep's parent).
    project_root : folder whose git commit is recorded.

    Examples
    --------
    A tracker is what :func:`lmforecast.pipeline.run` logs to (``tracker=``); a run of your own:

    >>> import tempfile, mlflow
    >>> uri = f"sqlite:///{tempfile.mkdtemp()}/mlflow.db"
    >>> tracker = MlflowTracker(uri, "demo", log_plots=False)
    >>> with tracker.run("my analysis") as run_id:
    ...     tracker.log_params({"model": "naive"})
    ...     tracker.log_metrics({"mase": 0.9})
    >>> run = mlflow.MlflowClient(tracking_uri=uri).get_run(run_id)
    >>> run.info.status, run.data.params, run.data.metrics["mase"]
    ('FINISHED', {'model': 'naive'}, 0.9)
    """

    enabled = True

    def __init__(self, uri: str, experiment_name: str, artifact_location: str | None = None, log_model: bool = True,
                 log_plots: bool = True, tags: Mapping[str, object] | None = None, parent_run_id: str | None = None,
                 project_root: str | os.PathLike = "."):
        self.uri = uri
        self.experiment_name = experiment_name
        self.artifact_location = artifact_location
        self.log_model = log_model
        self.log_plots = log_plots
        self.tags = dict(tags or {})
        self.parent_run_id = parent_run_id
        self.project_root = project_root

    def check(self) -> None:
        """Fail within seconds if the store does not answer (:func:`check_tracking_uri`)."""
        check_tracking_uri(self.uri)

    def close_stale_runs(self) -> list[str]:
        """Mark KILLED the RUNNING runs of this experiment whose process died (:func:`close_stale_runs`)."""
        _prepare_store(self.uri)
        return close_stale_runs(self.uri, [self.experiment_name])

    @contextlib.contextmanager
    def run(self, name: str, tags: Mapping[str, object] | None = None) -> Iterator[str]:
        """Open a run named ``name`` for a ``with`` block; yield its id (see :func:`tracking_session`).

        A run opened while another is active becomes its child; a top-level run gets this
        tracker's ``tags`` and ``parent_run_id``.
        """
        mlflow = _mlflow()
        top = mlflow.active_run() is None
        all_tags = {**run_tags(project_root=self.project_root), **(self.tags if top else {}), **(tags or {})}
        with tracking_session(self.uri, self.artifact_location, self.experiment_name, run_name=name, tags=all_tags,
                              parent_run_id=self.parent_run_id if top else None) as run:
            yield run.info.run_id

    def set_tags(self, tags: Mapping[str, object]) -> None:
        """Tag the active run (values as strings; None values skipped)."""
        _mlflow().set_tags({k: str(v) for k, v in tags.items() if v is not None})

    def log_params(self, params: Mapping[str, object]) -> None:
        """Log params to the active run (values as strings, cut to MLflow's limits)."""
        items = sorted((k, param_value(v)) for k, v in params.items())
        for start in range(0, len(items), MAX_PARAMS_PER_BATCH):
            _mlflow().log_params(dict(items[start:start + MAX_PARAMS_PER_BATCH]))

    def log_metrics(self, metrics: Mapping[str, float]) -> None:
        """Log the finite numbers of ``metrics`` to the active run."""
        finite = {k: float(v) for k, v in metrics.items()
                  if isinstance(v, (int, float, np.floating)) and np.isfinite(v)}
        if finite:
            _mlflow().log_metrics(finite)

    def log_config(self, config: Mapping) -> None:
        """Log a resolved config as params and a JSON artifact (:func:`log_config`)."""
        log_config(config)

    def log_file(self, path: str | os.PathLike, artifact_path: str | None = None) -> None:
        """Log an existing file as an artifact of the active run (:func:`log_file`)."""
        log_file(path, artifact_path)

    def log_backtest(self, backtest_ds: xr.Dataset, metrics: list[str], overall: pd.Series,
                     by_horizon: pd.DataFrame, tables: Mapping[str, pd.DataFrame] | None = None) -> None:
        """Log one backtest's metrics, tables and (if ``log_plots``) plots (:func:`log_backtest`)."""
        log_backtest(backtest_ds, metrics, overall, by_horizon, tables, plots=self.log_plots)

    def log_forecaster(self, forecaster, name: str, quantiles) -> str | None:
        """Log a fitted forecaster as a pyfunc model when ``log_model``; return its ``models:/`` URI or None."""
        if not self.log_model:
            return None
        return log_forecaster(forecaster, name=name, quantiles=quantiles).model_uri

    def where(self, run_id: str | None) -> str:
        """One line: the run id, its experiment and the command that shows it."""
        if self.uri.startswith(("http://", "https://")):
            see = f"open {self.uri}"
        else:
            see = f"mlflow ui --backend-store-uri {self.uri}"
        return f"MLflow run {run_id} (experiment {self.experiment_name}): {see}"
