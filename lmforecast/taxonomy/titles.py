"""Code free-text job titles (French/English) to panel occupations, with a confidence; abstain when unsure.

Each title is normalised to a key (:func:`~lmforecast.taxonomy.title_keys.title_key`: gender
markers, city and contract words dropped, case/accents/plural/feminine folded); words the
dictionary does not know are corrected to the closest dictionary word
(:func:`rapidfuzz.fuzz.ratio` >= 85). Then:

1. **exact**: a key of the dictionary ``data/title_dictionary.csv.gz`` (ESCO v1.1.1 French and
   English occupation labels, ISCO-08 group titles and examples, a curated list of Moroccan
   titles; each with an ISCO-08 group mapped to its panel leaf by
   :func:`~lmforecast.taxonomy.occupations.leaf_for_isco`) is coded by it. Confidence: the share
   of the key's labels that agree on the leaf (curated labels outvote the others) -- the
   dictionary is taken as given, this share is not a calibrated probability.
2. Otherwise two candidates are weighed:

   * a **lookup** leaf: the first ordered keyword rule of ``data/title_rules.csv`` that matches
     (step ``rule``), else the best :func:`rapidfuzz.fuzz.token_set_ratio` match >= ``min_score``
     among dictionary keys sharing a rare word (step ``fuzzy``), else a last-resort rule;
   * the **model** leaf: the most probable leaf of
     :class:`~lmforecast.taxonomy.title_model.TitleClassifier` (character n-gram TF-IDF + logistic
     regression trained on the dictionary, shipped as ``data/title_model.npz``).

   Each gets a *calibrated* confidence, fitted when the model file was built on ESCO occupations
   held out of the dictionary (out-of-fold, grouped by occupation): the model leaf through an
   isotonic map of its top probability; a lookup leaf through an isotonic map, per step, of the
   model's probability *of that leaf* (a rule the model agrees with is trusted, one it
   contradicts is not). The more confident candidate is kept.
3. A title whose confidence is below ``min_confidence`` (default :data:`MIN_CONFIDENCE`) is
   :data:`~lmforecast.panel.UNCLASSIFIED` (step ``abstained``) -- never a silent guess.

The calibrated confidences of step 2 estimate the probability of being right *for titles of
occupations the dictionary does not hold*; new wordings of known occupations are right more
often, so the threshold is conservative for them. Measured
figures: ``benchmarks/results/bench_titles.md``.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from lmforecast.panel import UNCLASSIFIED
from lmforecast.taxonomy._tables import data_path
from lmforecast.taxonomy.occupations import leaf_for_isco, load_occupations
from lmforecast.taxonomy.title_keys import title_key, title_key_version, title_prekeys, title_tokens
from lmforecast.taxonomy.title_model import TitleClassifier, apply_calibration

__all__ = ["DICTIONARY_FILE", "KEYS_FILE", "MIN_CONFIDENCE", "MODEL_FILE", "TitleCoder", "dictionary_keys",
           "load_title_dictionary", "load_title_model", "load_title_rules", "title_key", "title_key_version",
           "title_prekeys", "title_tokens", "write_dictionary_keys"]

DICTIONARY_FILE = "title_dictionary.csv.gz"
KEYS_FILE = "title_dictionary_keys.json.gz"
MODEL_FILE = "title_model.npz"
#: Default abstention threshold: a title is coded only when the calibrated probability that its
#: code is right is at least this (0.5: never code a title more likely wrong than right).
MIN_CONFIDENCE = 0.5
#: lookup steps whose leaf is a candidate weighed against the model's (calibrated per step)
CANDIDATE_STEPS = ("rule", "fuzzy")


@lru_cache(maxsize=1)
def load_title_dictionary() -> pd.DataFrame:
    """The embedded title dictionary.

    Returns
    -------
    DataFrame with columns ``label`` (title as written), ``isco_code`` (ISCO-08 group),
    ``lang`` (``en``/``fr``), ``origin`` (``curated``, ``esco``, ``isco``, ``isco_example``) and
    ``concept`` (the ESCO occupation or ISCO group the label names, e.g. ``esco:2654.1.7``).
    """
    return pd.read_csv(data_path(DICTIONARY_FILE), dtype=str, keep_default_na=False)


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_dictionary_keys(path: Path | None = None) -> Path:
    """Compute :func:`title_key` of every dictionary label and store them (run at build time).

    Parameters
    ----------
    path : destination (default ``taxonomy/data/title_dictionary_keys.json.gz``).

    Returns
    -------
    Path written (atomically; gzip without timestamp, so the same inputs give the same bytes):
    JSON ``{"key_version", "dictionary_sha256", "keys"}`` with one key per dictionary row, in order.
    """
    from lmforecast.io import atomic_path

    path = data_path(KEYS_FILE) if path is None else Path(path)
    labels = pd.read_csv(data_path(DICTIONARY_FILE), dtype=str, keep_default_na=False)["label"]
    payload = {"key_version": title_key_version(),
               "dictionary_sha256": _file_sha256(data_path(DICTIONARY_FILE)),
               "keys": [title_key(label) for label in labels]}
    data = gzip.compress(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8"),
                         mtime=0)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path


def _stale_warning(what: str, path: Path, reason: str, consequence: str) -> None:
    warnings.warn(f"stored {what} {path} {reason}: {consequence}; rebuild with "
                  "`python -m lmforecast.taxonomy.build_title_dictionary ../shared/data/esco-skills`",
                  UserWarning, stacklevel=3)


def dictionary_keys(path: Path | None = None) -> list[str]:
    """:func:`title_key` of every dictionary label, in dictionary order.

    Read from the file :func:`write_dictionary_keys` stored at build time when its
    ``key_version`` equals :func:`title_key_version` and its ``dictionary_sha256`` the current
    dictionary; otherwise (file missing, stale or for another dictionary) a ``UserWarning`` says
    why and the keys are recomputed (a few seconds; rebuild the file with
    ``python -m lmforecast.taxonomy.build_title_dictionary --keys-only``). Both give the same keys.

    Parameters
    ----------
    path : stored keys (default ``taxonomy/data/title_dictionary_keys.json.gz``).

    Returns
    -------
    list of str, one key per row of :func:`load_title_dictionary`.
    """
    path = data_path(KEYS_FILE) if path is None else Path(path)
    labels = load_title_dictionary()["label"]
    reason = None
    try:
        stored = json.loads(gzip.decompress(path.read_bytes()).decode("utf-8"))
    except (OSError, ValueError) as exc:
        stored, reason = None, f"cannot be read ({type(exc).__name__}: {exc})"
    if stored is not None:
        if stored.get("key_version") != title_key_version():
            reason = "was computed by another version of the title normalisation (key_version differs)"
        elif stored.get("dictionary_sha256") != _file_sha256(data_path(DICTIONARY_FILE)):
            reason = f"was computed for another {DICTIONARY_FILE} (dictionary_sha256 differs)"
        elif not isinstance(stored.get("keys"), list) or len(stored["keys"]) != len(labels):
            reason = f"holds {len(stored.get('keys') or [])} keys for {len(labels)} dictionary labels"
        else:
            return stored["keys"]
    warnings.warn(f"stored title keys {path} {reason}: recomputing them (a few seconds per TitleCoder start); "
                  "rebuild with `python -m lmforecast.taxonomy.build_title_dictionary --keys-only`",
                  UserWarning, stacklevel=2)
    return [title_key(label) for label in labels]


@lru_cache(maxsize=1)
def load_title_rules() -> pd.DataFrame:
    """Ordered keyword rules.

    Returns
    -------
    DataFrame with columns ``pattern`` (regex searched in the title key padded with spaces),
    ``isco_code`` (ISCO-08 unit group), ``stage`` (``before_fuzzy`` or ``after_fuzzy``), ``note``.
    """
    return pd.read_csv(data_path("title_rules.csv"), dtype=str, keep_default_na=False)


@lru_cache(maxsize=1)
def load_title_model() -> tuple[TitleClassifier, dict]:
    """The shipped :class:`~lmforecast.taxonomy.title_model.TitleClassifier` (``data/title_model.npz``).

    A ``UserWarning`` says so when it was built from another dictionary or key normalisation than
    the current ones (it still works, but its calibration may be off).

    Returns
    -------
    (classifier, meta) : the model and its build metadata (``calibration`` of the lookup steps,
    sources, fingerprints).
    """
    path = data_path(MODEL_FILE)
    model, meta = TitleClassifier.load(path)
    if meta.get("dictionary_sha256") != _file_sha256(data_path(DICTIONARY_FILE)):
        _stale_warning("title model", path, f"was trained on another {DICTIONARY_FILE}", "using it anyway")
    elif meta.get("key_version") != title_key_version():
        _stale_warning("title model", path, "was trained on keys of another title normalisation", "using it anyway")
    return model, meta


@dataclass(frozen=True)
class _Coded:
    code: str
    step: str
    confidence: float


class TitleCoder:
    """Free-text job title -> panel occupation code, with a calibrated confidence.

    Parameters
    ----------
    occupations : panel occupations (:func:`~lmforecast.taxonomy.occupations.load_occupations`);
        only the default Moroccan (ISCO-08 based) list is supported, which is also the default.
    min_score : minimal :func:`rapidfuzz.fuzz.token_set_ratio` (0-100) for a fuzzy match.
    min_confidence : abstention threshold in [0, 1] (default :data:`MIN_CONFIDENCE`): a title
        whose best result has a lower confidence is ``unclassified``.
    dictionary : labelled titles to look up and match, columns ``label``, ``isco_code``, ``origin``
        and optionally ``key`` (their :func:`title_key`, computed when absent); default: the
        shipped dictionary (:func:`load_title_dictionary`) and its stored keys.
    model : ``"default"`` (the shipped model, :func:`load_title_model`), a fitted
        :class:`~lmforecast.taxonomy.title_model.TitleClassifier`, or None (lookup steps only).
    calibration : isotonic maps ``{"rule": {"x": [...], "y": [...]}, "fuzzy": {...}}`` from the
        model's probability of a rule's or fuzzy match's leaf to the confidence of that leaf
        (:func:`~lmforecast.taxonomy.title_model.fit_calibration` knots). Default: the maps stored
        with the shipped model when ``model="default"``; a step without a map (or any step when
        ``model`` is None) has confidence 1.0.

    Examples
    --------
    >>> coder = TitleCoder()
    >>> coder.code("Développeur Java Senior (H/F) - Casablanca")
    '2512'
    >>> coder.code("Téléconseiller francophone - Rabat")
    '4222'
    """

    def __init__(self, occupations: pd.DataFrame | None = None, min_score: float = 90.0,
                 min_confidence: float = MIN_CONFIDENCE, dictionary: pd.DataFrame | None = None,
                 model: TitleClassifier | str | None = "default", calibration: dict | None = None) -> None:
        if not 0.0 <= float(min_confidence) <= 1.0:
            raise ValueError(f"min_confidence must be in [0, 1], got {min_confidence!r}")
        self.occupations = occupations
        self.min_score = min_score
        self.min_confidence = float(min_confidence)
        leaves = load_occupations() if occupations is None else occupations
        self.leaves_ = frozenset(leaves["code"])
        self._major = dict(zip(leaves["code"], leaves["major"]))
        meta: dict = {}
        if isinstance(model, str):
            if model != "default":
                raise ValueError(f"model must be 'default', a TitleClassifier or None, got {model!r}")
            model, meta = load_title_model()
        self.model_ = model
        stored = meta.get("calibration", {}) if calibration is None else calibration
        self.calibration_ = {step: (np.asarray(stored[step]["x"], dtype=np.float64),
                                    np.asarray(stored[step]["y"], dtype=np.float64))
                             for step in CANDIDATE_STEPS if step in stored}
        if dictionary is None:
            dictionary, keys = load_title_dictionary(), dictionary_keys()
        elif missing := [c for c in ("label", "isco_code", "origin") if c not in dictionary.columns]:
            raise ValueError(f"TitleCoder dictionary lacks column(s) {missing}; it has {list(dictionary.columns)}")
        elif "key" in dictionary.columns:
            keys = dictionary["key"].tolist()
        else:
            keys = [title_key(str(label)) for label in dictionary["label"]]
        self._build(dictionary, keys)

    # -- construction ---------------------------------------------------------------------------
    def _leaf(self, isco_code: str) -> str | None:
        try:
            leaf = leaf_for_isco(isco_code)
        except ValueError:
            return None
        return leaf if leaf in self.leaves_ else None

    def _build(self, dictionary: pd.DataFrame, keys: list[str]) -> None:
        isco = dictionary["isco_code"].to_numpy(dtype=object)
        codes, distinct = pd.factorize(isco)
        leaf_of = np.array([self._leaf(code) for code in distinct] + [None], dtype=object)
        rows = pd.DataFrame({"key": np.asarray(keys, dtype=object), "leaf": leaf_of[codes],
                             "curated": dictionary["origin"].to_numpy(dtype=object) == "curated"})
        rows = rows[(rows["key"].to_numpy() != "") & rows["leaf"].notna().to_numpy()]
        # a key with curated labels is decided by them alone; else by all its labels (plurality, no tie)
        rows = rows[rows["curated"] | ~rows.groupby("key")["curated"].transform("any")]
        votes = rows.groupby(["key", "leaf"], sort=True).size().rename("n").reset_index()
        by_key = votes.groupby("key")["n"]
        votes["share"] = votes["n"] / by_key.transform("sum")
        winners = votes[votes["n"].eq(by_key.transform("max"))]
        winners = winners[winners.groupby("key")["leaf"].transform("size").eq(1)]
        self._keys = winners["key"].to_numpy(dtype=object).tolist()
        self._key_leaf = winners["leaf"].to_numpy(dtype=object).tolist()
        self.exact_: dict[str, tuple[str, float]] = dict(zip(self._keys, zip(self._key_leaf,
                                                                             winners["share"].tolist())))
        split = [key.split() for key in self._keys]
        key_ids = np.repeat(np.arange(len(split)), [len(t) for t in split])
        token_codes, vocab = pd.factorize(np.array([t for ts in split for t in ts], dtype=object))
        order = np.argsort(token_codes, kind="stable")
        bounds = np.searchsorted(token_codes[order], np.arange(len(vocab) + 1))
        self._postings = {t: key_ids[order[bounds[i]:bounds[i + 1]]] for i, t in enumerate(vocab.tolist())}
        self._vocab = list(self._postings)
        rules = load_title_rules()
        compiled = [(stage, re.compile(p), self._leaf(code)) for p, code, stage in
                    zip(rules["pattern"], rules["isco_code"], rules["stage"]) if self._leaf(code) is not None]
        self._rules = [(p, leaf) for stage, p, leaf in compiled if stage == "before_fuzzy"]
        self._late_rules = [(p, leaf) for stage, p, leaf in compiled if stage == "after_fuzzy"]
        self._model_column = ({leaf: i for i, leaf in enumerate(self.model_.classes_)}
                              if self.model_ is not None else {})
        self._cache: dict[str, _Coded] = {}

    # -- lookup steps (no threshold) ------------------------------------------------------------
    def _correct_key(self, key: str) -> str:
        """The key with each word unknown to the dictionary replaced by the closest known word."""
        tokens = key.split()
        corrected = [t if t in self._postings else (self._correct(t) or t) for t in tokens]
        return " ".join(sorted(set(corrected)))

    def _correct(self, token: str) -> str | None:
        if len(token) < 5:
            return None
        best = process.extractOne(token, self._vocab, scorer=fuzz.ratio, score_cutoff=85)
        return best[0] if best else None

    def _first_rule(self, rules: list, key: str) -> str | None:
        padded = f" {key} "
        for pattern, leaf in rules:
            if pattern.search(padded):
                return leaf
        return None

    def _lookup(self, key: str) -> tuple[str | None, str, float, str]:
        """Lookup steps of one key, no threshold: ``(leaf or None, step, exact share, corrected key)``.

        ``step`` is ``exact`` (then the third item is the share of the key's dictionary labels
        with that leaf), else the first of ``rule`` (rules before fuzzy), ``fuzzy``, ``rule``
        (rules after fuzzy) that gives a leaf (third item 0.0), else ``none``.
        """
        hit = self.exact_.get(key)
        if hit is not None:
            return hit[0], "exact", hit[1], key
        corrected = self._correct_key(key)
        hit = self.exact_.get(corrected) if corrected != key else None
        if hit is not None:
            return hit[0], "exact", hit[1], corrected
        leaf = self._first_rule(self._rules, corrected)
        if leaf is not None:
            return leaf, "rule", 0.0, corrected
        leaf = self._fuzzy(corrected)
        if leaf is not None:
            return leaf, "fuzzy", 0.0, corrected
        leaf = self._first_rule(self._late_rules, corrected)
        if leaf is not None:
            return leaf, "rule", 0.0, corrected
        return None, "none", 0.0, corrected

    def _fuzzy(self, key: str) -> str | None:
        tokens = [t for t in key.split() if t in self._postings]
        if not tokens:
            return None
        # candidates: dictionary keys sharing the two rarest words of the title
        tokens.sort(key=lambda t: len(self._postings[t]))
        ids = np.unique(np.concatenate([self._postings[t] for t in tokens[:2]]))
        choices = [self._keys[i] for i in ids]
        matches = process.extract(key, choices, scorer=fuzz.token_set_ratio,
                                  score_cutoff=self.min_score, limit=20)
        if not matches:
            return None
        best = max(matches, key=lambda m: (m[1], fuzz.token_sort_ratio(key, m[0]), -len(m[0])))
        return self._key_leaf[ids[best[2]]]

    # -- coding ---------------------------------------------------------------------------------
    def _code_keys(self, keys: list[str]) -> list[_Coded]:
        """Code distinct keys (cached): lookup steps key by key, then the model on the rest in one batch.

        A key the dictionary holds is coded by it. For the others the model scores the
        (typo-corrected) key; the rule or fuzzy leaf, if any, gets the calibrated confidence of the
        model's probability of that leaf, the model's own top leaf the calibrated confidence of its
        top probability, and the more confident of the two is kept (the lookup leaf on a tie).
        """
        todo = [k for k in dict.fromkeys(keys) if k not in self._cache]
        pending: list[tuple[str, str, str | None, str]] = []
        for key in todo:
            if not key:
                self._cache[key] = _Coded(UNCLASSIFIED, "empty", 0.0)
                continue
            leaf, step, share, corrected = self._lookup(key)
            if step == "exact" and share >= self.min_confidence:
                self._cache[key] = _Coded(leaf, step, share)
            elif self.model_ is None:
                self._cache[key] = (_Coded(leaf, step, 1.0) if leaf is not None and step != "exact"
                                    else _Coded(UNCLASSIFIED, "unmatched", 0.0))
            else:
                pending.append((key, corrected, leaf if step != "exact" else None, step))
        if pending:
            proba = self.model_.predict_proba([corrected for _, corrected, _, _ in pending])
            top = proba.argmax(axis=1)
            top_conf = self.model_.calibrate(proba[np.arange(len(pending)), top])
            for i, (key, _, leaf, step) in enumerate(pending):
                best = _Coded(self.model_.classes_[top[i]], "model", float(top_conf[i]))
                if leaf is not None:
                    column = self._model_column.get(leaf)
                    score = proba[i, column] if column is not None else 0.0
                    conf = float(apply_calibration(self.calibration_[step], score)) if step in self.calibration_ else 1.0
                    if conf >= best.confidence:
                        best = _Coded(leaf, step, conf)
                if best.code not in self.leaves_ or best.confidence < self.min_confidence:
                    best = _Coded(UNCLASSIFIED, "abstained", best.confidence)
                self._cache[key] = best
        return [self._cache[k] for k in keys]

    def _details(self, title: object) -> _Coded:
        if not isinstance(title, str):
            return _Coded(UNCLASSIFIED, "missing", 0.0)
        return self._code_keys([title_key(title)])[0]

    def code(self, title: str) -> str:
        """Panel leaf code of one job title, or ``unclassified``.

        Parameters
        ----------
        title : raw job title (any case, accents, ``(H/F)``, city suffix ...).

        Returns
        -------
        str : a panel occupation code, or :data:`~lmforecast.panel.UNCLASSIFIED`.
        """
        return self._details(title).code

    def code_details(self, titles: pd.Series) -> pd.DataFrame:
        """Code many titles, with how and how confidently.

        Each distinct title is reduced to its pre-key (:func:`title_prekeys`, same key), each
        distinct key is coded once (the model scores all keys the lookup steps leave in one batch).

        Parameters
        ----------
        titles : Series of raw job titles (missing values -> ``unclassified``, step ``missing``).

        Returns
        -------
        DataFrame with the index of ``titles`` and columns ``code`` (str), ``step`` (``exact``,
        ``rule``, ``fuzzy``, ``model``, ``abstained``, ``unmatched`` (no model), ``empty``,
        ``missing``) and ``confidence``
        (float in [0, 1]; for ``abstained`` titles, the best confidence offered, below the threshold).
        """
        titles = pd.Series(titles)
        codes, uniques = pd.factorize(titles, use_na_sentinel=True)
        uniques = np.asarray(uniques, dtype=object)
        text = np.array([isinstance(t, str) for t in uniques], dtype=bool)
        results = np.empty(len(uniques) + 1, dtype=object)
        results[-1] = _Coded(UNCLASSIFIED, "missing", 0.0)
        results[:-1][~text] = [self._details(t) for t in uniques[~text]]
        if text.any():  # each distinct title -> a pre-key with the same title_key; key each pre-key once
            pre_codes, prekeys = pd.factorize(pd.Series(title_prekeys(uniques[text]), dtype=object))
            keys = [title_key(p) for p in np.asarray(prekeys, dtype=object)]
            coded = np.empty(len(keys), dtype=object)
            coded[:] = self._code_keys(keys)
            results[:-1][text] = coded[pre_codes]
        per_unique = results
        out = pd.DataFrame({"code": pd.array([r.code for r in per_unique], dtype="str"),
                            "step": [r.step for r in per_unique],
                            "confidence": np.array([r.confidence for r in per_unique], dtype=np.float64)})
        out = out.iloc[codes].reset_index(drop=True)
        out.index = titles.index
        return out

    def code_many(self, titles: pd.Series) -> pd.Series:
        """Vectorised :meth:`code` (see :meth:`code_details`).

        Parameters
        ----------
        titles : Series of raw job titles (missing values -> ``unclassified``).

        Returns
        -------
        Series of panel occupation codes (``str``), same index and name as ``titles``.
        """
        return pd.Series(self.code_details(titles)["code"].to_numpy(), index=titles.index, name=titles.name,
                         dtype="str")

    def explain(self, title: str) -> dict:
        """How a title was coded.

        Returns
        -------
        dict ``{"title", "key", "code", "step", "confidence"}`` (step as in :meth:`code_details`).
        """
        coded = self._details(title)
        return {"title": title, "key": title_key(title) if isinstance(title, str) else "",
                "code": coded.code, "step": coded.step, "confidence": coded.confidence}

    def coverage_report(self, titles: pd.Series) -> dict:
        """Coverage of a set of titles.

        Returns
        -------
        dict with ``n`` (rows), ``coverage`` (0-1 share of rows coded to a real occupation),
        ``by_step`` ({step: share of rows}), ``by_major`` ({major group: share of rows}),
        ``confidence`` (:func:`confidence_summary` of the rows) and ``unclassified_top``
        ({title: rows}, 20 most frequent uncoded titles).
        """
        titles = pd.Series(titles)
        n = len(titles)
        details = self.code_details(titles)
        uncoded = details["code"].to_numpy() == UNCLASSIFIED
        majors = details["code"].map(lambda c: self._major.get(c, c)).replace({UNCLASSIFIED: "X"})
        top = titles[uncoded & titles.notna().to_numpy()].astype(str).value_counts().head(20)
        return {
            "n": n,
            "coverage": float((~uncoded).mean()) if n else float("nan"),
            "by_step": {k: v / n for k, v in sorted(details["step"].value_counts().items())},
            "by_major": {k: v / n for k, v in sorted(majors.value_counts().items())},
            "confidence": confidence_summary(details, self.min_confidence),
            "unclassified_top": {str(k): int(v) for k, v in top.items()},
        }


CONFIDENCE_BINS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def confidence_summary(details: pd.DataFrame, min_confidence: float | None = None,
                       weights: np.ndarray | None = None) -> dict:
    """Coded share and confidence distribution of coded titles (for reports).

    Parameters
    ----------
    details : :meth:`TitleCoder.code_details` output (columns ``code``, ``step``, ``confidence``).
    min_confidence : the coder's threshold, copied into the summary.
    weights : optional rows per title (e.g. ads per distinct title); default 1 each.

    Returns
    -------
    dict: ``n`` (sum of weights), ``coded_share``, ``by_step`` ({step: share}),
    ``min_confidence``, ``coded_confidence_quantiles`` ({"p10", "p25", "p50", "p75", "p90"} of
    the confidence of coded rows; None when nothing is coded) and ``confidence_histogram``
    ({"[lo, hi)": share of all rows}, bins :data:`CONFIDENCE_BINS`, the last one closed; uncoded
    rows count at the confidence the coder offered them). Shares are None when there is no row
    (JSON-safe: no NaN).
    """
    w = np.ones(len(details)) if weights is None else np.asarray(weights, dtype=np.float64)
    total = float(w.sum())
    conf = details["confidence"].to_numpy(dtype=np.float64)
    coded = details["code"].to_numpy() != UNCLASSIFIED
    steps = pd.Series(w).groupby(details["step"].to_numpy()).sum()
    quantiles: dict[str, float | None] = {f"p{int(q * 100)}": None for q in (0.1, 0.25, 0.5, 0.75, 0.9)}
    if coded.any():
        order = np.argsort(conf[coded], kind="stable")
        cum = np.cumsum(w[coded][order]) / w[coded].sum()
        for q in (0.1, 0.25, 0.5, 0.75, 0.9):
            quantiles[f"p{int(q * 100)}"] = float(conf[coded][order][np.searchsorted(cum, q)])
    bins = np.clip(np.searchsorted(CONFIDENCE_BINS, conf, side="right") - 1, 0, len(CONFIDENCE_BINS) - 2)
    hist = np.bincount(bins, weights=w, minlength=len(CONFIDENCE_BINS) - 1)
    labels = [f"[{lo:.1f}, {hi:.1f}{']' if i == len(CONFIDENCE_BINS) - 2 else ')'}"
              for i, (lo, hi) in enumerate(zip(CONFIDENCE_BINS[:-1], CONFIDENCE_BINS[1:]))]
    share = (lambda x: float(x) / total) if total else (lambda x: None)
    return {"n": total, "coded_share": share(w[coded].sum()),
            "by_step": {str(k): share(v) for k, v in sorted(steps.items())},
            "min_confidence": min_confidence, "coded_confidence_quantiles": quantiles,
            "confidence_histogram": {label: share(h) for label, h in zip(labels, hist)}}
