"""Readers of the labelled titles the title coder is built from (ESCO v1.1.1, ISCO-08, curated list)."""

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lmforecast.errors import DataContractError
from lmforecast.taxonomy.title_sources import (
    LABEL_COLUMNS,
    curated_labels,
    esco_labels,
    isco_examples,
    isco_titles,
    split_gender_forms,
)

ESCO_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "esco-skills"


@pytest.mark.parametrize("label, forms", [
    ("directeur technique/directrice technique", ["directeur technique", "directrice technique"]),
    ("barbier/barbière", ["barbier", "barbière"]),
    ("comptable", ["comptable"]),
    ("formateur «a/b»/formatrice «a/b»", ["formateur «a/b»", "formatrice «a/b»"]),
    (" maçon / maçonne ", ["maçon", "maçonne"]),
])
def test_split_gender_forms(label, forms):
    assert split_gender_forms(label) == forms


def _write_esco(folder, fr_rows, en_rows):
    columns = ["conceptUri", "code", "iscoGroup", "preferredLabel", "altLabels"]
    for lang, rows in (("fr", fr_rows), ("en", en_rows)):
        text = pd.DataFrame(rows, columns=columns).to_csv(index=False)
        (folder / f"occupations_{lang}_v1.1.1.csv.gz").write_bytes(gzip.compress(text.encode("utf-8")))


def test_esco_labels_split_french_forms(tmp_path):
    _write_esco(tmp_path,
                [("u1", "2411.1", "2411", "comptable/comptable", "expert-comptable/experte-comptable\naide comptable")],
                [("u1", "2411.1", "2411", "accountant", "chartered accountant\n")])
    labels = esco_labels(tmp_path)
    assert list(labels.columns) == LABEL_COLUMNS
    assert labels["label"].tolist() == ["accountant", "chartered accountant", "comptable", "expert-comptable",
                                        "experte-comptable", "aide comptable"]
    assert set(labels["concept"]) == {"esco:2411.1"} and set(labels["isco_code"]) == {"2411"}


def test_esco_labels_name_the_bad_cell(tmp_path):
    _write_esco(tmp_path, [("u1", "2411.1", "2411", "comptable", "")],
                [("u0", "9999.1", "2411", "clerk", ""), ("u1", "2411.1", "24x1", "accountant", "")])
    with pytest.raises(DataContractError) as info:
        esco_labels(tmp_path)
    message = str(info.value)
    assert "occupations_en_v1.1.1.csv.gz" in message and "row 3" in message
    assert "'iscoGroup'" in message and "'24x1'" in message


def test_esco_labels_need_their_columns(tmp_path):
    for lang in ("fr", "en"):
        (tmp_path / f"occupations_{lang}_v1.1.1.csv.gz").write_bytes(gzip.compress(b"conceptUri,code\nu1,1\n"))
    with pytest.raises(DataContractError, match="column 'iscoGroup'"):
        esco_labels(tmp_path)


def test_curated_labels_name_the_bad_cell(tmp_path):
    path = tmp_path / "curated.csv"
    path.write_text("isco_code,lang,labels\n2411,fr,comptable;aide comptable\n2411,de,Buchhalter\n", encoding="utf-8")
    with pytest.raises(DataContractError, match=r"row 3, column 'lang': got 'de'"):
        curated_labels(path)
    assert curated_labels()["origin"].eq("curated").all()


@pytest.mark.shared_data
def test_real_esco_sources():
    if not ESCO_DIR.is_dir():
        pytest.skip(f"shared data folder {ESCO_DIR} is absent")
    labels = esco_labels(ESCO_DIR)
    assert labels.groupby("lang")["concept"].nunique().to_dict() == {"en": 3007, "fr": 3007}
    french = labels[labels["lang"] == "fr"]
    slashed = french.loc[french["label"].str.contains("/"), "label"]
    assert slashed.str.contains("«").all()  # only a '/' inside a quoted name is left (gender forms split)
    assert {"développeur web", "développeuse web"} <= set(french["label"])
    titles = isco_titles(ESCO_DIR)
    assert {"2512", "72"} <= set(titles["isco_code"]) and "25" not in set(titles["isco_code"])
    examples = isco_examples(ESCO_DIR)
    assert len(examples) > 1000 and examples["isco_code"].str.len().eq(4).all()


@pytest.mark.shared_data
def test_build_reproduces_the_shipped_dictionary():
    if not ESCO_DIR.is_dir():
        pytest.skip(f"shared data folder {ESCO_DIR} is absent")
    from lmforecast.taxonomy._tables import data_path
    from lmforecast.taxonomy.build_title_dictionary import build

    fixture = pd.read_csv(Path(__file__).resolve().parent / "fixtures" / "labelled_titles.csv", dtype=str,
                          keep_default_na=False)
    dictionary = build(ESCO_DIR, fixture.loc[fixture["source"] == "esco_heldout", "title"].tolist())
    rebuilt = gzip.compress(dictionary.to_csv(index=False).encode("utf-8"), mtime=0)
    assert rebuilt == data_path("title_dictionary.csv.gz").read_bytes()


@pytest.mark.slow
def test_refitting_the_model_reproduces_the_shipped_one():
    # same dictionary + parameters -> same coefficients (float16) -> same probabilities; ~2 min
    from lmforecast.taxonomy.build_title_dictionary import training_table
    from lmforecast.taxonomy.title_model import TitleClassifier
    from lmforecast.taxonomy.titles import dictionary_keys, load_title_dictionary, load_title_model

    shipped, _ = load_title_model()
    table = training_table(load_title_dictionary(), dictionary_keys())
    refit = TitleClassifier(**{**shipped.get_params(), "calibration_folds": 0}).fit(table["key"], table["leaf"])
    keys = table["key"].sample(2000, random_state=0).tolist()
    np.testing.assert_allclose(refit.predict_proba(keys), shipped.predict_proba(keys), atol=1e-3)
    assert (refit.predict(keys) == shipped.predict(keys)).mean() > 0.999
