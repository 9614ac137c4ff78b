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
    truth_path: Optional[str] = None      # known truth table of the report (synthetic data only)
    programmes: dict[str, Any] = field(default_factory=dict)  # fixed-term training programmes in the data
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
class BackendConfig:
    """Where backtest folds and per-series fits run (lmforecast.distributed.make_backend)."""

    kind: str = "local"                   # local | dask
    address: Optional[str] = None         # dask: scheduler address (tcp://host:8786); null = LocalCluster
    n_workers: int = 2                    # dask LocalCluster workers
    threads_per_worker: int = 1
    memory_limit: Optional[str] = "auto"  # per LocalCluster worker: auto, 4GiB, null = none
    series_tasks: bool = True             # per-series models spread their series over the workers
    dashboard: bool = False


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
class ReportMeasures:
    """Panel variables the skill-gap report reads."""

    employment: str = "employment"
    graduates: str = "graduates"
    jobseekers: str = "jobseekers"
    trainees: str = "trainees"
    vacancies: str = "vacancies"
    job_ads: str = "job_offers"


@dataclass
class SupplyConfig:
    """Assumptions of new supply (lmforecast.report.supply.SupplyAssumptions)."""

    graduate_placement_rate: float = 0.65
    jobseeker_share: float = 0.25
    trainee_placement_rate: float = 0.6
    mobility: list[Any] = field(default_factory=list)   # [{persons_per_year, regions: [...], occupations: [...]}]


@dataclass
class RatesConfig:
    """Rate files (null = the package defaults, lmforecast/report/data)."""

    separation: Optional[str] = None


@dataclass
class RatingsConfig:
    """Thresholds of the ratings (lmforecast.report.ratings.Thresholds)."""

    ratio_threshold: float = 0.10
    probability_threshold: float = 0.70
    strong_factor: float = 1.20
    soft_factor: float = 0.80
    thin_supply_factor: float = 0.50


@dataclass
class TrackRecordConfig:
    """Gap backtest: the report made at past cutoffs."""

    enabled: bool = True
    cutoffs: Optional[list[int]] = None   # null = 5 years before the data end and the year before
    n_cutoffs: int = 2
    years_ahead: int = 5


@dataclass
class ReportConfig:
    """The skill-gap report (method openings) or the simple stock comparison (method stock)."""

    enabled: bool = True
    method: str = "openings"
    demand_measure: str = "vacancies"     # stock method only
    supply_measure: str = "jobseekers"    # stock method only
    years: list[int] = field(default_factory=lambda: [2026, 2027, 2028, 2029, 2030])
    quantiles: list[float] = field(default_factory=lambda: [0.1, 0.5, 0.9])
    n_paths: int = 200
    keep_paths: bool = False              # also store the sample paths in forecast.nc (float32, compressed)
    formats: list[str] = field(default_factory=lambda: ["parquet", "csv", "xlsx", "html"])
    language: str = "en"
    expansion: str = "horizon"
    top_skills: int = 10
    measures: ReportMeasures = field(default_factory=ReportMeasures)
    supply: SupplyConfig = field(default_factory=SupplyConfig)
    rates: RatesConfig = field(default_factory=RatesConfig)
    ratings: RatingsConfig = field(default_factory=RatingsConfig)
    track_record: TrackRecordConfig = field(default_factory=TrackRecordConfig)


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
    backend: BackendConfig = field(default_factory=BackendConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    paths: PathsConfig = field(default_factory=PathsConfig)
    forecast_path: Optional[str] = None   # forecast NetCDF read by the report stage
    scenario: dict[str, Any] = field(default_factory=dict)  # conf/scenario/*: {name: {label, programmes}}
    tags: dict[str, str] = field(default_factory=dict)


def register_configs() -> ConfigStore:
    """Store :class:`LmforecastConfig` in Hydra's ConfigStore as ``lmforecast_schema``.

    Returns the ConfigStore instance. Idempotent; called on import of this module.
    """
    cs = ConfigStore.instance()
    cs.store(name=SCHEMA_NAME, node=LmforecastConfig)
    return cs


register_configs()
