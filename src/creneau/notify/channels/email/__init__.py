# SPDX-License-Identifier: AGPL-3.0-or-later
"""E-mail channel: SMTP through a small connection pool, text + HTML, one-click unsubscribe."""

from __future__ import annotations

from typing import TYPE_CHECKING

from creneau.notify.base import ChannelSpec, Limits, Transport
from creneau.notify.channels.email.config import EmailConfig
from creneau.notify.ratelimit import Rate

if TYPE_CHECKING:
    import aiohttp

    from creneau.config import Settings

LIMITS = Limits(title_max=200, body_max=100_000, global_rate=None, destination_rate=Rate.per_minute(6, burst=3))


async def open_transport(settings: Settings, session: aiohttp.ClientSession) -> Transport:
    from creneau.notify.channels.email.transport import EmailTransport, smtp_pool

    return EmailTransport(smtp_pool(settings), settings)


SPEC = ChannelSpec(kind="email", config_model=EmailConfig, limits=LIMITS, open=open_transport)
