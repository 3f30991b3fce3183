# SPDX-License-Identifier: AGPL-3.0-or-later
"""The store-backed captcha desk keeps the `CaptchaDesk` contract exactly as the file desk does."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from creneau.bot.desk import StoreCaptchaDesk, open_desk
from creneau.catalog.core import Catalog
from creneau.config import Settings
from creneau.sources.captcha import (
    CaptchaChallenge,
    CaptchaDesk,
    CaptchaDeskError,
    ChallengeStatus,
    FileCaptchaDesk,
    StoredCookie,
    new_challenge_id,
)
from creneau.store import Store
from creneau.store.models import captcha_challenges as cc

PAGE = "legacy-seine-saint-denis-9829"
COOKIE = StoredCookie("JSESSIONID", "secret-value", "www.seine-saint-denis.gouv.fr", httponly=True)


def challenge(now: datetime, *, minutes: int = 10, target_id: str = PAGE) -> CaptchaChallenge:
    return CaptchaChallenge(
        id=new_challenge_id(), target_id=target_id, url="https://www.seine-saint-denis.gouv.fr/booking/create/9829/0",
        captcha_id="cap-7", style="s1", image=b"\x89PNG-image", created_at=now,
        expires_at=now + timedelta(minutes=minutes), cookies=(COOKIE,), post_url="https://x.gouv.fr/validate",
        form={"token": "t-1"},
    )  # fmt: skip


@pytest.fixture(params=["store", "file"])
async def any_desk(
    request: pytest.FixtureRequest, store: Store, catalog: Catalog, tmp_path: Path, t0: datetime
) -> CaptchaDesk:
    await store.targets.upsert_many([catalog.targets[PAGE].target, catalog.targets["rdvpref-3762"].target], now=t0)
    return StoreCaptchaDesk(store) if request.param == "store" else FileCaptchaDesk(tmp_path / "captcha")


async def test_desk_hands_answer_once_with_walk_state_when_a_person_answered(
    any_desk: CaptchaDesk, t0: datetime
) -> None:
    await any_desk.file(challenge(t0))
    (waiting,) = await any_desk.pending(t0, PAGE)
    assert waiting.image == b"\x89PNG-image"
    assert waiting.cookies == (COOKIE,)
    assert waiting.form == {"token": "t-1"}
    assert await any_desk.take_answer(PAGE, t0) is None
    answered = await any_desk.answer(waiting.id, " x7kq ", t0 + timedelta(seconds=30))
    assert answered.status is ChallengeStatus.ANSWERED
    assert answered.answer == "x7kq"
    assert await any_desk.pending(t0, PAGE) == []
    taken = await any_desk.take_answer(PAGE, t0 + timedelta(seconds=40))
    assert taken is not None
    assert taken.answer == "x7kq"
    assert taken.captcha_id == "cap-7"
    assert taken.status is ChallengeStatus.SUBMITTED
    assert taken.post_url == "https://x.gouv.fr/validate"
    assert await any_desk.take_answer(PAGE, t0 + timedelta(seconds=41)) is None
    await any_desk.resolve(taken.id, ChallengeStatus.ACCEPTED, t0 + timedelta(seconds=42))
    resolved = await any_desk.get(taken.id)
    assert resolved is not None
    assert resolved.status is ChallengeStatus.ACCEPTED
    assert resolved.closed_at is not None


@pytest.mark.parametrize(
    ("setup", "message"),
    [("answered", "not pending"), ("expired", "expired"), ("unknown", "no captcha challenge"), ("empty", "empty")],
    ids=["second-answer", "expired", "unknown", "empty"],
)
async def test_desk_refuses_answer_when_challenge_cannot_take_it(
    any_desk: CaptchaDesk, t0: datetime, setup: str, message: str
) -> None:
    await any_desk.file(challenge(t0, minutes=5))
    (waiting,) = await any_desk.pending(t0)
    target, code, at = waiting.id, "abcd", t0
    if setup == "answered":
        await any_desk.answer(waiting.id, "first", t0)
    elif setup == "expired":
        at = t0 + timedelta(minutes=6)
    elif setup == "unknown":
        target = "99999"
    else:
        code = "   "
    with pytest.raises(CaptchaDeskError, match=message):
        await any_desk.answer(target, code, at)


async def test_desk_supersedes_older_challenge_when_target_files_a_new_one(any_desk: CaptchaDesk, t0: datetime) -> None:
    await any_desk.file(challenge(t0))
    (old,) = await any_desk.pending(t0)
    await any_desk.file(challenge(t0 + timedelta(minutes=1)))
    await any_desk.file(challenge(t0 + timedelta(minutes=1), target_id="rdvpref-3762"))
    (new,) = await any_desk.pending(t0 + timedelta(minutes=1), PAGE)
    assert new.id != old.id
    superseded = await any_desk.get(old.id)
    assert superseded is not None
    assert superseded.status is ChallengeStatus.SUPERSEDED
    assert len(await any_desk.pending(t0 + timedelta(minutes=1))) == 2


async def test_desk_drops_answer_when_it_came_after_expiry(any_desk: CaptchaDesk, t0: datetime) -> None:
    await any_desk.file(challenge(t0, minutes=5))
    (waiting,) = await any_desk.pending(t0)
    await any_desk.answer(waiting.id, "late", t0 + timedelta(minutes=4))
    assert await any_desk.take_answer(PAGE, t0 + timedelta(minutes=5)) is None
    expired = await any_desk.get(waiting.id)
    assert expired is not None
    assert expired.status is ChallengeStatus.EXPIRED


async def test_store_desk_counts_answers_without_names_when_asked(store: Store, catalog: Catalog, t0: datetime) -> None:
    await store.targets.upsert(catalog.targets[PAGE].target, now=t0)
    desk = StoreCaptchaDesk(store)
    for minute in range(3):
        await desk.file(challenge(t0 + timedelta(minutes=minute)))
        (waiting,) = await desk.pending(t0 + timedelta(minutes=minute))
        await desk.answer(waiting.id, "abcd", t0 + timedelta(minutes=minute))
    assert await desk.answer_count(PAGE, since=t0) == 3
    assert await desk.answer_count(PAGE, since=t0 + timedelta(minutes=2, seconds=1)) == 0
    async with store.read() as conn:
        assert set((await conn.execute(select(cc.c.answered_by))).scalars()) == {"desk"}


def test_open_desk_follows_setting_when_building_the_desk(settings: Settings, store: Store) -> None:
    assert isinstance(open_desk(settings, store), StoreCaptchaDesk)
    assert isinstance(open_desk(settings.model_copy(update={"captcha_desk": "file"}), store), FileCaptchaDesk)
    with pytest.raises(ValueError, match="open store"):
        open_desk(settings, None)
