# SPDX-License-Identifier: AGPL-3.0-or-later
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from creneau.catalog.text import fold, name_key, without_article


@pytest.mark.parametrize(
    ("typed", "official"),
    [
        ("st etienne du rouvray", "Saint-Étienne-du-Rouvray"),
        ("ST-ETIENNE-DU-ROUVRAY", "Saint-Étienne-du-Rouvray"),
        ("Ste Foy les Lyon", "Sainte-Foy-lès-Lyon"),
        ("l'hay les roses", "L'Haÿ-les-Roses"),
        ("L’Haÿ-les-Roses", "L'Haÿ-les-Roses"),
        ("paris 15e", "Paris 15e Arrondissement"),
        ("Paris 15", "Paris 15e Arrondissement"),
        ("paris 15 ème", "Paris 15e Arrondissement"),
        ("Marseille 1er", "Marseille 1er Arrondissement"),
        ("lyon 3eme arrondissement", "Lyon 3e Arrondissement"),
        ("oeuilly", "Œuilly"),
    ],
    ids=lambda value: value,
)
def test_name_key_matches_official_name_when_typed_loosely(typed: str, official: str) -> None:
    assert name_key(typed) == name_key(official)


@settings(deadline=None)
@given(st.text(max_size=60))
def test_name_key_is_idempotent_for_any_text(text: str) -> None:
    key = name_key(text)
    assert name_key(key) == key


FRENCH = st.text(alphabet="abcdefghijklmnopqrstuvwxyzàâäçéèêëîïôöùûüÿœæABCDEÉÈÊÀÇÔŒ -'’0123456789", max_size=60)


@settings(deadline=None)
@given(FRENCH)
def test_name_key_ignores_case_and_accents_for_french_text(text: str) -> None:
    assert name_key(text.upper()) == name_key(text.lower()) == name_key(fold(text))


@settings(deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
def test_name_key_is_plain_ascii_words_for_any_text(text: str) -> None:
    key = name_key(text)
    assert key == key.strip()
    assert "  " not in key
    assert all(ch.isascii() and (ch.isalnum() or ch == " ") for ch in key)


@settings(deadline=None)
@given(st.sampled_from(["-", " ", "'", "’", "  ", " - "]))
def test_name_key_treats_separators_alike_when_joining_words(separator: str) -> None:
    assert name_key(f"Saint{separator}Denis") == "saint denis"


def test_without_article_strips_leading_article_when_present() -> None:
    assert without_article("le raincy") == "raincy"
    assert without_article("raincy") is None
    assert without_article("le") is None
