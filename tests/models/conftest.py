"""Shared helpers of the model tests: small panels built from plain arrays."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr


def series_panel(values, freq: str = "YS", name: str = "job_offers", start: str = "2000-01-01",
                 n_regions: int = 1) -> xr.Dataset:
    """Panel of ``values (series, time)``: ``n_regions`` regions (``MA-01``, ``MA-02`` ...) x the
    remaining series as occupations ``11``, ``12`` ... (major group: first digit), series in
    region-major order (the order of ``lmforecast.panel.stack_series``)."""
    values = np.asarray(values, dtype=float)
    per_region = values.shape[0] // n_regions
    occupations = [f"{11 + k}" for k in range(per_region)]
    cube = values.reshape(n_regions, per_region, -1).transpose(2, 0, 1)
    return xr.Dataset({name: (("time", "region", "occupation"), cube)},
                      coords={"time": pd.date_range(start, periods=values.shape[1], freq=freq),
                              "region": [f"MA-{r + 1:02d}" for r in range(n_regions)], "occupation": occupations,
                              "occupation_major": ("occupation", [o[0] for o in occupations])},
                      attrs={"freq": freq, "country": "MA"})


def stacked(forecast: xr.DataArray) -> np.ndarray:
    """A forecast ``(time, region, occupation[, quantile])`` as ``(series, time[, quantile])`` values."""
    return forecast.stack(series=("region", "occupation")).transpose("series", "time", ...).values


@pytest.fixture(scope="session")
def make_series_panel():
    """The function :func:`series_panel` (values ``(series, time)`` -> panel)."""
    return series_panel


@pytest.fixture(scope="session")
def as_series():
    """The function :func:`stacked` (forecast -> ``(series, time[, quantile])`` array)."""
    return stacked


@pytest.fixture(scope="session")
def point_of():
    """``point_of(model, panel, horizon, target="job_offers")``: point forecasts ``(series, horizon)``
    of ``model`` fitted on ``panel``."""
    def point(model, panel, horizon, target="job_offers"):
        return stacked(model.fit(panel, target).predict(horizon, (0.5,)).sel(quantile=0.5))

    return point
