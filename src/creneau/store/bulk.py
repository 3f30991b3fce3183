# SPDX-License-Identifier: AGPL-3.0-or-later
"""Import many subscribers at once (a migration from another service, the fan-out benchmark).

One transaction and a handful of multi-row INSERTs instead of three transactions per person: 10,000
subscribers with a channel and a watch each go in within seconds on either engine. All or nothing: a
duplicate e-mail or destination raises Conflict and stores nothing; an unknown target raises NotFound.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from creneau.detector import WatchFilter
from creneau.store import models as m
from creneau.store.errors import Conflict, NotFound
from creneau.store.records import ChannelStatus, WatchStatus
from creneau.store.wakeup import TARGETS

if TYPE_CHECKING:
    from creneau.store.engine import Store

_CHUNK = 1000


@dataclass(frozen=True, slots=True)
class NewSubscription:
    """One person to import: their channels as (kind, address, config), and one watch over `target_ids`."""

    email: str | None
    channels: Sequence[tuple[str, str, Mapping[str, Any]]]
    target_ids: Sequence[str]
    locale: str = "fr"
    name: str = ""
    filters: WatchFilter = field(default_factory=WatchFilter)


async def _new_ids(conn: Any, table: Any, count: int) -> list[int]:
    """Reserve `count` ids. PostgreSQL: from the table's sequence. SQLite: after the largest id, which is
    safe because the write transaction began IMMEDIATE and holds the database's only write lock."""
    if conn.dialect.name == "postgresql":
        stmt = text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)")
        return list((await conn.execute(stmt, {"table": table.name, "n": count})).scalars())
    top = (await conn.execute(select(func.coalesce(func.max(table.c.id), 0)))).scalar_one()
    return list(range(top + 1, top + 1 + count))


async def _insert_ids(conn: Any, table: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert rows with ids reserved ahead (plain executemany is the fast path on both drivers); the new
    ids in the order of `rows`."""
    ids = await _new_ids(conn, table, len(rows)) if rows else []
    rows = [{**row, "id": new_id} for row, new_id in zip(rows, ids, strict=True)]
    for start in range(0, len(rows), _CHUNK):
        await conn.execute(table.insert(), rows[start : start + _CHUNK])
    return ids


async def import_subscriptions(store: Store, entries: Sequence[NewSubscription], *, now: datetime) -> list[int]:
    """Create every entry's subscriber, channels and watch in ONE transaction; returns the subscriber ids."""
    if not entries:
        return []
    wanted = sorted({tid for e in entries for tid in e.target_ids})
    try:
        async with store.write() as tx:
            conn = tx.conn
            known = set((await conn.execute(select(m.targets.c.id).where(m.targets.c.id.in_(wanted)))).scalars())
            missing = [tid for tid in wanted if tid not in known]
            if missing:
                raise NotFound(f"no target {missing[0]!r}")
            people = [{"email": e.email, "locale": e.locale, "name": e.name, "created_at": now} for e in entries]
            sub_ids = await _insert_ids(conn, m.subscribers, people)
            channels = [
                {
                    "subscriber_id": sid,
                    "kind": kind,
                    "address": address,
                    "config": dict(config),
                    "status": ChannelStatus.ACTIVE.value,
                    "created_at": now,
                }
                for sid, e in zip(sub_ids, entries, strict=True)
                for kind, address, config in e.channels
            ]
            await _insert_ids(conn, m.channels, channels)
            watched = [(sid, e) for sid, e in zip(sub_ids, entries, strict=True) if e.target_ids]
            watch_rows = [
                {
                    "subscriber_id": sid,
                    "label": "",
                    "filters": e.filters.to_dict(),
                    "status": WatchStatus.ACTIVE.value,
                    "created_at": now,
                }
                for sid, e in watched
            ]
            watch_ids = await _insert_ids(conn, m.watches, watch_rows)
            links = [
                {"watch_id": wid, "target_id": tid}
                for wid, (_, e) in zip(watch_ids, watched, strict=True)
                for tid in sorted(set(e.target_ids))
            ]
            for start in range(0, len(links), _CHUNK):
                await conn.execute(m.watch_targets.insert(), links[start : start + _CHUNK])
            await tx.wake(TARGETS)
    except IntegrityError as exc:
        raise Conflict(f"import refused, nothing stored: {str(exc.orig).strip().splitlines()[0]}") from None
    return sub_ids
