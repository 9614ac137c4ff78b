"""Occupation values to skills: ``S[k] = sum_o w[k, o] X[o]``, computed path by path.

``X`` is any quantity by occupation (a projected gap in persons, openings, a scenario's effect),
with any other dims: ``region``, ``year``, and ``path`` for Monte Carlo sample paths. ``w`` is a
skill matrix of :func:`lmforecast.taxonomy.skills.load_skill_matrix` (ESCO v1.1.1). The map is
linear and applied to every path at once (one tensor contraction, no loop), so interval bounds of
a skill come from the distribution of ``S[k]`` over paths, never from summing occupation quantiles.

Units. With the default ``normalise="share"`` weights, every occupation's weights sum to 1: a gap
of N persons spreads N person-equivalents over its skills, and the skill values of a region add up
to the region's total over occupations with a skill profile. With ``normalise="need"`` a skill value
is the number of persons (of the quantity ``X``) whose occupation needs the skill, an optional ESCO
relation counting half; those values do not add up over skills.

Occupations without a skill profile (``unclassified``, ``63``) contribute nothing; the result
lists them in ``attrs["occupations_without_skill_profile"]`` so a report can say how much of the
gap is left out.

Example
-------
>>> import numpy as np, xarray as xr
>>> w = xr.DataArray([[0.75, 0.25], [0.0, 1.0]], dims=("occupation", "skill"),
...                  coords={"occupation": ["2512", "4222"], "skill": ["programming", "customer service"]},
...                  attrs={"normalise": "share"})
>>> gap = xr.DataArray([[100.0, 40.0], [200.0, -20.0]], dims=("path", "occupation"),
...                    coords={"occupation": ["2512", "4222"]}, attrs={"units": "persons"})
>>> aggregate_to_skills(gap, w).values.tolist()
[[75.0, 65.0], [150.0, 30.0]]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from lmforecast.panel import OCCUPATION, QUANTILE
from lmforecast.taxonomy.skills import SKILL, SKILL_GROUP, check_skill_weights

PATH = "path"


def _skill_dim(weights: xr.DataArray) -> str:
    check_skill_weights(weights, source="weights")
    return SKILL if SKILL in weights.dims else SKILL_GROUP


def _contract(values: xr.DataArray, weights: xr.DataArray, target: str) -> xr.DataArray:
    """``values`` (occupation, ...) x ``weights`` (occupation, target), without checks."""
    codes = values[OCCUPATION].values
    known = set(weights[OCCUPATION].values.tolist())
    missing = [code for code in codes.tolist() if code not in known]
    if missing:
        raise ValueError(f"the skill matrix has no row for occupations {missing}; build it for the "
                         "same occupation list (load_skill_matrix(occupations=...))")
    w = weights.sel({OCCUPATION: codes})
    profile = (w != 0).any(target).values
    v = values.isel({OCCUPATION: profile})
    w = w.isel({OCCUPATION: profile})
    v = v.drop_vars([c for c in v.coords if c != OCCUPATION and OCCUPATION in v[c].dims])
    w = w.drop_vars([c for c in w.coords if c != OCCUPATION and OCCUPATION in w[c].dims])
    out = xr.dot(v, w, dim=OCCUPATION)
    order = [target if dim == OCCUPATION else dim for dim in values.dims]
    out = out.transpose(*order)
    out.name = values.name
    out.attrs = {"units": _units(values.attrs.get("units", "units of the input"), weights, target),
                 "skill_weights": weights.attrs.get("units", ""),
                 "occupations_without_skill_profile": ", ".join(map(str, codes[~profile])),
                 "source": weights.attrs.get("source", "")}
    return out


def _units(units: str, weights: xr.DataArray, target: str) -> str:
    normalise = weights.attrs.get("normalise")
    if normalise == "share":
        return (f"{units}, spread over skills by the occupation's skill shares "
                f"(sums over {target} to the total of occupations with a skill profile)")
    if normalise == "need" and target == SKILL:
        return f"{units} whose occupation needs the skill (optional ESCO relations count half)"
    return f"{units} x skill weight ({weights.attrs.get('units', 'unspecified')})"


def aggregate_to_skills(values: xr.DataArray, weights: xr.DataArray) -> xr.DataArray:
    """Aggregate occupation values to skills or skill groups: ``S[k] = sum_o w[k, o] X[o]``.

    Parameters
    ----------
    values : DataArray with an ``occupation`` dim and any others (``region``, ``year``, ``path``
        ...), e.g. a projected gap in persons (``attrs["units"]`` is carried into the result).
        A NaN in an occupation with a skill profile makes its skills NaN: fill or drop it first.
    weights : skill matrix ``(occupation, skill)`` or ``(occupation, skill_group)`` from
        :func:`~lmforecast.taxonomy.skills.load_skill_matrix` or
        :func:`~lmforecast.taxonomy.skills.read_skill_matrix_csv`, with a row for every occupation
        of ``values``; checked with :func:`~lmforecast.taxonomy.skills.check_skill_weights`.

    Returns
    -------
    DataArray with ``occupation`` replaced by ``skill`` (or ``skill_group``), other dims kept in
    order, the skill coords of ``weights`` (names, French names, flags); ``attrs``: ``units``
    (see the module docstring), ``skill_weights``, ``occupations_without_skill_profile``,
    ``source``. Memory: the product of the other dims' sizes x the number of skills (13,123 at
    skill level) -- aggregate sample paths to skill groups, or use :func:`top_skills_in_shortage`.

    Raises
    ------
    ValueError if ``values`` has no ``occupation`` dim or has a ``quantile`` dim, an occupation has
    no row in ``weights`` or the weights break their documented normalisation.

    Examples
    --------
    See the module docstring.
    """
    if OCCUPATION not in values.dims:
        raise ValueError(f"values must have an {OCCUPATION!r} dim, has {values.dims}")
    if QUANTILE in values.dims:
        raise ValueError("values have a 'quantile' dim: quantiles of occupations do not add up to "
                         "quantiles of skills; aggregate the sample paths (dim 'path') instead")
    return _contract(values, weights, _skill_dim(weights))


def top_skills_in_shortage(gap: xr.DataArray, weights: xr.DataArray, k: int = 10, *,
                           by: str | None = "region", shortage_only: bool = True,
                           quantiles: Sequence[float] = (0.1, 0.9)) -> pd.DataFrame:
    """The ``k`` skills (or skill groups) with the largest aggregated shortage, per region.

    Parameters
    ----------
    gap : DataArray ``(occupation, [by], [path])``, positive = shortage (e.g. persons). Other dims
        (``year``) must be selected or summed first.
    weights : skill matrix, as in :func:`aggregate_to_skills`.
    k : number of skills per ``by`` value.
    by : dim to rank within (``"region"``), or ``None`` for a single ranking.
    shortage_only : if True (default), occupations in surplus count as zero, path by path: a skill
        value is then the shortage of the occupations that need it, not netted against surpluses
        of other occupations. If False the net gap is aggregated.
    quantiles : quantiles over paths reported as columns ``q10``, ``q90`` ... (with a ``path`` dim).

    Returns
    -------
    DataFrame, ``k`` rows per ``by`` value at most (skills whose value is not > 0 are left out),
    columns ``[by], rank, skill|skill_group, name, name_fr, value`` (the mean over paths, or the
    value itself without paths), one column per quantile, and ``digital`` (bool) or
    ``digital_share`` for groups. ``attrs["units"]`` gives the units.

    Examples
    --------
    >>> import xarray as xr
    >>> w = xr.DataArray([[0.75, 0.25], [0.0, 1.0]], dims=("occupation", "skill"),
    ...                  coords={"occupation": ["2512", "4222"], "skill": ["prog", "care"],
    ...                          "skill_name": ("skill", ["programming", "customer care"]),
    ...                          "skill_name_fr": ("skill", ["programmation", "relation client"])},
    ...                  attrs={"normalise": "share"})
    >>> gap = xr.DataArray([[100.0, 40.0], [200.0, -20.0]], dims=("path", "occupation"),
    ...                    coords={"occupation": ["2512", "4222"]})
    >>> top_skills_in_shortage(gap, w, k=1, by=None)[["skill", "name_fr", "value"]].to_dict("records")
    [{'skill': 'prog', 'name_fr': 'programmation', 'value': 112.5}]
    """
    extra = [d for d in gap.dims if d not in (OCCUPATION, PATH, by)]
    if extra or OCCUPATION not in gap.dims or (by is not None and by not in gap.dims):
        raise ValueError(f"gap must have dims occupation, {by!r} and optionally {PATH!r}; got {gap.dims}: "
                         "select or sum the other dims first, e.g. gap.sum('year') or gap.sel(year=2030)")
    target = _skill_dim(weights)
    x = gap.clip(min=0) if shortage_only else gap
    x = x if by is not None else x.expand_dims(_all=["all"])
    group_dim = by if by is not None else "_all"
    center = x.mean(PATH) if PATH in x.dims else x
    center_skills = _contract(center, weights, target).transpose(group_dim, target)
    scores = np.nan_to_num(center_skills.values, nan=-np.inf)
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    rows = np.repeat(np.arange(scores.shape[0]), order.shape[1])
    cols = order.ravel()
    table = pd.DataFrame({"rank": np.tile(np.arange(1, order.shape[1] + 1), scores.shape[0]),
                          target: weights[target].values[cols],
                          "value": center_skills.values[rows, cols]})
    if by is not None:
        table.insert(0, by, center_skills[by].values[rows])
    for name, coord in (("name", f"{target}_name"), ("name_fr", f"{target}_name_fr")):
        table[name] = weights[coord].values[cols] if coord in weights.coords else weights[target].values[cols]
    if PATH in x.dims:
        chosen = np.unique(cols)
        paths = _contract(x, weights.isel({target: chosen}), target).transpose(PATH, group_dim, target)
        position = np.searchsorted(chosen, cols)
        levels = np.quantile(paths.values, list(quantiles), axis=0)
        for q, level in zip(quantiles, levels):
            table[f"q{round(100 * q):02d}"] = level[rows, position]
    flag = "digital" if target == SKILL else "digital_share"
    if flag in weights.coords:
        table[flag] = weights[flag].values[cols]
    table = table[table["value"] > 0].reset_index(drop=True)
    table.attrs["units"] = center_skills.attrs["units"]
    return table
