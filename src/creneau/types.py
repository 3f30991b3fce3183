# SPDX-License-Identifier: AGPL-3.0-or-later
"""The domain vocabulary every stage of the pipeline speaks.

Pure data: no I/O, no framework imports, so the monitor and detector policies can use it in
simulated time. Datetimes are always timezone-aware (UTC inside, Europe/Paris only for display
and for parsing French pages).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


class Outcome(StrEnum):
    """What one check of a target found. Only `SLOTS_AVAILABLE` may ever lead to an alert."""

    SLOTS_AVAILABLE = "slots_available"
    NO_SLOTS = "no_slots"
    HUMAN_CHECK_REQUIRED = "human_check_required"
    SESSION_EXPIRED = "session_expired"
    BLOCKED = "blocked"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    LAYOUT_UNKNOWN = "layout_unknown"
    NETWORK_ERROR = "network_error"

    @property
    def is_conclusive(self) -> bool:
        """True when the check saw the real slot state (slots or positively no slots).

        Inconclusive outcomes neither open nor close an opening in the detector.
        """
        return self in (Outcome.SLOTS_AVAILABLE, Outcome.NO_SLOTS)

    @property
    def is_site_pushback(self) -> bool:
        """True when the site asked us to slow down or refused us: the monitor backs off."""
        return self in (Outcome.BLOCKED, Outcome.RATE_LIMITED, Outcome.UNAVAILABLE)


class System(StrEnum):
    """The booking systems creneau has an adapter for."""

    RDVPREF = "rdvpref"
    LEGACY = "legacy"
    ANTS = "ants"


class NoticeKind(StrEnum):
    NEXT_PUBLICATION = "next_publication"
    LAST_PUBLICATION = "last_publication"
    NEXT_AVAILABILITY = "next_availability"


@dataclass(frozen=True, slots=True)
class Notice:
    """A publication notice read on a page ("Prochaine mise en ligne … le 12/05/2026 à 08:30").

    `instant` is when the notice says slots go (or went) online; `week_of` the Monday of the week the
    published slots belong to, when the page says so.
    """

    kind: NoticeKind
    instant: datetime
    week_of: date | None = None
    text: str = ""


@dataclass(frozen=True, slots=True)
class Slot:
    """One bookable time seen on a page.

    `guichet` is the counter (legacy `planning` id, RDV Préfecture agenda) the slot belongs to, `ref` the
    site's own handle for it (`trhId`, the legacy `/5/{unix}` timestamp, an ANTS callback URL).
    """

    start: datetime
    guichet: str | None = None
    guichet_label: str | None = None
    ref: str | None = None
    place: str | None = None

    @property
    def key(self) -> str:
        """Identity of a slot across checks, used by the detector to tell new slots from known ones."""
        return f"{self.guichet or ''}|{self.start.isoformat()}|{self.place or ''}"


@dataclass(frozen=True, slots=True)
class Office:
    id: str
    name: str
    kind: str
    departement: str
    town: str = ""
    website: str = ""


@dataclass(frozen=True, slots=True)
class Demarche:
    key: str
    name_fr: str
    name_en: str


@dataclass(frozen=True, slots=True)
class AntsCriteria:
    """Search criteria of the ANTS town-hall hub `SlotsFromPosition`."""

    longitude: float
    latitude: float
    radius_km: float = 20
    reason: str = "CNI-PASSPORT"
    documents_number: int = 1
    days_ahead: int = 60
    address: str | None = None


def _frozen(mapping: Mapping[str, str] | None = None) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True, slots=True)
class Target:
    """One office × démarche on one booking system: the unit that is checked once for all its watchers.

    `url` is always the official page a person would open (it is what alerts link to).
    `demarche_id` is the RDV Préfecture démarche id or the legacy form id; `guichets` maps the legacy
    planning ids (or other counter ids) to their labels when known.
    """

    id: str
    system: System
    url: str
    office_id: str = ""
    demarche_key: str = ""
    demarche_id: int | None = None
    guichets: Mapping[str, str] = field(default_factory=_frozen)
    ants: AntsCriteria | None = None
    label: str = ""

    @property
    def host(self) -> str:
        from urllib.parse import urlsplit

        return urlsplit(self.url).hostname or ""


@dataclass(frozen=True, slots=True)
class ParseResult:
    """What a pure parser concluded from one page: the outcome and the evidence that decided it."""

    outcome: Outcome
    evidence: str
    slots: tuple[Slot, ...] = ()
    notices: tuple[Notice, ...] = ()
    page: str = ""


@dataclass(frozen=True, slots=True)
class Observation:
    """The immutable record of one check of one target.

    `raw_page` keeps the last page body seen (for the evidence dossier and for reviewing unrecognised
    layouts); `page_digest` is its SHA-256. `evidence` says which element or status decided the outcome.
    `requests` is how many HTTP requests the check sent (redirects included), what it cost the site's
    per-host budgets; None when nobody counted (an observation built outside the monitor).
    """

    target_id: str
    checked_at: datetime
    outcome: Outcome
    evidence: str
    slots: tuple[Slot, ...] = ()
    notices: tuple[Notice, ...] = ()
    http_status: int | None = None
    duration_s: float = 0.0
    url: str = ""
    page: str = ""
    page_digest: str = ""
    raw_page: bytes = b""
    retry_after_s: float | None = None
    requests: int | None = None

    def summary(self) -> dict[str, object]:
        """A JSON-ready view (what `creneau check --json` prints)."""
        return {
            "target": self.target_id,
            "checked_at": self.checked_at.isoformat(),
            "outcome": self.outcome.value,
            "evidence": self.evidence,
            "slots": [s.start.isoformat() for s in self.slots],
            "slot_details": [
                {
                    "start": s.start.isoformat(),
                    "guichet": s.guichet,
                    "guichet_label": s.guichet_label,
                    "ref": s.ref,
                    "place": s.place,
                }
                for s in self.slots
            ],
            "notices": [
                {
                    "kind": n.kind.value,
                    "instant": n.instant.isoformat(),
                    "week_of": n.week_of.isoformat() if n.week_of else None,
                    "text": n.text,
                }
                for n in self.notices
            ],
            "http_status": self.http_status,
            "duration_s": round(self.duration_s, 3),
            "url": self.url,
            "page": self.page,
            "page_digest": self.page_digest,
            "retry_after_s": self.retry_after_s,
            "requests": self.requests,
        }
