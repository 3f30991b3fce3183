# SPDX-License-Identifier: AGPL-3.0-or-later
"""Serving the web app with uvicorn inside a running event loop (next to the pipeline, in the demo, in tests).

```python
app = create_app(settings, store, catalog, clock=clock)
async with WebServer(app, settings.web_host, settings.web_port) as server:   # bound and started
    print(server.url)                                                         # port 0 → the real port
    await stop.wait()
```

The host process owns SIGINT/SIGTERM (uvicorn's own handlers are not installed); leaving the block stops
accepting connections, lets requests in flight finish (open event streams get `SHUTDOWN_GRACE_S`) and runs
the app's shutdown. A port that cannot be bound raises `WebBindError` before anything starts; `bind` it
first to report a busy port before the rest of the process starts.

This is the one place the project runs uvicorn: `creneau serve` (roles `all` and `web`), `creneau web`,
`creneau demo` and the metrics endpoint all go through it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable, Generator
from types import TracebackType
from typing import Self

import uvicorn
from starlette.types import ASGIApp

# Event streams (the board's live updates) never end by themselves: they get this long once a stop is asked.
SHUTDOWN_GRACE_S = 5


class WebBindError(OSError):
    """The web app's address could not be bound (port in use, no permission)."""


class _EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the process that embeds us handles the signals


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on (host, port); raises WebBindError with a readable message."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise WebBindError(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.setblocking(False)
    return sock


class WebServer:
    def __init__(
        self, app: ASGIApp, host: str = "127.0.0.1", port: int = 8000, *, sock: socket.socket | None = None
    ) -> None:
        self._app = app
        self.host = host
        self._port = port
        self._sock = sock
        self._server: _EmbeddedServer | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        if self._sock is None:
            return self._port
        return int(self._sock.getsockname()[1])

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> Self:
        if self._sock is None:
            self._sock = bind(self.host, self._port)
        config = uvicorn.Config(
            self._app,
            lifespan="on",
            log_level="warning",
            access_log=False,
            proxy_headers=True,
            server_header=False,
            timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
        )
        self._server = _EmbeddedServer(config)
        self._task = asyncio.create_task(self._serve(self._server, self._sock), name="creneau-web")
        while not self._server.started:
            if self._task.done():
                await self._task  # raises what stopped it
                raise RuntimeError("the web server stopped during start-up")
            await asyncio.sleep(0.01)
        return self

    @staticmethod
    async def _serve(server: uvicorn.Server, sock: socket.socket) -> None:
        try:
            await server.serve(sockets=[sock])
        except SystemExit:  # uvicorn exits the process when the app's start-up fails; only stop serving
            raise RuntimeError("the web app's start-up failed") from None

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await asyncio.gather(self._task, return_exceptions=True)
        if self._sock is not None:
            self._sock.close()
        self._task = None

    async def __aenter__(self) -> Self:
        try:
            return await self.start()
        except BaseException:
            await self.stop()
            raise

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop when installed (uvicorn[standard] brings it): the same app answers about twice as fast."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency through uvicorn[standard]
        return None
    return uvloop.new_event_loop
