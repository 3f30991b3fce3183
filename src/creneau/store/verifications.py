# SPDX-License-Identifier: AGPL-3.0-or-later
"""E-mail channels waiting for their owner to click the verification link (table `email_verifications`,
declared in `store/watchers.py`).

The channel row is created only when the link is used, so an unverified address never receives anything.
Only the token's SHA-256 is kept; a token works once, until it expires. Opening the link changes nothing
(`peek`), only the confirming POST spends it (`use`): mail scanners open links by themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select, update

from creneau.store.accounts import TokenProblem, new_secret, token_hash
from creneau.store.watchers import verifications

if TYPE_CHECKING:
    from creneau.store.engine import Store


@dataclass(frozen=True, slots=True)
class PendingEmail:
    address: str
    created_at: datetime
    expires_at: datetime


class EmailVerificationRepo:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def start(self, subscriber_id: int, address: str, *, now: datetime, ttl: timedelta) -> str:
        """A new verification token for `address` (the raw value, for the link); the person's older unused
        tokens for the same address and everyone's expired ones are forgotten."""
        raw = new_secret()
        v = verifications
        async with self._store.write() as tx:
            await tx.conn.execute(
                delete(v).where(
                    (v.c.expires_at <= now)
                    | ((v.c.subscriber_id == subscriber_id) & (v.c.address == address) & v.c.used_at.is_(None))
                )
            )
            await tx.conn.execute(
                v.insert().values(
                    token_hash=token_hash(raw), subscriber_id=subscriber_id, address=address, created_at=now,
                    expires_at=now + ttl, used_at=None,
                )
            )  # fmt: skip
        return raw

    async def peek(self, raw: str, *, now: datetime) -> tuple[int, str] | TokenProblem:
        """(subscriber id, address) of a usable token, changing nothing (mail scanners open links)."""
        async with self._store.read() as conn:
            row = (
                await conn.execute(select(verifications).where(verifications.c.token_hash == token_hash(raw)))
            ).first()
        return _check(row, now)

    async def use(self, raw: str, *, now: datetime) -> tuple[int, str] | TokenProblem:
        """Spend a token (once): returns its (subscriber id, address); the caller creates the channel."""
        v = verifications
        async with self._store.write() as tx:
            row = (await tx.conn.execute(select(v).where(v.c.token_hash == token_hash(raw)))).first()
            checked = _check(row, now)
            if not isinstance(checked, TokenProblem):
                await tx.conn.execute(update(v).where(v.c.token_hash == token_hash(raw)).values(used_at=now))
            return checked

    async def pending(self, subscriber_id: int, *, now: datetime) -> list[PendingEmail]:
        v = verifications
        stmt = (
            select(v.c.address, v.c.created_at, v.c.expires_at)
            .where(v.c.subscriber_id == subscriber_id, v.c.used_at.is_(None), v.c.expires_at > now)
            .order_by(v.c.created_at)
        )
        async with self._store.read() as conn:
            return [PendingEmail(r.address, r.created_at, r.expires_at) for r in await conn.execute(stmt)]

    async def started_since(self, subscriber_id: int, since: datetime) -> int:
        v = verifications
        stmt = select(func.count()).where(v.c.subscriber_id == subscriber_id, v.c.created_at >= since)
        async with self._store.read() as conn:
            return int((await conn.execute(stmt)).scalar_one())


def _check(row: Any, now: datetime) -> tuple[int, str] | TokenProblem:
    if row is None:
        return TokenProblem.UNKNOWN
    if row.used_at is not None:
        return TokenProblem.USED
    if row.expires_at <= now:
        return TokenProblem.EXPIRED
    return int(row.subscriber_id), str(row.address)
