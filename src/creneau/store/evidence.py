# SPDX-License-Identifier: AGPL-3.0-or-later
"""The evidence tables: per-watch hash-chained logs, shared raw pages and daily captures, applicant
profiles, reminders and letter drafts (`creneau.evidence` holds the logic, docs/evidence.md the contract).

Privacy: every row that names a person hangs off `subscribers` with ON DELETE CASCADE, so deleting an
account deletes its logs, profile, reminders and letters; `EvidenceRepo.collect_garbage` then drops the
captures and raw pages no remaining log refers to. Captures and raw pages are copies of public official
pages and are shared by every watcher of a target (one capture per target per Paris day). Identifiers
(`numero_etranger`) and letter texts are stored encrypted (`enc1:` values, see `evidence/crypto.py`).
`target_id` columns carry no foreign key on purpose: evidence outlives a target leaving the catalogue.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from creneau.store.columns import BigId
from creneau.store.models import Base


class EvidenceChainRow(Base):
    """Evidence mode of one watch and the head of its chain (appends lock this row)."""

    __tablename__ = "evidence_chains"

    watch_id: Mapped[int] = mapped_column(ForeignKey("watches.id", ondelete="CASCADE"), primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    chain_id: Mapped[str] = mapped_column(String(40), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    auto: Mapped[bool] = mapped_column(Boolean, default=False)
    """Switched on by the expiry reminders (inside the two-month window) rather than by the person."""
    head_seq: Mapped[int] = mapped_column(Integer, default=0)
    head_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    changed_at: Mapped[datetime]


class EvidenceEntryRow(Base):
    """One entry of a watch's chain: `body` is the canonical JSON that `hash` covers (with `prev`)."""

    __tablename__ = "evidence_entries"
    __table_args__ = (
        Index("uq_evidence_entries_watch_seq", "watch_id", "seq", unique=True),
        Index(None, "watch_id", "at"),
        CheckConstraint("kind IN ('attempt', 'capture')", name="kind"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    watch_id: Mapped[int] = mapped_column(ForeignKey("evidence_chains.watch_id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime]
    target_id: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(40), default="")
    page_digest: Mapped[str | None] = mapped_column(String(64), index=True)
    capture_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_captures.id"), index=True)
    prev: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)


class EvidencePageRow(Base):
    """A raw page kept as evidence, once per SHA-256 (zlib); independent of the observations' pruning."""

    __tablename__ = "evidence_pages"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    encoding: Mapped[str] = mapped_column(String(10))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    first_seen_at: Mapped[datetime]


class EvidenceCaptureRow(Base):
    """The capture of one target for one Paris day, shared by every watcher: the raw page now, the PNG
    screenshot as soon as a browser renders it (`pending` until then)."""

    __tablename__ = "evidence_captures"
    __table_args__ = (
        Index(
            "uq_evidence_captures_daily",
            "target_id",
            "day",
            unique=True,
            sqlite_where=text("on_demand = 0"),
            postgresql_where=text("on_demand = false"),
        ),
        Index(None, "status", "id"),
        CheckConstraint("status IN ('pending', 'rendered', 'failed')", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_id: Mapped[str] = mapped_column(String(200))
    day: Mapped[date] = mapped_column(Date)
    on_demand: Mapped[bool] = mapped_column(Boolean, default=False)
    taken_at: Mapped[datetime]
    url: Mapped[str] = mapped_column(Text)
    office: Mapped[str] = mapped_column(Text, default="")
    demarche: Mapped[str] = mapped_column(Text, default="")
    page_digest: Mapped[str] = mapped_column(ForeignKey("evidence_pages.digest"))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    png: Mapped[bytes | None] = mapped_column(LargeBinary)
    png_sha256: Mapped[str | None] = mapped_column(String(64))
    preview: Mapped[bytes | None] = mapped_column(LargeBinary)
    """A JPEG copy of the PNG for the dossier PDF (WeasyPrint embeds JPEG as is, PNG it re-encodes)."""
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    rendered_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)


class EvidenceProfileRow(Base):
    """What the letters and the dossier cover say about the applicant, and the permit's expiry date."""

    __tablename__ = "evidence_profiles"

    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True)
    full_name: Mapped[str] = mapped_column(Text, default="")
    postal_address: Mapped[str] = mapped_column(Text, default="")
    birth_date: Mapped[date | None] = mapped_column(Date)
    nationality: Mapped[str] = mapped_column(Text, default="")
    numero_etranger: Mapped[str] = mapped_column(Text, default="")
    """Encrypted (`enc1:…`), or empty."""
    permit_expiry: Mapped[date | None] = mapped_column(Date)
    ics_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    updated_at: Mapped[datetime]


class EvidenceReminderRow(Base):
    """A reminder to send once (4 and 2 months before expiry, slot-after-expiry guidance)."""

    __tablename__ = "evidence_reminders"
    __table_args__ = (
        Index(None, "status", "due_at"),
        CheckConstraint("status IN ('pending', 'sent', 'failed', 'dropped')", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text, default="{}")


class EvidenceLetterRow(Base):
    """A letter as the person edited it (encrypted text), per watch and kind."""

    __tablename__ = "evidence_letters"
    __table_args__ = (Index("uq_evidence_letters_watch_kind", "watch_id", "kind", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    watch_id: Mapped[int] = mapped_column(ForeignKey("watches.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


chains = _table(EvidenceChainRow)
entries = _table(EvidenceEntryRow)
evidence_pages = _table(EvidencePageRow)
captures = _table(EvidenceCaptureRow)
profiles = _table(EvidenceProfileRow)
reminders = _table(EvidenceReminderRow)
letters = _table(EvidenceLetterRow)
