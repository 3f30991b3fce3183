# SPDX-License-Identifier: AGPL-3.0-or-later
"""Telegram against the fake Bot API on a real port: content, HTML escaping, public channels, length."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from creneau.notify.base import Locale
from creneau.notify.channels.telegram.config import TelegramConfig
from creneau.notify.channels.telegram.transport import TelegramTransport
from creneau.notify.fakes.telegram import FakeTelegram
from creneau.notify.message import Alert, Message
from creneau.types import Office

CHAT = TelegramConfig(chat=424242)


@pytest.mark.parametrize("locale", ["fr", "en"])
async def test_telegram_send_posts_the_alert_content_when_sent_to_a_chat(
    transport: TelegramTransport,
    fake: FakeTelegram,
    alert: Alert,
    locale: Locale,
    expected: dict[str, list[str]],
    official_url: str,
) -> None:
    receipt = await transport.send(alert, CHAT, locale=locale)

    [sent] = fake.sent_to(424242)
    for phrase in expected[locale]:
        assert phrase in sent.plain, phrase
    assert sent.parse_mode == "HTML"
    assert f'<a href="{official_url}">' in sent.text
    assert sent.reply_markup is not None
    [[button]] = sent.reply_markup["inline_keyboard"]
    assert button["url"] == official_url
    assert receipt.provider_id == str(sent.message_id)
    assert receipt.detail["chat_id"] == 424242


@pytest.mark.parametrize("chat", ["@creneau_isere_titres", "-1000000000001"], ids=["by-name", "by-id"])
async def test_telegram_send_posts_once_to_a_public_channel_when_the_destination_is_a_channel(
    transport: TelegramTransport, fake: FakeTelegram, alert: Alert, chat: str
) -> None:
    channel_id = fake.add_channel("@creneau_isere_titres")
    config = TelegramConfig(chat=chat, kind="channel")

    await transport.send(alert, config, locale="fr")

    [post] = fake.sent_to(channel_id)
    assert "Canal public creneau" in post.plain


@pytest.mark.parametrize("locale", ["fr", "en"])
async def test_telegram_send_posts_each_notice_when_the_watch_changes(
    transport: TelegramTransport, fake: FakeTelegram, notices: list[Message], locale: Locale, clock: Callable[[], float]
) -> None:
    for notice in notices:
        await transport.send(notice, CHAT, locale=locale)
        clock.now += 1.0  # type: ignore[attr-defined]

    assert len(fake.sent_to(424242)) == 3
    assert "bot was blocked by the user" in fake.messages[-1].plain


async def test_telegram_send_escapes_names_when_they_contain_html(
    transport: TelegramTransport, fake: FakeTelegram, alert_factory: Callable[..., Alert]
) -> None:
    office = Office(id="x", name="Sous-préfecture <Palaiseau> & co", kind="sous-prefecture", departement="91")

    await transport.send(alert_factory(office=office), CHAT, locale="fr")

    assert "Sous-préfecture <Palaiseau> & co" in fake.messages[-1].plain


async def test_telegram_send_shows_fewer_slots_when_the_message_would_exceed_4096_characters(
    transport: TelegramTransport, fake: FakeTelegram, alert_factory: Callable[..., Alert]
) -> None:
    await transport.send(alert_factory(count=400), CHAT, locale="en")

    sent = fake.messages[-1]
    assert len(sent.plain) <= 4096
    assert "more slots on the official site" in sent.plain
