# SPDX-License-Identifier: AGPL-3.0-or-later
"""Evidence logs in the store: evidence mode per watch, appending to the chains, captures, raw pages.

The log is append-only: nothing here updates or deletes an entry, except deleting a whole chain with its
watch or its owner (foreign keys). Appends lock the chain's row (`FOR UPDATE` on PostgreSQL, the write lock
on SQLite), so two monitors recording checks of the same target at once still chain one after the other.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from creneau.evidence import chain
from creneau.evidence.records import CaptureRecord, ChainInfo, EntryRecord
from creneau.store import models as m
from creneau.store.codec import compress_page, decompress_page
from creneau.store.errors import NotFound
from creneau.store.evidence import captures, chains, entries, evidence_pages
from creneau.store.sql import insert_for

if TYPE_CHECKING:
    from creneau.store.engine import Store

wt = m.watch_targets


def _chain(row: Any) -> ChainInfo:
    return ChainInfo(
        row["watch_id"],
        row["subscriber_id"],
        row["chain_id"],
        bool(row["enabled"]),
        bool(row["auto"]),
        row["head_seq"],
        row["head_hash"],
        row["created_at"],
    )


def _entry(row: Any) -> EntryRecord:
    return EntryRecord(
        row["seq"],
        row["kind"],
        row["at"],
        row["target_id"],
        row["outcome"],
        row["page_digest"],
        row["capture_id"],
        row["prev"],
        row["hash"],
        row["body"],
    )


def _capture(row: Any) -> CaptureRecord:
    return CaptureRecord(
        row["id"],
        row["target_id"],
        row["day"],
        bool(row["on_demand"]),
        row["taken_at"],
        row["url"],
        row["office"],
        row["demarche"],
        row["page_digest"],
        row["status"],
        row["png_sha256"],
        row["width"],
        row["height"],
        row["rendered_at"],
        row["error"],
    )


_CAPTURE_COLUMNS = [c for c in captures.c if c.name not in ("png", "preview")]


@dataclass(frozen=True, slots=True)
class PageCopy:
    """A raw page ready to keep (compressed before the transaction)."""

    digest: str
    size: int
    encoding: str
    body: bytes

    @classmethod
    def of(cls, raw: bytes) -> PageCopy:
        encoding, body = compress_page(raw)
        return cls(hashlib.sha256(raw).hexdigest(), len(raw), encoding, body)


async def keep_page(conn: AsyncConnection, page: PageCopy, now: datetime) -> None:
    stmt = insert_for(conn, evidence_pages).on_conflict_do_nothing(index_elements=[evidence_pages.c.digest])
    await conn.execute(
        stmt,
        {"digest": page.digest, "size": page.size, "encoding": page.encoding, "body": page.body, "first_seen_at": now},
    )


async def locked_chains(conn: AsyncConnection, target_id: str) -> list[ChainInfo]:
    """The enabled chains of the watches of `target_id`, locked for appending, in watch order."""
    stmt = (
        select(chains)
        .where(
            chains.c.enabled.is_(True), chains.c.watch_id.in_(select(wt.c.watch_id).where(wt.c.target_id == target_id))
        )
        .order_by(chains.c.watch_id)
        .with_for_update()
    )
    return [_chain(row) for row in (await conn.execute(stmt)).mappings()]


async def append_entry(
    conn: AsyncConnection,
    info: ChainInfo,
    body: dict[str, Any],
    *,
    at: datetime,
    target_id: str,
    outcome: str = "",
    page_digest: str | None = None,
    capture_id: int | None = None,
) -> ChainInfo:
    """Append one entry to a locked chain; returns the chain with its new head."""
    entry = chain.append(info.head_hash, info.head_seq + 1, body)
    await conn.execute(
        entries.insert().values(
            watch_id=info.watch_id,
            seq=entry.seq,
            kind=body["kind"],
            at=at,
            target_id=target_id,
            outcome=outcome,
            page_digest=page_digest,
            capture_id=capture_id,
            prev=entry.prev,
            hash=entry.hash,
            body=entry.body_text,
        )
    )
    await conn.execute(
        update(chains).where(chains.c.watch_id == info.watch_id).values(head_seq=entry.seq, head_hash=entry.hash)
    )
    return ChainInfo(
        info.watch_id,
        info.subscriber_id,
        info.chain_id,
        info.enabled,
        info.auto,
        entry.seq,
        entry.hash,
        info.created_at,
    )


class EvidenceRepo:
    """Evidence mode, chains, entries, captures and raw pages (see the module docstring)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # --- evidence mode -----------------------------------------------------------------------------
    async def enable(self, watch_id: int, *, now: datetime, auto: bool = False) -> ChainInfo:
        """Switch evidence mode on (a new chain the first time). `auto` marks the reminders' doing; a
        person's own choice (auto=False) always wins. Raises NotFound for an unknown watch."""
        async with self.store.write() as tx:
            owner = (
                await tx.conn.execute(select(m.watches.c.subscriber_id).where(m.watches.c.id == watch_id))
            ).scalar()
            if owner is None:
                raise NotFound(f"no watch {watch_id}")
            row = (await tx.conn.execute(select(chains).where(chains.c.watch_id == watch_id))).mappings().first()
            if row is None:
                chain_id = uuid.uuid4().hex
                values = {
                    "watch_id": watch_id,
                    "subscriber_id": owner,
                    "chain_id": chain_id,
                    "enabled": True,
                    "auto": auto,
                    "head_seq": 0,
                    "head_hash": chain.genesis(chain_id),
                    "created_at": now,
                    "changed_at": now,
                }
                await tx.conn.execute(chains.insert().values(**values))
            elif not row["enabled"]:
                await tx.conn.execute(
                    update(chains).where(chains.c.watch_id == watch_id).values(enabled=True, auto=auto, changed_at=now)
                )
            elif row["auto"] and not auto:
                await tx.conn.execute(update(chains).where(chains.c.watch_id == watch_id).values(auto=False))
            found = (await tx.conn.execute(select(chains).where(chains.c.watch_id == watch_id))).mappings().one()
        return _chain(found)

    async def disable(self, watch_id: int, *, now: datetime) -> bool:
        """Stop recording (the log so far stays, and can still be exported)."""
        async with self.store.write() as tx:
            result = await tx.conn.execute(
                update(chains).where(chains.c.watch_id == watch_id).values(enabled=False, changed_at=now)
            )
            return bool(result.rowcount)

    async def chain_info(self, watch_id: int) -> ChainInfo | None:
        async with self.store.read() as conn:
            row = (await conn.execute(select(chains).where(chains.c.watch_id == watch_id))).mappings().first()
        return _chain(row) if row is not None else None

    async def chains_of(self, subscriber_id: int) -> list[ChainInfo]:
        async with self.store.read() as conn:
            rows = await conn.execute(
                select(chains).where(chains.c.subscriber_id == subscriber_id).order_by(chains.c.watch_id)
            )
            return [_chain(row) for row in rows.mappings()]

    async def has_chains(self, target_id: str) -> bool:
        """Cheap read before any write: does an enabled chain follow `target_id`?"""
        stmt = select(
            exists().where(
                chains.c.enabled.is_(True),
                chains.c.watch_id == wt.c.watch_id,
                wt.c.target_id == target_id,
            )
        )
        async with self.store.read() as conn:
            return bool((await conn.execute(stmt)).scalar())

    # --- reading a chain ---------------------------------------------------------------------------
    async def seq_range(self, watch_id: int, start: datetime, end: datetime) -> tuple[int, int] | None:
        """The contiguous run of entries covering [start, end): first entry at or after `start`, last before
        `end` (entries in between are all included, so the export verifies on its own)."""
        e = entries.c
        stmt = select(func.min(e.seq).filter(e.at >= start), func.max(e.seq).filter(e.at < end)).where(
            e.watch_id == watch_id
        )
        async with self.store.read() as conn:
            low, high = (await conn.execute(stmt)).one()
        if low is None or high is None or low > high:
            return None
        return int(low), int(high)

    async def entries(self, watch_id: int, first: int = 1, last: int | None = None) -> list[EntryRecord]:
        e = entries.c
        stmt = select(entries).where(e.watch_id == watch_id, e.seq >= first).order_by(e.seq)
        if last is not None:
            stmt = stmt.where(e.seq <= last)
        async with self.store.read() as conn:
            return [_entry(row) for row in (await conn.execute(stmt)).mappings()]

    async def count_attempts(self, watch_id: int, first: int, last: int) -> int:
        e = entries.c
        stmt = select(func.count()).where(e.watch_id == watch_id, e.seq.between(first, last), e.kind == "attempt")
        async with self.store.read() as conn:
            return int((await conn.execute(stmt)).scalar_one())

    async def iter_entries(
        self, watch_id: int, first: int, last: int, *, batch: int = 5000
    ) -> AsyncIterator[list[EntryRecord]]:
        """Entries `first`..`last` in order, `batch` at a time (one short read transaction each)."""
        while first <= last:
            chunk = await self.entries(watch_id, first, min(last, first + batch - 1))
            if not chunk:
                return
            yield chunk
            first = chunk[-1].seq + 1

    # --- captures and pages ------------------------------------------------------------------------
    async def captures(self, ids: Sequence[int]) -> list[CaptureRecord]:
        if not ids:
            return []
        stmt = select(*_CAPTURE_COLUMNS).where(captures.c.id.in_(list(ids))).order_by(captures.c.taken_at)
        async with self.store.read() as conn:
            return [_capture(row) for row in (await conn.execute(stmt)).mappings()]

    async def capture_png(self, capture_id: int) -> bytes | None:
        async with self.store.read() as conn:
            return (await conn.execute(select(captures.c.png).where(captures.c.id == capture_id))).scalar()

    async def capture_preview(self, capture_id: int) -> bytes | None:
        """The JPEG copy shown in dossiers (None until rendered)."""
        async with self.store.read() as conn:
            return (await conn.execute(select(captures.c.preview).where(captures.c.id == capture_id))).scalar()

    async def pending_captures(self, limit: int = 50) -> list[CaptureRecord]:
        stmt = select(*_CAPTURE_COLUMNS).where(captures.c.status == "pending").order_by(captures.c.id).limit(limit)
        async with self.store.read() as conn:
            return [_capture(row) for row in (await conn.execute(stmt)).mappings()]

    async def set_rendered(
        self, capture_id: int, png: bytes, width: int, height: int, *, now: datetime, preview: bytes | None = None
    ) -> None:
        async with self.store.write() as tx:
            await tx.conn.execute(
                update(captures)
                .where(captures.c.id == capture_id)
                .values(
                    status="rendered",
                    png=png,
                    png_sha256=hashlib.sha256(png).hexdigest(),
                    preview=preview,
                    width=width,
                    height=height,
                    rendered_at=now,
                    error=None,
                )
            )

    async def set_failed(self, capture_id: int, error: str) -> None:
        async with self.store.write() as tx:
            await tx.conn.execute(
                update(captures).where(captures.c.id == capture_id).values(status="failed", error=error[:500])
            )

    async def page(self, digest: str) -> bytes | None:
        p = evidence_pages.c
        async with self.store.read() as conn:
            row = (await conn.execute(select(p.encoding, p.body).where(p.digest == digest))).first()
        return decompress_page(row.encoding, row.body) if row is not None else None

    async def day_capture(self, target_id: str, day: date) -> CaptureRecord | None:
        c = captures.c
        stmt = select(*_CAPTURE_COLUMNS).where(c.target_id == target_id, c.day == day, c.on_demand.is_(False))
        async with self.store.read() as conn:
            row = (await conn.execute(stmt)).mappings().first()
        return _capture(row) if row is not None else None

    # --- privacy -----------------------------------------------------------------------------------
    async def collect_garbage(self) -> tuple[int, int]:
        """Delete captures no chain refers to any more, then raw pages nobody refers to: (captures, pages).

        Run after deleting an account or a watch (their chains went with them, by foreign keys)."""
        c, e, p = captures.c, entries.c, evidence_pages.c
        async with self.store.write() as tx:
            gone = await tx.conn.execute(delete(captures).where(~exists().where(e.capture_id == c.id)).returning(c.id))
            dropped = len(gone.all())
            used = or_(
                exists().where(and_(e.page_digest == p.digest)),
                exists().where(and_(c.page_digest == p.digest)),
            )
            pages_gone = await tx.conn.execute(delete(evidence_pages).where(~used).returning(p.digest))
            return dropped, len(pages_gone.all())
