"""Demand side: projected employment -> job openings = expansion demand + replacement demand.

Follows the national projection systems (named in ``lmforecast/report/README.md``):

* **expansion demand** (Canada's COPS, the US BLS, BC's Labour Market Outlook): the projected
  change in employment, floored at zero for a declining occupation as the BLS does (a shrinking
  occupation offers no expansion openings, and its losses do not cancel the replacement needs).
  Two methods: ``"horizon"`` (default, as the BLS publishes openings as an annual average over its
  projection decade): ``max(E[last] - E[base], 0) / n`` every year of the ``n``-year horizon;
  ``"annual"``: ``max(E[y] - E[y-1], 0)`` year by year. On sample paths the annual floor also
  floors the year-to-year noise of each path (survey noise included), which inflates expansion
  demand (measured on the default data: +150 % nationally with the trend model's paths); the
  horizon change is floored once, on a change several times larger than that noise;
* **replacement demand** (Cedefop, BLS "occupational separations"): workers leaving the
  occupation's labour force for good (retirement, death, emigration), ``rate[o] x E[y-1]`` with
  the rates of :mod:`lmforecast.report.rates`, applied to the employment at the start of the year.

``E[y]`` is the annual mean employment; ``E[y0]`` of the year before the horizon is the observed
value when that year is in the data. Everything is computed on sample paths (dim ``path``), one
path at a time, so every interval comes from the same Monte Carlo draw.

Example
-------
>>> import xarray as xr
>>> e = xr.DataArray([[100.0], [110.0], [105.0]], dims=("year", "occupation"),
...                  coords={"year": [2025, 2026, 2027], "occupation": ["2512"]})
>>> rates = xr.DataArray([0.02], dims="occupation", coords={"occupation": ["2512"]})
>>> d = job_openings(e, rates, expansion="annual")
>>> d["expansion_demand"].values.ravel().tolist(), d["replacement_demand"].values.ravel().round(2).tolist()
([10.0, 0.0], [2.0, 2.2])
>>> job_openings(e, rates)["expansion_demand"].values.ravel().tolist()
[2.5, 2.5]
"""

from __future__ import annotations

import xarray as xr

from lmforecast.report.annual import YEAR


def expansion_demand(employment: xr.DataArray) -> xr.DataArray:
    """Yearly employment growth floored at zero: ``max(E[y] - E[y-1], 0)`` (persons per year).

    Parameters
    ----------
    employment : annual mean employment (persons) with a ``year`` dim whose first year is the
        base year (not returned); any other dims (``region``, ``occupation``, ``path``).

    Returns
    -------
    DataArray over the years after the first, persons per year.
    """
    change = employment.diff(YEAR, label="upper")
    out = change.clip(min=0).where(change.notnull())
    out.attrs = {"units": "persons per year", "description": "expansion demand: max(E[y] - E[y-1], 0)"}
    return out.rename("expansion_demand")


def replacement_demand(employment: xr.DataArray, rates: xr.DataArray) -> xr.DataArray:
    """Separations to leave the labour force: ``rate[o] x E[y-1]`` (persons per year).

    Parameters
    ----------
    employment : as :func:`expansion_demand` (first year = base year).
    rates : separation rate per occupation (dim ``occupation``, share of employment per year).

    Returns
    -------
    DataArray over the years after the first, persons per year.
    """
    start = employment.isel({YEAR: slice(None, -1)}).assign_coords({YEAR: employment[YEAR].values[1:]})
    out = start * rates
    out.attrs = {"units": "persons per year",
                 "description": "replacement demand: separation rate x employment at the start of the year"}
    return out.rename("replacement_demand")


def horizon_expansion_demand(employment: xr.DataArray) -> xr.DataArray:
    """The horizon's employment change floored at zero, spread evenly: ``max(E[last] - E[base], 0) / n``.

    Parameters
    ----------
    employment : annual mean employment with the base year first (persons); ``n`` = the years after it.

    Returns
    -------
    DataArray over the years after the first (the same value each year), persons per year.
    """
    n = employment.sizes[YEAR] - 1
    change = employment.isel({YEAR: -1}, drop=True) - employment.isel({YEAR: 0}, drop=True)
    per_year = change.clip(min=0).where(change.notnull()) / n
    out = per_year.expand_dims({YEAR: employment[YEAR].values[1:]}).transpose(*employment.dims)
    out.attrs = {"units": "persons per year",
                 "description": "expansion demand: max(E[last] - E[base], 0) / years, every year of the horizon"}
    return out.rename("expansion_demand")


EXPANSION_METHODS = ("horizon", "annual")


def job_openings(employment: xr.DataArray, rates: xr.DataArray, expansion: str = "horizon") -> xr.Dataset:
    """Job openings and their two parts, path by path.

    Parameters
    ----------
    employment : annual mean employment with the base year first (persons).
    rates : separation rate per occupation (share per year).
    expansion : ``"horizon"`` (:func:`horizon_expansion_demand`) or ``"annual"``
        (:func:`expansion_demand`).

    Returns
    -------
    Dataset over the years after the base year: ``employment`` (persons, annual mean),
    ``expansion_demand``, ``replacement_demand`` and ``job_openings`` (their sum), persons per year.
    """
    if expansion not in EXPANSION_METHODS:
        raise ValueError(f"report expansion method: got {expansion!r}, expected one of {EXPANSION_METHODS}")
    expansion = expansion_demand(employment) if expansion == "annual" else horizon_expansion_demand(employment)
    replacement = replacement_demand(employment, rates)
    openings = (expansion + replacement).rename("job_openings")
    openings.attrs = {"units": "persons per year", "description": "expansion + replacement demand"}
    current = employment.isel({YEAR: slice(1, None)})
    current.attrs = {"units": "persons", "description": "employment, annual mean"}
    return xr.Dataset({"employment": current, "expansion_demand": expansion,
                       "replacement_demand": replacement, "job_openings": openings})
