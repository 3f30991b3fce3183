# SPDX-License-Identifier: AGPL-3.0-or-later
"""`creneau serve [--role R] [--host H] [--port N]` and its alias `creneau web`.

Role `all` runs the pipeline (monitor, sender, and the bot when enabled) and serves the web app on the
same store, in one process; `web` serves the web app alone (its own store connection), for deployments
that spread the roles over several processes or machines. The web app's port is taken before anything
else starts, so a busy port is one error line, not a half-started service.

Ctrl-C or SIGTERM: no new check or send starts, the ones in flight finish (`shutdown_grace_s`), then the
web server stops after its requests in flight. A second Ctrl-C stops at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from typing import Annotated, cast

import typer

from creneau.catalog.core import Catalog
from creneau.cli import fail
from creneau.config import Settings, load_settings
from creneau.logs import configure_logging
from creneau.service import ROLES, Role, Service

SERVE_ROLES = (*ROLES, "web")
WEB_ROLES = ("all", "web")

HostOption = Annotated[
    str | None, typer.Option("--host", help="Address the web app listens on (CRENEAU_WEB_HOST, default 127.0.0.1).")
]
PortOption = Annotated[
    int | None, typer.Option("--port", help="Port the web app listens on (CRENEAU_WEB_PORT, default 8000).")
]


def serve(
    role: Annotated[
        str,
        typer.Option(
            "--role",
            help="all (pipeline and web app in one process), or one of monitor, sender, bot, web (separate processes).",
        ),
    ] = "all",
    host: HostOption = None,
    port: PortOption = None,
    no_web: Annotated[bool, typer.Option("--no-web", help="Role all without the web app.")] = False,
    once: Annotated[bool, typer.Option("--once", help="One monitoring round, send what is due, then exit.")] = False,
) -> None:
    """Check the watched targets, deliver the alerts and serve the web app, until Ctrl-C or SIGTERM."""
    if role not in SERVE_ROLES:
        raise fail(f"--role must be one of {', '.join(SERVE_ROLES)}, not {role!r}")
    if once and role == "web":
        raise fail("--once runs the pipeline; it does not apply to --role web")
    with_web = role in WEB_ROLES and not no_web and not once
    if (host is not None or port is not None) and not with_web:
        raise fail("--host and --port set where the web app listens: only with --role all or web")
    if port is not None and not 0 <= port <= 65535:
        raise fail(f"--port must be between 0 and 65535, not {port}")
    settings = load_settings()
    if host is not None or port is not None:
        settings = settings.model_copy(
            update={"web_host": host or settings.web_host, "web_port": settings.web_port if port is None else port}
        )
    configure_logging(settings.log_level, json=settings.log_json)
    sock = _listen(settings) if with_web else None
    try:
        # The web app alone answers faster on uvloop; the pipeline keeps the loop its tests run on.
        from creneau.web.server import loop_factory

        with asyncio.Runner(loop_factory=loop_factory() if role == "web" else None) as runner:
            runner.run(_serve(settings, role, once, sock))
    finally:
        if sock is not None:
            sock.close()


def _listen(settings: Settings) -> socket.socket:
    from creneau.web.server import WebBindError, bind

    try:
        return bind(settings.web_host, settings.web_port)
    except WebBindError as exc:
        raise fail(f"web app: {exc.strerror}; choose another --port (CRENEAU_WEB_PORT) or use --no-web") from None


async def _serve(settings: Settings, role: str, once: bool, sock: socket.socket | None) -> None:
    from creneau.catalog.core import load_catalog
    from creneau.web.prometheus import serve_metrics

    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    stopped = asyncio.Event()
    catalog = load_catalog(settings.data_dir)
    service = None if role == "web" else Service(settings, role=cast(Role, role), catalog=catalog)

    def on_signal() -> None:
        if stopped.is_set() and main is not None:
            main.cancel()  # a second Ctrl-C: stop waiting for in-flight work
        stopped.set()
        if service is not None:
            service.stop()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    try:
        async with contextlib.AsyncExitStack() as stack:
            if service is not None:
                await stack.enter_async_context(service)
                await stack.enter_async_context(serve_metrics(settings, service.store, service.clock))
            if sock is not None:
                await _start_web(stack, settings, sock, service, catalog)
            if service is not None:
                if stopped.is_set():
                    service.stop()  # the signal came during start-up, before the loops existed
                await service.run(once=once)
            else:
                await stopped.wait()
    except asyncio.CancelledError:
        typer.echo("creneau: stopped before in-flight work finished", err=True)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def _start_web(
    stack: contextlib.AsyncExitStack, settings: Settings, sock: socket.socket, service: Service | None, catalog: Catalog
) -> None:
    """The web app on `sock`: on the service's store and clock when the pipeline runs here, else its own."""
    from creneau.web.app import create_app
    from creneau.web.server import WebServer

    if service is None:
        app = create_app(settings, catalog=catalog)
    else:
        app = create_app(settings, service.store, catalog, clock=service.clock)
    try:
        server = await stack.enter_async_context(WebServer(app, settings.web_host, settings.web_port, sock=sock))
    except RuntimeError:  # the app's start-up failed; uvicorn logged why
        raise fail("the web app did not start (its error is in the log above)") from None
    typer.echo(f"creneau: web app on {server.url} (Ctrl-C to stop)")
