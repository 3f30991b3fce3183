# SPDX-License-Identifier: AGPL-3.0-or-later
"""From what a person types (INSEE code, postcode, loosely typed commune name) to the competent office.

`locate` only finds the commune: one (`RESOLVED`), several to choose from (`CHOOSE`: an ambiguous postcode or
name), closest names (`SUGGEST`) or nothing (`NOT_FOUND`). `find` adds the competence answer, the booking
targets and the nearby alternatives. "Nearby" means the other offices of the same département (the catalog has
no coordinates, so no distances): see docs/catalog.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from creneau.catalog.competence import Answer, competent
from creneau.catalog.core import Catalog
from creneau.catalog.fuzzy import NameIndex
from creneau.catalog.geo import Commune, CommuneType, Geography
from creneau.catalog.model import BookingTarget, DemarcheInfo, OfficeRecord
from creneau.catalog.text import name_key

UNIDENTIFIED = "sejour.other"
_CODE = re.compile(r"^(?:\d{5}|2[ab]\d{3})$", re.IGNORECASE)
_QUALIFIER = re.compile(r"^(?:\d{5}|\d{2}|2[ab]|97\d)$")


class Status(StrEnum):
    RESOLVED = "resolved"
    CHOOSE = "choose"
    SUGGEST = "suggest"
    NOT_FOUND = "not_found"


class Located(NamedTuple):
    """Where a query led (a named tuple: `find` over every commune builds tens of thousands)."""

    status: Status
    query: str
    how: str = ""
    communes: tuple[Commune, ...] = ()
    suggestions: tuple[tuple[str, float], ...] = ()

    @property
    def commune(self) -> Commune:
        if self.status is not Status.RESOLVED:
            raise ValueError(f"{self.query!r} did not resolve to one commune")
        return self.communes[0]


@dataclass(frozen=True, slots=True)
class Alternative:
    office: OfficeRecord
    targets: tuple[BookingTarget, ...]


@dataclass(frozen=True, slots=True)
class Found:
    """The full answer of `creneau find` for a resolved commune."""

    located: Located
    answer: Answer
    targets: tuple[BookingTarget, ...]
    alternatives: tuple[Alternative, ...] = field(default=())
    related: tuple[BookingTarget, ...] = field(default=())
    """Booking pages of the competent offices whose démarche is not identified (`sejour.other`)."""


class Resolver:
    """Holds the lazily built fuzzy index; one per catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.geo: Geography = catalog.geography
        self._fuzzy: NameIndex | None = None

    def locate(self, query: str) -> Located:
        text = " ".join(query.split())
        if not text:
            return Located(Status.NOT_FOUND, query, "empty query")
        if _CODE.match(text):
            return self._by_code(text.upper())
        return self._by_name(text)

    def _by_code(self, code: str) -> Located:
        record = self.geo.by_code(code)
        post = _most_specific(self.geo.by_postcode(code))
        if record is not None and (not post or any(self._same(record, c) for c in post)):
            return Located(Status.RESOLVED, code, "INSEE code", (record,))
        if record is not None:
            return Located(Status.CHOOSE, code, "INSEE code or postcode", (record, *post))
        if len(post) == 1:
            return Located(Status.RESOLVED, code, "postcode", tuple(post))
        if post:
            return Located(Status.CHOOSE, code, "postcode", tuple(post))
        return Located(Status.NOT_FOUND, code, "no commune has this INSEE code or postcode")

    def _same(self, a: Commune, b: Commune) -> bool:
        return a.code == b.code or self.geo.current(a).code == self.geo.current(b).code == a.code

    def _by_name(self, text: str) -> Located:
        key = name_key(text)
        records = _distinct(self.geo.by_name_key(key))
        how = "name"
        if not records:
            head, _, last = key.rpartition(" ")
            if head and _QUALIFIER.match(last):
                records = [c for c in _distinct(self.geo.by_name_key(head)) if _qualifies(c, last)]
                how = "name and département or postcode"
        if len(records) == 1:
            return Located(Status.RESOLVED, text, how, tuple(records))
        if records:
            return Located(Status.CHOOSE, text, how, tuple(records))
        suggestions = tuple(self.fuzzy.closest(key))
        if suggestions:
            return Located(Status.SUGGEST, text, "closest names", suggestions=suggestions)
        return Located(Status.NOT_FOUND, text, "no commune matches this name")

    @property
    def fuzzy(self) -> NameIndex:
        if self._fuzzy is None:
            self._fuzzy = NameIndex(self.geo.name_index())
        return self._fuzzy

    def suggestion_communes(self, key: str) -> list[Commune]:
        return _distinct(self.geo.by_name_key(key))

    def find(self, query: str, demarche: DemarcheInfo) -> tuple[Located, Found | None]:
        located = self.locate(query)
        if located.status is not Status.RESOLVED:
            return located, None
        return located, self.answer(located, demarche)

    def answer(self, located: Located, demarche: DemarcheInfo) -> Found:
        commune = located.commune
        answer = competent(self.catalog, commune, demarche)
        chosen = {office.id for office in answer.offices}
        targets = tuple(t for office in answer.offices for t in self.catalog.targets_for(office.id, demarche.key))
        alternatives: list[Alternative] = []
        if answer.offices or answer.general_office is not None:
            for office in self.catalog.offices_in(commune.departement):
                if office.id not in chosen:
                    alternatives.append(Alternative(office, tuple(self.catalog.targets_for(office.id, demarche.key))))
        related: tuple[BookingTarget, ...] = ()
        if demarche.category == "foreigners" and demarche.key != UNIDENTIFIED:
            related = tuple(t for office in answer.offices for t in self.catalog.targets_for(office.id, UNIDENTIFIED))
        return Found(located, answer, targets, tuple(alternatives), related)


def _qualifies(commune: Commune, qualifier: str) -> bool:
    if len(qualifier) == 5:
        return qualifier in commune.postcodes
    return commune.departement.lower() == qualifier


def _distinct(records: list[Commune]) -> list[Commune]:
    seen: set[str] = set()
    out = []
    for record in records:
        if record.code not in seen:
            seen.add(record.code)
            out.append(record)
    return out


def _most_specific(records: list[Commune]) -> list[Commune]:
    """Drop a city when one of its own municipal arrondissements is also listed (13001 → Marseille 1er only)."""
    parents = {r.parent for r in records if r.type == CommuneType.MUNICIPAL_ARRONDISSEMENT}
    return [r for r in records if r.code not in parents]
