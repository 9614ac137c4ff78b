"""Config -> arguments for the stage scripts: the only code (with them) that reads a Hydra ``DictConfig``.

Each helper turns one part of the config into the plain objects :mod:`lmforecast.pipeline`
takes (a data source, forecasters, a backtest plan, a report plan, a tracker); the stage
scripts then call the pipeline with them, as lightning-hydra-template's ``train.py`` does.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

# MLflow's INFO chatter (database setup, input-example validation) stays off the console; its
# warnings still show. Set before MLflow is imported (lazily, by lmforecast.tracking); an
# MLFLOW_LOGGING_LEVEL of your own wins.
os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")

from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from lmforecast import pipeline
from lmforecast import tracking as T
from lmforecast.config_schema import SCHEMA_NAME  # importing it registers the structured-config schema
from lmforecast.errors import ConfigError
from lmforecast.io import write_text_atomic

log = logging.getLogger("lmforecast")

#: the config folder, as an absolute path (the scripts are imported as modules by the CLI)
CONF_DIR = str(Path(__file__).resolve().parents[1] / "conf")


def setup(cfg: DictConfig) -> None:
    """Seed the global generators and cap thread pools (``cfg.seed``, ``cfg.num_threads``)."""
    pipeline.configure_process(int(cfg.seed), int(cfg.num_threads))


def progress(cfg: DictConfig) -> bool:
    """Progress bars wanted? ``progress: null`` = yes on a terminal, ``false`` = never."""
    return cfg.progress is not False


def hydra_choice(group: str) -> str | None:
    """The option chosen for a config group in this Hydra run (None outside Hydra)."""
    if HydraConfig.initialized():
        return HydraConfig.get().runtime.choices.get(group)
    return None


def main_model_name(cfg: DictConfig) -> str:
    """Name of the main model: ``cfg.model_name``, else the Hydra choice (``lightgbm``), else its class."""
    return cfg.get("model_name") or hydra_choice("model") or str(cfg.model._target_).rsplit(".", 1)[-1].lower()


def instantiate_models(cfg: DictConfig, include_compare: bool = True) -> dict[str, object]:
    """Build every configured forecaster before any data is read; ``{name: forecaster}``, main first.

    A compare model named like the main model (a sweep over ``model=seasonal_naive,...`` with
    ``compare.seasonal_naive``) is skipped with a note: it is the same model, backtested once.
    """
    if cfg.model is None:
        raise ConfigError("no model configured: pass model=<name> (see conf/model/)")
    main = main_model_name(cfg)
    models = {main: instantiate(cfg.model, _convert_="all")}
    for key, node in (cfg.compare or {}).items() if include_compare else ():
        if node is None:
            continue
        if str(key) == main:
            log.info("compare model %r is this run's main model: backtested once, under that name", key)
            continue
        models[str(key)] = instantiate(node, _convert_="all")
    return models


def data_source(cfg: DictConfig):
    """The data source of ``data.source`` (a ``_target_`` node, e.g. lmforecast.datasets.RawFolder)."""
    if cfg.data.source is None:
        raise ConfigError(f"data set {cfg.data.name!r} has no source: set data.source._target_ (see conf/data/)")
    return instantiate(cfg.data.source, _convert_="all")


def backend(cfg: DictConfig):
    """The (unstarted) backend of ``cfg.backend``: use it as ``with C.backend(cfg) as backend:``.

    ``backend=local`` -> :class:`lmforecast.distributed.LocalBackend`; ``backend=dask`` ->
    :class:`lmforecast.distributed.DaskBackend` (a LocalCluster, or ``backend.address``).
    """
    from lmforecast.distributed import make_backend

    be = cfg.backend
    try:
        return make_backend(str(be.kind), address=be.address, n_workers=int(be.n_workers),
                            threads_per_worker=int(be.threads_per_worker), memory_limit=be.memory_limit,
                            series_tasks=bool(be.series_tasks), dashboard=bool(be.dashboard))
    except ValueError as exc:
        raise ConfigError(f"backend config (conf/backend/): {exc}") from exc


def backtest_plan(cfg: DictConfig, backend=None) -> pipeline.BacktestPlan:
    """:class:`lmforecast.pipeline.BacktestPlan` from ``cfg.backtest`` (folds run on ``backend``, None = here)."""
    from lmforecast.backtest import RollingOriginSplitter

    bt = cfg.backtest
    splitter = RollingOriginSplitter(horizon=bt.horizon, years=bt.years, initial=bt.initial, step=bt.step,
                                     n_windows=bt.n_windows, window=bt.window, gap=bt.gap,
                                     refit_every=bt.refit_every, partial=bt.partial, min_test=bt.min_test)
    return pipeline.BacktestPlan(splitter, quantiles=tuple(bt.quantiles), metrics=tuple(bt.metrics), by=tuple(bt.by),
                                 point_in_time=bool(bt.point_in_time), n_jobs=int(bt.n_jobs), backend=backend)


def report_plan(cfg: DictConfig) -> pipeline.ReportPlan | None:
    """:class:`lmforecast.pipeline.ReportPlan` from ``cfg.report``, ``cfg.data.programmes`` and
    ``cfg.scenario``; None when ``report.enabled`` is false."""
    from lmforecast.report.core import Measures
    from lmforecast.report.ratings import Thresholds
    from lmforecast.report.scenarios import programme_from_mapping, scenario_from_mapping
    from lmforecast.report.supply import Mobility, SupplyAssumptions

    rep = cfg.report
    if not rep.enabled:
        return None
    plain = OmegaConf.to_container(rep, resolve=True)
    data_file = f"conf/data/{hydra_choice('data') or cfg.data.name}.yaml"
    programmes = tuple(programme_from_mapping({"name": key, **value}, data_file, f"data.programmes.{key}")
                       for key, value in (OmegaConf.to_container(cfg.data.programmes, resolve=True) or {}).items())
    try:
        mobility = tuple(Mobility(float(m["persons_per_year"]), tuple(map(str, m.get("regions", ()))),
                                  tuple(map(str, m.get("occupations", ())))) for m in plain["supply"]["mobility"])
        supply = {k: v for k, v in plain["supply"].items() if k != "mobility"}
        assumptions = SupplyAssumptions(**supply, programmes=programmes, mobility=mobility)
        thresholds = Thresholds(**plain["ratings"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"report config (conf/report/): {exc}") from exc
    scenarios = tuple(scenario_from_mapping(str(name), spec, f"conf/scenario/{name}.yaml")
                      for name, spec in (OmegaConf.to_container(cfg.scenario, resolve=True) or {}).items())
    track = plain["track_record"]
    return pipeline.ReportPlan(demand_measure=rep.demand_measure, supply_measure=rep.supply_measure,
                               years=tuple(rep.years), quantiles=tuple(rep.quantiles), n_paths=int(rep.n_paths),
                               formats=tuple(rep.formats), keep_paths=bool(rep.keep_paths), method=rep.method,
                               language=rep.language, measures=Measures(**plain["measures"]),
                               assumptions=assumptions, rates_path=plain["rates"]["separation"],
                               thresholds=thresholds, scenarios=scenarios, expansion=rep.expansion,
                               track_record=bool(track["enabled"]),
                               cutoffs=tuple(track["cutoffs"]) if track["cutoffs"] else None,
                               top_skills=int(rep.top_skills))


def output_dir(cfg: DictConfig) -> Path:
    """This run's output folder (``paths.output_dir``; Hydra sets it, compose users must)."""
    if not cfg.paths.output_dir:
        raise ConfigError("paths.output_dir is not set: run through Hydra or pass paths.output_dir=<folder>")
    return Path(cfg.paths.output_dir)


def resolved_config(cfg: DictConfig) -> dict:
    """The config as a plain dict, interpolations resolved (what MLflow records)."""
    return OmegaConf.to_container(cfg, resolve=True)


def overrides() -> list[str] | None:
    """Command-line overrides of this Hydra job (None outside Hydra)."""
    if HydraConfig.initialized():
        return list(HydraConfig.get().overrides.task)
    return None


def sweep_parent_id(cfg: DictConfig) -> str | None:
    """In a multirun job, the MLflow parent run of the sweep (found or created); else None."""
    if not HydraConfig.initialized() or HydraConfig.get().mode != RunMode.MULTIRUN:
        return None
    sweep_dir = str(HydraConfig.get().sweep.dir)
    return T.find_or_create_sweep_parent(cfg.tracking.uri, cfg.tracking.experiment_name, sweep_dir,
                                         cfg.tracking.artifact_location)


def tracker(cfg: DictConfig):
    """:class:`lmforecast.tracking.MlflowTracker` from ``cfg.tracking`` (None when tracking is off)."""
    tr = cfg.tracking
    if not tr.enabled:
        return None
    tags = {T.TAG_OVERRIDES: " ".join(overrides() or []) or "(none)", **OmegaConf.to_container(cfg.tags, resolve=True)}
    return T.MlflowTracker(tr.uri, tr.experiment_name, tr.artifact_location, log_model=tr.log_model,
                           log_plots=tr.log_plots, tags=tags, parent_run_id=sweep_parent_id(cfg),
                           project_root=cfg.paths.root)


RERUN_HEADER = "# Re-run: lmforecast {stage} --config-dir {folder}\n"


def write_rerun_config(cfg: DictConfig, stage: str) -> Path:
    """Write ``<output_dir>/rerun/config.yaml``: this run's composed config, interpolations kept,
    ``model_name`` pinned, behind the schema and Hydra defaults, so that
    ``lmforecast <stage> --config-dir <that folder>`` reproduces the run. Returns the path."""
    config = OmegaConf.to_container(cfg, resolve=False)
    config["model_name"] = main_model_name(cfg)
    config = {"defaults": [SCHEMA_NAME, {"hydra": "default"}, "_self_"], **config}
    folder = output_dir(cfg) / "rerun"
    return write_text_atomic(folder / "config.yaml", RERUN_HEADER.format(stage=stage, folder=folder)
                             + OmegaConf.to_yaml(OmegaConf.create(config)))


def run_files(cfg: DictConfig, stage: str) -> dict[str, list[Path]]:
    """Files to attach to the stage's MLflow run: ``{"rerun": [config.yaml], "hydra": [log, .hydra/*.yaml]}``.

    Writes the re-run config (:func:`write_rerun_config`) first.
    """
    files = {"rerun": [write_rerun_config(cfg, stage)]}
    if HydraConfig.initialized():
        hc = HydraConfig.get()
        out = Path(hc.runtime.output_dir)
        hydra_files = [out / f"{hc.job.name}.log"]
        if hc.output_subdir:
            hydra_files += [out / hc.output_subdir / name for name in ("config.yaml", "overrides.yaml", "hydra.yaml")]
        files["hydra"] = hydra_files
    return files


def sweep_value(cfg: DictConfig, metrics: dict) -> float | None:
    """The metric a sweeper optimises (``cfg.optimized_metric``), or None."""
    if not cfg.optimized_metric:
        return None
    if cfg.optimized_metric not in metrics:
        raise ConfigError(f"optimized_metric {cfg.optimized_metric!r} is not among this run's metrics: "
                          f"{sorted(k for k in metrics if '/' in k)[:20]}")
    return float(metrics[cfg.optimized_metric])


def swept_overrides(overrides: list[str]) -> str:
    """The overrides a sweep varies (``model=naive,drift``), else all of them, as one string."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(overrides)
    swept = [text for text, override in zip(overrides, parsed) if override.is_sweep_override()]
    return " ".join(swept or overrides) or "(no overrides)"


class SweepParentCallback(Callback):
    """Hydra callback: one MLflow parent run per multirun sweep.

    ``on_multirun_start`` creates the parent (tag ``lmforecast.sweep_id`` = the sweep folder,
    named after the stage, the swept overrides and the data set) in the main process before any
    job starts; jobs find it with :func:`sweep_parent_id`; ``on_multirun_end`` ends it (FAILED
    if a child failed). A sweep that raises never reaches ``on_multirun_end``: the CLI (or, at
    the latest, the interpreter's exit) closes the parent FAILED
    (:func:`lmforecast.tracking.close_open_sweeps`).
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
        T.check_tracking_uri(config.tracking.uri)
        sweep_dir = str(config.hydra.sweep.dir)
        name = f"sweep {config.task_name}: {swept_overrides(list(config.hydra.overrides.task))} on {config.data.name}"
        self.run_id = T.find_or_create_sweep_parent(config.tracking.uri, config.tracking.experiment_name, sweep_dir,
                                                    config.tracking.artifact_location,
                                                    run_name=name, owner=True)

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        if self.run_id is not None:
            T.close_sweep_parent(self._resolved(config).tracking.uri, self.run_id)
