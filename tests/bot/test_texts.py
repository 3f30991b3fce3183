# SPDX-License-Identifier: AGPL-3.0-or-later
"""The bot's French and English texts stay in step and are valid Telegram HTML whatever they hold."""

from __future__ import annotations

import string

import pytest

from creneau.bot.texts import LOCALES, Raw, messages, pick_locale, texts_for
from creneau.notify.fakes.telegram import parse_html
from creneau.types import Outcome


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_texts_have_same_keys_and_placeholders_when_compared_across_languages() -> None:
    fr, en = messages("fr"), messages("en")
    assert set(fr) == set(en)
    assert {k: placeholders(v) for k, v in fr.items()} == {k: placeholders(v) for k, v in en.items()}


@pytest.mark.parametrize("locale", LOCALES)
def test_texts_are_valid_telegram_html_when_filled_with_hostile_values(locale: str) -> None:
    t = texts_for(locale)
    for key, template in messages(locale).items():
        filled = t(key, **dict.fromkeys(placeholders(template), "<i>&x</b>"))
        plain, problem = parse_html(filled)
        assert problem == "", (key, problem)
        assert len(plain) <= 1024 or not key.startswith("captcha.ask"), key


@pytest.mark.parametrize("locale", LOCALES)
def test_texts_name_every_outcome_when_listing_checks(locale: str) -> None:
    assert all(f"outcome.{o.value}" in messages(locale) for o in Outcome)


def test_texts_keep_raw_fragments_and_escape_the_rest_when_filling() -> None:
    t = texts_for("en")
    assert "&lt;b&gt;" in t("watch.not_found", query="<b>")
    assert "<b>x</b>" in t("watch.choose_target", office="o", lines=Raw("<b>x</b>"))


@pytest.mark.parametrize(
    ("n", "fr", "en"), [(0, "one", "other"), (1, "one", "one"), (2, "other", "other")], ids=["zero", "one", "two"]
)
def test_plural_follows_each_language_rule_when_counting(n: int, fr: str, en: str) -> None:
    assert texts_for("fr").plural("captcha.kept", n) == texts_for("fr")(f"captcha.kept.{fr}", n=n)
    assert texts_for("en").plural("captcha.kept", n) == texts_for("en")(f"captcha.kept.{en}", n=n)


@pytest.mark.parametrize(
    ("code", "locale"), [(None, "fr"), ("fr-CA", "fr"), ("en", "en"), ("de", "en")], ids=["none", "fr-CA", "en", "de"]
)
def test_pick_locale_maps_telegram_language_when_person_is_not_linked(code: str | None, locale: str) -> None:
    assert pick_locale(code) == locale
