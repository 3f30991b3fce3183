# SPDX-License-Identifier: AGPL-3.0-or-later
"""A webhook sink: records every POST (path, headers, raw body, parsed JSON) and checks its signature.

`secret` is the shared secret deliveries are verified with (`Received.verified`); `answers[path]` forces
a reply `(status, body, headers)` for a path, e.g. `(410, "gone", {})` or `(429, "", {"Retry-After": "7"})`;
requests to a path in `held` wait for `release` to be set (a receiver that does not answer). Anything but
POST gets 405.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from creneau.notify.channels.webhook.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from creneau.notify.fakes.server import AppServer, Inbox


@dataclass(frozen=True, slots=True)
class Received:
    path: str
    headers: CIMultiDict[str] = field(repr=False)
    body: bytes = field(repr=False)
    verified: bool

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class WebhookSink(AppServer):
    def __init__(self, secret: str = "", *, clock: Callable[[], float] = time.time) -> None:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._handle)
        super().__init__(app)
        self.secret = secret
        self.received: Inbox[Received] = Inbox()
        self.answers: dict[str, tuple[int, str, dict[str, str]]] = {}
        self._clock = clock
        self.held: set[str] = set()
        self.release = asyncio.Event()

    def endpoint(self, path: str = "/hook") -> str:
        return self.url + path

    async def close(self) -> None:
        self.release.set()
        await super().close()

    async def _handle(self, request: web.Request) -> web.Response:
        if request.method != "POST":
            return web.Response(status=405, text="method not allowed")
        body = await request.read()
        headers = CIMultiDict(request.headers)
        verified = verify(
            self.secret.encode(), headers.get(TIMESTAMP_HEADER), headers.get(SIGNATURE_HEADER), body, now=self._clock()
        )
        await self.received.put(Received(request.path, headers, body, verified))
        if request.path in self.held:
            await self.release.wait()
        status, text, extra = self.answers.get(request.path, (200, '{"ok":true}', {}))
        return web.Response(status=status, text=text, headers={"X-Request-Id": f"r{len(self.received)}", **extra})
