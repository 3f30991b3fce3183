# SPDX-License-Identifier: AGPL-3.0-or-later
"""Alert history and its outcome buttons: each person sees and judges only the alerts that reached them;
"I booked it" pauses the watch, "false alarm" flags the page for the operator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from creneau.detector import DetectorState, detect
from creneau.store import WatchStatus
from creneau.store.watchers import WatcherRepo
from creneau.types import Observation, Outcome, Slot

from .kit import WebKit
from .people import TARGET, People, email_channel, form, three_people, watch


@dataclass
class Alerted:
    people: People
    transition_id: int
    owner_watch: int
    co_watch: int


@pytest.fixture
async def alerted(kit: WebKit) -> AsyncIterator[Alerted]:
    """Owner and co-member watch the same page by e-mail; slots appeared there once. The stranger watches
    nothing."""
    async for people in three_people(kit):
        owner_watch = await watch(people.owner, kit.store)
        co_watch = await watch(people.co, kit.store)
        for person in (people.owner, people.co, people.stranger):
            await email_channel(person, kit.store)
        slot = Slot(datetime(2026, 5, 12, 7, 0, tzinfo=UTC), guichet="1", guichet_label="Guichet 1")
        observation = Observation(TARGET, kit.clock.now(), Outcome.SLOTS_AVAILABLE, "test", (slot,))
        (transition,) = detect(DetectorState(), observation).transitions
        recorded = await kit.store.outbox.open_opening_and_enqueue(transition, now=kit.clock.now())
        yield Alerted(people, recorded.id, owner_watch, co_watch)


async def test_alert_history_lists_the_alerts_that_reached_the_person_only(kit: WebKit, alerted: Alerted) -> None:
    mark = f'id="alert-{alerted.transition_id}"'
    owner_page = await alerted.people.owner.client.get("/alerts")
    assert owner_page.status_code == 200
    assert mark in owner_page.text
    assert "Guichet 1" in owner_page.text
    assert mark in (await alerted.people.co.client.get("/alerts")).text
    assert mark not in (await alerted.people.stranger.client.get("/alerts")).text


async def test_i_booked_it_pauses_the_watch_it_came_through_and_no_other(kit: WebKit, alerted: Alerted) -> None:
    owner = alerted.people.owner
    response = await form(owner, f"/alerts/{alerted.transition_id}/outcome", {"outcome": "booked"}, page="/alerts")
    assert response.status_code == 303
    assert (await kit.store.subscribers.get_watch(alerted.owner_watch)).status is WatchStatus.PAUSED
    assert (await kit.store.subscribers.get_watch(alerted.co_watch)).status is WatchStatus.ACTIVE
    page = (await owner.client.get("/alerts")).text
    assert 'aria-pressed="true"' in page


async def test_false_alarm_flags_the_page_for_review_once_per_person(kit: WebKit, alerted: Alerted) -> None:
    repo = WatcherRepo(kit.store)
    await form(
        alerted.people.co, f"/alerts/{alerted.transition_id}/outcome", {"outcome": "false_alarm"}, page="/alerts"
    )
    await form(
        alerted.people.co, f"/alerts/{alerted.transition_id}/outcome", {"outcome": "false_alarm"}, page="/alerts"
    )
    (flag,) = await repo.flags_for_review()
    assert (flag.target_id, flag.transition_id) == (TARGET, alerted.transition_id)
    assert await repo.mark_reviewed(flag.id, now=kit.clock.now())
    assert await repo.flags_for_review() == []
    assert await repo.outcomes_of(alerted.people.owner.subscriber_id, [alerted.transition_id]) == {}


@pytest.mark.parametrize("outcome", ["booked", "gone", "false_alarm"])
async def test_outcome_answers_404_and_records_nothing_when_the_alert_is_someone_elses(
    kit: WebKit, alerted: Alerted, outcome: str
) -> None:
    stranger = alerted.people.stranger
    response = await form(stranger, f"/alerts/{alerted.transition_id}/outcome", {"outcome": outcome}, page="/alerts")
    assert response.status_code == 404
    assert await WatcherRepo(kit.store).flags_for_review() == []
    assert (await kit.store.subscribers.get_watch(alerted.owner_watch)).status is WatchStatus.ACTIVE


async def test_outcome_refuses_an_unknown_verdict_and_a_post_without_csrf_token(kit: WebKit, alerted: Alerted) -> None:
    owner = alerted.people.owner
    path = f"/alerts/{alerted.transition_id}/outcome"
    assert (await form(owner, path, {"outcome": "maybe"}, page="/alerts")).status_code == 400
    assert (await owner.client.post(path, data={"outcome": "booked"})).status_code == 403
    assert (await kit.store.subscribers.get_watch(alerted.owner_watch)).status is WatchStatus.ACTIVE


async def test_export_holds_the_persons_outcomes_only(kit: WebKit, alerted: Alerted) -> None:
    await form(alerted.people.owner, f"/alerts/{alerted.transition_id}/outcome", {"outcome": "gone"}, page="/alerts")
    await form(alerted.people.co, f"/alerts/{alerted.transition_id}/outcome", {"outcome": "booked"}, page="/alerts")
    doc = (await alerted.people.owner.client.get("/account/export")).json()
    assert [o["outcome"] for o in doc["watching"]["alert_outcomes"]] == ["gone"]
