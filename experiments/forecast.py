"""Stage 3: fit `model` on the whole panel and forecast to the end of report.years.

    lmforecast forecast model=ridge
"""

from __future__ import annotations

import dataclasses

import hydra
from omegaconf import DictConfig

from experiments import _common as C
from lmforecast import pipeline


def forecast(cfg: DictConfig) -> dict:
    """Fit and forecast every target; write ``<output_dir>/forecast.nc``; return {forecast_path, horizon, model, run_id}."""
    C.setup(cfg)
    models = C.instantiate_models(cfg, include_compare=False)
    (name, model), = models.items()
    tracker = C.tracker(cfg)
    plan = C.report_plan(cfg) or pipeline.ReportPlan()
    if not plan.keep_paths:  # sample paths are only worth drawing here when they are stored
        plan = dataclasses.replace(plan, n_paths=0)
    horizon = None if cfg.report.enabled else int(cfg.backtest.horizon)
    with pipeline.track(tracker, "forecast", model=name, data=cfg.data.name, config=C.resolved_config(cfg),
                        files=C.run_files(cfg, "forecast")) as run_id, C.backend(cfg) as backend:
        panel = pipeline.load_panel(C.data_source(cfg), cfg.data.panel_path, progress=C.progress(cfg))
        projection = pipeline.project(model, panel, cfg.data.targets, plan, horizon=horizon, seed=cfg.seed,
                                      out_dir=C.output_dir(cfg), tracker=tracker, progress=C.progress(cfg),
                                      backend=backend)
    return {"forecast_path": str(projection.path), "horizon": projection.horizon, "model": name, "run_id": run_id,
            **{f"model_uri_{t}": uri for t, uri in projection.model_uris.items()}}


@hydra.main(config_path=C.CONF_DIR, config_name="forecast", version_base="1.3")
def main(cfg: DictConfig) -> None:
    """Hydra entry point."""
    forecast(cfg)


if __name__ == "__main__":
    main()
