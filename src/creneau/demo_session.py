# SPDX-License-Identifier: AGPL-3.0-or-later
"""The running part of `creneau demo`: the service's loops, the captcha desk, the keyboard, the web app.

`DemoSession.run()` starts the service (`Service.run`), watches the captcha desk for challenges waiting
for a person, redraws the live view, serves the web app (`web.server.WebServer`, as `creneau serve` does) and stops everything
cleanly (service first, so in-flight checks and sends finish) on `stop`, after the duration, or when the
caller's condition holds.

At a terminal, single keys drive the demo: `c` answers the oldest captcha (the image is drawn and saved
as a file; the person types the code), `q` quits. Elsewhere the view prints how to answer from another
terminal with `creneau captcha solve`. Nothing here ever reads a captcha image.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator

from rich.live import Live

from creneau.catalog.core import Catalog
from creneau.cli import fail
from creneau.config import Settings
from creneau.demo_view import DemoView, ViewLogHandler, captcha_preview
from creneau.service import Service
from creneau.sources.captcha import CaptchaDeskError, FileCaptchaDesk
from creneau.web.server import WebServer

log = logging.getLogger(__name__)
_FRAME_S = 0.25


def bind_web(port: int, host: str = "127.0.0.1") -> socket.socket:
    """Take the web app's port now, so a busy port is one clear error before anything starts."""
    from creneau.web.server import WebBindError, bind

    try:
        return bind(host, port)
    except WebBindError as exc:
        raise fail(f"web app: {exc.strerror}; choose another --web-port or use --no-web") from None


class _Keys:
    """Single keys from the terminal (cbreak mode), and one line at a time for answers (canonical mode)."""

    def __init__(self, on_key: Callable[[str], None]) -> None:
        import termios

        self.fd = sys.stdin.fileno()
        self.saved = termios.tcgetattr(self.fd)
        self.on_key = on_key
        self.loop = asyncio.get_running_loop()

    def single(self) -> None:
        import tty

        tty.setcbreak(self.fd)
        self.loop.add_reader(self.fd, self._ready)

    def restore(self) -> None:
        import termios

        self.loop.remove_reader(self.fd)
        termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved)

    def _ready(self) -> None:
        for char in os.read(self.fd, 64).decode(errors="ignore"):
            self.on_key(char)

    async def line(self) -> str:
        """One line typed by the person (echoed, editable), without blocking the event loop."""
        self.restore()
        got: asyncio.Future[bytes] = self.loop.create_future()

        def ready() -> None:
            if not got.done():
                got.set_result(os.read(self.fd, 4096))

        self.loop.add_reader(self.fd, ready)
        try:
            return (await got).decode(errors="ignore").strip()
        finally:
            self.loop.remove_reader(self.fd)
            self.single()


class DemoSession:
    def __init__(
        self,
        service: Service,
        view: DemoView,
        settings: Settings,
        web_socket: socket.socket | None,
        catalog: Catalog,
        *,
        stop: asyncio.Event,
    ) -> None:
        self.service = service
        self.view = view
        self.settings = settings
        self.web_socket = web_socket
        self.catalog = catalog
        self.stop = stop
        self.desk = FileCaptchaDesk(settings.data_dir / "captcha")
        self.live: Live | None = None
        self.keys: _Keys | None = None
        self._answering: asyncio.Task[None] | None = None
        self._web: WebServer | None = None
        view.image_of = self.desk.image_path

    async def run(self, duration_s: float | None) -> None:
        handler = ViewLogHandler(self.view)
        logging.getLogger("creneau").addHandler(handler)
        await self._start_web()
        tasks = [
            asyncio.create_task(self.service.run(), name="creneau-demo-service"),
            asyncio.create_task(self._watch_desk(), name="creneau-demo-desk"),
        ]
        self._explain_captchas()
        if not self.view.live:
            for line in self.view.header:
                self.view.console.print(line, soft_wrap=True, highlight=False)
        deadline = time.monotonic() + duration_s if duration_s is not None else None
        try:
            with self._screen():
                while not self.stop.is_set() and not tasks[0].done():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.stop.wait(), _FRAME_S)
                    if self.live is not None:
                        self.live.update(self.view.render(), refresh=True)
                    if deadline is not None and time.monotonic() >= deadline:
                        self.stop.set()
        finally:
            logging.getLogger("creneau").removeHandler(handler)
            await self._shutdown(tasks)

    async def _shutdown(self, tasks: list[asyncio.Task[None]]) -> None:
        if self._answering is not None:
            self._answering.cancel()
        self.service.stop()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(tasks[0]), self.settings.shutdown_grace_s + 5)
        if self._web is not None:
            await self._web.stop()
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        failure = results[0]
        if isinstance(failure, BaseException) and not isinstance(failure, asyncio.CancelledError):
            raise failure

    # --- the screen and the keyboard ---------------------------------------------------------------
    @contextlib.contextmanager
    def _screen(self) -> Iterator[None]:
        if not self.view.live:
            yield
            return
        self.live = Live(self.view.render(), console=self.view.console, auto_refresh=False, transient=False)
        interactive = sys.stdin.isatty()
        self.keys = _Keys(self._on_key) if interactive else None
        self.live.start()
        if self.keys is not None:
            self.keys.single()
        try:
            yield
        finally:
            if self.keys is not None:
                self.keys.restore()
            self.live.stop()

    def _explain_captchas(self) -> None:
        if self.view.live and sys.stdin.isatty():
            self.view.captcha_hint = "press c to answer captcha {id} (q quits)"
        else:
            folder = self.settings.data_dir
            self.view.captcha_hint = (
                f"answer it from another terminal: CRENEAU_DATA_DIR={folder} creneau captcha solve {{id}}"
            )

    def _on_key(self, key: str) -> None:
        if key in "qQ":
            self.stop.set()
        elif key in "cC" and (self._answering is None or self._answering.done()):
            self._answering = asyncio.create_task(self._answer(), name="creneau-demo-captcha")

    async def _answer(self) -> None:
        """Show the oldest captcha to the person and record the code they type (never read by creneau)."""
        if not self.view.captchas:
            self.view.note("no captcha waits for a person right now")
            return
        challenge = self.view.captchas[0]
        console, live, keys = self.view.console, self.live, self.keys
        assert live is not None
        assert keys is not None
        live.stop()
        try:
            with contextlib.suppress(OSError, ValueError):
                console.print(captcha_preview(challenge.image, console.width - 2))
            name = self.view.rows[challenge.target_id].name if challenge.target_id in self.view.rows else ""
            console.print(f"captcha {challenge.id} for {name or challenge.target_id}", highlight=False)
            console.print(f"image saved at {self.desk.image_path(challenge.id)}", highlight=False)
            console.print(
                "Type the code shown in the image and press Enter (Enter alone: back): ", end="", highlight=False
            )
            code = await keys.line()
            if code:
                await self.desk.answer(challenge.id, code, self.service.clock.now())
                self.view.note(f"captcha {challenge.id}: answer recorded, the next check submits it", "green")
        except CaptchaDeskError as exc:
            self.view.note(str(exc), "red")
        finally:
            live.start()

    # --- background work ---------------------------------------------------------------------------
    async def _watch_desk(self) -> None:
        while True:
            self.view.on_captchas(await self.desk.pending(self.service.clock.now()))
            await asyncio.sleep(0.5)

    async def _start_web(self) -> None:
        """The web app on the demo's socket and store; the demo runs on without it if it cannot start."""
        if self.web_socket is None:
            self.view.header.append("web app: off (--no-web)")
            return
        from creneau.web.app import create_app

        host, port = self.web_socket.getsockname()[:2]
        try:
            app = create_app(self.settings, self.service.store, self.catalog, clock=self.service.clock)
            self._web = await WebServer(app, host, port, sock=self.web_socket).__aenter__()
        except Exception as exc:  # the demo runs on without its web app, and says why
            log.exception("the web app could not start")
            self.view.header.append(f"web app: could not start ({exc!r}); see demo.log")
            return
        self.view.header.append(f"web app: {self._web.url}/")
