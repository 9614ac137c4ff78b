"""Write a :class:`~lmforecast.report.core.SkillGapReport`: tidy table (Parquet + CSV), the
planners' workbook and the offline HTML page, each file atomically, after everything is computed
in memory (a failure leaves none of them half-written).
"""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from lmforecast import panel as P
from lmforecast.io import write_csv_atomic, write_parquet_atomic
from lmforecast.report import table as T
from lmforecast.report.core import SkillGapReport
from lmforecast.report.labels import LANGUAGES, word

FORMATS = ("parquet", "csv", "xlsx", "html")


def _rates_note(source: str, language: str = "en") -> str:
    """Where the separation rates came from (file name, not the machine's path), in ``language``."""
    package = Path(__file__).resolve().parent / "data"
    fr = language == "fr"
    if source and Path(source).resolve().parent == package:
        return (f"Fichier par défaut de lmforecast {Path(source).name} : valeurs approximatives (ordre de grandeur "
                "Cedefop / BLS), pas des chiffres officiels marocains ; à remplacer (report.rates.separation)."
                if fr else
                f"lmforecast's default file {Path(source).name}: approximate defaults in the range of Cedefop and "
                "BLS published aggregates, not official Moroccan figures; replace them (report.rates.separation).")
    name = Path(source).name if source else ("donnés dans l'appel" if fr else "given in the call")
    return f"{name} (taux de l'utilisateur)." if fr else f"{name} (the user's rates)."


def tables(report: SkillGapReport) -> dict[str, pd.DataFrame]:
    """The report's tables, labelled and rounded: ``cells`` (per year), ``cumulative``, ``national``,
    ``regions``, ``occupations``, ``groups``, ``rank_gap``, ``rank_probability``, ``skills``,
    ``skill_groups``, ``scenarios``, ``scenario_summary``, ``tension``, ``rates``.

    Parameters
    ----------
    report : a :class:`~lmforecast.report.core.SkillGapReport` (``GapReport.skill_gap`` of
        :func:`lmforecast.pipeline.report`).

    Returns
    -------
    ``{name: DataFrame}``: the tables the report's files hold (CSV, sheets, HTML page).

    Examples
    --------
    >>> from lmforecast.datasets.example_country import example_report
    >>> frames = tables(example_report())
    >>> len(frames["cumulative"]), frames["cumulative"][["region", "occupation", "gap", "rating"]].columns.tolist()
    (30, ['region', 'occupation', 'gap', 'rating'])
    """
    cells = T.cell_table(report.cells)
    cum = T.cell_table(report.cumulative)
    if not report.tension.empty:
        cum = cum.merge(report.tension.drop(columns=["year"]), on=[P.REGION, P.OCCUPATION], how="left")
        cum = T.round_meaningfully(cum)
    from lmforecast.report.rollups import rank

    short = pd.concat([rank(cum, "gap", "gap", 5, True), rank(cum, "gap", "gap", 5, False)], ignore_index=True)
    short.insert(1, "kind", ["shortage"] * min(len(short), 5 * cum[P.REGION].nunique())
                 + ["surplus"] * (len(short) - min(len(short), 5 * cum[P.REGION].nunique())))
    out = {
        "cells": cells, "cumulative": cum,
        "national": T.round_meaningfully(report.national),
        "regions": T.round_meaningfully(T.label(report.regions)),
        "occupations": T.round_meaningfully(T.label(report.occupations)),
        "groups": T.round_meaningfully(report.groups),
        "rank_gap": short,
        "rank_probability": rank(cum[cum["rating"] == "shortage"], "p_shortage", "p_shortage", 5, True),
        "skills": T.round_meaningfully(T.label(report.skills)) if len(report.skills) else report.skills,
        "skill_groups": T.round_meaningfully(report.skill_groups),
        "scenario_summary": T.round_meaningfully(report.scenario_summary),
        "scenarios": T.round_meaningfully(T.label(pd.concat(list(report.scenarios.values()), ignore_index=True)))
        if report.scenarios else pd.DataFrame(),
        "tension": T.round_meaningfully(T.label(report.tension)) if len(report.tension) else report.tension,
        "rates": report.rates.reset_index(),
    }
    return out


def top_shortages(report: SkillGapReport, k: int = 5) -> pd.DataFrame:
    """The ``k`` occupations with the largest cumulated national shortage (all regions summed).

    Parameters
    ----------
    report : a :class:`~lmforecast.report.core.SkillGapReport`.
    k : number of occupations.

    Returns
    -------
    DataFrame: the ``cumulative`` rows of ``report.occupations``, labelled, largest gap first.

    Examples
    --------
    >>> from lmforecast.datasets.example_country import example_report
    >>> top_shortages(example_report(), 3)["occupation"].tolist()
    ['251', '252', '222']
    """
    occ = report.occupations
    cum = occ[occ["year"] == "cumulative"]
    return T.label(cum.sort_values("gap", ascending=False).head(k))


def readme(report: SkillGapReport, language: str = "en", extra: Sequence[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    """Read-me rows: what each figure is, the assumptions and their sources, the caveats."""
    a, t = report.assumptions, report.thresholds
    years = f"{report.years[0]}-{report.years[-1]}"
    programmes = ", ".join(f"{p.name} ({sum(p.trainees.values()):,.0f} trainees, {p.placement_rate:.0%} placed)"
                           for p in a.programmes) or "none"
    en = [
        ("What this is", f"Projected job openings and new labour supply by region x occupation, {years}, "
                         f"and the gap between them (openings - supply; > 0 = shortage). Base year {report.base_year}."),
        ("Job openings", "Expansion demand (projected growth of employment, floored at zero for a declining "
                         "occupation, as the US BLS does; the horizon's change spread evenly over its years) + "
                         "replacement demand (retirements, deaths, emigration: separation rate x employment)."),
        ("New supply", f"Graduates x {a.graduate_placement_rate:.0%} entering the occupation + registered jobseekers x "
                       f"{a.jobseeker_share:.0%} available within a year + trainees placed (recurring flow "
                       f"x {a.trainee_placement_rate:.0%}, declared programmes at their own rate: {programmes}) "
                       "+ net mobility."),
        ("Trainees", "Short training programmes are inputs, not forecasts: the baseline keeps the recurring flow of "
                     "the last observed year and the scheduled cohorts of declared programmes, nothing more; "
                     "extra programmes are scenarios."),
        ("Intervals", "Every interval is the 80 % range (10 % - 90 %) over joint Monte Carlo sample paths of the "
                      "forecasts; totals, ratios, skills and scenario effects are computed path by path. Central "
                      "values are path medians, so they do not add up exactly across rows."),
        ("Ratings", f"shortage: gap ratio > +{t.ratio_threshold:.0%} and P(shortage) >= {t.probability_threshold:.0%}; "
                    f"surplus: gap ratio < -{t.ratio_threshold:.0%} and P(shortage) <= "
                    f"{1 - t.probability_threshold:.0%}; balance otherwise. Future demand: openings per employed "
                    f"person >= {t.strong_factor:g} x the average = strong, < {t.soft_factor:g} x = soft."),
        ("Tension indicators", "Vacancies, job ads and vacancies per jobseeker of the last observed year are shown "
                               "as current-tension indicators; they are not added to openings."),
        ("Separation rates", _rates_note(report.rates.attrs.get("source", ""))),
        ("Skills", "Occupation gaps spread over ESCO v1.1.1 skills (European Commission, CC BY 4.0) by each "
                   "occupation's skill shares; ESCO covers clerical, agricultural and elementary occupations thinly."),
        ("Backtest accuracy", "How the models and the gap itself did at past cutoffs (sheet/section 'Backtest "
                              "accuracy'): trust a figure as much as its track record."),
        *[("Note", n) for n in report.notes],
        *extra,
    ]
    if language == "en":
        return en
    fr = {
        "What this is": ("Objet", f"Postes à pourvoir et offre nouvelle de main-d'œuvre projetés par région x "
                                  f"profession, {years}, et l'écart (postes - offre ; > 0 = pénurie). Année de base "
                                  f"{report.base_year}."),
        "Job openings": ("Postes à pourvoir", "Demande d'expansion (croissance projetée de l'emploi, ramenée à zéro "
                                              "pour une profession en recul, comme le BLS) + demande de remplacement "
                                              "(retraites, décès, émigration : taux de sortie x emploi)."),
        "New supply": ("Offre nouvelle", f"Diplômés x {a.graduate_placement_rate:.0%} + demandeurs d'emploi inscrits x "
                                         f"{a.jobseeker_share:.0%} disponibles dans l'année + stagiaires insérés "
                                         f"(programmes déclarés : {programmes}) + mobilité nette."),
        "Trainees": ("Stagiaires", "Les programmes de formation courte sont des hypothèses, pas des prévisions : la "
                                   "référence garde le flux récurrent de la dernière année observée et les promotions "
                                   "prévues des programmes déclarés ; tout programme en plus est un scénario."),
        "Intervals": ("Intervalles", "Chaque intervalle est la fourchette à 80 % (10 % - 90 %) sur des trajectoires "
                                     "Monte-Carlo conjointes ; totaux, taux, compétences et scénarios sont calculés "
                                     "trajectoire par trajectoire. Les valeurs centrales sont des médianes."),
        "Ratings": ("Diagnostics", f"pénurie : taux d'écart > +{t.ratio_threshold:.0%} et P(pénurie) >= "
                                   f"{t.probability_threshold:.0%} ; excédent : taux < -{t.ratio_threshold:.0%} et "
                                   f"P(pénurie) <= {1 - t.probability_threshold:.0%} ; équilibre sinon."),
        "Tension indicators": ("Indicateurs de tension", "Postes vacants, annonces et postes vacants par demandeur de "
                                                         "la dernière année observée : indicateurs, non ajoutés aux postes."),
        "Separation rates": ("Taux de sortie", _rates_note(report.rates.attrs.get("source", ""), "fr")),
        "Skills": ("Compétences", "Écarts répartis sur les compétences ESCO v1.1.1 (Commission européenne, CC BY 4.0)."),
        "Backtest accuracy": ("Fiabilité passée", "Résultats des modèles et de l'écart à des dates passées : "
                                                  "se fier à un chiffre autant que son historique le permet."),
    }
    return [fr.get(topic, (topic, text)) for topic, text in en]


def write_report(report: SkillGapReport, out_dir: str | os.PathLike, name: str, *, language: str = "en",
                 formats: Sequence[str] = FORMATS, model_scores: pd.DataFrame | None = None,
                 fan_regions: Sequence[str] = ("MA-06", "MA-04")) -> list[Path]:
    """Write the report's files to ``out_dir``; return their paths.

    Parameters
    ----------
    report : :class:`~lmforecast.report.core.SkillGapReport`.
    out_dir : folder (created).
    name : file stem (``skill_gap_morocco`` -> ``.parquet``, ``.csv``, ``_cumulative.csv``, ``.xlsx``, ``.html``).
    language : ``en`` or ``fr`` (workbook and page; the tidy tables carry both).
    formats : subset of :data:`FORMATS`.
    model_scores : backtest metric of the models (index model, columns targets), shown as accuracy.
    fan_regions : regions with a fan chart (besides the national one), when present.

    Raises
    ------
    ValueError for an unknown format or language, before anything is written.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"report formats {unknown} are not supported; supported: {list(FORMATS)}")
    if language not in LANGUAGES:
        raise ValueError(f"report.language must be one of {LANGUAGES}, got {language!r}")
    out_dir = Path(out_dir)
    t = tables(report)
    accuracy_sheet = accuracy_table(report, model_scores, language)
    pages = {}
    if "html" in formats:
        pages["html"] = _page(report, t, language, model_scores, fan_regions)
    paths = []
    if "parquet" in formats:
        paths.append(write_parquet_atomic(t["cells"], out_dir / f"{name}.parquet"))
    if "csv" in formats:
        paths.append(write_csv_atomic(t["cells"], out_dir / f"{name}.csv"))
        paths.append(write_csv_atomic(t["cumulative"], out_dir / f"{name}_cumulative.csv"))
    if "xlsx" in formats:
        from lmforecast.report.excel import write_workbook

        national = t["national"]
        summary = pd.concat([national, top_shortages(report).assign(year="cumulative")], ignore_index=True)
        sheets = {"summary": summary, "regions": t["regions"], "occupations": t["occupations"],
                  "cells": t["cumulative"], "skills": pd.concat([t["skills"], t["skill_groups"]], ignore_index=True),
                  "scenarios": pd.concat([t["scenario_summary"], t["scenarios"]], ignore_index=True),
                  "track_record": accuracy_sheet}
        paths.append(write_workbook(sheets, readme(report, language), out_dir / f"{name}.xlsx", language))
    if "html" in formats:
        from lmforecast.report.html import write_html

        title = ("Skill-gap report" if language == "en" else "Rapport sur les écarts de compétences") + \
            f" {report.years[0]}-{report.years[-1]}"
        paths.append(write_html(title, pages["html"], out_dir / f"{name}.html", language))
    return paths


def accuracy_table(report: SkillGapReport, model_scores: pd.DataFrame | None = None,
                   language: str = "en") -> pd.DataFrame:
    """The workbook's backtest-accuracy sheet: every block one under the other, named in ``table``.

    Parameters
    ----------
    report : the report (its ``track_record``, when the gap backtest ran).
    model_scores : backtest MASE of the models (index model, one column per measure), or None.
    language : ``en`` or ``fr`` (the block names).

    Returns
    -------
    DataFrame with a ``table`` column (model accuracy, gap backtest by cutoff and by years
    ahead, reliability of P(shortage)); model scores in long form (``model, measure, mase``),
    so that no measure column is mistaken for the measure's level. Empty when there is nothing.
    """
    from lmforecast.report.labels import LANGUAGES, TABLES

    def named(key: str, frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(table=TABLES[key][LANGUAGES.index(language)])[["table", *frame.columns]]

    blocks = []
    if model_scores is not None and len(model_scores):
        long = model_scores.rename_axis("model").reset_index().melt(id_vars="model", var_name="measure",
                                                                   value_name="mase")
        blocks.append(named("model_accuracy", long.assign(mase=long["mase"].round(3))))
    track = report.track_record
    if track is not None:
        blocks += [named("gap_by_cutoff", track.scores), named("gap_by_horizon", track.by_horizon),
                   named("reliability", track.reliability)]
    return pd.concat(blocks, ignore_index=True) if blocks else pd.DataFrame()


def _page(report: SkillGapReport, t: dict, language: str, model_scores, fan_regions) -> list:
    from lmforecast import plotting as G
    from lmforecast.report.html import table_html

    fr = language == "fr"
    cum = t["cumulative"]
    nat = t["national"]
    total = nat[nat["year"] == "cumulative"].iloc[0]
    kpis = "".join(f'<div class="kpi"><b>{v:,.0f}</b>{label}</div>' for label, v in (
        ("postes à pourvoir" if fr else "job openings", total["job_openings"]),
        ("offre nouvelle" if fr else "new supply", total["new_supply"]),
        ("écart (postes - offre)" if fr else "gap (openings - supply)", total["gap"])))
    counts = cum["rating"].value_counts()
    kpis += "".join(f'<div class="kpi"><b>{int(counts.get(r, 0))}</b>{word(r, language)}</div>'
                    for r in ("shortage", "balance", "surplus"))
    figs = G.figures_html
    sections = [
        ("Synthèse" if fr else "Summary", [kpis, f'<p class="note">{report.years[0]}-{report.years[-1]}, '
                                                 + ("cumul sur l'horizon ; intervalles à 80 % tirés de trajectoires "
                                                    "simulées conjointes." if fr else "cumulated over the horizon; "
                                                    "80 % intervals from joint sample paths.") + "</p>",
                                           table_html(top_shortages(report)[["occupation", "occupation_name_fr" if fr
                                                      else "occupation_name", "job_openings", "new_supply", "gap",
                                                      "gap_q10", "gap_q90", "gap_ratio", "p_shortage"]], language)]),
        ("Carte des écarts" if fr else "Gap ratio by region and occupation",
         figs([G.gap_ratio_heatmap(cum, language), G.rating_counts(cum, "region_name_fr" if fr else "region_name",
                                                                  language)])),
        ("Pénuries et excédents" if fr else "Top shortages and surpluses",
         figs([G.top_gaps(cum, 15, language, True), G.top_gaps(cum, 10, language, False)])
         + [table_html(t["rank_gap"][["kind", "rank", "region_name_fr" if fr else "region_name", "occupation",
                                      "occupation_name_fr" if fr else "occupation_name", "gap", "gap_q10", "gap_q90",
                                      "p_shortage", "rating", "shortage_driver"]], language, 60)]),
    ]
    fans = [G.fan_chart(report.national, "National", language)]
    regions = report.regions
    for region in fan_regions:
        part = regions[regions[P.REGION] == region]
        if len(part):
            fans.append(G.fan_chart(part, str(t["regions"].loc[t["regions"][P.REGION] == region, "region_name_fr" if fr
                                               else "region_name"].iloc[0]), language))
    sections.append(("Postes et offre" if fr else "Openings vs new supply", figs(fans)))
    if len(report.skills):
        sections.append(("Compétences en pénurie" if fr else "Skills in shortage",
                         figs([G.skills_in_shortage(report.skills, "national", 10, language)])
                         + [table_html(t["skills"][t["skills"]["region"] == "national"][
                             ["rank", "name_fr" if fr else "name", "value", "q10", "q90"]], language)]))
    if report.scenarios:
        from lmforecast.report.scenarios import scenario_sentence

        summary = t["scenario_summary"].drop(columns=["label" if fr else "label_fr"], errors="ignore")
        cells = t["scenarios"]
        sentences = [scenario_sentence(row, cells[cells["scenario"] == row["scenario"]], language)
                     for row in t["scenario_summary"].to_dict("records")]
        parts = ["".join(f'<p>{html.escape(text)}</p>' for text in sentences), table_html(summary, language)]
        parts += figs([G.scenario_vs_baseline(frame, language) for frame in report.scenarios.values() if len(frame)])
        sections.append(("Scénarios" if fr else "Scenarios vs baseline", parts))
    accuracy = []
    if model_scores is not None and len(model_scores):
        accuracy += figs([G.model_accuracy(model_scores, "mase", language)])
    if report.track_record is not None:
        tr = report.track_record
        accuracy += [table_html(tr.scores, language), table_html(tr.by_horizon, language)]
        accuracy += figs([G.reliability(tr.reliability, language)])
    if accuracy:
        sections.append(("Fiabilité passée" if fr else "Backtest accuracy", accuracy))
    rows = "".join(f"<tr><td class='t'><b>{a}</b></td><td class='t'>{b}</td></tr>" for a, b in readme(report, language))
    sections.append(("Lisez-moi" if fr else "Read me", [f"<table>{rows}</table>"]))
    return sections
