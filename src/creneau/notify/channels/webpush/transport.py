# SPDX-License-Identifier: AGPL-3.0-or-later
"""Web push transport: one encrypted POST to the subscription's push service per message.

The JSON payload (`title`, `body`, `url`, `tag`, `kind`, `lang`) is encrypted for the browser with
RFC 8291 (aes128gcm, a fresh ephemeral key and salt per message, via `http_ece`) and signed with VAPID.
The service worker (`web/static/sw.js`) decrypts nothing itself: the browser does, then shows it.
Alerts are sent with `Urgency: high` and live 6 hours at the push service; notices `normal`, 24 hours.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import http_ece
from cryptography.hazmat.primitives.asymmetric import ec

from creneau.config import Settings
from creneau.notify.base import Locale, Receipt
from creneau.notify.channels.webhook.guard import check_host
from creneau.notify.channels.webpush import LIMITS
from creneau.notify.channels.webpush.config import WebPushConfig, b64url_decode
from creneau.notify.channels.webpush.errors import PERMANENT
from creneau.notify.channels.webpush.vapid import VapidKey, load_or_create, subject
from creneau.notify.errors import PermanentError, RefusedDestination, TransientError
from creneau.notify.http import post
from creneau.notify.message import Message, MessageKind
from creneau.notify.render import phrase, render_fitted, truncate, utf8_length

TEMPLATES = Path(__file__).resolve().parent / "templates"
MAX_SLOTS = 6
TTL_S = {MessageKind.ALERT: 6 * 3600}
DEFAULT_TTL_S = 24 * 3600


class WebPushTransport:
    """`session` must come from `guard.guarded_session`; with `owns_session` the transport closes it.
    The VAPID key is loaded (or created) on the first send, in a thread."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.time,
        owns_session: bool = False,
        key: VapidKey | None = None,
    ) -> None:
        self._session = session
        self._settings = settings
        self._allow_private = settings.webhook_allow_private
        self._timeout_s = settings.notify_timeout_s
        self._subject = subject(settings)
        self._clock = clock
        self._owns_session = owns_session
        self._key = key
        self._key_lock = asyncio.Lock()

    async def key(self) -> VapidKey:
        async with self._key_lock:
            if self._key is None:
                try:
                    self._key = await asyncio.to_thread(load_or_create, self._settings)
                except (OSError, ValueError) as exc:  # the operator's key, not the subscriber's: retry later
                    raise TransientError(f"VAPID key unavailable: {exc}", code="webpush.vapid") from exc
            return self._key

    def payload(self, message: Message, *, locale: Locale) -> dict[str, Any]:
        """What the service worker shows: the notification's title, text, and the page a tap opens."""
        return {
            "kind": message.kind.value,
            "lang": locale,
            "tag": message.event_id[:64],
            "title": truncate(phrase("title", message, locale), LIMITS.title_max),
            "body": render_fitted(
                TEMPLATES, "body.txt.j2", message, locale, max_chars=LIMITS.body_max, max_slots=MAX_SLOTS,
                measure=utf8_length,
            ).strip(),
            "url": message.link,
        }  # fmt: skip

    @staticmethod
    def encrypt(data: bytes, config: WebPushConfig) -> bytes:
        """RFC 8291 aes128gcm for this subscription, with a fresh ephemeral key and salt."""
        return bytes(
            http_ece.encrypt(
                data,
                private_key=ec.generate_private_key(ec.SECP256R1()),
                dh=b64url_decode(config.p256dh),
                auth_secret=b64url_decode(config.auth.get_secret_value()),
                version="aes128gcm",
            )
        )

    async def send(self, message: Message, config: WebPushConfig, *, locale: Locale) -> Receipt:
        """Push one message; raises `TransientError` (timeout, 429/5xx) or `PermanentError` (404/410 and
        refused addresses disable the channel; other 4xx give this message up)."""
        try:
            check_host(config.host, allow_private=self._allow_private)
        except RefusedDestination as exc:
            raise PermanentError(str(exc), code="webpush.refused") from exc
        key = await self.key()
        data = json.dumps(self.payload(message, locale=locale), ensure_ascii=False, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Encoding": "aes128gcm",
            "TTL": str(TTL_S.get(message.kind, DEFAULT_TTL_S)),
            "Urgency": "high" if message.kind is MessageKind.ALERT else "normal",
            "Authorization": key.authorization(config.endpoint, subject=self._subject, now_s=self._clock()),
        }
        reply = await post(
            self._session, config.endpoint, body=self.encrypt(data, config), headers=headers,
            timeout_s=self._timeout_s, table=PERMANENT, prefix="webpush",
        )  # fmt: skip
        return Receipt("webpush", reply.headers.get("Location"), reply.status)

    async def close(self) -> None:
        if self._owns_session:
            await self._session.close()
