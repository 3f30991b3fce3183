# SPDX-License-Identifier: AGPL-3.0-or-later
"""Telegram channel: personal chats, groups and per-target public channels through the Bot API.

Limits (Telegram's bot FAQ): about 30 messages/s per bot overall, 1/s per private chat, 20/min per group
or channel; 4096 characters per message after entity parsing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from creneau.notify.base import ChannelSpec, Limits, Transport
from creneau.notify.channels.telegram import lean
from creneau.notify.channels.telegram.config import TelegramConfig
from creneau.notify.ratelimit import Rate

if TYPE_CHECKING:
    import aiohttp

    from creneau.config import Settings

LIMITS = Limits(title_max=256, body_max=4096, global_rate=Rate(30, burst=10), destination_rate=Rate(1, burst=1))
GROUP_RATE = Rate.per_minute(20, burst=3)

lean.install()  # aiogram, imported later by the transport, then builds only the models it uses


def rate_for(config: TelegramConfig) -> Rate:
    return LIMITS.destination_rate if config.is_private and LIMITS.destination_rate else GROUP_RATE


async def open_transport(settings: Settings, session: aiohttp.ClientSession) -> Transport:
    from creneau.notify.channels.telegram.transport import TelegramTransport, build_models, make_bot

    build_models()
    return TelegramTransport(make_bot(settings, session))


SPEC = ChannelSpec(kind="telegram", config_model=TelegramConfig, limits=LIMITS, open=open_transport, rate_for=rate_for)
