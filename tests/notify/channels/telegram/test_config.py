# SPDX-License-Identifier: AGPL-3.0-or-later
"""Telegram destinations: clear errors for bad chat ids, and the right per-destination rate."""

from __future__ import annotations

from typing import Any

import pytest

from creneau.notify.base import ConfigError
from creneau.notify.channels.telegram import GROUP_RATE, LIMITS, SPEC
from creneau.notify.channels.telegram.config import TelegramConfig


@pytest.mark.parametrize(
    ("data", "chat"),
    [
        ({"chat": 123456789}, 123456789),
        ({"chat": " 123456789 "}, 123456789),
        ({"chat": "-4242"}, -4242),
        ({"chat": "@creneau_paris", "kind": "channel"}, "@creneau_paris"),
        ({"chat": -1001234567890, "kind": "channel"}, -1001234567890),
    ],
    ids=["int", "string", "group", "channel-name", "channel-id"],
)
def test_telegram_config_accepts_chats_when_they_are_well_formed(data: dict[str, Any], chat: int | str) -> None:
    assert SPEC.parse_config(data).chat == chat  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"chat": "camille"}, "expected a numeric chat id"),
        ({"chat": "@ab"}, "expected a numeric chat id"),
        ({"chat": 0}, "does not exist"),
        ({"chat": "@creneau_paris"}, "use kind=channel"),
        ({"chat": -4242, "kind": "channel"}, "not a channel id"),
        ({"chat": True}, "must be a number"),
        ({"chat": 1, "token": "x"}, "Extra inputs"),
    ],
    ids=["name", "short-name", "zero", "name-as-chat", "group-as-channel", "bool", "extra-field"],
)
def test_telegram_config_gives_a_clear_error_when_the_chat_is_invalid(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        SPEC.parse_config(data)
    assert str(caught.value).startswith("telegram ")


@pytest.mark.parametrize(
    ("config", "private"),
    [
        (TelegramConfig(chat=5), True),
        (TelegramConfig(chat=-5), False),
        (TelegramConfig(chat="@abcde", kind="channel"), False),
    ],
    ids=["person", "group", "channel"],
)
def test_telegram_rate_is_one_per_second_when_private_and_twenty_per_minute_otherwise(
    config: TelegramConfig, private: bool
) -> None:
    assert SPEC.destination_rate(config) == (LIMITS.destination_rate if private else GROUP_RATE)


def test_telegram_config_redacts_the_chat_id_when_shown() -> None:
    assert TelegramConfig(chat=123456789).redacted() == "chat 12…89"


async def test_make_bot_names_the_setting_when_the_token_is_missing() -> None:
    import aiohttp

    from creneau.config import load_settings
    from creneau.notify.channels.telegram.transport import make_bot

    async with aiohttp.ClientSession() as http:
        with pytest.raises(ConfigError, match="CRENEAU_TELEGRAM_BOT_TOKEN"):
            make_bot(load_settings(telegram_bot_token=""), http)
