# SPDX-License-Identifier: AGPL-3.0-or-later
"""The outbox: transitions and their deliveries written together, then leased, sent and marked.

Contract for senders:
1. `lease_deliveries(owner, now, limit, lease_s)` claims due rows atomically (attempts + 1), in fair
   order: transition by transition, and inside one transition by a per-row random `shuffle_key`.
2. Send each one, then pass the `Delivery` back: `mark_sent`, `mark_retry(next_attempt_at=…)` (backoff is
   the caller's), or `mark_permanent_failure` (disables the channel by default, and gives up the channel's
   other waiting deliveries). Each returns False when the lease was lost meanwhile (expired and re-claimed).
3. A crash leaves rows `leased`; once `lease_until` passes they are claimable again. Delivery is therefore
   at-least-once: a duplicate can only happen between a provider's acceptance and our `mark_sent` commit.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, bindparam, func, or_, select, text, update

from creneau.detector import Transition
from creneau.store import models as m
from creneau.store.codec import RowLike, from_row
from creneau.store.columns import UTCDateTime
from creneau.store.errors import NotFound
from creneau.store.openings import record_transition
from creneau.store.records import (
    ChannelRecord,
    ChannelStatus,
    Delivery,
    DeliveryDraft,
    DeliveryState,
    DeliveryStatus,
    RecordedTransition,
)
from creneau.store.sql import claim_statement

if TYPE_CHECKING:
    from creneau.store.engine import Store

d = m.deliveries
_WAITING = (DeliveryStatus.PENDING.value, DeliveryStatus.FAILED.value)


def channel_from_row(row: RowLike) -> ChannelRecord:
    return from_row(ChannelRecord, row, status=ChannelStatus(row["status"]))


def _state(row: RowLike) -> DeliveryState:
    return from_row(DeliveryState, row, status=DeliveryStatus(row["status"]))


def _held(lease: Delivery) -> ColumnElement[bool]:
    """SQL: the row is still under exactly this lease (id, owner and attempt number)."""
    return and_(
        d.c.id == lease.id,
        d.c.status == DeliveryStatus.LEASED.value,
        d.c.lease_owner == lease.lease_owner,
        d.c.attempts == lease.attempts,
    )


def _sent_values(now: datetime, provider_ref: str | None) -> dict[str, Any]:
    return {
        "status": DeliveryStatus.SENT.value,
        "sent_at": now,
        "provider_ref": provider_ref,
        "lease_owner": None,
        "lease_until": None,
        "last_error": None,
    }


def _due(now: datetime, kinds: Collection[str] | None) -> ColumnElement[bool]:
    # Walking the partial fair-order index (unfinished rows only) stops after `limit` due rows instead of
    # sorting every waiting row of every opening at each claim.
    unfinished = text(f"{d.name}.{m.UNFINISHED_DELIVERY}")
    due = and_(
        unfinished,
        or_(
            and_(d.c.status != DeliveryStatus.LEASED.value, d.c.next_attempt_at <= now),
            and_(d.c.status == DeliveryStatus.LEASED.value, d.c.lease_until <= now),
        ),
    )
    return and_(due, d.c.channel_kind.in_(list(kinds))) if kinds is not None else due


# Marking a batch sent is one statement whose text never changes with the batch size, so that SQLAlchemy,
# psycopg and the server parse and plan it once (the batch travels as arrays, or as one JSON text on
# SQLite), instead of a new IN list and CASE of every size. The lease token (id, owner, attempts) is
# checked row by row: a lease lost meanwhile is left out of the returned ids.
_MARK_SENT_POSTGRES = text(
    """
    UPDATE deliveries AS d
    SET status = 'sent', sent_at = :now, provider_ref = u.ref, lease_owner = NULL, lease_until = NULL, last_error = NULL
    FROM unnest(CAST(:ids AS bigint[]), CAST(:owners AS text[]), CAST(:attempts AS int[]), CAST(:refs AS text[]))
         AS u(id, owner, attempts, ref)
    WHERE d.id = u.id AND d.status = 'leased' AND d.lease_owner = u.owner AND d.attempts = u.attempts
    RETURNING d.id
    """
).bindparams(bindparam("now", type_=UTCDateTime()))
_MARK_SENT_SQLITE = text(
    """
    UPDATE deliveries
    SET status = 'sent', sent_at = :now, provider_ref = u.ref, lease_owner = NULL, lease_until = NULL, last_error = NULL
    FROM (SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS owner,
                 json_extract(value, '$[2]') AS attempts, json_extract(value, '$[3]') AS ref
          FROM json_each(:tokens)) AS u
    WHERE deliveries.id = u.id AND deliveries.status = 'leased' AND deliveries.lease_owner = u.owner
          AND deliveries.attempts = u.attempts
    RETURNING deliveries.id
    """
).bindparams(bindparam("now", type_=UTCDateTime()))


class OutboxRepo:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def open_opening_and_enqueue(
        self, transition: Transition, deliveries: Sequence[DeliveryDraft] | None = None, *, now: datetime
    ) -> RecordedTransition:
        """Record a detector transition (opening, new slots, close) and its deliveries in ONE transaction.

        Idempotent: the transition and each (watch, channel) delivery have UNIQUE keys, so running it again
        inserts nothing. `deliveries` None plans them from the watches and their filters.
        """
        async with self._store.write() as tx:
            return await record_transition(tx, transition, now=now, deliveries=deliveries)

    async def lease_deliveries(
        self,
        owner: str,
        now: datetime,
        limit: int,
        lease_s: float,
        *,
        kinds: Collection[str] | None = None,
        channel_ids: Collection[int] | None = None,
    ) -> list[Delivery]:
        """Claim up to `limit` due deliveries (of the given channel kinds, or only to the given channels: e.g.
        the public channels a sender serves first) for `owner` until now + lease_s."""
        until = now + timedelta(seconds=lease_s)
        due = _due(now, kinds)
        if channel_ids is not None:
            due = and_(due, d.c.channel_id.in_(list(channel_ids)))
        stmt = claim_statement(
            d,
            due=due,
            order_by=(d.c.transition_id, d.c.shuffle_key),
            limit=limit,
            values={
                "status": DeliveryStatus.LEASED.value,
                "lease_owner": owner,
                "lease_until": until,
                "attempts": d.c.attempts + 1,
            },
        )
        async with self._store.write() as tx:
            rows = (await tx.conn.execute(stmt)).mappings().all()
            if not rows:
                return []
            channel_ids = sorted({r["channel_id"] for r in rows})
            transition_ids = sorted({r["transition_id"] for r in rows})
            c, s = m.channels, m.subscribers
            found = await tx.conn.execute(
                select(c, s.c.locale).join(s, s.c.id == c.c.subscriber_id).where(c.c.id.in_(channel_ids))
            )
            channels = {row["id"]: (channel_from_row(row), row["locale"]) for row in found.mappings()}
            found = await tx.conn.execute(
                select(m.transitions.c.id, m.transitions.c.payload).where(m.transitions.c.id.in_(transition_ids))
            )
            alerts = {row.id: row.payload for row in found}
        leased = []
        for r in sorted(rows, key=lambda r: (r["transition_id"], r["shuffle_key"], r["id"])):
            channel, locale = channels[r["channel_id"]]
            leased.append(
                Delivery(
                    id=r["id"],
                    idempotency_key=r["idempotency_key"],
                    transition_id=r["transition_id"],
                    opening_id=r["opening_id"],
                    watch_id=r["watch_id"],
                    channel=channel,
                    locale=locale,
                    payload=r["payload"],
                    alert=alerts[r["transition_id"]],
                    attempts=r["attempts"],
                    lease_owner=owner,
                    lease_until=until,
                    shuffle_key=r["shuffle_key"],
                    created_at=r["created_at"],
                )
            )
        return leased

    async def _finish(self, lease: Delivery, values: dict[str, Any]) -> bool:
        async with self._store.write() as tx:
            result = await tx.conn.execute(update(d).where(_held(lease)).values(**values).returning(d.c.id))
            return result.first() is not None

    async def mark_sent(self, lease: Delivery, *, now: datetime, provider_ref: str | None = None) -> bool:
        """The provider accepted the message. False: the lease had been lost (another sender may resend)."""
        return await self._finish(lease, _sent_values(now, provider_ref))

    async def mark_sent_many(self, sent: Sequence[tuple[Delivery, str | None]], *, now: datetime) -> set[int]:
        """Mark a batch sent in ONE transaction: (lease, provider_ref) pairs. Returns the ids actually marked
        (a lease lost meanwhile is left out). Senders that hand off many messages quickly use this to keep
        the commit cost per message low."""
        if not sent:
            return set()
        tokens = [(lease.id, lease.lease_owner, lease.attempts, ref) for lease, ref in sent]
        async with self._store.write() as tx:
            if tx.is_postgres:
                ids, owners, attempts, refs = (list(column) for column in zip(*tokens, strict=True))
                params: dict[str, Any] = {"now": now, "ids": ids, "owners": owners, "attempts": attempts, "refs": refs}
                result = await tx.conn.execute(_MARK_SENT_POSTGRES, params)
            else:
                result = await tx.conn.execute(_MARK_SENT_SQLITE, {"now": now, "tokens": json.dumps(tokens)})
            return {int(row_id) for row_id in result.scalars()}

    async def mark_retry(self, lease: Delivery, *, next_attempt_at: datetime, error: str) -> bool:
        """A transient failure: try again from `next_attempt_at` (the caller computed the backoff)."""
        values = {
            "status": DeliveryStatus.FAILED.value,
            "next_attempt_at": next_attempt_at,
            "last_error": error,
            "lease_owner": None,
            "lease_until": None,
        }
        return await self._finish(lease, values)

    async def release(self, lease: Delivery, *, until: datetime | None = None) -> bool:
        """Give a leased row back unsent, attempt not counted: due again at once (graceful shutdown), or
        from `until` (held for the owner's quiet hours)."""
        values: dict[str, Any] = {
            "status": DeliveryStatus.PENDING.value,
            "attempts": d.c.attempts - 1,
            "lease_owner": None,
            "lease_until": None,
        }
        if until is not None:
            values["next_attempt_at"] = until
        return await self._finish(lease, values)

    async def mark_permanent_failure(
        self, lease: Delivery, *, error: str, now: datetime, disable_channel: bool = True
    ) -> bool:
        """Give this delivery up for good. With `disable_channel` (bot blocked, 410 Gone, unknown address):
        disable the channel with `error` as the reason, and give up its other waiting deliveries too."""
        async with self._store.write() as tx:
            values = {
                "status": DeliveryStatus.DEAD.value,
                "last_error": error,
                "lease_owner": None,
                "lease_until": None,
            }
            result = await tx.conn.execute(update(d).where(_held(lease)).values(**values).returning(d.c.id))
            if result.first() is None:
                return False
            if disable_channel:
                await disable_channel_in(tx.conn, lease.channel.id, reason=error, now=now)
            return True

    async def get(self, delivery_id: int) -> DeliveryState:
        async with self._store.read() as conn:
            row = (await conn.execute(select(d).where(d.c.id == delivery_id))).mappings().first()
        if row is None:
            raise NotFound(f"no delivery {delivery_id}")
        return _state(row)

    async def for_transition(self, transition_id: int) -> list[DeliveryState]:
        """A transition's deliveries in their fair (shuffled) order."""
        stmt = select(d).where(d.c.transition_id == transition_id).order_by(d.c.shuffle_key, d.c.id)
        async with self._store.read() as conn:
            return [_state(row) for row in (await conn.execute(stmt)).mappings()]

    async def counts(self) -> dict[DeliveryStatus, int]:
        """How many deliveries are in each status (every status present, 0 included)."""
        async with self._store.read() as conn:
            rows = await conn.execute(select(d.c.status, func.count()).group_by(d.c.status))
            found = {DeliveryStatus(status): int(n) for status, n in rows}
        return {status: found.get(status, 0) for status in DeliveryStatus}

    async def next_due_at(self) -> datetime | None:
        """When the earliest waiting or leased delivery becomes claimable: how long senders may sleep."""
        async with self._store.read() as conn:
            waiting = (
                await conn.execute(select(func.min(d.c.next_attempt_at)).where(d.c.status.in_(_WAITING)))
            ).scalar()
            leased = (await conn.execute(select(func.min(d.c.lease_until)).where(d.c.status == "leased"))).scalar()
        candidates = [v for v in (waiting, leased) if v is not None]
        return min(candidates) if candidates else None


async def disable_channel_in(conn: Any, channel_id: int, *, reason: str, now: datetime) -> bool:
    """Disable a channel and give up its waiting deliveries, in the caller's transaction."""
    c = m.channels
    result = await conn.execute(
        update(c)
        .where(c.c.id == channel_id, c.c.status == ChannelStatus.ACTIVE.value)
        .values(status=ChannelStatus.DISABLED.value, disabled_reason=reason, disabled_at=now)
        .returning(c.c.id)
    )
    changed = result.first() is not None
    await conn.execute(
        update(d)
        .where(d.c.channel_id == channel_id, d.c.status.in_(_WAITING))
        .values(status=DeliveryStatus.DEAD.value, last_error=f"channel disabled: {reason}")
    )
    return changed
