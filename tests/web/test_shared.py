# SPDX-License-Identifier: AGPL-3.0-or-later
"""Answers shared by every visitor who is not signed in (`web.shared`): served again without the app, yet
never older than the board, with each browser's own CSRF token, the security headers, and 304s."""

from __future__ import annotations

import pytest

from creneau.types import Outcome
from creneau.web.security import SECURITY_HEADERS

from .kit import WebKit, csrf_of, record_check, target

TARGET = "rdvpref-3762"
PATHS = ["/api/v1/status", f"/api/v1/targets/{TARGET}", "/status", f"/targets/{TARGET}"]


async def _seed(kit: WebKit, outcome: Outcome) -> None:
    await kit.store.targets.upsert(target(), now=kit.clock.now())
    await record_check(kit.store, TARGET, outcome, kit.clock.now())


async def _next_snapshot(kit: WebKit) -> None:
    """What happens in service: the snapshot grows older than the refresh interval, the next request
    starts a rebuild, and the rebuild lands."""
    board = kit.app.state.web.board
    generation = board.generation
    kit.clock.advance(kit.settings.web_board_refresh_s)
    await board.wait_newer(generation, 5)
    assert board.generation > generation


def _says(path: str, text: str, health: str) -> bool:
    if path.startswith("/api/"):
        return f'"health":"{health}"' in text
    words = {"slots": "Slots available", "no_slots": "No slots"}[health]
    return words in text


@pytest.mark.parametrize("path", PATHS)
async def test_shared_answer_is_served_again_from_the_cache_when_nothing_changed(kit: WebKit, path: str) -> None:
    await _seed(kit, Outcome.NO_SLOTS)
    first = await kit.client.get(path, headers={"accept-language": "en"})
    assert first.status_code == 200
    board = kit.app.state.web.board
    assert board.answers.holds((path, b"", "en", False))
    again = await kit.client.get(path, headers={"accept-language": "en"})
    assert again.status_code == 200
    assert again.headers["etag"] == first.headers["etag"]  # the same stored answer
    assert again.content == first.content


@pytest.mark.parametrize("path", PATHS)
async def test_shared_answer_shows_a_new_check_when_the_board_refreshes(kit: WebKit, path: str) -> None:
    await _seed(kit, Outcome.NO_SLOTS)
    for _ in range(2):  # the second one comes from the shared answers
        before = await kit.client.get(path, headers={"accept-language": "en"})
        assert _says(path, before.text, "no_slots")
    await record_check(kit.store, TARGET, Outcome.SLOTS_AVAILABLE, kit.clock.now())
    await _next_snapshot(kit)
    after = await kit.client.get(path, headers={"accept-language": "en"})
    assert _says(path, after.text, "slots"), after.text
    assert after.headers["etag"] != before.headers["etag"]


async def test_shared_page_carries_each_browsers_own_csrf_token_and_the_security_headers(kit: WebKit) -> None:
    await _seed(kit, Outcome.NO_SLOTS)
    one, two = kit.browser(), kit.browser()
    try:
        pages = [await client.get("/status") for client in (one, two, one, two)]
    finally:
        await one.aclose()
        await two.aclose()
    tokens = [csrf_of(page.text) for page in pages]
    assert tokens[0] == tokens[2] != tokens[1] == tokens[3]
    assert pages[2].headers["etag"] != pages[3].headers["etag"]  # the ETag names the browser's bytes
    for page in pages:
        for name, value in SECURITY_HEADERS.items():
            assert page.headers[name] == value
        assert page.headers["vary"] == "Accept-Language, Cookie"
        assert page.headers["content-length"] == str(len(page.content))
    assert "set-cookie" in pages[0].headers  # a new browser gets its CSRF cookie from the app
    assert "set-cookie" not in pages[2].headers


async def test_shared_answer_is_not_modified_when_the_browser_has_it(kit: WebKit) -> None:
    await _seed(kit, Outcome.NO_SLOTS)
    first = await kit.client.get("/api/v1/status")
    again = await kit.client.get("/api/v1/status", headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["content-security-policy"] == SECURITY_HEADERS["content-security-policy"]
    other = await kit.client.get("/api/v1/status", headers={"if-none-match": '"something-else"'})
    assert other.status_code == 200
    assert other.headers["access-control-allow-origin"] == "*"


async def test_shared_answers_differ_by_language_query_and_htmx(kit: WebKit) -> None:
    await _seed(kit, Outcome.NO_SLOTS)
    french = (await kit.client.get("/status", headers={"accept-language": "fr"})).text
    english = (await kit.client.get("/status", headers={"accept-language": "en"})).text
    assert "Aucun créneau" in french
    assert "No slots" in english
    block = await kit.client.get("/status", headers={"hx-request": "true", "accept-language": "en"})
    assert "<html" not in block.text
    assert "No slots" in block.text
    assert "<html" in (await kit.client.get("/status", headers={"accept-language": "en"})).text
    assert f"/targets/{TARGET}" in english
    assert f"/targets/{TARGET}" not in (await kit.client.get("/status?dept=75")).text
    assert f"/targets/{TARGET}" in (await kit.client.get("/status?dept=38")).text


async def test_signed_in_person_never_gets_a_shared_answer(kit: WebKit) -> None:
    await _seed(kit, Outcome.NO_SLOTS)
    for _ in range(2):
        assert "Sign in" in (await kit.client.get("/status", headers={"accept-language": "en"})).text
    person = await kit.sign_in("someone@example.org", kit.browser(**{"accept-language": "en"}))
    try:
        page = await person.get("/status")
        assert "My account" in page.text
        assert "etag" not in page.headers
    finally:
        await person.aclose()
