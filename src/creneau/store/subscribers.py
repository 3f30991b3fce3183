# SPDX-License-Identifier: AGPL-3.0-or-later
"""Subscribers, their channels and their watches.

Input validation (an e-mail address, a chat id, a webhook URL) happens at the edge, before the store;
the database still holds the rules that must never break: unique e-mail, unique (subscriber, kind,
address), foreign keys, statuses from a closed set. Uniqueness violations come back as `Conflict`, unknown
ids as `NotFound`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from creneau.detector import WatchFilter
from creneau.store import models as m
from creneau.store.bulk import NewSubscription, import_subscriptions
from creneau.store.codec import RowLike, from_row
from creneau.store.errors import Conflict, NotFound
from creneau.store.fanout import routes_for
from creneau.store.outbox import channel_from_row, disable_channel_in
from creneau.store.records import ChannelRecord, ChannelStatus, Route, SubscriberRecord, WatchRecord, WatchStatus
from creneau.store.wakeup import TARGETS

if TYPE_CHECKING:
    from creneau.store.engine import Store

s, c, w, wt = m.subscribers, m.channels, m.watches, m.watch_targets


def _subscriber(row: RowLike) -> SubscriberRecord:
    return from_row(SubscriberRecord, row)


def _watch(row: Any, target_ids: Sequence[str]) -> WatchRecord:
    return WatchRecord(
        id=row["id"],
        subscriber_id=row["subscriber_id"],
        target_ids=tuple(sorted(target_ids)),
        filters=WatchFilter.from_dict(row["filters"] or {}),
        label=row["label"],
        status=WatchStatus(row["status"]),
        created_at=row["created_at"],
    )


async def _require(conn: AsyncConnection, table: Any, key: Any, what: str) -> None:
    found = await conn.execute(select(table.c.id).where(table.c.id == key))
    if found.first() is None:
        raise NotFound(f"no {what} {key!r}")


class SubscriberRepo:
    def __init__(self, store: Store) -> None:
        self._store = store

    # --- subscribers -------------------------------------------------------------------------------
    async def add_subscriber(
        self, email: str | None, *, now: datetime, locale: str = "fr", name: str = ""
    ) -> SubscriberRecord:
        """Raises Conflict when the e-mail address is already taken."""
        try:
            async with self._store.write() as tx:
                result = await tx.conn.execute(
                    s.insert().values(email=email, locale=locale, name=name, created_at=now).returning(*s.c)
                )
                return _subscriber(result.mappings().one())
        except IntegrityError:
            raise Conflict(f"a subscriber with e-mail {email!r} already exists") from None

    async def get_subscriber(self, subscriber_id: int) -> SubscriberRecord:
        async with self._store.read() as conn:
            row = (await conn.execute(select(s).where(s.c.id == subscriber_id))).mappings().first()
        if row is None:
            raise NotFound(f"no subscriber {subscriber_id}")
        return _subscriber(row)

    async def find_subscriber(self, email: str) -> SubscriberRecord | None:
        async with self._store.read() as conn:
            row = (await conn.execute(select(s).where(s.c.email == email))).mappings().first()
        return _subscriber(row) if row is not None else None

    async def list_subscribers(self) -> list[SubscriberRecord]:
        async with self._store.read() as conn:
            return [_subscriber(row) for row in (await conn.execute(select(s).order_by(s.c.id))).mappings()]

    async def delete_subscriber(self, subscriber_id: int) -> bool:
        """Erase a subscriber with their channels, watches and deliveries (their data is theirs)."""
        async with self._store.write() as tx:
            result = await tx.conn.execute(delete(s).where(s.c.id == subscriber_id).returning(s.c.id))
            return result.first() is not None

    # --- channels ----------------------------------------------------------------------------------
    async def add_channel(
        self, subscriber_id: int, kind: str, address: str, config: Mapping[str, Any], *, now: datetime
    ) -> ChannelRecord:
        """Raises NotFound for an unknown subscriber, Conflict when they already have this destination."""
        try:
            async with self._store.write() as tx:
                await _require(tx.conn, s, subscriber_id, "subscriber")
                result = await tx.conn.execute(
                    c.insert()
                    .values(
                        subscriber_id=subscriber_id,
                        kind=kind,
                        address=address,
                        config=dict(config),
                        status=ChannelStatus.ACTIVE.value,
                        created_at=now,
                    )
                    .returning(*c.c)
                )
                return channel_from_row(result.mappings().one())
        except IntegrityError:
            raise Conflict(f"subscriber {subscriber_id} already has the {kind} channel {address!r}") from None

    async def get_channel(self, channel_id: int) -> ChannelRecord:
        async with self._store.read() as conn:
            row = (await conn.execute(select(c).where(c.c.id == channel_id))).mappings().first()
        if row is None:
            raise NotFound(f"no channel {channel_id}")
        return channel_from_row(row)

    async def list_channels(self, subscriber_id: int | None = None) -> list[ChannelRecord]:
        stmt = select(c).order_by(c.c.id)
        if subscriber_id is not None:
            stmt = stmt.where(c.c.subscriber_id == subscriber_id)
        async with self._store.read() as conn:
            return [channel_from_row(row) for row in (await conn.execute(stmt)).mappings()]

    async def disable_channel(self, channel_id: int, *, reason: str, now: datetime) -> bool:
        """Disable a channel (its waiting deliveries are given up); False if it was not active."""
        async with self._store.write() as tx:
            return await disable_channel_in(tx.conn, channel_id, reason=reason, now=now)

    async def enable_channel(self, channel_id: int) -> bool:
        async with self._store.write() as tx:
            result = await tx.conn.execute(
                update(c)
                .where(c.c.id == channel_id, c.c.status == ChannelStatus.DISABLED.value)
                .values(status=ChannelStatus.ACTIVE.value, disabled_reason=None, disabled_at=None)
                .returning(c.c.id)
            )
            return result.first() is not None

    async def remove_channel(self, channel_id: int) -> bool:
        async with self._store.write() as tx:
            result = await tx.conn.execute(delete(c).where(c.c.id == channel_id).returning(c.c.id))
            return result.first() is not None

    # --- watches -----------------------------------------------------------------------------------
    async def add_watch(
        self,
        subscriber_id: int,
        target_ids: Sequence[str],
        *,
        now: datetime,
        filters: WatchFilter | None = None,
        label: str = "",
    ) -> WatchRecord:
        """Watch one or more existing targets. Raises NotFound for an unknown subscriber or target.
        Wakes the monitors: a target nobody watched until now becomes due."""
        if not target_ids:
            raise ValueError("a watch needs at least one target")
        ids = sorted(set(target_ids))
        async with self._store.write() as tx:
            await _require(tx.conn, s, subscriber_id, "subscriber")
            known = set((await tx.conn.execute(select(m.targets.c.id).where(m.targets.c.id.in_(ids)))).scalars())
            missing = [tid for tid in ids if tid not in known]
            if missing:
                raise NotFound(f"no target {missing[0]!r}")
            result = await tx.conn.execute(
                w.insert()
                .values(
                    subscriber_id=subscriber_id,
                    label=label,
                    filters=(filters or WatchFilter()).to_dict(),
                    status=WatchStatus.ACTIVE.value,
                    created_at=now,
                )
                .returning(*w.c)
            )
            row = result.mappings().one()
            await tx.conn.execute(wt.insert(), [{"watch_id": row["id"], "target_id": tid} for tid in ids])
            await tx.wake(TARGETS)
        return _watch(row, ids)

    async def get_watch(self, watch_id: int) -> WatchRecord:
        found = await self.list_watches(watch_id=watch_id)
        if not found:
            raise NotFound(f"no watch {watch_id}")
        return found[0]

    async def list_watches(
        self, *, subscriber_id: int | None = None, target_id: str | None = None, watch_id: int | None = None
    ) -> list[WatchRecord]:
        stmt = select(w).order_by(w.c.id)
        if subscriber_id is not None:
            stmt = stmt.where(w.c.subscriber_id == subscriber_id)
        if watch_id is not None:
            stmt = stmt.where(w.c.id == watch_id)
        if target_id is not None:
            stmt = stmt.where(w.c.id.in_(select(wt.c.watch_id).where(wt.c.target_id == target_id)))
        async with self._store.read() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
            links = await conn.execute(select(wt).where(wt.c.watch_id.in_([r["id"] for r in rows])))
            targets: dict[int, list[str]] = {}
            for link in links:
                targets.setdefault(link.watch_id, []).append(link.target_id)
        return [_watch(row, targets.get(row["id"], [])) for row in rows]

    async def remove_watch(self, watch_id: int) -> bool:
        async with self._store.write() as tx:
            result = await tx.conn.execute(delete(w).where(w.c.id == watch_id).returning(w.c.id))
            return result.first() is not None

    async def set_watch_status(self, watch_id: int, status: WatchStatus) -> bool:
        """Pause or re-activate a watch; False for an unknown watch."""
        async with self._store.write() as tx:
            result = await tx.conn.execute(
                update(w).where(w.c.id == watch_id).values(status=status.value).returning(w.c.id)
            )
            changed = result.first() is not None
            if changed and status is WatchStatus.ACTIVE:
                await tx.wake(TARGETS)
            return changed

    async def routes_for_target(self, target_id: str) -> list[Route]:
        """Every (active watch, active channel) pair that hears about this target's alerts."""
        async with self._store.read() as conn:
            return await routes_for(conn, target_id)

    async def import_subscriptions(self, entries: Sequence[NewSubscription], *, now: datetime) -> list[int]:
        """Bulk import (see `creneau.store.bulk`): one transaction, all or nothing; the new subscriber ids."""
        return await import_subscriptions(self._store, entries, now=now)
