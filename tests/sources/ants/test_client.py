# SPDX-License-Identifier: AGPL-3.0-or-later
"""The ANTS client against a replay API on a real port: the query it sends and what it concludes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from creneau.sim.clock import ManualClock
from creneau.sources.ants import ADAPTER
from creneau.sources.base import SourceDeps
from creneau.sources.http import Http
from creneau.types import Outcome

FIXTURES = Path(__file__).parent / "fixtures"
URL = (
    "https://api.rendezvouspasseport.ants.gouv.fr/api/SlotsFromPosition"
    "?longitude=3.0586&latitude=50.6292&radius_km=10&reason=CNI&documents_number=2"
)


class ReplayApi:
    """Answers `SlotsFromPosition` with a fixture (or a status); 404 elsewhere."""

    def __init__(self) -> None:
        self.answer: tuple[int, bytes] = (200, b"[]")
        self.queries: list[dict[str, str]] = []

    async def slots(self, request: web.Request) -> web.Response:
        self.queries.append({**request.query, "host": request.host})
        status, body = self.answer
        return web.Response(body=body, status=status, content_type="application/json")


@pytest.fixture
async def api() -> AsyncIterator[tuple[ReplayApi, SourceDeps]]:
    replay = ReplayApi()
    app = web.Application()
    app.router.add_get("/api/SlotsFromPosition", replay.slots)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    clock = ManualClock(datetime(2026, 5, 4, 6, 0, tzinfo=UTC))
    async with Http(user_agent="creneau-test", route_overrides={"*": f"http://127.0.0.1:{server.port}"}) as http:
        yield replay, SourceDeps(http=http, clock=clock)
    await server.close()


async def test_check_sends_the_criteria_with_a_window_from_today(api: tuple[ReplayApi, SourceDeps]) -> None:
    replay, deps = api
    await ADAPTER.check(ADAPTER.target_from_url(URL), deps)
    assert replay.queries == [
        {
            "longitude": "3.0586",
            "latitude": "50.6292",
            "start_date": "2026-05-04",
            "end_date": "2026-07-03",
            "radius_km": "10",
            "reason": "CNI",
            "documents_number": "2",
            "host": "api.rendezvouspasseport.ants.gouv.fr",
        }
    ]


@pytest.mark.parametrize(
    ("answer", "outcome", "slots"),
    [
        pytest.param((200, "slots-from-position-with-slots.json"), Outcome.SLOTS_AVAILABLE, 3, id="slots"),
        pytest.param((200, "slots-from-position-empty.json"), Outcome.NO_SLOTS, 0, id="empty"),
        pytest.param((403, "radius-not-allowed-403.json"), Outcome.BLOCKED, 0, id="radius-403"),
    ],
)
async def test_check_concludes_from_the_answer(
    api: tuple[ReplayApi, SourceDeps], answer: tuple[int, str], outcome: Outcome, slots: int
) -> None:
    replay, deps = api
    replay.answer = (answer[0], (FIXTURES / answer[1]).read_bytes())
    observation = await ADAPTER.check(ADAPTER.target_from_url(URL), deps)
    assert (observation.outcome, len(observation.slots)) == (outcome, slots)
    assert observation.checked_at == datetime(2026, 5, 4, 6, 0, tzinfo=UTC)
    assert observation.http_status == answer[0]


async def test_check_is_a_network_error_when_the_api_is_unreachable() -> None:
    async with Http(user_agent="creneau-test", route_overrides={"*": "http://127.0.0.1:9"}) as http:
        observation = await ADAPTER.check(ADAPTER.target_from_url(URL), SourceDeps(http=http))
    assert observation.outcome is Outcome.NETWORK_ERROR
