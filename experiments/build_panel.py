"""Stage 1: raw data -> panel NetCDF in data/processed (written atomically).

    lmforecast build_panel                 # Morocco (generated on first use)
    lmforecast build_panel data=au_ivi     # Australia's IVI from ../shared/data
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from experiments import _common as C
from lmforecast import pipeline
from lmforecast import tracking as T


def build_panel(cfg: DictConfig) -> dict:
    """Build and write the panel; return {panel_path, data_sha256, n_periods, n_regions, n_occupations, variables}."""
    C.setup(cfg)
    panel = pipeline.build(C.data_source(cfg), cfg.data.panel_path, progress=C.progress(cfg))
    pipeline.check_targets(panel, cfg.data.targets)
    return {"panel_path": str(cfg.data.panel_path), "data_sha256": T.data_sha256(panel),
            "n_periods": int(panel.sizes["time"]), "n_regions": int(panel.sizes["region"]),
            "n_occupations": int(panel.sizes["occupation"]), "variables": sorted(map(str, panel.data_vars))}


@hydra.main(config_path=C.CONF_DIR, config_name="build_panel", version_base="1.3")
def main(cfg: DictConfig) -> None:
    """Hydra entry point."""
    build_panel(cfg)


if __name__ == "__main__":
    main()
