# SPDX-License-Identifier: AGPL-3.0-or-later
"""Webhook channel: signed JSON POSTs (HMAC-SHA256, timestamped) behind an SSRF guard."""

from __future__ import annotations

from typing import TYPE_CHECKING

from creneau.notify.base import ChannelSpec, Limits, Transport
from creneau.notify.channels.webhook.config import WebhookConfig
from creneau.notify.ratelimit import Rate

if TYPE_CHECKING:
    import aiohttp

    from creneau.config import Settings

LIMITS = Limits(title_max=250, body_max=65_536, global_rate=None, destination_rate=Rate(5, burst=10))


async def open_transport(settings: Settings, session: aiohttp.ClientSession) -> Transport:
    """Webhooks get their own guarded session (the shared one would skip the SSRF checks)."""
    from creneau.notify.channels.webhook.guard import guarded_session
    from creneau.notify.channels.webhook.transport import WebhookTransport

    own = guarded_session(allow_private=settings.webhook_allow_private, user_agent=settings.resolved_user_agent())
    return WebhookTransport(own, settings, owns_session=True)


SPEC = ChannelSpec(kind="webhook", config_model=WebhookConfig, limits=LIMITS, open=open_transport)
