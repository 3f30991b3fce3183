# SPDX-License-Identifier: AGPL-3.0-or-later
"""ntfy channel: one topic per target (ntfy fans out to every subscribed phone) and personal topics.

Limits: ntfy keeps messages up to 4,096 bytes as text (longer ones become attachments, so we stay
below); ntfy.sh lets one client burst 60 requests, then about one every 5 s (a 429 is retried later as
transient). We send at most one message per second to a topic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from creneau.notify.base import ChannelSpec, Limits, Transport
from creneau.notify.channels.ntfy.config import NtfyConfig
from creneau.notify.ratelimit import Rate

if TYPE_CHECKING:
    import aiohttp

    from creneau.config import Settings

LIMITS = Limits(title_max=250, body_max=4096, global_rate=None, destination_rate=Rate(1, burst=3))


async def open_transport(settings: Settings, session: aiohttp.ClientSession) -> Transport:
    from creneau.notify.channels.ntfy.transport import NtfyTransport

    return NtfyTransport(session, settings)


SPEC = ChannelSpec(kind="ntfy", config_model=NtfyConfig, limits=LIMITS, open=open_transport)
