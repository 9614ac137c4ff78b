"""Pipeline steps shared by the stage scripts in experiments/.

This is the only place (with the stage scripts) that reads a Hydra ``DictConfig``: each step
turns the config into plain arguments for the library (``lmforecast.*``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from sklearn.base import clone
from tqdm.auto import tqdm

import lmforecast.config_schema  # noqa: F401  (registers the structured-config schema)
from lmforecast import panel as P
from lmforecast import report as R
from lmforecast import tracking as T
from lmforecast.errors import PanelError

log = logging.getLogger("lmforecast")


# --------------------------------------------------------------------------- setup
def setup(cfg: DictConfig) -> None:
    """Seed the global RNGs and cap native thread pools at ``cfg.num_threads``."""
    random.seed(cfg.seed)
    np.random.seed(cfg.seed % (2**32))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(cfg.num_threads))
    with contextlib.suppress(ImportError):
        from threadpoolctl import threadpool_limits

        threadpool_limits(int(cfg.num_threads))


def progress(cfg: DictConfig) -> bool | None:
    """tqdm ``disable`` value: None = auto (bars only on a TTY), from ``cfg.progress``."""
    return None if cfg.progress is None else (not cfg.progress)


def hydra_choice(group: str) -> str | None:
    """The option chosen for a config group in this Hydra run (None outside Hydra)."""
    if HydraConfig.initialized():
        return HydraConfig.get().runtime.choices.get(group)
    return None


def model_name(node: DictConfig) -> str:
    """Short name of a model node: its class name, lower-case."""
    return str(node._target_).rsplit(".", 1)[-1].lower()


def main_model_name(cfg: DictConfig) -> str:
    """Name of the main model: ``cfg.model_name``, else the Hydra choice (``lightgbm``), else its class."""
    return cfg.get("model_name") or hydra_choice("model") or model_name(cfg.model)


def instantiate_models(cfg: DictConfig, include_compare: bool = True) -> dict[str, object]:
    """Build every configured forecaster (fails fast on a bad ``_target_`` or argument).

    Returns ``{name: unfitted forecaster}``; the main ``model`` comes first under its Hydra
    group choice (``lightgbm``) or class name, then the ``compare`` models under their keys.
    """
    if cfg.model is None:
        raise ValueError("no model configured: pass model=<name> (see conf/model/)")
    models = {main_model_name(cfg): instantiate(cfg.model, _convert_="all")}
    if include_compare:
        for key, node in (cfg.compare or {}).items():
            if node is None:
                continue
            if key in models:
                raise ValueError(f"compare model {key!r} has the same name as the main model; "
                                 f"remove it with '~model@compare.{key}'")
            models[str(key)] = instantiate(node, _convert_="all")
    return models


# --------------------------------------------------------------------------- data
def loader_name(cfg: DictConfig) -> str:
    """``data.loader`` as a string (an Enum under the schema, a plain string in a saved config)."""
    loader = cfg.data.loader
    return str(getattr(loader, "name", loader))


def _has_raw_data(raw_dir: Path) -> bool:
    return any((raw_dir / f"{name}.{ext}").exists() for name in ("demand", "supply", "offers")
               for ext in ("csv", "parquet"))


def ensure_raw_data(cfg: DictConfig) -> Path | None:
    """Make sure the configured raw folder exists, generating the synthetic data if allowed.

    Returns the raw folder (None for data sets read from a single file, e.g. au_ivi).
    """
    data = cfg.data
    if loader_name(cfg) != "raw":
        return None
    if not data.raw_dir:
        raise ValueError(f"data set {data.name!r} needs data.raw_dir=<folder with demand/supply/offers files>")
    raw_dir = Path(data.raw_dir)
    present = _has_raw_data(raw_dir)
    if not data.generate_if_absent:
        if not present:
            raise FileNotFoundError(f"no raw data in {raw_dir} (expected demand/supply/offers .csv or .parquet); "
                                    f"set data.raw_dir or data.generate_if_absent=true")
        return raw_dir
    from lmforecast.datasets import morocco

    gen = {k: v for k, v in OmegaConf.to_container(data.generator).items() if v is not None}
    if not present:
        log.info("generating synthetic Moroccan data in %s (seed %s)", raw_dir, data.seed)
    # generates when absent, otherwise checks the files against their manifest (never overwrites)
    morocco.ensure_default_data(raw_dir=raw_dir, seed=data.seed, **gen)
    return raw_dir


def load_panel(cfg: DictConfig, rebuild: bool = True) -> tuple[xr.Dataset, Path]:
    """Build the panel from the configured data set and write it atomically to ``data.panel_path``.

    With ``rebuild=False`` an existing panel file is read instead. Returns ``(panel, path)``.
    """
    data = cfg.data
    panel_path = Path(data.panel_path)
    if not rebuild and panel_path.exists():
        return P.read_panel(panel_path), panel_path
    if loader_name(cfg) == "au_ivi":
        from lmforecast.datasets.au_ivi import load_au_ivi

        panel = load_au_ivi(data.path, **OmegaConf.to_container(data.loader_kwargs))
        if panel.attrs.get("freq") != cfg.features.freq:
            raise ValueError(f"the AU IVI panel is at freq {panel.attrs.get('freq')!r}; set features.freq to it")
    else:
        from lmforecast.build import build_panel

        raw_dir = ensure_raw_data(cfg)
        panel = build_panel(raw_dir, freq=cfg.features.freq, progress=progress(cfg) is not True)
    P.write_panel(panel, panel_path)
    log.info("panel %s written to %s", dict(panel.sizes), panel_path)
    return panel, panel_path


def check_targets(panel: xr.Dataset, targets) -> list[str]:
    """The configured targets, checked to be panel variables (PanelError naming the missing one)."""
    targets = [str(t) for t in targets]
    for target in targets:
        if target not in panel.data_vars:
            raise PanelError(f"data.targets names {target!r}, which is not a variable of the panel; "
                             f"it has {sorted(map(str, panel.data_vars))}")
    return targets


# --------------------------------------------------------------------------- tracking
def overrides() -> list[str] | None:
    """Command-line overrides of this Hydra job (None outside Hydra)."""
    if HydraConfig.initialized():
        return list(HydraConfig.get().overrides.task)
    return None


def sweep_parent_id(cfg: DictConfig) -> str | None:
    """In a multirun job, the MLflow parent run of the sweep (found or created); else None."""
    if not HydraConfig.initialized():
        return None
    hc = HydraConfig.get()
    if hc.mode != RunMode.MULTIRUN:
        return None
    return T.find_or_create_sweep_parent(cfg.tracking.uri, cfg.tracking.experiment_name, str(hc.sweep.dir),
                                         cfg.tracking.artifact_location, lock_dir=str(hc.sweep.dir))


class SweepParentCallback(Callback):
    """Hydra callback: one MLflow parent run per multirun sweep.

    ``on_multirun_start`` creates the parent (tag ``lmforecast.sweep_id`` = the sweep folder)
    in the main process before any job starts; jobs find it with :func:`sweep_parent_id`;
    ``on_multirun_end`` ends it (FAILED if a child failed).
    """

    def __init__(self) -> None:
        self.run_id: str | None = None

    @staticmethod
    def _resolved(config: DictConfig) -> DictConfig:
        HydraConfig.instance().set_config(config)  # paths interpolate ${hydra:runtime.cwd}
        return config

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        config = self._resolved(config)
        if not config.tracking.enabled:
            return
        sweep_dir = str(config.hydra.sweep.dir)
        self.run_id = T.find_or_create_sweep_parent(config.tracking.uri, config.tracking.experiment_name, sweep_dir,
                                                    config.tracking.artifact_location, lock_dir=sweep_dir)

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        if self.run_id is not None:
            T.close_sweep_parent(self._resolved(config).tracking.uri, self.run_id)


@contextlib.contextmanager
def pipeline_run(cfg: DictConfig, stage: str):
    """MLflow run for one stage invocation (no-op context when tracking is disabled)."""
    if not cfg.tracking.enabled:
        write_rerun_config(cfg)
        yield None
        return
    tags = T.run_tags(overrides=overrides(), project_root=cfg.paths.root,
                      **{T.TAG_KIND: "pipeline", "lmforecast.stage": stage, T.TAG_DATASET: cfg.data.name},
                      **OmegaConf.to_container(cfg.tags, resolve=True))
    name = cfg.tracking.run_name or f"{stage} {main_model_name(cfg)}"
    with T.tracking_session(cfg.tracking.uri, cfg.tracking.artifact_location, cfg.tracking.experiment_name,
                            run_name=name, tags=tags, parent_run_id=sweep_parent_id(cfg)) as run:
        T.log_config(OmegaConf.to_container(cfg, resolve=True, enum_to_str=True))
        write_rerun_config(cfg)  # logged as rerun/config.yaml
        try:
            yield run
        finally:
            log_hydra_files()


def write_rerun_config(cfg: DictConfig) -> Path:
    """Write ``<output_dir>/rerun/config.yaml``: this run's composed config, interpolations kept,
    with ``model_name`` pinned, so ``lmforecast <stage> --config-dir <that folder> --config-name
    config`` reproduces the run (also logged to MLflow as ``rerun/config.yaml``)."""
    from lmforecast.io import write_text_atomic

    config = OmegaConf.to_container(cfg, resolve=False, enum_to_str=True)
    config["model_name"] = main_model_name(cfg)
    path = write_text_atomic(output_dir(cfg) / "rerun" / "config.yaml",
                             "# re-run: lmforecast <stage> --config-dir <this folder> --config-name config\n"
                             + OmegaConf.to_yaml(OmegaConf.create(config)))
    if cfg.tracking.enabled:
        T.log_file(path, "rerun")
    return path


def log_hydra_files() -> None:
    """Log the Hydra job log and the saved ``.hydra/*.yaml`` of this run as MLflow artifacts."""
    if not HydraConfig.initialized():
        return
    hc = HydraConfig.get()
    out = Path(hc.runtime.output_dir)
    T.log_file(out / f"{hc.job.name}.log", "hydra")
    if hc.output_subdir:
        for name in ("config.yaml", "overrides.yaml", "hydra.yaml"):
            T.log_file(out / hc.output_subdir / name, "hydra")


def model_params(model) -> dict[str, str]:
    """``{"model.<param>": value}`` of a forecaster's own (non-nested) parameters, as strings."""
    params = {}
    for key, value in model.get_params(deep=False).items():
        if hasattr(value, "get_params"):
            inner = ", ".join(f"{k}={v!r}" for k, v in sorted(value.get_params(deep=False).items()))
            value = f"{type(value).__name__}({inner})"
        params[f"model.{key}"] = value if isinstance(value, str) else repr(value)
    params["model._target_"] = f"{type(model).__module__}.{type(model).__name__}"
    return params


# --------------------------------------------------------------------------- backtest
def make_splitter(cfg: DictConfig):
    """RollingOriginSplitter from ``cfg.backtest``."""
    from lmforecast.backtest import RollingOriginSplitter

    bt = cfg.backtest
    return RollingOriginSplitter(horizon=bt.horizon, years=bt.years, initial=bt.initial, step=bt.step,
                                 n_windows=bt.n_windows, window=bt.window, gap=bt.gap, refit_every=bt.refit_every,
                                 partial=bt.partial, min_test=bt.min_test)


def metric_tables(backtest_ds: xr.Dataset, metrics, by) -> tuple[pd.Series, pd.DataFrame, dict]:
    """Overall metrics (Series), metrics by horizon step (DataFrame) and by each of ``by`` (dict)."""
    from lmforecast.metrics import evaluate

    metrics = list(metrics)
    overall = evaluate(backtest_ds, metrics).set_index("metric")["value"].reindex(metrics)
    by_horizon = evaluate(backtest_ds, metrics, by=P.HORIZON).pivot(index=P.HORIZON, columns="metric",
                                                                    values="value")[metrics]
    tables = {f"by_{dim}": evaluate(backtest_ds, metrics, by=dim).pivot(index=dim, columns="metric",
                                                                         values="value")[metrics]
              for dim in by}
    return overall, by_horizon, tables


def backtest_models(cfg: DictConfig, panel: xr.Dataset, models: dict, targets: list[str],
                    out_dir: Path) -> dict[str, float]:
    """Backtest every model on every target; one MLflow child run per (model, target).

    Writes ``out_dir/backtests/<target>/<model>.nc`` (atomic). Returns
    ``{"<target>/<model>/<metric>": value}`` over all folds, horizons and series.
    """
    from lmforecast.backtest import backtest, save_backtest

    bt = cfg.backtest
    splitter = make_splitter(cfg)
    results: dict[str, float] = {}
    jobs = [(t, name) for t in targets for name in models]
    for target, name in tqdm(jobs, desc="backtest", unit="model", disable=progress(cfg)):
        model = clone(models[name])
        child = contextlib.nullcontext()
        if cfg.tracking.enabled:
            child = T.tracking_session(
                cfg.tracking.uri, cfg.tracking.artifact_location, cfg.tracking.experiment_name,
                run_name=f"{name} {target}",
                tags={T.TAG_KIND: "backtest", T.TAG_MODEL: name, T.TAG_TARGET: target,
                      T.TAG_DATASET: cfg.data.name, **T.run_tags(panel, project_root=cfg.paths.root)})
        with child:
            ds = backtest(model, panel, target, splitter, quantiles=list(bt.quantiles),
                          point_in_time=bt.point_in_time, progress=progress(cfg) is not True, n_jobs=bt.n_jobs)
            path = save_backtest(ds, out_dir / "backtests" / target / f"{name}.nc")
            overall, by_horizon, tables = metric_tables(ds, bt.metrics, bt.by)
            if cfg.tracking.enabled:
                import mlflow

                params = {**model_params(model), **{f"backtest.{k}": v for k, v in
                          OmegaConf.to_container(bt, resolve=True).items()}, "target": target}
                mlflow.log_params({k: T.param_value(v) for k, v in params.items()})
                T.log_backtest(ds, list(bt.metrics), overall, by_horizon, tables,
                               plots=cfg.tracking.log_plots)
                T.log_file(path, "backtest")
        for metric, value in overall.items():
            results[f"{target}/{name}/{metric}"] = float(value)
        log.info("%s on %s: %s", name, target,
                 ", ".join(f"{k}={v:.4g}" for k, v in overall.items()))
    return results


# --------------------------------------------------------------------------- forecast
def forecast_horizon(panel: xr.Dataset, years, fallback: int) -> int:
    """Periods from the end of the panel to the last period of ``max(years)`` (``fallback`` if no years)."""
    if not years:
        return int(fallback)
    freq = panel.attrs["freq"]
    last = panel.indexes[P.TIME][-1]
    future = pd.date_range(last, pd.Timestamp(year=int(max(years)), month=12, day=31), freq=freq)[1:]
    if len(future) == 0:
        raise ValueError(f"report years {list(years)} end before the panel's last period {last:%Y-%m}; "
                         f"nothing to forecast")
    return len(future)


def fit_and_forecast(cfg: DictConfig, panel: xr.Dataset, model, targets: list[str], horizon: int,
                     path_targets=()) -> tuple[xr.Dataset, dict]:
    """Fit a clone of ``model`` on the whole panel for each target and forecast ``horizon`` periods.

    Returns ``(forecast Dataset, fitted models)``: one variable per target ``(time, region,
    occupation, quantile)`` and ``<target>_paths`` ``(time, region, occupation, path)`` for the
    targets in ``path_targets`` (joint sample paths for the gap quantiles).
    """
    variables, fitted = {}, {}
    for i, target in enumerate(tqdm(targets, desc="fit+forecast", unit="target", disable=progress(cfg))):
        estimator = clone(model).fit(panel, target)
        fitted[target] = estimator
        variables[target] = estimator.predict(horizon, quantiles=list(cfg.report.quantiles))
        if target in path_targets:
            paths = estimator.sample_paths(horizon, n_paths=int(cfg.report.n_paths), seed=int(cfg.seed) + i)
            paths.attrs = dict(variables[target].attrs)
            variables[f"{target}_paths"] = paths.rename(f"{target}_paths")
    forecast = xr.Dataset({k: v.reset_coords(drop=True) if k.endswith("_paths") else v for k, v in variables.items()})
    forecast.attrs = {"freq": panel.attrs["freq"], "country": panel.attrs.get("country", ""),
                      "model": type(model).__name__, "trained_until": f"{panel.indexes[P.TIME][-1]:%Y-%m-%d}",
                      "provenance_inputs": panel.attrs.get("provenance_inputs", "{}")}
    return forecast, fitted


def write_forecast(forecast: xr.Dataset, path: Path) -> Path:
    """Write a forecast Dataset to NetCDF atomically."""
    from lmforecast.io import write_netcdf_atomic

    return write_netcdf_atomic(forecast, path, compress=False)


def read_forecast(path: str | os.PathLike) -> xr.Dataset:
    """Read a forecast Dataset written by :func:`write_forecast`."""
    from lmforecast.io import read_netcdf

    return read_netcdf(path, "forecast", "run `lmforecast forecast` first or pass forecast_path=")


# --------------------------------------------------------------------------- report
def gap_report(cfg: DictConfig, forecast: xr.Dataset) -> tuple[pd.DataFrame, list[Path]]:
    """Projected-gap table from a forecast Dataset; CSV written to ``report.dir`` (and MLflow)."""
    rep = cfg.report
    demand, supply = rep.demand_measure, rep.supply_measure
    for name in (demand, supply):
        if name not in forecast:
            raise ValueError(f"report needs a forecast of {name!r}; forecast has {sorted(map(str, forecast.data_vars))}; "
                             f"add it to data.targets")
    gap = R.projected_gap(forecast[demand], forecast[supply], freq=forecast.attrs["freq"], years=list(rep.years),
                          demand_paths=forecast.get(f"{demand}_paths"), supply_paths=forecast.get(f"{supply}_paths"),
                          quantiles=list(rep.quantiles))
    table = R.gap_table(gap)
    paths = R.write_gap_report(table, rep.dir, name=f"gap_{cfg.data.name}", formats=list(rep.formats))
    if cfg.tracking.enabled:
        for path in paths:
            T.log_file(path, "report")
    log.info("gap table (%d rows) written to %s", len(table), ", ".join(map(str, paths)))
    return table, paths


def truth_check(cfg: DictConfig, table: pd.DataFrame) -> dict[str, float]:
    """Errors of the projected gap against the known truth (synthetic data), if configured."""
    truth_path = cfg.data.truth_path
    if not truth_path or not Path(truth_path).exists():
        return {}
    truth = pd.read_csv(truth_path, dtype={P.REGION: str, P.OCCUPATION: str})
    if "year" not in truth.columns:
        return {}
    merged = R.compare_with_truth(table, truth)
    out = {"gap_truth/mae": float(merged["error"].abs().mean()),
           "gap_truth/bias": float(merged["error"].mean()),
           "gap_truth/wape": float(100 * merged["error"].abs().sum() / merged["gap_truth"].abs().sum()),
           "gap_truth/n": float(len(merged))}
    if "inside_80" in merged:
        out["gap_truth/coverage_80"] = float(merged["inside_80"].mean())
    return out


def log_metrics(metrics: dict[str, float], cfg: DictConfig) -> None:
    """Log a flat ``{name: value}`` dict to the active MLflow run (finite values only)."""
    if not cfg.tracking.enabled:
        return
    import mlflow

    finite = {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float)) and np.isfinite(v)}
    if finite:
        mlflow.log_metrics(finite)


def sweep_value(cfg: DictConfig, metrics: dict) -> float | None:
    """The metric a sweeper optimises (``cfg.optimized_metric``), or None."""
    if not cfg.optimized_metric:
        return None
    if cfg.optimized_metric not in metrics:
        raise KeyError(f"optimized_metric {cfg.optimized_metric!r} not among the metrics: {sorted(metrics)[:20]}")
    return float(metrics[cfg.optimized_metric])


def output_dir(cfg: DictConfig) -> Path:
    """This run's output folder (``paths.output_dir``; Hydra sets it, compose users must)."""
    if not cfg.paths.output_dir:
        raise ValueError("paths.output_dir is not set: run through Hydra or pass paths.output_dir=<folder>")
    return Path(cfg.paths.output_dir)


def dump_json(obj, path: Path) -> None:
    """Write a JSON summary atomically."""
    from lmforecast.io import write_text_atomic

    write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=True, default=str))


def add_experiments_to_path() -> None:
    """Let stage scripts import this module whether run as scripts or loaded by path."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
