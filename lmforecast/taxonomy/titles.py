"""Code free-text job titles (French/English) to panel occupations.

Method (each step only runs for titles the previous one left uncoded):

1. normalise: drop gender markers ``(H/F)``, ``F/H``, ``(e)``; drop trailing `` - <city>`` and
   ``(<city>)`` parts recognised by :class:`~lmforecast.taxonomy.regions.RegionNormalizer`, and
   contract/seniority words (senior, junior, confirmé, expérimenté, stage, PFE, freelance, CDI
   ...); fold case, accents and punctuation; unify plural and feminine endings; drop stop words;
   sort the remaining tokens into a key;
2. exact key lookup in the embedded dictionary ``data/title_dictionary.csv.gz`` (ESCO v1.1.1
   English preferred and alternative labels + a curated list of Moroccan French/English titles,
   each with an ISCO-08 unit group, mapped to the panel leaf by
   :func:`~lmforecast.taxonomy.occupations.leaf_for_isco`);
3. ordered keyword rules ``data/title_rules.csv`` (regular expressions on the key);
4. :func:`rapidfuzz.fuzz.token_set_ratio` against dictionary keys sharing a word with the
   title (words misspelt are first corrected to the closest dictionary word, ratio >= 85);
   the best candidate is kept only if its score is >= ``min_score``;
5. otherwise :data:`~lmforecast.panel.UNCLASSIFIED` -- never a silent guess.
"""

from __future__ import annotations

import gzip
import hashlib
import inspect
import json
import re
import unicodedata
import warnings
from collections import Counter, defaultdict
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from lmforecast.panel import UNCLASSIFIED
from lmforecast.taxonomy._tables import data_path
from lmforecast.taxonomy._text import fold
from lmforecast.taxonomy.occupations import leaf_for_isco, load_occupations
from lmforecast.taxonomy.regions import RegionNormalizer

_GENDER = re.compile(r"\(\s*[hfmw]\s*/\s*[hfmwd](?:\s*/\s*[hfmwd])?\s*\)|\b[hfm]\s*/\s*[hfm]\b|\(\s*e\s*\)|\(\s*s\s*\)",
                     re.IGNORECASE)
_TECH = [
    (re.compile(r"c\s*#", re.I), " csharp "), (re.compile(r"c\+\+", re.I), " cpp "),
    (re.compile(r"(?<![a-z])\.\s*net\b", re.I), " dotnet "), (re.compile(r"\bdot\s+net\b", re.I), " dotnet "),
    (re.compile(r"\b(node|vue|react|next|nest|express)\s*\.?\s*js\b", re.I), r" \1js "),
    (re.compile(r"\bj2ee\b", re.I), " jee "), (re.compile(r"\bjava\s*ee\b", re.I), " jee "),
    (re.compile(r"\bfull[\s-]*stack\b", re.I), " fullstack "),
    (re.compile(r"\bfront[\s-]*end\b", re.I), " frontend "),
    (re.compile(r"\bback[\s-]*end\b", re.I), " backend "),
    (re.compile(r"\bhelp[\s-]*desk\b", re.I), " helpdesk "),
    (re.compile(r"\bbig[\s-]*data\b", re.I), " bigdata "),
    (re.compile(r"\bweb[\s-]*master\b", re.I), " webmaster "),
    (re.compile(r"\bdev[\s-]*ops\b", re.I), " devops "),
    (re.compile(r"\bd[ée]velopp?er\b", re.I), " developpeur "),
    (re.compile(r"\bdevelopper\b", re.I), " developpeur "),
]
_SEPARATORS = re.compile(r"\s+[-–—|]+\s*|\s*[-–—|]+\s+|\s*\|\s*")
_PAREN = re.compile(r"\(([^()]*)\)")
_DROP_TOKENS = frozenset("""
senior seniors sr junior juniors jr confirme confirmes experimente experimentes debutant debutants
stage stagiaire stagiaires pfe pfa alternance alternant cdi cdd freelance interim urgent h f hf fh mw
mon tec nouveau nouvelle poste profil recrute recherche entry level bac mois an ans
""".split())
_STOP_TOKENS = frozenset("""
de du des la le les l d et en a au aux pour par sur avec dans un une e s ou of and the in for to at
with on or
""".split())


def _stem(token: str) -> str:
    """Unify French plural and feminine endings (applied to titles and dictionary alike)."""
    if len(token) > 4 and token.endswith("s") and not token.endswith("ss"):
        token = token[:-1]
    if len(token) > 4 and token.endswith("x") and token[-3:] in ("aux", "eux"):
        token = token[:-1]
    for suffix, repl in (("euse", "eur"), ("trice", "teur"), ("iere", "ier"), ("ere", "er"),
                         ("enne", "en"), ("ee", "e"), ("ante", "ant"), ("ale", "al")):
        if len(token) > len(suffix) + 2 and token.endswith(suffix):
            return token[: -len(suffix)] + repl
    return token


@lru_cache(maxsize=1)
def _location_normalizer() -> RegionNormalizer:
    return RegionNormalizer(fuzzy_cutoff=None)


def _is_location(text: str) -> bool:
    code = _location_normalizer().normalize(text)
    return code is not None


@lru_cache(maxsize=1 << 18)
def title_tokens(title: str) -> tuple[str, ...]:
    """Normalised tokens of a job title (see module docstring, step 1).

    Parameters
    ----------
    title : raw job title, e.g. ``"Développeur .NET Senior (H/F) - Casablanca"``.

    Returns
    -------
    tuple of str : sorted unique tokens, e.g. ``('developpeur', 'dotnet')``; empty if nothing
    informative is left.
    """
    text = _GENDER.sub(" ", title)
    text = _PAREN.sub(lambda m: " " if _is_location(m.group(1)) else f" {m.group(1)} ", text)
    parts = [p for p in _SEPARATORS.split(text) if p and p.strip()]
    if len(parts) > 1:
        keep = [parts[0]] + [p for p in parts[1:] if not _is_location(p)]
        text = " ".join(keep)
    for pattern, repl in _TECH:
        text = pattern.sub(repl, text)
    tokens = []
    for token in fold(text).split():
        if token in _DROP_TOKENS or token in _STOP_TOKENS:
            continue
        token = _stem(token)
        if token in _DROP_TOKENS or token in _STOP_TOKENS:
            continue
        tokens.append(token)
    return tuple(sorted(set(tokens)))


def title_key(title: str) -> str:
    """Matching key of a job title: its normalised tokens joined by spaces."""
    return " ".join(title_tokens(title))


# Reduction of a title to a shorter text with the same title_key (see title_prekeys). Every
# pattern removes only text that title_tokens drops itself, at the end (or start) of the title.
_LOWER_SAFE_MAX = "\u024f"  # Latin letters (Basic Latin .. Latin Extended-B) lower-case 1:1 ...
_LOWER_UNSAFE = "\u0130"  # ... except U+0130 (lower() adds a combining dot)
_SEP_CHARS = "\\-\u2013\u2014|"
_SENIORITY_WORDS = ("senior", "junior", "confirmé")


@lru_cache(maxsize=1)
def _prekey_patterns() -> dict[str, str]:
    """RE2 patterns (pyarrow.compute) of :func:`title_prekeys`, built on Python's whitespace set."""
    space = "".join(f"\\x{{{ord(c):04x}}}" for c in map(chr, range(0x110000)) if c.isspace())
    edge = f"[^{space}{_SEP_CHARS}]"  # a character no separator match can start or end on
    return {
        # head, separator (as _SEPARATORS matches it), last part without separator/paren/slash chars
        "suffix": (f"^(?P<head>{edge}(?:.*{edge})?)(?P<sep>[{space}]+[{_SEP_CHARS}]+[{space}]*)"
                   f"(?P<part>[^{space}{_SEP_CHARS}()/][^{_SEP_CHARS}()/]*)$"),
        "gender": f"[{space}]+\\(h/f\\)$",
        "seniority_end": f"(?P<head>.*{edge})[{space}]+(?:{'|'.join(_SENIORITY_WORDS)})$",
        "seniority_start": f"^(?:{'|'.join(_SENIORITY_WORDS[:2])})[{space}]+(?P<rest>{edge}.*)$",
    }


def title_prekeys(titles) -> list[str]:
    """Shorter texts with the same :func:`title_key` as each title, to code many titles at once.

    Scraped titles are a few thousand job names decorated many ways (``"DÉVELOPPEUR JAVA SENIOR
    (H/F) - CASABLANCA"``); reducing each distinct title to its undecorated form lets
    :meth:`TitleCoder.code_many` run :func:`title_tokens` once per job name instead of once per
    decoration. In order, with vectorised pyarrow string kernels on the distinct titles:

    1. lower-case (Python ``str.lower``) titles made only of Latin letters (up to U+024F, not
       U+0130), whose lower-casing changes no regular-expression match of :func:`title_tokens`;
    2. drop a last `` - <part>`` (any separator of :func:`title_tokens`) when ``<part>`` holds no
       separator, parenthesis or slash and is a location (the check :func:`title_tokens` makes);
    3. drop a final ``(h/f)``; 4. drop a final ``senior``/``junior``/``confirmé`` and a leading
       ``senior``/``junior``: tokens :func:`title_tokens` drops, in positions where no other
       pattern can use them.

    Each removal needs a letter, digit or other non-separator, non-space character on the kept
    side, so the separators :func:`title_tokens` splits on are unchanged. The property
    ``title_key(t) == title_key(prekey)`` is tested on the dictionary, the labelled sample and
    every decoration of the Moroccan title lists (``tests/taxonomy/test_titles.py``).

    Parameters
    ----------
    titles : sequence of str.

    Returns
    -------
    list of str, one pre-key per title (the title itself when nothing applies).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    lowered = [t.lower() if t and max(t) <= _LOWER_SAFE_MAX and _LOWER_UNSAFE not in t else t for t in titles]
    if not lowered:
        return []
    patterns = _prekey_patterns()
    text = pa.array(lowered, type=pa.string())
    # 2. location suffix: the location check runs once per distinct last part
    parts = pc.extract_regex(text, patterns["suffix"])
    part = parts.field("part")
    valid = parts.is_valid()
    distinct = pc.unique(part.filter(valid))
    is_place = pa.array([_is_location(p) for p in distinct.to_pylist()], type=pa.bool_())
    drop = pc.and_(valid, pc.fill_null(pc.take(is_place, pc.index_in(part, distinct)), False))
    text = pc.if_else(drop, parts.field("head"), text)
    # 3. gender marker, 4. seniority words
    text = pc.replace_substring_regex(text, patterns["gender"], "")
    text = pc.replace_substring_regex(text, patterns["seniority_end"], r"\1")
    text = pc.replace_substring_regex(text, patterns["seniority_start"], r"\1")
    return text.to_pylist()


@lru_cache(maxsize=1)
def load_title_dictionary() -> pd.DataFrame:
    """The embedded title dictionary.

    Returns
    -------
    DataFrame with columns ``label`` (title as written), ``isco_code`` (ISCO-08 unit group,
    4 digits), ``lang`` (``en``/``fr``), ``origin`` (``esco`` or ``curated``).
    """
    return pd.read_csv(data_path(DICTIONARY_FILE), dtype=str, keep_default_na=False)


DICTIONARY_FILE = "title_dictionary.csv.gz"
KEYS_FILE = "title_dictionary_keys.json.gz"
_REGION_TABLES = ("ma_regions.csv", "ma_regions_1997.csv", "ma_provinces_2014.csv", "ma_region_aliases.csv")


@lru_cache(maxsize=1)
def title_key_version() -> str:
    """Fingerprint of everything :func:`title_key` depends on (for the stored dictionary keys).

    sha256 of: the source of the normalisation functions of this module (:func:`title_tokens`,
    :func:`title_key`, ``_stem``, ``_is_location``, ``_location_normalizer``) and its patterns and
    word lists, the whole source of ``taxonomy/_text.py`` (folding) and ``taxonomy/regions.py``
    (the location check), the Moroccan region tables the location check reads, and the Unicode
    database version. Any change to one of them changes the fingerprint.

    Returns
    -------
    str : 64 hexadecimal characters.
    """
    from lmforecast.taxonomy import _text, regions

    digest = hashlib.sha256()
    for func in (_stem, _location_normalizer, _is_location, title_tokens, title_key):
        digest.update(inspect.getsource(func).encode("utf-8"))
    constants = (_GENDER.pattern, _GENDER.flags, [(p.pattern, p.flags, r) for p, r in _TECH],
                 _SEPARATORS.pattern, _PAREN.pattern, sorted(_DROP_TOKENS), sorted(_STOP_TOKENS))
    digest.update(repr(constants).encode("utf-8"))
    for module in (_text, regions):
        digest.update(Path(module.__file__).read_bytes())
    for name in _REGION_TABLES:
        digest.update(data_path(name).read_bytes())
    digest.update(unicodedata.unidata_version.encode("ascii"))
    return digest.hexdigest()


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


def dictionary_keys(path: Path | None = None) -> list[str]:
    """:func:`title_key` of every dictionary label, in dictionary order.

    Read from the file :func:`write_dictionary_keys` stored at build time when its
    ``key_version`` equals :func:`title_key_version` and its ``dictionary_sha256`` the current
    dictionary; otherwise (file missing, stale or for another dictionary) a ``UserWarning`` says
    why and the keys are recomputed (~2 s; rebuild the file with
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
    warnings.warn(f"stored title keys {path} {reason}: recomputing them (~2 s per TitleCoder start); "
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


class TitleCoder:
    """Free-text job title -> panel occupation code.

    Parameters
    ----------
    occupations : panel occupations (:func:`~lmforecast.taxonomy.occupations.load_occupations`);
        only the default Moroccan (ISCO-08 based) list is supported, which is also the default.
    min_score : minimal :func:`rapidfuzz.fuzz.token_set_ratio` (0-100) for a fuzzy match;
        below it a title is ``unclassified``.

    Examples
    --------
    >>> coder = TitleCoder()
    >>> coder.code("Développeur Java Senior (H/F) - Casablanca")
    '2512'
    >>> coder.code("Téléconseiller francophone - Rabat")
    '4222'
    """

    def __init__(self, occupations: pd.DataFrame | None = None, min_score: float = 90.0) -> None:
        self.occupations = occupations
        self.min_score = min_score
        leaves = load_occupations() if occupations is None else occupations
        self.leaves_ = frozenset(leaves["code"])
        self._build()

    # -- construction ---------------------------------------------------------------------------
    def _leaf(self, isco_code: str) -> str | None:
        try:
            leaf = leaf_for_isco(isco_code)
        except ValueError:
            return None
        return leaf if leaf in self.leaves_ else None

    def _build(self) -> None:
        dictionary = load_title_dictionary()
        votes: dict[str, dict[str, Counter]] = defaultdict(lambda: {"curated": Counter(),
                                                                    "esco": Counter()})
        for key, isco_code, origin in zip(dictionary_keys(), dictionary["isco_code"], dictionary["origin"]):
            leaf = self._leaf(isco_code)
            if leaf is None or not key:
                continue
            votes[key][origin][leaf] += 1
        self.exact_: dict[str, str] = {}
        for key, by_origin in votes.items():
            counter = by_origin["curated"] if by_origin["curated"] else by_origin["esco"]
            ranked = counter.most_common(2)
            if len(ranked) == 1 or ranked[0][1] > ranked[1][1]:
                self.exact_[key] = ranked[0][0]
        self._keys = list(self.exact_)
        self._key_leaf = [self.exact_[k] for k in self._keys]
        postings: dict[str, list[int]] = defaultdict(list)
        for i, key in enumerate(self._keys):
            for token in key.split():
                postings[token].append(i)
        self._postings = {t: np.asarray(ids) for t, ids in postings.items()}
        self._vocab = list(self._postings)
        rules = load_title_rules()
        compiled = [(stage, re.compile(p), code) for p, code, stage in
                    zip(rules["pattern"], rules["isco_code"], rules["stage"])
                    if self._leaf(code) is not None]
        self._rules = [(p, c) for stage, p, c in compiled if stage == "before_fuzzy"]
        self._late_rules = [(p, c) for stage, p, c in compiled if stage == "after_fuzzy"]
        occupations = load_occupations() if self.occupations is None else self.occupations
        self._major = dict(zip(occupations["code"], occupations["major"]))
        self._cache: dict[str, tuple[str, str]] = {}

    # -- coding ---------------------------------------------------------------------------------
    def code(self, title: str) -> str:
        """Panel leaf code of one job title, or ``unclassified``.

        Parameters
        ----------
        title : raw job title (any case, accents, ``(H/F)``, city suffix ...).

        Returns
        -------
        str : a panel occupation code, or :data:`~lmforecast.panel.UNCLASSIFIED`.
        """
        return self._code_with_step(title)[0]

    def _code_with_step(self, title: object) -> tuple[str, str]:
        if not isinstance(title, str):
            return UNCLASSIFIED, "missing"
        key = title_key(title)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._code_key(key)
            self._cache[key] = hit
        return hit

    def _code_key(self, key: str) -> tuple[str, str]:
        if not key:
            return UNCLASSIFIED, "empty"
        leaf = self.exact_.get(key)
        if leaf is not None:
            return leaf, "exact"
        tokens = key.split()
        corrected = [t if t in self._postings else (self._correct(t) or t) for t in tokens]
        corrected_key = " ".join(sorted(set(corrected)))
        if corrected_key != key:
            leaf = self.exact_.get(corrected_key)
            if leaf is not None:
                return leaf, "exact"
        padded = f" {corrected_key} "
        for pattern, isco_code in self._rules:
            if pattern.search(padded):
                return self._leaf(isco_code), "rule"
        leaf = self._fuzzy(corrected_key)
        if leaf is not None:
            return leaf, "fuzzy"
        for pattern, isco_code in self._late_rules:
            if pattern.search(padded):
                return self._leaf(isco_code), "rule"
        return UNCLASSIFIED, "unmatched"

    def _correct(self, token: str) -> str | None:
        if len(token) < 5:
            return None
        best = process.extractOne(token, self._vocab, scorer=fuzz.ratio, score_cutoff=85)
        return best[0] if best else None

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

    def code_many(self, titles: pd.Series) -> pd.Series:
        """Vectorised :meth:`code`: each distinct title is reduced to its pre-key
        (:func:`title_prekeys`, same key) and each distinct pre-key is coded once.

        Parameters
        ----------
        titles : Series of raw job titles (missing values -> ``unclassified``).

        Returns
        -------
        Series of panel occupation codes (``str``), same index and name as ``titles``.
        """
        codes, uniques = pd.factorize(titles, use_na_sentinel=True)
        uniques = np.asarray(uniques, dtype=object)
        text = np.array([isinstance(t, str) for t in uniques], dtype=bool)
        mapped = np.empty(len(uniques) + 1, dtype=object)
        mapped[-1] = UNCLASSIFIED
        mapped[:-1][~text] = [self.code(t) for t in uniques[~text]]
        if text.any():  # each distinct title -> a pre-key with the same title_key; code each pre-key once
            pre_codes, prekeys = pd.factorize(pd.Series(title_prekeys(uniques[text]), dtype=object))
            coded = np.array([self.code(k) for k in np.asarray(prekeys, dtype=object)], dtype=object)
            mapped[:-1][text] = coded[pre_codes]
        return pd.Series(mapped[codes], index=titles.index, name=titles.name, dtype="str")

    def explain(self, title: str) -> dict:
        """How a title was coded: ``{"title", "key", "code", "step"}`` (step: exact, rule,
        fuzzy, unmatched, empty, missing)."""
        code, step = self._code_with_step(title)
        return {"title": title, "key": title_key(title) if isinstance(title, str) else "",
                "code": code, "step": step}

    def coverage_report(self, titles: pd.Series) -> dict:
        """Coverage of a set of titles.

        Returns
        -------
        dict with ``n`` (rows), ``coverage`` (0-1 share of rows coded to a real occupation),
        ``by_step`` ({step: share of rows}), ``by_major`` ({major group: share of rows}) and
        ``unclassified_top`` ({title: rows}, 20 most frequent uncoded titles).
        """
        titles = pd.Series(titles)
        n = len(titles)
        codes, uniques = pd.factorize(titles, use_na_sentinel=True)
        counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
        steps: Counter = Counter()
        majors: Counter = Counter()
        uncoded: Counter = Counter()
        major_of = self._major
        for title, count in zip(np.asarray(uniques, dtype=object), counts):
            code, step = self._code_with_step(title)
            steps[step] += int(count)
            majors[major_of.get(code, code)] += int(count)
            if code == UNCLASSIFIED:
                uncoded[str(title)] += int(count)
        n_missing = int((codes < 0).sum())
        if n_missing:
            steps["missing"] += n_missing
            majors["X"] += n_missing
        coded = n - sum(uncoded.values()) - n_missing
        return {
            "n": n,
            "coverage": coded / n if n else float("nan"),
            "by_step": {k: v / n for k, v in sorted(steps.items())},
            "by_major": {k: v / n for k, v in sorted(majors.items())},
            "unclassified_top": dict(uncoded.most_common(20)),
        }
