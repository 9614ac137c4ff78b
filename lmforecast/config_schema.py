"""Structured-config schemas for the Hydra experiments in ``conf/``.

Each root config (``conf/run.yaml``, ``conf/backtest.yaml`` ...) starts its defaults list with
``lmforecast_schema``, the :class:`LmforecastConfig` dataclass stored in Hydra's ``ConfigStore``
by :func:`register_configs`. Every group file is merged into that typed tree, so a misspelt key
(``backtest.horizn=6``) or a wrong type (``backtest.horizon=six``) fails at composition time,
before any data are read, with OmegaConf's message naming the key and the schema.

Only ``experiments/`` uses these classes; the library itself takes plain arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from hydra.core.config_store import ConfigStore

SCHEMA_NAME = "lmforecast_schema"
STAGES = ("build_panel", "backtest", "forecast", "report", "run")


@dataclass
class DataConfig:
    """Which data set to use and where it lives (paths absolute after interpolation)."""

    name: str = "???"                     # data-set name: experiment name and panel file name
    raw_dir: Optional[str] = None         # raw-contract folder the source reads (null for a workbook)
    source: Any = None                    # a `_target_` node: lmforecast.datasets.RawFolder / SyntheticMorocco / AuIvi
    panel_path: str = "???"               # where the built panel is written (NetCDF, atomic)
    truth_path: Optional[str] = None      # known truth gap table (synthetic data only)
    targets: list[str] = field(default_factory=lambda: ["vacancies", "jobseekers", "job_offers"])


@dataclass
class FeaturesConfig:
    """Panel frequency and the feature settings shared by the global models."""

    freq: str = "MS"
    lags: list[int] = field(default_factory=lambda: [1, 2, 3, 6, 12])
    windows: list[int] = field(default_factory=lambda: [3, 12])
    calendar: bool = True


@dataclass
class BacktestConfig:
    """Rolling-origin backtest settings (in panel periods; null = the yearly default)."""

    horizon: Optional[int] = None         # null = `years` years at the panel frequency
    years: int = 5
    n_windows: int = 3
    step: Optional[int] = None            # null = one year
    initial: Optional[int] = None
    partial: bool = True                  # windows may run past the data end (short histories)
    min_test: Optional[int] = None        # null = one year of actuals in the last partial window
    window: str = "expanding"             # or "sliding" (the last `initial` periods)
    gap: int = 0
    refit_every: int = 1
    point_in_time: bool = True
    n_jobs: int = 1                       # folds in parallel (joblib), one thread each
    quantiles: list[float] = field(default_factory=lambda: [0.1, 0.5, 0.9])
    metrics: list[str] = field(default_factory=lambda: [
        "mase", "wape", "smape", "mae", "rmse", "bias", "coverage_80", "pinball", "change_error", "direction"])
    by: list[str] = field(default_factory=lambda: ["region", "occupation", "horizon_year"])


@dataclass
class TrackingConfig:
    """MLflow tracking: database store (sqlite) or a server URI."""

    enabled: bool = True
    uri: str = "???"
    artifact_location: Optional[str] = None
    experiment_name: str = "???"
    run_name: Optional[str] = None
    log_model: bool = True                # fitted forecasters as MLflow models (from code, xz-compressed)
    log_plots: bool = True


@dataclass
class ReportConfig:
    """Projected skills-gap report."""

    enabled: bool = True
    demand_measure: str = "vacancies"
    supply_measure: str = "jobseekers"
    years: list[int] = field(default_factory=lambda: [2026, 2027, 2028, 2029, 2030])
    quantiles: list[float] = field(default_factory=lambda: [0.1, 0.5, 0.9])
    n_paths: int = 200
    keep_paths: bool = False              # also store the sample paths in forecast.nc (float32, compressed)
    formats: list[str] = field(default_factory=lambda: ["csv"])


@dataclass
class PathsConfig:
    """Project paths (absolute); ``root`` is the original working directory."""

    root: str = "???"
    raw: str = "???"
    processed: str = "???"
    outputs: str = "???"
    output_dir: Optional[str] = None     # this run's folder (Hydra sets it; set it yourself with compose)
    mlruns: str = "???"


@dataclass
class LmforecastConfig:
    """The typed root of every stage config."""

    task_name: str = "???"
    seed: int = 20251
    num_threads: int = 1
    progress: Optional[bool] = None       # None: progress bars only on a TTY
    optimized_metric: Optional[str] = None  # metric returned to a sweeper (e.g. "vacancies/mase")
    data: DataConfig = field(default_factory=DataConfig)
    features: FeaturesConfig = field(default_factory=FeaturesConfig)
    model: Any = None                     # a `_target_` node from conf/model
    uncertainty: Any = None               # the ResidualUncertainty node every model reads (conf/uncertainty)
    model_name: Optional[str] = None      # name of `model` in metrics/MLflow; None = the Hydra choice
    compare: dict[str, Any] = field(default_factory=dict)  # extra models backtested beside `model`
    backtest: BacktestConfig = field(default_factory=BacktestConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    paths: PathsConfig = field(default_factory=PathsConfig)
    forecast_path: Optional[str] = None   # forecast NetCDF read by the report stage
    tags: dict[str, str] = field(default_factory=dict)


def register_configs() -> ConfigStore:
    """Store :class:`LmforecastConfig` in Hydra's ConfigStore as ``lmforecast_schema``.

    Returns the ConfigStore instance. Idempotent; called on import of this module.
    """
    cs = ConfigStore.instance()
    cs.store(name=SCHEMA_NAME, node=LmforecastConfig)
    return cs


register_configs()
