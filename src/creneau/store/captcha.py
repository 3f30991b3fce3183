# SPDX-License-Identifier: AGPL-3.0-or-later
"""Captcha challenges shared by every desk (CLI today, web and Telegram later).

A person answers; creneau never solves a captcha itself. Life of a challenge: open → answered (by a
person, before `expires_at`) → used (the monitor took the answer to resume its session); or expired.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from creneau.store import models as m
from creneau.store.codec import RowLike, from_row
from creneau.store.errors import NotFound
from creneau.store.records import CaptchaChallenge, CaptchaStatus
from creneau.store.wakeup import CAPTCHA

if TYPE_CHECKING:
    from creneau.store.engine import Store

cc = m.captcha_challenges


def _challenge(row: RowLike) -> CaptchaChallenge:
    return from_row(CaptchaChallenge, row, status=CaptchaStatus(row["status"]))


class CaptchaRepo:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def open_challenge(
        self,
        target_id: str,
        *,
        now: datetime,
        expires_at: datetime,
        prompt: str = "",
        image: bytes | None = None,
        image_type: str | None = None,
        session: Mapping[str, Any] | None = None,
    ) -> CaptchaChallenge:
        """Queue a challenge for a person; `session` is what the monitor needs to resume (cookies…)."""
        async with self._store.write() as tx:
            result = await tx.conn.execute(
                cc.insert()
                .values(
                    target_id=target_id,
                    status=CaptchaStatus.OPEN.value,
                    prompt=prompt,
                    image=image,
                    image_type=image_type,
                    session=dict(session or {}),
                    created_at=now,
                    expires_at=expires_at,
                )
                .returning(*cc.c)
            )
            await tx.wake(CAPTCHA)
            return _challenge(result.mappings().one())

    async def get(self, challenge_id: int) -> CaptchaChallenge:
        async with self._store.read() as conn:
            row = (await conn.execute(select(cc).where(cc.c.id == challenge_id))).mappings().first()
        if row is None:
            raise NotFound(f"no captcha challenge {challenge_id}")
        return _challenge(row)

    async def list_open(self, now: datetime) -> list[CaptchaChallenge]:
        """Challenges waiting for a person, oldest first (expired ones excluded)."""
        stmt = (
            select(cc)
            .where(cc.c.status == CaptchaStatus.OPEN.value, cc.c.expires_at > now)
            .order_by(cc.c.created_at, cc.c.id)
        )
        async with self._store.read() as conn:
            return [_challenge(row) for row in (await conn.execute(stmt)).mappings()]

    async def answer(self, challenge_id: int, answer: str, *, by: str, now: datetime) -> bool:
        """Record a person's answer; False if the challenge is no longer open or has expired."""
        async with self._store.write() as tx:
            result = await tx.conn.execute(
                update(cc)
                .where(cc.c.id == challenge_id, cc.c.status == CaptchaStatus.OPEN.value, cc.c.expires_at > now)
                .values(status=CaptchaStatus.ANSWERED.value, answer=answer, answered_by=by, answered_at=now)
                .returning(cc.c.id)
            )
            answered = result.first() is not None
            if answered:
                await tx.wake(CAPTCHA)
            return answered

    async def take_answer(self, challenge_id: int) -> CaptchaChallenge | None:
        """Consume an answered challenge (answered → used) exactly once; None if not answered (yet)."""
        async with self._store.write() as tx:
            result = await tx.conn.execute(
                update(cc)
                .where(cc.c.id == challenge_id, cc.c.status == CaptchaStatus.ANSWERED.value)
                .values(status=CaptchaStatus.USED.value)
                .returning(*cc.c)
            )
            row = result.mappings().first()
        return _challenge(row) if row is not None else None

    async def expire(self, now: datetime) -> int:
        """Mark open challenges past their expiry as expired; returns how many."""
        async with self._store.write() as tx:
            result = await tx.conn.execute(
                update(cc)
                .where(cc.c.status == CaptchaStatus.OPEN.value, cc.c.expires_at <= now)
                .values(status=CaptchaStatus.EXPIRED.value)
                .returning(cc.c.id)
            )
            return len(result.all())
