# SPDX-License-Identifier: AGPL-3.0-or-later
"""`/list`, `/pause`, `/stop`, `/lang`, `/unlink`, `/help` and the fallbacks."""

from __future__ import annotations

from datetime import timedelta

from creneau.catalog.core import load_catalog
from creneau.sim.clock import ManualClock
from creneau.store import Store, WatchStatus
from creneau.types import Observation, Outcome

from .kit import Accounts, Person, only

PAGE = "legacy-seine-saint-denis-9829"


async def _watching(person: Person, accounts: Accounts, store: Store) -> int:
    """`person`'s new account, linked to their chat, watching PAGE."""
    subscriber = await accounts.linked(person, f"{person.chat_id}@example.org")
    await store.targets.upsert(load_catalog().targets[PAGE].target, now=accounts.clock.now())
    await store.subscribers.add_watch(subscriber, [PAGE], now=accounts.clock.now(), label="ignored")
    return subscriber


async def test_list_shows_each_watch_with_its_last_check_when_target_was_checked(
    camille: Person, accounts: Accounts, store: Store, clock: ManualClock
) -> None:
    await _watching(camille, accounts, store)
    (_claimed,) = await store.targets.claim_due_targets("test", clock.now(), 10, 60)
    observation = Observation(PAGE, clock.now(), Outcome.NO_SLOTS, "test", http_status=200, duration_s=0.1, url="u")
    await store.targets.complete_check(PAGE, "test", observation, clock.now() + timedelta(minutes=5))
    listing = only(await camille.say("/list")).plain
    assert "Autre rendez-vous étrangers" in listing
    assert "Préfecture - Seine-Saint-Denis" in listing
    assert "active" in listing
    assert "dernière vérification 04/05 08:00 : aucun créneau" in listing


async def test_list_says_nothing_is_watched_when_account_has_no_watch(camille: Person, accounts: Accounts) -> None:
    await accounts.linked(camille, "camille@example.org")
    assert "ne surveillez encore rien" in only(await camille.say("/list")).plain


async def test_pause_pauses_then_resumes_watch_when_person_presses_its_button(
    camille: Person, accounts: Accounts, store: Store
) -> None:
    subscriber = await _watching(camille, accounts, store)
    menu = only(await camille.say("/pause"))
    assert "En pause" in only(await camille.press(menu, "⏸")).plain
    (watch,) = await store.subscribers.list_watches(subscriber_id=subscriber)
    assert watch.status is WatchStatus.PAUSED
    assert "en pause" in only(await camille.say("/list")).plain
    assert "Reprise" in only(await camille.press(only(await camille.say("/pause")), "▶️")).plain
    (watch,) = await store.subscribers.list_watches(subscriber_id=subscriber)
    assert watch.status is WatchStatus.ACTIVE


async def test_stop_removes_watch_only_when_person_confirms(camille: Person, accounts: Accounts, store: Store) -> None:
    subscriber = await _watching(camille, accounts, store)
    confirm = only(await camille.press(only(await camille.say("/stop")), "✖"))
    assert "Arrêter de surveiller" in confirm.plain
    assert "Rien n'a changé" in only(await camille.press(confirm, "Non")).plain
    assert len(await store.subscribers.list_watches(subscriber_id=subscriber)) == 1
    assert "Arrêtée" in only(await camille.press(confirm, "Oui")).plain
    assert await store.subscribers.list_watches(subscriber_id=subscriber) == []
    assert "n'existe plus" in only(await camille.press(confirm, "Oui")).plain


async def test_lang_switches_account_language_when_person_asks(
    camille: Person, accounts: Accounts, store: Store
) -> None:
    subscriber = await accounts.linked(camille, "camille@example.org")
    assert "speak English" in only(await camille.say("/lang en")).plain
    assert (await store.subscribers.get_subscriber(subscriber)).locale == "en"
    assert "You watch nothing yet" in only(await camille.say("/list")).plain
    menu = only(await camille.say("/lang"))
    assert "parlerai français" in only(await camille.press(menu, "Français")).plain
    assert (await store.subscribers.get_subscriber(subscriber)).locale == "fr"


async def test_lang_lists_languages_when_code_is_unknown(camille: Person, accounts: Accounts, store: Store) -> None:
    subscriber = await accounts.linked(camille, "camille@example.org")
    assert "/lang fr ou /lang en" in only(await camille.say("/lang de")).plain
    assert (await store.subscribers.get_subscriber(subscriber)).locale == "fr"


async def test_unlink_removes_chat_channel_but_keeps_account_and_watches(
    camille: Person, accounts: Accounts, store: Store
) -> None:
    subscriber = await _watching(camille, accounts, store)
    assert "n'est plus relié" in only(await camille.say("/unlink")).plain
    assert await store.subscribers.list_channels(subscriber) == []
    assert len(await store.subscribers.list_watches(subscriber_id=subscriber)) == 1
    assert "Reliez d'abord" in only(await camille.say("/list")).plain


async def test_help_lists_commands_in_person_language_when_asked(sacha: Person) -> None:
    text = only(await sacha.say("/help")).plain
    assert "/watch" in text
    assert "/captcha on" in text
    assert "never pay" in text


async def test_bot_answers_kindly_when_text_is_not_a_command(camille: Person) -> None:
    assert "/help" in only(await camille.say("bonjour ?")).plain


async def test_bot_asks_to_slow_down_once_when_chat_sends_too_much(camille: Person) -> None:
    answers = [await camille.say("/help") for _ in range(12)]
    slow = [m for batch in answers for m in batch if "Trop de messages" in m.plain]
    assert len(slow) == 1
    assert answers[-1] == []
