# SPDX-License-Identifier: AGPL-3.0-or-later
"""The captcha relay: volunteers get a target's security image in Telegram and reply with the code.

creneau never solves a captcha. When a target needs a human check, its adapter files the image at the
captcha desk; `Relay` sends it (`sendPhoto`, with a forced reply) to every chat that opted in (`/captcha
on`) and actively watches that target, once per chat (a `telegram_relays` row, so two bot processes or a
restart never send it twice). A reply to that image is the answer: checked for shape, rate-limited, and
given to the desk, where the first answer wins and wakes the monitor; the target is also rescheduled to
now, so it is checked at once. People are told how many answers kept the office checked, never by whom.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from datetime import datetime, timedelta
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from creneau.bot.context import ANSWER_RATE, BotContext, reply
from creneau.bot.desk import StoreCaptchaDesk
from creneau.bot.texts import Texts, texts_for
from creneau.bot.watch import describe
from creneau.notify.ratelimit import Rate, RateLimiter
from creneau.sources.captcha import CaptchaChallenge, CaptchaDeskError, ChallengeStatus
from creneau.store import CAPTCHA, Subscription
from creneau.store.telegram import RELAY_RETENTION, ChatLink, Relay
from creneau.types import PARIS

log = logging.getLogger(__name__)

CODE = re.compile(r"^[A-Za-z0-9]{3,12}$")
COUNT_WINDOW = timedelta(days=30)
SEND_RATE = Rate(10, burst=10)  # relayed images per second, well under Telegram's 30/s shared with alerts


class CaptchaCb(CallbackData, prefix="cp"):
    on: bool


async def answers_kept(ctx: BotContext, target_id: str) -> int:
    """Answers that kept `target_id` checked in the last 30 days: all desks' if the desk counts them,
    else those given through this bot."""
    since = ctx.now() - COUNT_WINDOW
    if isinstance(ctx.desk, StoreCaptchaDesk):
        return await ctx.desk.answer_count(target_id, since=since)
    return await ctx.repo.relay_answers(target_id, since=since)


# --- /captcha on|off ------------------------------------------------------------------------------------
async def captcha_command(
    message: Message, command: CommandObject, ctx: BotContext, link: ChatLink | None, t: Texts, chat_id: int
) -> None:
    if link is None:
        await message.answer(t("link.needed", web_url=ctx.web_url))
        return
    wanted = (command.args or "").strip().lower()
    if wanted in ("on", "off"):
        await message.answer(await _set(ctx, chat_id, wanted == "on", t))
        return
    status = t("captcha.status_on") if link.captcha_optin else t("captcha.status_off")
    buttons = [[InlineKeyboardButton(text=t("captcha.button_on"), callback_data=CaptchaCb(on=True).pack()),
                InlineKeyboardButton(text=t("captcha.button_off"), callback_data=CaptchaCb(on=False).pack())]]  # fmt: skip
    await message.answer(
        t("captcha.explain", status=status), reply_markup=InlineKeyboardMarkup(inline_keyboard=buttons)
    )


async def captcha_chosen(
    query: CallbackQuery, callback_data: CaptchaCb, ctx: BotContext, link: ChatLink | None, t: Texts, chat_id: int
) -> None:
    if link is None:
        await reply(query, t("link.needed", web_url=ctx.web_url))
        return
    await reply(query, await _set(ctx, chat_id, callback_data.on, t))


async def _set(ctx: BotContext, chat_id: int, on: bool, t: Texts) -> str:
    await ctx.repo.set_captcha(chat_id, on)
    return t("captcha.on") if on else t("captcha.off")


# --- answers ----------------------------------------------------------------------------------------------
async def relayed(message: Message, ctx: BotContext, chat_id: int) -> dict[str, Any] | bool:
    """Filter: the message replies to a captcha image this chat was sent (adds `relay`)."""
    to = message.reply_to_message
    if to is None or ctx.desk is None:
        return False
    found = await ctx.repo.relay_for(chat_id, to.message_id)
    return {"relay": found} if found is not None else False


async def answer(message: Message, relay: Relay, ctx: BotContext, t: Texts, chat_id: int) -> None:
    code = (message.text or "").strip()
    if not CODE.match(code):
        await message.answer(t("captcha.bad_code"))
        return
    if not ctx.allowed(f"answer:{chat_id}", ANSWER_RATE):
        await message.answer(t("captcha.slow"))
        return
    if relay.answered_at is not None:
        await message.answer(t("captcha.already_yours"))
        return
    assert ctx.desk is not None  # the `relayed` filter let the message through only with a desk
    now = ctx.now()
    try:
        challenge = await ctx.desk.answer(relay.challenge_id, code, now)
    except CaptchaDeskError:
        await message.answer(t(_why_refused(await ctx.desk.get(relay.challenge_id), now)))
        return
    await ctx.repo.relay_answered(relay.challenge_id, chat_id, now=now)
    await ctx.store.targets.reschedule(challenge.target_id, now, only_earlier=True)
    log.info("captcha %s of %s answered from Telegram; target checked again now", challenge.id, challenge.target_id)
    kept = t.plural("captcha.kept", await answers_kept(ctx, challenge.target_id))
    await message.answer(t("captcha.thanks", kept=kept))


def _why_refused(challenge: CaptchaChallenge | None, now: datetime) -> str:
    if challenge is None or challenge.status is ChallengeStatus.SUPERSEDED:
        return "captcha.replaced"
    if challenge.status is ChallengeStatus.PENDING or challenge.status is ChallengeStatus.EXPIRED:
        return "captcha.expired"
    return "captcha.taken"


def router() -> Router:
    r = Router(name="captcha")
    r.message.register(captcha_command, Command("captcha"))
    r.message.register(answer, F.text, F.reply_to_message, relayed)
    r.callback_query.register(captcha_chosen, CaptchaCb.filter())
    return r


# --- the relay loop -------------------------------------------------------------------------------------
class CaptchaRelay:
    """Sends waiting challenges to volunteer chats until `stop()`; `relay_once()` is one round."""

    def __init__(self, ctx: BotContext, bot: Bot, *, poll_s: float | None = None) -> None:
        self.ctx = ctx
        self.bot = bot
        self.poll_s = poll_s if poll_s is not None else ctx.settings.poll_s
        self.sent = 0  # images sent (and recorded) since start
        self._progress = asyncio.Condition()
        self._limiter = RateLimiter(SEND_RATE, time.monotonic)
        self._stopping = asyncio.Event()
        self._sub: Subscription | None = None

    async def run(self) -> None:
        if self.ctx.desk is None:
            await self._stopping.wait()
            return
        self._sub = await self.ctx.store.subscribe(CAPTCHA)
        try:
            while not self._stopping.is_set():
                try:
                    await self.relay_once()
                except Exception as exc:  # noqa: BLE001 - the relay loop's top level: an outage must not end the bot
                    log.warning("captcha relay round failed (%s); trying again in %.0f s", exc, self.poll_s)
                await self._sub.wait(self.poll_s)
        finally:
            self._sub.close()
            self._sub = None

    def stop(self) -> None:
        self._stopping.set()
        if self._sub is not None:
            self._sub.fire()

    async def relay_once(self) -> int:
        """Send every waiting challenge to the volunteers who have not had it; returns how many were sent."""
        desk, repo = self.ctx.desk, self.ctx.repo
        if desk is None:
            return 0
        now = self.ctx.now()
        await repo.forget_relays(before=now - RELAY_RETENTION)
        sent = 0
        for challenge in await desk.pending(now):
            recipients = await repo.captcha_recipients(challenge.target_id)
            if not recipients:
                continue
            kept = await answers_kept(self.ctx, challenge.target_id)
            for chat in recipients:
                if await repo.claim_relay(challenge.id, chat.chat_id, challenge.target_id, now=now):
                    sent += await self._send(challenge, chat, kept)
        return sent

    async def wait_sent(self, count: int, timeout_s: float = 10.0) -> None:
        """Wait until `count` images were sent and recorded (a reply to them is then recognised)."""
        async with asyncio.timeout(timeout_s), self._progress:
            await self._progress.wait_for(lambda: self.sent >= count)

    async def _send(self, challenge: CaptchaChallenge, chat: ChatLink, kept: int) -> int:
        t = texts_for(chat.locale)
        caption = t("captcha.ask", label=describe(self.ctx.catalog, challenge.target_id, t.locale),
                    expires=f"{challenge.expires_at.astimezone(PARIS):%H:%M}", kept=t.plural("captcha.kept", kept))  # fmt: skip
        await self._limiter.acquire("relay", None)
        try:
            message = await self.bot.send_photo(
                chat.chat_id,
                BufferedInputFile(challenge.image, filename=f"captcha-{challenge.id}.png"),
                caption=caption,
                reply_markup=ForceReply(input_field_placeholder=t("captcha.placeholder")),
            )
        except TelegramForbiddenError:
            log.info("captcha %s not relayed: chat %s blocked the bot", challenge.id, chat.chat_id)
            return 0  # the claim stays: the sender disables the channel on its next alert
        except TelegramAPIError as exc:
            log.warning("captcha %s not relayed to a chat (%s); next round tries again", challenge.id, exc)
            await self.ctx.repo.drop_relay(challenge.id, chat.chat_id)
            return 0
        await self.ctx.repo.relay_sent(challenge.id, chat.chat_id, message.message_id)
        self.sent += 1
        async with self._progress:
            self._progress.notify_all()
        return 1
