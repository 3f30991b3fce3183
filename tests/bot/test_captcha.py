# SPDX-License-Identifier: AGPL-3.0-or-later
"""The captcha relay: the image goes to volunteers who watch the target, a reply answers it, the first
answer resumes the checks, counts are shown without names."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from creneau.bot.desk import StoreCaptchaDesk
from creneau.bot.runner import BotRunner
from creneau.catalog.core import Catalog
from creneau.notify.fakes.telegram import FakeTelegram, SentMessage
from creneau.sim.clock import ManualClock
from creneau.sources.captcha import CaptchaChallenge, ChallengeStatus, new_challenge_id
from creneau.store import Store

from .kit import Accounts, Person, only

PAGE = "legacy-seine-saint-denis-9829"
IMAGE = b"\x89PNG\r\n\x1a\n" + b"captcha-pixels" * 20


def challenge(now: datetime, *, target_id: str = PAGE, minutes: int = 10) -> CaptchaChallenge:
    return CaptchaChallenge(
        id=new_challenge_id(), target_id=target_id, url="https://www.seine-saint-denis.gouv.fr/booking/create/9829/0",
        captcha_id="c-1", style="default", image=IMAGE, created_at=now, expires_at=now + timedelta(minutes=minutes),
    )  # fmt: skip


async def volunteer(person: Person, accounts: Accounts, store: Store, catalog: Catalog, *, watch: bool = True) -> int:
    subscriber = await accounts.linked(person, f"{person.chat_id}@example.org", locale=person.language)
    if watch:
        await store.targets.upsert(catalog.targets[PAGE].target, now=accounts.clock.now())
        await store.subscribers.add_watch(subscriber, [PAGE], now=accounts.clock.now())
    await person.say("/captcha on")
    return subscriber


async def photos_to(bot: BotRunner, person: Person, count: int = 1) -> list[SentMessage]:
    """Wait until the relay loop (running on its own) sent and recorded `count` images in all, then return
    the images `person` received."""
    assert bot.relay is not None
    await bot.relay.wait_sent(count)
    return [m for m in person.received if m.method == "sendPhoto"]


async def test_relay_sends_image_only_to_volunteers_watching_target_when_challenge_is_filed(
    fake: FakeTelegram, bot: BotRunner, camille: Person, sacha: Person, accounts: Accounts, store: Store,
    catalog: Catalog, desk: StoreCaptchaDesk, clock: ManualClock,
) -> None:  # fmt: skip
    await volunteer(camille, accounts, store, catalog)
    await store.subscribers.add_watch(await accounts.linked(sacha, "sacha@example.org"), [PAGE], now=clock.now())
    bystander = Person(fake, 626262)
    await volunteer(bystander, accounts, store, catalog, watch=False)
    await desk.file(challenge(clock.now()))
    (photo,) = await photos_to(bot, camille)
    assert photo.params["photo_sha256"] == hashlib.sha256(IMAGE).hexdigest()
    assert "Préfecture - Seine-Saint-Denis" in photo.plain
    assert "avant 08:10" in photo.plain
    assert "0 réponse de volontaires" in photo.plain
    assert photo.reply_markup is not None
    assert photo.reply_markup.get("force_reply") is True
    assert bot.relay is not None
    assert await bot.relay.relay_once() == 0
    assert [m for m in sacha.received + bystander.received if m.method == "sendPhoto"] == []


async def test_answer_resumes_checks_for_everyone_when_first_volunteer_replies(
    fake: FakeTelegram, bot: BotRunner, camille: Person, sacha: Person, accounts: Accounts, store: Store, catalog: Catalog,
    desk: StoreCaptchaDesk, clock: ManualClock,
) -> None:  # fmt: skip
    await volunteer(camille, accounts, store, catalog)
    await volunteer(sacha, accounts, store, catalog)
    await store.targets.reschedule(PAGE, clock.now() + timedelta(hours=1))
    await desk.file(challenge(clock.now()))
    (waiting,) = await desk.pending(clock.now())
    (image,) = await photos_to(bot, camille, 2)
    (image_en,) = await photos_to(bot, sacha, 2)
    assert "human check" in image_en.plain
    clock.advance(60)
    thanks = only(await camille.reply(image, " x7kq9 "))
    assert "Merci" in thanks.plain
    assert "1 réponse de volontaires" in thanks.plain
    answered = await desk.get(waiting.id)
    assert answered is not None
    assert answered.status is ChallengeStatus.ANSWERED
    assert answered.answer == "x7kq9"
    assert (await store.targets.get(PAGE)).state.next_check_at == clock.now()
    assert "Someone already answered" in only(await sacha.reply(image_en, "abcd")).plain
    taken = await desk.take_answer(PAGE, clock.now())
    assert taken is not None
    assert taken.answer == "x7kq9"


async def test_answer_is_refused_kindly_when_code_is_malformed_or_image_expired(
    fake: FakeTelegram, bot: BotRunner, camille: Person, accounts: Accounts, store: Store, catalog: Catalog,
    desk: StoreCaptchaDesk, clock: ManualClock,
) -> None:  # fmt: skip
    await volunteer(camille, accounts, store, catalog)
    await desk.file(challenge(clock.now(), minutes=5))
    (waiting,) = await desk.pending(clock.now())
    (image,) = await photos_to(bot, camille)
    assert "ne ressemble pas au code" in only(await camille.reply(image, "<b>hi</b>")).plain
    clock.advance(6 * 60)
    assert "a expiré" in only(await camille.reply(image, "x7kq9")).plain
    unanswered = await desk.get(waiting.id)
    assert unanswered is not None
    assert unanswered.status is ChallengeStatus.PENDING
    assert unanswered.answer == ""


async def test_answer_is_rate_limited_when_volunteer_keeps_replying(
    fake: FakeTelegram, bot: BotRunner, camille: Person, accounts: Accounts, store: Store, catalog: Catalog,
    desk: StoreCaptchaDesk, clock: ManualClock,
) -> None:  # fmt: skip
    await volunteer(camille, accounts, store, catalog)
    await desk.file(challenge(clock.now()))
    (image,) = await photos_to(bot, camille)
    answers = [only(await camille.reply(image, "x7kq9")).plain for _ in range(4)]
    assert "Merci" in answers[0]
    assert "déjà répondu" in answers[1]
    assert "Trop de réponses" in answers[3]


async def test_captcha_command_toggles_volunteering_when_person_chooses(
    camille: Person, accounts: Accounts, store: Store
) -> None:
    await accounts.linked(camille, "camille@example.org")
    menu = only(await camille.say("/captcha"))
    assert "non volontaire" in menu.plain
    assert "ne les résout jamais" in menu.plain
    assert "Merci" in only(await camille.press(menu, "Être volontaire")).plain
    assert "volontaire." in only(await camille.say("/captcha")).plain
    assert "ne vous enverrai plus" in only(await camille.say("/captcha off")).plain
