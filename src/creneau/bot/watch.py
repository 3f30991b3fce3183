# SPDX-License-Identifier: AGPL-3.0-or-later
"""`/watch`: a guided choice of office and booking page, ending in a watch on a real catalog target.

1. where: a département number, a postcode, an INSEE code or a commune name (`/watch Bobigny` or typed
   after `/watch`), through the catalog's resolver; ambiguous or misspelt names get a short list to pick;
2. which office of that département (the commune's own office first; 🔔 marks offices with a page creneau
   can watch); an office without one gets an honest sentence and its website;
3. which booking page of that office (only watchable démarches on a system creneau has an adapter for).

Button data is never trusted: each press is re-read against the catalog (unknown commune, office or target
→ "no longer valid"), and the watch is written for the chat's own account, found from the chat id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from creneau.bot.context import BotContext, reply
from creneau.bot.texts import Raw, Texts
from creneau.catalog.core import Catalog
from creneau.catalog.geo import Commune
from creneau.catalog.model import OfficeRecord
from creneau.catalog.resolver import UNIDENTIFIED, Status
from creneau.sources.base import ADAPTER_MODULES
from creneau.store.telegram import ChatLink
from creneau.types import System, Target

DEPARTEMENT = re.compile(r"^(?:\d{2}|2[ab]|97\d)$", re.IGNORECASE)
MAX_CHOICES = 8
MAX_QUERY = 80
MAX_WATCHES = 25


class Place(StatesGroup):
    query = State()


class CommuneCb(CallbackData, prefix="wc"):
    code: str


class OfficeCb(CallbackData, prefix="wo"):
    office: str


class TargetCb(CallbackData, prefix="wt"):
    target: str


# --- catalog helpers (shared with /list and the captcha relay) -------------------------------------------
def watchable(catalog: Catalog, target: Target) -> bool:
    """A target creneau may watch: its démarche is watchable and an adapter reads its booking system."""
    info = catalog.demarches.get(target.demarche_key)
    return info is not None and info.watchable and target.system in ADAPTER_MODULES


def watchable_targets(catalog: Catalog, office_id: str) -> list[Target]:
    return [b.target for b in catalog.targets_for(office_id) if watchable(catalog, b.target)]


def demarche_name(catalog: Catalog, key: str, locale: str) -> str:
    info = catalog.demarches.get(key)
    if info is None:
        return key
    return info.name_fr if locale == "fr" else info.name_en


def describe(catalog: Catalog, target_id: str, locale: str) -> str:
    """Says "démarche · office" to people (the target id when the catalog no longer knows it)."""
    booking = catalog.targets.get(target_id)
    if booking is None:
        return target_id
    office = catalog.offices.get(booking.target.office_id)
    where = office.name if office is not None else booking.target.label
    return f"{demarche_name(catalog, booking.target.demarche_key, locale)} · {where}"


def _short(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1].rstrip() + "…"


def _keyboard(buttons: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=text, callback_data=data)] for text, data in buttons]
    )


# --- step 1: where --------------------------------------------------------------------------------------
async def watch(
    message: Message, command: CommandObject, state: FSMContext, ctx: BotContext, link: ChatLink | None, t: Texts
) -> None:
    if link is None:
        await message.answer(t("link.needed", web_url=ctx.web_url))
        return
    if command.args:
        await show_place(message, command.args, state, ctx, t)
        return
    await state.set_state(Place.query)
    await message.answer(t("watch.ask_place"))


async def place_text(message: Message, state: FSMContext, ctx: BotContext, t: Texts) -> None:
    await show_place(message, message.text or "", state, ctx, t)


async def show_place(message: Message, raw: str, state: FSMContext, ctx: BotContext, t: Texts) -> None:
    query = " ".join(raw.split())
    if len(query) > MAX_QUERY:
        await message.answer(t("watch.too_long"))
        return
    geo = ctx.catalog.geography
    if DEPARTEMENT.match(query) and query.upper() in geo.departements:
        await state.clear()
        await show_offices(message, query.upper(), None, ctx, t)
        return
    located = ctx.resolver.locate(query)
    if located.status is Status.RESOLVED:
        await state.clear()
        await show_offices(message, located.commune.departement, located.commune, ctx, t)
        return
    if located.status is Status.CHOOSE:
        communes, key = list(located.communes), "watch.choose_commune"
    else:
        communes = [c for name, _ in located.suggestions for c in ctx.resolver.suggestion_communes(name)]
        key = "watch.suggest"
    if not communes:
        await message.answer(t("watch.not_found", query=query))
        return
    buttons = [(f"{c.name} ({c.departement})", CommuneCb(code=c.code).pack()) for c in communes[:MAX_CHOICES]]
    await message.answer(t(key, query=query), reply_markup=_keyboard(buttons))


async def commune_chosen(
    query: CallbackQuery, callback_data: CommuneCb, state: FSMContext, ctx: BotContext, t: Texts
) -> None:
    commune = ctx.catalog.geography.by_code(callback_data.code)
    if commune is None:
        await query.answer(t("misc.stale_button"), show_alert=True)
        return
    await state.clear()
    await show_offices(query, commune.departement, commune, ctx, t)


# --- step 2: which office -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _OfficeChoice:
    office: OfficeRecord
    pages: int


async def show_offices(
    event: Message | CallbackQuery, departement: str, commune: Commune | None, ctx: BotContext, t: Texts
) -> None:
    catalog = ctx.catalog
    dept = catalog.geography.departements.get(departement)
    name = f"{dept.name} ({departement})" if dept is not None else departement
    offices = catalog.offices_in(departement)
    if not offices:
        await reply(event, t("watch.no_offices", departement=name))
        return
    own = catalog.general_office(commune) if commune is not None else None
    choices = [_OfficeChoice(o, len(watchable_targets(catalog, o.id))) for o in offices]
    choices.sort(key=lambda c: (own is None or c.office.id != own.id, c.pages == 0))
    buttons = [(("🔔 " if c.pages else "") + c.office.name, OfficeCb(office=c.office.id).pack()) for c in choices]
    await reply(event, t("watch.offices", departement=name), reply_markup=_keyboard(buttons))


# --- step 3: which booking page -------------------------------------------------------------------------
async def office_chosen(query: CallbackQuery, callback_data: OfficeCb, ctx: BotContext, t: Texts) -> None:
    catalog = ctx.catalog
    office = catalog.offices.get(callback_data.office)
    if office is None:
        await query.answer(t("misc.stale_button"), show_alert=True)
        return
    targets = watchable_targets(catalog, office.id)
    if not targets:
        await reply(query, t("watch.no_booking_page", office=office.name, website=office.website or ctx.web_url))
        return
    lines, buttons = [], []
    for number, target in enumerate(targets, start=1):
        name = demarche_name(catalog, target.demarche_key, t.locale)
        note = f" {t('watch.unidentified')}" if target.demarche_key == UNIDENTIFIED else ""
        lines.append(f"{number}. {_escape(name)} — {_escape(target.label)}{note}")
        buttons.append((f"{number}. {_short(name, 48)}", TargetCb(target=target.id).pack()))
    text = t("watch.choose_target", office=office.name, lines=Raw("\n".join(lines)))
    await reply(query, text, reply_markup=_keyboard(buttons))


async def target_chosen(
    query: CallbackQuery, callback_data: TargetCb, ctx: BotContext, link: ChatLink | None, t: Texts
) -> None:
    booking = ctx.catalog.targets.get(callback_data.target)
    if booking is None:
        await query.answer(t("misc.stale_button"), show_alert=True)
        return
    if not watchable(ctx.catalog, booking.target):
        await reply(query, t("watch.not_watchable"))
        return
    if link is None:
        await reply(query, t("link.needed", web_url=ctx.web_url))
        return
    await reply(query, await create_watch(ctx, link, booking.target, t))


async def create_watch(ctx: BotContext, link: ChatLink, target: Target, t: Texts) -> str:
    """Watch `target` for the chat's account (once); returns what to tell the person. One transaction
    writes the watch; the target row itself is catalog data, refreshed first."""
    store, now = ctx.store, ctx.now()
    label = describe(ctx.catalog, target.id, t.locale)
    watches = await store.subscribers.list_watches(subscriber_id=link.subscriber_id)
    same = next((w for w in watches if w.target_ids == (target.id,)), None)
    if same is not None:
        return t("watch.already_paused" if same.status.value == "paused" else "watch.already", label=label)
    if len(watches) >= MAX_WATCHES:
        return t("watch.too_many", count=len(watches))
    await store.targets.upsert(target, now=now)
    await store.subscribers.add_watch(link.subscriber_id, [target.id], now=now, label=label)
    text = t("watch.created", label=label, url=target.url)
    if target.system is System.RDVPREF and not link.captcha_optin:
        text += "\n\n" + t("watch.captcha_hint")
    return text


def _escape(text: str) -> str:
    return escape(text, quote=False)


def router() -> Router:
    r = Router(name="watch")
    r.message.register(watch, Command("watch"))
    r.message.register(place_text, Place.query, F.text, ~F.text.startswith("/"))
    r.callback_query.register(commune_chosen, CommuneCb.filter())
    r.callback_query.register(office_chosen, OfficeCb.filter())
    r.callback_query.register(target_chosen, TargetCb.filter())
    return r
