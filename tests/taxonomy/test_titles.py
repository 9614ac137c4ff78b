import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lmforecast.panel import UNCLASSIFIED
from lmforecast.taxonomy.occupations import load_isco08, load_occupations
from lmforecast.taxonomy.titles import (
    MIN_CONFIDENCE,
    TitleCoder,
    confidence_summary,
    dictionary_keys,
    load_title_dictionary,
    load_title_model,
    load_title_rules,
    title_key,
    title_tokens,
)

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "labelled_titles.csv"

# Thresholds sit just below the figures of the shipped coder (benchmarks/results/bench_titles.md).
# The ReKrute part is a test set only: nothing is tuned on it (the keyword rules were reordered
# after looking at its errors before, see data/SOURCES.md). esco_heldout: English ESCO labels
# held out of the dictionary by label (their occupations' other labels are in it).
# Measured when the model was built: ReKrute coverage 0.757, leaf 0.871, major 0.943 (of coded
# titles); esco_heldout coverage 0.857, leaf 0.867, major 0.883.
THRESHOLDS = {
    "rekrute": {"coverage": 0.73, "leaf": 0.84, "major": 0.92},
    "esco_heldout": {"coverage": 0.82, "leaf": 0.83, "major": 0.85},
}


@pytest.fixture(scope="module")
def coder():
    return TitleCoder()


@pytest.fixture(scope="module")
def fixture_titles():
    return pd.read_csv(FIXTURE, dtype=str, keep_default_na=False)


@pytest.mark.parametrize("title, tokens", [
    ("Développeur .NET Senior (H/F) - Casablanca", ("developpeur", "dotnet")),
    ("Chargé(e) de recrutement IT H/F", ("charge", "it", "recrutement")),
    ("Ingénieurs Etudes & développement - Technopolis", ("developpement", "etude", "ingenieur")),
    ("Expert Technique .Net/Angular ( Oujda ) (H/F)", ("angular", "dotnet", "expert", "technique")),
    ("Téléconseillère confirmée - Tout le Maroc", ("teleconseiller",)),
    ("Consultant SAP FICO - Freelance - Casablanca", ("consultant", "fico", "sap")),
])
def test_title_tokens(title, tokens):
    assert title_tokens(title) == tokens


@pytest.mark.parametrize("title, code", [
    ("Développeur Java Senior (H/F) - Casablanca", "2512"),
    ("Téléconseiller francophone - Rabat", "4222"),
    ("Agent de centre d'appel bilingue", "4222"),
    ("Data Scientist confirmé", "2120"),
    ("Designer UX/UI", "2166"),
    ("Comptable", "24"),
    ("Infirmière polyvalente - Agadir", "22"),
    ("Chauffeur poids lourd", "83"),
    ("Maçon qualifié", "71"),
    ("DBA Oracle", "2521"),
    ("software developer", "2512"),
])
def test_code_examples(coder, title, code):
    assert coder.code(title) == code


# -- forms of the same title --------------------------------------------------------------------
@pytest.mark.parametrize("base, variants", [
    ("Développeur", ["développeur / développeuse", "Développeuse", "DÉVELOPPEUR", "developpeur", "Développeur (H/F)",
                     "Développeur F/H", "développeur(se)", "Développeur H/F", "DEVELOPPEUSE (F/H)"]),
    ("Infirmier", ["Infirmière", "infirmier / infirmière", "INFIRMIERE", "Infirmier(e)", "Infirmier H/F"]),
    ("Comptable", ["comptable (H/F)", "COMPTABLE", "Comptables"]),
])
def test_accent_case_and_gender_forms_code_alike(coder, base, variants):
    for variant in variants:
        assert title_key(variant) == title_key(base), variant
        assert coder.explain(variant)["code"] == coder.code(base) != UNCLASSIFIED, variant


@pytest.mark.parametrize("base, variants", [
    ("Comptable", ["Comptable - Casablanca", "Comptable (Rabat)", "Comptable CDI", "Comptable - Stage - Tanger",
                   "Comptable Senior | Fès", "Comptable confirmé - Tout le Maroc", "Comptable – Marrakech (H/F)"]),
    ("Développeur Java", ["Développeur Java - Freelance - Casablanca", "Développeur Java Junior (CDD) - Rabat",
                          "Stage PFE Développeur Java - Technopolis"]),
])
def test_city_and_contract_words_do_not_change_the_code(coder, base, variants):
    for variant in variants:
        assert title_key(variant) == title_key(base), variant
        assert coder.code(variant) == coder.code(base) != UNCLASSIFIED, variant


@pytest.mark.parametrize("title, code", [
    ("Accountant", "24"), ("Nurse", "22"), ("Truck driver", "83"), ("Web developer", "2513"),
    ("Call centre agent", "4222"), ("Primary school teacher", "23"),
])
def test_english_titles(coder, title, code):
    assert coder.code(title) == code


def test_arabic_script_titles_are_folded_and_not_guessed(coder):
    # the dictionary holds no Arabic titles: the coder abstains rather than guess
    for title in ("محاسب", "مطور برمجيات", "ممرضة - الدار البيضاء"):
        coded = coder.explain(title)
        assert coded["key"] != ""  # Arabic letters survive normalisation
        assert coded["code"] == UNCLASSIFIED and coded["confidence"] < coder.min_confidence
    # a French title with an Arabic gloss is still coded from its French words
    assert coder.code("Comptable - محاسب") == coder.code("Comptable")


@pytest.mark.parametrize("title", ["qwzx plorf", "", "(H/F)", "xkcd zzyzx blorp", None])
def test_unknown_title_is_unclassified(coder, title):
    assert coder.code(title) == UNCLASSIFIED


def test_abstention_is_the_threshold(coder):
    coded = coder.explain("qwzx plorf")
    assert coded["step"] == "abstained" and 0.0 <= coded["confidence"] < MIN_CONFIDENCE
    assert TitleCoder(min_confidence=0.0).code("qwzx plorf") != UNCLASSIFIED  # the model always has a best guess


def test_higher_threshold_codes_fewer_titles_each_confident_enough(fixture_titles):
    coverage = []
    for threshold in (0.0, 0.3, 0.5, 0.8):
        details = TitleCoder(min_confidence=threshold).code_details(fixture_titles["title"])
        coded = details["code"] != UNCLASSIFIED
        assert (details.loc[coded, "confidence"] >= threshold).all()
        assert details["confidence"].between(0.0, 1.0).all()
        coverage.append(coded.mean())
    assert coverage == sorted(coverage, reverse=True) and coverage[0] > coverage[-1]


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="min_confidence must be in"):
        TitleCoder(min_confidence=1.5)
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['origin'\]"):
        TitleCoder(dictionary=pd.DataFrame({"label": ["comptable"], "isco_code": ["2411"]}), model=None)
    with pytest.raises(ValueError, match="model must be 'default'"):
        TitleCoder(model="other")


def test_custom_dictionary_without_model():
    dictionary = pd.DataFrame({"label": ["Comptable", "Chauffeur"], "isco_code": ["2411", "8322"],
                               "origin": ["curated", "esco"]})
    coder = TitleCoder(dictionary=dictionary, model=None)
    assert coder.code("COMPTABLE (H/F) - Rabat") == "24"
    assert coder.explain("chauffeurs")["step"] == "exact"
    assert coder.explain("qwzx") == {"title": "qwzx", "key": "qwzx", "code": UNCLASSIFIED, "step": "unmatched",
                                     "confidence": 0.0}


def test_code_many_matches_code_and_keeps_index(coder):
    titles = pd.Series(["Développeur PHP", None, "Téléconseiller", "Développeur PHP", "qwzx"],
                       index=list("abcde"), name="title")
    out = coder.code_many(titles)
    assert out.index.tolist() == list("abcde") and out.name == "title"
    assert out.tolist() == [coder.code("Développeur PHP"), UNCLASSIFIED, "4222", coder.code("Développeur PHP"),
                            UNCLASSIFIED]
    details = coder.code_details(titles)
    assert details.index.tolist() == list("abcde")
    assert details["code"].tolist() == out.tolist()
    assert details.loc["b", "step"] == "missing"


def test_coverage_report(coder):
    titles = pd.Series(["Développeur PHP"] * 3 + ["qwzx"] + [None])
    report = coder.coverage_report(titles)
    assert report["n"] == 5
    assert report["coverage"] == pytest.approx(3 / 5)
    assert report["unclassified_top"] == {"qwzx": 1}
    assert report["by_major"] == {"2": pytest.approx(0.6), "X": pytest.approx(0.4)}
    assert sum(report["by_step"].values()) == pytest.approx(1.0)
    assert report["confidence"]["coded_share"] == pytest.approx(3 / 5)


def test_confidence_summary_by_hand():
    details = pd.DataFrame({"code": ["24", "22", UNCLASSIFIED, "83"], "step": ["exact", "model", "abstained", "rule"],
                            "confidence": [1.0, 0.65, 0.2, 0.95]})
    summary = confidence_summary(details, 0.5, weights=np.array([2, 1, 1, 0]))
    assert summary["n"] == 4 and summary["coded_share"] == pytest.approx(3 / 4)
    assert summary["by_step"] == {"abstained": 0.25, "exact": 0.5, "model": 0.25, "rule": 0.0}
    assert summary["confidence_histogram"] == {"[0.0, 0.5)": 0.25, "[0.5, 0.6)": 0.0, "[0.6, 0.7)": 0.25,
                                               "[0.7, 0.8)": 0.0, "[0.8, 0.9)": 0.0, "[0.9, 1.0]": 0.5}
    assert summary["coded_confidence_quantiles"]["p10"] == 0.65
    assert summary["coded_confidence_quantiles"]["p50"] == 1.0
    assert summary["min_confidence"] == 0.5


# -- package data --------------------------------------------------------------------------------
def test_dictionary_is_consistent():
    dictionary = load_title_dictionary()
    assert list(dictionary.columns) == ["label", "isco_code", "lang", "origin", "concept"]
    groups = load_isco08()
    units = set(groups.query("level == 4")["code"])
    assert set(dictionary["origin"]) == {"esco", "curated", "isco", "isco_example"}
    assert set(dictionary["lang"]) == {"fr", "en"}
    not_isco = dictionary["origin"] != "isco"
    assert dictionary.loc[not_isco, "isco_code"].isin(units).all()
    assert dictionary["isco_code"].isin(set(groups["code"])).all()
    esco = dictionary[dictionary["origin"] == "esco"]
    assert esco.groupby("lang")["concept"].nunique().to_dict() == {"en": 3007, "fr": 3007}
    french = esco.loc[esco["lang"] == "fr", "label"]
    assert french[french.str.contains("/")].str.contains("«").all()  # gender forms split
    assert (dictionary["origin"] == "curated").sum() >= 1000
    leaves = {c for c in load_occupations()["code"] if c != UNCLASSIFIED}
    from lmforecast.taxonomy.occupations import leaf_for_isco
    curated_leaves = set(dictionary.loc[dictionary["origin"] == "curated", "isco_code"].map(leaf_for_isco))
    assert curated_leaves == leaves  # the curated list covers every panel leaf
    rules = load_title_rules()
    assert rules["isco_code"].isin(units).all()
    assert set(rules["stage"]) <= {"before_fuzzy", "after_fuzzy"}


def test_shipped_model_matches_the_dictionary():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a model built from another dictionary or normalisation would warn
        model, meta = load_title_model.__wrapped__()  # uncached
    assert set(model.classes_) == {c for c in load_occupations()["code"] if c != UNCLASSIFIED}
    assert set(meta["calibration"]) == {"rule", "fuzzy"}
    knots_x, knots_y = model.calibration_
    assert np.all(np.diff(knots_y) >= 0) and 0.0 <= knots_y.min() and knots_y.max() <= 1.0


def test_heldout_titles_are_not_in_dictionary(fixture_titles):
    heldout = fixture_titles.loc[fixture_titles["source"] == "esco_heldout", "title"]
    keys = set(dictionary_keys())
    assert len(heldout) >= 50
    assert not (set(heldout.map(title_key)) & keys)


def test_accuracy_on_labelled_sample(coder, fixture_titles):
    fixture = fixture_titles.copy()
    assert len(fixture) >= 150
    major = dict(zip(load_occupations()["code"], load_occupations()["major"]))
    assert fixture["expected_code"].isin(set(major)).all()
    fixture["got"] = coder.code_many(fixture["title"])
    lines = []
    for source, group in fixture.groupby("source"):
        coded = group["got"] != UNCLASSIFIED
        coverage = float(coded.mean())
        leaf = float((group["got"] == group["expected_code"])[coded].mean())
        major_ok = float((group["got"].map(major) == group["expected_code"].map(major))[coded].mean())
        lines.append(f"{source}: n={len(group)} coverage={coverage:.3f} leaf accuracy of coded={leaf:.3f} "
                     f"major accuracy of coded={major_ok:.3f}")
        limits = THRESHOLDS[source]
        assert coverage >= limits["coverage"], lines[-1]
        assert leaf >= limits["leaf"], lines[-1]
        assert major_ok >= limits["major"], lines[-1]
    print("\n".join(lines))


def test_same_input_same_codes(fixture_titles):
    titles = fixture_titles["title"]
    first = TitleCoder().code_details(titles)
    second = TitleCoder().code_details(titles.sample(frac=1.0, random_state=3)).reindex(titles.index)
    pd.testing.assert_frame_equal(first, second)
    fresh = TitleCoder()
    singles = [fresh.explain(t) for t in titles[:30]]  # one by one: the model scores one key at a time
    assert [s["code"] for s in singles] == first["code"].tolist()[:30]
    assert [s["confidence"] for s in singles] == first["confidence"].tolist()[:30]


def _decorated_titles() -> list[str]:
    """Every decoration the job boards add, on the Moroccan title lists, the dictionary and the sample."""
    from lmforecast.datasets.morocco import CITIES, JOB_TITLES

    cities = sorted({city for names in CITIES.values() for city in names}) + ["Tout le Maroc", "Atlantis"]
    bases = [t for french, english in JOB_TITLES.values() for t in (*french, *english)]
    out = []
    for i, base in enumerate(bases):
        for senior in ("", " Senior", " Junior", " confirmé"):
            for hf in ("", " (H/F)"):
                city = cities[i % len(cities)]
                for text in (f"{base}{senior}{hf}", f"{base}{senior}{hf} - {city}", f"Senior {base}{hf} | {city}",
                             f"{base}{senior}{hf} – {cities[(i + 7) % len(cities)]}"):
                    out += [text, text.upper()]
    out += list(load_title_dictionary()["label"].sample(3000, random_state=1))
    out += list(pd.read_csv(FIXTURE, dtype=str, keep_default_na=False)["title"])
    out += ["Dev (h/f) - casa (h/f)", "Chef - senior", "senior", "Développeur - Java", "Full Senior stack",
            "Ingénieur - (Rabat)", "DÉVELOPPEUR .NET SENIOR", "Agent - Tanger-Tétouan", "İSTANBUL dev - Rabat",
            "ΟΔΟΣ - Rabat", "Comptable -- Casablanca", "- Casablanca", "Technicien  -  Fès  ", "", "(H/F)"]
    return out


def test_title_prekeys_keep_the_title_key():
    from lmforecast.taxonomy.titles import title_key, title_prekeys

    titles = _decorated_titles()
    prekeys = title_prekeys(titles)
    assert len(prekeys) == len(titles)
    wrong = [(t, p) for t, p in zip(titles, prekeys) if title_key(t) != title_key(p)]
    assert not wrong, wrong[:5]
    # the reduction is real: decorations collapse onto far fewer pre-keys
    assert len(set(prekeys)) < 0.4 * len(set(titles))  # 14,200 pre-keys for 37,927 titles when written
    assert title_prekeys(["Développeur Java Senior (H/F) - Casablanca", "DEVELOPPEUR JAVA - RABAT"]) == [
        "développeur java", "developpeur java"]
    assert title_prekeys(["Développeur - Java"]) == ["développeur - java"]  # 'Java' is not a place: kept


def test_code_many_equals_code_on_decorated_titles(coder):
    titles = pd.Series(_decorated_titles()[:4000])
    expected = [coder.code(t) for t in titles]
    assert coder.code_many(titles).tolist() == expected


# -- stored dictionary keys (title_dictionary_keys.json.gz) --------------------------------------


def test_stored_dictionary_keys_equal_fresh_keys():
    # the shipped keys must be exactly what title_key gives today, label by label
    import warnings

    from lmforecast.taxonomy.titles import dictionary_keys, title_key

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a stale or missing file would warn and recompute: fail instead
        stored = dictionary_keys()
    labels = load_title_dictionary()["label"]
    assert len(stored) == len(labels)
    fresh = [title_key(label) for label in labels]
    mismatched = [(lab, s, f) for lab, s, f in zip(labels, stored, fresh) if s != f]
    assert mismatched == []


def _rewrite_keys(path, **changes):
    import gzip
    import json

    from lmforecast.taxonomy._tables import data_path
    from lmforecast.taxonomy.titles import KEYS_FILE

    payload = json.loads(gzip.decompress(data_path(KEYS_FILE).read_bytes()))
    payload.update(changes)
    path.write_bytes(gzip.compress(json.dumps(payload).encode("utf-8")))
    return payload


@pytest.mark.parametrize("changes, reason", [
    ({"key_version": "0" * 64}, "another version of the title normalisation"),
    ({"dictionary_sha256": "0" * 64}, "another title_dictionary.csv.gz"),
    ({"keys": ["developpeur"]}, r"holds 1 keys for \d+ dictionary labels"),
])
def test_stale_stored_keys_warn_and_are_recomputed(tmp_path, changes, reason):
    from lmforecast.taxonomy.titles import dictionary_keys

    path = tmp_path / "keys.json.gz"
    payload = _rewrite_keys(path)
    good = payload["keys"]
    _rewrite_keys(path, **changes)
    with pytest.warns(UserWarning, match=f"{reason}.*recomputing.*--keys-only"):
        recomputed = dictionary_keys(path)
    assert recomputed == good


def test_missing_stored_keys_warn_and_are_recomputed(tmp_path):
    from lmforecast.taxonomy.titles import dictionary_keys

    with pytest.warns(UserWarning, match=r"cannot be read \(FileNotFoundError.*recomputing"):
        recomputed = dictionary_keys(tmp_path / "absent.json.gz")
    assert recomputed == dictionary_keys()


def test_key_version_tracks_the_normalisation(monkeypatch):
    from lmforecast.taxonomy import title_keys as titles

    before = titles.title_key_version()
    assert len(before) == 64
    titles.title_key_version.cache_clear()
    monkeypatch.setattr(titles, "_DROP_TOKENS", titles._DROP_TOKENS | {"manager"})
    try:
        assert titles.title_key_version() != before
    finally:
        titles.title_key_version.cache_clear()


def test_write_dictionary_keys_is_deterministic(tmp_path):
    from lmforecast.taxonomy._tables import data_path
    from lmforecast.taxonomy.titles import KEYS_FILE, write_dictionary_keys

    written = write_dictionary_keys(tmp_path / "keys.json.gz")
    assert written.read_bytes() == data_path(KEYS_FILE).read_bytes()
