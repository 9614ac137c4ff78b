"""The whole pipeline: data -> panel -> backtest -> fit on all data -> forecast -> gap report -> MLflow.

    lmforecast run                                   # Morocco, LightGBM + baselines
    lmforecast run experiment=morocco_quick          # tiny and fast
    python experiments/run.py model=ridge            # same thing without the console script
"""

from __future__ import annotations

import time
from pathlib import Path

import hydra
from omegaconf import DictConfig

try:
    import _common as C
except ImportError:  # loaded by path from elsewhere
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import _common as C


def main_fn(cfg: DictConfig) -> dict:
    """Run every stage; return ``{metric or path name: value}``.

    Keys: ``<target>/<model>/<metric>`` backtest metrics, ``gap_truth/*`` (synthetic data only),
    ``panel_path``, ``gap_table``, ``forecast_path``, ``model_uri_<target>`` (MLflow pyfunc),
    ``run_id``, ``wall_time_s``.
    """
    started = time.perf_counter()
    C.setup(cfg)
    models = C.instantiate_models(cfg)          # fails on a bad model config before any data is read
    main_name = next(iter(models))
    out_dir = C.output_dir(cfg)
    with C.pipeline_run(cfg, "run") as run:
        panel, panel_path = C.load_panel(cfg)
        targets = C.check_targets(panel, cfg.data.targets)
        if run is not None:
            import mlflow
            from lmforecast import tracking as T

            mlflow.set_tags(T.run_tags(panel, project_root=cfg.paths.root))
            mlflow.set_tag(T.TAG_MODEL, main_name)
        metrics = C.backtest_models(cfg, panel, models, targets, out_dir)
        result: dict = dict(metrics)
        result["panel_path"] = str(panel_path)
        path_targets = ()
        if cfg.report.enabled:
            path_targets = (cfg.report.demand_measure, cfg.report.supply_measure)
        horizon = C.forecast_horizon(panel, list(cfg.report.years), cfg.backtest.horizon)
        forecast, fitted = C.fit_and_forecast(cfg, panel, models[main_name], targets, horizon, path_targets)
        forecast_path = C.write_forecast(forecast, out_dir / "forecast.nc")
        result["forecast_path"] = str(forecast_path)
        if run is not None and cfg.tracking.log_model:
            from lmforecast import tracking as T

            for target, estimator in fitted.items():
                info = T.log_forecaster(estimator, name=f"forecaster_{target}", quantiles=list(cfg.report.quantiles))
                result[f"model_uri_{target}"] = info.model_uri
        if cfg.report.enabled:
            table, paths = C.gap_report(cfg, forecast)
            result["gap_table"] = str(paths[0])
            result.update(C.truth_check(cfg, table))
        result["wall_time_s"] = time.perf_counter() - started
        C.log_metrics({k: v for k, v in result.items() if k.startswith("gap_truth/")
                       or k.startswith(tuple(f"{t}/{main_name}/" for t in targets))}, cfg)
        if run is not None:
            result["run_id"] = run.info.run_id
    C.dump_json(result, out_dir / "metrics.json")
    return result


@hydra.main(config_path="../conf", config_name="run", version_base="1.3")
def main(cfg: DictConfig) -> float | None:
    """Hydra entry point; returns ``cfg.optimized_metric`` for sweepers."""
    return C.sweep_value(cfg, main_fn(cfg))


if __name__ == "__main__":
    main()
