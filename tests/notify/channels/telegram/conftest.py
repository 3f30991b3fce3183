# SPDX-License-Identifier: AGPL-3.0-or-later
from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from creneau.config import load_settings
from creneau.notify.channels.telegram.transport import TelegramTransport, make_bot
from creneau.notify.fakes.telegram import FakeTelegram


class Clock:
    """Monotonic seconds the tests move by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def fake(clock: Clock) -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(clock=clock) as server:
        yield server


@pytest.fixture
async def transport(fake: FakeTelegram) -> AsyncIterator[TelegramTransport]:
    settings = load_settings(telegram_bot_token=fake.token, telegram_api_base=fake.api_base)
    async with aiohttp.ClientSession() as http:
        transport = TelegramTransport(make_bot(settings, http))
        yield transport
        await transport.close()
