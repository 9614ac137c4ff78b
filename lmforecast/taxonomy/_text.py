"""Text folding shared by the region normaliser and the title coder (private helpers)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_ARABIC_FOLD = str.maketrans({
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا",  # alef variants
    "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي",
    "گ": "ك", "ڭ": "ك", "ـ": "",  # Moroccan gaf, tatweel
})
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
#: code points of the Basic Multilingual Plane with a non-zero canonical combining class (what
#: ``unicodedata.combining`` flags), as ranges; text beyond the BMP takes the per-character path
_SCANNED_BELOW = "\U00010000"


def _combining_class() -> str:
    ranges: list[list[int]] = []
    for code in range(0x10000):
        if unicodedata.combining(chr(code)):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    return "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)


_COMBINING = re.compile(f"[{_combining_class()}]+")
_ELISION = re.compile(r"\b(?:[dlnjmst]|qu)['’`´]", re.IGNORECASE)


@lru_cache(maxsize=1 << 16)
def fold(text: str) -> str:
    """Fold free text to a matching key.

    Lower-cases, removes accents and Arabic diacritics (NFKD), unifies Arabic letter variants,
    drops French elisions (``d'``, ``l'``), turns every run of punctuation into one space and
    strips. ``"Fès et région - Maroc"`` -> ``"fes et region maroc"``.

    Parameters
    ----------
    text : any string.

    Returns
    -------
    str : the folded key (may be empty).
    """
    text = _ELISION.sub(" ", text)
    if not text.isascii():  # NFKD of ASCII text is the identity and it has no combining marks
        text = strip_combining(unicodedata.normalize("NFKD", text))
    text = text.lower().translate(_ARABIC_FOLD)
    return _NON_WORD.sub(" ", text).strip()


def strip_combining(text: str) -> str:
    """``text`` without its combining characters (canonical combining class > 0, e.g. accents
    after NFKD decomposition): same result as keeping ``ch`` where ``not unicodedata.combining(ch)``,
    in one regular-expression pass.

    Parameters
    ----------
    text : any string (usually NFKD-decomposed).

    Returns
    -------
    str
    """
    if text and max(text) >= _SCANNED_BELOW:
        return "".join(ch for ch in text if not unicodedata.combining(ch))
    return _COMBINING.sub("", text)
