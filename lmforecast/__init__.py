"""lmforecast: labour-market forecasting and skills-gap modelling by region x occupation.

The most used pieces are importable from the top level (loaded lazily, so ``import lmforecast``
stays cheap)::

    import lmforecast as lmf
    panel = lmf.pipeline.build(lmf.SyntheticMorocco("data/raw/morocco"))  # generated on first use
    model = lmf.default_forecaster("MS").fit(panel, "vacancies")           # panel: time x region x occupation
    forecast = model.predict(horizon=12)                                   # DataArray with a quantile dim

The pipeline's stages (build, backtest, project, report, run) are in :mod:`lmforecast.pipeline`.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("lmforecast")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

_LAZY = {
    "build_panel": ("lmforecast.build", "build_panel"),
    "read_panel": ("lmforecast.panel", "read_panel"),
    "write_panel": ("lmforecast.panel", "write_panel"),
    "validate": ("lmforecast.panel", "validate"),
    "ensure_default_data": ("lmforecast.datasets.morocco", "ensure_default_data"),
    "generate_morocco": ("lmforecast.datasets.morocco", "generate_morocco"),
    "load_au_ivi": ("lmforecast.datasets.au_ivi", "load_au_ivi"),
    "RawFolder": ("lmforecast.datasets.sources", "RawFolder"),
    "SyntheticMorocco": ("lmforecast.datasets.sources", "SyntheticMorocco"),
    "AuIvi": ("lmforecast.datasets.sources", "AuIvi"),
    "RollingOriginSplitter": ("lmforecast.backtest", "RollingOriginSplitter"),
    "backtest": ("lmforecast.backtest", "backtest"),
    "backtest_models": ("lmforecast.backtest", "backtest_models"),
    "evaluate": ("lmforecast.metrics", "evaluate"),
    "projected_gap": ("lmforecast.report", "projected_gap"),
    "gap_table": ("lmforecast.report", "gap_table"),
    "default_forecaster": ("lmforecast.models.recommended", "default_forecaster"),
}
_SUBMODULES = {"panel", "models", "features", "taxonomy", "datasets", "backtest", "metrics", "report",
               "tracking", "reconcile", "uncertainty", "contract", "build", "io", "errors", "pipeline"}

__all__ = ["__version__", *_LAZY, *sorted(_SUBMODULES)]


def __getattr__(name: str):
    if name in _LAZY:
        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        module = importlib.import_module(f"lmforecast.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'lmforecast' has no attribute {name!r}")
