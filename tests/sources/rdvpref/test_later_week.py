# SPDX-License-Identifier: AGPL-3.0-or-later
"""A slot page that shows an empty week but announces a first availability later: the check opens that week.

Replays recorded pages on a real port; any path not mapped to a fixture answers 404.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web

from creneau.sim.clock import ManualClock
from creneau.sources.base import SourceDeps
from creneau.sources.http import Http
from creneau.sources.rdvpref import ADAPTER
from creneau.sources.rdvpref.session import MemorySessionVault, SiteSession
from creneau.types import Outcome

FIXTURES = Path(__file__).parent / "fixtures"
URL = "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/3762/"
NOW = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)


async def _replay(week_page: str | None) -> AsyncIterator[tuple[Http, list[str]]]:
    seen: list[str] = []

    async def creneau(request: web.Request) -> web.Response:
        seen.append(request.path_qs)
        name = "creneau_later_week.html" if "premierJour" not in request.query else week_page
        if name is None:
            raise web.HTTPNotFound
        return web.Response(body=(FIXTURES / name).read_bytes(), content_type="text/html", charset="utf-8")

    app = web.Application()
    app.router.add_get("/rdvpref/reservation/demarche/3762/creneau/", creneau)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    async with Http(user_agent="creneau-test", route_overrides={"*": f"http://127.0.0.1:{port}"}) as http:
        yield http, seen
    await runner.cleanup()


async def _check(http: Http) -> Outcome:
    vault = MemorySessionVault()
    target = ADAPTER.target_from_url(URL)
    await vault.put(SiteSession(target.id, (), NOW, NOW))
    deps = SourceDeps(http=http, clock=ManualClock(NOW), sessions=vault)
    return (await ADAPTER.check(target, deps)).outcome


@pytest.mark.e2e
async def test_check_opens_the_announced_week_when_the_first_week_is_empty() -> None:
    async for http, seen in _replay("creneau_slots.html"):
        assert await _check(http) is Outcome.SLOTS_AVAILABLE
        assert len(seen) == 2
        assert "premierJour=" in seen[1]


@pytest.mark.e2e
async def test_check_stays_inconclusive_when_the_announced_week_cannot_be_read() -> None:
    async for http, seen in _replay(None):
        assert await _check(http) is Outcome.LAYOUT_UNKNOWN
        assert len(seen) == 2
