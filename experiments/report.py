"""Stage 4: the skill-gap report from a forecast NetCDF written by the forecast stage.

    lmforecast report forecast_path=outputs/forecast/runs/<time>/forecast.nc

The skill-gap report needs the forecast's joint sample paths, stored only when the forecast stage
ran with ``report.keep_paths=true``; the gap backtest needs the model and the panel, so it runs in
``lmforecast run`` only. ``report.method=stock`` gives the simple vacancies - jobseekers table.
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from experiments import _common as C
from lmforecast import pipeline
from lmforecast.errors import ConfigError


def report(cfg: DictConfig) -> dict:
    """Gap table from ``cfg.forecast_path``; return {gap_table, n_rows, gap_truth/*, run_id}."""
    C.setup(cfg)
    if not cfg.forecast_path:
        raise ConfigError("the report stage needs forecast_path=<forecast.nc from `lmforecast forecast`>")
    plan = C.report_plan(cfg)
    if plan is None:
        raise ConfigError("report.enabled is false: nothing to do")
    forecast = pipeline.read_forecast(cfg.forecast_path)
    if plan.method == "openings" and not any(str(name).endswith("_paths") for name in forecast.data_vars):
        raise ConfigError(f"{cfg.forecast_path} holds no sample paths, which the skill-gap report needs: "
                          "re-run `lmforecast forecast report.keep_paths=true`, use `lmforecast run`, "
                          "or pass report.method=stock")
    tracker = C.tracker(cfg)
    with pipeline.track(tracker, "report", model=C.main_model_name(cfg), data=cfg.data.name,
                        config=C.resolved_config(cfg), files=C.run_files(cfg, "report")) as run_id:
        stem = f"skill_gap_{cfg.data.name}" if plan.method == "openings" else f"gap_{cfg.data.name}"
        gap = pipeline.report(forecast, plan, out_dir=C.output_dir(cfg) / "reports", name=stem,
                              truth_path=cfg.data.truth_path, tracker=tracker)
    return {"gap_table": str(gap.paths[0]), "n_rows": len(gap.table), **gap.truth, "run_id": run_id}


@hydra.main(config_path=C.CONF_DIR, config_name="report", version_base="1.3")
def main(cfg: DictConfig) -> None:
    """Hydra entry point."""
    report(cfg)


if __name__ == "__main__":
    main()
