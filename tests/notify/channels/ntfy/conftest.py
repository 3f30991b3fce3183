# SPDX-License-Identifier: AGPL-3.0-or-later
from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from creneau.config import load_settings
from creneau.notify.channels.ntfy.transport import NtfyTransport
from creneau.notify.fakes.ntfy import NtfySink


@pytest.fixture
async def sink() -> AsyncIterator[NtfySink]:
    async with NtfySink() as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def transport(sink: NtfySink, http: aiohttp.ClientSession) -> NtfyTransport:
    return NtfyTransport(http, load_settings(ntfy_server_url=sink.url))
