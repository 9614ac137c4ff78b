"""Learned job-title classifier behind :class:`~lmforecast.taxonomy.titles.TitleCoder`.

:class:`TitleClassifier` maps normalised title keys (:func:`~lmforecast.taxonomy.titles.title_key`)
to panel leaf occupations with a scikit-learn pipeline: character n-gram TF-IDF (``char_wb``,
word-bounded) plus word TF-IDF, fed to a multinomial :class:`~sklearn.linear_model.LogisticRegression`.

Its confidence is **calibrated out of occupation**: the pipeline is refitted on
:class:`~sklearn.model_selection.GroupKFold` folds grouped by ESCO occupation (no occupation's
labels in both the training and the predicted fold), the top probability of each out-of-fold
prediction is paired with whether it was right, and an
:class:`~sklearn.isotonic.IsotonicRegression` of right-or-wrong on top probability gives the
confidence: an estimate of the probability that the predicted leaf is right *for the title of an
occupation the dictionary does not hold*. For new wordings of known occupations it is
conservative.

The fitted state is plain arrays (vocabularies, idf weights, float16 coefficients, calibration
knots), stored by :meth:`TitleClassifier.save` in an ``.npz`` file without pickles, so it loads
across scikit-learn versions; :meth:`TitleClassifier.load` rebuilds the scikit-learn objects from
their public fitted attributes.
"""

from __future__ import annotations

import io
import json
import warnings
import zipfile
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_val_predict
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.utils.validation import check_is_fitted

FORMAT_VERSION = 1
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed member timestamps: same model -> same bytes


def _vectorisers(char_ngrams: tuple[int, int], min_df: int, vocabularies=(None, None)) -> FeatureUnion:
    char_vocab, word_vocab = vocabularies
    return FeatureUnion([
        ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(char_ngrams), min_df=min_df,
                                 sublinear_tf=True, dtype=np.float32, vocabulary=char_vocab)),
        ("word", TfidfVectorizer(analyzer="word", token_pattern=r"\S+", min_df=min_df, sublinear_tf=True,
                                 dtype=np.float32, vocabulary=word_vocab)),
    ])


def fit_calibration(score, right) -> tuple[np.ndarray, np.ndarray]:
    """Isotonic map from a score to the probability of being right.

    Parameters
    ----------
    score : float array (e.g. a predicted probability); right : bool array, same length.

    Returns
    -------
    (knots_x, knots_y) : the fitted :class:`~sklearn.isotonic.IsotonicRegression` thresholds
    (non-decreasing, y in [0, 1]); identity knots ``([0, 1], [0, 1])`` when ``score`` is empty.
    """
    score = np.asarray(score, dtype=np.float64)
    if score.size == 0:
        return np.array([0.0, 1.0]), np.array([0.0, 1.0])
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(score, np.asarray(right, dtype=float))
    return np.asarray(iso.X_thresholds_, dtype=np.float64), np.asarray(iso.y_thresholds_, dtype=np.float64)


def apply_calibration(knots: tuple, score) -> np.ndarray:
    """Evaluate an isotonic map of :func:`fit_calibration` (linear between knots, clipped at the ends).

    Parameters
    ----------
    knots : ``(knots_x, knots_y)``; score : float or array.

    Returns
    -------
    float array of calibrated probabilities (what ``IsotonicRegression.predict`` returns).
    """
    knots_x, knots_y = knots
    return np.interp(np.asarray(score, dtype=np.float64), np.asarray(knots_x, dtype=np.float64),
                     np.asarray(knots_y, dtype=np.float64))


class TitleClassifier(ClassifierMixin, BaseEstimator):
    """Title key -> panel leaf, with a calibrated confidence.

    Parameters
    ----------
    C : inverse L2 regularisation strength of the logistic regression.
    char_ngrams : (min, max) length of the word-bounded character n-grams.
    min_df : n-grams and words seen in fewer training titles are dropped.
    max_iter : lbfgs iterations.
    calibration_folds : number of :class:`~sklearn.model_selection.GroupKFold` folds for the
        out-of-occupation calibration (needs ``groups`` in :meth:`fit`); 0 = no calibration
        (confidence = top probability).

    Attributes
    ----------
    pipeline_ : fitted :class:`~sklearn.pipeline.Pipeline` (features -> logistic regression).
    classes_ : leaf codes, in the order of :meth:`predict_proba` columns.
    calibration_ : ``(knots_x, knots_y)`` of the isotonic map from top probability to confidence.
    oof_ : dict, out-of-fold summary of the calibration run (rows, accuracy), empty without one.
    oof_proba_ : out-of-fold class probabilities of the training rows (after a calibrated fit only;
        not stored by :meth:`save`).
    """

    def __init__(self, C: float = 5.0, char_ngrams: tuple[int, int] = (2, 4), min_df: int = 2,
                 max_iter: int = 300, calibration_folds: int = 5) -> None:
        self.C = C
        self.char_ngrams = char_ngrams
        self.min_df = min_df
        self.max_iter = max_iter
        self.calibration_folds = calibration_folds

    def _pipeline(self) -> Pipeline:
        return Pipeline([("features", _vectorisers(self.char_ngrams, self.min_df)),
                         ("model", LogisticRegression(C=self.C, max_iter=self.max_iter))])

    def fit(self, keys, y, groups=None, calibrate_on=None) -> TitleClassifier:
        """Fit on labelled title keys.

        Parameters
        ----------
        keys : sequence of str, normalised title keys (:func:`~lmforecast.taxonomy.titles.title_key`).
        y : sequence of str, the leaf occupation of each key.
        groups : optional sequence, the occupation each key belongs to (e.g. the ESCO occupation);
            needed for the calibration, whose folds never split a group.
        calibrate_on : optional boolean mask, the rows whose out-of-fold predictions fit the
            calibration (default: all rows).

        Returns
        -------
        self. Coefficients are rounded to float16 after fitting (what :meth:`save` stores).
        """
        keys = np.asarray(keys, dtype=object)
        y = np.asarray(y, dtype=object)
        if len(keys) != len(y):
            raise ValueError(f"fit got {len(keys)} keys and {len(y)} labels")
        self.pipeline_ = self._pipeline().fit(keys, y)
        model = self.pipeline_.named_steps["model"]
        model.coef_ = model.coef_.astype(np.float16).astype(np.float64)
        model.intercept_ = model.intercept_.astype(np.float16).astype(np.float64)
        self.classes_ = model.classes_
        self.calibration_ = (np.array([0.0, 1.0]), np.array([0.0, 1.0]))
        self.oof_ = {}
        if self.calibration_folds and groups is not None:
            self._calibrate(keys, y, np.asarray(groups, dtype=object), calibrate_on)
        return self

    def _calibrate(self, keys, y, groups, calibrate_on) -> None:
        folds = GroupKFold(n_splits=self.calibration_folds)
        with warnings.catch_warnings():
            # a leaf whose rows all sit in one group is absent from one training fold: its
            # out-of-fold probability is 0 there, which is what we want
            warnings.filterwarnings("ignore", message="Number of classes in training fold", category=RuntimeWarning)
            proba = cross_val_predict(clone(self._pipeline()), keys, y, groups=groups, cv=folds,
                                      method="predict_proba")
        self.oof_proba_ = proba
        top = proba.max(axis=1)
        right = (self.classes_[proba.argmax(axis=1)] == y).astype(float)
        mask = np.ones(len(y), dtype=bool) if calibrate_on is None else np.asarray(calibrate_on, dtype=bool)
        self.calibration_ = fit_calibration(top[mask], right[mask])
        self.oof_ = {"rows": int(mask.sum()), "folds": self.calibration_folds,
                     "accuracy": float(right[mask].mean())}

    def predict_proba(self, keys) -> np.ndarray:
        """Class probabilities, shape ``(len(keys), len(classes_))`` (float)."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_.predict_proba(np.asarray(keys, dtype=object))

    def predict_with_confidence(self, keys) -> tuple[np.ndarray, np.ndarray]:
        """Most probable leaf of each key and its calibrated confidence.

        Parameters
        ----------
        keys : sequence of str (normalised title keys).

        Returns
        -------
        (leaves, confidence) : object array of leaf codes; float array in [0, 1].
        """
        if len(keys) == 0:
            return np.empty(0, dtype=object), np.empty(0, dtype=np.float64)
        proba = self.predict_proba(keys)
        return self.classes_[proba.argmax(axis=1)], self.calibrate(proba.max(axis=1))

    def calibrate(self, top_probability) -> np.ndarray:
        """Calibrated confidence of top probabilities (the stored isotonic map, clipped at its ends)."""
        return apply_calibration(self.calibration_, top_probability)

    def predict(self, keys) -> np.ndarray:
        """Most probable leaf of each key (object array)."""
        return self.predict_with_confidence(keys)[0]

    # -- persistence ----------------------------------------------------------------------------
    def save(self, path: str | Path, meta: dict | None = None) -> Path:
        """Store the fitted state as an ``.npz`` (no pickles; fixed member timestamps).

        Parameters
        ----------
        path : destination file (written atomically).
        meta : JSON-serialisable dict stored with the model (e.g. sources, fingerprints).

        Returns
        -------
        Path written.
        """
        from lmforecast.io import atomic_path

        check_is_fitted(self, "pipeline_")
        features = self.pipeline_.named_steps["features"]
        model = self.pipeline_.named_steps["model"]
        arrays = {"classes": np.asarray(self.classes_, dtype=str),
                  "coef": model.coef_.astype(np.float16), "intercept": model.intercept_.astype(np.float16),
                  "calibration_x": self.calibration_[0], "calibration_y": self.calibration_[1]}
        for name, vectoriser in features.transformer_list:
            vocab = vectoriser.vocabulary_
            arrays[f"{name}_vocabulary"] = np.asarray(sorted(vocab, key=vocab.__getitem__), dtype=str)
            arrays[f"{name}_idf"] = vectoriser.idf_.astype(np.float32)
        header = {"format_version": FORMAT_VERSION, "params": self.get_params(), "oof": self.oof_,
                  "meta": meta or {}}
        arrays["header"] = np.asarray(json.dumps(header, sort_keys=True, default=list))
        path = Path(path)
        with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in sorted(arrays):
                buffer = io.BytesIO()
                np.save(buffer, arrays[name], allow_pickle=False)
                info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, buffer.getvalue())
        return path

    @classmethod
    def load(cls, path: str | Path) -> tuple[TitleClassifier, dict]:
        """Rebuild a classifier stored by :meth:`save`.

        Parameters
        ----------
        path : ``.npz`` file.

        Returns
        -------
        (classifier, meta) : the fitted :class:`TitleClassifier` and the ``meta`` dict it was saved with.

        Raises
        ------
        ValueError naming the file when it is not a model of this format version.
        """
        path = Path(path)
        with np.load(path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
        header = json.loads(str(arrays["header"]))
        if header.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"{path}: title model format_version {header.get('format_version')!r}, "
                             f"expected {FORMAT_VERSION}; rebuild it with "
                             "`python -m lmforecast.taxonomy.build_title_dictionary`")
        params = header["params"]
        params["char_ngrams"] = tuple(params["char_ngrams"])
        self = cls(**params)
        vocabularies = tuple({term: i for i, term in enumerate(arrays[f"{name}_vocabulary"].tolist())}
                             for name in ("char", "word"))
        features = _vectorisers(self.char_ngrams, self.min_df, vocabularies)
        for (_, vectoriser), name in zip(features.transformer_list, ("char", "word")):
            vectoriser.idf_ = arrays[f"{name}_idf"].astype(np.float64)
        model = LogisticRegression(C=self.C, max_iter=self.max_iter)
        model.classes_ = arrays["classes"].astype(object)
        model.coef_ = arrays["coef"].astype(np.float64)
        model.intercept_ = arrays["intercept"].astype(np.float64)
        model.n_features_in_ = model.coef_.shape[1]
        self.pipeline_ = Pipeline([("features", features), ("model", model)])
        self.classes_ = model.classes_
        self.calibration_ = (arrays["calibration_x"], arrays["calibration_y"])
        self.oof_ = header["oof"]
        return self, header["meta"]
