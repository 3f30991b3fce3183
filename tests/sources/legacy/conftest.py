# SPDX-License-Identifier: AGPL-3.0-or-later
"""A replay site for the legacy client: serves the recorded pages on a real port, one script per guichet.

Each guichet of the script answers "none" (no-slot page), "slots" (calendar, a first week with free
cells then empty weeks), "empty" (calendar, three empty weeks, the third the last bookable one),
"endless" (calendar, empty weeks that never end) or an HTTP status (the matching failure page). Any
path not in the flow answers 404. Requests are logged so tests can check politeness.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from creneau.config import Settings
from creneau.sources.base import SourceDeps
from creneau.sources.http import Http

FIXTURES = Path(__file__).parent / "fixtures"
HOST = "www.seine-saint-denis.gouv.fr"
FORM = 9846
URL = f"https://{HOST}/booking/create/{FORM}/0"
LABELS = {"17637": "Guichet 1 - Titres de séjour", "17638": "Guichet 2 - Titres de séjour", "17639": "Guichet 3"}


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def last_empty_week() -> bytes:
    """An empty week whose next-week link is inactive: the last bookable week, without a free cell."""
    body = fixture("week-without-free-cell.html")
    inactive = b'<span class="nextWeek inactive">Semaine suivante &gt;&gt;</span>'
    return re.sub(rb'<a class="navWeek nextWeek"[^>]*>.*?</a>', inactive, body, flags=re.S)


@dataclass
class ReplaySite:
    guichets: dict[str, str]
    log: list[str] = field(default_factory=list)
    chosen: str | None = None

    def app(self) -> web.Application:
        app = web.Application()
        base = f"/booking/create/{FORM}"
        app.router.add_route("GET", f"{base}/0", self.terms)
        app.router.add_route("POST", f"{base}/0", self.accept)
        app.router.add_route("GET", f"{base}/1", self.plannings)
        app.router.add_route("POST", f"{base}/1", self.choose)
        app.router.add_route("GET", f"{base}/2", self.static("no-slot-step2.html"))
        app.router.add_route("GET", f"{base}/3", self.static("description-step3.html"))
        app.router.add_route("POST", f"{base}/3", self.static("", redirect=f"{base}/4"))
        app.router.add_route("GET", f"{base}/4", self.calendar)
        app.router.add_route("GET", "/ezjscore/call/{call}", self.week)
        app.middlewares.append(self.record)
        return app

    @web.middleware
    async def record(self, request: web.Request, handler: Callable[..., object]) -> web.StreamResponse:
        self.log.append(f"{request.method} {request.path} host={request.host}")
        response = await handler(request)  # type: ignore[misc]
        assert isinstance(response, web.StreamResponse)
        return response

    def static(self, name: str, redirect: str = "") -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(request: web.Request) -> web.Response:
            return self.redirect(redirect) if redirect else self.page(name)

        return handler

    def page(self, name: str, status: int = 200, body: bytes | None = None) -> web.Response:
        return web.Response(body=body or fixture(name), status=status, content_type="text/html", charset="utf-8")

    def redirect(self, path: str) -> web.Response:
        return web.Response(status=302, headers={"Location": path})

    async def terms(self, request: web.Request) -> web.Response:
        response = self.page("terms.html")
        response.set_cookie("eZSESSID", "s3ss10n", path="/")
        return response

    async def accept(self, request: web.Request) -> web.Response:
        form = await request.post()
        if request.cookies.get("eZSESSID") != "s3ss10n" or form.get("condition") != "on":
            return self.page("terms.html")
        if len(self.guichets) == 1:  # the module skips the choice when there is one guichet
            self.chosen = next(iter(self.guichets))
            return self.answer()
        return self.redirect(f"/booking/create/{FORM}/1")

    async def plannings(self, request: web.Request) -> web.Response:
        body = fixture("plannings-3-guichets.html").decode()
        for planning in LABELS:
            if planning not in self.guichets:
                body = body.replace(f'name="planning" value="{planning}"', f'name="other" value="{planning}"')
        return self.page("", body=body.encode())

    async def choose(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.chosen = str(form.get("planning"))
        if self.chosen not in self.guichets or form.get("nextButton") != "Etape suivante":
            return self.page("", status=400, body=b"<html><body>Erreur</body></html>")
        return self.answer()

    def answer(self) -> web.Response:
        script = self.guichets[self.chosen or ""]
        if script.isdigit():
            return self.page("", status=int(script), body=f"<html><body>HTTP {script}</body></html>".encode())
        return self.redirect(f"/booking/create/{FORM}/{2 if script == 'none' else 3}")

    async def calendar(self, request: web.Request) -> web.Response:
        body = fixture("calendar-step4.html").replace(b"::17638::", f"::{self.chosen}::".encode())
        return self.page("", body=body)

    async def week(self, request: web.Request) -> web.Response:
        parts = request.match_info["call"].split("::")
        if parts[:3] != ["bookingserver", "planning", "assign"] or parts[3] != str(FORM):
            return web.Response(status=404)
        planning, offset = parts[4], int(parts[5])
        script = self.guichets.get(planning, "")
        if script.startswith("week-"):  # "week-N": week N answers with this status
            wanted, _, status = script[5:].partition(":")
            if offset == 7 * int(wanted):
                return self.page("", status=int(status), body=b"<html><body>Bad Gateway</body></html>")
        has_slots = script == "slots" or script.startswith("week-")
        if script == "empty" and offset >= 14:
            return self.page("", body=last_empty_week())
        name = "week-with-free-cells.html" if has_slots and offset == 0 else "week-without-free-cell.html"
        return self.page(name)


@pytest.fixture
async def replay() -> AsyncIterator[Callable[[dict[str, str]], object]]:
    """`await replay({"17637": "none", …})` → (ReplaySite, SourceDeps wired to it)."""
    servers: list[TestServer] = []
    https: list[Http] = []

    async def start(guichets: dict[str, str], **settings: object) -> tuple[ReplaySite, SourceDeps]:
        site = ReplaySite(guichets)
        server = TestServer(site.app(), host="127.0.0.1", port=0)
        await server.start_server()
        servers.append(server)
        http = Http(user_agent="creneau-test", route_overrides={"*": f"http://127.0.0.1:{server.port}"})
        https.append(http)
        values = {"legacy_request_gap_s": 0.0, "legacy_max_weeks": 3, **settings}
        return site, SourceDeps(http=http, settings=Settings.model_construct(**values))

    yield start
    for http in https:
        await http.close()
    for server in servers:
        await server.close()
