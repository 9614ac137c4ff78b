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
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.lower().translate(_ARABIC_FOLD)
    return _NON_WORD.sub(" ", text).strip()
