# SPDX-License-Identifier: AGPL-3.0-or-later
"""A push service (RFC 8030) that plays the browser too: it hands out subscriptions, checks each push's
VAPID signature, and decrypts the aes128gcm payload with the subscription's private key (http_ece), so a
test can read exactly what the person's browser would show.

    push = await FakePushService().start()
    subscription = push.subscribe()        # what PushSubscription.toJSON() gives a page
    ...                                     # save it as a webpush channel, let the sender run
    received = (await push.received.wait_for(1))[0]
    received.json["title"]

`gone` holds subscription ids answered 410 Gone (the browser unsubscribed); an unknown id gets 404;
`answers[id]` forces any reply `(status, body, headers)`, e.g. `(429, "", {"Retry-After": "9"})`. A push
without `Content-Encoding: aes128gcm`, a TTL, or a valid VAPID JWT for this origin is refused as a real
service would (400 / 401 / 403).
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import http_ece
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from multidict import CIMultiDict

from creneau.notify.channels.webpush.config import b64url
from creneau.notify.channels.webpush.vapid import verify_authorization
from creneau.notify.fakes.server import AppServer, Inbox


@dataclass(frozen=True, slots=True)
class PushReceived:
    subscription: str
    headers: CIMultiDict[str] = field(repr=False)
    payload: bytes = field(repr=False)
    vapid: dict[str, Any]

    @property
    def json(self) -> Any:
        return json.loads(self.payload)


@dataclass(frozen=True, slots=True)
class _Browser:
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes


class FakePushService(AppServer):
    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        app = web.Application()
        app.router.add_route("*", "/push/{sub}", self._handle)
        super().__init__(app)
        self._clock = clock
        self._browsers: dict[str, _Browser] = {}
        self.received: Inbox[PushReceived] = Inbox()
        self.refused: list[tuple[int, str]] = []
        self.gone: set[str] = set()
        self.answers: dict[str, tuple[int, str, dict[str, str]]] = {}

    def subscribe(self) -> dict[str, Any]:
        """A new browser subscription, shaped like `PushSubscription.toJSON()`."""
        sub = secrets.token_urlsafe(12)
        key = ec.generate_private_key(ec.SECP256R1())
        self._browsers[sub] = _Browser(key, os.urandom(16))
        public = key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": f"{self.url}/push/{sub}",
            "expirationTime": None,
            "keys": {"p256dh": b64url(public), "auth": b64url(self._browsers[sub].auth)},
        }

    def _refuse(self, status: int, reason: str) -> web.Response:
        self.refused.append((status, reason))
        return web.json_response({"code": status, "error": reason}, status=status)

    async def _handle(self, request: web.Request) -> web.Response:
        if request.method != "POST":
            return web.Response(status=405, text="method not allowed")
        sub = request.match_info["sub"]
        browser = self._browsers.get(sub)
        if browser is None:
            return self._refuse(404, "subscription not found")
        if sub in self.gone:
            return self._refuse(410, "subscription expired or unsubscribed")
        if sub in self.answers:
            status, text, headers = self.answers[sub]
            return web.Response(status=status, text=text, headers=headers)
        if request.headers.get("Content-Encoding") != "aes128gcm" or not request.headers.get("TTL", "").isdigit():
            return self._refuse(400, "aes128gcm content and a TTL header are required")
        claims = verify_authorization(request.headers.get("Authorization", ""), audience=self.url, now_s=self._clock())
        if claims is None:
            return self._refuse(403, "invalid VAPID authorization")
        body = await request.read()
        if len(body) > 4096:
            return self._refuse(413, "payload too large")
        try:
            payload = http_ece.decrypt(
                body, private_key=browser.private_key, auth_secret=browser.auth, version="aes128gcm"
            )
        except Exception:  # noqa: BLE001 - any decryption failure is the sender's fault: refuse it
            return self._refuse(400, "payload could not be decrypted")
        await self.received.put(PushReceived(sub, CIMultiDict(request.headers), bytes(payload), claims))
        location = f"{self.url}/message/{len(self.received)}"
        return web.Response(status=201, headers={"Location": location})
