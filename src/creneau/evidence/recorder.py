# SPDX-License-Identifier: AGPL-3.0-or-later
"""Turning checks into evidence: every check of a target some watch keeps evidence for becomes an attempt
in each of those watches' chains, and the day's first "no slot" page becomes the target's daily capture.

`EvidenceRecorder.record(target, observation)` is what the monitor calls after recording a check (it
must be given the observation with its raw page, which the store itself does not keep for routine
"no slot" checks). It costs one cheap read when nobody keeps evidence for the target. In one transaction:
the raw page (kept once per SHA-256), one attempt per chain, and, the first time a day, the daily
capture (pending until a browser renders it, see `capture.py`) with one capture entry per chain.

`capture_now(target_id)` makes an on-demand capture from the target's latest recorded page.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text

from creneau.evidence.repo import EvidenceRepo, PageCopy, append_entry, keep_page, locked_chains
from creneau.store.errors import NotFound
from creneau.store.evidence import captures, entries
from creneau.store.sql import insert_for
from creneau.types import PARIS, Demarche, Observation, Office, Outcome, Target

Describe = Callable[[Target], tuple[Office | None, Demarche | None]]


def _no_names(_target: Target) -> tuple[Office | None, Demarche | None]:
    return None, None


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Recorded:
    """What one check added: how many attempts, and the capture it started (if any)."""

    attempts: int = 0
    capture_id: int | None = None


class EvidenceRecorder:
    def __init__(self, repo: EvidenceRepo, *, describe: Describe = _no_names) -> None:
        self.repo = repo
        self.describe = describe

    def names(self, target: Target) -> tuple[str, str]:
        office, demarche = self.describe(target)
        return (
            office.name if office else (target.office_id or target.label or target.id),
            demarche.name_fr if demarche else (target.demarche_key or target.label or target.id),
        )

    async def record(self, target: Target, observation: Observation, *, now: datetime | None = None) -> Recorded:
        """Add the check to every chain that follows the target (see the module docstring)."""
        if not await self.repo.has_chains(target.id):
            return Recorded()
        at = now or observation.checked_at
        page = PageCopy.of(observation.raw_page) if observation.raw_page else None
        office, demarche = self.names(target)
        url = observation.url or target.url
        checked = observation.checked_at
        body = {
            "kind": "attempt",
            "at": utc_text(checked),
            "at_paris": checked.astimezone(PARIS).isoformat(),
            "target": target.id,
            "office": office,
            "demarche": demarche,
            "url": url,
            "outcome": observation.outcome.value,
            "http_status": observation.http_status,
            "page_sha256": page.digest if page else None,
            "slots": len(observation.slots),
        }
        async with self.repo.store.write() as tx:
            conn = tx.conn
            followers = await locked_chains(conn, target.id)
            if not followers:
                return Recorded()
            if page is not None:
                await keep_page(conn, page, at)
            for info in followers:
                await append_entry(
                    conn,
                    info,
                    body,
                    at=checked,
                    target_id=target.id,
                    outcome=observation.outcome.value,
                    page_digest=page.digest if page else None,
                )
            capture_id = None
            if page is not None and observation.outcome is Outcome.NO_SLOTS:
                capture_id = await self._daily_capture(conn, target.id, checked, url, office, demarche, page.digest)
            return Recorded(len(followers), capture_id)

    async def _daily_capture(
        self, conn: Any, target_id: str, taken_at: datetime, url: str, office: str, demarche: str, digest: str
    ) -> int | None:
        """Start today's capture of the target unless one exists; then chain it for every follower."""
        day = taken_at.astimezone(PARIS).date()
        values = {
            "target_id": target_id,
            "day": day,
            "on_demand": False,
            "taken_at": taken_at,
            "url": url,
            "office": office,
            "demarche": demarche,
            "page_digest": digest,
            "status": "pending",
        }
        stmt = (
            insert_for(conn, captures)
            .values(**values)
            .on_conflict_do_nothing(
                index_elements=[captures.c.target_id, captures.c.day],
                index_where=text("on_demand = false" if conn.dialect.name == "postgresql" else "on_demand = 0"),
            )
            .returning(captures.c.id)
        )
        capture_id = (await conn.execute(stmt)).scalar()
        if capture_id is None:
            return None
        await self._chain_capture(conn, int(capture_id), values)
        return int(capture_id)

    async def _chain_capture(self, conn: Any, capture_id: int, values: dict[str, Any]) -> None:
        body = {
            "kind": "capture",
            "capture": capture_id,
            "day": values["day"].isoformat(),
            "taken_at": utc_text(values["taken_at"]),
            "target": values["target_id"],
            "url": values["url"],
            "page_sha256": values["page_digest"],
            "on_demand": values["on_demand"],
        }
        for info in await locked_chains(conn, values["target_id"]):
            await append_entry(
                conn,
                info,
                body,
                at=values["taken_at"],
                target_id=values["target_id"],
                page_digest=values["page_digest"],
                capture_id=capture_id,
            )

    async def capture_now(self, target_id: str, *, now: datetime) -> int:
        """An on-demand capture of the target's latest recorded page (any outcome); returns its id.

        Raises NotFound when no chain has recorded a page of this target yet."""
        e = entries.c
        stmt = (
            select(e.page_digest, e.at, e.body)
            .where(e.target_id == target_id, e.kind == "attempt", e.page_digest.is_not(None))
            .order_by(e.at.desc(), e.id.desc())
            .limit(1)
        )
        async with self.repo.store.write() as tx:
            row = (await tx.conn.execute(stmt)).first()
            if row is None:
                raise NotFound(f"no recorded page of target {target_id!r} to capture")
            body = json.loads(row.body)
            values = {
                "target_id": target_id,
                "day": now.astimezone(PARIS).date(),
                "on_demand": True,
                "taken_at": row.at,
                "url": body.get("url", ""),
                "office": body.get("office", ""),
                "demarche": body.get("demarche", ""),
                "page_digest": row.page_digest,
                "status": "pending",
            }
            capture_id = int(
                (await tx.conn.execute(captures.insert().values(**values).returning(captures.c.id))).scalar_one()
            )
            await self._chain_capture(tx.conn, capture_id, values)
        return capture_id
