# SPDX-License-Identifier: AGPL-3.0-or-later
"""What every handler gets: the bot's context, the chat's account link and its language; the per-chat
rate limit; and the answer to any error (a friendly sentence, never a traceback).

`ChatMiddleware` runs before any filter on every message and button press. It lets only private chats in
(a group gets one sentence pointing to the private chat), refuses a chat that sends too much, and puts
`link` (the chat's `ChatLink`, or None) and `t` (its `Texts`) into the handler's data. The account is found
from the chat id Telegram gives, never from anything the person sent.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, ErrorEvent, Message, TelegramObject, User

from creneau.bot.texts import Texts, pick_locale, texts_for
from creneau.catalog.core import Catalog
from creneau.catalog.resolver import Resolver
from creneau.config import Settings
from creneau.notify.ratelimit import Rate, RateLimiter
from creneau.sim.clock import Clock
from creneau.sources.captcha import CaptchaDesk
from creneau.store import Store
from creneau.store.telegram import TelegramRepo

log = logging.getLogger(__name__)

UPDATE_RATE = Rate.per_minute(30, burst=10)  # messages and presses per chat
WARN_RATE = Rate.per_minute(1)  # at most one "slow down" a minute
ANSWER_RATE = Rate.per_minute(6, burst=3)  # captcha answers per chat


@dataclass
class BotContext:
    """Built once by the runner; handlers receive it as `ctx`. The clock is the service's."""

    settings: Settings
    store: Store
    catalog: Catalog
    clock: Clock
    desk: CaptchaDesk | None = None
    resolver: Resolver = field(init=False)
    repo: TelegramRepo = field(init=False)
    limiter: RateLimiter = field(init=False)
    username: str = ""

    def __post_init__(self) -> None:
        self.resolver = Resolver(self.catalog)
        self.repo = TelegramRepo(self.store)
        self.limiter = RateLimiter(None, lambda: self.clock.now().timestamp())
        self.username = self.username or self.settings.bot_username

    def now(self) -> datetime:
        return self.clock.now()

    @property
    def web_url(self) -> str:
        s = self.settings
        return (s.web_base_url or f"http://{s.web_host}:{s.web_port}").rstrip("/")

    def allowed(self, key: str, rate: Rate) -> bool:
        """Take one token from the chat's bucket `key`; False when it is empty (nothing is taken)."""
        return self.limiter.take(key, rate) == 0.0


def _origin(event: TelegramObject) -> tuple[int, str, User | None]:
    """(chat id, chat type, user) of a message or button press."""
    if isinstance(event, Message):
        return event.chat.id, event.chat.type, event.from_user
    if isinstance(event, CallbackQuery):
        chat = event.message.chat if event.message is not None else None
        if chat is not None:
            return chat.id, chat.type, event.from_user
        return event.from_user.id, "private", event.from_user
    return 0, "", None


class ChatMiddleware(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        ctx: BotContext = data["ctx"]
        chat_id, kind, user = _origin(event)
        t = texts_for(pick_locale(user.language_code if user else None))
        if kind != "private" or user is None or user.id != chat_id:
            if isinstance(event, Message) and ctx.allowed(f"group:{chat_id}", WARN_RATE):
                await event.answer(t("misc.private_only", username=ctx.username or "creneau_bot"))
            elif isinstance(event, CallbackQuery):
                await event.answer()
            return None
        if not ctx.allowed(f"chat:{chat_id}", UPDATE_RATE):
            if ctx.allowed(f"warn:{chat_id}", WARN_RATE):
                await reply(event, t("misc.slow_down"))
            elif isinstance(event, CallbackQuery):
                await event.answer()
            return None
        link = await ctx.repo.chat(chat_id)
        data["link"] = link
        data["t"] = texts_for(link.locale) if link is not None else t
        data["chat_id"] = chat_id
        return await handler(event, data)


async def reply(event: Message | CallbackQuery | TelegramObject, text: str, **kwargs: Any) -> None:
    """Answer in the chat the event came from (a button press is acknowledged first)."""
    if isinstance(event, CallbackQuery):
        await event.answer()
        if event.message is not None:
            await event.message.answer(text, **kwargs)
            return
        if event.bot is not None:
            await event.bot.send_message(event.from_user.id, text, **kwargs)
    elif isinstance(event, Message):
        await event.answer(text, **kwargs)


async def on_error(event: ErrorEvent, bot: Bot) -> bool:
    """Last resort: log the failure and tell the person in one friendly sentence (never a traceback)."""
    update = event.update
    log.error("bot update %s failed", update.update_id, exc_info=event.exception)
    origin = update.message or update.callback_query
    if origin is None:
        return True
    chat_id, kind, user = _origin(origin)
    if kind == "private" and chat_id:
        t: Texts = texts_for(pick_locale(user.language_code if user else None))
        try:
            await bot.send_message(chat_id, t("misc.error"))
        except TelegramAPIError:
            log.warning("could not tell chat about the failed update %s", update.update_id)
    return True
