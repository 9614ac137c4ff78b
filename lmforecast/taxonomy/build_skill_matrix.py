"""Build ``data/skills.csv`` and ``data/occupation_skills.csv`` (curated; run by hand).

Usage::

    python -m lmforecast.taxonomy.build_skill_matrix

The ESCO occupation-skill relations file is not available offline (see ``data/SOURCES.md``), so
levels are an expert mapping written below: 0 = not required, 1 = foundation, 2 = intermediate,
3 = advanced / highly specialised -- the four proficiency bands of the EU DigComp 2.2 framework
(levels 1-2, 3-4, 5-6, 7-8 collapsed). Skills follow ESCO skill groups (S5 "working with
computers" for digital skills, S1 "communication, collaboration and creativity" for customer
service in languages, S4 "management skills" for project management). Each panel leaf gets a
default by major group (basic digital and office software), then occupation-specific levels.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from lmforecast.io import write_csv_atomic
from lmforecast.panel import UNCLASSIFIED

DATA_DIR = Path(__file__).resolve().parent / "data"

SKILLS = [
    # skill, name, name_fr, group
    ("basic_digital", "Basic digital skills (devices, internet, e-mail)",
     "Compétences numériques de base", "ESCO S5 working with computers"),
    ("office_software", "Office software (word processing, spreadsheets)",
     "Bureautique (traitement de texte, tableur)", "ESCO S5 working with computers"),
    ("programming", "Programming and software development", "Programmation et développement logiciel",
     "ESCO S5 working with computers"),
    ("web_development", "Web development", "Développement web", "ESCO S5 working with computers"),
    ("mobile_development", "Mobile application development", "Développement d'applications mobiles",
     "ESCO S5 working with computers"),
    ("databases_sql", "Databases and SQL", "Bases de données et SQL", "ESCO S5 working with computers"),
    ("networks", "Computer networks and telecoms", "Réseaux informatiques et télécoms",
     "ESCO S5 working with computers"),
    ("systems_administration", "Systems administration", "Administration des systèmes",
     "ESCO S5 working with computers"),
    ("cybersecurity", "Cybersecurity", "Cybersécurité", "ESCO S5 working with computers"),
    ("cloud_devops", "Cloud and DevOps", "Cloud et DevOps", "ESCO S5 working with computers"),
    ("data_analysis", "Data analysis and statistics", "Analyse de données et statistique",
     "ESCO S5 working with computers"),
    ("machine_learning", "Machine learning and AI", "Apprentissage automatique et IA",
     "ESCO S5 working with computers"),
    ("ux_ui_design", "UX/UI and digital design", "Design UX/UI et graphisme numérique",
     "ESCO S5 working with computers"),
    ("software_testing", "Software testing and quality assurance", "Test logiciel et assurance qualité",
     "ESCO S5 working with computers"),
    ("erp_business_apps", "ERP and business applications", "ERP et progiciels de gestion",
     "ESCO S5 working with computers"),
    ("it_user_support", "IT user support and troubleshooting", "Support informatique aux utilisateurs",
     "ESCO S5 working with computers"),
    ("digital_marketing", "Digital marketing and e-commerce", "Marketing digital et e-commerce",
     "ESCO S5 working with computers"),
    ("cad_technical_software", "CAD and technical software", "CAO et logiciels techniques",
     "ESCO S5 working with computers"),
    ("customer_service_fr", "Customer service in French", "Relation client en français",
     "ESCO S1 communication (languages)"),
    ("customer_service_en", "Customer service in English", "Relation client en anglais",
     "ESCO S1 communication (languages)"),
    ("customer_service_es", "Customer service in Spanish", "Relation client en espagnol",
     "ESCO S1 communication (languages)"),
    ("project_management", "Project management", "Gestion de projet", "ESCO S4 management skills"),
]

MAJOR_DEFAULTS = {  # basic_digital, office_software
    "0": (1, 1), "1": (2, 2), "2": (2, 2), "3": (2, 2), "4": (2, 2), "5": (1, 0),
    "6": (0, 0), "7": (1, 0), "8": (1, 0), "9": (0, 0),
}

SPECIFIC = {
    "11": {"project_management": 2, "data_analysis": 1},
    "12": {"project_management": 2, "data_analysis": 1, "erp_business_apps": 1, "digital_marketing": 1},
    "13": {"project_management": 3, "erp_business_apps": 1, "data_analysis": 1},
    "14": {"project_management": 1, "customer_service_fr": 1},
    "21": {"cad_technical_software": 2, "project_management": 2, "data_analysis": 1, "programming": 1},
    "2120": {"data_analysis": 3, "machine_learning": 2, "programming": 2, "databases_sql": 2,
             "office_software": 3, "cloud_devops": 1},
    "2166": {"ux_ui_design": 3, "web_development": 1, "basic_digital": 3},
    "22": {"data_analysis": 1},
    "23": {"project_management": 1},
    "24": {"office_software": 3, "erp_business_apps": 2, "data_analysis": 2, "project_management": 1,
           "digital_marketing": 1},
    "2511": {"erp_business_apps": 2, "databases_sql": 2, "project_management": 2, "programming": 1,
             "data_analysis": 1, "software_testing": 1},
    "2512": {"programming": 3, "databases_sql": 2, "cloud_devops": 2, "software_testing": 2,
             "web_development": 1, "mobile_development": 1, "cybersecurity": 1},
    "2513": {"web_development": 3, "programming": 2, "databases_sql": 2, "ux_ui_design": 1,
             "software_testing": 1, "cybersecurity": 1},
    "2514": {"programming": 3, "databases_sql": 2, "software_testing": 1},
    "2519": {"software_testing": 3, "programming": 2, "databases_sql": 1, "project_management": 1},
    "2521": {"databases_sql": 3, "systems_administration": 2, "cybersecurity": 1, "cloud_devops": 1,
             "programming": 1},
    "2522": {"systems_administration": 3, "networks": 2, "cybersecurity": 2, "cloud_devops": 2,
             "programming": 1, "it_user_support": 1},
    "2523": {"networks": 3, "cybersecurity": 2, "systems_administration": 2, "cloud_devops": 1},
    "2529": {"cybersecurity": 3, "networks": 2, "systems_administration": 2, "programming": 1},
    "26": {"office_software": 2, "data_analysis": 1},
    "31": {"cad_technical_software": 2, "data_analysis": 1},
    "32": {},
    "33": {"office_software": 3, "erp_business_apps": 2, "customer_service_fr": 1, "data_analysis": 1},
    "34": {"ux_ui_design": 1},
    "3511": {"systems_administration": 2, "networks": 2, "it_user_support": 2, "cybersecurity": 1},
    "3512": {"it_user_support": 3, "systems_administration": 1, "networks": 1,
             "customer_service_fr": 2, "customer_service_en": 1},
    "3513": {"networks": 3, "systems_administration": 2, "it_user_support": 2, "cybersecurity": 1},
    "3514": {"web_development": 2, "ux_ui_design": 1, "digital_marketing": 1},
    "3521": {"cad_technical_software": 1, "ux_ui_design": 1},
    "3522": {"networks": 2, "cad_technical_software": 1},
    "41": {"office_software": 3, "erp_business_apps": 1},
    "42": {"customer_service_fr": 2, "customer_service_en": 1},
    "4222": {"customer_service_fr": 3, "customer_service_en": 2, "customer_service_es": 1,
             "office_software": 1, "it_user_support": 1},
    "43": {"office_software": 3, "erp_business_apps": 2, "data_analysis": 1},
    "44": {"office_software": 2},
    "52": {"customer_service_fr": 2, "customer_service_en": 1, "digital_marketing": 1},
    "51": {"customer_service_fr": 1},
    "54": {},
    "72": {"cad_technical_software": 1},
    "74": {"cad_technical_software": 1, "networks": 1},
    "81": {"cad_technical_software": 1},
    "83": {},
}


def build() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``(skills, occupation_skills)`` tables (long format, levels 0-3, zeros kept)."""
    skills = pd.DataFrame(SKILLS, columns=["skill", "name", "name_fr", "group"])
    leaves = pd.read_csv(DATA_DIR / "ma_panel_occupations.csv", dtype=str, keep_default_na=False)
    rows = []
    for code, major, is_digital in zip(leaves["code"], leaves["major"], leaves["digital"]):
        if code == UNCLASSIFIED:
            continue
        digital, office = MAJOR_DEFAULTS[major]
        levels = {s: 0 for s in skills["skill"]}
        levels["basic_digital"], levels["office_software"] = digital, office
        if is_digital == "True":
            levels["basic_digital"] = 3
        specific = SPECIFIC.get(code, {})
        for skill, level in specific.items():
            levels[skill] = level
        for skill, level in levels.items():
            source = ("curated: occupation-specific" if skill in specific else
                      "curated: major-group default")
            rows.append((code, skill, level, source))
    return skills, pd.DataFrame(rows, columns=["occupation", "skill", "level", "source"])


def main() -> None:
    """Write both CSV files atomically (returns nothing)."""
    skills, occupation_skills = build()
    write_csv_atomic(skills, DATA_DIR / "skills.csv")
    write_csv_atomic(occupation_skills, DATA_DIR / "occupation_skills.csv")
    print(f"{len(skills)} skills x {occupation_skills['occupation'].nunique()} occupations -> {DATA_DIR}")


if __name__ == "__main__":
    main()
