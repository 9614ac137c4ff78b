"""The whole pipeline: data -> panel -> backtest -> fit on all data -> forecast -> gap report -> MLflow.

    lmforecast run                                   # Morocco, recommended model + baselines
    lmforecast run experiment=morocco_quick          # tiny and fast
    python experiments/run.py model=ridge            # the same without the console script
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from experiments import _common as C
from lmforecast import pipeline


def run(cfg: DictConfig) -> dict:
    """Run every stage; return the metrics written to ``metrics.json`` and print the 3-line summary.

    Keys: ``<target>/<model>/<metric>`` backtest metrics, ``gap_truth/*`` (synthetic data only),
    ``panel_path``, ``forecast_path``, ``gap_table``, ``model_uri_<target>``, ``run_id``, ``wall_time_s``.
    """
    C.setup(cfg)
    models = C.instantiate_models(cfg)  # fails on a bad model config before any data is read
    with C.backend(cfg) as backend:
        result = pipeline.run(
            C.data_source(cfg), models, cfg.data.targets, C.backtest_plan(cfg, backend), C.report_plan(cfg),
            data_name=cfg.data.name, out_dir=C.output_dir(cfg), panel_path=cfg.data.panel_path,
            truth_path=cfg.data.truth_path, seed=cfg.seed, tracker=C.tracker(cfg), config=C.resolved_config(cfg),
            files=C.run_files(cfg, "run"), progress=C.progress(cfg))
    print(result.summary, flush=True)
    return result.metrics


@hydra.main(config_path=C.CONF_DIR, config_name="run", version_base="1.3")
def main(cfg: DictConfig) -> float | None:
    """Hydra entry point; returns ``cfg.optimized_metric`` for sweepers."""
    return C.sweep_value(cfg, run(cfg))


if __name__ == "__main__":
    main()
