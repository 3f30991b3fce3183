# SPDX-License-Identifier: AGPL-3.0-or-later
"""Watches on the web: created from the wizard, listed, paused, resumed, deleted; quiet hours; every route
refuses another person's watch and a request without CSRF token; invalid forms save nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, time

import pytest

from creneau.store import WatchStatus
from creneau.store.watchers import QuietHours, WatcherRepo

from .kit import BASE, WebKit, csrf_of
from .people import GUICHET_TARGET, TARGET, People, form, three_people, watch


@pytest.fixture
async def people(kit: WebKit) -> AsyncIterator[People]:
    async for value in three_people(kit):
        yield value


async def test_find_offers_to_watch_each_booking_page_when_the_office_is_found(kit: WebKit) -> None:
    page = await kit.client.get("/find?commune=38185&demarche=sejour.other")
    assert page.status_code == 200
    assert f'href="/watches/new?target={TARGET}"' in page.text


async def test_new_watch_form_sends_to_sign_in_and_back_with_its_target_when_signed_out(kit: WebKit) -> None:
    response = await kit.client.get(f"/watches/new?target={TARGET}")
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next=/watches/new%3Ftarget%3D{TARGET}"
    login = await kit.client.get(response.headers["location"])
    assert f'name="next" value="/watches/new?target={TARGET}"' in login.text

    await kit.post("/login", {"email": "newcomer@example.org", "next": f"/watches/new?target={TARGET}"})
    (mail,) = await kit.sink.messages.wait_for(1)
    link = next(word for word in mail.message.get_body(("plain",)).get_content().split() if "token=" in word)
    page = await kit.client.get(link.replace(BASE, ""))
    done = await kit.client.post("/auth/magic", data={"csrf_token": csrf_of(page.text), "token": link.split("=")[-1]})
    assert done.headers["location"] == f"/watches/new?target={TARGET}"
    assert (await kit.client.get(done.headers["location"])).status_code == 200


async def test_new_watch_form_lists_the_counters_when_the_page_has_some(kit: WebKit, people: People) -> None:
    page = await people.owner.client.get(f"/watches/new?target={GUICHET_TARGET}")
    assert page.status_code == 200
    assert 'value="14202"' in page.text


async def test_new_watch_form_answers_404_when_the_page_is_unknown(kit: WebKit, people: People) -> None:
    assert (await people.owner.client.get("/watches/new?target=nope")).status_code == 404


async def test_create_watch_saves_the_filters_when_the_form_is_valid(kit: WebKit, people: People) -> None:
    watch_id = await watch(people.owner, kit.store, GUICHET_TARGET, before="01/07/2026", guichet="14202")
    saved = await kit.store.subscribers.get_watch(watch_id)
    assert saved.subscriber_id == people.owner.subscriber_id
    assert saved.target_ids == (GUICHET_TARGET,)
    assert saved.filters.before == date(2026, 7, 1)
    assert saved.filters.guichets == frozenset({"14202"})
    assert saved.status is WatchStatus.ACTIVE
    listing = (await people.owner.client.get("/watches")).text
    assert f'id="watch-{watch_id}"' in listing


@pytest.mark.parametrize(
    ("locale", "field", "value", "text"),
    [
        pytest.param("fr", "before", "31/02/2026", "Indiquez un jour comme", id="fr-bad-day"),
        pytest.param("en", "before", "31/02/2026", "Enter a day like", id="en-bad-day"),
        pytest.param("fr", "before", "2026-05-04", "Choisissez un jour après aujourd’hui", id="fr-today"),
        pytest.param("en", "before", "2031-01-01", "within two years", id="en-too-far"),
        pytest.param("fr", "guichet", "99999", "Choisissez un guichet dans la liste.", id="fr-bad-counter"),
        pytest.param("en", "guichet", "99999", "Choose a counter from the list.", id="en-bad-counter"),
    ],
)
async def test_create_watch_rerenders_with_field_errors_and_saves_nothing_when_invalid(
    kit: WebKit, people: People, locale: str, field: str, value: str, text: str
) -> None:
    response = await form(
        people.owner, "/watches", {"target": GUICHET_TARGET, field: value}, headers={"accept-language": locale}
    )
    assert response.status_code == 422
    assert text in response.text
    assert f'id="{field}-error"' in response.text
    assert await kit.store.subscribers.list_watches(subscriber_id=people.owner.subscriber_id) == []


async def test_owner_pauses_resumes_and_deletes_their_watch(kit: WebKit, people: People) -> None:
    watch_id = await watch(people.owner, kit.store)
    assert (await form(people.owner, f"/watches/{watch_id}/pause")).status_code == 303
    assert (await kit.store.subscribers.get_watch(watch_id)).status is WatchStatus.PAUSED
    assert (await form(people.owner, f"/watches/{watch_id}/resume")).status_code == 303
    assert (await kit.store.subscribers.get_watch(watch_id)).status is WatchStatus.ACTIVE
    assert (await form(people.owner, f"/watches/{watch_id}/delete")).status_code == 303
    assert await kit.store.subscribers.list_watches(subscriber_id=people.owner.subscriber_id) == []


@pytest.mark.parametrize("action", ["pause", "resume", "delete"])
@pytest.mark.parametrize("who", ["co", "stranger"])
async def test_watch_actions_answer_404_when_the_watch_is_someone_elses(
    kit: WebKit, people: People, action: str, who: str
) -> None:
    watch_id = await watch(people.owner, kit.store)
    await watch(people.co, kit.store)  # the co-member watches the same page, with a watch of their own
    if action == "resume":
        await kit.store.subscribers.set_watch_status(watch_id, WatchStatus.PAUSED)
    before = await kit.store.subscribers.get_watch(watch_id)
    response = await form(getattr(people, who), f"/watches/{watch_id}/{action}")
    assert response.status_code == 404
    assert await kit.store.subscribers.get_watch(watch_id) == before


async def test_watch_list_shows_only_the_persons_own_watches(kit: WebKit, people: People) -> None:
    mine = await watch(people.owner, kit.store)
    theirs = await watch(people.co, kit.store)
    listing = (await people.stranger.client.get("/watches")).text
    assert f'id="watch-{mine}"' not in listing
    assert f'id="watch-{theirs}"' not in listing
    co_listing = (await people.co.client.get("/watches")).text
    assert f'id="watch-{theirs}"' in co_listing
    assert f'id="watch-{mine}"' not in co_listing


@pytest.mark.parametrize(
    "path", ["/watches", "/watches/1/pause", "/watches/1/resume", "/watches/1/delete", "/watches/quiet"]
)
async def test_watch_routes_refuse_a_post_without_csrf_token(kit: WebKit, people: People, path: str) -> None:
    await watch(people.owner, kit.store)
    response = await people.owner.client.post(path, data={"target": TARGET, "quiet_start": "22:00"})
    assert response.status_code == 403
    assert len(await kit.store.subscribers.list_watches(subscriber_id=people.owner.subscriber_id)) == 1


async def test_quiet_hours_are_saved_and_cleared_when_the_form_is_valid(kit: WebKit, people: People) -> None:
    response = await form(
        people.owner, "/watches/quiet", {"quiet_start": "22:30", "quiet_end": "07:00", "quiet_alerts": "1"}
    )
    assert response.status_code == 303
    repo = WatcherRepo(kit.store)
    assert (await repo.prefs(people.owner.subscriber_id)).quiet == QuietHours(time(22, 30), time(7, 0), alerts=True)
    assert (await repo.prefs(people.co.subscriber_id)).quiet is None
    await form(people.owner, "/watches/quiet", {"action": "clear"})
    assert (await repo.prefs(people.owner.subscriber_id)).quiet is None


@pytest.mark.parametrize(
    ("locale", "start", "end", "field", "text"),
    [
        pytest.param("fr", "25:00", "07:00", "quiet_start", "Indiquez une heure comme 22:00.", id="fr-start"),
        pytest.param("en", "22:00", "", "quiet_end", "Enter a time like 07:30.", id="en-end"),
        pytest.param("en", "22:00", "22:00", "quiet_end", "The end must differ from the start.", id="en-same"),
        pytest.param("fr", "22:00", "22:00", "quiet_end", "La fin doit être différente du début.", id="fr-same"),
    ],
)
async def test_quiet_hours_form_shows_field_errors_and_saves_nothing_when_invalid(
    kit: WebKit, people: People, locale: str, start: str, end: str, field: str, text: str
) -> None:
    response = await form(
        people.owner, "/watches/quiet", {"quiet_start": start, "quiet_end": end}, headers={"accept-language": locale}
    )
    assert response.status_code == 422
    assert text in response.text
    assert f'id="{field}-error"' in response.text
    assert (await WatcherRepo(kit.store).prefs(people.owner.subscriber_id)).quiet is None


async def test_export_holds_the_persons_watching_data_and_nobody_elses(kit: WebKit, people: People) -> None:
    await form(people.owner, "/watches/quiet", {"quiet_start": "22:00", "quiet_end": "07:00"})
    await form(people.co, "/watches/quiet", {"quiet_start": "21:00", "quiet_end": "06:00"})
    doc = (await people.owner.client.get("/account/export")).json()
    assert doc["watching"]["preferences"]["quiet_start"] == 22 * 60
    assert doc["watching"]["preferences"]["subscriber_id"] == people.owner.subscriber_id
