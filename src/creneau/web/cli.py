# SPDX-License-Identifier: AGPL-3.0-or-later
"""`creneau web [--host H] [--port N]`: serve the web app alone (public pages, board, API, accounts).

The pipeline (`creneau serve`) may run in other processes on the same database; the board shows what they
record. Stops on Ctrl-C or SIGTERM after the requests in flight.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from typing import Annotated

import typer

from creneau.cli import fail
from creneau.config import Settings, load_settings


def register(app: typer.Typer) -> None:
    app.command("web")(web)


def web(
    host: Annotated[str | None, typer.Option("--host", help="Address to listen on (CRENEAU_WEB_HOST).")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port to listen on (CRENEAU_WEB_PORT).")] = None,
) -> None:
    """Serve the web app: public pages, status board, JSON API and accounts (default 127.0.0.1:8000)."""
    from creneau.logs import configure_logging
    from creneau.web.server import WebBindError, bind

    settings = load_settings()
    if host is not None or port is not None:
        updates = {"web_host": host or settings.web_host, "web_port": settings.web_port if port is None else port}
        settings = settings.model_copy(update=updates)
    if not 0 <= settings.web_port <= 65535:
        raise fail(f"--port must be between 0 and 65535, not {settings.web_port}")
    configure_logging(settings.log_level, json=settings.log_json)
    try:
        sock = bind(settings.web_host, settings.web_port)
    except WebBindError as exc:
        raise fail(str(exc.strerror)) from None
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(_run(settings, sock))


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop when installed (uvicorn[standard] brings it): the same app answers about twice as fast."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency through uvicorn[standard]
        return None
    return uvloop.new_event_loop


async def _run(settings: Settings, sock: object) -> None:
    import socket as socket_module

    from creneau.web.app import create_app
    from creneau.web.server import WebServer

    assert isinstance(sock, socket_module.socket)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with WebServer(create_app(settings), settings.web_host, settings.web_port, sock=sock) as server:
            typer.echo(f"creneau web: serving on {server.url} (Ctrl-C to stop)")
            await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
