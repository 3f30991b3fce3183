# SPDX-License-Identifier: AGPL-3.0-or-later
"""The channel registry: every kind resolves lazily to its declaration; configs round-trip through storage."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from creneau.config import load_settings
from creneau.notify.base import ConfigError, Transport
from creneau.notify.registry import CHANNEL_MODULES, Transports, channel_spec, kinds, parse_destination

SAMPLES: dict[str, dict[str, Any]] = {
    "email": {"address": "camille@example.org"},
    "telegram": {"chat": "@creneau_isere", "kind": "channel"},
    "ntfy": {"topic": "camille-8f3k2", "token": "tk_secret_value"},
    "webhook": {"url": "https://hooks.example.org/creneau", "secret": "whsec-0123456789abcdef"},
    "webpush": {
        "endpoint": "https://push.example.net/wpush/v2/abc",
        "p256dh": "BBwxvDnYBWvE4gcX97Q2CNuK64j5_vQqbRTpVauI1DSwYFo-K1VX0WGuyMKQX9Oaw1C4xpv-2UgO3pG0ABW1HiM",
        "auth": "c2VjcmV0LWF1dGgtMTZieQ",
    },
}


def test_registry_lists_the_five_channels_when_asked() -> None:
    assert set(kinds()) == set(SAMPLES) == set(CHANNEL_MODULES)


@pytest.mark.parametrize("kind", list(SAMPLES))
def test_channel_spec_declares_limits_and_a_config_when_loaded(kind: str) -> None:
    spec = channel_spec(kind)
    assert spec.kind == kind
    assert spec.limits.title_max > 0
    assert spec.limits.body_max > 0
    config = spec.parse_config(SAMPLES[kind])
    assert spec.destination_rate(config) is not None
    assert config.destination_key().startswith(kind)


@pytest.mark.parametrize("kind", list(SAMPLES))
def test_destination_config_round_trips_with_its_secrets_when_stored(kind: str) -> None:
    config = parse_destination(kind, SAMPLES[kind])
    assert parse_destination(kind, config.stored()) == config
    for value in SAMPLES[kind].values():
        if "secret" in str(value):
            assert str(value) not in repr(config)
            assert str(value) in str(config.stored())


def test_channel_spec_raises_a_clear_error_when_the_kind_is_unknown() -> None:
    with pytest.raises(ConfigError, match="unknown channel kind 'sms'"):
        channel_spec("sms")


def test_parse_destination_raises_a_one_line_error_when_the_email_is_invalid() -> None:
    with pytest.raises(ConfigError, match=r"^email address: .*not a valid email") as caught:
        parse_destination("email", {"address": "camille.example.org"})
    assert "\n" not in str(caught.value)


async def test_transports_open_each_kind_once_and_close_them_when_done() -> None:
    settings = load_settings(telegram_bot_token="123456789:TEST-creneau-fake-token")
    async with aiohttp.ClientSession() as http:
        transports = Transports(settings, http)
        opened: list[Transport] = [await transports.get(kind) for kind in kinds()]
        assert await transports.get("ntfy") is opened[2]
        await transports.close()
