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
}

WORDS = {
    "shortage": ("shortage", "pénurie"), "balance": ("balance", "équilibre"), "surplus": ("surplus", "excédent"),
    "strong": ("strong", "forte"), "moderate": ("moderate", "modérée"), "soft": ("soft", "faible"),
    "expansion": ("expansion", "expansion"), "replacement": ("replacement", "remplacement"),
    "thin supply": ("thin supply", "offre insuffisante"),
    "declining employment": ("declining employment", "emploi en baisse"),
    "supply above openings": ("supply above openings", "offre supérieure aux postes"),
    "national": ("national", "national"), "cumulative": ("cumulative", "cumul"),
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


def units(name: str) -> str:
    """Units of a column (English)."""
    base = name.removesuffix("_q10").removesuffix("_q90")
    return COLUMNS.get(base, ("", "", ""))[2]


def word(value: str, language: str = "en") -> str:
    """A rating / class / driver word in ``language``."""
    return WORDS.get(value, (value, value))[LANGUAGES.index(language)] if value else ""
