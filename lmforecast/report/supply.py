"""Supply side: new supply = graduates + trainees placed + jobseekers available + net mobility.

In the manner of Canada's COPS (job seekers = school leavers + immigrants + mobility) and BC's
Labour Market Outlook (new supply by source), per region x occupation x year, in persons per year:

* **graduates** (``graduates``, by occupation; a data set that has them by field of study maps
  them to occupations when the panel is built, ``supply_by_field`` in ``data/raw/README.md``)
  x ``graduate_placement_rate``: the share of new graduates who enter the labour market looking
  for work in the occupation they trained for;
* **trainees** of short programmes (``trainees``) x a placement rate. They are *not* forecast:
  a programme is a policy decision, not a trend. The baseline carries the **recurring** flow
  (the last full observed year, less the flows of the fixed-term programmes declared in the
  assumptions for that year) flat over the horizon, plus the **scheduled cohorts** of those
  declared programmes (:class:`Programme`: JobInTech's 2026 cohort, and nothing after its end).
  Anything beyond is a scenario (:mod:`lmforecast.report.scenarios`);
* **jobseekers available** = ``jobseeker_share`` x the registered stock (annual mean): the share
  of the stock that can take up an opening within the year (an exit rate from the register);
* **net mobility / migration** (:class:`Mobility`): persons a year entering (> 0) or leaving (< 0)
  the occupation's labour supply from elsewhere, spread over the matching cells by employment.

The defaults are assumptions documented in :class:`SupplyAssumptions` (mirrored by
``conf/report/default.yaml``); replace them with national tracer-survey and PES figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from lmforecast import panel as P
from lmforecast.report.annual import YEAR

OBSERVED = "observed"


@dataclass(frozen=True)
class Programme:
    """A training programme with a known schedule (an input, never a forecast).

    Attributes
    ----------
    name : identifier (``jobintech``).
    trainees : ``{year: trainees completing that year}`` (persons).
    placement_rate : share of completers who take up a job in the occupation trained for.
    regions : ``{region code: share}`` (shares sum to 1) or ``"observed"``: like the trainees
        observed in the last full year of data.
    occupations : ``{occupation code: share}`` or ``"observed"``, likewise.
    label, label_fr : names shown in the report.
    """

    name: str
    trainees: Mapping[int, float]
    placement_rate: float
    regions: Mapping[str, float] | str = OBSERVED
    occupations: Mapping[str, float] | str = OBSERVED
    label: str = ""
    label_fr: str = ""


@dataclass(frozen=True)
class Mobility:
    """Net inflow of workers into the supply of some cells (persons per year; < 0 = outflow).

    Attributes
    ----------
    persons_per_year : total net inflow per year over the matching cells.
    regions, occupations : codes matched (``()`` = all); an occupation code matches every
        occupation it starts (``"25"`` = all ICT professionals).
    """

    persons_per_year: float
    regions: tuple[str, ...] = ()
    occupations: tuple[str, ...] = ()


@dataclass(frozen=True)
class SupplyAssumptions:
    """The documented assumptions of new supply (shares, unitless; flows in persons per year).

    Attributes
    ----------
    graduate_placement_rate : share of graduates entering the labour market in the occupation
        they trained for (default 0.65; assumption of the order of the one-year insertion rates
        that vocational-training tracer surveys report; replace with national tracer surveys).
    jobseeker_share : share of the registered jobseeker stock available to fill an opening in a
        year (default 0.25; assumption: in Morocco most unemployment lasts over a year, so only a
        fraction of the stock turns over each year; replace with PES exits-to-employment / stock).
    trainee_placement_rate : placement of the recurring trainee flow (default 0.6; assumption).
    programmes : fixed-term programmes present in the data (:class:`Programme`).
    mobility : net mobility / migration entries (:class:`Mobility`), none by default.
    """

    graduate_placement_rate: float = 0.65
    jobseeker_share: float = 0.25
    trainee_placement_rate: float = 0.6
    programmes: tuple[Programme, ...] = ()
    mobility: tuple[Mobility, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        for name in ("graduate_placement_rate", "jobseeker_share", "trainee_placement_rate"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0 <= float(value) <= 1):
                raise ValueError(f"supply assumption {name}: got {value!r}, expected a share in [0, 1]")


def _shares(spec, codes: Sequence[str], observed: np.ndarray | None, what: str, name: str) -> np.ndarray:
    """Shares over ``codes`` from a ``{code: share}`` spec or ``"observed"`` (the ``observed`` weights)."""
    codes = [str(c) for c in codes]
    if isinstance(spec, str):
        if spec != OBSERVED:
            raise ValueError(f"programme {name!r}: {what} is {spec!r}, expected 'observed' or {{code: share}}")
        if observed is None or not np.nansum(observed) > 0:
            raise ValueError(f"programme {name!r}: {what}='observed' but no trainees were observed in the "
                             "last full year of data; give explicit shares")
        weights = np.nan_to_num(np.asarray(observed, dtype=float))
        return weights / weights.sum()
    out = np.zeros(len(codes))
    for code, share in spec.items():
        code = str(code)
        matches = [i for i, c in enumerate(codes) if c == code]
        if not matches:
            raise ValueError(f"programme {name!r}: {what} code {code!r} is not in the panel ({codes[:5]} ...)")
        out[matches[0]] += float(share)
    if not abs(out.sum() - 1) < 1e-6:
        raise ValueError(f"programme {name!r}: {what} shares sum to {out.sum():.6g}, expected 1")
    return out


def programme_trainees(programme: Programme, years: Sequence[int], regions: Sequence[str],
                       occupations: Sequence[str], observed: xr.DataArray | None = None) -> xr.DataArray:
    """Trainees of one programme by year x region x occupation (persons per year, before placement).

    Parameters
    ----------
    programme : :class:`Programme`.
    years, regions, occupations : the report's coordinates.
    observed : trainees of the last full observed year ``(region, occupation)``, used for
        ``"observed"`` distributions (a region's share is its total; an occupation's, its total).

    Returns
    -------
    DataArray ``(year, region, occupation)``: ``trainees[year] x share_region x share_occupation``
    (or the observed joint distribution when both are ``"observed"``).
    """
    per_year = np.array([float(programme.trainees.get(int(y), 0.0)) for y in years])
    obs = None if observed is None else observed.transpose(P.REGION, P.OCCUPATION).values
    if isinstance(programme.regions, str) and isinstance(programme.occupations, str) and \
            programme.regions == programme.occupations == OBSERVED:
        joint = _shares(OBSERVED, range(0), None if obs is None else obs.ravel(), "regions", programme.name)
        joint = joint.reshape(len(regions), len(occupations))
    else:
        r = _shares(programme.regions, regions, None if obs is None else np.nansum(obs, 1), "regions", programme.name)
        o = _shares(programme.occupations, occupations, None if obs is None else np.nansum(obs, 0), "occupations",
                    programme.name)
        joint = np.outer(r, o)
    values = per_year[:, None, None] * joint[None]
    return xr.DataArray(values, dims=(YEAR, P.REGION, P.OCCUPATION),
                        coords={YEAR: list(map(int, years)), P.REGION: list(regions), P.OCCUPATION: list(occupations)},
                        name=f"trainees_{programme.name}", attrs={"units": "persons per year"})


def trainee_supply(observed_last: xr.DataArray | None, last_year: int | None, years: Sequence[int],
                   regions: Sequence[str], occupations: Sequence[str], assumptions: SupplyAssumptions) -> xr.Dataset:
    """Baseline trainee supply: recurring flow (flat) + scheduled cohorts of declared programmes.

    Parameters
    ----------
    observed_last : trainees of the last full observed year ``(region, occupation)`` (persons),
        or None when the data have no trainees.
    last_year : that year.
    years, regions, occupations : report coordinates.
    assumptions : :class:`SupplyAssumptions` (declared programmes and placement rates).

    Returns
    -------
    Dataset ``(year, region, occupation)``, persons per year: ``trainees_recurring`` and
    ``trainees_programmes`` (completers) and ``trainee_supply`` (placed: recurring x
    ``trainee_placement_rate`` + each programme x its own rate). Deterministic (no ``path``).
    """
    shape = (len(years), len(regions), len(occupations))
    coords = {YEAR: list(map(int, years)), P.REGION: list(regions), P.OCCUPATION: list(occupations)}
    recurring = np.zeros(shape)
    if observed_last is not None and last_year is not None:
        base = np.nan_to_num(observed_last.transpose(P.REGION, P.OCCUPATION).values.astype(float))
        for programme in assumptions.programmes:
            if programme.trainees.get(int(last_year), 0):
                base = base - programme_trainees(programme, [last_year], regions, occupations,
                                                 observed_last).values[0]
        recurring = np.broadcast_to(np.clip(base, 0, None), shape).copy()
    placed = recurring * assumptions.trainee_placement_rate
    programmes = np.zeros(shape)
    for programme in assumptions.programmes:
        if not any(programme.trainees.get(int(y), 0) for y in years):
            continue
        flows = programme_trainees(programme, years, regions, occupations, observed_last).values
        programmes += flows
        placed += flows * float(programme.placement_rate)
    dims = (YEAR, P.REGION, P.OCCUPATION)
    unit = {"units": "persons per year"}
    return xr.Dataset({"trainees_recurring": (dims, recurring, unit), "trainees_programmes": (dims, programmes, unit),
                       "trainee_supply": (dims, placed, unit)}, coords=coords)


def mobility_supply(entries: Sequence[Mobility], employment_base: xr.DataArray, years: Sequence[int]) -> xr.DataArray:
    """Net mobility per cell: each entry spread over its cells in proportion to base-year employment.

    Parameters
    ----------
    entries : :class:`Mobility` entries.
    employment_base : employment of the base year ``(region, occupation)`` (persons).
    years : report years.

    Returns
    -------
    DataArray ``(year, region, occupation)``, persons per year (0 without entries).
    """
    weights = np.nan_to_num(employment_base.transpose(P.REGION, P.OCCUPATION).values.astype(float))
    regions = [str(r) for r in employment_base[P.REGION].values]
    occupations = [str(o) for o in employment_base[P.OCCUPATION].values]
    cell = np.zeros_like(weights)
    for entry in entries:
        r_ok = np.array([not entry.regions or r in entry.regions for r in regions])
        o_ok = np.array([not entry.occupations or any(o.startswith(str(c)) for c in entry.occupations)
                         for o in occupations])
        mask = np.outer(r_ok, o_ok) * weights
        if not mask.sum() > 0:
            raise ValueError(f"mobility entry {entry}: no employment in the cells it names")
        cell += float(entry.persons_per_year) * mask / mask.sum()
    values = np.broadcast_to(cell, (len(years), *cell.shape)).copy()
    return xr.DataArray(values, dims=(YEAR, P.REGION, P.OCCUPATION),
                        coords={YEAR: list(map(int, years)), P.REGION: regions, P.OCCUPATION: occupations},
                        name="mobility", attrs={"units": "persons per year"})


def new_supply(graduates: xr.DataArray, jobseekers: xr.DataArray, trainees: xr.Dataset, mobility: xr.DataArray,
               assumptions: SupplyAssumptions) -> xr.Dataset:
    """New supply and its sources, path by path (persons per year).

    Parameters
    ----------
    graduates : annual graduates ``(year, region, occupation[, path])`` (persons per year).
    jobseekers : annual mean registered jobseekers, same dims (persons).
    trainees : :func:`trainee_supply`.
    mobility : :func:`mobility_supply`.
    assumptions : :class:`SupplyAssumptions`.

    Returns
    -------
    Dataset: ``graduate_supply``, ``jobseeker_supply``, ``trainee_supply``, ``mobility`` and
    ``new_supply`` (their sum), persons per year, with the dims of ``graduates``.
    """
    unit = {"units": "persons per year"}
    grad = (graduates.fillna(0) * assumptions.graduate_placement_rate).assign_attrs(unit)
    seekers = (jobseekers * assumptions.jobseeker_share).assign_attrs(unit)
    trained = trainees["trainee_supply"].assign_attrs(unit)
    total = (grad + seekers + trained + mobility).assign_attrs(unit)
    return xr.Dataset({"graduate_supply": grad, "jobseeker_supply": seekers, "trainee_supply": trained,
                       "mobility": mobility, "new_supply": total})
