# SPDX-License-Identifier: AGPL-3.0-or-later
"""Targets: upsert from the catalog, claim the due ones with a lease, record each check's result.

A target is *due* when its `next_check_at` has come, it is neither paused nor backing off, nobody holds a
live lease on it, and somebody actively watches it (an active watch whose subscriber has an active
channel). An expired lease makes the target claimable again: a crashed monitor's claims come back.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select, update

from creneau.detector import Detection, DetectorState
from creneau.store import models as m
from creneau.store.codec import RowLike, from_row, target_from_row, target_params
from creneau.store.errors import NotFound
from creneau.store.observations import insert_observation, prepare_page
from creneau.store.openings import record_event, record_transition, touch_open_slots
from creneau.store.records import CheckRecorded, ClaimedTarget, RecordedTransition, TargetRecord, TargetState
from creneau.store.sql import claim_statement, insert_for
from creneau.store.wakeup import TARGETS
from creneau.types import Observation, Outcome, Target

if TYPE_CHECKING:
    from creneau.store.engine import Store

t = m.targets


def state_from_row(row: RowLike) -> TargetState:
    outcome = Outcome(row["last_outcome"]) if row["last_outcome"] else None
    return from_row(TargetState, row, last_outcome=outcome)


def detector_from_row(row: RowLike) -> DetectorState:
    data = row["detector_state"]
    return DetectorState.from_dict(data) if data else DetectorState()


def _record(row: RowLike) -> TargetRecord:
    return TargetRecord(target_from_row(row), state_from_row(row), detector_from_row(row))


def watched() -> ColumnElement[bool]:
    """SQL: some active watch with at least one active channel covers this target."""
    return exists(
        select(1)
        .select_from(m.watch_targets.join(m.watches, m.watches.c.id == m.watch_targets.c.watch_id))
        .where(
            m.watch_targets.c.target_id == t.c.id,
            m.watches.c.status == "active",
            exists(
                select(1).where(
                    m.channels.c.subscriber_id == m.watches.c.subscriber_id,
                    m.channels.c.status == "active",
                )
            ),
        )
    )


def _later(a: ColumnElement[datetime], b: ColumnElement[datetime | None]) -> ColumnElement[datetime]:
    return case((and_(b.is_not(None), b > a), b), else_=a)


def _due(now: datetime, exclude_hosts: Collection[str]) -> ColumnElement[bool]:
    clauses = [
        t.c.next_check_at <= now,
        or_(t.c.paused_until.is_(None), t.c.paused_until <= now),
        or_(t.c.backoff_until.is_(None), t.c.backoff_until <= now),
        or_(t.c.lease_until.is_(None), t.c.lease_until <= now),
        watched(),
    ]
    if exclude_hosts:
        clauses.append(t.c.host.not_in(list(exclude_hosts)))
    return and_(*clauses)


class TargetRepo:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def upsert(self, target: Target, *, now: datetime) -> None:
        await self.upsert_many((target,), now=now)

    async def upsert_many(self, targets: Iterable[Target], *, now: datetime) -> int:
        """Insert new targets (due at once) and refresh the description of known ones.

        Scheduling, lease and detector state of known targets are left untouched. Returns how many
        targets were given.
        """
        rows = [
            {
                "id": tg.id,
                "system": tg.system.value,
                "url": tg.url,
                "host": tg.host,
                "office_id": tg.office_id,
                "demarche_key": tg.demarche_key,
                "demarche_id": tg.demarche_id,
                "params": target_params(tg),
                "label": tg.label,
                "created_at": now,
                "updated_at": now,
                "next_check_at": now,
                "consecutive_failures": 0,
            }
            for tg in targets
        ]
        if not rows:
            return 0
        async with self._store.write() as tx:
            stmt = insert_for(tx.conn, t)
            refreshed = ("system", "url", "host", "office_id", "demarche_key", "demarche_id", "params", "label")
            stmt = stmt.on_conflict_do_update(
                index_elements=[t.c.id],
                set_={name: stmt.excluded[name] for name in (*refreshed, "updated_at")},
            )
            await tx.conn.execute(stmt, rows)
        return len(rows)

    async def get(self, target_id: str) -> TargetRecord:
        """Raises NotFound."""
        async with self._store.read() as conn:
            row = (await conn.execute(select(t).where(t.c.id == target_id))).mappings().first()
        if row is None:
            raise NotFound(f"no target {target_id!r}")
        return _record(row)

    async def list_targets(self, *, watched_only: bool = False) -> list[TargetRecord]:
        stmt = select(t).order_by(t.c.id)
        if watched_only:
            stmt = stmt.where(watched())
        async with self._store.read() as conn:
            return [_record(row) for row in (await conn.execute(stmt)).mappings()]

    async def delete(self, target_id: str) -> bool:
        """Remove a target with its history (observations, openings, deliveries). True if it existed."""
        async with self._store.write() as tx:
            result = await tx.conn.execute(t.delete().where(t.c.id == target_id).returning(t.c.id))
            return result.first() is not None

    async def claim_due_targets(
        self, owner: str, now: datetime, limit: int, lease_s: float, *, exclude_hosts: Collection[str] = ()
    ) -> list[ClaimedTarget]:
        """Lease up to `limit` due targets to `owner` until now + lease_s, earliest due first. Atomic:
        concurrent claimers (tasks, processes, machines) never get the same target while a lease lives.
        `exclude_hosts` skips hosts the caller has no budget for right now."""
        until = now + timedelta(seconds=lease_s)
        stmt = claim_statement(
            t,
            due=_due(now, exclude_hosts),
            order_by=(t.c.next_check_at, t.c.id),
            limit=limit,
            values={"lease_owner": owner, "lease_until": until},
        )
        async with self._store.write() as tx:
            rows = (await tx.conn.execute(stmt)).mappings().all()
        rows = sorted(rows, key=lambda r: (r["next_check_at"], r["id"]))
        return [ClaimedTarget(target_from_row(r), state_from_row(r), detector_from_row(r), owner, until) for r in rows]

    async def next_due_at(self, *, exclude_hosts: Collection[str] = ()) -> datetime | None:
        """When the earliest watched target becomes due (pauses, backoffs and live leases included):
        how long an idle monitor may sleep. None when nothing is watched. `exclude_hosts` leaves out hosts
        the caller may not ask yet (their own wait is known to the caller)."""
        due_at = _later(_later(_later(t.c.next_check_at, t.c.paused_until), t.c.backoff_until), t.c.lease_until)
        stmt = select(func.min(due_at)).where(watched())
        if exclude_hosts:
            stmt = stmt.where(t.c.host.not_in(list(exclude_hosts)))
        async with self._store.read() as conn:
            return (await conn.execute(stmt)).scalar()

    async def complete_check(
        self,
        target_id: str,
        owner: str,
        observation: Observation,
        next_check_at: datetime,
        *,
        detection: Detection | None = None,
        consecutive_failures: int | None = None,
        backoff_until: datetime | None = None,
        keep_page: bool = True,
        now: datetime | None = None,
    ) -> CheckRecorded:
        """Record one check in ONE transaction: the observation (and its raw page, once per digest), the
        target's new schedule, the detector's new state, its transitions and their deliveries; then
        release the lease.

        Only while `owner` still holds the lease (it may have expired, as long as nobody re-claimed it).
        Otherwise only the observation is kept (it is a true fact) and `owned` is False: the caller must
        drop its detection, the new owner works from the stored state. `consecutive_failures` defaults to
        0 after a conclusive outcome and +1 otherwise.
        """
        at = now or observation.checked_at
        page = prepare_page(observation) if keep_page else None
        failures: Any = consecutive_failures
        if failures is None:
            failures = 0 if observation.outcome.is_conclusive else t.c.consecutive_failures + 1
        values: dict[str, Any] = {
            "lease_owner": None,
            "lease_until": None,
            "next_check_at": next_check_at,
            "last_outcome": observation.outcome.value,
            "last_checked_at": observation.checked_at,
            "consecutive_failures": failures,
            "backoff_until": backoff_until,
            "updated_at": at,
        }
        if detection is not None:
            values["detector_state"] = detection.state.to_dict()
        async with self._store.write() as tx:
            observation_id = await insert_observation(tx.conn, observation, page, now=at)
            owned = await tx.conn.execute(
                update(t).where(t.c.id == target_id, t.c.lease_owner == owner).values(**values).returning(t.c.id)
            )
            if owned.first() is None:
                return CheckRecorded(observation_id, owned=False)
            recorded: list[RecordedTransition] = []
            if detection is not None:
                for transition in detection.transitions:
                    recorded.append(await record_transition(tx, transition, now=at))
                if detection.state.is_open:
                    await touch_open_slots(tx.conn, target_id, detection.state)
        return CheckRecorded(observation_id, owned=True, transitions=tuple(recorded))

    async def release(self, target_id: str, owner: str, *, next_check_at: datetime | None = None) -> bool:
        """Give a lease back without a check (shutdown, no budget); True if `owner` still held it."""
        values: dict[str, Any] = {"lease_owner": None, "lease_until": None}
        if next_check_at is not None:
            values["next_check_at"] = next_check_at
        async with self._store.write() as tx:
            result = await tx.conn.execute(
                update(t).where(t.c.id == target_id, t.c.lease_owner == owner).values(**values).returning(t.c.id)
            )
            return result.first() is not None

    async def reschedule(self, target_id: str, next_check_at: datetime, *, only_earlier: bool = False) -> bool:
        """Move the next check (e.g. to an announced publication instant); wakes the monitors."""
        stmt = update(t).where(t.c.id == target_id).values(next_check_at=next_check_at).returning(t.c.id)
        if only_earlier:
            stmt = stmt.where(t.c.next_check_at > next_check_at)
        async with self._store.write() as tx:
            changed = (await tx.conn.execute(stmt)).first() is not None
            if changed:
                await tx.wake(TARGETS)
        return changed

    async def pause(
        self, target_id: str, *, until: datetime, reason: str, now: datetime, tell_watchers: bool = True
    ) -> RecordedTransition | None:
        """Stop checking a target until `until` (e.g. after repeated blocks) and, by default, record a
        "paused" transition that tells every watcher their target cannot be watched right now."""
        async with self._store.write() as tx:
            result = await tx.conn.execute(
                update(t)
                .where(t.c.id == target_id)
                .values(paused_until=until, pause_reason=reason, updated_at=now)
                .returning(t.c.id)
            )
            if result.first() is None:
                raise NotFound(f"no target {target_id!r}")
            if not tell_watchers:
                return None
            return await record_event(
                tx,
                target_id,
                kind="paused",
                at=now,
                reason=reason,
                states=("watched", "paused"),
                extra={"until": until},
            )

    async def resume(
        self, target_id: str, *, reason: str, now: datetime, tell_watchers: bool = True
    ) -> RecordedTransition | None:
        """End a pause now; the target is due at once. Records a "resumed" transition if it was paused."""
        async with self._store.write() as tx:
            result = await tx.conn.execute(
                update(t)
                .where(t.c.id == target_id, t.c.paused_until.is_not(None))
                .values(paused_until=None, pause_reason=None, next_check_at=now, updated_at=now)
                .returning(t.c.id)
            )
            if result.first() is None:
                return None
            await tx.wake(TARGETS)
            if not tell_watchers:
                return None
            return await record_event(
                tx, target_id, kind="resumed", at=now, reason=reason, states=("paused", "watched")
            )
