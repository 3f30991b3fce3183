# SPDX-License-Identifier: AGPL-3.0-or-later
"""Web accounts: who may sign in, their server-side sessions and the one-time sign-in links.

An account is a subscriber who proved they own their e-mail address by a sign-in link. Secrets never
reach the database in clear: a sign-in link's token and a session's cookie value are stored as their
SHA-256, so a copy of the database opens no session. Deleting the subscriber deletes the account and its
sessions (foreign keys); `AccountRepo.delete_account` also removes the sign-in links sent to the address.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, cast

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Table, Text, delete, func, select, update
from sqlalchemy.orm import Mapped, mapped_column

from creneau.store.models import Base, subscribers

if TYPE_CHECKING:
    from creneau.store.engine import Store


class Role(StrEnum):
    USER = "user"
    ADMIN = "admin"


class AccountRow(Base):
    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint("role IN ('user', 'admin')", name="role"),)

    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), default=Role.USER.value)
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]


class WebSessionRow(Base):
    """A signed-in browser. Revoking it is deleting the row."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    user_agent: Mapped[str] = mapped_column(Text, default="")


class MagicTokenRow(Base):
    """A sign-in link sent by e-mail: valid once, until `expires_at`. `ip_hash` keys the per-IP rate limit."""

    __tablename__ = "magic_tokens"
    __table_args__ = (Index(None, "email", "created_at"), Index(None, "ip_hash", "created_at"))

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    ip_hash: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(10), default="fr")
    next_path: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


accounts = cast(Table, AccountRow.__table__)
web_sessions = cast(Table, WebSessionRow.__table__)
magic_tokens = cast(Table, MagicTokenRow.__table__)

# How long used or expired sign-in links are kept: long enough to count them for the hourly rate limits.
TOKEN_RETENTION = timedelta(days=1)
RATE_WINDOW = timedelta(hours=1)


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_secret() -> str:
    """256 random bits, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


class TokenProblem(StrEnum):
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"


class RateLimited(Exception):
    """Too many sign-in links were asked for; `scope` is "email" or "ip"."""

    def __init__(self, scope: str) -> None:
        super().__init__(f"too many sign-in links for this {scope}")
        self.scope = scope


@dataclass(frozen=True, slots=True)
class SignInLink:
    email: str
    locale: str
    next_path: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class SessionUser:
    """The signed-in person behind a session cookie."""

    session_id: int
    subscriber_id: int
    email: str
    locale: str
    role: Role
    expires_at: datetime
    last_seen_at: datetime

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


@dataclass(frozen=True, slots=True)
class SessionInfo:
    id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    user_agent: str


class AccountRepo:
    """Sign-in links, accounts and sessions. Every method takes `now` from the caller."""

    def __init__(self, store: Store) -> None:
        self._store = store

    # --- sign-in links -------------------------------------------------------------------------------
    async def request_link(
        self,
        email: str,
        *,
        ip_hash: str,
        locale: str,
        next_path: str,
        now: datetime,
        ttl: timedelta,
        per_email: int,
        per_ip: int,
    ) -> str:
        """A new sign-in token (the raw value, to put in the link). Raises RateLimited when `email` asked for
        `per_email` links, or `ip_hash` for `per_ip`, during the last hour. Forgets links older than a day."""
        t = magic_tokens
        raw = new_secret()
        async with self._store.write() as tx:
            await tx.conn.execute(delete(t).where(t.c.created_at < now - TOKEN_RETENTION))
            since = now - RATE_WINDOW
            for scope, column, value, limit in (
                ("email", t.c.email, email, per_email),
                ("ip", t.c.ip_hash, ip_hash, per_ip),
            ):
                count = select(func.count()).where(column == value, t.c.created_at >= since)
                if (await tx.conn.execute(count)).scalar_one() >= limit:
                    raise RateLimited(scope)
            await tx.conn.execute(
                t.insert().values(
                    token_hash=token_hash(raw),
                    email=email,
                    ip_hash=ip_hash,
                    locale=locale,
                    next_path=next_path,
                    created_at=now,
                    expires_at=now + ttl,
                    used_at=None,
                )
            )
        return raw

    async def peek_link(self, raw: str, *, now: datetime) -> SignInLink | TokenProblem:
        """What a link would do, without using it (the GET of the confirm page: mail scanners fetch links)."""
        async with self._store.read() as conn:
            row = (await conn.execute(select(magic_tokens).where(magic_tokens.c.token_hash == token_hash(raw)))).first()
        if row is None:
            return TokenProblem.UNKNOWN
        if row.used_at is not None:
            return TokenProblem.USED
        if row.expires_at <= now:
            return TokenProblem.EXPIRED
        return SignInLink(row.email, row.locale, row.next_path, row.expires_at)

    async def use_link(self, raw: str, *, now: datetime) -> SignInLink | TokenProblem:
        """Use a link: atomically, so two concurrent POSTs with the same token sign in at most once."""
        t = magic_tokens
        async with self._store.write() as tx:
            row = (
                await tx.conn.execute(
                    update(t)
                    .where(t.c.token_hash == token_hash(raw), t.c.used_at.is_(None), t.c.expires_at > now)
                    .values(used_at=now)
                    .returning(t.c.email, t.c.locale, t.c.next_path, t.c.expires_at)
                )
            ).first()
        if row is None:
            problem = await self.peek_link(raw, now=now)
            return problem if isinstance(problem, TokenProblem) else TokenProblem.USED
        return SignInLink(row.email, row.locale, row.next_path, row.expires_at)

    # --- accounts ------------------------------------------------------------------------------------
    async def sign_in(self, email: str, *, locale: str, now: datetime, admin: bool = False) -> int:
        """The subscriber id of `email`, created with an account if new. `admin` grants the operator role
        (an existing role is never lowered here)."""
        s = subscribers
        async with self._store.write() as tx:
            found = (await tx.conn.execute(select(s.c.id).where(s.c.email == email))).scalar()
            if found is None:
                inserted = await tx.conn.execute(
                    s.insert().values(email=email, locale=locale, name="", created_at=now).returning(s.c.id)
                )
                found = inserted.scalar_one()
            subscriber_id = int(found)
            has = (
                await tx.conn.execute(select(accounts.c.role).where(accounts.c.subscriber_id == subscriber_id))
            ).scalar()
            role = Role.ADMIN.value if admin else (has or Role.USER.value)
            if has is None:
                await tx.conn.execute(
                    accounts.insert().values(subscriber_id=subscriber_id, role=role, created_at=now, last_login_at=now)
                )
            else:
                await tx.conn.execute(
                    update(accounts)
                    .where(accounts.c.subscriber_id == subscriber_id)
                    .values(role=role, last_login_at=now)
                )
        return subscriber_id

    async def set_locale(self, subscriber_id: int, locale: str) -> None:
        s = subscribers
        async with self._store.write() as tx:
            await tx.conn.execute(update(s).where(s.c.id == subscriber_id).values(locale=locale))

    async def delete_account(self, subscriber_id: int) -> bool:
        """Erase the person: subscriber, account, sessions, channels, watches, deliveries, sign-in links."""
        s = subscribers
        async with self._store.write() as tx:
            email = (await tx.conn.execute(select(s.c.email).where(s.c.id == subscriber_id))).scalar()
            if email is not None:
                await tx.conn.execute(delete(magic_tokens).where(magic_tokens.c.email == email))
            gone = await tx.conn.execute(delete(s).where(s.c.id == subscriber_id).returning(s.c.id))
            return gone.first() is not None

    # --- sessions ------------------------------------------------------------------------------------
    async def open_session(self, subscriber_id: int, *, now: datetime, ttl: timedelta, user_agent: str = "") -> str:
        """A new session; returns the raw cookie value (only its hash is kept)."""
        raw = new_secret()
        async with self._store.write() as tx:
            await tx.conn.execute(
                web_sessions.insert().values(
                    token_hash=token_hash(raw),
                    subscriber_id=subscriber_id,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + ttl,
                    user_agent=user_agent[:300],
                )
            )
        return raw

    async def session_user(
        self, raw: str, *, now: datetime, ttl: timedelta, touch_after: timedelta = timedelta(minutes=5)
    ) -> SessionUser | None:
        """The person signed in with this cookie value, or None (unknown, revoked or expired). A session
        used after `touch_after` is extended to now + ttl (one write per `touch_after`, not per request)."""
        ws, s = web_sessions, subscribers
        stmt = (
            select(
                ws.c.id, ws.c.subscriber_id, ws.c.expires_at, ws.c.last_seen_at, s.c.email, s.c.locale, accounts.c.role
            )
            .select_from(
                ws.join(s, s.c.id == ws.c.subscriber_id).outerjoin(accounts, accounts.c.subscriber_id == s.c.id)
            )
            .where(ws.c.token_hash == token_hash(raw))
        )
        async with self._store.read() as conn:
            row = (await conn.execute(stmt)).first()
        if row is None or row.expires_at <= now:
            return None
        user = SessionUser(
            row.id, row.subscriber_id, row.email or "", row.locale, Role(row.role or Role.USER.value),
            row.expires_at, row.last_seen_at,
        )  # fmt: skip
        if now - row.last_seen_at >= touch_after:
            async with self._store.write() as tx:
                await tx.conn.execute(
                    update(ws).where(ws.c.id == row.id).values(last_seen_at=now, expires_at=now + ttl)
                )
        return user

    async def list_sessions(self, subscriber_id: int, *, now: datetime) -> list[SessionInfo]:
        ws = web_sessions
        stmt = (
            select(ws.c.id, ws.c.created_at, ws.c.last_seen_at, ws.c.expires_at, ws.c.user_agent)
            .where(ws.c.subscriber_id == subscriber_id, ws.c.expires_at > now)
            .order_by(ws.c.last_seen_at.desc(), ws.c.id.desc())
        )
        async with self._store.read() as conn:
            return [SessionInfo(*row) for row in await conn.execute(stmt)]

    async def close_session(self, raw: str) -> None:
        async with self._store.write() as tx:
            await tx.conn.execute(delete(web_sessions).where(web_sessions.c.token_hash == token_hash(raw)))

    async def revoke_session(self, subscriber_id: int, session_id: int) -> bool:
        """Revoke one of the person's own sessions; False when it is not theirs or does not exist."""
        ws = web_sessions
        async with self._store.write() as tx:
            gone = await tx.conn.execute(
                delete(ws).where(ws.c.id == session_id, ws.c.subscriber_id == subscriber_id).returning(ws.c.id)
            )
            return gone.first() is not None
