"""TitleClassifier: fit, calibration, persistence (small synthetic data; the shipped model is tested in test_titles)."""

import numpy as np
import pytest

from lmforecast.taxonomy.title_model import TitleClassifier, apply_calibration, fit_calibration

WORDS = {"24": ["comptable", "auditeur", "fiscaliste", "tresorier"],
         "83": ["chauffeur", "conducteur", "livreur", "camionneur"],
         "22": ["infirmier", "sage femme", "aide soignant", "puericulteur"]}


def _data():
    keys, leaves, groups = [], [], []
    for leaf, words in WORDS.items():
        for j, word in enumerate(words):
            for suffix in ("", " principal", " adjoint", " chef", " stagiaire"):
                keys.append(word + suffix)
                leaves.append(leaf)
                groups.append(f"{leaf}:{j}")
    return np.array(keys, dtype=object), np.array(leaves, dtype=object), np.array(groups, dtype=object)


@pytest.fixture(scope="module")
def fitted():
    keys, leaves, groups = _data()
    return TitleClassifier(min_df=1, calibration_folds=2).fit(keys, leaves, groups=groups)


def test_fit_predicts_and_calibrates(fitted):
    leaves, confidence = fitted.predict_with_confidence(["comptable", "chauffeur adjoint", "infirmier chef"])
    assert leaves.tolist() == ["24", "83", "22"]
    assert ((confidence >= 0) & (confidence <= 1)).all()
    assert fitted.oof_["rows"] == 60 and fitted.oof_["folds"] == 2
    assert fitted.oof_proba_.shape == (60, 3)
    knots_x, knots_y = fitted.calibration_
    assert np.all(np.diff(knots_x) >= 0) and np.all(np.diff(knots_y) >= 0)
    assert fitted.predict_with_confidence([])[0].size == 0


def test_save_load_round_trip_is_exact_and_deterministic(fitted, tmp_path):
    first = fitted.save(tmp_path / "a.npz", meta={"source": "test"})
    second = fitted.save(tmp_path / "b.npz", meta={"source": "test"})
    assert first.read_bytes() == second.read_bytes()  # no timestamps in the archive
    loaded, meta = TitleClassifier.load(first)
    assert meta == {"source": "test"}
    keys = ["comptable", "livreur principal", "qwzx", "sage femme adjoint"]
    np.testing.assert_array_equal(loaded.predict_proba(keys), fitted.predict_proba(keys))
    assert loaded.get_params() == fitted.get_params()


def test_refit_gives_the_same_model():
    keys, leaves, groups = _data()
    a = TitleClassifier(min_df=1, calibration_folds=2).fit(keys, leaves, groups=groups)
    b = TitleClassifier(min_df=1, calibration_folds=2).fit(keys, leaves, groups=groups)
    np.testing.assert_array_equal(a.predict_proba(keys), b.predict_proba(keys))
    np.testing.assert_array_equal(a.calibration_[1], b.calibration_[1])


def test_load_refuses_another_format(fitted, tmp_path):
    import json
    import zipfile

    path = fitted.save(tmp_path / "m.npz")
    loaded = dict(np.load(path))
    header = json.loads(str(loaded["header"]))
    header["format_version"] = 99
    loaded["header"] = np.asarray(json.dumps(header))
    bad = tmp_path / "bad.npz"
    np.savez(bad, **loaded)
    assert zipfile.is_zipfile(bad)
    with pytest.raises(ValueError, match=r"bad\.npz: title model format_version 99"):
        TitleClassifier.load(bad)


def test_fit_checks_lengths():
    with pytest.raises(ValueError, match="fit got 2 keys and 1 labels"):
        TitleClassifier().fit(["a", "b"], ["24"])


def test_calibration_map():
    knots = fit_calibration([0.1, 0.2, 0.8, 0.9], [False, False, True, True])
    assert apply_calibration(knots, [0.0, 0.15, 0.95]).tolist() == [0.0, 0.0, 1.0]
    assert apply_calibration(fit_calibration([], []), 0.3) == pytest.approx(0.3)
