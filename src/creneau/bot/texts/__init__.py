# SPDX-License-Identifier: AGPL-3.0-or-later
"""The bot's words, in French and English: `texts/fr.toml` and `texts/en.toml`, the same keys in both.

`texts_for(locale)("watch.created", label=…, url=…)` fills a message with its values HTML-escaped (the bot
sends Telegram HTML), so nothing a person typed or a catalog holds can inject markup; pass `Raw(…)` for a
fragment the bot built itself from escaped parts. A test keeps both files' keys and placeholders in step.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from html import escape
from importlib.resources import files
from typing import Any

LOCALES = ("fr", "en")
DEFAULT_LOCALE = "fr"


class Raw(str):
    """A value already safe for Telegram HTML (built by the bot from escaped parts)."""

    __slots__ = ()


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


@functools.cache
def messages(locale: str) -> dict[str, str]:
    """Every message of `locale`, keyed `section.name` (read once per process)."""
    if locale not in LOCALES:
        raise ValueError(f"no bot texts for locale {locale!r}")
    raw = (files("creneau.bot.texts") / f"{locale}.toml").read_text(encoding="utf-8")
    return _flatten(tomllib.loads(raw))


def pick_locale(code: str | None) -> str:
    """The bot's language for a Telegram `language_code` (fr-CA → fr; unknown → English, none → French)."""
    if not code:
        return DEFAULT_LOCALE
    base = code.split("-")[0].lower()
    return base if base in LOCALES else "en"


@dataclass(frozen=True, slots=True)
class Texts:
    locale: str

    def __call__(self, key: str, **values: object) -> str:
        """The message `key` with `values` filled in. Raises KeyError for an unknown key (a bug)."""
        template = messages(self.locale)[key]
        return template.format_map(
            {k: v if isinstance(v, Raw) else escape(str(v), quote=False) for k, v in values.items()}
        )

    def plural(self, key: str, n: int, **values: object) -> str:
        """`key.one` or `key.other` by the language's rule (French: 0 and 1 are singular)."""
        one = n <= 1 if self.locale == "fr" else n == 1
        return self(f"{key}.{'one' if one else 'other'}", n=n, **values)


def texts_for(locale: str) -> Texts:
    return Texts(locale if locale in LOCALES else DEFAULT_LOCALE)
