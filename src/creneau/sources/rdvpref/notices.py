# SPDX-License-Identifier: AGPL-3.0-or-later
"""Publication notices, read from the rendered text and from the embedded props (§1.3, §1.3b).

"Prochaine mise en ligne de nouveaux rendez-vous : le 12/05/2026 à 08:30" / "pour des créneaux de la
semaine du 18/05/2026", "Dernière mise en ligne de rendez-vous : le …", "Prochaine disponibilité le …"; and
`prochainePub` / `precedentePub` (`{dateMin, dateMax, instantPublication}`) and `premiereDispo`. Times are
Europe/Paris; notices come out in UTC, one per (kind, instant).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from creneau.sources.rdvpref.embedded import EmbeddedState
from creneau.types import PARIS, Notice, NoticeKind

_DATE = r"(\d{1,2}/\d{1,2}/\d{4})"
_AT = r"\s*à\s*(\d{1,2})\s*[:h]\s*(\d{2})"
_WEEK = rf"(?:\s*pour des créneaux de la semaine du\s*{_DATE})?"
_PUB_RES = (
    (
        NoticeKind.NEXT_PUBLICATION,
        re.compile(rf"Prochaine mise en ligne de nouveaux rendez-vous\s*:\s*le\s*{_DATE}{_AT}{_WEEK}"),
    ),
    (
        NoticeKind.LAST_PUBLICATION,
        re.compile(rf"Dernière mise en ligne de rendez-vous\s*:\s*le\s*{_DATE}{_AT}{_WEEK}"),
    ),
)
_DISPO_RE = re.compile(rf"Prochaine disponibilité le\s*{_DATE}")
_INSTANT_RE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2}):(\d{2}))?\s*$")


def parse_date(text: str) -> date | None:
    """'DD/MM/YYYY' → date; None when it is not one."""
    match = _INSTANT_RE.match(text)
    if not match or match.group(4) is not None:
        return None
    try:
        return date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
    except ValueError:
        return None


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def paris_instant(day: date, minutes: int = 0) -> datetime:
    """A Paris wall-clock time on `day` as an aware UTC datetime."""
    local = datetime(day.year, day.month, day.day, minutes // 60, minutes % 60, tzinfo=PARIS)
    return local.astimezone(UTC)


def parse_instant(text: str) -> datetime | None:
    """'DD/MM/YYYY HH:mm' (Paris) → aware UTC datetime; None when it is not one."""
    match = _INSTANT_RE.match(text)
    if not match or match.group(4) is None:
        return None
    try:
        day = date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
    except ValueError:
        return None
    hours, minutes = int(match.group(4)), int(match.group(5))
    if hours > 23 or minutes > 59:
        return None
    return paris_instant(day, hours * 60 + minutes)


def _fold(text: str) -> str:
    return " ".join(text.split())  # every Unicode space (no-break ones too) becomes one plain space


def text_notices(text: str) -> list[Notice]:
    """Notices written in the page's visible text."""
    text = _fold(text)
    found: list[Notice] = []
    for kind, pattern in _PUB_RES:
        for match in pattern.finditer(text):
            day = parse_date(match.group(1))
            instant = parse_instant(f"{match.group(1)} {match.group(2)}:{match.group(3)}")
            if day is None or instant is None:
                continue
            week = parse_date(match.group(4)) if match.group(4) else None
            found.append(Notice(kind, instant, week, match.group(0).strip()))
    for match in _DISPO_RE.finditer(text):
        day = parse_date(match.group(1))
        if day is not None:
            found.append(Notice(NoticeKind.NEXT_AVAILABILITY, paris_instant(day), monday(day), match.group(0).strip()))
    return found


def state_notices(state: EmbeddedState) -> list[Notice]:
    """Notices carried by the embedded props (`prochainePub`, `precedentePub`, `premiereDispo`)."""
    found: list[Notice] = []
    for name, kind, phrase in (
        ("prochainePub", NoticeKind.NEXT_PUBLICATION, "Prochaine mise en ligne de nouveaux rendez-vous"),
        ("precedentePub", NoticeKind.LAST_PUBLICATION, "Dernière mise en ligne de rendez-vous"),
    ):
        pub = state.props.get(name)
        if not isinstance(pub, dict):
            continue
        raw = pub.get("instantPublication")
        if not isinstance(raw, str) or (instant := parse_instant(raw)) is None:
            continue
        date_min = pub.get("dateMin")
        week = parse_date(date_min) if isinstance(date_min, str) else None
        text = f"{phrase} : le {' à '.join(raw.split())}"
        if week is not None:
            text += f" pour des créneaux de la semaine du {date_min}"
        found.append(Notice(kind, instant, week, text))
    dispo = first_availability(state)
    if dispo is not None:
        found.append(
            Notice(
                NoticeKind.NEXT_AVAILABILITY,
                paris_instant(dispo),
                monday(dispo),
                f"Prochaine disponibilité le {dispo:%d/%m/%Y}",
            )
        )
    return found


def announced_availability(state: EmbeddedState) -> str | None:
    """The raw non-empty `premiereDispo` or `critere.datePremiereDispo` (None when both are empty or absent)."""
    critere = state.critere or {}
    for raw in (state.props.get("premiereDispo"), critere.get("datePremiereDispo")):
        if isinstance(raw, str) and raw.strip():
            return raw.strip()
    return None


def first_availability(state: EmbeddedState) -> date | None:
    """The announced first availability as a date (None when empty, absent or not a date)."""
    raw = announced_availability(state)
    return parse_date(raw) if raw is not None else None


def merge(groups: Iterable[Iterable[Notice]]) -> tuple[Notice, ...]:
    """One notice per (kind, instant): the first seen wins, completed with a week when a later one has it."""
    kept: dict[tuple[NoticeKind, datetime], Notice] = {}
    for group in groups:
        for notice in group:
            key = (notice.kind, notice.instant)
            old = kept.get(key)
            if old is None:
                kept[key] = notice
            elif old.week_of is None and notice.week_of is not None:
                kept[key] = Notice(old.kind, old.instant, notice.week_of, old.text)
    return tuple(sorted(kept.values(), key=lambda n: (n.instant, n.kind.value)))
