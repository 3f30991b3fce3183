# SPDX-License-Identifier: AGPL-3.0-or-later
"""Read-only queries of the public pages (status board, target page, API), on the store's tables.

They are synchronous functions of one `Connection`, run by `web.reader.Reader` inside one read transaction
(in a worker thread on SQLite, through `run_sync` on PostgreSQL), and return plain rows or small records.
Each is a few indexed lookups: none scans the observations. Writes never happen here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, case, func, select

from creneau.store import models as m
from creneau.store.codec import notices_from_json, slots_from_json, target_from_row
from creneau.store.errors import NotFound
from creneau.store.records import OpeningRecord, SlotLifetime, TargetState
from creneau.store.targets import state_from_row, watched
from creneau.types import NoticeKind, Outcome, Slot, Target

t, op, osl, o = m.targets, m.openings, m.opening_slots, m.observations

CONCLUSIVE = (Outcome.SLOTS_AVAILABLE.value, Outcome.NO_SLOTS.value)
ANNOUNCES = (NoticeKind.NEXT_PUBLICATION, NoticeKind.NEXT_AVAILABILITY)


def target_rows(conn: Connection, target_id: str | None = None) -> Sequence[Any]:
    """Every target's description and schedule state, with `watched` (someone actively watches it)."""
    stmt = select(
        t.c.id,
        t.c.system,
        t.c.url,
        t.c.office_id,
        t.c.demarche_key,
        t.c.label,
        t.c.last_outcome,
        t.c.last_checked_at,
        t.c.paused_until,
        t.c.pause_reason,
        t.c.backoff_until,
        t.c.consecutive_failures,
        watched().label("watched"),
    ).order_by(t.c.id)
    if target_id is not None:
        stmt = stmt.where(t.c.id == target_id)
    return conn.execute(stmt).all()


@dataclass(frozen=True, slots=True)
class OpeningSummary:
    last_started_at: datetime | None
    open_now: bool
    count: int


def opening_summaries(conn: Connection) -> dict[str, OpeningSummary]:
    """Per target: when its last opening started, whether one is open now, and how many it had."""
    stmt = select(
        op.c.target_id,
        func.max(op.c.started_at),
        func.max(case((op.c.ended_at.is_(None), 1), else_=0)),
        func.count(),
    ).group_by(op.c.target_id)
    return {row[0]: OpeningSummary(row[1], bool(row[2]), int(row[3])) for row in conn.execute(stmt)}


ANNOUNCED_CHUNK = 500


def announced(conn: Connection, target_ids: Sequence[str]) -> dict[str, tuple[datetime, ...]]:
    """Per target: the publication instants announced on its last conclusive page (e.g. "Prochaine mise en
    ligne le 12/05 à 08:30"). Call it for the targets checked since the last call.

    One statement per 500 targets; for each, the latest conclusive check is found by walking the
    (target_id, checked_at) index backwards (usually one step), never by grouping every observation."""
    latest = (
        select(o.c.notices)
        .where(o.c.target_id == t.c.id, o.c.outcome.in_(CONCLUSIVE))
        .order_by(o.c.checked_at.desc(), o.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    found: dict[str, tuple[datetime, ...]] = {}
    for start in range(0, len(target_ids), ANNOUNCED_CHUNK):
        chunk = list(target_ids[start : start + ANNOUNCED_CHUNK])
        for target_id, notices in conn.execute(select(t.c.id, latest).where(t.c.id.in_(chunk))):
            found[target_id] = _instants(notices)
    return found


def _instants(notices: Any) -> tuple[datetime, ...]:
    return tuple(n.instant for n in notices_from_json(notices) if n.kind in ANNOUNCES)


@dataclass(frozen=True, slots=True)
class Check:
    """One line of a target's check history."""

    checked_at: datetime
    outcome: Outcome
    http_status: int | None
    slot_count: int


@dataclass(frozen=True, slots=True)
class TargetDetail:
    target: Target
    state: TargetState
    openings: list[OpeningRecord]
    checks: list[Check]


_TARGET = select(*(c for c in t.c if c.name != "detector_state")).where(t.c.id == bindparam("target_id"))
"""A target's description and schedule (not the detector's state, which no page shows)."""
_CHECKS = {
    dialect: select(o.c.checked_at, o.c.outcome, o.c.http_status, count(o.c.slots))
    .where(o.c.target_id == bindparam("target_id"))
    .order_by(o.c.checked_at.desc(), o.c.id.desc())
    .limit(bindparam("limit"))
    for dialect, count in (("sqlite", func.json_array_length), ("postgresql", func.jsonb_array_length))
}
"""The latest checks, newest first, walking the (target_id, checked_at) index; the slots are only counted."""
_OPENINGS = (
    select(op)
    .where(op.c.target_id == bindparam("target_id"))
    .order_by(op.c.started_at.desc(), op.c.id.desc())
    .limit(bindparam("limit"))
)
_OPENING_SLOTS = select(osl).where(osl.c.opening_id.in_(bindparam("ids", expanding=True))).order_by(osl.c.start)


_OUTCOMES = {outcome.value: outcome for outcome in Outcome}
"""Outcome by stored value (a dict lookup, not an Enum call, for 50 checks a page)."""


def target_detail(conn: Connection, target_id: str, *, openings: int = 20, checks: int = 50) -> TargetDetail:
    """A target's page in one snapshot: the target, its latest openings and checks (newest first), in four
    indexed lookups. Raises NotFound."""
    row = conn.execute(_TARGET, {"target_id": target_id}).mappings().first()
    if row is None:
        raise NotFound(f"no target {target_id!r}")
    recent = recent_openings(conn, target_id, limit=openings)
    found = conn.execute(_CHECKS[conn.dialect.name], {"target_id": target_id, "limit": checks}).all()
    observed = [Check(at, _OUTCOMES[outcome], status, n or 0) for at, outcome, status, n in found]
    return TargetDetail(target_from_row(row), state_from_row(row), recent, observed)


def recent_openings(conn: Connection, target_id: str, *, limit: int = 20) -> list[OpeningRecord]:
    """The target's latest openings, newest first, each with its slots' lifetimes."""
    rows = conn.execute(_OPENINGS, {"target_id": target_id, "limit": limit}).mappings().all()
    ids = [row["id"] for row in rows]
    lives: dict[int, list[SlotLifetime]] = {i: [] for i in ids}
    if ids:
        for s in conn.execute(_OPENING_SLOTS, {"ids": ids}).mappings():
            slot = Slot(s["start"], s["guichet"], s["guichet_label"], s["ref"], s["place"])
            lives[s["opening_id"]].append(SlotLifetime(slot, s["first_seen"], s["last_seen"], s["gone_at"]))
    return [_opening(row, lives[row["id"]]) for row in rows]


def recent_openings_all(conn: Connection, *, since: datetime | None, limit: int) -> list[OpeningRecord]:
    """Openings of every target, newest first, without slot lifetimes (the public API's feed; walks the
    index on `started_at`)."""
    stmt = select(op).order_by(op.c.started_at.desc(), op.c.id.desc()).limit(limit)
    if since is not None:
        stmt = stmt.where(op.c.started_at >= since)
    return [_opening(row, ()) for row in conn.execute(stmt).mappings()]


def _opening(row: Any, lives: Sequence[SlotLifetime]) -> OpeningRecord:
    return OpeningRecord(
        id=row["id"],
        target_id=row["target_id"],
        seq=row["seq"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        reason=row["reason"],
        close_reason=row["close_reason"],
        first_slots=slots_from_json(row["first_slots"]),
        slots=tuple(lives),
    )
