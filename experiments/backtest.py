"""Stage 2: rolling-origin backtest of `model` and the `compare` models on every target.

    lmforecast backtest model=ridge backtest.horizon=6
    lmforecast backtest -m model=naive,seasonal_naive,ridge      # one MLflow parent run per sweep
    lmforecast backtest experiment=tune_lightgbm -m              # Optuna search
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
    """Backtest; return {"<target>/<model>/<metric>": value, "panel_path", "run_id"}.

    The panel is read from ``data.panel_path`` when it exists (built otherwise).
    """
    C.setup(cfg)
    models = C.instantiate_models(cfg)
    with C.pipeline_run(cfg, "backtest") as run:
        panel, panel_path = C.load_panel(cfg, rebuild=False)
        targets = C.check_targets(panel, cfg.data.targets)
        result: dict = C.backtest_models(cfg, panel, models, targets, C.output_dir(cfg))
        main_name = next(iter(models))
        C.log_metrics({k: v for k, v in result.items() if f"/{main_name}/" in k}, cfg)
        result["panel_path"] = str(panel_path)
        if run is not None:
            result["run_id"] = run.info.run_id
    C.dump_json(result, C.output_dir(cfg) / "metrics.json")
    return result


@hydra.main(config_path="../conf", config_name="backtest", version_base="1.3")
def main(cfg: DictConfig) -> float | None:
    """Hydra entry point; returns ``cfg.optimized_metric`` for sweepers."""
    return C.sweep_value(cfg, main_fn(cfg))


if __name__ == "__main__":
    main()
