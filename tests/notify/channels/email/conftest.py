# SPDX-License-Identifier: AGPL-3.0-or-later
from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from creneau.config import Settings, load_settings
from creneau.notify.channels.email.transport import EmailTransport, smtp_pool
from creneau.notify.fakes.smtp import SmtpSink


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    async with SmtpSink() as server:
        yield server


@pytest.fixture
def settings(sink: SmtpSink) -> Settings:
    return load_settings(
        smtp_host="127.0.0.1",
        smtp_port=sink.port,
        smtp_from="creneau <alertes@creneau.example>",
        smtp_pool_size=2,
        email_unsubscribe_url="https://creneau.example/unsubscribe/{channel_id}/{token}",
        link_secret="s3cret-for-tests",
    )


@pytest.fixture
async def transport(settings: Settings) -> AsyncIterator[EmailTransport]:
    transport = EmailTransport(smtp_pool(settings), settings)
    yield transport
    await transport.close()
