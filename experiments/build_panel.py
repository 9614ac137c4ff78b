"""Stage 1: raw data -> panel NetCDF in data/processed (written atomically).

    lmforecast build_panel                 # Morocco (generated on first use)
    lmforecast build_panel data=au_ivi     # Australia's IVI from ../shared/data
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
    """Build and write the panel; return {panel_path, data_sha256, n_periods, n_regions, n_occupations, variables}."""
    from lmforecast import tracking as T

    C.setup(cfg)
    panel, path = C.load_panel(cfg)
    C.check_targets(panel, cfg.data.targets)
    return {"panel_path": str(path), "data_sha256": T.data_sha256(panel),
            "n_periods": int(panel.sizes["time"]), "n_regions": int(panel.sizes["region"]),
            "n_occupations": int(panel.sizes["occupation"]), "variables": sorted(map(str, panel.data_vars))}


@hydra.main(config_path="../conf", config_name="build_panel", version_base="1.3")
def main(cfg: DictConfig) -> None:
    """Hydra entry point."""
    main_fn(cfg)


if __name__ == "__main__":
    main()
