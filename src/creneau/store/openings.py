# SPDX-License-Identifier: AGPL-3.0-or-later
"""Openings, slot lifetimes and transitions: the detector's output made durable.

`record_transition` takes a `detector.Transition` (opened / new_slots / closed) and, in the caller's
transaction: updates the opening and its slots' lifetimes, records the transition (UNIQUE key: recording
it again is a no-op) and, when it carries new slots, enqueues one delivery per (watch, channel) whose
filter keeps some of them. Alerts therefore always come from a recorded transition, never from a poll.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from creneau.detector import DetectorState, SlotLife, Transition, TransitionKind
from creneau.store import models as m
from creneau.store.codec import RowLike, from_row, slots_from_json, slots_to_json
from creneau.store.errors import NotFound
from creneau.store.fanout import ANALYZE_AFTER, enqueue, plan_alerts, plan_notice, routes_for
from creneau.store.records import DeliveryDraft, OpeningRecord, RecordedTransition, SlotLifetime, TransitionRecord
from creneau.store.sql import insert_for
from creneau.store.wakeup import DELIVERIES
from creneau.types import Slot

if TYPE_CHECKING:
    from creneau.store.engine import Store, Tx

op, osl, tr = m.openings, m.opening_slots, m.transitions


def _json_ready(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


async def _target_info(conn: AsyncConnection, target_id: str) -> dict[str, Any]:
    t = m.targets
    row = (
        await conn.execute(
            select(t.c.id, t.c.system, t.c.url, t.c.office_id, t.c.demarche_key, t.c.label).where(t.c.id == target_id)
        )
    ).first()
    if row is None:
        raise NotFound(f"no target {target_id!r}")
    return {"target": dict(row._mapping)}


async def _opening_id(conn: AsyncConnection, target_id: str, seq: int, started_at: datetime, reason: str) -> int:
    """The id of the target's opening number `seq`, created if missing (idempotent)."""
    stmt = insert_for(conn, op).on_conflict_do_nothing(index_elements=[op.c.target_id, op.c.seq])
    await conn.execute(
        stmt, {"target_id": target_id, "seq": seq, "started_at": started_at, "reason": reason, "first_slots": []}
    )
    found = await conn.execute(select(op.c.id).where(op.c.target_id == target_id, op.c.seq == seq))
    return int(found.scalar_one())


async def _upsert_lives(conn: AsyncConnection, opening_id: int, lives: Sequence[SlotLife]) -> None:
    if not lives:
        return
    rows = [
        {
            "opening_id": opening_id,
            "slot_key": life.key,
            "start": life.slot.start,
            "guichet": life.slot.guichet,
            "guichet_label": life.slot.guichet_label,
            "place": life.slot.place,
            "ref": life.slot.ref,
            "first_seen": life.first_seen,
            "last_seen": life.last_seen,
            "gone_at": life.gone_at,
        }
        for life in lives
    ]
    stmt = insert_for(conn, osl)
    stmt = stmt.on_conflict_do_update(
        index_elements=[osl.c.opening_id, osl.c.slot_key],
        set_={"last_seen": stmt.excluded.last_seen, "gone_at": stmt.excluded.gone_at},
    )
    await conn.execute(stmt, rows)


async def _apply_opening(conn: AsyncConnection, t: Transition) -> int:
    started = t.opened_at or t.at
    if t.kind is TransitionKind.OPENED:
        # A previous opening left open (its close never recorded) is closed now: one open opening per target.
        await conn.execute(
            update(op)
            .where(op.c.target_id == t.target_id, op.c.ended_at.is_(None), op.c.seq != t.opening)
            .values(ended_at=t.at, close_reason=f"superseded by opening {t.opening}")
        )
    opening_id = await _opening_id(conn, t.target_id, t.opening, started, t.reason)
    if t.kind is TransitionKind.OPENED:
        await conn.execute(
            update(op).where(op.c.id == opening_id).values(reason=t.reason, first_slots=slots_to_json(t.slots))
        )
    if t.kind is TransitionKind.CLOSED:
        await _upsert_lives(conn, opening_id, t.lifetimes)
        await conn.execute(
            update(op)
            .where(op.c.id == opening_id, op.c.ended_at.is_(None))
            .values(ended_at=t.at, close_reason=t.reason)
        )
        await conn.execute(
            update(osl).where(osl.c.opening_id == opening_id, osl.c.gone_at.is_(None)).values(gone_at=t.at)
        )
    else:
        await _upsert_lives(conn, opening_id, [SlotLife(s, t.at, t.at) for s in t.new_slots])
        await _touch(conn, opening_id, [(s.key, t.at) for s in t.slots])
    return opening_id


async def _touch(conn: AsyncConnection, opening_id: int, seen: Sequence[tuple[str, datetime]]) -> None:
    if not seen:
        return
    stmt = (
        update(osl)
        .where(osl.c.opening_id == opening_id, osl.c.slot_key == bindparam("k"))
        .values(last_seen=bindparam("ls"), gone_at=None)
    )
    await conn.execute(stmt, [{"k": key, "ls": when} for key, when in seen])


async def touch_open_slots(conn: AsyncConnection, target_id: str, state: DetectorState) -> None:
    """Carry the detector's `last_seen` of the visible slots into the open opening's slot lifetimes."""
    found = await conn.execute(select(op.c.id).where(op.c.target_id == target_id, op.c.seq == state.opening))
    opening_id = found.scalar()
    if opening_id is not None:
        await _touch(conn, opening_id, [(life.key, life.last_seen) for life in state.visible.values()])


async def _insert_transition(conn: AsyncConnection, values: dict[str, Any]) -> tuple[int, bool]:
    stmt = insert_for(conn, tr).on_conflict_do_nothing(index_elements=[tr.c.key]).returning(tr.c.id)
    new_id = (await conn.execute(stmt, values)).scalar()
    if new_id is not None:
        return int(new_id), True
    existing = await conn.execute(select(tr.c.id).where(tr.c.key == values["key"]))
    return int(existing.scalar_one()), False


async def _enqueued(tx: Tx, count: int) -> None:
    if count:
        await tx.wake(DELIVERIES)
    if count >= ANALYZE_AFTER:
        tx.analyze.add(m.deliveries.name)


async def record_transition(
    tx: Tx, t: Transition, *, now: datetime, deliveries: Sequence[DeliveryDraft] | None = None
) -> RecordedTransition:
    """Make one detector transition durable and enqueue its deliveries (see the module docstring).

    `deliveries` None plans them from the target's watches and their filters; a sequence is used as
    given. Raises NotFound for an unknown target.
    """
    payload = await _target_info(tx.conn, t.target_id)
    existing = (await tx.conn.execute(select(tr.c.id, tr.c.opening_id).where(tr.c.key == t.idempotency_key))).first()
    if existing is not None:
        transition_id, opening_id, created = int(existing.id), existing.opening_id, False
    else:
        opening_id = await _apply_opening(tx.conn, t)
        payload |= {
            "kind": t.kind.value,
            "opening": t.opening,
            "at": t.at.isoformat(),
            "reason": t.reason,
            "since": _json_ready(t.since),
            "opened_at": _json_ready(t.opened_at),
            "slots": slots_to_json(t.slots),
            "new_slots": slots_to_json(t.new_slots),
        }
        values = {
            "key": t.idempotency_key,
            "target_id": t.target_id,
            "opening_id": opening_id,
            "kind": t.kind.value,
            "old_state": str(t.old),
            "new_state": str(t.new),
            "reason": t.reason,
            "at": t.at,
            "payload": payload,
        }
        transition_id, created = await _insert_transition(tx.conn, values)
    if deliveries is None:
        deliveries = plan_alerts(await routes_for(tx.conn, t.target_id), t) if t.alerts else []
    count = await enqueue(
        tx.conn,
        transition_id=transition_id,
        transition_key=t.idempotency_key,
        opening_id=opening_id,
        drafts=deliveries,
        now=now,
    )
    await _enqueued(tx, count)
    return RecordedTransition(transition_id, t.idempotency_key, opening_id, created, count)


async def record_event(
    tx: Tx,
    target_id: str,
    *,
    kind: str,
    at: datetime,
    reason: str,
    states: tuple[str, str],
    extra: Mapping[str, Any] | None = None,
) -> RecordedTransition:
    """Record a target-level transition without an opening ("paused", "resumed") and tell every watcher."""
    payload = await _target_info(tx.conn, target_id)
    payload |= {"kind": kind, "at": at.isoformat(), "reason": reason}
    payload |= {k: _json_ready(v) for k, v in (extra or {}).items()}
    key = f"{target_id}:{kind}:{at.isoformat()}"
    values = {
        "key": key,
        "target_id": target_id,
        "opening_id": None,
        "kind": kind,
        "old_state": states[0],
        "new_state": states[1],
        "reason": reason,
        "at": at,
        "payload": payload,
    }
    transition_id, created = await _insert_transition(tx.conn, values)
    drafts = plan_notice(await routes_for(tx.conn, target_id))
    count = await enqueue(
        tx.conn, transition_id=transition_id, transition_key=key, opening_id=None, drafts=drafts, now=at
    )
    await _enqueued(tx, count)
    return RecordedTransition(transition_id, key, None, created, count)


def _opening(row: RowLike, slots: Sequence[RowLike] = ()) -> OpeningRecord:
    lives = tuple(
        SlotLifetime(
            Slot(s["start"], s["guichet"], s["guichet_label"], s["ref"], s["place"]),
            s["first_seen"],
            s["last_seen"],
            s["gone_at"],
        )
        for s in slots
    )
    return from_row(OpeningRecord, row, first_slots=slots_from_json(row["first_slots"]), slots=lives)


def _transition(row: RowLike) -> TransitionRecord:
    return from_row(TransitionRecord, row)


class OpeningRepo:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def current(self, target_id: str) -> OpeningRecord | None:
        """The target's open opening with its slots' lifetimes, or None."""
        async with self._store.read() as conn:
            row = (
                (await conn.execute(select(op).where(op.c.target_id == target_id, op.c.ended_at.is_(None))))
                .mappings()
                .first()
            )
            if row is None:
                return None
            slots = await conn.execute(select(osl).where(osl.c.opening_id == row["id"]).order_by(osl.c.start))
            return _opening(row, slots.mappings().all())

    async def get(self, opening_id: int) -> OpeningRecord:
        """One opening with its slots' lifetimes; raises NotFound."""
        async with self._store.read() as conn:
            row = (await conn.execute(select(op).where(op.c.id == opening_id))).mappings().first()
            if row is None:
                raise NotFound(f"no opening {opening_id}")
            slots = await conn.execute(select(osl).where(osl.c.opening_id == opening_id).order_by(osl.c.start))
            return _opening(row, slots.mappings().all())

    async def history(
        self, *, target_id: str | None = None, since: datetime | None = None, limit: int | None = None
    ) -> list[OpeningRecord]:
        """Openings (without slot lifetimes), oldest first: what the scheduling policy learns from."""
        stmt = select(op).order_by(op.c.started_at, op.c.id)
        if target_id is not None:
            stmt = stmt.where(op.c.target_id == target_id)
        if since is not None:
            stmt = stmt.where(op.c.started_at >= since)
        if limit is not None:
            stmt = stmt.limit(limit)
        async with self._store.read() as conn:
            return [_opening(row) for row in (await conn.execute(stmt)).mappings()]

    async def transitions(self, target_id: str, *, limit: int = 50) -> list[TransitionRecord]:
        """The target's recorded transitions, newest first."""
        stmt = select(tr).where(tr.c.target_id == target_id).order_by(tr.c.at.desc(), tr.c.id.desc()).limit(limit)
        async with self._store.read() as conn:
            return [_transition(row) for row in (await conn.execute(stmt)).mappings()]

    async def transition(self, transition_id: int) -> TransitionRecord:
        async with self._store.read() as conn:
            row = (await conn.execute(select(tr).where(tr.c.id == transition_id))).mappings().first()
        if row is None:
            raise NotFound(f"no transition {transition_id}")
        return _transition(row)
