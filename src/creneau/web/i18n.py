# SPDX-License-Identifier: AGPL-3.0-or-later
"""French and English: which language a request gets, the gettext catalogs, dates in Paris time.

The language is, in order: the `creneau_lang` cookie (set by the switch in every page), then the browser's
Accept-Language, then French. Message ids are English; `locales/fr/LC_MESSAGES/messages.po` translates
them and `locales/en/…` is empty (an English page shows the ids). The `.po` files are compiled in memory
when the app starts, so no build step and no `.mo` file is needed. The current request's translations live
in a context variable, so templates and Python code call the same `gettext`.
"""

from __future__ import annotations

import gettext as _gettext
import io
import math
from collections.abc import Mapping
from contextvars import ContextVar, Token
from datetime import date, datetime, time, timedelta
from functools import cache, lru_cache
from pathlib import Path
from typing import Final, Literal

from babel.dates import (
    TIMEDELTA_UNITS,
    format_date,
    format_datetime,
    format_time,
    format_timedelta,
    get_datetime_format,
)
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from creneau.types import PARIS

LOCALES: Final = ("fr", "en")
DEFAULT_LOCALE: Final = "fr"
COOKIE: Final = "creneau_lang"
LOCALE_DIR = Path(__file__).resolve().parent / "locales"
LANGUAGE_NAMES: Final = {"fr": "Français", "en": "English"}


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The locale for a request: a valid cookie wins, then the best Accept-Language match, then French."""
    if cookie in LOCALES:
        return cookie
    best, best_q = DEFAULT_LOCALE, -1.0
    for position, item in enumerate((accept_language or "").split(",")[:20]):
        lang, _, params = item.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        primary = lang.strip().lower().split("-")[0]
        # Ties keep the earlier entry (browsers list preferences first).
        if primary in LOCALES and q > 0 and q - position * 1e-6 > best_q:
            best, best_q = primary, q - position * 1e-6
    return best


@cache
def translations(locale: str) -> _gettext.NullTranslations:
    """The compiled catalog of `locale` (the `.po` read and compiled once per process)."""
    path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return _gettext.NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


_current: ContextVar[str] = ContextVar("creneau_locale", default=DEFAULT_LOCALE)


def set_locale(locale: str) -> None:
    _current.set(locale if locale in LOCALES else DEFAULT_LOCALE)


def use_locale(locale: str) -> Token[str]:
    """Switch language for a moment; give the token back to `reset_locale`."""
    return _current.set(locale if locale in LOCALES else DEFAULT_LOCALE)


def reset_locale(token: Token[str]) -> None:
    _current.reset(token)


def get_locale() -> str:
    return _current.get()


def gettext(message: str, **variables: object) -> str:
    """Translate into the current request's language; `%(name)s` placeholders are filled from `variables`."""
    text = translations(_current.get()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    text = translations(_current.get()).ngettext(singular, plural, n)
    return text % ({"num": n} | variables)


_ = gettext


def pick(texts: Mapping[str, str]) -> str:
    """The current language's entry of a {"fr": …, "en": …} mapping (catalog data), else the other one."""
    locale = _current.get()
    return texts.get(locale) or next((v for v in texts.values() if v), "")


# --- dates, always shown in Paris time ---------------------------------------------------------------
def when(value: datetime | None, fmt: str = "short") -> str:
    """A date and time in Paris, in the current language ("12/05/2026 08:30" / "5/12/26, 8:30 AM")."""
    if value is None:
        return ""
    local, locale = value.astimezone(PARIS), _current.get()
    if fmt != "short" and fmt != "medium":  # the other formats name the time zone: let Babel do it all
        return format_datetime(local, fmt, locale=locale)
    # What format_datetime does, with each part cached: pages show hundreds of dates (16 µs each in Babel).
    shown = local.time().replace(second=0 if fmt == "short" else local.second, microsecond=0)
    glue = _datetime_glue(fmt, locale)
    return glue.replace("{0}", _time_part(shown, fmt, locale)).replace("{1}", _date_part(local.date(), fmt, locale))


@cache
def _datetime_glue(fmt: Literal["short", "medium"], locale: str) -> str:
    return str(get_datetime_format(fmt, locale=locale))


@lru_cache(maxsize=4096)
def _date_part(value: date, fmt: str, locale: str) -> str:
    return format_date(value, fmt, locale=locale)


@lru_cache(maxsize=4096)
def _time_part(value: time, fmt: str, locale: str) -> str:
    return format_time(value, fmt, locale=locale)


def day(value: datetime | date | None) -> str:
    """A day in words ("4 mai 2026" / "May 4, 2026"); a datetime is first put in Paris time."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(PARIS)
    return format_date(value, "long", locale=_current.get())


def clock(value: datetime | None) -> str:
    if value is None:
        return ""
    return format_time(value.astimezone(PARIS), "short", locale=_current.get())


AGO_THRESHOLD = 1.1
_Unit = Literal["year", "month", "week", "day", "hour", "minute", "second"]


def ago(value: datetime | None, now: datetime) -> str:
    """ "3 minutes ago" / "in 2 hours" relative to `now`: Babel's `format_timedelta(value - now,
    add_direction=True, threshold=1.1)`, whose choice of unit and amount is made here so that the words
    are looked up once per (unit, amount, direction): the board shows thousands of them per snapshot."""
    if value is None:
        return ""
    seconds = (value - now).total_seconds()
    for unit, per_unit in TIMEDELTA_UNITS:
        amount = abs(seconds) / per_unit
        if amount >= AGO_THRESHOLD or unit == "second":
            if unit == "second" and amount > 0:
                amount = max(1, amount)
            return _ago_words(unit, round(amount), seconds >= 0, _current.get())
    return ""  # pragma: no cover - "second" always matches


@lru_cache(maxsize=8192)
def _ago_words(unit: _Unit, amount: int, future: bool, locale: str) -> str:
    # With `unit` as the granularity and a threshold no amount reaches, Babel words exactly this amount.
    signed = amount * dict(TIMEDELTA_UNITS)[unit] * (1 if future else -1)
    return format_timedelta(
        timedelta(seconds=signed), add_direction=True, threshold=math.inf, granularity=unit, locale=locale
    )


def duration(seconds: float | None) -> str:
    """ "4 minutes" / "2 heures" (no direction)."""
    if seconds is None:
        return ""
    return format_timedelta(timedelta(seconds=seconds), threshold=1.1, locale=_current.get())
