# SPDX-License-Identifier: AGPL-3.0-or-later
"""The legacy client's walk over every guichet, against the replay site on a real port."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from creneau.sources.http import count_requests
from creneau.sources.legacy import ADAPTER
from creneau.sources.legacy.client import SEARCH_WEEKS, GuichetResult, combine
from creneau.types import Outcome, ParseResult, Slot

from .conftest import LABELS, URL

Replay = Callable[..., Any]


async def test_check_reports_only_the_guichet_with_slots_when_others_have_none(replay: Replay) -> None:
    site, deps = await replay({"17637": "none", "17638": "slots", "17639": "empty"})
    observation = await ADAPTER.check(ADAPTER.target_from_url(URL), deps)
    assert observation.outcome is Outcome.SLOTS_AVAILABLE
    assert [(s.start, s.guichet, s.guichet_label) for s in observation.slots] == [
        (datetime(2026, 5, 5, 7, 0, tzinfo=UTC), "17638", LABELS["17638"]),
        (datetime(2026, 5, 7, 12, 30, tzinfo=UTC), "17638", LABELS["17638"]),
    ]
    assert b"libre" in observation.raw_page
    hosts = {line.rpartition("host=")[2] for line in site.log}
    assert hosts == {"www.seine-saint-denis.gouv.fr"}  # official Host header kept


async def test_check_walks_like_a_browser_when_reading_every_guichet(replay: Replay) -> None:
    site, deps = await replay({"17637": "none", "17638": "empty"})
    await ADAPTER.check(ADAPTER.target_from_url(URL), deps)
    requests = [line.partition(" host=")[0] for line in site.log]
    week = "GET /ezjscore/call/bookingserver::planning::assign::9846::17638::"
    assert requests == [
        "GET /booking/create/9846/0",
        "POST /booking/create/9846/0",
        "GET /booking/create/9846/1",
        "POST /booking/create/9846/1",
        "GET /booking/create/9846/2",
        "POST /booking/create/9846/1",
        "GET /booking/create/9846/3",
        "POST /booking/create/9846/3",
        "GET /booking/create/9846/4",
        f"{week}0",
        f"{week}7",
        f"{week}14",
    ]


async def test_check_says_no_slots_when_every_guichet_was_read_empty(replay: Replay) -> None:
    _, deps = await replay({"17637": "none", "17638": "empty", "17639": "none"})
    observation = await ADAPTER.check(ADAPTER.target_from_url(URL), deps)
    assert observation.outcome is Outcome.NO_SLOTS
    assert observation.slots == ()
    assert observation.evidence.count("exact no-slot sentence") == 2


@pytest.mark.parametrize(
    ("guichets", "outcome"),
    [
        pytest.param({"17637": "none", "17638": "429", "17639": "none"}, Outcome.RATE_LIMITED, id="429-midway"),
        pytest.param({"17637": "none", "17638": "none", "17639": "403"}, Outcome.BLOCKED, id="403-last"),
        pytest.param({"17637": "500", "17638": "none"}, Outcome.UNAVAILABLE, id="500-first"),
        pytest.param({"17637": "none", "17638": "404"}, Outcome.LAYOUT_UNKNOWN, id="404"),
        pytest.param({"17637": "none", "17638": "week-0:502"}, Outcome.UNAVAILABLE, id="502-on-week"),
    ],
)
async def test_check_is_never_no_slots_when_a_guichet_could_not_be_read(
    replay: Replay, guichets: dict[str, str], outcome: Outcome
) -> None:
    _, deps = await replay(guichets)
    observation = await ADAPTER.check(ADAPTER.target_from_url(URL), deps)
    assert (observation.outcome, observation.slots) == (outcome, ())


async def test_check_stops_at_the_first_refusal_when_site_pushes_back(replay: Replay) -> None:
    site, deps = await replay({"17637": "429", "17638": "slots", "17639": "none"})
    observation = await ADAPTER.check(ADAPTER.target_from_url(URL), deps)
    assert observation.outcome is Outcome.RATE_LIMITED
    assert sum("POST /booking/create/9846/1" in line for line in site.log) == 1
    assert "2 guichet(s) not read" in observation.evidence


async def test_check_keeps_slots_seen_when_a_later_week_fails(replay: Replay) -> None:
    _, deps = await replay({"17637": "none", "17638": "week-1:502"})
    observation = await ADAPTER.check(ADAPTER.target_from_url(URL), deps)
    assert observation.outcome is Outcome.SLOTS_AVAILABLE
    assert len(observation.slots) == 2


async def test_check_reads_the_only_guichet_when_the_choice_is_skipped(replay: Replay) -> None:
    site, deps = await replay({"17638": "slots"})
    observation = await ADAPTER.check(ADAPTER.target_from_url(URL), deps)
    assert observation.outcome is Outcome.SLOTS_AVAILABLE
    assert {s.guichet for s in observation.slots} == {"17638"}
    assert not any("/booking/create/9846/1" in line for line in site.log)


async def test_check_reads_the_configured_weeks_when_the_first_has_slots(replay: Replay) -> None:
    site, deps = await replay({"17637": "slots", "17638": "none"}, legacy_max_weeks=5)
    observation = await ADAPTER.check(ADAPTER.target_from_url(URL), deps)
    assert observation.outcome is Outcome.SLOTS_AVAILABLE
    assert sum("/ezjscore/" in line for line in site.log) == 5


async def test_check_is_inconclusive_when_the_calendar_never_ends_without_a_free_cell(replay: Replay) -> None:
    # A calendar is only shown to a guichet with free slots: weeks are read on, as far as half a year.
    site, deps = await replay({"17637": "endless", "17638": "none"}, legacy_max_weeks=2)
    observation = await ADAPTER.check(ADAPTER.target_from_url(URL), deps)
    assert (observation.outcome, observation.slots) == (Outcome.LAYOUT_UNKNOWN, ())
    assert f"{SEARCH_WEEKS} week(s) read without a free cell, but the calendar goes on" in observation.evidence
    assert sum("/ezjscore/" in line for line in site.log) == SEARCH_WEEKS


async def test_check_is_a_network_error_when_the_site_is_unreachable(replay: Replay) -> None:
    from creneau.sources.base import SourceDeps
    from creneau.sources.http import Http

    _, deps = await replay({})
    async with Http(user_agent="creneau-test", route_overrides={"*": "http://127.0.0.1:9"}) as http:
        observation = await ADAPTER.check(ADAPTER.target_from_url(URL), SourceDeps(http=http, settings=deps.settings))
    assert observation.outcome is Outcome.NETWORK_ERROR


def _guichet(outcome: Outcome, *, slots: int = 0) -> GuichetResult:
    found = tuple(Slot(datetime(2026, 5, 5, 7, i, tzinfo=UTC), guichet="g") for i in range(slots))
    return GuichetResult("g", "G", ParseResult(outcome, outcome.value, found), None)


@pytest.mark.parametrize(
    ("outcomes", "expected", "outcome"),
    [
        pytest.param([Outcome.NO_SLOTS, Outcome.SLOTS_AVAILABLE], 2, Outcome.SLOTS_AVAILABLE, id="one-with-slots"),
        pytest.param([Outcome.RATE_LIMITED, Outcome.SLOTS_AVAILABLE], 3, Outcome.SLOTS_AVAILABLE, id="slots-win"),
        pytest.param([Outcome.NO_SLOTS, Outcome.NO_SLOTS], 2, Outcome.NO_SLOTS, id="all-empty"),
        pytest.param([Outcome.NO_SLOTS, Outcome.NO_SLOTS], 3, Outcome.LAYOUT_UNKNOWN, id="one-not-read"),
        pytest.param([Outcome.NO_SLOTS, Outcome.LAYOUT_UNKNOWN], 2, Outcome.LAYOUT_UNKNOWN, id="one-unknown"),
        pytest.param([Outcome.NETWORK_ERROR, Outcome.BLOCKED], 2, Outcome.BLOCKED, id="worst-is-blocked"),
        pytest.param([Outcome.NO_SLOTS, Outcome.NETWORK_ERROR], 2, Outcome.NETWORK_ERROR, id="network"),
        pytest.param([], 2, Outcome.LAYOUT_UNKNOWN, id="none-read"),
    ],
)
def test_combine_reports_slots_only_on_evidence_and_no_slots_only_when_complete(
    outcomes: list[Outcome], expected: int, outcome: Outcome
) -> None:
    results = [_guichet(o, slots=2 if o is Outcome.SLOTS_AVAILABLE else 0) for o in outcomes]
    combined, _ = combine(results, expected)
    assert combined.outcome is outcome
    assert len(combined.slots) == (2 if outcome is Outcome.SLOTS_AVAILABLE else 0)


async def test_check_counts_every_request_it_sends_when_its_requests_are_tallied(replay: Replay) -> None:
    site, deps = await replay({"17637": "none", "17638": "empty"})

    async def tallied(walk: Callable[[], Awaitable[object]]) -> int:
        with count_requests() as tally:
            await walk()
        return tally.requests

    form = tallied(lambda: ADAPTER.check(ADAPTER.target_from_url(URL), deps))
    other = tallied(lambda: deps.http.flow().get(URL))  # another walk at the same time counts apart
    with count_requests() as everything:
        assert await asyncio.gather(form, other) == [12, 1]  # redirects included (see the walk above)
    assert everything.requests == len(site.log) == 13
