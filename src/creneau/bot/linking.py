# SPDX-License-Identifier: AGPL-3.0-or-later
"""Linking a Telegram chat to a creneau account: the web app's side (issue a link) and the bot's (`/start`).

The account page shows `https://t.me/<bot>?start=<token>` (`telegram_link`). Telegram opens the chat and
sends `/start <token>`; the bot spends the token (single-use, expiring, stored as its SHA-256) and, in the
same transaction, gives the account an active Telegram channel for this chat: alerts start coming here.

    url = await telegram_link(settings, store, user.subscriber_id, now=clock.now())  # None: no bot configured

Importing this module also adds the "telegram" section to the account export (`web.account_data`).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from aiogram import Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import Message

from creneau.bot.context import BotContext
from creneau.bot.texts import Texts, texts_for
from creneau.config import Settings
from creneau.notify.ratelimit import Rate
from creneau.store import Store
from creneau.store.accounts import TokenProblem
from creneau.store.telegram import ChatLink, Linked, TelegramRepo, export_section

TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")  # what Telegram allows in a start parameter
LINK_RATE = Rate.per_minute(5, burst=5)  # link attempts per chat: guessing tokens gets nowhere anyway
_PROBLEM_TEXT = {
    TokenProblem.UNKNOWN: "start.bad_token",
    TokenProblem.USED: "start.used_token",
    TokenProblem.EXPIRED: "start.expired_token",
}


async def issue_link_token(store: Store, subscriber_id: int, *, now: datetime, ttl: timedelta) -> str:
    """A new single-use token for `subscriber_id` (their older unused ones stop working)."""
    return await TelegramRepo(store).issue_link(subscriber_id, now=now, ttl=ttl)


def deep_link(bot_username: str, token: str) -> str:
    return f"https://t.me/{bot_username.lstrip('@')}?start={token}"


async def telegram_link(settings: Settings, store: Store, subscriber_id: int, *, now: datetime) -> str | None:
    """The deep link the account page shows, valid `CRENEAU_BOT_LINK_MINUTES`; None when no bot
    username is configured (`CRENEAU_BOT_USERNAME`)."""
    if not settings.bot_username:
        return None
    ttl = timedelta(minutes=settings.bot_link_minutes)
    return deep_link(settings.bot_username, await issue_link_token(store, subscriber_id, now=now, ttl=ttl))


async def consume_link_token(store: Store, raw: str, chat_id: int, *, now: datetime) -> Linked | TokenProblem:
    """Spend `raw` for `chat_id`: all or nothing (see `TelegramRepo.use_link`)."""
    return await TelegramRepo(store).use_link(raw, chat_id, now=now)


# --- the bot's side ------------------------------------------------------------------------------------
async def start(
    message: Message, command: CommandObject, ctx: BotContext, link: ChatLink | None, t: Texts, chat_id: int
) -> None:
    token = (command.args or "").strip()
    if not token:
        await message.answer(t("start.welcome_back") if link is not None else t("start.hello", web_url=ctx.web_url))
        return
    if not ctx.allowed(f"link:{chat_id}", LINK_RATE):
        await message.answer(t("misc.slow_down"))
        return
    result = await consume_link_token(ctx.store, token, chat_id, now=ctx.now()) if TOKEN.match(token) else None
    if not isinstance(result, Linked):
        await message.answer(t(_PROBLEM_TEXT[result or TokenProblem.UNKNOWN], web_url=ctx.web_url))
        return
    tt = texts_for(result.locale)
    parts = [
        tt("start.linked"),
        *([tt("start.moved")] if result.moved_from is not None else []),
        tt("start.next_steps"),
    ]
    await message.answer("\n\n".join(parts))


async def help_(message: Message, t: Texts) -> None:
    await message.answer(t("start.help"))


def router() -> Router:
    r = Router(name="linking")
    r.message.register(start, CommandStart())
    r.message.register(help_, Command("help"))
    return r


def commands(locale: str) -> list[tuple[str, str]]:
    """The command menu Telegram shows, in `locale`."""
    t = texts_for(locale)
    names = ("watch", "list", "pause", "stop", "captcha", "lang", "unlink", "help")
    return [(name, t(f"commands.{name}")) for name in names]


# Last, so that a web module importing this one while `creneau.web` loads finds every name above.
from creneau.web import account_data  # noqa: E402

account_data.register_section("telegram", export_section)
