"""Build ``data/title_dictionary.csv.gz`` for :class:`~lmforecast.taxonomy.titles.TitleCoder` (run by hand).

Usage (from the repository root, with the shared data next to it)::

    python -m lmforecast.taxonomy.build_title_dictionary ../shared/data/taxo-esco-isco08 \\
        --heldout tests/taxonomy/fixtures/labelled_titles.csv

Inputs: ESCO v1.1.1 ``occupations.csv`` (English preferred + alternative labels, each ESCO
occupation mapped to an ISCO-08 unit group) and the curated Moroccan list
``data/curated_titles.csv`` (``isco_code, lang, labels`` with ``;``-separated labels).
ESCO labels whose normalised key equals a held-out test title (fixture rows with
``source == esco_heldout``) are left out, so the accuracy test measures generalisation.
Output columns: ``label, isco_code, lang, origin``. The gzip header carries no timestamp, so the
same inputs give the same bytes. It also writes ``data/title_dictionary_keys.json.gz``: the
:func:`~lmforecast.taxonomy.titles.title_key` of every label with the fingerprint of the key code
(:func:`~lmforecast.taxonomy.titles.title_key_version`), so that ``TitleCoder()`` does not
recompute them at each start. After a change to the title normalisation, refresh that file alone
(no ESCO data needed) with::

    python -m lmforecast.taxonomy.build_title_dictionary --keys-only

``--select-heldout N`` instead prints N seeded, unambiguous ESCO alternative labels as fixture
rows (used once to create the held-out part of the fixture).
"""

from __future__ import annotations

import argparse
import gzip
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from lmforecast.io import atomic_path
from lmforecast.taxonomy.occupations import leaf_for_isco
from lmforecast.taxonomy.titles import title_key, write_dictionary_keys

DATA_DIR = Path(__file__).resolve().parent / "data"

# The panel files data work under 2120 and inbound contact-centre agents under 4222
# (ESCO: 2511 and 5244); applied to every label of these ESCO occupations.
ESCO_OVERRIDES = {"data scientist": "2120", "data analyst": "2120", "call centre agent": "4222"}


def esco_labels(esco_dir: Path) -> pd.DataFrame:
    """ESCO preferred + alternative labels: ``label, isco_code, lang='en', origin='esco'``."""
    occupations = pd.read_csv(esco_dir / "occupations.csv", dtype=str, keep_default_na=False)
    rows = []
    for preferred, alt, isco in zip(occupations["PREFERREDLABEL"], occupations["ALTLABELS"],
                                    occupations["ISCOGROUPCODE"]):
        isco = ESCO_OVERRIDES.get(preferred.strip(), isco.strip())
        labels = [preferred] + alt.split("\n")
        for label in dict.fromkeys(lab.strip() for lab in labels if lab.strip()):
            rows.append((label, isco))
    out = pd.DataFrame(rows, columns=["label", "isco_code"])
    out["lang"], out["origin"] = "en", "esco"
    return out


def curated_labels(path: Path = DATA_DIR / "curated_titles.csv") -> pd.DataFrame:
    """Curated Moroccan titles: ``label, isco_code, lang, origin='curated'``."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    rows = [(label.strip(), code, lang) for code, lang, labels in
            zip(table["isco_code"], table["lang"], table["labels"]) for label in labels.split(";")
            if label.strip()]
    out = pd.DataFrame(rows, columns=["label", "isco_code", "lang"])
    out["origin"] = "curated"
    return out


def build(esco_dir: Path, heldout_titles: list[str]) -> pd.DataFrame:
    """The dictionary (curated rows first), without ESCO labels matching a held-out title."""
    esco = esco_labels(esco_dir)
    heldout = {title_key(t) for t in heldout_titles}
    esco = esco[~esco["label"].map(title_key).isin(heldout)]
    return pd.concat([curated_labels(), esco], ignore_index=True)


def select_heldout(esco_dir: Path, n: int, seed: int) -> pd.DataFrame:
    """``n`` ESCO alternative labels whose key is unambiguous and absent from the curated list."""
    esco = esco_labels(esco_dir)
    esco["key"] = esco["label"].map(title_key)
    esco["leaf"] = esco["isco_code"].map(leaf_for_isco)
    leaves_per_key = esco.groupby("key")["leaf"].nunique()
    rows_per_key = esco.groupby("key").size()
    curated_keys = set(curated_labels()["label"].map(title_key))
    ok = esco[esco["key"].map(leaves_per_key).eq(1) & esco["key"].map(rows_per_key).eq(1)
              & ~esco["key"].isin(curated_keys) & esco["key"].str.len().gt(0)]
    rng = np.random.default_rng(seed)
    pick = ok.iloc[np.sort(rng.choice(len(ok), size=n, replace=False))]
    return pd.DataFrame({"title": pick["label"].to_numpy(), "expected_code": pick["leaf"].to_numpy(),
                         "source": "esco_heldout"})


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point (see module docstring); returns nothing."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("esco_dir", type=Path, nargs="?", help="folder holding ESCO occupations.csv")
    parser.add_argument("--keys-only", action="store_true",
                        help="only recompute the stored title keys of the existing dictionary")
    parser.add_argument("--heldout", type=Path, help="labelled fixture CSV (title, expected_code, source)")
    parser.add_argument("--select-heldout", type=int, default=0, metavar="N")
    parser.add_argument("--seed", type=int, default=20240306)
    args = parser.parse_args(argv)
    if args.keys_only:
        print(f"title keys -> {write_dictionary_keys()}")
        return
    if args.esco_dir is None:
        parser.error("esco_dir is required unless --keys-only")
    if args.select_heldout:
        select_heldout(args.esco_dir, args.select_heldout, args.seed).to_csv(sys.stdout, index=False)
        return
    heldout: list[str] = []
    if args.heldout is not None:
        fixture = pd.read_csv(args.heldout, dtype=str, keep_default_na=False)
        heldout = fixture.loc[fixture["source"] == "esco_heldout", "title"].tolist()
    dictionary = build(args.esco_dir, heldout)
    destination = DATA_DIR / "title_dictionary.csv.gz"
    payload = gzip.compress(dictionary.to_csv(index=False).encode("utf-8"), mtime=0)
    with atomic_path(destination) as tmp:
        tmp.write_bytes(payload)  # no file name, no timestamp in the gzip header
    keys_path = write_dictionary_keys()
    print(f"{len(dictionary)} labels ({(dictionary['origin'] == 'curated').sum()} curated), "
          f"{len(heldout)} held-out titles excluded -> {destination}; title keys -> {keys_path}")


if __name__ == "__main__":
    main()
