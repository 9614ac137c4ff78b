"""Stage 4: projected-gap table from a forecast NetCDF.

    lmforecast report forecast_path=outputs/forecast/runs/<stamp>/forecast.nc
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
    """Gap table from ``cfg.forecast_path``; return {gap_table, n_rows, gap_truth/*, run_id}."""
    C.setup(cfg)
    if not cfg.forecast_path:
        raise ValueError("the report stage needs forecast_path=<forecast.nc from `lmforecast forecast`>")
    forecast = C.read_forecast(cfg.forecast_path)
    with C.pipeline_run(cfg, "report") as run:
        table, paths = C.gap_report(cfg, forecast)
        result: dict = {"gap_table": str(paths[0]), "n_rows": len(table), **C.truth_check(cfg, table)}
        C.log_metrics({k: v for k, v in result.items() if k.startswith("gap_truth/")}, cfg)
        if run is not None:
            result["run_id"] = run.info.run_id
    return result


@hydra.main(config_path="../conf", config_name="report", version_base="1.3")
def main(cfg: DictConfig) -> None:
    """Hydra entry point."""
    main_fn(cfg)


if __name__ == "__main__":
    main()
