"""Normalised matching keys of free-text job titles (used by :class:`~lmforecast.taxonomy.titles.TitleCoder`).

:func:`title_tokens` / :func:`title_key`: drop gender markers ``(H/F)``, ``F/H``, ``(e)``; drop
trailing `` - <city>`` and ``(<city>)`` parts recognised by
:class:`~lmforecast.taxonomy.regions.RegionNormalizer`, and contract/seniority words (senior,
junior, confirmé, expérimenté, stage, PFE, freelance, CDI ...); fold case, accents and
punctuation; unify plural and feminine endings; drop stop words; sort the remaining tokens into
a key. :func:`title_prekeys` reduces many decorated titles to shorter texts with the same key, and
:func:`title_key_version` fingerprints the normalisation (for keys stored at build time).
"""

from __future__ import annotations

import hashlib
import inspect
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from lmforecast.taxonomy._tables import data_path
from lmforecast.taxonomy._text import fold
from lmforecast.taxonomy.regions import RegionNormalizer

# gender markers: (H/F), (F/H/X), H/F; feminine endings in brackets, "chargé(e)", "développeur(se)",
# "directeur(trice)", "infirmier(ère)", or after a middle dot, "développeur·se"
_GENDER = re.compile(r"\(\s*[hfmw]\s*/\s*[hfmwdx](?:\s*/\s*[hfmwdx])?\s*\)|\b[hfm]\s*/\s*[hfm]\b"
                     r"|\(\s*(?:e|s|es|se|euse|trice|ere|ère|ne|le|fe|ve)\s*\)"
                     r"|(?<=\w)·(?:e|s|es|se|euse|trice|ere|ère|ne|le)\b", re.IGNORECASE)
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
    :meth:`~lmforecast.taxonomy.titles.TitleCoder.code_many` run :func:`title_tokens` once per job name instead of once per
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
