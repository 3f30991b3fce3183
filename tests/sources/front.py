# SPDX-License-Identifier: AGPL-3.0-or-later
"""A local fake in front of the simulator, for site behaviours the simulator does not play.

Every request goes through to the simulator unchanged (method, path, Host, cookies, body; redirects are
passed back, never followed), except those a test scripts: a script sees the request and the simulator's
answer, and returns the answer to send instead. Point `Http(route_overrides=front.route_overrides)` at it.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

_HOP_BY_HOP = {"content-length", "transfer-encoding", "connection", "content-encoding", "keep-alive"}


@dataclass
class Answer:
    status: int
    body: bytes = b""
    headers: CIMultiDict[str] = field(default_factory=CIMultiDict)


Script = Callable[[web.Request, Answer], Answer | Awaitable[Answer]]


def redirect(location: str) -> Answer:
    return Answer(302, headers=CIMultiDict({"Location": location}))


def page(body: bytes, status: int = 200) -> Answer:
    return Answer(status, body, CIMultiDict({"Content-Type": "text/html; charset=utf-8"}))


class Front:
    """`async with Front(sim.base_url) as front:`; `front.script("GET", r".*/creneau/", fn)`."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.scripts: list[tuple[str, re.Pattern[str], Script]] = []
        self.base_url = ""
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def route_overrides(self) -> dict[str, str]:
        return {"*": self.base_url}

    def script(self, method: str, path: str, script: Script) -> None:
        """Answer requests whose path matches `path` (a regular expression, whole path) with `script`."""
        self.scripts.append((method, re.compile(path), script))

    async def __aenter__(self) -> Front:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        self._session = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def forward(self, request: web.Request, path_qs: str | None = None) -> Answer:
        """The simulator's answer to `request`, or to the same request sent to `path_qs` (for async scripts)."""
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        async with self._session.request(
            request.method,
            self.upstream + (path_qs or request.path_qs),
            headers=headers,
            data=await request.read(),
            allow_redirects=False,
        ) as resp:
            return Answer(resp.status, await resp.read(), CIMultiDict(resp.headers))

    async def _handle(self, request: web.Request) -> web.Response:
        answer = await self.forward(request)
        for method, path, script in self.scripts:
            if method == request.method and path.fullmatch(request.path):
                scripted = script(request, answer)
                answer = await scripted if inspect.isawaitable(scripted) else scripted
                break
        sent: CIMultiDict[str] = CIMultiDict((k, v) for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP)
        return web.Response(status=answer.status, body=answer.body, headers=sent)
