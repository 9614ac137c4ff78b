"""Build the title coder's package data from ESCO v1.1.1 (run by hand; ~12 min on 2 cores).

Usage (from the repository root, with the shared data next to it)::

    python -m lmforecast.taxonomy.build_title_dictionary ../shared/data/esco-skills \\
        --heldout tests/taxonomy/fixtures/labelled_titles.csv

Inputs (:mod:`~lmforecast.taxonomy.title_sources`): ESCO v1.1.1 ``occupations_{fr,en}_v1.1.1``
(preferred and alternative labels of 3,007 occupations, French labels split into masculine and
feminine forms; each occupation mapped to an ISCO-08 unit group), ``ISCOGroups_{fr,en}_v1.1.1``
(group titles; the English descriptions' example occupations) and the curated Moroccan list
``data/curated_titles.csv``. Labels whose normalised key equals a held-out test title (fixture
rows with ``source == esco_heldout``) are left out, except curated ones.

Outputs, in ``lmforecast/taxonomy/data`` (written atomically; the same inputs give the same
dictionary and keys bytes, and the same model up to floating-point summation order):

* ``title_dictionary.csv.gz`` -- ``label, isco_code, lang, origin, concept``;
* ``title_dictionary_keys.json.gz`` -- the :func:`~lmforecast.taxonomy.title_keys.title_key` of
  every label, with the fingerprint of the key code, so ``TitleCoder()`` need not recompute them;
* ``title_model.npz`` -- the :class:`~lmforecast.taxonomy.title_model.TitleClassifier` fitted on
  every (key, leaf, concept) of the dictionary, its confidence calibrated on 5 folds grouped by
  concept (ESCO occupation / ISCO group), plus the ``calibration`` of the lookup steps: isotonic
  maps from the model's out-of-fold probability of a rule's / fuzzy match's leaf to that leaf
  being right, on the ESCO labels of the held-out folds (lookup-only coders built on the other
  folds; :func:`calibrate_lookup`).

After a change to the title normalisation alone, refresh the keys (no ESCO data needed) with
``python -m lmforecast.taxonomy.build_title_dictionary --keys-only`` (then rebuild the model).
"""

from __future__ import annotations

import argparse
import gzip
import time
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
from sklearn.model_selection import GroupKFold

from lmforecast.io import atomic_path
from lmforecast.taxonomy._tables import data_path
from lmforecast.taxonomy.occupations import leaf_for_isco
from lmforecast.taxonomy.title_keys import title_key, title_key_version
from lmforecast.taxonomy.title_model import TitleClassifier, fit_calibration
from lmforecast.taxonomy.title_sources import all_labels

SOURCES = ("ESCO v1.1.1 occupations_{fr,en}_v1.1.1.csv.gz and ISCOGroups_{fr,en}_v1.1.1.csv.gz "
           "(European Commission, CC BY 4.0; mirror tabiya-tech/tabiya-esco-datasets-and-tools); "
           "lmforecast/taxonomy/data/curated_titles.csv")


def build(esco_dir: str | Path, heldout_titles: list[str]) -> pd.DataFrame:
    """The dictionary: every label of :func:`~lmforecast.taxonomy.title_sources.all_labels`
    except non-curated labels whose key equals a held-out title's key.

    Parameters
    ----------
    esco_dir : the ESCO v1.1.1 folder.
    heldout_titles : titles kept out of the dictionary (the fixture's held-out ESCO labels).

    Returns
    -------
    DataFrame ``label, isco_code, lang, origin, concept`` (curated rows first), duplicates dropped.
    """
    labels = all_labels(esco_dir).drop_duplicates(ignore_index=True)
    heldout = {title_key(t) for t in heldout_titles}
    keep = labels["origin"].eq("curated") | ~labels["label"].map(title_key).isin(heldout)
    return labels[keep].reset_index(drop=True)


def training_table(dictionary: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Rows the model learns from: one per distinct (key, leaf, concept), non-empty keys only.

    Parameters
    ----------
    dictionary : the dictionary (:func:`build`); keys : its title keys, row by row.

    Returns
    -------
    DataFrame ``key, leaf, concept, origin`` (gender forms with the same key count once).
    """
    leaf_of = {code: leaf_for_isco(code) for code in set(dictionary["isco_code"])}
    table = pd.DataFrame({"key": keys, "leaf": dictionary["isco_code"].map(leaf_of),
                          "concept": dictionary["concept"], "origin": dictionary["origin"]})
    return table[table["key"] != ""].drop_duplicates(["key", "leaf", "concept"], ignore_index=True)


def lookup_candidates(table: pd.DataFrame, folds: int) -> pd.DataFrame:
    """Leaf and step the lookup steps give each ESCO row when its fold is held out.

    For each :class:`~sklearn.model_selection.GroupKFold` fold grouped by concept (the folds of the
    model's calibration), a lookup-only :class:`~lmforecast.taxonomy.titles.TitleCoder` is built
    on the other folds' rows and looks up the fold's ESCO keys.

    Parameters
    ----------
    table : :func:`training_table` output; folds : number of folds.

    Returns
    -------
    DataFrame indexed like the ESCO rows of ``table``: ``leaf`` (candidate or None) and ``step``
    (``exact``, ``rule``, ``fuzzy``, ``none``).
    """
    from lmforecast.taxonomy.titles import TitleCoder

    out = []
    for train, test in GroupKFold(n_splits=folds).split(table["key"], table["leaf"], groups=table["concept"]):
        fold = table.iloc[train]
        coder = TitleCoder(dictionary=pd.DataFrame({"label": fold["key"], "key": fold["key"],
                                                    "isco_code": fold["leaf"], "origin": fold["origin"]}),
                           model=None, min_confidence=0.0)
        held = table.iloc[test]
        held = held[held["origin"] == "esco"]
        looked = [coder._lookup(key)[:2] for key in held["key"]]
        out.append(pd.DataFrame(looked, columns=["leaf", "step"], index=held.index))
    return pd.concat(out).sort_index()


def calibrate_lookup(table: pd.DataFrame, model: TitleClassifier, folds: int) -> dict:
    """Isotonic maps, per lookup step, from the model's probability of the looked-up leaf to being right.

    Parameters
    ----------
    table : :func:`training_table` output the model was fitted on; model : fitted with
        ``groups`` (its ``oof_proba_`` are the out-of-fold probabilities); folds : its folds.

    Returns
    -------
    dict ``{"rule": {"x", "y"}, "fuzzy": {"x", "y"}}`` (lists; the coder's ``calibration``) and
    ``"oof"``: ``{step: {"n", "right", "model_agrees"}}`` for ``exact``, ``rule``, ``fuzzy``
    (``model_agrees``: share where the model's top leaf is the looked-up leaf).
    """
    candidates = lookup_candidates(table, folds)
    column = {leaf: i for i, leaf in enumerate(model.classes_)}
    proba = model.oof_proba_[candidates.index.to_numpy()]
    truth = table.loc[candidates.index, "leaf"].to_numpy(dtype=object)
    out: dict = {"oof": {}}
    for step in ("exact", "rule", "fuzzy"):
        mask = (candidates["step"] == step).to_numpy()
        leaves = candidates["leaf"].to_numpy(dtype=object)[mask]
        score = proba[mask][np.arange(mask.sum()), [column[leaf] for leaf in leaves]]
        right = leaves == truth[mask]
        agrees = model.classes_[proba[mask].argmax(axis=1)] == leaves
        out["oof"][step] = {"n": int(mask.sum()), "right": float(right.mean()) if mask.any() else 0.0,
                            "model_agrees": float(agrees.mean()) if mask.any() else 0.0}
        if step != "exact":
            knots_x, knots_y = fit_calibration(score, right)
            out[step] = {"x": knots_x.tolist(), "y": knots_y.tolist()}
    return out


def fit_model(table: pd.DataFrame, folds: int = 5) -> tuple[TitleClassifier, dict]:
    """Fit the shipped model and calibrate the lookup steps.

    Parameters
    ----------
    table : :func:`training_table` output; folds : calibration folds.

    Returns
    -------
    (model, calibration) : the fitted :class:`TitleClassifier` (calibrated on the ESCO rows) and
    :func:`calibrate_lookup`.
    """
    model = TitleClassifier(calibration_folds=folds).fit(
        table["key"], table["leaf"], groups=table["concept"], calibrate_on=table["origin"].eq("esco"))
    return model, calibrate_lookup(table, model, folds)


def write_dictionary(dictionary: pd.DataFrame) -> Path:
    """Write ``title_dictionary.csv.gz`` (gzip without file name or timestamp); returns its path."""
    destination = data_path("title_dictionary.csv.gz")
    payload = gzip.compress(dictionary.to_csv(index=False).encode("utf-8"), mtime=0)
    with atomic_path(destination) as tmp:
        tmp.write_bytes(payload)
    return destination


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point (see module docstring); returns nothing."""
    from lmforecast.taxonomy.titles import MODEL_FILE, _file_sha256, write_dictionary_keys

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("esco_dir", type=Path, nargs="?", help="ESCO v1.1.1 folder (../shared/data/esco-skills)")
    parser.add_argument("--keys-only", action="store_true",
                        help="only recompute the stored title keys of the existing dictionary")
    parser.add_argument("--heldout", type=Path, help="labelled fixture CSV (title, expected_code, source)")
    parser.add_argument("--folds", type=int, default=5, help="calibration folds (default 5)")
    args = parser.parse_args(argv)
    if args.keys_only:
        print(f"title keys -> {write_dictionary_keys()}")
        return
    if args.esco_dir is None:
        parser.error("esco_dir is required unless --keys-only")
    heldout: list[str] = []
    if args.heldout is not None:
        fixture = pd.read_csv(args.heldout, dtype=str, keep_default_na=False)
        heldout = fixture.loc[fixture["source"] == "esco_heldout", "title"].tolist()
    start = time.perf_counter()
    dictionary = build(args.esco_dir, heldout)
    destination = write_dictionary(dictionary)
    keys_path = write_dictionary_keys()
    keys = [title_key(label) for label in dictionary["label"]]
    table = training_table(dictionary, keys)
    model, calibration = fit_model(table, args.folds)
    meta = {"sources": SOURCES, "dictionary_sha256": _file_sha256(destination), "key_version": title_key_version(),
            "sklearn_version": sklearn.__version__, "training_rows": len(table),
            "calibration": {k: v for k, v in calibration.items() if k != "oof"}, "lookup_oof": calibration["oof"]}
    model_path = model.save(data_path(MODEL_FILE), meta=meta)
    counts = dictionary.groupby(["origin", "lang"]).size().to_dict()
    print(f"{len(dictionary)} labels {counts}, {len(heldout)} held-out titles excluded -> {destination}; "
          f"title keys -> {keys_path}; model ({len(table)} training rows, out-of-fold accuracy "
          f"{model.oof_.get('accuracy', float('nan')):.3f}, lookup steps {calibration['oof']}) -> {model_path} "
          f"({model_path.stat().st_size / 1e6:.2f} MB) in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
