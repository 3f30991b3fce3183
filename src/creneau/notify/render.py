# SPDX-License-Identifier: AGPL-3.0-or-later
"""Turning a message into a channel's text, with Jinja2.

The wording lives in one phrase book per language (`notify/templates/phrases/fr.j2`, `en.j2`), shared by
every channel so an alert says the same thing everywhere; each channel's `templates/` folder holds its
layout (`body.txt.j2`, `body.html.j2`, `body.md.j2`) and its own few phrases (`fr.j2`, `en.j2`: e-mail
footer, button labels). Layouts reach the phrase books as the variables `t` (shared) and `c` (channel).

Templates whose name ends in `.html.j2` are autoescaped. Phrase macros are called through `Phrases`,
which hands back plain `str`: a Jinja macro called from an autoescaped template would otherwise come
back marked safe with the office name inside it unescaped.

`render_fitted` keeps a body within a channel's length limit by showing fewer slots ("… and 12 more").
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

from creneau.notify.base import LOCALES, Locale
from creneau.notify.message import Alert, Message, format_day, format_instant, slots_by_day

SHARED = Path(__file__).resolve().parent / "templates"
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]#|~<>])")


def escape_markdown(text: object) -> str:
    """Backslash-escape the Markdown characters that could format inline text (`*`, `_`, `[`…), so a
    name renders as typed."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


@functools.cache
def environment(folder: Path | None = None) -> Environment:
    """The Jinja environment of one channel's template folder (shared phrase books behind it)."""
    loaders = [FileSystemLoader(folder)] if folder else []
    env = Environment(
        loader=ChoiceLoader([*loaders, FileSystemLoader(SHARED)]),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,  # packaged files: no stat() of the template at every render
    )
    env.globals.update(instant=format_instant, day=format_day)
    env.filters["md"] = escape_markdown
    return env


def precompile(folder: Path) -> None:
    """Compile a channel's templates, its phrase books and the shared ones now, so that the first alert
    after start-up does not pay for it (about half a second of CPU on the first render)."""
    env = environment(folder)
    for name in sorted({path.name for path in (*folder.glob("*.j2"), *SHARED.glob("*.j2"))}):
        env.get_template(name)
    for locale in LOCALES:
        Phrases(env, f"phrases/{locale}.j2")
        if _exists(folder / f"{locale}.j2"):
            Phrases(env, f"{locale}.j2")


@functools.cache
def _exists(path: Path) -> bool:
    return path.exists()


def check_locale(locale: str) -> Locale:
    if locale not in LOCALES:
        raise ValueError(f"unsupported locale {locale!r} (fr or en)")
    return locale


class Phrases:
    """The macros of one phrase book, returning plain `str` (so the caller's autoescaping applies)."""

    def __init__(self, env: Environment, name: str) -> None:
        self._module = env.get_template(name).module

    def __getattr__(self, name: str) -> Callable[..., str]:
        macro = getattr(self._module, name)

        def call(*args: Any) -> str:
            return str(macro(*args))

        return call


def phrase(name: str, message: Message, locale: Locale) -> str:
    """One macro of the shared phrase book as one line of plain text (e.g. `title` for a subject)."""
    return _phrase(name, message.content(), check_locale(locale))


@functools.lru_cache(maxsize=256)
def _phrase(name: str, message: Message, locale: Locale) -> str:
    return _line(environment(), f"phrases/{locale}.j2", name, message)


def channel_phrase(folder: Path, locale: Locale, name: str, *args: Any) -> str:
    """One macro of a channel's own phrase book (`fr.j2`, `en.j2`) as one line of plain text."""
    return _line(environment(folder), f"{check_locale(locale)}.j2", name, *args)


def _line(env: Environment, book: str, name: str, *args: Any) -> str:
    text: str = getattr(Phrases(env, book), name)(*args)
    return " ".join(text.split())


def render(folder: Path, template: str, message: Message, locale: Locale, **extra: Any) -> str:
    """Render `template` of a channel for one message; `extra` reaches the template as variables."""
    env = environment(folder)
    context = {
        "m": message,
        "locale": check_locale(locale),
        "t": Phrases(env, f"phrases/{locale}.j2"),
        "c": Phrases(env, f"{locale}.j2") if _exists(folder / f"{locale}.j2") else None,
        "days": [],
        "hidden": 0,
        **extra,
    }
    if isinstance(message, Alert) and "max_slots" in extra:
        context["days"], context["hidden"] = slots_by_day(message.slots, locale, extra["max_slots"])
    return env.get_template(template).render(context).strip() + "\n"


def render_fitted(
    folder: Path,
    template: str,
    message: Message,
    locale: Locale,
    *,
    max_chars: int,
    max_slots: int | None = None,
    measure: Callable[[str], int] = len,
    **extra: Any,
) -> str:
    """Render with at most `max_slots` slots, halving the count until `measure(text) <= max_chars`.

    Bodies do not depend on who receives them, so one fan-out renders each body once: results are cached
    by the message's content (`Message.content()`), the locale and the `extra` values (which must be
    hashable; per-recipient values go in afterwards, e.g. with a placeholder). Raises `ValueError` when even
    a single slot does not fit: a template/limit mismatch, not data.
    """
    extras = tuple(sorted(extra.items()))
    return _fitted(folder, template, message.content(), check_locale(locale), max_chars, max_slots, measure, extras)


@functools.lru_cache(maxsize=256)
def _fitted(
    folder: Path,
    template: str,
    message: Message,
    locale: Locale,
    max_chars: int,
    max_slots: int | None,
    measure: Callable[[str], int],
    extras: tuple[tuple[str, Any], ...],
) -> str:
    shown = len(message.slots) if isinstance(message, Alert) else 0
    shown = min(shown, max_slots) if max_slots is not None else shown
    while True:
        text = render(folder, template, message, locale, max_slots=shown, **dict(extras))
        if measure(text) <= max_chars:
            return text
        if shown <= 1:
            raise ValueError(f"{template} does not fit in {max_chars} characters even with one slot")
        shown //= 2


def utf8_length(text: str) -> int:
    return len(text.encode())


def truncate(text: str, limit: int) -> str:
    """Cut a one-line text (a title) to `limit` characters with an ellipsis."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"
