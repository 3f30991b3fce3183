# SPDX-License-Identifier: AGPL-3.0-or-later
"""Authorization: a chat sees and changes only its own account's watches, answers only images it was
sent, and exports only its own Telegram data; forged ids change nothing and reveal nothing."""

from __future__ import annotations

import pytest

from creneau.bot.desk import StoreCaptchaDesk
from creneau.bot.manage import WatchCb
from creneau.bot.runner import BotRunner
from creneau.catalog.core import Catalog
from creneau.notify.fakes.telegram import FakeTelegram
from creneau.sim.clock import ManualClock
from creneau.sources.captcha import ChallengeStatus
from creneau.store import Store, WatchStatus
from creneau.web.account_data import export_user

from .kit import Accounts, Person, only
from .test_captcha import PAGE, challenge, photos_to, volunteer


async def _owner_watch(camille: Person, accounts: Accounts, store: Store, catalog: Catalog) -> tuple[int, int]:
    owner = await accounts.linked(camille, "camille@example.org")
    await store.targets.upsert(catalog.targets[PAGE].target, now=accounts.clock.now())
    watch = await store.subscribers.add_watch(owner, [PAGE], now=accounts.clock.now(), label="Camille's secret label")
    return owner, watch.id


@pytest.mark.parametrize("action", ["pause", "resume", "stop", "drop"])
async def test_stranger_cannot_change_or_see_watch_when_forging_its_id(
    camille: Person, sacha: Person, accounts: Accounts, store: Store, catalog: Catalog, action: str
) -> None:
    owner, watch_id = await _owner_watch(camille, accounts, store, catalog)
    await accounts.linked(sacha, "sacha@example.org", locale="en")
    anchor = only(await sacha.say("/help"))
    answer = only(await sacha.press_data(anchor, WatchCb(action=action, watch=watch_id).pack()))
    assert "not yours" in answer.plain
    assert "Seine-Saint-Denis" not in answer.plain
    (watch,) = await store.subscribers.list_watches(subscriber_id=owner)
    assert watch.status is WatchStatus.ACTIVE


async def test_stranger_list_shows_only_their_own_watches(
    camille: Person, sacha: Person, accounts: Accounts, store: Store, catalog: Catalog
) -> None:
    await _owner_watch(camille, accounts, store, catalog)
    await accounts.linked(sacha, "sacha@example.org", locale="en")
    assert "You watch nothing yet" in only(await sacha.say("/list")).plain


async def test_press_changes_nothing_when_user_is_not_the_chat_owner(
    camille: Person, sacha: Person, accounts: Accounts, store: Store, catalog: Catalog
) -> None:
    owner, watch_id = await _owner_watch(camille, accounts, store, catalog)
    await accounts.linked(sacha, "sacha@example.org")
    menu = only(await camille.say("/pause"))
    assert await sacha.press_as(menu, WatchCb(action="pause", watch=watch_id).pack()) == []
    assert camille.received[-1] == menu
    (watch,) = await store.subscribers.list_watches(subscriber_id=owner)
    assert watch.status is WatchStatus.ACTIVE


async def test_stranger_cannot_answer_an_image_sent_to_someone_else(
    fake: FakeTelegram, bot: BotRunner, camille: Person, sacha: Person, accounts: Accounts, store: Store, catalog: Catalog,
    desk: StoreCaptchaDesk, clock: ManualClock,
) -> None:  # fmt: skip
    await volunteer(camille, accounts, store, catalog)
    await volunteer(sacha, accounts, store, catalog, watch=False)
    await desk.file(challenge(clock.now()))
    (image,) = await photos_to(bot, camille)
    assert "/help" in only(await sacha.reply(image, "x7kq9")).plain
    (waiting,) = await desk.pending(clock.now())
    assert waiting.status is ChallengeStatus.PENDING


async def test_export_holds_only_own_telegram_data_when_two_chats_are_linked(
    camille: Person, sacha: Person, accounts: Accounts, store: Store, clock: ManualClock
) -> None:
    owner = await accounts.linked(camille, "camille@example.org")
    await accounts.linked(sacha, "sacha@example.org")
    doc = await export_user(store, owner, now=clock.now())
    assert [chat["chat_id"] for chat in doc["telegram"]["chats"]] == [camille.chat_id]
    assert len(doc["telegram"]["link_tokens"]) == 1
    assert "token_hash" not in doc["telegram"]["link_tokens"][0]
