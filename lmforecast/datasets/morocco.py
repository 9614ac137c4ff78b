"""Seeded synthetic Moroccan labour market: the default raw data set of lmforecast.

:func:`generate_morocco` writes, into ``data/raw/morocco`` by default, the reference input of the
raw data contract (``lmforecast/ARCHITECTURE.md``, "Raw data contract"):

* ``demand.csv`` -- ``employment`` (quarterly, like HCP's labour-force survey ENE; stock) and
  ``vacancies`` (monthly; stock of PES/ANAPEC-style registered vacancies);
* ``supply.csv`` -- ``jobseekers`` (monthly; stock), ``graduates`` (annual flow, OFPPT vocational
  training + universities) and ``trainees`` (monthly flow from 2023, digital occupations only:
  JobInTech-style bootcamp cohorts + PES-certified IT/data/UX training);
* ``offers.parquet`` -- one row per online job ad (free-text region and French/English title,
  occupation code on ~40 % of rows, employer name, reposts, misspelt region labels, 'Tout le Maroc');
* ``truth/`` -- the noise-free continuation 2026-2030 of the same process (``demand_truth.csv``,
  ``supply_truth.csv``, ``gap_truth.csv``) and the true job openings, new supply and gap of the
  skill-gap report under its default rules (``report_truth.csv``, :func:`_report_truth`) for
  tests; the pipeline never reads it;
* ``generator.json`` -- parameters and the sha256 of every file written.

Rows before 2015 use the 16 regions of 1997 (``MA16-xx``), aggregated from the 12 regions with the
population weights of :func:`lmforecast.taxonomy.regions.region_crosswalk`. Every figure used to
calibrate the process is listed with its source in ``data/raw/README.md`` (data card); they are
approximate and the data are synthetic: never read them as official statistics.

The process, in short (one month = one time step, ``t`` in years):

``employment[r, o, t] = N(t) * share_o(t) * tilt_{r,o} * exp(level_{r,o} + drift_{r,o} t + ar_{r,o}(t))
* season_o(month)``, renormalised so that the 12 regions x occupations add up to ``N(t)`` (national
employment, HCP ENE anchors); ``vacancies = employment * rate_o * season * covid``;
``jobseekers`` add up to ``U(t) / (1 - U(t)) * N(t)`` (HCP unemployment rate anchors) split by
occupation and region risk, plus the pool of not-yet-placed trainees; ads are negative-binomial
counts with a day-level intensity (weekends, public holidays, Ramadan from the Hijri calendar,
COVID-19 lockdown of 2020).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import holidays
import numpy as np
import pandas as pd
from hijridate import Hijri
from tqdm.auto import tqdm

from lmforecast.errors import DataContractError
from lmforecast.io import atomic_path, sha256_file, write_csv_atomic, write_parquet_atomic, write_text_atomic

GENERATOR_VERSION = "1.1"
DEFAULT_RAW_DIR = "data/raw/morocco"
DEFAULT_SEED = 20251
FIRST_YEAR, LAST_YEAR = 2005, 2035
REFORM_DATE = pd.Timestamp("2015-01-01")  # 12 regions from this date; 16 regions (MA16-xx) before
MANIFEST = "generator.json"
DATA_FILES = ("demand.csv", "supply.csv", "offers.parquet")
TRUTH_FILES = ("truth/demand_truth.csv", "truth/supply_truth.csv", "truth/gap_truth.csv", "truth/report_truth.csv")
#: truth files added after generator version 1.1 was released: an older folder gets them on
#: first use, after a regeneration shows that its other files are byte-identical
ADDED_TRUTH_FILES = ("truth/report_truth.csv",)
CONFLICTING_FILES = ("demand.parquet", "supply.parquet", "offers.csv")

# --------------------------------------------------------------------------- calibration
# National employment, millions of persons, annual (HCP, Enquête nationale sur l'emploi, annual
# releases; approximate). 2025 and later: assumption (+1 %/yr from 2026).
EMPLOYMENT_MILLIONS = {
    2005: 9.91, 2006: 10.06, 2007: 10.17, 2008: 10.19, 2009: 10.28, 2010: 10.40, 2011: 10.51,
    2012: 10.51, 2013: 10.65, 2014: 10.65, 2015: 10.68, 2016: 10.64, 2017: 10.70, 2018: 10.81,
    2019: 10.98, 2020: 10.55, 2021: 10.77, 2022: 10.67, 2023: 10.52, 2024: 10.46, 2025: 10.55,
    **{y: round(10.55 * 1.01 ** (y - 2025), 3) for y in range(2026, LAST_YEAR + 1)},
}
# National unemployment rate, %: 2005-2020 HCP ENE (as in ../shared/data/ma-hcp-unemployment,
# data2.csv 'National, Total'), 2021-2024 HCP annual releases (approximate), 2025 assumption,
# 2026-2030 assumption: linear decline to 11 %, then flat.
UNEMPLOYMENT_PCT = {
    2005: 11.1, 2006: 9.7, 2007: 9.8, 2008: 9.6, 2009: 9.1, 2010: 9.1, 2011: 8.9, 2012: 9.0,
    2013: 9.2, 2014: 9.9, 2015: 9.7, 2016: 9.9, 2017: 10.2, 2018: 9.5, 2019: 9.2, 2020: 11.9,
    2021: 12.3, 2022: 11.8, 2023: 13.0, 2024: 13.3, 2025: 12.8,
    **{y: round(12.8 - 0.36 * (y - 2025), 2) for y in range(2026, 2031)},
    **{y: 11.0 for y in range(2031, LAST_YEAR + 1)},
}
# 2020 month by month (COVID-19 lockdown 20 March - 10 June 2020; HCP quarterly ENE: Q2 12.3 %,
# Q3 12.7 % unemployment, about -430k jobs over the year).
EMPLOYMENT_2020 = [10.98, 10.98, 10.80, 10.30, 10.30, 10.30, 10.45, 10.45, 10.45, 10.55, 10.55, 10.55]
UNEMPLOYMENT_2020 = [9.6, 9.6, 10.5, 12.3, 12.3, 12.3, 12.7, 12.7, 12.7, 12.6, 12.6, 12.6]
# Share of agriculture, forestry and fishing occupations (ISCO 6x and 92) in employment: ~33 %
# in 2019 (HCP ENE: agriculture ~1/3 of jobs), falling ~0.8 point a year.
AGRI_SHARE_2019, AGRI_SHARE_SLOPE = 0.33, -0.008
# Employment by ISCO-08 sub-major group, % of employment around 2019 (approximate split of the
# HCP ENE occupational structure into ISCO-08; agriculture = 61+62+63+92 = 33 %).
SUBMAJOR_SHARE_PCT = {
    "01": 0.1, "02": 0.3, "03": 0.4,
    "11": 0.3, "12": 0.4, "13": 0.3, "14": 0.5,
    "21": 0.5, "22": 0.8, "23": 1.4, "24": 0.5, "25": 0.4, "26": 0.4,
    "31": 1.2, "32": 0.8, "33": 1.6, "34": 0.6, "35": 0.3,
    "41": 1.5, "42": 1.6, "43": 1.0, "44": 0.4,
    "51": 4.5, "52": 8.5, "53": 0.5, "54": 1.5,
    "61": 13.0, "62": 5.0, "63": 2.0,
    "71": 8.0, "72": 3.5, "73": 1.5, "74": 1.0, "75": 5.5,
    "81": 1.5, "82": 1.0, "83": 4.0,
    "91": 2.0, "92": 13.0, "93": 5.5, "94": 0.5, "95": 2.0, "96": 1.0,
}
# Unit groups carved out of their sub-major group: fraction of the sub-major's employment.
UNIT_FRACTION = {
    "2120": 0.06, "2166": 0.12, "4222": 0.40,
    "2511": 0.10, "2512": 0.35, "2513": 0.15, "2514": 0.12, "2519": 0.05, "2521": 0.05,
    "2522": 0.08, "2523": 0.06, "2529": 0.04,
    "3511": 0.22, "3512": 0.33, "3513": 0.20, "3514": 0.10, "3521": 0.07, "3522": 0.08,
}
UNIT_FRACTION_DEFAULT = 0.10
# Relative employment growth, log-points a year (digital and offshoring rising ~8-12 %/yr).
GROWTH = {"digital": 0.10, "offshoring": 0.08, "1": 0.01, "2": 0.02, "3": 0.02, "7": -0.005,
          "9": -0.01}
# Regional tilt on top of the 2014 population (RGPH 2014) by occupation category.
REGION_TILT = {
    "digital": {"MA-06": 3.0, "MA-04": 2.5, "MA-01": 1.2, "MA-03": 0.9, "MA-07": 0.7, "MA-02": 0.5,
                "_": 0.35},
    "offshoring": {"MA-06": 2.6, "MA-04": 2.2, "MA-01": 1.5, "MA-03": 1.3, "MA-02": 0.9,
                   "MA-07": 0.8, "_": 0.4},
    "agri": {"MA-06": 0.7, "MA-04": 0.8, "MA-09": 1.4, "MA-05": 1.4, "MA-03": 1.2, "MA-07": 1.2,
             "MA-08": 1.3, "MA-11": 0.4, "MA-12": 0.6},
    "tourism": {"MA-07": 2.0, "MA-09": 1.7, "MA-01": 1.2, "MA-06": 1.1},
    "industry": {"MA-06": 1.5, "MA-01": 1.4, "MA-04": 1.1},
    "office": {"MA-06": 1.6, "MA-04": 1.6},
    "elementary": {},
    "armed": {},
}
# Registered vacancies as a fraction of employment (PES/ANAPEC-style stock, grossed up).
VACANCY_RATE = {"digital": 0.08, "offshoring": 0.04, "agri": 0.003, "armed": 0.0, "1": 0.012,
                "2": 0.02, "3": 0.02, "4": 0.015, "5": 0.012, "7": 0.010, "8": 0.010, "9": 0.008}
DIGITAL_VACANCY_EXTRA_GROWTH = 0.02
# Relative unemployment risk of a jobseeker's target occupation (graduate unemployment ~2x the
# average, rural/agricultural ~1/3 of it; HCP ENE by diploma and milieu; IT profiles in shortage:
# assumption).
UNEMPLOYMENT_RISK = {"digital": 0.5, "offshoring": 1.8, "armed": 0.3, "92": 0.45, "agri": 0.25,
                     "1": 0.5, "2": 2.0, "3": 2.3, "4": 1.8, "5": 1.0, "7": 1.1, "8": 1.0, "9": 1.3}
# Regional unemployment relative to the national rate (HCP regional ENE: Oriental and the south
# highest, Marrakech-Safi lowest; approximate).
REGION_UNEMPLOYMENT = {"MA-01": 0.85, "MA-02": 1.7, "MA-03": 1.2, "MA-04": 1.0, "MA-05": 1.0,
                       "MA-06": 1.05, "MA-07": 0.65, "MA-08": 1.0, "MA-09": 1.0, "MA-10": 1.6,
                       "MA-11": 1.5, "MA-12": 1.0}
# Graduates entering the labour market: OFPPT vocational training + universities, ~235k in 2010
# growing ~2.5 %/yr (approximate), split by ISCO major group of the trained occupation.
GRADUATES_2010, GRADUATES_GROWTH = 235_000, 0.025
GRADUATE_MAJOR_SHARE = {"0": 0.0, "1": 0.02, "2": 0.36, "3": 0.28, "4": 0.10, "5": 0.08,
                        "6": 0.01, "7": 0.11, "8": 0.03, "9": 0.01}
GRADUATE_DIGITAL_WEIGHT, GRADUATE_DIGITAL_GROWTH = 4.0, 0.08
GRADUATE_REGION_TILT = {"MA-06": 1.3, "MA-04": 1.5, "MA-03": 1.3, "MA-07": 1.1, "MA-02": 1.0,
                        "MA-01": 1.0, "MA-09": 0.9, "MA-05": 0.7, "MA-08": 0.6, "MA-10": 0.6,
                        "MA-11": 0.6, "MA-12": 0.5}
# Short digital training: JobInTech bootcamps (15,000 trainees targeted over 2023-2026) and
# PES-certified IT/data/UX courses (assumption: 1,500 completers a year from 2023, continuing).
JOBINTECH_PER_YEAR = {2023: 2500, 2024: 4000, 2025: 4500, 2026: 4000}
JOBINTECH_MONTHS = {3: 0.3, 7: 0.4, 12: 0.3}
JOBINTECH_REGIONS = {"MA-06": 0.35, "MA-04": 0.25, "MA-01": 0.10, "MA-03": 0.10, "MA-07": 0.08,
                     "MA-09": 0.07, "MA-02": 0.05}
PES_TRAINEES_PER_YEAR, PES_TRAINEE_MONTHS = 1500, {6: 0.5, 12: 0.5}
TRAINEES_START = pd.Timestamp("2023-01-01")
TRAINEE_TRACKS = {"2512": 0.25, "2513": 0.20, "2514": 0.10, "2120": 0.10, "2529": 0.08,
                  "2166": 0.07, "2523": 0.05, "2521": 0.04, "2522": 0.03, "3512": 0.04,
                  "3513": 0.02, "3514": 0.02}
TRAINEE_PLACED_SHARE, TRAINEE_POOL_EXIT = 0.4, 0.12
# The JobInTech programme as the skill-gap report declares it (conf/data/morocco.yaml mirrors it):
# 15,000 trainees targeted over 2023-2026; the pilot placed over 73 % of its 1,000 trainees.
JOBINTECH_PLACEMENT_RATE = 0.73  # placed at completion; monthly exit of the rest
# Seasonality (index by calendar month, mean 1 after normalisation).
SEASON_ADS = [1.10, 1.06, 1.05, 1.0, 1.0, 0.96, 0.82, 0.70, 1.14, 1.10, 1.05, 0.90]
SEASON_TOURISM = [0.90, 1.0, 1.15, 1.2, 1.2, 1.1, 1.0, 0.9, 0.95, 0.9, 0.85, 0.85]
SEASON_HARVEST = [0.95, 0.95, 1.0, 1.08, 1.10, 1.08, 0.95, 0.92, 0.95, 1.04, 1.02, 0.96]
SEASON_VACANCIES = [1.03, 1.04, 1.04, 1.02, 1.0, 0.98, 0.92, 0.88, 1.04, 1.04, 1.02, 0.99]
SEASON_JOBSEEKERS = [1.0, 0.99, 0.98, 0.97, 0.97, 0.98, 1.02, 1.05, 1.05, 1.02, 1.0, 0.97]
# COVID-19 multiplier on ads and vacancies (tourism: squared).
COVID = {"2020-03": 0.75, "2020-04": 0.40, "2020-05": 0.45, "2020-06": 0.65, "2020-07": 0.78,
         "2020-08": 0.82, "2020-09": 0.88, "2020-10": 0.90, "2020-11": 0.90, "2020-12": 0.90,
         **{f"2021-{m:02d}": 0.92 for m in range(1, 7)}, **{f"2021-{m:02d}": 0.96 for m in range(7, 13)}}
COVID_TOURISM_EMPLOYMENT = {"2020": 0.75, "2021": 0.85}
# Ads: online propensity per employed person, growth of online recruiting, day-level factors.
ONLINE_PROPENSITY = {"digital": 12.0, "offshoring": 5.0, "agri": 0.02, "armed": 0.0, "1": 4.0,
                     "2": 2.5, "3": 2.5, "4": 2.0, "5": 0.6, "7": 0.25, "8": 0.35, "9": 0.15}
ADS_PER_PERSON = 1.0e-4  # scale: expected ads per month per weighted employed person in 2010
ONLINE_GROWTH, ONLINE_GROWTH_LATE, ONLINE_GROWTH_BREAK = 0.08, 0.04, 2022.0
WEEKDAY_FACTOR = [1.0, 1.0, 1.0, 1.0, 1.0, 0.45, 0.2]  # Monday .. Sunday
HOLIDAY_FACTOR, RAMADAN_FACTOR = 0.3, 0.7
ADS_DISPERSION = 8.0  # negative binomial size: var = mu + mu^2 / 8
REPOST_SHARE, SECOND_REPOST_SHARE, REPOST_DAYS = 0.12, 0.25, (10, 45)
NATIONWIDE_SHARE = 0.035  # ads labelled 'Tout le Maroc'
TYPO_SHARE = 0.06
SOURCES = ("rekrute", "emploi.ma", "anapec", "marocannonces")
SOURCE_PREFIX = {"rekrute": "RK", "emploi.ma": "EM", "anapec": "AN", "marocannonces": "MA"}
SOURCE_MIX_WHITE = [0.42, 0.33, 0.12, 0.13]
SOURCE_MIX_BLUE = [0.08, 0.22, 0.45, 0.25]
CODED_SHARE = {"rekrute": 0.35, "emploi.ma": 0.30, "anapec": 0.85, "marocannonces": 0.05}
ENGLISH_SHARE = {"digital": 0.35, "offshoring": 0.25, "1": 0.10, "2": 0.10, "3": 0.10, "_": 0.02}
# Persistent series effects and AR(1) noise of the latent process.
LEVEL_SD, DRIFT_SD, AR_PHI, AR_SD = 0.20, 0.01, 0.85, 0.03
ADS_LEVEL_SD, JOBSEEKER_LEVEL_SD, GRADUATE_LEVEL_SD = 0.25, 0.15, 0.10
# Observation noise and gaps.
VACANCY_DISPERSION, JOBSEEKER_DISPERSION = 20.0, 200.0
GRADUATE_NOISE_SD = 0.03
MISSING_MONTHLY_SHARE = 0.03

# Synthetic employer names (stem + trade + legal form) so that reposts can be told apart from
# distinct ads with the same generic title, as the contract's optional `company` column allows.
COMPANY_STEMS = ("Atlas", "Maghreb", "Sahara", "Argan", "Andalous", "Zellige", "Medina", "Oasis", "Rif",
                 "Sebou", "Bouregreg", "Anfa", "Majorelle", "Menara", "Volubilis", "Toubkal", "Ifrane",
                 "Chellah", "Souss", "Kasbah", "Nakhil", "Amane", "Najah", "Noor", "Yasmine", "Al Baraka",
                 "Ibn Battouta", "Jawhara", "Assafa", "Tingis")
COMPANY_TRADES = {
    "digital": ("Digital", "Tech", "Software", "IT Services", "Data", "Cloud", "Consulting"),
    "offshoring": ("Contact", "Outsourcing", "Relation Client", "BPO", "Services"),
    "agri": ("Agro", "Primeurs", "Export", "Fermes"),
    "tourism": ("Hôtels", "Resorts", "Restauration", "Voyages"),
    "industry": ("Industrie", "BTP", "Construction", "Textile", "Automotive", "Logistique"),
    "office": ("Conseil", "Finance", "Assurances", "Distribution", "Santé", "Éducation"),
    "elementary": ("Services", "Nettoyage", "Distribution", "Sécurité"),
    "armed": ("Administration",),
}
COMPANY_FORMS = ("SARL", "SA", "", "Maroc", "Group")

CITIES = {
    "MA-01": ["Tanger", "Tétouan", "Larache"], "MA-02": ["Oujda", "Nador", "Berkane"],
    "MA-03": ["Fès", "Meknès", "Taza"], "MA-04": ["Rabat", "Salé", "Kénitra", "Témara"],
    "MA-05": ["Béni Mellal", "Khouribga", "Khénifra"],
    "MA-06": ["Casablanca", "Mohammedia", "El Jadida", "Settat", "Berrechid"],
    "MA-07": ["Marrakech", "Safi", "Essaouira"], "MA-08": ["Errachidia", "Ouarzazate"],
    "MA-09": ["Agadir", "Taroudant", "Tiznit"], "MA-10": ["Guelmim", "Tan-Tan"],
    "MA-11": ["Laâyoune"], "MA-12": ["Dakhla"],
}

# --------------------------------------------------------------------------- job titles
# (French titles, English titles) per panel occupation; decorations are added at random.
JOB_TITLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "01": (("Officier de l'armée", "Officier des Forces Armées Royales", "Officier ingénieur militaire",
            "Médecin militaire", "Officier de marine"), ("Army officer", "Military officer")),
    "02": (("Sous-officier", "Adjudant", "Sergent-chef", "Sous-officier technicien", "Sous-officier de la gendarmerie"),
           ("Non-commissioned officer", "Sergeant")),
    "03": (("Militaire du rang", "Soldat", "Caporal", "Engagé volontaire", "Matelot"), ("Soldier", "Private")),
    "11": (("Directeur général", "Directeur Général Adjoint", "Président directeur général",
            "Directeur de filiale", "Secrétaire général", "Country Manager"),
           ("Chief Executive Officer", "General Manager", "Managing Director")),
    "12": (("Directeur administratif et financier", "Directeur financier", "Directeur des ressources humaines",
            "Responsable RH", "Directeur commercial", "Directeur marketing", "Responsable administratif et financier",
            "Directeur des achats"),
           ("Chief Financial Officer", "HR Director", "Sales Director", "Marketing Manager", "Finance Manager")),
    "13": (("Directeur d'usine", "Directeur de production", "Responsable logistique", "Directeur des opérations",
            "Chef de projet BTP", "Directeur supply chain", "Directeur technique", "Directeur informatique",
            "Responsable maintenance"),
           ("Plant Manager", "Operations Manager", "Supply Chain Manager", "IT Director", "Logistics Manager")),
    "14": (("Directeur d'hôtel", "Gérant de restaurant", "Responsable de magasin", "Chef d'agence",
            "Directeur de restauration", "Manager de point de vente", "Gérant de café"),
           ("Hotel Manager", "Store Manager", "Restaurant Manager", "Front Office Manager")),
    "21": (("Ingénieur génie civil", "Ingénieur mécanique", "Ingénieur électrique", "Ingénieur process",
            "Ingénieur qualité", "Ingénieur méthodes", "Architecte", "Ingénieur en automatisme",
            "Ingénieur agronome", "Ingénieur industriel"),
           ("Civil Engineer", "Mechanical Engineer", "Process Engineer", "Quality Engineer", "Architect")),
    "2120": (("Data Scientist", "Statisticien", "Actuaire", "Ingénieur statisticien", "Data Analyst",
              "Analyste de données", "Chargé d'études statistiques", "Biostatisticien",
              "Ingénieur Machine Learning"),
             ("Data Scientist", "Data Analyst", "Machine Learning Engineer", "Statistician", "Actuary",
              "AI Engineer", "Quantitative Analyst")),
    "2166": (("Designer UX/UI", "Graphiste", "Infographiste", "Web designer", "Designer graphique",
              "Motion designer", "Directeur artistique", "Concepteur UX"),
             ("UX/UI Designer", "Product Designer", "Graphic Designer", "UX Designer", "Motion Designer")),
    "22": (("Médecin généraliste", "Médecin spécialiste", "Infirmier polyvalent", "Pharmacien",
            "Chirurgien dentiste", "Sage-femme", "Kinésithérapeute", "Infirmière diplômée d'État",
            "Médecin du travail"),
           ("General Practitioner", "Registered Nurse", "Pharmacist", "Physiotherapist")),
    "23": (("Professeur de mathématiques", "Enseignant de français", "Professeur d'anglais",
            "Formateur en informatique", "Enseignant du primaire", "Professeur universitaire",
            "Formateur OFPPT", "Éducatrice préscolaire"),
           ("English Teacher", "Lecturer", "Trainer", "Math Teacher")),
    "24": (("Comptable", "Contrôleur de gestion", "Auditeur financier", "Chargé de recrutement",
            "Responsable marketing digital", "Chef de produit", "Analyste financier", "Juriste d'affaires",
            "Consultant en organisation", "Chargé de communication", "Auditeur interne"),
           ("Financial Analyst", "Auditor", "Management Controller", "Recruiter", "Marketing Specialist",
            "Business Consultant", "Product Manager")),
    "2511": (("Analyste fonctionnel", "Business Analyst", "Consultant fonctionnel SAP", "Consultant ERP",
              "Analyste SI", "Chef de projet AMOA", "Consultant technico-fonctionnel", "Architecte SI",
              "Product Owner"),
             ("Business Analyst", "Systems Analyst", "SAP Functional Consultant", "Solution Architect",
              "Product Owner", "IT Business Analyst")),
    "2512": (("Ingénieur logiciel", "Développeur Java", "Développeur .NET", "Ingénieur développement Java/J2EE",
              "Développeur C#", "Développeur Python", "Concepteur développeur", "Ingénieur études et développement",
              "Développeur Full Stack", "Architecte logiciel", "Développeur Back-end", "Ingénieur DevOps"),
             ("Software Engineer", "Java Developer", "Full Stack Developer", "Backend Developer",
              "Software Developer", ".NET Developer", "DevOps Engineer", "Python Developer")),
    "2513": (("Développeur web", "Développeur PHP", "Développeur Front-end", "Développeur React",
              "Développeur Angular", "Intégrateur web", "Développeur Symfony", "Développeur WordPress",
              "Développeur mobile", "Développeur Flutter", "Développeur Magento"),
             ("Web Developer", "Front-end Developer", "React Developer", "Mobile Developer",
              "PHP Developer", "Angular Developer", "iOS Developer", "Android Developer")),
    "2514": (("Programmeur", "Analyste programmeur", "Développeur d'applications", "Développeur VBA",
              "Développeur Cobol", "Développeur PL/SQL", "Développeur RPG AS400", "Développeur Odoo"),
             ("Application Developer", "Programmer Analyst", "Cobol Developer", "Applications Programmer")),
    "2519": (("Ingénieur test et validation", "Testeur logiciel", "Ingénieur QA", "Consultant TMA",
              "Ingénieur recette", "Automaticien de test"),
             ("QA Engineer", "Software Tester", "Test Automation Engineer", "QA Analyst")),
    "2521": (("Administrateur de bases de données", "DBA Oracle", "Ingénieur Big Data", "Data Engineer",
              "Consultant BI", "Développeur ETL", "Architecte données"),
             ("Database Administrator", "Data Engineer", "Big Data Engineer", "BI Developer", "Oracle DBA")),
    "2522": (("Administrateur systèmes", "Administrateur Linux", "Ingénieur systèmes", "Administrateur Windows",
              "Ingénieur Cloud", "Administrateur systèmes et réseaux"),
             ("System Administrator", "Cloud Engineer", "Linux Administrator", "Site Reliability Engineer")),
    "2523": (("Ingénieur réseaux", "Ingénieur réseau et sécurité", "Architecte réseaux", "Ingénieur télécoms",
              "Spécialiste Network", "Ingénieur VoIP"),
             ("Network Engineer", "Network Architect", "Telecom Engineer", "Network Specialist")),
    "2529": (("Ingénieur cybersécurité", "Analyste SOC", "Consultant sécurité informatique", "Pentesteur",
              "Auditeur sécurité des SI", "RSSI"),
             ("Cybersecurity Analyst", "SOC Analyst", "Security Engineer", "Penetration Tester",
              "Information Security Officer")),
    "26": (("Avocat", "Juriste", "Journaliste", "Traducteur", "Psychologue", "Assistante sociale",
            "Rédacteur web", "Chargé de communication institutionnelle", "Bibliothécaire"),
           ("Lawyer", "Legal Counsel", "Journalist", "Translator", "Content Writer")),
    "31": (("Technicien de maintenance", "Technicien qualité", "Dessinateur projeteur", "Technicien de laboratoire",
            "Technicien en génie civil", "Technicien électromécanique", "Contremaître", "Technicien méthodes",
            "Technicien supérieur en électricité"),
           ("Maintenance Technician", "Quality Technician", "Draftsman", "Lab Technician")),
    "32": (("Technicien de laboratoire médical", "Infirmier auxiliaire", "Technicien en radiologie",
            "Préparateur en pharmacie", "Opticien", "Technicien biomédical"),
           ("Medical Lab Technician", "Pharmacy Technician", "Radiology Technician")),
    "33": (("Commercial terrain", "Assistant comptable", "Chargé de clientèle bancaire", "Délégué médical",
            "Assistant de direction", "Acheteur", "Agent immobilier", "Gestionnaire de paie",
            "Conseiller commercial", "Chargé de recouvrement", "Technico-commercial"),
           ("Sales Representative", "Account Manager", "Accounting Assistant", "Medical Representative",
            "Buyer", "Payroll Officer")),
    "34": (("Animateur", "Chef cuisinier", "Photographe", "Coach sportif", "Technicien juridique",
            "Animateur socio-culturel", "Chef de partie"),
           ("Chef", "Sports Coach", "Photographer", "Event Coordinator")),
    "3511": (("Technicien d'exploitation informatique", "Pilote d'exploitation", "Opérateur NOC",
              "Technicien supervision", "Technicien datacenter", "Opérateur de sauvegarde",
              "Technicien de production informatique"),
             ("IT Operations Technician", "NOC Operator", "Data Center Technician", "IT Operator")),
    "3512": (("Technicien support informatique", "Technicien helpdesk", "Technicien support N1",
              "Technicien support N2", "Technicien de proximité", "Technicien informatique"),
             ("IT Support Technician", "Helpdesk Technician", "Service Desk Analyst", "IT Support Specialist")),
    "3513": (("Technicien réseaux", "Technicien systèmes et réseaux", "Technicien câblage réseau",
              "Technicien réseau informatique", "Technicien infrastructure", "Technicien LAN/WAN",
              "Technicien Wi-Fi"),
             ("Network Technician", "Systems Technician", "Infrastructure Technician", "Network Support Technician")),
    "3514": (("Webmaster", "Technicien web", "Community manager", "Gestionnaire de site web",
              "Chargé de référencement SEO", "Intégrateur de contenus web", "Webmestre e-commerce"),
             ("Webmaster", "Web Technician", "SEO Specialist", "Community Manager")),
    "3521": (("Technicien audiovisuel", "Monteur vidéo", "Technicien son", "Cadreur", "Opérateur de prise de vue",
              "Régisseur technique", "Technicien éclairage"),
             ("Video Editor", "Audiovisual Technician", "Sound Technician", "Camera Operator")),
    "3522": (("Technicien télécoms", "Technicien fibre optique", "Technicien radio", "Technicien télécommunications",
              "Technicien FTTH", "Technicien transmission", "Technicien d'intervention télécom"),
             ("Telecom Technician", "Fiber Optic Technician", "RF Technician", "Field Telecom Technician")),
    "41": (("Secrétaire", "Agent de saisie", "Assistante administrative", "Employé de bureau",
            "Secrétaire bilingue", "Opérateur de saisie", "Assistant back-office"),
           ("Secretary", "Data Entry Clerk", "Administrative Assistant", "Back Office Assistant")),
    "42": (("Réceptionniste", "Hôtesse d'accueil", "Guichetier", "Agent d'accueil", "Caissier de banque",
            "Agent de voyage", "Réceptionniste d'hôtel"),
           ("Receptionist", "Front Desk Agent", "Bank Teller", "Travel Agent")),
    "4222": (("Conseiller client", "Téléconseiller", "Téléconseiller francophone",
              "Chargé de clientèle centre d'appels",
              "Téléopérateur", "Conseiller commercial à distance", "Agent de centre d'appels",
              "Téléconseiller bilingue", "Superviseur plateau"),
             ("Call Center Agent", "Customer Service Representative", "Customer Care Advisor",
              "Contact Center Agent", "Customer Support Agent")),
    "43": (("Aide-comptable", "Magasinier", "Gestionnaire de stock", "Agent de facturation",
            "Agent logistique", "Gestionnaire de paie junior", "Agent de transit", "Approvisionneur"),
           ("Stock Controller", "Billing Clerk", "Accounts Payable Clerk", "Warehouse Clerk")),
    "44": (("Agent administratif", "Archiviste", "Employé de courrier", "Agent de classement", "Codificateur",
            "Agent de numérisation", "Vaguemestre"),
           ("Filing Clerk", "Mail Clerk")),
    "51": (("Serveur", "Cuisinier", "Barman", "Coiffeur", "Esthéticienne", "Commis de cuisine",
            "Guide touristique", "Gouvernante d'hôtel", "Steward", "Pizzaiolo", "Pâtissier"),
           ("Waiter", "Cook", "Bartender", "Hairdresser", "Tour Guide")),
    "52": (("Vendeur", "Vendeuse en boutique", "Caissier", "Conseiller de vente", "Chef de rayon",
            "Commercial sédentaire", "Vendeur en magasin", "Caissière hypermarché", "Télévendeur"),
           ("Sales Associate", "Cashier", "Shop Assistant", "Retail Sales Advisor")),
    "53": (("Aide-soignant", "Auxiliaire de vie", "Garde malade", "Nounou", "Assistante maternelle",
            "Aide-soignante à domicile"),
           ("Caregiver", "Nanny", "Nursing Assistant")),
    "54": (("Agent de sécurité", "Agent de gardiennage", "Vigile", "Agent de sûreté aéroportuaire",
            "Pompier", "Chef de poste sécurité"),
           ("Security Guard", "Security Officer")),
    "61": (("Chef de culture", "Ouvrier agricole qualifié", "Agriculteur", "Arboriculteur", "Éleveur",
            "Responsable de ferme", "Technicien agricole de terrain", "Serriste"),
           ("Farm Supervisor", "Farmer")),
    "62": (("Pêcheur", "Marin pêcheur", "Patron de pêche", "Aquaculteur", "Bûcheron", "Ostréiculteur",
            "Garde forestier"),
           ("Fisherman", "Deckhand")),
    "63": (("Agriculteur vivrier", "Petit exploitant agricole", "Éleveur de subsistance", "Berger",
            "Pêcheur artisanal"),
           ("Subsistence farmer", "Shepherd")),
    "71": (("Maçon", "Plombier", "Carreleur", "Peintre en bâtiment", "Chef de chantier", "Menuisier aluminium",
            "Coffreur", "Ferrailleur", "Plâtrier", "Étancheur"),
           ("Mason", "Plumber", "Site Foreman", "Painter")),
    "72": (("Soudeur", "Mécanicien automobile", "Tourneur fraiseur", "Chaudronnier", "Mécanicien poids lourds",
            "Ajusteur", "Mécanicien industriel", "Tôlier"),
           ("Welder", "Car Mechanic", "CNC Machinist", "Industrial Mechanic")),
    "73": (("Artisan zellige", "Potier", "Imprimeur", "Bijoutier", "Tapissier", "Opérateur offset"),
           ("Printer", "Jeweller")),
    "74": (("Électricien", "Électricien bâtiment", "Électricien industriel", "Électrotechnicien",
            "Frigoriste", "Installateur de panneaux solaires", "Électricien câbleur"),
           ("Electrician", "Industrial Electrician", "Solar Installer")),
    "75": (("Couturière", "Boulanger", "Menuisier bois", "Boucher", "Tailleur", "Piqueuse", "Ébéniste",
            "Modéliste", "Opérateur de confection"),
           ("Baker", "Tailor", "Seamstress", "Carpenter")),
    "81": (("Conducteur de machine", "Opérateur de production", "Conducteur de ligne", "Opérateur machine",
            "Régleur", "Opérateur en plasturgie"),
           ("Machine Operator", "Production Operator", "Line Operator")),
    "82": (("Opérateur câblage", "Monteur", "Opérateur d'assemblage", "Opératrice câblage automobile",
            "Monteur câbleur"),
           ("Assembly Operator", "Wiring Harness Operator", "Assembler")),
    "83": (("Chauffeur", "Chauffeur poids lourd", "Chauffeur livreur", "Cariste", "Conducteur d'engins",
            "Chauffeur de direction", "Livreur", "Conducteur de bus"),
           ("Driver", "Truck Driver", "Delivery Driver", "Forklift Operator")),
    "91": (("Agent de nettoyage", "Femme de ménage", "Agent d'entretien", "Femme de chambre",
            "Plongeur", "Aide ménagère"),
           ("Cleaner", "Housekeeper", "Room Attendant")),
    "92": (("Ouvrier agricole", "Saisonnier agricole", "Cueilleur", "Manœuvre agricole", "Ouvrière de conditionnement"),
           ("Farm Worker", "Seasonal Farm Worker")),
    "93": (("Manœuvre", "Manutentionnaire", "Aide maçon", "Ouvrier de chantier", "Préparateur de commandes",
            "Docker", "Ouvrier de production"),
           ("Laborer", "Warehouse Worker", "Order Picker", "Handler")),
    "94": (("Aide cuisinier", "Commis de cuisine polyvalent", "Préparateur de repas", "Aide boulanger",
            "Préparateur snack", "Éplucheur"),
           ("Kitchen Helper", "Food Preparation Assistant")),
    "95": (("Vendeur ambulant", "Démarcheur", "Distributeur de prospectus", "Laveur de voitures",
            "Cireur", "Porte-à-porte commercial"),
           ("Street Vendor", "Flyer Distributor")),
    "96": (("Agent de propreté urbaine", "Éboueur", "Coursier", "Gardien de parking", "Agent polyvalent"),
           ("Refuse Collector", "Courier", "Parking Attendant")),
}

# --------------------------------------------------------------------------- reference lists


@dataclass(frozen=True)
class _Reference:
    regions: pd.DataFrame  # code, name_fr, population
    occupations: pd.DataFrame  # code, major, digital, offshoring, category
    crosswalk: pd.DataFrame  # old_code, new_code, weight_new_to_old
    aliases: pd.DataFrame  # label, code


def _category(code: str, major: str, digital: bool, offshoring: bool) -> str:
    """Occupation category driving regional tilt, growth and ad propensity."""
    if major == "0":
        return "armed"
    if digital:
        return "digital"
    if offshoring:
        return "offshoring"
    if major == "6" or code == "92":
        return "agri"
    if code in ("14", "51", "94"):
        return "tourism"
    if major in ("7", "8") or code == "93":
        return "industry"
    if major in ("1", "2", "3", "4"):
        return "office"
    return "elementary"


def _as_bool(values: pd.Series) -> np.ndarray:
    if values.dtype == bool:
        return values.to_numpy()
    return values.astype(str).str.strip().str.lower().isin(["true", "1", "yes"]).to_numpy()


def _load_reference() -> _Reference:
    from lmforecast.taxonomy import occupations as occ_mod
    from lmforecast.taxonomy import regions as reg_mod

    regions = reg_mod.load_regions()[["code", "name_fr", "population"]].copy()
    regions["code"] = regions["code"].astype(str)
    occupations = occ_mod.load_occupations()
    occupations = occupations[occupations["code"].astype(str) != "unclassified"].copy()
    occupations["code"] = occupations["code"].astype(str)
    occupations["major"] = occupations["major"].astype(str)
    occupations["digital"] = _as_bool(occupations["digital"])
    occupations["offshoring"] = _as_bool(occupations["offshoring"])
    occupations["category"] = [
        _category(c, m, d, o) for c, m, d, o in zip(
            occupations["code"], occupations["major"], occupations["digital"], occupations["offshoring"],
            strict=True)]
    missing = sorted(set(occupations["code"]) - set(JOB_TITLES))
    if missing:
        raise ValueError(f"the synthetic generator has no job titles for occupations {missing}; "
                         "add them to lmforecast.datasets.morocco.JOB_TITLES")
    crosswalk = reg_mod.region_crosswalk()[["old_code", "new_code", "weight_new_to_old"]].copy()
    aliases = reg_mod.load_region_aliases()
    return _Reference(regions.reset_index(drop=True), occupations.reset_index(drop=True),
                      crosswalk, aliases)


def _lookup(table: dict, occupation: pd.Series) -> np.ndarray:
    """Per-occupation value: by code, then category, then major group, then '_' default."""
    out = []
    for code, category, major in zip(occupation["code"], occupation["category"], occupation["major"],
                                     strict=True):
        for key in (code, category, major, "_"):
            if key in table:
                out.append(table[key])
                break
        else:
            out.append(1.0)
    return np.asarray(out, dtype=float)


# --------------------------------------------------------------------------- calendar


def _knots(series: dict, year_2020: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """Interpolation knots: mid-year values, and 2020 month by month."""
    x, y = [], []
    for year in sorted(series):
        if year == 2020:
            x.extend(2020 + np.arange(12) / 12)
            y.extend(year_2020)
        else:
            x.append(year + 5.5 / 12)
            y.append(series[year])
    return np.asarray(x), np.asarray(y)


def _ramadan_days(first: date, last: date) -> set[date]:
    """Every Gregorian day of Ramadan between ``first`` and ``last`` (Umm al-Qura, hijridate)."""
    from hijridate import Gregorian

    days = set()
    h_first = Gregorian(first.year, 1, 1).to_hijri().year - 1
    h_last = Gregorian(last.year, 12, 31).to_hijri().year + 1
    for h_year in range(h_first, h_last + 1):
        start = Hijri(h_year, 9, 1).to_gregorian()
        end = Hijri(h_year, 10, 1).to_gregorian()
        day = date(start.year, start.month, start.day)
        stop = date(end.year, end.month, end.day)
        while day < stop:
            if first <= day <= last:
                days.add(day)
            day += timedelta(days=1)
    return days


@dataclass(frozen=True)
class _Calendar:
    months: pd.DatetimeIndex  # every month start from start to truth_end
    n_obs: int  # months[:n_obs] are observed (<= end)
    tau: np.ndarray  # decimal years
    month_of_year: np.ndarray  # 0..11
    days: pd.DatetimeIndex  # every day of the observed months
    day_month: np.ndarray  # index into months of each day
    day_weight: np.ndarray  # ad intensity of each day (weekday x holiday x Ramadan)
    ramadan_share: np.ndarray  # share of each month's days in Ramadan (all months)


def _calendar(start: pd.Timestamp, end: pd.Timestamp, truth_end: pd.Timestamp) -> _Calendar:
    months = pd.date_range(start, truth_end, freq="MS")
    n_obs = int((months <= end).sum())
    tau = months.year.to_numpy() + (months.month.to_numpy() - 1) / 12.0
    all_days = pd.date_range(start, truth_end + pd.offsets.MonthEnd(0), freq="D")
    ramadan = _ramadan_days(all_days[0].date(), all_days[-1].date())
    is_ramadan = np.array([d in ramadan for d in all_days.date])
    month_pos = (all_days.year.to_numpy() - start.year) * 12 + all_days.month.to_numpy() - start.month
    ramadan_share = np.bincount(month_pos, weights=is_ramadan, minlength=len(months)) / np.bincount(
        month_pos, minlength=len(months))
    observed = month_pos < n_obs
    days = all_days[observed]
    public = holidays.country_holidays("MA", years=range(start.year, end.year + 1))
    weight = np.asarray(WEEKDAY_FACTOR)[days.day_of_week.to_numpy()]
    weight = weight * np.where([d in public for d in days.date], HOLIDAY_FACTOR, 1.0)
    weight = weight * np.where(is_ramadan[observed], RAMADAN_FACTOR, 1.0)
    return _Calendar(months, n_obs, tau, months.month.to_numpy() - 1, days, month_pos[observed],
                     weight, ramadan_share)


def _season(factors: list[float]) -> np.ndarray:
    arr = np.asarray(factors, dtype=float)
    return arr / arr.mean()


def _covid(months: pd.DatetimeIndex) -> np.ndarray:
    return np.array([COVID.get(m.strftime("%Y-%m"), 1.0) for m in months])


# --------------------------------------------------------------------------- latent process


@dataclass
class _Latent:
    employment: np.ndarray  # month x region x occupation, persons
    vacancies: np.ndarray
    jobseekers: np.ndarray
    trainees_expected: np.ndarray
    trainees: np.ndarray  # observed counts (observed months), expected after
    ads_rate: np.ndarray  # expected ads per month (observed months only)
    graduates: np.ndarray  # year x region x occupation (expected)
    years: np.ndarray


def _ar1(rng: np.random.Generator, n_time: int, n_obs: int, shape: tuple, phi: float, sd: float) -> np.ndarray:
    """AR(1) deviations with innovations only in observed months (decaying afterwards)."""
    shocks = rng.normal(0.0, sd, size=(n_time, *shape))
    shocks[n_obs:] = 0.0
    out = np.empty_like(shocks)
    out[0] = shocks[0] / np.sqrt(1 - phi ** 2)
    for t in range(1, n_time):
        out[t] = phi * out[t - 1] + shocks[t]
    return out


def _latent(ref: _Reference, cal: _Calendar, rngs: dict) -> _Latent:
    occ = ref.occupations
    codes = occ["code"].to_numpy()
    category = occ["category"].to_numpy()
    majors = occ["major"].to_numpy()
    region_codes = ref.regions["code"].to_numpy()
    n_t, n_r, n_o = len(cal.months), len(region_codes), len(codes)
    tau = cal.tau
    moy = cal.month_of_year
    rng = rngs["effects"]

    # national employment and unemployment rate, monthly
    knots_x, knots_y = _knots(EMPLOYMENT_MILLIONS, EMPLOYMENT_2020)
    national = np.interp(tau, knots_x, knots_y) * 1e6
    knots_x, knots_y = _knots(UNEMPLOYMENT_PCT, UNEMPLOYMENT_2020)
    unemployment = np.interp(tau, knots_x, knots_y) / 100.0

    # occupation shares: 2019 structure, relative growth, agricultural share path
    carved = {}
    for code in codes:
        if len(code) > 2:
            carved[code[:2]] = carved.get(code[:2], 0.0) + UNIT_FRACTION.get(code, UNIT_FRACTION_DEFAULT)
    base = np.array([SUBMAJOR_SHARE_PCT[c[:2]] * (UNIT_FRACTION.get(c, UNIT_FRACTION_DEFAULT) if len(c) > 2
                                                   else max(1.0 - carved.get(c, 0.0), 0.05))
                     for c in codes])
    # agriculture follows its own share path; others: category growth, else major-group growth
    growth = np.array([0.0 if cat == "agri" else GROWTH.get(cat, GROWTH.get(maj, 0.0))
                       for cat, maj in zip(category, majors, strict=True)])
    is_agri = category == "agri"
    weights = base[None, :] * np.exp(growth[None, :] * (tau[:, None] - 2019.5))
    agri_share = np.clip(AGRI_SHARE_2019 + AGRI_SHARE_SLOPE * (tau - 2019.5), 0.1, 0.6)
    shares = np.where(is_agri[None, :],
                      weights / weights[:, is_agri].sum(1, keepdims=True) * agri_share[:, None],
                      weights / weights[:, ~is_agri].sum(1, keepdims=True) * (1 - agri_share[:, None]))

    population = ref.regions["population"].to_numpy(dtype=float)
    tilt = np.ones((n_r, n_o))
    for j, cat in enumerate(category):
        table = REGION_TILT.get(cat, {})
        tilt[:, j] = [table.get(r, table.get("_", 1.0)) for r in region_codes]
    region_share = population[:, None] * tilt
    region_share = region_share / region_share.sum(0, keepdims=True)

    level = rng.normal(0.0, LEVEL_SD, size=(n_r, n_o))
    drift = rng.normal(0.0, DRIFT_SD, size=(n_r, n_o))
    ar = _ar1(rng, n_t, cal.n_obs, (n_r, n_o), AR_PHI, AR_SD)
    tourism = category == "tourism"
    covid_tourism = np.array([COVID_TOURISM_EMPLOYMENT.get(str(m.year), 1.0) for m in cal.months])
    emp_shift = np.where(tourism[None, :], covid_tourism[:, None], 1.0)
    raw = (shares[:, None, :] * region_share[None] * emp_shift[:, None, :]
           * np.exp(level[None] + drift[None] * (tau[:, None, None] - 2019.5) + ar))
    employment = national[:, None, None] * raw / raw.sum((1, 2), keepdims=True)
    harvest = _season(SEASON_HARVEST)[moy]
    employment = employment * np.where(is_agri[None, None, :], harvest[:, None, None], 1.0)

    # vacancies (registered stock)
    covid = _covid(cal.months)
    covid_o = np.where(tourism[None, :], covid[:, None] ** 2, covid[:, None])
    rate = _lookup(VACANCY_RATE, occ)
    digital = category == "digital"
    rate_t = rate[None, :] * np.exp(np.where(digital, DIGITAL_VACANCY_EXTRA_GROWTH, 0.0)[None, :]
                                    * (tau[:, None] - 2019.5))
    vac_season = _season(SEASON_VACANCIES)[moy][:, None] * np.where(
        tourism[None, :], _season(SEASON_TOURISM)[moy][:, None], 1.0)
    ramadan = 1.0 - 0.05 * cal.ramadan_share
    vacancies = employment * (rate_t * vac_season * covid_o * ramadan[:, None])[:, None, :]

    # trainees (digital short training) -> expected and observed counts
    trainees_expected = np.zeros((n_t, n_r, n_o))
    track = np.array([TRAINEE_TRACKS.get(c, 0.0) for c in codes])
    if track.sum() > 0:
        track = track / track.sum()
        jit_region = np.array([JOBINTECH_REGIONS.get(r, 0.0) for r in region_codes])
        for t, month in enumerate(cal.months):
            if month < TRAINEES_START:
                continue
            jit = JOBINTECH_PER_YEAR.get(month.year, 0) * JOBINTECH_MONTHS.get(month.month, 0.0)
            pes = PES_TRAINEES_PER_YEAR * PES_TRAINEE_MONTHS.get(month.month, 0.0)
            digital_emp = employment[t][:, digital].sum(1)
            pes_region = digital_emp / digital_emp.sum()
            trainees_expected[t] = (jit * jit_region + pes * pes_region)[:, None] * track[None, :]
    trainees = trainees_expected.copy()
    trainees[:cal.n_obs] = rngs["trainees"].poisson(trainees_expected[:cal.n_obs])
    pool = np.zeros((n_r, n_o))
    trainee_pool = np.zeros((n_t, n_r, n_o))
    for t in range(n_t):
        pool = pool * (1 - TRAINEE_POOL_EXIT) + (1 - TRAINEE_PLACED_SHARE) * trainees[t]
        trainee_pool[t] = pool

    # jobseekers: national stock from the unemployment rate, split by occupation/region risk
    risk = _lookup(UNEMPLOYMENT_RISK, occ)
    region_risk = np.array([REGION_UNEMPLOYMENT.get(r, 1.0) for r in region_codes])
    js_level = rng.normal(0.0, JOBSEEKER_LEVEL_SD, size=(n_r, n_o))
    js_ar = _ar1(rng, n_t, cal.n_obs, (n_r, n_o), AR_PHI, AR_SD)
    js_weight = employment * risk[None, None, :] * region_risk[None, :, None] * np.exp(js_level[None] + js_ar)
    js_total = unemployment / (1 - unemployment) * national
    jobseekers = js_total[:, None, None] * js_weight / js_weight.sum((1, 2), keepdims=True)
    jobseekers = jobseekers * _season(SEASON_JOBSEEKERS)[moy][:, None, None] + trainee_pool

    # graduates, annual
    years = np.unique(cal.months.year)
    grad_major = np.array([GRADUATE_MAJOR_SHARE.get(m, 0.0) for m in majors])
    grad_level = rng.normal(0.0, GRADUATE_LEVEL_SD, size=(n_r, n_o))
    grad_region = population * np.array([GRADUATE_REGION_TILT.get(r, 1.0) for r in region_codes])
    graduates = np.zeros((len(years), n_r, n_o))
    for k, year in enumerate(years):
        within = base * np.where(digital, GRADUATE_DIGITAL_WEIGHT * np.exp(GRADUATE_DIGITAL_GROWTH * (year - 2019)),
                                 1.0)
        occ_share = np.zeros(n_o)
        for major in np.unique(majors):
            sel = majors == major
            occ_share[sel] = grad_major[sel] * within[sel] / within[sel].sum()
        cell = grad_region[:, None] * occ_share[None, :] * np.exp(grad_level)
        total = GRADUATES_2010 * np.exp(GRADUATES_GROWTH * (year - 2010))
        graduates[k] = total * cell / cell.sum()

    # expected ads per month (observed months only)
    online = _lookup(ONLINE_PROPENSITY, occ)
    n_obs = cal.n_obs
    obs_tau = tau[:n_obs]
    online_growth = np.exp(ONLINE_GROWTH * (np.minimum(obs_tau, ONLINE_GROWTH_BREAK) - 2010)
                           + ONLINE_GROWTH_LATE * np.maximum(obs_tau - ONLINE_GROWTH_BREAK, 0.0))
    day_intensity = np.bincount(cal.day_month, weights=cal.day_weight, minlength=n_obs) / 21.0
    ads_season = _season(SEASON_ADS)[moy[:n_obs]][:, None] * np.where(
        tourism[None, :], _season(SEASON_TOURISM)[moy[:n_obs]][:, None],
        np.where(is_agri[None, :], _season(SEASON_HARVEST)[moy[:n_obs]][:, None] ** 2, 1.0))
    ads_level = rng.normal(0.0, ADS_LEVEL_SD, size=(n_r, n_o))
    ads_rate = (ADS_PER_PERSON * employment[:n_obs] * online[None, None, :] * np.exp(ads_level)[None]
                * (online_growth * day_intensity)[:, None, None]
                * (ads_season * covid_o[:n_obs])[:, None, :])
    return _Latent(employment, vacancies, jobseekers, trainees_expected, trainees, ads_rate, graduates, years)


# --------------------------------------------------------------------------- long tables


def _period_labels(months: pd.DatetimeIndex, freq: str) -> np.ndarray:
    if freq == "MS":
        return np.asarray(months.strftime("%Y-%m"))
    if freq == "QS":
        return np.asarray([f"{m.year}-Q{(m.month - 1) // 3 + 1}" for m in months])
    return np.asarray(months.strftime("%Y"))


def _old_region_matrix(ref: _Reference) -> tuple[list[str], np.ndarray]:
    """(old codes, matrix old x new) with ``weight_new_to_old``: old = W @ new."""
    new_codes = list(ref.regions["code"])
    old_codes = sorted(ref.crosswalk["old_code"].unique())
    matrix = np.zeros((len(old_codes), len(new_codes)))
    for row in ref.crosswalk.itertuples(index=False):
        matrix[old_codes.index(row.old_code), new_codes.index(row.new_code)] = row.weight_new_to_old
    return old_codes, matrix


def _long(values: np.ndarray, starts: pd.DatetimeIndex, freq: str, ref: _Reference, measure: str,
          source: str, old: tuple[list[str], np.ndarray] | None) -> pd.DataFrame:
    """Long table of a (period x region x occupation) array; pre-2015 periods on old regions."""
    new_codes = list(ref.regions["code"])
    occ_codes = list(ref.occupations["code"])
    frames = []
    before = np.asarray(starts < REFORM_DATE) if old is not None else np.zeros(len(starts), dtype=bool)
    for mask, use_old in ((before, True), (~before, False)):
        if not mask.any():
            continue
        block = values[mask]
        regions = new_codes
        if use_old:
            regions = old[0]
            block = np.einsum("ij,tjo->tio", old[1], block)
        n_p, n_r, n_o = block.shape
        frames.append(pd.DataFrame({
            "period": np.repeat(_period_labels(starts[mask], freq), n_r * n_o),
            "region": np.tile(np.repeat(np.asarray(regions), n_o), n_p),
            "occupation": np.tile(np.asarray(occ_codes), n_p * n_r),
            "measure": measure,
            "value": block.reshape(-1),
            "source": source,
        }))
    if not frames:
        return pd.DataFrame({"period": pd.Series([], dtype=object), "region": pd.Series([], dtype=object),
                             "occupation": pd.Series([], dtype=object), "measure": pd.Series([], dtype=object),
                             "value": pd.Series([], dtype=float), "source": pd.Series([], dtype=object)})
    return pd.concat(frames, ignore_index=True)


def _quarterly(values: np.ndarray, months: pd.DatetimeIndex) -> tuple[np.ndarray, pd.DatetimeIndex]:
    """Quarter means of a monthly array, full quarters only."""
    quarter = months.to_period("Q")
    keep = []
    starts = []
    for q in quarter.unique():
        idx = np.flatnonzero(quarter == q)
        if len(idx) == 3:
            keep.append(values[idx].mean(0))
            starts.append(q.start_time)
    if not keep:
        return np.zeros((0, *values.shape[1:])), pd.DatetimeIndex([])
    return np.stack(keep), pd.DatetimeIndex(starts)


def _annual_mean(values: np.ndarray, months: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    years = months.year.to_numpy()
    uniq = np.unique(years)
    return np.stack([values[years == y].mean(0) for y in uniq]), uniq


def _drop_missing(frame: pd.DataFrame, rng: np.random.Generator,
                  blocks: list[tuple[list[str], list[str]]]) -> tuple[pd.DataFrame, int]:
    """Drop ~3 % of rows at random plus whole blocks (``blocks``: list of (periods, regions))."""
    drop = rng.random(len(frame)) < MISSING_MONTHLY_SHARE
    for periods, regions in blocks:
        drop |= frame["period"].isin(periods).to_numpy() & frame["region"].isin(regions).to_numpy()
    return frame.loc[~drop].reset_index(drop=True), int(drop.sum())


def _block_months(rng: np.random.Generator, labels: np.ndarray, length: int) -> list[str]:
    if len(labels) < length + 2:
        return []
    first = int(rng.integers(1, len(labels) - length))
    return list(labels[first:first + length])


def _demand_supply(ref: _Reference, cal: _Calendar, lat: _Latent, rngs: dict) -> dict:
    n_obs = cal.n_obs
    obs_months = cal.months[:n_obs]
    old = _old_region_matrix(ref)
    region_codes = list(ref.regions["code"])
    old_codes = old[0]
    rng = rngs["noise"]

    # employment: quarterly survey means with sampling noise (larger cv for small cells)
    emp_q, q_starts = _quarterly(lat.employment[:n_obs], obs_months)
    employment = _long(emp_q, q_starts, "QS", ref, "employment", "synthetic HCP-ENE", old)
    mean = employment["value"].to_numpy()
    cv = np.minimum(0.5, 0.02 + 3.0 / np.sqrt(mean + 1.0))
    employment["value"] = np.round(mean * np.exp(rng.normal(-cv ** 2 / 2, cv))).astype(np.int64)

    # vacancies and jobseekers: monthly, negative binomial noise
    vacancies = _long(lat.vacancies[:n_obs], obs_months, "MS", ref, "vacancies", "synthetic ANAPEC", old)
    vacancies["value"] = _neg_binomial(rng, vacancies["value"].to_numpy(), VACANCY_DISPERSION)
    jobseekers = _long(lat.jobseekers[:n_obs], obs_months, "MS", ref, "jobseekers", "synthetic HCP-ENE/ANAPEC", old)
    jobseekers["value"] = _neg_binomial(rng, jobseekers["value"].to_numpy(), JOBSEEKER_DISPERSION)

    # missing: random rows + blocks (a PES office not reporting; a survey month not run)
    miss = rngs["missing"]
    labels = _period_labels(obs_months, "MS")
    region_pool = np.asarray(region_codes + old_codes)
    vac_blocks = []
    for _ in range(2):
        months_block = _block_months(miss, labels, 3)
        if months_block:
            is_old = pd.Timestamp(months_block[0]) < REFORM_DATE
            pool = old_codes if is_old else region_codes
            vac_blocks.append((months_block, [pool[int(miss.integers(len(pool)))]]))
    lockdown = [m for m in ("2020-04", "2020-05") if m in set(labels)]
    js_blocks = [(lockdown, list(region_pool))] if lockdown else []
    survey_gap = _block_months(miss, labels, 2)
    if survey_gap:
        js_blocks.append((survey_gap, list(region_pool)))
    vacancies, vac_dropped = _drop_missing(vacancies, miss, vac_blocks)
    jobseekers, js_dropped = _drop_missing(jobseekers, miss, js_blocks)

    # graduates: annual flows, full observed years only
    obs_years = [y for y in lat.years if (obs_months.year == y).sum() == 12]
    k = np.isin(lat.years, obs_years)
    graduates = _long(lat.graduates[k], pd.DatetimeIndex([pd.Timestamp(f"{y}-01-01") for y in lat.years[k]]),
                      "YS", ref, "graduates", "synthetic OFPPT+universities", old)
    noise = np.exp(rng.normal(-GRADUATE_NOISE_SD ** 2 / 2, GRADUATE_NOISE_SD, len(graduates)))
    graduates["value"] = np.round(graduates["value"].to_numpy() * noise).astype(np.int64)

    # trainees: digital occupations only, from 2023
    digital = ref.occupations["category"].to_numpy() == "digital"
    t_mask = obs_months >= TRAINEES_START
    trainees = _long(lat.trainees[:n_obs][t_mask], obs_months[t_mask], "MS", ref, "trainees",
                     "synthetic JobInTech+ANAPEC", old) if t_mask.any() else None
    if trainees is not None:
        trainees = trainees[trainees["occupation"].isin(ref.occupations["code"][digital])]
        trainees["value"] = trainees["value"].round().astype(np.int64)

    demand = pd.concat([employment, vacancies], ignore_index=True)
    supply = pd.concat([f for f in (jobseekers, graduates, trainees) if f is not None], ignore_index=True)
    return {"demand": demand, "supply": supply,
            "missing": {"vacancies_rows_dropped": vac_dropped, "jobseekers_rows_dropped": js_dropped,
                        "vacancies_blocks": [list(b[0]) + list(b[1]) for b in vac_blocks],
                        "jobseekers_blocks": [list(b[0]) for b in js_blocks]}}


def _neg_binomial(rng: np.random.Generator, mean: np.ndarray, size: float) -> np.ndarray:
    """Negative binomial counts with the given mean and size (var = mean + mean^2 / size)."""
    mean = np.maximum(mean, 0.0)
    return rng.negative_binomial(size, size / (size + mean)).astype(np.int64)


def _truth(ref: _Reference, cal: _Calendar, lat: _Latent) -> dict:
    fut = slice(cal.n_obs, None)
    months = cal.months[fut]
    if len(months) == 0:
        raise ValueError("truth_end must be after end")
    emp_q, q_starts = _quarterly(lat.employment[fut], months)
    demand = pd.concat([
        _long(emp_q, q_starts, "QS", ref, "employment", "synthetic truth", None),
        _long(lat.vacancies[fut], months, "MS", ref, "vacancies", "synthetic truth", None),
    ], ignore_index=True)
    digital = ref.occupations["category"].to_numpy() == "digital"
    years_full = [y for y in np.unique(months.year) if (months.year == y).sum() == 12]
    k = np.isin(lat.years, years_full)
    trainees = _long(lat.trainees_expected[fut], months, "MS", ref, "trainees", "synthetic truth", None)
    supply = pd.concat([
        _long(lat.jobseekers[fut], months, "MS", ref, "jobseekers", "synthetic truth", None),
        _long(lat.graduates[k], pd.DatetimeIndex([pd.Timestamp(f"{y}-01-01") for y in lat.years[k]]), "YS",
              ref, "graduates", "synthetic truth", None),
        trainees[trainees["occupation"].isin(ref.occupations["code"][digital])],
    ], ignore_index=True)
    for frame in (demand, supply):
        frame["value"] = frame["value"].round(2)
    vac_y, years = _annual_mean(lat.vacancies[fut], months)
    js_y, _ = _annual_mean(lat.jobseekers[fut], months)
    n_y, n_r, n_o = vac_y.shape
    gap = pd.DataFrame({
        "year": np.repeat(years, n_r * n_o),
        "region": np.tile(np.repeat(ref.regions["code"].to_numpy(), n_o), n_y),
        "occupation": np.tile(ref.occupations["code"].to_numpy(), n_y * n_r),
        "vacancies": vac_y.reshape(-1).round(2),
        "jobseekers": js_y.reshape(-1).round(2),
    })
    gap["gap"] = (gap["vacancies"] - gap["jobseekers"]).round(2)
    return {"demand": demand, "supply": supply, "gap": gap}


def jobintech_programme():
    """JobInTech as the skill-gap report declares it (:class:`lmforecast.report.supply.Programme`)."""
    from lmforecast.report.supply import Programme

    return Programme("jobintech", dict(JOBINTECH_PER_YEAR), JOBINTECH_PLACEMENT_RATE, label="JobInTech",
                     label_fr="JobInTech")


def _report_truth(ref: _Reference, cal: _Calendar, lat: _Latent) -> pd.DataFrame:
    """True openings, new supply and gap of the future years, under the report's default rules.

    The same stock-flow rules as :func:`lmforecast.report.core.compute_paths` with the package's
    default separation rates and :class:`~lmforecast.report.supply.SupplyAssumptions`, applied to
    the noise-free process: employment and jobseekers (annual means of the monthly truth),
    graduates, and the trainees split into JobInTech (placed at its declared rate) and the
    recurring PES courses (default trainee placement rate). The base year is the last observed one.
    """
    import xarray as xr

    from lmforecast.report.openings import job_openings
    from lmforecast.report.rates import separation_rates
    from lmforecast.report.supply import SupplyAssumptions

    months = cal.months
    last_obs = months[cal.n_obs - 1].year
    years = [y for y in np.unique(months.year) if y > last_obs and (months.year == y).sum() == 12]
    if not years:
        return pd.DataFrame()
    regions, occupations = list(ref.regions["code"]), list(ref.occupations["code"])
    every = [last_obs, *years]
    coords = {"year": every, "region": regions, "occupation": occupations}

    def annual_mean(values):
        return np.stack([values[months.year == y].mean(0) for y in every])

    dims = ("year", "region", "occupation")
    employment = xr.DataArray(annual_mean(lat.employment), dims=dims, coords=coords)
    rate = xr.DataArray(separation_rates(occupations).to_numpy(), dims="occupation",
                        coords={"occupation": occupations})
    demand = job_openings(employment, rate, "horizon")
    default = SupplyAssumptions()
    future = slice(1, None)
    graduates = np.stack([lat.graduates[list(lat.years).index(y)] for y in years])
    jobseekers = annual_mean(lat.jobseekers)[future]
    track = np.array([TRAINEE_TRACKS.get(c, 0.0) for c in occupations])
    track = track / track.sum()
    jit_region = np.array([JOBINTECH_REGIONS.get(r, 0.0) for r in regions])
    trainees = np.stack([lat.trainees_expected[months.year == y].sum(0) for y in years])
    jit = np.stack([JOBINTECH_PER_YEAR.get(int(y), 0) * jit_region[:, None] * track[None, :] for y in years])
    placed = (trainees - jit) * default.trainee_placement_rate + jit * JOBINTECH_PLACEMENT_RATE
    supply = graduates * default.graduate_placement_rate + jobseekers * default.jobseeker_share + placed
    openings = demand["job_openings"].values
    frame = pd.DataFrame({
        "year": np.repeat(years, len(regions) * len(occupations)),
        "region": np.tile(np.repeat(regions, len(occupations)), len(years)),
        "occupation": np.tile(occupations, len(years) * len(regions)),
        "employment": demand["employment"].values.ravel(),
        "expansion_demand": demand["expansion_demand"].values.ravel(),
        "replacement_demand": demand["replacement_demand"].values.ravel(),
        "job_openings": openings.ravel(),
        "graduate_supply": (graduates * default.graduate_placement_rate).ravel(),
        "jobseeker_supply": (jobseekers * default.jobseeker_share).ravel(),
        "trainee_supply": placed.ravel(),
        "new_supply": supply.ravel(),
    })
    frame["gap"] = frame["job_openings"] - frame["new_supply"]
    frame["gap_ratio"] = frame["gap"] / frame["job_openings"].where(frame["job_openings"] >= 1)
    numbers = [c for c in frame.columns if c not in ("year", "region", "occupation")]
    frame[numbers] = frame[numbers].round(4)
    return frame


# --------------------------------------------------------------------------- offers


def _typo(label: str, rng: np.random.Generator) -> str:
    """A plausible misspelling: accents dropped, case changed, or one letter edited (long words)."""
    import unicodedata

    kind = int(rng.integers(0, 5))
    if kind == 0:
        return "".join(ch for ch in unicodedata.normalize("NFKD", label) if not unicodedata.combining(ch))
    if kind == 1:
        return label.lower() if rng.random() < 0.5 else label.upper()
    if kind == 2:
        return label.replace("-", " ") + (" " if rng.random() < 0.5 else "")
    letters = [i for i, ch in enumerate(label) if ch.isalpha()]
    if len(letters) < 7:
        return label.lower()
    i = letters[int(rng.integers(1, len(letters) - 1))]
    if kind == 3:  # drop a letter
        return label[:i] + label[i + 1:]
    return label[:i] + label[i] + label[i:]  # double a letter


def _offers(ref: _Reference, cal: _Calendar, lat: _Latent, rng: np.random.Generator, scale: float,
            end: pd.Timestamp) -> tuple[pd.DataFrame, dict]:
    n_obs = cal.n_obs
    occ = ref.occupations
    region_codes = ref.regions["code"].to_numpy()
    n_r, n_o = len(region_codes), len(occ)
    counts = _neg_binomial(rng, lat.ads_rate * scale, ADS_DISPERSION)  # month x region x occupation
    cells = np.flatnonzero(counts.reshape(-1))
    per_cell = counts.reshape(-1)[cells]
    cell_of_ad = np.repeat(cells, per_cell)
    month_idx, rest = np.divmod(cell_of_ad, n_r * n_o)
    region_idx, occ_idx = np.divmod(rest, n_o)
    n_ads = len(cell_of_ad)

    # day within the month, proportional to the day's intensity (weekends, holidays, Ramadan)
    first_day = np.searchsorted(cal.day_month, np.arange(n_obs), side="left")
    last_day = np.searchsorted(cal.day_month, np.arange(n_obs), side="right")
    cum = np.cumsum(cal.day_weight)
    base = np.concatenate([[0.0], cum])[first_day]
    span = cum[last_day - 1] - base
    u = base[month_idx] + rng.random(n_ads) * span[month_idx]
    day_idx = np.clip(np.searchsorted(cum, u, side="right"), first_day[month_idx], last_day[month_idx] - 1)
    posted = cal.days[day_idx]

    # source and whether the board coded the occupation
    category = occ["category"].to_numpy()
    major = occ["major"].to_numpy()
    white = np.isin(category, ["digital", "offshoring", "office"]) | np.isin(major, ["1", "2", "3", "4"])
    source_idx = np.where(white[occ_idx],
                          rng.choice(len(SOURCES), n_ads, p=SOURCE_MIX_WHITE),
                          rng.choice(len(SOURCES), n_ads, p=SOURCE_MIX_BLUE))
    sources = np.asarray(SOURCES, dtype=object)[source_idx]
    coded_p = np.array([CODED_SHARE[s] for s in SOURCES])[source_idx]
    coded = rng.random(n_ads) < coded_p

    # region label: city forms, region name, curated alias; typos; 'Tout le Maroc'
    cities = np.empty(n_ads, dtype=object)
    labels = np.empty(n_ads, dtype=object)
    city_label = np.zeros(n_ads, dtype=bool)  # the label names the city (styles 0-2)
    alias_by_code = {c: ref.aliases.loc[ref.aliases["code"] == c, "label"].to_numpy(dtype=object)
                     for c in region_codes}
    names = dict(zip(ref.regions["code"], ref.regions["name_fr"], strict=True))
    for r, code in enumerate(region_codes):
        sel = np.flatnonzero(region_idx == r)
        if not len(sel):
            continue
        options = np.asarray(CITIES.get(code, [names[code]]), dtype=object)
        p_city = np.r_[0.6, np.full(len(options) - 1, 0.4 / max(len(options) - 1, 1))] if len(options) > 1 else [1.0]
        city = options[rng.choice(len(options), len(sel), p=p_city)]
        style = rng.choice(5, len(sel), p=[0.30, 0.30, 0.10, 0.15, 0.15])
        aliases = alias_by_code[code] if len(alias_by_code[code]) else np.asarray([names[code]], dtype=object)
        alias = aliases[rng.integers(0, len(aliases), len(sel))]
        label = np.select([style == 0, style == 1, style == 2, style == 3],
                          [city + " et région - Maroc", city, city + ", Maroc",
                           np.full(len(sel), names[code], dtype=object)], alias)
        cities[sel] = city
        labels[sel] = label
        city_label[sel] = style <= 2
    typo = np.flatnonzero(rng.random(n_ads) < TYPO_SHARE)
    typo_rngs = rng.integers(0, 2 ** 32, len(typo))
    labels[typo] = [_typo(labels[i], np.random.default_rng(int(s))) for i, s in zip(typo, typo_rngs, strict=True)]
    labels, n_repaired = _repair_labels(labels, region_codes[region_idx], ref)
    nationwide = rng.random(n_ads) < NATIONWIDE_SHARE
    labels[nationwide] = "Tout le Maroc"

    # job titles with decorations
    titles = np.empty(n_ads, dtype=object)
    english_p = _lookup(ENGLISH_SHARE, occ)
    for j, code in enumerate(occ["code"]):
        sel = np.flatnonzero(occ_idx == j)
        if not len(sel):
            continue
        french, english = (np.asarray(x, dtype=object) for x in JOB_TITLES[code])
        is_en = rng.random(len(sel)) < english_p[j]
        titles[sel] = np.where(is_en, english[rng.integers(0, len(english), len(sel))],
                               french[rng.integers(0, len(french), len(sel))])
        seniority = rng.random(len(sel))
        senior_fr = np.where(seniority < 0.10, " Senior", np.where(seniority < 0.16, " Junior",
                                                                   np.where(seniority < 0.20, " confirmé", "")))
        senior_en = np.where(seniority < 0.10, "Senior ", np.where(seniority < 0.16, "Junior ", ""))
        if white[j]:
            titles[sel] = np.where(is_en, senior_en.astype(object) + titles[sel],
                                   titles[sel] + senior_fr.astype(object))
        hf = (~is_en) & (rng.random(len(sel)) < 0.30)
        titles[sel] = np.where(hf, titles[sel] + " (H/F)", titles[sel])
    with_city = (rng.random(n_ads) < 0.45) & city_label & ~nationwide
    titles[with_city] = titles[with_city] + " - " + cities[with_city]
    upper = (sources == "anapec") & (rng.random(n_ads) < 0.5)
    titles[upper] = np.array([t.upper() for t in titles[upper]], dtype=object)

    # employer: a few large recruiters per trade and many small ones (weights 1 / (rank + 5))
    companies = np.empty(n_ads, dtype=object)
    for cat in np.unique(category):
        sel = np.flatnonzero(category[occ_idx] == cat)
        if not len(sel):
            continue
        pool = np.asarray([f"{stem} {trade} {form}".strip() for stem in COMPANY_STEMS
                           for trade in COMPANY_TRADES.get(cat, ("Services",)) for form in COMPANY_FORMS],
                          dtype=object)
        pool = pool[rng.permutation(len(pool))]
        weight = 1.0 / (np.arange(len(pool)) + 5.0)
        companies[sel] = pool[rng.choice(len(pool), len(sel), p=weight / weight.sum())]

    occupation = np.where(coded, occ["code"].to_numpy(dtype=object)[occ_idx], None)
    ads = pd.DataFrame({"posted_on": posted.to_numpy(), "region": labels, "title": titles,
                        "occupation": occupation, "source": sources, "company": companies, "repost": False})

    # reposts: same ad again 10-45 days later under a new offer_id (kept only up to `end`)
    first = np.flatnonzero(rng.random(n_ads) < REPOST_SHARE)
    second = first[rng.random(len(first)) < SECOND_REPOST_SHARE]
    lag1 = rng.integers(REPOST_DAYS[0], REPOST_DAYS[1] + 1, len(first))
    lag2 = lag1[np.isin(first, second)] + rng.integers(REPOST_DAYS[0], REPOST_DAYS[1] + 1, len(second))
    reposts = []
    for idx, lag in ((first, lag1), (second, lag2)):
        rep = ads.iloc[idx].copy()
        rep["posted_on"] = rep["posted_on"].to_numpy() + lag.astype("timedelta64[D]")
        rep["repost"] = True
        reposts.append(rep)
    last_day = end + pd.offsets.MonthEnd(0)
    ads = pd.concat([ads, *reposts], ignore_index=True)
    ads = ads[ads["posted_on"] <= last_day]
    order = np.lexsort((rng.random(len(ads)), ads["posted_on"].to_numpy()))
    ads = ads.iloc[order].reset_index(drop=True)
    prefix = ads["source"].map(SOURCE_PREFIX)
    ads.insert(0, "offer_id", prefix + "-" + pd.Series(np.arange(1, len(ads) + 1)).map("{:07d}".format))
    ads["posted_on"] = pd.DatetimeIndex(ads["posted_on"]).strftime("%Y-%m-%d")
    stats = {"ads": int(len(ads)), "reposts": int(ads["repost"].sum()),
             "coded_share": round(float(ads["occupation"].notna().mean()), 4),
             "nationwide_share": round(float((ads["region"] == "Tout le Maroc").mean()), 4),
             "typo_labels_repaired": n_repaired}
    out = pd.DataFrame({
        "offer_id": ads["offer_id"].astype("string"),
        "posted_on": ads["posted_on"].astype("string"),
        "region": ads["region"].astype("string"),
        "title": ads["title"].astype("string"),
        "occupation": ads["occupation"].astype("string"),
        "source": ads["source"].astype("string"),
        "company": ads["company"].astype("string"),
    })
    return out, stats


def _repair_labels(labels: np.ndarray, true_codes: np.ndarray, ref: _Reference) -> tuple[np.ndarray, int]:
    """Undo the (rare) typos the region normaliser maps to no or to the wrong region.

    The reference data must pass the raw data contract (every label normalisable), so a typo is
    kept only when :class:`~lmforecast.taxonomy.regions.RegionNormalizer` still finds the region.
    """
    from lmforecast.taxonomy.regions import RegionNormalizer

    normalizer = RegionNormalizer()
    frame = pd.DataFrame({"label": labels, "code": true_codes})
    pairs = frame.drop_duplicates().reset_index(drop=True)
    found = normalizer.normalize_many(pd.Series(pairs["label"].to_numpy(), dtype=object))
    bad = pairs[np.asarray(found.astype(object).to_numpy() != pairs["code"].to_numpy())]
    if bad.empty:
        return labels, 0
    names = dict(zip(ref.regions["code"], ref.regions["name_fr"], strict=True))
    key = pd.MultiIndex.from_frame(frame)
    wrong = key.isin(pd.MultiIndex.from_frame(bad))
    labels = labels.copy()
    labels[wrong] = [names[c] for c in true_codes[wrong]]
    return labels, int(wrong.sum())


# --------------------------------------------------------------------------- public API


def _params(seed, start, end, truth_end, n_offers_scale) -> dict:
    return {"seed": int(seed), "start": str(start), "end": str(end), "truth_end": str(truth_end),
            "n_offers_scale": float(n_offers_scale), "generator_version": GENERATOR_VERSION}


def _month(value: str, name: str) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(str(value))
    except ValueError:
        raise ValueError(f"{name} must be a month 'YYYY-MM', got {value!r}") from None
    if stamp != stamp.to_period("M").start_time:
        raise ValueError(f"{name} must be a month 'YYYY-MM', got {value!r}")
    if not FIRST_YEAR <= stamp.year <= LAST_YEAR:
        raise ValueError(f"{name} must lie in {FIRST_YEAR}-{LAST_YEAR} (calibrated range), got {value!r}")
    return stamp


def _read_manifest(raw_dir: Path) -> dict | None:
    path = raw_dir / MANIFEST
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataContractError(str(path), None, exc.lineno, exc.msg, "a JSON manifest written by generate_morocco",
                                "restore it or regenerate with overwrite=True") from exc


def verify_morocco(raw_dir: str | os.PathLike = DEFAULT_RAW_DIR) -> dict:
    """Check the files of a generated data set against its ``generator.json`` manifest.

    Parameters
    ----------
    raw_dir : folder written by :func:`generate_morocco`.

    Returns
    -------
    dict: the manifest (``params``, ``files`` = {relative path: sha256}, ``summary``).

    Raises
    ------
    FileNotFoundError when there is no manifest; DataContractError naming the first file that
    is missing or whose sha256 differs from the manifest (the data were modified).
    """
    raw_dir = Path(raw_dir)
    manifest = _read_manifest(raw_dir)
    if manifest is None:
        raise FileNotFoundError(f"no {MANIFEST} in {raw_dir}; generate the data with generate_morocco()")
    for rel, digest in manifest["files"].items():
        path = raw_dir / rel
        if not path.exists():
            raise DataContractError(str(path), None, None, None, f"a file with sha256 {digest}",
                                    f"missing from a generated data set; regenerate with overwrite=True")
        actual = sha256_file(path)
        if actual != digest:
            raise DataContractError(str(path), None, None, f"sha256 {actual}",
                                    f"sha256 {digest} recorded in {MANIFEST}",
                                    "the file was modified after generation; restore it or regenerate "
                                    "with overwrite=True")
    return manifest


def generate_morocco(
    raw_dir: str | os.PathLike = DEFAULT_RAW_DIR,
    seed: int = DEFAULT_SEED,
    start: str = "2010-01",
    end: str = "2025-12",
    truth_end: str = "2030-12",
    n_offers_scale: float = 1.0,
    overwrite: bool = False,
) -> dict:
    """Write the synthetic Moroccan labour-market data set (see module docstring).

    Parameters
    ----------
    raw_dir : destination folder (created if needed).
    seed : seed of the NumPy generator; same seed and parameters -> byte-identical files.
    start, end : first and last observed month ``"YYYY-MM"`` (2005-2035).
    truth_end : last month of the noise-free continuation written to ``truth/`` (after ``end``).
    n_offers_scale : multiplier on the number of job ads (1.0 -> about 400k-500k ads for
        2010-2025; use e.g. 0.05 for fast tests).
    overwrite : replace existing files. Without it, an existing data set generated with the same
        parameters is verified (sha256) and left alone, anything else raises.

    Returns
    -------
    dict with ``raw_dir`` (Path), ``generated`` (False when existing files were kept), ``files``
    ({relative path: Path}), ``sha256``, ``params``, ``summary`` (row counts, ads statistics,
    dropped rows) and ``seconds`` (wall time).

    Raises
    ------
    FileExistsError when ``raw_dir`` holds data from other parameters (or files without a
    manifest) and ``overwrite`` is False; DataContractError when a generated file was modified;
    ValueError for bad parameters.
    """
    t0 = time.perf_counter()
    raw_dir = Path(raw_dir)
    start_ts, end_ts, truth_ts = _month(start, "start"), _month(end, "end"), _month(truth_end, "truth_end")
    if not start_ts <= end_ts < truth_ts:
        raise ValueError(f"need start <= end < truth_end, got {start!r}, {end!r}, {truth_end!r}")
    if not n_offers_scale >= 0:
        raise ValueError(f"n_offers_scale must be >= 0, got {n_offers_scale!r}")
    params = _params(seed, start, end, truth_end, n_offers_scale)
    files = {rel: raw_dir / rel for rel in (*DATA_FILES, *TRUTH_FILES)}

    if not overwrite:
        manifest = _read_manifest(raw_dir)
        if manifest is not None:
            if manifest.get("params") != params:
                raise FileExistsError(
                    f"{raw_dir} holds data generated with {manifest.get('params')}, not {params}; "
                    "pass overwrite=True to replace them or choose another raw_dir")
            manifest = verify_morocco(raw_dir)
            if any(rel not in manifest["files"] for rel in ADDED_TRUTH_FILES):
                manifest = _add_truth_files(raw_dir, manifest, params)
            return {"raw_dir": raw_dir, "generated": False, "files": files, "sha256": manifest["files"],
                    "params": params, "summary": manifest.get("summary", {}),
                    "seconds": round(time.perf_counter() - t0, 3)}
        present = [rel for rel in (*DATA_FILES, *TRUTH_FILES, *CONFLICTING_FILES) if (raw_dir / rel).exists()]
        if present:
            raise FileExistsError(f"{raw_dir} already holds {present} but no {MANIFEST}; refusing to "
                                  "modify raw data: pass overwrite=True or choose another raw_dir")

    steps = tqdm(total=5, desc="synthetic Morocco", disable=None)
    seeds = np.random.SeedSequence(int(seed)).spawn(5)
    rngs = dict(zip(["effects", "noise", "missing", "trainees", "offers"],
                    [np.random.default_rng(s) for s in seeds], strict=True))
    ref = _load_reference()
    cal = _calendar(start_ts, end_ts, truth_ts)
    lat = _latent(ref, cal, rngs)
    steps.update()
    tables = _demand_supply(ref, cal, lat, rngs)
    steps.update()
    truth = _truth(ref, cal, lat)
    steps.update()
    offers, offer_stats = _offers(ref, cal, lat, rngs["offers"], float(n_offers_scale), end_ts)
    steps.update()

    write_csv_atomic(tables["demand"], files["demand.csv"])
    write_csv_atomic(tables["supply"], files["supply.csv"])
    write_parquet_atomic(offers, files["offers.parquet"])
    write_csv_atomic(truth["demand"], files["truth/demand_truth.csv"])
    write_csv_atomic(truth["supply"], files["truth/supply_truth.csv"])
    write_csv_atomic(truth["gap"], files["truth/gap_truth.csv"])
    write_csv_atomic(_report_truth(ref, cal, lat), files["truth/report_truth.csv"])
    digests = {rel: sha256_file(path) for rel, path in files.items()}
    summary = {
        "rows": {"demand.csv": len(tables["demand"]), "supply.csv": len(tables["supply"]),
                 "offers.parquet": len(offers), "truth/demand_truth.csv": len(truth["demand"]),
                 "truth/supply_truth.csv": len(truth["supply"]), "truth/gap_truth.csv": len(truth["gap"]),
                 "truth/report_truth.csv": int(sum(1 for _ in open(files["truth/report_truth.csv"])) - 1)},
        "offers": offer_stats,
        "missing": tables["missing"],
    }
    manifest = {"generator": "lmforecast.datasets.morocco.generate_morocco", "params": params,
                "files": digests, "summary": summary,
                "note": "truth/ holds the noise-free continuation for tests; the pipeline never reads it"}
    write_text_atomic(raw_dir / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    steps.update()
    steps.close()
    return {"raw_dir": raw_dir, "generated": True, "files": files, "sha256": digests, "params": params,
            "summary": summary, "seconds": round(time.perf_counter() - t0, 3)}


def _add_truth_files(raw_dir: Path, manifest: dict, params: dict) -> dict:
    """Give a folder generated before :data:`ADDED_TRUTH_FILES` existed those files.

    Regenerates the data set in a temporary folder with the same parameters, checks that every
    file of the old manifest is byte-identical there (same sha256), then copies the missing truth
    files in and rewrites the manifest. Raises DataContractError if any file differs.
    """
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate_morocco(tmp, seed=params["seed"], start=params["start"], end=params["end"],
                                 truth_end=params["truth_end"], n_offers_scale=params["n_offers_scale"])
        for rel, digest in manifest["files"].items():
            if fresh["sha256"].get(rel) != digest:
                raise DataContractError(str(raw_dir / rel), None, None, f"sha256 {digest}",
                                        f"sha256 {fresh['sha256'].get(rel)} of a regeneration with the same parameters",
                                        "cannot add the new truth files; regenerate with overwrite=True")
        for rel in ADDED_TRUTH_FILES:
            if rel not in manifest["files"]:
                with atomic_path(raw_dir / rel) as out:
                    shutil.copyfile(Path(tmp) / rel, out)
        new = json.loads((Path(tmp) / MANIFEST).read_text(encoding="utf-8"))
    write_text_atomic(raw_dir / MANIFEST, json.dumps(new, indent=2, sort_keys=True) + "\n")
    return new


def ensure_default_data(raw_dir: str | os.PathLike = DEFAULT_RAW_DIR, seed: int = DEFAULT_SEED,
                        **generate_kw) -> Path:
    """Generate the default data set if ``raw_dir`` has none; otherwise verify it.

    Parameters
    ----------
    raw_dir : data set folder (default ``data/raw/morocco``, relative to the working directory).
    seed : seed used when generating.
    **generate_kw : other parameters of :func:`generate_morocco` (``start``, ``end``,
        ``truth_end``, ``n_offers_scale``; default: its defaults). Never ``overwrite``.

    Returns
    -------
    Path of ``raw_dir``, holding files that match their ``generator.json`` manifest.

    Raises
    ------
    FileExistsError if the folder holds data generated with other parameters or files without a
    manifest; DataContractError if a generated file was modified since generation.
    """
    if "overwrite" in generate_kw:
        raise TypeError("ensure_default_data never overwrites; call generate_morocco(..., overwrite=True)")
    return generate_morocco(raw_dir, seed=seed, **generate_kw)["raw_dir"]
