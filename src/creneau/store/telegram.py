# SPDX-License-Identifier: AGPL-3.0-or-later
"""The Telegram bot's tables: one-time link tokens, linked chats, and the captcha images relayed to them.

- `telegram_links`: a token the web app puts in a `https://t.me/<bot>?start=<token>` link. Only its SHA-256
  is kept; it works once, until `expires_at`. Issuing a new one forgets the person's unused ones.
- `telegram_chats`: a private chat linked to an account, with its Telegram channel (the alerts go there)
  and whether the person volunteers for captchas. Deleting the channel (or the account) unlinks the chat.
- `telegram_relays`: which captcha image went to which chat as which message, so a reply to that message
  is known to answer that challenge, and no chat gets the same image twice (even with two bot processes).

Privacy: every row hangs off `subscribers` (directly or through the chat) with ON DELETE CASCADE; nothing
records who answered a captcha beyond the relay row of their own chat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Table, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import Mapped, mapped_column

from creneau.store import models as m
from creneau.store.accounts import TokenProblem, new_secret, token_hash
from creneau.store.models import Base
from creneau.store.records import ChannelStatus, WatchStatus
from creneau.store.sql import insert_for
from creneau.store.wakeup import TARGETS

if TYPE_CHECKING:
    from creneau.store.engine import Store

CHANNEL_KIND = "telegram"
RELAY_RETENTION = timedelta(days=30)


class TelegramLinkRow(Base):
    __tablename__ = "telegram_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class TelegramChatRow(Base):
    __tablename__ = "telegram_chats"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"), unique=True)
    captcha_optin: Mapped[bool] = mapped_column(Boolean, default=False)
    linked_at: Mapped[datetime]


class TelegramRelayRow(Base):
    __tablename__ = "telegram_relays"

    challenge_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    chat_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("telegram_chats.chat_id", ondelete="CASCADE"), primary_key=True, index=True
    )
    target_id: Mapped[str] = mapped_column(String(200), index=True)
    message_id: Mapped[int | None] = mapped_column(Integer)
    sent_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]


links = cast(Table, TelegramLinkRow.__table__)
chats = cast(Table, TelegramChatRow.__table__)
relays = cast(Table, TelegramRelayRow.__table__)


@dataclass(frozen=True, slots=True)
class ChatLink:
    """A linked private chat: whose it is, where their alerts go, their language and captcha choice."""

    chat_id: int
    subscriber_id: int
    channel_id: int
    locale: str
    captcha_optin: bool


@dataclass(frozen=True, slots=True)
class Linked:
    """A link token was used: the chat now belongs to `subscriber_id`. `moved_from` names the account the
    chat was linked to before (its Telegram channel for this chat is gone), None when it was not linked."""

    subscriber_id: int
    locale: str
    moved_from: int | None


@dataclass(frozen=True, slots=True)
class Relay:
    challenge_id: str
    chat_id: int
    target_id: str
    message_id: int | None
    answered_at: datetime | None


def _channel_config(chat_id: int) -> dict[str, Any]:
    return {"chat": chat_id, "kind": "chat"}


class TelegramRepo:
    """Every method takes `now` from the caller and runs in one transaction."""

    def __init__(self, store: Store) -> None:
        self._store = store

    # --- link tokens ---------------------------------------------------------------------------------
    async def issue_link(self, subscriber_id: int, *, now: datetime, ttl: timedelta) -> str:
        """A new link token for the subscriber (the raw value, for the deep link); their older unused
        tokens and everyone's expired ones are forgotten. Raises IntegrityError for an unknown subscriber."""
        raw = new_secret()
        async with self._store.write() as tx:
            await tx.conn.execute(
                delete(links).where(
                    (links.c.expires_at <= now) | ((links.c.subscriber_id == subscriber_id) & links.c.used_at.is_(None))
                )
            )
            await tx.conn.execute(
                links.insert().values(
                    token_hash=token_hash(raw), subscriber_id=subscriber_id, created_at=now,
                    expires_at=now + ttl, used_at=None,
                )
            )  # fmt: skip
        return raw

    async def use_link(self, raw: str, chat_id: int, *, now: datetime) -> Linked | TokenProblem:
        """Use a token for `chat_id`, all or nothing: the token is spent, the subscriber gets an active
        Telegram channel for the chat, and the chat is linked to them (moved from another account if it was
        linked elsewhere). Two concurrent uses of one token link at most once."""
        async with self._store.write() as tx:
            conn = tx.conn
            spent = await conn.execute(
                update(links)
                .where(links.c.token_hash == token_hash(raw), links.c.used_at.is_(None), links.c.expires_at > now)
                .values(used_at=now)
                .returning(links.c.subscriber_id)
            )
            subscriber_id = spent.scalar()
            if subscriber_id is None:
                found = (await conn.execute(select(links).where(links.c.token_hash == token_hash(raw)))).first()
                if found is None:
                    return TokenProblem.UNKNOWN
                return TokenProblem.USED if found.used_at is not None else TokenProblem.EXPIRED
            before = (await conn.execute(select(chats).where(chats.c.chat_id == chat_id))).first()
            moved_from = None
            if before is not None and before.subscriber_id != subscriber_id:
                moved_from = before.subscriber_id
                await conn.execute(delete(m.channels).where(m.channels.c.id == before.channel_id))
            channel_id = await _active_channel(conn, subscriber_id, chat_id, now)
            stmt = insert_for(conn, chats).values(
                chat_id=chat_id, subscriber_id=subscriber_id, channel_id=channel_id, captcha_optin=False, linked_at=now
            )
            await conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[chats.c.chat_id],
                    set_={"subscriber_id": subscriber_id, "channel_id": channel_id, "linked_at": now},
                )
            )
            locale = await conn.execute(select(m.subscribers.c.locale).where(m.subscribers.c.id == subscriber_id))
            return Linked(subscriber_id, locale.scalar_one(), moved_from)

    # --- chats ---------------------------------------------------------------------------------------
    async def chat(self, chat_id: int) -> ChatLink | None:
        s = m.subscribers
        stmt = select(chats, s.c.locale).join(s, s.c.id == chats.c.subscriber_id).where(chats.c.chat_id == chat_id)
        async with self._store.read() as conn:
            row = (await conn.execute(stmt)).first()
        if row is None:
            return None
        return ChatLink(row.chat_id, row.subscriber_id, row.channel_id, row.locale, row.captcha_optin)

    async def unlink(self, chat_id: int) -> bool:
        """Forget the chat and remove its Telegram channel (the account and its watches stay)."""
        async with self._store.write() as tx:
            channel = (await tx.conn.execute(select(chats.c.channel_id).where(chats.c.chat_id == chat_id))).scalar()
            if channel is None:
                return False
            await tx.conn.execute(delete(m.channels).where(m.channels.c.id == channel))
            return True

    async def set_captcha(self, chat_id: int, optin: bool) -> bool:
        async with self._store.write() as tx:
            result = await tx.conn.execute(
                update(chats).where(chats.c.chat_id == chat_id).values(captcha_optin=optin).returning(chats.c.chat_id)
            )
            return result.first() is not None

    # --- a person's own watches (every statement is scoped by subscriber) ----------------------------
    async def set_watch_status(self, subscriber_id: int, watch_id: int, status: WatchStatus) -> bool:
        """Pause or resume one of the subscriber's watches; False when it is not theirs or does not exist."""
        w = m.watches
        async with self._store.write() as tx:
            result = await tx.conn.execute(
                update(w)
                .where(w.c.id == watch_id, w.c.subscriber_id == subscriber_id)
                .values(status=status.value)
                .returning(w.c.id)
            )
            changed = result.first() is not None
            if changed and status is WatchStatus.ACTIVE:
                await tx.wake(TARGETS)
            return changed

    async def remove_watch(self, subscriber_id: int, watch_id: int) -> bool:
        w = m.watches
        async with self._store.write() as tx:
            result = await tx.conn.execute(
                delete(w).where(w.c.id == watch_id, w.c.subscriber_id == subscriber_id).returning(w.c.id)
            )
            return result.first() is not None

    # --- captcha relays ------------------------------------------------------------------------------
    async def captcha_recipients(self, target_id: str) -> list[ChatLink]:
        """Volunteer chats whose owner actively watches `target_id` and whose channel is active."""
        s, c, w, wt = m.subscribers, m.channels, m.watches, m.watch_targets
        watching = (
            select(w.c.subscriber_id)
            .join(wt, wt.c.watch_id == w.c.id)
            .where(wt.c.target_id == target_id, w.c.status == WatchStatus.ACTIVE.value)
        )
        stmt = (
            select(chats, s.c.locale)
            .join(s, s.c.id == chats.c.subscriber_id)
            .join(c, c.c.id == chats.c.channel_id)
            .where(
                chats.c.captcha_optin.is_(True),
                c.c.status == ChannelStatus.ACTIVE.value,
                chats.c.subscriber_id.in_(watching),
            )
            .order_by(chats.c.chat_id)
        )
        async with self._store.read() as conn:
            rows = (await conn.execute(stmt)).all()
        return [ChatLink(r.chat_id, r.subscriber_id, r.channel_id, r.locale, r.captcha_optin) for r in rows]

    async def claim_relay(self, challenge_id: str, chat_id: int, target_id: str, *, now: datetime) -> bool:
        """Reserve sending this challenge to this chat; False when it was already sent (or is being sent)."""
        async with self._store.write() as tx:
            stmt = insert_for(tx.conn, relays).values(
                challenge_id=challenge_id, chat_id=chat_id, target_id=target_id, sent_at=now
            )
            result = await tx.conn.execute(stmt.on_conflict_do_nothing().returning(relays.c.chat_id))
            return result.first() is not None

    async def relay_sent(self, challenge_id: str, chat_id: int, message_id: int) -> None:
        async with self._store.write() as tx:
            await tx.conn.execute(
                update(relays)
                .where(relays.c.challenge_id == challenge_id, relays.c.chat_id == chat_id)
                .values(message_id=message_id)
            )

    async def drop_relay(self, challenge_id: str, chat_id: int) -> None:
        """Give a claim back (the send failed for a passing reason: the next round tries again)."""
        async with self._store.write() as tx:
            await tx.conn.execute(
                delete(relays).where(relays.c.challenge_id == challenge_id, relays.c.chat_id == chat_id)
            )

    async def relay_for(self, chat_id: int, message_id: int) -> Relay | None:
        """The challenge whose image this chat's message `message_id` was; None for any other message."""
        stmt = select(relays).where(relays.c.chat_id == chat_id, relays.c.message_id == message_id)
        async with self._store.read() as conn:
            row = (await conn.execute(stmt)).first()
        return Relay(row.challenge_id, row.chat_id, row.target_id, row.message_id, row.answered_at) if row else None

    async def relay_answered(self, challenge_id: str, chat_id: int, *, now: datetime) -> None:
        async with self._store.write() as tx:
            await tx.conn.execute(
                update(relays)
                .where(relays.c.challenge_id == challenge_id, relays.c.chat_id == chat_id)
                .values(answered_at=now)
            )

    async def relay_answers(self, target_id: str, *, since: datetime) -> int:
        """How many relayed images of `target_id` were answered from Telegram since `since` (no names)."""
        stmt = select(func.count()).where(relays.c.target_id == target_id, relays.c.answered_at >= since)
        async with self._store.read() as conn:
            return int((await conn.execute(stmt)).scalar_one())

    async def forget_relays(self, *, before: datetime) -> int:
        async with self._store.write() as tx:
            result = await tx.conn.execute(delete(relays).where(relays.c.sent_at < before).returning(relays.c.chat_id))
            return len(result.all())


async def _active_channel(conn: AsyncConnection, subscriber_id: int, chat_id: int, now: datetime) -> int:
    """The subscriber's Telegram channel for this chat, created or re-enabled."""
    c = m.channels
    address = str(chat_id)
    found = (
        await conn.execute(
            select(c.c.id).where(c.c.subscriber_id == subscriber_id, c.c.kind == CHANNEL_KIND, c.c.address == address)
        )
    ).scalar()
    if found is not None:
        await conn.execute(
            update(c)
            .where(c.c.id == found)
            .values(status=ChannelStatus.ACTIVE.value, disabled_reason=None, disabled_at=None)
        )
        return int(found)
    inserted = await conn.execute(
        c.insert()
        .values(
            subscriber_id=subscriber_id, kind=CHANNEL_KIND, address=address, config=_channel_config(chat_id),
            status=ChannelStatus.ACTIVE.value, created_at=now,
        )
        .returning(c.c.id)
    )  # fmt: skip
    return int(inserted.scalar_one())


async def export_section(conn: AsyncConnection, subscriber_id: int) -> dict[str, Any]:
    """The person's Telegram data for the account export: linked chats and link tokens (hashes left out)."""
    linked = await conn.execute(
        select(chats.c.chat_id, chats.c.captcha_optin, chats.c.linked_at)
        .where(chats.c.subscriber_id == subscriber_id)
        .order_by(chats.c.chat_id)
    )
    tokens = await conn.execute(
        select(links.c.created_at, links.c.expires_at, links.c.used_at)
        .where(links.c.subscriber_id == subscriber_id)
        .order_by(links.c.created_at)
    )
    sent = await conn.execute(
        select(relays.c.chat_id, relays.c.target_id, relays.c.sent_at, relays.c.answered_at)
        .join(chats, chats.c.chat_id == relays.c.chat_id)
        .where(chats.c.subscriber_id == subscriber_id)
        .order_by(relays.c.sent_at)
    )
    return {
        "chats": [dict(row) for row in linked.mappings()],
        "link_tokens": [dict(row) for row in tokens.mappings()],
        "captcha_images": [dict(row) for row in sent.mappings()],
    }
