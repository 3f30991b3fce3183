# SPDX-License-Identifier: AGPL-3.0-or-later
"""The dossier's words in French and English (the longer method text lives in the templates)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Final

from creneau.types import PARIS

LANGS: Final = ("fr", "en")

OUTCOMES: Final = {
    "fr": {
        "slots_available": "créneaux affichés",
        "no_slots": "aucun créneau",
        "human_check_required": "vérification humaine (captcha)",
        "session_expired": "session expirée",
        "blocked": "accès refusé par le site",
        "rate_limited": "site : trop de demandes",
        "unavailable": "site indisponible",
        "layout_unknown": "page non reconnue",
        "network_error": "site injoignable",
    },
    "en": {
        "slots_available": "slots shown",
        "no_slots": "no slot",
        "human_check_required": "human check (captcha)",
        "session_expired": "session expired",
        "blocked": "access refused by the site",
        "rate_limited": "site: too many requests",
        "unavailable": "site unavailable",
        "layout_unknown": "unrecognised page",
        "network_error": "site unreachable",
    },
}

WORDS: Final = {
    "fr": {
        "title": "Dossier de preuves des tentatives de prise de rendez-vous",
        "subtitle": "Relevé horodaté et chaîné des consultations de la page officielle de prise de rendez-vous",
        "applicant": "Demandeur",
        "numero_etranger": "Numéro étranger",
        "office": "Service",
        "demarche": "Démarche",
        "url": "Page consultée",
        "period": "Période",
        "period_value": "du {start} au {end}",
        "attempts": "Tentatives",
        "no_slot": "sans aucun créneau",
        "unavailable": "site indisponible ou page non lisible",
        "with_slots": "créneaux affichés",
        "days_covered": "Jours couverts",
        "days_value": "{covered} jours sur {total}",
        "slots_found": "Créneaux trouvés",
        "captures": "Captures d'écran",
        "final_hash": "Empreinte finale de la chaîne (SHA-256)",
        "chain_id": "Identifiant de la chaîne",
        "entries": "Entrées exportées",
        "generated": "Document établi le {when} (heure de Paris) par creneau, service de veille non commercial.",
        "calendar": "Calendrier des tentatives",
        "calendar_legend": "Chaque case indique le nombre de tentatives du jour. Rouge : aucun créneau ; orange : "
        "site indisponible seulement ; vert : des créneaux ont été affichés ; gris : pas de tentative.",
        "per_day": "Tentatives par jour",
        "day": "Jour",
        "first": "Première",
        "last": "Dernière",
        "capture": "Capture",
        "yes": "oui",
        "no": "non",
        "table": "Tableau des tentatives",
        "table_over": "La période compte {count} tentatives : elles figurent toutes, une par ligne, dans le "
        "fichier joint « chain.jsonl » (pièce jointe de ce PDF) ; le tableau par jour ci-dessus les résume.",
        "n": "N°",
        "when_paris": "Date et heure (Paris)",
        "when_utc": "UTC",
        "outcome": "Résultat",
        "http": "HTTP",
        "page_hash": "SHA-256 de la page",
        "daily_captures": "Captures quotidiennes",
        "capture_of": "Capture du {day}",
        "page_received": "Page reçue le {when} (heure de Paris)",
        "png_hash": "SHA-256 de l'image",
        "pending": "Capture d'écran pas encore produite : la page reçue (empreinte ci-dessus) est conservée "
        "et sera rendue à l'identique.",
        "failed": "La capture d'écran n'a pas pu être produite ; la page reçue (empreinte ci-dessus) est conservée.",
        "no_captures": "Aucune capture pour cette période.",
        "method": "Méthode",
        "verify": "Empreinte finale et vérification",
        "months": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
        "weekdays": "lun mar mer jeu ven sam dim",
        "page": "Page",
        "of": "sur",
    },
    "en": {
        "title": "Evidence dossier of attempts to book an appointment",
        "subtitle": "Timestamped, hash-chained record of checks of the official booking page",
        "applicant": "Applicant",
        "numero_etranger": "Numéro étranger (foreigner number)",
        "office": "Office",
        "demarche": "Procedure",
        "url": "Page checked",
        "period": "Period",
        "period_value": "from {start} to {end}",
        "attempts": "Attempts",
        "no_slot": "without any slot",
        "unavailable": "site unavailable or page unreadable",
        "with_slots": "slots shown",
        "days_covered": "Days covered",
        "days_value": "{covered} days out of {total}",
        "slots_found": "Slots found",
        "captures": "Screenshots",
        "final_hash": "Final hash of the chain (SHA-256)",
        "chain_id": "Chain identifier",
        "entries": "Entries exported",
        "generated": "Made on {when} (Paris time) by creneau, a non-commercial watch service.",
        "calendar": "Calendar of attempts",
        "calendar_legend": "Each day shows its number of attempts. Red: no slot; orange: site unavailable only; "
        "green: slots were shown; grey: no attempt.",
        "per_day": "Attempts per day",
        "day": "Day",
        "first": "First",
        "last": "Last",
        "capture": "Capture",
        "yes": "yes",
        "no": "no",
        "table": "Table of attempts",
        "table_over": "The period has {count} attempts: every one of them is in the attached file "
        "“chain.jsonl” (attachment of this PDF), one per line; the per-day table above sums them up.",
        "n": "No.",
        "when_paris": "Date and time (Paris)",
        "when_utc": "UTC",
        "outcome": "Outcome",
        "http": "HTTP",
        "page_hash": "Page SHA-256",
        "daily_captures": "Daily captures",
        "capture_of": "Capture of {day}",
        "page_received": "Page received on {when} (Paris time)",
        "png_hash": "Image SHA-256",
        "pending": "Screenshot not made yet: the page received (hash above) is kept and will be rendered as is.",
        "failed": "The screenshot could not be made; the page received (hash above) is kept.",
        "no_captures": "No capture for this period.",
        "method": "Method",
        "verify": "Final hash and verification",
        "months": "January February March April May June July August September October November December",
        "weekdays": "Mon Tue Wed Thu Fri Sat Sun",
        "page": "Page",
        "of": "of",
    },
}


def day_text(day: date, lang: str) -> str:
    return f"{day:%d/%m/%Y}" if lang == "fr" else day.isoformat()


def when_text(moment: datetime, lang: str) -> str:
    local = moment.astimezone(PARIS)
    return f"{local:%d/%m/%Y %H:%M:%S}" if lang == "fr" else f"{local:%Y-%m-%d %H:%M:%S}"


def month_title(year: int, month: int, lang: str) -> str:
    return f"{WORDS[lang]['months'].split()[month - 1]} {year}"
