# SPDX-License-Identifier: AGPL-3.0-or-later
"""ntfy transport: one JSON publish (`POST /` with the topic in the body) per message.

JSON publishing keeps non-ASCII titles intact (headers would need RFC 2047 encoding). The message is
Markdown, with the official link as the click action and a "view" button.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp

from creneau.config import Settings
from creneau.notify.base import Locale, Receipt
from creneau.notify.channels.ntfy import LIMITS
from creneau.notify.channels.ntfy.config import NtfyConfig
from creneau.notify.channels.ntfy.errors import PERMANENT
from creneau.notify.errors import PermanentError
from creneau.notify.http import post
from creneau.notify.message import Message, MessageKind
from creneau.notify.render import channel_phrase, phrase, render_fitted, truncate, utf8_length

TEMPLATES = Path(__file__).resolve().parent / "templates"
MAX_SLOTS = 12
TAGS = {
    MessageKind.ALERT: ["date", "creneau"],
    MessageKind.TARGET_UNAVAILABLE: ["warning", "creneau"],
    MessageKind.HUMAN_CHECK: ["warning", "creneau"],
    MessageKind.CHANNEL_DISABLED: ["no_entry", "creneau"],
}


class NtfyTransport:
    def __init__(self, session: aiohttp.ClientSession, settings: Settings) -> None:
        self._session = session
        self._default_server = settings.ntfy_server_url.rstrip("/")
        self._timeout_s = settings.notify_timeout_s

    def payload(self, message: Message, config: NtfyConfig, *, locale: Locale) -> dict[str, Any]:
        """The JSON publish body (topic, title, Markdown message, priority, tags, click, actions)."""
        body: dict[str, Any] = {
            "topic": config.topic,
            "title": truncate(phrase("title", message, locale), LIMITS.title_max),
            "message": render_fitted(
                TEMPLATES, "body.md.j2", message, locale, max_chars=LIMITS.body_max, max_slots=MAX_SLOTS,
                measure=utf8_length,
            ),
            "markdown": True,
            "priority": config.priority if message.kind == MessageKind.ALERT else 3,
            "tags": TAGS[message.kind],
        }  # fmt: skip
        if message.link:
            label = channel_phrase(TEMPLATES, locale, "button")
            body["click"] = message.link
            body["actions"] = [{"action": "view", "label": label, "url": message.link, "clear": True}]
        return body

    async def send(self, message: Message, config: NtfyConfig, *, locale: Locale) -> Receipt:
        """Publish one message; raises `TransientError` or `PermanentError` (see `errors.PERMANENT`)."""
        server = config.server or self._default_server
        headers = {"Content-Type": "application/json"}
        if config.token is not None:
            headers["Authorization"] = f"Bearer {config.token.get_secret_value()}"
        body = json.dumps(self.payload(message, config, locale=locale), ensure_ascii=False).encode()
        reply = await post(
            self._session, f"{server}/", body=body, headers=headers, timeout_s=self._timeout_s,
            table=PERMANENT, prefix="ntfy",
        )  # fmt: skip
        try:
            published = json.loads(reply.text)
        except ValueError as exc:
            raise PermanentError(
                f"not an ntfy server: {reply.text[:100]!r}", disable_channel=False, code="ntfy.reply"
            ) from exc
        return Receipt("ntfy", published.get("id"), reply.status, {"topic": published.get("topic")})

    async def close(self) -> None:
        return None  # the HTTP session belongs to the caller
