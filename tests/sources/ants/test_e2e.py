# SPDX-License-Identifier: AGPL-3.0-or-later
"""The ANTS adapter against the simulator on a real port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from tests.sources.front import Answer, Front, page, redirect

from creneau.sim.clock import ManualClock
from creneau.sim.model import Episode, EpisodeKind, RateRules, SimSlot, SimTarget, World
from creneau.sim.server import SimServer
from creneau.sources.ants import ADAPTER
from creneau.sources.base import SourceDeps
from creneau.sources.http import Http
from creneau.types import Observation, Outcome, System

pytestmark = pytest.mark.e2e

NOW = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)
ANTS = "api.rendezvouspasseport.ants.gouv.fr"
NO_RULES = RateRules(legacy_burst_rps=0, legacy_hourly_limit=0, rdvpref_challenge_per_min=0, ants_per_min=0)
LILLE = SimTarget("lille", System.ANTS, ANTS, 77, name="Mairie de Lille", latitude=50.6367, longitude=3.0633,
                  zip_code="59000", city="Lille")  # fmt: skip
ROUBAIX = SimTarget("roubaix", System.ANTS, ANTS, 4410, name="Mairie de Roubaix", latitude=50.6903,
                    longitude=3.1746, zip_code="59100", city="Roubaix")  # fmt: skip
URL = (
    f"https://{ANTS}/api/SlotsFromPosition?longitude=3.0586&latitude=50.6292&radius_km=5&reason=CNI&documents_number=1"
)


def slot(sid: int, target: SimTarget, days: int) -> SimSlot:
    return SimSlot(sid, target.id, NOW + timedelta(days=days), NOW - timedelta(days=1), None)


Check = Callable[..., Any]


@pytest.fixture
async def check() -> AsyncIterator[Check]:
    """`await check(world, times=1)`: that many checks of URL through the simulator; the last observation."""
    stack: list[tuple[SimServer, Http]] = []

    async def run(world: World, *, url: str = URL, times: int = 1) -> Observation:
        server = SimServer(world, ManualClock(NOW))
        await server.start()
        http = Http(user_agent="creneau-e2e", route_overrides=server.route_overrides)
        stack.append((server, http))
        deps = SourceDeps(http=http, clock=ManualClock(NOW))
        target = ADAPTER.target_from_url(url)
        observations = [await ADAPTER.check(target, deps) for _ in range(times)]
        return observations[-1]

    yield run
    for server, http in stack:
        await http.close()
        await server.stop()


def world(*slots: SimSlot, rules: RateRules = NO_RULES, episodes: tuple[Episode, ...] = ()) -> World:
    return World({t.id: t for t in (LILLE, ROUBAIX)}, list(slots), [], list(episodes), rules=rules)


async def test_check_reports_slots_of_town_halls_within_the_radius(check: Check) -> None:
    observation = await check(world(slot(1, LILLE, 3), slot(2, ROUBAIX, 2)))
    assert observation.outcome is Outcome.SLOTS_AVAILABLE
    assert [(s.place, s.start) for s in observation.slots] == [("Mairie de Lille", NOW + timedelta(days=3))]


async def test_check_says_no_slots_when_the_answer_is_an_empty_list(check: Check) -> None:
    observation = await check(world(slot(1, ROUBAIX, 2)))
    assert (observation.outcome, observation.evidence) == (Outcome.NO_SLOTS, "empty JSON list")


async def test_check_ignores_slots_beyond_its_date_window(check: Check) -> None:
    observation = await check(world(slot(1, LILLE, 90)))
    assert observation.outcome is Outcome.NO_SLOTS


async def test_check_is_rate_limited_above_the_api_limit(check: Check) -> None:
    rules = RateRules(legacy_burst_rps=0, legacy_hourly_limit=0, rdvpref_challenge_per_min=0, ants_per_min=2)
    observation = await check(world(slot(1, LILLE, 3), rules=rules), times=3)
    assert (observation.outcome, observation.http_status) == (Outcome.RATE_LIMITED, 429)
    assert observation.retry_after_s is not None


@pytest.mark.parametrize(
    ("kind", "outcome"),
    [
        (EpisodeKind.FORBIDDEN, Outcome.BLOCKED),
        (EpisodeKind.BAD_GATEWAY, Outcome.UNAVAILABLE),
        (EpisodeKind.MAINTENANCE, Outcome.UNAVAILABLE),
        (EpisodeKind.CHALLENGE, Outcome.UNAVAILABLE),
        (EpisodeKind.TRUNCATED, Outcome.LAYOUT_UNKNOWN),
        (EpisodeKind.LAYOUT_CHANGED, Outcome.LAYOUT_UNKNOWN),
    ],
    ids=str,
)
async def test_check_names_the_failure_when_the_api_fails(check: Check, kind: EpisodeKind, outcome: Outcome) -> None:
    failing = Episode(kind, NOW - timedelta(minutes=1), NOW + timedelta(minutes=5), host=ANTS)
    observation = await check(world(slot(1, LILLE, 3), episodes=(failing,)))
    assert (observation.outcome, observation.slots) == (outcome, ())


# --- redirects the simulator does not play (a local fake in front of it) -------------------------------
@pytest.mark.parametrize(
    "elsewhere",
    [
        pytest.param(lambda _: "/api/status", id="another-endpoint"),
        pytest.param(lambda path: path.replace("longitude=3.0586", "longitude=5.3698"), id="other-criteria"),
    ],
)
async def test_check_is_inconclusive_when_the_search_is_redirected(elsewhere: Callable[[str], str]) -> None:
    def move(request: web.Request, answer: Answer) -> Answer:
        return redirect(elsewhere(request.path_qs)) if request.query["longitude"] == "3.0586" else answer

    async with (
        SimServer(world(slot(1, LILLE, 3)), ManualClock(NOW)) as server,
        Front(server.base_url) as front,
        Http(user_agent="creneau-e2e", route_overrides=front.route_overrides) as http,
    ):
        front.script("GET", "/api/SlotsFromPosition", move)
        front.script("GET", "/api/status", lambda _, __: page(b"[]"))
        observation = await ADAPTER.check(ADAPTER.target_from_url(URL), SourceDeps(http=http, clock=ManualClock(NOW)))
    assert (observation.outcome, observation.slots) == (Outcome.LAYOUT_UNKNOWN, ())
    assert "(redirected), not the search sent" in observation.evidence
