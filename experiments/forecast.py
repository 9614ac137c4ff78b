"""Stage 3: fit `model` on the whole panel and forecast to the end of report.years.

    lmforecast forecast model=ridge
"""

from __future__ import annotations

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
    """Fit and forecast every target; write ``<output_dir>/forecast.nc``; return {forecast_path, horizon, run_id}."""
    C.setup(cfg)
    models = C.instantiate_models(cfg, include_compare=False)
    name, model = next(iter(models.items()))
    with C.pipeline_run(cfg, "forecast") as run:
        panel, _ = C.load_panel(cfg, rebuild=False)
        targets = C.check_targets(panel, cfg.data.targets)
        horizon = C.forecast_horizon(panel, list(cfg.report.years), cfg.backtest.horizon)
        path_targets = (cfg.report.demand_measure, cfg.report.supply_measure) if cfg.report.enabled else ()
        forecast, fitted = C.fit_and_forecast(cfg, panel, model, targets, horizon, path_targets)
        path = C.write_forecast(forecast, C.output_dir(cfg) / "forecast.nc")
        if run is not None:
            from lmforecast import tracking as T

            T.log_file(path, "forecast")
            if cfg.tracking.log_model:
                for target, estimator in fitted.items():
                    T.log_forecaster(estimator, name=f"forecaster_{target}", quantiles=list(cfg.report.quantiles))
    result = {"forecast_path": str(path), "horizon": horizon, "model": name}
    if run is not None:
        result["run_id"] = run.info.run_id
    return result


@hydra.main(config_path="../conf", config_name="forecast", version_base="1.3")
def main(cfg: DictConfig) -> None:
    """Hydra entry point."""
    main_fn(cfg)


if __name__ == "__main__":
    main()
