"""Build ``data/isco08_groups.csv`` and ``data/ma_panel_occupations.csv`` (run by hand).

Usage (from the repository root, with the shared data next to it)::

    python -m lmforecast.taxonomy.build_isco08_groups ../shared/data/taxo-esco-isco08

Reads ``ISCOGroups.csv`` (ESCO v1.1.1 export of the ISCO-08 structure, English titles), adds the
French titles of CITP-08 written below (major, sub-major and the unit groups the panel uses;
transcribed from knowledge of the ILO French edition, not copied from a file -- see
``data/SOURCES.md``), and derives the panel's leaf occupations. The package at run time only
reads the two CSV files this script writes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from lmforecast.io import write_csv_atomic
from lmforecast.panel import UNCLASSIFIED

DATA_DIR = Path(__file__).resolve().parent / "data"

FRENCH_TITLES = {
    "0": "Professions militaires",
    "01": "Officiers des forces armées",
    "02": "Sous-officiers des forces armées",
    "03": "Autres membres des forces armées",
    "1": "Directeurs, cadres de direction et gérants",
    "11": "Directeurs généraux, cadres supérieurs et membres de l'exécutif et des corps législatifs",
    "12": "Directeurs de services administratifs et commerciaux",
    "13": "Directeurs et cadres de direction, production et services spécialisés",
    "14": "Directeurs et gérants de l'hôtellerie, la restauration, le commerce et autres services",
    "2": "Professions intellectuelles et scientifiques",
    "21": "Spécialistes des sciences techniques",
    "22": "Spécialistes de la santé",
    "23": "Spécialistes de l'enseignement",
    "24": "Spécialistes en administration d'entreprises",
    "25": "Spécialistes des technologies de l'information et des communications",
    "26": "Spécialistes de la justice, des sciences sociales et de la culture",
    "3": "Professions intermédiaires",
    "31": "Professions intermédiaires des sciences et techniques",
    "32": "Professions intermédiaires de la santé",
    "33": "Professions intermédiaires, finance et administration",
    "34": "Professions intermédiaires des services juridiques, des services sociaux et des activités culturelles",
    "35": "Techniciens de l'information et des communications",
    "4": "Employés de type administratif",
    "41": "Employés de bureau, fonctions générales et employés de saisie",
    "42": "Employés de réception, guichetiers et assimilés",
    "43": "Employés des services comptables et d'approvisionnement",
    "44": "Autres employés de type administratif",
    "5": "Personnel des services directs aux particuliers, commerçants et vendeurs",
    "51": "Personnel des services directs aux particuliers",
    "52": "Commerçants et vendeurs",
    "53": "Personnel soignant",
    "54": "Personnel des services de protection et de sécurité",
    "6": "Agriculteurs et ouvriers qualifiés de l'agriculture, de la sylviculture et de la pêche",
    "61": "Agriculteurs et ouvriers qualifiés, agriculture commerciale",
    "62": "Professions commerciales qualifiées de la sylviculture, de la pêche et de la chasse",
    "63": "Agriculteurs, pêcheurs, chasseurs et cueilleurs de subsistance",
    "7": "Métiers qualifiés de l'industrie et de l'artisanat",
    "71": "Métiers qualifiés du bâtiment et assimilés, sauf électriciens",
    "72": "Métiers qualifiés de la métallurgie, de la construction mécanique et assimilés",
    "73": "Métiers de l'artisanat et de l'imprimerie",
    "74": "Métiers de l'électricité et de l'électrotechnique",
    "75": "Métiers de l'alimentation, du travail sur bois, de l'habillement et autres métiers "
          "qualifiés de l'industrie et de l'artisanat",
    "8": "Conducteurs d'installations et de machines, et ouvriers de l'assemblage",
    "81": "Conducteurs de machines et d'installations fixes",
    "82": "Ouvriers de l'assemblage",
    "83": "Conducteurs de véhicules et d'engins lourds de levage et de manœuvre",
    "9": "Professions élémentaires",
    "91": "Aides de ménage",
    "92": "Manœuvres de l'agriculture, de la pêche et de la sylviculture",
    "93": "Manœuvres des mines, du bâtiment et des travaux publics, des industries manufacturières "
          "et des transports",
    "94": "Assistants de fabrication de l'alimentation",
    "95": "Vendeurs ambulants et autres travailleurs des services de rue",
    "96": "Travailleurs des ordures et autres travailleurs non qualifiés",
    # unit groups used as panel leaves
    "2120": "Mathématiciens, actuaires et statisticiens",
    "2166": "Graphistes et concepteurs multimédia",
    "2511": "Analystes de systèmes",
    "2512": "Concepteurs de logiciels",
    "2513": "Concepteurs de sites Internet et de multimédia",
    "2514": "Programmeurs d'applications",
    "2519": "Concepteurs et analystes de logiciels et de multimédia non classés ailleurs",
    "2521": "Concepteurs et administrateurs de bases de données",
    "2522": "Administrateurs de systèmes",
    "2523": "Spécialistes des réseaux d'ordinateurs",
    "2529": "Spécialistes des bases de données et des réseaux d'ordinateurs non classés ailleurs",
    "3511": "Techniciens, opérations d'exploitation des technologies de l'information et des "
            "communications",
    "3512": "Techniciens, assistance aux utilisateurs des technologies de l'information et des "
            "communications",
    "3513": "Techniciens, réseaux et systèmes d'ordinateurs",
    "3514": "Techniciens du Web",
    "3521": "Techniciens de radiodiffusion et d'enregistrement audio-visuel",
    "3522": "Techniciens des télécommunications",
    "4222": "Employés des centres d'appels (information de la clientèle)",
}

SPLIT_SUB_MAJORS = ("25", "35")
CARVED_UNITS = ("2120", "2166", "4222")
# Digital occupations: ICT professionals and technicians, data work, digital design.
DIGITAL = {"2120", "2166"}
# Offshoring: the ITO / BPO / CRM ecosystems of Morocco's offshoring industry (contact centres,
# IT outsourcing, back-office data entry and finance & accounting).
OFFSHORING = {"4222", "41", "43"}


def build_isco08_groups(esco_dir: Path) -> pd.DataFrame:
    """ISCO-08 groups from ``ISCOGroups.csv``: code, title_en, title_fr, level, parent (str)."""
    raw = pd.read_csv(esco_dir / "ISCOGroups.csv", dtype=str, keep_default_na=False)
    codes = raw["CODE"].str.strip()
    out = pd.DataFrame({
        "code": codes,
        "title_en": raw["PREFERREDLABEL"].str.strip(),
        "title_fr": codes.map(FRENCH_TITLES).fillna(""),
        "level": codes.str.len(),
        "parent": codes.str[:-1],
    })
    out = out.sort_values("code", key=lambda c: c.str.pad(4, side="right", fillchar=" "))
    return out.reset_index(drop=True)


def build_panel_occupations(groups: pd.DataFrame) -> pd.DataFrame:
    """Panel leaves: sub-major groups except 25/35 (split into units) plus carved-out units."""
    title = dict(zip(groups["code"], groups["title_en"]))
    rows = []
    for code in groups.loc[groups["level"] == 2, "code"]:
        if code in SPLIT_SUB_MAJORS:
            units = groups.loc[(groups["level"] == 4) & groups["code"].str.startswith(code), "code"]
            for unit in units:
                rows.append((unit, title[unit], FRENCH_TITLES[unit], code, code[0]))
            continue
        carved = [u for u in CARVED_UNITS if u.startswith(code)]
        suffix = f" (excl. {', '.join(carved)})" if carved else ""
        suffix_fr = f" (hors {', '.join(carved)})" if carved else ""
        rows.append((code, title[code] + suffix, FRENCH_TITLES[code] + suffix_fr, code[0], code[0]))
        for unit in carved:
            rows.append((unit, title[unit], FRENCH_TITLES[unit], code, code[0]))
    leaves = pd.DataFrame(rows, columns=["code", "name", "name_fr", "parent", "major"])
    leaves["digital"] = leaves["code"].str[:2].isin(SPLIT_SUB_MAJORS) | leaves["code"].isin(DIGITAL)
    leaves["offshoring"] = (leaves["code"].isin(OFFSHORING)
                            | (leaves["code"].str.match(r"^25\d\d$"))
                            | leaves["code"].isin(["3511", "3512", "3513", "3514"]))
    unclassified = pd.DataFrame([{
        "code": UNCLASSIFIED, "name": "Unclassified (job title could not be coded)",
        "name_fr": "Non classé (intitulé de poste non codable)", "parent": "X", "major": "X",
        "digital": False, "offshoring": False}])
    return pd.concat([leaves, unclassified], ignore_index=True)


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point: write the two CSV files (returns nothing)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("esco_dir", type=Path, help="folder holding ISCOGroups.csv")
    args = parser.parse_args(argv)
    groups = build_isco08_groups(args.esco_dir)
    leaves = build_panel_occupations(groups)
    write_csv_atomic(groups, DATA_DIR / "isco08_groups.csv")
    write_csv_atomic(leaves, DATA_DIR / "ma_panel_occupations.csv")
    print(f"{len(groups)} ISCO-08 groups, {len(leaves)} panel occupations -> {DATA_DIR}")


if __name__ == "__main__":
    main()
