# SPDX-License-Identifier: AGPL-3.0-or-later
"""The evidence worker: what runs every few minutes beside the monitor and the sender.

One round (`run_once(now)`):
1. reminders: for everyone who gave a permit expiry date, the renewal reminder that is due
   (`reminders.due_reminder`), one row per (reminder, e-mail or Telegram channel), created once (unique key);
2. evidence mode switched on (marked `auto`) for their watches inside the two-month window; a watch whose
   owner switched evidence mode off themselves stays off;
3. guidance when a recent opening of a watched target only shows slots after the person's expiry date;
4. sending the due reminder rows through the notification transports, in the person's language; a
   transient failure is retried with backoff (at least once: a crash between the provider's acceptance
   and our commit may repeat one reminder), a permanent one or a removed channel drops the row;
5. rendering pending captures when Chromium is available, and dropping captures and pages no chain
   refers to any more (after deleted accounts or watches).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from creneau.evidence import capture, reminders
from creneau.evidence.profiles import ProfileRepo
from creneau.evidence.reminders import ReminderKind
from creneau.evidence.repo import EvidenceRepo
from creneau.notify.base import Locale
from creneau.notify.errors import PermanentError, TransientError
from creneau.notify.message import Reminder
from creneau.notify.registry import Transports, channel_spec
from creneau.sim.clock import Clock
from creneau.store import models as m
from creneau.store.evidence import chains
from creneau.store.evidence import reminders as reminder_rows
from creneau.store.sql import insert_for
from creneau.types import PARIS

log = logging.getLogger(__name__)

KINDS = ("email", "telegram")
GIVE_UP = timedelta(hours=24)
GUIDANCE_LOOKBACK = timedelta(days=2)


@dataclass(slots=True)
class Round:
    """What one round did (for logs, the CLI and tests)."""

    planned: int = 0
    auto_enabled: int = 0
    guidance: int = 0
    sent: int = 0
    retried: int = 0
    dropped: int = 0
    rendered: int = 0
    capture_problem: str | None = None
    collected: tuple[int, int] = (0, 0)
    errors: list[str] = field(default_factory=list)


class EvidenceWorker:
    def __init__(
        self,
        repo: EvidenceRepo,
        profiles: ProfileRepo,
        *,
        transports: Transports | None,
        clock: Clock,
        chromium: str = "/usr/bin/chromium",
        capture_timeout_s: float = 20.0,
    ) -> None:
        self.repo = repo
        self.store = repo.store
        self.profiles = profiles
        self.transports = transports
        self.clock = clock
        self.chromium = chromium
        self.capture_timeout_s = capture_timeout_s
        self._stop = asyncio.Event()

    async def run_once(self, now: datetime | None = None, *, render: bool = True) -> Round:
        now = now or self.clock.now()
        done = Round()
        experts = await self.profiles.with_expiry()
        for subscriber_id, expiry in experts:
            kind = reminders.due_reminder(expiry, now)
            if kind is not None:
                done.planned += await self._plan(subscriber_id, kind, expiry, now, {})
            if reminders.in_evidence_window(expiry, now.astimezone(PARIS).date()):
                done.auto_enabled += await self._auto_evidence(subscriber_id, now)
        done.guidance = await self._guidance(dict(experts), now)
        if self.transports is not None:
            await self._send_due(now, done)
        if render:
            run = await capture.render_pending(
                self.repo, executable=self.chromium, now=now, timeout_s=self.capture_timeout_s
            )
            done.rendered, done.capture_problem = run.rendered, run.skipped_reason
        done.collected = await self.repo.collect_garbage()
        return done

    async def run(self, *, every_s: float = 300.0) -> None:
        """Rounds until `stop()`; a failing round is logged and the next one runs anyway."""
        while not self._stop.is_set():
            try:
                await self.run_once()
            except Exception:  # top-level loop: a bad round must not stop reminders for good
                log.exception("evidence round failed; trying again in %.0f s", every_s)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), every_s)

    def stop(self) -> None:
        self._stop.set()

    # --- planning --------------------------------------------------------------------------------
    async def _plan(
        self, subscriber_id: int, kind: ReminderKind, expiry: Any, now: datetime, payload: dict[str, Any]
    ) -> int:
        """One row per active e-mail/Telegram channel; existing rows are left alone (unique keys)."""
        ch = m.channels.c
        stmt = select(ch.id).where(ch.subscriber_id == subscriber_id, ch.status == "active", ch.kind.in_(KINDS))
        created = 0
        async with self.store.write() as tx:
            for (channel_id,) in (await tx.conn.execute(stmt)).all():
                key = f"{subscriber_id}|{kind.value}|{expiry.isoformat()}|c{channel_id}"
                body = {"expiry": expiry.isoformat(), "channel": channel_id, **payload}
                insert = insert_for(tx.conn, reminder_rows).values(
                    key=key,
                    subscriber_id=subscriber_id,
                    kind=kind.value,
                    due_at=now,
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    payload=json.dumps(body),
                )
                result = await tx.conn.execute(insert.on_conflict_do_nothing(index_elements=[reminder_rows.c.key]))
                created += result.rowcount or 0
        return created

    async def _auto_evidence(self, subscriber_id: int, now: datetime) -> int:
        w = m.watches.c
        stmt = select(w.id).where(
            w.subscriber_id == subscriber_id,
            w.status == "active",
            ~w.id.in_(select(chains.c.watch_id)),
        )
        async with self.store.read() as conn:
            watch_ids = [row.id for row in await conn.execute(stmt)]
        for watch_id in watch_ids:
            await self.repo.enable(watch_id, now=now, auto=True)
        return len(watch_ids)

    async def _guidance(self, expiries: dict[int, Any], now: datetime) -> int:
        if not expiries:
            return 0
        tr, wt, w = m.transitions.c, m.watch_targets.c, m.watches.c
        stmt = (
            select(w.subscriber_id, tr.payload, tr.target_id)
            .select_from(
                m.transitions.join(m.watch_targets, wt.target_id == tr.target_id).join(m.watches, w.id == wt.watch_id)
            )
            .where(
                tr.at >= now - GUIDANCE_LOOKBACK,
                tr.kind.in_(("opened", "new_slots")),
                w.status == "active",
                w.subscriber_id.in_(list(expiries)),
            )
            .order_by(tr.at)
        )
        async with self.store.read() as conn:
            rows = (await conn.execute(stmt)).all()
        planned = 0
        for subscriber_id, payload, target_id in rows:
            expiry = expiries[subscriber_id]
            starts = [datetime.fromisoformat(s["start"]) for s in payload.get("slots", [])]
            if reminders.slots_after_expiry(starts, expiry, now):
                place = str((payload.get("target") or {}).get("label") or target_id)
                extra = {"slot": min(starts).isoformat(), "place": place}
                planned += await self._plan(subscriber_id, ReminderKind.SLOT_AFTER_EXPIRY, expiry, now, extra)
        return planned

    # --- sending ---------------------------------------------------------------------------------
    async def _send_due(self, now: datetime, done: Round) -> None:
        r = reminder_rows.c
        stmt = (
            select(reminder_rows, m.subscribers.c.locale)
            .join(m.subscribers, m.subscribers.c.id == r.subscriber_id)
            .where(r.status == "pending", r.next_attempt_at <= now)
            .order_by(r.id)
            .limit(500)
        )
        async with self.store.read() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        for row in rows:
            await self._send_one(row, now, done)

    async def _send_one(self, row: Any, now: datetime, done: Round) -> None:
        assert self.transports is not None
        payload = json.loads(row["payload"])
        ch = m.channels.c
        async with self.store.read() as conn:
            channel = (await conn.execute(select(m.channels).where(ch.id == payload["channel"]))).mappings().first()
        if channel is None or channel["status"] != "active":
            await self._mark(row["id"], status="dropped", error="channel removed or disabled")
            done.dropped += 1
            return
        locale: Locale = "en" if row["locale"] == "en" else "fr"
        kind = ReminderKind(row["kind"])
        slot = datetime.fromisoformat(payload["slot"]) if payload.get("slot") else None
        expiry = datetime.fromisoformat(payload["expiry"]).date()
        subject, text = reminders.reminder_text(kind, locale, expiry=expiry, slot=slot, place=payload.get("place", ""))
        message = Reminder(
            event_id=row["key"].rsplit("|c", 1)[0],
            watch_id="",
            channel_id=str(channel["id"]),
            subject=subject,
            text=text,
            official_url=reminders.ANEF_URL,
        )
        try:
            spec = channel_spec(channel["kind"])
            config = spec.parse_config(channel["config"])
            transport = await self.transports.get(channel["kind"])
            await transport.send(message, config, locale=locale)
        except TransientError as exc:
            if now - row["due_at"] > GIVE_UP:
                await self._mark(row["id"], status="failed", error=str(exc))
                done.dropped += 1
                return
            wait = max(exc.retry_after_s or 0.0, min(3600.0, 60.0 * 2 ** row["attempts"]))
            await self._mark(
                row["id"], error=str(exc), next_at=now + timedelta(seconds=wait), attempts=row["attempts"] + 1
            )
            done.retried += 1
            return
        except (PermanentError, ValueError) as exc:
            await self._mark(row["id"], status="failed", error=str(exc))
            done.dropped += 1
            return
        await self._mark(row["id"], status="sent", sent_at=now, attempts=row["attempts"] + 1)
        done.sent += 1

    async def _mark(
        self,
        row_id: int,
        *,
        status: str | None = None,
        error: str | None = None,
        next_at: datetime | None = None,
        sent_at: datetime | None = None,
        attempts: int | None = None,
    ) -> None:
        values: dict[str, Any] = {}
        if status is not None:
            values["status"] = status
        if error is not None:
            values["last_error"] = error[:500]
        if next_at is not None:
            values["next_attempt_at"] = next_at
        if sent_at is not None:
            values["sent_at"] = sent_at
        if attempts is not None:
            values["attempts"] = attempts
        async with self.store.write() as tx:
            await tx.conn.execute(update(reminder_rows).where(reminder_rows.c.id == row_id).values(**values))
