# SPDX-License-Identifier: AGPL-3.0-or-later
"""Running the bot: long polling against `CRENEAU_TELEGRAM_API_BASE`, plus the captcha relay loop.

    runner = BotRunner(settings, store, catalog, desk=desk, clock=clock)
    await runner.start()      # checks the token (getMe), sets the command menus
    await runner.run()        # until runner.stop()
    await runner.close()

Updates are handled one at a time, in order (`handle_as_tasks=False`): one person's button presses never
race each other, and `stop()` never leaves a handler half-run behind a closed store. A handler that fails
rolls its transaction back and the person gets one friendly sentence (`context.on_error`). Only one
process may poll a bot (Telegram answers 409 to a second one): run the bot in one place (`creneau serve
--role bot`, or `--role all` with `CRENEAU_BOT_ENABLED=true`). Webhook mode is not implemented.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Self

from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, CallbackQuery, Message
from aiogram.utils.token import TokenValidationError

from creneau.bot import captcha, linking, manage, watch
from creneau.bot.context import BotContext, ChatMiddleware, on_error
from creneau.bot.texts import LOCALES, Texts
from creneau.catalog.core import Catalog
from creneau.config import Settings, SettingsError
from creneau.sim.clock import Clock, SystemClock
from creneau.sources.captcha import CaptchaDesk
from creneau.store import Store

log = logging.getLogger(__name__)


async def _fallback(message: Message, t: Texts) -> None:
    await message.answer(t("misc.fallback"))


async def _stale(query: CallbackQuery, t: Texts) -> None:
    await query.answer(t("misc.stale_button"), show_alert=True)


def build_dispatcher() -> Dispatcher:
    """Every router, in the order they are tried: captcha answers first (a reply to an image), the
    rest by command, then one fallback each for text and for a button nobody recognises."""
    dp = Dispatcher()
    dp.message.outer_middleware(ChatMiddleware())
    dp.callback_query.outer_middleware(ChatMiddleware())
    fallback = Router(name="fallback")
    fallback.message.register(_fallback, F.text)
    fallback.callback_query.register(_stale)
    dp.include_routers(captcha.router(), linking.router(), watch.router(), manage.router(), fallback)
    dp.errors.register(on_error)
    return dp


class _Session(AiohttpSession):
    """aiogram waits 250 ms after closing for TLS connections to shut down; a plain-HTTP API (a local Bot
    API server, the fake) has none, so closing is immediate there."""

    def __init__(self, api: TelegramAPIServer, *, tls: bool) -> None:
        super().__init__(api=api)
        self._tls = tls

    async def close(self) -> None:
        if self._tls:
            await super().close()
        elif self._session is not None and not self._session.closed:
            await self._session.close()


def make_bot(settings: Settings) -> Bot:
    """The interactive bot on its own aiohttp session (long polls must not hold the sender's)."""
    base = settings.telegram_api_base
    session = _Session(TelegramAPIServer.from_base(base), tls=not base.startswith("http://"))
    session.timeout = settings.notify_timeout_s
    try:
        return Bot(
            settings.telegram_bot_token.get_secret_value(),
            session=session,
            default=DefaultBotProperties(parse_mode="HTML", link_preview_is_disabled=True),
        )
    except TokenValidationError:
        raise SettingsError("CRENEAU_TELEGRAM_BOT_TOKEN: not a Telegram bot token (expected 123456:ABC…)") from None


class BotRunner:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        catalog: Catalog,
        *,
        desk: CaptchaDesk | None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.ctx = BotContext(settings, store, catalog, clock or SystemClock(), desk)
        self.bot = make_bot(settings)
        self.dispatcher = build_dispatcher()
        self.relay: captcha.CaptchaRelay | None = None
        self._stopping = asyncio.Event()

    async def start(self) -> Self:
        """Check the token and learn the bot's username (getMe); set the command menus (best effort).
        Raises SettingsError when the Bot API refuses the token or cannot be reached."""
        try:
            me = await self.bot.get_me()
        except TelegramAPIError as exc:
            why = exc.message.replace(self.settings.telegram_bot_token.get_secret_value(), "***")
            raise SettingsError(
                "CRENEAU_TELEGRAM_BOT_TOKEN / CRENEAU_TELEGRAM_API_BASE: the Bot API at "
                f"{self.settings.telegram_api_base} answered getMe with: {why}"
            ) from None
        self.ctx.username = self.ctx.username or me.username or ""
        for locale in LOCALES:
            menu = [BotCommand(command=name, description=text) for name, text in linking.commands(locale)]
            try:
                await self.bot.set_my_commands(menu, language_code=locale)
            except TelegramAPIError as exc:
                log.warning("bot: could not set the %s command menu (%s)", locale, exc)
        self.relay = captcha.CaptchaRelay(self.ctx, self.bot)
        log.info("bot @%s ready (API %s)", self.ctx.username, self.settings.telegram_api_base)
        return self

    async def run(self) -> None:
        """Poll and relay until `stop()`; an error in either loop ends both and is raised."""
        if self.relay is None:
            await self.start()
        assert self.relay is not None
        polling = asyncio.create_task(
            self.dispatcher.start_polling(
                self.bot,
                polling_timeout=self.settings.bot_poll_timeout_s,
                handle_as_tasks=False,
                handle_signals=False,
                close_bot_session=False,
                ctx=self.ctx,
            ),
            name="creneau-bot-polling",
        )
        relay = asyncio.create_task(self.relay.run(), name="creneau-bot-relay")
        stopping = asyncio.create_task(self._stopping.wait(), name="creneau-bot-stop")
        try:
            await asyncio.wait({polling, relay, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.relay.stop()
            stopping.cancel()
            await self._stop_polling(polling)
            await asyncio.gather(relay, stopping, return_exceptions=True)
        for task in (polling, relay):
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]

    async def _stop_polling(self, polling: asyncio.Task[None]) -> None:
        if polling.done():
            return
        try:
            await self.dispatcher.stop_polling()
        except RuntimeError:  # not started yet: nothing runs, cancelling is clean
            polling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await polling

    def stop(self) -> None:
        self._stopping.set()

    async def close(self) -> None:
        await self.bot.session.close()
