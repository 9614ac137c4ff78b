"""The pipeline as plain functions: build -> backtest -> project -> report, each tracked.

``experiments/`` (Hydra), notebooks and tests all call these; none of them takes a config
object. A whole run in a notebook::

    from lmforecast import pipeline
    from lmforecast.backtest import RollingOriginSplitter
    from lmforecast.datasets import SyntheticMorocco
    from lmforecast.models.baselines import SeasonalNaive
    from lmforecast.models.recommended import default_forecaster

    result = pipeline.run(
        SyntheticMorocco("data/raw/morocco"),
        {"recommended": default_forecaster("MS"), "seasonal_naive": SeasonalNaive()},
        targets=["vacancies", "jobseekers"],
        backtest_plan=pipeline.BacktestPlan(RollingOriginSplitter(horizon=12, step=6, n_windows=3)),
        report_plan=pipeline.ReportPlan(years=(2026, 2027)),
        data_name="morocco", out_dir="outputs/notebook")
    print(result.summary)
    result.report.table.head()

Stages, usable one by one:

* :func:`build` -- a data source (``lmforecast.datasets``) -> panel, written atomically;
* :func:`backtest` -- every model x target on the same rolling origins -> :class:`BacktestResult`;
* :func:`project` -- fit the main model on all data, forecast to the end of the report years
  -> :class:`Projection`; the fitting itself is :func:`forecast_targets`, the one function that
  calls a model for the final forecast;
* :func:`report` -- projected demand - supply gap table -> :class:`GapReport`;
* :func:`track` -- the tracked run of a stage (MLflow through a tracker, or nothing).

:func:`run` chains them and returns a :class:`RunResult` whose ``summary`` is three lines: the
key backtest metric against the naive baseline, where the report is, and where the MLflow run is.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import textwrap
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from sklearn.base import clone
from tqdm.auto import tqdm

from lmforecast import panel as P
from lmforecast.errors import ConfigError, PanelError
from lmforecast.io import read_netcdf, write_netcdf_atomic, write_text_atomic

log = logging.getLogger("lmforecast")

DEFAULT_METRICS = ("mase", "wape", "smape", "mae", "rmse", "bias", "coverage_80", "pinball")
#: the metric the end-of-run summary compares (scale-free, lower is better)
KEY_METRIC = "mase"


# --------------------------------------------------------------------------- plans and results
#: decimal places kept in stored backtest cubes (units of the target: persons, ads); metrics are
#: computed before, at full precision
CUBE_DECIMALS = 2


@dataclass(frozen=True)
class BacktestPlan:
    """How models are backtested and scored.

    Attributes
    ----------
    splitter : rolling origins (:class:`lmforecast.backtest.RollingOriginSplitter`).
    quantiles : forecast quantile levels scored (0.5 always included).
    metrics : metric names (:func:`lmforecast.metrics.evaluate`).
    by : extra breakdowns written as tables (``region``, ``occupation``).
    point_in_time : train each fold only on values already published at its cutoff.
    n_jobs : folds run in parallel (joblib processes, one thread each; local backend).
    backend : where folds and per-series fits run: None (this process) or a started backend of
        :mod:`lmforecast.distributed` (``DaskBackend``: folds as cluster tasks).

    Examples
    --------
    >>> from lmforecast.backtest import RollingOriginSplitter
    >>> plan = BacktestPlan(RollingOriginSplitter(horizon=None, n_windows=3, step=None, partial=True),
    ...                     metrics=("mase", "coverage_80"))
    >>> plan.params()["backtest.metrics"]
    ['mase', 'coverage_80']
    """

    splitter: object
    quantiles: tuple[float, ...] = (0.1, 0.5, 0.9)
    metrics: tuple[str, ...] = DEFAULT_METRICS
    by: tuple[str, ...] = (P.REGION, P.OCCUPATION)
    point_in_time: bool = True
    n_jobs: int = 1
    backend: object = None

    def params(self) -> dict[str, object]:
        """``{"backtest.<name>": value}`` for MLflow (splitter params, quantiles, metrics ...)."""
        out = {f"backtest.{k}": v for k, v in self.splitter.get_params().items()}
        out.update({"backtest.quantiles": list(self.quantiles), "backtest.metrics": list(self.metrics),
                    "backtest.point_in_time": self.point_in_time, "backtest.n_jobs": self.n_jobs,
                    "backtest.backend": "local" if self.backend is None else self.backend.describe()})
        return out


@dataclass(frozen=True)
class ReportPlan:
    """What the report covers.

    Attributes
    ----------
    method : ``"openings"`` (the skill-gap report, :mod:`lmforecast.report.core`: job openings vs
        new supply from joint paths of employment, graduates and jobseekers) or ``"stock"`` (the
        simple comparison ``demand_measure - supply_measure`` of annual means, e.g. vacancies -
        jobseekers, for data sets with only those two series).
    demand_measure, supply_measure : panel variables of the stock method.
    years : calendar years of the projection (the forecast runs to the end of the last one).
    quantiles : forecast quantile levels.
    n_paths : joint sample paths behind every interval (0 = none: stock method only).
    formats : files written (openings: ``parquet``, ``csv``, ``xlsx``, ``html``; stock: ``csv``).
    keep_paths : also store the sample paths in ``forecast.nc`` (float32, compressed).
    language : ``en`` or ``fr`` (workbook and page).
    measures : :class:`lmforecast.report.core.Measures` (panel variable names).
    assumptions : :class:`lmforecast.report.supply.SupplyAssumptions` (None = defaults).
    rates_path : separation-rate file (None = package default).
    thresholds : :class:`lmforecast.report.ratings.Thresholds` (None = defaults).
    scenarios : :class:`lmforecast.report.scenarios.Scenario` entries.
    expansion : expansion-demand method (``horizon`` or ``annual``).
    track_record : run the gap backtest (:func:`lmforecast.report.track_record.gap_backtest`).
    cutoffs : its cutoff years (None = five years before the data end and the year before).
    top_skills : skills listed per region.

    Examples
    --------
    >>> plan = ReportPlan(years=(2026, 2027), n_paths=100, formats=("csv",))
    >>> plan.path_targets()
    ('employment', 'graduates', 'jobseekers')
    """

    demand_measure: str = "vacancies"
    supply_measure: str = "jobseekers"
    years: tuple[int, ...] = (2026, 2027, 2028, 2029, 2030)
    quantiles: tuple[float, ...] = (0.1, 0.5, 0.9)
    n_paths: int = 200
    formats: tuple[str, ...] = ("parquet", "csv", "xlsx", "html")
    keep_paths: bool = False
    method: str = "openings"
    language: str = "en"
    measures: object = None
    assumptions: object = None
    rates_path: str | None = None
    thresholds: object = None
    scenarios: tuple = ()
    expansion: str = "horizon"
    track_record: bool = True
    cutoffs: tuple[int, ...] | None = None
    top_skills: int = 10

    def report_measures(self):
        """:class:`lmforecast.report.core.Measures` of the plan."""
        from lmforecast.report.core import Measures

        return self.measures or Measures()

    def path_targets(self) -> tuple[str, ...]:
        """The measures that need joint sample paths."""
        if self.method == "stock":
            return (self.demand_measure, self.supply_measure)
        return tuple(self.report_measures().path_targets)

    def history_measures(self) -> tuple[str, ...]:
        """Observed measures the report reads (stored with the forecast, last two years)."""
        m = self.report_measures()
        return (m.employment, m.graduates, m.jobseekers, m.trainees, m.vacancies, m.job_ads)


@dataclass
class BacktestResult:
    """Backtests of every model on every target.

    Attributes
    ----------
    cubes : ``{target: {model: backtest Dataset}}`` (:func:`lmforecast.backtest.backtest`).
    metrics : ``{"<target>/<model>/<metric>": value}`` over all folds, horizons and series.
    paths : ``{target: {model: Path}}`` of the cubes written (empty without ``out_dir``).
    """

    cubes: dict[str, dict[str, xr.Dataset]] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    paths: dict[str, dict[str, Path]] = field(default_factory=dict)

    def scores(self, metric: str = KEY_METRIC) -> pd.DataFrame:
        """One metric as a table: index = model, columns = targets."""
        rows = [(model, target, value) for key, value in self.metrics.items()
                for target, model, name in [key.split("/")] if name == metric]
        frame = pd.DataFrame(rows, columns=["model", "target", metric])
        wide = frame.pivot(index="model", columns="target", values=metric)
        return wide.reindex(index=frame["model"].unique(), columns=frame["target"].unique())


@dataclass
class Projection:
    """The main model fitted on all data and its forecast.

    Attributes
    ----------
    forecast : Dataset, one variable per target ``(time, region, occupation, quantile)`` and
        ``<target>_paths`` ``(time, region, occupation, path)`` for the gap's two measures.
    models : ``{target: fitted forecaster}``.
    horizon : periods forecast after the panel's last period.
    path : where ``forecast.nc`` was written (None without ``out_dir``).
    model_uris : ``{target: "models:/..."}`` of the models logged to MLflow.
    """

    forecast: xr.Dataset
    models: dict[str, object]
    horizon: int
    path: Path | None = None
    model_uris: dict[str, str] = field(default_factory=dict)


@dataclass
class GapReport:
    """The projected-gap table and its files.

    Attributes
    ----------
    table : one row per year x region x occupation (openings method: the tidy table of
        :func:`lmforecast.report.write.tables`; stock method: :func:`lmforecast.report.gap_table`).
    paths : files written.
    truth : scores against a known truth (synthetic data): ``report_truth/*`` (openings) or
        ``gap_truth/*`` (stock); also ``gap_backtest/*`` when the gap backtest ran.
    skill_gap : the :class:`lmforecast.report.core.SkillGapReport` (openings method).
    """

    table: pd.DataFrame
    paths: list[Path]
    truth: dict[str, float] = field(default_factory=dict)
    skill_gap: object | None = None


@dataclass
class RunResult:
    """Everything :func:`run` produced.

    Attributes
    ----------
    panel : the panel built.
    backtest : :class:`BacktestResult`.
    projection : :class:`Projection`.
    report : :class:`GapReport`, or None when no report was asked.
    metrics : flat dict written to ``metrics.json`` (backtest metrics, ``gap_truth/*``, paths,
        ``model_uri_<target>``, ``run_id``, ``wall_time_s``).
    summary : three lines for the console.
    """

    panel: xr.Dataset
    backtest: BacktestResult
    projection: Projection
    report: GapReport | None
    metrics: dict[str, object]
    summary: str


# --------------------------------------------------------------------------- process
def configure_process(seed: int, num_threads: int = 1) -> None:
    """Seed Python's and NumPy's global generators with ``seed``; cap native thread pools at ``num_threads``.

    Models take their own ``random_state``; this covers code that uses the global generators.
    """
    random.seed(seed)
    np.random.seed(int(seed) % (2**32))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(num_threads))
    with contextlib.suppress(ImportError):
        from threadpoolctl import threadpool_limits

        threadpool_limits(int(num_threads))


def _tracker(tracker):
    from lmforecast.tracking import NoTracking

    return NoTracking() if tracker is None else tracker


def run_name(stage: str, model: str, data: str, target: str | None = None) -> str:
    """Name of a tracked run: ``"<stage>: <model> on <data>[/<target>]"``."""
    return f"{stage}: {model} on {data}" + (f"/{target}" if target else "")


@contextlib.contextmanager
def track(tracker, stage: str, *, model: str, data: str, config: Mapping | None = None,
          tags: Mapping[str, object] | None = None,
          files: Mapping[str, Sequence[str | os.PathLike]] | None = None) -> Iterator[str | None]:
    """The tracked run of one stage, for a ``with`` block; yields its run id (None untracked).

    Before opening it, checks that the store answers (an unreachable server fails in seconds,
    naming the URI) and marks KILLED the runs left RUNNING by dead processes. The run is named
    :func:`run_name` and tagged with the stage, model and data set; ``config`` (a plain nested
    dict) is logged as params and a JSON artifact; ``files`` (``{artifact folder: [paths]}``,
    e.g. the job log) are attached when the block ends, also when it fails.
    """
    from lmforecast import tracking as T

    tracker = _tracker(tracker)
    tracker.check()
    stale = tracker.close_stale_runs()
    if stale:
        log.info("marked %d run(s) of dead processes KILLED: %s", len(stale), ", ".join(stale))
    all_tags = {T.TAG_KIND: "pipeline", T.TAG_STAGE: stage, T.TAG_MODEL: model, T.TAG_DATASET: data, **(tags or {})}
    with tracker.run(run_name(stage, model, data), tags=all_tags) as run_id:
        if config is not None:
            tracker.log_config(config)
        try:
            yield run_id
        finally:
            for folder, paths in (files or {}).items():
                for path in paths:
                    tracker.log_file(path, folder)


# --------------------------------------------------------------------------- build
def build(source, panel_path: str | os.PathLike | None = None, *, progress: bool = False) -> xr.Dataset:
    """Build the panel of a data source; write it atomically to ``panel_path`` if given.

    Parameters
    ----------
    source : any object with ``load_panel(progress) -> panel`` (:mod:`lmforecast.datasets`:
        ``RawFolder``, ``SyntheticMorocco``, ``AuIvi``).
    panel_path : when given, the panel is written there (NetCDF, atomically).
    progress : tqdm bars while loading.

    Returns
    -------
    The validated panel, an ``xarray.Dataset`` ``time x region x occupation``.

    Examples
    --------
    >>> import tempfile
    >>> from lmforecast.datasets import RawFolder
    >>> from lmforecast.datasets.example_country import write_example_country
    >>> panel = build(RawFolder(write_example_country(tempfile.mkdtemp()), country="XX"))
    >>> dict(panel.sizes)
    {'time': 120, 'region': 5, 'occupation': 6}
    """
    panel = P.validate(source.load_panel(progress=progress))
    if panel_path is not None:
        P.write_panel(panel, panel_path)
        log.info("panel %s written to %s", dict(panel.sizes), panel_path)
    return panel


def load_panel(source, panel_path: str | os.PathLike, *, progress: bool = False) -> xr.Dataset:
    """The panel at ``panel_path`` if that file exists, else :func:`build` it there."""
    if Path(panel_path).exists():
        return P.read_panel(panel_path)
    return build(source, panel_path, progress=progress)


def check_targets(panel: xr.Dataset, targets: Sequence[str]) -> list[str]:
    """The targets as a list, each checked to be a panel variable (PanelError naming the missing one)."""
    targets = [str(t) for t in targets]
    for target in targets:
        if target not in panel.data_vars:
            raise PanelError(f"data.targets names {target!r}, which is not a variable of the panel; "
                             f"it has {sorted(map(str, panel.data_vars))}")
    return targets


# --------------------------------------------------------------------------- backtest
def model_params(model) -> dict[str, str]:
    """``{"model.<param>": text}`` of a forecaster's own parameters (nested estimators summarised)."""
    params = {}
    for key, value in model.get_params(deep=False).items():
        if hasattr(value, "get_params"):
            inner = ", ".join(f"{k}={v!r}" for k, v in sorted(value.get_params(deep=False).items()))
            value = f"{type(value).__name__}({inner})"
        params[f"model.{key}"] = value if isinstance(value, str) else repr(value)
    params["model._target_"] = f"{type(model).__module__}.{type(model).__name__}"
    return params


def metric_tables(backtest_ds: xr.Dataset, metrics: Sequence[str], by: Sequence[str] = ()
                  ) -> tuple[pd.Series, pd.DataFrame, dict[str, pd.DataFrame]]:
    """Scores of one backtest: overall (Series metric -> value), by horizon step (DataFrame) and
    by each dim of ``by`` (``{"by_<dim>": DataFrame}``), metrics in the given order."""
    from lmforecast.metrics import evaluate

    metrics = list(metrics)
    overall = evaluate(backtest_ds, metrics).set_index("metric")["value"].reindex(metrics)

    def table(dim):
        return evaluate(backtest_ds, metrics, by=dim).pivot(index=dim, columns="metric", values="value")[metrics]

    return overall, table(P.HORIZON), {f"by_{dim}": table(dim) for dim in by}


def backtest(models: Mapping[str, object], panel: xr.Dataset, targets: Sequence[str], plan: BacktestPlan, *,
             out_dir: str | os.PathLike | None = None, tracker=None, data_name: str = "data",
             progress: bool = False) -> BacktestResult:
    """Backtest every model on every target on the same rolling origins.

    Parameters
    ----------
    models : ``{name: unfitted forecaster}`` (each is cloned per target).
    panel : the panel (``time x region x occupation``).
    targets : panel variables to forecast.
    plan : :class:`BacktestPlan`.
    out_dir : when given, each cube is written to ``out_dir/backtests/<target>/<model>.nc``
        (float32, compressed; metrics are computed before, at full precision).
    tracker : one child run per (model, target) with its params, metrics, tables and plots;
        None = untracked.
    data_name : data set name used in run names.
    progress : tqdm bars (shown on a terminal only).

    Returns
    -------
    :class:`BacktestResult`.

    Examples
    --------
    >>> from lmforecast.backtest import RollingOriginSplitter
    >>> from lmforecast.datasets.example_country import example_panel
    >>> from lmforecast.models.baselines import Naive, SeasonalNaive
    >>> plan = BacktestPlan(RollingOriginSplitter(horizon=12, n_windows=2, step=12), metrics=("mase",))
    >>> result = backtest({"naive": Naive(), "seasonal_naive": SeasonalNaive()}, example_panel(), ["vacancies"], plan)
    >>> result.scores("mase").index.tolist(), result.cubes["vacancies"]["naive"].sizes["cutoff"]
    (['naive', 'seasonal_naive'], 2)
    """
    from lmforecast import backtest as B
    from lmforecast import tracking as T

    tracker = _tracker(tracker)
    targets = check_targets(panel, targets)
    try:
        plan.splitter.split(panel.indexes[P.TIME])
    except ValueError as exc:
        raise ConfigError(f"the backtest settings do not fit the panel ({panel.sizes[P.TIME]} periods, "
                          f"{panel.indexes[P.TIME][0]:%Y-%m} to {panel.indexes[P.TIME][-1]:%Y-%m}): {exc}") from exc
    result = BacktestResult()
    jobs = [(target, name) for target in targets for name in models]
    for target, name in tqdm(jobs, desc="backtest", unit="model", disable=None if progress else True):
        model = clone(models[name])
        tags = {T.TAG_KIND: "backtest", T.TAG_MODEL: name, T.TAG_TARGET: target, T.TAG_DATASET: data_name,
                T.TAG_DATA_SHA: T.data_sha256(panel)}
        with tracker.run(run_name("backtest", name, data_name, target), tags=tags):
            cube = B.backtest(model, panel, target, plan.splitter, quantiles=list(plan.quantiles),
                              point_in_time=plan.point_in_time, progress=progress, n_jobs=plan.n_jobs,
                              backend=plan.backend)
            overall, by_horizon, tables = metric_tables(cube, plan.metrics, plan.by)
            tracker.log_params({**model_params(model), **plan.params(), "target": target})
            tracker.log_backtest(cube, list(plan.metrics), overall, by_horizon, tables)
            if out_dir is not None:
                path = write_netcdf_atomic(cube, Path(out_dir) / "backtests" / target / f"{name}.nc", float32=True,
                                           decimals=CUBE_DECIMALS)
                result.paths.setdefault(target, {})[name] = path
        result.cubes.setdefault(target, {})[name] = cube
        for metric, value in overall.items():
            result.metrics[f"{target}/{name}/{metric}"] = float(value)
        log.info("backtest %s on %s: %s", name, target, ", ".join(f"{k}={v:.4g}" for k, v in overall.items()))
    return result


# --------------------------------------------------------------------------- project
def forecast_horizon(panel: xr.Dataset, years: Sequence[int]) -> int:
    """Periods from the panel's last period to the end of ``max(years)``.

    Raises ConfigError when the years end before the panel does.
    """
    last = panel.indexes[P.TIME][-1]
    end = pd.Timestamp(year=int(max(years)), month=12, day=31)
    future = pd.date_range(last, end, freq=panel.attrs["freq"])[1:]
    if len(future) == 0:
        raise ConfigError(f"report years {list(years)} end before the panel's last period {last:%Y-%m}; "
                          f"nothing to forecast")
    return len(future)


def forecast_targets(model, panel: xr.Dataset, targets: Sequence[str], horizon: int, *,
                     quantiles: Sequence[float] = (0.1, 0.5, 0.9), n_paths: int = 0,
                     path_targets: Sequence[str] = (), seed: int = 0,
                     progress: bool = False, backend=None) -> tuple[xr.Dataset, dict[str, object]]:
    """Fit a clone of ``model`` on the whole panel for each target and forecast ``horizon`` periods.

    This is the only place the final forecast calls a model: swap it to change how forecasts
    and their sample paths are made. With a ``backend`` (:mod:`lmforecast.distributed`), the
    per-series models among them (``n_jobs`` None) fit their series on its workers.

    Returns
    -------
    ``(forecast, fitted)``: a Dataset with one variable per target ``(time, region, occupation,
    quantile)`` (target units) and, for the targets in ``path_targets``, ``<target>_paths``
    ``(time, region, occupation, path)`` with ``n_paths`` sample paths drawn *jointly* across
    those targets (:func:`lmforecast.uncertainty.joint_sample_paths`: demand and supply share
    their calibration origins, so a gap computed path by path has the right spread), float32;
    and ``{target: fitted forecaster}``.
    """
    from lmforecast.uncertainty import joint_sample_paths

    variables, fitted = {}, {}
    series_context = backend.series_context() if backend is not None else contextlib.nullcontext()
    with series_context:
        for target in tqdm(targets, desc="fit+forecast", unit="target", disable=None if progress else True):
            fitted[target] = clone(model).fit(panel, target)
    for target in targets:
        estimator = fitted[target]
        variables[target] = estimator.predict(horizon, quantiles=list(quantiles))
    joint = [t for t in targets if t in path_targets]
    groups: list[list[str]] = []
    if joint and n_paths > 0:
        paths, groups = draw_joint_paths({t: fitted[t] for t in joint}, horizon, int(n_paths), int(seed))
        for target in joint:
            values = paths[target]
            values.attrs = dict(variables[target].attrs)
            variables[f"{target}_paths"] = values.rename(f"{target}_paths").reset_coords(drop=True)
    forecast = xr.Dataset(variables)
    forecast.attrs = {"freq": panel.attrs["freq"], "country": panel.attrs.get("country", ""),
                      "model": type(model).__name__, "trained_until": f"{panel.indexes[P.TIME][-1]:%Y-%m-%d}",
                      "provenance_inputs": panel.attrs.get("provenance_inputs", "{}")}
    if groups:
        forecast.attrs["paths_joint"] = "all" if len(groups) == 1 else " | ".join("+".join(g) for g in groups)
    return forecast, fitted


def draw_joint_paths(fitted: Mapping[str, object], horizon: int, n_paths: int, seed: int
                     ) -> tuple[xr.Dataset, list[list[str]]]:
    """Sample paths of several fitted targets, jointly where the uncertainty layer allows it.

    :func:`lmforecast.uncertainty.joint_sample_paths` needs models calibrated on aligned residual
    rows. Measures of different native frequencies on one panel (quarterly employment, annual
    graduates, monthly jobseekers on a monthly panel) give different numbers of rows today, so
    the targets are split into groups of aligned models, each drawn jointly with its own seed
    (spawned from ``seed``: independent streams), and a warning names the groups. Returns
    ``(paths, groups)``; one group = fully joint.
    """
    from lmforecast.uncertainty import joint_sample_paths

    try:
        return joint_sample_paths(dict(fitted), horizon, n_paths=n_paths, seed=seed), [list(fitted)]
    except PanelError:
        pass
    groups: dict[tuple, list[str]] = {}
    for name, model in fitted.items():
        comp = model.uncertainty_
        key = (tuple(comp.origin_times_), int(comp.scores_.shape[0]))
        groups.setdefault(key, []).append(name)
    members = list(groups.values())
    log.warning("sample paths of %s cannot be drawn jointly (their calibration residuals do not align: "
                "different native frequencies); drawn jointly within %s and independently between them",
                ", ".join(fitted), " | ".join("+".join(g) for g in members))
    streams = np.random.SeedSequence(int(seed)).spawn(len(members))
    parts = [joint_sample_paths({t: fitted[t] for t in group}, horizon, n_paths=n_paths,
                                seed=int(stream.generate_state(1)[0]))
             for group, stream in zip(members, streams)]
    return xr.merge(parts), members


HISTORY_TIME = "history_time"


def attach_history(forecast: xr.Dataset, panel: xr.Dataset, measures: Sequence[str], years: int = 2) -> xr.Dataset:
    """The forecast plus the last ``years`` complete observed years of ``measures`` (``history_<m>``).

    The skill-gap report reads its base-year employment, last year's trainees and the tension
    indicators there, so a forecast file alone is enough to make the report.
    """
    per_year = P.season_length(panel.attrs["freq"])
    time = panel.indexes[P.TIME]
    complete = [y for y in sorted(set(time.year)) if (time.year == y).sum() == per_year]
    keep = time[time >= pd.Timestamp(year=complete[-years:][0], month=1, day=1)] if complete else time
    out = forecast.copy()
    for m in measures:
        if m in panel:
            out[f"history_{m}"] = panel[m].sel({P.TIME: keep}).rename({P.TIME: HISTORY_TIME}).reset_coords(drop=True)
    labels = {c: panel[c] for c in (P.REGION_NAME, P.OCCUPATION_NAME, P.OCCUPATION_MAJOR) if c in panel.coords}
    return out.assign_coords(labels)


def history_panel(forecast: xr.Dataset) -> xr.Dataset:
    """The observed history stored by :func:`attach_history`, as a panel (``time x region x occupation``)."""
    names = [str(v) for v in forecast.data_vars if str(v).startswith("history_")]
    if not names:
        raise ConfigError("the forecast holds no observed history for the skill-gap report: make it with "
                          "pipeline.project (or pass panel=)")
    panel = xr.Dataset({n.removeprefix("history_"): forecast[n].rename({HISTORY_TIME: P.TIME}) for n in names})
    panel = panel.assign_coords({c: forecast[c] for c in (P.REGION_NAME, P.OCCUPATION_NAME, P.OCCUPATION_MAJOR)
                                 if c in forecast.coords})
    panel.attrs = {"freq": forecast.attrs["freq"]}
    return panel


def write_forecast(forecast: xr.Dataset, path: str | os.PathLike, keep_paths: bool = False) -> Path:
    """Write a forecast Dataset to NetCDF atomically; return the path.

    Every variable is stored compressed as float32 rounded to ``CUBE_DECIMALS`` (0.01 of a person
    or a job, like the backtest cubes); the sample paths (``*_paths``) only with ``keep_paths``
    (they are paths x periods x series large). The run's report is computed from the forecast in
    memory; a report made later from this file (``lmforecast report``) differs by at most that rounding.
    """
    paths = [str(name) for name in forecast.data_vars if str(name).endswith("_paths")]
    kept = forecast if keep_paths else forecast.drop_vars(paths)
    return write_netcdf_atomic(kept, path, float32=True, decimals=CUBE_DECIMALS)


def read_forecast(path: str | os.PathLike) -> xr.Dataset:
    """Read a forecast written by :func:`write_forecast`."""
    return read_netcdf(path, "forecast", "run `lmforecast forecast` first or pass forecast_path=")


def project(model, panel: xr.Dataset, targets: Sequence[str], plan: ReportPlan, *, horizon: int | None = None,
            seed: int = 0, out_dir: str | os.PathLike | None = None, tracker=None,
            progress: bool = False, backend=None) -> Projection:
    """Fit ``model`` on all data and forecast each target to the end of ``plan.years``.

    Parameters
    ----------
    model : unfitted forecaster (cloned per target).
    panel, targets : the panel and the variables to forecast.
    plan : :class:`ReportPlan` (years, quantiles, sample paths for its demand/supply measures).
    horizon : periods to forecast; None = to the end of ``max(plan.years)``.
    seed : seed of the sample paths.
    out_dir : when given, writes ``out_dir/forecast.nc`` (:func:`write_forecast`).
    tracker : logs the forecast file and, per target, the fitted model (``forecaster_<target>``).
    progress : tqdm bars.
    backend : a started backend of :mod:`lmforecast.distributed` for the per-series fits (None = here).

    Returns
    -------
    :class:`Projection`.

    Examples
    --------
    >>> from lmforecast.datasets.example_country import example_panel
    >>> from lmforecast.models.baselines import SeasonalNaive
    >>> plan = ReportPlan(years=(2026, 2027), n_paths=20)
    >>> projection = project(SeasonalNaive(), example_panel(), ["employment", "graduates", "jobseekers"], plan)
    >>> projection.horizon, sorted(projection.forecast.data_vars)[:4]
    (24, ['employment', 'employment_paths', 'graduates', 'graduates_paths'])
    """
    tracker = _tracker(tracker)
    targets = check_targets(panel, targets)
    horizon = forecast_horizon(panel, plan.years) if horizon is None else int(horizon)
    path_targets = plan.path_targets() if plan.n_paths > 0 else ()
    targets = targets + [t for t in path_targets if t in panel and t not in targets]
    forecast, fitted = forecast_targets(model, panel, targets, horizon, quantiles=plan.quantiles,
                                        n_paths=plan.n_paths, path_targets=path_targets, seed=seed,
                                        progress=progress, backend=backend)
    if plan.method == "openings":
        forecast = attach_history(forecast, panel, plan.history_measures())
    projection = Projection(forecast, fitted, horizon)
    if out_dir is not None:
        # kept in the run's folder, not logged: the logged models and config reproduce it
        projection.path = write_forecast(forecast, Path(out_dir) / "forecast.nc", keep_paths=plan.keep_paths)
    for target, estimator in fitted.items():
        uri = tracker.log_forecaster(estimator, name=f"forecaster_{target}", quantiles=plan.quantiles)
        if uri is not None:
            projection.model_uris[target] = uri
    return projection


# --------------------------------------------------------------------------- report
def truth_errors(table: pd.DataFrame, truth_path: str | os.PathLike | None) -> dict[str, float]:
    """Errors of a gap table against a known truth gap table (``year, region, occupation, gap``).

    Returns ``gap_truth/mae``, ``/bias`` (gap units), ``/wape`` (%), ``/n`` (cells matched) and
    ``/coverage_80`` (share of truths inside ``gap_q10..gap_q90``, when present); ``{}`` when
    there is no truth file.
    """
    from lmforecast import report as R

    if not truth_path or not Path(truth_path).exists():
        return {}
    truth = pd.read_csv(truth_path, dtype={P.REGION: str, P.OCCUPATION: str})
    merged = R.compare_with_truth(table, truth)
    out = {"gap_truth/mae": float(merged["error"].abs().mean()),
           "gap_truth/bias": float(merged["error"].mean()),
           "gap_truth/wape": float(100 * merged["error"].abs().sum() / merged["gap_truth"].abs().sum()),
           "gap_truth/n": float(len(merged))}
    if "inside_80" in merged:
        out["gap_truth/coverage_80"] = float(merged["inside_80"].mean())
    return out


def report(forecast: xr.Dataset, plan: ReportPlan, *, out_dir: str | os.PathLike, name: str,
           truth_path: str | os.PathLike | None = None, tracker=None, panel: xr.Dataset | None = None,
           model=None, model_scores: pd.DataFrame | None = None, seed: int = 0,
           progress: bool = False) -> GapReport:
    """The report of a forecast: the skill-gap report (``plan.method="openings"``) or the stock gap.

    Parameters
    ----------
    forecast : Dataset from :func:`project` (quantiles, joint ``*_paths`` and the observed
        history it stores).
    plan : :class:`ReportPlan`.
    out_dir : folder of the files (written atomically, after everything is computed).
    name : file stem, e.g. ``skill_gap_morocco``.
    truth_path : known truth (synthetic data), scored into ``report_truth/*`` (``gap_truth/*``
        for the stock method).
    tracker : logs the files under ``report/`` and the scores as metrics.
    panel : the observed panel (default: the history stored in the forecast); needed, with
        ``model``, for the gap backtest.
    model : the unfitted forecaster the projection used; with ``panel`` and
        ``plan.track_record`` the gap backtest runs.
    model_scores : backtest metric of the models (index model, columns targets), shown as their accuracy.
    seed : seed of the gap backtest's paths.
    progress : progress bars.

    Returns
    -------
    :class:`GapReport`.

    Examples
    --------
    >>> import tempfile
    >>> from lmforecast.datasets.example_country import example_panel
    >>> from lmforecast.models.baselines import SeasonalNaive
    >>> panel = example_panel()
    >>> plan = ReportPlan(years=(2026,), n_paths=20, formats=("csv",))
    >>> projection = project(SeasonalNaive(), panel, ["employment", "graduates", "jobseekers"], plan)
    >>> gap = report(projection.forecast, plan, out_dir=tempfile.mkdtemp(), name="skill_gap", panel=panel)
    >>> [path.name for path in gap.paths], len(gap.table)
    (['skill_gap.csv', 'skill_gap_cumulative.csv'], 30)
    """
    from lmforecast import report as R

    tracker = _tracker(tracker)
    if plan.method == "openings":
        return _skill_gap_report(forecast, plan, out_dir=out_dir, name=name, truth_path=truth_path, tracker=tracker,
                                 panel=panel, model=model, model_scores=model_scores, seed=seed, progress=progress)
    if plan.method != "stock":
        raise ConfigError(f"report.method must be 'openings' or 'stock', got {plan.method!r}")
    demand, supply = plan.demand_measure, plan.supply_measure
    for measure in (demand, supply):
        if measure not in forecast:
            raise ConfigError(f"the report needs a forecast of {measure!r}; the forecast has "
                              f"{sorted(map(str, forecast.data_vars))}; add it to data.targets")
    gap = R.projected_gap(forecast[demand], forecast[supply], freq=forecast.attrs["freq"], years=list(plan.years),
                          demand_paths=forecast.get(f"{demand}_paths"), supply_paths=forecast.get(f"{supply}_paths"),
                          quantiles=list(plan.quantiles))
    table = R.gap_table(gap)
    paths = R.write_gap_report(table, out_dir, name=name, formats=[f for f in plan.formats if f == "csv"] or ["csv"])
    for path in paths:
        tracker.log_file(path, "report")
    truth = truth_errors(table, truth_path)
    tracker.log_metrics(truth)
    log.info("gap table (%d rows) written to %s", len(table), ", ".join(map(str, paths)))
    return GapReport(table, paths, truth)


def _skill_gap_report(forecast, plan: ReportPlan, *, out_dir, name, truth_path, tracker, panel, model, model_scores,
                      seed, progress) -> GapReport:
    from lmforecast.report.core import skill_gap_report
    from lmforecast.report.rates import load_separation_rates
    from lmforecast.report.supply import SupplyAssumptions
    from lmforecast.report.ratings import Thresholds
    from lmforecast.report.track_record import default_cutoffs, gap_backtest
    from lmforecast.report.truth import truth_scores_from_file
    from lmforecast.report.write import tables, top_shortages, write_report

    observed = panel if panel is not None else history_panel(forecast)
    assumptions = plan.assumptions or SupplyAssumptions()
    rates = load_separation_rates(plan.rates_path)
    thresholds = plan.thresholds or Thresholds()
    result = skill_gap_report(forecast, observed, plan.years, assumptions=assumptions, rates=rates,
                              thresholds=thresholds, scenarios=plan.scenarios, measures=plan.report_measures(),
                              expansion=plan.expansion, top_skills=plan.top_skills)
    if plan.track_record and model is not None and panel is not None:
        cutoffs = list(plan.cutoffs) if plan.cutoffs else default_cutoffs(panel)
        if cutoffs:
            result.track_record = gap_backtest(model, panel, cutoffs, assumptions=assumptions, rates=rates,
                                               measures=plan.report_measures(), expansion=plan.expansion,
                                               n_paths=max(int(plan.n_paths), 20), seed=seed, progress=progress)
        else:
            result.notes.append("gap backtest skipped: the data are too short for a cutoff with 3 years of "
                                "training and a year of actuals after it")
    frames = tables(result)
    cells = frames["cells"]
    truth = truth_scores_from_file(result.cells[["job_openings", "new_supply", "gap", "gap_q10", "gap_q90",
                                                 "gap_ratio"]].reset_coords(drop=True).to_dataframe().reset_index(),
                                   truth_path, result.national)
    if result.track_record is not None:
        truth.update(result.track_record.metrics())
    paths = write_report(result, out_dir, name, language=plan.language, formats=plan.formats,
                         model_scores=model_scores)
    for path in paths:
        if path.name != f"{name}.csv" or "parquet" not in plan.formats:  # the Parquet file holds that table
            tracker.log_file(path, "report")
    tracker.log_metrics(truth)
    top = top_shortages(result)
    log.info("skill-gap report (%d rows) written to %s; top shortage: %s", len(cells), out_dir,
             ", ".join(top["occupation"].head(3)))
    return GapReport(cells, paths, truth, result)


# --------------------------------------------------------------------------- run
def write_metrics(metrics: Mapping[str, object], path: str | os.PathLike) -> Path:
    """Write a flat metrics dict as sorted, indented JSON, atomically; return the path."""
    return write_text_atomic(path, json.dumps(dict(metrics), indent=2, sort_keys=True, default=str))


def baseline_name(names: Sequence[str]) -> str | None:
    """The model the summary compares against: ``naive``, else ``seasonal_naive``, else any
    ``*naive*``, else None."""
    names = list(names)
    for preferred in ("naive", "seasonal_naive"):
        if preferred in names:
            return preferred
    return next((n for n in names if "naive" in n), None)


def summary_lines(main: str, backtest_result: BacktestResult, report_result: GapReport | None, where: str) -> str:
    """Three lines: the key backtest metric of ``main`` against the naive baseline, the report, the run."""
    scores = backtest_result.scores(KEY_METRIC)
    targets = list(scores.columns)
    base = baseline_name([m for m in scores.index if m != main])

    def fmt(model):
        return ", ".join(f"{t} {scores.loc[model, t]:.3g}" for t in targets)

    line1 = f"backtest {KEY_METRIC.upper()} of {main}: {fmt(main)}"
    line1 += f"  (vs {base}: {fmt(base)})" if base else "  (no naive baseline compared; MASE < 1 beats the " \
                                                         "in-sample seasonal naive)"
    if base and "fixed_share" in scores.index and "fixed_share" not in (main, base):
        line1 += f"  (fixed_share: {fmt('fixed_share')})"
    if report_result is None:
        line2 = "gap report: not asked (report.enabled=false)"
    elif report_result.skill_gap is not None:
        from lmforecast.report.write import top_shortages

        top = top_shortages(report_result.skill_gap, 5)
        # names cut at a word, not mid-word, to keep the summary on one line
        shown = "; ".join(f"{o} {textwrap.shorten(str(n), 48, placeholder=' ...')} {g:+,.0f} (P {p:.2f})" for o, n, g, p in
                          zip(top["occupation"], top["occupation_name"], top["gap"], top["p_shortage"]))
        folder = report_result.paths[0].parent
        files = ", ".join(p.name for p in report_result.paths)
        line2 = (f"top 5 shortages nationally, {report_result.skill_gap.years[0]}-{report_result.skill_gap.years[-1]} "
                 f"(openings - supply, persons): {shown}\nskill-gap report: {folder}/ ({files})")
    else:
        line2 = f"gap report: {report_result.paths[0]} ({len(report_result.table)} rows)"
    return "\n".join([line1, line2, where])


def run(source, models: Mapping[str, object], targets: Sequence[str], backtest_plan: BacktestPlan,
        report_plan: ReportPlan | None = None, *, data_name: str, out_dir: str | os.PathLike,
        panel_path: str | os.PathLike | None = None, truth_path: str | os.PathLike | None = None,
        seed: int = 0, tracker=None, config: Mapping | None = None,
        files: Mapping[str, Sequence[str | os.PathLike]] | None = None, progress: bool = False) -> RunResult:
    """The whole pipeline: build -> backtest -> project -> report, in one tracked run.

    Parameters
    ----------
    source : data source (``lmforecast.datasets``), built into the panel.
    models : ``{name: unfitted forecaster}``; the first is the main model (projected and
        reported), the others are backtested beside it.
    targets : panel variables backtested and forecast.
    backtest_plan : :class:`BacktestPlan`.
    report_plan : :class:`ReportPlan`; None = no gap report (the forecast runs the backtest's
        horizon ahead: ``backtest_plan.splitter.resolved_horizon(freq)`` periods).
    data_name : data set name (run names, report file ``gap_<data_name>``).
    out_dir : this run's folder: ``backtests/``, ``forecast.nc``, ``reports/``, ``metrics.json``.
    panel_path : where the panel is written (None = not written).
    truth_path : known truth gap table (synthetic data), scored into ``gap_truth/*``.
    seed : seed of the sample paths.
    tracker : :class:`lmforecast.tracking.MlflowTracker` (one pipeline run, a child run per
        backtest) or None (untracked).
    config : plain dict logged with the run (the resolved config of an experiment).
    files : ``{artifact folder: [paths]}`` attached to the run when it ends (job log, re-run config).
    progress : tqdm bars.

    Returns
    -------
    :class:`RunResult`; ``metrics`` is also written to ``out_dir/metrics.json``.

    Examples
    --------
    >>> import tempfile
    >>> from lmforecast.backtest import RollingOriginSplitter
    >>> from lmforecast.datasets import RawFolder
    >>> from lmforecast.datasets.example_country import write_example_country
    >>> from lmforecast.models.baselines import Naive, SeasonalNaive
    >>> source = RawFolder(write_example_country(tempfile.mkdtemp()), country="XX")
    >>> result = run(source, {"seasonal_naive": SeasonalNaive(), "naive": Naive()}, ["vacancies"],
    ...              BacktestPlan(RollingOriginSplitter(horizon=12, n_windows=2, step=12), metrics=("mase",)),
    ...              data_name="example", out_dir=tempfile.mkdtemp())
    >>> result.projection.horizon, result.summary.splitlines()[-1]
    (12, 'MLflow: tracking off (tracking=none)')
    """
    started = time.perf_counter()
    if not models:
        raise ConfigError("no model to run: pass at least one {name: forecaster}")
    tracker = _tracker(tracker)
    out_dir = Path(out_dir)
    main = next(iter(models))
    with track(tracker, "run", model=main, data=data_name, config=config, files=files) as run_id:
        from lmforecast import tracking as T

        panel = build(source, panel_path, progress=progress)
        targets = check_targets(panel, targets)
        tracker.set_tags({T.TAG_DATA_SHA: T.data_sha256(panel)})
        backtests = backtest(models, panel, targets, backtest_plan, out_dir=out_dir, tracker=tracker,
                             data_name=data_name, progress=progress)
        plan = report_plan or ReportPlan(n_paths=0, quantiles=backtest_plan.quantiles, method="stock")
        horizon = None if report_plan is not None else backtest_plan.splitter.resolved_horizon(panel.attrs["freq"])
        projection = project(models[main], panel, targets, plan, horizon=horizon, seed=seed, out_dir=out_dir,
                             tracker=tracker, progress=progress, backend=backtest_plan.backend)
        gap_report = None
        if report_plan is not None:
            stem = f"skill_gap_{data_name}" if report_plan.method == "openings" else f"gap_{data_name}"
            gap_report = report(projection.forecast, report_plan, out_dir=out_dir / "reports", name=stem,
                                truth_path=truth_path, tracker=tracker, panel=panel, model=models[main],
                                model_scores=backtests.scores(KEY_METRIC), seed=seed, progress=progress)
        metrics: dict[str, object] = dict(backtests.metrics)
        tracker.log_metrics({k: v for k, v in backtests.metrics.items() if k.split("/")[1] == main})
        metrics.update({"panel_path": str(panel_path) if panel_path else None,
                        "forecast_path": str(projection.path), "horizon": projection.horizon})
        metrics.update({f"model_uri_{t}": uri for t, uri in projection.model_uris.items()})
        if gap_report is not None:
            metrics.update(gap_report.truth)
            metrics["gap_table"] = str(gap_report.paths[0])
        metrics["wall_time_s"] = time.perf_counter() - started
        if run_id is not None:
            metrics["run_id"] = run_id
    write_metrics(metrics, out_dir / "metrics.json")
    summary = summary_lines(main, backtests, gap_report, tracker.where(run_id))
    return RunResult(panel, backtests, projection, gap_report, metrics, summary)
