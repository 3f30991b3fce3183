# SPDX-License-Identifier: AGPL-3.0-or-later
"""The operator view: only operators get in (every route, tested for a visitor, a person without the role
and an operator); it tells the sources' health, the backlog and the counts; it shows kept pages as text."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.routing import APIRoute

from creneau.detector import DetectorState, detect
from creneau.store.watchers import Outcome as Verdict
from creneau.store.watchers import WatcherRepo
from creneau.types import Observation, Outcome, Slot

from .kit import WebKit, csrf_of, record_check, target
from .people import TARGET, Person, email_channel, sign_in, watch

EVIL = b'<html><body><script>alert("pwned")</script><h1>Maintenance</h1></body></html>'
SLOT_PAGE = b"<html><body><div class='slot'>12/05 09:00</div></body></html>"


@dataclass
class Site:
    operator: Person
    person: Person
    unknown_digest: str
    slot_digest: str
    flag_id: int


@pytest.fixture
async def site(kit: WebKit) -> AsyncIterator[Site]:
    """An operator; a person who watches TARGET by e-mail and called its alert a false alarm; a page
    creneau did not recognise (holding a script) on another target, blocked twice today; a paused target."""
    operator = await sign_in(kit, "ops@example.org")
    person = await sign_in(kit, "someone@example.org")
    now = kit.clock.now()
    await watch(person, kit.store)
    await email_channel(person, kit.store)
    slot = Slot(datetime(2026, 5, 12, 7, 0, tzinfo=UTC), guichet="1", guichet_label="Guichet 1")
    seen = Observation(TARGET, now, Outcome.SLOTS_AVAILABLE, "slot", (slot,), raw_page=SLOT_PAGE, url="https://x")
    await kit.store.observations.record(seen, now=now)
    (transition,) = detect(DetectorState(), seen).transitions
    recorded = await kit.store.outbox.open_opening_and_enqueue(transition, now=now)
    await WatcherRepo(kit.store).set_outcome(
        person.subscriber_id, recorded.id, None, TARGET, Verdict.FALSE_ALARM, now=now
    )
    (flag,) = await WatcherRepo(kit.store).flags_for_review()
    await kit.store.targets.upsert(target("rdvpref-9001", label="Préfecture <b>test</b>"), now=now)
    unknown = Observation("rdvpref-9001", now, Outcome.LAYOUT_UNKNOWN, "?", raw_page=EVIL, url="https://y")
    await kit.store.observations.record(unknown, now=now)
    for minutes in (30, 20):
        await record_check(kit.store, "rdvpref-9001", Outcome.BLOCKED, now - timedelta(minutes=minutes))
    await kit.store.targets.upsert(target("rdvpref-9002"), now=now)
    await kit.store.targets.pause("rdvpref-9002", until=now + timedelta(hours=6), reason="3 refusals", now=now)
    try:
        yield Site(operator, person, hashlib.sha256(EVIL).hexdigest(), hashlib.sha256(SLOT_PAGE).hexdigest(), flag.id)
    finally:
        for p in (operator, person):
            await p.client.aclose()


def _routes(routes: list[Any], prefix: str = "") -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for route in routes:
        inner = getattr(route, "original_router", None)  # FastAPI keeps included routers as they were
        if inner is not None:
            found |= _routes(inner.routes, prefix + inner.prefix)
        elif isinstance(route, APIRoute):
            found |= {(method, prefix + route.path) for method in route.methods}
    return found


def _admin_routes(kit: WebKit) -> set[tuple[str, str]]:
    return {(method, path) for method, path in _routes(kit.app.routes) if path.startswith("/admin")}


ROUTES = [
    ("GET", "/admin"),
    ("GET", "/admin/review"),
    ("GET", "/admin/pages/{digest}"),
    ("GET", "/admin/pages/{digest}/raw"),
    ("POST", "/admin/review/{flag_id}"),
]


def test_admin_routes_are_all_listed_in_the_authorization_tests(kit: WebKit) -> None:
    assert _admin_routes(kit) == set(ROUTES)


async def _call(kit: WebKit, client: Any, method: str, path: str, site: Site) -> Any:
    url = path.format(digest=site.unknown_digest, flag_id=site.flag_id)
    if method == "GET":
        return await client.get(url)
    token = csrf_of((await client.get("/")).text)
    return await client.post(url, data={"csrf_token": token})


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
async def test_admin_route_sends_a_visitor_to_sign_in(kit: WebKit, site: Site, method: str, path: str) -> None:
    response = await _call(kit, kit.browser(), method, path, site)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=/admin")


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
async def test_admin_route_refuses_a_person_without_the_operator_role(
    kit: WebKit, site: Site, method: str, path: str
) -> None:
    response = await _call(kit, site.person.client, method, path, site)
    assert response.status_code == 403
    assert "pwned" not in response.text
    assert await WatcherRepo(kit.store).flags_for_review() != []  # nothing was marked


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
async def test_admin_route_answers_an_operator(kit: WebKit, site: Site, method: str, path: str) -> None:
    response = await _call(kit, site.operator.client, method, path, site)
    assert response.status_code == (303 if method == "POST" else 200)


async def test_admin_review_refuses_a_post_without_csrf_token(kit: WebKit, site: Site) -> None:
    response = await site.operator.client.post(f"/admin/review/{site.flag_id}")
    assert response.status_code == 403
    assert len(await WatcherRepo(kit.store).flags_for_review()) == 1


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("fr", ["Vue de l’opérateur", "Santé des sources", "Pages en pause", "3 refusals", "Bloqué"]),
        ("en", ["Operator view", "Sources' health", "Paused pages", "3 refusals", "Blocked"]),
    ],
    ids=["fr", "en"],
)
async def test_admin_overview_tells_sources_backlog_and_counts(
    kit: WebKit, site: Site, locale: str, words: list[str]
) -> None:
    page = (await site.operator.client.get("/admin", headers={"accept-language": locale})).text
    for word in words:
        assert word in page
    assert "www.rdv-prefecture.interieur.gouv.fr" in page
    assert "<b>test</b>" not in page  # labels from the store are escaped
    assert ">email<" in page  # the e-mail delivery waits in the backlog


async def test_admin_overview_counts_what_the_store_holds(kit: WebKit, site: Site) -> None:
    from creneau.web import admin_queries as q

    counts = await kit.app.state.web.board.reader.run(
        lambda conn: q.counts(conn, day_start=kit.clock.now() - timedelta(hours=1))
    )
    assert counts == q.Counts(targets=3, watched_targets=1, subscribers=2, active_watches=1, openings_today=1)
    hosts = await kit.app.state.web.board.reader.run(
        lambda conn: q.source_health(conn, now=kit.clock.now(), since=kit.clock.now() - timedelta(hours=24))
    )
    (host,) = hosts
    assert (host.system, host.targets, host.paused, host.watched) == ("rdvpref", 3, 1, 1)
    assert host.refusals == {"blocked": 2}


async def test_admin_review_lists_unknown_pages_and_false_alarms_without_naming_anyone(kit: WebKit, site: Site) -> None:
    page = (await site.operator.client.get("/admin/review")).text
    assert f"/admin/pages/{site.unknown_digest}" in page
    assert f"/admin/pages/{site.slot_digest}" in page
    assert "someone@example.org" not in page
    assert "pwned" not in page


async def test_admin_marks_a_false_alarm_reviewed(kit: WebKit, site: Site) -> None:
    response = await _call(kit, site.operator.client, "POST", "/admin/review/{flag_id}", site)
    assert response.headers["location"] == "/admin/review"
    assert await WatcherRepo(kit.store).flags_for_review() == []
    again = await _call(kit, site.operator.client, "POST", "/admin/review/{flag_id}", site)
    assert again.status_code == 303  # already reviewed: still there, nothing more to do


async def test_admin_shows_a_kept_page_as_escaped_text_never_as_markup(kit: WebKit, site: Site) -> None:
    response = await site.operator.client.get(f"/admin/pages/{site.unknown_digest}")
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in response.text
    assert '<script>alert("pwned")' not in response.text
    assert "script-src 'self'" in response.headers["content-security-policy"]


async def test_admin_download_is_a_plain_text_attachment(kit: WebKit, site: Site) -> None:
    response = await site.operator.client.get(f"/admin/pages/{site.unknown_digest}/raw")
    assert response.content == EVIL
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("digest", ["0" * 64, "not-a-digest", "A" * 64], ids=["unknown", "malformed", "upper"])
async def test_admin_page_answers_not_found_when_no_page_has_that_digest(kit: WebKit, site: Site, digest: str) -> None:
    response = await site.operator.client.get(f"/admin/pages/{digest}")
    assert response.status_code in (400, 404)


async def test_admin_role_taken_back_closes_the_operator_view_at_the_next_request(kit: WebKit, site: Site) -> None:
    from creneau.store.accounts import Role
    from creneau.web.admin_cli import set_role

    assert (await site.operator.client.get("/admin")).status_code == 200
    await set_role(kit.store, "ops@example.org", Role.USER, create=False)
    assert (await site.operator.client.get("/admin")).status_code == 403
