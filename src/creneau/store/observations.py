# SPDX-License-Identifier: AGPL-3.0-or-later
"""Observations: every check's outcome and evidence; raw pages kept once per SHA-256 digest, compressed.

Retention is the operator's: `prune(before=…)` drops old observations and the pages nobody refers to
any more (openings and transitions keep their own copy of the slots).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncConnection

from creneau.store import models as m
from creneau.store.codec import (
    compress_page,
    decompress_page,
    notices_to_json,
    observation_from_row,
    slots_to_json,
)
from creneau.store.records import StoredObservation
from creneau.store.sql import insert_for
from creneau.types import Observation

if TYPE_CHECKING:
    from creneau.store.engine import Store

o = m.observations
p = m.pages


@dataclass(frozen=True, slots=True)
class PreparedPage:
    """A raw page compressed ahead of the transaction (so no lock is held while compressing)."""

    digest: str
    size: int
    encoding: str
    body: bytes


def prepare_page(observation: Observation) -> PreparedPage | None:
    if not observation.raw_page:
        return None
    digest = observation.page_digest or hashlib.sha256(observation.raw_page).hexdigest()
    encoding, body = compress_page(observation.raw_page)
    return PreparedPage(digest, len(observation.raw_page), encoding, body)


async def insert_observation(
    conn: AsyncConnection, observation: Observation, page: PreparedPage | None, *, now: datetime
) -> int:
    """Insert one observation (and its page if that digest is new); returns the observation id."""
    digest = None
    if page is not None:
        stmt = insert_for(conn, p).on_conflict_do_nothing(index_elements=[p.c.digest])
        await conn.execute(
            stmt,
            {
                "digest": page.digest,
                "size": page.size,
                "encoding": page.encoding,
                "body": page.body,
                "first_seen_at": now,
            },
        )
        digest = page.digest
    result = await conn.execute(
        o.insert()
        .values(
            target_id=observation.target_id,
            checked_at=observation.checked_at,
            outcome=observation.outcome.value,
            evidence=observation.evidence,
            slots=slots_to_json(observation.slots),
            notices=notices_to_json(observation.notices),
            http_status=observation.http_status,
            duration_s=observation.duration_s,
            url=observation.url,
            page=observation.page,
            page_digest=digest,
            retry_after_s=observation.retry_after_s,
        )
        .returning(o.c.id)
    )
    return int(result.scalar_one())


class ObservationRepo:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def record(self, observation: Observation, *, now: datetime, keep_page: bool = True) -> int:
        """Record an observation outside a check (e.g. a manual `creneau check`); the target must exist."""
        page = prepare_page(observation) if keep_page else None
        async with self._store.write() as tx:
            return await insert_observation(tx.conn, observation, page, now=now)

    async def recent(
        self, target_id: str, *, limit: int = 20, since: datetime | None = None
    ) -> list[StoredObservation]:
        """The target's latest observations, newest first (without raw pages: see `page`)."""
        stmt = select(o).where(o.c.target_id == target_id).order_by(o.c.checked_at.desc(), o.c.id.desc()).limit(limit)
        if since is not None:
            stmt = stmt.where(o.c.checked_at >= since)
        async with self._store.read() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [StoredObservation(row["id"], observation_from_row(row)) for row in rows]

    async def page(self, digest: str) -> bytes | None:
        """The raw page body stored under `digest`, or None."""
        async with self._store.read() as conn:
            row = (await conn.execute(select(p.c.encoding, p.c.body).where(p.c.digest == digest))).first()
        return decompress_page(row.encoding, row.body) if row is not None else None

    async def prune(self, *, before: datetime) -> tuple[int, int]:
        """Delete observations checked before `before`, then unreferenced pages: (observations, pages)."""
        async with self._store.write() as tx:
            gone = await tx.conn.execute(delete(o).where(o.c.checked_at < before).returning(o.c.id))
            observations = len(gone.all())
            orphans = await tx.conn.execute(
                delete(p).where(~exists(select(1).where(o.c.page_digest == p.c.digest))).returning(p.c.digest)
            )
            return observations, len(orphans.all())
