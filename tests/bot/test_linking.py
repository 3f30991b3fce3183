# SPDX-License-Identifier: AGPL-3.0-or-later
"""`/start TOKEN`: linking a chat to an account (good, reused, expired, unknown, moved tokens)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from creneau.bot.linking import consume_link_token, deep_link, telegram_link
from creneau.config import Settings
from creneau.sim.clock import ManualClock
from creneau.store import ChannelStatus, Store
from creneau.store.accounts import TokenProblem
from creneau.store.telegram import TelegramRepo, links

from .kit import Accounts, Person, only


async def test_start_links_chat_and_adds_telegram_channel_when_token_is_good(
    camille: Person, accounts: Accounts, store: Store
) -> None:
    subscriber = await accounts.create("camille@example.org")
    reply = only(await camille.say(f"/start {await accounts.token(subscriber)}"))
    assert "relié à votre compte creneau" in reply.plain
    link = await TelegramRepo(store).chat(camille.chat_id)
    assert link is not None
    assert link.subscriber_id == subscriber
    assert not link.captcha_optin
    (channel,) = await store.subscribers.list_channels(subscriber)
    assert (channel.kind, channel.address, channel.status) == ("telegram", str(camille.chat_id), ChannelStatus.ACTIVE)


async def test_start_refuses_token_when_it_was_already_used(
    camille: Person, sacha: Person, accounts: Accounts, store: Store
) -> None:
    subscriber = await accounts.create("camille@example.org")
    token = await accounts.token(subscriber)
    await camille.say(f"/start {token}")
    reply = only(await sacha.say(f"/start {token}"))
    assert "already used" in reply.plain
    assert await TelegramRepo(store).chat(sacha.chat_id) is None
    assert len(await store.subscribers.list_channels(subscriber)) == 1


async def test_start_refuses_token_when_it_expired(
    camille: Person, accounts: Accounts, store: Store, clock: ManualClock
) -> None:
    subscriber = await accounts.create("camille@example.org")
    token = await accounts.token(subscriber, ttl_min=30)
    clock.advance(31 * 60)
    reply = only(await camille.say(f"/start {token}"))
    assert "a expiré" in reply.plain
    assert "https://creneau.example" in reply.plain
    assert await TelegramRepo(store).chat(camille.chat_id) is None
    assert await store.subscribers.list_channels(subscriber) == []


@pytest.mark.parametrize(
    "token", ["notatokenbutlongenough", "short", "a" * 65, "<b>x</b>-injection-attempt!!"], ids=str.__len__
)
async def test_start_says_link_is_invalid_when_token_is_unknown_or_malformed(
    camille: Person, store: Store, token: str
) -> None:
    reply = only(await camille.say(f"/start {token}"))
    assert "n'est pas valide" in reply.plain
    assert await TelegramRepo(store).chat(camille.chat_id) is None


async def test_start_explains_and_links_to_web_app_when_no_token_is_given(camille: Person) -> None:
    reply = only(await camille.say("/start"))
    assert "ne fait que prévenir" in reply.plain
    assert "https://creneau.example" in reply.plain


async def test_start_welcomes_back_when_chat_is_already_linked(camille: Person, accounts: Accounts) -> None:
    await accounts.linked(camille, "camille@example.org")
    assert "est relié" in only(await camille.say("/start")).plain


async def test_start_answers_in_account_language_when_account_is_english(camille: Person, accounts: Accounts) -> None:
    subscriber = await accounts.create("camille@example.org", locale="en")
    reply = only(await camille.say(f"/start {await accounts.token(subscriber)}"))
    assert "this chat is now linked" in reply.plain


async def test_start_moves_chat_when_it_was_linked_to_another_account(
    camille: Person, accounts: Accounts, store: Store
) -> None:
    first = await accounts.linked(camille, "first@example.org")
    second = await accounts.create("second@example.org")
    reply = only(await camille.say(f"/start {await accounts.token(second)}"))
    assert "un autre compte" in reply.plain
    assert await store.subscribers.list_channels(first) == []
    link = await TelegramRepo(store).chat(camille.chat_id)
    assert link is not None
    assert link.subscriber_id == second


async def test_issue_link_forgets_older_tokens_when_a_new_one_is_issued(
    accounts: Accounts, store: Store, clock: ManualClock
) -> None:
    subscriber = await accounts.create("camille@example.org")
    old, new = await accounts.token(subscriber), await accounts.token(subscriber)
    assert await consume_link_token(store, old, 1, now=clock.now()) is TokenProblem.UNKNOWN
    assert not isinstance(await consume_link_token(store, new, 1, now=clock.now()), TokenProblem)


async def test_telegram_link_keeps_only_hash_when_issuing_deep_link(
    settings: Settings, accounts: Accounts, store: Store, clock: ManualClock
) -> None:
    subscriber = await accounts.create("camille@example.org")
    url = await telegram_link(settings, store, subscriber, now=clock.now())
    assert url is not None
    assert url.startswith("https://t.me/creneau_fake_bot?start=")
    token = url.rsplit("=", 1)[1]
    async with store.read() as conn:
        stored = (await conn.execute(select(links.c.token_hash, links.c.expires_at))).one()
    assert token not in stored.token_hash
    assert stored.expires_at == clock.now() + timedelta(minutes=30)
    assert deep_link("@creneau_bot", "abc") == "https://t.me/creneau_bot?start=abc"


async def test_telegram_link_is_none_when_no_bot_username_is_configured(
    settings: Settings, accounts: Accounts, store: Store, clock: ManualClock
) -> None:
    subscriber = await accounts.create("camille@example.org")
    unnamed = settings.model_copy(update={"bot_username": ""})
    assert await telegram_link(unnamed, store, subscriber, now=clock.now()) is None


async def test_bot_points_to_private_chat_when_spoken_to_in_a_group(camille: Person) -> None:
    group = Person(camille.fake, -4242)
    assert "chat privé" in only(await group.say("/watch")).plain
