# SPDX-License-Identifier: AGPL-3.0-or-later
"""`/list`, `/pause`, `/stop`, `/lang`, `/unlink`: a person's own watches and settings.

Every change names the chat's account in its SQL (`TelegramRepo.set_watch_status`, `remove_watch`), so a
watch id in a forged button press changes nothing that is not the presser's: the answer is then the same
"not yours or gone" sentence for a stranger's watch and for a deleted one, and no label leaks.
"""

from __future__ import annotations

from html import escape

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from creneau.bot.context import BotContext, reply
from creneau.bot.texts import LOCALES, Texts, texts_for
from creneau.bot.watch import describe
from creneau.store import AccountRepo, NotFound, TargetRecord, WatchRecord, WatchStatus
from creneau.store.telegram import ChatLink
from creneau.types import PARIS, Outcome

ACTIONS = ("pause", "resume", "stop", "drop", "keep")


class WatchCb(CallbackData, prefix="wa"):
    action: str
    watch: int


class LangCb(CallbackData, prefix="lg"):
    code: str


def _label(ctx: BotContext, watch: WatchRecord, t: Texts) -> str:
    if len(watch.target_ids) == 1:
        return describe(ctx.catalog, watch.target_ids[0], t.locale)
    return watch.label or ", ".join(describe(ctx.catalog, tid, t.locale) for tid in watch.target_ids)


def _when(ctx: BotContext, record: TargetRecord, t: Texts) -> str:
    state, now = record.state, ctx.now()
    if state.is_paused(now) and state.paused_until is not None:
        return t("list.target_paused", when=f"{state.paused_until.astimezone(PARIS):%d/%m %H:%M}")
    if state.last_outcome is None or state.last_checked_at is None:
        return t("list.never")
    line = t("list.last", when=f"{state.last_checked_at.astimezone(PARIS):%d/%m %H:%M}",
             outcome=t(f"outcome.{state.last_outcome.value}"))  # fmt: skip
    if state.last_outcome is Outcome.HUMAN_CHECK_REQUIRED:
        line += f" ({t('list.human')})"
    return line


# --- /list ----------------------------------------------------------------------------------------------
async def list_watches(message: Message, ctx: BotContext, link: ChatLink | None, t: Texts) -> None:
    if link is None:
        await message.answer(t("link.needed", web_url=ctx.web_url))
        return
    watches = await ctx.store.subscribers.list_watches(subscriber_id=link.subscriber_id)
    if not watches:
        await message.answer(t("list.empty"))
        return
    lines = [t("list.title")]
    for number, watch in enumerate(watches, start=1):
        status = t("list.active") if watch.status is WatchStatus.ACTIVE else t("list.paused")
        mark = "▶️" if watch.status is WatchStatus.ACTIVE else "⏸"
        lines.append(f"\n{number}. {mark} <b>{escape(_label(ctx, watch, t), quote=False)}</b> — {status}")
        for target_id in watch.target_ids:
            try:
                record = await ctx.store.targets.get(target_id)
            except NotFound:
                continue
            lines.append(f"    {_when(ctx, record, t)}")
    lines.append("\n" + t("list.footer"))
    await message.answer("\n".join(lines))


# --- /pause and /stop -----------------------------------------------------------------------------------
async def choose(message: Message, command: CommandObject, ctx: BotContext, link: ChatLink | None, t: Texts) -> None:
    if link is None:
        await message.answer(t("link.needed", web_url=ctx.web_url))
        return
    watches = await ctx.store.subscribers.list_watches(subscriber_id=link.subscriber_id)
    if not watches:
        await message.answer(t("manage.none"))
        return
    stopping = command.command == "stop"
    rows = []
    for watch in watches:
        if stopping:
            text, action = f"✖ {_label(ctx, watch, t)}", "stop"
        elif watch.status is WatchStatus.ACTIVE:
            text, action = f"⏸ {_label(ctx, watch, t)}", "pause"
        else:
            text, action = f"▶️ {_label(ctx, watch, t)}", "resume"
        rows.append([InlineKeyboardButton(text=text, callback_data=WatchCb(action=action, watch=watch.id).pack())])
    key = "manage.choose_stop" if stopping else "manage.choose_pause"
    await message.answer(t(key), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows))


async def watch_action(
    query: CallbackQuery, callback_data: WatchCb, ctx: BotContext, link: ChatLink | None, t: Texts
) -> None:
    action, watch_id = callback_data.action, callback_data.watch
    if action not in ACTIONS:
        await query.answer(t("misc.stale_button"), show_alert=True)
        return
    if link is None:
        await reply(query, t("link.needed", web_url=ctx.web_url))
        return
    if action == "keep":
        await reply(query, t("manage.kept"))
        return
    mine = [w for w in await ctx.store.subscribers.list_watches(subscriber_id=link.subscriber_id) if w.id == watch_id]
    if not mine:
        await reply(query, t("manage.not_yours"))
        return
    label = _label(ctx, mine[0], t)
    repo, subscriber = ctx.repo, link.subscriber_id
    if action == "stop":
        buttons = [[
            InlineKeyboardButton(text=t("manage.yes_stop"), callback_data=WatchCb(action="drop", watch=watch_id).pack()),
            InlineKeyboardButton(text=t("manage.keep"), callback_data=WatchCb(action="keep", watch=watch_id).pack()),
        ]]  # fmt: skip
        await reply(
            query, t("manage.confirm_stop", label=label), reply_markup=InlineKeyboardMarkup(inline_keyboard=buttons)
        )
        return
    if action == "drop":
        done, key = await repo.remove_watch(subscriber, watch_id), "manage.stopped"
    elif action == "pause":
        done, key = await repo.set_watch_status(subscriber, watch_id, WatchStatus.PAUSED), "manage.paused"
    else:
        done, key = await repo.set_watch_status(subscriber, watch_id, WatchStatus.ACTIVE), "manage.resumed"
    await reply(query, t(key, label=label) if done else t("manage.not_yours"))


# --- /lang and /unlink ----------------------------------------------------------------------------------
async def lang(message: Message, command: CommandObject, ctx: BotContext, link: ChatLink | None, t: Texts) -> None:
    wanted = (command.args or "").strip().lower()
    if not wanted:
        buttons = [[InlineKeyboardButton(text=name, callback_data=LangCb(code=code).pack())
                    for code, name in (("fr", "Français"), ("en", "English"))]]  # fmt: skip
        await message.answer(t("lang.choose"), reply_markup=InlineKeyboardMarkup(inline_keyboard=buttons))
        return
    await message.answer(await set_lang(ctx, link, wanted, t))


async def lang_chosen(
    query: CallbackQuery, callback_data: LangCb, ctx: BotContext, link: ChatLink | None, t: Texts
) -> None:
    await reply(query, await set_lang(ctx, link, callback_data.code.lower(), t))


async def set_lang(ctx: BotContext, link: ChatLink | None, wanted: str, t: Texts) -> str:
    """Save the language on the account (the web app uses it too); returns the answer, in that language."""
    if wanted not in LOCALES:
        return t("lang.unknown")
    if link is None:
        return texts_for(wanted)("link.needed", web_url=ctx.web_url)
    await AccountRepo(ctx.store).set_locale(link.subscriber_id, wanted)
    return texts_for(wanted)("lang.set")


async def unlink(message: Message, ctx: BotContext, link: ChatLink | None, t: Texts, chat_id: int) -> None:
    if link is None:
        await message.answer(t("manage.not_linked"))
        return
    await ctx.repo.unlink(chat_id)
    await message.answer(t("manage.unlinked"))


def router() -> Router:
    r = Router(name="manage")
    r.message.register(list_watches, Command("list"))
    r.message.register(choose, Command("pause", "stop"))
    r.message.register(lang, Command("lang"))
    r.message.register(unlink, Command("unlink"))
    r.callback_query.register(watch_action, WatchCb.filter())
    r.callback_query.register(lang_chosen, LangCb.filter())
    return r
