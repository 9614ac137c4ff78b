"""Stage 2: rolling-origin backtest of `model` and the `compare` models on every target.

    lmforecast backtest model=ridge backtest.horizon=6
    lmforecast backtest -m model=naive,seasonal_naive,ridge      # one MLflow parent run per sweep
    lmforecast backtest experiment=tune_lightgbm                 # Optuna search (the `tune` extra)
    lmforecast backtest backend=dask                             # folds as tasks on a Dask LocalCluster
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from experiments import _common as C
from lmforecast import pipeline


def backtest(cfg: DictConfig) -> dict:
    """Backtest; return {"<target>/<model>/<metric>": value, "panel_path", "run_id"} (also metrics.json).

    The panel is read from ``data.panel_path`` when it exists (built otherwise).
    """
    C.setup(cfg)
    models = C.instantiate_models(cfg)
    source, tracker, out_dir = C.data_source(cfg), C.tracker(cfg), C.output_dir(cfg)
    main = next(iter(models))
    with pipeline.track(tracker, "backtest", model=main, data=cfg.data.name, config=C.resolved_config(cfg),
                        files=C.run_files(cfg, "backtest")) as run_id, C.backend(cfg) as backend:
        panel = pipeline.load_panel(source, cfg.data.panel_path, progress=C.progress(cfg))
        result = pipeline.backtest(models, panel, cfg.data.targets, C.backtest_plan(cfg, backend), out_dir=out_dir,
                                   tracker=tracker, data_name=cfg.data.name, progress=C.progress(cfg))
        if tracker is not None:
            tracker.log_metrics({k: v for k, v in result.metrics.items() if k.split("/")[1] == main})
    metrics = {**result.metrics, "panel_path": str(cfg.data.panel_path), "run_id": run_id}
    pipeline.write_metrics(metrics, out_dir / "metrics.json")
    return metrics


@hydra.main(config_path=C.CONF_DIR, config_name="backtest", version_base="1.3")
def main(cfg: DictConfig) -> float | None:
    """Hydra entry point; returns ``cfg.optimized_metric`` for sweepers."""
    return C.sweep_value(cfg, backtest(cfg))


if __name__ == "__main__":
    main()
