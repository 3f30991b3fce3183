# SPDX-License-Identifier: AGPL-3.0-or-later
"""Telegram answers: flood 429 → retry later as told; known dead destinations disable; unknown ones do not."""

from __future__ import annotations

import pytest

from creneau.notify.channels.telegram.config import TelegramConfig
from creneau.notify.channels.telegram.errors import PERMANENT
from creneau.notify.channels.telegram.transport import TelegramTransport
from creneau.notify.errors import PermanentError, TransientError
from creneau.notify.fakes.telegram import FakeTelegram
from creneau.notify.message import Alert

from .conftest import Clock

CHAT = 424242

# One real Bot API answer per known entry: each must disable the channel.
KNOWN_ANSWERS = {
    "telegram.blocked": (403, "Forbidden: bot was blocked by the user"),
    "telegram.user_deactivated": (403, "Forbidden: user is deactivated"),
    "telegram.kicked": (403, "Forbidden: bot was kicked from the group chat"),
    "telegram.cannot_initiate": (403, "Forbidden: bot can't initiate conversation with a user"),
    "telegram.group_deleted": (403, "Forbidden: the group chat was deleted"),
    "telegram.chat_not_found": (400, "Bad Request: chat not found"),
    "telegram.no_rights": (400, "Bad Request: not enough rights to send text messages to the chat"),
    "telegram.upgraded": (400, "Bad Request: group chat was upgraded to a supergroup chat"),
}


def test_telegram_known_errors_have_one_sample_each() -> None:
    assert {entry.code for entry in PERMANENT} == set(KNOWN_ANSWERS)


@pytest.mark.parametrize(("code", "answer"), list(KNOWN_ANSWERS.items()), ids=list(KNOWN_ANSWERS))
async def test_telegram_send_disables_the_channel_when_the_destination_is_dead(
    transport: TelegramTransport, fake: FakeTelegram, alert: Alert, code: str, answer: tuple[int, str]
) -> None:
    fake.errors[CHAT] = answer

    with pytest.raises(PermanentError) as caught:
        await transport.send(alert, TelegramConfig(chat=CHAT), locale="fr")

    assert caught.value.disable_channel
    assert caught.value.code == code
    assert caught.value.reason == answer[1]


async def test_telegram_send_disables_the_channel_when_the_fake_user_blocked_the_bot(
    transport: TelegramTransport, fake: FakeTelegram, alert: Alert
) -> None:
    fake.blocked.add(CHAT)

    with pytest.raises(PermanentError, match="blocked by the user") as caught:
        await transport.send(alert, TelegramConfig(chat=CHAT), locale="fr")

    assert caught.value.disable_channel


async def test_telegram_send_disables_the_channel_when_the_public_channel_is_unknown(
    transport: TelegramTransport, alert: Alert
) -> None:
    with pytest.raises(PermanentError) as caught:
        await transport.send(alert, TelegramConfig(chat="@nobody_here", kind="channel"), locale="fr")

    assert caught.value.code == "telegram.chat_not_found"


@pytest.mark.parametrize(
    "answer",
    [(403, "Forbidden: something new happened"), (400, "Bad Request: message to reply not found")],
    ids=["403-unknown", "400-unknown"],
)
async def test_telegram_send_keeps_the_channel_when_the_error_is_unknown(
    transport: TelegramTransport, fake: FakeTelegram, alert: Alert, answer: tuple[int, str]
) -> None:
    fake.errors[CHAT] = answer

    with pytest.raises(PermanentError) as caught:
        await transport.send(alert, TelegramConfig(chat=CHAT), locale="fr")

    assert not caught.value.disable_channel


@pytest.mark.parametrize("answer", [(500, "Internal Server Error"), (502, "Bad Gateway")], ids=["500", "502"])
async def test_telegram_send_is_transient_when_the_server_fails(
    transport: TelegramTransport, fake: FakeTelegram, alert: Alert, answer: tuple[int, str]
) -> None:
    fake.errors[CHAT] = answer

    with pytest.raises(TransientError):
        await transport.send(alert, TelegramConfig(chat=CHAT), locale="fr")


async def test_telegram_send_raises_retry_after_when_a_chat_gets_two_messages_within_a_second(
    transport: TelegramTransport, fake: FakeTelegram, alert: Alert, clock: Clock
) -> None:
    config = TelegramConfig(chat=CHAT)
    await transport.send(alert, config, locale="fr")
    clock.now += 0.3

    with pytest.raises(TransientError) as caught:
        await transport.send(alert, config, locale="fr")
    clock.now += caught.value.retry_after_s or 0
    await transport.send(alert, config, locale="fr")

    assert caught.value.retry_after_s == 1
    assert caught.value.code == "telegram.429"
    assert len(fake.sent_to(CHAT)) == 2


async def test_telegram_send_raises_retry_after_when_the_bot_exceeds_30_messages_per_second(
    transport: TelegramTransport, fake: FakeTelegram, alert: Alert
) -> None:
    for chat in range(1, 31):
        await transport.send(alert, TelegramConfig(chat=chat), locale="en")

    with pytest.raises(TransientError) as caught:
        await transport.send(alert, TelegramConfig(chat=31), locale="en")

    assert caught.value.retry_after_s == 1
    assert fake.flood_answers == 1


async def test_telegram_send_is_transient_when_the_bot_token_is_wrong(fake: FakeTelegram, alert: Alert) -> None:
    import aiohttp

    from creneau.config import load_settings
    from creneau.notify.channels.telegram.transport import make_bot

    wrong = "987654321:WRONG-token-for-this-fake"
    settings = load_settings(telegram_bot_token=wrong, telegram_api_base=fake.api_base)
    async with aiohttp.ClientSession() as http:
        with pytest.raises(TransientError) as caught:
            await TelegramTransport(make_bot(settings, http)).send(alert, TelegramConfig(chat=CHAT), locale="fr")

    assert caught.value.code == "telegram.401"
    assert wrong not in str(caught.value)
