# SPDX-License-Identifier: AGPL-3.0-or-later
"""A person's alert history, read from the outbox: one entry per (alert, watch), with what each of their
channels did with it and what they said became of it (`store/watchers.py`, `alert_outcomes`).

Every query is scoped by the subscriber through their channels, so nobody reads another person's alerts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, select

from creneau.store import models as m
from creneau.store.codec import slots_from_json
from creneau.store.watchers import Outcome, outcomes
from creneau.types import Slot

if TYPE_CHECKING:
    from creneau.store.engine import Store

ALERT_KINDS = ("opened", "new_slots")


@dataclass(frozen=True, slots=True)
class AlertEntry:
    transition_id: int
    watch_id: int | None
    target_id: str
    at: datetime
    slots: tuple[Slot, ...]
    channels: tuple[tuple[str, str], ...]
    """(channel kind, delivery status) for each of the person's channels the alert went to."""
    outcome: Outcome | None


@dataclass(frozen=True, slots=True)
class AlertRef:
    """What an outcome button needs: the alert's target and the person's watch it came through."""

    transition_id: int
    target_id: str
    watch_id: int | None


def _mine(subscriber_id: int, transition_id: int | None = None) -> Select[Any]:
    d, c, t = m.deliveries, m.channels, m.transitions
    stmt = (
        select(
            d.c.transition_id, d.c.watch_id, d.c.channel_kind, d.c.status, d.c.payload, t.c.target_id, t.c.at,
            t.c.payload.label("alert"),
        )
        .join(c, c.c.id == d.c.channel_id)
        .join(t, t.c.id == d.c.transition_id)
        .where(c.c.subscriber_id == subscriber_id, t.c.kind.in_(ALERT_KINDS))
    )  # fmt: skip
    return stmt if transition_id is None else stmt.where(t.c.id == transition_id)


async def alert_history(store: Store, subscriber_id: int, *, limit: int = 50) -> list[AlertEntry]:
    """The person's latest alerts, newest first (at most `limit` entries)."""
    d, t = m.deliveries, m.transitions
    stmt = _mine(subscriber_id).order_by(t.c.at.desc(), d.c.transition_id.desc(), d.c.id).limit(limit * 10)
    async with store.read() as conn:
        rows = (await conn.execute(stmt)).all()
        ids = sorted({row.transition_id for row in rows})
        verdicts = await conn.execute(
            select(outcomes.c.transition_id, outcomes.c.outcome).where(
                outcomes.c.subscriber_id == subscriber_id, outcomes.c.transition_id.in_(ids)
            )
        )
        said = {row.transition_id: Outcome(row.outcome) for row in verdicts}
    entries: dict[tuple[int, int | None], AlertEntry] = {}
    for row in rows:
        key = (row.transition_id, row.watch_id)
        channel = (row.channel_kind, row.status)
        if key in entries:
            entries[key] = replace(entries[key], channels=(*entries[key].channels, channel))
            continue
        if len(entries) >= limit:
            continue
        slots = slots_from_json((row.payload or {}).get("slots") or (row.alert or {}).get("new_slots"))
        entries[key] = AlertEntry(
            row.transition_id, row.watch_id, row.target_id, row.at, slots, (channel,), said.get(row.transition_id)
        )
    return list(entries.values())


async def alert_of(store: Store, subscriber_id: int, transition_id: int) -> AlertRef | None:
    """The alert if it reached one of the person's channels, else None (someone else's, or not an alert).
    The watch is one of theirs still existing, or None when it was deleted since."""
    async with store.read() as conn:
        rows = (await conn.execute(_mine(subscriber_id, transition_id))).all()
    if not rows:
        return None
    watch = next((row.watch_id for row in rows if row.watch_id is not None), None)
    return AlertRef(transition_id, rows[0].target_id, watch)
