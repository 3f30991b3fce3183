# SPDX-License-Identifier: AGPL-3.0-or-later
"""Letters filled from the person's data and their evidence, in French with an English explanation.

Three letters (`LetterKind`): an e-mail to the prefecture, a registered letter (LRAR) announcing a référé
"mesures utiles", and a summary for a complaint to the Défenseur des droits. `draft(kind, facts)` writes
the French text from `templates/letters/<kind>.fr.txt.j2`; the person may edit it before export
(`ProfileRepo.save_letter` keeps their version, encrypted). A letter is never produced with a blank to
fill: a missing fact raises `MissingFacts` naming it, and `placeholders(text)` finds any leftover
(`{{ }}`, `[…]`, `XXX`, `None`…) in an edited text, which export refuses too.

`letter_pdf(text)` lays the text out on A4 with WeasyPrint; `lawyer_pack(...)` zips the dossiers, the
letters (text and PDF), the English explanations, the chain and a per-day timeline for a lawyer.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from html import escape
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from creneau.evidence.dossier_data import DossierData
from creneau.evidence.texts import day_text, when_text
from creneau.types import PARIS

TEMPLATES = Path(__file__).resolve().parent / "templates" / "letters"


class LetterKind(StrEnum):
    EMAIL = "email"
    LRAR = "lrar"
    DDD = "ddd"


TITLES = {
    LetterKind.EMAIL: ("Courriel à la préfecture", "E-mail to the prefecture"),
    LetterKind.LRAR: ("Lettre recommandée avec accusé de réception", "Registered letter (LRAR)"),
    LetterKind.DDD: ("Réclamation au Défenseur des droits", "Complaint to the Défenseur des droits"),
}

REQUIRED: Mapping[LetterKind, tuple[str, ...]] = {
    LetterKind.EMAIL: ("full_name", "office_name", "demarche", "attempts"),
    LetterKind.LRAR: ("full_name", "postal_address", "office_name", "office_address", "demarche", "attempts"),
    LetterKind.DDD: ("full_name", "office_name", "demarche", "attempts"),
}

_LEFTOVERS = re.compile(
    r"\{\{|\}\}|\{%|%\}|\[[^\]\n]{0,40}\]|\bX{3,}\b|\bTODO\b|\bNone\b|<[a-z_ ]+>|à compléter|to be completed",
    re.IGNORECASE,
)


class MissingFacts(ValueError):
    """A letter needs facts the person has not given yet; `fields` names them."""

    def __init__(self, kind: LetterKind, fields: list[str]) -> None:
        super().__init__(f"the {kind.value} letter needs: {', '.join(fields)}")
        self.fields = fields


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything a letter may say, already formatted in French (dates dd/mm/yyyy, Paris time)."""

    full_name: str
    demarche: str
    office_name: str
    url: str
    first_day: str
    last_day: str
    last_attempt: str
    attempts: int
    no_slot: int
    unavailable: int
    days_covered: int
    final_hash: str
    today: str
    captures: list[str] = field(default_factory=list)
    postal_address: str = ""
    office_address: str = ""
    office_email: str = ""
    email: str = ""
    numero_etranger: str = ""
    birth_date: str = ""
    nationality: str = ""
    permit_expiry: str = ""


@dataclass(frozen=True, slots=True)
class Recipient:
    """The office as the catalogue knows it (name, postal address, e-mail)."""

    name: str
    address: str = ""
    email: str = ""


def facts_from(data: DossierData, recipient: Recipient, *, email: str = "", today: date) -> Facts:
    """The letters' facts from a gathered dossier, the office and the person's e-mail address."""
    profile = data.profile
    place = data.places[0] if data.places else None
    last = max((d.last for d in data.days if d.last is not None), default=None)
    return Facts(
        full_name=profile.full_name.strip(),
        demarche=place.demarche if place else "",
        office_name=recipient.name or (place.office if place else ""),
        url=place.url if place else "",
        first_day=day_text(data.first_day, "fr"),
        last_day=day_text(data.last_day, "fr"),
        last_attempt=when_text(last, "fr") if last else "",
        attempts=data.attempts,
        no_slot=data.no_slot,
        unavailable=data.unavailable,
        days_covered=data.days_covered,
        final_hash=data.final_hash,
        today=day_text(today, "fr"),
        captures=[day_text(c.taken_at.astimezone(PARIS).date(), "fr") for c in data.captures[:5]],
        postal_address=profile.postal_address.strip(),
        office_address=recipient.address.strip(),
        office_email=recipient.email,
        email=email,
        numero_etranger=profile.numero_etranger,
        birth_date=day_text(profile.birth_date, "fr") if profile.birth_date else "",
        nationality=profile.nationality.strip(),
        permit_expiry=day_text(profile.permit_expiry, "fr") if profile.permit_expiry else "",
    )


def missing(kind: LetterKind, facts: Facts) -> list[str]:
    return [name for name in REQUIRED[kind] if not getattr(facts, name)]


def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - plain text letters, never HTML
    )


def _render(name: str, facts: Facts) -> str:
    text = _env().get_template(name).render(f=facts)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def draft(kind: LetterKind, facts: Facts) -> str:
    """The French letter; raises MissingFacts when a needed fact is missing."""
    gaps = missing(kind, facts)
    if gaps:
        raise MissingFacts(kind, gaps)
    return _render(f"{kind.value}.fr.txt.j2", facts)


def explanation(kind: LetterKind, facts: Facts) -> str:
    """What the letter is and what to do with it, in English."""
    return _render(f"{kind.value}.en.txt.j2", facts)


def placeholders(text: str) -> list[str]:
    """Leftover blanks in a (possibly edited) letter; empty when it is ready to send."""
    return sorted({match.group(0) for match in _LEFTOVERS.finditer(text)})


def ready(text: str) -> str:
    """`text` if it has no leftover blank; raises ValueError naming them otherwise."""
    found = placeholders(text)
    if found:
        raise ValueError(f"the letter still has blanks to fill: {', '.join(found)}")
    if not text.strip():
        raise ValueError("the letter is empty")
    return text


_PDF_CSS = """@page { size: A4; margin: 22mm 20mm; }
body { font-family: "DejaVu Serif", serif; font-size: 10.5pt; line-height: 1.45; }
p { margin: 0 0 3.2mm; white-space: pre-wrap; }"""


def letter_pdf(text: str, *, title: str) -> bytes:
    """The letter on A4, paragraph by paragraph as written (refuses a letter with blanks left)."""
    from weasyprint import HTML

    paragraphs = "".join(f"<p>{escape(block)}</p>" for block in ready(text).strip().split("\n\n"))
    html = f'<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>{escape(title)}</title><style>{_PDF_CSS}</style></head><body>{paragraphs}</body></html>'
    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


def timeline_csv(data: DossierData) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["day", "attempts", "no_slot", "unavailable", "slots_shown", "first_paris", "last_paris", "capture"]
    )
    for row in data.days:
        writer.writerow(
            [
                row.day.isoformat(),
                row.attempts,
                row.no_slot,
                row.unavailable,
                row.with_slots,
                row.first.astimezone(PARIS).strftime("%H:%M:%S") if row.first else "",
                row.last.astimezone(PARIS).strftime("%H:%M:%S") if row.last else "",
                "yes" if row.captured else "no",
            ]
        )
    return out.getvalue()


def lawyer_pack(
    data: DossierData,
    *,
    dossiers: Mapping[str, bytes],
    letters: Mapping[LetterKind, str],
    explanations: Mapping[LetterKind, str],
    made_at: datetime,
) -> bytes:
    """A zip for a lawyer: dossier PDFs (per language), letters (text and PDF), explanations in English,
    the chain export and the per-day timeline. Every letter must be ready (no blanks)."""
    buffer = io.BytesIO()
    stamp = made_at.astimezone(PARIS)
    readme = (
        f"Dossier creneau — chaîne {data.chain_id}, du {day_text(data.first_day, 'fr')} au {day_text(data.last_day, 'fr')}.\n"
        f"{data.attempts} tentatives sur {data.days_covered} jours ; empreinte finale SHA-256 : {data.final_hash}.\n"
        f"Vérification : creneau dossier verify dossier-fr.pdf (ou chain.jsonl). Établi le {when_text(stamp, 'fr')}.\n"
    )
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as pack:
        pack.writestr("LISEZMOI.txt", readme)
        for lang, pdf in dossiers.items():
            pack.writestr(f"dossier-{lang}.pdf", pdf)
        for kind, text in letters.items():
            title = TITLES[kind][0]
            pack.writestr(f"lettres/{kind.value}.txt", ready(text))
            pack.writestr(f"lettres/{kind.value}.pdf", letter_pdf(text, title=title))
        for kind, text in explanations.items():
            pack.writestr(f"lettres/{kind.value}-explanation-en.txt", text)
        pack.writestr("chronologie.csv", timeline_csv(data))
        pack.writestr("chain.jsonl", data.chain_bytes)
    return buffer.getvalue()
