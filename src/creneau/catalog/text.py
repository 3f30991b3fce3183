# SPDX-License-Identifier: AGPL-3.0-or-later
"""Loose matching of commune names as people type them.

`name_key` turns "St-Étienne-du-Rouvray", "saint etienne du rouvray" and "ST ETIENNE DU ROUVRAY" into the same
key: accents and case dropped, œ/æ spelt out, apostrophes, hyphens and punctuation made spaces, "St"/"Ste"
expanded, ordinal suffixes of municipal arrondissements ("15e", "1er", "15ème") reduced to the number and the
word "arrondissement" dropped. The function is idempotent, which the tests check with hypothesis.
"""

from __future__ import annotations

import re
import unicodedata

_SPELL = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss", "ø": "o", "Ø": "o", "ł": "l"})
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
_ORDINAL = re.compile(r"^(\d{1,2})(?:e|er|ere|eme|em|ème|è|me|nd|nde)$")
_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}
_DROPPED = {"arrondissement", "arrondissements", "arr", "arrdt", "ardt", "arrt"}
ARTICLES = ("le", "la", "les", "l")


def fold(text: str) -> str:
    """Lowercase ASCII letters and digits separated by single spaces (accents and punctuation gone)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_SPELL))
    # After NFKD accents are combining marks: drop them; any other non-ASCII character separates words.
    bare = _COMBINING.sub("", decomposed).lower()
    return " ".join(_NON_ALNUM.split(bare)).strip()


def name_key(text: str) -> str:
    """The matching key of a commune name (see the module docstring)."""
    words: list[str] = []
    for word in fold(text).split():
        if word in _DROPPED:
            continue
        ordinal = _ORDINAL.match(word)
        if ordinal:
            word = str(int(ordinal.group(1)))
        elif word in ("e", "er", "eme") and words and words[-1].isdigit():
            continue  # "15 e" / "1 er": the suffix typed apart from its number
        words.append(_ABBREVIATIONS.get(word, word))
    return " ".join(words)


def without_article(key: str) -> str | None:
    """The key without its leading article ("le raincy" → "raincy"), or None when it has none."""
    head, _, rest = key.partition(" ")
    if head in ARTICLES and rest:
        return rest
    return None


def slug(text: str) -> str:
    """An id fragment: "Saint-Laurent-du-Maroni" → "saint-laurent-du-maroni"."""
    return fold(text).replace(" ", "-")
