# SPDX-License-Identifier: AGPL-3.0-or-later
"""Telegram transport: one `sendMessage` (HTML parse mode) with an inline button to the official page.

Uses an aiogram `Bot` whose API base URL comes from the settings (`TelegramAPIServer.from_base`), so the
demo and the tests talk to the fake server. Rate limits are the outbox's job (the channel declares them);
a 429 is raised as `TransientError(retry_after_s=…)` for it to honour.
"""

from __future__ import annotations

import functools
import re
from html import unescape
from pathlib import Path

import aiohttp
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError
from aiogram.methods import SendMessage
from aiogram.methods.base import Response
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Message
from aiogram.utils.token import TokenValidationError

from creneau.config import Settings
from creneau.notify.base import ConfigError, Locale, Receipt
from creneau.notify.channels.telegram import LIMITS
from creneau.notify.channels.telegram.config import TelegramConfig
from creneau.notify.channels.telegram.errors import classify
from creneau.notify.message import Message as Notice
from creneau.notify.render import channel_phrase, render_fitted

TEMPLATES = Path(__file__).resolve().parent / "templates"
MAX_SLOTS = 20
_TAG = re.compile(r"<[^>]*>")


def visible_length(html: str) -> int:
    """Length Telegram counts against its 4096 limit: the text after parsing the HTML entities."""
    return len(unescape(_TAG.sub("", html)))


class SharedSession(AiohttpSession):
    """An aiogram session riding on the process's aiohttp session (its owner closes it, not the bot)."""

    def __init__(self, http: aiohttp.ClientSession, api: TelegramAPIServer, timeout_s: float) -> None:
        super().__init__(api=api)
        self._http = http
        self.timeout = timeout_s

    async def create_session(self) -> aiohttp.ClientSession:
        return self._http

    async def close(self) -> None:
        return None


def make_bot(settings: Settings, http: aiohttp.ClientSession) -> Bot:
    """The alert bot, talking to `settings.telegram_api_base` (the real API, a local server or the fake)."""
    api = TelegramAPIServer.from_base(settings.telegram_api_base)
    session = SharedSession(http, api, settings.notify_timeout_s)
    try:
        return Bot(settings.telegram_bot_token.get_secret_value(), session=session)
    except TokenValidationError:
        raise ConfigError("CRENEAU_TELEGRAM_BOT_TOKEN: not a Telegram bot token (expected 123456:ABC…)") from None


@functools.cache
def button_label(locale: Locale) -> str:
    return channel_phrase(TEMPLATES, locale, "button")


_BUILT: list[type] = []


def build_models() -> None:
    """Build now the aiogram models one send validates and serialises (aiogram is imported lean and
    builds them on first use: see `lean.py`), so the first alert does not wait for them.

    `Message` is built on its own first, so that every model embedding it reuses its schema; the
    `Response[Message]` aiogram parses each answer with is kept, because pydantic caches generic
    parametrisations weakly and would otherwise build it again after each garbage collection."""
    chat = {"id": 0, "type": "private"}
    Message.model_validate({"message_id": 0, "date": 0, "chat": chat, "text": "-"})
    button = InlineKeyboardButton(text="-", url="https://www.service-public.gouv.fr/")
    request = SendMessage(
        chat_id=0,
        text="-",
        parse_mode="HTML",
        link_preview_options=LinkPreviewOptions(is_disabled=True),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]]),
    )
    request.model_dump(exclude_none=True)
    response = Response[Message]
    response.model_validate({"ok": True, "result": {"message_id": 0, "date": 0, "chat": chat, "text": "-"}})
    _BUILT.append(response)


class TelegramTransport:
    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    def __repr__(self) -> str:
        return f"TelegramTransport(bot_id={self._bot.id})"

    def render(self, message: Notice, config: TelegramConfig, *, locale: Locale) -> str:
        return render_fitted(
            TEMPLATES, "body.html.j2", message, locale, max_chars=LIMITS.body_max, max_slots=MAX_SLOTS,
            measure=visible_length, public=config.kind == "channel",
        )  # fmt: skip

    async def send(self, message: Notice, config: TelegramConfig, *, locale: Locale) -> Receipt:
        """Send one message; raises `TransientError` (429 with `retry_after_s`, 5xx, network) or
        `PermanentError` (see `errors.PERMANENT`)."""
        buttons = None
        if message.link:
            label = button_label(locale)
            buttons = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=label, url=message.link)]])
        try:
            sent = await self._bot.send_message(
                chat_id=config.chat,
                text=self.render(message, config, locale=locale),
                parse_mode="HTML",
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                reply_markup=buttons,
            )
        except TelegramAPIError as exc:
            raise classify(exc, token=self._bot.token) from exc
        return Receipt("telegram", str(sent.message_id), 200, {"chat_id": sent.chat.id})

    async def close(self) -> None:
        await self._bot.session.close()
