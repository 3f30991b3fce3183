# SPDX-License-Identifier: AGPL-3.0-or-later
"""From a recorded transition to outbox rows: who must hear about it, and the rows themselves.

One delivery per (transition, watch, channel), keyed `<transition key>|w<watch>|c<channel>` (UNIQUE), so
enqueuing the same transition again inserts nothing. `shuffle_key` is drawn at random per row: senders
lease in (transition, shuffle_key) order, so each opening goes out in its own random order and nobody is
always first.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Text, bindparam, cast, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from creneau.detector import Transition, WatchFilter, alert_slots
from creneau.store import models as m
from creneau.store.codec import slots_to_json
from creneau.store.columns import UTCDateTime
from creneau.store.records import DeliveryDraft, Route
from creneau.store.sql import insert_for

_CHUNK = 2000
_rng = random.Random()


async def routes_for(conn: AsyncConnection, target_id: str) -> list[Route]:
    """Every (active watch, active channel) pair covering `target_id`."""
    w, wt, c, s = m.watches, m.watch_targets, m.channels, m.subscribers
    stmt = (
        select(
            w.c.id,
            w.c.subscriber_id,
            cast(w.c.filters, Text).label("filters"),
            s.c.locale,
            c.c.id.label("channel_id"),
            c.c.kind,
        )
        .select_from(wt.join(w, w.c.id == wt.c.watch_id).join(s, s.c.id == w.c.subscriber_id))
        .join(c, c.c.subscriber_id == w.c.subscriber_id)
        .where(wt.c.target_id == target_id, w.c.status == "active", c.c.status == "active")
        .order_by(w.c.id, c.c.id)
    )
    parsed: dict[str, WatchFilter] = {}  # thousands of watches share a handful of filters: parse each once
    routes = []
    for row in await conn.execute(stmt):
        if row.filters not in parsed:
            parsed[row.filters] = WatchFilter.from_dict(json.loads(row.filters or "{}"))
        routes.append(Route(row.id, row.subscriber_id, row.locale, parsed[row.filters], row.channel_id, row.kind))
    return routes


def plan_alerts(routes: Iterable[Route], transition: Transition) -> list[DeliveryDraft]:
    """One draft per route whose watch filter keeps at least one of the transition's new slots."""
    payloads: dict[WatchFilter, dict[str, Any] | None] = {}
    drafts = []
    for route in routes:
        if route.filters not in payloads:
            slots = alert_slots(route.filters, transition)
            payloads[route.filters] = {"slots": slots_to_json(slots)} if slots else None
        payload = payloads[route.filters]
        if payload is not None:
            drafts.append(DeliveryDraft(route.watch_id, route.channel_id, payload, route.channel_kind))
    return drafts


def plan_notice(routes: Iterable[Route]) -> list[DeliveryDraft]:
    """One draft per route, unfiltered (target paused or resumed: every watcher must know)."""
    return [DeliveryDraft(route.watch_id, route.channel_id, {}, route.channel_kind) for route in routes]


def delivery_key(transition_key: str, draft: DeliveryDraft) -> str:
    watch = "-" if draft.watch_id is None else str(draft.watch_id)
    return f"{transition_key}|w{watch}|c{draft.channel_id}"


async def _active_channel_kinds(conn: AsyncConnection, ids: Sequence[int]) -> dict[int, str]:
    kinds: dict[int, str] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        stmt = select(m.channels.c.id, m.channels.c.kind).where(
            m.channels.c.id.in_(chunk), m.channels.c.status == "active"
        )
        kinds.update({row.id: row.kind for row in await conn.execute(stmt)})
    return kinds


ANALYZE_AFTER = 1000
"""Enqueuing at least this many deliveries at once refreshes the planner's statistics (PostgreSQL)."""


async def enqueue(
    conn: AsyncConnection,
    *,
    transition_id: int,
    transition_key: str,
    opening_id: int | None,
    drafts: Sequence[DeliveryDraft],
    now: datetime,
) -> int:
    """Insert the drafts' deliveries (skipping disabled channels and keys already present); returns how
    many rows are new. The caller wakes the senders (`DELIVERIES`) when it is not 0."""
    if not drafts:
        return 0
    kinds: dict[int, str] = {d.channel_id: d.channel_kind for d in drafts if d.channel_kind is not None}
    kinds |= await _active_channel_kinds(conn, sorted({d.channel_id for d in drafts if d.channel_kind is None}))
    rows: list[dict[str, Any]] = [
        {
            "idempotency_key": delivery_key(transition_key, d),
            "transition_id": transition_id,
            "opening_id": opening_id,
            "watch_id": d.watch_id,
            "channel_id": d.channel_id,
            "channel_kind": kinds[d.channel_id],
            "payload": d.payload,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "shuffle_key": _rng.getrandbits(31),
            "created_at": now,
        }
        for d in drafts
        if d.channel_id in kinds
    ]
    if conn.dialect.name == "postgresql":
        return await _insert_postgres(conn, rows, now)
    table = m.deliveries
    count = select(func.count()).select_from(table).where(table.c.transition_id == transition_id)
    before = (await conn.execute(count)).scalar_one()
    stmt = insert_for(conn, table).on_conflict_do_nothing(index_elements=[table.c.idempotency_key])
    rows = [{**row, "payload": dict(row["payload"])} for row in rows]
    for start in range(0, len(rows), _CHUNK):
        await conn.execute(stmt, rows[start : start + _CHUNK])
    return int((await conn.execute(count)).scalar_one()) - int(before)


_PG_INSERT = text(
    """
    INSERT INTO deliveries (idempotency_key, transition_id, opening_id, watch_id, channel_id, channel_kind,
                            payload, status, attempts, next_attempt_at, shuffle_key, created_at)
    SELECT u.key, :transition_id, :opening_id, u.watch_id, u.channel_id, u.kind,
           (CAST(:payloads AS jsonb[]))[u.payload], 'pending', 0, :now, u.shuffle_key, :now
    FROM unnest(CAST(:keys AS text[]), CAST(:watches AS int[]), CAST(:channels AS int[]), CAST(:kinds AS text[]),
                CAST(:payload_index AS int[]), CAST(:shuffle AS int[]))
         AS u(key, watch_id, channel_id, kind, payload, shuffle_key)
    ON CONFLICT (idempotency_key) DO NOTHING
    """
).bindparams(bindparam("now", type_=UTCDateTime()))


async def _insert_postgres(conn: AsyncConnection, rows: list[dict[str, Any]], now: datetime) -> int:
    """One INSERT … SELECT FROM unnest(arrays) with each distinct payload sent once: a few arrays instead
    of 20,000 rows of parameters (~6 s down to ~1.5 s for a 20k-delivery fan-out)."""
    if not rows:
        return 0
    distinct: dict[str, int] = {}
    seen: dict[int, int] = {}  # planned drafts share payload objects: serialise each object once
    index = []
    for row in rows:
        payload = row["payload"]
        if id(payload) not in seen:
            text_payload = json.dumps(dict(payload), sort_keys=True)
            seen[id(payload)] = distinct.setdefault(text_payload, len(distinct) + 1)  # arrays start at 1
        index.append(seen[id(payload)])
    params = {
        "now": now,
        "transition_id": rows[0]["transition_id"],
        "opening_id": rows[0]["opening_id"],
        "keys": [r["idempotency_key"] for r in rows],
        "watches": [r["watch_id"] for r in rows],
        "channels": [r["channel_id"] for r in rows],
        "kinds": [r["channel_kind"] for r in rows],
        "payloads": list(distinct),
        "payload_index": index,
        "shuffle": [r["shuffle_key"] for r in rows],
    }
    result = await conn.execute(_PG_INSERT, params)
    return int(result.rowcount)
