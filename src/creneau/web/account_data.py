# SPDX-License-Identifier: AGPL-3.0-or-later
"""A person's data, all of it and nobody else's: the export behind "Download my data".

The export is a list of named sections, each read inside one read transaction by a function that is
given the subscriber id and must select by it. A stage that keeps more personal data (alert outcomes,
captcha answers…) adds its own section with `register_section` and a test that it exports only its owner's
rows. Deletion needs no registry: tables that reference `subscribers` use ON DELETE CASCADE, and
`AccountRepo.delete_account` deletes the subscriber.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from creneau import __version__
from creneau.store import Store
from creneau.store import models as m
from creneau.store.accounts import accounts, magic_tokens, web_sessions

Section = Callable[[AsyncConnection, int], Awaitable[Any]]
SECTIONS: dict[str, Section] = {}


def register_section(name: str, read: Section) -> None:
    """Add `name` to every export; `read(conn, subscriber_id)` returns JSON-ready data (datetimes are fine)."""
    if name in SECTIONS:
        raise ValueError(f"export section {name!r} is already registered")
    SECTIONS[name] = read


def _rows(result: Any) -> list[dict[str, Any]]:
    return [dict(row) for row in result.mappings()]


async def _subscriber(conn: AsyncConnection, subscriber_id: int) -> Any:
    s = m.subscribers
    rows = _rows(await conn.execute(select(s).where(s.c.id == subscriber_id)))
    return rows[0] if rows else None


async def _account(conn: AsyncConnection, subscriber_id: int) -> Any:
    rows = _rows(await conn.execute(select(accounts).where(accounts.c.subscriber_id == subscriber_id)))
    return rows[0] if rows else None


async def _sessions(conn: AsyncConnection, subscriber_id: int) -> Any:
    ws = web_sessions
    stmt = select(ws.c.id, ws.c.created_at, ws.c.last_seen_at, ws.c.expires_at, ws.c.user_agent).where(
        ws.c.subscriber_id == subscriber_id
    )
    return _rows(await conn.execute(stmt.order_by(ws.c.id)))


async def _sign_in_links(conn: AsyncConnection, subscriber_id: int) -> Any:
    s, t = m.subscribers, magic_tokens
    email = select(s.c.email).where(s.c.id == subscriber_id).scalar_subquery()
    stmt = select(t.c.email, t.c.created_at, t.c.expires_at, t.c.used_at).where(t.c.email == email)
    return _rows(await conn.execute(stmt.order_by(t.c.created_at)))


async def _channels(conn: AsyncConnection, subscriber_id: int) -> Any:
    c = m.channels
    return _rows(await conn.execute(select(c).where(c.c.subscriber_id == subscriber_id).order_by(c.c.id)))


async def _watches(conn: AsyncConnection, subscriber_id: int) -> Any:
    w, wt = m.watches, m.watch_targets
    watches = _rows(await conn.execute(select(w).where(w.c.subscriber_id == subscriber_id).order_by(w.c.id)))
    ids = [row["id"] for row in watches]
    links = await conn.execute(select(wt).where(wt.c.watch_id.in_(ids))) if ids else None
    targets: dict[int, list[str]] = {}
    for link in links or ():
        targets.setdefault(link.watch_id, []).append(link.target_id)
    return [row | {"targets": sorted(targets.get(row["id"], []))} for row in watches]


async def _deliveries(conn: AsyncConnection, subscriber_id: int) -> Any:
    d, c = m.deliveries, m.channels
    stmt = (
        select(
            d.c.id, d.c.channel_id, d.c.channel_kind, d.c.watch_id, d.c.status, d.c.attempts, d.c.payload,
            d.c.created_at, d.c.sent_at, d.c.last_error,
        )
        .join(c, c.c.id == d.c.channel_id)
        .where(c.c.subscriber_id == subscriber_id)
        .order_by(d.c.id)
    )  # fmt: skip
    return _rows(await conn.execute(stmt))


for _name, _read in (
    ("subscriber", _subscriber),
    ("account", _account),
    ("sessions", _sessions),
    ("sign_in_links", _sign_in_links),
    ("channels", _channels),
    ("watches", _watches),
    ("deliveries", _deliveries),
):
    register_section(_name, _read)


async def export_user(store: Store, subscriber_id: int, *, now: datetime) -> dict[str, Any]:
    """Every section for this subscriber, read in one consistent snapshot."""
    doc: dict[str, Any] = {"format": "creneau-export/1", "creneau_version": __version__, "exported_at": now}
    async with store.read() as conn:
        for name, read in SECTIONS.items():
            doc[name] = await read(conn, subscriber_id)
    return doc
