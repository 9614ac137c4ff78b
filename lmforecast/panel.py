"""The panel contract: one ``xarray.Dataset`` per data set, dims ``time x region x occupation``.

Every builder produces this shape and every forecaster, backtest and report consumes it, so the
names live here and nowhere else.

Contract (checked by :func:`validate`):

* dims ``time``, ``region``, ``occupation`` (in that order on every data variable);
* ``time`` holds period starts (``datetime64[ns]``), regular at ``attrs["freq"]``
  (pandas alias: ``"MS"`` monthly, ``"QS"`` quarterly, ``"YS"`` annual);
* ``region`` and ``occupation`` hold string codes; coordinates ``region_name``,
  ``occupation_name`` and ``occupation_major`` (1-digit major group, or the data set's own top
  level) label them; ``occupation_parent`` holds the next level up where there is one;
* one float variable per measure (see :data:`MEASURES`); missing is ``NaN`` (masked), never 0;
  each variable carries ``units``, ``description``, ``kind`` (demand, supply, offers) and
  ``aggregation`` (``flow``: summed over time; ``stock``: averaged) in its attrs;
* ``attrs`` carry ``freq``, ``country``, and provenance (``provenance_inputs`` as JSON
  ``{file: sha256}``, ``lmforecast_version``, ``built_at``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from lmforecast.errors import PanelError
from lmforecast.io import read_netcdf, write_netcdf_atomic

TIME = "time"
REGION = "region"
OCCUPATION = "occupation"
DIMS = (TIME, REGION, OCCUPATION)
SERIES = "series"
QUANTILE = "quantile"
CUTOFF = "cutoff"
HORIZON = "horizon"
MODEL = "model"
REGION_NAME = "region_name"
OCCUPATION_NAME = "occupation_name"
OCCUPATION_MAJOR = "occupation_major"
OCCUPATION_PARENT = "occupation_parent"
UNCLASSIFIED = "unclassified"
NATIONAL = "national"

FREQ_SEASON = {"MS": 12, "M": 12, "ME": 12, "QS": 4, "QS-JAN": 4, "Q": 4, "YS": 1, "YS-JAN": 1, "Y": 1, "A": 1}


@dataclass(frozen=True)
class Measure:
    """What one panel variable means.

    Attributes
    ----------
    name : variable name in the panel (``job_offers``, ``employment`` ...).
    kind : ``"demand"``, ``"supply"`` or ``"offers"``.
    aggregation : ``"flow"`` (counts per period, summed when coarsened) or ``"stock"``
        (level at a point, averaged when coarsened).
    units : physical units, e.g. ``"persons"`` or ``"job ads per month"``.
    description : one sentence for humans.
    publication_lag_days : days after the end of a period before its value is published
        (used by point-in-time backtests).
    """

    name: str
    kind: str
    aggregation: str
    units: str
    description: str
    publication_lag_days: int = 0


MEASURES: dict[str, Measure] = {
    m.name: m
    for m in [
        Measure("job_offers", "offers", "flow", "job ads",
                "Online job ads first posted in the period, reposts removed", 1),
        Measure("employment", "demand", "stock", "persons",
                "Employed persons (labour-force survey), period average", 45),
        Measure("vacancies", "demand", "stock", "positions",
                "Unfilled vacancies (establishment survey / PES registrations), period average", 45),
        Measure("hires", "demand", "flow", "persons", "New hires in the period", 45),
        Measure("jobseekers", "supply", "stock", "persons",
                "Registered or surveyed jobseekers whose target occupation is this one, period average", 45),
        Measure("graduates", "supply", "flow", "persons",
                "Graduates of initial education and vocational training entering the labour market", 90),
        Measure("trainees", "supply", "flow", "persons",
                "Completers of short training programmes (bootcamps, PES-funded certifications)", 30),
    ]
}


def register_measure(measure: Measure) -> None:
    """Add a measure to the registry so raw files may use it (returns nothing)."""
    if measure.kind not in {"demand", "supply", "offers"}:
        raise ValueError(f"Measure.kind must be demand, supply or offers, got {measure.kind!r}")
    if measure.aggregation not in {"flow", "stock"}:
        raise ValueError(f"Measure.aggregation must be flow or stock, got {measure.aggregation!r}")
    MEASURES[measure.name] = measure


def season_length(freq: str) -> int:
    """Number of periods in a year for a pandas frequency alias (``"MS"`` -> 12)."""
    try:
        return FREQ_SEASON[freq]
    except KeyError:
        raise PanelError(f"unsupported panel frequency {freq!r}; use one of MS, QS, YS") from None


def measure_attrs(name: str) -> dict:
    """Attrs (units, description, kind, aggregation) for a registered measure."""
    m = MEASURES.get(name)
    if m is None:
        return {}
    return {"units": m.units, "description": m.description, "kind": m.kind,
            "aggregation": m.aggregation, "publication_lag_days": m.publication_lag_days}


def validate(panel: xr.Dataset, *, require: tuple[str, ...] = ()) -> xr.Dataset:
    """Check that ``panel`` follows the panel contract; return it unchanged.

    Parameters
    ----------
    panel : the Dataset to check.
    require : variable names that must be present.

    Raises
    ------
    PanelError naming the first problem found.
    """
    if not isinstance(panel, xr.Dataset):
        raise PanelError(f"a panel must be an xarray.Dataset, got {type(panel).__name__}")
    for dim in DIMS:
        if dim not in panel.dims:
            raise PanelError(f"panel lacks dim {dim!r}; it has {tuple(panel.dims)}")
    for name in require:
        if name not in panel.data_vars:
            raise PanelError(
                f"panel lacks variable {name!r}; it has {sorted(map(str, panel.data_vars))}")
    for name, var in panel.data_vars.items():
        if tuple(var.dims) != DIMS:
            raise PanelError(f"variable {name!r} has dims {var.dims}, expected {DIMS}")
        if not np.issubdtype(var.dtype, np.floating):
            raise PanelError(f"variable {name!r} has dtype {var.dtype}, expected a float dtype")
    time = panel.indexes[TIME]
    if not isinstance(time, pd.DatetimeIndex):
        raise PanelError(f"coordinate 'time' must be datetimes, got {time.dtype}")
    freq = panel.attrs.get("freq")
    if freq is None:
        raise PanelError("panel.attrs['freq'] is missing (expected 'MS', 'QS' or 'YS')")
    season_length(freq)
    if len(time) > 1:
        expected = pd.date_range(time[0], periods=len(time), freq=freq)
        if not time.equals(expected):
            raise PanelError(f"coordinate 'time' is not regular at freq {freq!r}")
    for dim in (REGION, OCCUPATION):
        idx = panel.indexes[dim]
        if idx.has_duplicates:
            raise PanelError(f"coordinate {dim!r} has duplicate labels: "
                             f"{sorted(idx[idx.duplicated()].astype(str))[:5]}")
    return panel


def series_coords(panel: xr.Dataset | xr.DataArray) -> pd.MultiIndex:
    """The ``(region, occupation)`` pairs of a panel in stacking order."""
    return pd.MultiIndex.from_product(
        [panel.indexes[REGION], panel.indexes[OCCUPATION]], names=[REGION, OCCUPATION])


def stack_series(array: xr.DataArray) -> xr.DataArray:
    """Stack ``region x occupation`` into one ``series`` dim, put ``series`` first.

    Returns a DataArray with dims ``(series, time, ...)``; :func:`unstack_series` inverts it.
    Non-index coordinates along region or occupation are dropped (they are re-attached by
    :func:`unstack_series` when a template is given).
    """
    extra = [c for c in array.coords if c not in array.dims and c not in (TIME,)]
    stacked = array.drop_vars(extra).stack({SERIES: (REGION, OCCUPATION)})
    order = [SERIES] + [d for d in stacked.dims if d != SERIES]
    return stacked.transpose(*order)


def unstack_series(array: xr.DataArray, template: xr.Dataset | xr.DataArray | None = None) -> xr.DataArray:
    """Inverse of :func:`stack_series`: dims become ``(time, region, occupation, ...)``.

    With ``template``, region/occupation order and their label coordinates are taken from it.
    """
    out = array.unstack(SERIES)
    rest = [d for d in out.dims if d not in DIMS]
    lead = [d for d in DIMS if d in out.dims]
    out = out.transpose(*lead, *rest)
    if template is not None:
        out = out.reindex({REGION: template.indexes[REGION], OCCUPATION: template.indexes[OCCUPATION]})
        for name in (REGION_NAME, OCCUPATION_NAME, OCCUPATION_MAJOR, OCCUPATION_PARENT):
            if name in template.coords:
                out = out.assign_coords({name: template.coords[name]})
    return out


def national_total(array: xr.DataArray | xr.Dataset) -> xr.DataArray | xr.Dataset:
    """Sum over regions (NaN-aware, all-NaN stays NaN): the national series per occupation.

    Parameters
    ----------
    array : a panel variable or the panel (with a ``region`` dim).

    Returns
    -------
    The same type without the ``region`` dim.

    Examples
    --------
    >>> from lmforecast.datasets.example_country import example_panel
    >>> national_total(example_panel()["vacancies"]).dims
    ('time', 'occupation')
    """
    return array.sum(REGION, min_count=1)


def major_group_totals(array: xr.DataArray | xr.Dataset) -> xr.DataArray | xr.Dataset:
    """Sum occupations into their major group (``occupation_major`` coord); dim renamed ``occupation``.

    Parameters
    ----------
    array : a panel variable or the panel (NaN-aware sum; a group of all-NaN cells stays NaN).

    Returns
    -------
    The same type, one ``occupation`` per major group.

    Raises
    ------
    PanelError when ``array`` has no ``occupation_major`` coordinate.

    Examples
    --------
    >>> from lmforecast.datasets.example_country import example_panel
    >>> major_group_totals(example_panel()["vacancies"])["occupation"].values.tolist()
    ['2', '4', '7']
    """
    if OCCUPATION_MAJOR not in array.coords:
        raise PanelError("major_group_totals needs the 'occupation_major' coordinate")
    out = array.groupby(OCCUPATION_MAJOR).sum(min_count=1)
    return out.rename({OCCUPATION_MAJOR: OCCUPATION})


def write_panel(panel: xr.Dataset, path: str | os.PathLike) -> Path:
    """Validate ``panel`` and write it to NetCDF atomically; return the path.

    :func:`read_panel` gives back an identical Dataset (``xarray.testing.assert_identical``),
    except that dict/list attrs (provenance) come back as JSON strings.
    """
    validate(panel)
    return write_netcdf_atomic(panel, path)


def read_panel(path: str | os.PathLike) -> xr.Dataset:
    """Read a panel written by :func:`write_panel` fully into memory and validate it."""
    return validate(read_netcdf(path, "panel", "build one with `lmforecast build_panel`"))


def chunk_series(panel: xr.Dataset, occupations_per_chunk: int = 64, regions_per_chunk: int | None = None
                 ) -> xr.Dataset:
    """The panel backed by Dask arrays chunked along series (the whole time axis in every chunk).

    Parameters
    ----------
    panel : panel Dataset (in memory or already lazy).
    occupations_per_chunk : occupations per chunk (a chunk holds them for ``regions_per_chunk``
        regions: ``occupations x regions`` series x every period).
    regions_per_chunk : regions per chunk; None = all regions.

    Returns
    -------
    The same panel (values, coords, attrs), each variable a Dask array; nothing is computed
    until the values are read (``.values``, ``.load()``). Per-series work reads one chunk of
    series at a time; the time axis is never split (a series is always whole).
    """
    if int(occupations_per_chunk) < 1 or (regions_per_chunk is not None and int(regions_per_chunk) < 1):
        raise ValueError(f"chunk sizes must be >= 1, got occupations_per_chunk={occupations_per_chunk!r}, "
                         f"regions_per_chunk={regions_per_chunk!r}")
    validate(panel)
    chunks = {TIME: -1, REGION: -1 if regions_per_chunk is None else int(regions_per_chunk),
              OCCUPATION: int(occupations_per_chunk)}
    return panel.chunk(chunks)


def open_panel(path: str | os.PathLike, occupations_per_chunk: int = 64, regions_per_chunk: int | None = None
               ) -> xr.Dataset:
    """Open a panel file written by :func:`write_panel` lazily, chunked along series.

    Like :func:`read_panel`, but the values stay on disk until read: each variable is a Dask
    array chunked as :func:`chunk_series` says (labels and attrs are read at once). Close it
    with ``.close()`` when done.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no panel at {path}; build one with `lmforecast build_panel`")
    chunks = {TIME: -1, REGION: -1 if regions_per_chunk is None else int(regions_per_chunk),
              OCCUPATION: int(occupations_per_chunk)}
    ds = xr.open_dataset(path, engine="netcdf4", chunks={}).chunk(chunks)  # the file's own chunks, then ours
    for name in list(ds.coords):
        if ds[name].dtype == object:
            ds[name] = ds[name].astype(str)
    return validate(ds)


def provenance(panel: xr.Dataset) -> dict:
    """Provenance dict of a panel: ``{"inputs": {file: sha256}, "lmforecast_version", "built_at"}``."""
    inputs = panel.attrs.get("provenance_inputs", "{}")
    if isinstance(inputs, str):
        inputs = json.loads(inputs)
    return {"inputs": inputs, "lmforecast_version": panel.attrs.get("lmforecast_version"),
            "built_at": panel.attrs.get("built_at")}
