# SPDX-License-Identifier: AGPL-3.0-or-later
"""Expiry-aware reminders (pure: dates in, decisions and texts out) and the calendar feed.

With a permit's expiry date E:
- a reminder four months before E and another two months before (the renewal window), each sent once,
  at 09:00 Paris time; when the person gives E late, only the latest reminder already due is sent;
- from two months before E, evidence mode is switched on for their watches (`in_evidence_window`);
- when the only slots found for one of their watches fall after E, guidance: apply on ANEF before E to get
  the attestation de prolongation d'instruction (`slots_after_expiry`).
Texts exist in French and English; the person's language picks one when the reminder is sent.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from creneau.types import PARIS

ANEF_URL = "https://administration-etrangers-en-france.interieur.gouv.fr/"
SEND_HOUR = time(9, 0)


class ReminderKind(StrEnum):
    FOUR_MONTHS = "four_months"
    TWO_MONTHS = "two_months"
    SLOT_AFTER_EXPIRY = "slot_after_expiry"


def months_before(day: date, months: int) -> date:
    """The same day `months` earlier, clamped to the month's end (31 July - 2 months = 31 May, 30 April - 2 = 28/29 Feb)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_at(expiry: date, kind: ReminderKind) -> datetime:
    months = 4 if kind is ReminderKind.FOUR_MONTHS else 2
    return datetime.combine(months_before(expiry, months), SEND_HOUR, tzinfo=PARIS)


def window_start(expiry: date) -> date:
    return months_before(expiry, 2)


def in_evidence_window(expiry: date, today: date) -> bool:
    """Inside the two months before expiry (evidence mode is then switched on)."""
    return window_start(expiry) <= today <= expiry


def due_reminder(expiry: date, now: datetime) -> ReminderKind | None:
    """The renewal reminder to send now: the latest one already due, none once E has passed."""
    if now.astimezone(PARIS).date() > expiry:
        return None
    for kind in (ReminderKind.TWO_MONTHS, ReminderKind.FOUR_MONTHS):
        if now >= due_at(expiry, kind):
            return kind
    return None


def slots_after_expiry(slot_starts: Sequence[datetime], expiry: date, now: datetime) -> bool:
    """True when slots were found, every one of them falls after E, and E has not passed yet."""
    if not slot_starts or now.astimezone(PARIS).date() > expiry:
        return False
    return all(start.astimezone(PARIS).date() > expiry for start in slot_starts)


def _day(day: date, lang: str) -> str:
    return f"{day:%d/%m/%Y}" if lang == "fr" else day.isoformat()


TEXTS = {
    "fr": {
        ReminderKind.FOUR_MONTHS: (
            "Votre titre de séjour expire le {expiry} : préparez le renouvellement",
            "Votre titre de séjour expire le {expiry}, dans quatre mois. La demande de renouvellement se fait en "
            "général dans les quatre mois qui précèdent l'expiration : vérifiez dès maintenant si votre démarche se "
            "fait sur l'ANEF ou sur rendez-vous en préfecture, et réunissez vos pièces. creneau continue de "
            "surveiller les rendez-vous pour vous.",
        ),
        ReminderKind.TWO_MONTHS: (
            "Votre titre de séjour expire le {expiry} : il reste deux mois",
            "Votre titre de séjour expire le {expiry}, dans deux mois. Si votre démarche se fait sur l'ANEF, "
            "déposez-la avant cette date. Le mode preuve est désormais activé sur vos surveillances : chaque "
            "tentative est enregistrée et une capture d'écran est faite chaque jour, pour le dossier à présenter "
            "si vous n'obtenez pas de rendez-vous à temps.",
        ),
        ReminderKind.SLOT_AFTER_EXPIRY: (
            "Créneau trouvé après l'expiration de votre titre ({expiry})",
            "Le seul créneau trouvé ({slot}, {place}) tombe après l'expiration de votre titre de séjour, le "
            "{expiry}. Ne restez pas sans document : si votre démarche se fait sur l'ANEF, déposez votre demande "
            "en ligne avant le {expiry} ; l'attestation de prolongation d'instruction qui vous sera remise couvre "
            "la période jusqu'à la décision. Vous pouvez garder ce créneau, et votre dossier de preuves creneau "
            "montre vos tentatives.",
        ),
    },
    "en": {
        ReminderKind.FOUR_MONTHS: (
            "Your residence permit expires on {expiry}: prepare the renewal",
            "Your residence permit expires on {expiry}, in four months. Renewal applications are usually made in "
            "the four months before expiry: check now whether yours goes through ANEF (online) or an appointment "
            "at the prefecture, and gather your documents. creneau keeps watching appointments for you.",
        ),
        ReminderKind.TWO_MONTHS: (
            "Your residence permit expires on {expiry}: two months left",
            "Your residence permit expires on {expiry}, in two months. If your procedure is on ANEF, apply before "
            "that date. Evidence mode is now on for your watches: every attempt is recorded and a screenshot is "
            "taken each day, for the dossier to show if you cannot get an appointment in time.",
        ),
        ReminderKind.SLOT_AFTER_EXPIRY: (
            "Slot found after your permit expires ({expiry})",
            "The only slot found ({slot}, {place}) falls after your residence permit expires on {expiry}. Do not "
            "stay without a document: if your procedure is on ANEF, apply online before {expiry}; the attestation "
            "de prolongation d'instruction you then get covers you until the decision. You may keep that slot, "
            "and your creneau evidence dossier shows your attempts.",
        ),
    },
}


def reminder_text(
    kind: ReminderKind, lang: str, *, expiry: date, slot: datetime | None = None, place: str = ""
) -> tuple[str, str]:
    """(subject, text) in `lang` (fr, or en for anything else)."""
    subject, text = TEXTS["fr" if lang == "fr" else "en"][kind]
    values = {
        "expiry": _day(expiry, lang),
        "slot": (
            f"{slot.astimezone(PARIS):%d/%m/%Y %H:%M}" if lang == "fr" else f"{slot.astimezone(PARIS):%Y-%m-%d %H:%M}"
        )
        if slot
        else "",
        "place": place,
    }
    return subject.format(**values), text.format(**values)


# --- calendar feed (RFC 5545) ---------------------------------------------------------------------

_ICS_TITLES = {
    "fr": (
        "Expiration du titre de séjour",
        "Renouvellement : 4 mois avant l'expiration",
        "Renouvellement : 2 mois avant l'expiration (mode preuve activé)",
    ),
    "en": (
        "Residence permit expires",
        "Renewal: 4 months before expiry",
        "Renewal: 2 months before expiry (evidence mode on)",
    ),
}


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> Iterable[str]:
    """RFC 5545 line folding at 75 octets, never inside a UTF-8 character."""
    data = line.encode()
    first = True
    while data:
        limit = 75 if first else 74
        cut = min(limit, len(data))
        while cut < len(data) and (data[cut] & 0xC0) == 0x80:
            cut -= 1
        chunk = data[:cut].decode()
        yield chunk if first else " " + chunk
        data, first = data[cut:], False


def ics_feed(subscriber_id: int, expiry: date | None, lang: str, *, now: datetime) -> str:
    """The person's calendar: the expiry date and the two renewal reminders (empty without an expiry)."""
    titles = _ICS_TITLES["fr" if lang == "fr" else "en"]
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//creneau//evidence reminders//FR",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ]
    if expiry is not None:
        events = [
            ("expiry", expiry, titles[0]),
            (ReminderKind.FOUR_MONTHS.value, months_before(expiry, 4), titles[1]),
            (ReminderKind.TWO_MONTHS.value, months_before(expiry, 2), titles[2]),
        ]
        for key, day, title in events:
            lines += [
                "BEGIN:VEVENT",
                f"UID:creneau-{subscriber_id}-{key}-{expiry.isoformat()}@creneau",
                f"DTSTAMP:{stamp}",
                f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
                f"DTEND;VALUE=DATE:{day + timedelta(days=1):%Y%m%d}",
                f"SUMMARY:{_escape(title)}",
                f"URL:{ANEF_URL}",
                "TRANSP:TRANSPARENT",
                "END:VEVENT",
            ]
    lines.append("END:VCALENDAR")
    return "".join(folded + "\r\n" for line in lines for folded in _fold(line))
