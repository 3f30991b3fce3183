# SPDX-License-Identifier: AGPL-3.0-or-later
"""Serving a fake's aiohttp application on 127.0.0.1 with a port picked by the OS."""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Self, TypeVar

from aiohttp import web

T = TypeVar("T")


class Inbox(list[T]):
    """What a fake received, in order; `await inbox.wait_for(n)` waits for the n-th item without polling."""

    def __init__(self) -> None:
        super().__init__()
        self._changed = asyncio.Condition()

    async def put(self, item: T) -> None:
        self.append(item)
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, count: int, timeout_s: float = 10.0) -> list[T]:
        async with asyncio.timeout(timeout_s), self._changed:
            await self._changed.wait_for(lambda: len(self) >= count)
        return self


class Served:
    """`async with` support for a fake: `start()` on entry, `close()` on exit."""

    async def start(self) -> Self:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


class AppServer(Served):
    """Start with `await server.start()` (or `async with`); `url` is then `http://127.0.0.1:<port>`."""

    def __init__(self, app: web.Application, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    async def start(self) -> Self:
        runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        await site.start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
