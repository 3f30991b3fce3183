# SPDX-License-Identifier: AGPL-3.0-or-later
"""Webhook transport: one signed JSON POST per message, through the SSRF-guarded session.

Headers: `Idempotency-Key` (the delivery key: receivers drop repeats), `X-Creneau-Event`,
`X-Creneau-Delivery` (the message id), `X-Creneau-Timestamp` and `X-Creneau-Signature`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import aiohttp

from creneau.config import Settings
from creneau.notify.base import Locale, Receipt
from creneau.notify.channels.webhook import payload
from creneau.notify.channels.webhook.config import WebhookConfig
from creneau.notify.channels.webhook.errors import PERMANENT
from creneau.notify.channels.webhook.guard import check_host
from creneau.notify.channels.webhook.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from creneau.notify.errors import PermanentError, RefusedDestination
from creneau.notify.http import post
from creneau.notify.message import Message


class WebhookTransport:
    """`session` must come from `guard.guarded_session` (it re-checks every address at connect time);
    with `owns_session` the transport closes it."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.time,
        owns_session: bool = False,
    ) -> None:
        self._session = session
        self._allow_private = settings.webhook_allow_private
        self._timeout_s = settings.notify_timeout_s
        self._clock = clock
        self._owns_session = owns_session

    def request(self, message: Message, config: WebhookConfig, *, locale: Locale) -> tuple[bytes, dict[str, str]]:
        """The exact body bytes and headers of one delivery."""
        body = json.dumps(payload.build(message, locale), ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = int(self._clock())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": message.key,
            "X-Creneau-Event": message.kind.value,
            "X-Creneau-Delivery": str(message.id),
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(config.secret.get_secret_value().encode(), timestamp, body),
        }
        return body, headers

    async def send(self, message: Message, config: WebhookConfig, *, locale: Locale) -> Receipt:
        """POST one message; raises `TransientError` (timeout, 408/429/5xx) or `PermanentError` (410 Gone
        and refused addresses disable the channel; other 4xx and redirects do not)."""
        try:
            check_host(config.host, allow_private=self._allow_private)
        except RefusedDestination as exc:
            raise PermanentError(str(exc), code="webhook.refused") from exc
        body, headers = self.request(message, config, locale=locale)
        reply = await post(
            self._session, config.url, body=body, headers=headers, timeout_s=self._timeout_s,
            table=PERMANENT, prefix="webhook",
        )  # fmt: skip
        return Receipt("webhook", reply.headers.get("X-Request-Id"), reply.status, {"body": reply.text[:200]})

    async def close(self) -> None:
        if self._owns_session:
            await self._session.close()
