# SPDX-License-Identifier: AGPL-3.0-or-later
"""The catalog's records: offices with per-field provenance, démarches, portals, fees, overrides, targets.

All frozen. `creneau.types.Office`, `Demarche` and `Target` are what the rest of creneau consumes; these richer
records add what the catalog needs to explain itself (where a value came from, when it was last checked).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from fnmatch import fnmatchcase
from types import MappingProxyType

from creneau.types import Demarche, Office, System, Target


class OfficeKind(StrEnum):
    PREFECTURE = "prefecture"
    SOUS_PREFECTURE = "sous-prefecture"
    PREFECTURE_DE_POLICE = "prefecture-de-police"
    OTHER = "other"


class Competence(StrEnum):
    """How the competent office of a démarche is found (see docs/catalog.md, "The competence rule")."""

    PREFECTURE = "prefecture"
    ARRONDISSEMENT = "arrondissement"
    ONLINE = "online"
    TOWN_HALL = "town-hall"
    CONVOCATION = "convocation"


class Origin(StrEnum):
    CATALOG = "catalog"
    LOCAL = "local"


@dataclass(frozen=True, slots=True)
class FieldSource:
    """Where one field's value came from; `last_verified` is None when nobody has checked it."""

    source: str
    last_verified: date | None = None


OFFICE_FIELDS = (
    "id",
    "kind",
    "departement",
    "arrondissement",
    "serves",
    "name",
    "address",
    "postcode",
    "town",
    "insee",
    "website",
    "phone",
    "email",
    "dila_id",
    "provenance",
    "last_verified",
    "note",
)


@dataclass(frozen=True, slots=True)
class OfficeRecord:
    id: str
    kind: OfficeKind
    departement: str
    name: str
    town: str
    arrondissement: str = ""
    serves: tuple[str, ...] = ()
    address: str = ""
    postcode: str = ""
    insee: str = ""
    website: str = ""
    phone: str = ""
    email: str = ""
    dila_id: str = ""
    provenance: Mapping[str, FieldSource] = field(default_factory=lambda: MappingProxyType({}))
    last_verified: date | None = None
    note: str = ""

    def as_office(self) -> Office:
        return Office(self.id, self.name, self.kind.value, self.departement, self.town, self.website)

    def source_of(self, field_name: str) -> FieldSource | None:
        return self.provenance.get(field_name)

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "departement": self.departement,
            "arrondissement": self.arrondissement or None,
            "serves": list(self.serves),
            "name": self.name,
            "address": self.address,
            "postcode": self.postcode,
            "town": self.town,
            "insee": self.insee,
            "website": self.website,
            "phone": self.phone,
            "email": self.email,
            "provenance": {
                name: {"source": s.source, "last_verified": s.last_verified.isoformat() if s.last_verified else None}
                for name, s in self.provenance.items()
            },
            "last_verified": self.last_verified.isoformat() if self.last_verified else None,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class Portal:
    key: str
    name_fr: str
    name_en: str
    url: str
    role: str
    system: System | None = None


@dataclass(frozen=True, slots=True)
class DemarcheInfo:
    key: str
    name_fr: str
    name_en: str
    category: str
    competence: Competence
    portals: tuple[str, ...]
    watchable: bool
    note_en: str = ""
    prepare_en: tuple[str, ...] = ()
    prepare_fr: tuple[str, ...] = ()

    def as_demarche(self) -> Demarche:
        return Demarche(self.key, self.name_fr, self.name_en)


@dataclass(frozen=True, slots=True)
class Fee:
    """An official fee, valid from `valid_from` (inclusive) until `valid_until` (exclusive, None = still valid)."""

    id: str
    demarches: tuple[str, ...]
    amount_eur: float
    label_en: str
    label_fr: str
    valid_from: date
    source: str
    valid_until: date | None = None

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day < self.valid_until)


class Scope(StrEnum):
    DEPARTEMENT = "departement"
    ARRONDISSEMENT = "arrondissement"
    COMMUNE = "commune"


SCOPE_RANK = {Scope.COMMUNE: 0, Scope.ARRONDISSEMENT: 1, Scope.DEPARTEMENT: 2}
"""Most specific first: a commune rule beats an arrondissement rule, which beats a département rule."""


@dataclass(frozen=True, slots=True)
class Override:
    """A competence exception: for these démarches and this territory, these offices (in order) are competent."""

    id: str
    demarches: tuple[str, ...]
    scope: Scope
    codes: frozenset[str]
    offices: tuple[str, ...]
    reason: str
    source: str
    source_date: date | None = None
    last_verified: date | None = None
    note: str = ""

    def covers(self, demarche_key: str) -> bool:
        """True when one of the rule's démarche patterns (`sejour.*`, `natz.decree`) matches."""
        return any(fnmatchcase(demarche_key, pattern) for pattern in self.demarches)


@dataclass(frozen=True, slots=True)
class BookingTarget:
    """A catalog booking target: the `Target` the monitor watches plus where it came from."""

    target: Target
    source: str
    source_date: date | None = None
    last_verified: date | None = None
    note: str = ""
    origin: Origin = Origin.CATALOG

    @property
    def id(self) -> str:
        return self.target.id

    def to_json(self) -> dict[str, object]:
        t = self.target
        return {
            "id": t.id,
            "system": t.system.value,
            "url": t.url,
            "office_id": t.office_id,
            "demarche_key": t.demarche_key,
            "demarche_id": t.demarche_id,
            "guichets": dict(t.guichets),
            "label": t.label,
            "source": self.source,
            "source_date": self.source_date.isoformat() if self.source_date else None,
            "last_verified": self.last_verified.isoformat() if self.last_verified else None,
            "verified": self.last_verified is not None,
            "note": self.note,
            "origin": self.origin.value,
        }


@dataclass(frozen=True, slots=True)
class Source:
    id: str
    title: str
    url: str
    date: date | None
    licence: str
    verified: bool
