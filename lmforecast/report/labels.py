"""French and English words of the report (column headers, ratings, sheet names, read-me text)."""

from __future__ import annotations

LANGUAGES = ("en", "fr")

COLUMNS = {  # column: (English, French, units)
    "year": ("Year", "Année", ""),
    "region": ("Region code", "Code région", ""),
    "region_name": ("Region", "Région", ""),
    "region_name_fr": ("Region (French)", "Région", ""),
    "occupation": ("Occupation code (ISCO-08)", "Code profession (CITP-08)", ""),
    "occupation_name": ("Occupation", "Profession (anglais)", ""),
    "occupation_name_fr": ("Occupation (French)", "Profession", ""),
    "occupation_group": ("ISCO-08 major group", "Grand groupe CITP-08", ""),
    "employment": ("Employment", "Emploi", "persons (annual mean)"),
    "expansion_demand": ("Expansion demand", "Demande d'expansion", "persons per year"),
    "replacement_demand": ("Replacement demand", "Demande de remplacement", "persons per year"),
    "job_openings": ("Job openings", "Postes à pourvoir", "persons per year"),
    "graduate_supply": ("Graduates entering", "Diplômés entrants", "persons per year"),
    "trainee_supply": ("Trainees placed", "Stagiaires insérés", "persons per year"),
    "jobseeker_supply": ("Jobseekers available", "Demandeurs d'emploi disponibles", "persons per year"),
    "mobility": ("Net mobility", "Mobilité nette", "persons per year"),
    "new_supply": ("New supply", "Offre nouvelle", "persons per year"),
    "gap": ("Gap (openings - supply)", "Écart (postes - offre)", "persons per year"),
    "gap_ratio": ("Gap ratio", "Taux d'écart", "share of openings"),
    "p_shortage": ("P(shortage)", "P(pénurie)", "probability"),
    "rating": ("Rating", "Diagnostic", ""),
    "future_demand": ("Future demand", "Demande future", ""),
    "shortage_driver": ("Driver", "Facteur principal", ""),
    "openings_rate": ("Openings per employed", "Postes par emploi", "per year"),
    "vacancies": ("Vacancies (last year)", "Postes vacants (dernière année)", "positions (annual mean)"),
    "job_ads": ("Job ads (last year)", "Annonces (dernière année)", "ads per year"),
    "jobseekers": ("Jobseekers (last year)", "Demandeurs d'emploi (dernière année)", "persons (annual mean)"),
    "vacancies_per_jobseeker": ("Vacancies per jobseeker", "Postes vacants par demandeur", "ratio"),
    "scenario": ("Scenario", "Scénario", ""),
    "extra_supply": ("Extra supply", "Offre supplémentaire", "persons over the horizon"),
    "gap_scenario": ("Gap with scenario", "Écart avec scénario", "persons over the horizon"),
    "shortage_closed": ("Shortage closed", "Pénurie résorbée", "persons over the horizon"),
    "share_of_shortage_closed": ("Share of shortage closed", "Part de la pénurie résorbée", "share"),
    "skill": ("ESCO skill", "Compétence ESCO", ""),
    "skill_group": ("ESCO skill group", "Groupe de compétences ESCO", ""),
    "name": ("Name", "Nom (anglais)", ""),
    "name_fr": ("Name (French)", "Nom", ""),
    "value": ("Shortage (person-equivalents)", "Pénurie (équivalents personnes)", "persons over the horizon"),
    "rank": ("Rank", "Rang", ""),
    "q10": ("Low (10 %)", "Bas (10 %)", "persons over the horizon"),
    "q90": ("High (90 %)", "Haut (90 %)", "persons over the horizon"),
    "digital": ("Digital skill", "Compétence numérique", ""),
    # rankings
    "ranked_on": ("Ranked on", "Classé selon", ""),
    "kind": ("Shortage or surplus", "Pénurie ou excédent", ""),
    # scenarios
    "label": ("Description", "Description (anglais)", ""),
    "label_fr": ("Description (French)", "Description", ""),
    "trainees": ("Trainees", "Stagiaires", "persons over the horizon"),
    "gap_baseline": ("Gap, baseline", "Écart, référence", "persons over the horizon"),
    "p_shortage_scenario": ("P(shortage) with scenario", "P(pénurie) avec scénario", "probability"),
    # backtest accuracy
    "table": ("Table", "Tableau", ""),
    "model": ("Model", "Modèle", ""),
    "measure": ("Measure", "Mesure", ""),
    "mase": ("MASE (backtest)", "MASE (backtest)", "mean absolute error / in-sample seasonal-naive error"),
    "cutoff": ("Cutoff (last year seen)", "Coupure (dernière année vue)", ""),
    "horizon_year": ("Years ahead", "Années après la coupure", "years"),
    "sign_accuracy": ("Sign of the gap right", "Signe de l'écart juste", "share of cells whose |gap ratio| > 10 %"),
    "n_sign": ("Cells scored for the sign", "Cellules notées (signe)", "cells"),
    "gap_mae": ("Gap error (mean absolute)", "Erreur d'écart (moyenne absolue)", "persons per year"),
    "gap_bias": ("Gap bias (mean error)", "Biais d'écart (erreur moyenne)", "persons per year"),
    "gap_wape": ("Gap error (% of openings)", "Erreur d'écart (% des postes)", "% of observed openings"),
    "coverage_80": ("80 % interval coverage", "Couverture de l'intervalle à 80 %", "share of cells"),
    "n": ("Cells", "Cellules", "cells"),
    "bin": ("P(shortage) class", "Classe de P(pénurie)", "probability"),
    "mean_predicted": ("Mean predicted P(shortage)", "P(pénurie) prévue moyenne", "probability"),
    "observed_frequency": ("Observed share in shortage", "Part observée en pénurie", "share"),
}

WORDS = {
    "shortage": ("shortage", "pénurie"), "balance": ("balance", "équilibre"), "surplus": ("surplus", "excédent"),
    "strong": ("strong", "forte"), "moderate": ("moderate", "modérée"), "soft": ("soft", "faible"),
    "expansion": ("expansion", "expansion"), "replacement": ("replacement", "remplacement"),
    "thin supply": ("thin supply", "offre insuffisante"),
    "declining employment": ("declining employment", "emploi en baisse"),
    "supply above openings": ("supply above openings", "offre supérieure aux postes"),
    "national": ("national", "national"), "cumulative": ("cumulative", "cumul"),
    "all": ("all", "toutes"),
}

#: columns whose values are words of :data:`WORDS`, translated in the workbook and the page
WORD_COLUMNS = ("rating", "future_demand", "shortage_driver", "kind", "cutoff")

#: the backtest-accuracy blocks (``table`` column of the workbook's accuracy sheet)
TABLES = {
    "model_accuracy": ("Model accuracy at the backtest horizon", "Précision des modèles au backtest"),
    "gap_by_cutoff": ("Gap backtest by cutoff", "Backtest de l'écart par coupure"),
    "gap_by_horizon": ("Gap backtest by years ahead", "Backtest de l'écart par horizon"),
    "reliability": ("Reliability of P(shortage)", "Fiabilité de P(pénurie)"),
}

SHEETS = {
    "summary": ("Summary", "Synthèse"), "regions": ("By region", "Par région"),
    "occupations": ("By occupation", "Par profession"), "cells": ("Region x occupation", "Région x profession"),
    "skills": ("Skills", "Compétences"), "scenarios": ("Scenarios", "Scénarios"),
    "track_record": ("Backtest accuracy", "Fiabilité passée"), "readme": ("Read me", "Lisez-moi"),
}


def column(name: str, language: str = "en") -> str:
    """Header of a column in ``language`` (``en`` or ``fr``), with its interval suffix kept."""
    base, suffix = name, ""
    for tail, words in (("_q10", (" (low, 10 %)", " (bas, 10 %)")), ("_q90", (" (high, 90 %)", " (haut, 90 %)"))):
        if name.endswith(tail):
            base, suffix = name[: -len(tail)], words[LANGUAGES.index(language)]
    if base not in COLUMNS:
        return name
    return COLUMNS[base][LANGUAGES.index(language)] + suffix


#: the units of :data:`COLUMNS` in French
UNITS_FR = {
    "% of observed openings": "% des postes observés", "ads per year": "annonces par an", "cells": "cellules",
    "mean absolute error / in-sample seasonal-naive error":
        "erreur absolue moyenne / erreur du naïf saisonnier sur l'historique",
    "per year": "par an", "persons (annual mean)": "personnes (moyenne annuelle)",
    "persons over the horizon": "personnes sur l'horizon", "persons per year": "personnes par an",
    "positions (annual mean)": "postes (moyenne annuelle)", "probability": "probabilité", "ratio": "rapport",
    "share": "part", "share of cells": "part des cellules",
    "share of cells whose |gap ratio| > 10 %": "part des cellules dont |taux d'écart| > 10 %",
    "share of openings": "part des postes", "years": "années",
}


def units(name: str, language: str = "en") -> str:
    """Units of a column in ``language`` (``""`` when it has none)."""
    base = name.removesuffix("_q10").removesuffix("_q90")
    text = COLUMNS.get(base, ("", "", ""))[2]
    return UNITS_FR.get(text, text) if language == "fr" else text


def word(value: str, language: str = "en") -> str:
    """A rating / class / driver word in ``language``."""
    return WORDS.get(value, (value, value))[LANGUAGES.index(language)] if value else ""
