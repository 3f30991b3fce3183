# SPDX-License-Identifier: AGPL-3.0-or-later
"""Frozen records handed out by the evidence repositories (never ORM objects)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from creneau.evidence.chain import Entry


@dataclass(frozen=True, slots=True)
class ChainInfo:
    """Evidence mode of one watch: on or off, switched on by the person or by the expiry reminders."""

    watch_id: int
    subscriber_id: int
    chain_id: str
    enabled: bool
    auto: bool
    head_seq: int
    head_hash: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class EntryRecord:
    """One stored entry of a chain; `body_text` is the canonical JSON its hash covers."""

    seq: int
    kind: str
    at: datetime
    target_id: str
    outcome: str
    page_digest: str | None
    capture_id: int | None
    prev: str
    hash: str
    body_text: str

    @property
    def entry(self) -> Entry:
        return Entry(self.seq, self.prev, self.hash, self.body_text)

    @property
    def body(self) -> dict[str, Any]:
        return self.entry.body


@dataclass(frozen=True, slots=True)
class CaptureRecord:
    """A capture of one target: the raw page (`page_digest`) and, once rendered, the PNG's digest."""

    id: int
    target_id: str
    day: date
    on_demand: bool
    taken_at: datetime
    url: str
    office: str
    demarche: str
    page_digest: str
    status: str
    png_sha256: str | None
    width: int | None
    height: int | None
    rendered_at: datetime | None
    error: str | None


@dataclass(frozen=True, slots=True)
class Profile:
    """What the letters and the dossier say about the applicant (decrypted; never logged)."""

    subscriber_id: int
    full_name: str = ""
    postal_address: str = ""
    birth_date: date | None = None
    nationality: str = ""
    numero_etranger: str = ""
    permit_expiry: date | None = None

    def __repr__(self) -> str:
        return f"Profile(subscriber_id={self.subscriber_id}, …)"
