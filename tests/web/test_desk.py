# SPDX-License-Identifier: AGPL-3.0-or-later
"""The captcha desk on the web: only opted-in watchers of the page see its image (never cached) and may
answer; the first answer resumes the checks for everyone; the page counts answers, never names anyone;
answers are rate-limited."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from creneau.sources.captcha import CaptchaChallenge, ChallengeStatus, FileCaptchaDesk
from creneau.web.desk import ANSWERS_PER_WINDOW

from .kit import WebKit
from .people import TARGET, People, Person, form, three_people, watch

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


@dataclass
class Desk:
    people: People
    desk: FileCaptchaDesk
    challenge: CaptchaChallenge


@pytest.fixture
async def desk(kit: WebKit, tmp_path: Path) -> AsyncIterator[Desk]:
    """Owner and co-member watch TARGET, whose site asks for a captcha; the stranger watches another page."""
    files = FileCaptchaDesk(tmp_path / "captcha")
    kit.app.state.captcha_desk = files
    async for people in three_people(kit):
        await watch(people.owner, kit.store)
        await watch(people.co, kit.store)
        await watch(people.stranger, kit.store, "rdvpref-4083")
        now = kit.clock.now()
        challenge = CaptchaChallenge(
            id="a1b2c3d4", target_id=TARGET, url="https://www.rdv-prefecture.interieur.gouv.fr/", captcha_id="c1",
            style="image", image=PNG, created_at=now, expires_at=now + timedelta(minutes=10),
        )  # fmt: skip
        await files.file(challenge)
        await kit.store.targets.reschedule(TARGET, now + timedelta(hours=1))  # waiting for a person
        yield Desk(people, files, challenge)


async def _opt_in(person: Person, value: str = "1") -> None:
    response = await form(person, "/desk/optin", {"optin": value}, page="/desk")
    assert response.status_code == 303


IMAGE = "/desk/a1b2c3d4/image"


async def test_desk_shows_the_image_only_once_the_watcher_opted_in(kit: WebKit, desk: Desk) -> None:
    owner = desk.people.owner
    assert IMAGE not in (await owner.client.get("/desk")).text
    assert (await owner.client.get(IMAGE)).status_code == 403
    await _opt_in(owner)
    page = await owner.client.get("/desk")
    assert f'src="{IMAGE}"' in page.text
    assert "no-store" in page.headers["cache-control"]
    image = await owner.client.get(IMAGE)
    assert image.status_code == 200
    assert image.content == PNG
    assert image.headers["content-type"] == "image/png"
    assert image.headers["cache-control"].startswith("private, no-store")


async def test_desk_image_and_answer_answer_404_when_the_person_does_not_watch_the_page(
    kit: WebKit, desk: Desk
) -> None:
    stranger = desk.people.stranger
    await _opt_in(stranger)
    assert IMAGE not in (await stranger.client.get("/desk")).text
    assert (await stranger.client.get(IMAGE)).status_code == 404
    assert (await form(stranger, "/desk/a1b2c3d4/answer", {"code": "XYZ"}, page="/desk")).status_code == 404
    assert (await desk.desk.get("a1b2c3d4")).status is ChallengeStatus.PENDING  # type: ignore[union-attr]
    assert (await kit.client.get(IMAGE)).status_code == 303  # signed out: to the sign-in page


async def test_first_answer_resumes_the_checks_and_later_ones_change_nothing(kit: WebKit, desk: Desk) -> None:
    owner, co = desk.people.owner, desk.people.co
    await _opt_in(owner)
    await _opt_in(co)
    first = await form(owner, "/desk/a1b2c3d4/answer", {"code": " K7PQ "}, page="/desk")
    assert first.status_code == 303
    assert first.headers["location"] == "/desk?answered=ok"
    answered = await desk.desk.get("a1b2c3d4")
    assert answered is not None
    assert (answered.status, answered.answer) == (ChallengeStatus.ANSWERED, "K7PQ")
    assert (await kit.store.targets.get(TARGET)).state.next_check_at == kit.clock.now()  # checked again now
    late = await form(co, "/desk/a1b2c3d4/answer", {"code": "WRONG"}, page="/desk")
    assert late.headers["location"] == "/desk?answered=late"
    assert (await desk.desk.get("a1b2c3d4")).answer == "K7PQ"  # type: ignore[union-attr]


async def test_desk_counts_answers_that_kept_the_page_watched_without_naming_anyone(kit: WebKit, desk: Desk) -> None:
    owner, co = desk.people.owner, desk.people.co
    await _opt_in(owner)
    await form(owner, "/desk/a1b2c3d4/answer", {"code": "K7PQ"}, page="/desk")
    page = (await co.client.get("/desk", headers={"accept-language": "fr"})).text
    assert "1 réponse" in page
    assert owner.email not in page
    assert "owner" not in page


@pytest.mark.parametrize(
    ("locale", "text"),
    [pytest.param("fr", "Tapez les caractères", id="fr"), pytest.param("en", "Type the characters", id="en")],
)
async def test_empty_answer_shows_a_field_error_in_language_and_answers_nothing(
    kit: WebKit, desk: Desk, locale: str, text: str
) -> None:
    await _opt_in(desk.people.owner)
    response = await form(
        desk.people.owner, "/desk/a1b2c3d4/answer", {"code": "  "}, page="/desk", headers={"accept-language": locale}
    )
    assert response.status_code == 422
    assert text in response.text
    assert 'id="code-a1b2c3d4-error"' in response.text
    assert (await desk.desk.get("a1b2c3d4")).status is ChallengeStatus.PENDING  # type: ignore[union-attr]


async def test_answers_are_rate_limited_per_person(kit: WebKit, desk: Desk) -> None:
    owner = desk.people.owner
    await _opt_in(owner)
    for _ in range(ANSWERS_PER_WINDOW):
        assert (await form(owner, "/desk/a1b2c3d4/answer", {"code": "AB"}, page="/desk")).status_code == 303
    refused = await form(owner, "/desk/a1b2c3d4/answer", {"code": "AB"}, page="/desk")
    assert refused.status_code == 429
    kit.clock.advance(11 * 60)
    await desk.desk.file(
        CaptchaChallenge(
            id="b2c3d4e5", target_id=TARGET, url="https://x.gouv.fr/", captcha_id="c2", style="image", image=PNG,
            created_at=kit.clock.now(), expires_at=kit.clock.now() + timedelta(minutes=10),
        )
    )  # fmt: skip
    assert (await form(owner, "/desk/b2c3d4e5/answer", {"code": "AB"}, page="/desk")).status_code == 303


@pytest.mark.parametrize("path", ["/desk/optin", "/desk/a1b2c3d4/answer"])
async def test_desk_refuses_a_post_without_csrf_token(kit: WebKit, desk: Desk, path: str) -> None:
    response = await desk.people.owner.client.post(path, data={"optin": "1", "code": "AB"})
    assert response.status_code == 403
    assert (await desk.desk.get("a1b2c3d4")).status is ChallengeStatus.PENDING  # type: ignore[union-attr]


async def test_export_holds_the_persons_desk_answers_only(kit: WebKit, desk: Desk) -> None:
    await _opt_in(desk.people.owner)
    await _opt_in(desk.people.co)
    await form(desk.people.co, "/desk/a1b2c3d4/answer", {"code": "AB"}, page="/desk")
    owner_doc = (await desk.people.owner.client.get("/account/export")).json()
    co_doc = (await desk.people.co.client.get("/account/export")).json()
    assert owner_doc["watching"]["desk_answers"] == []
    assert [a["target_id"] for a in co_doc["watching"]["desk_answers"]] == [TARGET]
    assert owner_doc["watching"]["preferences"]["desk_optin"] is True
