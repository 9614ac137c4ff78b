"""lmforecast: labour-market forecasting and skills-gap modelling by region x occupation.

The public API is re-exported lazily from the sub-modules so ``import lmforecast`` stays cheap.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("lmforecast")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
