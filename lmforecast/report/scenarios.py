"""Scenarios: training programmes added to the baseline, and how much of each gap they close.

A scenario is a config (``conf/scenario/<name>.yaml``, or any mapping / YAML file) of one or more
programmes: "N extra trainees a year in occupations o and regions r from year y to year z,
placement rate p"::

    jobintech_phase2:
      label: JobInTech phase 2 (15,000 trainees 2027-2030, 73 % placed)
      label_fr: JobInTech phase 2 (15 000 stagiaires 2027-2030, 73 % insérés)
      programmes:
        - name: jobintech_phase2
          trainees_per_year: 3750
          from_year: 2027
          to_year: 2030
          placement_rate: 0.73
          regions: observed            # or {MA-06: 0.5, MA-04: 0.5}
          occupations: observed        # or {"2512": 0.6, "2513": 0.4}

Its placed trainees are extra new supply; on every sample path ``gap_scenario = gap - extra``,
and the share of the baseline shortage it closes is ``(max(gap, 0) - max(gap_scenario, 0)) /
max(gap, 0)`` (:func:`scenario_effect`), so its interval comes from the same paths as the baseline.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from lmforecast.errors import ConfigError
from lmforecast.report.supply import OBSERVED, Programme

PROGRAMME_KEYS = {"name", "trainees_per_year", "trainees", "from_year", "to_year", "placement_rate", "regions",
                  "occupations", "label", "label_fr"}
SCENARIO_KEYS = {"label", "label_fr", "description", "programmes"}


@dataclass(frozen=True)
class Scenario:
    """A named set of extra programmes.

    Attributes
    ----------
    name : identifier (file stem / config key).
    programmes : :class:`~lmforecast.report.supply.Programme` entries.
    label, label_fr : titles shown in the report; description : one sentence.
    source : where it was read from (for messages).
    """

    name: str
    programmes: tuple[Programme, ...]
    label: str = ""
    label_fr: str = ""
    description: str = ""
    source: str = ""


def _fail(source: str, key: str, value, expected: str) -> ConfigError:
    return ConfigError(f"scenario file {source}, key {key!r}: got {value!r}, expected {expected}")


def _shares(spec, source: str, key: str):
    if spec is None or spec == OBSERVED:
        return OBSERVED
    if isinstance(spec, str):
        return {spec: 1.0}
    if isinstance(spec, (list, tuple)):
        if not spec:
            raise _fail(source, key, spec, "a non-empty list of codes, {code: share} or 'observed'")
        return {str(c): 1.0 / len(spec) for c in spec}
    if isinstance(spec, Mapping):
        out = {}
        for code, share in spec.items():
            if not isinstance(share, (int, float)) or isinstance(share, bool) or not 0 <= share <= 1:
                raise _fail(source, f"{key}.{code}", share, "a share in [0, 1]")
            out[str(code)] = float(share)
        if abs(sum(out.values()) - 1) > 1e-6:
            raise _fail(source, key, spec, f"shares summing to 1 (they sum to {sum(out.values()):.6g})")
        return out
    raise _fail(source, key, spec, "a code, a list of codes, {code: share} or 'observed'")


def programme_from_mapping(spec: Mapping, source: str, key: str = "programmes[0]") -> Programme:
    """A :class:`Programme` from a config mapping, every key checked (ConfigError naming file, key, value)."""
    if not isinstance(spec, Mapping):
        raise _fail(source, key, spec, "a mapping with trainees_per_year, from_year, placement_rate ...")
    extra = sorted(set(map(str, spec)) - PROGRAMME_KEYS)
    if extra:
        raise _fail(source, f"{key}.{extra[0]}", spec[extra[0]], f"one of the keys {sorted(PROGRAMME_KEYS)}")
    rate = spec.get("placement_rate")
    if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0 <= rate <= 1:
        raise _fail(source, f"{key}.placement_rate", rate, "a share in [0, 1] (0.73 for 73 %)")
    if "trainees" in spec and spec["trainees"] is not None:
        raw = spec["trainees"]
        if not isinstance(raw, Mapping) or not raw:
            raise _fail(source, f"{key}.trainees", raw, "{year: trainees}")
        trainees = {}
        for year, n in raw.items():
            if not str(year).isdigit() or not isinstance(n, (int, float)) or isinstance(n, bool) or n < 0:
                raise _fail(source, f"{key}.trainees.{year}", n, "a year: a number of trainees >= 0")
            trainees[int(year)] = float(n)
    else:
        n = spec.get("trainees_per_year")
        if not isinstance(n, (int, float)) or isinstance(n, bool) or n < 0:
            raise _fail(source, f"{key}.trainees_per_year", n, "a number of trainees >= 0 per year")
        first, last = spec.get("from_year"), spec.get("to_year", 2100)
        for name, year in (("from_year", first), ("to_year", last)):
            if not isinstance(year, int) or isinstance(year, bool) or not 1900 <= year <= 2100:
                raise _fail(source, f"{key}.{name}", year, "a calendar year such as 2027")
        if last < first:
            raise _fail(source, f"{key}.to_year", last, f"a year >= from_year ({first})")
        trainees = {y: float(n) for y in range(first, last + 1)}
    name = str(spec.get("name") or key)
    return Programme(name=name, trainees=trainees, placement_rate=float(rate),
                     regions=_shares(spec.get("regions"), source, f"{key}.regions"),
                     occupations=_shares(spec.get("occupations"), source, f"{key}.occupations"),
                     label=str(spec.get("label", "")), label_fr=str(spec.get("label_fr", "")))


def scenario_from_mapping(name: str, spec: Mapping, source: str | None = None) -> Scenario:
    """A :class:`Scenario` from a config mapping (e.g. one entry of ``cfg.scenario``).

    Parameters
    ----------
    name : the scenario's identifier (its column and sheet in the report).
    spec : ``{label, label_fr, description, programmes}`` as in a ``conf/scenario/*.yaml`` file;
        each programme has ``name``, ``trainees_per_year`` (or ``trainees: {year: n}``),
        ``from_year``, ``to_year``, ``placement_rate`` and ``regions`` / ``occupations``
        (``observed``, a code, a list of codes or ``{code: share}``).
    source : the file named in error messages (default ``conf/scenario/<name>.yaml``).

    Returns
    -------
    :class:`Scenario`; pass it in ``ReportPlan(scenarios=...)`` of :mod:`lmforecast.pipeline`.

    Raises
    ------
    ConfigError naming the file (``source``, default ``conf/scenario/<name>.yaml``), the key, the
    value and what was expected, for an unknown key, a placement rate outside [0, 1], a bad year,
    shares that do not sum to 1, or no programme.

    Examples
    --------
    >>> scenario = scenario_from_mapping("coding_school", {
    ...     "label": "1,000 trainees a year in software, 2027-2030",
    ...     "programmes": [{"name": "coding_school", "trainees_per_year": 1000, "from_year": 2027,
    ...                     "to_year": 2030, "placement_rate": 0.7, "regions": {"MA-06": 1.0},
    ...                     "occupations": {"2512": 1.0}}]})
    >>> scenario.label, scenario.programmes[0].trainees
    ('1,000 trainees a year in software, 2027-2030', {2027: 1000.0, 2028: 1000.0, 2029: 1000.0, 2030: 1000.0})
    >>> scenario_from_mapping("bad", {"programmes": [{"name": "x", "trainees_per_year": 10, "from_year": 2027,
    ...                                              "to_year": 2027, "placement_rate": 1.5}]})
    Traceback (most recent call last):
    ...
    lmforecast.errors.ConfigError: scenario file conf/scenario/bad.yaml, key 'bad.programmes[0].placement_rate': ...
    """
    source = source or f"conf/scenario/{name}.yaml"
    if not isinstance(spec, Mapping):
        raise _fail(source, name, spec, "a mapping with label and programmes")
    extra = sorted(set(map(str, spec)) - SCENARIO_KEYS)
    if extra:
        raise _fail(source, f"{name}.{extra[0]}", spec[extra[0]], f"one of the keys {sorted(SCENARIO_KEYS)}")
    programmes = spec.get("programmes")
    if not isinstance(programmes, (list, tuple)) or not programmes:
        raise _fail(source, f"{name}.programmes", programmes, "a non-empty list of programmes")
    parsed = tuple(programme_from_mapping(p, source, f"{name}.programmes[{i}]") for i, p in enumerate(programmes))
    return Scenario(name=name, programmes=parsed, label=str(spec.get("label") or name),
                    label_fr=str(spec.get("label_fr") or spec.get("label") or name),
                    description=str(spec.get("description", "")), source=source)


def load_scenarios(path: str | os.PathLike) -> list[Scenario]:
    """Every scenario of a YAML file (``{name: {label, programmes}}``), checked as :func:`scenario_from_mapping`."""
    import yaml

    path = Path(path)
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(f"scenario file {path}, line {mark.line + 1 if mark else '?'}: not valid YAML ({exc})") from exc
    if not isinstance(content, Mapping) or not content:
        raise ConfigError(f"scenario file {path}: got {type(content).__name__}, expected {{name: {{label, programmes}}}}")
    return [scenario_from_mapping(str(k), v, str(path)) for k, v in content.items()]


def scenario_effect(gap: xr.DataArray, extra_supply: xr.DataArray) -> xr.Dataset:
    """Scenario gap and the share of the baseline shortage it closes, path by path.

    Parameters
    ----------
    gap : baseline gap paths (openings - new supply, persons per year; dim ``path``).
    extra_supply : placed trainees of the scenario, same dims without ``path`` (persons per year).

    Returns
    -------
    Dataset: ``gap_scenario`` (persons per year), ``shortage_closed`` (persons per year: the part
    of the baseline shortage the programme fills, ``max(gap, 0) - max(gap - extra, 0)``) and
    ``share_closed`` (unitless, NaN on paths without a baseline shortage).
    """
    scenario = gap - extra_supply
    closed = gap.clip(min=0) - scenario.clip(min=0)
    share = (closed / gap.where(gap > 0))
    return xr.Dataset({"gap_scenario": scenario.assign_attrs(units="persons per year"),
                       "shortage_closed": closed.assign_attrs(units="persons per year"),
                       "share_closed": share.assign_attrs(units="1")})


def extra_supply(scenario: Scenario, years, regions, occupations, observed_last: xr.DataArray | None) -> xr.DataArray:
    """Placed trainees a scenario adds, ``(year, region, occupation)`` in persons per year."""
    from lmforecast.report.supply import programme_trainees

    total = None
    for programme in scenario.programmes:
        try:
            flows = programme_trainees(programme, years, regions, occupations, observed_last)
        except ValueError as exc:
            raise ConfigError(f"scenario {scenario.name!r} ({scenario.source}): {exc}") from exc
        placed = flows * programme.placement_rate
        total = placed if total is None else total + placed
    out = total.rename(f"extra_supply_{scenario.name}")
    out.attrs = {"units": "persons per year"}
    return out


def total_trainees(scenario: Scenario, years) -> float:
    """Trainees of a scenario over ``years`` (persons)."""
    return float(np.sum([p.trainees.get(int(y), 0.0) for p in scenario.programmes for y in years]))


def scenario_sentence(summary: Mapping, cells, language: str = "en") -> str:
    """One plain sentence on what a scenario does to the gaps it touches (for the page).

    Parameters
    ----------
    summary : the scenario's row of ``SkillGapReport.scenario_summary`` (``label`` /
        ``label_fr``, ``extra_supply``, ``shortage_closed``, ``share_of_shortage_closed``).
    cells : the scenario's cumulated cells (``gap``, ``extra_supply``): the rows of
        ``tables(report)["scenarios"]`` for this scenario.
    language : ``en`` or ``fr``.

    Returns
    -------
    str, e.g. "JobInTech ...: 10,950 placed trainees in 14 region x occupation cells; none is in
    shortage in the baseline, so the trainees add to a projected surplus."

    >>> import pandas as pd
    >>> cells = pd.DataFrame({"gap": [-500.0, 200.0], "extra_supply": [100.0, 100.0]})
    >>> scenario_sentence({"label": "Pilot", "extra_supply": 200, "shortage_closed": 100,
    ...                    "share_of_shortage_closed": 0.5}, cells)
    "Pilot: 200 placed trainees in 2 region x occupation cells; 1 of them in shortage in the baseline (200 persons short); it closes 100 persons of shortage, 50 % of all the baseline's shortages."
    """
    fr = language == "fr"
    label = summary.get("label_fr" if fr else "label") or summary.get("label") or ""
    touched = cells[cells["extra_supply"] > 0]
    short = touched[touched["gap"] > 0]

    def n(value) -> str:  # persons, thousands separated as each language writes them
        return f"{float(value):,.0f}".replace(",", "\u202f" if fr else ",")

    share = f"{100 * float(summary['share_of_shortage_closed']):.0f} %"
    if fr:
        cells_word = "cellule" if len(touched) == 1 else "cellules"
        head = f"{label} : {n(summary['extra_supply'])} stagiaires insérés dans {len(touched)} {cells_word} région x profession ; "
        if short.empty:
            return head + "aucune n'est en pénurie dans la référence : les stagiaires s'ajoutent à un excédent projeté."
        return (head + f"{len(short)} en pénurie dans la référence ({n(short['gap'].sum())} personnes manquantes) ; "
                f"le programme en résorbe {n(summary['shortage_closed'])}, soit {share} de toutes les pénuries de la référence.")
    head = (f"{label}: {n(summary['extra_supply'])} placed trainees in {len(touched)} region x occupation "
            f"cell{'' if len(touched) == 1 else 's'}; ")
    if short.empty:
        return head + "none is in shortage in the baseline, so the trainees add to a projected surplus."
    return (head + f"{len(short)} of them in shortage in the baseline ({n(short['gap'].sum())} persons short); "
            f"it closes {n(summary['shortage_closed'])} persons of shortage, {share} of all the baseline's shortages.")
