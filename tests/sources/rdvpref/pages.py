# SPDX-License-Identifier: AGPL-3.0-or-later
"""Slot pages built from a tranche list, in each way the state can be embedded or rendered (§1.3b).

Used by the property tests: whatever the embedding, the parser must read back exactly these slots.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from creneau.types import PARIS

WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
STYLES = ("attributes", "script", "escaped_data", "script_string", "rendered")

Tranche = tuple[int, date, int]  # trhId, day, minutes since midnight

_HEAD = (
    '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>RDV Préfecture</title></head><body>'
    '<main class="fr-container"><div id="app"><h2>Choisissez votre créneau</h2>\n'
)
_TAIL = "</div></main></body></html>\n"


def fmt(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def expected(tranches: Sequence[Tranche]) -> set[tuple[str, datetime]]:
    """(trhId, UTC start) of each tranche, as the parser must report them."""
    return {
        (str(trh), datetime(d.year, d.month, d.day, m // 60, m % 60, tzinfo=PARIS).astimezone(UTC))
        for trh, d, m in tranches
    }


def _state(tranches: Sequence[Tranche], premier: date) -> dict[str, object]:
    first = fmt(min(d for _, d, _ in tranches)) if tranches else ""
    return {
        "critere": {
            "ageIds": [1234],
            "premierJour": fmt(premier),
            "dateMin": fmt(premier),
            "minutesMin": 540,
            "dateMax": fmt(premier + timedelta(days=40)),
            "datePremiereDispo": first,
        },
        "isDisplayCalendar": bool(tranches),
        "premierJour": fmt(premier),
        "premiereDispo": first,
        "tranches": [{"trhId": t, "dateLocale": fmt(d), "minutesDebut": m} for t, d, m in tranches],
        "prochainePub": None,
        "precedentePub": None,
    }


def _rendered(tranches: Sequence[Tranche], premier: date) -> str:
    days: dict[date, list[Tranche]] = {}
    for t in sorted(tranches, key=lambda t: (t[1], t[2])):
        days.setdefault(t[1], []).append(t)
    parts = [f'<div class="rdv-choix-tranche"><span>Semaine du {fmt(premier)}</span><div class="row">']
    for day, items in sorted(days.items()):
        parts.append(f'<div class="col"><h3 class="celulleHeader">{WEEKDAYS[day.weekday()]} {day:%d/%m}</h3><ul>')
        for i, (trh, _, minutes) in enumerate(items):
            even = " even" if i % 2 else ""
            parts.append(
                f'<li class="row cellule justify-center radio-card{even}">'
                f'<input type="radio" name="trhId" id="trhId_{trh}" data-value="{trh}">'
                f'<label class="fr-label" for="trhId_{trh}">{minutes // 60:02d}h{minutes % 60:02d}</label></li>'
            )
        parts.append("</ul></div>")
    if not tranches:
        parts.append("<p>Aucun créneau disponible</p>")
    parts.append("</div></div>")
    return "".join(parts)


def slot_page(tranches: Sequence[Tranche], premier: date, style: str) -> bytes:
    """A `/creneau/` page holding these tranches, embedded (or rendered) the `style` way."""
    state = _state(tranches, premier)
    raw = json.dumps(state, ensure_ascii=False, separators=(",", ":"))
    if style == "attributes":
        attrs = " ".join(
            f':{k}="{html.escape(json.dumps(v, ensure_ascii=False), quote=True)}"'
            for k, v in (
                ("tranches", state["tranches"]),
                ("premier-jour", state["premierJour"]),
                ("is-display-calendar", state["isDisplayCalendar"]),
                ("critere", state["critere"]),
            )
        )
        body = f"<rdv-choix-tranche {attrs}></rdv-choix-tranche>"
    elif style == "script":
        body = f"<rdv-choix-tranche></rdv-choix-tranche><script>VertigoUi.vueData = {raw};</script>"
    elif style == "escaped_data":
        body = f'<div id="state" data-vue="{html.escape(raw, quote=True)}"></div>'
    elif style == "script_string":
        body = f"<script>var data = JSON.parse({json.dumps(raw)});</script>"
    else:
        body = _rendered(tranches, premier)
    return (_HEAD + body + _TAIL).encode()
