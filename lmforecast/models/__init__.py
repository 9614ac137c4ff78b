"""Forecasters: one module per model family, all following :class:`lmforecast.models.base.Forecaster`.

Import the module you need (``from lmforecast.models.baselines import SeasonalNaive``); the
sub-modules are also reachable as attributes (``lmforecast.models.lightgbm``), loaded lazily.
"""

from __future__ import annotations

import importlib

_SUBMODULES = {"base", "baselines", "sklearn", "lightgbm", "prophet", "ensemble", "fallback",
               "transforms", "recommended"}


def __getattr__(name: str):
    if name in _SUBMODULES:
        module = importlib.import_module(f"lmforecast.models.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'lmforecast.models' has no attribute {name!r}")
