# SPDX-License-Identifier: AGPL-3.0-or-later
"""Read-only queries of the operator view and of /metrics, run by `web.reader.Reader` like `web.queries`.

Each is an indexed read or a small grouping: the targets table (a few thousand rows), the recent refusals
and unrecognised pages through the (outcome, checked_at) index of the observations, the outbox through its
(status, channel_kind, created_at) index. Nothing here names a person.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Integer, and_, func, select

from creneau.store import models as m
from creneau.store.targets import watched
from creneau.store.watchers import Outcome as AlertVerdict
from creneau.store.watchers import outcomes as verdicts
from creneau.types import Outcome

t, o, d = m.targets, m.observations, m.deliveries
REFUSALS = (Outcome.BLOCKED.value, Outcome.RATE_LIMITED.value)
UNFINISHED = ("pending", "leased", "failed")
BACKLOG_STATUS = {"pending": "pending", "leased": "leased", "failed": "retrying", "dead": "dead"}
"""Outbox statuses as the operator reads them (a `failed` row waits for its retry)."""


@dataclass
class HostHealth:
    """One host of one booking system: its targets' last outcomes and the refusals of the last day."""

    system: str
    host: str
    targets: int = 0
    watched: int = 0
    paused: int = 0
    backing_off: int = 0
    last_outcomes: dict[str, int] = field(default_factory=dict)
    refusals: dict[str, int] = field(default_factory=dict)
    last_checked_at: datetime | None = None


def source_health(conn: Connection, *, now: datetime, since: datetime) -> list[HostHealth]:
    """Per (system, host): targets, watched ones, paused and backing off, last outcomes, and the blocks and
    rate limits met since `since`."""
    hosts: dict[tuple[str, str], HostHealth] = {}
    stmt = select(
        t.c.system,
        t.c.host,
        t.c.last_outcome,
        func.count(),
        func.sum(watched().cast(Integer)),
        func.sum(and_(t.c.paused_until.is_not(None), t.c.paused_until > now).cast(Integer)),
        func.sum(and_(t.c.backoff_until.is_not(None), t.c.backoff_until > now).cast(Integer)),
        func.max(t.c.last_checked_at),
    ).group_by(t.c.system, t.c.host, t.c.last_outcome)
    for system, host, outcome, n, n_watched, paused, backing_off, last in conn.execute(stmt):
        entry = hosts.setdefault((system, host), HostHealth(system, host))
        entry.targets += n
        entry.watched += n_watched or 0
        entry.paused += paused or 0
        entry.backing_off += backing_off or 0
        entry.last_outcomes[outcome or "not_checked"] = n
        if last is not None and (entry.last_checked_at is None or last > entry.last_checked_at):
            entry.last_checked_at = last
    refused = (
        select(t.c.system, t.c.host, o.c.outcome, func.count())
        .select_from(o.join(t, t.c.id == o.c.target_id))
        .where(o.c.outcome.in_(REFUSALS), o.c.checked_at >= since)
        .group_by(t.c.system, t.c.host, o.c.outcome)
    )
    for system, host, outcome, n in conn.execute(refused):
        hosts.setdefault((system, host), HostHealth(system, host)).refusals[outcome] = n
    return sorted(hosts.values(), key=lambda h: (h.system, h.host))


@dataclass(frozen=True, slots=True)
class PausedTarget:
    target_id: str
    label: str
    host: str
    paused_until: datetime
    reason: str


def paused_targets(conn: Connection, *, now: datetime, limit: int = 200) -> list[PausedTarget]:
    stmt = (
        select(t.c.id, t.c.label, t.c.host, t.c.paused_until, t.c.pause_reason)
        .where(t.c.paused_until.is_not(None), t.c.paused_until > now)
        .order_by(t.c.paused_until.desc(), t.c.id)
        .limit(limit)
    )
    return [PausedTarget(r.id, r.label, r.host, r.paused_until, r.pause_reason or "") for r in conn.execute(stmt)]


@dataclass(frozen=True, slots=True)
class HumanChecks:
    """Targets whose last check met a captcha, and the captchas waiting for a person in the store's desk."""

    targets: int
    open_challenges: int
    oldest_open_at: datetime | None


def human_checks(conn: Connection) -> HumanChecks:
    c = m.captcha_challenges
    waiting = conn.execute(
        select(func.count()).where(t.c.last_outcome == Outcome.HUMAN_CHECK_REQUIRED.value)
    ).scalar_one()
    count, oldest = conn.execute(select(func.count(), func.min(c.c.created_at)).where(c.c.status == "open")).one()
    return HumanChecks(int(waiting), int(count), oldest)


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """A page to look at: an unrecognised page, or the page behind an alert someone called a false alarm."""

    target_id: str
    label: str
    at: datetime
    digest: str | None
    url: str
    outcome: str
    flag_id: int | None = None


def unknown_pages(conn: Connection, *, limit: int = 50) -> list[ReviewItem]:
    """The latest checks that met a page creneau does not recognise, newest first."""
    stmt = (
        select(o.c.target_id, t.c.label, o.c.checked_at, o.c.page_digest, o.c.url, o.c.outcome)
        .select_from(o.join(t, t.c.id == o.c.target_id))
        .where(o.c.outcome == Outcome.LAYOUT_UNKNOWN.value)
        .order_by(o.c.checked_at.desc(), o.c.id.desc())
        .limit(limit)
    )
    return [ReviewItem(*row) for row in conn.execute(stmt)]


def false_alarms(conn: Connection, *, limit: int = 50) -> list[ReviewItem]:
    """Alerts people called false alarms and nobody reviewed yet, oldest first, each with the page of the
    last check that saw slots at the alert's time (who flagged it is never read)."""
    tr = m.transitions
    flags = conn.execute(
        select(verdicts.c.id, verdicts.c.target_id, tr.c.at, t.c.label)
        .select_from(verdicts.join(tr, tr.c.id == verdicts.c.transition_id).join(t, t.c.id == verdicts.c.target_id))
        .where(verdicts.c.outcome == AlertVerdict.FALSE_ALARM.value, verdicts.c.reviewed_at.is_(None))
        .order_by(verdicts.c.at, verdicts.c.id)
        .limit(limit)
    ).all()
    found = []
    for flag_id, target_id, at, label in flags:
        seen = conn.execute(
            select(o.c.checked_at, o.c.page_digest, o.c.url, o.c.outcome)
            .where(o.c.target_id == target_id, o.c.checked_at <= at, o.c.outcome == Outcome.SLOTS_AVAILABLE.value)
            .order_by(o.c.checked_at.desc(), o.c.id.desc())
            .limit(1)
        ).first()
        if seen is None:
            found.append(ReviewItem(target_id, label, at, None, "", "", flag_id))
        else:
            found.append(
                ReviewItem(target_id, label, seen.checked_at, seen.page_digest, seen.url, seen.outcome, flag_id)
            )
    return found


@dataclass(frozen=True, slots=True)
class BacklogLine:
    channel: str
    status: str
    count: int
    oldest_at: datetime | None


def outbox_backlog(conn: Connection) -> list[BacklogLine]:
    """Deliveries not sent yet (pending, leased, retrying) and given up (dead), per channel kind, with the
    oldest of each; a walk over the (status, channel_kind, created_at) index, never over sent rows."""
    stmt = (
        select(d.c.status, d.c.channel_kind, func.count(), func.min(d.c.created_at))
        .where(d.c.status.in_((*UNFINISHED, "dead")))
        .group_by(d.c.status, d.c.channel_kind)
    )
    lines = [
        BacklogLine(kind, BACKLOG_STATUS[status], int(n), oldest) for status, kind, n, oldest in conn.execute(stmt)
    ]
    return sorted(lines, key=lambda line: (line.channel, list(BACKLOG_STATUS.values()).index(line.status)))


def backlog_totals(lines: list[BacklogLine], *, now: datetime) -> tuple[dict[str, int], float | None]:
    """Per status over every channel, and the age in seconds of the oldest pending delivery (None: none)."""
    totals: dict[str, int] = dict.fromkeys(BACKLOG_STATUS.values(), 0)
    oldest = [line.oldest_at for line in lines if line.status == "pending" and line.oldest_at is not None]
    for line in lines:
        totals[line.status] += line.count
    return totals, (now - min(oldest)).total_seconds() if oldest else None


@dataclass(frozen=True, slots=True)
class Counts:
    targets: int
    watched_targets: int
    subscribers: int
    active_watches: int
    openings_today: int


def counts(conn: Connection, *, day_start: datetime) -> Counts:
    """How much creneau does: `day_start` is today's midnight in Paris."""

    def one(stmt: Any) -> int:
        return int(conn.execute(stmt).scalar_one() or 0)

    return Counts(
        targets=one(select(func.count()).select_from(t)),
        watched_targets=one(select(func.count()).select_from(t).where(watched())),
        subscribers=one(select(func.count()).select_from(m.subscribers)),
        active_watches=one(select(func.count()).select_from(m.watches).where(m.watches.c.status == "active")),
        openings_today=one(select(func.count()).select_from(m.openings).where(m.openings.c.started_at >= day_start)),
    )
