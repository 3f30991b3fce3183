# SPDX-License-Identifier: AGPL-3.0-or-later
"""Web push channel: alerts shown by the browser (RFC 8030 push, RFC 8291 aes128gcm payload encryption,
RFC 8292 VAPID), to a subscription the web app saved from the person's service worker.

Limits: a push message carries at most 4,096 bytes after encryption, so the JSON payload stays within 3,000;
push services throttle senders that push too often to one subscription, so one per second at most.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from creneau.notify.base import ChannelSpec, Limits, Transport
from creneau.notify.channels.webpush.config import WebPushConfig
from creneau.notify.ratelimit import Rate

if TYPE_CHECKING:
    import aiohttp

    from creneau.config import Settings

LIMITS = Limits(title_max=120, body_max=3000, global_rate=None, destination_rate=Rate(1, burst=3))


async def open_transport(settings: Settings, session: aiohttp.ClientSession) -> Transport:
    """Push endpoints come from browsers, i.e. from users: like webhooks they go through the SSRF guard."""
    from creneau.notify.channels.webhook.guard import guarded_session
    from creneau.notify.channels.webpush.transport import WebPushTransport

    own = guarded_session(allow_private=settings.webhook_allow_private, user_agent=settings.resolved_user_agent())
    return WebPushTransport(own, settings, owns_session=True)


SPEC = ChannelSpec(kind="webpush", config_model=WebPushConfig, limits=LIMITS, open=open_transport)
