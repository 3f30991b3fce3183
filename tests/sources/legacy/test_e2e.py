# SPDX-License-Identifier: AGPL-3.0-or-later
"""The legacy adapter against the simulator on a real port: whole checks, every guichet, every failure."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.sources.front import Answer, Front, Script, page, redirect

from creneau.config import Settings
from creneau.sim.clock import ManualClock
from creneau.sim.model import Episode, EpisodeKind, Planning, RateRules, SimSlot, SimTarget, World
from creneau.sim.server import SimServer
from creneau.sources.base import SourceDeps
from creneau.sources.http import Http
from creneau.sources.legacy import ADAPTER
from creneau.types import Observation, Outcome, System

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).parent / "fixtures"

NOW = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)  # Monday 08:00 in Paris
SSD, PP = "www.seine-saint-denis.gouv.fr", "pprdv.interieur.gouv.fr"
GUICHETS = (Planning("17637", "Guichet A"), Planning("17638", "Guichet B"), Planning("17639", "Guichet C"))
NO_RULES = RateRules(legacy_burst_rps=0, legacy_hourly_limit=0, rdvpref_challenge_per_min=0, ants_per_min=0)
FORM = SimTarget("ssd", System.LEGACY, SSD, 9846, GUICHETS, "Titres de séjour")
PP_FORM = SimTarget("pp", System.LEGACY, PP, 989, (Planning("990", "Guichet 1"), Planning("1000", "Guichet 2")))


def slot(sid: int, target: SimTarget, planning: str, days: int, hour: int) -> SimSlot:
    start = NOW.replace(hour=hour - 2) + timedelta(days=days)  # `hour` in Paris summer time
    return SimSlot(sid, target.id, start, NOW - timedelta(days=1), None, planning_id=planning)


Check = Callable[..., Any]
Scripts = tuple[tuple[str, str, Script], ...]


@pytest.fixture
async def check() -> AsyncIterator[Check]:
    """`await check(world, url, timeout_s=…)`: one check through the simulator, with our real client."""
    servers: list[SimServer] = []
    clients: list[Http] = []
    stack = AsyncExitStack()

    async def run(
        world: World, url: str, *, timeout_s: float = 10.0, weeks: int = 4, front: Scripts = ()
    ) -> Observation:
        server = SimServer(world, ManualClock(NOW))
        await server.start()
        servers.append(server)
        routes = server.route_overrides
        if front:  # a local fake in front of the simulator plays what the simulator does not
            fake = await stack.enter_async_context(Front(server.base_url))
            for method, path, script in front:
                fake.script(method, path, script)
            routes = fake.route_overrides
        http = Http(user_agent="creneau-e2e", timeout_s=timeout_s, route_overrides=routes)
        clients.append(http)
        settings = Settings.model_construct(legacy_request_gap_s=0.0, legacy_max_weeks=weeks)
        deps = SourceDeps(http=http, clock=ManualClock(NOW), settings=settings)
        return await ADAPTER.check(ADAPTER.target_from_url(url), deps)

    yield run
    for http in clients:
        await http.close()
    await stack.aclose()
    for server in servers:
        await server.stop()


def world(*targets: SimTarget, slots: tuple[SimSlot, ...] = (), episodes: tuple[Episode, ...] = ()) -> World:
    return World({t.id: t for t in targets}, list(slots), [], list(episodes), rules=NO_RULES, seed=3)


URL = f"https://{SSD}/booking/create/9846/0"
PP_URL = f"https://{PP}/booking/create/989/0"


async def test_check_reports_the_slots_of_the_one_guichet_that_has_some(check: Check) -> None:
    slots = (slot(1, FORM, "17638", 1, 9), slot(2, FORM, "17638", 9, 15))
    observation = await check(world(FORM, slots=slots), URL)
    assert observation.outcome is Outcome.SLOTS_AVAILABLE
    assert [(s.start, s.guichet, s.guichet_label) for s in observation.slots] == [
        (datetime(2026, 5, 5, 7, 0, tzinfo=UTC), "17638", "Guichet B"),
        (datetime(2026, 5, 13, 13, 0, tzinfo=UTC), "17638", "Guichet B"),
    ]
    assert observation.slots[0].ref == str(int(observation.slots[0].start.timestamp()))
    assert "Guichet A: exact no-slot sentence" in observation.evidence
    assert "Guichet C: exact no-slot sentence" in observation.evidence


async def test_check_reads_slots_at_every_guichet_that_has_some(check: Check) -> None:
    slots = (slot(1, FORM, "17637", 2, 10), slot(2, FORM, "17639", 3, 11))
    observation = await check(world(FORM, slots=slots), URL)
    assert {(s.guichet, s.guichet_label) for s in observation.slots} == {("17637", "Guichet A"), ("17639", "Guichet C")}


async def test_check_says_no_slots_when_every_guichet_shows_the_no_slot_page(check: Check) -> None:
    observation = await check(world(FORM), URL)
    assert (observation.outcome, observation.slots) == (Outcome.NO_SLOTS, ())
    assert observation.evidence.count("exact no-slot sentence") == 3


async def test_check_reads_on_to_slots_beyond_the_configured_weeks(check: Check) -> None:
    # The guichet leads to its calendar (the site says it has slots) but the two weeks read are empty.
    observation = await check(world(FORM, slots=(slot(1, FORM, "17638", 40, 9),)), URL, weeks=2)
    assert observation.outcome is Outcome.SLOTS_AVAILABLE
    assert [(s.start, s.guichet) for s in observation.slots] == [(datetime(2026, 6, 13, 7, 0, tzinfo=UTC), "17638")]


async def test_check_is_inconclusive_when_the_calendar_shows_no_slot_in_half_a_year(check: Check) -> None:
    observation = await check(world(FORM, slots=(slot(1, FORM, "17638", 200, 9),)), URL, weeks=2)
    assert (observation.outcome, observation.slots) == (Outcome.LAYOUT_UNKNOWN, ())
    assert "26 week(s) read without a free cell, but the calendar goes on" in observation.evidence


async def test_check_follows_the_prefecture_de_police_variant(check: Check) -> None:
    observation = await check(world(PP_FORM, slots=(slot(1, PP_FORM, "1000", 2, 9),)), PP_URL)
    assert observation.outcome is Outcome.SLOTS_AVAILABLE
    assert {s.guichet for s in observation.slots} == {"1000"}
    assert "step 1 (Préfecture de Police variant)" in observation.evidence


async def test_check_says_no_slots_when_prefecture_de_police_stays_on_step_1(check: Check) -> None:
    observation = await check(world(PP_FORM), PP_URL)
    assert observation.outcome is Outcome.NO_SLOTS


async def test_check_reads_a_form_with_a_single_guichet(check: Check) -> None:
    single = SimTarget("one", System.LEGACY, SSD, 801, (Planning("809", "Accueil"),))
    observation = await check(world(single, slots=(slot(1, single, "809", 1, 9),)), f"https://{SSD}/booking/create/801")
    assert observation.outcome is Outcome.SLOTS_AVAILABLE
    assert {s.guichet for s in observation.slots} == {"809"}


def episode(kind: EpisodeKind, **kw: Any) -> Episode:
    return Episode(kind, NOW - timedelta(minutes=1), NOW + timedelta(minutes=10), host=SSD, **kw)


@pytest.mark.parametrize(
    ("kind", "outcome"),
    [
        (EpisodeKind.FORBIDDEN, Outcome.BLOCKED),
        (EpisodeKind.RATE_LIMITED, Outcome.RATE_LIMITED),
        (EpisodeKind.BAD_GATEWAY, Outcome.UNAVAILABLE),
        (EpisodeKind.OVERLOADED, Outcome.RATE_LIMITED),
        (EpisodeKind.MAINTENANCE, Outcome.UNAVAILABLE),
        (EpisodeKind.CHALLENGE, Outcome.UNAVAILABLE),
        (EpisodeKind.TRUNCATED, Outcome.LAYOUT_UNKNOWN),
        (EpisodeKind.LAYOUT_CHANGED, Outcome.LAYOUT_UNKNOWN),
    ],
    ids=str,
)
async def test_check_names_the_failure_when_the_site_fails(check: Check, kind: EpisodeKind, outcome: Outcome) -> None:
    slots = (slot(1, FORM, "17638", 1, 9),)
    observation = await check(world(FORM, slots=slots, episodes=(episode(kind, retry_after_s=120),)), URL)
    assert (observation.outcome, observation.slots) == (outcome, ())


async def test_check_keeps_retry_after_when_rate_limited(check: Check) -> None:
    observation = await check(world(FORM, episodes=(episode(EpisodeKind.RATE_LIMITED, retry_after_s=120),)), URL)
    assert (observation.http_status, observation.retry_after_s) == (429, 120.0)


async def test_check_waits_for_a_slow_answer_within_the_timeout(check: Check) -> None:
    slow = episode(EpisodeKind.SLOW, delay_s=0.05)
    observation = await check(world(FORM, slots=(slot(1, FORM, "17638", 1, 9),), episodes=(slow,)), URL)
    assert observation.outcome is Outcome.SLOTS_AVAILABLE


@pytest.mark.parametrize("kind", [EpisodeKind.SLOW, EpisodeKind.TIMEOUT], ids=str)
async def test_check_is_a_network_error_when_the_answer_comes_too_late(check: Check, kind: EpisodeKind) -> None:
    late = episode(kind, delay_s=5.0)
    observation = await check(world(FORM, slots=(slot(1, FORM, "17638", 1, 9),), episodes=(late,)), URL, timeout_s=0.3)
    assert (observation.outcome, observation.slots) == (Outcome.NETWORK_ERROR, ())


async def test_check_is_never_no_slots_when_a_guichet_fails_midway(check: Check) -> None:
    # The site refuses after the first requests: the guichets not read make the check inconclusive.
    rules = RateRules(legacy_burst_rps=0, legacy_hourly_limit=5, legacy_ban_s=600, rdvpref_challenge_per_min=0)
    observation = await check(World({FORM.id: FORM}, [], [], [], rules=rules, seed=3), URL)
    assert observation.outcome is Outcome.BLOCKED
    assert "not read" in observation.evidence


# --- what the simulator does not play (a local fake in front of it) ------------------------------------
FORM_PATH = "/booking/create/9846/"
OTHER_NO_SLOT = "/booking/create/9999/2"


def to_another_form(_: object, answer: Answer) -> Answer:
    """The answer to a guichet with slots (the way to /3 or /4) sent to another form's no-slot page."""
    location = answer.headers.get("Location", "")
    return redirect(OTHER_NO_SLOT) if location.endswith(("/3", "/4")) else answer


def other_no_slot_page(_: object, __: Answer) -> Answer:
    return page((FIXTURES / "no-slot-step2.html").read_bytes().replace(b"/9846/", b"/9999/"))


def calendar_of_guichet_a(_: object, answer: Answer) -> Answer:
    return page(answer.body.replace(b"::17638::", b"::17637::"))


def with_unreadable_guichet(_: object, answer: Answer) -> Answer:
    extra = b'<input type="radio" name="planning" value="guichet 4" id="p4"><label for="p4">Guichet D</label>'
    form = answer.body.index(b'id="FormBookingCreate"')
    end = answer.body.index(b"</form>", form)
    return page(answer.body[:end] + extra + answer.body[end:])


@pytest.mark.parametrize(
    ("front", "evidence"),
    [
        pytest.param(
            (("POST", FORM_PATH + "1", to_another_form), ("GET", OTHER_NO_SLOT, other_no_slot_page)),
            "page of form 9999 at /booking/create/9999/2, not of form 9846",
            id="answer-from-another-form",
        ),
        pytest.param(
            (("GET", FORM_PATH + "4", calendar_of_guichet_a),),
            "calendar of guichet 17637 shown for guichet 17638",
            id="calendar-of-another-guichet",
        ),
        pytest.param(
            (("GET", FORM_PATH + "1", with_unreadable_guichet),), "1 guichet(s) not read", id="unreadable-guichet"
        ),
    ],
)
async def test_check_is_never_no_slots_when_a_guichet_is_not_really_read(
    check: Check, front: Scripts, evidence: str
) -> None:
    # Guichet B has a slot (its way leads to the calendar); the unreadable radio case has none anywhere.
    slots = () if "not read" in evidence else (slot(1, FORM, "17638", 1, 9),)
    observation = await check(world(FORM, slots=slots), URL, front=front)
    assert (observation.outcome, observation.slots) == (Outcome.LAYOUT_UNKNOWN, ())
    assert evidence in observation.evidence
