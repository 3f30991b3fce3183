# SPDX-License-Identifier: AGPL-3.0-or-later
"""Captcha challenges: opened for a person, answered once, consumed once, or expired."""

from __future__ import annotations

import pytest

from creneau.store import CAPTCHA, CaptchaStatus, NotFound, Store

from .builders import T0, later, make_target


@pytest.fixture
async def target(store: Store) -> str:
    await store.targets.upsert(make_target("t1"), now=T0)
    return "t1"


async def test_challenge_goes_from_open_to_answered_to_used_when_a_person_answers(store: Store, target: str) -> None:
    with await store.subscribe(CAPTCHA) as sub:
        challenge = await store.captcha.open_challenge(
            target,
            now=T0,
            expires_at=later(600),
            prompt="Recopiez",
            image=b"\x89PNG",
            image_type="image/png",
            session={"cookies": {"PHPSESSID": "abc"}},
        )
        assert await sub.wait(5)
    assert [c.id for c in await store.captcha.list_open(later(1))] == [challenge.id]
    assert "PHPSESSID" not in repr(challenge)
    assert await store.captcha.take_answer(challenge.id) is None
    assert await store.captcha.answer(challenge.id, "x7kq", by="cli:alice", now=later(30))
    assert not await store.captcha.answer(challenge.id, "again", by="cli:bob", now=later(31))
    taken = await store.captcha.take_answer(challenge.id)
    assert taken is not None
    assert (taken.status, taken.answer, taken.answered_by, dict(taken.session)) == (
        CaptchaStatus.USED,
        "x7kq",
        "cli:alice",
        {"cookies": {"PHPSESSID": "abc"}},
    )
    assert await store.captcha.take_answer(challenge.id) is None
    assert await store.captcha.list_open(later(40)) == []


async def test_challenge_expires_when_nobody_answers_in_time(store: Store, target: str) -> None:
    challenge = await store.captcha.open_challenge(target, now=T0, expires_at=later(60))
    assert await store.captcha.list_open(later(60)) == []
    assert not await store.captcha.answer(challenge.id, "late", by="web:bob", now=later(61))
    assert await store.captcha.expire(later(61)) == 1
    assert (await store.captcha.get(challenge.id)).status is CaptchaStatus.EXPIRED
    with pytest.raises(NotFound):
        await store.captcha.get(9999)
