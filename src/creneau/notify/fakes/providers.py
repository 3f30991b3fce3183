# SPDX-License-Identifier: AGPL-3.0-or-later
"""All four fakes at once, for the demo and the benchmarks:

    async with FakeProviders() as fakes:
        settings = load_settings(**fakes.settings_overrides())

Every transport built from those settings then talks to the fakes on 127.0.0.1.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Self

from creneau.notify.fakes.ntfy import NtfySink
from creneau.notify.fakes.server import Served
from creneau.notify.fakes.smtp import SmtpSink
from creneau.notify.fakes.telegram import FakeTelegram
from creneau.notify.fakes.webhook import WebhookSink


class FakeProviders(Served):
    def __init__(self, *, clock: Callable[[], float] = time.monotonic, webhook_secret: str = "") -> None:
        self.smtp = SmtpSink()
        self.telegram = FakeTelegram(clock=clock)
        self.ntfy = NtfySink()
        self.webhook = WebhookSink(webhook_secret)
        self._started: list[Served] = []

    async def start(self) -> Self:
        for fake in (self.smtp, self.telegram, self.ntfy, self.webhook):
            await fake.start()
            self._started.append(fake)
        return self

    async def close(self) -> None:
        while self._started:
            await self._started.pop().close()

    def settings_overrides(self) -> dict[str, object]:
        """Settings that point every channel at these fakes (private webhook destinations allowed)."""
        return {
            "smtp_host": self.smtp.host,
            "smtp_port": self.smtp.port,
            "smtp_security": "none",
            "telegram_api_base": self.telegram.api_base,
            "telegram_bot_token": self.telegram.token,
            "ntfy_server_url": self.ntfy.url,
            "webhook_allow_private": True,
        }
