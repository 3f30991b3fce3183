# SPDX-License-Identifier: AGPL-3.0-or-later
"""The schema, as SQLAlchemy declarative models.

The repositories use these tables through Core statements (`Model.__table__`) and hand out frozen
records (`store/records.py`), never live ORM objects, so nothing lazy-loads behind an `await`. The
relationships exist for ORM users (the web app) and are all `lazy="raise"`: load them explicitly.

A test autogenerates a diff between these models and the migrations and expects none.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from creneau.store.columns import BigId, Json, SecretJson, UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: Json}  # noqa: RUF012


def _status_check(name: str, values: tuple[str, ...]) -> CheckConstraint:
    quoted = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"status IN ({quoted})", name=name)


class TargetRow(Base):
    """One office × démarche checked once for all its watchers, with its scheduling and lease state."""

    __tablename__ = "targets"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    system: Mapped[str] = mapped_column(String(20))
    url: Mapped[str] = mapped_column(Text)
    host: Mapped[str] = mapped_column(String(255), index=True)
    office_id: Mapped[str] = mapped_column(String(100), default="")
    demarche_key: Mapped[str] = mapped_column(String(100), default="")
    demarche_id: Mapped[int | None] = mapped_column(Integer)
    params: Mapped[dict[str, Any]] = mapped_column(Json)
    label: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    next_check_at: Mapped[datetime] = mapped_column(index=True)
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None]
    last_outcome: Mapped[str | None] = mapped_column(String(40))
    last_checked_at: Mapped[datetime | None]
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    backoff_until: Mapped[datetime | None]
    paused_until: Mapped[datetime | None]
    pause_reason: Mapped[str | None] = mapped_column(Text)
    detector_state: Mapped[dict[str, Any] | None] = mapped_column(Json)


class PageRow(Base):
    """A raw page body, stored once per SHA-256 digest, zlib-compressed."""

    __tablename__ = "pages"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    encoding: Mapped[str] = mapped_column(String(10))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    first_seen_at: Mapped[datetime]


class ObservationRow(Base):
    __tablename__ = "observations"
    __table_args__ = (
        Index(None, "target_id", "checked_at"),
        Index(None, "outcome", "checked_at"),  # the operator view: unrecognised pages, refusals of the day
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    target_id: Mapped[str] = mapped_column(ForeignKey("targets.id", ondelete="CASCADE"))
    checked_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(40))
    evidence: Mapped[str] = mapped_column(Text)
    slots: Mapped[list[Any]] = mapped_column(Json)
    notices: Mapped[list[Any]] = mapped_column(Json)
    http_status: Mapped[int | None] = mapped_column(Integer)
    duration_s: Mapped[float] = mapped_column(Float)
    url: Mapped[str] = mapped_column(Text)
    page: Mapped[str] = mapped_column(String(100), default="")
    page_digest: Mapped[str | None] = mapped_column(ForeignKey("pages.digest"))
    retry_after_s: Mapped[float | None] = mapped_column(Float)


class OpeningRow(Base):
    """A period during which a target showed slots; at most one is open (ended_at NULL) per target.

    `seq` is the detector's opening number for the target (1, 2, …).
    """

    __tablename__ = "openings"
    __table_args__ = (
        UniqueConstraint("target_id", "seq"),
        Index(None, "target_id", "started_at"),
        Index(None, "started_at"),  # the public feed of openings, openings today
        Index(
            "uq_openings_one_open_per_target",
            "target_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_id: Mapped[str] = mapped_column(ForeignKey("targets.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(Text)
    close_reason: Mapped[str | None] = mapped_column(Text)
    first_slots: Mapped[list[Any]] = mapped_column(Json)


class OpeningSlotRow(Base):
    """One slot's lifetime inside an opening: first seen, last seen, gone."""

    __tablename__ = "opening_slots"
    __table_args__ = (UniqueConstraint("opening_id", "slot_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    opening_id: Mapped[int] = mapped_column(ForeignKey("openings.id", ondelete="CASCADE"))
    slot_key: Mapped[str] = mapped_column(String(300))
    start: Mapped[datetime]
    guichet: Mapped[str | None] = mapped_column(String(100))
    guichet_label: Mapped[str | None] = mapped_column(Text)
    place: Mapped[str | None] = mapped_column(Text)
    ref: Mapped[str | None] = mapped_column(Text)
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    gone_at: Mapped[datetime | None]


class TransitionRow(Base):
    """A recorded change of a target's state (opened, updated, closed, paused, resumed).

    Alerts are attached to transitions, never to a poll. `key` makes re-recording the same event a no-op.
    """

    __tablename__ = "transitions"
    __table_args__ = (Index(None, "target_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(512), unique=True)
    target_id: Mapped[str] = mapped_column(ForeignKey("targets.id", ondelete="CASCADE"))
    opening_id: Mapped[int | None] = mapped_column(ForeignKey("openings.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    old_state: Mapped[str] = mapped_column(String(20))
    new_state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]
    payload: Mapped[dict[str, Any]] = mapped_column(Json)


class SubscriberRow(Base):
    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    locale: Mapped[str] = mapped_column(String(10), default="fr")
    name: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]

    channels: Mapped[list[ChannelRow]] = relationship(lazy="raise", passive_deletes=True)
    watches: Mapped[list[WatchRow]] = relationship(lazy="raise", passive_deletes=True)


class ChannelRow(Base):
    """Where one subscriber wants alerts (an e-mail address, a Telegram chat, an ntfy topic, a webhook)."""

    __tablename__ = "channels"
    __table_args__ = (
        UniqueConstraint("subscriber_id", "kind", "address"),
        _status_check("status", ("active", "disabled")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(Text)
    config: Mapped[dict[str, Any]] = mapped_column(SecretJson)
    status: Mapped[str] = mapped_column(String(20), default="active")
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    disabled_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class WatchRow(Base):
    """A subscriber's interest in one or more targets; `filters` is a `detector.WatchFilter` as a dict."""

    __tablename__ = "watches"
    __table_args__ = (_status_check("status", ("active", "paused")),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(Text, default="")
    filters: Mapped[dict[str, Any]] = mapped_column(Json)
    status: Mapped[str] = mapped_column(String(20), default="active")
    created_at: Mapped[datetime]

    targets: Mapped[list[TargetRow]] = relationship(secondary="watch_targets", lazy="raise", passive_deletes=True)


class WatchTargetRow(Base):
    __tablename__ = "watch_targets"

    watch_id: Mapped[int] = mapped_column(ForeignKey("watches.id", ondelete="CASCADE"), primary_key=True)
    target_id: Mapped[str] = mapped_column(ForeignKey("targets.id", ondelete="CASCADE"), primary_key=True, index=True)


DELIVERY_STATUSES = ("pending", "leased", "sent", "failed", "dead")
UNFINISHED_DELIVERY = "status IN ('pending', 'failed', 'leased')"
"""The partial index condition of the senders' claim order; the claim query repeats it word for word
(SQLite only uses a partial index when the query's WHERE visibly implies the index's)."""


class DeliveryRow(Base):
    """The outbox: one row per (transition, watch, channel), claimed by senders with a lease."""

    __tablename__ = "deliveries"
    __table_args__ = (
        _status_check("status", DELIVERY_STATUSES),
        Index(None, "transition_id", "shuffle_key"),
        Index(
            "ix_deliveries_unfinished_fair_order",
            "transition_id",
            "shuffle_key",
            sqlite_where=text(UNFINISHED_DELIVERY),
            postgresql_where=text(UNFINISHED_DELIVERY),
        ),
        Index(None, "channel_id", "status"),
        Index(None, "status", "channel_kind", "created_at"),  # the backlog (operator view, /metrics)
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(512), unique=True)
    transition_id: Mapped[int] = mapped_column(ForeignKey("transitions.id", ondelete="CASCADE"))
    opening_id: Mapped[int | None] = mapped_column(ForeignKey("openings.id", ondelete="CASCADE"), index=True)
    watch_id: Mapped[int | None] = mapped_column(ForeignKey("watches.id", ondelete="SET NULL"), index=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    channel_kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(Json)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    provider_ref: Mapped[str | None] = mapped_column(Text)
    shuffle_key: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]


class CaptchaChallengeRow(Base):
    """A captcha waiting for a person (CLI, web or Telegram desk) to answer; never solved automatically."""

    __tablename__ = "captcha_challenges"
    __table_args__ = (
        _status_check("status", ("open", "answered", "used", "expired")),
        Index(None, "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_id: Mapped[str] = mapped_column(ForeignKey("targets.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="open")
    prompt: Mapped[str] = mapped_column(Text, default="")
    image: Mapped[bytes | None] = mapped_column(LargeBinary)
    image_type: Mapped[str | None] = mapped_column(String(50))
    session: Mapped[dict[str, Any]] = mapped_column(Json)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


targets = _table(TargetRow)
pages = _table(PageRow)
observations = _table(ObservationRow)
openings = _table(OpeningRow)
opening_slots = _table(OpeningSlotRow)
transitions = _table(TransitionRow)
subscribers = _table(SubscriberRow)
channels = _table(ChannelRow)
watches = _table(WatchRow)
watch_targets = _table(WatchTargetRow)
deliveries = _table(DeliveryRow)
captcha_challenges = _table(CaptchaChallengeRow)
