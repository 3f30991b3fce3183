# SPDX-License-Identifier: AGPL-3.0-or-later
"""What the web app keeps about a watcher beyond their watches: quiet hours and desk opt-in, what became of
their alerts, their captcha-desk answers, and the e-mail addresses waiting for verification.

Tables (revision `0005_watchers`), each hanging off `subscribers` with ON DELETE CASCADE (deleting the
person deletes them):

- `watcher_prefs`: quiet hours (Paris wall-clock minutes; `quiet_alerts` = hold alerts too, not only
  notices) and whether the person volunteers for the captcha desk.
- `alert_outcomes`: "I booked it" / "already gone" / "false alarm" per (person, alert). A false alarm is a
  flag for the operator: `flags_for_review` lists them until `mark_reviewed`.
- `desk_answers`: one row per answer typed at the web desk (for the rate limit and the count shown on the
  desk; the count never says who).
- `email_verifications`: a pending e-mail channel. The channel row is created only when the link is used,
  so an unverified address never receives anything. Only the token's SHA-256 is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from creneau.store.models import Base
from creneau.store.sql import insert_for
from creneau.types import PARIS

if TYPE_CHECKING:
    from creneau.store.engine import Store


class Outcome(StrEnum):
    BOOKED = "booked"
    GONE = "gone"
    FALSE_ALARM = "false_alarm"


class WatcherPrefsRow(Base):
    __tablename__ = "watcher_prefs"

    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True)
    quiet_start: Mapped[int | None] = mapped_column(Integer)
    quiet_end: Mapped[int | None] = mapped_column(Integer)
    quiet_alerts: Mapped[bool] = mapped_column(Boolean, default=False)
    desk_optin: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime]


class AlertOutcomeRow(Base):
    __tablename__ = "alert_outcomes"
    __table_args__ = (
        UniqueConstraint("subscriber_id", "transition_id"),
        CheckConstraint("outcome IN ('booked', 'gone', 'false_alarm')", name="outcome"),
        Index(None, "outcome", "reviewed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    transition_id: Mapped[int] = mapped_column(ForeignKey("transitions.id", ondelete="CASCADE"), index=True)
    watch_id: Mapped[int | None] = mapped_column(ForeignKey("watches.id", ondelete="SET NULL"))
    target_id: Mapped[str] = mapped_column(ForeignKey("targets.id", ondelete="CASCADE"), index=True)
    outcome: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime]
    reviewed_at: Mapped[datetime | None]


class DeskAnswerRow(Base):
    __tablename__ = "desk_answers"
    __table_args__ = (Index(None, "target_id", "answered_at"), Index(None, "subscriber_id", "answered_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    challenge_id: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[str] = mapped_column(ForeignKey("targets.id", ondelete="CASCADE"))
    first: Mapped[bool] = mapped_column(Boolean, default=False)
    answered_at: Mapped[datetime]


class EmailVerificationRow(Base):
    __tablename__ = "email_verifications"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    address: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


prefs_table = cast(Table, WatcherPrefsRow.__table__)
outcomes = cast(Table, AlertOutcomeRow.__table__)
desk_answers = cast(Table, DeskAnswerRow.__table__)
verifications = cast(Table, EmailVerificationRow.__table__)


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A nightly window in Paris wall-clock time (`start` > `end` wraps midnight; equal means all day).

    Notices (a page paused, a captcha to answer, a channel disabled, reminders) wait until the window ends;
    alerts wait too only when `alerts` is set, because a held alert is often a missed slot.
    """

    start: time
    end: time
    alerts: bool = False

    def hold_until(self, now: datetime, *, urgent: bool) -> datetime | None:
        """When a message created `now` may go out: None = now; else the end of the current window."""
        if urgent and not self.alerts:
            return None
        local = now.astimezone(PARIS)
        minute = local.hour * 60 + local.minute
        start, end = self.start.hour * 60 + self.start.minute, self.end.hour * 60 + self.end.minute
        inside = (start <= minute < end) if start < end else (minute >= start or minute < end)
        if not inside:
            return None
        day = local.date()
        if start >= end and minute >= start:
            day += timedelta(days=1)
        return _paris(day, self.end)


def _paris(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=PARIS)


@dataclass(frozen=True, slots=True)
class Prefs:
    quiet: QuietHours | None = None
    desk_optin: bool = False


def _minutes(value: time | None) -> int | None:
    return None if value is None else value.hour * 60 + value.minute


def _time(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


def _prefs(row: Any) -> Prefs:
    if row is None:
        return Prefs()
    quiet = None
    if row.quiet_start is not None and row.quiet_end is not None:
        quiet = QuietHours(_time(row.quiet_start), _time(row.quiet_end), bool(row.quiet_alerts))
    return Prefs(quiet, bool(row.desk_optin))


@dataclass(frozen=True, slots=True)
class ReviewFlag:
    """A "false alarm" someone reported, for the operator (who reported it is not shown)."""

    id: int
    target_id: str
    transition_id: int
    at: datetime


class WatcherRepo:
    """Every method takes `now` from the caller when it needs time; every write is one transaction."""

    def __init__(self, store: Store) -> None:
        self._store = store

    # --- preferences -------------------------------------------------------------------------------
    async def prefs(self, subscriber_id: int) -> Prefs:
        async with self._store.read() as conn:
            row = (await conn.execute(select(prefs_table).where(prefs_table.c.subscriber_id == subscriber_id))).first()
        return _prefs(row)

    async def _upsert(self, subscriber_id: int, now: datetime, **values: Any) -> None:
        async with self._store.write() as tx:
            stmt = insert_for(tx.conn, prefs_table).values(subscriber_id=subscriber_id, updated_at=now, **values)
            await tx.conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[prefs_table.c.subscriber_id], set_={**values, "updated_at": now}
                )
            )

    async def set_quiet(self, subscriber_id: int, quiet: QuietHours | None, *, now: datetime) -> None:
        """Set (or with None, remove) the person's quiet hours."""
        await self._upsert(
            subscriber_id,
            now,
            quiet_start=_minutes(quiet.start) if quiet else None,
            quiet_end=_minutes(quiet.end) if quiet else None,
            quiet_alerts=bool(quiet and quiet.alerts),
        )

    async def set_desk_optin(self, subscriber_id: int, optin: bool, *, now: datetime) -> None:
        await self._upsert(subscriber_id, now, desk_optin=optin)

    async def quiet_hours(self) -> dict[int, QuietHours]:
        """Everyone's quiet hours (few rows: only people who set some), for the sender's cache."""
        p = prefs_table
        stmt = select(p).where(p.c.quiet_start.is_not(None), p.c.quiet_end.is_not(None))
        async with self._store.read() as conn:
            rows = (await conn.execute(stmt)).all()
        return {row.subscriber_id: q for row in rows if (q := _prefs(row).quiet) is not None}

    # --- alert outcomes ----------------------------------------------------------------------------
    async def set_outcome(
        self,
        subscriber_id: int,
        transition_id: int,
        watch_id: int | None,
        target_id: str,
        outcome: Outcome,
        *,
        now: datetime,
    ) -> None:
        """Record (or change) what became of one alert; a new verdict is reviewed again."""
        values = {
            "watch_id": watch_id,
            "target_id": target_id,
            "outcome": outcome.value,
            "at": now,
            "reviewed_at": None,
        }
        async with self._store.write() as tx:
            stmt = insert_for(tx.conn, outcomes).values(
                subscriber_id=subscriber_id, transition_id=transition_id, **values
            )
            await tx.conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[outcomes.c.subscriber_id, outcomes.c.transition_id], set_=values
                )
            )

    async def outcomes_of(self, subscriber_id: int, transition_ids: list[int]) -> dict[int, Outcome]:
        if not transition_ids:
            return {}
        stmt = select(outcomes.c.transition_id, outcomes.c.outcome).where(
            outcomes.c.subscriber_id == subscriber_id, outcomes.c.transition_id.in_(transition_ids)
        )
        async with self._store.read() as conn:
            return {row.transition_id: Outcome(row.outcome) for row in await conn.execute(stmt)}

    async def flags_for_review(self, *, limit: int = 100) -> list[ReviewFlag]:
        """False alarms nobody reviewed yet, oldest first (the operator view reads these)."""
        o = outcomes
        stmt = (
            select(o.c.id, o.c.target_id, o.c.transition_id, o.c.at)
            .where(o.c.outcome == Outcome.FALSE_ALARM.value, o.c.reviewed_at.is_(None))
            .order_by(o.c.at, o.c.id)
            .limit(limit)
        )
        async with self._store.read() as conn:
            return [ReviewFlag(r.id, r.target_id, r.transition_id, r.at) for r in await conn.execute(stmt)]

    async def mark_reviewed(self, flag_id: int, *, now: datetime) -> bool:
        async with self._store.write() as tx:
            result = await tx.conn.execute(
                update(outcomes).where(outcomes.c.id == flag_id).values(reviewed_at=now).returning(outcomes.c.id)
            )
            return result.first() is not None

    # --- captcha desk answers ----------------------------------------------------------------------
    async def record_answer(
        self, subscriber_id: int, challenge_id: str, target_id: str, *, first: bool, now: datetime
    ) -> None:
        async with self._store.write() as tx:
            await tx.conn.execute(
                desk_answers.insert().values(
                    subscriber_id=subscriber_id, challenge_id=challenge_id, target_id=target_id, first=first,
                    answered_at=now,
                )
            )  # fmt: skip

    async def answers_since(self, subscriber_id: int, since: datetime) -> int:
        """How many answers this person typed since `since` (the desk's rate limit)."""
        d = desk_answers
        stmt = select(func.count()).where(d.c.subscriber_id == subscriber_id, d.c.answered_at >= since)
        async with self._store.read() as conn:
            return int((await conn.execute(stmt)).scalar_one())

    async def kept_alive(self, target_ids: list[str], since: datetime) -> dict[str, int]:
        """Per target, how many answers resumed its checks since `since`: a number, never a name."""
        d = desk_answers
        if not target_ids:
            return {}
        stmt = (
            select(d.c.target_id, func.count())
            .where(d.c.target_id.in_(target_ids), d.c.first.is_(True), d.c.answered_at >= since)
            .group_by(d.c.target_id)
        )
        async with self._store.read() as conn:
            return {row[0]: int(row[1]) for row in await conn.execute(stmt)}


async def export_section(conn: Any, subscriber_id: int) -> dict[str, Any]:
    """The person's rows of these tables for the account export (token hashes left out)."""
    p, o, d, v = prefs_table, outcomes, desk_answers, verifications
    prefs = (await conn.execute(select(p).where(p.c.subscriber_id == subscriber_id))).mappings().first()
    rows = {
        "alert_outcomes": select(o.c.transition_id, o.c.watch_id, o.c.target_id, o.c.outcome, o.c.at).where(
            o.c.subscriber_id == subscriber_id
        ),
        "desk_answers": select(d.c.target_id, d.c.first, d.c.answered_at).where(d.c.subscriber_id == subscriber_id),
        "email_verifications": select(v.c.address, v.c.created_at, v.c.expires_at, v.c.used_at).where(
            v.c.subscriber_id == subscriber_id
        ),
    }
    doc: dict[str, Any] = {"preferences": dict(prefs) if prefs else None}
    for name, stmt in rows.items():
        doc[name] = [dict(row) for row in (await conn.execute(stmt)).mappings()]
    return doc


__all__ = [
    "Outcome",
    "Prefs",
    "QuietHours",
    "ReviewFlag",
    "WatcherRepo",
    "export_section",
]
